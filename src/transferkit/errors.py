"""Exceptions raised by transferkit.

Every error a user can cause (bad data, an unknown name, weights that cannot be had offline) is a
:class:`TransferkitError`. Its message is one or two plain sentences that name the offending item and,
where there is one, the remedy. The CLI prints the message alone and exits non-zero; the Python API
raises it. Data errors also subclass :class:`ValueError` so scikit-learn utilities treat them as such.
"""

from __future__ import annotations

__all__ = [
    "TransferkitError",
    "DataError",
    "NoClassFoldersError",
    "ImageLoadError",
    "UnknownBackboneError",
    "WeightsUnavailableError",
    "StrategyError",
    "ModelFolderError",
]


class TransferkitError(Exception):
    """Base class for errors that a user can act on."""


class DataError(TransferkitError, ValueError):
    """The input data cannot be used (missing column, empty text, single class, ...)."""


class NoClassFoldersError(DataError):
    """An image folder read with labels has no class sub-folders (it may still hold images to read
    unlabelled: ``load_data(folder, label_column=None)``)."""


class ImageLoadError(DataError):
    """An image file is missing, empty, truncated or not an image."""


class UnknownBackboneError(TransferkitError, KeyError):
    """A backbone name is not registered and is not a path or provider-prefixed name."""

    def __str__(self) -> str:  # KeyError would otherwise print the message in quotes
        return str(self.args[0]) if self.args else ""


class WeightsUnavailableError(TransferkitError):
    """Pretrained weights are neither on disk nor downloadable (typically: offline)."""


class StrategyError(TransferkitError, ValueError):
    """A training strategy cannot be applied as configured."""


class ModelFolderError(TransferkitError):
    """A saved model folder is missing, incomplete or does not match this version."""


def error_cause(exc: BaseException) -> str:
    """The first line of ``exc``'s message (its class name when the message is empty): the cause to quote
    in a one-line error."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
