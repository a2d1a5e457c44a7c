"""``method="auto"``: fit every candidate on a source holdout split and pick by a target-aware scorer.

Picking the best score alone would follow noise: with a few hundred validation rows, scores of methods
that change little differ by chance. So the choice is guarded against negative transfer: a method
replaces source-only training only when a paired bootstrap over the scored rows (the same rows and
importance weights for every method) puts its improvement above 0 with the given confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import clone

from ..errors import DataError
from ._domain import as_labels
from ._methods import SOURCE_ONLY
from ._scorers import SCORERS, SourceHoldoutSplit, _take

__all__ = ["MethodScores", "choose_method", "score_methods"]


@dataclass
class MethodScores:
    """Scores of the candidates from one holdout: ``scores[method][scorer]`` (greater is better) and the
    per-row terms behind them (``terms[method][scorer]``), for paired comparisons."""

    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    terms: dict[str, dict[str, NDArray[np.float64]]] = field(default_factory=dict)

    def table(self) -> list[dict[str, Any]]:
        return [{"method": m, **s} for m, s in self.scores.items()]


def score_methods(
    estimator: Any,
    X: Any,
    y: Any,
    sample_domain: Any,
    methods: Sequence[str],
    *,
    test_size: float = 0.2,
    random_state: int = 0,
) -> MethodScores:
    """Every scorer of :data:`SCORERS` for every method, from one source holdout.

    Each method is fitted (as ``clone(estimator).set_params(method=m)``) on the source training part and
    all target rows, and scored on the held-out source rows and the target rows; no target label is used.
    """
    dom = np.asarray(sample_domain)
    labels = as_labels(y)
    train, test = next(SourceHoldoutSplit(test_size=test_size, random_state=random_state).split(X, labels, dom))
    rows = np.arange(len(dom))
    X_train, X_test = _take(X, np.isin(rows, train)), _take(X, np.isin(rows, test))
    out = MethodScores()
    for method in methods:
        if method == "auto":
            raise DataError("'auto' cannot be one of its own candidates")
        est = clone(estimator).set_params(method=method).fit(X_train, labels[train], sample_domain=dom[train])
        out.terms[method], out.scores[method] = {}, {}
        for name, cls in SCORERS.items():
            scorer = cls(random_state=random_state)
            terms = scorer.terms(est, X_test, labels[test])
            out.terms[method][name] = terms
            out.scores[method][name] = float(scorer.aggregate(terms))
    return out


def improvement_low(scores: MethodScores, method: str, *, by: str = "dev", baseline: str = SOURCE_ONLY,
                    confidence: float = 0.9, n_boot: int = 500, seed: int = 0) -> float:
    """Lower end of the one-sided ``confidence`` bootstrap bound of ``score(method) - score(baseline)``."""
    agg = SCORERS[by].aggregate
    a, b = scores.terms[method][by], scores.terms[baseline][by]
    idx = np.random.default_rng(seed).integers(0, len(a), size=(n_boot, len(a)))
    diffs = np.array([agg(a[i]) - agg(b[i]) for i in idx])
    return float(np.quantile(diffs, 1.0 - confidence))


def choose_method(scores: MethodScores, *, by: str = "dev", baseline: str = SOURCE_ONLY,
                  confidence: float = 0.9, seed: int = 0) -> str:
    """The best method by ``by`` among those whose improvement over ``baseline`` is positive with
    ``confidence`` (paired bootstrap); the baseline when none is."""
    if by not in SCORERS:
        raise DataError(f"unknown selection score {by!r}; choose from: {', '.join(SCORERS)}")
    if baseline not in scores.scores:
        raise DataError(f"the candidates must include the baseline {baseline!r}")
    sure = [m for m in scores.scores if m != baseline
            and improvement_low(scores, m, by=by, baseline=baseline, confidence=confidence, seed=seed) > 0]
    if not sure:
        return baseline
    return max(sure, key=lambda m: scores.scores[m][by])
