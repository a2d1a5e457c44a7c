"""Importance weights for source samples: KMM, KLIEP and a domain-classifier density ratio.

Each function takes a ``source`` and a ``target`` feature array and returns one non-negative weight
per source row, approximating ``p_target(x) / p_source(x)``. Training a model on the source with these
as ``sample_weight`` corrects covariate shift (the input distribution moves, ``p(y | x)`` does not).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.linalg import eigsh
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit.data._validation import check_folds
from transferkit.errors import DataError

from ._domain import check_source_target
from ._kernels import check_bandwidth, gaussian_kernel, median_bandwidth

__all__ = ["discriminator_weights", "kliep_weights", "kmm_weights"]


# --- Kernel Mean Matching ---------------------------------------------------------------------------


def _box_sum_at(v: NDArray[np.float64], upper: float, taus: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sum_i clip(v_i - tau, 0, upper)`` for every ``tau``, in O((n + m) log n).

    ``clip(v - tau, 0, B) = max(v - tau, 0) - max(v - B - tau, 0)``, and each sum of hinges is a suffix
    sum over the sorted values.
    """

    def hinge_sum(a_sorted: NDArray[np.float64], csum: NDArray[np.float64]) -> NDArray[np.float64]:
        idx = np.searchsorted(a_sorted, taus, side="right")
        count = a_sorted.shape[0] - idx
        return (csum[-1] - csum[idx]) - taus * count

    vs = np.sort(v)
    csum = np.concatenate([[0.0], np.cumsum(vs)])
    us = vs - upper
    csum_u = np.concatenate([[0.0], np.cumsum(us)])
    return hinge_sum(vs, csum) - hinge_sum(us, csum_u)


def _project_box_slab(v: NDArray[np.float64], upper: float, lo: float, hi: float) -> NDArray[np.float64]:
    """Euclidean projection of ``v`` onto ``{b : 0 <= b <= upper, lo <= sum(b) <= hi}``.

    By the KKT conditions the projection is ``clip(v - tau, 0, upper)`` with ``tau = 0`` if that sum is
    already inside the slab, otherwise the ``tau`` whose sum hits the violated bound; the sum is
    piecewise linear in ``tau`` with breakpoints ``v_i`` and ``v_i - upper``, so ``tau`` is found exactly.
    """
    b = np.clip(v, 0.0, upper)
    total = float(b.sum())
    if lo <= total <= hi:
        return b
    goal = hi if total > hi else lo
    breaks = np.sort(np.concatenate([v, v - upper]))
    sums = _box_sum_at(v, upper, breaks)  # non-increasing, from n*upper down to 0
    j = int(np.searchsorted(-sums, -goal, side="right")) - 1
    j = min(max(j, 0), breaks.shape[0] - 2)
    s0, s1 = sums[j], sums[j + 1]
    tau = breaks[j] if s0 == s1 else breaks[j] + (s0 - goal) * (breaks[j + 1] - breaks[j]) / (s0 - s1)
    return np.clip(v - tau, 0.0, upper)


def _largest_eigenvalue(K: NDArray[np.float64]) -> float:
    """Largest eigenvalue of a symmetric PSD matrix (Lanczos beyond tiny sizes), padded slightly upward."""
    if K.shape[0] <= 32:
        top = float(np.linalg.eigvalsh(K)[-1])
    else:
        top = float(eigsh(K, k=1, which="LA", return_eigenvectors=False, tol=1e-6)[0])
    return top * (1.0 + 1e-6)


def _solve_kmm_qp(
    K: NDArray[np.float64],
    kappa: NDArray[np.float64],
    *,
    B: float,
    lo: float,
    hi: float,
    max_iter: int,
    tol: float,
) -> NDArray[np.float64]:
    """min 1/2 b'Kb - kappa'b over the box-and-slab set, by FISTA with adaptive restart.

    Accelerated projected gradient (Beck & Teboulle 2009) with step ``1/L``, ``L`` the largest eigenvalue
    of ``K``, and O'Donoghue & Candes' (2015) gradient restart; each step costs one ``K @ b`` plus an
    O(n log n) projection, so a few hundred source points take milliseconds.
    """
    n = K.shape[0]
    step = 1.0 / max(_largest_eigenvalue(K), 1e-12)
    b = _project_box_slab(np.ones(n), B, lo, hi)
    yk, t = b.copy(), 1.0
    for _ in range(max_iter):
        b_new = _project_box_slab(yk - step * (K @ yk - kappa), B, lo, hi)
        delta = b_new - b
        if float(np.max(np.abs(delta))) <= tol * max(1.0, float(np.max(np.abs(b_new)))):
            b = b_new
            break
        if float(np.dot(yk - b_new, delta)) > 0:  # momentum points uphill: restart
            t = 1.0
            yk = b_new
        else:
            t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
            yk = b_new + ((t - 1.0) / t_new) * delta
            t = t_new
        b = b_new
    return b


