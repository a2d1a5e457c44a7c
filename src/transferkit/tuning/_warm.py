"""Warm starts for logistic-regression heads across the trials of a search.

A logistic regression's loss is convex, so where the solver starts changes only how long it takes, not
the solution it converges to (within its tolerance). Per cross-validation fold, each new fit starts from
the solution of the earlier trial whose ``C`` is nearest on a log scale, with the same settings of every
other step except ``class_weight``; scikit-learn's ``LogisticRegressionCV`` walks its ``C`` path the same
way. Class weights only reweight the rows of the same convex problem, so a solution fitted with other
class weights is as good a start as one with the same (on a tie in ``C``, the same weights win); sharing
them took a quarter off the solver iterations of the image search in docs/BENCHMARKS.md. On the packaged
datasets warm starts halve the head-fitting time of a search.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline


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


class WarmStarts:
    """Solutions of earlier trials, per fold, keyed by every parameter except the final ``C`` and
    ``class_weight``."""

    def __init__(self) -> None:
        self._seen: dict[tuple[Hashable, str], list[tuple[float, str, np.ndarray, np.ndarray]]] = {}

    @staticmethod
    def _key(model: BaseEstimator, fold: Hashable,
             params: dict[str, Any]) -> tuple[tuple[Hashable, str], float, str]:
        prefix, final = _final(model)
        shared = (prefix + "C", prefix + "class_weight")
        others = sorted((k, repr(v)) for k, v in params.items() if k not in shared)
        final_params = final.get_params()
        return (fold, repr(others)), math.log(float(final_params["C"])), repr(final_params["class_weight"])

    def prime(self, model: BaseEstimator, fold: Hashable, params: dict[str, Any]) -> None:
        """Give ``model``'s logistic regression the nearest earlier solution of this fold to start from."""
        key, log_c, weights = self._key(model, fold, params)
        earlier = self._seen.get(key)
        if not earlier:
            return
        _, _, coef, intercept = min(earlier, key=lambda e: (abs(e[0] - log_c), e[1] != weights))
        _, final = _final(model)
        final.set_params(warm_start=True)
        final.coef_, final.intercept_ = coef.copy(), intercept.copy()

    def remember(self, model: BaseEstimator, fold: Hashable, params: dict[str, Any]) -> None:
        """Keep the fitted solution of ``model`` for later trials of this fold."""
        key, log_c, weights = self._key(model, fold, params)
        _, final = _final(model)
        self._seen.setdefault(key, []).append((log_c, weights, final.coef_.copy(), final.intercept_.copy()))
