from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from tests.helpers import blobs, polarity_texts, stripe_images

from transferkit import TransferClassifier, evaluate
from transferkit.errors import DataError
from transferkit.evaluation import BASELINE, evaluation_report, make_baseline


def test_cross_validation_scores_transfer_and_baseline_on_the_same_folds() -> None:
    X, y = blobs(12, n_classes=3)
    res = evaluate({"mlp": TransferClassifier(backbone="tiny-mlp")}, X, y, cv=3)
    assert set(res.models) == {"mlp", BASELINE}
    assert len(res.models["mlp"].folds) == len(res.baseline.folds) == 3
    assert res.scheme.startswith("3-fold")
    g = res.gains["mlp"]["accuracy"]
    assert g.low <= g.mean <= g.high and g.method.startswith("Student-t")
    assert sum(res.models["mlp"].pooled["per_class"][i]["support"] for i in range(3)) == len(y)


def test_negative_transfer_is_said_plainly() -> None:
    X, y = blobs(30)
    bad = DummyClassifier(strategy="constant", constant="c0")  # a "transfer" model that learned nothing
    res = evaluate({"useless": bad}, X, y, cv=5, modality="table")
    assert res.gains["useless"]["accuracy"].verdict == "negative"
    assert res.verdict("useless").startswith("Negative transfer")


def test_positive_transfer_is_detected() -> None:
    X, y = blobs(40)
    weak_baseline = DummyClassifier(strategy="prior")
    res = evaluate({"good": LogisticRegression()}, X, y, cv=5, baseline=weak_baseline, modality="table")
    assert res.verdict("good").startswith("Transfer helps")


def test_held_out_test_set_uses_a_paired_bootstrap() -> None:
    X, y = stripe_images(15)
    res = evaluate(TransferClassifier(backbone="tiny-cnn"), X[::2], y[::2], test=(X[1::2], y[1::2]),
                   keep_models=True)
    g = next(iter(res.gains.values()))["accuracy"]
    assert "bootstrap" in g.method and res.scheme.startswith("train")
    assert next(iter(res.fitted.values())).classes_.tolist() == ["left", "top"]
    assert res.to_dict()["fitted"] == {} and res.fitted, "fitted models are kept but never serialised"


def test_baselines_fit_every_modality() -> None:
    for modality, (X, y) in {"text": polarity_texts(8), "image": stripe_images(8), "table": blobs(8)}.items():
        assert make_baseline(modality).fit(X, y).score(X, y) > 0.8
    with pytest.raises(DataError, match="modality 'audio'"):
        make_baseline("audio")


def test_bad_inputs() -> None:
    X, y = blobs(5)
    with pytest.raises(DataError, match="only 1 example"):
        evaluate(LogisticRegression(), X[:6], np.array(["a"] * 5 + ["b"]), modality="table")
    with pytest.raises(DataError, match="no model"):
        evaluate({}, X, y)
    with pytest.raises(DataError, match="same length"):
        evaluate(LogisticRegression(), X, y[:-1], modality="table")


def test_report_is_self_contained_html(tmp_path: Path) -> None:
    X, y = stripe_images(9)
    res = evaluate(TransferClassifier(backbone="tiny-cnn"), X, y, cv=3)
    path = evaluation_report(res, title="a <test> report", examples=(list(X[:4]), list(y[:4]))).write(tmp_path / "r.html")
    html = path.read_text()
    assert html.startswith("<!doctype html>") and "a &lt;test&gt; report" in html
    for section in ("Data", "Metrics against the no-transfer baseline", "Per-class", "Confusion matrices", "Timings"):
        assert section in html
    assert html.count("data:image/png;base64,") >= 5  # class counts, examples, bars, 2 confusion matrices
    assert "http://" not in html and "https://" not in html, "no external resources"
    assert not list(tmp_path.glob("*.tmp"))


def test_the_fold_spread_is_shown_only_where_there_are_folds() -> None:
    """A held-out test set has no folds: its report showed '± (folds)' as 0.0000, which reads as no variance."""
    X, y = blobs(20)
    held_out = evaluation_report(evaluate(LogisticRegression(), X[::2], y[::2], test=(X[1::2], y[1::2]),
                                          modality="table"), title="t").render()
    row = r"<td>LogisticRegression</td><td>[0-9.]+</td><td>{}</td>"  # model, accuracy, ± (folds)
    assert "spread over folds" not in held_out and re.search(row.format("—"), held_out)
    folded = evaluation_report(evaluate(LogisticRegression(), X, y, cv=3, modality="table"), title="t").render()
    assert "± is the spread over folds" in folded and re.search(row.format(r"[0-9.]+"), folded)


def test_a_test_label_that_is_no_training_class_is_refused() -> None:
    X, y = blobs(10)
    yt = y.astype(object)
    yt[0] = "zzz"
    with pytest.raises(DataError, match="test set has labels that are no class of the training data: 'zzz'"):
        evaluate({"lr": LogisticRegression()}, X, y, test=(X, yt))


def test_evaluate_to_folder_matches_test_columns_by_name(tmp_path: Path) -> None:
    from transferkit.data import Dataset
    from transferkit.workflows import evaluate_to_folder

    X = np.random.default_rng(0).normal(size=(80, 3))
    y = np.where(X[:, 0] > 0, "pos", "neg")  # only f0 matters: by position, the swapped table would score ~0.5
    names = ["f0", "f1", "f2"]
    train = Dataset(X=X, y=y, modality="table", feature_names=names)
    swapped = Dataset(X=X[:, [2, 0, 1]], y=y, modality="table", feature_names=["f2", "f0", "f1"])
    models = {"lr": TransferClassifier(backbone="identity", cache=False)}
    same = evaluate_to_folder(models, train, tmp_path / "a", test=train)
    moved = evaluate_to_folder(models, train, tmp_path / "b", test=swapped)
    assert moved.models["lr"].pooled == same.models["lr"].pooled and same.models["lr"].pooled["accuracy"] > 0.9
    renamed = Dataset(X=X, y=y, modality="table", feature_names=["f0", "f1", "g2"])
    with pytest.raises(DataError, match="lacks the feature column.*'f2'.*has the column.*'g2'"):
        evaluate_to_folder(models, train, tmp_path / "c", test=renamed)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "evaluation.json").write_text("mine")
    with pytest.raises(DataError, match="'evaluation.json', which transferkit did not write"):
        evaluate_to_folder(models, train, tmp_path / "d", test=train)
    assert (tmp_path / "d" / "evaluation.json").read_text() == "mine"


def test_folds_lowered_to_the_smallest_class_are_noted() -> None:
    X, y = blobs(4)
    res = evaluate({"dummy": DummyClassifier()}, X, y, cv=10, modality="table")
    assert res.n_splits == 4 and res.notes == [
        "cv=10 lowered to 4 folds: the smallest class ('c0') has 4 examples, and each fold needs one of every class"]
    assert res.to_dict()["notes"] == res.notes
    assert "cv=10 lowered to 4 folds" in evaluation_report(res, title="t").render().replace("&#x27;", "'")
    assert evaluate({"dummy": DummyClassifier()}, X, y, cv=4, modality="table").notes == []
    with pytest.raises(DataError, match="cv must be an integer of at least 2 folds, got 1"):
        evaluate({"dummy": DummyClassifier()}, X, y, cv=1, modality="table")
