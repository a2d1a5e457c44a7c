"""Head search with Optuna: one extraction, resumable persistent studies, samplers, errors, refit."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState
from sklearn.base import BaseEstimator, ClassifierMixin
from tests.helpers import InferenceCounter, blobs, interrupt_trial, polarity_texts, stripe_images

from transferkit.estimators import load_model
from transferkit.tuning import (
    Categorical,
    Float,
    TuningError,
    _search,
    _storage,
    check_scoring,
    load_best,
    refit_to_folder,
    space_grid,
    tune,
    tune_report,
    write_tune_outputs,
)


def _finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))


def test_search_extracts_features_once_and_resuming_extracts_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    X, y = stripe_images(10, size=16)
    counter = InferenceCounter(monkeypatch)
    result = tune(X, y, backbone="tiny-cnn", image_size=16, n_trials=5, sampler="random", cv=3, out=tmp_path)
    assert counter.items == len(X)  # 5 trials x 3 folds, one extraction pass
    assert len(_finished(result.study)) == 5 and result.trials_run == 5
    assert set(result.best_params) == {"logisticregression__C", "logisticregression__class_weight"}
    again = tune(X, y, backbone="tiny-cnn", image_size=16, n_trials=7, sampler="random", cv=3, out=tmp_path)
    assert counter.items == len(X)  # the resumed search read the feature cache
    assert again.trials_run == 2 and len(_finished(again.study)) == 7
    assert (tmp_path / "study.db").is_file()  # the default storage


def test_every_trial_reports_each_fold_for_pruning() -> None:
    X, y = blobs(15)
    result = tune(X, y, backbone="tiny-mlp", n_trials=10, sampler="random", pruner="median", cv=3, cache=False)
    for t in result.study.trials:
        steps = sorted(t.intermediate_values)
        assert steps == list(range(len(steps))) and 1 <= len(steps) <= 2  # every fold but the last
        if t.state == TrialState.COMPLETE:
            assert len(steps) == 2
        else:
            assert t.state == TrialState.PRUNED and t.intermediate_values[steps[-1]] < result.best_score
    unpruned = tune(X, y, backbone="tiny-mlp", n_trials=2, sampler="random", pruner="none", cv=3, cache=False)
    assert all(not t.intermediate_values for t in unpruned.study.trials)  # no pruner: no reports


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_an_interrupted_search_resumes_without_losing_or_redoing_trials(kind: str, monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    X, y = blobs(15)
    calls = interrupt_trial(monkeypatch, 4)  # Ctrl-C in the middle of the fourth trial
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}" if kind == "sqlite" else str(tmp_path / "s.journal")
    with pytest.raises(KeyboardInterrupt):
        tune(X, y, backbone="tiny-mlp", n_trials=10, sampler="tpe", storage=storage, study_name="s", cv=3, cache=False)
    study = optuna.load_study(study_name="s", storage=_storage.open_storage(_storage.storage_url(storage, None)))
    first = [(t.number, t.params) for t in _finished(study)]
    assert len(first) == 3 and [t.state for t in study.trials].count(TrialState.FAIL) == 1

    result = tune(X, y, backbone="tiny-mlp", n_trials=10, sampler="tpe", storage=storage, study_name="s", cv=3,
                  cache=False)
    assert calls["n"] == 4 + 7  # only the 7 missing trials ran
    done = _finished(result.study)
    assert len(done) == 10 and [(t.number, t.params) for t in done][:3] == first
    assert result.trials_run == 7


def test_a_killed_trial_is_failed_by_its_stale_heartbeat_and_replaced(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    monkeypatch.setattr(_storage, "HEARTBEAT_S", 1)
    monkeypatch.setattr(_storage, "GRACE_PERIOD_S", 1)
    X, y = blobs(15)
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    tune(X, y, backbone="tiny-mlp", n_trials=2, storage=storage, study_name="s", cv=3, cache=False)
    backing = _storage.open_storage(storage)
    study = optuna.load_study(study_name="s", storage=backing)
    orphan = study.ask()  # a worker that started a trial and was killed (kill -9): it stays RUNNING
    backing.record_heartbeat(orphan._trial_id)
    time.sleep(2.2)
    result = tune(X, y, backbone="tiny-mlp", n_trials=4, storage=storage, study_name="s", cv=3, cache=False)
    states = {t.number: t.state for t in result.study.trials}
    assert states[orphan.number] == TrialState.FAIL
    assert len(_finished(result.study)) == 4 and TrialState.RUNNING not in states.values()


def test_grid_sampler_covers_the_grid_once_even_across_an_interruption(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    X, y = blobs(12)
    space = {"logisticregression__C": Float(0.01, 10.0, log=True),
             "logisticregression__class_weight": Categorical((None, "balanced"))}
    grid = space_grid(space, 3)
    monkeypatch.setattr(_search, "space_grid", lambda s: space_grid(s, 3))
    interrupt_trial(monkeypatch, 3)
    kw = dict(backbone="tiny-mlp", space=space, sampler="grid", pruner="none", out=tmp_path, cv=2, cache=False)
    with pytest.raises(KeyboardInterrupt):
        tune(X, y, n_trials=100, **kw)
    result = tune(X, y, n_trials=100, **kw)
    seen = sorted((t.params["logisticregression__C"], str(t.params["logisticregression__class_weight"]))
                  for t in _finished(result.study))
    expected = sorted((c, str(w)) for c in grid["logisticregression__C"] for w in grid["logisticregression__class_weight"])
    assert seen == expected  # all 6 points, none twice, the interrupted one included


@pytest.mark.parametrize("url", ["sqlite:////no/such/folder/study.db", "nosuchdialect://host/db",
                                 "postgresql://user:secret@127.0.0.1:1/db", "/no/such/folder/study.journal"])
def test_a_storage_url_that_cannot_be_opened_is_one_clear_error(url: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = blobs(10)
    counter = InferenceCounter(monkeypatch)
    with pytest.raises(TuningError, match="cannot open study storage") as err:
        tune(X, y, backbone="tiny-mlp", storage=url, n_trials=2, cv=2, cache=False, out=tmp_path / "o")
    message = str(err.value)
    assert "\n" not in message and url.split("://")[0] in message and "secret" not in message
    assert counter.items == 0  # failed before any extraction
    assert not Path("/no/such/folder").exists() and not (tmp_path / "o").exists()  # nothing written


def test_a_study_is_only_resumed_on_the_same_data_and_backbone(tmp_path: Path) -> None:
    X, y = blobs(10)
    tune(X, y, backbone="tiny-mlp", n_trials=2, cv=2, out=tmp_path, study_name="s", cache=False)
    with pytest.raises(TuningError, match=r"was run on other data \(its items or labels differ\)") as err:
        tune(X + 1, y, backbone="tiny-mlp", n_trials=3, cv=2, out=tmp_path, study_name="s", cache=False)
    assert "'data'" not in str(err.value) and "…" not in str(err.value)  # no opaque hash
    with pytest.raises(TuningError, match='was run with scoring "accuracy", not "f1_macro"; resume it'):
        tune(X, y, backbone="tiny-mlp", n_trials=3, cv=2, out=tmp_path, study_name="s", scoring="f1_macro",
             cache=False)
    with pytest.raises(TuningError, match="was run with cv folds 2, not 3;"):
        tune(X, y, backbone="tiny-mlp", n_trials=3, cv=3, out=tmp_path, study_name="s", cache=False)
    space = {"logisticregression__C": [1, 2], "logisticregression__class_weight": [None, "balanced"]}
    with pytest.raises(TuningError, match="was run with search space ") as err:
        tune(X, y, backbone="tiny-mlp", n_trials=3, cv=2, out=tmp_path, study_name="s", space=space, cache=False)
    assert '"choices": [null, "balanced"]' in str(err.value)  # JSON, not Python's None and True
    assert "None" not in str(err.value) and "True" not in str(err.value)


def test_bad_names_fail_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = blobs(10)
    counter = InferenceCounter(monkeypatch)
    with pytest.raises(TuningError, match="'logisticregression__c' is not a parameter.*logisticregression__C"):
        tune(X, y, backbone="tiny-mlp", space={"logisticregression__c": [1, 2]}, cache=False)
    with pytest.raises(TuningError, match="unknown sampler 'cmaes'"):
        tune(X, y, backbone="tiny-mlp", sampler="cmaes", cache=False)
    with pytest.raises(TuningError, match=r"unknown scoring 'acc' \(did you mean accuracy or"):  # a prefix first
        tune(X, y, backbone="tiny-mlp", scoring="acc", cache=False)
    for name in ("neg_mean_squared_error", "r2", "neg_root_mean_squared_error"):
        with pytest.raises(TuningError, match=f"scoring '{name}' is a regression scorer; a classification search "
                                              "needs a classification scorer"):
            tune(X, y, backbone="tiny-mlp", scoring=name, cache=False)
    with pytest.raises(TuningError, match="unknown head 'svm'"):
        tune(X, y, backbone="tiny-mlp", head="svm", cache=False)
    with pytest.raises(TuningError, match="low < high"):
        tune(X, y, backbone="tiny-mlp", space={"logisticregression__C": {"low": 1, "high": 0.1}}, cache=False)
    assert counter.items == 0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_best_configuration_is_saved_and_refits_into_a_model_folder(tmp_path: Path) -> None:
    X, y = polarity_texts(10)
    result = tune(X, y, backbone="tiny-text", head="mlp", n_trials=3, sampler="random", cv=2, out=tmp_path,
                  space={"mlpclassifier__hidden_layer_sizes": [8, 16], "mlpclassifier__alpha": [1e-4, 1e-2],
                         "mlpclassifier__max_iter": [60]})
    paths = write_tune_outputs(result, tmp_path)
    html = paths["report"].read_text()
    assert "Optimisation history" in html and "Parameter importances" in html and html.count("<img") >= 1
    est = load_best(tmp_path)
    head = est.strategy.head
    assert head.get_params()["mlpclassifier__alpha"] == result.best_params["mlpclassifier__alpha"]
    folder = refit_to_folder(est, X, y, tmp_path / "model", best=result.to_dict())
    loaded = load_model(folder)
    assert (folder / "best.json").is_file()
    np.testing.assert_allclose(loaded.predict_proba(X), est.predict_proba(X), rtol=1e-5)
    assert result.refit(X, y).score(X, y) == est.score(X, y)


def test_importance_plot_is_drawn_once_trials_vary(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = np.where(X[:, 0] + rng.normal(scale=0.5, size=60) > 0, "a", "b")  # overlapping: C matters
    result = tune(X, y, backbone="identity", n_trials=8, sampler="random", pruner="none", cv=2, cache=False,
                  space={"logisticregression__C": Float(1e-4, 1.0, log=True)})
    html = write_tune_outputs(result, tmp_path)["report"].read_text()
    assert html.count("<img") == 2  # history + importances


def test_workers_that_start_together_draw_different_configurations() -> None:
    """Two workers seeded alike (random_state + the study's trial count, 0 for both) proposed the same
    configurations; the seed now follows the number of each worker's first trial."""
    import optuna

    from transferkit.tuning._search import _sampler, _stop_at

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize")
    a, b = _sampler("random", {}, 0), _sampler("tpe", {}, 0)
    proposals = []
    for sampler in (a, b, _sampler("random", {}, 0)):  # each asks before any tells, as racing workers do
        study.sampler = sampler
        trial = study.ask()
        proposals.append(trial.suggest_float("C", 1e-3, 1e3, log=True))
    assert len(set(proposals)) == 3
    single = optuna.create_study(direction="maximize", sampler=_sampler("random", {}, 0))
    alone = single.ask().suggest_float("C", 1e-3, 1e3, log=True)
    assert alone == optuna.samplers.RandomSampler(seed=0).sample_independent(
        single, single.trials[0], "C", optuna.distributions.FloatDistribution(1e-3, 1e3, log=True)
    ), "a single process keeps its seed: random_state + the trials already there"
    shared = optuna.create_study(direction="maximize")

    def objective(trial: optuna.Trial) -> float:  # another worker finishes a trial alongside each of ours
        other = shared.ask()
        shared.tell(other, other.suggest_float("x", 0, 1))
        return trial.suggest_float("x", 0, 1)

    own: list[int] = []
    shared.optimize(objective, n_trials=10, callbacks=[_stop_at(6, own)])
    assert len(own) == 3 and len(shared.trials) == 6, "a worker stops once the study holds the target"
    alone = optuna.create_study(direction="maximize")
    alone.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=8, callbacks=[_stop_at(6, [])])
    assert len(alone.trials) == 8, "alone, n_trials decides (and the study is not read after each trial)"


