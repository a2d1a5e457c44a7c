"""Report figures, drawn with matplotlib's object API (no pyplot, no global state), as PNG bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np


def _figure(w: float, h: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), dpi=100, layout="constrained")


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.1)  # long tick labels never clip the axis title
    return buf.getvalue()


def confusion_matrix_png(matrix: Sequence[Sequence[int]], labels: Sequence[Any], title: str) -> bytes:
    cm = np.asarray(matrix, dtype=float)
    norm = cm / np.clip(cm.sum(axis=1, keepdims=True), 1, None)
    n = len(labels)
    size = max(3.5, 0.45 * n + 2)
    fig = _figure(size + 0.8, size)
    ax = fig.add_subplot()
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), [str(x) for x in labels], rotation=45, ha="right")
    ax.set_yticks(range(n), [str(x) for x in labels])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if norm[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, label="row share")
    return _png(fig)


def metrics_bar_png(rows: list[dict[str, Any]]) -> bytes:
    """Accuracy and macro-F1 per model, with the spread over folds as error bars."""
    fig = _figure(max(4.5, 1.4 * len(rows) + 2), 3.2)
    ax = fig.add_subplot()
    x = np.arange(len(rows))
    acc = [r["accuracy"] for r in rows]
    f1 = [r["macro_f1"] for r in rows]
    bars = ax.bar(x - 0.2, acc, 0.4, yerr=[r.get("accuracy_std", 0) for r in rows], label="accuracy", color="#3b75af")
    ax.bar_label(bars, fmt="%.3f", fontsize=8, padding=2)
    bars = ax.bar(x + 0.2, f1, 0.4, label="macro F1", color="#ef8636")
    ax.bar_label(bars, fmt="%.3f", fontsize=8, padding=2)
    ax.set_xticks(x, [r["model"] for r in rows], rotation=10)
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def gain_png(gains: list[tuple[str, float, float, float]]) -> bytes:
    """Gain over the baseline in accuracy points with its 95% interval; the zero line is the baseline."""
    fig = _figure(6.0, 0.6 * len(gains) + 1.2)
    ax = fig.add_subplot()
    for i, (_name, mean, low, high) in enumerate(gains):
        color = "#2e7d32" if low > 0 else "#c62828" if high < 0 else "#f9a825"
        ax.errorbar(100 * mean, i, xerr=[[100 * (mean - low)], [100 * (high - mean)]], fmt="o", color=color, capsize=4)
        ax.annotate(f"{100 * mean:+.1f}", (100 * mean, i), textcoords="offset points", xytext=(0, 7), ha="center",
                    fontsize=8)
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(range(len(gains)), [g[0] for g in gains])
    ax.set_ylim(-0.7, len(gains) - 0.3)
    ax.set_xlabel("accuracy gain over the baseline, points (95% interval)")
    return _png(fig)


def class_counts_png(counts: dict[str, int]) -> bytes:
    fig = _figure(max(4.0, 0.45 * len(counts) + 1.5), 2.6)
    ax = fig.add_subplot()
    ax.bar(range(len(counts)), list(counts.values()), color="#6a9f58")
    ax.set_xticks(range(len(counts)), list(counts), rotation=45, ha="right")
    ax.set_ylabel("examples")
    return _png(fig)


def history_png(history: list[dict[str, float]], title: str) -> bytes:
    fig = _figure(5.5, 3.0)
    ax = fig.add_subplot()
    epochs = [h["epoch"] + 1 for h in history]
    ax.plot(epochs, [h["train_loss"] for h in history], "o-", label="train loss")
    if "val_loss" in history[0]:
        ax.plot(epochs, [h["val_loss"] for h in history], "s-", label="validation loss")
        ax2 = ax.twinx()
        ax2.plot(epochs, [h["val_accuracy"] for h in history], "^--", color="#6a9f58", label="validation accuracy")
        ax2.set_ylabel("accuracy")
        ax2.set_ylim(0, 1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return _png(fig)


def image_grid_png(images: Sequence[np.ndarray], captions: Sequence[str], columns: int = 8) -> bytes:
    rows = -(-len(images) // columns)
    fig = _figure(1.3 * columns, 1.45 * rows)
    for i, (img, cap) in enumerate(zip(images, captions, strict=True)):
        ax = fig.add_subplot(rows, columns, i + 1)
        ax.imshow(img)
        ax.set_title(cap, fontsize=7)
        ax.axis("off")
    return _png(fig)


_COLORS = ["#3b75af", "#ef8636", "#519e3e", "#c53a32", "#8d69b8", "#84584e", "#d57dbf", "#7f7f7f"]


def roc_pr_png(curves: dict[str, dict[str, Any]]) -> bytes:
    """ROC (left) and precision-recall (right) curves per model, from ``binary_curves`` results."""
    fig = _figure(10.0, 4.2)
    roc, pr = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for i, (name, c) in enumerate(curves.items()):
        color = _COLORS[i % len(_COLORS)]
        roc.plot(c["roc"]["fpr"], c["roc"]["tpr"], color=color, label=f"{name} (AUC {c['roc_auc']:.3f})")
        pr.step(c["pr"]["recall"], c["pr"]["precision"], where="post", color=color,
                label=f"{name} (AP {c['average_precision']:.3f})")
    roc.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    prevalence = next(iter(curves.values()))["prevalence"]
    pr.axhline(prevalence, ls="--", color="grey", lw=1, label=f"chance ({prevalence:.2f})")
    positive = next(iter(curves.values()))["positive"]
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC (positive: {positive})",
            xlim=(0, 1), ylim=(0, 1.02))
    pr.set(xlabel="recall", ylabel="precision", title=f"Precision-recall (positive: {positive})",
           xlim=(0, 1), ylim=(0, 1.02))
    for ax in (roc, pr):
        ax.legend(loc="lower right" if ax is roc else "lower left", fontsize=7)
        ax.grid(alpha=0.3)
    return _png(fig)


def reliability_png(calibrations: dict[str, dict[str, Any]]) -> bytes:
    """Reliability diagram (accuracy vs confidence per bin) and the share of predictions per bin."""
    fig = _figure(10.0, 4.2)
    diag, hist = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    diag.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    n_models = len(calibrations)
    for i, (name, cal) in enumerate(calibrations.items()):
        color = _COLORS[i % len(_COLORS)]
        bins = cal["bins"]
        diag.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", color=color,
                  label=f"{name} (ECE {cal['ece']:.3f})")
        total = sum(b["count"] for b in bins)
        width = (bins[0]["high"] - bins[0]["low"]) / (n_models + 1) if bins else 0.1
        hist.bar([b["low"] + (i + 0.5) * width for b in bins], [b["count"] / total for b in bins], width,
                 color=color, label=name)
    diag.set(xlabel="confidence (top-class probability)", ylabel="accuracy", title="Reliability",
             xlim=(0, 1), ylim=(0, 1.02))
    hist.set(xlabel="confidence", ylabel="share of predictions", title="Confidence histogram", xlim=(0, 1))
    diag.legend(loc="upper left", fontsize=7)
    hist.legend(loc="upper left", fontsize=7)
    diag.grid(alpha=0.3)
    return _png(fig)
