"""DomainAdaptClassifier: every method, auto, grid search with the target-aware scorers, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from transferkit.adaptation import (
    METHODS,
    CORALAdapter,
    DeepDA,
    DEVScorer,
    DomainAdaptClassifier,
    ImportanceWeightedScorer,
    PredictionEntropyScorer,
    SourceHoldoutSplit,
    TrAdaBoostClassifier,
)
from transferkit.errors import DataError


def problem(seed: int = 0, n_s: int = 150, n_t: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two classes along x0; the target is shifted and rescaled (a covariate shift). Returns X, y (target
    masked with -1), sample_domain and the true target labels (for evaluation only)."""
    rng = np.random.default_rng(seed)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, n)
        X = rng.normal(size=(n, 4))
        X[:, 0] += 3 * y - 1.5
        return X, y

    Xs, ys = draw(n_s)
    Xt, yt = draw(n_t)
    Xt = Xt * np.array([1.5, 2.0, 0.7, 1.0]) + np.array([1.0, -2.0, 0.5, 3.0])
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, -np.ones(n_t, dtype=int)]
    dom = np.r_[np.ones(n_s, dtype=int), -np.ones(n_t, dtype=int)]
    return X, y, dom, yt


FAST_DEEP = {"epochs": 5, "bottleneck": 8, "head_lr": 1e-2}


def _fast(method: str) -> object:
    if method in ("dann", "mmd", "deep-coral"):
        return DeepDA(method="coral" if method == "deep-coral" else method, **FAST_DEEP)  # type: ignore[arg-type]
    return method


