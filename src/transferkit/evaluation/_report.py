"""Self-contained HTML reports: one file, plots embedded, readable offline and in e-mail."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from . import _plots
from ._evaluate import EvaluationResult
from ._metrics import format_gain

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
.meta{color:#666;font-size:.9em}table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child,.t{text-align:left}.verdict{padding:.8em 1em;border-radius:6px;margin:1em 0;font-weight:600}
.positive{background:#e6f4ea;border-left:6px solid #2e7d32}.negative{background:#fdecea;border-left:6px solid #c62828}
.inconclusive{background:#fff8e1;border-left:6px solid #f9a825}img{max-width:100%}figure{margin:.8em 0}
figcaption{color:#555;font-size:.88em}.grid{display:flex;flex-wrap:wrap;gap:1em}code{background:#f4f4f4;padding:0 .2em}
"""


#: A cell that reads as a figure (a number, a signed gain, a dash for none): right-aligned with the numbers.
_FIGURE = re.compile(r"[+\-\u2212]?(\d|\.\d|nan$|inf$)|\u2014$")


def _is_text(v: Any) -> bool:
    """Whether a cell holds words (a name, a description, a path) rather than a figure."""
    if isinstance(v, bool | np.bool_):
        return True
    if isinstance(v, int | float | np.number) or v is None:
        return False
    text = str(v).strip()
    return bool(text) and not _FIGURE.match(text)


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{v:.4f}" if abs(float(v)) < 10 else f"{v:.1f}"
    return html.escape(str(v))


