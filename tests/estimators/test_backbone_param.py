"""A backbone that is not a name (None, a number, a list, blank) is a one-line DataError naming the
parameter, from every estimator, before any work (it was an AttributeError on ``startswith``)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from transferkit import MultiTaskClassifier, TransferClassifier
from transferkit.adaptation import DomainAdaptClassifier
from transferkit.errors import DataError

X, Y = np.random.default_rng(0).normal(size=(20, 3)), np.repeat(["a", "b"], 10)


@pytest.mark.parametrize("backbone", [None, 123, ["tiny-mlp"], "", "  "])
@pytest.mark.parametrize("make", [
    lambda b: (TransferClassifier(backbone=b, strategy="linear", cache=False), (X, Y)),
    lambda b: (MultiTaskClassifier(backbone=b, strategy="linear", cache=False), (X, pd.DataFrame({"s": Y, "t": Y}))),
    lambda b: (DomainAdaptClassifier(backbone=b, cache=False), (X, Y)),
], ids=["TransferClassifier", "MultiTaskClassifier", "DomainAdaptClassifier"])
def test_a_backbone_that_is_no_name_is_named(make, backbone) -> None:  # type: ignore[no-untyped-def]
    est, args = make(backbone)
    with pytest.raises(DataError, match=rf"^backbone must be a backbone's name .* as a string; got {re.escape(repr(backbone))}$"):
        est.fit(*args)
