"""Turn each kind of input (image folder, table, arrays, lists) into the parts of a Dataset.

:func:`transferkit.data.load_data` chooses the function; each returns :class:`Parts` and raises a
:class:`~transferkit.errors.DataError` that names the offending column, row, file or folder.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from transferkit.data._images import IMAGE_EXTENSIONS, is_image_path, load_images
from transferkit.data._validation import (
    bad_text_positions,
    check_labels,
    check_texts,
    format_positions,
    infer_modality,
    missing_positions,
)
from transferkit.errors import DataError, ImageLoadError, NoClassFoldersError

MODALITIES = ("image", "text", "table")


class Parts(NamedTuple):
    """What a source contributes to a Dataset."""

    X: np.ndarray
    y: np.ndarray | None
    modality: str
    feature_names: list[str] | None = None


def _strings(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("__")  # .git, .ipynb_checkpoints, __MACOSX


def _images_under(folder: Path) -> list[Path]:
    """Every image file in ``folder`` and its sub-folders, sorted; hidden files and folders are skipped."""
    return sorted(
        p
        for p in folder.rglob("*")
        if is_image_path(p) and p.is_file() and not any(_is_hidden(part) for part in p.relative_to(folder).parts)
    )


def from_image_folder(folder: Path, *, labelled: bool = True) -> Parts:
    """Read an image folder with one sub-folder per class (searched recursively).

    With ``labelled=False`` every image in the folder and in its sub-folders is read, without labels:
    the usual target of unsupervised domain adaptation, often a flat folder of images.
    """
    if not labelled:
        return _unlabelled_folder(folder)
    class_dirs = sorted(d for d in folder.iterdir() if d.is_dir() and not _is_hidden(d.name))
    loose = sorted(p for p in folder.iterdir() if p.is_file() and is_image_path(p))
    if not class_dirs:
        found = f" (it holds {len(loose)} images directly)" if loose else ""
        raise NoClassFoldersError(
            f"Image folder '{folder}' has no class sub-folders{found}; put the images of each class in "
            f"a sub-folder named after the class, e.g. '{folder / 'cat' / '001.jpg'}'."
        )
    if loose:
        warnings.warn(
            f"Ignored {len(loose)} images directly in '{folder}' (e.g. '{loose[0].name}'); only images "
            "inside class sub-folders are used.",
            UserWarning,
            stacklevel=3,
        )
    paths: list[str] = []
    labels: list[str] = []
    for class_dir in class_dirs:
        files = _images_under(class_dir)
        if not files:
            exts = ", ".join(sorted(IMAGE_EXTENSIONS))
            raise DataError(
                f"Class folder '{class_dir}' contains no images ({exts}); add images or remove the folder."
            )
        paths.extend(str(p) for p in files)
        labels.extend([class_dir.name] * len(files))
    return Parts(_strings(paths), _strings(labels), "image")


def _unlabelled_folder(folder: Path) -> Parts:
    files = _images_under(folder)
    if not files:
        exts = ", ".join(sorted(IMAGE_EXTENSIONS))
        raise DataError(
            f"Image folder '{folder}' contains no images ({exts}), neither directly nor in its sub-folders "
            "(hidden files are skipped); add images or pass another folder."
        )
    return Parts(_strings([str(p) for p in files]), None, "image")


def _columns(frame: pd.DataFrame) -> str:
    return ", ".join(repr(str(c)) for c in frame.columns)


def _positions(missing: list[int], frame: pd.DataFrame, from_file: bool) -> str:
    if from_file:
        return format_positions(missing, rows=True)
    return format_positions([frame.index[i] for i in missing]) if missing else ""


def from_frame(
    frame: pd.DataFrame,
    *,
    where: str,
    base_dir: Path | None,
    text_column: str,
    label_column: str | None,
    image_column: str | None,
    modality: str | None,
    labels: Any = None,
) -> Parts:
    """Read a DataFrame: image paths, texts or numeric features, plus a label column.

    ``where`` describes the table for messages; ``base_dir`` is the folder of the table file (relative
    image paths are resolved against it, and rows are reported 1-based) or None for a DataFrame.
    """
    from_file = base_dir is not None
    if frame.shape[0] == 0:
        raise DataError(f"The {where} has no data rows.")
    y = None
    if labels is not None:
        if label_column is not None and label_column in frame.columns:
            raise DataError(
                f"The {where} has a label column {label_column!r} and labels= was also given; "
                "pass label_column=None to use labels=, or drop labels=."
            )
        y = _check_y(labels, frame.shape[0])
        label_column = None
    elif label_column is not None and label_column not in frame.columns:
        raise DataError(
            f"Label column {label_column!r} not found in the {where}; available columns: "
            f"{_columns(frame)}. Name the label column with --label-column (label_column= in Python), "
            "or pass label_column=None for unlabeled data."
        )
    parts = _frame_features(frame, where, base_dir, text_column, label_column, image_column, modality)
    if labels is None and label_column is not None:  # checked after the columns, so those errors come first
        y = frame[label_column].to_numpy()
        nested = [i for i, v in enumerate(y) if isinstance(v, list | tuple | set | dict | np.ndarray)]
        if nested:  # Parquet/JSON Lines list cells: np.unique would fail with "unhashable type"
            raise DataError(
                f"Label column {label_column!r} of the {where} holds lists, not labels "
                f"({_positions(nested, frame, from_file)}); give each row one label (for several labels per "
                "row, pick one or join them into one string)."
            )
        _check_padded_labels(y, label_column, where)
        missing = missing_positions(y)
        if missing:
            raise DataError(
                f"Label column {label_column!r} of the {where} has no label in "
                f"{_positions(missing, frame, from_file)}; fill in those labels or drop the rows."
            )
    return parts._replace(y=y)


def _check_padded_labels(y: np.ndarray, label_column: str, where: str) -> None:
    """Refuse text labels that differ only by surrounding whitespace (``"pos"`` and ``" pos"``): they
    would silently become separate classes."""
    texts = {v for v in y if isinstance(v, str)}
    by_stripped: dict[str, list[str]] = {}
    for v in sorted(texts):
        by_stripped.setdefault(v.strip(), []).append(v)
    clashes = [group for group in by_stripped.values() if len(group) > 1]
    if clashes:
        shown = "; ".join(" and ".join(repr(v) for v in group) for group in clashes[:3])
        raise DataError(f"Label column {label_column!r} of the {where} has labels that differ only by spaces "
                        f"around them ({shown}); they would be separate classes. Trim them in the file.")


def _frame_features(
    frame: pd.DataFrame,
    where: str,
    base_dir: Path | None,
    text_column: str,
    label_column: str | None,
    image_column: str | None,
    modality: str | None,
) -> Parts:
    if image_column is not None or modality == "image":
        return Parts(_image_column(frame, where, base_dir, image_column), None, "image")
    if modality != "table" and text_column in frame.columns:
        texts = frame[text_column].to_numpy()
        bad = bad_text_positions(texts)
        numeric = [i for i in bad if isinstance(texts[i], int | float | np.integer | np.floating) and not pd.isna(texts[i])]
        if numeric and len(numeric) == len(bad):
            raise DataError(
                f"Text column {text_column!r} of the {where} holds numbers, not text, in "
                f"{_positions(numeric, frame, base_dir is not None)}; for a table of numeric features, rename that "
                "column (or pass modality='table' in the Python API), or name the text column with --text-column."
            )
        if bad:
            raise DataError(
                f"Text column {text_column!r} of the {where} is empty or not text in "
                f"{_positions(bad, frame, base_dir is not None)}; fill in those texts or drop the rows."
            )
        return Parts(_strings(list(texts)), None, "text")
    features = [c for c in frame.columns if c != label_column]
    non_numeric = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c].dtype)]
    if modality == "table" or (modality is None and features and not non_numeric):
        if not features:
            raise DataError(f"The {where} has no feature columns besides the label column {label_column!r}.")
        if non_numeric:
            shown = ", ".join(repr(str(c)) for c in non_numeric)
            raise DataError(
                f"Columns {shown} of the {where} are not numeric; a table needs numeric features, "
                "so encode or drop those columns."
            )
        X = frame[features].to_numpy(dtype=np.float64)
        bad_rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
        if bad_rows.size:
            column = features[int(np.flatnonzero(~np.isfinite(X[bad_rows[0]]))[0])]
            raise DataError(
                f"The {where} has missing or infinite feature values in "
                f"{_positions(bad_rows.tolist(), frame, base_dir is not None)} (the first in column "
                f"{str(column)!r}); fill in or drop those rows (`transferkit audit` lists them)."
            )
        return Parts(np.ascontiguousarray(X), None, "table", [str(c) for c in features])
    numbers = {c: pd.to_numeric(frame[c], errors="coerce") for c in non_numeric}
    mostly_numbers = [c for c in non_numeric if numbers[c].notna().mean() >= 0.5]
    if modality is None and mostly_numbers:  # a table with a few cells that are not numbers
        c = mostly_numbers[0]
        cells = numbers[c].isna() & frame[c].notna()
        where_bad = np.flatnonzero(cells.to_numpy()).tolist()
        example = frame[c].iloc[where_bad[0]] if where_bad else None
        raise DataError(
            f"Column {str(c)!r} of the {where} is not numeric in {_positions(where_bad, frame, base_dir is not None)}"
            f" (e.g. {example!r}); a table needs a number in every feature cell (or, for texts, name the text "
            "column with --text-column)."
        )
    if non_numeric:  # neither a feature table (those columns are not numbers) nor a text table (no text column)
        shown = ", ".join(repr(str(c)) for c in non_numeric)
        many = len(non_numeric) > 1
        raise DataError(
            f"Column {text_column!r} not found in the {where} (available columns: {_columns(frame)}), and it cannot "
            f"be read as a feature table either: {'columns' if many else 'column'} {shown} "
            f"{'are' if many else 'is'} not numeric. For a text table, name its text column with --text-column "
            f"(text_column= in Python); for a feature table, encode or drop {'those columns' if many else 'it'}."
        )
    raise DataError(
        f"Column {text_column!r} not found in the {where}; available columns: {_columns(frame)}. "
        "Name the text column with --text-column (text_column= in Python)."
    )


def _image_column(
    frame: pd.DataFrame, where: str, base_dir: Path | None, image_column: str | None
) -> np.ndarray:
    if image_column is None:
        raise DataError(
            f"Image data from the {where} needs the column of image paths: name it with --image-column "
            f"(image_column= in Python); available columns: {_columns(frame)}."
        )
    if image_column not in frame.columns:
        raise DataError(
            f"Image column {image_column!r} not found in the {where}; available columns: {_columns(frame)}. "
            "Name the column of image paths with --image-column (image_column= in Python)."
        )
    values = frame[image_column].to_numpy()
    bad = bad_text_positions(values)
    if bad:
        raise DataError(
            f"Image column {image_column!r} of the {where} has no path in "
            f"{_positions(bad, frame, base_dir is not None)}; fill in those paths or drop the rows."
        )
    paths = [Path(os.path.expanduser(v)) for v in values]
    if base_dir is not None:
        paths = [p if p.is_absolute() else base_dir / p for p in paths]
    absent = [i for i, p in enumerate(paths) if not p.is_file()]
    if absent:
        row = _positions(absent[:1], frame, base_dir is not None)
        total = f" ({len(absent)} paths are missing in all)" if len(absent) > 1 else ""
        relative = ", relative paths are read from the table's folder" if base_dir is not None else ""
        raise ImageLoadError(
            f"Image '{paths[absent[0]]}' ({row} of the {where}) does not exist{total}; "
            f"check the paths in column {image_column!r}{relative}."
        )
    return _strings([str(p) for p in paths])


def _check_y(labels: Any, n_samples: int) -> np.ndarray:
    y = check_labels(labels, min_classes=1)
    if len(y) != n_samples:
        raise DataError(f"Got {n_samples} samples but {len(y)} labels; pass one label per sample.")
    return y


def from_items(X: Any, labels: Any, modality: str | None) -> Parts:
    """Read an array or a list of image paths, PIL images, image arrays or texts."""
    modality = modality or infer_modality(X)
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        items: Any = X
    else:
        items = list(X)
    if modality == "table":
        array = np.asarray(items)
        if array.ndim != 2 or array.dtype.kind not in "biuf":
            raise DataError(
                f"A table needs a 2-D numeric array (n_samples, n_features); got shape {array.shape} "
                f"and dtype {array.dtype}."
            )
        X_out = np.ascontiguousarray(array, dtype=np.float64)
    elif modality == "text":
        X_out = check_texts(items)
    elif isinstance(items, np.ndarray):
        if not (items.ndim == 3 or (items.ndim == 4 and items.shape[-1] in (1, 3, 4))):
            raise DataError(
                f"An image array needs shape (N, H, W) or (N, H, W, C) with C in 1, 3 or 4; got {items.shape}."
            )
        X_out = items
    else:
        X_out = _image_items(items)
    y = None if labels is None else _check_y(labels, len(X_out))
    return Parts(X_out, y, modality)


def _image_items(items: list[Any]) -> np.ndarray:
    if not items:
        raise DataError("No images were given; pass at least one image.")
    if all(isinstance(v, str | os.PathLike) for v in items):
        for i, item in enumerate(items):
            if not os.path.isfile(item):
                raise ImageLoadError(
                    f"Image '{os.fsdecode(item)}' (item {i}) does not exist; check the path."
                )
        return _strings([os.fsdecode(v) for v in items])
    arrays = load_images(items)
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        odd = next(i for i, a in enumerate(arrays) if a.shape != arrays[0].shape)
        raise DataError(
            f"Images differ in size (item 0 is {arrays[0].shape[:2]}, item {odd} is {arrays[odd].shape[:2]}); "
            "resize them to one size or save them as files and pass the paths."
        )
    return np.stack(arrays)