class _FailingHead(ClassifierMixin, BaseEstimator):
    """A head whose fit raises ValueError('boom ...') whenever ``fail`` is true (every trial fails)."""

    def __init__(self, fail: bool = True) -> None:
        self.fail = fail

    def fit(self, X: np.ndarray, y: np.ndarray) -> _FailingHead:
        if self.fail:
            raise ValueError(f"boom with fail={self.fail}")
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.repeat(self.classes_[:1], len(X))


@pytest.mark.parametrize("space, match", [
    ({"logisticregression__C": {"low": -5, "high": -1}}, r"-5 is not a valid value .*'C' parameter"),
    ({"logisticregression__class_weight": ["weird"]}, r"'weird' is not a valid value"),
    ({"logisticregression__C": {"low": 0, "high": 1, "log": True}}, "low > 0 with log"),
    ({"logisticregression__C": {"low": 0.1, "high": float("nan")}}, "high must be a finite number, got nan"),
    ({"logisticregression__C": {"low": "a", "high": "b"}}, "low must be a finite number, got 'a'"),
    ({"logisticregression__C": {"low": 1.5, "high": 4, "int": True}}, "whole-number bounds"),
    ({"logisticregression__C": {"low": 1, "high": 4, "lgo": True}}, "unknown key 'lgo'"),
    ({"logisticregression__class_weight": []}, "has no choices"),
    ({"logisticregression__class_weight": [None, None]}, "repeats a choice"),
    ({"logisticregression__C": [1.0, float("nan")]}, "choice nan is not"),
])
def test_a_bad_space_fails_before_any_study_is_created(space: dict, match: str, tmp_path: Path) -> None:
    X, y = blobs(10)
    with pytest.raises(TuningError, match=match):
        tune(X, y, backbone="tiny-mlp", n_trials=2, cv=2, space=space, out=tmp_path / "o", cache=False)
    assert not (tmp_path / "o").exists()