def kmm_weights(
    source: ArrayLike,
    target: ArrayLike,
    *,
    kernel_bandwidth: float | None = None,
    B: float = 1000.0,
    eps: float | None = None,
    max_iter: int = 2000,
    tol: float = 1e-7,
) -> NDArray[np.float64]:
    """Kernel Mean Matching importance weights for the source rows.

    Huang, Smola, Gretton, Borgwardt & Schoelkopf, "Correcting Sample Selection Bias by Unlabeled
    Data", NIPS 2006. The weights ``b`` make the weighted source mean embedding in an RBF feature space
    match the target's, by solving the quadratic programme::

        min_b  1/2 b' K b - kappa' b   s.t.  0 <= b_i <= B,  |sum_i b_i - n_s| <= n_s * eps

    with ``K_ij = k(xs_i, xs_j)`` and ``kappa_i = n_s / n_t * sum_j k(xs_i, xt_j)``. The QP is solved
    by accelerated projected gradient (exact projection onto the box-and-slab constraint set).

    Parameters
    ----------
    source : array-like of shape (n_source, n_features)
    target : array-like of shape (n_target, n_features)
    kernel_bandwidth : float, default=None
        ``sigma`` of ``k(x, z) = exp(-||x - z||^2 / (2 sigma^2))``; None takes the median pairwise
        distance of the pooled rows (median heuristic).
    B : float, default=1000.0
        Upper bound on each weight.
    eps : float, default=None
        Slack on the mean weight; None uses ``(sqrt(n_s) - 1) / sqrt(n_s)``.
    max_iter : int, default=2000
        Maximum solver iterations. The QP is often flat in some directions (``K`` is nearly singular),
        and the default then stops here before ``tol`` is reached: on 500 source and 300 target rows the
        objective was within 7e-6 (relative) of its minimum while single weights still differed from a
        50,000-iteration solution by up to 18. Weights with the same
        objective are equally good KMM solutions; raise ``max_iter`` (tens of thousands) only to
        reproduce another solver's weights closely.
    tol : float, default=1e-7
        Stop when no weight moves by more than ``tol`` (relative to the largest weight) in one step.

    Returns
    -------
    ndarray of shape (n_source,)
        Weights in ``[0, B]`` whose mean lies within ``eps`` of 1 (no further normalisation).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> w = kmm_weights(rng.normal(0, 1, (50, 2)), rng.normal(1, 1, (40, 2)))
    >>> bool(w.min() >= 0 and abs(w.mean() - 1) <= 1)
    True
    """
    Xs, Xt = check_source_target(source, target)
    n_s, n_t = Xs.shape[0], Xt.shape[0]
    if not np.isfinite(B) or B <= 0:
        raise DataError(f"B must be a positive number, got {B!r}.")
    eps_ = (np.sqrt(n_s) - 1.0) / np.sqrt(n_s) if eps is None else float(eps)
    if not np.isfinite(eps_) or eps_ < 0:
        raise DataError(f"eps must be a non-negative number, got {eps!r}.")
    lo, hi = max(n_s * (1.0 - eps_), 0.0), n_s * (1.0 + eps_)
    if B * n_s < lo:
        raise DataError(f"B={B!r} is too small for the constraint mean(weights) >= 1 - eps; raise B or eps.")
    if max_iter < 1 or tol <= 0:
        raise DataError("max_iter must be at least 1 and tol positive.")
    sigma = (
        median_bandwidth(np.vstack([Xs, Xt]))
        if kernel_bandwidth is None
        else check_bandwidth(kernel_bandwidth)
    )
    K = gaussian_kernel(Xs, Xs, sigma)
    kappa = (n_s / n_t) * gaussian_kernel(Xs, Xt, sigma).sum(axis=1)
    return _solve_kmm_qp(K, kappa, B=B, lo=lo, hi=hi, max_iter=max_iter, tol=tol)


