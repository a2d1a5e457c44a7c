""":func:`fix`: write a cleaned copy of audited data, with a log of every removed item and why.

The input is never touched. The copy is built in a temporary folder beside the target and renamed into
place only when complete, so an interrupted fix leaves nothing half-written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._outputs import check_replaceable_folder
from ..errors import DataError
from ._findings import AuditResult, resolve_drop
from ._input import AuditData

__all__ = ["FixOutcome", "check_fix", "fix"]

_WRITERS = {
    ".csv": lambda frame, path: frame.to_csv(path, index=False),
    ".tsv": lambda frame, path: frame.to_csv(path, sep="\t", index=False),
    ".jsonl": lambda frame, path: frame.to_json(path, orient="records", lines=True, force_ascii=False),
    ".ndjson": lambda frame, path: frame.to_json(path, orient="records", lines=True, force_ascii=False),
    ".json": lambda frame, path: frame.to_json(path, orient="records", force_ascii=False),
    ".parquet": lambda frame, path: frame.to_parquet(path, index=False),
}


@dataclass(frozen=True)
class FixOutcome:
    """What :func:`fix` wrote.

    Attributes
    ----------
    folder : Path
        The output folder.
    data : Path
        The cleaned table file inside it, or the folder itself for images (one sub-folder per class).
    n_kept, n_removed : int
        Items written and items left out.
    removed_by_check : dict of str to int
        Items removed per check (an item flagged by two checks counts for both).
    warnings : tuple of str
        What the copy lost that a user should know about (a whole class removed), one line each; also in
        ``audit_log.json``.
    """

    folder: Path
    data: Path
    n_kept: int
    n_removed: int
    removed_by_check: dict[str, int]
    warnings: tuple[str, ...] = ()


def fix(result: AuditResult, out: str | os.PathLike[str], *, drop: str | Iterable[str] | None = None,
        keep: str | Iterable[str] | None = None, overwrite: bool = False) -> FixOutcome:
    """Write a cleaned copy of the audited data to the folder ``out``, with ``audit_log.json``/``.csv``.

    Parameters
    ----------
    result : AuditResult
        An audit of the data to clean.
    out : path
        Output folder (must not exist unless ``overwrite``; must not be, contain or sit inside the input).
    drop : str or iterable of str, optional
        Checks whose flagged items are removed *in addition to* :data:`~transferkit.audit.DEFAULT_DROP`
        (missing values and labels, corrupt files, exact duplicates after their first copy, copies with
        conflicting labels, and training items that leak into the test set), as ``--drop`` does:
        ``"outliers"``, ``"label-errors"``, ``"near-duplicates"``. A string is one name or
        comma-separated names (``drop="outliers,label-errors"``); naming a default check changes nothing.
    keep : str or iterable of str, optional
        Checks of :data:`~transferkit.audit.DEFAULT_DROP` whose items stay, as ``--keep`` does
        (``keep="exact-duplicates"``); ``keep=DEFAULT_DROP`` removes only the checks in ``drop``.
    overwrite : bool, default=False
        Replace an existing output folder.

    Returns
    -------
    FixOutcome
        With a warning line in ``warnings`` for each class the copy loses entirely (it is still written).

    Notes
    -----
    Table files are written in their own format under their own name, rows in their original order,
    columns unchanged. An image folder becomes a folder with copies of the kept files at the same
    relative paths. Other inputs become ``data.csv`` (texts, tables) or class sub-folders of images
    (image paths are copied, image arrays saved as PNG).

    Raises
    ------
    DataError
        ``out`` exists (without ``overwrite``) or overlaps the input; an unknown check in ``drop`` or
        ``keep``, or one in both; the audit saw a subsample (``per_class``), so the copy would lose the
        items not audited; the copy would hold no item. Nothing is written then.
    """
    checks = resolve_drop(drop, keep)
    warnings = _check_fix(result, checks)
    data: AuditData = result.origin
    out = Path(out)
    _check_target(out, data, overwrite)
    removals = result._removals_of(checks)
    local = _kept_local(result, checks)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        written = _write_data(data, local, tmp)
        _write_log(tmp, result, data, removals, checks, out, len(local), warnings)
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    by_check = Counter(check for reasons in removals.values() for check, _ in reasons)
    return FixOutcome(folder=out, data=out / written.relative_to(tmp) if written != tmp else out,
                      n_kept=len(local), n_removed=len(removals), removed_by_check=dict(by_check),
                      warnings=warnings)


def _kept_local(result: AuditResult, checks: frozenset[str]) -> np.ndarray:
    kept_positions = set(result._kept_of(checks))
    return np.asarray([i for i, p in enumerate(result.origin.positions) if int(p) in kept_positions], dtype=np.intp)


def check_fix(result: AuditResult, drop: str | Iterable[str] | None = None,
              keep: str | Iterable[str] | None = None) -> tuple[str, ...]:
    """Refuse a cleaned copy that would lose data without a word, before anything is written; return the
    warnings of a copy that may be written but loses a whole class. ``drop`` and ``keep`` as in :func:`fix`.

    Raises
    ------
    DataError
        The result does not hold its data; the audit saw a subsample (``per_class``: the copy would lose
        every item not audited); or the checks to remove flag every audited item (the copy would be empty).
    """
    return _check_fix(result, resolve_drop(drop, keep))


def _check_fix(result: AuditResult, checks: frozenset[str]) -> tuple[str, ...]:
    """:func:`check_fix` for the whole set of checks to remove, as :func:`resolve_drop` returns it."""
    data: AuditData | None = result.origin
    if data is None:
        raise DataError("This audit result does not hold its data; run audit() again, then fix().")
    if result.positions or result.settings.get("per_class") is not None:
        raise DataError(f"This audit saw a subsample of the {result.source} (per_class="
                        f"{result.settings.get('per_class')}): a cleaned copy would lose every item not audited; "
                        "audit without per_class, then fix().")
    local = _kept_local(result, checks)
    if len(local) == 0:
        by_check = Counter(c for reasons in result._removals_of(checks).values() for c, _ in reasons)
        why = ", ".join(f"{c} {n}" for c, n in by_check.most_common())
        raise DataError(f"The cleaned copy of the {result.source} would hold no item: the checks to drop remove "
                        f"all {result.n_samples} items ({why}); remove fewer checks with --keep (keep= in Python) or fix the data.")
    if data.labels is None:
        return ()
    missing = set(data.missing_labels)
    before = Counter(str(data.labels[i]) for i in range(len(data)) if i not in missing)
    after = {str(data.labels[i]) for i in local if i not in missing}
    return tuple(f"class {c!r} has no item left in the cleaned copy (all {n} removed)"
                 for c, n in sorted(before.items()) if c not in after)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_fix_folder(out: str | Path, overwrite: bool) -> None:
    """Refuse a folder for the cleaned copy that exists (without ``overwrite``), is a file, or holds
    anything but an earlier cleaned copy: ``overwrite`` replaces the folder as a whole, and an empty folder
    or one with ``audit_log.json`` is the only kind whose replacement deletes nothing of the user's."""
    check_replaceable_folder(out, overwrite=overwrite, marker="audit_log.json", what="cleaned copy")


