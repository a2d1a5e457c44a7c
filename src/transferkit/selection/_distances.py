"""Distances between a source and a target sample of features: MMD, proxy A-distance, CORAL."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.distance import cdist, pdist
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._blas import one_blas_thread
from ..errors import DataError
from ._checks import check_domains, check_positive_int, is_positive_number, power_of_two_scale

__all__ = ["coral_distance", "median_bandwidth", "mmd_rbf", "proxy_a_distance"]


def _subsample(x: NDArray[np.float64], max_samples: int, random_state: int) -> NDArray[np.float64]:
    """At most ``max_samples`` rows of ``x``, drawn without replacement by a generator of its own.

    Each sample gets a fresh generator so that swapping source and target draws the same subsets.
    """
    if len(x) <= max_samples:
        return x
    rows = np.random.default_rng(random_state).choice(len(x), size=max_samples, replace=False)
    return x[np.sort(rows)]


def median_bandwidth(pooled: NDArray[np.float64]) -> float:
    """Median heuristic: the median Euclidean distance between distinct rows of the pooled sample.

    When more than half the pairs coincide (the median is 0) the median of the non-zero distances is
    used, and 1.0 when all rows are identical (any bandwidth then gives MMD 0).
    """
    distances = pdist(pooled)
    median = float(np.median(distances))
    if median > 0:
        return median
    positive = distances[distances > 0]
    return float(np.median(positive)) if len(positive) else 1.0


def mmd_rbf(
    source: ArrayLike,
    target: ArrayLike,
    *,
    bandwidth: float | None = None,
    max_samples: int = 2000,
    random_state: int = 0,
) -> float:
    """Unbiased squared maximum mean discrepancy with a Gaussian (RBF) kernel.

    ``MMD^2_u = mean_{i != j} k(s_i, s_j) + mean_{i != j} k(t_i, t_j) - 2 mean_{i, j} k(s_i, t_j)`` with
    ``k(a, b) = exp(-||a - b||^2 / (2 bandwidth^2))`` (Gretton et al. 2012, Lemma 6). The estimator is
    unbiased, so for two samples of the same distribution it scatters around 0 and can be slightly
    negative; it is symmetric in ``source`` and ``target``. Lower means closer domains.

    Parameters
    ----------
    source, target : array-like of shape (n_source, n_features) and (n_target, n_features)
        Features of the two domains, at least two rows each.
    bandwidth : float or None, default=None
        Kernel width; None uses the median heuristic (:func:`median_bandwidth`) on the pooled sample.
    max_samples : int, default=2000
        Each domain larger than this is subsampled to it (without replacement, seeded), which keeps the
        cost at ``O(max_samples^2)`` time and memory.
    random_state : int, default=0
        Seed of the subsampling.

    Returns
    -------
    float
        The unbiased MMD^2 estimate, in ``(-2, 2]``.

    Raises
    ------
    DataError
        If a sample is not a finite 2-D array with at least two rows, the widths differ, or
        ``bandwidth`` / ``max_samples`` are out of range.

    References
    ----------
    A. Gretton, K. M. Borgwardt, M. J. Rasch, B. Schoelkopf, A. Smola. "A Kernel Two-Sample Test."
    JMLR 13, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(200, 2)), rng.normal(size=(200, 2))
    >>> abs(mmd_rbf(a, b)) < 0.02 < mmd_rbf(a, b + 2.0)
    True
    """
    limit = check_positive_int(max_samples, "max_samples", minimum=2)
    if bandwidth is not None and not is_positive_number(bandwidth):
        raise DataError(f"bandwidth must be a positive finite number or None, got {bandwidth!r}")
    xs, xt = check_domains(source, target)
    xs, xt = _subsample(xs, limit, random_state), _subsample(xt, limit, random_state)
    # The kernel depends on distances relative to the bandwidth only: compute at unit scale (exactly, a
    # power of two) so that squared distances neither overflow nor underflow.
    scale = power_of_two_scale(xs, xt)
    xs, xt = xs / scale, xt / scale
    width = np.float64(median_bandwidth(np.concatenate([xs, xt])) if bandwidth is None else float(bandwidth) / scale)
    with np.errstate(over="ignore", under="ignore"):
        twice_square = 2.0 * width**2  # an overflow to inf is fine: every kernel value is then 1, MMD 0
    if not twice_square > 0.0:
        raise DataError(f"bandwidth {bandwidth!r} is too small for features of root mean square about {scale:g}")
    gamma = float(1.0 / twice_square)

    def mean_within(x: NDArray[np.float64]) -> float:
        k = np.exp(-gamma * cdist(x, x, "sqeuclidean"))
        return float((k.sum() - np.trace(k)) / (len(x) * (len(x) - 1)))

    cross = float(np.exp(-gamma * cdist(xs, xt, "sqeuclidean")).mean())
    return mean_within(xs) + mean_within(xt) - 2.0 * cross


def proxy_a_distance(source: ArrayLike, target: ArrayLike, *, cv: int = 5, random_state: int = 0) -> float:
    """Proxy A-distance ``2 (1 - 2 err)`` from the error of a classifier told to separate the domains.

    ``err`` is the cross-validated balanced error of a logistic regression (class-balanced, on
    standardised features) predicting whether a row comes from ``source`` or ``target``; balancing
    keeps unequal domain sizes from lowering the error by themselves. The result is clipped to
    ``[0, 2]``: 0 when the domains are indistinguishable (error 0.5 or worse), 2 when perfectly
    separable by a linear classifier. Lower means closer domains.

    Parameters
    ----------
    source, target : array-like of shape (n_source, n_features) and (n_target, n_features)
        Features of the two domains, at least two rows each.
    cv : int, default=5
        Number of stratified folds (at least 2), lowered to the size of the smaller domain.
    random_state : int, default=0
        Seed of the fold shuffling.

    Returns
    -------
    float
        The proxy A-distance, in ``[0, 2]``.

    Raises
    ------
    DataError
        If a sample is not a finite 2-D array with at least two rows, the widths differ, or ``cv`` is not
        an integer ``>= 2``.

    References
    ----------
    S. Ben-David, J. Blitzer, K. Crammer, F. Pereira. "Analysis of Representations for Domain
    Adaptation." NeurIPS 2007; S. Ben-David et al. "A theory of learning from different domains."
    Machine Learning 79, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(100, 3))
    >>> proxy_a_distance(a, a + 5.0)
    2.0
    """
    n_folds = check_positive_int(cv, "cv", minimum=2)
    xs, xt = check_domains(source, target)
    x = np.concatenate([xs, xt])
    x = x / power_of_two_scale(x)  # standardised anyway; at 1e160 the scaler's variance overflowed
    domain = np.repeat([0, 1], [len(xs), len(xt)])
    folds = StratifiedKFold(n_splits=min(n_folds, len(xs), len(xt)), shuffle=True, random_state=random_state)
    model = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
    with one_blas_thread():
        error = 1.0 - float(np.mean(cross_val_score(model, x, domain, cv=folds, scoring="balanced_accuracy")))
    return float(np.clip(2.0 * (1.0 - 2.0 * error), 0.0, 2.0))


def coral_distance(source: ArrayLike, target: ArrayLike) -> float:
    """CORAL distance ``||C_s - C_t||_F^2 / (4 d^2)`` between the feature covariances.

    ``C_s`` and ``C_t`` are the unbiased (1/(n - 1)) covariances and ``d`` the number of features, as in
    the Deep CORAL loss. It compares second-order statistics only: a pure shift of the mean leaves it
    unchanged. It is symmetric and 0 for equal sample covariances. Lower means closer domains.

    Parameters
    ----------
    source, target : array-like of shape (n_source, n_features) and (n_target, n_features)
        Features of the two domains, at least two rows each.

    Returns
    -------
    float
        The CORAL distance, ``>= 0``.

    Raises
    ------
    DataError
        If a sample is not a finite 2-D array with at least two rows, or the widths differ.

    References
    ----------
    B. Sun, K. Saenko. "Deep CORAL: Correlation Alignment for Deep Domain Adaptation." ECCV 2016
    Workshops.

    Examples
    --------
    >>> import numpy as np
    >>> source = np.array([[0.0], [2.0]])  # variance 2
    >>> coral_distance(source, 2 * source)  # variance 8: (8 - 2)^2 / 4
    9.0
    """
    xs, xt = check_domains(source, target)
    d = xs.shape[1]
    scale = power_of_two_scale(xs, xt)  # computed at unit scale, then scaled back (the distance goes as scale^4)
    xs, xt = xs / scale, xt / scale
    diff = np.cov(xs, rowvar=False).reshape(d, d) - np.cov(xt, rowvar=False).reshape(d, d)
    with np.errstate(over="ignore"):
        value = float(np.sum(diff**2) / (4.0 * d**2) * np.float64(scale) ** 4)
    if not np.isfinite(value):
        raise DataError(f"the CORAL distance of features of root mean square about {scale:g} overflows float64; rescale them")
    return value
