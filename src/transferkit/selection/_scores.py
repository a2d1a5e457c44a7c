"""Transferability scores on target features and labels: H-score, shrinkage H-score, linear probe."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.covariance import ledoit_wolf
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._blas import one_blas_thread
from ._checks import check_features_labels, check_positive_int, class_sums, power_of_two_scale

__all__ = ["h_score", "h_score_shrinkage", "linear_probe_score"]


def _between_class_covariance(f: NDArray[np.float64], codes: NDArray[np.intp], n_classes: int) -> NDArray[np.float64]:
    """``cov(E[f | y])`` with the 1/N normalisation: each sample replaced by its class mean."""
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    centred = class_sums(f, codes, n_classes) / counts[:, None] - f.mean(axis=0)
    weighted = centred * (counts / len(f))[:, None]
    return weighted.T @ centred


def h_score(features: ArrayLike, labels: ArrayLike) -> float:
    """H-score: ``tr(cov(f)^+ cov(E[f | y]))``, the share of feature variance explained by the classes.

    It is the sum of the squared canonical correlations between the features and the one-hot labels,
    so it lies in ``[0, min(D, K - 1)]`` and is invariant to any invertible linear map of the features.
    ``cov(f)`` is inverted with a pseudo-inverse; with few samples per dimension this inverse is noisy
    and the score unstable, which :func:`h_score_shrinkage` corrects. Higher is better.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Features of the target data from the frozen pre-trained model.
    labels : array-like of shape (n_samples,)
        Target class labels (any hashable values); at least two classes of two examples each.

    Returns
    -------
    float
        The H-score.

    Raises
    ------
    DataError
        If the features are not a finite 2-D array, their length differs from the labels', there are
        fewer than two classes, or a class has a single example.

    References
    ----------
    Y. Bao, Y. Li, S.-L. Huang, L. Zhang, L. Zheng, A. Zamir, L. Guibas. "An Information-Theoretic
    Approach to Transferability in Task Transfer Learning." ICIP 2019.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [3.0], [4.0]])
    >>> round(h_score(x, ["a", "a", "b", "b"]), 6)  # between / total variance = 2.25 / 2.5
    0.9
    """
    f, codes, classes = check_features_labels(features, labels)
    f = f / power_of_two_scale(f)  # invariant to scale; unit scale keeps the covariances in range
    centred = f - f.mean(axis=0)
    cov_f = centred.T @ centred / len(f)
    cov_g = _between_class_covariance(f, codes, len(classes))
    return float(np.trace(np.linalg.pinv(cov_f, hermitian=True) @ cov_g))


def h_score_shrinkage(features: ArrayLike, labels: ArrayLike) -> float:
    """Regularised H-score: the H-score with a Ledoit-Wolf shrinkage estimate of ``cov(f)``.

    ``H_a = tr(cov_a(f)^-1 (1 - a) cov(E[f | y]))`` where ``cov_a = (1 - a) S + a mu I`` is the
    Ledoit-Wolf estimate with its optimal shrinkage ``a`` (``mu = tr(S) / D``). Equivalently it is the
    H-score with the ridge-regularised inverse ``(S + a mu / (1 - a) I)^-1``, hence never above
    :func:`h_score`, and stable when there are fewer samples than dimensions. Higher is better.

    Both covariances use the maximum-likelihood 1/N normalisation, so the score equals the H-score
    when no shrinkage is applied; the authors' code uses 1/(N - 1) for ``cov(E[f | y])``, a factor
    ``N / (N - 1)`` apart.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Features of the target data from the frozen pre-trained model.
    labels : array-like of shape (n_samples,)
        Target class labels (any hashable values); at least two classes of two examples each.

    Returns
    -------
    float
        The shrinkage H-score.

    Raises
    ------
    DataError
        If the features are not a finite 2-D array, their length differs from the labels', there are
        fewer than two classes, or a class has a single example.

    References
    ----------
    S. Ibrahim, N. Ponomareva, R. Mazumder. "Newer is not always better: Rethinking transferability
    metrics, their peculiarities, stability and performance." ECML PKDD 2022 (arXiv:2110.06893).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(20, 50)), np.repeat([0, 1], 10)  # more dimensions than samples
    >>> h_score_shrinkage(x, y) < h_score(x, y)
    True
    """
    f, codes, classes = check_features_labels(features, labels)
    f = f / power_of_two_scale(f)  # invariant to scale; at 1e-100 the shrinkage underflowed to 0
    cov_shrunk, shrinkage = ledoit_wolf(f)
    cov_g = _between_class_covariance(f, codes, len(classes))
    return float((1.0 - shrinkage) * np.trace(np.linalg.pinv(cov_shrunk, hermitian=True) @ cov_g))


def linear_probe_score(features: ArrayLike, labels: ArrayLike, *, cv: int = 5, random_state: int = 0) -> float:
    """Cross-validated accuracy of a logistic regression on standardised features.

    The direct (and slowest) transferability estimate: what a linear probe on the frozen features
    reaches. Folds are stratified and shuffled with ``random_state``; their number is ``cv`` reduced to
    the size of the smallest class. Higher is better; chance is about ``1 / K`` for balanced classes.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Features of the target data from the frozen pre-trained model.
    labels : array-like of shape (n_samples,)
        Target class labels (any hashable values); at least two classes of two examples each.
    cv : int, default=5
        Number of folds (at least 2), lowered to the smallest class count.
    random_state : int, default=0
        Seed of the fold shuffling.

    Returns
    -------
    float
        Mean accuracy over the held-out folds, in ``[0, 1]``.

    Raises
    ------
    DataError
        On bad features or labels (as :func:`h_score`), or when ``cv`` is not an integer ``>= 2``.

    References
    ----------
    S. Kornblith, J. Shlens, Q. V. Le. "Do Better ImageNet Models Transfer Better?" CVPR 2019
    (linear evaluation of frozen features).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["a", "b"], 20)
    >>> x = rng.normal(size=(40, 3)) + 4 * (y == "b")[:, None]
    >>> linear_probe_score(x, y)
    1.0
    """
    n_folds = check_positive_int(cv, "cv", minimum=2)
    f, codes, classes = check_features_labels(features, labels)
    f = f / power_of_two_scale(f)  # standardised anyway; at 1e160 the scaler's variance overflowed
    n_folds = min(n_folds, int(np.bincount(codes).min()))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    with one_blas_thread():
        return float(np.mean(cross_val_score(model, f, codes, cv=folds, scoring="accuracy")))