def _check_target(out: Path, data: AuditData, overwrite: bool) -> None:
    target = out.resolve()
    inputs: list[Path] = []
    if data.origin.path is not None:
        inputs.append(data.origin.path.resolve())
    elif data.modality == "image" and data.items.dtype == object:
        inputs.extend(Path(os.fsdecode(p)).resolve() for p in data.items if isinstance(p, str | os.PathLike))
    for source in inputs:
        if _inside(source, target) or (source.is_dir() and _inside(target, source)):
            raise DataError(f"The cleaned copy '{out}' would overlap the input '{source}'; write it elsewhere "
                            "(the input is never edited in place).")
    check_fix_folder(out, overwrite)


def _replace(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.rename(tmp, out)
        return
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_data(data: AuditData, local: np.ndarray, tmp: Path) -> Path:
    origin = data.origin
    if origin.kind == "table-file":
        from ..data._tables import _table_suffix

        assert origin.path is not None and origin.frame is not None
        path = tmp / origin.path.name
        _copy_rows(origin.path, _table_suffix(origin.path), data.positions[local], path)
        return path
    if origin.kind == "frame":
        assert origin.frame is not None
        path = tmp / "data.csv"
        origin.frame.iloc[data.positions[local]].to_csv(path, index=False)
        return path
    if origin.kind == "image-folder":
        assert origin.path is not None
        for i in local:
            source = Path(data.items[i])
            target = tmp / source.relative_to(origin.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        return tmp
    if data.modality == "image":
        _write_images(data, local, tmp)
        return tmp
    path = tmp / "data.csv"
    if data.modality == "text":
        frame = pd.DataFrame({"text": list(data.items[local])})
    else:
        rows = np.stack([np.asarray(v, dtype=np.float64) for v in data.items[local]]) if len(local) else np.empty((0, 0))
        frame = pd.DataFrame(rows, columns=[f"x{j}" for j in range(rows.shape[1])])
    if data.labels is not None:
        frame["label"] = list(data.labels[local])
    frame.to_csv(path, index=False)
    return path


def _copy_rows(source: Path, suffix: str, rows: np.ndarray, path: Path) -> None:
    """The table file ``source`` with only ``rows`` (positions of its data rows), every kept cell as written:
    JSON Lines and JSON records copied record for record, CSV and TSV cells as strings (``00001`` and
    ``1.50`` and ``NA`` stay so) with the source's line endings, Parquet with its stored types."""
    from ..data._tables import read_table_verbatim

    compressed = source.suffix.lower() != suffix
    if suffix in (".jsonl", ".ndjson") and not compressed:
        with open(source, encoding="utf-8") as fh:  # pandas reads one record per non-blank line
            records = [line.rstrip("\r\n") for line in fh if line.strip()]
        path.write_text("".join(records[i] + "\n" for i in rows), encoding="utf-8")
        return
    if suffix == ".json" and not compressed:
        records = json.loads(source.read_text(encoding="utf-8"))
        if isinstance(records, list):
            path.write_text(json.dumps([records[i] for i in rows], ensure_ascii=False), encoding="utf-8")
            return
    frame = read_table_verbatim(source).iloc[rows]
    if suffix in (".csv", ".tsv"):
        crlf = False
        if not compressed:  # a compressed file's first bytes say nothing about its line endings
            with open(source, "rb") as fh:
                crlf = b"\r\n" in fh.read(1 << 16)
        frame.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False, lineterminator="\r\n" if crlf else "\n")
        return
    _WRITERS[suffix](frame, path)


def _folder_name(label: Any) -> str:
    name = str(label).replace(os.sep, "_").replace("/", "_").strip() or "_"
    return "_" + name if name.startswith(".") else name


def _write_images(data: AuditData, local: np.ndarray, tmp: Path) -> None:
    from PIL import Image

    from ..data import load_image

    used: set[Path] = set()
    for i in local:
        folder = tmp / (_folder_name(data.labels[i]) if data.labels is not None else "images")
        folder.mkdir(exist_ok=True)
        item = data.items[i]
        pos = int(data.positions[i])
        if isinstance(item, str | os.PathLike):
            source = Path(os.fsdecode(item))
            target = folder / source.name
            if target in used:
                target = folder / f"{pos}_{source.name}"
            shutil.copy2(source, target)
        else:
            target = folder / f"{pos:06d}.png"
            Image.fromarray(load_image(item)).save(target)
        used.add(target)


def _write_log(tmp: Path, result: AuditResult, data: AuditData, removals: dict[int, list[tuple[str, str]]],
               checks: frozenset[str], out: Path, n_kept: int, warnings: tuple[str, ...]) -> None:
    local_of = {int(p): i for i, p in enumerate(data.positions)}
    entries: list[dict[str, Any]] = []
    for pos, reasons in removals.items():
        i = local_of[pos]
        label = None if data.labels is None else data.labels[i]
        entries.append({"index": pos, "item": data.names[i],
                        "label": label.item() if isinstance(label, np.generic) else label,
                        "checks": [c for c, _ in reasons], "reasons": [r for _, r in reasons]})
    by_check = Counter(c for e in entries for c in e["checks"])
    log = {"source": result.source, "output": str(out), "backbone": result.backbone, "drop": sorted(checks),
           "n_audited": result.n_samples, "n_kept": n_kept, "n_removed": len(entries),
           "removed_by_check": dict(by_check), "warnings": list(warnings), "removed": entries}
    (tmp / "audit_log.json").write_text(json.dumps(log, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["index", "item", "label", "checks", "reasons"])
    for e in entries:
        writer.writerow([e["index"], e["item"], "" if e["label"] is None else e["label"], ";".join(e["checks"]),
                         " | ".join(e["reasons"])])
    (tmp / "audit_log.csv").write_text(buffer.getvalue(), encoding="utf-8")
