"""TrAdaBoost: boosting that trusts the few labelled target rows and down-weights misleading source rows."""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from transferkit.errors import DataError

from ._domain import check_transform_input, split_domains
from ._pipeline import fit_name, fit_weighted, takes_sample_weight

__all__ = ["TrAdaBoostClassifier"]


class TrAdaBoostClassifier(ClassifierMixin, BaseEstimator):
    """TrAdaBoost (Dai, Yang, Xue & Yu, "Boosting for Transfer Learning", ICML 2007) on feature rows.

    Needs a few *labelled* target rows besides the labelled source rows. Each round fits ``estimator``
    on all labelled rows with the current weights, measures the weighted error ``eps_t`` on the
    labelled target rows only, and then multiplies the weight of every misclassified source row by
    ``beta = 1 / (1 + sqrt(2 ln n_s / N))`` (source rows that disagree with the target fade out) and of
    every misclassified target row by ``beta_t^-1`` with ``beta_t = eps_t / (1 - eps_t)`` (as in AdaBoost).
    The prediction is a vote of the rounds ``ceil(N / 2)..N`` weighted by ``log(1 / beta_t)``, the
    paper's rule written for any number of classes.

    Parameters
    ----------
    estimator : classifier accepting ``sample_weight``, default=None
        The weak learner; None uses ``LogisticRegression(max_iter=1000)``. A
        :class:`~sklearn.pipeline.Pipeline` whose final step accepts it will do (every step that takes
        weights gets them).
    n_estimators : int, default=10
        Boosting rounds ``N``.

    Attributes
    ----------
    estimators_ : list of fitted classifiers (the voting rounds)
    estimator_weights_ : ndarray, the vote of each kept round
    target_errors_ : ndarray, ``eps_t`` of every round
    classes_ : ndarray

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Xs, Xt = rng.normal(0, 1, (60, 2)), rng.normal(0, 1, (20, 2)) + [0, 2]
    >>> X = np.vstack([Xs, Xt])
    >>> y = np.r_[(Xs[:, 0] > 0).astype(int), np.where(np.arange(20) < 8, (Xt[:, 0] > 0).astype(int), -1)]
    >>> sd = np.r_[np.ones(60), -np.ones(20)]
    >>> TrAdaBoostClassifier(n_estimators=5).fit(X, y, sample_domain=sd).predict(Xt).shape
    (20,)
    """

    def __init__(self, estimator: Any = None, *, n_estimators: int = 10) -> None:
        self.estimator = estimator
        self.n_estimators = n_estimators

    def fit(self, X: ArrayLike, y: ArrayLike | None = None, *, sample_domain: ArrayLike | None = None) -> Self:
        """Boost on the labelled source rows and the labelled (unmasked) target rows. Returns self."""
        if isinstance(self.n_estimators, bool) or not isinstance(self.n_estimators, int | np.integer) \
                or self.n_estimators < 1:
            raise DataError(f"n_estimators must be a positive integer, got {self.n_estimators!r}.")
        split = split_domains(X, y, sample_domain)
        if not split.target_labelled.any():
            raise DataError("TrAdaBoost needs a few labelled target rows; every target label is masked "
                            "(use an unsupervised method, or give some target labels).")
        base = LogisticRegression(max_iter=1000) if self.estimator is None else self.estimator
        if not takes_sample_weight(base):
            raise DataError(f"{fit_name(base)} does not accept sample_weight, which boosting needs; use an "
                            "estimator that does (e.g. LogisticRegression, or a Pipeline ending in one).")
        Xt = split.X_target[split.target_labelled]
        Xall = np.vstack([split.X_source, Xt])
        yall = np.concatenate([split.y_source, split.y_target])
        self.classes_ = np.unique(split.y_source)
        n_s, n_t = len(split.X_source), len(Xt)
        n_rounds = int(self.n_estimators)
        beta = 1.0 / (1.0 + np.sqrt(2.0 * np.log(max(n_s, 2)) / n_rounds))
        w = np.ones(n_s + n_t)
        learners, betas, errors = [], [], []
        for _ in range(n_rounds):
            p = w / w.sum()
            model = fit_weighted(clone(base), Xall, yall, p * len(p), needs="boosting")
            wrong = (model.predict(Xall) != yall).astype(float)
            eps = float(np.sum(w[n_s:] * wrong[n_s:]) / np.sum(w[n_s:]))
            eps = min(max(eps, 1e-10), 0.499)  # the paper requires eps_t < 1/2
            beta_t = eps / (1.0 - eps)
            w[:n_s] *= beta ** wrong[:n_s]
            w[n_s:] *= beta_t ** (-wrong[n_s:])
            w /= w.max()  # rescale only (the rule is invariant), so weights never overflow
            learners.append(model)
            betas.append(beta_t)
            errors.append(eps)
        start = int(np.ceil(n_rounds / 2)) - 1 if n_rounds > 1 else 0
        self.estimators_ = learners[start:]
        self.estimator_weights_ = np.log(1.0 / np.asarray(betas[start:]))
        self.target_errors_ = np.asarray(errors)
        self.n_features_in_ = Xall.shape[1]
        return self

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Vote shares of the kept rounds (each round's vote weighted by ``log(1 / beta_t)``)."""
        check_is_fitted(self, "estimators_")
        arr, _ = check_transform_input(X, None, self.n_features_in_)
        votes = np.zeros((arr.shape[0], len(self.classes_)))
        for model, weight in zip(self.estimators_, self.estimator_weights_, strict=True):
            pred = model.predict(arr)
            votes[np.arange(len(arr)), np.searchsorted(self.classes_, pred)] += weight
        total = votes.sum(axis=1, keepdims=True)
        return np.where(total > 0, votes / np.where(total > 0, total, 1.0), 1.0 / len(self.classes_))

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        proba = self.predict_proba(X)  # checks the model is fitted first
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])