class Report:
    """An HTML document built from sections of text, tables and figures."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []

    def heading(self, text: str) -> Report:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")
        return self

    def paragraph(self, text: str, css_class: str | None = None) -> Report:
        cls = f' class="{css_class}"' if css_class else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")
        return self

    def table(self, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> Report:
        if not rows:
            return self
        columns = list(columns or rows[0].keys())
        # a column of words reads left-aligned, figures right-aligned (the first column is left-aligned by the CSS)
        cls = {c: ' class="t"' if i and any(_is_text(r.get(c)) for r in rows) else "" for i, c in enumerate(columns)}
        head = "".join(f"<th{cls[c]}>{html.escape(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td{cls[c]}>{_fmt(r.get(c, ''))}</td>" for c in columns) + "</tr>"
                       for r in rows)
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        return self

    def splice(self, at: int, other: Report) -> Report:
        """Insert ``other``'s sections before this report's section number ``at`` (``len(report.parts)``
        noted earlier): a summary written once the results are known can still come first."""
        self.parts[at:at] = other.parts
        return self

    def figure(self, png: bytes, caption: str = "") -> Report:
        data = base64.b64encode(png).decode("ascii")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self.parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">{cap}</figure>')
        return self

    def render(self) -> str:
        from .. import __version__

        stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(self.title)}</title>"
                f"<style>{_CSS}</style></head><body><h1>{html.escape(self.title)}</h1>"
                f'<p class="meta">transferkit {__version__} &middot; {stamp}</p>{"".join(self.parts)}</body></html>')

    def write(self, path: str | Path) -> Path:
        """Write the report to the file ``path`` (e.g. ``report.html``) atomically: a temporary file in the
        same folder, then a rename, so a reader never sees half a report. Missing parent folders are
        created; an existing file is replaced. Returns ``path``.

        Raises
        ------
        DataError
            ``path`` is a folder (name a file in it instead), or a parent of it is a file.
        """
        from .._atomic import write_text_atomic

        path = Path(path)
        if path.is_dir():
            raise DataError(f"cannot write the report to {str(path)!r}: it is a folder, not a file; name a file "
                            f"such as {str(path / 'report.html')!r}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise DataError(f"cannot write the report to {str(path)!r}: a parent of it is a file, not a "
                            "folder") from None
        return write_text_atomic(path, self.render())


#: A gain's verdict, as the summary says it.
VERDICT_WORDS = {"positive": "transfer helps", "negative": "negative transfer", "inconclusive": "no clear difference"}


def summary_section(results: EvaluationResult | dict[str, EvaluationResult], notes: Sequence[str] = ()) -> Report:
    """A report's first section, so the outcome reads before the details: every model on one table with its
    accuracy, macro F1, gain over the no-transfer baseline (95% interval) and verdict, then ``notes``.
    ``results`` is one evaluation, or several by title (a ``data`` column then says which)."""
    many = isinstance(results, dict)
    rows = []
    for title, result in (results.items() if isinstance(results, dict) else [("", results)]):
        for r in result.table():
            gain = result.gains.get(r["model"], {}).get("accuracy")
            rows.append({**({"data": title} if many else {}), "model": r["model"], "accuracy": r["accuracy"],
                         "macro F1": r["macro_f1"],
                         "gain vs baseline (95% CI)": "—" if gain is None else format_gain(gain.mean, gain.low, gain.high),
                         "verdict": "(the baseline)" if gain is None else VERDICT_WORDS[gain.verdict]})
    section = Report("summary").heading("Summary").table(rows)
    for note in notes:
        section.paragraph(note)
    return section


def add_evaluation(report: Report, result: EvaluationResult, *, heading: str | None = None) -> Report:
    """Verdict, metrics against the baseline, per-class table, confusion matrices, curves, timings."""
    if heading:
        report.heading(heading)
    for m in result.transfer_models():
        report.paragraph(result.verdict(m.name), result.gains[m.name]["accuracy"].verdict)
    report.heading("Metrics against the no-transfer baseline")
    folds = result.n_splits > 0  # a held-out test set has no folds, so no spread to show
    report.paragraph(f"Evaluation: {result.scheme}; {result.n_samples} training examples; classes: "
                     f"{len(result.classes)}. "
                     + ("Scores are means over the splits (the gain is the mean of the paired per-split "
                        "differences, so it equals the difference of the means shown); ± is the spread over folds. "
                        "The per-class tables, confusion matrices and curves below pool all out-of-fold predictions."
                        if folds else "Scores on the held-out test set."))
    for note in result.notes:
        report.paragraph(f"Note: {note}.")
    rows = result.table()
    report.table([{
        "model": r["model"], "accuracy": r["accuracy"], "± (folds)": r["accuracy_std"] if folds else "—",
        "macro F1": r["macro_f1"],
        "macro precision": r["macro_precision"], "macro recall": r["macro_recall"],
        "gain vs baseline": format_gain(r["gain"], r["gain_low"], r["gain_high"]) if "gain" in r else "—",
    } for r in rows])
    report.table([{"model": m.name, "what it is": m.description} for m in result.models.values()])
    report.figure(_plots.metrics_bar_png(rows), "Accuracy and macro F1 per model (error bars: std over folds)")
    report.heading("Gain of transfer, with 95% intervals")
    report.figure(_plots.gain_png([(n, g["accuracy"].mean, g["accuracy"].low, g["accuracy"].high)
                                   for n, g in result.gains.items()]),
                  "Right of the zero line: transfer helps; left: negative transfer; across it: no clear difference")
    report.table([{"model": name, "metric": g.metric, "gain": g.mean, "low": g.low, "high": g.high,
                   "verdict": g.verdict, "interval": g.method}
                  for name, gs in result.gains.items() for g in gs.values()])
    if result.repeats > 1:
        report.paragraph(
            f"The {result.n_splits * result.repeats} splits of repeated cross-validation share most of their "
            "training items, so their scores are correlated; the intervals use the corrected resampled t-test "
            "(Nadeau & Bengio 2003; Bouckaert & Frank 2004), which widens the naive Student-t interval by "
            "the factor sqrt(1 + J n_test/n_train) to keep its stated coverage.")
    report.heading("Per-class precision, recall and F1")
    for m in result.models.values():
        report.paragraph(m.name)
        report.table(m.pooled["per_class"], ["label", "precision", "recall", "f1", "support"])
    _add_probabilities(report, result)
    report.heading("Confusion matrices")
    figs = [(_plots.confusion_matrix_png(m.pooled["confusion_matrix"], result.classes, m.name), m.name)
            for m in result.models.values()]
    for png, name in figs:
        report.figure(png, f"Confusion matrix, {name} (rows: true class; colour: share of the row)")
    for m in result.models.values():
        if m.history:
            report.heading(f"Training curves: {m.name}")
            report.figure(_plots.history_png(m.history, m.name), "Loss per epoch (last split)")
    report.heading("Timings")
    report.table([{"model": m.name, "fit seconds (all splits)": float(np.sum(m.fit_seconds)),
                   "predict seconds (all splits)": float(np.sum(m.predict_seconds))} for m in result.models.values()])
    return report


def _add_probabilities(report: Report, result: EvaluationResult) -> None:
    """ROC/PR curves (binary tasks) and calibration, for the models that give probabilities."""
    with_proba = {m.name: m.probabilities for m in result.models.values() if m.probabilities}
    if not with_proba:
        return
    pooled = "pooled out-of-fold probabilities" if result.n_splits else "held-out test probabilities"
    binary = {name: p["binary"] for name, p in with_proba.items() if "binary" in p}
    if binary:
        report.heading("ROC and precision-recall curves")
        positive = next(iter(binary.values()))["positive"]
        report.paragraph(f"Positive class: {positive}; from {pooled}. AP is average precision (area under the "
                         "step-wise precision-recall curve).")
        report.table([{"model": name, "ROC AUC": c["roc_auc"], "average precision": c["average_precision"]}
                      for name, c in binary.items()])
        report.figure(_plots.roc_pr_png(binary), "ROC and precision-recall curves (dashed: chance)")
    report.heading("Calibration")
    report.paragraph(f"Reliability of the top-class probability, from {pooled}, in 10 equal-width bins. ECE "
                     "(expected calibration error, Guo et al. 2017) is the count-weighted gap between accuracy "
                     "and confidence: 0 is perfect; points below the diagonal mean over-confidence.")
    report.table([{"model": name, "ECE": p["calibration"]["ece"],
                   "mean confidence": float(np.average([b["confidence"] for b in p["calibration"]["bins"]],
                                                       weights=[b["count"] for b in p["calibration"]["bins"]]))}
                  for name, p in with_proba.items()])
    report.figure(_plots.reliability_png({name: p["calibration"] for name, p in with_proba.items()}),
                  "Reliability diagram (left) and confidence histogram (right)")


def add_data_summary(report: Report, summary: dict[str, Any], class_counts: dict[str, int],
                     examples: tuple[Sequence[Any], Sequence[str]] | None = None) -> Report:
    """Data summary: sizes, modality, class balance, and a few examples."""
    report.heading("Data")
    report.table([{"property": k, "value": v} for k, v in summary.items() if not isinstance(v, dict)])
    report.figure(_plots.class_counts_png(class_counts), "Examples per class")
    if examples is not None:
        items, captions = examples
        if items and isinstance(items[0], str):
            report.table([{"label": c, "text": t[:200]} for t, c in zip(items, captions, strict=True)])
        elif items:
            from ..data import load_image

            report.figure(_plots.image_grid_png([load_image(i) for i in items], list(captions)), "Examples")
    return report


def evaluation_report(result: EvaluationResult, *, title: str, summary: dict[str, Any] | None = None,
                      config: dict[str, Any] | None = None,
                      examples: tuple[Sequence[Any], Sequence[str]] | None = None) -> Report:
    """A full report of one evaluation."""
    report = Report(title)
    add_data_summary(report, {"modality": result.modality, "examples": result.n_samples,
                              "classes": len(result.classes), **(summary or {})}, result.class_counts, examples)
    add_evaluation(report, result)
    if config:
        report.heading("Configuration")
        report.table([{"setting": k, "value": v} for k, v in config.items()])
    return report
