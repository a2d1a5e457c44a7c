"""Every score and distance rejects bad input up front with a DataError that names the problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import transferkit.selection as selection
from transferkit.errors import DataError
from transferkit.selection import (
    DISTANCES,
    SCORES,
    coral_distance,
    leep,
    linear_probe_score,
    mmd_rbf,
    nce,
    proxy_a_distance,
)

GOOD_X = np.random.default_rng(0).normal(size=(6, 3))
GOOD_Y = np.array(["a", "a", "b", "b", "c", "c"])

BAD_FEATURES_AND_LABELS: list[tuple[Any, Any, str]] = [
    (GOOD_X, ["a"] * 6, r"only one class \('a'\)"),
    (GOOD_X, ["a", "a", "b", "b", "b", "c"], r"class 'c' has a single example"),
    (GOOD_X[:5], GOOD_Y, r"labels have 6 entries but there are 5 samples"),
    (np.where(np.arange(18).reshape(6, 3) == 4, np.nan, GOOD_X), GOOD_Y, r"NaN or infinite values in 1 of 6 rows"),
    (np.where(np.arange(18).reshape(6, 3) == 4, np.inf, GOOD_X), GOOD_Y, r"NaN or infinite"),
    (GOOD_X.ravel(), GOOD_Y, r"must be a 2-D array .* got 1-D"),
    (GOOD_X[:, :0], GOOD_Y, r"no columns"),
    (np.array([["x"] * 3] * 6), GOOD_Y, r"must be numeric"),
    (GOOD_X, np.array([0.0, 0.0, 1.0, 1.0, np.nan, np.nan]), r"The labels are missing at indices 4, 5"),
    (GOOD_X, GOOD_Y.reshape(3, 2), r"one-dimensional"),
    (GOOD_X, [[v] for v in GOOD_Y], r"one-dimensional"),
]


@pytest.mark.parametrize("name", sorted(SCORES))
@pytest.mark.parametrize(("features", "labels", "message"), BAD_FEATURES_AND_LABELS)
def test_scores_reject_bad_features_and_labels(name: str, features: Any, labels: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        SCORES[name](features, labels)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_scores_accept_any_hashable_labels(name: str) -> None:
    x = np.random.default_rng(1).normal(size=(8, 2)) + np.repeat([0.0, 3.0], 4)[:, None]
    mixed = [("t", 1), ("t", 1), ("t", 1), ("t", 1), 7, 7, 7, 7]  # tuples and ints, unorderable (None is missing)
    plain = np.repeat(["p", "q"], 4)
    assert SCORES[name](x, mixed) == pytest.approx(SCORES[name](x, plain))


def test_score_with_two_classes_of_two_examples_is_accepted() -> None:
    x = np.array([[0.0, 1.0], [0.2, 0.8], [1.0, 0.1], [0.9, 0.0]])
    for score in SCORES.values():
        assert np.isfinite(score(x, [1, 1, 2, 2]))


def test_linear_probe_rejects_a_bad_cv() -> None:
    with pytest.raises(DataError, match=r"cv must be an integer >= 2, got 1"):
        linear_probe_score(GOOD_X, GOOD_Y, cv=1)


PROBS = np.full((6, 2), 0.5)


@pytest.mark.parametrize(
    ("probs", "labels", "message"),
    [
        (np.tile([0.6, 0.6], (6, 1)), GOOD_Y, r"source_probs row 0 sums to 1.2, not 1"),
        (np.tile([1.5, -0.5], (6, 1)), GOOD_Y, r"source_probs hold 6 negative entries"),
        (np.where(np.eye(6, 2) == 1, np.nan, PROBS), GOOD_Y, r"source_probs contain NaN"),
        (PROBS[:, 0], GOOD_Y, r"source_probs must be a 2-D array"),
        (PROBS[:4], GOOD_Y, r"labels have 6 entries but there are 4 samples"),
        (PROBS, ["a"] * 6, r"only one class"),
        (PROBS, ["a", "a", "b", "b", "b", "c"], r"class 'c' has a single example"),
    ],
)
def test_leep_rejects_bad_input(probs: Any, labels: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        leep(probs, labels)


def test_leep_tolerates_rounding_in_row_sums_and_renormalises_them() -> None:
    probs = np.tile([0.5004, 0.5], (6, 1))
    assert leep(probs, GOOD_Y) <= 0.0
    r = np.random.default_rng(0)
    p = r.dirichlet(np.ones(3), size=6)
    p[0, 0] = 1.0
    p[0, 1:] = 0.0  # a confident row: un-normalised, 1.0009 of it gave LEEP = +0.0009 > 0
    y = ["a", "a", "a", "b", "b", "b"]
    assert leep(p * 1.0009, y) == pytest.approx(leep(p, y), abs=1e-12)
    assert leep(np.tile([1.0009, 0.0], (6, 1)), y) == pytest.approx(-np.log(2))


@pytest.mark.parametrize("name", sorted(SCORES))
def test_scores_do_not_depend_on_the_features_scale(name: str) -> None:
    """Every score here is invariant to a global rescaling; extreme scales gave NaN, 0 or a raw error."""
    r = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 10)
    x = r.normal(size=(30, 4)) + y[:, None]
    base = SCORES[name](x, y)
    for scale in (1e-160, 1e-7, 1e160):
        with np.errstate(all="raise"):  # no silent overflow or underflow on the way
            assert SCORES[name](scale * x, y) == pytest.approx(base, rel=1e-6, abs=1e-9), scale


def test_distances_at_extreme_scales() -> None:
    r = np.random.default_rng(2)
    a, b = r.normal(size=(20, 3)), 1.5 * r.normal(size=(25, 3)) + 0.5
    for name in ("mmd_rbf", "proxy_a"):  # invariant to a common rescaling
        base = DISTANCES[name](a, b)
        for scale in (1e-155, 1e155):
            assert DISTANCES[name](scale * a, scale * b) == pytest.approx(base, rel=1e-9, abs=1e-12), (name, scale)
    assert mmd_rbf(1e150 * a, 1e150 * b, bandwidth=1e150) == pytest.approx(mmd_rbf(a, b, bandwidth=1.0), rel=1e-9)
    base = coral_distance(a, b)  # goes as the fourth power of the scale
    for scale in (1e-50, 1e50):
        assert coral_distance(scale * a, scale * b) == pytest.approx(base * scale**4, rel=1e-9)
    with pytest.raises(DataError, match="CORAL distance .* overflows float64"):
        coral_distance(1e155 * a, 1e155 * b)


@pytest.mark.parametrize(
    ("source_labels", "labels", "message"),
    [
        ([0, 1, 0, 1, 0], GOOD_Y, r"source_labels have 5 entries but there are 6 samples"),
        (np.zeros((6, 1)), GOOD_Y, r"source_labels must be one-dimensional"),
        ([0] * 6, ["a"] * 6, r"only one class"),
        ([0] * 6, ["a", "a", "b", "b", "b", "c"], r"class 'c' has a single example"),
        ([0, 0, 1, 1, np.nan, 1], GOOD_Y, r"The source_labels are missing at index 4"),
    ],
)
def test_nce_rejects_bad_input(source_labels: Any, labels: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        nce(source_labels, labels)


BAD_DOMAINS: list[tuple[Any, Any, str]] = [
    (GOOD_X, GOOD_X[:, :2], r"source has 3 features per row but target has 2"),
    (GOOD_X[:1], GOOD_X, r"source has a single sample"),
    (GOOD_X, GOOD_X[:1], r"target has a single sample"),
    (np.where(np.eye(6, 3) == 1, np.nan, GOOD_X), GOOD_X, r"source contains NaN or infinite values"),
    (GOOD_X, GOOD_X.ravel(), r"target must be a 2-D array"),
    (GOOD_X[:0], GOOD_X, r"source has no rows"),
]


@pytest.mark.parametrize("name", sorted(DISTANCES))
@pytest.mark.parametrize(("source", "target", "message"), BAD_DOMAINS)
def test_distances_reject_bad_domains(name: str, source: Any, target: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        DISTANCES[name](source, target)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mmd_rbf(GOOD_X, GOOD_X, bandwidth=0.0), r"bandwidth must be a positive finite number"),
        (lambda: mmd_rbf(GOOD_X, GOOD_X, bandwidth=float("nan")), r"bandwidth must be a positive finite number"),
        (lambda: mmd_rbf(GOOD_X, GOOD_X, bandwidth=True), r"bandwidth must be a positive finite number"),  # type: ignore[arg-type]
        (lambda: mmd_rbf(GOOD_X, GOOD_X, bandwidth="1"), r"bandwidth must be a positive finite number"),  # type: ignore[arg-type]
        (lambda: mmd_rbf(GOOD_X, GOOD_X, bandwidth=1e-300), r"bandwidth 1e-300 is too small"),
        (lambda: mmd_rbf(GOOD_X, GOOD_X, max_samples=1), r"max_samples must be an integer >= 2"),
        (lambda: proxy_a_distance(GOOD_X, GOOD_X, cv=1.5), r"cv must be an integer >= 2"),
    ],
)
def test_distances_reject_bad_parameters(call: Callable[[], float], message: str) -> None:
    with pytest.raises(DataError, match=message):
        call()


def test_registries_and_all_are_consistent() -> None:
    assert set(SCORES) == {"logme", "h_score", "h_score_shrinkage", "gbc", "knn", "linear_probe"}
    assert set(DISTANCES) == {"mmd_rbf", "proxy_a", "coral"}
    for name in selection.__all__:
        assert hasattr(selection, name), name
    for function in [*SCORES.values(), *DISTANCES.values(), leep, nce]:
        assert function.__name__ in selection.__all__
        assert "References" in (function.__doc__ or "")
