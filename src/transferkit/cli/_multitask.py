"""Command: multitask (several classification tasks on one table, one shared backbone)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from ..errors import TransferkitError
from ._commands import (
    _apply,
    _check_strategy,
    _estimator,
    _resolve_backbone,
    check_modality_options,
    checkpoint_options,
    cli,
    cli_wording,
    make_model_options,
    plan_checkpoints,
)
from ._paths import OutputPath, check_outside_inputs
from ._types import FiniteFloatRange

MULTITASK_STRATEGY_HELP = ("finetune (all layers, shared by the tasks; the default), partial (freeze the first "
                           "groups), gradual (unfreeze from the top, ULMFiT), lpft (one probe per task, then "
                           "fine-tune), lora (low-rank adapters), or linear (one probe per task on frozen features).")

#: Model options that do not apply to several tasks at once (auto and distill are refused, so are class
#: weights and MixUp/CutMix) or to table data: kept out of the help, and still refused with a reason when given.
_HIDDEN = frozenset({"budget", "teacher", "teacher_cv", "temperature", "label_weight", "balanced", "augment",
                     "image_size"})


def _task_weights(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, float] | None:
    """``--task-weight COL=W`` (repeatable) as a mapping task -> weight; the weights themselves (positive, of
    tasks that are given) are the estimator's to check."""
    weights: dict[str, float] = {}
    for value in values:
        name, sep, number = value.rpartition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r} is not COL=WEIGHT (e.g. --task-weight topic=2)", ctx, param)
        try:
            weight = float(number)
        except ValueError:
            raise click.BadParameter(f"{value!r}: {number!r} is not a number", ctx, param) from None
        if not math.isfinite(weight) or weight <= 0:
            raise click.BadParameter(f"{value!r}: the weight of task {name!r} must be a finite number > 0", ctx, param)
        if name in weights:
            raise click.BadParameter(f"task {name!r} is weighted twice; give each task one weight", ctx, param)
        weights[name] = weight
    return weights or None


def _default_strategy(kw: dict[str, Any], chosen: bool) -> None:
    """With --strategy left out, the linear probe for a backbone that has nothing to fine-tune (``identity``,
    the default for feature tables: the columns as they are), said as such; else fine-tuning stays."""
    from ..backbones import get_spec, is_registered

    name = kw["backbone"]
    if chosen or kw["strategy"] == "linear" or name == "auto" or not is_registered(name):
        return
    if get_spec(name).extra.get("kind") == "identity":
        kw["strategy"] = "linear"
        click.echo(f"strategy: linear (backbone {name!r} has nothing to fine-tune; choose with --strategy)")


def _estimator_for_tasks(kw: dict[str, Any], task_weights: dict[str, float] | None) -> Any:
    """``fit``'s estimator for the options (their checks included), as a MultiTaskClassifier."""
    from ..estimators import MultiTaskClassifier

    single = _estimator(kw["strategy"], kw, several_tasks=True)
    return MultiTaskClassifier(**single.get_params(deep=False), task_weights=task_weights)


@cli.command(name="multitask")
@click.argument("data")
@click.option("--task", "tasks", multiple=True, required=True, metavar="COL",
              help="A column of labels, one task; repeat for each task (two or more). An empty cell: the row is "
                   "not labelled for that task.")
@click.option("--task-weight", "task_weights", multiple=True, metavar="COL=W", callback=_task_weights,
              help="Weight of a task in the loss (default 1); repeatable.")
@_apply(make_model_options(MULTITASK_STRATEGY_HELP, _check_strategy))
@click.option("--text-column", default="text", show_default=True,
              help="Column holding the texts of a text table; without it, every column but the tasks is a feature.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed for the split and training.")
@click.option("--out", "-o", required=True, type=OutputPath(file_okay=False), help="Model folder to write.")
@click.option("--holdout", type=FiniteFloatRange(0, 0.9), default=0.2, show_default=True,
              help="Share held out (stratified on the first task) to score each task against the baseline; 0 "
                   "trains on all.")
