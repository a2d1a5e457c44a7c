"""Validate raw inputs for a backbone's modality, before any model work."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PIL import Image

from ..errors import DataError
from ._images import image_array_to_uint8, item_name


def as_item_array(X: Any) -> np.ndarray:
    """A 1-D object array of items (paths, texts, PIL images or per-image arrays), or a numeric
    image array ``(N, H, W[, C])`` as it is. Lists of equal-shaped arrays are not merged."""
    if isinstance(X, np.ndarray) and (X.dtype != object or X.ndim == 1):
        return X
    if hasattr(X, "to_numpy"):  # pandas Series / single-column frame
        X = X.to_numpy()
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        return as_item_array(X)
    items = list(X)
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def check_input(X: Any, modality: str | None) -> np.ndarray:
    """Check ``X`` fits ``modality`` ("image" or "text") and return it as an indexable array.

    A numeric image array comes back as ``uint8`` pixels, float ones scaled as one batch
    (:func:`~transferkit.data._images.image_array_to_uint8`).

    Raises
    ------
    DataError
        One item instead of a sequence of them (a string, a path, a PIL image), empty input, a text that is
        empty or not a string, or image data of the wrong shape; float pixels that are NaN, infinite or
        outside the array's scale (an :class:`ImageLoadError`).
    """
    if isinstance(X, str | bytes):
        raise DataError("expected a sequence of items, got a single string")
    single = _single_item(X)
    if single is not None:
        raise DataError(single)
    if modality == "text":
        _check_one_text_column(X)
    arr = as_item_array(X)
    if len(arr) == 0:
        raise DataError("no samples: the input is empty")
    if modality == "text":
        if arr.dtype != object and arr.dtype.kind not in "US":
            raise DataError(f"a text backbone needs strings, got a numeric array of shape {arr.shape}")
        for i, t in enumerate(arr):
            if not isinstance(t, str):
                raise DataError(f"{_named('text item', i)} is {type(t).__name__}, not a string ({t!r:.60})")
            if not t.strip():
                raise DataError(f"{_named('text item', i)} is empty; remove empty rows or fill them")
        return arr.astype(object)
    if modality == "image" and arr.dtype != object:
        if arr.ndim == 2:
            raise DataError(
                f"an image backbone needs images; got a 2-D array {arr.shape} (a feature table?). "
                "Pass images as (N, H, W[, C]) or image paths"
            )
        if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[-1] not in (1, 3, 4)):
            raise DataError(f"images must be (N, H, W) or (N, H, W, C) with C in 1, 3, 4; got {arr.shape}")
        # float pixels: 0..1 or 0..255 decided here, once for all the data, not per batch or per image
        return image_array_to_uint8(arr)
    return arr


def _check_one_text_column(X: Any) -> None:
    """A table of several columns of strings given to a text backbone: which column holds the texts is
    not guessed (each row came through as an array, "not a string")."""
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) != 2 or shape[1] == 1:
        return
    from pandas.api.types import is_numeric_dtype

    dtypes = getattr(X, "dtypes", None)
    numeric = all(map(is_numeric_dtype, dtypes)) if dtypes is not None else is_numeric_dtype(np.asarray(X).dtype)
    if numeric:
        return  # "a text backbone needs strings, got a numeric array" says more
    columns = getattr(X, "columns", None)
    named = "" if columns is None else f" ({', '.join(map(str, list(columns)[:5]))}{', ...' if shape[1] > 5 else ''})"
    raise DataError(f"a text backbone reads one column of texts; got {shape[1]} columns{named}: pass the text "
                    "column alone (e.g. df['text'])")


def _single_item(X: Any) -> str | None:
    """Why ``X`` is one item rather than a sequence of items (the message), or None when it is a sequence."""
    if isinstance(X, Image.Image):
        return "expected a sequence of images, got a single PIL image; pass [image]"
    if isinstance(X, os.PathLike):
        return f"expected a sequence of items, got a single path ({os.fspath(X)!r}); pass [path]"
    try:
        iter(X)
    except TypeError:
        return (f"expected a sequence of items (a list, an array or a pandas Series), got a single "
                f"{type(X).__name__} ({X!r:.60})")
    return None


def _named(noun: str, index: int) -> str:
    """``noun`` numbered by the item's position in the data the user passed, not in the subset at hand (a fold,
    a batch: :func:`~transferkit.data._images.item_positions`); ``"a <noun>"`` when that is unknown."""
    return item_name(noun, index) or f"a {noun}"


def check_data(estimator: Any, X: Any, modality: str, *, reset: bool) -> Any:
    """``X`` checked for an estimator whose backbone reads ``modality``: a table through :func:`check_table`
    (``n_features_in_`` recorded on ``reset``, checked otherwise; float32), images and texts through
    :func:`check_input` (a ``reset`` forgets any earlier table width)."""
    if modality == "table":
        return check_table(estimator, X, reset=reset)
    if reset:
        forget_table_width(estimator)
    return check_input(X, modality)


def check_table(estimator: Any, X: Any, *, reset: bool, dtype: Any = np.float32) -> np.ndarray:
    """``X`` as a ``dtype`` table (float32: what backbones compute in) through scikit-learn's
    ``validate_data``, which keeps its bookkeeping (``n_features_in_``, ``feature_names_in_``): recorded on
    ``reset``, checked otherwise. A DataFrame with exactly the fitted column names in another order is
    reordered by name first (as ``transferkit predict`` does).

    Raises
    ------
    DataError
        One line naming what scikit-learn refused and where: texts or images instead of a table, a 1-D
        row, no rows, a width or column names other than fitted, the first NaN, infinite or beyond-``dtype``
        cell (row and column), a cell that is not a number (then also a ``TypeError``, as scikit-learn's).
    """
    from sklearn.utils.validation import validate_data

    from ..errors import error_cause

    if isinstance(X, str | bytes):
        raise DataError("X is a single string, but this model reads a table (rows x numeric features)")
    if not reset:
        X = in_fitted_order(estimator, X)
    try:
        return validate_data(estimator, X, reset=reset, dtype=dtype)
    except (ValueError, TypeError) as exc:  # TypeError: a cell of no number type, column names of mixed types
        problem = table_problem(estimator, X, reset=reset, dtype=dtype)
        error = TableTypeError if isinstance(exc, TypeError) else DataError
        raise error(problem or f"X cannot be read as a table: {error_cause(exc)}") from exc


class TableTypeError(DataError, TypeError):
    """A table refused for the type of a cell or of its column names: a :class:`DataError` that is also the
    ``TypeError`` scikit-learn raises there (its estimator checks expect one)."""


def in_fitted_order(estimator: Any, X: Any) -> Any:
    """A DataFrame ``X`` whose columns are exactly the names ``estimator`` was fitted on, in another order,
    reordered to the fitted order; anything else as it is (scikit-learn then checks the names)."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None or not hasattr(X, "columns") or not hasattr(X, "iloc") or getattr(X, "ndim", 2) != 2:
        return X
    given = [str(c) for c in X.columns]
    wanted = [str(n) for n in names]
    if given == wanted or len(set(given)) != len(given) or sorted(given) != sorted(wanted):
        return X
    column = dict(zip(given, X.columns, strict=True))
    return X[[column[n] for n in wanted]]


def table_problem(estimator: Any, X: Any, *, reset: bool, dtype: Any = np.float32) -> str | None:
    """Why scikit-learn refused ``X`` as a table, in one line naming the row and column where it can;
    None when none of the known problems is found (the caller then quotes scikit-learn)."""
    import scipy.sparse

    from ._tables import _shown  # here: the table reader loads pandas
    from ._validation import infer_modality

    fitted_names = None if reset else getattr(estimator, "feature_names_in_", None)
    columns = list(X.columns) if hasattr(X, "columns") and getattr(X, "ndim", 2) == 2 else None
    if fitted_names is not None and columns is not None:
        given, wanted = [str(c) for c in columns], [str(n) for n in fitted_names]
        given_set, wanted_set = set(given), set(wanted)
        missing = [n for n in wanted if n not in given_set]
        extra = [c for c in given if c not in wanted_set]
        if missing or extra:
            parts = ([f"lacks the feature column(s) {_shown(missing)} that the model was fitted on"] if missing else []) \
                + ([f"has the column(s) {_shown(extra)} that the model was not fitted on"] if extra else [])
            return f"X {' and '.join(parts)}; it reads {_shown(wanted)}"
    if columns is not None and 0 < sum(isinstance(c, str) for c in columns) < len(columns):
        odd = next(c for c in columns if not isinstance(c, str))
        return (f"X's column names mix strings and other values (such as {odd!r}); make them all strings, e.g. "
                "X.columns = X.columns.astype(str)")
    if scipy.sparse.issparse(X):
        return None
    try:
        kind = infer_modality(X)
    except DataError:
        kind = "table"
    if kind == "text":
        return "X holds text, but this model reads a table (rows x numeric features)"
    if kind == "image":
        shape = f" (an array of shape {X.shape})" if isinstance(X, np.ndarray) else ""
        return f"X holds images{shape}, but this model reads a table (rows x numeric features)"
    try:
        arr = X.to_numpy() if hasattr(X, "to_numpy") else np.asarray(X)
    except (ValueError, TypeError):
        return "X's rows have different lengths; a table needs the same number of features in every row"
    if arr.ndim == 0:
        return f"X is a single value ({arr.item()!r:.40}), but this model reads a table (rows x numeric features)"
    if arr.ndim == 1:
        return (f"X is 1-D ({len(arr)} values), but this model reads a table (rows x features). Reshape your "
                "data: X.reshape(1, -1) for a single row, X.reshape(-1, 1) for a single feature")
    if arr.ndim > 2:
        return f"X is a {arr.ndim}-D array of shape {arr.shape}, but this model reads a table: 2-D, rows x features"
    if arr.shape[0] == 0:
        return "X has 0 samples (no rows); a table needs at least one"
    if arr.shape[1] == 0:
        return None  # scikit-learn's own line says it: "Found array with 0 feature(s) (shape=(12, 0)) ..."
    width = None if reset else getattr(estimator, "n_features_in_", None)
    if width is not None and arr.shape[1] != width:  # scikit-learn's words, which its estimator checks expect
        return f"X has {arr.shape[1]} features, but {type(estimator).__name__} is expecting {width} features as input"

    def where(i: int, j: int) -> str:  # the row of the data the user passed, also within a fold or batch
        column = repr(str(columns[j])) if columns is not None else str(j)
        return f"{_named('row', i)}, column {column}"

    if arr.dtype.kind == "c":
        return None  # scikit-learn's own line: "Complex data not supported"
    values, problem = _as_numbers(arr, where)
    if problem is not None or values is None:
        return problem
    missing_cells = np.argwhere(np.isnan(values))
    if len(missing_cells):
        i, j = (int(v) for v in missing_cells[0])
        what = "NaN" if _is_number(arr[i, j]) else f"a missing value ({arr[i, j]!r})"
        more = f" (and {len(missing_cells) - 1} more cell(s))" if len(missing_cells) > 1 else ""
        return f"X has {what} in {where(i, j)}{more}; impute or drop {'them' if more else 'it'} first"
    infinite = np.argwhere(np.isinf(values))
    if len(infinite):
        i, j = (int(v) for v in infinite[0])
        more = f" (and {len(infinite) - 1} more cell(s))" if len(infinite) > 1 else ""
        return f"X has an infinite value ({values[i, j]}) in {where(i, j)}{more}; replace or drop {'them' if more else 'it'} first"
    if dtype is not None and np.dtype(dtype).kind == "f":
        limit = float(np.finfo(dtype).max)
        huge = np.argwhere(np.abs(values) > limit)
        if len(huge):
            i, j = (int(v) for v in huge[0])
            return (f"X has {values[i, j]:g} in {where(i, j)}, beyond the {np.dtype(dtype).name} range the model "
                    f"computes in (about ±{limit:.1e}); rescale that column")
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, float | np.floating)


