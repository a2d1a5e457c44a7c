"""Validation of labels and texts, and inference of the modality (image, text, table) of an input."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from transferkit.data._images import is_image_path
from transferkit.errors import DataError

__all__ = ["check_folds", "check_labels", "check_texts", "infer_modality", "shown_modality"]

_SHOWN = 5  # how many offending positions a message lists


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return False


def missing_positions(values: Sequence[Any] | np.ndarray) -> list[int]:
    """Return the 0-based positions of missing values (None, NaN, empty or blank strings)."""
    return [i for i, value in enumerate(values) if _is_missing(value)]


def bad_text_positions(values: Sequence[Any] | np.ndarray) -> list[int]:
    """Return the 0-based positions of values that are not non-blank strings."""
    return [i for i, value in enumerate(values) if not isinstance(value, str) or not value.strip()]


def format_positions(positions: Sequence[int], *, rows: bool = False) -> str:
    """Describe positions for a message: ``"index 0, 4"`` or, for table files, ``"rows 1, 5"``.

    With ``rows=True`` the 0-based positions are shown as 1-based data rows (header not counted),
    which is how people count the lines of a spreadsheet below its header.
    """
    shown = [p + 1 if rows else p for p in positions[:_SHOWN]]
    text = ", ".join(str(p) for p in shown)
    if len(positions) > _SHOWN:
        text += f" and {len(positions) - _SHOWN} more"
    noun = ("row" if rows else "index") if len(positions) == 1 else ("rows" if rows else "indices")
    return f"{noun} {text}"


def check_folds(value: Any, name: str = "cv", *, error: type[Exception] = DataError) -> int:
    """``value`` as an int if it is a number of cross-validation folds (an integer of at least 2, not a
    bool); else ``error`` (a :class:`DataError` unless the caller names its own) naming the parameter
    ``name`` and the value. The one check behind every ``cv`` setting, before any data is read."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) or value < 2:
        raise error(f"{name} must be an integer of at least 2 folds, got {value!r}")
    return int(value)


def _as_1d(values: Any, what: str) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index):
        values = values.to_numpy()
    if isinstance(values, str):
        raise DataError(f"The {what} are a single string; pass a list with one entry per sample.")
    array = np.asarray(values) if isinstance(values, np.ndarray) else _object_array(list(values))
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise DataError(f"The {what} have shape {array.shape}; pass one entry per sample (a 1-D array).")
    return array


def _object_array(items: list[Any]) -> np.ndarray:
    # np.asarray would turn a list of equal-length tuples into a 2-D array; keep one entry per item.
    array = np.empty(len(items), dtype=object)
    array[:] = items
    if items and all(isinstance(i, numbers.Number) and not isinstance(i, bool) for i in items):
        return np.asarray(items)
    return array


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def check_labels(y: Any, *, min_classes: int = 2) -> np.ndarray:
    """Check that ``y`` holds one non-missing label per sample and enough distinct classes.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (strings or numbers, not a mix).
    min_classes : int, default=2
        Fewest distinct labels accepted; 2 for a classifier, 1 to check only for missing labels.

    Returns
    -------
    numpy.ndarray
        The labels as a 1-D array, values unchanged.

    Raises
    ------
    DataError
        Labels are empty, not 1-D, missing (None, NaN, empty string), mix strings and numbers, or
        hold fewer than ``min_classes`` distinct values.

    Examples
    --------
    >>> check_labels(["cat", "dog", "cat"]).tolist()
    ['cat', 'dog', 'cat']
    """
    labels = _as_1d(y, "labels")
    if labels.size == 0:
        raise DataError("The labels are empty; pass one label per sample.")
    if labels.dtype.kind in "OUSf":
        missing = missing_positions(labels)
        if missing:
            raise DataError(
                f"The labels are missing at {format_positions(missing)}; every sample needs a label."
            )
    if labels.dtype == object:
        nested = [i for i, v in enumerate(labels) if isinstance(v, list | tuple | set | dict | np.ndarray)]
        if nested:
            raise DataError(
                f"The labels hold lists, not labels, at {format_positions(nested)}; give each sample one label."
            )
        is_str = [isinstance(v, str) for v in labels]
        if any(is_str) and not all(is_str):
            first_str = labels[is_str.index(True)]
            other = labels[is_str.index(False)]
            raise DataError(
                f"The labels mix strings and other values (e.g. {first_str!r} and {_scalar(other)!r}); "
                "make them all strings or all numbers."
            )
    classes = np.unique(labels)
    if len(classes) < min_classes:
        if len(classes) == 1:
            raise DataError(
                f"Found only one class ({_scalar(classes[0])!r}) in the labels; "
                "a classifier needs at least two."
            )
        shown = ", ".join(repr(_scalar(c)) for c in classes)
        raise DataError(
            f"Found only {len(classes)} classes ({shown}) in the labels; at least {min_classes} are needed."
        )
    return labels


