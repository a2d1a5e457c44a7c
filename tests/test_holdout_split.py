"""``workflows.holdout_split``: the held-out share of ``fit`` must be a finite share in [0, 1)."""

from __future__ import annotations

import numpy as np
import pytest
from tests.helpers import blobs

from transferkit.data import Dataset
from transferkit.errors import DataError
from transferkit.workflows import holdout_rows, holdout_split


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


def test_a_holdout_that_leaves_too_few_to_train_on_is_refused_with_the_largest_share_that_works() -> None:
    X, y = blobs(5)  # 10 items in 2 classes
    data = Dataset(X=X, y=y, modality="table")
    with pytest.raises(DataError, match=r"holdout 0.9 of 10 examples leaves 1 to train on, fewer than the 2 classes; "
                                        r"lower --holdout \(at most 0.8 here\)"):
        holdout_split(data, 0.9, 0)
    train, test = holdout_split(data, 0.8, 0) or (None, None)  # the share the message suggests works
    assert train is not None and test is not None and len(train.y) == 2 and len(test.y) == 8


def test_the_holdout_parts_are_the_data_at_the_holdout_rows() -> None:
    X, y = blobs(10)
    data = Dataset(X=X, y=y, modality="table")
    rows, split = holdout_rows(data, 0.2, 0), holdout_split(data, 0.2, 0)
    assert rows is not None and split is not None and holdout_rows(data, 0, 0) is None
    train, test = rows
    assert sorted(np.concatenate(rows).tolist()) == list(range(20)) and len(test) == 4
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)  # each part in the data's order
    assert np.array_equal(split[0].X, X[train]) and np.array_equal(split[1].y, y[test])
