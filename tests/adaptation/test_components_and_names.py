"""``n_components=None`` and bad values in the mapping functions and adapters, and the adapters' feature
names: ``get_feature_names_out`` and ``set_output(transform="pandas")`` in a plain scikit-learn Pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit.adaptation import (
    CORALAdapter,
    DiscriminatorReweighter,
    KLIEPReweighter,
    KMMReweighter,
    SubspaceAlignmentAdapter,
    TCAAdapter,
    subspace_alignment,
    tca,
)
from transferkit.adaptation._mapping import MAX_AUTO_COMPONENTS
from transferkit.errors import DataError

Data = tuple[np.ndarray, np.ndarray, np.ndarray]


@pytest.fixture
def data(domain_data: Data) -> Data:
    """Every other row of the shared 3-D problem (75 source, 50 target): TCA is cubic in the row count."""
    X, y, sd = domain_data
    return X[::2], y[::2], sd[::2]


@pytest.fixture
def wide() -> tuple[np.ndarray, np.ndarray]:
    """40 features, more than MAX_AUTO_COMPONENTS, on 45 source and 40 target rows."""
    rng = np.random.default_rng(3)
    return rng.normal(size=(45, 40)), rng.normal(0.5, 2.0, size=(40, 40))


# --- n_components ------------------------------------------------------------------------------------------


def test_functions_take_none_like_the_adapters(wide: tuple[np.ndarray, np.ndarray]) -> None:
    """None picks as many components as the data allows, capped at MAX_AUTO_COMPONENTS, in both APIs."""
    source, target = wide
    X = np.vstack([source, target])
    sd = np.r_[np.ones(len(source)), -np.ones(len(target))]
    Xs, Xt = subspace_alignment(source, target, n_components=None)
    assert Xs.shape == (45, MAX_AUTO_COMPONENTS) and Xt.shape == (40, MAX_AUTO_COMPONENTS)
    sa = SubspaceAlignmentAdapter(n_components=None).fit(X, sample_domain=sd)
    assert sa.n_components_ == MAX_AUTO_COMPONENTS
    np.testing.assert_allclose(sa.transform(X, sd), np.vstack([Xs, Xt]))
    Zs, Zt = tca(source, target, n_components=None)
    assert Zs.shape == (45, MAX_AUTO_COMPONENTS) and Zt.shape == (40, MAX_AUTO_COMPONENTS)
    tc = TCAAdapter(n_components=None).fit(X, sample_domain=sd)
    assert tc.n_components_ == MAX_AUTO_COMPONENTS
    np.testing.assert_allclose(tc.transform(X), np.vstack([Zs, Zt]), atol=1e-8)


def test_none_is_limited_by_the_data(data: Data) -> None:
    """On 3 features, None keeps 3 components: SA is bounded by the features, TCA's auto width too."""
    X, _, sd = data
    Xs, _ = subspace_alignment(X[sd > 0], X[sd < 0], n_components=None)
    Zs, _ = tca(X[sd > 0], X[sd < 0], n_components=None)
    assert Xs.shape[1] == Zs.shape[1] == 3
    # an explicit TCA width may still exceed the feature count (up to n_source + n_target)
    assert tca(X[sd > 0], X[sd < 0], n_components=5)[0].shape[1] == 5


BAD_COMPONENTS: list[Any] = [True, False, 2.0, 2.5, "2", 0, -1, np.float64(2.0)]


@pytest.mark.parametrize("value", BAD_COMPONENTS, ids=repr)
def test_bad_n_components_name_the_parameter(value: Any, data: Data) -> None:
    X, _, sd = data
    source, target = X[sd > 0], X[sd < 0]
    calls = [
        lambda: subspace_alignment(source, target, n_components=value),
        lambda: tca(source, target, n_components=value),
        lambda: SubspaceAlignmentAdapter(n_components=value).fit(X, sample_domain=sd),
        lambda: TCAAdapter(n_components=value).fit(X, sample_domain=sd),
    ]
    for call in calls:
        with pytest.raises(DataError, match=r"n_components=.* must be between 1 and .*: an integer, or None"):
            call()


