"""Read data for an audit without stopping at the first bad item.

:func:`transferkit.data.load_data` refuses data with a missing label, an empty text or a broken image,
naming the first one; an audit has to list them all and go on with the rest. :func:`read_for_audit`
reads the same sources (table files, DataFrames, image folders, arrays, lists, Datasets), records every
unusable item with its reason, and keeps what :func:`~transferkit.audit.fix` needs to write a cleaned
copy of the original.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data import Dataset, check_labels, infer_modality, load_image, read_table
from ..data._images import image_array_to_uint8
from ..data._sources import from_image_folder
from ..data._validation import missing_positions
from ..errors import DataError, ImageLoadError

__all__ = ["AuditData", "Origin", "read_for_audit"]

_EXCERPT = 100


@dataclass(frozen=True, eq=False)
class Origin:
    """Where the audited items came from, so a cleaned copy can be written in the same shape.

    ``kind`` is ``"table-file"`` (``path`` and ``frame`` set), ``"frame"`` (``frame`` set),
    ``"image-folder"`` (``path`` set) or ``"items"`` (the items and labels themselves are written).
    """

    kind: str
    path: Path | None = None
    frame: pd.DataFrame | None = None


@dataclass(frozen=True, eq=False)
class AuditData:
    """Items of one modality, with every unusable one recorded instead of raised.

    ``items`` and ``labels`` hold all rows as given (bad ones included); ``positions`` are the rows'
    places in the input (they differ from ``0..n-1`` only after per-class subsampling).
    """

    items: np.ndarray
    labels: np.ndarray | None
    modality: str
    source: str
    names: list[str]
    positions: np.ndarray
    origin: Origin
    missing_values: dict[int, str] = field(default_factory=dict)
    missing_labels: list[int] = field(default_factory=list)
    corrupt: dict[int, str] = field(default_factory=dict)
    content: dict[int, str] = field(default_factory=dict)  # image pixel digests from the decode check
    feature_names: list[str] | None = None  # a table's feature columns, when it has names

    def __len__(self) -> int:
        return len(self.items)

    def usable(self) -> np.ndarray:
        """Local indices of the items every later check can use."""
        bad = set(self.missing_values) | set(self.missing_labels) | set(self.corrupt)
        return np.asarray([i for i in range(len(self)) if i not in bad], dtype=np.intp)

    def dataset(self, local: np.ndarray) -> Dataset:
        """The items at local indices ``local`` as a :class:`Dataset` (they must be usable)."""
        X = self.items[local]
        if self.modality == "table":
            X = np.ascontiguousarray(np.stack(list(X)).astype(np.float64)) if X.dtype == object else X
        elif self.modality == "text":
            X = X.astype(object)
        y = None if self.labels is None else self.labels[local]
        return Dataset(X=X, y=y, modality=self.modality, source=self.source)  # type: ignore[arg-type]


def read_for_audit(
    source: Any,
    labels: Any = None,
    *,
    text_column: str = "text",
    label_column: str | None = "label",
    modality: str | None = None,
    per_class: int | None = None,
    random_state: int = 0,
    labels_optional: bool = False,
) -> AuditData:
    """Read ``source`` as :func:`transferkit.data.load_data` would, recording bad items instead of raising.

    With ``labels_optional`` (a test set, whose labels the audit does not need) a table without the
    label column is read without labels instead of failing.

    Raises
    ------
    DataError
        The source as a whole cannot be read: a path that does not exist, no label column, no text
        column and non-numeric columns, labels of the wrong length.
    """
    if labels_optional and label_column is not None and labels is None:
        frame = source if isinstance(source, pd.DataFrame) else None
        if isinstance(source, str | os.PathLike) and Path(os.fsdecode(source)).is_file():
            frame = read_table(Path(os.fsdecode(source)))
        if frame is not None and label_column not in frame.columns:
            label_column = None
    if isinstance(source, Dataset):
        data = _from_dataset(source)
    elif isinstance(source, pd.DataFrame):
        data = _from_frame(source, None, labels, text_column, label_column, modality)
    elif isinstance(source, str | os.PathLike):
        data = _from_path(Path(os.fsdecode(source)), labels, text_column, label_column, modality)
    elif isinstance(source, np.ndarray | list | tuple | pd.Series):
        data = _from_items(source, labels, modality)
    else:
        raise DataError(f"Cannot audit a {type(source).__name__}; pass a folder or table path, a DataFrame, "
                        "a numpy array, a list or a Dataset.")
    if per_class is not None:
        data = _subsample(data, per_class, random_state)
    return data


def _from_path(path: Path, labels: Any, text_column: str, label_column: str | None,
               modality: str | None) -> AuditData:
    if path.is_dir():
        if labels is not None:
            raise DataError(f"Image folder '{path}' takes its labels from the sub-folder names; drop labels=.")
        parts = from_image_folder(path)
        data = _images(parts.X, parts.y, f"image folder '{path}'", Origin("image-folder", path=path))
        return data
    if not path.exists():
        raise DataError(f"'{path}' does not exist; pass an image folder, a table file, or a packaged dataset name.")
    frame = read_table(path)
    return _from_frame(frame, path, labels, text_column, label_column, modality)


def _from_dataset(data: Dataset) -> AuditData:
    y = None if data.y is None else _labels(data.y, len(data))
    if data.modality == "image":
        return _images(data.X, y, data.source, Origin("items"))
    return AuditData(items=data.X, labels=y, modality=data.modality, source=data.source,
                     names=_names(data.X, data.modality), positions=np.arange(len(data)), origin=Origin("items"),
                     feature_names=list(map(str, data.feature_names)) if data.feature_names else None)


def _from_frame(frame: pd.DataFrame, path: Path | None, labels: Any, text_column: str,
                label_column: str | None, modality: str | None) -> AuditData:
    where = f"table file '{path}'" if path is not None else f"DataFrame with {len(frame)} rows"
    if frame.shape[0] == 0:
        raise DataError(f"The {where} has no data rows.")
    columns = ", ".join(repr(str(c)) for c in frame.columns)
    if labels is not None:
        y = _labels(labels, len(frame))
        label_column = None
    elif label_column is not None:
        if label_column not in frame.columns:
            raise DataError(f"Label column {label_column!r} not found in the {where}; available columns: "
                            f"{columns}. Name it with --label-column (label_column= in Python).")
        y = _labels(frame[label_column].to_numpy(dtype=object), len(frame))
    else:
        y = None
    origin = Origin("table-file", path=path, frame=frame) if path is not None else Origin("frame", frame=frame)
    row = (lambda i: f"row {i + 1}") if path is not None else (lambda i: f"index {frame.index[i]}")
    if modality in (None, "text") and text_column in frame.columns:
        texts = frame[text_column].to_numpy(dtype=object)
        empty = {i: p for i, t in enumerate(texts) if (p := _text_problem(t, f"text ({text_column!r})")) is not None}
        names = [row(i) if i in empty else f"{row(i)}: {_excerpt(t)}" for i, t in enumerate(texts)]
        return _finish(texts, y, "text", where, names, origin, empty)
    if modality == "image":
        raise DataError(f"The audit reads images from a folder (one sub-folder per class) or a list of paths, "
                        f"not from the {where}.")
    features = [c for c in frame.columns if c != label_column]
    if not features:
        raise DataError(f"The {where} has no feature columns besides the label column {label_column!r}.")
    numbers = {c: pd.to_numeric(frame[c], errors="coerce") for c in features}
    non_numeric = [c for c in features if _mostly_not_numbers(frame[c], numbers[c])]
    if modality == "table" and non_numeric:
        shown = ", ".join(repr(str(c)) for c in non_numeric)
        raise DataError(f"Columns {shown} of the {where} are not numeric; a table needs numeric features, "
                        "so encode or drop those columns.")
    if non_numeric and modality is None:  # neither a text table nor a feature table: as load_data says it
        raise DataError(_neither_text_nor_table(text_column, where, columns, non_numeric))
    if modality == "text" or non_numeric:
        raise DataError(f"Column {text_column!r} not found in the {where}; available columns: {columns}. "
                        "Name the text column with --text-column (text_column= in Python).")
    values = np.column_stack([numbers[c].to_numpy(dtype=np.float64) for c in features])
    bad: dict[int, str] = {}
    for i in np.flatnonzero(~np.isfinite(values).all(axis=1)):
        c = features[int(np.flatnonzero(~np.isfinite(values[i]))[0])]
        raw = frame[c].iloc[i]
        bad[int(i)] = (f"column {str(c)!r} is missing" if _is_missing(raw)
                       else f"column {str(c)!r} holds {raw!r}, not a finite number")
    items = np.empty(len(frame), dtype=object)
    items[:] = list(values)
    return _finish(items, y, "table", where, [row(i) for i in range(len(frame))], origin, bad,
                   feature_names=[str(c) for c in features])


def _neither_text_nor_table(text_column: str, where: str, columns: str, non_numeric: list[Any]) -> str:
    """The message of :func:`transferkit.data.load_data` (``fit``, ``evaluate``, ``select``) for a table
    that has no text column and non-numeric columns: it names those columns, the likely problem of a
    feature table with an id column, rather than only the missing text column."""
    shown = ", ".join(repr(str(c)) for c in non_numeric)
    many = len(non_numeric) > 1
    return (f"Column {text_column!r} not found in the {where} (available columns: {columns}), and it cannot "
            f"be read as a feature table either: {'columns' if many else 'column'} {shown} "
            f"{'are' if many else 'is'} not numeric. For a text table, name its text column with --text-column "
            f"(text_column= in Python); for a feature table, encode or drop {'those columns' if many else 'it'}.")


def _from_items(source: Any, labels: Any, modality: str | None) -> AuditData:
    if isinstance(source, np.ndarray) and source.dtype.kind in "biuf":
        modality = modality or infer_modality(source)
    else:
        source = _object(list(source))
        if modality is None:
            present = [v for v in source if not _is_missing(v)]
            modality = infer_modality(present or list(source))
    y = None if labels is None else _labels(labels, len(source))
    where = f"{type(source).__name__} of {len(source)} items"
    if modality == "table":
        array = np.asarray(source, dtype=np.float64)
        if array.ndim != 2:
            raise DataError(f"A table needs a 2-D numeric array (n_samples, n_features); got shape {array.shape}.")
        bad = {int(i): "holds a missing or infinite value" for i in np.flatnonzero(~np.isfinite(array).all(axis=1))}
        items = np.empty(len(array), dtype=object)
        items[:] = list(array)
        return _finish(items, y, "table", where, [f"index {i}" for i in range(len(array))], Origin("items"), bad)
    if modality == "text":
        bad = {i: p for i, t in enumerate(source) if (p := _text_problem(t, "text")) is not None}
        names = [f"index {i}" if i in bad else _excerpt(t) for i, t in enumerate(source)]
        return _finish(_object(list(source)), y, "text", where, names, Origin("items"), bad)
    return _images(source, y, where, Origin("items"))


def _images(items: Any, y: np.ndarray | None, where: str, origin: Origin) -> AuditData:
    """Decode every image once: a file that fails is corrupt; the pixels of the others give content keys."""
    corrupt: dict[int, str] = {}
    content: dict[int, str] = {}
    if isinstance(items, np.ndarray) and items.dtype != object:  # (N, H, W[, C]) pixels: nothing to decode
        items = image_array_to_uint8(items)  # float pixels: 0..1 or 0..255 decided once, as every model reads them
        return AuditData(items=items, labels=y, modality="image", source=where, names=[f"image {i}" for i in
                         range(len(items))], positions=np.arange(len(items)), origin=origin)
    for i, item in enumerate(items):
        if _is_missing(item):
            corrupt[i] = "no image (missing value)"
            continue
        try:
            pixels = load_image(item)
        except ImageLoadError as exc:
            corrupt[i] = str(exc)
            continue
        h = hashlib.blake2b(digest_size=16)
        h.update(str(pixels.shape).encode())
        h.update(pixels.tobytes())
        content[i] = h.hexdigest()
    names = [os.fsdecode(v) if isinstance(v, str | os.PathLike) else f"image {i}" for i, v in enumerate(items)]
    data = _finish(_object(list(items)), y, "image", where, names, origin, {})
    return AuditData(**{**data.__dict__, "corrupt": corrupt, "content": content})


def _finish(items: np.ndarray, y: np.ndarray | None, modality: str, where: str, names: list[str],
            origin: Origin, bad: dict[int, str], feature_names: list[str] | None = None) -> AuditData:
    missing = [] if y is None else missing_positions(y)
    if y is not None and len(missing) < len(y):
        present = [v for i, v in enumerate(y) if i not in set(missing)]
        check_labels(_object(present), min_classes=1)  # mixed strings and numbers: a whole-column error
    return AuditData(items=items, labels=y, modality=modality, source=where, names=names,
                     positions=np.arange(len(items)), origin=origin, missing_values=bad, missing_labels=missing,
                     feature_names=feature_names)


def _subsample(data: AuditData, per_class: int, random_state: int) -> AuditData:
    """At most ``per_class`` items of each class (unlabelled items all stay: they are findings)."""
    if data.labels is None:
        return data
    rng = np.random.default_rng(random_state)
    missing = set(data.missing_labels)
    labelled = np.asarray([i for i in range(len(data)) if i not in missing], dtype=np.intp)
    values = np.asarray([str(v) for v in data.labels[labelled]], dtype=object)
    keep = [labelled[rng.permutation(np.flatnonzero(values == c))[:per_class]] for c in np.unique(values)]
    local = np.sort(np.concatenate([*keep, np.asarray(sorted(missing), dtype=np.intp)]))
    new = {int(old): k for k, old in enumerate(local)}

    def remap(d: dict[int, str]) -> dict[int, str]:
        return {new[i]: v for i, v in d.items() if i in new}

    return AuditData(items=data.items[local], labels=data.labels[local], modality=data.modality,
                     source=f"{data.source}, at most {per_class} per class", names=[data.names[i] for i in local],
                     positions=data.positions[local], origin=data.origin, missing_values=remap(data.missing_values),
                     missing_labels=[new[i] for i in data.missing_labels if i in new], corrupt=remap(data.corrupt),
                     content=remap(data.content), feature_names=data.feature_names)


def _labels(labels: Any, n: int) -> np.ndarray:
    if isinstance(labels, pd.Series | pd.Index):
        labels = labels.to_numpy(dtype=object)
    if isinstance(labels, str):
        raise DataError("The labels are a single string; pass a list with one entry per sample.")
    y = _object(list(labels))
    if len(y) != n:
        raise DataError(f"Got {n} samples but {len(y)} labels; pass one label per sample.")
    present = [v for v in y if not _is_missing(v)]
    # pandas reads an integer column with a gap as floats: give the labels back their integer form
    if present and all(isinstance(v, float | np.floating) and float(v).is_integer() for v in present):
        return _object([None if _is_missing(v) else int(v) for v in y])
    return _object([None if _is_missing(v) else v.item() if isinstance(v, np.generic) else v for v in y])


def _object(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _is_missing(value: Any) -> bool:
    return bool(missing_positions(_object([value])))


def _mostly_not_numbers(raw: pd.Series, numbers: pd.Series) -> bool:
    present = raw.notna()
    return bool(present.any()) and bool(numbers[present].isna().mean() > 0.5)


def _text_problem(value: Any, what: str) -> str | None:
    if isinstance(value, str):
        if value.strip():
            return None
        return f"{what} is empty" if not value else f"{what} is blank (whitespace only)"
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return f"{what} is missing"
    return f"{what} is a {type(value).__name__} ({value!r:.40}), not text"


def _excerpt(text: Any) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= _EXCERPT else s[: _EXCERPT - 1] + "…"


def _names(X: np.ndarray, modality: str) -> list[str]:
    if modality == "text":
        return [_excerpt(t) for t in X]
    if modality == "image" and X.dtype == object:
        return [os.fsdecode(v) if isinstance(v, str | os.PathLike) else f"image {i}" for i, v in enumerate(X)]
    return [f"index {i}" for i in range(len(X))]
