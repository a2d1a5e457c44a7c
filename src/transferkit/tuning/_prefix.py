"""Fit the steps a search does not touch once per fold, not once per trial.

A head such as ``StandardScaler -> LogisticRegression`` searched over the regression's ``C`` refits the
same scaler on the same fold in every trial. :class:`FoldPrefix` splits the head's pipeline at its first
searched step: the steps before it are fitted once per fold (lazily) and their output kept, and each
trial fits only the rest. scikit-learn's ``Pipeline(memory=...)`` does the same through a disk cache
keyed by hashing the data on every call; here the folds are fixed for the whole search, so the
transformed folds are simply kept in memory. When what is left is an L2-penalised logistic regression
and a fold has at most half as many rows as features, the fold is also kept in the span of its
training rows (:mod:`~transferkit.tuning._rowspace`): the same fit on fewer columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline

from ._rowspace import l2_logistic, row_span_coordinates


def searched_from(head: BaseEstimator, keys: Any) -> int:
    """Index of the first pipeline step of ``head`` that a key of ``keys`` sets (0 when ``head`` is not a
    pipeline, or a key sets a parameter of the pipeline itself)."""
    if not isinstance(head, Pipeline):
        return 0
    names = [name for name, _ in head.steps]
    first = len(names)
    for key in keys:
        step = key.split("__", 1)[0]
        if step not in names:  # a parameter of the pipeline object (memory, verbose...)
            return 0
        first = min(first, names.index(step))
    return min(first, len(names) - 1)  # the final estimator is always fitted per trial


class FoldPrefix:
    """The fixed leading steps of ``head``, fitted once per cross-validation fold.

    Parameters
    ----------
    head : estimator
        The unfitted head template of the search.
    keys : iterable of str
        The searched parameter paths.
    """

    def __init__(self, head: BaseEstimator, keys: Any) -> None:
        self.cut = searched_from(head, keys)
        self._prefix = head[: self.cut] if self.cut else None
        self._folds: dict[tuple[int, bool], tuple[np.ndarray, np.ndarray]] = {}

    def split(self, model: BaseEstimator) -> BaseEstimator:
        """The part of a trial's (configured, unfitted) ``model`` that the trial must fit."""
        return model[self.cut:] if self.cut else model

    def transform(self, fold: int, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
                  model: BaseEstimator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The fold's train and test data after the fixed steps (fitted on the train part, once), in the
        span of the training rows when ``model`` (the part :meth:`split` left) is an L2 logistic regression."""
        key = (fold, model is not None and l2_logistic(model))
        if key not in self._folds:
            if key[1]:
                X_train, X_test = self.transform(fold, X_train, y_train, X_test)
                self._folds[key] = row_span_coordinates(X_train, X_test) or (X_train, X_test)
            elif self._prefix is None:
                return X_train, X_test
            else:
                prefix = clone(self._prefix)
                self._folds[key] = (prefix.fit_transform(X_train, y_train), prefix.transform(X_test))
        return self._folds[key]
