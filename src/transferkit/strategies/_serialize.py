"""Saving heads and weights without pickle: skops for scikit-learn objects, safetensors for tensors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ModelFolderError

#: Module prefixes whose types may be loaded from a skops file.
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "builtins.", "scipy.", "collections.", "transferkit.")


def save_sklearn(obj: Any, path: Path) -> None:
    import skops.io as sio

    sio.dump(obj, path)


def load_sklearn(path: Path) -> Any:
    """Load a skops file, trusting only scikit-learn, numpy and scipy types (never arbitrary code)."""
    import skops.io as sio

    if not path.exists():
        raise ModelFolderError(f"model file {str(path)!r} is missing")
    untrusted = sio.get_untrusted_types(file=path)
    refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise ModelFolderError(f"{str(path)!r} contains types transferkit will not load: {', '.join(refused)}")
    return sio.load(path, trusted=untrusted)
