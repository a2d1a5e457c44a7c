"""DomainAdaptClassifier and the weighted components, from the Python API QA report: DataFrames read by column
name (3), a Pipeline as the weighted estimator (8), ``score`` on the labelled rows only (9), and internal
scikit-learn objects that ignore a global ``transform_output="pandas"`` (5)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit.adaptation import (
    DAPipeline,
    DeepDA,
    DEVScorer,
    DomainAdaptClassifier,
    KMMReweighter,
    ReweightedClassifier,
    TrAdaBoostClassifier,
)
from transferkit.adaptation._report import tsne_png
from transferkit.errors import DataError


def frame_problem(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Columns a, b, c; 40 labelled source rows, 40 shifted target rows masked with -1 (the report's data)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    X.loc[40:, "a"] += 1
    X.loc[20:39, "b"] += 3
    y = np.r_[np.repeat([0, 1], 20), -np.ones(40, dtype=int)]
    dom = np.r_[np.ones(40, dtype=int), -np.ones(40, dtype=int)]
    return X, y, dom


# --- 3. a DataFrame is read by its column names ------------------------------------------------------------


METHODS_BY_KIND = {
    "coral": lambda: "coral",
    "sa": lambda: "sa",
    "kmm": lambda: "kmm",
    "source-only": lambda: "source-only",
    "deep": lambda: DeepDA(method="mmd", epochs=1, bottleneck=4),
}


@pytest.mark.parametrize("kind", list(METHODS_BY_KIND))
def test_reordered_dataframe_columns_are_matched_by_name(kind: str) -> None:
    X, y, dom = frame_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names" from fit's own checks
        clf = DomainAdaptClassifier(method=METHODS_BY_KIND[kind](), cache=False).fit(X, y, sample_domain=dom)
        expected = clf.predict_proba(X)
        reordered = clf.predict_proba(X[["c", "a", "b"]])
    assert list(clf.feature_names_in_) == ["a", "b", "c"] and clf.n_features_in_ == 3
    np.testing.assert_array_equal(reordered, expected)
    on_arrays = DomainAdaptClassifier(method=METHODS_BY_KIND[kind](), cache=False).fit(X.to_numpy(), y, sample_domain=dom)
    assert not hasattr(on_arrays, "feature_names_in_")
    np.testing.assert_allclose(expected, on_arrays.predict_proba(X.to_numpy()), rtol=0, atol=1e-12)


@pytest.mark.parametrize("other, match", [
    (lambda X: X.set_axis(["x", "y", "z"], axis=1),
     r"X lacks the feature column\(s\) 'a', 'b', 'c' .*and has the column\(s\) 'x', 'y', 'z'"),
    (lambda X: X[["a", "b"]], r"X lacks the feature column\(s\) 'c' that the model was fitted on"),
    (lambda X: X.assign(d=0.0), r"X has the column\(s\) 'd' that the model was not fitted on"),
], ids=["renamed", "missing", "extra"])
def test_other_dataframe_columns_are_refused_naming_them(other: Any, match: str) -> None:
    X, y, dom = frame_problem()
    clf = DomainAdaptClassifier(method="coral", cache=False).fit(X, y, sample_domain=dom)
    with pytest.raises(DataError, match=match):
        clf.predict(other(X))


def test_the_target_rows_kept_for_the_scorers_keep_the_column_names() -> None:
    X, y, dom = frame_problem()
    clf = DomainAdaptClassifier(method="coral", cache=False).fit(X, y, sample_domain=dom)
    plain = DomainAdaptClassifier(method="coral", cache=False).fit(X.to_numpy(), y, sample_domain=dom)
    assert list(clf.X_target_.columns) == ["a", "b", "c"] and clf.X_target_.shape == (40, 3)
    source = dom > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score = DEVScorer()(clf, X[source], y[source])  # the target rows from X_target_
    assert score == pytest.approx(DEVScorer()(plain, X.to_numpy()[source], y[source]), rel=1e-12)


def test_auto_on_a_dataframe_fits_and_reads_columns_by_name() -> None:
    X, y, dom = frame_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = DomainAdaptClassifier(method="auto", candidates=["coral"], cache=False).fit(X, y, sample_domain=dom)
    np.testing.assert_array_equal(clf.predict_proba(X[["b", "c", "a"]]), clf.predict_proba(X))


# --- 8. a Pipeline estimator gets the weights ----------------------------------------------------------------


def labelled_target_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, y, dom = frame_problem()
    y = y.copy()
    y[40:44] = [0, 1, 0, 1]  # a few labelled target rows, for TrAdaBoost
    return X.to_numpy(), y, dom


def test_a_pipeline_after_a_reweighter_gets_the_weights_in_every_step() -> None:
    X, y, dom = labelled_target_problem()
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    clf = DomainAdaptClassifier(method="kmm", estimator=pipe, standardize=False, cache=False)
    clf.fit(X, y, sample_domain=dom)
    source = dom > 0
    w = clf.source_weights()[source]
    assert np.ptp(w) > 0.1  # the weights differ, so where they go matters
    by_hand = clone(pipe).fit(X[source], y[source], standardscaler__sample_weight=w,
                              logisticregression__sample_weight=w)
    unweighted = clone(pipe).fit(X[source], y[source])
    np.testing.assert_allclose(clf.predict_proba(X), by_hand.predict_proba(X), rtol=0, atol=1e-10)
    assert np.abs(clf.predict_proba(X) - unweighted.predict_proba(X)).max() > 1e-3


@pytest.mark.parametrize("make", [
    lambda pipe: DAPipeline(KMMReweighter(), pipe),
    lambda pipe: ReweightedClassifier(KMMReweighter(), pipe),
], ids=["DAPipeline", "ReweightedClassifier"])
def test_the_da_pipelines_take_a_pipeline_estimator(make: Any) -> None:
    X, y, dom = labelled_target_problem()
    y[40:44] = -1
    with_pipe = make(Pipeline([("skip", "passthrough"), ("lr", LogisticRegression())])).fit(X, y, sample_domain=dom)
    plain = make(LogisticRegression()).fit(X, y, sample_domain=dom)  # the same weights, only to the classifier
    np.testing.assert_allclose(with_pipe.predict_proba(X), plain.predict_proba(X), rtol=0, atol=1e-12)


def test_tradaboost_boosts_a_pipeline_as_it_boosts_its_final_step() -> None:
    X, y, dom = labelled_target_problem()
    pipe = Pipeline([("skip", "passthrough"), ("lr", LogisticRegression(max_iter=1000))])
    boosted = TrAdaBoostClassifier(pipe, n_estimators=4).fit(X, y, sample_domain=dom)
    plain = TrAdaBoostClassifier(LogisticRegression(max_iter=1000), n_estimators=4).fit(X, y, sample_domain=dom)
    assert all(isinstance(e, Pipeline) for e in boosted.estimators_)
    np.testing.assert_allclose(boosted.target_errors_, plain.target_errors_, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(boosted.predict(X), plain.predict(X))
    clf = DomainAdaptClassifier(method="tradaboost", estimator=make_pipeline(StandardScaler(), LogisticRegression()),
                                cache=False).fit(X, y, sample_domain=dom)
    assert clf.predict(X).shape == (80,)


@pytest.mark.parametrize("method, needs", [("kmm", "reweighting"), ("tradaboost", "TrAdaBoost")])
def test_a_pipeline_whose_final_step_takes_no_weights_is_refused_naming_that_step(method: str, needs: str) -> None:
    X, y, dom = labelled_target_problem()
    pipe = make_pipeline(StandardScaler(), KNeighborsClassifier())
    with pytest.raises(DataError, match=rf"the Pipeline's final step KNeighborsClassifier.fit does not accept "
                                        rf"sample_weight, which {needs} needs"):
        DomainAdaptClassifier(method=method, estimator=pipe, cache=False).fit(X, y, sample_domain=dom)
    with pytest.raises(DataError, match=r"final step KNeighborsClassifier.fit does not accept sample_weight"):
        DAPipeline(KMMReweighter(), pipe).fit(X, y, sample_domain=dom)


# --- 9. score leaves masked rows out -----------------------------------------------------------------------


def score_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlapping classes (source accuracy below 1), target rows shifted."""
    rng = np.random.default_rng(3)
    ys = np.repeat([0, 1], 30)
    Xs = rng.normal(size=(60, 2)) + ys[:, None] * 1.0
    yt = np.repeat([0, 1], 30)
    Xt = rng.normal(size=(60, 2)) * 1.3 + 0.8 + yt[:, None] * 1.0
    return np.vstack([Xs, Xt]), np.r_[ys, yt], np.r_[np.ones(60, dtype=int), -np.ones(60, dtype=int)]


