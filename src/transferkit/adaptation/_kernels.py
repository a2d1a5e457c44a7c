"""Gaussian (RBF) kernels with the median heuristic, shared by KMM, KLIEP and TCA."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.distance import cdist, pdist

from transferkit.errors import DataError

#: Pairwise distances for the median heuristic are computed on at most this many rows (O(n^2) memory).
MEDIAN_SUBSAMPLE = 1000


def squared_distances(A: NDArray[np.float64], B: NDArray[np.float64]) -> NDArray[np.float64]:
    """Squared Euclidean distances between the rows of ``A`` and of ``B``."""
    return np.asarray(cdist(A, B, metric="sqeuclidean"), dtype=np.float64)


def median_bandwidth(X: NDArray[np.float64], *, random_state: int = 0) -> float:
    """Median of the non-zero pairwise Euclidean distances between rows (the median heuristic, Gretton et
    al. 2012). Zero distances (duplicate rows) are left out, so duplicates do not shrink the width:
    on 5 distinct rows each repeated 10 times, the width is that of the 5 rows' distances.

    Large inputs are subsampled to :data:`MEDIAN_SUBSAMPLE` rows with a fixed seed. If every distance is
    zero (all rows identical) the bandwidth falls back to 1.0, since any width gives the same kernel.
    """
    if X.shape[0] > MEDIAN_SUBSAMPLE:
        idx = np.random.default_rng(random_state).choice(X.shape[0], MEDIAN_SUBSAMPLE, replace=False)
        X = X[idx]
    d = pdist(X)
    med = float(np.median(d[d > 0])) if np.any(d > 0) else 1.0
    return med


def check_bandwidth(sigma: float, name: str = "kernel_bandwidth") -> float:
    """A positive finite kernel width, or a DataError."""
    value = float(sigma)
    if not np.isfinite(value) or value <= 0:
        raise DataError(f"{name} must be a positive number, got {sigma!r}.")
    return value


def gaussian_kernel(A: NDArray[np.float64], B: NDArray[np.float64], sigma: float) -> NDArray[np.float64]:
    """``exp(-||a - b||^2 / (2 sigma^2))`` for every row pair of ``A`` and ``B``."""
    return np.exp(-squared_distances(A, B) / (2.0 * sigma**2))
