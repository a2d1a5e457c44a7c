"""Source and target datasets checked against each other before any computation."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import Dataset
from ..errors import DataError
from ..estimators._classifier import check_targets

__all__ = ["check_adaptation_data", "check_label_classes"]


def _width(data: Dataset) -> int | None:
    if data.modality != "table":
        return None
    return int(np.shape(data.X)[1]) if np.ndim(data.X) == 2 else None


def _verb(name: str, verb: str) -> str:
    """``verb`` agreeing with ``name``: "the target has", "the labelled target examples have"."""
    if name.endswith("s"):
        return verb
    return {"have": "has"}.get(verb, verb + "s")


def check_label_classes(labels: np.ndarray) -> None:
    """Refuse labels that are continuous numbers (1.5, 0.37), not classes, with TransferClassifier's
    :class:`~transferkit.errors.DataError` instead of scikit-learn's "Unknown label type: continuous".

    Pass the labelled rows only (source rows and unmasked target rows, at least two classes among them):
    the -1/NaN/None that mark unlabelled target rows are no labels to check.
    """
    check_targets(labels, len(labels))


def check_adaptation_data(source: Dataset, target: Dataset, *, target_labels: Dataset | None = None) -> None:
    """Raise a :class:`~transferkit.errors.DataError` naming the problem when the data cannot be adapted.

    Checked: the source has labels of at least two classes; the target (and the labelled target examples)
    are not empty; all hold the same modality and, for tables, the same number of columns; every known
    target label (labelled target examples, or evaluation labels) is one of the source classes.
    """
    named: list[tuple[str, Dataset]] = [("source", source), ("target", target)]
    if target_labels is not None:
        named.append(("labelled target examples", target_labels))
    for name, data in named:
        if len(data.X) == 0:
            raise DataError(f"the {name} set is empty ({data.source or 'no rows'}); adaptation needs its rows")
    if source.y is None:
        raise DataError("the source set has no labels; adaptation trains on labelled source rows")
    classes = sorted({str(v) for v in np.asarray(source.y).tolist()})
    if len(classes) < 2:
        raise DataError(f"the source set holds a single class ({classes[0]!r}); a classifier needs two")
    check_label_classes(np.asarray(source.y))
    for name, data in named[1:]:
        if data.modality != source.modality:
            raise DataError(f"the source set holds {source.modality} data but the {name} {_verb(name, 'hold')} "
                            f"{data.modality} data; both domains must be of one modality")
        ws, wt = _width(source), _width(data)
        if ws != wt:
            raise DataError(f"the source table has {ws} feature columns but the {name} {_verb(name, 'have')} {wt}; "
                            "they must match")
    if target_labels is not None and target_labels.y is None:
        raise DataError("the labelled target examples have no labels (check --label-column)")
    for name, data in named[1:]:
        if data.y is None:
            continue
        extra = sorted({str(v) for v in np.asarray(data.y).tolist()} - set(classes))
        if extra:
            shown = ", ".join(repr(v) for v in extra[:5])
            unlabel = ("; if they are not classes (e.g. batch sub-folders), read the target without its labels "
                       "(--no-eval-labels; evaluate=False in Python)") if name == "target" else ""
            raise DataError(f"the {name} {_verb(name, 'have')} labels that are no source class: {shown}; a "
                            "classifier trained on "
                            f"the source predicts only {', '.join(repr(c) for c in classes[:10])}{unlabel}")


def stack_domains(source: Dataset, target: Dataset, *, target_labels: Dataset | None = None) -> tuple[Any, Any, Any]:
    """``X, y, sample_domain`` of the source rows (domain 1), the labelled target examples (domain -1,
    labels kept) and the target rows (domain -1, labels masked with None)."""
    parts = [(source, 1, True)] + ([(target_labels, -1, True)] if target_labels is not None else []) + \
        [(target, -1, False)]
    if source.modality == "table":
        X: Any = np.vstack([np.asarray(d.X, dtype=np.float64) for d, _, _ in parts])
    else:
        items = [x for d, _, _ in parts for x in d.X]
        X = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):  # one by one: images of different sizes must not be broadcast
            X[i] = item
    y = np.empty(len(X), dtype=object)
    dom = np.empty(len(X), dtype=np.int64)
    start = 0
    for data, domain, keep in parts:
        n = len(data.X)
        y[start:start + n] = np.asarray(data.y).astype(str) if keep and data.y is not None else None
        dom[start:start + n] = domain
        start += n
    return X, y, dom