def check_texts(X: Any) -> np.ndarray:
    """Check that ``X`` is a sequence of non-empty strings and return it as an object array.

    Parameters
    ----------
    X : sequence of str, pandas.Series or numpy.ndarray of shape (n_samples,)
        The texts.

    Returns
    -------
    numpy.ndarray
        1-D object array of ``str``.

    Raises
    ------
    DataError
        ``X`` is empty or not 1-D, or an item is not a string or is empty or blank; the message names
        the first such index.

    Examples
    --------
    >>> check_texts(["good", "bad"]).dtype
    dtype('O')
    """
    texts = _as_1d(X, "texts")
    if texts.size == 0:
        raise DataError("No texts were given; pass at least one text.")
    bad = bad_text_positions(texts)
    if bad:
        first = texts[bad[0]]
        others = f" ({len(bad)} texts are unusable in all)" if len(bad) > 1 else ""
        if isinstance(first, str):
            problem = "is empty" if not first else "is blank (whitespace only)"
        else:
            problem = f"is a {type(first).__name__} ({_scalar(first)!r}), not a string"
        raise DataError(f"The text at index {bad[0]} {problem}{others}; fill it in or drop that sample.")
    return texts.astype(object)


def _describe(X: Any) -> str:
    if isinstance(X, np.ndarray):
        return f"a numpy array of dtype {X.dtype} and shape {X.shape}"
    if isinstance(X, pd.DataFrame):
        kinds = ", ".join(f"{c!r} ({t})" for c, t in list(X.dtypes.items())[:_SHOWN])
        return f"a DataFrame with columns {kinds}"
    if isinstance(X, list | tuple | pd.Series):
        types = sorted({type(v).__name__ for v in list(X)[:100]})
        return f"a {type(X).__name__} of {', '.join(types) or 'nothing'}"
    return f"a {type(X).__name__}"


def _is_image_like(value: Any) -> bool:
    if isinstance(value, Image.Image):
        return True
    return isinstance(value, np.ndarray) and value.ndim in (2, 3) and value.dtype.kind in "biuf"


def infer_modality(X: Any) -> str:
    """Tell whether ``X`` holds images, texts or a numeric table.

    Parameters
    ----------
    X : array-like
        A 2-D numeric array or all-numeric DataFrame (``"table"``); a 3-D or 4-D numeric array
        ``(N, H, W[, C])``, or a sequence of image paths, PIL images or 2-D/3-D arrays (``"image"``);
        a sequence or Series of strings that are not all image paths (``"text"``).

    Returns
    -------
    str
        ``"image"``, ``"text"`` or ``"table"``.

    Raises
    ------
    DataError
        ``X`` fits none of these; the message describes what was received.

    Examples
    --------
    >>> infer_modality(["a.png", "b.jpg"]), infer_modality(["so good", "meh"])
    ('image', 'text')
    """
    if isinstance(X, pd.DataFrame):
        if X.shape[1] and all(pd.api.types.is_numeric_dtype(t) for t in X.dtypes):
            return "table"
    elif isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        if X.ndim == 2:
            return "table"
        if X.ndim == 3 or (X.ndim == 4 and X.shape[-1] in (1, 3, 4)):
            return "image"
    elif isinstance(X, np.ndarray | pd.Series | list | tuple) and not (
        isinstance(X, np.ndarray) and X.ndim != 1
    ):
        items = list(X)
        if items and all(isinstance(v, str | os.PathLike) for v in items):
            if all(is_image_path(v) for v in items):
                return "image"
            if all(isinstance(v, str) for v in items):
                return "text"
        elif items and all(_is_image_like(v) for v in items):
            return "image"
    raise DataError(
        f"Cannot tell whether the input holds images, texts or a table: got {_describe(X)}. Pass image "
        "paths or (N, H, W[, C]) arrays, a list of strings, or a 2-D numeric array."
    )


def shown_modality(X: Any) -> str | None:
    """The modality ``X`` shows (:func:`infer_modality`), also ``"table"`` for a table given as a sequence of
    numeric rows (as scikit-learn takes it); None when it shows none (a ragged list, a sparse matrix, a
    DataFrame with text columns).

    Examples
    --------
    >>> shown_modality([[1, 2], [3, 4]]), shown_modality(["so good", "meh"]), shown_modality([[1, 2], [3]])
    ('table', 'text', None)
    """
    try:
        return infer_modality(X)
    except DataError:
        pass
    if isinstance(X, list | tuple) and X and all(isinstance(row, list | tuple) for row in X):
        try:
            rows = np.asarray(X)
        except ValueError:  # ragged rows
            return None
        if rows.ndim == 2 and rows.dtype.kind in "biuf":
            return "table"
    return None
