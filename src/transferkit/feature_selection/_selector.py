"""A feature-selection pipeline step that chooses how many features to keep by cross-validation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.feature_selection import SelectorMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ..data._check import check_table
from ..data._validation import check_folds
from ..errors import DataError
from ._rankings import (
    SHIFTS,
    Prepared,
    check_method,
    constant_features_allowed,
    default_estimator,
    feature_order,
    final_selector,
)

DEFAULT_FRACTIONS = (0.02, 0.05, 0.1, 0.25, 0.5, 1.0)


def default_probe(random_state: int = 0) -> Any:
    """The classifier that scores each candidate number of features: a standardised logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500, random_state=random_state))


def candidate_sizes(n_features: int, candidates: Sequence[int] | None, fractions: Sequence[float]) -> list[int]:
    """Sorted distinct numbers of features to try: ``candidates`` (capped at ``n_features``) or, when
    None, each fraction of ``n_features`` rounded (at least 1)."""
    if candidates is not None:
        sizes = [int(c) if isinstance(c, int | np.integer) or (isinstance(c, float) and c.is_integer()) else 0
                 for c in candidates]  # NaN, 2.5 or "3" is no number of features
        if not sizes or min(sizes) < 1:
            raise DataError(f"candidates must be positive numbers of features, got {list(candidates)!r}")
        return sorted({min(c, n_features) for c in sizes})
    if not len(fractions):
        raise DataError("fractions must hold at least one share of the features in (0, 1], got none")
    for f in fractions:  # NaN would pass every comparison below, so finiteness is checked first
        if not (isinstance(f, int | float | np.number) and not isinstance(f, bool) and np.isfinite(f) and 0 < f <= 1):
            raise DataError(f"fractions must be finite numbers in (0, 1]; {f!r} is not (got {list(fractions)!r})")
    return sorted({max(1, int(round(float(f) * n_features))) for f in fractions})