@pytest.mark.parametrize("method", [m for m in METHODS if m != "tradaboost"])
def test_every_method_fits_and_predicts_target_rows(method: str) -> None:
    X, y, dom, yt = problem()
    clf = DomainAdaptClassifier(method=_fast(method), cache=False).fit(X, y, sample_domain=dom)
    proba = clf.predict_proba(X[dom < 0])
    assert proba.shape == (len(yt), 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(clf.classes_) == {0, 1}
    assert np.mean(clf.predict(X[dom < 0]) == yt) > 0.6  # far above chance on this shift
    assert clf.adapted_features(X[dom < 0]).shape[0] == len(yt)


def test_string_labels_and_none_masks() -> None:
    X, y, dom, _ = problem()
    labels = np.array(["neg", "pos"], dtype=object)[np.clip(y, 0, 1)]
    labels[dom < 0] = None
    clf = DomainAdaptClassifier(method="coral").fit(X, labels, sample_domain=dom)
    assert clf.classes_.tolist() == ["neg", "pos"]
    assert set(clf.predict(X[:5])) <= {"neg", "pos"}


@pytest.mark.parametrize("method", ["source-only", "coral", "auto"])
def test_integer_labels_masked_with_none(method: str) -> None:
    """None masks non-string labels too (an object array of ints and None; scikit-learn cannot type it)."""
    X, y, dom, _ = problem(n_s=60, n_t=40)
    labels = np.array([3, 7], dtype=object)[np.clip(y, 0, 1)]
    labels[dom < 0] = None
    clf = DomainAdaptClassifier(method=method).fit(X, labels, sample_domain=dom)
    assert clf.classes_.tolist() == [3, 7]
    assert set(clf.predict(X[:10]).tolist()) <= {3, 7}


def test_tradaboost_uses_the_few_target_labels() -> None:
    X, y, dom, yt = problem()
    y_few = y.copy()
    target_rows = np.flatnonzero(dom < 0)
    y_few[target_rows[:10]] = yt[:10]
    clf = DomainAdaptClassifier(method="tradaboost").fit(X, y_few, sample_domain=dom)
    assert isinstance(clf.model_, TrAdaBoostClassifier)
    with pytest.raises(DataError, match="labelled target rows"):
        DomainAdaptClassifier(method="tradaboost").fit(X, y, sample_domain=dom)


def test_refits_start_clean_and_fitted_state_does_not_share_the_method_object() -> None:
    X, y, dom, _ = problem(n_s=60, n_t=40)
    method = CORALAdapter(eps=0.5)
    clf = DomainAdaptClassifier(method="auto").fit(X, y, sample_domain=dom)
    assert hasattr(clf, "selection_scores_")
    clf.set_params(method=method).fit(X, y, sample_domain=dom)
    assert not hasattr(clf, "selection_scores_"), "the auto fit's scores do not describe this fit"
    assert clf.method_ is not method and clf.method_.get_params() == method.get_params()
    before = clf.predict_proba(X)
    clf.set_params(method__eps=50.0)  # changes the parameter, not the fitted model
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_method_objects_are_searchable_parameters() -> None:
    clf = DomainAdaptClassifier(method=CORALAdapter(eps=0.5))
    assert clf.get_params()["method__eps"] == 0.5
    clone(clf).set_params(method__eps=2.0)


def test_reweighting_exposes_weights_and_mapping_changes_source_features() -> None:
    X, y, dom, _ = problem()
    kmm = DomainAdaptClassifier(method="kmm").fit(X, y, sample_domain=dom)
    w = kmm.source_weights()
    assert w is not None and np.all(w[dom < 0] == 0) and w[dom > 0].std() > 0
    coral = DomainAdaptClassifier(method="coral").fit(X, y, sample_domain=dom)
    assert coral.source_weights() is None
    src = X[dom > 0]
    assert not np.allclose(coral.adapted_features(src, np.ones(len(src), int)), coral.domain_features(src))


def test_auto_keeps_source_only_when_nothing_is_surely_better() -> None:
    # no shift at all: both domains from one distribution, so no method can be surely better
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    dom = np.r_[np.ones(120, int), -np.ones(80, int)]
    y[dom < 0] = -1
    clf = DomainAdaptClassifier(method="auto", candidates=["coral", "sa"]).fit(X, y, sample_domain=dom)
    assert set(clf.selection_scores_) == {"source-only", "coral", "sa"}
    assert clf.method_ == "source-only"


def test_auto_picks_a_method_that_clearly_helps() -> None:
    """Covariate shift with a curved boundary (Huang et al. 2006 style): the source spreads wide, the target
    sits where a global linear fit is wrong; reweighting towards the target fixes it, and the importance-
    weighted DEV score sees it without any target label."""
    rng = np.random.default_rng(0)
    Xs, Xt = rng.normal(0, 1.5, size=(300, 2)), rng.normal([2.0, 0.0], 0.5, size=(200, 2))

    def rule(X: np.ndarray) -> np.ndarray:
        return (X[:, 1] > 1.5 * (X[:, 0] - 1) ** 2 - 1.0).astype(int)

    X = np.vstack([Xs, Xt])
    y = np.r_[rule(Xs), -np.ones(200, dtype=int)]
    dom = np.r_[np.ones(300, dtype=int), -np.ones(200, dtype=int)]
    base = DomainAdaptClassifier(method="source-only").fit(X, y, sample_domain=dom)
    auto = DomainAdaptClassifier(method="auto", candidates=["kmm", "discriminator", "kliep"])
    auto.fit(X, y, sample_domain=dom)
    assert auto.method_ in {"kmm", "discriminator", "kliep"}
    assert np.mean(auto.predict(Xt) == rule(Xt)) > np.mean(base.predict(Xt) == rule(Xt)) + 0.3
    with pytest.raises(DataError, match="unknown adaptation method"):
        DomainAdaptClassifier(method="auto", candidates=["nope"]).fit(X, y, sample_domain=dom)


def test_gridsearch_with_domain_splitter_and_scorers() -> None:
    X, y, dom, _ = problem()
    for scorer in (DEVScorer(), ImportanceWeightedScorer(), PredictionEntropyScorer()):
        search = GridSearchCV(
            DomainAdaptClassifier(method="source-only"),
            {"estimator": [LogisticRegression(), DummyClassifier(strategy="uniform")]},
            cv=SourceHoldoutSplit(n_splits=2), scoring=scorer,
        )
        search.fit(X, y, groups=dom, sample_domain=dom)
        # a uniform guess has maximal entropy, chance accuracy and log-loss log(2): every scorer rejects it
        assert isinstance(search.best_params_["estimator"], LogisticRegression), scorer
        assert search.best_estimator_.X_target_.shape == (int((dom < 0).sum()), 4)


def test_scorers_accept_sample_domain_directly() -> None:
    X, y, dom, _ = problem()
    clf = DomainAdaptClassifier(method="source-only").fit(X, y, sample_domain=dom)
    direct = DEVScorer()(clf, X, y, sample_domain=dom)
    assert np.isfinite(direct) and direct < 0
    with pytest.raises(DataError, match="target rows"):
        DEVScorer()(LogisticRegression().fit(X[dom > 0], y[dom > 0]), X[dom > 0], y[dom > 0])


def test_splitter_keeps_all_target_rows_in_training() -> None:
    X, y, dom, _ = problem()
    for train, test in SourceHoldoutSplit(n_splits=3, test_size=0.25).split(X, y, dom):
        assert set(np.flatnonzero(dom < 0)) <= set(train)
        assert np.all(dom[test] > 0) and not set(train) & set(test)
        assert abs(len(test) - 0.25 * 150) <= 1
    with pytest.raises(DataError, match="groups"):
        next(SourceHoldoutSplit().split(X, y))


@pytest.mark.parametrize("bad, match", [
    (dict(sample_domain=None), "sample_domain is required"),
    (dict(sample_domain="all_source"), "no target rows"),
    (dict(sample_domain="all_target"), "no source rows"),
    (dict(y="unknown_target_label"), "do not occur in the source labels"),
    (dict(y="missing_source_label"), "missing"),
    (dict(X="nan"), "NaN"),
])
def test_bad_input_fails_before_any_work(bad: dict, match: str) -> None:
    X, y, dom, _ = problem()
    X, y, dom = X.copy(), y.astype(float).copy(), dom.copy()
    if bad.get("sample_domain") == "all_source":
        dom[:] = 1
    elif bad.get("sample_domain") == "all_target":
        dom[:] = -1
    elif "sample_domain" in bad:
        dom = None  # type: ignore[assignment]
    if bad.get("y") == "unknown_target_label":
        y[-1] = 7
    elif bad.get("y") == "missing_source_label":
        y[0] = np.nan
    if bad.get("X") == "nan":
        X[3, 1] = np.nan
    with pytest.raises(DataError, match=match):
        DomainAdaptClassifier(method="coral").fit(X, y, sample_domain=dom)


def test_unknown_method_and_wrong_width_at_predict() -> None:
    X, y, dom, _ = problem()
    with pytest.raises(DataError, match="unknown adaptation method 'nope'"):
        DomainAdaptClassifier(method="nope").fit(X, y, sample_domain=dom)
    clf = DomainAdaptClassifier(method="coral").fit(X, y, sample_domain=dom)
    with pytest.raises(DataError, match="X has 3 features, but DomainAdaptClassifier is expecting 4 features"):
        clf.predict(X[:, :3])  # the words of TransferClassifier's table check (scikit-learn's)


def test_images_through_a_backbone_with_deep_finetuning() -> None:
    from tests.helpers import stripe_images

    Xs, ys = stripe_images(8, seed=0)
    Xt, yt = stripe_images(8, seed=1)
    Xt = (Xt.astype(np.int64) // 2 + 60).astype(np.uint8)
    X = np.concatenate([Xs, Xt])
    y = np.r_[ys, np.full(len(Xt), None, dtype=object)].astype(object)
    dom = np.r_[np.ones(len(Xs), int), -np.ones(len(Xt), int)]
    for method in ("coral", DeepDA(method="dann", epochs=1, bottleneck=None)):
        clf = DomainAdaptClassifier(method=method, backbone="tiny-cnn", finetune=True, cache=False)
        clf.fit(X, y, sample_domain=dom)
        assert clf.predict(Xt).shape == (len(Xt),)
    with pytest.raises(DataError, match="image"):
        DomainAdaptClassifier(method="coral", backbone="tiny-cnn").fit(np.zeros((4, 3)), [0, 1, -1, -1],
                                                                        sample_domain=[1, 1, -1, -1])
