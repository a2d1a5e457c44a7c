"""CVFeatureSelector: planted features are kept, k is chosen by CV, chi2 refuses negative features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from tests.helpers import blobs

from transferkit import FeatureExtractor
from transferkit.errors import DataError
from transferkit.feature_selection import CVFeatureSelector, candidate_sizes

INFORMATIVE = [4, 17, 29]


def planted(n_per_class: int = 30, n_features: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes told apart only by columns 4, 17 and 29; the other columns are noise."""
    rng = np.random.default_rng(seed)
    y = np.repeat(["a", "b", "c"], n_per_class)
    X = rng.normal(size=(len(y), n_features))
    for col, cls in zip(INFORMATIVE, "abc", strict=True):
        X[:, col] += 3.0 * (y == cls)
    return X, y


@pytest.mark.parametrize("method", ["anova", "rfe", "model"])
def test_planted_informative_columns_are_kept(method: str) -> None:
    X, y = planted()
    sel = CVFeatureSelector(method=method, candidates=(1, 3, 10, 40), random_state=0).fit(X, y)
    kept = np.flatnonzero(sel.get_support())
    assert set(INFORMATIVE) <= set(kept), kept
    assert sel.k_ == len(kept) < 40, "noise columns are dropped: fewer than all features win the CV"
    assert sel.cv_results_["n_features"] == [1, 3, 10, 40]
    assert np.argmax(sel.cv_results_["mean_score"]) in (1, 2)  # 3 or 10 features beat 1 and all 40
    assert sel.transform(X).shape == (len(y), sel.k_)


def test_chi2_refuses_negative_features_and_names_the_column() -> None:
    X, y = planted()
    X[:, :5] = np.abs(X[:, :5])
    with pytest.raises(DataError, match=r"column 5 has the value .*shift='minmax'"):
        CVFeatureSelector(method="chi2").fit(X, y)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    with pytest.raises(DataError, match=r"column 5 \(f5\)"):
        CVFeatureSelector(method="chi2").fit(frame, y)


def test_chi2_with_shift_or_on_non_negative_features() -> None:
    X, y = planted()
    for shift in ("min", "minmax"):
        sel = CVFeatureSelector(method="chi2", shift=shift, candidates=(3, 10)).fit(X, y)
        assert set(INFORMATIVE) <= set(np.flatnonzero(sel.get_support()))
    counts = np.abs(X)  # non-negative input needs no shift
    assert CVFeatureSelector(method="chi2", candidates=(5,)).fit(counts, y).k_ == 5


def test_tolerance_prefers_fewer_features() -> None:
    X, y = planted()
    strict = CVFeatureSelector(method="anova", candidates=(3, 10, 40)).fit(X, y)
    loose = CVFeatureSelector(method="anova", candidates=(3, 10, 40), tolerance=1.0).fit(X, y)
    assert loose.k_ == 3 <= strict.k_


def test_candidate_sizes() -> None:
    assert candidate_sizes(100, None, (0.02, 0.05, 0.5, 1.0)) == [2, 5, 50, 100]
    assert candidate_sizes(10, (1, 5, 50, 5), ()) == [1, 5, 10]
    assert candidate_sizes(20, None, (0.001,)) == [1]
    with pytest.raises(DataError, match="candidates"):
        candidate_sizes(10, (0, 3), ())
    with pytest.raises(DataError, match="fractions"):
        candidate_sizes(10, None, (0.5, 1.5))


@pytest.mark.parametrize("fractions, bad", [((0.5, float("nan")), "nan"), ((float("inf"),), "inf"),
                                            (("0.5",), "'0.5'"), ((True,), "True")])
def test_candidate_sizes_refuse_fractions_that_are_no_finite_share(fractions: tuple, bad: str) -> None:
    with pytest.raises(DataError, match=f"fractions must be finite numbers in \\(0, 1\\]; {bad} is not"):
        candidate_sizes(10, None, fractions)
    X, y = blobs(10)
    with pytest.raises(DataError, match="fractions must be finite"):
        CVFeatureSelector(fractions=fractions).fit(X, y)
    with pytest.raises(DataError, match="candidates"):
        candidate_sizes(10, (float("nan"), 2), ())


