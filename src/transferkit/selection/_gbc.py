"""Gaussian Bhattacharyya coefficient (GBC): how much the target classes overlap in feature space."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import DataError
from ._checks import check_features_labels, check_positive_int, class_sums, power_of_two_scale

__all__ = ["gbc", "bhattacharyya_distances"]

#: Floor on a class's per-dimension variance (at unit feature scale), as in the authors' code: a
#: constant dimension would otherwise give a zero variance and an infinite distance.
VARIANCE_FLOOR = 1e-4
_COVARIANCES = ("spherical", "diagonal")


def principal_components(f: NDArray[np.float64], n_components: int) -> NDArray[np.float64]:
    """``f`` centred and projected on its first ``n_components`` principal axes (fewer when its rank
    is lower): an exact SVD, so the result does not depend on a seed."""
    centred = f - f.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    rank = int(np.count_nonzero(s > s.max(initial=0.0) * max(f.shape) * np.finfo(np.float64).eps))
    keep = max(1, min(n_components, rank))
    return np.asarray(u[:, :keep] * s[:keep], dtype=np.float64)


def bhattacharyya_distances(
    means: NDArray[np.float64], variances: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``(K, K)`` Bhattacharyya distances between Gaussians with diagonal covariances.

    ``D_B(i, j) = 1/8 sum (mu_i - mu_j)^2 / s + 1/2 sum log(s / sqrt(s_i s_j))`` with
    ``s = (s_i + s_j) / 2`` per dimension; ``means`` and ``variances`` are ``(K, D)``."""
    out = np.zeros((len(means), len(means)))
    log_var = np.log(variances)
    for i in range(len(means)):
        avg = (variances[i] + variances) / 2.0
        mahalanobis = np.sum((means[i] - means) ** 2 / avg, axis=1) / 8.0
        log_ratio = np.sum(np.log(avg) - 0.5 * (log_var[i] + log_var), axis=1) / 2.0
        out[i] = mahalanobis + log_ratio
    return out


def gbc(
    features: ArrayLike,
    labels: ArrayLike,
    *,
    n_components: int = 64,
    covariance: Literal["spherical", "diagonal"] = "spherical",
) -> float:
    """Gaussian Bhattacharyya coefficient: minus the total pairwise overlap of the target classes.

    The features are reduced to their first ``n_components`` principal components; each class is
    modelled as a Gaussian with a spherical (one variance, the default in the paper) or diagonal
    covariance; and GBC is ``-sum_{i != j} exp(-D_B(i, j))``, the sum running over ordered pairs of
    classes, with ``D_B`` the Bhattacharyya distance (:func:`bhattacharyya_distances`). Each
    coefficient ``exp(-D_B)`` lies in ``(0, 1]`` and bounds the Bayes error between the two classes,
    so GBC lies in ``[-K (K - 1), 0)``: near 0 when the classes are separated, at its minimum when
    they coincide. Per-dimension variances are floored at ``1e-4`` as in the authors' code, after the
    components are rescaled to unit root mean square (so the floor means the same at any scale). It is
    invariant to a global rescaling, a translation and a rotation of the features. Higher is better.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Features of the target data from the frozen pre-trained model.
    labels : array-like of shape (n_samples,)
        Target class labels (any hashable values); at least two classes of two examples each.
    n_components : int, default=64
        Principal components kept (the paper's 64), lowered to the rank of the centred features.
    covariance : {"spherical", "diagonal"}, default="spherical"
        The class covariance model.

    Returns
    -------
    float
        The GBC, ``<= 0``.

    Raises
    ------
    DataError
        On bad features or labels (as :func:`h_score`), when ``n_components`` is not an integer
        ``>= 1``, or when ``covariance`` is not one of the two models.

    References
    ----------
    M. Pándy, A. Agostinelli, J. Uijlings, V. Ferrari, T. Mensink. "Transferability Estimation using
    Bhattacharyya Class Separability." CVPR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> noise = rng.normal(size=(40, 5))
    >>> gbc(noise + 10 * y[:, None], y) > gbc(noise, y)  # separated classes overlap less
    True
    """
    n_keep = check_positive_int(n_components, "n_components", minimum=1)
    if covariance not in _COVARIANCES:
        raise DataError(f"covariance must be one of {', '.join(map(repr, _COVARIANCES))}, got {covariance!r}")
    f, codes, classes = check_features_labels(features, labels)
    z = principal_components(f / power_of_two_scale(f), n_keep)
    z = z / power_of_two_scale(z)  # the variance floor applies at unit scale, whatever the input's
    counts = np.bincount(codes, minlength=len(classes)).astype(np.float64)[:, None]
    means = class_sums(z, codes, len(classes)) / counts
    variances = np.maximum(class_sums(z * z, codes, len(classes)) / counts - means**2, VARIANCE_FLOOR)
    if covariance == "spherical":
        variances = np.repeat(variances.mean(axis=1, keepdims=True), z.shape[1], axis=1)
    coefficients = np.exp(-bhattacharyya_distances(means, variances))
    np.fill_diagonal(coefficients, 0.0)
    return float(-coefficients.sum())
