"""Table input to the estimators that read tables gives one-line DataErrors naming the problem and where,
not scikit-learn's multi-line ValueErrors; a DataFrame's columns are matched by name."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.helpers import blobs

from transferkit import FeatureExtractor, TransferClassifier
from transferkit.data._check import check_table
from transferkit.ensembles import TransferEnsemble
from transferkit.errors import DataError

FITTERS: dict[str, Callable[[], Any]] = {
    "classifier": lambda: TransferClassifier(backbone="tiny-mlp", cache=False),
    "extractor": lambda: FeatureExtractor(backbone="tiny-mlp", cache=False),
    "ensemble": lambda: TransferEnsemble(members=["tiny-mlp:linear"], method="voting", cache=False),
}


def _fit(kind: str, X: Any, y: Any) -> Any:
    est = FITTERS[kind]()
    return est.fit(X) if kind == "extractor" else est.fit(X, y)


def _one_line_data_error(call: Callable[[], Any], match: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match=match) as info:
            call()
    text = str(info.value)
    assert "\n" not in text, text
    return text


@pytest.fixture
def table() -> tuple[np.ndarray, np.ndarray]:
    X, y = blobs(10, n_features=4)
    return X, y


@pytest.mark.parametrize("kind", list(FITTERS))
def test_nan_is_named_by_row_and_column(kind: str, table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    X = X.copy()
    X[3, 1] = np.nan
    _one_line_data_error(lambda: _fit(kind, X, y), r"^X has NaN in row 3, column 1; impute or drop it first$")
    frame = pd.DataFrame(X, columns=list("pqrs"))
    frame.iloc[5, 2] = np.nan
    _one_line_data_error(lambda: _fit(kind, frame, y),
                         r"^X has NaN in row 3, column 'q' \(and 1 more cell\(s\)\); impute or drop them first$")


def test_infinite_and_beyond_float32_values_are_named(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    bad = X.copy()
    bad[7, 0] = -np.inf
    _one_line_data_error(lambda: _fit("classifier", bad, y), r"infinite value \(-inf\) in row 7, column 0")
    big = X.copy()
    big[9, 3] = 1e39  # finite in float64, infinite once the backbone's float32 holds it
    text = _one_line_data_error(lambda: _fit("classifier", big, y), r"1e\+39 in row 9, column 3, beyond the float32")
    assert "infinity" not in text


def test_cells_that_are_no_numbers_are_named(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    cells = X.astype(object)
    cells[2, 2] = None
    _one_line_data_error(lambda: _fit("classifier", cells, y), r"missing value \(None\) in row 2, column 2")
    cells[2, 2] = "abc"
    _one_line_data_error(lambda: _fit("classifier", cells, y),
                         r"text \('abc'\) in row 2, column 2, not a number.*encode or drop")
    cells[2, 2] = 0.0
    cells[4, 2] = {"a": 1}
    frame = pd.DataFrame(cells, columns=list("pqrs"))
    with pytest.raises(TypeError, match=r"a dict .* in row 4, column 'r'"):  # also a TypeError, as scikit-learn's
        _fit("classifier", frame, y)


@pytest.mark.parametrize("kind", list(FITTERS))
def test_predict_input_that_is_no_table_of_the_fitted_width(kind: str, table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    est = _fit(kind, X, y)
    use = est.transform if kind == "extractor" else est.predict
    _one_line_data_error(lambda: use(X[:, :3]), r"^X has 3 features, but \w+ is expecting 4 features as input")
    _one_line_data_error(lambda: use(["a b", "c"]), r"^X holds text, but this model reads a table")
    _one_line_data_error(lambda: use(np.zeros((2, 8, 8, 3))), r"^X holds images \(an array of shape \(2, 8, 8, 3\)\)")
    _one_line_data_error(lambda: use(np.empty((0, 4))), r"^X has 0 samples \(no rows\)")
    _one_line_data_error(lambda: use(X[0]), r"^X is 1-D \(4 values\).*X\.reshape\(1, -1\) for a single row")
    _one_line_data_error(lambda: use([[1.0, 2.0], [3.0]]), r"rows have different lengths")


def test_dataframe_columns_are_matched_by_name(table: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = table
    frame = pd.DataFrame(X, columns=list("pqrs"))
    clf = TransferClassifier(backbone="tiny-mlp", cache=False).fit(frame, y)
    shuffled = frame[list("srqp")]
    np.testing.assert_array_equal(clf.predict_proba(shuffled), clf.predict_proba(frame))
    assert clf.n_features_in_ == 4 and clf.feature_names_in_.tolist() == list("pqrs")  # bookkeeping intact
    ext = FeatureExtractor(backbone="tiny-mlp", cache=False).fit(frame)
    np.testing.assert_array_equal(ext.transform(shuffled), ext.transform(frame))
    _one_line_data_error(lambda: clf.predict(frame.rename(columns={"s": "z"})),
                         r"^X lacks the feature column\(s\) 's' that the model was fitted on and has the column\(s\) "
                         r"'z' that the model was not fitted on; it reads 'p', 'q', 'r', 's'$")
    _one_line_data_error(lambda: clf.predict(frame.assign(t=1.0)), r"^X has the column\(s\) 't' that the model was not")
    _one_line_data_error(lambda: TransferClassifier(backbone="tiny-mlp", cache=False).fit(
        pd.DataFrame({"a": X[:, 0], 3: X[:, 1]}), y), r"column names mix strings and other values \(such as 3\)")


def test_the_fit_state_stays_scikit_learns() -> None:
    """check_table records and checks what validate_data does; a refused refit leaves the earlier fit."""
    X, y = blobs(10, n_features=4)
    clf = TransferClassifier(backbone="tiny-mlp", cache=False)
    out = check_table(clf, pd.DataFrame(X, columns=list("pqrs")), reset=True)
    assert out.dtype == np.float32 and clf.n_features_in_ == 4 and list(clf.feature_names_in_) == list("pqrs")
    assert check_table(clf, pd.DataFrame(X, columns=list("pqrs")), reset=False, dtype=np.float64).dtype == np.float64
    with pytest.raises(DataError, match="NaN"):
        check_table(clf, np.full((2, 3), np.nan), reset=True)
    assert clf.n_features_in_ == 4
