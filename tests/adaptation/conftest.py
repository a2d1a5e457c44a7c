"""Small seeded domain-shift problems shared by the adaptation tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def shifted_gaussians() -> tuple[np.ndarray, np.ndarray]:
    """Source N(0, I) and target N((1.5, -1, 0.5), 0.6^2 I) in 3-D: a plain covariate (mean) shift."""
    rng = np.random.default_rng(0)
    source = rng.normal(0.0, 1.0, size=(150, 3))
    target = rng.normal([1.5, -1.0, 0.5], 0.6, size=(100, 3))
    return source, target


@pytest.fixture
def domain_data(
    shifted_gaussians: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same data in the ``X, y, sample_domain`` convention (target labels masked with -1)."""
    source, target = shifted_gaussians
    X = np.vstack([source, target])
    y = np.r_[(source[:, 0] > 0).astype(int), -np.ones(len(target), dtype=int)]
    sample_domain = np.r_[np.ones(len(source), dtype=int), -np.ones(len(target), dtype=int)]
    return X, y, sample_domain
