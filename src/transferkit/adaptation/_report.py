"""The HTML report of :func:`run_adaptation`: accuracy per method with the guard's verdicts, the auto
choice and its scores, domain distances before and after adaptation, and a t-SNE embedding plot."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..evaluation import Report
from ..evaluation._metrics import format_gain
from ..selection._distance_report import format_distance
from ._methods import METHOD_DESCRIPTIONS, SOURCE_ONLY
from ._workflow import AdaptationRun

__all__ = ["adaptation_report", "tsne_png"]


def tsne_png(panels: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]], *, random_state: int = 0) -> bytes:
    """One t-SNE panel per entry (source rows blue, target rows orange), side by side.

    van der Maaten & Hinton, "Visualizing Data using t-SNE", JMLR 9, 2008 (scikit-learn's TSNE, PCA
    initialisation). Each panel is embedded on its own: compare how much the two colours mix, not positions.
    """
    from sklearn.manifold import TSNE

    from ..evaluation._plots import _figure, _png

    fig = _figure(4.2 * len(panels), 4.0)
    for i, (title, (src, tgt)) in enumerate(panels.items()):
        pooled = np.vstack([src, tgt])
        perplexity = float(min(30, max(2, (len(pooled) - 1) // 3)))
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state)
        emb = tsne.set_output(transform="default").fit_transform(pooled)  # an array, whatever the global config
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.scatter(emb[:len(src), 0], emb[:len(src), 1], s=6, alpha=0.6, label="source", color="#3b75af")
        ax.scatter(emb[len(src):, 0], emb[len(src):, 1], s=6, alpha=0.6, label="target", color="#ef8636")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        if i == 0:
            ax.legend(loc="best", fontsize=8)
    return _png(fig)


def _fmt_gain(v: Any) -> str:
    if v.gain_low is None:
        return f"{v.gain:+.4f}"
    return format_gain(v.gain, v.gain_low, v.gain_high)


def adaptation_report(run: AdaptationRun, *, title: str = "transferkit adapt", tsne: bool = True,
                      random_state: int = 0) -> Report:
    """The report of one :class:`AdaptationRun`."""
    report = Report(title)
    hurt = [v.method for v in run.guard if v.hurt]
    if run.auto_choice is not None:
        report.paragraph(f"auto chose {run.auto_choice} (by the {run.summary.get('auto selection score')} score, "
                         "without target labels; a method replaces source-only only when its improvement is "
                         "positive in a paired bootstrap).",
                         "positive" if run.auto_choice != SOURCE_ONLY else "inconclusive")
    if hurt:
        report.paragraph(f"Adaptation hurt (negative transfer) for: {', '.join(hurt)}.", "negative")
    report.heading("Methods against source-only training" + ("" if run.evaluated else " (estimated)"))
    if run.evaluated:
        report.paragraph("Accuracy on the target rows, whose labels no method saw in training; intervals are 95% "
                         "bootstrap intervals, the gain is paired with source-only on the same rows.")
    else:
        report.paragraph("The target has no labels: methods are compared by the target-aware score "
                         f"{run.summary.get('auto selection score')} (greater is better), an estimate.")
    rows = []
    for v in run.guard:
        row = {"method": v.method, v.basis: v.value}
        if v.value_low is not None:
            row["95% interval"] = f"[{v.value_low:.3f}, {v.value_high:.3f}]"
        row.update({"gain vs source-only": _fmt_gain(v), "verdict": v.verdict,
                    "fit s": run.fit_seconds.get(v.method, float("nan"))})
        rows.append(row)
    report.table(rows)
    report.table([{"method": m, "what it is": METHOD_DESCRIPTIONS.get(m, "")} for m in run.methods])
    if run.selection is not None:
        report.heading("Scores without target labels")
        report.paragraph("Each candidate fitted on 80% of the source rows and all target rows, scored on the other "
                         "20% of the source rows: dev = minus the deep embedded validation risk (You et al., ICML "
                         "2019), iwv = importance-weighted accuracy (Sugiyama et al., JMLR 2007), entropy = minus "
                         "the mean prediction entropy on the target rows. Greater is better.")
        report.table(run.selection.table())
    report.heading("Domain distance before and after adaptation")
    report.paragraph("Between source and target features as the final classifier sees them (reweighting: the "
                     "source resampled by its weights; deep methods: the bottleneck). Lower means closer domains. "
                     "mmd_rbf: Gaussian-kernel MMD^2; proxy_a: proxy A-distance (0..2); coral: covariance distance.")
    report.paragraph("All rows are on one scale: each representation is standardised on its pooled source and "
                     "target rows (every column mean 0, std 1) before it is measured, as the methods standardise "
                     "the backbone features they receive; otherwise the scale-dependent mmd_rbf and coral would "
                     "compare raw features with mapped ones. The space column says what each row measures: rows "
                     "in the backbone feature space compare directly with 'before adaptation'; SA, TCA and deep "
                     "methods measure a space of their own. Values to 3 significant digits (adapt.json holds "
                     "them in full).")
    report.table([{"representation": k, "space": run.spaces.get(k, ""),
                   **{m: format_distance(d) for m, d in v.items()}} for k, v in run.distances.items()])
    if tsne and run.embeddings:
        shown = ["before adaptation"]
        pick = run.auto_choice if run.auto_choice not in (None, SOURCE_ONLY) else None
        if pick is None and run.evaluated:
            best = max((v for v in run.guard if v.method in run.embeddings), key=lambda v: v.value, default=None)
            pick = best.method if best is not None else None
        if pick is not None and pick in run.embeddings:
            shown.append(pick)
        report.figure(tsne_png({k if k != pick else f"after {k}": run.embeddings[k] for k in shown},
                               random_state=random_state),
                      "t-SNE of source (blue) and target (orange) features before and after adaptation")
    report.heading("Data")
    report.table([{"property": k, "value": v} for k, v in run.summary.items()])
    return report