# --- KLIEP --------------------------------------------------------------------------------------------

#: Step sizes tried from large to small, as in Sugiyama et al.'s reference implementation.
_KLIEP_STEPS = tuple(10.0**k for k in range(3, -4, -1))
#: Default kernel widths, as multiples of the median pairwise distance.
_KLIEP_SIGMA_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)


def _kliep_project(alpha: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Enforce ``b'alpha = 1`` (mean source weight 1) and ``alpha >= 0``; None if alpha collapses to 0."""
    alpha = alpha + b * (1.0 - float(b @ alpha)) / float(b @ b)
    alpha = np.maximum(alpha, 0.0)
    norm = float(b @ alpha)
    return alpha / norm if norm > 0 else None


def _kliep_score(A: NDArray[np.float64], alpha: NDArray[np.float64]) -> float:
    """Mean log-ratio on target rows: the KLIEP objective (log-likelihood of the target under w * p_s)."""
    return float(np.mean(np.log(np.maximum(A @ alpha, np.finfo(float).tiny))))


def _kliep_fit(A: NDArray[np.float64], b: NDArray[np.float64], max_iter: int = 100) -> NDArray[np.float64]:
    """Projected gradient ascent on ``sum_j log(A alpha)_j`` under ``b'alpha = 1, alpha >= 0``."""
    alpha = _kliep_project(np.ones(A.shape[1]), b)
    assert alpha is not None  # b > 0 elementwise (Gaussian kernel), so ones cannot collapse
    score = _kliep_score(A, alpha)
    for step in _KLIEP_STEPS:
        for _ in range(max_iter):
            grad = A.T @ (1.0 / np.maximum(A @ alpha, np.finfo(float).tiny))
            candidate = _kliep_project(alpha + step * grad, b)
            if candidate is None:
                break
            new_score = _kliep_score(A, candidate)
            if new_score <= score:
                break
            alpha, score = candidate, new_score
    return alpha


def kliep_weights(
    source: ArrayLike,
    target: ArrayLike,
    *,
    n_centers: int = 100,
    sigmas: ArrayLike | None = None,
    cv: int = 5,
    random_state: int = 0,
) -> NDArray[np.float64]:
    """Kullback-Leibler Importance Estimation Procedure weights for the source rows.

    Sugiyama, Nakajima, Kashima, von Buenau & Kawanabe, "Direct Importance Estimation with Model
    Selection and Its Application to Covariate Shift Adaptation", NIPS 2007 (and Annals of the Institute
    of Statistical Mathematics 60, 2008). The ratio is modelled as ``w(x) = sum_l alpha_l k_sigma(x, c_l)``
    with Gaussian kernels at ``n_centers`` target points; ``alpha`` maximises the target log-likelihood
    ``mean_j log w(xt_j)`` subject to ``mean_i w(xs_i) = 1`` and ``alpha >= 0`` (projected gradient
    ascent). ``sigma`` is chosen by likelihood cross-validation over ``cv`` folds of the target rows.

    Parameters
    ----------
    source : array-like of shape (n_source, n_features)
    target : array-like of shape (n_target, n_features)
    n_centers : int, default=100
        Number of kernel centres drawn from the target rows (all of them if there are fewer).
    sigmas : array-like of float, default=None
        Candidate kernel widths; None uses 0.25, 0.5, 1, 2 and 4 times the median pairwise distance.
        With a single candidate no cross-validation is run.
    cv : int, default=5
        Folds of the target rows for choosing ``sigma`` (at most one fold per target row).
    random_state : int, default=0
        Seed for the choice of centres and folds.

    Returns
    -------
    ndarray of shape (n_source,)
        Non-negative weights with mean exactly 1 over the source rows.
    """
    check_folds(cv)
    Xs, Xt = check_source_target(source, target)
    n_t = Xt.shape[0]
    if n_centers < 1:
        raise DataError(f"n_centers must be at least 1, got {n_centers!r}.")
    if sigmas is None:
        base = median_bandwidth(np.vstack([Xs, Xt]), random_state=random_state)
        candidates = [base * f for f in _KLIEP_SIGMA_FACTORS]
    else:
        candidates = [check_bandwidth(s, "sigmas") for s in np.atleast_1d(np.asarray(sigmas, dtype=float))]
        if not candidates:
            raise DataError("sigmas is empty; give at least one kernel width or None.")
    rng = np.random.default_rng(random_state)
    centers = Xt[rng.choice(n_t, size=min(n_centers, n_t), replace=False)]

    best_sigma = candidates[0]
    if len(candidates) > 1:
        if n_t < 2:
            raise DataError("choosing sigma by cross-validation needs at least 2 target samples.")
        folds = list(KFold(n_splits=min(cv, n_t), shuffle=True, random_state=random_state).split(Xt))
        best_score = -np.inf
        for sigma in candidates:
            A = gaussian_kernel(Xt, centers, sigma)
            b = gaussian_kernel(Xs, centers, sigma).mean(axis=0)
            score = float(np.mean([_kliep_score(A[test], _kliep_fit(A[train], b)) for train, test in folds]))
            if score > best_score:
                best_sigma, best_score = sigma, score
    A = gaussian_kernel(Xt, centers, best_sigma)
    Ks = gaussian_kernel(Xs, centers, best_sigma)
    alpha = _kliep_fit(A, Ks.mean(axis=0))
    return np.asarray(Ks @ alpha, dtype=np.float64)


# --- Domain classifier --------------------------------------------------------------------------------


def discriminator_weights(
    source: ArrayLike,
    target: ArrayLike,
    *,
    clip: tuple[float, float] = (0.01, 100.0),
    cv: int = 5,
    C: float = 1.0,
    random_state: int = 0,
    normalize: bool = True,
) -> NDArray[np.float64]:
    """Density-ratio weights from a probabilistic classifier that tells target rows from source rows.

    Bickel, Brueckner & Scheffer, "Discriminative Learning for Differing Training and Test
    Distributions", ICML 2007. By Bayes' rule ``p_t(x) / p_s(x) = p(t | x) / p(s | x) * n_s / n_t``; the
    domain probabilities come from a logistic regression on standardised features, predicted out of
    fold (``cross_val_predict``) so that no row is scored by a model that saw it. Ratios are clipped to
    ``clip`` and then (with ``normalize``) divided by their mean.

    Parameters
    ----------
    source : array-like of shape (n_source, n_features)
    target : array-like of shape (n_target, n_features)
    clip : (float, float), default=(0.01, 100.0)
        Bounds on the raw ratio before normalisation (tames near-certain predictions).
    cv : int, default=5
        Stratified folds for the out-of-fold probabilities (reduced to the smaller domain's size).
    C : float, default=1.0
        Inverse L2 regularisation strength of the logistic regression.
    random_state : int, default=0
        Seed for the folds.
    normalize : bool, default=True
        Divide by the mean, so the weights average exactly 1 over the source rows (what a weighted fit
        wants). False keeps the clipped ratios themselves, whose mean is 1 only in expectation: the
        control variate of :func:`~transferkit.adaptation.dev_risk` needs them so.

    Returns
    -------
    ndarray of shape (n_source,)
        Positive weights (with ``normalize``, of mean exactly 1 over the source rows).
    """
    check_folds(cv)
    Xs, Xt = check_source_target(source, target)
    n_s, n_t = Xs.shape[0], Xt.shape[0]
    low, high = (float(c) for c in clip)
    if not (0 < low < high and np.isfinite(high)):
        raise DataError(f"clip must be two increasing positive numbers, got {clip!r}.")
    folds = min(cv, n_s, n_t)
    if folds < 2:
        raise DataError("the domain classifier needs at least 2 source and 2 target samples.")
    X = np.vstack([Xs, Xt])
    is_target = np.r_[np.zeros(n_s, dtype=int), np.ones(n_t, dtype=int)]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C)).set_output(transform="default")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    proba = cross_val_predict(model, X, is_target, cv=splitter, method="predict_proba")[:n_s, 1]
    proba = np.clip(proba, 1e-12, 1.0 - 1e-12)
    ratio = np.clip(proba / (1.0 - proba) * (n_s / n_t), low, high)
    return np.asarray(ratio / ratio.mean() if normalize else ratio, dtype=np.float64)
