"""The ``X, y, sample_domain`` data convention: validation and splitting into source and target.

``sample_domain`` holds one integer per row: positive for a source domain, negative for a target domain
(0 is not allowed). Adapters need no labels (``y=None``). Where labels are needed, ``y`` has one entry
per row and the usually unknown target labels are *masked* with ``-1``, NaN or None (scikit-adaptation's
convention). Every problem is reported as a :class:`~transferkit.errors.DataError` whose message
names it.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from transferkit.data._validation import format_positions
from transferkit.errors import DataError

from ._inputs import check_label_classes

__all__ = ["DomainSplit", "check_domains", "check_source_target", "split_domain_labels", "split_domains"]

#: The label that marks a target row as unlabelled (besides NaN and None).
MASKED_LABEL = -1


def _as_features(X: ArrayLike, name: str) -> NDArray[np.float64]:
    """``X`` as a finite 2-D float array, or a DataError naming ``name``."""
    if hasattr(X, "toarray") or hasattr(X, "sparse"):  # scipy sparse matrix or array, pandas sparse frame
        raise DataError(f"{name} is sparse; adaptation needs dense features (X.toarray() for a scipy matrix)")
    if np.iscomplexobj(X):  # np.asarray(..., float64) drops the imaginary part with only a warning
        raise DataError(f"{name} holds complex numbers; adaptation needs real-valued features")
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be a numeric array of features ({exc}).") from None
    if arr.ndim != 2:
        raise DataError(
            f"{name} must be 2-D (samples x features), got an array with {arr.ndim} dimension(s)."
        )
    if arr.shape[0] == 0:
        raise DataError(f"{name} has no samples.")
    if arr.shape[1] == 0:
        raise DataError(f"{name} has no features.")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} contains NaN or infinite values; impute or drop them first.")
    return arr


def _as_sample_domain(sample_domain: ArrayLike | None, n_samples: int) -> NDArray[np.int64]:
    """``sample_domain`` as a 1-D integer array of length ``n_samples`` without zeros."""
    if sample_domain is None:
        raise DataError(
            "sample_domain is required: pass positive integers for source rows, negative for target."
        )
    raw = np.asarray(sample_domain)
    if raw.ndim != 1:
        raise DataError(f"sample_domain must be 1-D, got an array with {raw.ndim} dimension(s).")
    if raw.shape[0] != n_samples:
        raise DataError(f"sample_domain has {raw.shape[0]} entries but X has {n_samples} rows.")
    if raw.dtype.kind not in "iuf" or (raw.dtype.kind == "f" and not np.all(np.isfinite(raw))):
        raise DataError("sample_domain must hold finite integers (positive = source, negative = target).")
    if raw.dtype.kind == "f" and not np.all(raw == np.round(raw)):
        raise DataError("sample_domain must hold integers, not fractions.")
    dom = raw.astype(np.int64)
    if np.any(dom == 0):
        raise DataError(
            "sample_domain contains 0; use positive integers for source rows and negative for target."
        )
    return dom


def check_domains(
    X: ArrayLike, sample_domain: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Validate ``X`` and ``sample_domain`` and split the rows into source and target.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite numeric features of all rows, source and target together.
    sample_domain : array-like of shape (n_samples,)
        Positive integers for source rows, negative for target rows.

    Returns
    -------
    Xs : ndarray of shape (n_source, n_features)
    Xt : ndarray of shape (n_target, n_features)
    source_mask : ndarray of bool, shape (n_samples,)
        True on source rows; ``X[source_mask]`` is ``Xs``.

    Examples
    --------
    >>> Xs, Xt, mask = check_domains([[0.0], [1.0], [5.0]], [1, 1, -1])
    >>> Xs.shape, Xt.shape, mask.tolist()
    ((2, 1), (1, 1), [True, True, False])
    """
    arr = _as_features(X, "X")
    dom = _as_sample_domain(sample_domain, arr.shape[0])
    source_mask = dom > 0
    if not source_mask.any():
        raise DataError("sample_domain marks no source rows (positive values); at least one is needed.")
    if source_mask.all():
        raise DataError("sample_domain marks no target rows (negative values); the target set is empty.")
    return arr[source_mask], arr[~source_mask], source_mask


