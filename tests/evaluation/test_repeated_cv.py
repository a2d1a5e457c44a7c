"""Repeated stratified CV and the corrected resampled t interval (Nadeau & Bengio 2003)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from tests.helpers import blobs

from transferkit import evaluate
from transferkit.errors import DataError
from transferkit.evaluation import corrected_resampled_ci, mean_ci
from transferkit.evaluation._evaluate import _splits


def test_corrected_interval_matches_a_hand_computation() -> None:
    d = [0.02, 0.05, -0.01, 0.04, 0.03, 0.01]  # J = 6 differences, e.g. 2 repeats of 3-fold CV
    # by hand: mean 0.14/6; sample variance from the squared deviations; t quantile with 5 dof
    mean = 0.14 / 6
    var = sum((x - mean) ** 2 for x in d) / 5
    half = 2.570581836 * math.sqrt((1 / 6 + 30 / 60) * var)  # t_{5, 0.975}; n_test/n_train = 30/60
    m, lo, hi = corrected_resampled_ci(d, n_train=60, n_test=30)
    assert m == pytest.approx(mean)
    assert (lo, hi) == pytest.approx((mean - half, mean + half), abs=1e-8)
    # wider than the naive Student-t interval by sqrt(1 + J n_test/n_train)
    _, nlo, nhi = mean_ci(d)
    assert (hi - lo) / (nhi - nlo) == pytest.approx(math.sqrt(1 + 6 * 30 / 60))
    assert corrected_resampled_ci([0.1], n_train=9, n_test=1) == (0.1, 0.1, 0.1)
    with pytest.raises(ValueError, match="positive"):
        corrected_resampled_ci(d, n_train=0, n_test=30)


def test_each_repeat_is_a_different_stratified_shuffle() -> None:
    y = np.repeat(["a", "b"], 12)
    splits = _splits(y, 3, seed=0, repeats=4)
    assert len(splits) == 12
    firsts = {tuple(np.sort(te)) for _, te in splits[::3]}
    assert len(firsts) == 4, "every repeat shuffles differently"
    for r in range(4):  # within one repeat, the 3 test folds partition the items, stratified
        tests = np.concatenate([te for _, te in splits[3 * r: 3 * r + 3]])
        assert sorted(tests) == list(range(24))
        assert all((y[te] == "a").sum() == 4 for _, te in splits[3 * r: 3 * r + 3])


def test_repeated_cv_gains_use_the_corrected_interval() -> None:
    X, y = blobs(15, n_classes=2, seed=3)
    X = X + np.random.default_rng(1).normal(scale=4.0, size=X.shape)  # some errors, so folds differ
    res = evaluate({"lr": LogisticRegression()}, X, y, cv=3, repeats=4, baseline=DummyClassifier(strategy="prior"),
                   modality="table")
    assert res.repeats == 4 and res.n_splits == 3 and "repeated 4 times (12 splits)" in res.scheme
    assert len(res.models["lr"].folds) == len(res.baseline.folds) == 12
    d = [a["accuracy"] - b["accuracy"] for a, b in zip(res.models["lr"].folds, res.baseline.folds, strict=True)]
    g = res.gains["lr"]["accuracy"]
    m, var = np.mean(d), np.var(d, ddof=1)
    half = stats.t.ppf(0.975, 11) * np.sqrt((1 / 12 + 10 / 20) * var)  # 30 items: 20 train / 10 test
    assert (g.mean, g.low, g.high) == pytest.approx((m, m - half, m + half))
    assert g.method.startswith("corrected resampled t over 12 splits")
    assert res.to_dict()["repeats"] == 4
    # pooled predictions cover every item once per repeat
    assert sum(c["support"] for c in res.models["lr"].pooled["per_class"]) == 4 * len(y)


def test_negative_transfer_over_folds_and_seeds() -> None:
    X, y = blobs(20)
    res = evaluate({"useless": DummyClassifier(strategy="constant", constant="c0")}, X, y, cv=5, repeats=3,
                   modality="table")
    assert res.gains["useless"]["accuracy"].verdict == "negative"
    assert res.verdict("useless").startswith("Negative transfer")


def test_repeats_are_checked() -> None:
    X, y = blobs(6)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(DataError, match="repeats must be a positive integer"):
            evaluate(LogisticRegression(), X, y, repeats=bad, modality="table")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="held-out test set is a single split"):
        evaluate(LogisticRegression(), X, y, repeats=2, test=(X, y), modality="table")
