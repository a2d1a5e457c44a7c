"""Multi-task learning (hard parameter sharing): the loss and metrics, MultiTaskClassifier over each strategy, its
model folder and its bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from tests.helpers import polarity_texts

from transferkit import (
    LPFT,
    FullFineTune,
    GradualUnfreeze,
    LinearProbe,
    LoRA,
    MultiTaskClassifier,
    PartialFreeze,
    TransferClassifier,
    load_model,
)
from transferkit.errors import DataError, ModelFolderError, StrategyError
from transferkit.strategies import Augment, Distill, default_head
from transferkit.training import (
    UNLABELED,
    multitask_cross_entropy,
    multitask_metrics,
    multitask_probabilities,
    task_slices,
)

FT = {"epochs": 25, "lr": 1e-2, "head_lr": 1e-2, "batch_size": 16}


def tasks_data(n: int = 120, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """Two tasks on 4 features: the sign of feature 0 (strings), whether feature 1 > 0 (0/1, a third unlabelled),
    and a three-class task on feature 2 labelled on half the rows."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    Y = pd.DataFrame({"sign": np.where(X[:, 0] > 0, "pos", "neg"),
                      "big": (X[:, 1] > 0).astype(int).astype(object),
                      "third": np.digitize(X[:, 2], [-0.4, 0.4]).astype(object)})
    Y.loc[: n // 3, "big"] = None
    Y.loc[n // 2:, "third"] = np.nan
    return X, Y


# --- the maths ----------------------------------------------------------------------------------------------
def _ce(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return -(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1)))


def test_the_loss_is_each_tasks_cross_entropy_on_its_labelled_rows_combined_by_task_weights() -> None:
    rng = np.random.default_rng(0)
    sizes = (2, 3)
    logits = rng.normal(size=(6, 5))
    y = np.array([[0, 2], [1, UNLABELED], [UNLABELED, 0], [1, 1], [0, UNLABELED], [UNLABELED, 2]])
    w = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0])
    got = float(multitask_cross_entropy(sizes, task_weights=(1.0, 3.0))(
        torch.tensor(logits), torch.tensor(y), torch.tensor(w)))
    a = y[:, 0] >= 0
    b = y[:, 1] >= 0
    la = (_ce(logits[a, :2], y[a, 0]) * w[a]).sum() / w[a].sum()
    lb = (_ce(logits[b, 2:], y[b, 1]) * w[b]).sum() / w[b].sum()
    assert got == pytest.approx((la + 3 * lb) / 4, rel=1e-6)
    # a batch without a label of task 1 adds 0 for it (the denominator stays the sum of all task weights)
    only_a = torch.tensor(y[[1, 4]])
    got_a = float(multitask_cross_entropy(sizes)(torch.tensor(logits[[1, 4]]), only_a, None))
    assert got_a == pytest.approx(_ce(logits[[1, 4], :2], y[[1, 4], 0]).mean() / 2, rel=1e-6)


def test_a_batch_with_no_label_at_all_gives_a_zero_loss_that_keeps_the_graph() -> None:
    logits = torch.zeros(3, 4, requires_grad=True)
    loss = multitask_cross_entropy((2, 2))(logits, torch.full((3, 2), UNLABELED), None)
    loss.backward()
    assert float(loss.detach()) == 0.0 and logits.grad is not None


def test_probabilities_are_a_softmax_per_task_and_slices_partition_the_logits() -> None:
    assert task_slices((2, 3, 1)) == [slice(0, 2), slice(2, 5), slice(5, 6)]
    p = multitask_probabilities(np.random.default_rng(1).normal(size=(4, 6)), (2, 3, 1))
    np.testing.assert_allclose(p[:, :2].sum(1), 1)
    np.testing.assert_allclose(p[:, 2:5].sum(1), 1)
    np.testing.assert_allclose(p[:, 5], 1)


def test_validation_metrics_are_per_task_and_their_means() -> None:
    logits = torch.tensor([[2.0, 0, 0, 3, 0], [0, 2, 3, 0, 0], [2, 0, 0, 0, 3], [0, 2, 0, 3, 0]])
    targets = torch.tensor([[0, 1], [1, UNLABELED], [1, 2], [UNLABELED, 0]])
    m = multitask_metrics((2, 3), ("a", "b"))(logits, targets)
    assert m["val_accuracy[a]"] == pytest.approx(2 / 3)  # rows 0, 1 right, row 2 wrong
    assert m["val_accuracy[b]"] == pytest.approx(2 / 3)  # rows 0 (pred 1), 2 (pred 2) right, 3 (pred 1) wrong
    assert m["val_accuracy"] == pytest.approx(2 / 3)
    assert m["val_loss"] == pytest.approx(float(multitask_cross_entropy((2, 3))(logits, targets, None)))
    assert set(m) >= {"val_f1", "val_f1[a]", "val_f1[b]"}


