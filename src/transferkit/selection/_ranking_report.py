"""HTML report of a backbone ranking: verdict, score table, charts of the primary score and timings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..evaluation._plots import _figure, _png
from ._rank import SCORE_DESCRIPTIONS, RankingResult

if TYPE_CHECKING:
    from ..evaluation import Report


def ranking_report(result: RankingResult, *, title: str = "transferkit backbone ranking",
                   summary: dict[str, Any] | None = None) -> Report:
    """An HTML report of a ranking: the verdict, the score table, the primary score and the timings."""
    from ..evaluation import Report

    report = Report(title)
    verdict = result.verdict()
    report.paragraph(f"{result.n_samples} examples, {result.n_classes} classes ({result.modality}): "
                     f"{verdict[0].upper()}{verdict[1:]}.")
    for line in result.tie_verdicts():  # a tie for first place is in the verdict
        report.paragraph(line)
    for line in result.control_verdicts():
        report.paragraph(line)
    report.heading("Scores")
    report.table([{k: ("—" if v is None else v) for k, v in row.items()} for row in result.table()])
    report.figure(_primary_png(result), f"{result.primary} per backbone (higher is better)")
    report.heading("Timings")
    report.paragraph("Feature seconds cover loading the backbone and extracting features; features are cached "
                     "on disk, so ranking the same data again mostly reads them back.")
    report.figure(_timing_png(result), "Seconds per backbone: feature pass and scores")
    report.heading("What the scores mean")
    report.table([{"score": c, "meaning": SCORE_DESCRIPTIONS.get(c, "")} for c in result.columns])
    if summary:
        report.heading("Data")
        report.table([{"property": k, "value": v} for k, v in summary.items() if not isinstance(v, dict)])
    return report


def _primary_png(result: RankingResult) -> bytes:
    """Horizontal bars of the primary score, best on top; random-weight controls in grey."""
    rows = result.ranked()
    fig = _figure(6.0, 0.45 * len(rows) + 1.2)
    ax = fig.add_subplot()
    values = [r.scores.get(result.primary) for r in rows]
    ys = np.arange(len(rows))[::-1]
    colours = ["#3b75af" if r.pretrained else "#9e9e9e" for r in rows]
    bars = ax.barh(ys, [0.0 if v is None else v for v in values], color=colours)
    ax.bar_label(bars, labels=["n/a" if v is None else f"{v:.3g}" for v in values], fontsize=8, padding=2)
    ax.set_yticks(ys, [r.backbone for r in rows])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"{result.primary} (higher is better; grey: no pretrained weights)")
    ax.margins(x=0.15)
    return _png(fig)


def _timing_png(result: RankingResult) -> bytes:
    """Stacked horizontal bars: feature pass, then scores, per backbone in the given order."""
    rows = result.rows
    fig = _figure(6.0, 0.45 * len(rows) + 1.2)
    ax = fig.add_subplot()
    ys = np.arange(len(rows))[::-1]
    feat = [r.feature_seconds for r in rows]
    ax.barh(ys, feat, color="#3b75af", label="features")
    ax.barh(ys, [r.total_score_seconds for r in rows], left=feat, color="#ef8636", label="scores")
    ax.set_yticks(ys, [r.backbone for r in rows])
    ax.set_xlabel("seconds")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncols=2, fontsize=8, frameon=False)
    return _png(fig)
