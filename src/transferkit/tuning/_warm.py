"""Warm starts for logistic-regression heads across the trials of a search.

A logistic regression's loss is convex, so where the solver starts changes only how long it takes, not
the solution it converges to (within its tolerance). Per cross-validation fold, each new fit starts from
the solutions of earlier trials with the same settings of every other step except ``class_weight``;
scikit-learn's ``LogisticRegressionCV`` walks its ``C`` path the same way. When earlier trials bracket
the new ``C`` (one below it, one above, on a log scale), the start is the straight line
between the two nearest of them, evaluated at the new ``log C``: the predictor step of a path-following
method (the solution path of an L2 logistic regression is smooth in ``log C``). Otherwise it is the
solution of the nearest ``C``; nothing is extrapolated. Class weights only reweight the rows of the same
convex problem, so a solution fitted with other class weights is as good a start as one with the same
(on a tie in ``C``, the same weights win); sharing them took a quarter off the solver iterations of the
image search in docs/BENCHMARKS.md, and interpolating between bracketing solutions about another third
(``bench/bench_warm_starts.py``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

#: An earlier solution: (log C, repr of its class weights, coef_, intercept_).
Solution = tuple[float, str, np.ndarray, np.ndarray]


def _final(model: BaseEstimator) -> tuple[str, BaseEstimator]:
    if isinstance(model, Pipeline):
        name, step = model.steps[-1]
        return name + "__", step
    return "", model


def warm_startable(head: BaseEstimator) -> bool:
    """True when ``head`` (or its pipeline's last step) is a logistic regression whose solver can warm-start."""
    _, final = _final(head)
    return isinstance(final, LogisticRegression) and final.get_params()["solver"] in ("lbfgs", "newton-cg", "sag",
                                                                                        "saga", "newton-cholesky")


def starting_point(earlier: list[Solution], log_c: float, weights: str, *,
                   interpolate: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(coef, intercept)`` to start a fit at ``log C = log_c`` with class weights ``weights`` from the
    ``earlier`` solutions (not empty): the nearest ``C`` (the same weights on a tie), or, with
    ``interpolate`` and ``log_c`` strictly between two earlier ``log C``, the linear interpolation in
    ``log C`` of the nearest solution below and the nearest above."""
    def nearest(candidates: list[Solution]) -> Solution:
        return min(candidates, key=lambda e: (abs(e[0] - log_c), e[1] != weights))

    best = nearest(earlier)
    below = [e for e in earlier if e[0] < log_c]
    above = [e for e in earlier if e[0] > log_c]
    if not interpolate or best[0] == log_c or not below or not above:
        return best[2], best[3]
    low, high = nearest(below), nearest(above)
    t = (log_c - low[0]) / (high[0] - low[0])
    return low[2] + t * (high[2] - low[2]), low[3] + t * (high[3] - low[3])


class WarmStarts:
    """Solutions of earlier trials, per fold, keyed by every parameter except the final ``C`` and
    ``class_weight``.

    Parameters
    ----------
    interpolate : bool, default=True
        Start between two bracketing solutions (see :func:`starting_point`); False: from the nearest.
    """

    def __init__(self, interpolate: bool = True) -> None:
        self.interpolate = interpolate
        self._seen: dict[tuple[Hashable, str], list[Solution]] = {}

    @staticmethod
    def _key(model: BaseEstimator, fold: Hashable,
             params: dict[str, Any]) -> tuple[tuple[Hashable, str], float, str]:
        prefix, final = _final(model)
        shared = (prefix + "C", prefix + "class_weight")
        others = sorted((k, repr(v)) for k, v in params.items() if k not in shared)
        final_params = final.get_params()
        return (fold, repr(others)), math.log(float(final_params["C"])), repr(final_params["class_weight"])

    def prime(self, model: BaseEstimator, fold: Hashable, params: dict[str, Any]) -> None:
        """Give ``model``'s logistic regression a start from the earlier solutions of this fold."""
        key, log_c, weights = self._key(model, fold, params)
        earlier = self._seen.get(key)
        if not earlier:
            return
        coef, intercept = starting_point(earlier, log_c, weights, interpolate=self.interpolate)
        _, final = _final(model)
        final.set_params(warm_start=True)
        final.coef_, final.intercept_ = coef.copy(), intercept.copy()

    def remember(self, model: BaseEstimator, fold: Hashable, params: dict[str, Any]) -> None:
        """Keep the fitted solution of ``model`` for later trials of this fold."""
        key, log_c, weights = self._key(model, fold, params)
        _, final = _final(model)
        self._seen.setdefault(key, []).append((log_c, weights, final.coef_.copy(), final.intercept_.copy()))