# --- the estimator --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", [LinearProbe(), FullFineTune(**FT), LPFT(**FT), FullFineTune(**FT, layer_decay=0.5)])
def test_every_task_is_learnt_and_predictions_have_one_column_per_task(strategy: object) -> None:
    X, Y = tasks_data()
    clf = MultiTaskClassifier(backbone="tiny-mlp", strategy=strategy, cache=False).fit(X, Y)
    assert clf.tasks_.tolist() == ["sign", "big", "third"]
    assert [c.tolist() for c in clf.classes_] == [["neg", "pos"], [0, 1], [0, 1, 2]]  # blanks read 0/1 as ints
    pred = clf.predict(X)
    assert pred.shape == (len(X), 3) and pred.dtype == object  # str and int classes: one object array
    proba = clf.predict_proba(X)
    assert [p.shape[1] for p in proba] == [2, 2, 3]
    for p in proba:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    scores = clf.task_scores(X, Y)
    assert scores["sign"] > 0.85 and scores["big"] > 0.85, scores
    assert clf.score(X, Y) == pytest.approx(np.mean(list(scores.values())))


@pytest.mark.parametrize("strategy", [PartialFreeze(n_frozen=1, epochs=2), GradualUnfreeze(epochs=2)])
def test_freezing_strategies_train_the_shared_backbone_for_every_task(strategy: object) -> None:
    X, Y = tasks_data()
    clf = MultiTaskClassifier(backbone="tiny-mlp", strategy=strategy, cache=False).fit(X, Y)
    assert clf.predict(X).shape == (len(X), 3) and clf.model_.net.head.out_features == 7


def test_fine_tuning_logs_each_tasks_validation_accuracy() -> None:
    X, Y = tasks_data()
    clf = MultiTaskClassifier(backbone="tiny-mlp", strategy=FullFineTune(**{**FT, "epochs": 2, "min_val_size": 0}),
                              cache=False).fit(X, Y)
    last = clf.model_.history.epochs[-1]
    assert {"val_accuracy[sign]", "val_accuracy[big]", "val_accuracy[third]"} <= set(last)
    assert last["val_accuracy"] == pytest.approx(np.mean([last[f"val_accuracy[{t}]"] for t in clf.tasks_]))


def test_one_shared_backbone_carries_every_task() -> None:
    """The heads are blocks of one linear layer on one backbone; the probe fits one head per task."""
    X, Y = tasks_data()
    net = MultiTaskClassifier(backbone="tiny-mlp", strategy=FullFineTune(**{**FT, "epochs": 1}), cache=False).fit(X, Y)
    assert net.model_.net.head.out_features == 2 + 2 + 3
    probe = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False).fit(X, Y)
    assert len(probe.model_.task_heads) == 3


def test_a_task_alone_matches_a_transfer_classifier_on_its_labelled_rows() -> None:
    X, Y = tasks_data()
    multi = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False).fit(X, Y)
    rows = Y["big"].notna().to_numpy()
    single = TransferClassifier(backbone="tiny-mlp", strategy="linear", cache=False).fit(
        X[rows], Y["big"][rows].astype(int))
    np.testing.assert_allclose(multi.predict_proba(X)[1], single.predict_proba(X), atol=1e-8)


def test_task_weights_change_the_fit_and_are_checked() -> None:
    X, Y = tasks_data()
    base = MultiTaskClassifier(backbone="tiny-mlp", strategy=FullFineTune(**{**FT, "epochs": 3}), cache=False)
    a = clone(base).fit(X, Y).predict_proba(X)[0]
    b = clone(base).set_params(task_weights={"sign": 5.0}).fit(X, Y).predict_proba(X)[0]
    assert not np.allclose(a, b)
    for bad, words in [({"colour": 1.0}, "'colour'"), ([1.0, 2.0], "2 weights for 3 tasks"),
                       ({"sign": 0.0}, "task 'sign' must be a finite number > 0"), ("heavy", "task_weights must be")]:
        with pytest.raises(StrategyError, match=words):
            clone(base).set_params(task_weights=bad).fit(X, Y)


