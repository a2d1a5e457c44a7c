"""Command ``select``: feature-selection methods on a backbone's features, compared with using all of
them. Thin: parse, call :mod:`transferkit.feature_selection`, print, write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ._commands import _apply, _load, check_backbone_option, cli, data_options
from ._paths import ReportFolder, check_outside_inputs
from ._selection import _cache, _names, _write_folder, selection_options
from ._types import FiniteFloatList, FiniteFloatRange, api_check


def _check_methods(methods: str) -> None:
    """Every name of ``select --methods`` is a feature-selection method
    (:data:`transferkit.feature_selection.METHODS`)."""
    from ..feature_selection import check_method

    for name in _names(methods) or [""]:
        check_method(name)


@cli.command()
@click.argument("data")
@click.option("--backbone", "-b", required=True, callback=api_check(check_backbone_option),
              help="Backbone whose features are selected (see `transferkit backbones`).")
@click.option("--methods", "-m", default="anova,rfe,model", show_default=True, callback=api_check(_check_methods),
              help="Comma-separated methods: chi2, anova, rfe, model. chi2 needs non-negative features (or --shift).")
@click.option("--shift", type=click.Choice(["none", "min", "minmax"]), default="none", show_default=True,
              help="chi2 on negative features: subtract each column's minimum (min) or scale to [0, 1] (minmax); "
                   "none makes negative features an error.")
@click.option("--cv", type=click.IntRange(min=2), default=5, show_default=True, help="Outer cross-validation folds.")
@click.option("--selector-cv", type=click.IntRange(min=2), default=3, show_default=True,
              help="Folds inside each training part that choose how many features to keep.")
@click.option("--fractions", type=FiniteFloatList(FiniteFloatRange(0, 1, min_open=True)),
              default="0.02,0.05,0.1,0.25,0.5,1", show_default=True,
              help="Comma-separated shares of the features to try keeping.")
@_apply(selection_options)
@_apply(data_options)
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress output.")
@click.option("--out", "-o", default="transferkit-select", show_default=True,
              type=ReportFolder("report.html", "selection.json"),
              help="Folder for report.html and selection.json.")
def select(data: str, backbone: str, methods: str, shift: str, cv: int, selector_cv: int, fractions: list[float],
           out: str, progress: bool, **kw: Any) -> None:
    """Compare feature-selection methods on BACKBONE features of labelled DATA: accuracy (CV) and prediction
    speed with and without selection, each keeping the number of features that cross-validation chose.

    DATA is a folder of images, a CSV/JSONL/Parquet file or a packaged dataset name (fashion-mnist)."""
    from ..evaluation._metrics import format_gain
    from ..feature_selection import compare_on_data, selection_report

    check_outside_inputs(out, data)
    names = _names(methods)  # checked by _check_methods while the options were parsed
    dataset = _load(data, kw)
    result = compare_on_data(dataset, backbone=backbone, methods=names, image_size=kw["image_size"],
                             max_length=kw["max_length"], cache=_cache(kw), verbose=int(progress),
                             shift=None if shift == "none" else shift, cv=cv, selector_cv=selector_cv,
                             fractions=fractions, random_state=kw["seed"])
    click.echo(f"\n{result.scheme}")
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"{'method':<14} {'kept':>6} {'accuracy':>9} {'gain vs all features':>26} {'predict time ratio':>19}")
    for r in result.table():
        gain = format_gain(r["gain"], r["gain_low"], r["gain_high"]) if "gain" in r else ""
        click.echo(f"{r['method']:<14} {r['features kept']:>6} {r['accuracy']:>9.3f} {gain:>26} "
                   f"{r['predict_time_ratio']:>18.2f}x")
    report = selection_report(result, title=f"transferkit select: {dataset.source or data}",
                              summary={"data": dataset.source or data, "backbone": backbone})
    folder = Path(out)
    _write_folder(folder, {"report.html": report.render(),
                           "selection.json": json.dumps(result.to_dict(), indent=1, default=str)})
    click.echo(f"report: {folder / 'report.html'}")
