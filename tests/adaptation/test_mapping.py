from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.decomposition import PCA

from transferkit.adaptation import coral, subspace_alignment, tca
from transferkit.adaptation._mapping import _fit_coral, _fit_subspace_alignment
from transferkit.errors import DataError


def _mean_gap(A: np.ndarray, B: np.ndarray) -> float:
    """Distance between the domain means, relative to the pooled spread (scale-free)."""
    pooled = np.vstack([A, B])
    return float(np.linalg.norm(A.mean(axis=0) - B.mean(axis=0)) / np.sqrt(pooled.var(axis=0).sum()))


@pytest.fixture
def rotated_shift() -> tuple[np.ndarray, np.ndarray]:
    """Correlated 5-D source; target = a fresh sample rotated in one plane and shifted by 2."""
    rng = np.random.default_rng(0)
    C = rng.normal(size=(5, 5))
    cov = C @ C.T / 5 + 0.1 * np.eye(5)
    R = np.eye(5)
    R[:2, :2] = [[np.cos(0.5), -np.sin(0.5)], [np.sin(0.5), np.cos(0.5)]]
    source = rng.multivariate_normal(np.zeros(5), cov, size=100)
    target = rng.multivariate_normal(np.zeros(5), cov, size=80) @ R + 2.0
    return source, target


def test_coral_satisfies_its_defining_identity(shifted_gaussians: tuple[np.ndarray, np.ndarray]) -> None:
    source, target = shifted_gaussians
    eps = 1.0
    A = _fit_coral(source, target, eps)
    eye = np.eye(3)
    # A' (C_s + eps I) A = C_t + eps I exactly, for any eps.
    lhs = A.T @ (np.cov(source, rowvar=False) + eps * eye) @ A
    np.testing.assert_allclose(lhs, np.cov(target, rowvar=False) + eps * eye, atol=1e-10)
    np.testing.assert_allclose(coral(source, target, eps=eps), source @ A)


def test_coral_with_small_eps_matches_the_target_covariance() -> None:
    rng = np.random.default_rng(1)
    source = rng.multivariate_normal([0, 0, 0], np.array([[1, 0.8, 0], [0.8, 1, 0], [0, 0, 0.2]]), size=200)
    target = rng.multivariate_normal([0, 0, 0], np.array([[4, -1, 0], [-1, 1, 0.3], [0, 0.3, 2]]), size=150)
    mapped = coral(source, target, eps=1e-8)
    np.testing.assert_allclose(np.cov(mapped, rowvar=False), np.cov(target, rowvar=False), atol=1e-6)


def test_coral_without_ridge_needs_a_full_rank_source_covariance() -> None:
    source = np.c_[np.arange(10.0), np.arange(10.0)]  # rank 1
    with pytest.raises(DataError, match="singular"):
        coral(source, np.random.default_rng(0).normal(size=(10, 2)), eps=0.0)
    with pytest.raises(DataError, match="eps must be a non-negative number"):
        coral(source, source, eps=-1.0)


def test_subspace_alignment_of_identical_domains_is_the_pca_projection() -> None:
    X = np.random.default_rng(2).normal(size=(50, 4)) * [3.0, 2.0, 1.0, 0.5]
    Xs, Xt = subspace_alignment(X, X, n_components=2)
    np.testing.assert_allclose(Xs, Xt, atol=1e-10)
    np.testing.assert_allclose(np.abs(Xt), np.abs(PCA(n_components=2).fit_transform(X)), atol=1e-10)


def test_subspace_alignment_matrix_is_the_least_squares_alignment(
    rotated_shift: tuple[np.ndarray, np.ndarray],
) -> None:
    fitted = _fit_subspace_alignment(*rotated_shift, 2)
    Ps, Pt, M = fitted.basis_source, fitted.basis_target, fitted.alignment
    np.testing.assert_allclose(Ps.T @ Ps, np.eye(2), atol=1e-10)
    np.testing.assert_allclose(M, Ps.T @ Pt)
    # M minimises ||Ps M - Pt||_F, so it beats any other 2x2 matrix, e.g. the identity or a perturbation.
    best = np.linalg.norm(Ps @ M - Pt)
    assert best <= np.linalg.norm(Ps - Pt)
    assert best <= np.linalg.norm(Ps @ (M + 0.01) - Pt)


def test_subspace_alignment_reduces_the_domain_gap(rotated_shift: tuple[np.ndarray, np.ndarray]) -> None:
    source, target = rotated_shift
    Xs, Xt = subspace_alignment(source, target, n_components=2)
    assert Xs.shape == (100, 2) and Xt.shape == (80, 2)
    assert _mean_gap(Xs, Xt) < 0.1 * _mean_gap(source, target)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_tca_shrinks_the_mean_discrepancy_compared_with_kernel_pca(
    kernel: Any, rotated_shift: tuple[np.ndarray, np.ndarray]
) -> None:
    source, target = rotated_shift
    Zs, Zt = tca(source, target, n_components=2, mu=1.0, kernel=kernel)
    # mu -> infinity drops the discrepancy term: the eigenproblem becomes kernel PCA.
    Ks, Kt = tca(source, target, n_components=2, mu=1e6, kernel=kernel)
    assert Zs.shape == (100, 2) and Zt.shape == (80, 2)
    assert _mean_gap(Zs, Zt) < 0.25 * _mean_gap(Ks, Kt)
    assert _mean_gap(Zs, Zt) < 0.25 * _mean_gap(source, target)


UNKNOWN_KERNEL: Any = "poly"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, t: tca(s, t, n_components=181), "between 1 and n_source \\+ n_target = 180"),
        (lambda s, t: tca(s, t, n_components=0), "n_components=0"),
        (lambda s, t: tca(s, t, n_components=2, mu=0.0), "mu must be a positive number"),
        (lambda s, t: tca(s, t, n_components=2, kernel=UNKNOWN_KERNEL), "kernel must be 'linear' or 'rbf'"),
        (lambda s, t: tca(s, t, n_components=2, kernel="rbf", gamma=-1.0), "gamma must be a positive number"),
        (
            lambda s, t: subspace_alignment(s, t, n_components=6),
            "min\\(n_features, n_source, n_target\\) = 5",
        ),
        (
            lambda s, t: subspace_alignment(s, t[:, :4], n_components=2),
            "source has 5 features but target has 4",
        ),
        (lambda s, t: coral(s, t[:0]), "target has no samples"),
    ],
)
def test_bad_arguments_raise_data_error(
    call: Any, message: str, rotated_shift: tuple[np.ndarray, np.ndarray]
) -> None:
    with pytest.raises(DataError, match=message):
        call(*rotated_shift)
