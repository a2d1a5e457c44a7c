"""QA sweep 4 on transferkit.adaptation: DeepDA resume, DataFrames in the scorers, the labels' type,
estimators without predict_proba, the scoring helpers' inputs and DomainAdaptClassifier's parameter checks
(report items 1, 2, 7-11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from transferkit.adaptation import (
    DAPipeline,
    DeepDA,
    DEVScorer,
    DomainAdaptClassifier,
    ImportanceWeightedScorer,
    PredictionEntropyScorer,
    ReweightedClassifier,
    SourceHoldoutSplit,
    TrAdaBoostClassifier,
    dev_risk,
    importance_weighted_accuracy,
    prediction_entropy,
)
from transferkit.adaptation._deep import _BalancedDomainBatches
from transferkit.adaptation._domain import as_labels
from transferkit.errors import DataError
from transferkit.strategies import Augment
from transferkit.training import _checkpoint


def rows(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """30 source rows (label: x0 > 0) and 20 shifted target rows (labels masked with -1)."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(30, 4)), rng.normal(size=(20, 4)) * 1.5 + 0.5])
    y = np.r_[(X[:30, 0] > 0).astype(int), -np.ones(20, int)]
    dom = np.r_[np.ones(30, int), -np.ones(20, int)]
    return X, y, dom


# --- 1. DeepDA resumes to the uninterrupted result ------------------------------------------------------------


class _Killed(Exception):
    """Stands for a kill right after a checkpoint was written."""


def _fit_deep(data: tuple[Any, np.ndarray, np.ndarray], backbone: str, finetune: bool, **deep: Any) -> Any:
    X, y, dom = data
    method = DeepDA(method="mmd", epochs=4, batch_size=8, bottleneck=8, **deep)
    return DomainAdaptClassifier(method=method, backbone=backbone, finetune=finetune, cache=False,
                                 device="cpu").fit(X, y, sample_domain=dom)