def test_too_many_components_give_the_limit(data: Data) -> None:
    X, _, sd = data
    source, target = X[sd > 0], X[sd < 0]
    with pytest.raises(DataError, match=r"n_components=4 .* min\(n_features, n_source, n_target\) = 3"):
        subspace_alignment(source, target, n_components=4)
    with pytest.raises(DataError, match=r"n_components=4 .* min\(n_features, n_source, n_target\) = 3"):
        SubspaceAlignmentAdapter(n_components=4).fit(X, sample_domain=sd)
    with pytest.raises(DataError, match=r"n_components=126 .* n_source \+ n_target = 125"):
        tca(source, target, n_components=126)
    with pytest.raises(DataError, match=r"n_components=126 .* n_source \+ n_target = 125"):
        TCAAdapter(n_components=126).fit(X, sample_domain=sd)


def test_numpy_integers_are_accepted(data: Data) -> None:
    X, _, sd = data
    assert SubspaceAlignmentAdapter(n_components=np.int64(2)).fit(X, sample_domain=sd).n_components_ == 2
    assert tca(X[sd > 0], X[sd < 0], n_components=np.int32(2))[0].shape[1] == 2


# --- feature names -----------------------------------------------------------------------------------------

COLUMNS = ["height", "width", "depth"]
#: (adapter, the names of its output columns for COLUMNS)
NAMED: list[tuple[BaseEstimator, list[str]]] = [
    (CORALAdapter(eps=0.5), COLUMNS),
    (SubspaceAlignmentAdapter(n_components=2), ["subspacealignmentadapter0", "subspacealignmentadapter1"]),
    (TCAAdapter(n_components=3), ["tcaadapter0", "tcaadapter1", "tcaadapter2"]),
    (KMMReweighter(B=50.0), COLUMNS),
    (KLIEPReweighter(n_centers=10, cv=2), COLUMNS),
    (DiscriminatorReweighter(cv=2), COLUMNS),
]


def _frame(X: np.ndarray) -> pd.DataFrame:
    """Rows with named columns and an index that is not 0..n-1 (the output must keep it)."""
    return pd.DataFrame(X, columns=COLUMNS, index=np.arange(len(X)) + 1000)


@pytest.mark.parametrize(("adapter", "names"), NAMED, ids=[type(a).__name__ for a, _ in NAMED])
def test_pipeline_set_output_pandas_names_the_columns(adapter: BaseEstimator, names: list[str], data: Data) -> None:
    X, _, sd = data
    df = _frame(X)
    pipe = Pipeline([("adapt", clone(adapter))]).set_output(transform="pandas")
    out = pipe.fit_transform(df, adapt__sample_domain=sd)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == names and out.shape == (len(X), len(names))
    assert list(out.index) == list(df.index)
    np.testing.assert_allclose(out.to_numpy(), clone(adapter).fit_transform(X, sample_domain=sd))
    target = pipe.transform(df[sd < 0])
    assert isinstance(target, pd.DataFrame) and list(target.columns) == names
    assert list(pipe.get_feature_names_out()) == names
    fitted = pipe.named_steps["adapt"]
    assert list(fitted.feature_names_in_) == COLUMNS and fitted.n_features_in_ == 3


@pytest.mark.parametrize(("adapter", "names"), NAMED[:3], ids=[type(a).__name__ for a, _ in NAMED[:3]])
def test_names_after_a_scaler_and_width_of_the_output(adapter: BaseEstimator, names: list[str], data: Data) -> None:
    X, _, sd = data
    pipe = make_pipeline(StandardScaler(), clone(adapter)).set_output(transform="pandas")
    step = type(adapter).__name__.lower()
    pipe.fit(_frame(X), **{f"{step}__sample_domain": sd})
    out = pipe.transform(_frame(X))
    assert list(out.columns) == names
    assert len(pipe.get_feature_names_out()) == out.shape[1]


