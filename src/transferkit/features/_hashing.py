"""Content keys for raw items: the same image or text gets the same key wherever it comes from."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np


def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p)
    return h.hexdigest()


def item_key(item: Any, modality: str) -> str:
    """Hex key of one item's content.

    Text is keyed by its UTF-8 bytes; an image path by the file's bytes (so a renamed copy hits the
    cache and an edited file misses it); arrays and PIL images by their pixels, shape and dtype.
    """
    if modality == "text":
        return _digest(b"t", str(item).encode("utf-8"))
    if isinstance(item, str | os.PathLike):
        try:
            with open(item, "rb") as fh:
                return _digest(b"f", fh.read())
        except OSError:
            return _digest(b"missing", os.fsencode(item))  # the loader reports the real error
    if hasattr(item, "tobytes") and hasattr(item, "mode"):  # PIL image
        return _digest(b"p", item.mode.encode(), str(item.size).encode(), item.tobytes())
    arr = np.ascontiguousarray(np.asarray(item))
    return _digest(b"a", str(arr.dtype).encode(), str(arr.shape).encode(), arr.tobytes())


def item_keys(items: Sequence[Any], modality: str) -> list[str]:
    return [item_key(item, modality) for item in items]


def config_key(*parts: Any) -> str:
    """Key of a configuration (backbone fingerprint, preprocessing) from its repr."""
    return _digest(*(repr(p).encode() for p in parts))
