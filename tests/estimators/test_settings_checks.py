"""``cache``, ``pretrained``, ``verbose`` and ``progress`` are checked before any work, like every other
setting: ``verbose="yes"`` and ``cache=0.5`` raised TypeErrors from deep inside, ``pretrained="no"``
was read as True (pretrained weights)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from transferkit import FeatureExtractor, TransferClassifier
from transferkit.adaptation import DomainAdaptClassifier
from transferkit.ensembles import EnsembleError, TransferEnsemble
from transferkit.errors import DataError

X = np.random.default_rng(0).random((20, 4))
y = np.r_[[0] * 10, [1] * 10]
DOMAINS = np.r_[[1] * 10, [-1] * 10]


@pytest.mark.parametrize(("fit", "error", "message"), [
    (lambda: TransferClassifier(backbone="tiny-mlp", cache=False, verbose="yes").fit(X, y), DataError,
     r"^verbose must be a whole number >= 0 \(0: quiet, 1: progress bars\), got 'yes'$"),
    (lambda: TransferClassifier(backbone="tiny-mlp", cache=False, verbose=-1).fit(X, y), DataError, "got -1"),
    (lambda: TransferClassifier(backbone="tiny-mlp", cache=0.5).fit(X, y), DataError,
     r"^cache must be True \(the default folder\), False \(no cache\) or a folder path, got 0.5$"),
    (lambda: TransferClassifier(backbone="tiny-mlp", cache="").fit(X, y), DataError, "a folder path, got ''"),
    (lambda: TransferClassifier(backbone="tiny-mlp", cache=False, pretrained="no").fit(X, y), DataError,
     r"^pretrained must be True or False, got 'no'$"),
    (lambda: FeatureExtractor(backbone="tiny-mlp", cache=False, progress="x").fit(X), DataError,
     r"^progress must be True or False, got 'x'$"),
    (lambda: FeatureExtractor(backbone="tiny-mlp", cache=None).fit(X), DataError, "got None"),
    (lambda: TransferEnsemble(members=["tiny-mlp"], cache=None).fit(X, y), EnsembleError, "got None"),
    (lambda: DomainAdaptClassifier(cache=3).fit(X, y, sample_domain=DOMAINS), DataError, "got 3"),
])
def test_a_bad_setting_is_named(fit: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        fit()


def test_numpy_scalars_and_bools_are_accepted(tmp_path: Any) -> None:
    clf = TransferClassifier(backbone="tiny-mlp", cache=np.bool_(False), pretrained=np.True_,
                             verbose=np.int64(0)).fit(X, y)
    assert clf.score(X, y) >= 0
    TransferClassifier(backbone="tiny-mlp", cache=tmp_path / "c", verbose=False).fit(X, y)
    assert any((tmp_path / "c").rglob("*")), "a folder path caches there"


@pytest.mark.parametrize("labels", [np.array([1, 2, 3] * 12, dtype=object), np.array([1.0, 2.0, 3.0] * 12, dtype=object),
                                    np.array([True, False, True] * 12, dtype=object)])
def test_numbers_in_an_object_array_are_labels(labels: np.ndarray) -> None:
    """A pandas object column of ints failed with scikit-learn's "Unknown label type: unknown"."""
    import pandas as pd

    features = np.random.default_rng(1).random((36, 3))
    for given in (labels, pd.Series(labels, dtype=object)):
        clf = TransferClassifier(backbone="tiny-mlp", cache=False).fit(features, given)
        assert clf.classes_.tolist() == sorted(set(labels.tolist()))
        assert clf.classes_.dtype != object
