"""Knowledge distillation: the loss, the teacher's targets, the Distill strategy, its CLI and its bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.svm import LinearSVC
from tests.helpers import blobs, run_cli

from transferkit import Distill, FullFineTune, TransferClassifier, load_model
from transferkit.errors import StrategyError
from transferkit.strategies import Augment
from transferkit.strategies._distill import out_of_fold_probabilities, teacher_probabilities
from transferkit.training import distillation_loss, distillation_targets, soften, weighted_cross_entropy

PARAMS = {"epochs": 4, "lr": 3e-3, "head_lr": 3e-2, "batch_size": 16, "val_fraction": 0.0}


def _np_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_soften_is_the_softmax_of_log_probabilities_over_the_temperature() -> None:
    p = np.array([[0.7, 0.2, 0.1], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(soften(p, 1.0), np.clip(p, 1e-12, None) / np.clip(p, 1e-12, None).sum(1, keepdims=True))
    warm = soften(p, 3.0)
    np.testing.assert_allclose(warm.sum(axis=1), 1.0)
    np.testing.assert_allclose(warm[0], _np_softmax(np.log(p[:1]) / 3.0)[0])
    assert warm[0, 0] < 0.7 and warm[0, 2] > 0.1  # spread over the wrong classes, ranking kept
    assert np.isfinite(warm).all() and warm[1, 1] > 0  # a teacher's exact 0 does not break the log


def test_the_loss_is_the_hinton_mix_computed_by_hand() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 3))
    teacher = _np_softmax(rng.normal(size=(5, 3)))
    y = np.array([0, 2, 1, 1, 0])
    w = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    T, a = 2.5, 0.3
    targets = distillation_targets(y, teacher, T)
    assert targets.shape == (5, 6) and targets.dtype == np.float32
    loss = distillation_loss(3, alpha=a, temperature=T)
    got = float(loss(torch.tensor(logits, dtype=torch.float32), torch.from_numpy(targets), torch.tensor(w).float()))
    ce = -np.log(_np_softmax(logits)[np.arange(5), y])
    soft = soften(teacher, T)
    kl = (soft * (np.log(soft) - np.log(_np_softmax(logits / T)))).sum(axis=1)
    expected = ((a * ce + (1 - a) * T**2 * kl) * w).sum() / w.sum()
    assert got == pytest.approx(expected, rel=1e-5)


def test_label_weight_one_and_validation_batches_are_plain_cross_entropy() -> None:
    rng = np.random.default_rng(1)
    logits = torch.tensor(rng.normal(size=(6, 4)), dtype=torch.float32)
    y = np.array([0, 1, 2, 3, 1, 0])
    targets = torch.from_numpy(distillation_targets(y, _np_softmax(rng.normal(size=(6, 4))), 2.0))
    plain = float(weighted_cross_entropy()(logits, torch.from_numpy(y), None))
    assert float(distillation_loss(4, alpha=1.0, temperature=2.0)(logits, targets, None)) == pytest.approx(plain, rel=1e-6)
    # validation batches hold class indices: cross-entropy alone, whatever the mix
    assert float(distillation_loss(4, alpha=0.2, temperature=2.0)(logits, torch.from_numpy(y), None)) == pytest.approx(plain)


def test_a_student_equal_to_its_teacher_has_no_soft_loss() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.5]])
    teacher = torch.softmax(logits.double(), dim=1).numpy()
    targets = torch.from_numpy(distillation_targets(np.array([0]), teacher, 3.0))
    assert float(distillation_loss(3, alpha=0.0, temperature=3.0)(logits, targets, None)) == pytest.approx(0.0, abs=1e-6)


def test_teacher_columns_follow_the_students_classes() -> None:
    X, names = blobs(15, n_classes=3)  # classes c0, c1, c2
    fitted = LogisticRegression().fit(X, names)
    order = np.array(["c2", "c0", "c1"])
    proba = teacher_probabilities(FrozenEstimator(fitted), X, names, order, None)
    np.testing.assert_allclose(proba, fitted.predict_proba(X)[:, [2, 0, 1]])
    # a teacher with a class the student lacks: that column dropped, rows renormalised
    two = teacher_probabilities(FrozenEstimator(fitted), X, names, np.array(["c0", "c1"]), None)
    np.testing.assert_allclose(two, fitted.predict_proba(X)[:, :2] / fitted.predict_proba(X)[:, :2].sum(1, keepdims=True))
    with pytest.raises(StrategyError, match=r"does not predict the class\(es\) 'd'"):
        teacher_probabilities(FrozenEstimator(fitted), X, names, np.array(["c0", "d"]), None)


def test_an_unfitted_teacher_is_fitted_on_the_training_split_with_its_weights() -> None:
    X, y = blobs(15, n_classes=2)
    w = np.where(y == "c1", 0.5, 1.0)
    teacher = LogisticRegression()
    teacher_probabilities(teacher, X, y, np.array(["c0", "c1"]), w)
    np.testing.assert_allclose(teacher.coef_, LogisticRegression().fit(X, y, sample_weight=w).coef_)


def test_out_of_fold_targets_come_from_teachers_that_did_not_see_the_row() -> None:
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    X, y = blobs(12, n_classes=3)
    X = X + np.random.default_rng(1).normal(scale=4.0, size=X.shape)  # overlapping: fitted rows are easier
    classes = np.array(["c2", "c0", "c1"])
    w = np.linspace(0.5, 1.5, len(y))
    oof = out_of_fold_probabilities(LogisticRegression(), X, y, classes, w, cv=4, random_state=3)
    folds = StratifiedKFold(4, shuffle=True, random_state=3)
    expected = cross_val_predict(LogisticRegression(), X, y, cv=folds, method="predict_proba", params={"sample_weight": w})
    np.testing.assert_allclose(oof, expected[:, [2, 0, 1]], atol=1e-8)
    in_sample = teacher_probabilities(LogisticRegression(), X, y, classes, w)
    right = {name: (p.argmax(1) == [list(classes).index(c) for c in y]).mean() for name, p in
             (("oof", oof), ("in-sample", in_sample))}
    assert right["oof"] < right["in-sample"]  # a teacher is better on rows it was fitted on
    texts = [f"item {i}" for i in range(len(y))]  # a list of items goes through the folds as a list
    lengths = FrozenLengths()
    out_of_fold_probabilities(lengths, texts, y, classes, None, cv=3, random_state=0)
    assert lengths.seen == [list] * 6  # 3 fits and 3 predictions, each on a list
    with pytest.raises(StrategyError, match=r"teacher_cv=13 needs at least 13 training rows in every class; the "
                                            r"smallest has 12"):
        out_of_fold_probabilities(LogisticRegression(), X, y, classes, None, cv=13, random_state=0)


class FrozenLengths(LogisticRegression):
    """Records the type of the items it is fitted on and predicts (a text teacher's list stays a list)."""

    seen: list[type] = []

    def fit(self, X, y, sample_weight=None):  # type: ignore[no-untyped-def]
        type(self).seen.append(type(X))
        return super().fit(np.array([[len(x)] for x in X]), y)

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        type(self).seen.append(type(X))
        return super().predict_proba(np.array([[len(x)] for x in X]))


def test_distill_with_teacher_cv_records_the_out_of_fold_teacher_accuracy() -> None:
    X, y = blobs(20)
    X = X + np.random.default_rng(0).normal(scale=4.0, size=X.shape)
    fits = {cv: TransferClassifier(backbone="tiny-mlp", cache=False, random_state=0,
                                   strategy=Distill(teacher=LogisticRegression(), teacher_cv=cv, **PARAMS)).fit(X, y)
            for cv in (None, 5)}
    assert fits[5].fit_info_["teacher_train_accuracy"] < fits[None].fit_info_["teacher_train_accuracy"]
    assert not np.allclose(fits[5].predict_proba(X), fits[None].predict_proba(X))
    code, text = run_cli("fit", "fashion-mnist", "-s", "distill", "--teacher", "baseline", "--teacher-cv", "1",
                         "-o", "never")
    assert code == 2 and "--teacher-cv" in text and not Path("never").exists()


def test_label_weight_one_is_full_fine_tuning() -> None:
    X, y = blobs(20)
    plain = TransferClassifier(backbone="tiny-mlp", strategy=FullFineTune(**PARAMS), cache=False).fit(X, y)
    distilled = TransferClassifier(backbone="tiny-mlp", cache=False,
                                   strategy=Distill(teacher=LogisticRegression(), label_weight=1.0, **PARAMS)).fit(X, y)
    np.testing.assert_allclose(distilled.predict_proba(X), plain.predict_proba(X), atol=1e-5)
    assert distilled.fit_info_["teacher"] == "LogisticRegression"


def test_the_student_learns_what_the_teacher_says() -> None:
    """With the labels' weight at 0, a student follows a (frozen) teacher that contradicts the labels."""
    X, y = blobs(30)
    flipped = np.where(y == "c0", "c1", "c0")
    contrary = FrozenEstimator(LogisticRegression().fit(X, flipped))
    params = {**PARAMS, "epochs": 15}
    from_teacher = TransferClassifier(backbone="tiny-mlp", cache=False, random_state=0,
                                      strategy=Distill(teacher=contrary, label_weight=0.0, temperature=1.0,
                                                       **params)).fit(X, y)
    from_labels = TransferClassifier(backbone="tiny-mlp", cache=False, random_state=0,
                                     strategy=Distill(teacher=contrary, label_weight=1.0, **params)).fit(X, y)
    assert (from_teacher.predict(X) == flipped).mean() > 0.9
    assert (from_labels.predict(X) == y).mean() > 0.9


def test_saved_student_predicts_the_same_without_its_teacher(tmp_path: Path) -> None:
    X, y = blobs(15)
    clf = TransferClassifier(backbone="tiny-mlp", cache=False,
                             strategy=Distill(teacher=LogisticRegression(), **PARAMS)).fit(X, y)
    clf.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert isinstance(loaded.strategy_, Distill) and loaded.strategy_.teacher is None
    saved = json.loads((tmp_path / "m" / "transferkit.json").read_text())
    assert "teacher" not in saved["strategy"]["params"] and saved["strategy"]["params"]["temperature"] == 2.0


def test_clone_and_grid_search_refit_the_teacher() -> None:
    X, y = blobs(15)
    clf = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=Distill(teacher=LogisticRegression(), **PARAMS))
    assert clone(clf).strategy.teacher is not clf.strategy.teacher
    grid = GridSearchCV(clf, {"strategy__temperature": [1.0, 4.0], "strategy__teacher__C": [0.1, 1.0]}, cv=2).fit(X, y)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (Distill(), "Distill needs a teacher"),
        (Distill(teacher=LinearSVC()), "teacher must be a classifier with fit and predict_proba"),
        (Distill(teacher="bogus-backbone:linear"), "teacher 'bogus-backbone:linear': Unknown backbone"),
        (Distill(teacher="identity:nothing"), "teacher 'identity:nothing': unknown strategy 'nothing'"),
        (Distill(teacher="tiny-text:linear"), "teacher 'tiny-text:linear' reads text data, but the student backbone"),
        (Distill(teacher=LogisticRegression(), temperature=0.0), "temperature"),
        (Distill(teacher=LogisticRegression(), label_weight=1.5), "label_weight"),
        (Distill(teacher=LogisticRegression(), augment=Augment(mixup=0.2)), "cannot use MixUp/CutMix"),
        (Distill(teacher=Path("/nonexistent/model")), "is no saved model folder"),
        (Distill(teacher="identity:distill"), "the distill strategy needs a teacher, which a member spec cannot name"),
        (Distill(teacher=LogisticRegression(), teacher_cv=1), r"teacher_cv must be an integer >= 2 or None, got 1"),
        (Distill(teacher=FrozenEstimator(LogisticRegression()), teacher_cv=3),
         "teacher_cv refits the teacher on folds of the training split, but this teacher is used as fitted"),
    ],
)
def test_bad_distillation_settings_are_named(strategy: Distill, message: str) -> None:
    X, y = blobs(10)
    with pytest.raises(StrategyError, match=message):
        TransferClassifier(backbone="tiny-mlp", cache=False, strategy=strategy).fit(X, y)