@pytest.mark.parametrize(("adapter", "names"), NAMED[:3], ids=[type(a).__name__ for a, _ in NAMED[:3]])
def test_names_without_input_names(adapter: BaseEstimator, names: list[str], data: Data) -> None:
    """Fitted on an array: no ``feature_names_in_``; a refit on an array forgets earlier column names."""
    X, _, sd = data
    fitted = clone(adapter).fit(_frame(X), sample_domain=sd).fit(X, sample_domain=sd)
    assert not hasattr(fitted, "feature_names_in_") and fitted.n_features_in_ == 3
    expected = ["x0", "x1", "x2"] if names == COLUMNS else names
    assert list(fitted.get_feature_names_out()) == expected
    assert len(fitted.get_feature_names_out()) == fitted.transform(X).shape[1]


@pytest.mark.parametrize("adapter", [a for a, _ in NAMED[:4]], ids=lambda e: type(e).__name__)
def test_other_column_names_at_transform_are_refused(adapter: BaseEstimator, data: Data) -> None:
    X, _, sd = data
    fitted = clone(adapter).fit(_frame(X), sample_domain=sd)
    renamed = _frame(X).rename(columns={"depth": "weight"})
    with pytest.raises(DataError, match="weight"):
        fitted.transform(renamed)
    # arrays carry no names and pass, as before
    assert fitted.transform(X).shape[0] == len(X)


def test_feature_names_out_refuses_other_input_features(data: Data) -> None:
    X, _, sd = data
    fitted = CORALAdapter().fit(_frame(X), sample_domain=sd)
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        fitted.get_feature_names_out(["a", "b", "c"])


def test_fitted_columns_in_another_order_are_reordered(data: Data) -> None:
    X, _, sd = data
    fitted = SubspaceAlignmentAdapter(n_components=2).fit(_frame(X), sample_domain=sd)
    shuffled = _frame(X)[["depth", "height", "width"]]
    np.testing.assert_allclose(fitted.transform(shuffled), fitted.transform(X))


def test_column_names_of_mixed_types_are_a_data_error(data: Data) -> None:
    X, _, sd = data
    mixed = pd.DataFrame(X, columns=["a", 1, "c"])
    with pytest.raises(DataError, match="column / feature name|feature name"):
        CORALAdapter().fit(mixed, sample_domain=sd)


@pytest.mark.parametrize(("adapter", "names"), NAMED[:3], ids=[type(a).__name__ for a, _ in NAMED[:3]])
def test_a_da_pipeline_names_its_adapted_columns(adapter: BaseEstimator, names: list[str], data: Data) -> None:
    """DAPipeline had transform but no feature names."""
    from transferkit.adaptation import DAPipeline

    X, y, sd = data
    pipe = DAPipeline(clone(adapter)).fit(_frame(X), y, sample_domain=sd)
    assert list(pipe.get_feature_names_out()) == names
    assert pipe.get_feature_names_out().shape == (pipe.transform(_frame(X)).shape[1],)
    assert list(pipe.feature_names_in_) == COLUMNS
    assert not hasattr(DAPipeline(clone(adapter)).fit(X, y, sample_domain=sd), "feature_names_in_")


@pytest.mark.parametrize("make", ["CORALAdapter", "TCAAdapter", "SubspaceAlignmentAdapter", "KMMReweighter"])
def test_sparse_or_complex_features_are_refused_by_name(make: str) -> None:
    """Sparse input said "setting an array element with a sequence"; complex input lost its imaginary
    part with only a ComplexWarning."""
    import scipy.sparse as sp

    import transferkit.adaptation as adaptation
    from transferkit.errors import DataError

    X = np.random.default_rng(0).random((20, 3))
    domains = np.r_[[1] * 10, [-1] * 10]
    adapter = getattr(adaptation, make)
    with pytest.raises(DataError, match=r"^X is sparse; adaptation needs dense features \(X.toarray\(\) for a scipy"):
        adapter().fit(sp.csr_matrix(X), sample_domain=domains)
    with pytest.raises(DataError, match="^X holds complex numbers; adaptation needs real-valued features$"):
        adapter().fit(X + 1j, sample_domain=domains)