def test_it_is_a_cloneable_estimator_that_grid_search_can_tune() -> None:
    X, Y = tasks_data()
    est = MultiTaskClassifier(backbone="tiny-mlp", strategy=LinearProbe(head=default_head()), cache=False,
                              task_weights=(1, 2, 1))
    assert clone(est).get_params()["task_weights"] == (1, 2, 1)
    search = GridSearchCV(est, {"strategy__head__logisticregression__C": [0.01, 1.0]}, cv=KFold(3))
    search.fit(X, Y.to_numpy())  # a plain 2-D array: tasks named task_0, task_1, ...
    assert search.best_estimator_.tasks_.tolist() == ["task_0", "task_1", "task_2"]


def test_text_tasks_on_a_tiny_text_backbone() -> None:
    texts, y = polarity_texts(12)
    Y = pd.DataFrame({"polarity": y, "long": [len(t) > 20 for t in texts]})
    clf = MultiTaskClassifier(backbone="tiny-text", strategy=FullFineTune(epochs=1, batch_size=8), cache=False)
    assert clf.fit(texts, Y).predict(texts[:3]).shape == (3, 2)


def test_lora_trains_its_adapters_for_every_task(tmp_path: Path) -> None:
    texts, y = polarity_texts(12)
    Y = pd.DataFrame({"polarity": y, "long": [len(t) > 20 for t in texts]})
    clf = MultiTaskClassifier(backbone="tiny-text", strategy=LoRA(epochs=1, batch_size=8), cache=False).fit(texts, Y)
    clf.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    for a, b in zip(again.predict_proba(texts), clf.predict_proba(texts), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


# --- the model folder ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", [LinearProbe(), FullFineTune(**{**FT, "epochs": 2})])
def test_the_model_folder_keeps_tasks_classes_and_predictions(tmp_path: Path, strategy: object) -> None:
    X, Y = tasks_data()
    clf = MultiTaskClassifier(backbone="tiny-mlp", strategy=strategy, cache=False, task_weights={"big": 2.0}).fit(X, Y)
    clf.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert isinstance(again, MultiTaskClassifier)
    assert again.tasks_.tolist() == clf.tasks_.tolist() and again.task_weights_ == (1.0, 2.0, 1.0)
    assert [c.tolist() for c in again.classes_] == [c.tolist() for c in clf.classes_]
    assert [c.dtype for c in again.classes_] == [c.dtype for c in clf.classes_]
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    labels = json.loads((tmp_path / "m" / "labels.json").read_text())
    assert labels == {"tasks": {"sign": {"0": "neg", "1": "pos"}, "big": {"0": 0, "1": 1},
                                "third": {"0": 0, "1": 1, "2": 2}}}


def test_a_folder_whose_task_list_was_edited_is_refused(tmp_path: Path) -> None:
    X, Y = tasks_data()
    MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False).fit(X, Y).save(tmp_path / "m")
    cfg_path = tmp_path / "m" / "transferkit.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["tasks"][0]["classes"] = ["pos", "neg"]  # swapped: predictions would read the wrong label
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match="differ from its labels.json"):
        load_model(tmp_path / "m")


# --- bad input -------------------------------------------------------------------------------------------------
def test_bad_labels_are_named_before_any_work() -> None:
    X, Y = tasks_data(30)
    est = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False)
    with pytest.raises(DataError, match="one column of labels per task"):
        est.fit(X, Y["sign"].to_numpy())
    with pytest.raises(DataError, match="task 'sign'.*only one class"):
        est.fit(X, Y.assign(sign="pos"))
    with pytest.raises(DataError, match="task 'big'.*continuous"):
        est.fit(X, Y.assign(big=np.linspace(0, 1, 30)))
    blank = Y.astype(object)
    blank.loc[3, :] = None
    with pytest.raises(DataError, match="index 3 of y has no label for any task"):
        est.fit(X, blank)
    with pytest.raises(DataError, match="task 'big': The labels mix strings and other values"):
        est.fit(X, Y.assign(big=[0, "x", 1] * 10))  # numpy alone would read them all as strings
    with pytest.raises(DataError, match="30 samples but 29 labels of task 'sign'"):
        est.fit(X, {"sign": Y["sign"][:29].tolist(), "big": Y["big"][:29].tolist()})
    with pytest.raises(DataError, match="'a' names more than one column"):
        est.fit(X, Y.set_axis(["a", "a", "b"], axis=1))
    with pytest.raises(DataError, match="y has no columns"):
        est.fit(X, pd.DataFrame(index=range(30)))
    assert not hasattr(est, "model_")