def test_without_scikit_learns_private_validation_a_space_is_not_checked_rather_than_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from transferkit.tuning._space import check_space, make_head

    space = {"logisticregression__C": {"low": 0.01, "high": 10, "log": True}}
    assert set(check_space(space, make_head("logistic"))) == {"logisticregression__C"}
    monkeypatch.delattr(BaseEstimator, "_validate_params")  # a scikit-learn without the private method
    assert set(check_space(space, make_head("logistic"))) == {"logisticregression__C"}
    assert set(check_space({"logisticregression__C": {"low": -5, "high": -1}}, make_head("logistic"))) \
        == {"logisticregression__C"}  # unchecked then: each trial fails and says why


@pytest.mark.parametrize("kind", ["default", "journal"])
def test_a_new_study_with_no_completed_trial_is_removed_and_names_the_failure(kind: str, tmp_path: Path) -> None:
    X, y = blobs(10)
    out = tmp_path / "o"
    storage = None if kind == "default" else tmp_path / "s.journal"
    with pytest.raises(TuningError, match=r"no trial of study 's' completed; last failure: ValueError: boom"):
        tune(X, y, backbone="tiny-mlp", head=_FailingHead(), space={"fail": [True]}, n_trials=2, cv=2, out=out,
             storage=storage, study_name="s", cache=False)
    assert not out.exists() and not (tmp_path / "s.journal").exists()  # nothing this run made is left
    # a corrected re-run is not refused as a study with another space
    result = tune(X, y, backbone="tiny-mlp", head=_FailingHead(), space={"fail": [False]}, n_trials=2, cv=2,
                  out=out, storage=storage, study_name="s", cache=False)
    assert result.counts() == {"complete": 2}