def test_a_teacher_that_fails_is_named() -> None:
    X, y = blobs(10)
    bad = LogisticRegression(C=-1.0)
    with pytest.raises(StrategyError, match=r"the teacher \(LogisticRegression\) failed on the training split"):
        TransferClassifier(backbone="tiny-mlp", cache=False, strategy=Distill(teacher=bad, **PARAMS)).fit(X, y)


def test_cli_distills_from_a_spec_or_a_saved_model(tmp_path: Path) -> None:
    X, y = blobs(20, n_features=4)
    pd.DataFrame(X, columns=list("abcd")).assign(label=y).to_csv(tmp_path / "t.csv", index=False)
    common = ["-b", "tiny-mlp", "--epochs", "2", "--no-cache", "--no-progress", "--holdout", "0"]
    code, out = run_cli("fit", tmp_path / "t.csv", *common, "-s", "distill", "--teacher", "identity:linear",
                        "--temperature", "3", "--label-weight", "0.2", "--teacher-cv", "3", "-o", tmp_path / "s1")
    assert code == 0, out
    strategy = json.loads((tmp_path / "s1" / "transferkit.json").read_text())["strategy"]
    assert strategy["class"] == "Distill" and strategy["params"]["label_weight"] == 0.2
    assert strategy["params"]["teacher_cv"] == 3
    code, out = run_cli("fit", tmp_path / "t.csv", *common, "-s", "distill", "--teacher", tmp_path / "s1",
                        "-o", tmp_path / "s2")
    assert code == 0, out
    code, out = run_cli("fit", tmp_path / "t.csv", *common, "-s", "distill", "--teacher", tmp_path / "s1",
                        "--teacher-cv", "3", "-o", tmp_path / "s5")  # a saved teacher is used as fitted
    assert code == 2 and "--teacher-cv refits the teacher" in out and not (tmp_path / "s5").exists(), out
    code, out = run_cli("fit", tmp_path / "t.csv", *common, "-s", "distill", "-o", tmp_path / "s3")
    assert code == 2 and "needs a teacher (--teacher=...)" in out and not (tmp_path / "s3").exists(), out
    code, out = run_cli("fit", tmp_path / "t.csv", *common, "-s", "linear", "--teacher", "identity", "-o", tmp_path / "s4")
    assert code == 2 and "--teacher does not apply to strategy 'linear'" in out, out
    before = (tmp_path / "s1" / "transferkit.json").read_bytes()  # the student would have replaced its teacher
    code, out = run_cli("fit", tmp_path / "t.csv", *common, "-s", "distill", "--teacher", tmp_path / "s1",
                        "-o", tmp_path / "s1", "--overwrite")
    assert code == 1 and f"output {str(tmp_path / 's1')!r} is the input" in out, out
    assert (tmp_path / "s1" / "transferkit.json").read_bytes() == before


def test_a_saved_teacher_of_another_modality_is_refused(tmp_path: Path) -> None:
    """A text model as the teacher of an image student read the image paths as texts, and fitted."""
    from tests.helpers import polarity_texts, stripe_images

    texts, labels = polarity_texts(10)
    TransferClassifier(backbone="tiny-text", strategy="linear", cache=False).fit(texts, labels).save(tmp_path / "text")
    X, y = stripe_images(8)
    student = TransferClassifier(backbone="tiny-cnn", cache=False,
                                 strategy=Distill(teacher=tmp_path / "text", **PARAMS))
    with pytest.raises(StrategyError, match=r"teacher '.*text' reads text data, but the student backbone 'tiny-cnn' "
                                            r"reads image data"):
        student.fit(X, y)


def test_an_ensemble_member_cannot_be_distilled() -> None:
    from transferkit.ensembles import EnsembleError, TransferEnsemble

    X, y = blobs(10)
    with pytest.raises(EnsembleError, match="'tiny-mlp:distill': the distill strategy needs a teacher"):
        TransferEnsemble(members=["tiny-mlp:distill", "baseline"], cache=False).fit(X, y)
