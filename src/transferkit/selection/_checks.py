"""Input validation and label encoding shared by every score and distance in :mod:`transferkit.selection`.

Each public function validates its arguments here, before any computation, so that a bad input fails
with one :class:`~transferkit.errors.DataError` that names the problem rather than with a NaN score or
a linear-algebra traceback.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from ..data._validation import format_positions, missing_positions
from ..errors import DataError

__all__ = [
    "check_domains",
    "check_features",
    "check_features_labels",
    "check_label_codes",
    "check_positive_int",
    "check_probabilities",
    "class_sums",
    "is_positive_number",
    "power_of_two_scale",
]

#: Tolerance on ``|sum(row) - 1|`` for a row of source-classifier probabilities.
PROBABILITY_SUM_TOLERANCE = 1e-3


def _display(value: Any) -> Any:
    """The Python value behind a numpy scalar, so messages show ``'b'``, not ``np.str_('b')``."""
    return value.item() if isinstance(value, np.generic) else value


def _agree(name: str, verb: str) -> str:
    """``verb`` (plural form) agreeing with ``name``: "features have", but "source has"."""
    if name.endswith("s"):
        return verb
    return {"have": "has"}.get(verb, verb + "s")


def check_features(features: ArrayLike, *, name: str = "features", columns: str = "features") -> NDArray[np.float64]:
    """A finite float64 ``(N, D)`` copy-or-view of ``features`` with ``N, D >= 1`` (``columns`` names what
    the columns hold, for the messages)."""
    try:
        x = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be numeric ({type(exc).__name__}: {exc})") from exc
    if x.ndim != 2:
        raise DataError(f"{name} must be a 2-D array (samples x {columns}), got {x.ndim}-D with shape {x.shape}")
    if x.shape[0] == 0:
        raise DataError(f"{name} {_agree(name, 'have')} no rows")
    if x.shape[1] == 0:
        raise DataError(f"{name} {_agree(name, 'have')} no columns")
    if not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x).all(axis=1)))
        raise DataError(f"{name} {_agree(name, 'contain')} NaN or infinite values in {bad} of {x.shape[0]} rows")
    return x


def power_of_two_scale(*arrays: NDArray[np.float64]) -> float:
    """A power of two near the root mean square of all entries of ``arrays`` together (1.0 if all are 0).

    Dividing by it is exact in floating point, so a score that is invariant to a global rescaling of the
    features (LogME, both H-scores, the median-bandwidth MMD, the standardised probes) can compute at unit
    scale: features of size 1e-8 or 1e150 then give the same value as at size 1, not a fixed point stopped
    early, an overflow or a NaN. Features already near unit scale get 1.0 and are unchanged.
    """
    peak = max(float(np.max(np.abs(a), initial=0.0)) for a in arrays)
    if peak == 0.0:
        return 1.0
    total = sum(float(np.sum(np.square(a / peak))) for a in arrays)
    rms = peak * np.sqrt(total / sum(a.size for a in arrays))
    return float(np.ldexp(1.0, int(np.round(np.log2(rms)))))


def _label_array(labels: ArrayLike, name: str) -> NDArray[Any]:
    """A 1-D array of labels, none missing; a sequence of tuples stays one label per element."""
    if isinstance(labels, np.ndarray):
        arr = labels
    else:
        seq = list(cast(Iterable[Any], labels))
        try:
            arr = np.asarray(seq)
        except ValueError:  # ragged, e.g. tuples mixed with scalars
            arr = np.empty(0)
        if arr.ndim != 1 or len(arr) != len(seq):  # e.g. tuples as labels: keep one object per sample
            if not all(isinstance(item, Hashable) for item in seq):
                raise DataError(f"{name} must be one-dimensional with one hashable label per sample")
            arr = np.empty(len(seq), dtype=object)
            for i, item in enumerate(seq):
                arr[i] = item
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}")
    # missing as the data layer's check_labels counts it (None, NaN, pd.NA, empty or blank strings) and said
    # alike, so a score does not take None for a class where rank_backbones refuses it
    if arr.dtype.kind in "fc":
        missing = np.flatnonzero(np.isnan(arr)).tolist()  # vectorised: numeric labels can be many
    else:
        missing = missing_positions(arr) if arr.dtype.kind in "OUS" else []
    if missing:
        raise DataError(f"The {name} are missing at {format_positions(missing)}; every sample needs a label.")
    return arr


def check_label_codes(
    labels: ArrayLike,
    n_samples: int | None,
    *,
    name: str = "labels",
    min_classes: int = 2,
    min_count: int = 2,
) -> tuple[NDArray[np.intp], list[Hashable]]:
    """Integer codes ``0..K-1`` for ``labels`` and the classes they stand for.

    Raises when the length differs from ``n_samples`` (unless it is None), when there are fewer than
    ``min_classes`` classes, or when a class has fewer than ``min_count`` examples.
    """
    arr = _label_array(labels, name)
    if n_samples is not None and len(arr) != n_samples:
        raise DataError(f"{name} have {len(arr)} entries but there are {n_samples} samples")
    try:
        uniques, codes = np.unique(arr, return_inverse=True)
        classes: list[Hashable] = [_display(c) for c in uniques]
    except TypeError:  # labels of mixed, unorderable types: encode in order of first appearance
        index: dict[Hashable, int] = {}
        codes = np.fromiter((index.setdefault(v, len(index)) for v in arr), dtype=np.intp, count=len(arr))
        classes = list(index)
    codes = np.asarray(codes, dtype=np.intp).reshape(-1)
    if len(classes) < min_classes:
        found = f"only one class ({classes[0]!r})" if classes else "no class"
        raise DataError(f"{name} hold {found}, but at least {min_classes} classes are needed")
    if min_count > 1:
        counts = np.bincount(codes, minlength=len(classes))
        rare = int(np.argmin(counts))
        if counts[rare] < min_count:
            raise DataError(f"class {classes[rare]!r} has a single example; each class needs at least {min_count}")
    return codes, classes


def check_features_labels(
    features: ArrayLike, labels: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.intp], list[Hashable]]:
    """Validated ``(X, codes, classes)`` for a score on features and target labels."""
    x = check_features(features)
    codes, classes = check_label_codes(labels, x.shape[0])
    return x, codes, classes


def check_probabilities(source_probs: ArrayLike) -> NDArray[np.float64]:
    """Validated ``(N, Z)`` source-classifier probabilities: finite, non-negative, rows summing to 1.

    Rows within the tolerance of 1 are renormalised to sum to exactly 1, so scores built on them keep
    their bounds (LEEP <= 0)."""
    p = check_features(source_probs, name="source_probs", columns="classes")
    if (p < 0).any():
        raise DataError(f"source_probs hold {int(np.count_nonzero(p < 0))} negative entries; probabilities must be >= 0")
    sums = p.sum(axis=1)
    off = np.abs(sums - 1.0) > PROBABILITY_SUM_TOLERANCE
    if off.any():
        i = int(np.argmax(off))
        raise DataError(
            f"source_probs row {i} sums to {sums[i]:.6g}, not 1 (within {PROBABILITY_SUM_TOLERANCE:g}); "
            "pass probabilities (softmax outputs), not logits"
        )
    return p / sums[:, None]


def check_domains(source: ArrayLike, target: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validated source and target features: 2-D, finite, at least two rows each, same width."""
    xs = check_features(source, name="source")
    xt = check_features(target, name="target")
    for name, x in (("source", xs), ("target", xt)):
        if x.shape[0] < 2:
            raise DataError(f"{name} has a single sample; a domain distance needs at least two per domain")
    if xs.shape[1] != xt.shape[1]:
        raise DataError(f"source has {xs.shape[1]} features per row but target has {xt.shape[1]}")
    return xs, xt


def check_positive_int(value: int, name: str, *, minimum: int) -> int:
    """``value`` as an int, or a DataError when it is not an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise DataError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def is_positive_number(value: Any) -> bool:
    """Whether ``value`` is a real number (not a bool or a string), finite and ``> 0``."""
    return bool(not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)
                and np.isfinite(value) and value > 0)


def class_sums(values: NDArray[np.float64], codes: NDArray[np.intp], n_classes: int) -> NDArray[np.float64]:
    """Row ``c`` holds the sum of ``values`` over the samples of class ``c``: ``(n_classes, n_columns)``.

    A sparse one-hot product: linear in the number of entries and without an ``(N, K)`` dense matrix.
    """
    one_hot = sparse.csr_array(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n_classes, len(codes))
    )
    return np.asarray(one_hot @ values, dtype=np.float64)