def _images() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from tests.helpers import stripe_images

    Xs, ys = stripe_images(8, seed=0)
    Xt, _ = stripe_images(8, seed=1)
    X = np.concatenate([Xs, (Xt.astype(np.int64) // 2 + 60).astype(np.uint8)])
    y = np.r_[(ys == "top").astype(int), -np.ones(len(Xt), int)]
    return X, y, np.r_[np.ones(len(Xs), int), -np.ones(len(Xt), int)]


@pytest.mark.parametrize("case", ["frozen features", "fine-tuned cnn with augmentation"])
def test_a_deepda_run_stopped_after_a_checkpoint_resumes_to_the_uninterrupted_result(
        case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The QA reproducer: resumed at epoch 3 of 4, DeepDA trained on epoch 0's batch order again."""
    if case == "frozen features":
        data: tuple[Any, np.ndarray, np.ndarray] = rows()
        kw: dict[str, Any] = dict(backbone="identity", finetune=False)
    else:
        data = _images()
        kw = dict(backbone="tiny-cnn", finetune=True, augment=Augment(rotation=20, flip=True))
    full = _fit_deep(data, checkpoint_dir=str(tmp_path / "full"), **kw)
    real_save = _checkpoint.save_checkpoint

    def save_then_die(trainer, folder, epoch):  # type: ignore[no-untyped-def]
        path = real_save(trainer, folder, epoch)
        if epoch == 1:
            raise _Killed
        return path

    monkeypatch.setattr(_checkpoint, "save_checkpoint", save_then_die)
    with pytest.raises(_Killed):
        _fit_deep(data, checkpoint_dir=str(tmp_path / "ckpt"), **kw)
    monkeypatch.setattr(_checkpoint, "save_checkpoint", real_save)
    resumed = _fit_deep(data, checkpoint_dir=str(tmp_path / "ckpt"), resume=True, **kw)
    assert resumed.model_.history is not None and len(resumed.model_.history.epochs) == 4
    # the epochs after the resume trained on the same batches: the same losses, the same network
    assert [e["train_loss"] for e in resumed.model_.history.epochs] == \
        [e["train_loss"] for e in full.model_.history.epochs]
    X = data[0]
    np.testing.assert_array_equal(resumed.predict_proba(X), full.predict_proba(X))


def test_domain_batches_depend_only_on_seed_and_epoch() -> None:
    source, target = np.arange(0, 20), np.arange(20, 27)

    def epochs(sampler: _BalancedDomainBatches, which: list[int]) -> list[list[list[int]]]:
        out = []
        for epoch in which:
            sampler.set_epoch(epoch)
            out.append(list(sampler))
        return out

    straight = epochs(_BalancedDomainBatches(source, target, 8, seed=3), [0, 1, 2])
    assert straight[0] != straight[1] != straight[2]  # a new order every epoch (source and target rows)
    assert epochs(_BalancedDomainBatches(source, target, 8, seed=3), [2]) == straight[2:]  # a resumed run
    assert epochs(_BalancedDomainBatches(source, target, 8, seed=3), [1, 1]) == [straight[1]] * 2
    assert epochs(_BalancedDomainBatches(source, target, 8, seed=4), [0]) != straight[:1]
    for batches in straight:  # still every source row once per epoch, each batch half target rows
        assert sorted(i for b in batches for i in b[:4]) == source.tolist()
        assert all(set(b[4:]) <= set(target.tolist()) and len(b[4:]) == 4 for b in batches)


# --- 2. the scorers take a DataFrame's rows ------------------------------------------------------------------


def _frame(X: np.ndarray) -> pd.DataFrame:
    """The rows as a DataFrame with named columns and a shuffled index (positions are not labels)."""
    return pd.DataFrame(X, columns=list("abcd"), index=np.random.default_rng(1).permutation(len(X)) + 100)


@pytest.mark.parametrize("scorer", [DEVScorer(), ImportanceWeightedScorer(), PredictionEntropyScorer()],
                         ids=["dev", "iwv", "entropy"])
def test_scorers_read_a_dataframe_by_rows(scorer: Any) -> None:
    X, y, dom = rows()
    clf = DomainAdaptClassifier(method="coral", cache=False).fit(_frame(X), y, sample_domain=dom)
    expected = scorer(clf, X, y, sample_domain=dom)
    # (a DataFrame's values are column-major: the sums may differ in the last bit)
    assert scorer(clf, _frame(X), y, sample_domain=dom) == pytest.approx(expected, rel=1e-12)
    source = dom > 0  # the target rows from the estimator (X_target_), as in a grid search
    assert scorer(clf, _frame(X)[source], y[source]) == pytest.approx(scorer(clf, X[source], y[source]), rel=1e-12)


def test_the_documented_grid_search_runs_on_a_dataframe() -> None:
    X, y, dom = rows()
    results = []
    for data in (X, _frame(X)):
        search = GridSearchCV(DomainAdaptClassifier(cache=False), {"method": ["source-only", "coral"]},
                              cv=SourceHoldoutSplit(n_splits=2), scoring=DEVScorer(), error_score="raise")
        search.fit(data, y, groups=dom, sample_domain=dom)
        results.append((search.best_params_, search.cv_results_["mean_test_score"]))
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)


# --- 7/8. labels keep their type -----------------------------------------------------------------------------


LABEL_ESTIMATORS = {
    "DomainAdaptClassifier": lambda: DomainAdaptClassifier(cache=False),
    "source-only": lambda: DomainAdaptClassifier(method="source-only", cache=False),
    "kmm": lambda: DomainAdaptClassifier(method="kmm", cache=False),
    "deep": lambda: DomainAdaptClassifier(method=DeepDA(method="mmd", epochs=1, bottleneck=8), cache=False),
    "DAPipeline": lambda: DAPipeline(),
    "ReweightedClassifier": lambda: ReweightedClassifier(),
}


@pytest.mark.parametrize("make", LABEL_ESTIMATORS.values(), ids=LABEL_ESTIMATORS.keys())
def test_integer_labels_in_an_object_array_masked_with_minus_one_stay_integers(make: Any) -> None:
    X, _, dom = rows()
    ys = (X[:30, 0] > 0).astype(int) * 10 + 10
    y = np.r_[ys.astype(object), [-1] * 20]  # what np.r_[ys.astype(object), ...] gives: QA's reproducer
    clf = make().fit(X, y, sample_domain=dom)
    assert clf.classes_.dtype.kind == "i" and clf.classes_.tolist() == [10, 20]
    pred = clf.predict(X[30:])
    assert pred.dtype.kind == "i" and set(pred.tolist()) <= {10, 20}


def test_as_labels_keeps_integers_and_uses_nan_only_when_minus_one_may_be_a_class() -> None:
    assert as_labels(np.array([10, 20, -1], dtype=object)).tolist() == [10, 20, -1]
    assert as_labels(np.array([10, 20, -1], dtype=object)).dtype == np.int64
    assert as_labels(np.array([10, 20, None], dtype=object)).tolist() == [10, 20, -1]
    mixed = as_labels(np.array([10, -1, None], dtype=object))  # -1 may be a class: None becomes NaN
    assert mixed.dtype.kind == "f" and mixed[:2].tolist() == [10.0, -1.0] and np.isnan(mixed[2])


@pytest.mark.parametrize("mask", [None, -1])
@pytest.mark.parametrize("make", LABEL_ESTIMATORS.values(), ids=LABEL_ESTIMATORS.keys())
def test_bool_labels_with_a_mask_are_classes_true_and_false(make: Any, mask: Any) -> None:
    """QA's reproducer gave scikit-learn's "Unknown label type: unknown"."""
    X, _, dom = rows()
    y = np.r_[(X[:30, 0] > 0).astype(object), [mask] * 20]
    clf = make().fit(X, y, sample_domain=dom)
    assert clf.classes_.dtype == bool and clf.classes_.tolist() == [False, True]
    assert clf.predict(X[30:]).dtype == bool


def test_bool_labels_work_for_tradaboost_auto_and_the_scorers() -> None:
    X, _, dom = rows()
    y = np.r_[(X[:30, 0] > 0).astype(object), [True, False, True, False], [None] * 16]
    boosted = DomainAdaptClassifier(method="tradaboost", cache=False).fit(X, y, sample_domain=dom)
    assert boosted.predict(X[30:]).dtype == bool
    auto = DomainAdaptClassifier(method="auto", candidates=["coral"], cache=False).fit(X, y, sample_domain=dom)
    assert auto.classes_.dtype == bool
    for scorer in (DEVScorer(), ImportanceWeightedScorer()):
        assert np.isfinite(scorer(auto, X, y, sample_domain=dom))


def test_bools_mixed_with_other_labels_are_refused() -> None:
    X, _, dom = rows()
    y = np.r_[(X[:30, 0] > 0).astype(object), [None] * 20]
    y[0] = 2
    with pytest.raises(DataError, match=r"y mixes True/False and other labels"):
        DomainAdaptClassifier(cache=False).fit(X, y, sample_domain=dom)


# --- 9. an estimator without predict_proba; TrAdaBoost's estimator --------------------------------------------


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any reading of the data fails the test: a parameter must be refused before it."""

    def read(self, X, *, reset):  # type: ignore[no-untyped-def]
        raise AssertionError("the data was read before the parameters were checked")

    monkeypatch.setattr(DomainAdaptClassifier, "_check_X", read)


@pytest.mark.parametrize("method", ["source-only", "coral", "kmm", "auto"])
def test_an_estimator_without_predict_proba_is_refused_before_any_work(method: str, no_work: None) -> None:
    X, y, dom = rows()
    with pytest.raises(DataError, match=r"estimator SVC has no predict_proba.*CalibratedClassifierCV\(SVC\(\)\)"):
        DomainAdaptClassifier(method=method, estimator=SVC(), cache=False).fit(X, y, sample_domain=dom)


def test_an_estimator_with_predict_proba_predicts() -> None:
    X, y, dom = rows()
    clf = DomainAdaptClassifier(method="coral", estimator=CalibratedClassifierCV(SVC()), cache=False)
    assert clf.fit(X, y, sample_domain=dom).predict(X[30:]).shape == (20,)


def test_tradaboost_boosts_the_given_estimator() -> None:
    """It boosted LogisticRegression whatever estimator was given."""
    X, y, dom = rows()
    y[30:34] = [1, 0, 1, 0]
    clf = DomainAdaptClassifier(method="tradaboost", estimator=SVC(C=0.5), cache=False).fit(X, y, sample_domain=dom)
    assert all(isinstance(e, SVC) and e.C == 0.5 for e in clf.model_.estimators_)  # predict alone is enough
    assert clf.predict(X[30:]).shape == (20,)
    default = DomainAdaptClassifier(method="tradaboost", cache=False).fit(X, y, sample_domain=dom)
    assert all(isinstance(e, LogisticRegression) for e in default.model_.estimators_)
    assert clf.estimator.C == 0.5 and not hasattr(clf.estimator, "support_")  # the parameter is not fitted


def test_a_learner_given_twice_to_tradaboost_is_refused(no_work: None) -> None:
    X, y, dom = rows()
    clf = DomainAdaptClassifier(method=TrAdaBoostClassifier(estimator=SVC()), estimator=SVC(), cache=False)
    with pytest.raises(DataError, match="the learner to boost is given twice"):
        clf.fit(X, y, sample_domain=dom)


@pytest.mark.parametrize("method, match", [("kmm", "which reweighting needs"),
                                           ("tradaboost", "which TrAdaBoost needs"),
                                           ("auto", "which the reweighting and TrAdaBoost candidates need; "
                                                    "leave them out of candidates")])
def test_an_estimator_without_sample_weight_is_refused_before_any_work(method: str, match: str, no_work: None) -> None:
    X, y, dom = rows()
    with pytest.raises(DataError, match=rf"KNeighborsClassifier.fit does not accept sample_weight, {match}.* an "
                                        r"estimator that does \(e.g. LogisticRegression, or a Pipeline ending in one\)"):
        DomainAdaptClassifier(method=method, estimator=KNeighborsClassifier(), cache=False).fit(
            X, y, sample_domain=dom)


# --- 10. the scoring helpers check their inputs ---------------------------------------------------------------


@pytest.mark.parametrize("call, match", [
    (lambda: importance_weighted_accuracy([1, 0, 1], [2.0]), "weights has 1 entry but correct has 3"),
    (lambda: importance_weighted_accuracy([1, 0, 1], [1.0, -1.0, 1.0]), "weights must be non-negative"),
    (lambda: importance_weighted_accuracy([1, 0], [0.0, 0.0]), "weights sum to zero"),
    (lambda: importance_weighted_accuracy([1, 2], [1.0, 1.0]), r"correct must hold values in \[0, 1\]"),
    (lambda: importance_weighted_accuracy([], []), "correct is empty"),
    (lambda: importance_weighted_accuracy([[1, 0]], [1.0, 1.0]), "correct must be 1-D"),
    (lambda: dev_risk([1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]]), "weights must be 1-D"),
    (lambda: dev_risk([], []), "losses is empty"),
    (lambda: dev_risk([np.nan, 1.0], [1.0, 1.0]), "losses holds NaN or infinite values"),
    (lambda: dev_risk([1.0, 2.0], [1.0, np.inf]), "weights holds NaN or infinite values"),
    (lambda: dev_risk([1.0, 2.0], [-1.0, 1.0]), "weights must be non-negative"),
    (lambda: dev_risk(["a", "b"], [1.0, 1.0]), "losses must hold numbers"),
    (lambda: prediction_entropy([[2.0, -1.0]]), "proba holds negative values"),
    (lambda: prediction_entropy([[0.5, 0.6]]), "proba row 0 sums to 1.1, not 1"),
    (lambda: prediction_entropy([0.5, 0.5]), "proba must be 2-D"),
    (lambda: prediction_entropy([[0.5, np.nan]]), "proba holds NaN"),
])
def test_scoring_helpers_refuse_impossible_input(call: Any, match: str) -> None:
    with pytest.raises(DataError, match=match):
        call()


def test_scoring_helpers_still_score_valid_input() -> None:
    assert importance_weighted_accuracy([True, False, True], [1.0, 2.0, 1.0]) == 0.5
    assert dev_risk([1.0, 1.0], [1.0, 1.0]) == 1.0
    p = np.array([[0.5, 0.5], [1.0, 0.0]], dtype=np.float32)  # float32 rows sum to 1 within rounding
    assert round(prediction_entropy(p / p.sum(axis=1, keepdims=True)), 4) == 0.3466


# --- 11. every parameter is checked at the start of fit -------------------------------------------------------


@pytest.mark.parametrize("params, match", [
    (dict(method="auto", selection="devv"), "unknown selection score 'devv'"),
    (dict(selection=["dev"]), "unknown selection score"),
    (dict(method="auto", candidates="coral"), "candidates must be a list of method names.*got 'coral'"),
    (dict(method="auto", candidates=["coral", 3]), "candidates must hold method names, got 3"),
    (dict(method="auto", candidates=["auto"]), "'auto' cannot be one of its own candidates"),
    (dict(method="auto", candidates=["corall"]), "unknown adaptation method 'corall'"),
    (dict(n_components=2.5), r"n_components must be an integer >= 1 or None, got 2\.5"),
    (dict(n_components=0), "n_components must be an integer >= 1"),
    (dict(method=3), "method must be a method name .* got int 3"),
    (dict(method=LogisticRegression()), "method must be a method name .* got LogisticRegression"),
    (dict(method="corall"), "unknown adaptation method 'corall'"),
    (dict(estimator="lr"), "estimator must be a scikit-learn classifier .* got str 'lr'"),
    (dict(batch_size=0, method="mmd"), "batch_size must be a whole number of at least 1, got 0"),
    (dict(standardize="no"), "standardize must be True or False, got 'no'"),
    (dict(finetune=1), "finetune must be True or False, got 1"),
    (dict(device="gpu9"), "device 'gpu9' is no device"),
    (dict(image_size=64), "image_size=64 applies to image backbones"),
    (dict(random_state=-1), "random_state must be between 0 and 2\\*\\*32 - 1"),
    (dict(random_state="seed"), "random_state must be an int, None or a numpy.random.RandomState"),
])
def test_every_parameter_is_checked_before_any_work(params: dict[str, Any], match: str, no_work: None) -> None:
    """QA's reproducer: selection was refused after every candidate was fitted, candidates="coral" was read
    letter by letter, and n_components, method, estimator gave raw errors; batch_size=0 failed at predict."""
    X, y, dom = rows()
    with pytest.raises(DataError, match=match):
        DomainAdaptClassifier(cache=False, **params).fit(X, y, sample_domain=dom)


def test_parameters_are_stored_unchanged_and_valid_ones_still_fit() -> None:
    X, y, dom = rows()
    params = dict(method="auto", candidates=("coral", "sa"), selection="iwv", n_components=3, standardize=False)
    clf = DomainAdaptClassifier(cache=False, **params)  # type: ignore[arg-type]
    assert clone(clf).get_params()["candidates"] == ("coral", "sa")
    clf.fit(X, y, sample_domain=dom)
    assert set(clf.selection_scores_) == {"source-only", "coral", "sa"}
    assert clf.get_params()["candidates"] == ("coral", "sa")


def test_random_state_none_draws_a_seed_for_deep_methods_too() -> None:
    """None was accepted by the shallow methods and a TypeError in the deep ones."""
    X, y, dom = rows()
    clf = DomainAdaptClassifier(method=DeepDA(method="mmd", epochs=1, bottleneck=8), random_state=None, cache=False)
    assert clf.fit(X, y, sample_domain=dom).predict(X[30:]).shape == (20,)
    assert isinstance(clf.random_seed_, int)