def _as_numbers(arr: np.ndarray, where: Any) -> tuple[np.ndarray | None, str | None]:
    """``arr`` (2-D) as float64 with missing cells (None, NaN, pandas' NA) as NaN, or the first cell that is
    not a number, named by ``where(row, column)``."""
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64), None
    out = np.empty(arr.shape, dtype=np.float64)
    for j in range(arr.shape[1]):
        try:
            out[:, j] = arr[:, j].astype(np.float64)
            continue
        except (TypeError, ValueError):
            pass
        for i, cell in enumerate(arr[:, j]):
            if _is_missing(cell):
                out[i, j] = np.nan
                continue
            try:
                out[i, j] = float(cell)
            except (TypeError, ValueError) as exc:
                kind = "text" if isinstance(cell, str) else f"a {type(cell).__name__}"
                cause = "" if isinstance(cell, str) else f" ({exc})"  # "float() argument must be a string or ..."
                return None, (f"X has {kind} ({cell!r:.40}) in {where(i, j)}, not a number{cause}; a table holds "
                              "numbers only: encode or drop that column")
    return out, None


def _is_missing(cell: Any) -> bool:
    """None, or pandas' NA / NaT (which ``float()`` refuses)."""
    import pandas as pd

    return cell is None or cell is pd.NA or cell is pd.NaT


def forget_table_width(estimator: Any) -> None:
    """Drop ``n_features_in_`` / ``feature_names_in_`` from an estimator refitted on images or texts, so
    an earlier fit on a table does not leave its width behind (it would be taken for the new input's)."""
    for attr in ("n_features_in_", "feature_names_in_"):
        estimator.__dict__.pop(attr, None)
