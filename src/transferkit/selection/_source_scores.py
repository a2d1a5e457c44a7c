"""Transferability scores from a source classifier's outputs on the target data: LEEP and NCE."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import check_label_codes, check_probabilities, class_sums

__all__ = ["leep", "nce"]


def _xlogy_sum(joint: NDArray[np.float64], conditional: NDArray[np.float64]) -> float:
    """``sum(joint * log(conditional))`` with ``0 log 0 = 0``."""
    mask = joint > 0
    return float(np.sum(joint[mask] * np.log(conditional[mask])))


def leep(source_probs: ArrayLike, labels: ArrayLike) -> float:
    """LEEP: log expected empirical prediction of a source classifier on target labels.

    With ``theta(x)`` the source model's class probabilities (``Z`` source classes), the empirical joint
    is ``P(y, z) = 1/N sum_{i: y_i = y} theta(x_i)_z`` and ``P(y | z) = P(y, z) / P(z)``; LEEP is
    ``1/N sum_i log sum_z P(y_i | z) theta(x_i)_z``, the mean log-likelihood of the "expected empirical
    predictor" that re-uses the source head through ``P(y | z)``. It is ``<= 0`` (0 when the source
    classes determine the target classes exactly), equals ``-H(Y)`` when ``theta`` carries no
    information about ``y``, and equals :func:`nce` when ``theta`` is one-hot. Higher is better.

    Parameters
    ----------
    source_probs : array-like of shape (n_samples, n_source_classes)
        Source-classifier probabilities (softmax outputs) on the target data: non-negative, each row
        summing to 1 within 1e-3.
    labels : array-like of shape (n_samples,)
        Target class labels (any hashable values); at least two classes of two examples each.

    Returns
    -------
    float
        The LEEP score.

    Raises
    ------
    DataError
        If ``source_probs`` is not a finite 2-D array of probabilities, its length differs from the
        labels', there are fewer than two classes, or a class has a single example.

    References
    ----------
    C. V. Nguyen, T. Hassner, M. Seeger, C. Archambeau. "LEEP: A New Measure to Evaluate
    Transferability of Learned Representations." ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> float(leep(probs, ["x", "x", "y", "y"]))  # source classes predict the target exactly
    0.0
    """
    theta = check_probabilities(source_probs)
    codes, classes = check_label_codes(labels, theta.shape[0])
    n = theta.shape[0]
    joint = class_sums(theta, codes, len(classes)) / n  # P(y, z)
    marginal_z = joint.sum(axis=0)
    # A source class never predicted has P(z) = 0 and theta_z = 0 on every sample: it contributes nothing.
    conditional = np.divide(joint, marginal_z, out=np.zeros_like(joint), where=marginal_z > 0)  # P(y | z)
    eep = np.einsum("iz,iz->i", theta, conditional[codes])  # expected empirical prediction of y_i
    return float(np.mean(np.log(eep)))


def nce(source_labels: ArrayLike, labels: ArrayLike) -> float:
    """NCE: negative conditional entropy ``-H(Y | Z)`` of target labels given hard source labels.

    ``Z`` are the source model's predicted (or dummy) labels on the target data; with the empirical
    joint ``P(y, z)``, ``NCE = sum_{y, z} P(y, z) log P(y | z)``. It is ``0`` when ``Y`` is a function
    of ``Z`` and ``-H(Y)`` when they are independent. Higher is better.

    Parameters
    ----------
    source_labels : array-like of shape (n_samples,)
        Hard source labels ``z`` of each target sample (any hashable values).
    labels : array-like of shape (n_samples,)
        Target class labels (any hashable values); at least two classes of two examples each.

    Returns
    -------
    float
        The NCE score, in ``[-H(Y), 0]`` (natural logarithm).

    Raises
    ------
    DataError
        If either label array is not one-dimensional, their lengths differ, there are fewer than two
        target classes, or a target class has a single example.

    References
    ----------
    A. T. Tran, C. V. Nguyen, T. Hassner. "Transferability and Hardness of Supervised Classification
    Tasks." ICCV 2019.

    Examples
    --------
    >>> round(nce(["p", "p", "q", "q"], ["a", "a", "b", "b"]), 6)  # Y is a function of Z
    0.0
    """
    target_codes, classes = check_label_codes(labels, None)
    source_codes, source_classes = check_label_codes(
        source_labels, len(target_codes), name="source_labels", min_classes=1, min_count=1
    )
    joint = np.zeros((len(classes), len(source_classes)))
    np.add.at(joint, (target_codes, source_codes), 1.0)
    joint /= len(target_codes)
    conditional = joint / joint.sum(axis=0)  # every source class occurs, so P(z) > 0
    return _xlogy_sum(joint, conditional)
