"""Choosing a domain-adaptation model without target labels: scorers and a domain-aware splitter.

The scorers estimate how well a fitted model does on the *target* domain from labelled source rows it
did not train on and unlabelled target rows, and plug into :class:`~sklearn.model_selection.GridSearchCV`
with :class:`SourceHoldoutSplit` (no metadata routing and no global configuration needed)::

    search = GridSearchCV(DomainAdaptClassifier(...), grid, cv=SourceHoldoutSplit(), scoring=DEVScorer())
    search.fit(X, y, groups=sample_domain, sample_domain=sample_domain)

The splitter reads ``sample_domain`` as ``groups``; every training fold keeps all target rows (the
adaptation needs them) and the test fold holds only source rows. A scorer then sees ``(estimator, X_val,
y_val)`` and takes the target rows from the fitted estimator (``estimator.X_target_``, which
:class:`~transferkit.adaptation.DomainAdaptClassifier` keeps). Called directly, a scorer also accepts
``sample_domain`` and splits ``X`` itself. Greater is better for every scorer (risks are negated).

Importance weights ``p_t(x) / p_s(x)`` come from a domain classifier on the estimator's
``domain_features`` (the frozen backbone features, the same for every candidate, so candidates are
compared under the same weights), reduced to at most 32 principal components for stability.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.model_selection._split import BaseCrossValidator

from ..errors import DataError
from ._domain import as_labels, check_source_labelled, classes_hold_minus_one, typed_labels
from ._reweight import discriminator_weights

__all__ = [
    "SCORERS",
    "PublishedDEVScorer",
    "DEVScorer",
    "ImportanceWeightedScorer",
    "PredictionEntropyScorer",
    "SourceHoldoutSplit",
    "dev_risk",
    "importance_weighted_accuracy",
    "prediction_entropy",
]

#: Principal components kept before fitting the domain classifier of the importance weights.
_WEIGHT_COMPONENTS = 32


# --- the maths -------------------------------------------------------------------------------------------

#: How far a row of probabilities may sum from 1 (float32 predictions round).
_PROBA_TOLERANCE = 1e-5


def _numbers(values: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{name} must hold numbers") from None
    if arr.size == 0:
        raise DataError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} holds NaN or infinite values")
    return arr


def _vector(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """``values`` as a non-empty, finite 1-D float array, or a DataError naming ``name``."""
    arr = _numbers(values, name)
    if arr.ndim != 1:
        raise DataError(f"{name} must be 1-D (one value per row), got an array of shape {arr.shape}")
    return arr


def _importance(weights: ArrayLike, n: int, of: str) -> NDArray[np.float64]:
    """Non-negative ``weights``, one per entry of ``of`` (``n`` of them)."""
    w = _vector(weights, "weights")
    if len(w) != n:
        raise DataError(f"weights has {len(w)} {'entry' if len(w) == 1 else 'entries'} but {of} has {n}; give one "
                        "weight per row")
    if np.any(w < 0):
        raise DataError(f"weights must be non-negative, got {float(w.min())!r}")
    return w


def _probabilities(proba: ArrayLike, name: str) -> NDArray[np.float64]:
    """Rows of class probabilities: 2-D, non-negative, each row summing to 1."""
    p = _numbers(proba, name)
    if p.ndim != 2:
        raise DataError(f"{name} must be 2-D (rows x classes), got an array of shape {p.shape}")
    if np.any(p < 0):
        raise DataError(f"{name} holds negative values; give probabilities (predict_proba)")
    sums = p.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > _PROBA_TOLERANCE)
    if bad.size:
        raise DataError(f"{name} row {int(bad[0])} sums to {float(sums[bad[0]]):g}, not 1; give probabilities "
                        "(predict_proba)")
    return p



def importance_weighted_accuracy(correct: ArrayLike, weights: ArrayLike) -> float:
    """Importance-weighted validation accuracy ``sum_i w_i 1[correct_i] / sum_i w_i``.

    Sugiyama, Krauledat & Mueller, "Covariate Shift Adaptation by Importance Weighted Cross
    Validation", JMLR 8, 2007: under covariate shift, the source validation loss weighted by
    ``w(x) = p_t(x) / p_s(x)`` is an unbiased estimate of the target loss (here the 0-1 loss).

    Examples
    --------
    >>> importance_weighted_accuracy([1, 0, 1], [1.0, 2.0, 1.0])
    0.5
    """
    c = _vector(correct, "correct")
    if np.any((c < 0) | (c > 1)):
        raise DataError("correct must hold values in [0, 1] (1 where a prediction is right)")
    w = _importance(weights, len(c), "correct")
    if not w.sum() > 0:
        raise DataError("weights sum to zero: no row would count")
    return float(np.sum(w * c) / float(np.sum(w)))


def dev_risk(losses: ArrayLike, weights: ArrayLike) -> float:
    """Deep embedded validation risk (You, Wang, Long & Jordan, "Towards Accurate Model Selection in
    Deep Unsupervised Domain Adaptation", ICML 2019, Algorithm 1).

    The importance-weighted losses ``L_i = w_i l_i`` get the control variate ``w`` (whose expectation is
    known to be 1): ``risk = mean(L) + eta mean(w) - eta`` with ``eta = -Cov(L, w) / Var(w)``, which
    lowers the variance of the weighted estimate without biasing it. ``w`` must be the density ratios
    themselves, not weights rescaled to mean 1, or the correction is always 0.

    Examples
    --------
    >>> dev_risk([1.0, 1.0], [1.0, 1.0])  # no variance in the weights: the plain mean
    1.0
    """
    lo = _vector(losses, "losses")
    w = _importance(weights, len(lo), "losses")
    weighted = w * lo
    var = float(np.var(w, ddof=1)) if len(w) > 1 else 0.0
    eta = -float(np.cov(weighted, w, ddof=1)[0, 1]) / var if var > 1e-12 else 0.0
    return float(weighted.mean() + eta * w.mean() - eta)


def prediction_entropy(proba: ArrayLike) -> float:
    """Mean Shannon entropy (nats) of predicted class distributions; lower means more confident.

    Used for model selection in unsupervised domain adaptation as in Morerio, Cavazza & Murino,
    "Minimal-Entropy Correlation Alignment", ICLR 2018: confident target predictions suggest the
    decision boundaries avoid dense target regions. It ignores correctness, so a degenerate model can
    score well; use it beside the weighted scorers.

    Examples
    --------
    >>> round(prediction_entropy([[0.5, 0.5], [1.0, 0.0]]), 4)
    0.3466
    """
    p = np.clip(_probabilities(proba, "proba"), 1e-12, 1.0)
    return float(np.mean(-np.sum(p * np.log(p), axis=1)))


# --- the splitter -----------------------------------------------------------------------------------------


class SourceHoldoutSplit(BaseCrossValidator):
    """Hold out labelled source rows; every training fold keeps all target rows.

    Pass ``sample_domain`` as ``groups`` (``GridSearchCV.fit(X, y, groups=sample_domain, ...)``).

    Parameters
    ----------
    n_splits : int, default=1
        Number of random holdouts.
    test_size : float, default=0.2
        Share of the source rows held out, stratified by label when ``y`` is given.
    random_state : int, default=0

    Examples
    --------
    >>> sd = np.r_[np.ones(10), -np.ones(4)]
    >>> train, test = next(SourceHoldoutSplit(test_size=0.2).split(np.zeros((14, 1)), groups=sd))
    >>> len(test), bool(np.all(sd[test] > 0)), bool(set(np.flatnonzero(sd < 0)) <= set(train))
    (2, True, True)
    """

    def __init__(self, n_splits: int = 1, *, test_size: float = 0.2, random_state: int = 0) -> None:
        self.n_splits = n_splits
        self.test_size = test_size
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return int(self.n_splits)

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[NDArray[np.int_], NDArray[np.int_]]]:
        if groups is None:
            raise DataError("SourceHoldoutSplit needs sample_domain as groups: "
                            "search.fit(X, y, groups=sample_domain, sample_domain=sample_domain)")
        dom = np.asarray(groups)
        if dom.shape != (len(X),):
            raise DataError(f"groups (sample_domain) has shape {dom.shape}, expected ({len(X)},)")
        if not 0 < self.test_size < 1:
            raise DataError(f"test_size must be in (0, 1), got {self.test_size!r}")
        source, target = np.flatnonzero(dom > 0), np.flatnonzero(dom < 0)
        if len(source) < 2 or len(target) == 0:
            raise DataError("SourceHoldoutSplit needs at least two source rows and one target row")
        labels = np.asarray(y)[source] if y is not None else np.zeros(len(source))
        _, counts = np.unique(labels.astype(str), return_counts=True)
        n_test = max(1, int(round(self.test_size * len(source))))
        stratify = counts.min() >= 2 and n_test >= len(counts) and len(source) - n_test >= len(counts)
        splitter = StratifiedShuffleSplit(n_splits=self.n_splits, test_size=n_test, random_state=self.random_state)
        strata = labels.astype(str) if stratify else np.zeros(len(source))
        for tr, te in splitter.split(source, strata):
            yield np.sort(np.concatenate([source[tr], target])), np.sort(source[te])

    def _iter_test_indices(self, X: Any = None, y: Any = None, groups: Any = None) -> Iterator[NDArray[np.int_]]:
        for _, test in self.split(X, y, groups):  # pragma: no cover - split is overridden
            yield test


# --- the scorers ------------------------------------------------------------------------------------------


def _take(X: Any, mask: NDArray[np.bool_]) -> Any:
    """The rows of ``X`` where ``mask`` holds, by position: an array's, a pandas object's (by ``.iloc``:
    iterating a DataFrame gives its column names, not its rows) or a sequence's."""
    if isinstance(X, np.ndarray):
        return X[mask]
    if hasattr(X, "iloc"):
        return X.iloc[np.flatnonzero(mask)]
    return [x for x, m in zip(X, mask, strict=True) if m]


def _domain_features(estimator: Any, X: Any) -> NDArray[np.float64]:
    fn = getattr(estimator, "domain_features", None)
    arr = np.asarray(fn(X) if fn is not None else X, dtype=np.float64)
    if arr.ndim != 2:
        raise DataError("the scorer needs feature rows: give the estimator a domain_features(X) method")
    return arr


def _weights(source: NDArray[np.float64], target: NDArray[np.float64], random_state: int,
             normalize: bool = True) -> NDArray[np.float64]:
    """Density-ratio weights of the source rows, from a domain classifier on a PCA of both domains.

    ``normalize`` rescales them to mean 1 over these rows; without it their mean is 1 only in
    expectation, which DEV's control variate needs (on weights of mean exactly 1 it is 0)."""
    pooled = np.vstack([source, target])
    k = min(_WEIGHT_COMPONENTS, pooled.shape[1], pooled.shape[0] - 1)
    if k < pooled.shape[1]:
        pca = PCA(n_components=k, random_state=random_state).set_output(transform="default").fit(pooled)
        source, target = pca.transform(source), pca.transform(target)
    return discriminator_weights(source, target, random_state=random_state, normalize=normalize)


class _DomainScorer:
    """Shared plumbing: split the rows, then score (greater is better)."""

    needs_labels = True

    def __init__(self, *, random_state: int = 0) -> None:
        self.random_state = random_state

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _parts(self, estimator: Any, X: Any, y: Any, sample_domain: Any) -> tuple[Any, NDArray[Any], Any]:
        """(labelled source rows, their labels, target rows)."""
        n = len(X)
        if sample_domain is not None:
            dom = np.asarray(sample_domain)
            if dom.shape != (n,):
                raise DataError(f"sample_domain has shape {dom.shape}, expected ({n},)")
            is_source = dom > 0
            target = _take(X, ~is_source)
        else:
            is_source = np.ones(n, dtype=bool)
            target = getattr(estimator, "X_target_", None)
            if target is None:
                raise DataError(f"{type(self).__name__} needs the target rows: pass sample_domain, or score an "
                                "estimator that keeps them (X_target_), such as DomainAdaptClassifier")
        if len(target) == 0:
            raise DataError(f"{type(self).__name__}: no target rows to score against")
        if not self.needs_labels:
            return _take(X, is_source), np.empty(0), target
        if y is None:
            raise DataError(f"{type(self).__name__} needs the labels of the source rows")
        labels = as_labels(y)
        if labels.shape != (n,):
            raise DataError(f"y has shape {labels.shape}, expected ({n},)")
        classes = np.asarray(estimator.classes_)
        # a source row to validate on needs a label: None, NaN or the -1 mask are none (as in fit)
        check_source_labelled(np.asarray(y), is_source, minus_one_is_class=classes_hold_minus_one(classes))
        known = is_source & np.isin(labels, classes)
        if not known.any():
            raise DataError(f"{type(self).__name__}: no labelled source rows to validate on")
        return _take(X, known), typed_labels(labels[known]), target

    def _source_weights(self, estimator: Any, source: Any, target: Any, normalize: bool = True) -> NDArray[np.float64]:
        return _weights(_domain_features(estimator, source), _domain_features(estimator, target), self.random_state,
                        normalize)

    def terms(self, estimator: Any, X: Any, y: Any = None, sample_domain: Any = None) -> NDArray[np.float64]:
        """Per-row contributions (rows x columns); :meth:`aggregate` turns them into the score."""
        raise NotImplementedError

    @staticmethod
    def aggregate(terms: NDArray[np.float64]) -> float:
        raise NotImplementedError

    def __call__(self, estimator: Any, X: Any, y: Any = None, sample_domain: Any = None) -> float:
        return float(self.aggregate(self.terms(estimator, X, y, sample_domain)))


class ImportanceWeightedScorer(_DomainScorer):
    """Importance-weighted validation accuracy (Sugiyama et al., JMLR 2007); see
    :func:`importance_weighted_accuracy`. Greater is better."""

    def terms(self, estimator: Any, X: Any, y: Any = None, sample_domain: Any = None) -> NDArray[np.float64]:
        """Per validation row: ``(correct, weight)`` as two columns."""
        source, labels, target = self._parts(estimator, X, y, sample_domain)
        correct = np.asarray(estimator.predict(source)) == labels
        return np.column_stack([correct.astype(float), self._source_weights(estimator, source, target)])

    @staticmethod
    def aggregate(terms: NDArray[np.float64]) -> float:
        return importance_weighted_accuracy(terms[:, 0], terms[:, 1])


class DEVScorer(_DomainScorer):
    """Negated deep embedded validation risk (You et al., ICML 2019) of the cross-entropy loss; see
    :func:`dev_risk`. Greater is better.

    Parameters
    ----------
    random_state : int, default=0
        Seed of the domain classifier's folds.
    control_variate : bool, default=False
        False: the density ratios are rescaled to mean 1 over the validation rows, so the risk is the
        self-normalised importance-weighted cross-entropy and DEV's control-variate term is 0 (on the
        full sample; a bootstrap resample's weights no longer average 1). True: DEV as published, the
        raw ratios ``p_t/p_s`` with the control variate (``selection="dev-cv"``). On this project's
        adaptation benchmark the published form made ``auto`` choose worse (docs/BENCHMARKS.md), hence
        the default.
    """

    def __init__(self, *, random_state: int = 0, control_variate: bool = False) -> None:
        super().__init__(random_state=random_state)
        self.control_variate = control_variate

    def __repr__(self) -> str:
        return f"{type(self).__name__}(control_variate=True)" if self.control_variate else f"{type(self).__name__}()"

    def terms(self, estimator: Any, X: Any, y: Any = None, sample_domain: Any = None) -> NDArray[np.float64]:
        """Per validation row: ``(cross-entropy loss, weight)`` as two columns."""
        source, labels, target = self._parts(estimator, X, y, sample_domain)
        proba = np.asarray(estimator.predict_proba(source), dtype=float)
        cols = np.searchsorted(np.asarray(estimator.classes_), labels)
        losses = -np.log(np.clip(proba[np.arange(len(labels)), cols], 1e-12, 1.0))
        weights = self._source_weights(estimator, source, target, normalize=not self.control_variate)
        return np.column_stack([losses, weights])

    @staticmethod
    def aggregate(terms: NDArray[np.float64]) -> float:
        return -dev_risk(terms[:, 0], terms[:, 1])


class PublishedDEVScorer(DEVScorer):
    """DEV as You et al. publish it, with its control variate: ``DEVScorer(control_variate=True)``."""

    def __init__(self, *, random_state: int = 0) -> None:
        super().__init__(random_state=random_state, control_variate=True)


class PredictionEntropyScorer(_DomainScorer):
    """Negated mean prediction entropy on the target rows; see :func:`prediction_entropy`. Greater is
    better. Needs no labels."""

    needs_labels = False

    def terms(self, estimator: Any, X: Any, y: Any = None, sample_domain: Any = None) -> NDArray[np.float64]:
        """Per target row: the entropy of its predicted distribution, as one column."""
        _, _, target = self._parts(estimator, X, y, sample_domain)
        p = np.clip(np.asarray(estimator.predict_proba(target), dtype=float), 1e-12, 1.0)
        return (-np.sum(p * np.log(p), axis=1))[:, None]

    @staticmethod
    def aggregate(terms: NDArray[np.float64]) -> float:
        return -float(np.mean(terms[:, 0]))


#: Scorers by name, as ``method="auto"`` and the CLI know them.
SCORERS: dict[str, type[_DomainScorer]] = {
    "dev": DEVScorer,
    "dev-cv": PublishedDEVScorer,
    "iwv": ImportanceWeightedScorer,
    "entropy": PredictionEntropyScorer,
}
