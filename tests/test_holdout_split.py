"""``workflows.holdout_split``: the held-out share of ``fit`` must be a finite share in [0, 1)."""

from __future__ import annotations

import numpy as np
import pytest
from tests.helpers import blobs

from transferkit.data import Dataset
from transferkit.errors import DataError
from transferkit.workflows import holdout_split


@pytest.mark.parametrize("fraction", [float("nan"), float("inf"), -0.1, 1.0, "0.2", True])
def test_a_holdout_that_is_no_finite_share_is_refused(fraction: object) -> None:
    X, y = blobs(10)
    with pytest.raises(DataError, match=f"holdout must be a finite share of the data in \\[0, 1\\), got {fraction!r}"):
        holdout_split(Dataset(X=X, y=y, modality="table"), fraction, 0)  # type: ignore[arg-type]


def test_a_holdout_share_splits_stratified() -> None:
    X, y = blobs(10)
    data = Dataset(X=X, y=y, modality="table")
    assert holdout_split(data, 0, 0) is None
    split = holdout_split(data, 0.2, 0)
    assert split is not None and len(split[1].y) == 4 and set(np.unique(split[1].y)) == {"c0", "c1"}