def check_source_target(
    source: ArrayLike, target: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate the two-array variant: both non-empty, finite, 2-D, with the same number of features."""
    Xs = _as_features(source, "source")
    Xt = _as_features(target, "target")
    if Xs.shape[1] != Xt.shape[1]:
        raise DataError(f"source has {Xs.shape[1]} features but target has {Xt.shape[1]}; they must match.")
    return Xs, Xt


def check_transform_input(
    X: ArrayLike, sample_domain: ArrayLike | None, n_features: int
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Validate data at transform/predict time; no ``sample_domain`` means every row is target.

    Unlike :func:`check_domains`, one domain alone is fine here.
    """
    arr = _as_features(X, "X")
    if arr.shape[1] != n_features:
        raise DataError(f"X has {arr.shape[1]} features but the model was fitted on {n_features}.")
    if sample_domain is None:
        return arr, np.zeros(arr.shape[0], dtype=bool)
    return arr, _as_sample_domain(sample_domain, arr.shape[0]) > 0


def _missing(labels: NDArray[Any]) -> NDArray[np.bool_]:
    """Which labels are None or NaN."""

    def is_missing(v: Any) -> bool:
        return v is None or (isinstance(v, float | np.floating) and bool(np.isnan(v)))

    return np.fromiter((is_missing(v) for v in labels), dtype=bool, count=len(labels))


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool | np.bool_)


def _is_mask_number(v: Any) -> bool:
    return _is_number(v) and v == MASKED_LABEL


def as_labels(y: ArrayLike) -> NDArray[Any]:
    """``y`` as an array, with the labels of an object array given the type they have: scikit-learn cannot
    tell the type of an object array of numbers or of True/False (``type_of_target`` says "unknown").

    - Integer labels become int64: None becomes the mask -1, or the array becomes float with NaN masks
      when it holds both None and -1 (then -1 may be a class); without None they stay integers, -1 included.
    - Float labels become float64 with NaN for None.
    - True/False labels stay an object array of bools with None as their only mask (a numeric -1 mask
      becomes None: -1 is no bool class); :func:`typed_labels` gives the unmasked ones dtype bool.
    - Text labels are returned as given. A mix of text and numbers, or of True/False and other labels
      (other than the -1 mask), is refused.
    """
    labels = np.asarray(y)
    if labels.dtype != object or labels.ndim != 1:
        return labels
    missing = _missing(labels)
    present = labels[~missing].tolist()
    text = [isinstance(v, str | bytes) for v in present]
    others = [v for v, t in zip(present, text, strict=True) if not t and not _is_mask_number(v)]
    if any(text) and others:  # text labels with a numeric -1 mask are fine
        first = present[text.index(True)], others[0]
        raise DataError(f"y mixes text and non-text labels (e.g. {first[0]!r} and {first[1]!r}); give every "
                        "label the same type")
    bools = [v for v in present if _is_bool(v)]
    if bools:
        other = next((v for v in others if not _is_bool(v)), None)
        if other is not None:
            raise DataError(f"y mixes True/False and other labels (e.g. {bools[0]!r} and {other!r}); give every "
                            "label the same type")
        out_bool: NDArray[Any] = np.full(len(labels), None, dtype=object)
        keep = ~missing
        keep[keep] = [_is_bool(v) for v in present]  # the numeric -1 masks become None
        out_bool[keep] = [bool(v) for v in labels[keep].tolist()]
        return out_bool
    if not present or not all(_is_number(v) for v in present):
        return labels
    if all(isinstance(v, numbers.Integral) for v in present) and not (missing.any() and MASKED_LABEL in present):
        out: NDArray[Any] = np.full(len(labels), MASKED_LABEL, dtype=np.int64)
    else:
        out = np.full(len(labels), np.nan)
    out[~missing] = present
    return out


def typed_labels(labels: NDArray[Any]) -> NDArray[Any]:
    """Unmasked labels from :func:`as_labels` in the dtype of their values: an object array of True/False
    becomes a bool array (what scikit-learn classifiers and ``classes_`` take); others are returned as given."""
    if labels.dtype == object and len(labels) and all(_is_bool(v) for v in labels.tolist()):
        return labels.astype(bool)
    return labels


def _is_mask_value(labels: NDArray[Any]) -> NDArray[np.bool_]:
    """Which entries of ``labels`` (as given) are the -1 mask: the number -1 (not True/False), or the text
    "-1" of a text array (NumPy turns ``["a", "b", -1]`` into strings). A text "-1" in an object array is
    left alone: only a number there can be the mask among text labels."""
    if labels.dtype.kind in "US":
        return np.asarray(labels.astype(str) == str(MASKED_LABEL), dtype=bool)
    return np.fromiter((_is_mask_number(v) for v in labels.tolist()), dtype=bool, count=len(labels))


