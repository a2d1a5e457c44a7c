"""``transferkit ensemble``: score an ensemble of transfer models and baselines, and each member, on the
same folds. Thin: parse, call :func:`transferkit.ensembles.compare_ensemble`, print, write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import DataError
from ._commands import _apply, _load, cli, data_options
from ._paths import OutputPath, ReportFolder, check_outside_inputs
from ._selection import _cache, _names, _write_folder, selection_options
from ._types import api_check


def _check_members(members: str) -> None:
    """``--members``: every member spec names a known backbone and strategy (the ensemble's own parsing)."""
    from ..ensembles import EnsembleError, TransferEnsemble

    specs = _names(members)
    if not specs:
        raise EnsembleError(f"{members!r} names no member; e.g. minilm-l6:linear,baseline")
    twice = sorted({s for s in specs if specs.count(s) > 1})
    if twice:
        raise EnsembleError(f"ensemble member {twice[0]!r} is listed twice")
    if any(s != "baseline" for s in specs):
        TransferEnsemble(members=specs).named_members()


@cli.command()
@click.argument("data")
@click.option("--members", "-m", required=True, callback=api_check(_check_members),
              help="Comma-separated members: BACKBONE[:STRATEGY] (e.g. minilm-l6:linear, efficientnet-lite0) "
                   "or 'baseline' (the no-transfer baseline).")
@click.option("--method", type=click.Choice(["stacking", "voting", "bagging", "boosting"]), default="stacking",
              show_default=True, help="How members are combined (bagging/boosting: of each member's head).")
@click.option("--cv", type=click.IntRange(min=2), default=5, show_default=True, help="Cross-validation folds.")
@click.option("--n-estimators", type=click.IntRange(min=1), default=10, show_default=True,
              help="Bagged copies per member (boosting: x5 rounds).")
@_apply(selection_options)
@_apply(data_options)
@click.option("--progress/--no-progress", default=False, show_default=True, help="One line per fold and model.")
@click.option("--out", "-o", default="transferkit-ensemble", show_default=True,
              type=ReportFolder("report.html", "ensemble.json"),
              help="Folder for report.html and ensemble.json.")
@click.option("--save", "save_dir", default=None, type=OutputPath(file_okay=False),
              help="Also fit the ensemble on all of DATA and save it to this model folder (for `transferkit predict`).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --save folder.")
def ensemble(data: str, members: str, method: str, cv: int, n_estimators: int, progress: bool, out: str,
             save_dir: str | None, overwrite: bool, **kw: Any) -> None:
    """Cross-validate an ensemble of MEMBERS on DATA, with every member scored on the same folds.

    DATA is a folder of images, a CSV/JSONL/Parquet file or a packaged dataset name. Members on the
    same backbone share its cached features."""
    from ..ensembles import compare_ensemble, ensemble_report
    from ..estimators import check_writable

    if overwrite and save_dir is None:  # the report folder is never replaced: --overwrite names --save's
        raise click.UsageError("--overwrite only applies to the saved model (--save); add --save DIR.")
    check_outside_inputs(out, data)
    check_outside_inputs(save_dir, data, replaces=True)
    if save_dir is not None:
        check_writable(Path(save_dir), overwrite=overwrite)  # before any work
        if Path(out).resolve().is_relative_to(Path(save_dir).resolve()):
            raise DataError(f"the report folder {out!r} (--out) is or lies inside the --save folder {save_dir!r}, "
                            "which the saved model replaces; give the model a folder of its own")
    specs = _names(members)  # checked by _check_members while the options were parsed
    if method in ("bagging", "boosting") and any(s != "baseline" for s in specs):
        from ..ensembles import EnsembleError, TransferEnsemble

        try:  # a fine-tuned member has no head to bag or boost: wrong whatever the data
            TransferEnsemble(members=specs, method=method).named_members()
        except EnsembleError as exc:
            raise click.UsageError(str(exc)) from None
    dataset = _load(data, kw)
    result = compare_ensemble(dataset.X, dataset.y, members=specs, method=method, cv=cv, modality=dataset.modality,
                              image_size=kw["image_size"], max_length=kw["max_length"], cache=_cache(kw),
                              n_estimators=n_estimators, random_state=kw["seed"], verbose=int(progress))
    rows = result.table()
    width = max(len("model"), *(len(r["model"]) for r in rows))
    click.echo(f"\n{result.evaluation.scheme}")
    click.echo(f"{'model':<{width}} {'role':<9} {'accuracy':>9} {'± folds':>8} {'macro-F1':>9}")
    for r in rows:
        click.echo(f"{r['model']:<{width}} {r['role']:<9} {r['accuracy (mean over folds)']:>9.3f} "
                   f"{r['± (std over folds)']:>8.3f} {r['macro F1 (mean over folds)']:>9.3f}")
    click.echo(result.verdict())
    report = ensemble_report(result, title=f"transferkit ensemble ({method}): {dataset.source or data}",
                             summary={"data": dataset.source or data, "members": ", ".join(specs), "method": method})
    folder = Path(out)
    _write_folder(folder, {"report.html": report.render(),
                           "ensemble.json": json.dumps(result.to_dict(), indent=1, default=str)})
    click.echo(f"report: {folder / 'report.html'}")
    if save_dir is not None:
        from sklearn.base import clone

        from ..workflows import keep_column_names

        final = clone(result.estimator).fit(dataset.X, dataset.y)  # the ensemble just cross-validated
        keep_column_names(final, dataset)  # predict matches columns by name, as for fit
        final.save(save_dir, overwrite=overwrite)
        click.echo(f"ensemble fitted on all {len(dataset.y)} examples and saved to {save_dir}")
