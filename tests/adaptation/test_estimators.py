from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from transferkit.adaptation import (
    CORALAdapter,
    DAPipeline,
    DiscriminatorReweighter,
    DomainAdaptClassifier,
    KLIEPReweighter,
    KMMReweighter,
    ReweightedClassifier,
    SubspaceAlignmentAdapter,
    TCAAdapter,
    TrAdaBoostClassifier,
    coral,
    discriminator_weights,
    kliep_weights,
    kmm_weights,
    subspace_alignment,
    tca,
)
from transferkit.errors import DataError

Data = tuple[np.ndarray, np.ndarray, np.ndarray]

REWEIGHTERS = [
    (KMMReweighter(B=50.0), lambda s, t: kmm_weights(s, t, B=50.0)),
    (KLIEPReweighter(n_centers=30), lambda s, t: kliep_weights(s, t, n_centers=30)),
    (DiscriminatorReweighter(clip=(0.1, 10.0)), lambda s, t: discriminator_weights(s, t, clip=(0.1, 10.0))),
]
ADAPTERS = [
    CORALAdapter(eps=0.5),
    SubspaceAlignmentAdapter(n_components=2),
    TCAAdapter(n_components=2, kernel="rbf"),
]
ALL: list[BaseEstimator] = [
    *(r for r, _ in REWEIGHTERS),
    *ADAPTERS,
    ReweightedClassifier(KMMReweighter(B=5.0), LogisticRegression(C=0.5)),
    DAPipeline(TCAAdapter(n_components=3), LogisticRegression()),
    DAPipeline(),
    ReweightedClassifier(),
]


@pytest.fixture
def data(domain_data: Data) -> Data:
    """Every other row of the shared problem (75 source, 50 target): TCA is cubic in the row count."""
    X, y, sd = domain_data
    return X[::2], y[::2], sd[::2]


@pytest.mark.parametrize("estimator", ALL, ids=lambda e: type(e).__name__)
def test_clone_keeps_parameters_and_drops_fitted_state(estimator: BaseEstimator, data: Data) -> None:
    twin = clone(estimator)
    assert type(twin) is type(estimator)
    assert repr(twin.get_params(deep=False)) == repr(estimator.get_params(deep=False))
    X, y, sd = data
    fitted = clone(estimator).fit(X, y, sample_domain=sd)
    assert any(k.endswith("_") and not k.startswith("_") for k in vars(fitted))
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(clone(fitted)))


def test_nested_parameters_are_settable_for_grid_search() -> None:
    pipe = DAPipeline(CORALAdapter(), LogisticRegression()).set_params(adapter__eps=0.1, estimator__C=3.0)
    assert pipe.adapter.eps == 0.1 and pipe.estimator.C == 3.0
    clf = ReweightedClassifier(KLIEPReweighter()).set_params(reweighter__n_centers=7)
    assert clone(clf).reweighter.n_centers == 7


@pytest.mark.parametrize(("reweighter", "function"), REWEIGHTERS, ids=lambda e: type(e).__name__)
def test_reweighter_weights_source_rows_and_passes_features_through(
    reweighter: KMMReweighter, function: Any, data: Data
) -> None:
    X, _, sd = data
    source, target = X[sd > 0], X[sd < 0]
    fitted = clone(reweighter).fit(X, sample_domain=sd)
    assert fitted.weights_.shape == (len(X),) and np.all(fitted.weights_[sd < 0] == 0)
    np.testing.assert_allclose(fitted.weights_[sd > 0], function(source, target))
    np.testing.assert_array_equal(clone(reweighter).fit_transform(X, sample_domain=sd), X)
    # compute_weights works on any rows without touching the fitted state.
    before = fitted.weights_.copy()
    other = fitted.compute_weights(X[::2], sd[::2])
    assert other.shape == (len(X[::2]),)
    np.testing.assert_array_equal(fitted.weights_, before)


def test_coral_adapter_maps_source_rows_and_leaves_target_rows(data: Data) -> None:
    X, _, sd = data
    adapter = CORALAdapter(eps=0.5).fit(X, sample_domain=sd)
    out = adapter.transform(X, sample_domain=sd)
    np.testing.assert_allclose(out[sd > 0], coral(X[sd > 0], X[sd < 0], eps=0.5))
    np.testing.assert_array_equal(out[sd < 0], X[sd < 0])
    np.testing.assert_array_equal(adapter.transform(X), X)  # no sample_domain: all rows are target rows
    np.testing.assert_allclose(CORALAdapter(eps=0.5).fit_transform(X, sample_domain=sd), out)