def minus_one_may_be_a_class(labels: NDArray[Any]) -> bool:
    """Whether -1 may be a class of ``labels`` (from :func:`as_labels`): only in numbers masked with NaN
    (a float array holding NaN, or an object array holding None and -1). Everywhere else -1 is the mask of
    an unlabelled row: an integer array cannot hold any other mask."""
    return labels.dtype.kind == "f" and bool(np.isnan(labels).any())


def classes_hold_minus_one(classes: ArrayLike) -> bool:
    """Whether a fitted estimator's ``classes_`` hold -1 (the number, or the text "-1"): then a -1 label
    is that class, not the mask of an unlabelled row."""
    return any(_is_mask_number(c) or c == str(MASKED_LABEL) for c in np.asarray(classes).tolist())


def check_source_labelled(raw: NDArray[Any], source_mask: NDArray[np.bool_], *, minus_one_is_class: bool) -> None:
    """Refuse source rows without a label, naming their positions in ``raw`` (the labels as given).

    A source row has no label when its entry is None or NaN, or the -1 that masks unlabelled target
    rows (unless ``minus_one_is_class``: see :func:`minus_one_may_be_a_class`). Read as a class, such a
    -1 would become one of ``classes_`` and a prediction.
    """
    missing = _missing(raw) & source_mask
    if missing.any():
        raise DataError(f"y has missing (None/NaN) labels on source rows ({format_positions(np.flatnonzero(missing).tolist())}); "
                        "every source row needs a label.")
    if minus_one_is_class:
        return
    is_mask = _is_mask_value(raw)
    masked = np.flatnonzero(is_mask & source_mask)
    if masked.size:
        raise DataError(f"y has the label -1 on source rows ({format_positions(masked.tolist())}), but -1 marks unlabelled "
                        f"target rows; every source row needs a label.{_class_hint(raw[~is_mask])}")


def _class_hint(labels: NDArray[Any]) -> str:
    """How to keep -1 as a class with these (other) labels: numbers masked with NaN/None, or text in an
    object array masked with None. True/False and text among numbers have no class -1."""
    if labels.dtype.kind in "US":
        return (" If '-1' is a class, give y as an object array and mask the unlabelled target rows with "
                "None (a text '-1' there is a class).")
    if labels.dtype.kind in "iuf" or all(_is_number(v) for v in labels.tolist()):
        return " If -1 is a class, mask the unlabelled target rows with NaN or None instead (then -1 is a class)."
    return ""


def _masked(labels: NDArray[Any], source_labels: NDArray[Any]) -> NDArray[np.bool_]:
    """Which target labels are masked: None, NaN, or -1 when -1 is not itself a source class."""
    masked = _missing(labels)
    if labels.dtype.kind in "US":
        # NumPy turns ["a", "b", -1] into strings, so the mask arrives as "-1".
        text = str(MASKED_LABEL)
        if not np.isin(text, source_labels.astype(str)):
            masked |= labels.astype(str) == text
        return masked
    numeric = labels.dtype.kind in "iufO" and source_labels.dtype.kind in "iufO"
    if numeric and not np.isin(MASKED_LABEL, source_labels):
        masked |= np.fromiter(
            (isinstance(v, int | float | np.number) and v == MASKED_LABEL for v in labels),
            dtype=bool,
            count=len(labels),
        )
    return masked


class DomainSplit(NamedTuple):
    """Rows split by domain. ``y_target`` keeps only the *unmasked* target labels (may be empty)."""

    X_source: NDArray[np.float64]
    y_source: NDArray[Any]
    X_target: NDArray[np.float64]
    y_target: NDArray[Any]
    source_mask: NDArray[np.bool_]
    target_labelled: NDArray[np.bool_]