def test_a_failed_run_never_removes_a_study_or_file_that_was_there(tmp_path: Path) -> None:
    X, y = blobs(10)
    db = tmp_path / "shared.db"
    kept = tune(X, y, backbone="tiny-mlp", n_trials=2, cv=2, storage=db, study_name="kept", cache=False)
    with pytest.raises(TuningError, match="last failure: ValueError: boom"):  # a new study in an existing file
        tune(X, y, backbone="tiny-mlp", head=_FailingHead(), space={"fail": [True]}, n_trials=2, cv=2, storage=db,
             study_name="new", cache=False)
    assert db.exists() and optuna.get_all_study_names(f"sqlite:///{db}") == ["kept"]
    assert len(optuna.load_study(study_name="kept", storage=f"sqlite:///{db}").trials) == len(kept.study.trials)
    optuna.create_study(storage=f"sqlite:///{db}", study_name="empty")  # there before, with no trial yet
    with pytest.raises(TuningError, match="last failure: ValueError: boom.*the study stays in"):
        tune(X, y, backbone="tiny-mlp", head=_FailingHead(), space={"fail": [True]}, n_trials=2, cv=2, storage=db,
             study_name="empty", cache=False)
    assert sorted(optuna.get_all_study_names(f"sqlite:///{db}")) == ["empty", "kept"]


