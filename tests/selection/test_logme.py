"""LogME against a direct maximisation of the Gaussian marginal likelihood, and its invariances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import multivariate_normal
from tests.helpers import blobs

from transferkit.selection import logme
from transferkit.selection._logme import log_evidence


def _direct_log_evidence(f: np.ndarray, y: np.ndarray, alpha: float, beta: float) -> float:
    """log N(y; 0, F F^T / alpha + I / beta): the evidence written without any decomposition."""
    cov = f @ f.T / alpha + np.eye(len(y)) / beta
    return float(multivariate_normal(np.zeros(len(y)), cov).logpdf(y))


def _slow_logme(f: np.ndarray, labels: np.ndarray) -> float:
    """Mean over classes of max_{alpha, beta} of the direct evidence / N, by numerical optimisation."""
    scores = []
    for c in np.unique(labels):
        y = (labels == c).astype(float)
        best = minimize(
            lambda p, y=y: -_direct_log_evidence(f, y, *np.exp(p)),
            x0=[0.0, 0.0],
            method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 4000},
        )
        scores.append(-best.fun / len(y))
    return float(np.mean(scores))


def _toy(n: int, d: int, k: int, seed: int, signal: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    y = r.integers(0, k, n)
    return r.normal(size=(n, d)) + signal * y[:, None], y


def test_evidence_formula_matches_the_gaussian_marginal_likelihood() -> None:
    f, labels = _toy(15, 4, 2, seed=1)
    y = (labels == 1).astype(float)
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    x2 = (u.T @ y) ** 2
    for alpha, beta in [(1.0, 1.0), (0.3, 5.0), (20.0, 0.1)]:
        ours = log_evidence(alpha, beta, s**2, x2, float(y @ y - x2.sum()), 15, 4)
        assert ours == pytest.approx(_direct_log_evidence(f, y, alpha, beta), rel=1e-10)


@pytest.mark.parametrize(("n", "d", "k", "seed"), [(12, 3, 2, 0), (30, 5, 3, 1)])
def test_logme_is_the_maximum_evidence(n: int, d: int, k: int, seed: int) -> None:
    f, y = _toy(n, d, k, seed)
    assert logme(f, y) == pytest.approx(_slow_logme(f, y), abs=1e-6)


def test_no_alpha_beta_on_a_grid_beats_the_fixed_point() -> None:
    f, labels = _toy(25, 3, 2, seed=2)
    grid = [(a, b) for a in np.geomspace(1e-2, 1e2, 9) for b in np.geomspace(1e-1, 1e2, 9)]
    best_on_grid = np.mean(
        [max(_direct_log_evidence(f, (labels == c).astype(float), a, b) for a, b in grid) / 25 for c in (0, 1)]
    )
    assert logme(f, labels) >= best_on_grid - 1e-9


def test_separable_features_score_higher_than_random_or_shuffled() -> None:
    x, y = blobs(n_per_class=30, n_features=6, n_classes=3, seed=0)
    r = np.random.default_rng(0)
    good = logme(x, y)
    assert good > logme(x, r.permutation(y))
    assert good > logme(r.normal(size=x.shape), y)


def test_invariant_to_label_renaming_rescaling_and_rotation() -> None:
    f, y = _toy(40, 5, 3, seed=3)
    base = logme(f, y)
    renamed = np.array(["zebra", "ant", "moth"])[y]  # a different sort order of class names
    assert logme(f, renamed) == pytest.approx(base, abs=1e-10)
    assert logme(1e3 * f, y) == pytest.approx(base, abs=1e-7)
    # Small features used to stop the fixed point at once on the flat "features explain nothing" evidence
    # (-1.07 instead of -0.82 at 1e-7 on the audit's case); extreme ones overflowed.
    for scale in (1e-4, 1e-7, 1e-8, 1e-150, 1e8, 1e150):
        assert logme(scale * f, y) == pytest.approx(base, abs=1e-7), scale
    q, _ = np.linalg.qr(np.random.default_rng(4).normal(size=(5, 5)))
    assert logme(f @ q, y) == pytest.approx(base, abs=1e-8)


def test_more_features_than_samples_and_degenerate_features_stay_finite() -> None:
    f, y = _toy(10, 30, 2, seed=5)
    assert np.isfinite(logme(f, y))
    # All-zero features explain nothing: the score is the evidence of pure noise, -1/2 log(2 pi e var).
    y = np.repeat([0, 1], 5)
    assert logme(np.zeros((10, 3)), y) == pytest.approx(-0.5 * np.log(2 * np.pi * np.e * 0.5))