class CVFeatureSelector(SelectorMixin, BaseEstimator):
    """Keep the best ``k`` features by a selection method, with ``k`` chosen by cross-validation.

    For each fold, the method ranks the features on the training part only; a probe classifier is
    fitted on the top ``k`` features for every candidate ``k`` and scored on the validation part. The
    ``k`` with the best mean score (the smallest one within ``tolerance`` of it) is kept, and the
    method's scikit-learn selector is refitted on all rows with that ``k``.

    Parameters
    ----------
    method : {"anova", "chi2", "rfe", "model"}, default="anova"
        ``anova``: :func:`~sklearn.feature_selection.f_classif`; ``chi2``:
        :func:`~sklearn.feature_selection.chi2` (non-negative features only, see ``shift``); ``rfe``:
        :class:`~sklearn.feature_selection.RFE`; ``model``:
        :class:`~sklearn.feature_selection.SelectFromModel` on ``estimator``'s importances.
    candidates : sequence of int, optional
        Numbers of features to try. When None, ``fractions`` of the input width are tried.
    fractions : sequence of float, default=(0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
        Shares of the features to try when ``candidates`` is None (1.0: no selection).
    cv : int, default=3
        Stratified folds to choose ``k`` (reduced to the smallest class size when needed).
    probe : classifier, optional
        Scores each candidate; default: standardised logistic regression.
    estimator : classifier, optional
        Ranks features for ``rfe`` and ``model`` (needs ``coef_`` or ``feature_importances_``); default:
        logistic regression, fitted on standardised features.
    shift : {None, "min", "minmax"}, default=None
        chi2 only. None: negative features are an error naming the first such column. "min": subtract
        each column's minimum; "minmax": scale each column to [0, 1] (both fitted on training rows).
    step : int or float, default=0.1
        RFE only: features (or share of them) removed per elimination step.
    tolerance : float, default=0.0
        Keep the smallest ``k`` whose mean CV score is within this of the best one.
    scoring : str, default="accuracy"
        A scikit-learn scorer name.
    random_state : int, default=0
        Seed of the fold shuffling and of the default models.

    Attributes
    ----------
    k_ : int
        Number of features kept.
    support_ : ndarray of bool
        Mask of the kept features.
    selector_ : estimator or None
        The fitted scikit-learn selector (``SelectKBest`` or ``SelectFromModel``); None for ``rfe``, whose
        kept features are the top ``k_`` of the elimination order that cross-validation scored.
    cv_results_ : dict
        ``n_features``, ``mean_score``, ``std_score`` and ``split_scores`` (candidates x folds).
    n_splits_ : int
        Folds the choice of ``k_`` ran: ``cv``, fewer when a class has fewer examples (each fold needs one
        of every class), 0 with a single candidate size.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> X = rng.normal(size=(60, 20)); X[:, 3] += 3 * y
    >>> sel = CVFeatureSelector(method="anova", candidates=(1, 5, 20)).fit(X, y)
    >>> bool(sel.get_support()[3]), sel.transform(X).shape[1] == sel.k_
    (True, True)
    """

    def __init__(
        self,
        *,
        method: str = "anova",
        candidates: Sequence[int] | None = None,
        fractions: Sequence[float] = DEFAULT_FRACTIONS,
        cv: int = 3,
        probe: Any = None,
        estimator: Any = None,
        shift: str | None = None,
        step: int | float = 0.1,
        tolerance: float = 0.0,
        scoring: str = "accuracy",
        random_state: int = 0,
    ) -> None:
        self.method = method
        self.candidates = candidates
        self.fractions = fractions
        self.cv = cv
        self.probe = probe
        self.estimator = estimator
        self.shift = shift
        self.step = step
        self.tolerance = tolerance
        self.scoring = scoring
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> CVFeatureSelector:
        """Rank, cross-validate the candidate sizes, and refit the selector with the best. Returns self."""
        method = check_method(self.method)
        if self.shift not in SHIFTS:
            raise DataError(f"shift must be None, 'min' or 'minmax', got {self.shift!r}")
        check_folds(self.cv, "cv")
        if isinstance(self.tolerance, bool) or not isinstance(self.tolerance, int | float) \
                or not 0 <= self.tolerance < np.inf:  # NaN fails too
            raise DataError(f"tolerance must be a finite number >= 0, got {self.tolerance!r}")
        from ..estimators._classifier import check_targets
        from ..tuning._search import check_scoring

        try:  # a typo, or a regression scorer: named before any work, with the nearest names
            check_scoring(self.scoring)
        except ValueError as exc:
            raise DataError(str(exc)) from None

        X = check_table(self, X, reset=True, dtype=np.float64)  # one-line errors naming the row and column
        y = check_targets(y, len(X))  # one column, none missing, no continuous values, at least 2 classes
        labels, counts = np.unique(y, return_counts=True)
        names = getattr(self, "feature_names_in_", None)
        sizes = candidate_sizes(X.shape[1], self.candidates, self.fractions)
        estimator = self.estimator if self.estimator is not None else default_estimator(self.random_state)
        prepare = Prepared(method, self.shift, X, names)  # fails early (e.g. chi2 on negative features)
        scores = np.zeros((len(sizes), 0))
        if len(sizes) > 1:
            folds = min(int(self.cv), int(counts.min()))
            if folds < 2:
                raise DataError(f"choosing the number of features by cross-validation needs at least 2 examples "
                                f"of each class; class '{labels[counts.argmin()]}' has {counts.min()}")
            scores = self._cross_validate(method, X, y, sizes, folds, estimator, names)
        self.n_splits_ = int(scores.shape[1])  # folds run to choose k: none with a single candidate size
        mean = scores.mean(axis=1) if scores.shape[1] else np.zeros(len(sizes))
        best = np.flatnonzero(mean >= mean.max() - self.tolerance)[0]
        self.k_ = int(sizes[best])
        self.cv_results_ = {"n_features": list(sizes), "mean_score": mean.tolist(),
                            "std_score": (scores.std(axis=1) if scores.shape[1] else mean * 0).tolist(),
                            "split_scores": scores.tolist()}
        if method == "rfe":
            # the top k of the same elimination order that cross-validation scored: RFE(k) ends its last
            # step by the model's weights where that order breaks ties by ANOVA F, and kept other features
            self.selector_ = None
            order = feature_order(method, prepare(X), y, estimator=estimator, smallest=sizes[0], step=self.step)
            self.support_ = np.zeros(X.shape[1], dtype=bool)
            self.support_[order[: self.k_]] = True
            return self
        with constant_features_allowed():
            self.selector_ = final_selector(method, self.k_, estimator=estimator).fit(prepare(X), y)
        self.support_ = np.asarray(self.selector_.get_support(), dtype=bool)
        return self

    def _cross_validate(self, method: str, X: np.ndarray, y: np.ndarray, sizes: list[int], folds: int,
                        estimator: Any, names: Any) -> np.ndarray:
        probe = self.probe if self.probe is not None else default_probe(self.random_state)
        scorer = get_scorer(self.scoring)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        scores = np.zeros((len(sizes), folds))
        for f, (tr, va) in enumerate(splitter.split(X, y)):
            prepare = Prepared(method, self.shift, X[tr], names)
            order = feature_order(method, prepare(X[tr]), y[tr], estimator=estimator, smallest=sizes[0],
                                  step=self.step)
            for i, k in enumerate(sizes):
                cols = np.sort(order[:k])
                model = clone(probe).fit(X[tr][:, cols], y[tr])
                scores[i, f] = scorer(model, X[va][:, cols], y[va])
        return scores

    def transform(self, X: Any) -> Any:
        """The kept columns of ``X``."""
        check_is_fitted(self, "support_")
        if not isinstance(X, np.ndarray) or X.ndim != 2:
            return super().transform(X)  # DataFrames, sparse matrices, lists: scikit-learn's own path
        X = check_table(self, X, reset=False, dtype=None)
        # np.take gathers columns of a C-ordered array several times faster than X[:, idx], which
        # would otherwise cost about as much as the smaller classifier saves
        return np.take(X, np.flatnonzero(self.support_), axis=1)

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self, "support_")
        return self.support_

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.positive_only = self.method == "chi2" and self.shift is None
        return tags