@pytest.mark.parametrize("mask", [-1, None, np.nan])
def test_score_counts_only_the_labelled_rows(mask: Any) -> None:
    X, truth, dom = score_problem()
    source = dom > 0
    y = np.where(source, truth, -1)
    clf = DomainAdaptClassifier(method="coral", cache=False).fit(X, y, sample_domain=dom)
    if mask is None:
        masked = truth.astype(object)
    elif mask == -1:
        masked = truth.copy()
    else:
        masked = truth.astype(float)
    masked[~source] = mask
    expected = accuracy_score(truth[source], clf.predict(X[source]))
    assert 0.5 < expected < 1.0
    assert clf.score(X, masked) == pytest.approx(expected, abs=1e-15)
    # a few target rows labelled: they count too
    masked[60:70] = truth[60:70]
    rows = source | (np.arange(len(X)) < 70)
    assert clf.score(X, masked) == pytest.approx(accuracy_score(truth[rows], clf.predict(X[rows])), abs=1e-15)


def test_score_weights_only_the_labelled_rows_and_refuses_no_label_at_all() -> None:
    X, truth, dom = score_problem()
    source = dom > 0
    y = np.where(source, truth, -1)
    clf = DomainAdaptClassifier(method="coral", cache=False).fit(X, y, sample_domain=dom)
    w = np.random.default_rng(0).uniform(0.1, 2.0, len(X))
    expected = accuracy_score(truth[source], clf.predict(X[source]), sample_weight=w[source])
    assert clf.score(X, y, sample_weight=w) == pytest.approx(expected, abs=1e-15)
    with pytest.raises(DataError, match=r"y holds no label to score: all 60 rows are masked"):
        clf.score(X[~source], y[~source])
    with pytest.raises(DataError, match=r"y has shape \(119,\), but X has 120 rows"):
        clf.score(X, y[1:])
    with pytest.raises(DataError, match=r"sample_weight has shape \(3,\), but X has 120 rows"):
        clf.score(X, y, sample_weight=w[:3])


