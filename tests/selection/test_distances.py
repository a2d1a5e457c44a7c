"""MMD, proxy A-distance and CORAL: reference values and the properties of a distance between domains."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from transferkit.selection import DISTANCES, coral_distance, mmd_rbf, proxy_a_distance


def _slow_mmd2(x: np.ndarray, y: np.ndarray, bandwidth: float) -> float:
    """Gretton et al. 2012, eq. (3), with explicit double loops."""

    def k(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.exp(-np.sum((a - b) ** 2) / (2 * bandwidth**2)))

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_mmd_matches_the_unbiased_estimator() -> None:
    r = np.random.default_rng(0)
    x, y = r.normal(size=(7, 3)), r.normal(size=(5, 3)) + 0.5
    assert mmd_rbf(x, y, bandwidth=1.3) == pytest.approx(_slow_mmd2(x, y, 1.3), rel=1e-12)
    median = float(np.median(pdist(np.concatenate([x, y]))))
    assert mmd_rbf(x, y) == pytest.approx(_slow_mmd2(x, y, median), rel=1e-12)


def test_mmd_is_near_zero_for_one_distribution_and_grows_with_the_shift() -> None:
    r = np.random.default_rng(1)
    a, b = r.normal(size=(300, 4)), r.normal(size=(300, 4))
    same = mmd_rbf(a, b)
    assert abs(same) < 0.01  # unbiased: scatters around 0, may be slightly negative
    assert same < mmd_rbf(a, b + 0.5) < mmd_rbf(a, b + 2.0)
    assert mmd_rbf(a, b + 0.5) == pytest.approx(mmd_rbf(b + 0.5, a), rel=1e-12)


def test_mmd_subsamples_deterministically_above_max_samples() -> None:
    r = np.random.default_rng(2)
    a, b = r.normal(size=(120, 2)), r.normal(size=(90, 2)) + 1.0
    small = mmd_rbf(a, b, max_samples=50, random_state=3)
    assert small == mmd_rbf(a, b, max_samples=50, random_state=3)
    assert small == pytest.approx(mmd_rbf(b, a, max_samples=50, random_state=3), rel=1e-12)
    assert small != mmd_rbf(a, b)  # the full samples give a different estimate of the same quantity
    assert small > 0.1


def test_mmd_of_identical_points_is_zero() -> None:
    assert mmd_rbf(np.ones((4, 2)), np.ones((3, 2))) == pytest.approx(0.0, abs=1e-12)


def test_proxy_a_distance_is_zero_for_one_distribution_and_two_for_separable_domains() -> None:
    r = np.random.default_rng(4)
    a, b = r.normal(size=(60, 3)), r.normal(size=(60, 3))
    same = proxy_a_distance(a, b, cv=3)
    assert same < 0.4
    assert same < proxy_a_distance(a, b + 1.0, cv=3) < proxy_a_distance(a, b + 6.0, cv=3) == 2.0


def test_proxy_a_distance_ignores_unequal_domain_sizes() -> None:
    r = np.random.default_rng(5)
    big, small = r.normal(size=(150, 3)), r.normal(size=(30, 3))  # majority vote alone would have error 1/6
    assert proxy_a_distance(big, small) < 0.5


def test_coral_matches_the_closed_form() -> None:
    r = np.random.default_rng(6)
    x = r.normal(size=(50, 3))
    cs, ct = np.cov(x, rowvar=False), np.cov(2.0 * x, rowvar=False)
    assert coral_distance(x, 2.0 * x) == pytest.approx(np.sum((cs - ct) ** 2) / 36, rel=1e-12)
    assert coral_distance(x, 2.0 * x) == pytest.approx(9 * np.sum(cs**2) / 36, rel=1e-12)  # (4 - 1)^2 ||C||^2
    one = x[:, :1]
    assert coral_distance(one, 3 * one) == pytest.approx((9 - 1) ** 2 * np.var(one, ddof=1) ** 2 / 4)


def test_coral_is_symmetric_blind_to_mean_shift_and_small_for_one_distribution() -> None:
    r = np.random.default_rng(7)
    a, b = r.normal(size=(400, 3)), r.normal(size=(400, 3))
    assert coral_distance(a, b) < 0.01
    assert coral_distance(a, b + 10.0) == pytest.approx(coral_distance(a, b), rel=1e-9)
    assert coral_distance(a, 3 * b) == pytest.approx(coral_distance(3 * b, a), rel=1e-12)
    assert coral_distance(a, b) < coral_distance(a, 3 * b)


@pytest.mark.parametrize("name", sorted(DISTANCES))
def test_every_registered_distance_is_larger_across_domains_than_within(name: str) -> None:
    r = np.random.default_rng(8)
    a, b = r.normal(size=(50, 3)), r.normal(size=(50, 3))
    assert DISTANCES[name](a, b) < DISTANCES[name](a, 3.0 * b + 2.0)
