"""Warm starts of logistic heads across trials: same solutions, fewer solver iterations."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier

from transferkit.tuning._space import make_head
from transferkit.tuning._warm import WarmStarts, warm_startable


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 40))
    y = np.argmax(X[:, :3] + 0.8 * rng.normal(size=(300, 3)), axis=1)
    return X, y


def test_only_logistic_heads_warm_start() -> None:
    assert warm_startable(make_head("logistic")) and warm_startable(make_head("pca-logistic"))
    assert not warm_startable(make_head("mlp")) and not warm_startable(MLPClassifier())


def test_a_warm_start_reaches_the_cold_solution_in_fewer_iterations() -> None:
    X, y = _data()
    warm = WarmStarts()
    for C in (0.05, 0.5):  # remembered solutions on fold 0
        params = {"logisticregression__C": C}
        first = clone(make_head("logistic")).set_params(**params).fit(X, y)
        warm.remember(first, 0, params)
    params = {"logisticregression__C": 0.6}
    cold = clone(make_head("logistic")).set_params(logisticregression__tol=1e-8, **params).fit(X, y)
    primed = clone(make_head("logistic")).set_params(logisticregression__tol=1e-8, **params)
    warm.prime(primed, 0, params)
    np.testing.assert_allclose(primed[-1].coef_, first[-1].coef_)  # the nearest C (0.5) was chosen
    primed.fit(X, y)
    assert primed[-1].n_iter_.max() < cold[-1].n_iter_.max()
    np.testing.assert_allclose(primed[-1].coef_, cold[-1].coef_, atol=1e-4)
    np.testing.assert_array_equal(primed.predict(X), cold.predict(X))


def test_warm_starts_are_kept_apart_by_fold_and_by_the_other_parameters() -> None:
    X, y = _data()
    warm = WarmStarts()
    params = {"pca__n_components": 0.9, "logisticregression__C": 1.0}
    fitted = clone(make_head("pca-logistic")).set_params(**params).fit(X, y)
    warm.remember(fitted, 0, params)
    for fold, other in ((1, params), (0, {**params, "pca__n_components": 0.6})):
        fresh = clone(make_head("pca-logistic")).set_params(**other)
        warm.prime(fresh, fold, other)
        assert not hasattr(fresh[-1], "coef_") and fresh[-1].warm_start is False
        fresh.fit(X, y)  # a different PCA width would not fit the remembered coefficients


def test_class_weights_share_warm_starts_and_the_same_weights_win_a_tie() -> None:
    """Class weights reweight the rows of the same convex problem: a solution fitted with other weights is
    a valid start and reaches the same optimum."""
    X, y = _data()
    y = np.where(np.arange(len(y)) < 40, 0, y)  # imbalanced, so "balanced" changes the problem
    warm = WarmStarts()
    fitted = {}
    for weights in (None, "balanced"):
        params = {"logisticregression__C": 0.5, "logisticregression__class_weight": weights}
        fitted[weights] = clone(make_head("logistic")).set_params(**params).fit(X, y)
        warm.remember(fitted[weights], 0, params)
    for weights in (None, "balanced"):  # a tie in C: the solution with the same weights
        params = {"logisticregression__C": 0.5, "logisticregression__class_weight": weights}
        primed = clone(make_head("logistic")).set_params(**params)
        warm.prime(primed, 0, params)
        np.testing.assert_array_equal(primed[-1].coef_, fitted[weights][-1].coef_)
    params = {"logisticregression__C": 0.6, "logisticregression__class_weight": "balanced"}
    near = {**params, "logisticregression__C": 0.55, "logisticregression__class_weight": None}
    closer = clone(make_head("logistic")).set_params(**near).fit(X, y)
    warm.remember(closer, 0, near)  # nearer in C, other weights: chosen
    primed = clone(make_head("logistic")).set_params(logisticregression__tol=1e-8, **params)
    warm.prime(primed, 0, params)
    np.testing.assert_array_equal(primed[-1].coef_, closer[-1].coef_)
    primed.fit(X, y)
    cold = clone(make_head("logistic")).set_params(logisticregression__tol=1e-8, **params).fit(X, y)
    np.testing.assert_allclose(primed[-1].coef_, cold[-1].coef_, atol=1e-4)
    np.testing.assert_array_equal(primed.predict(X), cold.predict(X))


def test_a_bracketed_c_starts_on_the_line_between_its_neighbours_and_converges_faster() -> None:
    X, y = _data()
    warm, nearest_only = WarmStarts(), WarmStarts(interpolate=False)
    fitted = {}
    for C in (0.01, 1.0):  # log C = -4.6 and 0: 0.1 lies halfway
        params = {"logisticregression__C": C}
        fitted[C] = clone(make_head("logistic")).set_params(**params).fit(X, y)
        warm.remember(fitted[C], 0, params)
        nearest_only.remember(fitted[C], 0, params)
    params = {"logisticregression__C": 0.1}
    primed = clone(make_head("logistic")).set_params(logisticregression__tol=1e-8, **params)
    warm.prime(primed, 0, params)
    np.testing.assert_allclose(primed[-1].coef_, (fitted[0.01][-1].coef_ + fitted[1.0][-1].coef_) / 2)
    np.testing.assert_allclose(primed[-1].intercept_,
                               (fitted[0.01][-1].intercept_ + fitted[1.0][-1].intercept_) / 2)
    near = clone(make_head("logistic")).set_params(logisticregression__tol=1e-8, **params)
    nearest_only.prime(near, 0, params)  # a tie in distance: the first remembered (0.01)
    np.testing.assert_array_equal(near[-1].coef_, fitted[0.01][-1].coef_)
    primed.fit(X, y)
    near.fit(X, y)
    cold = clone(make_head("logistic")).set_params(logisticregression__tol=1e-8, **params).fit(X, y)
    assert primed[-1].n_iter_.max() < min(near[-1].n_iter_.max(), cold[-1].n_iter_.max())
    for model in (primed, near):
        np.testing.assert_allclose(model[-1].coef_, cold[-1].coef_, atol=1e-4)
        np.testing.assert_array_equal(model.predict(X), cold.predict(X))


def test_starting_point_never_extrapolates_and_reuses_an_exact_c() -> None:
    from transferkit.tuning._warm import starting_point

    one, two = np.ones((1, 2)), np.full((1, 2), 3.0)
    earlier = [(0.0, "None", one, np.zeros(1)), (1.0, "None", two, np.ones(1))]
    for log_c, expected in ((-1.0, one), (0.0, one), (1.0, two), (2.0, two)):  # outside or on a point: nearest
        np.testing.assert_array_equal(starting_point(earlier, log_c, "None")[0], expected)
    coef, intercept = starting_point(earlier, 0.25, "None")
    np.testing.assert_allclose(coef, np.full((1, 2), 1.5))
    np.testing.assert_allclose(intercept, [0.25])
    np.testing.assert_array_equal(starting_point(earlier, 0.25, "None", interpolate=False)[0], one)
