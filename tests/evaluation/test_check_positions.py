"""``evaluate`` names a bad text or table cell by its place in the data passed, not in a fold's subset, and
names an item of a held-out test set as such; ``rows=`` names items by their rows of the data both came from.

With ``cv=3`` over these 12 items, item 7 sits elsewhere in its first fold (checked below): before the fix
the message named that place ("text item 4"), which points at the wrong text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.helpers import blobs, polarity_texts

from transferkit import TransferClassifier, evaluate
from transferkit.errors import DataError
from transferkit.evaluation._evaluate import _splits

BAD = 7


def _texts() -> tuple[np.ndarray, np.ndarray]:
    X, y = polarity_texts(6)  # 12 texts, 6 per class
    X = X.copy()
    X[BAD] = "   "
    return X, y


def _table(frame: bool) -> tuple[Any, np.ndarray]:
    X, y = blobs(6, n_features=3)  # 12 rows, 6 per class
    X[BAD, 2] = np.nan
    return (pd.DataFrame(X, columns=["f0", "f1", "f2"]) if frame else X), y


def _model(modality: str) -> TransferClassifier:
    return TransferClassifier(backbone="tiny-text" if modality == "text" else "tiny-mlp", cache=False)


@pytest.mark.parametrize("data", [_texts, lambda: _table(False)])
def test_the_bad_item_lands_elsewhere_in_its_first_fold(data: Any) -> None:
    _, y = data()
    train, test = _splits(y, 3, 0)[0]
    where = np.flatnonzero(train == BAD).tolist() + np.flatnonzero(test == BAD).tolist()
    assert where and where != [BAD], "the tests below would pass without the fix"


def test_cross_validation_names_an_empty_text_by_its_place_in_X() -> None:
    X, y = _texts()
    with pytest.raises(DataError, match=rf"^'probe' failed to fit: text item {BAD} is empty; remove empty rows"):
        evaluate({"probe": _model("text")}, X, y, cv=3)


@pytest.mark.parametrize(("frame", "column"), [(False, "2"), (True, "'f2'")])
def test_cross_validation_names_a_nan_cell_by_its_row_of_X(frame: bool, column: str) -> None:
    X, y = _table(frame)  # the Python API counts rows from 0, as X[7] (table files count data rows from 1)
    with pytest.raises(DataError, match=rf"^'probe' failed to fit: X has NaN in row {BAD}, column {column}; impute"):
        evaluate({"probe": _model("table")}, X, y, cv=3)


def test_a_held_out_test_set_names_an_empty_text_as_one_of_the_test_set() -> None:
    X, y = _texts()
    keep = [i for i in range(len(X)) if i != BAD]
    with pytest.raises(DataError, match=r"^text item 2 of the test set is empty"):
        evaluate({"probe": _model("text")}, X[keep], y[keep], test=(X[BAD - 2:], y[BAD - 2:]))


def test_a_held_out_test_set_names_a_nan_cell_as_one_of_the_test_set() -> None:
    X, y = _table(False)
    keep = [i for i in range(len(X)) if i != BAD]
    with pytest.raises(DataError, match=r"^X has NaN in row 2 of the test set, column 2"):
        evaluate({"probe": _model("table")}, X[keep], y[keep], test=(X[BAD - 2:], y[BAD - 2:]))


@pytest.mark.parametrize("in_test", [False, True])
def test_rows_name_an_item_by_its_row_of_the_data_both_parts_came_from(in_test: bool) -> None:
    X, y = _texts()
    te = np.array([0, 1, BAD, 8, 9]) if in_test else np.array([0, 1, 8, 9])
    tr = np.setdiff1d(np.arange(len(X)), te)
    assert BAD not in (np.flatnonzero(te == BAD).tolist() + np.flatnonzero(tr == BAD).tolist())
    match = rf"text item {BAD} is empty" if in_test else rf"^'probe' failed to fit: text item {BAD} is empty"
    with pytest.raises(DataError, match=match) as info:
        evaluate({"probe": _model("text")}, X[tr], y[tr], test=(X[te], y[te]), rows=(tr, te))
    assert "test set" not in str(info.value)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"cv": 3, "rows": ([0], [1])}, r"rows name where X and the test set sit in one data set: pass them with test="),
    ({"rows": [0, 1, 2]}, r"rows must be a pair \(rows of X, rows of the test set\)"),
    ({"rows": (np.arange(8), np.arange(3))}, r"one integer row per item of the test set \(4\), got int64 values of shape \(3,\)"),
    ({"rows": (np.arange(8.0), np.arange(4))}, r"one integer row per item of X \(8\), got float64 values of shape \(8,\)"),
])
def test_rows_that_do_not_fit_the_parts_are_refused(kwargs: dict[str, Any], message: str) -> None:
    X, y = blobs(6)
    tr, te = np.r_[0:4, 6:10], np.r_[4:6, 10:12]
    test = None if "cv" in kwargs else (X[te], y[te])
    with pytest.raises(DataError, match=message):
        evaluate({"probe": _model("table")}, X[tr], y[tr], test=test, **kwargs)
