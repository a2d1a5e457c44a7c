"""LEEP and NCE: a hand-computed reference, the closed forms at the extremes, and LEEP == NCE on hard labels."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.selection import leep, nce


def _entropy(y: np.ndarray) -> float:
    _, counts = np.unique(y, return_counts=True)
    p = counts / counts.sum()
    return float(-np.sum(p * np.log(p)))


def _slow_leep(theta: np.ndarray, y: np.ndarray) -> float:
    """Nguyen et al. 2020, eqs. (1)-(2), with explicit loops."""
    n, z_count = theta.shape
    classes = sorted(set(y))
    joint = {(c, z): sum(theta[i, z] for i in range(n) if y[i] == c) / n for c in classes for z in range(z_count)}
    pz = {z: sum(joint[c, z] for c in classes) for z in range(z_count)}
    total = 0.0
    for i in range(n):
        total += np.log(sum(joint[y[i], z] / pz[z] * theta[i, z] for z in range(z_count)))
    return total / n


def test_leep_matches_the_formula_on_a_small_case() -> None:
    theta = np.array([[0.7, 0.2, 0.1], [0.5, 0.4, 0.1], [0.1, 0.1, 0.8], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4]])
    y = np.array(["u", "u", "v", "v", "v"])
    assert leep(theta, y) == pytest.approx(_slow_leep(theta, y), rel=1e-12)


def test_leep_is_zero_when_source_classes_determine_the_target() -> None:
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    source_class = np.array([2, 0, 1, 3])[y]  # a relabelling of the target classes, with one unused
    assert leep(np.eye(4)[source_class], y) == pytest.approx(0.0, abs=1e-12)


def test_leep_is_minus_the_label_entropy_when_probabilities_carry_no_information() -> None:
    y = np.array(["a"] * 6 + ["b"] * 3 + ["c"] * 3)
    theta = np.tile([0.5, 0.3, 0.2], (12, 1))
    assert leep(theta, y) == pytest.approx(-_entropy(y), rel=1e-12)
    balanced = np.repeat(["a", "b", "c", "d"], 3)
    assert leep(np.tile([0.1, 0.9], (12, 1)), balanced) == pytest.approx(np.log(1 / 4))


def test_leep_is_at_most_zero_and_equals_nce_for_one_hot_predictions() -> None:
    r = np.random.default_rng(0)
    y = r.integers(0, 3, 40)
    theta = r.dirichlet(np.ones(5), size=40)
    assert leep(theta, y) <= 0.0
    z = r.integers(0, 5, 40)
    assert leep(np.eye(5)[z], y) == pytest.approx(nce(z, y), rel=1e-12)


def test_nce_is_zero_when_y_is_a_function_of_z() -> None:
    z = np.array(["p", "q", "r", "p", "q", "r", "s"])
    y = np.array([{"p": "a", "q": "b", "r": "a", "s": "b"}[v] for v in z])
    assert nce(z, y) == pytest.approx(0.0, abs=1e-12)


def test_nce_is_minus_the_label_entropy_when_independent() -> None:
    y = np.array([0, 0, 1, 2] * 3)  # each label pattern repeated once per source class: exact independence
    z = np.repeat(["s", "t", "u"], 4)
    assert nce(z, y) == pytest.approx(-_entropy(y), rel=1e-12)
    assert nce(np.zeros(12), y) == pytest.approx(-_entropy(y), rel=1e-12)  # a single source class


def test_nce_hand_value() -> None:
    # z=0: y = a, a, b  -> H = log 3 - 2/3 log 2 ; z=1: y = b -> H = 0; P(z=0) = 3/4.
    expected = -0.75 * (np.log(3) - 2 / 3 * np.log(2))
    assert nce([0, 0, 0, 1], ["a", "a", "b", "b"]) == pytest.approx(expected, rel=1e-12)