def test_score_counts_minus_one_when_it_is_a_class() -> None:
    X, truth, dom = score_problem()
    labels = np.where(truth == 0, -1.0, 1.0)  # -1 is a class: the target rows are masked with NaN
    y = np.where(dom > 0, labels, np.nan)
    clf = DomainAdaptClassifier(method="coral", cache=False).fit(X, y, sample_domain=dom)
    assert -1.0 in clf.classes_
    source = dom > 0
    assert clf.score(X, y) == pytest.approx(accuracy_score(labels[source], clf.predict(X[source])), abs=1e-15)


def test_default_cross_validation_scores_the_labelled_rows_of_each_fold() -> None:
    X, truth, dom = score_problem()
    y = np.where(dom > 0, truth, -1)
    cv = KFold(3, shuffle=True, random_state=0)
    est = DomainAdaptClassifier(method="coral", cache=False)
    scores = cross_val_score(est, X, y, cv=cv, params={"sample_domain": dom}, error_score="raise")
    for score, (train, test) in zip(scores, cv.split(X), strict=True):
        fitted = clone(est).fit(X[train], y[train], sample_domain=dom[train])
        labelled = test[dom[test] > 0]
        assert score == pytest.approx(accuracy_score(truth[labelled], fitted.predict(X[labelled])), abs=1e-15)


# --- 5. internal scikit-learn objects ignore a global pandas output ----------------------------------------------


def test_the_tsne_panels_and_the_classifier_ignore_a_global_pandas_output() -> None:
    X, y, dom = frame_problem()
    arr = X.to_numpy()
    expected = DomainAdaptClassifier(method="discriminator", n_components=2, cache=False).fit(
        arr, y, sample_domain=dom).predict_proba(arr)
    with sklearn.config_context(transform_output="pandas"):
        png = tsne_png({"before adaptation": (arr[dom > 0], arr[dom < 0])})
        got = DomainAdaptClassifier(method="discriminator", n_components=2, cache=False).fit(
            arr, y, sample_domain=dom).predict_proba(arr)
        tiny = DomainAdaptClassifier(method="coral", backbone="tiny-mlp", cache=False).fit(arr, y, sample_domain=dom)
        assert isinstance(tiny.domain_features(arr), np.ndarray)
    assert png.startswith(b"\x89PNG")
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