@pytest.mark.parametrize("strategy, words", [
    ("auto", "strategy 'auto' does not fit several tasks"),
    (Distill(teacher="baseline", epochs=1), "strategy 'distill' does not fit several tasks"),
    (FullFineTune(class_weight="balanced"), "class_weight='balanced'"),
    (FullFineTune(augment=Augment(mixup=0.2)), "MixUp/CutMix"),
    (FullFineTune(epochs=0), "epochs must be an integer >= 1"),
])
def test_strategies_that_cannot_share_are_refused_before_any_work(strategy: object, words: str) -> None:
    X, Y = tasks_data(30)
    with pytest.raises(StrategyError, match=words):
        MultiTaskClassifier(backbone="tiny-mlp", strategy=strategy, cache=False).fit(X, Y)


def test_scoring_matches_columns_by_name_and_refuses_other_tasks() -> None:
    X, Y = tasks_data()
    clf = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False).fit(X, Y)
    assert clf.task_scores(X, Y[["third", "sign", "big"]]) == clf.task_scores(X, Y)
    with pytest.raises(DataError, match=r"not this model's tasks \(sign, big, third\)"):
        clf.score(X, Y.rename(columns={"big": "large"}))
    with pytest.raises(DataError, match="2 columns, this model has 3 tasks"):
        clf.score(X, Y.to_numpy()[:, :2])
    assert np.isnan(clf.task_scores(X, Y.assign(third=None))["third"])


def test_a_multi_task_model_is_refused_as_a_distillation_teacher(tmp_path: Path) -> None:
    X, Y = tasks_data()
    teacher = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False).fit(X, Y)
    teacher.save(tmp_path / "t")
    for given in (str(tmp_path / "t"), MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False)):
        student = TransferClassifier(backbone="tiny-mlp", strategy=Distill(teacher=given, epochs=1), cache=False)
        with pytest.raises(StrategyError, match="multi-task model .*a teacher predicts the student's one task"):
            student.fit(X, Y["sign"])


def test_a_multi_task_model_is_refused_as_an_ensemble_member() -> None:
    from transferkit.ensembles import TransferEnsemble
    from transferkit.ensembles._members import EnsembleError

    X, Y = tasks_data(30)
    ensemble = TransferEnsemble(members=[("mt", MultiTaskClassifier(backbone="tiny-mlp", strategy="linear")),
                                         ("lr", TransferClassifier(backbone="tiny-mlp", strategy="linear"))])
    with pytest.raises(EnsembleError, match="member 'mt' is a MultiTaskClassifier, which predicts several tasks"):
        ensemble.fit(X, Y["sign"])


@pytest.mark.parametrize("seed, words", [(2, "task 'rare' has 1 class among the 2 rows"),
                                         (1, "task 'rare' has 0 classes among the 0 rows")])
def test_lpft_refuses_a_task_that_the_validation_split_leaves_without_two_classes(seed: int, words: str) -> None:
    X, Y = tasks_data(40)
    Y = Y[["sign"]].assign(rare=None).astype(object)
    Y.loc[[0, 1, 2], "rare"] = ["x", "x", "y"]
    est = MultiTaskClassifier(backbone="tiny-mlp", strategy=LPFT(epochs=1, val_fraction=0.5, min_val_size=0), cache=False,
                              random_state=seed)
    with pytest.raises(StrategyError, match=words + " labelled for it in the training split; LP-FT's probe needs two"):
        est.fit(X, Y)


def test_the_labels_are_y_by_keyword_as_in_scikit_learn() -> None:
    """``fit(X, y=...)`` and ``score(X, y=...)`` raised TypeError: the parameter was named ``Y``."""
    import inspect

    X = np.random.default_rng(0).normal(size=(30, 4))
    Y = np.c_[np.where(X[:, 0] > 0, "pos", "neg"), np.where(X[:, 1] > 0, "up", "down")]
    clf = MultiTaskClassifier(backbone="tiny-mlp", strategy="linear", cache=False).fit(X, y=Y)
    assert 0 <= clf.score(X, y=Y) <= 1 and set(clf.task_scores(X, y=Y)) == {"task_0", "task_1"}
    for method in (MultiTaskClassifier.fit, MultiTaskClassifier.score, MultiTaskClassifier.task_scores):
        assert list(inspect.signature(method).parameters)[1:3] == ["X", "y"]
