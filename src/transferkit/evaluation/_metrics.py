"""Classification metrics and confidence intervals as pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support


def classification_metrics(y_true: Any, y_pred: Any, labels: Sequence[Any]) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1, per-class table and confusion matrix.

    ``labels`` fixes the class order of the per-class table and the matrix (rows: true, columns:
    predicted). Classes never predicted get precision 0 (scikit-learn's ``zero_division=0``).
    """
    labels = list(labels)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_precision": float(np.mean(p)),
        "macro_recall": float(np.mean(r)),
        "macro_f1": float(np.mean(f)),
        "per_class": [
            {"label": lab, "precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
            for lab, pi, ri, fi, si in zip(labels, p, r, f, s, strict=True)
        ],
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval over independent-ish runs (folds, seeds).

    With one value the interval is degenerate (the value itself); use :func:`paired_bootstrap_ci`
    for a single split.
    """
    v = np.asarray(values, dtype=float)
    m = float(v.mean())
    if len(v) < 2:
        return m, m, m
    half = float(stats.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return m, m - half, m + half


def paired_bootstrap_ci(
    correct_a: np.ndarray, correct_b: np.ndarray, *, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """Accuracy difference ``a - b`` on one test set, with a paired percentile-bootstrap interval.

    ``correct_a`` and ``correct_b`` are 0/1 arrays over the same test items; resampling items keeps
    the pairing, so the interval reflects which items each model gets right.
    """
    d = np.asarray(correct_a, dtype=float) - np.asarray(correct_b, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(d), size=(n_boot, len(d)))
    boots = d[idx].mean(axis=1)
    lo, hi = np.quantile(boots, [(1 - confidence) / 2, 0.5 + confidence / 2])
    return float(d.mean()), float(lo), float(hi)
