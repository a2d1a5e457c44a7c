"""Saving heads and weights without pickle: skops for scikit-learn objects, safetensors for tensors."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from ..errors import ModelFolderError

#: Functions a skops file may name beyond skops' own defaults (the TF-IDF baseline's text conversion).
TRUSTED_FUNCTIONS = frozenset({"transferkit.evaluation._baselines._as_text"})
#: Packages whose *classes* a skops file may name beyond skops' own defaults: scikit-learn's (e.g. its
#: Cython tree types) and transferkit's. Never functions from them, and nothing from builtins, numpy or
#: scipy beyond what skops trusts itself: skops calls a named type to rebuild an object, so a trusted
#: ``builtins.exec`` (or ``numpy.load`` with pickles) would run code from the file.
TRUSTED_CLASS_PACKAGES = ("sklearn.", "transferkit.")


def is_trusted_type(name: str) -> bool:
    """Whether a type that skops does not trust by default may be loaded from a model folder."""
    if name in TRUSTED_FUNCTIONS:
        return True
    if not name.startswith(TRUSTED_CLASS_PACKAGES):
        return False
    module, _, attr = name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        return False
    return inspect.isclass(obj)


def save_sklearn(obj: Any, path: Path) -> None:
    import skops.io as sio

    sio.dump(obj, path)


def load_sklearn(path: Path) -> Any:
    """Load a skops file, trusting skops' defaults plus :func:`is_trusted_type` (never arbitrary code)."""
    import skops.io as sio

    if not path.exists():
        raise ModelFolderError(f"model file {str(path)!r} is missing")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # not a skops file at all
        raise ModelFolderError(f"{str(path)!r} is not a readable skops file: {exc}") from None
    refused = [t for t in untrusted if not is_trusted_type(t)]
    if refused:
        raise ModelFolderError(f"{str(path)!r} contains types transferkit will not load: {', '.join(refused)}")
    return sio.load(path, trusted=untrusted)
