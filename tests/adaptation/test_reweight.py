from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import minimize

from transferkit.adaptation import discriminator_weights, kliep_weights, kmm_weights
from transferkit.adaptation._kernels import gaussian_kernel, median_bandwidth
from transferkit.adaptation._reweight import _project_box_slab
from transferkit.errors import DataError

Arrays = tuple[np.ndarray, np.ndarray]
METHODS: list[Callable[..., np.ndarray]] = [kmm_weights, kliep_weights, discriminator_weights]


@pytest.mark.parametrize("method", METHODS, ids=lambda f: f.__name__)
def test_weights_move_the_source_mean_towards_the_target(
    method: Callable[..., np.ndarray], shifted_gaussians: Arrays
) -> None:
    source, target = shifted_gaussians
    w = method(source, target)
    assert w.shape == (len(source),) and np.all(w >= 0)
    gap_before = np.linalg.norm(source.mean(axis=0) - target.mean(axis=0))
    gap_after = np.linalg.norm(w @ source / w.sum() - target.mean(axis=0))
    assert gap_after < 0.35 * gap_before


@pytest.mark.parametrize("method", [kliep_weights, discriminator_weights], ids=lambda f: f.__name__)
def test_weights_rank_like_the_true_density_ratio(
    method: Callable[..., np.ndarray], shifted_gaussians: Arrays
) -> None:
    source, target = shifted_gaussians
    p_t = stats.multivariate_normal([1.5, -1.0, 0.5], 0.36).pdf(source)
    p_s = stats.multivariate_normal(np.zeros(3), 1.0).pdf(source)
    assert stats.spearmanr(method(source, target), p_t / p_s)[0] > 0.9


@pytest.mark.parametrize("method", [kliep_weights, discriminator_weights], ids=lambda f: f.__name__)
def test_kliep_and_discriminator_weights_have_mean_one(
    method: Callable[..., np.ndarray], shifted_gaussians: Arrays
) -> None:
    assert method(*shifted_gaussians).mean() == pytest.approx(1.0, abs=1e-12)


def test_kmm_respects_its_constraints(shifted_gaussians: Arrays) -> None:
    source, target = shifted_gaussians
    n_s = len(source)
    w = kmm_weights(source, target)
    assert abs(w.mean() - 1) <= (np.sqrt(n_s) - 1) / np.sqrt(n_s) + 1e-9
    tight = kmm_weights(source, target, B=5.0, eps=0.01)
    assert tight.min() >= 0 and tight.max() <= 5.0 + 1e-9
    assert abs(tight.mean() - 1) <= 0.01 + 1e-9


def test_kmm_on_identical_domains_returns_unit_weights() -> None:
    # kappa = K 1, so b = 1 is the unconstrained minimiser and feasible.
    X = np.random.default_rng(1).normal(size=(60, 2))
    np.testing.assert_allclose(kmm_weights(X, X), 1.0, atol=1e-4)


def test_kmm_matches_a_generic_qp_solver() -> None:
    rng = np.random.default_rng(2)
    source, target = rng.normal(0, 1, (30, 2)), rng.normal(1, 0.5, (25, 2))
    sigma = median_bandwidth(np.vstack([source, target]))
    K = gaussian_kernel(source, source, sigma)
    kappa = 30 / 25 * gaussian_kernel(source, target, sigma).sum(axis=1)
    eps, B = 0.2, 10.0
    ref = minimize(
        lambda b: 0.5 * b @ K @ b - kappa @ b,
        np.ones(30),
        jac=lambda b: K @ b - kappa,
        bounds=[(0, B)] * 30,
        constraints=[
            {"type": "ineq", "fun": lambda b: b.sum() - 30 * (1 - eps)},
            {"type": "ineq", "fun": lambda b: 30 * (1 + eps) - b.sum()},
        ],
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 500},
    )
    w = kmm_weights(source, target, kernel_bandwidth=sigma, B=B, eps=eps, max_iter=20000, tol=1e-10)
    objective = 0.5 * w @ K @ w - kappa @ w
    assert ref.success and objective == pytest.approx(ref.fun, rel=1e-7)


def test_box_slab_projection_matches_a_generic_solver() -> None:
    rng = np.random.default_rng(3)
    for lo, hi in [(12.0, 14.0), (2.0, 3.0), (0.0, 40.0)]:
        v = rng.normal(0.5, 2.0, 20)
        ref = minimize(
            lambda b, v=v: 0.5 * np.sum((b - v) ** 2),
            np.clip(v, 0, 1.5),
            jac=lambda b, v=v: b - v,
            bounds=[(0, 1.5)] * 20,
            constraints=[
                {"type": "ineq", "fun": lambda b, lo=lo: b.sum() - lo},
                {"type": "ineq", "fun": lambda b, hi=hi: hi - b.sum()},
            ],
            method="SLSQP",
            options={"ftol": 1e-14, "maxiter": 500},
        )
        np.testing.assert_allclose(_project_box_slab(v, 1.5, lo, hi), ref.x, atol=1e-6)


def test_kliep_with_one_sigma_skips_cross_validation_and_needs_no_folds() -> None:
    source, target = np.random.default_rng(4).normal(size=(20, 2)), np.array([[0.5, 0.5]])
    w = kliep_weights(source, target, sigmas=[1.0])
    assert w.mean() == pytest.approx(1.0) and np.argmax(w) == np.argmin(np.linalg.norm(source - 0.5, axis=1))


def test_discriminator_clips_extreme_ratios_before_normalising() -> None:
    rng = np.random.default_rng(5)
    source, target = rng.normal(0, 1, (40, 2)), rng.normal(6, 1, (40, 2))  # almost separable
    w = discriminator_weights(source, target, clip=(0.5, 2.0))
    assert w.max() / w.min() <= 4.0 + 1e-9


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, t: kmm_weights(s, t, B=-1.0), "B must be a positive number"),
        (lambda s, t: kmm_weights(s, t, eps=-0.1), "eps must be a non-negative number"),
        (lambda s, t: kmm_weights(s, t, B=0.5, eps=0.1), "B=0.5 is too small"),
        (lambda s, t: kmm_weights(s, t, kernel_bandwidth=0.0), "kernel_bandwidth must be a positive number"),
        (lambda s, t: kliep_weights(s, t, n_centers=0), "n_centers must be at least 1"),
        (lambda s, t: kliep_weights(s, t, sigmas=[1.0, -2.0]), "sigmas must be a positive number"),
        (lambda s, t: kliep_weights(s, t, sigmas=[]), "sigmas is empty"),
        (lambda s, t: kliep_weights(s, t[:1]), "at least 2 target samples"),
        (
            lambda s, t: discriminator_weights(s, t, clip=(2.0, 1.0)),
            "clip must be two increasing positive numbers",
        ),
        (lambda s, t: discriminator_weights(s, t[:1]), "at least 2 source and 2 target samples"),
        (lambda s, t: kmm_weights(s, t[:, :2]), "source has 3 features but target has 2"),
        (lambda s, t: kliep_weights(s, t[:0]), "target has no samples"),
        (lambda s, t: discriminator_weights(s[:, 0], t), "source must be 2-D"),
    ],
)
def test_bad_arguments_raise_data_error(
    call: Callable[[np.ndarray, np.ndarray], np.ndarray], message: str, shifted_gaussians: Arrays
) -> None:
    with pytest.raises(DataError, match=message):
        call(*shifted_gaussians)
