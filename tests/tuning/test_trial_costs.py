"""What a trial skips: fixed pipeline steps fitted once per fold, and one read of the study per trial for
the median pruner. Both leave every trial's score and every pruning decision as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tests.helpers import blobs

from transferkit.tuning import Float, _search, make_objective, tune
from transferkit.tuning._prefix import FoldPrefix, searched_from
from transferkit.tuning._pruning import TrialSnapshotPruner
from transferkit.tuning._rowspace import l2_logistic, row_span_coordinates
from transferkit.tuning._space import make_head


def test_the_cut_is_the_first_searched_step() -> None:
    head = make_head("pca-logistic")  # standardscaler, pca, logisticregression
    assert searched_from(head, ["logisticregression__C"]) == 2
    assert searched_from(head, ["logisticregression__C", "pca__n_components"]) == 1
    assert searched_from(head, ["standardscaler__with_mean"]) == 0
    assert searched_from(head, ["verbose"]) == 0  # a parameter of the pipeline itself
    assert searched_from(LogisticRegression(), ["C"]) == 0  # not a pipeline: nothing to keep


class _CountingScaler(StandardScaler):
    fits = 0

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> _CountingScaler:
        type(self).fits += 1
        return super().fit(X, y, sample_weight)


def test_fixed_steps_are_fitted_once_per_fold_and_give_the_full_pipelines_scores() -> None:
    X, y = blobs(30, n_features=6)
    head = make_pipeline(_CountingScaler(), PCA(n_components=3), LogisticRegression())
    splits = _search._splits(y, 3, 0)
    space = {"logisticregression__C": Float(1e-2, 1e2, log=True)}
    objective = make_objective(head, space, X, y, splits, "accuracy")
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0),
                                pruner=optuna.pruners.NopPruner())
    _CountingScaler.fits = 0
    study.optimize(objective, n_trials=4)
    assert _CountingScaler.fits == len(splits)  # not 4 trials x 3 folds
    for trial in study.trials:  # each score is the full pipeline's, refitted from scratch per fold
        full = [clone(head).set_params(**trial.params).fit(X[tr], y[tr]).score(X[te], y[te]) for tr, te in splits]
        assert trial.value == pytest.approx(np.mean(full), abs=1e-12)


def test_a_searched_step_is_refitted_every_trial() -> None:
    X, y = blobs(20, n_features=6)
    fixed = FoldPrefix(make_head("pca-logistic"), ["pca__n_components"])
    assert fixed.cut == 1  # only the scaler is kept
    Xtr, Xte = fixed.transform(0, X[:30], y[:30], X[30:])
    assert fixed.transform(0, X[:30], y[:30], X[30:])[0] is Xtr  # the same fold's output, kept
    np.testing.assert_allclose(Xtr.mean(axis=0), 0, atol=1e-12)


class _CountingStorage(optuna.storages.InMemoryStorage):
    reads = 0

    def get_all_trials(self, *args: Any, **kwargs: Any) -> Any:
        type(self).reads += 1
        return super().get_all_trials(*args, **kwargs)


def _pruned_study(pruner: Any) -> tuple[optuna.Study, int]:
    rng = np.random.default_rng(0)  # overlapping classes: scores spread with C, so trials get pruned
    X = rng.normal(size=(120, 8))
    y = np.where(X[:, 0] + X[:, 1] + rng.normal(scale=1.5, size=120) > 0, "a", "b")
    _CountingStorage.reads = 0
    study = optuna.create_study(storage=_CountingStorage(), direction="maximize", pruner=pruner,
                                sampler=optuna.samplers.TPESampler(seed=3))
    space = {"logisticregression__C": Float(1e-4, 1e2, log=True)}
    study.optimize(make_objective(make_head("logistic"), space, X, y, _search._splits(y, 5, 0), "accuracy"),
                   n_trials=16)
    return study, _CountingStorage.reads


def test_the_snapshot_pruner_prunes_like_the_median_pruner_with_fewer_storage_reads() -> None:
    plain, plain_reads = _pruned_study(optuna.pruners.MedianPruner(n_startup_trials=3))
    snap, snap_reads = _pruned_study(TrialSnapshotPruner(optuna.pruners.MedianPruner(n_startup_trials=3)))
    states = [(t.state, t.params, t.intermediate_values, t.value) for t in plain.trials]
    assert any(t.state == optuna.trial.TrialState.PRUNED for t in plain.trials)  # the pruner had work to do
    assert [(t.state, t.params, t.intermediate_values, t.value) for t in snap.trials] == states
    assert snap_reads < plain_reads - 16  # at least one read saved per trial


def test_tune_uses_the_snapshot_for_its_median_pruner(tmp_path: Path) -> None:
    X, y = blobs(15)
    result = tune(X, y, backbone="tiny-mlp", n_trials=8, sampler="random", cv=3, cache=False,
                  storage=tmp_path / "s.db")
    assert isinstance(result.study.pruner, TrialSnapshotPruner)
    assert isinstance(result.study.pruner.pruner, optuna.pruners.MedianPruner)


def test_l2_logistic_is_recognised_and_nothing_else() -> None:
    assert l2_logistic(LogisticRegression()) and l2_logistic(make_pipeline(LogisticRegression(C=3.0)))
    assert not l2_logistic(LogisticRegression(l1_ratio=1.0, solver="saga"))  # L1: the span argument fails
    assert not l2_logistic(LogisticRegression(C=np.inf))  # no penalty: no unique minimum-norm optimum
    assert not l2_logistic(make_head("logistic"))  # two steps: the scaler is fitted per trial here
    assert not l2_logistic(PCA())


def test_row_span_coordinates_are_those_of_an_orthonormal_basis_of_the_training_rows() -> None:
    rng = np.random.default_rng(0)
    X, X_test = rng.normal(size=(12, 40)), rng.normal(size=(5, 40))
    X[5] = X[0] + X[1]  # rank-deficient: no rank test is needed
    coordinates = row_span_coordinates(X, X_test)
    assert coordinates is not None
    Z, Z_test = coordinates
    assert Z.shape == (12, 12) and Z_test.shape == (5, 12)
    # the basis V (never formed) the coordinates refer to: the Q of X^T = Q R, up to the sign of each column
    Q, R = np.linalg.qr(X.T)
    V = Q * np.where(np.sum(R.T * Z, axis=0) < 0, -1.0, 1.0)
    np.testing.assert_allclose(X @ V, Z, atol=1e-10)
    np.testing.assert_allclose(V.T @ V, np.eye(12), atol=1e-10)  # orthonormal columns
    np.testing.assert_allclose(X_test @ V, Z_test, atol=1e-10)  # test rows in the same basis
    # inner products with the training rows, hence every linear score on them, are kept
    np.testing.assert_allclose(Z @ Z.T, X @ X.T, atol=1e-10)
    np.testing.assert_allclose(Z_test @ Z.T, X_test @ X.T, atol=1e-10)
    assert row_span_coordinates(rng.normal(size=(40, 12)), X_test[:, :12]) is None


@pytest.mark.parametrize("n_classes", [2, 4])
def test_a_fit_in_the_row_span_predicts_like_the_full_width_fit(n_classes: int) -> None:
    X, y = blobs(15, n_features=100, n_classes=n_classes)  # 100 features, 30-60 rows
    X = X + np.random.default_rng(1).normal(scale=4.0, size=X.shape)  # overlapping classes
    tr, te = np.arange(len(y)) % 3 != 0, np.arange(len(y)) % 3 == 0
    coordinates = row_span_coordinates(X[tr], X[te])
    assert coordinates is not None
    Z, Z_test = coordinates
    full = LogisticRegression(C=0.5, tol=1e-10, max_iter=5000).fit(X[tr], y[tr])
    small = LogisticRegression(C=0.5, tol=1e-10, max_iter=5000).fit(Z, y[tr])
    np.testing.assert_allclose(small.predict_proba(Z_test), full.predict_proba(X[te]), atol=1e-4)
    # w = V u: the same weights, V = X^+ Z being the basis the coordinates refer to
    V = np.linalg.pinv(X[tr]) @ Z
    np.testing.assert_allclose(V @ small.coef_.T, full.coef_.T, atol=1e-4)


def test_a_search_on_wide_features_fits_in_the_row_span_with_the_full_fits_scores() -> None:
    X, y = blobs(12, n_features=80, n_classes=3)
    X = X + np.random.default_rng(2).normal(scale=5.0, size=X.shape)
    splits = _search._splits(y, 3, 0)
    head = make_head("logistic")
    space = {"logisticregression__C": Float(1e-3, 1e1, log=True)}
    widths: list[int] = []
    real_fit = LogisticRegression.fit

    def spy(self: LogisticRegression, X: Any, *args: Any, **kwargs: Any) -> Any:
        widths.append(X.shape[1])
        return real_fit(self, X, *args, **kwargs)

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1),
                                pruner=optuna.pruners.NopPruner())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(LogisticRegression, "fit", spy)
        study.optimize(make_objective(head, space, X, y, splits, "accuracy"), n_trials=5)
    assert set(widths) == {24}  # 24 training rows per fold, not 80 columns
    for trial in study.trials:
        full = [clone(head).set_params(**trial.params).fit(X[tr], y[tr]).score(X[te], y[te]) for tr, te in splits]
        assert trial.value == pytest.approx(np.mean(full), abs=1e-9)


def test_the_row_span_is_only_used_when_it_at_least_halves_the_columns() -> None:
    rng = np.random.default_rng(0)
    X_test = rng.normal(size=(3, 40))
    assert row_span_coordinates(rng.normal(size=(20, 40)), X_test) is not None  # 20 rows, 40 features: half
    assert row_span_coordinates(rng.normal(size=(21, 40)), X_test) is None  # the one-off QR would hardly pay off


def test_the_snapshot_falls_back_to_the_public_trials_without_optunas_private_cache() -> None:
    from transferkit.tuning._pruning import _SnapshotStudy

    class PublicOnly:
        def get_trials(self, deepcopy: bool = True, states: Any = None) -> list[str]:
            return ["from the storage"]

    assert _SnapshotStudy(PublicOnly()).get_trials(deepcopy=False) == ["from the storage"]


@pytest.mark.parametrize("labels", [np.array(["cat", "dog", "emu"]), np.array([3, 1, 2])])
def test_the_accuracy_fold_scorer_is_scikit_learns_accuracy(labels: np.ndarray) -> None:
    from sklearn.metrics import f1_score, get_scorer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = labels[rng.integers(0, 3, 60)]
    model = LogisticRegression().fit(X[:40], y[:40])
    ours, theirs = _search.fold_scorer("accuracy"), get_scorer("accuracy")
    assert ours(model, X[40:], y[40:]) == theirs(model, X[40:], y[40:])
    assert 0 < ours(model, X[40:], y[40:]) < 1  # neither all right nor all wrong: the comparison means something
    f1 = _search.fold_scorer("f1_macro")(model, X[40:], y[40:])
    assert f1 == f1_score(y[40:], model.predict(X[40:]), average="macro")  # other names: scikit-learn's scorer