def split_domains(
    X: ArrayLike, y: ArrayLike | None, sample_domain: ArrayLike | None, *, check_target_labels: bool = True
) -> DomainSplit:
    """Validate ``X, y, sample_domain`` and split them into source and target parts.

    ``y`` has one entry per row of ``X``. Source labels must all be present: no NaN, no None, and no
    ``-1`` either, except in numbers masked with NaN or None, where ``-1`` may be a class (see
    :func:`check_source_labelled`). Target labels are usually unknown and then masked with ``-1``, NaN
    or None (``-1`` counts as a mask only when it is not itself a source class); any unmasked target
    label must be one of the source classes, since a classifier trained on the source cannot predict
    anything else. Pass ``check_target_labels=False`` for regression targets, where only NaN and None
    mark a missing target value (``-1`` is a value).

    Returns
    -------
    DomainSplit
        ``X_source, y_source, X_target, y_target, source_mask, target_labelled`` where
        ``target_labelled`` flags (over target rows) which target labels are real.

    Examples
    --------
    >>> s = split_domains([[0.0], [1.0], [5.0], [6.0]], [0, 1, -1, 1], [1, 1, -2, -2])
    >>> s.y_source.tolist(), s.y_target.tolist(), s.target_labelled.tolist()
    ([0, 1], [1], [False, True])
    """
    Xs, Xt, source_mask = check_domains(X, sample_domain)
    ys, yt, labelled = _split_labels(y, source_mask, check_target_labels)
    return DomainSplit(Xs, ys, Xt, yt, source_mask, labelled)


def _split_labels(
    y: ArrayLike | None, source_mask: NDArray[np.bool_], check_target_labels: bool
) -> tuple[NDArray[Any], NDArray[Any], NDArray[np.bool_]]:
    """Source labels, unmasked target labels and the target-labelled flags (see :func:`split_domains`)."""
    if y is None:
        raise DataError("y is required: pass labels for the source rows (target rows may be masked with -1).")
    labels = as_labels(y)
    if labels.ndim != 1:
        raise DataError(f"y must be 1-D, got an array with {labels.ndim} dimension(s).")
    if labels.shape[0] != source_mask.shape[0]:
        raise DataError(f"y has {labels.shape[0]} entries but X has {source_mask.shape[0]} rows.")
    raw = np.asarray(y)  # as given: as_labels turns None into -1 in integer labels
    ys = labels[source_mask]
    if not check_target_labels:  # regression targets: -1 is a value, only None/NaN are missing
        check_source_labelled(raw, source_mask, minus_one_is_class=True)
        labelled = ~_missing(raw[~source_mask])
        return ys, labels[~source_mask][labelled], labelled
    check_source_labelled(raw, source_mask, minus_one_is_class=minus_one_may_be_a_class(labels))
    ys = typed_labels(ys)
    yt_all = labels[~source_mask]
    source_classes = np.unique(ys)
    if len(source_classes) < 2:
        only = source_classes[0].item() if isinstance(source_classes[0], np.generic) else source_classes[0]
        raise DataError(f"the source rows hold a single class ({only!r}); a classifier needs at "
                        "least two")
    labelled = ~_masked(yt_all, source_classes)
    yt = yt_all[labelled].astype(bool) if ys.dtype == bool else yt_all[labelled]  # True/False as ys: see as_labels
    check_label_classes(np.concatenate([ys, yt]))  # continuous numbers are no classes: say so, not scikit-learn
    unknown = yt[~np.isin(yt, ys)]
    if unknown.size:
        shown = ", ".join(repr(v) for v in np.unique(unknown)[:5].tolist())
        raise DataError(
            f"target labels {shown} do not occur in the source labels; mask unknown target labels with -1."
        )
    return ys, yt, labelled


def split_domain_labels(
    y: ArrayLike | None, sample_domain: ArrayLike | None, n_samples: int
) -> tuple[NDArray[np.int64], NDArray[Any], NDArray[Any], NDArray[np.bool_]]:
    """Check ``y`` and ``sample_domain`` for ``n_samples`` raw items (images, texts, rows).

    The label half of :func:`split_domains`, for inputs that are not yet feature arrays.

    Returns
    -------
    sample_domain : ndarray of int, validated
    y_source : ndarray, labels of the source rows
    y_target : ndarray, the unmasked target labels (each one a source class)
    target_labelled : ndarray of bool over target rows
    """
    if n_samples == 0:
        raise DataError("X has no samples.")
    dom = _as_sample_domain(sample_domain, n_samples)
    source_mask = dom > 0
    if not source_mask.any():
        raise DataError("sample_domain marks no source rows (positive values); at least one is needed.")
    if source_mask.all():
        raise DataError("sample_domain marks no target rows (negative values); the target set is empty.")
    ys, yt, labelled = _split_labels(y, source_mask, True)
    return dom, ys, yt, labelled
