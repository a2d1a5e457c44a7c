"""``transferkit audit``: what is wrong with a labelled dataset, and optionally a cleaned copy of it.

Thin: parse, call :func:`transferkit.audit.audit` (and :func:`~transferkit.audit.fix`), print, write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import DataError
from ._commands import _apply, check_backbone_option, cli, data_options, weights_options
from ._paths import OutputPath, ReportFolder, check_outside_inputs, naming_option
from ._selection import _cache, _names, _write_folder, selection_options
from ._types import FiniteFloatRange, api_check


def _data(spec: str, kw: dict[str, Any]) -> tuple[Any, int | None]:
    """A path goes to the audit as it is (it reads bad rows instead of refusing them); a packaged dataset
    name is loaded here. Returns the data and the per-class limit the audit still has to apply."""
    check_outside_inputs(kw.get("cache_dir"), spec)  # cache files inside a data folder would become data
    if Path(spec).exists():
        return spec, kw["per_class"]
    from ..workflows import resolve_data

    return resolve_data(spec, text_column=kw["text_column"], label_column=kw["label_column"],
                        per_class=kw["per_class"], random_state=kw["seed"]), None


def _removable_checks(verb: str) -> Any:
    """The check of ``--drop`` or ``--keep`` (``verb``): known checks whose items can be removed (the API's
    own rule, imported when an option is parsed)."""
    def check(names: str) -> None:
        from ..audit._findings import check_drop

        check_drop(names, verb=verb)
    return check


def _check_options(fix_out: str | None, drop: str, keep: str, overwrite: bool, per_class: int | None) -> None:
    """Options that conflict with each other: usage errors, before any data is read."""
    if not fix_out:
        given = [name for name, value in (("--drop", drop), ("--keep", keep), ("--overwrite", overwrite)) if value]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise click.UsageError(f"{' and '.join(given)} only {verb} to the cleaned copy (--fix); add --fix OUT.")
        return
    if per_class is not None:
        raise click.UsageError(f"--fix cannot be combined with --per-class {per_class}: the cleaned copy must hold "
                               "all of DATA, and the items not audited would be lost; leave --per-class out.")
    both = sorted(set(_names(drop)) & set(_names(keep)))
    if both:
        raise click.UsageError(f"{', '.join(both)} is in both --drop and --keep; name each check in one of them.")


def _test(spec: str, kw: dict[str, Any]) -> Any:
    """The --test data (never subsampled); an error reading it names the option."""
    with naming_option("--test"):
        return _data(spec, {**kw, "per_class": None})[0]


def _check_backbone(name: str) -> None:
    """``--backbone``: ``none`` (no embeddings), ``auto`` or a known backbone name."""
    if name.lower() != "none":
        check_backbone_option(name)


@cli.command("audit")
@click.argument("data")
@click.option("--test", "test_data", default=None,
              help="Test set (folder, table file or packaged name): training items also in it are leakage.")
@click.option("--backbone", "-b", default="auto", show_default=True, callback=api_check(_check_backbone),
              help="Backbone of the embeddings for near-duplicates, leakage, outliers and label errors. auto: "
                   "minilm-l6 for texts, efficientnet-lite0 for images, the raw features for tables; none: skip "
                   "the checks that need embeddings (tables keep their raw features).")
@_apply(weights_options)
@click.option("--threshold", type=FiniteFloatRange(0, 1, min_open=True), default=0.9, show_default=True,
              help="Cosine similarity (of centred embeddings) from which two items are near-duplicates.")
@click.option("--cv", type=click.IntRange(min=2), default=5, show_default=True,
              help="Folds of the out-of-fold probabilities for label errors.")
@click.option("--fix", "fix_out", type=OutputPath(file_okay=False), default=None,
              help="Write a cleaned copy to this new folder, with audit_log.json/.csv (the input is never edited).")
@click.option("--drop", default="", callback=api_check(_removable_checks("drop")), help="With --fix, also remove these checks' items: outliers, label-errors, "
                                         "near-duplicates (comma-separated).")
@click.option("--keep", default="", callback=api_check(_removable_checks("keep")), help="With --fix, keep items of these default checks (e.g. exact-duplicates).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --fix folder.")
@_apply(selection_options)
@_apply(data_options)
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bars.")
@click.option("--out", "-o", default="transferkit-audit", show_default=True, type=ReportFolder("report.html", "audit.json"),
              help="Folder for report.html and audit.json.")
def audit_command(data: str, test_data: str | None, backbone: str, weights: str | None, random_init: bool,
                  threshold: float, cv: int, fix_out: str | None, drop: str, keep: str, overwrite: bool, out: str,
                  progress: bool, **kw: Any) -> None:
    """Audit labelled DATA: missing values and labels, corrupt files, exact and near duplicates, conflicting
    labels, leakage into --test, class imbalance, outliers and likely label errors.

    DATA is a folder of images (one sub-folder per class), a CSV/TSV/JSONL/Parquet file or a packaged
    dataset name. Prints a table of findings and writes report.html; --fix writes a cleaned copy."""
    from ..audit import DEFAULT_DROP, audit, audit_report, fix
    from ..audit._findings import resolve_drop
    from ..audit._fix import check_fix

    _check_options(fix_out, drop, keep, overwrite, kw["per_class"])
    check_outside_inputs(out, data, test_data)
    check_outside_inputs(fix_out, data, test_data, replaces=True)  # before the report is written, not after
    checks = resolve_drop(drop, keep)  # the API's own rule for fix(drop=, keep=): the same words, the same items
    for name in sorted(set(_names(keep)) - DEFAULT_DROP):
        click.echo(f"note: --keep {name} has no effect: --fix removes {name} items only when --drop names it.",
                   err=True)
    if fix_out:
        from ..audit._fix import check_fix_folder

        fix_path, out_path = Path(fix_out).resolve(), Path(out).resolve()
        if fix_path == out_path:
            raise DataError(f"--fix '{fix_out}' is the report folder (--out); the cleaned copy needs a folder "
                            "of its own.")
        if out_path.is_relative_to(fix_path) or fix_path.is_relative_to(out_path):
            raise DataError(f"--fix '{fix_out}' and the report folder (--out '{out}') overlap; the cleaned copy "
                            "replaces its folder whole, so each needs a folder of its own.")
        check_fix_folder(fix_out, overwrite)  # before the audit: --overwrite must delete nothing of the user's
    source, per_class = _data(data, kw)
    test = None if test_data is None else _test(test_data, kw)
    result = audit(source, backbone=None if backbone.lower() == "none" else backbone, pretrained=not random_init,
                   weights=weights, test=test,
                   text_column=kw["text_column"], label_column=kw["label_column"], threshold=threshold, cv=cv,
                   image_size=kw["image_size"], max_length=kw["max_length"], cache=_cache(kw),
                   per_class=per_class, random_state=kw["seed"], progress=progress)
    if fix_out:
        check_fix(result, drop, keep)  # an empty cleaned copy fails before anything (the report too) is written
    click.echo(f"\naudited {result.n_samples} items ({result.modality}) from {result.source}; "
               f"embeddings: {result.backbone or 'none'}")
    click.echo(f"{'check':<17} {'flagged':>8}  {'--fix':<11} finding")
    for row in result.table():
        flagged = "-" if row["flagged"] is None else str(row["flagged"])
        removes = "removes" if row["check"] in checks else ("-" if row["check"] == "class-imbalance" else "keeps")
        click.echo(f"{row['check']:<17} {flagged:>8}  {removes:<11} {row['summary']}")
    folder = Path(out)
    _write_folder(folder, {"report.html": audit_report(result).render(),
                           "audit.json": json.dumps(result.to_dict(), indent=1, ensure_ascii=False, default=str)})
    click.echo(f"report: {folder / 'report.html'}")
    if fix_out:
        outcome = fix(result, fix_out, drop=drop, keep=keep, overwrite=overwrite)
        click.echo(f"cleaned copy: {outcome.data} ({outcome.n_kept} items kept, {outcome.n_removed} removed; "
                   f"log: {outcome.folder / 'audit_log.csv'})")
        for line in outcome.warnings:
            click.echo(f"warning: {line}", err=True)