def test_bad_parameters_fail_in_fit_with_a_clear_error() -> None:
    X, y = planted(5)
    with pytest.raises(DataError, match="unknown feature-selection method 'lasso'"):
        CVFeatureSelector(method="lasso").fit(X, y)
    with pytest.raises(DataError, match="shift must be"):
        CVFeatureSelector(method="chi2", shift="log").fit(X, y)
    with pytest.raises(DataError, match=r"only one class \('a'\) in the labels; a classifier needs at least two"):
        CVFeatureSelector().fit(X, np.repeat("a", len(y)))
    with pytest.raises(DataError, match="class 'c' has 1"):
        CVFeatureSelector().fit(X[:11], y[:11])
    for cv in (1, 0, -3, 2.5, True):  # cv=1 claimed a class of 20 examples had too few
        with pytest.raises(DataError, match=f"cv must be an integer of at least 2 folds, got {cv!r}"):
            CVFeatureSelector(cv=cv).fit(X, y)
    for tolerance in (-1, float("nan"), float("inf"), "0.1"):  # an IndexError deep in fit before
        with pytest.raises(DataError, match="tolerance must be a finite number >= 0"):
            CVFeatureSelector(tolerance=tolerance).fit(X, y)


def test_a_cloneable_pipeline_step_after_feature_extraction() -> None:
    X, y = blobs(12, n_features=6, n_classes=3)
    step = CVFeatureSelector(method="anova", fractions=(0.25, 1.0), cv=2)
    assert clone(step).get_params() == step.get_params()
    pipe = make_pipeline(FeatureExtractor(backbone="tiny-mlp", cache=False), step, LogisticRegression())
    pipe.fit(X, y)
    selector = pipe.named_steps["cvfeatureselector"]
    sizes, means = selector.cv_results_["n_features"], selector.cv_results_["mean_score"]
    assert sizes == [4, 16]  # a quarter and all of tiny-mlp's 16 features
    assert selector.k_ == sizes[int(np.argmax(means))]  # tolerance 0: the best mean, the smaller k on a tie
    assert selector.get_support().sum() == selector.k_
    assert pipe.named_steps["logisticregression"].coef_.shape == (3, selector.k_)  # the next step gets k
    assert pipe.predict(X).shape == (len(y),)
    assert pipe.set_params(cvfeatureselector__method="rfe").fit(X, y).score(X, y) > 0.5


def test_rfe_keeps_the_features_its_cross_validation_scored() -> None:
    """The CV scored the top k of one elimination order, then a fresh RFE(k) kept others (4 of 10 swapped)."""
    from transferkit.feature_selection._rankings import Prepared, feature_order
    from transferkit.feature_selection._selector import default_estimator

    rng = np.random.default_rng(1)  # a case where RFE(37) keeps 3 features outside the scored top 37
    X = rng.normal(size=(60, 200))
    y = rng.integers(0, 3, 60)
    X[:, :5] += y[:, None]
    sel = CVFeatureSelector(method="rfe", candidates=[10, 37], cv=3, random_state=0).fit(X, y)
    assert sel.k_ == 37
    order = feature_order("rfe", Prepared("rfe", None, X, None)(X), y, estimator=default_estimator(0), smallest=10,
                          step=sel.step)
    assert sel.selector_ is None
    assert set(np.flatnonzero(sel.support_).tolist()) == set(order[: sel.k_].tolist())


def test_bad_tables_are_one_line_errors_naming_the_cell() -> None:
    """NaN cells, a wrong width at transform and continuous labels were scikit-learn's multi-line messages."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 5)), np.repeat([0, 1], 15)
    bad = X.copy()
    bad[4, 2] = np.nan
    with pytest.raises(DataError, match=r"^X has NaN in row 4, column 2; impute or drop it first$"):
        CVFeatureSelector(method="anova").fit(bad, y)
    with pytest.raises(DataError, match=r"labels such as 0.5 are continuous"):
        CVFeatureSelector(method="anova").fit(X, np.r_[y[:-1], 0.5])
    selector = CVFeatureSelector(method="anova", candidates=[2]).fit(X, y)
    with pytest.raises(DataError, match=r"^X has 4 features, but CVFeatureSelector is expecting 5 features as input$"):
        selector.transform(X[:, :4])
