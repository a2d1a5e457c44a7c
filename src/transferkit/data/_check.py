"""Validate raw inputs for a backbone's modality, before any model work."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError


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

    Raises
    ------
    DataError
        Empty input, a text that is empty or not a string, or image data of the wrong shape.
    """
    if isinstance(X, str | bytes):
        raise DataError("expected a sequence of items, got a single string")
    arr = as_item_array(X)
    if len(arr) == 0:
        raise DataError("no samples: the input is empty")
    if modality == "text":
        if arr.dtype != object and arr.dtype.kind not in "US":
            raise DataError(f"a text backbone needs strings, got a numeric array of shape {arr.shape}")
        for i, t in enumerate(arr):
            if not isinstance(t, str):
                raise DataError(f"text item {i} is {type(t).__name__}, not a string ({t!r:.60})")
            if not t.strip():
                raise DataError(f"text item {i} is empty; remove empty rows or fill them")
        return arr.astype(object)
    if modality == "image" and arr.dtype != object:
        if arr.ndim == 2:
            raise DataError(
                f"an image backbone needs images; got a 2-D array {arr.shape} (a feature table?). "
                "Pass images as (N, H, W[, C]) or image paths"
            )
        if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[-1] not in (1, 3, 4)):
            raise DataError(f"images must be (N, H, W) or (N, H, W, C) with C in 1, 3, 4; got {arr.shape}")
    return arr


def check_data(estimator: Any, X: Any, modality: str, *, reset: bool) -> Any:
    """``X`` checked for an estimator whose backbone reads ``modality``: a table through scikit-learn's
    ``validate_data`` (``n_features_in_`` recorded on ``reset``, checked otherwise; float32), images and
    texts through :func:`check_input` (a ``reset`` forgets any earlier table width)."""
    if modality == "table":
        from sklearn.utils.validation import validate_data

        return validate_data(estimator, X, reset=reset, dtype=np.float32)
    if reset:
        forget_table_width(estimator)
    return check_input(X, modality)


def forget_table_width(estimator: Any) -> None:
    """Drop ``n_features_in_`` / ``feature_names_in_`` from an estimator refitted on images or texts, so
    an earlier fit on a table does not leave its width behind (it would be taken for the new input's)."""
    for attr in ("n_features_in_", "feature_names_in_"):
        estimator.__dict__.pop(attr, None)
