"""How each selection method ranks features, and the scikit-learn selector that keeps the top ``k``.

scikit-learn does the maths (``chi2``, ``f_classif``, ``RFE``, ``SelectFromModel``); this module
only prepares the input each method needs and turns its scores into a feature order, so that many
candidate ``k`` can be cross-validated from one fit per fold.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.feature_selection import RFE, SelectFromModel, SelectKBest, chi2, f_classif
from sklearn.linear_model import LogisticRegression

from ..errors import DataError

#: Method name -> what it does, for help texts and reports.
METHODS = {
    "chi2": "chi-squared statistic of each non-negative feature against the class (filter)",
    "anova": "ANOVA F statistic of each feature across classes (filter)",
    "rfe": "recursive feature elimination with a linear model on standardised features (wrapper)",
    "model": "importance (|coefficients|) of one linear model on standardised features (embedded)",
}
SHIFTS = (None, "min", "minmax")


def check_method(method: str) -> str:
    """``method`` if it names a selection method; a :class:`DataError` listing the options otherwise."""
    if method not in METHODS:
        raise DataError(f"unknown feature-selection method {method!r}; choose from: {', '.join(METHODS)}")
    return method


def default_estimator(random_state: int = 0) -> BaseEstimator:
    """The linear model whose coefficients rank features for ``rfe`` and ``model``."""
    return LogisticRegression(C=1.0, max_iter=300, random_state=random_state)


def check_non_negative(X: np.ndarray, names: Sequence[str] | None = None) -> None:
    """chi2 sums feature values per class as if they were counts: a negative value has no meaning.
    Raise a :class:`DataError` naming the first column that has one."""
    negative = (X < 0).any(axis=0)
    if negative.any():
        j = int(np.flatnonzero(negative)[0])
        name = f"column {j}" + (f" ({names[j]})" if names is not None else "")
        raise DataError(
            f"Negative values in data: chi2 needs non-negative features, but {name} has the value {float(X[:, j].min()):.4g} "
            f"({int(negative.sum())} of {X.shape[1]} columns have negative values); use shift='minmax' or "
            "shift='min' (CLI --shift) to move them to non-negative values, or the anova method")


class Prepared:
    """The input a method ranks on, fitted on training rows only (no leakage into validation).

    chi2 gets non-negative values (checked, or shifted/scaled as ``shift`` says); ``rfe`` and
    ``model`` get standardised features, so coefficient sizes compare across columns; ANOVA F is
    invariant to both and sees the features unchanged.
    """

    def __init__(self, method: str, shift: str | None, X: np.ndarray, names: Sequence[str] | None) -> None:
        self.offset: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        if method == "chi2":
            if shift is None:
                check_non_negative(X, names)
            else:  # min: subtract each column's training minimum; minmax: also divide by its range
                self.offset = X.min(axis=0)
                if shift == "minmax":
                    span = X.max(axis=0) - self.offset
                    self.scale = np.where(span > 0, span, 1.0)
        elif method in ("rfe", "model"):
            self.offset = X.mean(axis=0)
            sd = X.std(axis=0)
            self.scale = np.where(sd > 0, sd, 1.0)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        out = X if self.offset is None else X - self.offset
        out = out if self.scale is None else out / self.scale
        # shifted validation rows can fall below the training minimum; chi2 only scores training rows
        return out


def _order(scores: np.ndarray, tie_break: np.ndarray | None = None) -> np.ndarray:
    """Feature indices, best first; NaN (constant columns) last; ties by ``tie_break``, then index."""
    s = np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    keys = [np.arange(len(s))]
    if tie_break is not None:
        keys.append(-np.nan_to_num(np.asarray(tie_break, dtype=float), nan=-np.inf))
    keys.append(-s)
    return np.lexsort(keys)


def importances(estimator: Any) -> np.ndarray:
    """Feature importances of a fitted model as ``SelectFromModel(importance_getter="auto")`` reads
    them: ``feature_importances_``, else the L1 norm of ``coef_`` over classes."""
    if hasattr(estimator, "feature_importances_"):
        return np.asarray(estimator.feature_importances_, dtype=float)
    coef = getattr(estimator, "coef_", None)
    if coef is None:
        raise DataError(f"{type(estimator).__name__} has neither feature_importances_ nor coef_, so it cannot "
                        "rank features; use a linear model or a tree ensemble")
    coef = np.asarray(coef, dtype=float)
    return np.abs(coef) if coef.ndim == 1 else np.linalg.norm(coef, ord=1, axis=0)


@contextmanager
def constant_features_allowed() -> Iterator[None]:
    """Constant columns (common in pooled CNN features of small images) get F = NaN; they rank last
    instead of filling the output with warnings."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", message=r"Features [\s\S]* are constant", category=UserWarning)
        yield


def feature_order(method: str, X: np.ndarray, y: np.ndarray, *, estimator: Any, smallest: int, step: float | int,
                  ) -> np.ndarray:
    """All feature indices, best first, as ``method`` ranks them on (prepared) ``X``.

    For ``rfe`` one elimination down to ``smallest`` features gives the order (features eliminated
    later rank higher); features eliminated in the same step are ordered by ANOVA F.
    """
    if method == "chi2":
        with constant_features_allowed():
            return _order(chi2(X, y)[0])
    if method == "anova":
        with constant_features_allowed():
            return _order(f_classif(X, y)[0])
    if method == "model":
        return _order(importances(clone(estimator).fit(X, y)))
    rfe = RFE(clone(estimator), n_features_to_select=smallest, step=step).fit(X, y)
    with constant_features_allowed():
        return _order(-rfe.ranking_.astype(float), tie_break=f_classif(X, y)[0])


def final_selector(method: str, k: int, *, estimator: Any) -> Any:
    """The scikit-learn selector that keeps ``k`` features by ``method`` (fitted on prepared data); not
    for ``rfe``, which keeps the top ``k`` of :func:`feature_order`'s elimination order."""
    if method == "chi2":
        return SelectKBest(chi2, k=k)
    if method == "anova":
        return SelectKBest(f_classif, k=k)
    return SelectFromModel(clone(estimator), threshold=-np.inf, max_features=k)
