"""Metrics on predicted probabilities, as pure functions: ROC and precision-recall curves for binary
tasks, and calibration (reliability bins and expected calibration error) for any task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

#: Curves are thinned to at most this many points in results and JSON (plots look the same).
MAX_CURVE_POINTS = 201


def align_proba(proba: np.ndarray, model_classes: Sequence[Any], classes: Sequence[Any]) -> np.ndarray:
    """Columns of ``proba`` (ordered as ``model_classes``) moved to the order of ``classes``; a class
    the model never saw in training gets probability 0."""
    out = np.zeros((len(proba), len(classes)), dtype=float)
    index = {c: j for j, c in enumerate(classes)}
    for j, c in enumerate(model_classes):
        out[:, index[c]] = proba[:, j]
    return out


def _thin(*arrays: np.ndarray, limit: int = MAX_CURVE_POINTS) -> list[list[float]]:
    n = len(arrays[0])
    keep = np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(int)) if n > limit else np.arange(n)
    return [[float(v) for v in a[keep]] for a in arrays]


def binary_curves(y_true: Any, proba: np.ndarray, classes: Sequence[Any]) -> dict[str, Any]:
    """ROC and precision-recall curves of a binary task, with ROC AUC and average precision.

    ``proba`` has one column per class in ``classes`` order; the positive class is the second one
    (scikit-learn's convention for sorted labels). Average precision is the step-wise area under the
    precision-recall curve (no interpolation), as :func:`sklearn.metrics.average_precision_score`.
    """
    if len(classes) != 2:
        raise ValueError(f"ROC and PR curves need exactly 2 classes, got {len(classes)}")
    positive = classes[1]
    truth = (np.asarray(y_true) == positive).astype(int)
    score = np.asarray(proba, dtype=float)[:, 1]
    if truth.min() == truth.max():
        raise ValueError("ROC and PR curves need both classes among the true labels")
    fpr, tpr, _ = roc_curve(truth, score)
    precision, recall, _ = precision_recall_curve(truth, score)
    fpr_t, tpr_t = _thin(fpr, tpr)
    prec_t, rec_t = _thin(precision, recall)
    return {
        "positive": positive,
        "roc_auc": float(auc(fpr, tpr)),
        "average_precision": float(average_precision_score(truth, score)),
        "prevalence": float(truth.mean()),
        "roc": {"fpr": fpr_t, "tpr": tpr_t},
        "pr": {"precision": prec_t, "recall": rec_t},
    }


def reliability(y_true: Any, proba: np.ndarray, classes: Sequence[Any], *, n_bins: int = 10) -> dict[str, Any]:
    """Reliability bins and the expected calibration error (ECE) of the top-label confidence.

    Guo, Pleiss, Sun & Weinberger, "On Calibration of Modern Neural Networks", ICML 2017: the
    confidence of each prediction is its largest class probability; predictions are binned by
    confidence into ``n_bins`` equal-width bins on [0, 1], and

        ECE = sum_m |B_m| / n * |accuracy(B_m) - confidence(B_m)|.

    A perfectly calibrated model has ECE 0: among predictions made with 80% confidence, 80% are right.

    Returns
    -------
    dict
        ``ece``, ``n_bins`` and ``bins``: non-empty bins with their edges, mean confidence, accuracy
        and count.
    """
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2 or p.shape[1] != len(classes) or len(p) != len(y_true):
        raise ValueError(f"probabilities of shape {p.shape} do not match {len(y_true)} labels and {len(classes)} classes")
    confidence = p.max(axis=1)
    correct = np.asarray(classes, dtype=object)[p.argmax(axis=1)] == np.asarray(y_true, dtype=object)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        members = which == b
        count = int(members.sum())
        if not count:
            continue
        acc, conf = float(correct[members].mean()), float(confidence[members].mean())
        ece += count / len(p) * abs(acc - conf)
        bins.append({"low": float(edges[b]), "high": float(edges[b + 1]), "confidence": conf, "accuracy": acc,
                     "count": count})
    return {"ece": float(ece), "n_bins": n_bins, "bins": bins}


def probability_metrics(y_true: Any, proba: np.ndarray, classes: Sequence[Any]) -> dict[str, Any]:
    """Calibration for every task, plus ROC/PR curves for binary ones (when both classes occur)."""
    out: dict[str, Any] = {"calibration": reliability(y_true, proba, classes)}
    if len(classes) == 2 and len(np.unique(np.asarray(y_true))) == 2:
        out["binary"] = binary_curves(y_true, proba, classes)
    return out
