"""ROC/PR curves, calibration, and their place in results and reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.svm import LinearSVC
from tests.helpers import blobs

from transferkit import evaluate
from transferkit.evaluation import BASELINE, binary_curves, evaluation_report, reliability
from transferkit.evaluation._probabilistic import MAX_CURVE_POINTS, align_proba


def test_reliability_matches_a_hand_computation() -> None:
    classes = ["a", "b"]
    proba = np.array([[0.95, 0.05], [0.9, 0.1], [0.35, 0.65], [0.4, 0.6], [0.3, 0.7]])
    y = ["a", "b", "b", "a", "b"]
    r = reliability(y, proba, classes, n_bins=10)
    # bins: (0.9, 1.0] holds 0.95 (right) and 0.9 goes to (0.8, 0.9] (wrong); (0.6, 0.7] holds 0.65, 0.7
    # (both right); (0.5, 0.6] holds 0.6 (wrong)
    expected = (1 * abs(1 - 0.95) + 1 * abs(0 - 0.9) + 2 * abs(1 - 0.675) + 1 * abs(0 - 0.6)) / 5
    assert r["ece"] == pytest.approx(expected)
    assert [b["count"] for b in r["bins"]] == [1, 2, 1, 1] and sum(b["count"] for b in r["bins"]) == 5
    perfect = reliability(["a", "b"], np.array([[1.0, 0.0], [0.0, 1.0]]), classes)
    assert perfect["ece"] == 0.0
    with pytest.raises(ValueError, match="do not match"):
        reliability(y, proba[:3], classes)


def test_binary_curves_agree_with_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y = np.where(rng.random(300) < 0.3, "spam", "ham")
    score = np.clip((y == "spam") * 0.3 + rng.random(300) * 0.7, 0, 1)
    c = binary_curves(y, np.c_[1 - score, score], ["ham", "spam"])
    truth = (y == "spam").astype(int)
    assert c["positive"] == "spam" and c["prevalence"] == pytest.approx(truth.mean())
    assert c["roc_auc"] == pytest.approx(roc_auc_score(truth, score))
    assert c["average_precision"] == pytest.approx(average_precision_score(truth, score))
    assert len(c["pr"]["recall"]) <= MAX_CURVE_POINTS and c["roc"]["fpr"][0] == 0 and c["roc"]["tpr"][-1] == 1
    with pytest.raises(ValueError, match="exactly 2 classes"):
        binary_curves(y, np.c_[score, score, score], ["a", "b", "c"])


def test_align_proba_fills_unseen_classes_with_zero() -> None:
    out = align_proba(np.array([[0.2, 0.8]]), ["c", "a"], ["a", "b", "c"])
    assert out.tolist() == [[0.8, 0.0, 0.2]]


class _HardVotes(LinearSVC):
    """A classifier whose predict_proba exists but is unavailable, as a wrapper around hard voting."""

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        raise AttributeError("predict_proba is not available when voting='hard'")


def test_models_without_usable_probabilities_are_still_evaluated() -> None:
    X, y = blobs(8)
    res = evaluate({"hard": _HardVotes(), "svm": LinearSVC()}, X, y, cv=2, modality="table")
    assert res.models["hard"].probabilities == res.models["svm"].probabilities == {}
    assert res.models["hard"].pooled["accuracy"] == 1.0 and "ece" not in res.table()[0]


def test_binary_report_has_roc_pr_and_calibration(tmp_path: Path) -> None:
    X, y = blobs(20, seed=2)
    X = X + np.random.default_rng(0).normal(scale=3.0, size=X.shape)
    res = evaluate({"lr": LogisticRegression()}, X, y, cv=4, modality="table")
    lr = res.models["lr"].probabilities
    assert 0.5 < lr["binary"]["roc_auc"] <= 1 and 0 <= lr["calibration"]["ece"] <= 1
    row = next(r for r in res.table() if r["model"] == "lr")
    assert row["roc_auc"] == lr["binary"]["roc_auc"] and row["ece"] == lr["calibration"]["ece"]
    d = res.to_dict()["models"]
    assert d["lr"]["probabilities"]["binary"]["positive"] == "c1"
    assert d[BASELINE]["probabilities"]["calibration"]["bins"]
    html = evaluation_report(res, title="binary").write(tmp_path / "r.html").read_text()
    for section in ("ROC and precision-recall curves", "Calibration", "ECE", "average precision"):
        assert section in html
    # class counts, bars, gains, 2 confusion matrices, ROC/PR and reliability
    assert html.count("data:image/png;base64,") == 7


def test_multiclass_report_has_per_class_table_and_calibration_but_no_roc(tmp_path: Path) -> None:
    X, y = blobs(10, n_classes=3, seed=1)
    res = evaluate({"lr": LogisticRegression()}, X, y, cv=3, repeats=2, modality="table")
    table = res.per_class_table()
    assert [r["class"] for r in table] == ["c0", "c1", "c2"] and all(r["support"] == 20 for r in table)
    assert {"lr precision", "lr recall", "lr f1", f"{BASELINE} f1"} <= set(table[0])
    assert "binary" not in res.models["lr"].probabilities and "calibration" in res.models["lr"].probabilities
    html = evaluation_report(res, title="three classes").write(tmp_path / "r.html").read_text()
    assert "Per-class precision, recall and F1" in html and "Calibration" in html
    assert "ROC and precision-recall" not in html
    assert "corrected resampled t-test" in html
    assert html.count("<td>c2</td>") >= 2  # a per-class row per model
