"""Fit an L2-penalised logistic regression in the span of its training rows when there are at most half
as many examples as features.

Transfer features are wide and labelled sets small: 400 training rows of 1280 EfficientNet features
is the usual case. With an L2 penalty, the weights of a logistic regression (or any linear model with
a loss on ``X @ w`` and a penalty ``||w||^2``) lie in the span of the training rows: any part of ``w``
orthogonal to every row changes no prediction on them and only adds penalty (the representer theorem;
Schölkopf, Herbrich & Smola, COLT 2001). With ``V`` an orthonormal basis of that span (``d x r``, from a
QR factorisation), the regression on ``Z = X V`` (``r`` columns) has the same optimum ``u`` with
``w = V u``, and a test row ``x`` gets the same score ``x^T w = (x^T V) u``. ``V`` itself is never formed:
with ``X^T = V R``, ``X V = R^T``, and the test rows' ``X_test V`` comes from applying the QR's
Householder reflectors (LAPACK's ``ormqr`` through :func:`scipy.linalg.qr_multiply`), about half the
cost of building ``V`` and multiplying by it. The loss, the penalty and L-BFGS's steps are invariant under this rotation;
what changes is the cost per iteration (``r`` instead of ``d`` columns, for one SVD per fold and search)
and the stopping test, which looks at the largest gradient entry, so a fit may end an iteration or two
apart. Predictions agree with the full-width fit to within the solver's tolerance.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline


def l2_logistic(model: BaseEstimator) -> bool:
    """True when ``model`` is a logistic regression (alone or as a one-step pipeline) with a finite
    L2 penalty only: the case the row-span fit is exact for."""
    if isinstance(model, Pipeline):
        if len(model.steps) != 1:
            return False
        model = model.steps[0][1]
    if not isinstance(model, LogisticRegression):
        return False
    p = model.get_params()
    penalty_is_l2 = p["penalty"] in ("l2", "deprecated") and not p["l1_ratio"]
    return penalty_is_l2 and p["C"] is not None and math.isfinite(float(p["C"]))


def row_span_coordinates(X: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(X V, X_test V)`` for ``V`` (``d x n``) orthonormal columns whose span holds every row of ``X``
    (``n x d``), from the QR factorisation ``X^T = V R``; None unless ``n <= d / 2`` (at least halving the
    columns, so the one-off QR, ``O(d n^2)``, pays for itself within a few fits). A rank-deficient ``X``
    needs no rank test: ``V`` then spans more than the rows, which keeps the fit exact."""
    from scipy.linalg import qr_multiply

    X = np.asarray(X, dtype=np.float64)
    if 2 * X.shape[0] > X.shape[1]:
        return None
    test_coordinates, r = qr_multiply(X.T, np.asarray(X_test, dtype=np.float64), mode="right")
    return np.ascontiguousarray(r.T), test_coordinates
