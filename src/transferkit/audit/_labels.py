"""Likely label errors by confident learning on out-of-fold probabilities.

Northcutt, Jiang and Chuang, "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 70
(2021). A class's threshold is the mean probability the model gives that class on the items labelled
with it (its average self-confidence). An item counts under the most probable class among those that
reach their own thresholds (its column of the confident joint, eq. 1); it is a likely label error when
that class is not its given label and the model's top class is not its given label either (cleanlab's
``find_label_issues(filter_by="confident_learning")``, whose last step drops items the model predicts as
labelled). The probabilities must be out-of-fold, or the model would have memorised the very labels it
is asked to judge.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._blas import one_blas_thread

__all__ = ["confident_label_issues", "out_of_fold_probabilities", "per_class_thresholds"]

#: A probability equal to a threshold up to round-off reaches it (cleanlab's ``thresholds - 1e-6``).
_ROUND_OFF = 1e-6


def per_class_thresholds(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean self-confidence per class: ``t_j = mean(probs[labels == j, j])`` (Northcutt et al. 2021, eq. 2).

    Parameters
    ----------
    probs : numpy.ndarray of shape (n, k)
        Out-of-fold predicted probabilities.
    labels : numpy.ndarray of shape (n,)
        Given labels as integers ``0..k-1``.

    Returns
    -------
    numpy.ndarray of shape (k,)
        A class with no items gets threshold 1.0 (it can never be suggested).

    Examples
    --------
    >>> import numpy as np
    >>> per_class_thresholds(np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]]), np.array([0, 0, 1])).round(2).tolist()
    [0.8, 0.8]
    """
    k = probs.shape[1]
    out = np.ones(k)
    for j in range(k):
        mine = labels == j
        if mine.any():
            out[j] = float(probs[mine, j].mean())
    return out


def confident_label_issues(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items whose given label looks wrong, by the confident-learning rule.

    Parameters
    ----------
    probs : numpy.ndarray of shape (n, k)
        Out-of-fold predicted probabilities; column ``j`` is class ``j``.
    labels : numpy.ndarray of shape (n,)
        Given labels as integers ``0..k-1``.

    Returns
    -------
    issues : numpy.ndarray of bool, shape (n,)
        ``j* != labels[i]`` and ``argmax(probs[i]) != labels[i]``, where ``j*`` is the class with the
        highest probability among those with ``probs[i, j] >= t[j]`` (items where no class reaches its
        threshold are never flagged).
    suggested : numpy.ndarray of int, shape (n,)
        For flagged items, ``j*`` (the column of the confident joint the item falls in); ``-1`` elsewhere.
    thresholds : numpy.ndarray of shape (k,)
        The per-class thresholds ``t``.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.2, 0.8], [0.95, 0.05]])
    >>> issues, suggested, _ = confident_label_issues(probs, np.array([0, 0, 1, 1, 1]))
    >>> np.flatnonzero(issues).tolist(), suggested[4].item()
    ([4], 0)
    """
    labels = np.asarray(labels, dtype=np.intp)
    thresholds = per_class_thresholds(probs, labels)
    above = probs >= thresholds[None, :] - _ROUND_OFF  # the given label's own class included
    column = np.argmax(np.where(above, probs, -np.inf), axis=1)  # j*: the confident joint's column
    issues = above.any(axis=1) & (column != labels) & (np.argmax(probs, axis=1) != labels)
    suggested = np.where(issues, column, -1)
    return issues, suggested, thresholds


def out_of_fold_probabilities(
    features: np.ndarray, labels: np.ndarray, groups: np.ndarray, *, cv: int = 5, random_state: int = 0
) -> tuple[np.ndarray, int]:
    """Out-of-fold class probabilities of a logistic-regression probe on ``features``.

    Items that share a group (copies and near-duplicates of each other) stay in one fold, so no item is
    scored by a model that saw its twin. Folds are stratified by label.

    Parameters
    ----------
    features : numpy.ndarray of shape (n, d)
    labels : numpy.ndarray of shape (n,)
        Integers ``0..k-1``.
    groups : numpy.ndarray of shape (n,)
        Group id per item.
    cv : int, default=5
        Folds; lowered to the number of groups of the smallest class when that is smaller.
    random_state : int, default=0

    Returns
    -------
    probs : numpy.ndarray of shape (n, k)
    n_splits : int
        The folds actually used.
    """
    smallest = min(len(np.unique(groups[labels == c])) for c in np.unique(labels))
    n_splits = max(2, min(cv, smallest))
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=random_state))
    splitter: Any = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    with one_blas_thread():
        probs = cross_val_predict(probe, features, labels, groups=groups, cv=splitter, method="predict_proba")
    return np.asarray(probs), n_splits