@pytest.mark.parametrize("kwargs, match", [({"timeout": float("nan")}, "timeout must be a positive, finite"),
                                           ({"timeout": float("inf")}, "timeout must be a positive, finite"),
                                           ({"cv": 1}, "cv must be an integer of at least 2")])
def test_a_non_finite_timeout_or_too_few_folds_is_refused(kwargs: dict, match: str, tmp_path: Path) -> None:
    X, y = blobs(10)
    with pytest.raises(TuningError, match=match):
        tune(X, y, backbone="tiny-mlp", n_trials=2, out=tmp_path / "o", cache=False, **kwargs)
    assert not (tmp_path / "o").exists()


def test_folds_lowered_to_the_smallest_class_are_noted() -> None:
    X, y = blobs(4)
    result = tune(X, y, backbone="tiny-mlp", n_trials=1, cv=10, cache=False)
    assert result.cv == 4 and result.to_dict()["cv_folds"] == 4
    assert result.notes == ["cv=10 lowered to 4 folds: the smallest class ('c0') has 4 examples, and each fold "
                            "needs one of every class"]
    assert result.to_dict()["notes"] == result.notes
    assert "cv=10 lowered to 4 folds" in tune_report(result).render()  # the report says it too
    assert tune(X, y, backbone="tiny-mlp", n_trials=1, cv=4, cache=False).notes == []


@pytest.mark.parametrize(("given", "first"), [("acc", "accuracy"), ("f1_mac", "f1_macro"), ("roc", "roc_auc"),
                                              ("balanced_acuracy", "balanced_accuracy")])
def test_scoring_suggestions_put_names_it_begins_first(given: str, first: str) -> None:
    with pytest.raises(TuningError, match=rf"unknown scoring '{given}' \(did you mean {first}\b"):
        check_scoring(given)


@pytest.mark.parametrize("name", ["accuracy", "balanced_accuracy", "f1_macro", "neg_log_loss", "roc_auc_ovr"])
def test_classification_scorers_are_accepted(name: str) -> None:
    assert check_scoring(name) == name


def test_a_timeout_before_the_first_trial_says_so_not_that_trials_were_pruned(tmp_path: Path) -> None:
    X, y = blobs(10)
    with pytest.raises(TuningError, match=r"no trial of study 's' ran: timeout=1e-09 \(seconds\) ended the search "
                                          "before its first trial") as err:
        tune(X, y, backbone="tiny-mlp", n_trials=3, cv=2, timeout=1e-9, out=tmp_path / "o", study_name="s",
             cache=False)
    assert "pruned" not in str(err.value)
    assert not (tmp_path / "o").exists()  # the new, empty study is not left behind


def test_the_report_shows_the_folds_each_trial_scored(tmp_path: Path) -> None:
    from transferkit.tuning._report import trial_rows

    X, y = blobs(12)
    for pruner in ("median", "none"):  # without a pruner no fold is reported at all
        result = tune(X, y, backbone="tiny-mlp", n_trials=12, cv=4, sampler="random", pruner=pruner, cache=False)
        rows = trial_rows(result.study, result.cv)
        assert {r["folds"] for r in rows if r["state"] == "COMPLETE"} == {4}
        for row, trial in zip(rows, result.study.trials, strict=True):
            if row["state"] == "PRUNED":
                assert row["folds"] == len(trial.intermediate_values) < 4
    html = tune_report(result).render()
    assert "<td>4</td>" in html.split("Best trials")[-1]
