"""The feature-selection comparison as an HTML report, and a run from data + backbone."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..evaluation import Report
from ..evaluation._metrics import format_gain
from ..evaluation._plots import _COLORS, _figure, _png
from ._compare import SelectorComparison, compare_selectors
from ._rankings import METHODS, check_method


def accuracy_speed_png(rows: list[dict[str, Any]]) -> bytes:
    """Accuracy per method (error bars: std over folds) beside its prediction-time ratio."""
    fig = _figure(10.0, 3.6)
    acc, speed = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    x = np.arange(len(rows))
    names = [f"{r['method']}\n({r['features kept']})" for r in rows]
    bars = acc.bar(x, [r["accuracy"] for r in rows], yerr=[r["accuracy_std"] for r in rows], color="#3b75af")
    acc.bar_label(bars, fmt="%.3f", fontsize=8, padding=2)
    acc.set_xticks(x, names, fontsize=8)
    acc.set(ylabel="accuracy (CV)", ylim=(0, 1), title="Accuracy (features kept)")
    bars = speed.bar(x, [r["predict_time_ratio"] for r in rows], color="#ef8636")
    speed.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    speed.axhline(1.0, color="black", lw=1)
    speed.set_xticks(x, names, fontsize=8)
    speed.set(ylabel="predict time / all features", title="Prediction time (lower is faster)",
              ylim=(0, 1.15 * max(1.0, *(r["predict_time_ratio"] for r in rows))))
    for ax in (acc, speed):
        ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def inner_curves_png(curves: dict[str, dict[str, list[float]]]) -> bytes:
    """Inner cross-validation score against the number of features kept, per method."""
    fig = _figure(6.0, 3.6)
    ax = fig.add_subplot()
    for i, (method, c) in enumerate(curves.items()):
        ax.plot(c["n_features"], c["mean_score"], "o-", color=_COLORS[i % len(_COLORS)], label=method)
    ax.set_xscale("log")
    ax.set(xlabel="features kept (log scale)", ylabel="inner CV accuracy", title="Choosing the number of features")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def selection_report(comparison: SelectorComparison, *, title: str, summary: dict[str, Any] | None = None) -> Report:
    """A report of :func:`compare_selectors`: the table, accuracy and speed plots, the choice of k."""
    report = Report(title)
    report.heading("Data and features")
    facts = {"examples": comparison.n_samples, "features": comparison.n_features, "classes": len(comparison.classes),
             **(summary or {}), **{k: v for k, v in comparison.info.items() if v is not None}}
    report.table([{"property": k, "value": v} for k, v in facts.items()])
    report.heading("Accuracy and prediction speed with and without selection")
    report.paragraph(f"Evaluation: {comparison.scheme}. Prediction time: median of {comparison.timing_repeats} "
                     f"rounds predicting {comparison.timing_rows} rows with the fitted classifier (the feature "
                     "extractor is not included: it computes every feature whatever the selection keeps).")
    for note in comparison.notes:
        report.paragraph(f"Note: {note}.")
    rows = comparison.table()
    report.table([{
        "method": r["method"], "features kept (median)": r["features kept"], "range over folds": r["kept range"],
        "accuracy": r["accuracy"], "± (folds)": r["accuracy_std"],
        "gain vs all features": format_gain(r["gain"], r["gain_low"], r["gain_high"]) if "gain" in r else "—",
        "predict time ratio": r["predict_time_ratio"], "speed-up": r["predict_speedup"],
        "fit seconds (all folds)": r["fit_seconds"],
    } for r in rows])
    report.paragraph("Gains are the accuracy difference to the classifier on all features, with 95% intervals from "
                     "the corrected resampled t-test (Nadeau & Bengio 2003), as the folds share training rows.")
    report.figure(accuracy_speed_png(rows), "Accuracy (left) and prediction time relative to all features (right)")
    report.heading("How many features to keep")
    report.figure(inner_curves_png(comparison.inner_curves),
                  "Inner cross-validation accuracy per candidate number of features (mean over outer folds)")
    report.table([{"method": m, "what it does": METHODS[m]} for m in comparison.methods])
    report.heading("Per fold")
    report.table([{"method": name, "fold": i + 1, "features kept": f["k"], "accuracy": f["accuracy"],
                   "predict seconds": f["predict_seconds"]}
                  for name, fs in comparison.folds.items() for i, f in enumerate(fs)])
    return report


def compare_on_data(
    data: Any,
    *,
    backbone: str,
    methods: Sequence[str] = ("anova", "rfe", "model"),
    image_size: int | None = None,
    max_length: int | None = None,
    cache: Any = True,
    verbose: int = 0,
    **kwargs: Any,
) -> SelectorComparison:
    """Extract ``backbone`` features of a labelled :class:`~transferkit.data.Dataset` (cached on disk)
    and run :func:`compare_selectors` on them; ``kwargs`` go to :func:`compare_selectors`."""
    from ..errors import DataError
    from ..features import FeatureExtractor
    from ..workflows import check_compatible

    if data.y is None:
        raise DataError("feature selection needs labels; the data has none (check --label-column)")
    for m in methods:
        check_method(m)  # names first: a typo fails before the features are extracted
    check_compatible(data, backbone)
    t0 = time.perf_counter()
    extractor = FeatureExtractor(backbone=backbone, image_size=image_size, max_length=max_length, cache=cache,
                                 progress=bool(verbose))
    features = extractor.fit_transform(data.X)
    extract_s = time.perf_counter() - t0
    names = list(extractor.get_feature_names_out())
    table_names = getattr(data, "feature_names", None)
    if (extractor.backbone_.spec.extra.get("kind") == "identity" and table_names
            and len(table_names) == len(names)):
        names = [str(n) for n in table_names]  # the columns pass through unchanged: name them as the table does
    result = compare_selectors(features, data.y, methods=methods, verbose=verbose, feature_names=names, **kwargs)
    result.info.update(backbone=backbone, feature_seconds=round(extract_s, 2))
    return result

