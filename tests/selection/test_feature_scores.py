"""H-score, shrinkage H-score and linear probe: reference values and the properties they must have."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.covariance import ledoit_wolf
from tests.helpers import blobs

from transferkit.selection import h_score, h_score_shrinkage, linear_probe_score


def _bao_h_score(f: np.ndarray, y: np.ndarray) -> float:
    """Bao et al.'s definition written literally: class-mean features g, then tr(pinv(cov f) cov g)."""
    g = np.zeros_like(f)
    for c in np.unique(y):
        g[y == c] = f[y == c].mean(axis=0)
    return float(np.trace(np.linalg.pinv(np.cov(f, rowvar=False)) @ np.cov(g, rowvar=False)))


def test_h_score_matches_the_literal_definition() -> None:
    r = np.random.default_rng(0)
    y = r.integers(0, 4, 60)
    f = r.normal(size=(60, 5)) + y[:, None] * np.array([1.0, 0.0, 0.5, 0.0, -0.3])
    assert h_score(f, y) == pytest.approx(_bao_h_score(f, y), rel=1e-9)


def test_h_score_of_one_feature_and_two_classes_is_the_squared_point_biserial_correlation() -> None:
    r = np.random.default_rng(1)
    y = np.repeat([0, 1], 25)
    f = r.normal(size=50) + 0.8 * y
    assert h_score(f[:, None], y) == pytest.approx(np.corrcoef(f, y)[0, 1] ** 2, rel=1e-10)


def test_h_score_is_invariant_to_invertible_linear_maps() -> None:
    r = np.random.default_rng(2)
    x, y = blobs(n_per_class=20, n_features=4, n_classes=3, seed=2)
    x = x + r.normal(size=x.shape)
    a = r.normal(size=(4, 4)) + 3 * np.eye(4)
    assert h_score(x @ a + 7.0, y) == pytest.approx(h_score(x, y), rel=1e-8)


def test_h_scores_are_bounded_by_k_minus_1_and_higher_for_separable_classes() -> None:
    x, y = blobs(n_per_class=20, n_features=5, n_classes=3, seed=3)
    noise = np.random.default_rng(3).normal(size=x.shape)
    for score in (h_score, h_score_shrinkage):
        separable, random = score(x, y), score(noise, y)
        assert 0.0 <= random < separable <= 2.0 + 1e-9
        assert separable > 0.9  # the blobs' means are collinear: one direction explains nearly all of it


def test_shrinkage_h_score_is_the_ridge_regularised_h_score() -> None:
    r = np.random.default_rng(4)
    y = r.integers(0, 3, 30)
    f = r.normal(size=(30, 8)) + 0.5 * y[:, None]
    cov, a = ledoit_wolf(f)
    s = np.cov(f, rowvar=False, bias=True)
    ridge = a * np.trace(s) / 8 / (1 - a)
    g = np.zeros_like(f)
    for c in range(3):
        g[y == c] = f[y == c].mean(axis=0)
    expected = np.trace(np.linalg.inv(s + ridge * np.eye(8)) @ np.cov(g, rowvar=False, bias=True))
    assert 0 < a < 1
    assert h_score_shrinkage(f, y) == pytest.approx(expected, rel=1e-9)
    assert h_score_shrinkage(f, y) < h_score(f, y)


def test_shrinkage_keeps_the_h_score_sane_with_more_dimensions_than_samples() -> None:
    r = np.random.default_rng(5)
    y = np.repeat([0, 1], 10)
    f = r.normal(size=(20, 60))  # pure noise: the plain H-score overfits to about its maximum, 1
    assert h_score(f, y) > 0.9
    assert h_score_shrinkage(f, y) < 0.5


def test_linear_probe_is_perfect_on_blobs_and_near_chance_on_noise() -> None:
    x, y = blobs(n_per_class=20, n_features=4, n_classes=2, seed=6)
    assert linear_probe_score(x, y) >= 0.9
    noise = np.random.default_rng(6).normal(size=(60, 4))
    assert linear_probe_score(noise, np.repeat(["a", "b"], 30)) < 0.75


def test_linear_probe_reduces_folds_to_the_smallest_class_and_is_seeded() -> None:
    r = np.random.default_rng(7)
    x = r.normal(size=(12, 3))
    y = np.array(["a"] * 10 + ["b"] * 2)  # only two "b": two folds at most
    score = linear_probe_score(x, y, cv=5, random_state=1)
    assert 0.0 <= score <= 1.0
    assert linear_probe_score(x, y, cv=5, random_state=1) == score