def test_subspace_alignment_adapter_matches_the_function(data: Data) -> None:
    X, _, sd = data
    adapter = SubspaceAlignmentAdapter(n_components=2).fit(X, sample_domain=sd)
    Xs, Xt = subspace_alignment(X[sd > 0], X[sd < 0], n_components=2)
    out = adapter.transform(X, sample_domain=sd)
    np.testing.assert_allclose(out[sd > 0], Xs)
    np.testing.assert_allclose(out[sd < 0], Xt)
    np.testing.assert_allclose(adapter.transform(X[sd < 0]), Xt)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_tca_adapter_embeds_new_rows_with_the_kernel_against_fitted_rows(kernel: Any, data: Data) -> None:
    X, _, sd = data
    adapter = TCAAdapter(n_components=2, kernel=kernel).fit(X, sample_domain=sd)
    Zs, Zt = tca(X[sd > 0], X[sd < 0], n_components=2, kernel=kernel)
    np.testing.assert_allclose(adapter.transform(X, sample_domain=sd), np.vstack([Zs, Zt]), atol=1e-10)
    np.testing.assert_allclose(adapter.transform(X[sd < 0][:5]), Zt[:5], atol=1e-10)


@pytest.mark.parametrize("adapter", [r for r, _ in REWEIGHTERS] + ADAPTERS, ids=lambda e: type(e).__name__)
def test_adapters_reject_bad_input(adapter: BaseEstimator, data: Data) -> None:
    X, _, sd = data
    with pytest.raises(NotFittedError):
        clone(adapter).transform(X)
    with pytest.raises(DataError, match="sample_domain is required"):
        clone(adapter).fit(X)
    with pytest.raises(DataError, match="no target rows"):
        clone(adapter).fit(X, sample_domain=np.abs(sd))
    with pytest.raises(DataError, match="NaN or infinite"):
        clone(adapter).fit(np.where(np.arange(X.size).reshape(X.shape) == 0, np.nan, X), sample_domain=sd)
    fitted = clone(adapter).fit(X, sample_domain=sd)
    with pytest.raises(DataError, match="X has 2 features but the model was fitted on 3"):
        fitted.transform(X[:, :2])
    with pytest.raises(DataError, match="sample_domain has 3 entries but X has"):
        fitted.transform(X, sample_domain=sd[:3])


@pytest.mark.parametrize("estimator", [
    ReweightedClassifier(KMMReweighter(B=5.0), LogisticRegression()),
    DAPipeline(TCAAdapter(n_components=2), LogisticRegression()),
    TrAdaBoostClassifier(),
    DomainAdaptClassifier(method="coral"),
], ids=lambda e: type(e).__name__)
def test_unfitted_classifiers_raise_not_fitted(estimator: BaseEstimator, data: Data) -> None:
    """Every prediction method of an unfitted classifier says it is not fitted (no AttributeError)."""
    X, y, _ = data
    for method in ("predict", "predict_proba", "decision_function", "score"):
        if hasattr(estimator, method):
            with pytest.raises(NotFittedError):
                getattr(clone(estimator), method)(*((X, y) if method == "score" else (X,)))


def test_subspace_methods_take_as_many_components_as_the_data_allows() -> None:
    """The registry asked SA and TCA for 32 components whatever the row count: 25 target rows of 64 features
    made method="sa", "auto" and the CLI's default "-m all" fail with an n_components nobody had set."""
    rng = np.random.default_rng(0)
    Xs, Xt = rng.normal(size=(200, 64)), rng.normal(size=(25, 64)) + 0.5
    ys = (Xs[:, 0] > 0).astype(int)
    X, sd = np.vstack([Xs, Xt]), np.r_[np.ones(200, dtype=int), -np.ones(25, dtype=int)]
    y = np.r_[ys, -np.ones(25, dtype=int)]
    sa = SubspaceAlignmentAdapter(n_components=None).fit(X, sample_domain=sd)
    assert sa.n_components_ == 25 and sa.transform(Xt).shape == (25, 25)
    assert SubspaceAlignmentAdapter(n_components=None).fit(X[:210], sample_domain=sd[:210]).n_components_ == 10
    assert SubspaceAlignmentAdapter(n_components=None).fit(np.vstack([Xs, Xt, Xt + 1]), sample_domain=np.r_[
        sd, -np.ones(25, dtype=int)]).n_components_ == 32, "at most 32"
    assert TCAAdapter(n_components=None).fit(X[190:210], sample_domain=sd[190:210]).n_components_ == 20
    with pytest.raises(DataError, match="n_components=26 must be between 1 and"):  # an explicit count is checked
        SubspaceAlignmentAdapter(n_components=26).fit(X, sample_domain=sd)
    for method in ("sa", "tca", "auto"):
        model = DomainAdaptClassifier(backbone="identity", method=method).fit(X, y, sample_domain=sd)
        assert model.predict(Xt).shape == (25,)


@pytest.mark.parametrize("estimator", [DAPipeline(), ReweightedClassifier(), TrAdaBoostClassifier()],
                         ids=lambda e: type(e).__name__)
def test_a_single_source_class_is_a_data_error(estimator: BaseEstimator, data: Data) -> None:
    X, y, sd = data
    y = np.where(sd > 0, 0, y)  # every source row in class 0; some target rows labelled for TrAdaBoost
    with pytest.raises(DataError, match=r"the source rows hold a single class \(0\)"):
        estimator.fit(X, y, sample_domain=sd)


