"""What an audit finds: one :class:`Flag` per offending item, grouped into a :class:`Finding` per check,
all gathered in an :class:`AuditResult` that also knows which items ``fix`` removes and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DataError

__all__ = ["CHECKS", "DEFAULT_DROP", "AuditResult", "Finding", "Flag", "check_drop", "resolve_drop"]

#: Every check an audit runs, in report order, with what a flag means.
CHECKS: dict[str, str] = {
    "missing-values": "the item (text, table cells) is missing, empty or not a number",
    "missing-labels": "the item has no label",
    "corrupt-files": "the file is missing, empty, truncated or not an image",
    "exact-duplicates": "same content as an earlier item (texts compared after whitespace normalisation)",
    "label-conflicts": "exact copies of the item carry different labels",
    "near-duplicates": "embedding within the cosine threshold of an earlier item",
    "leakage": "the item, or a near-duplicate of it, is also in the test set",
    "class-imbalance": "the smallest class is far below an equal share",
    "outliers": "isolated in embedding space (IsolationForest)",
    "label-errors": "out-of-fold probabilities suggest another label (confident learning)",
}

#: Checks whose flagged items ``fix`` removes unless told otherwise: items that cannot be used, copies
#: that add nothing (the first copy stays), labels that contradict each other, and test-set leaks.
DEFAULT_DROP: frozenset[str] = frozenset(
    {"missing-values", "missing-labels", "corrupt-files", "exact-duplicates", "label-conflicts", "leakage"}
)

_NOT_DROPPABLE = frozenset({"class-imbalance"})


def check_drop(names: str | Iterable[str], verb: str = "drop") -> frozenset[str]:
    """Validate check names that ``fix`` may remove (``verb``: "drop", or "keep" for the ones it leaves);
    raise a :class:`DataError` naming an unknown one.

    ``names`` is an iterable of names, or one string: a single name or comma-separated names (a string
    is never read letter by letter).

    Examples
    --------
    >>> sorted(check_drop("outliers, label-errors"))
    ['label-errors', 'outliers']
    """
    if isinstance(names, str):
        names = [part.strip() for part in names.split(",") if part.strip()]
    out = frozenset(names)
    for name in sorted(out):
        if name not in CHECKS or name in _NOT_DROPPABLE:
            choices = ", ".join(c for c in CHECKS if c not in _NOT_DROPPABLE)
            raise DataError(f"cannot {verb} {name!r}: not a check whose items can be removed; choose from {choices}")
    return out


def resolve_drop(drop: str | Iterable[str] | None = None, keep: str | Iterable[str] | None = None) -> frozenset[str]:
    """The checks whose flagged items ``fix`` removes: :data:`DEFAULT_DROP`, plus ``drop``, less ``keep``.

    The one rule of ``fix(drop=, keep=)``, ``AuditResult.removals``/``kept`` and ``transferkit audit --fix
    --drop/--keep``, so the same words remove the same items in Python and on the command line. Each is
    an iterable of check names or one string (one name or comma-separated names); passing the whole set
    (``drop=DEFAULT_DROP | {"outliers"}``) gives the same result as naming only the additions.

    Raises
    ------
    DataError
        An unknown check (or one whose items cannot be removed) in ``drop`` or ``keep``, or a check named
        in both.

    Examples
    --------
    >>> sorted(resolve_drop("outliers") - DEFAULT_DROP)
    ['outliers']
    >>> sorted(resolve_drop(keep=DEFAULT_DROP - {"leakage"}))
    ['leakage']
    """
    added = frozenset() if drop is None else check_drop(drop)
    left = frozenset() if keep is None else check_drop(keep, verb="keep")
    both = sorted(added & left)
    if both:
        raise DataError(f"{', '.join(map(repr, both))} {'is' if len(both) == 1 else 'are'} in both drop and keep; "
                        "name each check in one of them.")
    return (DEFAULT_DROP | added) - left


@dataclass(frozen=True)
class Flag:
    """One offending item.

    Parameters
    ----------
    index : int
        0-based position of the item in the audited input (for table files: data row ``index + 1``).
    item : str
        The item as a person finds it: a file path, the text (cut at 100 characters) or ``row N``.
    reason : str
        Why it is flagged, in one sentence fragment.
    label : object, optional
        The given label (None when missing).
    score : float, optional
        Strength of the finding where there is one (cosine similarity, anomaly score, self-confidence).
    related : tuple of int, default=()
        Positions of the items it relates to: the earlier copy, the other copies, the test items.
    """

    index: int
    item: str
    reason: str
    label: Any = None
    score: float | None = None
    related: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "item": self.item, "label": _plain(self.label), "reason": self.reason,
                "score": self.score, "related": list(self.related)}


@dataclass(frozen=True)
class Finding:
    """The result of one check.

    Parameters
    ----------
    check : str
        A name from :data:`CHECKS`.
    flags : tuple of Flag
        The offending items, by position.
    summary : str
        One line for people: what was found.
    ran : bool, default=True
        False when the check could not run on this input (``summary`` says why).
    details : dict, default={}
        Check-specific figures (thresholds, class counts, ...), JSON-serialisable.
    """

    check: str
    flags: tuple[Flag, ...]
    summary: str
    ran: bool = True
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def indices(self) -> list[int]:
        """Positions of the flagged items, ascending."""
        return sorted({f.index for f in self.flags})

    def __len__(self) -> int:
        return len(self.indices)

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "ran": self.ran, "summary": self.summary, "n_flagged": len(self),
                "details": self.details, "flags": [f.to_dict() for f in self.flags]}


@dataclass(frozen=True, eq=False)
class AuditResult:
    """Everything an audit found in one dataset (and, with a test set, about leakage into it).

    Parameters
    ----------
    findings : dict of str to Finding
        One finding per check in :data:`CHECKS`, in that order.
    n_samples : int
        Items audited.
    modality : {"image", "text", "table"}
    source : str
        Where the data came from.
    backbone : str or None
        Backbone of the embeddings; ``"raw features"`` for tables without one; None when the
        embedding checks did not run.
    settings : dict
        The audit's parameters (threshold, cv, ...) and timings, for the record.
    positions : tuple of int, default=()
        Positions of the audited items in the input when a subsample was audited (empty: all of
        ``0..n_samples-1``).
    origin : object
        How to write a cleaned copy (see :func:`transferkit.audit.fix`); not part of the public API.

    Examples
    --------
    >>> from transferkit.audit import audit
    >>> result = audit(["good", "good", "bad", "awful"], ["pos", "pos", "neg", "neg"])
    >>> result["exact-duplicates"].indices
    [1]
    >>> result.kept()
    [0, 2, 3]
    """

    findings: dict[str, Finding]
    n_samples: int
    modality: str
    source: str
    backbone: str | None
    settings: dict[str, Any]
    positions: tuple[int, ...] = ()
    origin: Any = None

    def __getitem__(self, check: str) -> Finding:
        if check not in self.findings:
            raise KeyError(f"no check {check!r}; checks: {', '.join(self.findings)}")
        return self.findings[check]

    def removals(self, drop: str | Iterable[str] | None = None,
                 keep: str | Iterable[str] | None = None) -> dict[int, list[tuple[str, str]]]:
        """Items ``fix`` removes: position -> ``(check, reason)`` pairs, positions ascending.

        Parameters
        ----------
        drop : str or iterable of str, optional
            Checks whose flagged items are removed in addition to :data:`DEFAULT_DROP` (as ``--drop``);
            a string is one name or comma-separated names.
        keep : str or iterable of str, optional
            Checks of :data:`DEFAULT_DROP` whose items stay (as ``--keep``); ``keep=DEFAULT_DROP`` removes
            only the checks named in ``drop``.
        """
        return self._removals_of(resolve_drop(drop, keep))

    def kept(self, drop: str | Iterable[str] | None = None, keep: str | Iterable[str] | None = None) -> list[int]:
        """Positions ``fix`` keeps, ascending (the complement of :meth:`removals`, same ``drop`` and ``keep``)."""
        return self._kept_of(resolve_drop(drop, keep))

    def _removals_of(self, checks: frozenset[str]) -> dict[int, list[tuple[str, str]]]:
        """:meth:`removals` for the whole set of checks to remove, as :func:`resolve_drop` returns it."""
        out: dict[int, list[tuple[str, str]]] = {}
        for name, finding in self.findings.items():
            if name in checks:
                for f in finding.flags:
                    out.setdefault(f.index, []).append((name, f.reason))
        return dict(sorted(out.items()))

    def _kept_of(self, checks: frozenset[str]) -> list[int]:
        """:meth:`kept` for the whole set of checks to remove, as :func:`resolve_drop` returns it."""
        gone = self._removals_of(checks)
        return [int(i) for i in (self.positions or range(self.n_samples)) if i not in gone]

    def table(self) -> list[dict[str, Any]]:
        """One row per check: ``check``, ``flagged``, ``removed_by_default``, ``summary``."""
        return [{"check": name, "flagged": len(f) if f.ran else None, "removed_by_default": name in DEFAULT_DROP,
                 "summary": f.summary} for name, f in self.findings.items()]

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable description of the audit."""
        return {"source": self.source, "modality": self.modality, "n_samples": self.n_samples,
                "backbone": self.backbone, "settings": self.settings,
                "findings": {name: f.to_dict() for name, f in self.findings.items()}}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
