"""``transferkit adapt``: adapt a labelled source dataset to a target dataset and compare methods.

Thin: parse, load the data, call :func:`transferkit.adaptation.run_adaptation`, print, write the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from ..errors import DataError, NoClassFoldersError, TransferkitError
from ..evaluation._metrics import format_gain
from ._commands import _apply, _load, check_backbone_option, cli, data_options
from ._paths import ReportFolder, check_outside_inputs
from ._selection import _cache, _load_unlabelled, _names, _write_folder, selection_options
from ._types import api_check


def _check_methods(methods: str) -> None:
    """Every ``--method`` name is a registered method, auto or all (the API's own check), while the options
    are parsed: a typo fails with a usage error before any data is read."""
    from ..adaptation._workflow import check_method_names

    check_method_names(_names(methods))


@cli.command()
@click.option("--source", "-s", "source", required=True,
              help="Labelled source DATA: a folder, a table file or a packaged name (e.g. chinese-sentiment:hotel).")
@click.option("--target", "-t", "target", required=True,
              help="Target DATA; labels, if it has them, are used only to evaluate (see --eval-labels). A flat "
                   "folder of images (no class sub-folders) is read unlabelled.")
@click.option("--target-labels", default=None,
              help="DATA of a few labelled target examples (e.g. few.csv), used for training by tradaboost.")
@click.option("--eval-labels/--no-eval-labels", default=True, show_default=True,
              help="Score every method on the target's own labels when it has them (given explicitly: the target "
                   "must have them). --no-eval-labels ignores the target's labels.")
@click.option("--method", "-m", "methods", default="all", show_default=True, callback=api_check(_check_methods),
              help="Comma-separated: coral, sa, tca, kmm, kliep, discriminator, dann, mmd, deep-coral, tradaboost, "
                   "source-only, auto, or all (every method that applies, and auto).")
@click.option("--selection", type=click.Choice(["dev", "dev-cv", "iwv", "entropy"]), default="dev", show_default=True,
              help="Score that picks auto without target labels: dev (self-normalised importance-weighted "
                   "cross-entropy), dev-cv (DEV as published, with its control variate), iwv, entropy.")
@click.option("--backbone", "-b", required=True, callback=api_check(check_backbone_option),
              help="Feature extractor for both domains (see `transferkit backbones`).")
@_apply(selection_options)
@_apply(data_options)
@click.option("--no-tsne", is_flag=True, help="Leave the t-SNE plot out of the report (faster).")
@click.option("--out", "-o", default="transferkit-adapt", show_default=True, type=ReportFolder("report.html", "adapt.json"),
              help="Folder for report.html and adapt.json.")
def adapt(source: str, target: str, target_labels: str | None, eval_labels: bool, methods: str, selection: str,
          backbone: str, no_tsne: bool, out: str, **kw: Any) -> None:
    """Adapt a classifier from labelled SOURCE data to TARGET data whose labels it does not see.

    Every method is compared with source-only training; with target labels (for evaluation only) as
    accuracy with 95% intervals, without them by a target-aware score. Deep methods (dann, mmd,
    deep-coral) train a bottleneck over the frozen backbone features."""
    from ..adaptation._methods import NEEDS_TARGET_LABELS
    from ..adaptation._report import adaptation_report
    from ..adaptation._workflow import parse_methods, run_adaptation

    check_outside_inputs(out, source, target, target_labels)
    names, auto = parse_methods(_names(methods), has_target_labels=target_labels is not None)
    if target_labels and not auto and not any(n in NEEDS_TARGET_LABELS for n in names):
        click.echo(f"note: --target-labels trains only methods that learn from target labels "
                   f"({', '.join(sorted(NEEDS_TARGET_LABELS))}); {', '.join(names)} use those rows without their labels",
                   err=True)
    src = _load(source, kw)
    tgt = _target(target, eval_labels, kw)
    few = _labelled_target(target_labels, kw) if target_labels else None
    try:
        run = run_adaptation(src, tgt, methods=_names(methods), backbone=backbone, target_labels=few,
                             evaluate=eval_labels, selection=selection, image_size=kw["image_size"],
                             max_length=kw["max_length"], cache=_cache(kw), random_state=kw["seed"],
                             echo=lambda s: click.echo(s, err=True))
    except ValueError as exc:  # numerical trouble inside a method: one line, not a trace
        if isinstance(exc, TransferkitError):
            raise
        raise click.ClickException(f"adaptation failed: {exc}") from exc
    basis = "target accuracy" if run.evaluated else f"{selection} score (estimated, no target labels)"
    click.echo(f"\n{'method':<20} {basis:>16} {'gain vs source-only':>26}  verdict")
    for v in run.guard:
        gain = (format_gain(v.gain, v.gain_low, v.gain_high)
                if v.gain_low is not None and v.gain_high is not None and v.basis == "target accuracy"
                else f"{v.gain:+.4f}")
        click.echo(f"{v.method:<20} {v.value:>16.4f} {gain:>26}  {v.verdict}")
    if run.auto_choice is not None:
        acc = run.accuracy().get(run.auto_choice)
        click.echo(f"\nauto choice: {run.auto_choice}" + (f" (target accuracy {acc:.4f})" if acc is not None else ""))
    hurt = [v.method for v in run.guard if v.hurt]
    if hurt:
        click.echo(f"adaptation hurt: {', '.join(hurt)}")
    report = adaptation_report(run, title=f"transferkit adapt: {source} -> {target}", tsne=not no_tsne,
                               random_state=kw["seed"])
    folder = Path(out)
    _write_folder(folder, {"report.html": report.render(),
                           "adapt.json": json.dumps(run.to_dict(), indent=1, default=str)})
    click.echo(f"report: {folder / 'report.html'}")


def _target(target: str, eval_labels: bool, kw: dict[str, Any]) -> Any:
    """The target data: labelled when it has labels (to evaluate on), else unlabelled (a flat image folder,
    a table without the label column). ``--eval-labels`` given explicitly requires its labels;
    with ``--no-eval-labels`` the API drops them, so they are neither checked nor used."""
    tgt = _load_unlabelled(target, kw)
    if not eval_labels:  # run_adaptation(evaluate=False) drops them
        return tgt
    asked = click.get_current_context().get_parameter_source("eval_labels") is not ParameterSource.DEFAULT
    if asked and tgt.y is None:
        why = ("it has no class sub-folders" if Path(target).is_dir()
               else f"it has no label column {kw['label_column']!r}")
        raise DataError(f"--eval-labels: the target data ({tgt.source or target}) has no labels to evaluate on ({why}); "
                        "leave out --eval-labels to compare the methods by the target-aware score instead")
    return tgt


def _labelled_target(target_labels: str, kw: dict[str, Any]) -> Any:
    """The few labelled target examples of ``--target-labels``: a flat image folder has no labels to give."""
    try:
        return _load(target_labels, {**kw, "per_class": None})
    except NoClassFoldersError as exc:
        raise DataError(f"--target-labels needs labelled target examples: {exc}") from exc
