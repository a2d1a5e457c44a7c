"""Which modality (image, text, table) an ensemble's members read for the data they are fitted on: the
``modality`` given, else the one the members' backbones fix, else the one the data shows."""

from __future__ import annotations

import os
from typing import Any

from ._members import BASELINE_SPEC, EnsembleError, member_estimator, member_modality

MODALITIES = ("image", "text", "table")


def member_specs(members: Any) -> list[str]:
    """The spec strings among ``members`` (a comma-separated str, or a list of specs and pairs)."""
    specs = [members] if isinstance(members, str) else list(members or [])
    return [m.strip() for s in specs if isinstance(s, str) for m in s.split(",") if m.strip()]


def required_modality(X: Any, *, why: str) -> str:
    """The modality ``X`` shows, or an :class:`EnsembleError` that says ``why`` one is needed and names
    ``modality=``."""
    from ..data._validation import _describe, shown_modality

    modality = shown_modality(X)
    if modality is None:
        raise EnsembleError(f"{why}, which cannot be told from {_describe(X)}; pass modality="
                            f"{', '.join(repr(m) for m in MODALITIES[:-1])} or {MODALITIES[-1]!r}")
    return modality


def _names_files(X: Any) -> bool:
    """Whether the first items of ``X`` name existing files (images without an image extension, say)."""
    try:
        items = list(X[:5])
    except (TypeError, KeyError):
        return False
    return any(isinstance(v, str | os.PathLike) and os.path.isfile(v) for v in items)


def fit_modality(members: Any, modality: str | None, X: Any) -> tuple[str | None, str]:
    """The modality the members read when fitted on ``X``, and where it comes from (for messages).

    ``modality`` given: it, as the data's. Else the first member's backbone fixes it, and a member that
    reads other data than ``X`` holds (an image member on texts) is an :class:`EnsembleError` naming the
    member, before anything is read. Else (only baselines and your own members) the data shows it,
    when a ``"baseline"`` member needs one."""
    from ..data._validation import shown_modality

    if modality is not None:
        return modality, "the data"
    specs = member_specs(members)
    fixed, first = member_modality(specs)
    if fixed is not None:
        data = shown_modality(X)
        # strings that name files may be images whatever their extension: the member reads them itself
        if data is not None and data != fixed and not (data == "text" and _names_files(X)):
            member_estimator(first, modality=data, modality_of="the data")  # raises, naming it
        return fixed, f"the first member, {first!r},"
    if BASELINE_SPEC in specs:
        return required_modality(X, why=f"member {BASELINE_SPEC!r} reads the data's modality"), "the data"
    return None, "the data"  # only your own members: X goes to them as given


__all__ = ["MODALITIES", "fit_modality", "member_specs", "required_modality"]
