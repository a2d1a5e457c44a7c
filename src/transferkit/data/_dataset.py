"""The :class:`Dataset` container and :func:`load_data`, the single entry point for user data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from transferkit.data._images import is_image_path
from transferkit.data._sources import MODALITIES, Parts, from_frame, from_image_folder, from_items
from transferkit.data._tables import TABLE_EXTENSIONS, read_table
from transferkit.data._validation import check_labels
from transferkit.errors import DataError

__all__ = ["Dataset", "load_data"]

Modality = Literal["image", "text", "table"]


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _unique_labels(y: np.ndarray, **kwargs: Any) -> Any:
    """``np.unique`` of labels; labels that cannot be sorted (strings mixed with numbers) raise the
    :func:`check_labels` error instead of numpy's ``TypeError``."""
    try:
        return np.unique(y, **kwargs)
    except TypeError:
        check_labels(y, min_classes=1)
        raise


@dataclass(frozen=True, eq=False)
class Dataset:
    """Samples of one modality with their labels, as every transferkit entry point receives them.

    Parameters
    ----------
    X : numpy.ndarray
        Object array of image paths, ``uint8``/float array ``(N, H, W[, C])`` of images, object array
        of ``str`` texts, or float array ``(N, F)`` of table features.
    y : numpy.ndarray or None
        One label per sample (strings or numbers, as given), or None for unlabeled data.
    modality : {"image", "text", "table"}
        What ``X`` holds.
    source : str, default=""
        Human description of where the data came from (for reports and messages).
    feature_names : list of str, optional
        Column names of a table.

    Notes
    -----
    Equality is identity (``eq=False``): comparing arrays element-wise has no single truth value.

    Examples
    --------
    >>> import numpy as np
    >>> data = Dataset(X=np.array(["good", "bad"], dtype=object), y=np.array([1, 0]), modality="text")
    >>> data.classes.tolist(), len(data)
    ([0, 1], 2)
    """

    X: np.ndarray
    y: np.ndarray | None
    modality: Modality
    source: str = ""
    feature_names: list[str] | None = None

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise DataError(f"Unknown modality {self.modality!r}; use one of {', '.join(MODALITIES)}.")
        if self.y is not None and len(self.y) != len(self.X):
            raise DataError(f"Got {len(self.X)} samples but {len(self.y)} labels; pass one label per sample.")

    def __len__(self) -> int:
        return len(self.X)

    def take(self, indices: Any) -> Dataset:
        """The rows at ``indices`` (in that order), with the same modality, source and feature names."""
        idx = np.asarray(indices)
        return Dataset(X=self.X[idx], y=None if self.y is None else self.y[idx], modality=self.modality,
                       source=self.source, feature_names=self.feature_names)

    @property
    def classes(self) -> np.ndarray:
        """Sorted distinct labels (empty for unlabeled data)."""
        return _unique_labels(self.y) if self.y is not None else np.array([], dtype=object)

    def summary(self) -> dict[str, Any]:
        """Describe the dataset in plain Python values (JSON-serialisable).

        Returns
        -------
        dict
            ``n_samples``, ``modality``, ``source``, ``n_classes`` and ``class_counts`` (label ->
            count, None when unlabeled); for image arrays ``image_shape`` and ``dtype``; for texts
            ``mean_chars`` and ``max_chars``; for tables ``n_features`` and ``feature_names``.
        """
        info: dict[str, Any] = {"n_samples": len(self), "modality": self.modality, "source": self.source}
        if self.y is None:
            info.update(n_classes=None, class_counts=None)
        else:
            values, counts = _unique_labels(self.y, return_counts=True)
            info["n_classes"] = len(values)
            info["class_counts"] = {_scalar(v): int(c) for v, c in zip(values, counts, strict=True)}
        if self.modality == "image" and self.X.dtype != object:
            info.update(image_shape=list(self.X.shape[1:]), dtype=str(self.X.dtype))
        elif self.modality == "text":
            lengths = np.array([len(t) for t in self.X])
            info["mean_chars"] = round(float(lengths.mean()), 1) if lengths.size else 0.0
            info["max_chars"] = int(lengths.max(initial=0))
        elif self.modality == "table":
            info.update(n_features=int(self.X.shape[1]), feature_names=self.feature_names)
        return info


