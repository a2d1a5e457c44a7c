"""The error a hyperparameter search raises for what a user can fix (storage, space, study mismatch)."""

from __future__ import annotations

from ..errors import TransferkitError


class TuningError(TransferkitError, ValueError):
    """A search cannot run as configured: unknown head or parameter, storage that cannot be opened, a
    study name already used for other data or another backbone."""
