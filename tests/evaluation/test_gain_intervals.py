"""A gain's interval stays inside the possible +-100 points and says when it was clipped (evaluate, ensemble
and select share :func:`clip_gain_interval`); a gain that rounds to zero prints as +0.0, never -0.0."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from transferkit.evaluation import EvaluationResult, Gain, evaluate
from transferkit.evaluation._metrics import GAIN_CLIPPED, clip_gain_interval, format_gain, signed_points


class FoldFlip(ClassifierMixin, BaseEstimator):
    """Predicts "a" where the first feature is positive, else "b", with probability ``confidence``. When its
    training part holds the marker item (first feature 2) and ``X`` has at most ``flip_features`` columns, it
    predicts every item wrong: on :func:`flip_data` with 2 folds, accuracy 1 on one fold and 0 on the other."""

    def __init__(self, *, flip_features: int | None = 1, confidence: float = 1.0) -> None:
        self.flip_features = flip_features
        self.confidence = confidence

    def fit(self, X: Any, y: Any) -> FoldFlip:
        X = np.asarray(X, dtype=float)
        self.classes_ = np.array(["a", "b"])
        self.n_features_in_ = X.shape[1]
        self.flipped_ = (self.flip_features is not None and X.shape[1] <= self.flip_features
                         and bool(np.any(X[:, 0] == 2)))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        first = np.asarray(X, dtype=float)[:, 0] > 0
        p = np.where(first != self.flipped_, self.confidence, 1 - self.confidence)
        return np.c_[p, 1 - p]

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def flip_data(n_per_class: int = 4, n_features: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Class "a" at +1, "b" at -1 in the first column (one "a" item, the marker, at 2); noise in the others."""
    y = np.repeat(["a", "b"], n_per_class)
    X = np.random.default_rng(0).normal(scale=0.1, size=(len(y), n_features))
    X[:, 0] = np.where(y == "a", 1.0, -1.0)
    X[0, 0] = 2.0
    return X, y


def test_clip_gain_interval_cuts_to_plus_minus_one_and_says_so() -> None:
    assert clip_gain_interval(-6.85, 5.85) == (-1.0, 1.0, True)
    assert clip_gain_interval(-0.2, 1.3) == (-0.2, 1.0, True)
    assert clip_gain_interval(-1.0, 1.0) == (-1.0, 1.0, False)
    assert clip_gain_interval(-0.1, 0.4) == (-0.1, 0.4, False)


def test_evaluate_with_two_very_different_folds_clips_the_interval_and_says_so() -> None:
    X, y = flip_data()
    result = evaluate({"flip": FoldFlip()}, X, y, cv=2)
    assert sorted(f["accuracy"] for f in result.models["flip"].folds) == [0.0, 1.0]
    for g in result.gains["flip"].values():
        assert -1.0 <= g.low <= g.mean <= g.high <= 1.0 and GAIN_CLIPPED in g.method
    assert GAIN_CLIPPED in result.verdict("flip")
    assert GAIN_CLIPPED in result.to_dict()["gains"]["flip"]["accuracy"]["method"]


def test_a_gain_that_rounds_to_zero_is_printed_without_a_minus_sign() -> None:
    """evaluate printed '-0.0 pts [-40.3, +40.3]' and '... is -0.0 accuracy points'."""
    tiny = (0.3 - 0.4 + (0.4 - 0.3)) / 2 - 1e-17  # a mean of fold differences that should be 0
    assert tiny < 0
    assert signed_points(tiny) == "+0.0" and signed_points(-0.0004) == "+0.0" and signed_points(-0.0) == "+0.0"
    assert signed_points(0.041) == "+4.1" and signed_points(-0.403) == "-40.3" and signed_points(-1.0) == "-100.0"
    assert format_gain(tiny, -0.403, 0.403) == "+0.0 pts [-40.3, +40.3]"
    gain = Gain("accuracy", tiny, -0.403, 0.403, "Student-t over 2 folds")
    result = EvaluationResult(modality="table", classes=["a", "b"], scheme="", n_samples=8, class_counts={},
                              models={}, gains={"m": {"accuracy": gain}})
    assert "is +0.0 accuracy points (95% CI -40.3 to +40.3" in result.verdict("m")
    assert "-0.0" not in result.verdict("m")