def load_data(
    source: Any,
    *,
    text_column: str = "text",
    label_column: str | None = "label",
    image_column: str | None = None,
    modality: Modality | None = None,
    labels: Any = None,
) -> Dataset:
    """Load images, texts or a numeric table from any supported source into a :class:`Dataset`.

    Parameters
    ----------
    source : path, pandas.DataFrame, numpy.ndarray, list or Dataset
        * a folder with one sub-folder per class holding images (searched recursively; files that are
          not images, and hidden files, are ignored; the labels are the sub-folder names); with
          ``label_column=None``, any folder of images, flat or not: every image in it and in its
          sub-folders, without labels (e.g. the unlabelled target of domain adaptation);
        * a ``.csv``, ``.tsv``, ``.jsonl``/``.ndjson``, ``.json`` or ``.parquet`` file, or a DataFrame;
        * a numpy array: ``(N, F)`` numeric table or ``(N, H, W[, C])`` images;
        * a list of image paths, PIL images, image arrays, or texts.
    text_column : str, default="text"
        Column holding the texts of a table.
    label_column : str or None, default="label"
        Column holding the labels of a table; None for unlabeled data (for a folder: every image,
        without labels).
    image_column : str, optional
        Column holding image paths; relative paths are resolved against the table file's folder.
    modality : {"image", "text", "table"}, optional
        Force the modality instead of inferring it.
    labels : array-like, optional
        Labels for an array or list source (or a DataFrame without a label column).

    Returns
    -------
    Dataset
        Labels are kept as given (strings stay strings, integers stay integers).

    Raises
    ------
    DataError
        The source cannot be read or used; the message names the column, row, file or folder.

    Notes
    -----
    For tables the modality is chosen in this order: ``image_column`` given -> images; ``text_column``
    present -> texts; ``modality="table"``, or every column but the label numeric -> a float64 table.
    Rows of table files are reported 1-based, header not counted.

    Examples
    --------
    >>> data = load_data(["so good", "awful", "fine"], labels=["pos", "neg", "pos"])
    >>> data.modality, data.classes.tolist()
    ('text', ['neg', 'pos'])

    A flat folder of images (no class sub-folders) loads only without labels:

    >>> import tempfile
    >>> from PIL import Image
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("b.png", "a.png"):
    ...     Image.new("RGB", (4, 4)).save(folder / name)
    >>> target = load_data(folder, label_column=None)
    >>> [Path(p).name for p in target.X], target.y
    (['a.png', 'b.png'], None)
    """
    if modality is not None and modality not in MODALITIES:
        raise DataError(f"Unknown modality {modality!r}; use one of {', '.join(MODALITIES)}.")
    if isinstance(source, Dataset):
        return source

    options = {"text_column": text_column, "label_column": label_column, "image_column": image_column,
               "modality": modality, "labels": labels}
    if isinstance(source, pd.DataFrame):
        return _table_dataset(source, "DataFrame", None, f"DataFrame with {len(source)} rows", **options)
    if isinstance(source, str | os.PathLike):
        path = Path(os.fsdecode(source))
        if path.is_dir():
            if labels is not None:
                raise DataError(
                    f"Image folder '{path}' takes its labels from the sub-folder names; drop labels=."
                )
            labelled = label_column is not None  # the table convention: None means unlabelled data
            return _dataset(from_image_folder(path, labelled=labelled), f"image folder '{path}'")
        if not path.exists():
            raise DataError(
                f"'{path}' does not exist; pass an image folder, a table file "
                f"({', '.join(sorted(TABLE_EXTENSIONS))}), a DataFrame, an array or a list."
            )
        if is_image_path(path):
            raise DataError(
                f"'{path}' is a single image; pass a folder with one sub-folder per class, or a list of "
                "image paths with labels=."
            )
        return load_table_file(path, read_table(path), **options)
    if isinstance(source, np.ndarray | list | tuple | pd.Series):
        parts = from_items(source, labels, modality)
        return _dataset(parts, _describe_items(source, parts))
    raise DataError(
        f"Cannot load data from a {type(source).__name__}; pass a folder or table path, a DataFrame, "
        "a numpy array or a list."
    )


def load_table_file(path: Path, frame: pd.DataFrame, **options: Any) -> Dataset:
    """The table file ``path``, already read into ``frame`` (whose columns the caller may have narrowed), as
    :func:`load_data` reads it: messages name the file and its rows 1-based. ``options`` are load_data's."""
    where = f"table file '{path}'"
    return _table_dataset(frame, where, path.parent, where, **options)


def _table_dataset(frame: pd.DataFrame, where: str, base_dir: Path | None, source: str, **options: Any) -> Dataset:
    parts = from_frame(frame, where=where, base_dir=base_dir, **options)
    if parts.y is not None:  # a label column's values, e.g. 1 and "a": refuse the mix before np.unique
        check_labels(parts.y, min_classes=1)
    return _dataset(parts, source)


def _describe_items(source: Any, parts: Parts) -> str:
    if isinstance(source, np.ndarray):
        return f"array of shape {source.shape}"
    what = {"image": "images", "text": "texts", "table": "rows"}[parts.modality]
    return f"{type(source).__name__} of {len(parts.X)} {what}"


def _dataset(parts: Parts, source: str) -> Dataset:
    return Dataset(
        X=parts.X,
        y=parts.y,
        modality=parts.modality,  # type: ignore[arg-type]
        source=source,
        feature_names=parts.feature_names,
    )