@click.option("--overwrite", is_flag=True, help="Replace an existing model folder.")
@_apply(checkpoint_options)
def multitask_cmd(data: str, tasks: tuple[str, ...], task_weights: dict[str, float] | None, out: str, holdout: float,
                  overwrite: bool, **kw: Any) -> None:
    """Fit one model to several classification tasks on DATA (a CSV/JSONL/Parquet table with a label column
    per task), sharing one pretrained backbone, and save it to a model folder with report.html inside.

    DATA is a text table (--text-column) or a feature table (every column but the tasks); each task is scored
    on held-out rows against the no-transfer baseline."""
    from .._multitask_workflow import (
        check_multitask_strategy,
        check_tasks,
        fit_multitask_to_folder,
        read_multitask_table,
    )
    from ..estimators import check_writable
    from ..estimators._multitask import check_task_weights
    from ..strategies import describe_fit
    from ..training._checkpoint import remove_checkpoints

    check_writable(Path(out), overwrite=overwrite)
    check_outside_inputs(out, data, replaces=True)
    check_outside_inputs(kw["cache_dir"], data)  # cache files inside a data folder would become data
    try:  # the options alone are wrong (usage errors, exit 2): the tasks, their weights, the strategy
        names = check_tasks(tasks)
        unknown = [t for t in task_weights or {} if t not in names]
        if unknown:
            raise click.UsageError(f"--task-weight names {unknown[0]!r}, which is no --task; tasks: {', '.join(names)}")
        check_task_weights(task_weights, names)
        chosen = kw["strategy"] is not None
        kw["strategy"] = kw["strategy"] or "finetune"
        check_multitask_strategy(kw["strategy"])  # auto and distill: refused before their own options are checked
    except TransferkitError as exc:
        raise click.UsageError(cli_wording(str(exc))) from None
    if kw["balanced"]:
        raise click.UsageError("--balanced weighs each row by its class, but with several tasks a row has a class in "
                               "each; drop --balanced")
    _default_strategy(kw, chosen)
    default_ckpt = plan_checkpoints(kw, data, out)
    est = _estimator_for_tasks(kw, task_weights)
    check_multitask_strategy(est.strategy)  # with its options
    dataset, Y = read_multitask_table(data, names, text_column=kw["text_column"])
    check_modality_options(kw, dataset)
    if _resolve_backbone(kw, dataset):
        _default_strategy(kw, chosen)
        if default_ckpt and kw["strategy"] == "linear":  # the probe the backbone fell back to trains no network
            kw["checkpoint_dir"], default_ckpt = None, False
        est = _estimator_for_tasks(kw, task_weights)
    outcome = fit_multitask_to_folder(est, dataset, Y, out, holdout=holdout, overwrite=overwrite,
                                      random_state=kw["seed"], temporary_checkpoints=default_ckpt)
    if default_ckpt:
        remove_checkpoints(Path(kw["checkpoint_dir"]))
    if resumed := outcome.estimator.fit_info_.get("resumed_from"):
        click.echo(f"resumed from checkpoint {resumed}")
    if (training := describe_fit(outcome.estimator)) is not None:
        click.echo(f"fine-tuning: {training}")
    if outcome.results is not None:
        _print_results(outcome)
    click.echo(f"\nmodel saved to {outcome.folder} (report: {outcome.folder / 'report.html'})")


for _param in multitask_cmd.params:
    if isinstance(_param, click.Option) and _param.name in _HIDDEN:
        _param.hidden = True


def _print_results(outcome: Any) -> None:
    """Each task's held-out scores against the baseline, one row per task."""
    from ..evaluation._metrics import format_gain

    results = outcome.results
    width = max(12, *(len(name) for name in results))
    click.echo(f"\n{'task':<{width}} {'held-out':>8} {'accuracy':>9} {'baseline':>9} {'macro-F1':>9} "
               f"{'baseline F1':>11} {'gain vs baseline':>28}")
    for name, r in results.items():
        gain = "-" if r.gain is None else format_gain(r.gain.mean, r.gain.low, r.gain.high)
        click.echo(f"{name:<{width}} {r.n_heldout:>8} {r.accuracy:>9.3f} {r.baseline_accuracy:>9.3f} "
                   f"{r.macro_f1:>9.3f} {r.baseline_macro_f1:>11.3f} {gain:>28}")
    for r in results.values():
        click.echo(r.sentence())
    for note in outcome.notes:
        click.echo(f"note: {note}")
