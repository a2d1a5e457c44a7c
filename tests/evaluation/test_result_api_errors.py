"""One-line errors from the functions a user calls after training: compare_selectors' timing settings and
bad tables (scikit-learn's multi-line errors, a NaN/Infinity ratio written to JSON), evaluate naming a
failing scikit-learn model, load_best on a hand-edited best.json (AttributeError, ValueError)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

import transferkit as tk
from transferkit.errors import DataError, ModelFolderError
from transferkit.feature_selection import compare_selectors
from transferkit.tuning import load_best

X = np.random.default_rng(0).normal(size=(30, 6))
y = np.repeat([0, 1], 15)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"timing_repeats": 0}, "^timing_repeats must be a whole number of at least 1, got 0$"),
    ({"timing_rows": 0}, "^timing_rows must be a whole number of at least 1, got 0$"),
])
def test_compare_selectors_checks_its_timing_settings(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(DataError, match=message):
        compare_selectors(X, y, cv=2, methods=["anova"], **kwargs)


def test_compare_selectors_names_a_bad_cell_as_the_selector_does() -> None:
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(DataError, match=r"^X has NaN in row 3, column 2"):
        compare_selectors(bad, y, cv=2)
    with pytest.raises(DataError, match=r"X has text .* in row 0, column 0, not a number"):
        compare_selectors(np.array([["x"] * 6] * 30), y, cv=2)


class _Fails(ClassifierMixin, BaseEstimator):
    def fit(self, X: np.ndarray, y: np.ndarray) -> _Fails:
        raise ValueError("boom")

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.zeros(len(X))


def test_evaluate_names_a_failing_scikit_learn_model() -> None:
    labels = ["a"] * 15 + ["b"] * 15
    with pytest.raises(ValueError, match=r"^'bad' failed to fit: ValueError: boom$"):
        tk.evaluate({"ok": LogisticRegression(), "bad": _Fails()}, X, labels, cv=3)
    with pytest.raises(DataError, match=r"^class 1 has only 1 example"):  # it said np.int64(1)
        tk.evaluate(LogisticRegression(), X, [0] * 29 + [1], cv=3)


@pytest.mark.parametrize(("text", "message"), [
    ("[1, 2]", "is not a transferkit search result"),
    ('{"format": "transferkit-tune", "head": "logistic", "best_params": {"nope": 1}, "backbone": {}}',
     r"cannot be rebuilt \(damaged or edited\): Invalid parameter 'nope'$"),
    ('{"format": "transferkit-tune", "head": "logistic", "best_params": {}, "backbone": {"zz": 1}}',
     "unexpected keyword argument 'zz'"),
    ('{"format": "transferkit-tune", "head": "logistic", "best_params": [], "backbone": {}}',
     "its best_params and backbone must be JSON objects"),
])
def test_load_best_refuses_an_edited_file_in_one_line(text: str, message: str, tmp_path: Path) -> None:
    (tmp_path / "best.json").write_text(text)
    with pytest.raises(ModelFolderError, match=message) as info:
        load_best(tmp_path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("scoring", "message"), [("acuracy", r"unknown scoring 'acuracy' \(did you mean accuracy"),
                                                  ("r2", "scoring 'r2' is a regression scorer")])
def test_the_selector_checks_its_scoring_before_any_work(scoring: str, message: str) -> None:
    """scikit-learn's multi-line ValueError came from the first fold's scoring."""
    from transferkit.feature_selection import CVFeatureSelector

    with pytest.raises(DataError, match=message):
        CVFeatureSelector(scoring=scoring, cv=2).fit(X, y)
