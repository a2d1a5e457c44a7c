"""Feature-based adaptation: CORAL, Subspace Alignment and Transfer Component Analysis.

Each method exists as a public function on ``(source, target)`` arrays that returns the mapped data,
built on a private ``_fit_*`` function that returns the learned mapping, so the scikit-learn adapters
in :mod:`._estimators` can apply the same mapping to new rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import eigh
from sklearn.utils.extmath import svd_flip

from transferkit.errors import DataError

from ._domain import check_source_target
from ._kernels import check_bandwidth, median_bandwidth, squared_distances

__all__ = ["MAX_AUTO_COMPONENTS", "coral", "resolve_n_components", "subspace_alignment", "tca"]

Kernel = Literal["linear", "rbf"]

#: ``n_components=None`` keeps at most this many components (a fixed small default suits only toy data; more
#: than a few dozen directions mostly add noise to the alignment).
MAX_AUTO_COMPONENTS = 32


def resolve_n_components(n_components: int | None, *, limit: int, bound: str, auto: int | None = None) -> int:
    """The number of components to keep, the one rule of Subspace Alignment and TCA (functions and adapters).

    ``n_components`` must be an integer (not a bool or a float) in ``[1, limit]``, where ``bound`` words
    ``limit`` for the error message; None takes ``min(MAX_AUTO_COMPONENTS, auto)`` (``auto`` defaults to
    ``limit``), as many as the data allows.
    """
    if n_components is None:
        return min(MAX_AUTO_COMPONENTS, limit if auto is None else auto)
    if (
        isinstance(n_components, bool | np.bool_)
        or not isinstance(n_components, int | np.integer)
        or not 1 <= n_components <= limit
    ):
        raise DataError(
            f"n_components={n_components!r} must be between 1 and {bound} = {limit}: an integer, or None for "
            f"as many as the data allows, up to {MAX_AUTO_COMPONENTS}."
        )
    return int(n_components)


# --- CORAL ----------------------------------------------------------------------------------------------


def _sym_power(C: NDArray[np.float64], power: float) -> NDArray[np.float64]:
    """``C ** power`` for a symmetric positive-definite matrix, through its eigendecomposition."""
    vals, vecs = np.linalg.eigh(C)
    return np.asarray((vecs * np.maximum(vals, np.finfo(float).tiny) ** power) @ vecs.T, dtype=np.float64)


def _fit_coral(Xs: NDArray[np.float64], Xt: NDArray[np.float64], eps: float) -> NDArray[np.float64]:
    """The CORAL matrix ``A = (C_s + eps I)^(-1/2) (C_t + eps I)^(1/2)``; source rows map to ``X @ A``."""
    if not np.isfinite(eps) or eps < 0:
        raise DataError(f"eps must be a non-negative number, got {eps!r}.")
    d = Xs.shape[1]
    # rowvar=False: features are columns; one sample gives a zero covariance rather than NaN.
    cs = np.cov(Xs, rowvar=False).reshape(d, d) if Xs.shape[0] > 1 else np.zeros((d, d))
    ct = np.cov(Xt, rowvar=False).reshape(d, d) if Xt.shape[0] > 1 else np.zeros((d, d))
    eye = np.eye(d)
    if eps == 0 and (np.linalg.matrix_rank(cs) < d):
        raise DataError("the source covariance is singular; use eps > 0 to regularise CORAL.")
    return _sym_power(cs + eps * eye, -0.5) @ _sym_power(ct + eps * eye, 0.5)


def coral(source: ArrayLike, target: ArrayLike, *, eps: float = 1.0) -> NDArray[np.float64]:
    """CORrelation ALignment: recolour the source features with the target covariance.

    Sun, Feng & Saenko, "Return of Frustratingly Easy Domain Adaptation", AAAI 2016 (Algorithm 1). The
    source is whitened with ``(C_s + eps I)^(-1/2)`` and recoloured with ``(C_t + eps I)^(1/2)``; the
    data are not centred (as in the paper), so the result satisfies exactly
    ``A' (C_s + eps I) A = C_t + eps I`` and, for ``eps`` small against the feature variances,
    ``cov(mapped source) ~= C_t``. A classifier trained on the mapped source is applied to target rows
    as they are.

    Parameters
    ----------
    source : array-like of shape (n_source, n_features)
    target : array-like of shape (n_target, n_features)
    eps : float, default=1.0
        Ridge added to both covariances (the paper's lambda = 1); 0 requires a full-rank source covariance.

    Returns
    -------
    ndarray of shape (n_source, n_features)
        The mapped source rows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> mapped = coral(rng.normal(0, 1, (500, 2)), rng.normal(0, 3, (500, 2)), eps=1e-6)
    >>> bool(np.allclose(mapped.std(axis=0), 3, rtol=0.15))
    True
    """
    Xs, Xt = check_source_target(source, target)
    return Xs @ _fit_coral(Xs, Xt, float(eps))


# --- Subspace Alignment ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubspaceAlignment:
    """A fitted subspace alignment: PCA means and bases of each domain and the alignment matrix ``M``."""

    mean_source: NDArray[np.float64]
    basis_source: NDArray[np.float64]  # (n_features, n_components), orthonormal columns
    mean_target: NDArray[np.float64]
    basis_target: NDArray[np.float64]
    alignment: NDArray[np.float64]  # M = P_s' P_t, (n_components, n_components)

    def map_source(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray((X - self.mean_source) @ self.basis_source @ self.alignment, dtype=np.float64)

    def map_target(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray((X - self.mean_target) @ self.basis_target, dtype=np.float64)


def _pca_basis(X: NDArray[np.float64], n_components: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and top principal directions (columns) of ``X``, with deterministic signs."""
    mean = X.mean(axis=0)
    u, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    _, vt = svd_flip(u, vt)
    return mean, vt[:n_components].T


def _fit_subspace_alignment(
    Xs: NDArray[np.float64], Xt: NDArray[np.float64], n_components: int | None
) -> SubspaceAlignment:
    k = resolve_n_components(
        n_components, limit=min(Xs.shape[1], Xs.shape[0], Xt.shape[0]), bound="min(n_features, n_source, n_target)"
    )
    mean_s, ps = _pca_basis(Xs, k)
    mean_t, pt = _pca_basis(Xt, k)
    return SubspaceAlignment(mean_s, ps, mean_t, pt, ps.T @ pt)


def subspace_alignment(
    source: ArrayLike, target: ArrayLike, *, n_components: int | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Subspace Alignment: rotate the source PCA subspace onto the target's.

    Fernando, Habrard, Sebban & Tuytelaars, "Unsupervised Visual Domain Adaptation Using Subspace
    Alignment", ICCV 2013. With ``P_s``, ``P_t`` the top ``n_components`` PCA directions of each domain
    and ``M = P_s' P_t`` (the closed-form minimiser of ``||P_s M - P_t||_F``), source rows map to
    ``X_s P_s M`` and target rows to ``X_t P_t``. Each domain is centred on its own mean first, as PCA
    projection does.

    Parameters
    ----------
    source : array-like of shape (n_source, n_features)
    target : array-like of shape (n_target, n_features)
    n_components : int or None
        PCA directions per domain, an integer in ``[1, min(n_features, n_source, n_target)]``; None takes
        as many as that allows, up to :data:`MAX_AUTO_COMPONENTS` (as :class:`SubspaceAlignmentAdapter`).

    Returns
    -------
    Xs_aligned : ndarray of shape (n_source, n_components)
    Xt_projected : ndarray of shape (n_target, n_components)

    Raises
    ------
    DataError
        When ``n_components`` is not None or an integer in that range (a bool or a float included).
    """
    Xs, Xt = check_source_target(source, target)
    fitted = _fit_subspace_alignment(Xs, Xt, n_components)
    return fitted.map_source(Xs), fitted.map_target(Xt)


# --- Transfer Component Analysis -------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferComponents:
    """A fitted TCA: the training rows, the kernel and the projection ``W`` of the kernel columns."""

    X_fit: NDArray[np.float64]  # source rows then target rows
    kernel: Kernel
    gamma: float
    projection: NDArray[np.float64]  # (n_fit, n_components)

    def kernel_to_fit(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        """Kernel between ``X`` and the fitted rows (the empirical kernel map)."""
        if self.kernel == "linear":
            return np.asarray(X @ self.X_fit.T, dtype=np.float64)
        return np.exp(-self.gamma * squared_distances(X, self.X_fit))

    def transform(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(self.kernel_to_fit(X) @ self.projection, dtype=np.float64)


def _fit_tca(
    Xs: NDArray[np.float64],
    Xt: NDArray[np.float64],
    n_components: int | None,
    mu: float,
    kernel: str,
    gamma: float | None,
) -> TransferComponents:
    n_s, n_t = Xs.shape[0], Xt.shape[0]
    n = n_s + n_t
    # None: no wider than the input features; an explicit width may go up to n, the kernel matrix's size
    k = resolve_n_components(n_components, limit=n, bound="n_source + n_target", auto=min(Xs.shape[1], n))
    if not np.isfinite(mu) or mu <= 0:
        raise DataError(f"mu must be a positive number, got {mu!r}.")
    if kernel not in ("linear", "rbf"):
        raise DataError(f"kernel must be 'linear' or 'rbf', got {kernel!r}.")
    X = np.vstack([Xs, Xt])
    if kernel == "rbf":
        gamma_ = 1.0 / (2.0 * median_bandwidth(X) ** 2) if gamma is None else check_bandwidth(gamma, "gamma")
    else:
        gamma_ = 0.0
    fitted = TransferComponents(X, "rbf" if kernel == "rbf" else "linear", gamma_, np.empty((n, 0)))
    K = fitted.kernel_to_fit(X)
    e = np.r_[np.full(n_s, 1.0 / n_s), np.full(n_t, -1.0 / n_t)]
    Ke = K @ e
    KLK = np.outer(Ke, Ke)  # K L K with L = e e': the squared distance between the domain means
    KH = K - K.mean(axis=1, keepdims=True)  # K H with H = I - 11'/n
    KHK = KH @ K
    KHK = (KHK + KHK.T) / 2.0
    # (K L K + mu I)^-1 K H K w = lambda w  <=>  K H K w = lambda (K L K + mu I) w, a symmetric-definite
    # generalised eigenproblem; the leading eigenvectors keep variance and shrink the mean discrepancy.
    B = KLK + mu * np.eye(n)
    # B is positive definite in exact arithmetic; a relative jitter keeps its Cholesky factor computable when
    # K L K is large against mu (wide, unscaled features).
    B += 1e-9 * float(np.trace(B)) / n * np.eye(n)
    _, vecs = eigh(KHK, B, subset_by_index=[n - k, n - 1])
    return TransferComponents(
        fitted.X_fit, fitted.kernel, gamma_, np.asarray(vecs[:, ::-1], dtype=np.float64)
    )


def tca(
    source: ArrayLike,
    target: ArrayLike,
    *,
    n_components: int | None,
    mu: float = 1.0,
    kernel: Kernel = "linear",
    gamma: float | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Transfer Component Analysis: a shared embedding where the domain means (in kernel space) agree.

    Pan, Tsang, Kwok & Yang, "Domain Adaptation via Transfer Component Analysis", IEEE Transactions on
    Neural Networks 22(2), 2011. With ``K`` the kernel on the pooled rows, ``L = e e'`` (``e_i = 1/n_s``
    on source, ``-1/n_t`` on target) and the centring matrix ``H``, the projection ``W`` holds the
    leading eigenvectors of ``(K L K + mu I)^-1 K H K`` and the embedding is ``K W``: it trades the
    empirical MMD ``tr(W' K L K W)`` against preserved variance ``tr(W' K H K W)``.

    Cost: ``O((n_s + n_t)^3)`` time and ``O((n_s + n_t)^2)`` memory; keep ``n_s + n_t`` to a few
    thousand (subsample larger sets).

    Parameters
    ----------
    source : array-like of shape (n_source, n_features)
    target : array-like of shape (n_target, n_features)
    n_components : int or None
        Embedding size, an integer in ``[1, n_source + n_target]``; None takes ``min(n_features, n_source +
        n_target)`` up to :data:`MAX_AUTO_COMPONENTS` (as :class:`TCAAdapter`).
    mu : float, default=1.0
        Regulariser on ``W``; smaller values weigh the mean discrepancy more.
    kernel : {"linear", "rbf"}, default="linear"
    gamma : float, default=None
        RBF ``exp(-gamma ||x - z||^2)``; None uses ``1 / (2 sigma^2)`` with the median heuristic ``sigma``.

    Returns
    -------
    Zs : ndarray of shape (n_source, n_components)
    Zt : ndarray of shape (n_target, n_components)

    Raises
    ------
    DataError
        When ``n_components`` is not None or an integer in that range (a bool or a float included), or on a
        bad ``mu``, ``kernel`` or ``gamma``.
    """
    Xs, Xt = check_source_target(source, target)
    fitted = _fit_tca(Xs, Xt, n_components, float(mu), kernel, gamma)
    Z = fitted.transform(fitted.X_fit)
    return Z[: Xs.shape[0]], Z[Xs.shape[0] :]
