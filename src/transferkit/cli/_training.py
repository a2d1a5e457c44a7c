"""Command: lr-find (the learning-rate range test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .._outputs import write_output_folder
from ._commands import _apply, _estimator, _load, _resolve_backbone, cli, data_options, make_model_options
from ._paths import ReportFolder, check_outside_inputs
from ._types import FiniteFloatRange

#: ``lr-find --strategy``: only a strategy that trains the backbone has a learning rate to sweep.
LR_FIND_STRATEGY_HELP = ("Fine-tuning strategy whose learning rate is swept: finetune (all layers; the default), "
                         "partial (freeze the first groups), gradual (unfreeze from the top, ULMFiT), lpft (probe, "
                         "then fine-tune), lora (low-rank adapters) or distill (labels and a --teacher's soft "
                         "targets).")


def _fine_tuning_strategies() -> list[str]:
    """The registered strategies that ``lr_find`` sweeps: those that fine-tune the backbone."""
    from ..strategies import STRATEGIES, FullFineTune

    return [name for name, cls in STRATEGIES.items() if issubclass(cls, FullFineTune)]


def _check_sweep(strategy: str, start_lr: float, end_lr: float) -> None:
    """What lr-find can sweep, checked before any data is read: a fine-tuning strategy, and a rising range."""
    tuners = _fine_tuning_strategies()
    if strategy not in tuners:
        from ..strategies import STRATEGIES

        why = "has none to sweep" if strategy in STRATEGIES else "is not a strategy"
        raise click.BadParameter(f"lr-find sweeps a fine-tuning strategy's learning rate; {strategy!r} {why} "
                                 f"(choose from: {', '.join(tuners)})", param_hint="'--strategy'")
    if start_lr >= end_lr:
        raise click.BadParameter(f"{start_lr:g} is not below --end-lr {end_lr:g}: the sweep rises from --start-lr "
                                 "to --end-lr", param_hint="'--start-lr'")


#: Options of a fine-tune that the sweep does not use: it runs --steps optimiser steps on every row, with
#: no validation split, early stopping or refit. Hidden from lr-find's help, and refused when given.
NOT_SWEPT = {"epochs": "--epochs", "val_fraction": "--val-fraction", "patience": "--patience",
             "monitor": "--monitor", "min_val_size": "--min-val-size", "refit": "--refit"}


@cli.command(name="lr-find")
@click.argument("data")
@_apply(make_model_options(LR_FIND_STRATEGY_HELP, strategy_check=None,  # its own check: _check_sweep
                           hide=frozenset({"--budget", "--lr", *NOT_SWEPT.values()})))  # the sweep sets the rate
@_apply(data_options)
@click.option("--start-lr", type=FiniteFloatRange(0, min_open=True), default=1e-7, show_default=True)
@click.option("--end-lr", type=FiniteFloatRange(0, min_open=True), default=1.0, show_default=True)
@click.option("--steps", type=click.IntRange(min=5), default=100, show_default=True, help="Steps of the sweep.")
@click.option("--out", "-o", default="transferkit-lr-find", show_default=True,
              type=ReportFolder("lr_find.png", "lr_find.json"),
              help="Folder for lr_find.png and lr_find.json.")
def lr_find_cmd(data: str, start_lr: float, end_lr: float, steps: int, out: str, **kw: Any) -> None:
    """Sweep the learning rate of a fine-tuning strategy on DATA and suggest one (Smith's range test)."""
    from ..estimators import lr_find
    from ..workflows import check_compatible

    check_outside_inputs(out, data)
    kw["strategy"] = kw["strategy"] or "finetune"
    _check_sweep(kw["strategy"], start_lr, end_lr)
    if kw["lr"] is not None:
        raise click.UsageError("lr-find sweeps the learning rate itself (--start-lr, --end-lr); drop --lr")
    given = [option for name, option in NOT_SWEPT.items() if kw.get(name) is not None and kw.get(name) is not False]
    if given:
        raise click.UsageError(f"lr-find runs --steps optimiser steps on every row, with no validation split or "
                               f"early stopping: {', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply; "
                               f"drop {'it' if len(given) == 1 else 'them'}")
    est = _estimator(kw["strategy"], kw)
    dataset = _load(data, kw)
    if _resolve_backbone(kw, dataset):
        est = _estimator(kw["strategy"], kw)
    check_compatible(dataset, est.backbone)
    result = lr_find(est, dataset.X, dataset.y, start_lr=start_lr, end_lr=end_lr, num_steps=steps)
    folder = Path(out)
    write_output_folder(folder, {"lr_find.png": result.plot_png(),
                                 "lr_find.json": json.dumps(result.to_dict(), indent=1, allow_nan=False)})
    click.echo(f"swept {len(result.lrs)} steps from {result.lrs[0]:.1e} to {result.lrs[-1]:.1e}")
    if result.suggested_lr is None:
        click.echo("no suggested learning rate: the loss did not fall anywhere in the sweep; every rate tried is "
                   "too large (try a lower --start-lr)")
    else:
        click.echo(f"suggested learning rate: {result.suggested_lr:.2e}  (use --lr {result.suggested_lr:.1e})")
    click.echo(f"plot: {folder / 'lr_find.png'}")
