"""On-disk feature cache: one folder per (backbone, preprocessing), shards of (keys, features).

Shards are written to a temporary file and renamed, so a crash never leaves a half-written shard and
concurrent processes never see one. Every shard a process has read stays indexed in memory, so the
second pass over the same data touches no file at all.
"""

from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np


def default_cache_dir() -> Path:
    """``$TRANSFERKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/transferkit``, else ``~/.cache/transferkit``."""
    env = os.environ.get("TRANSFERKIT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "transferkit"


def usable_features(features: np.ndarray, n_items: int) -> bool:
    """Whether ``features`` can be cached for ``n_items`` items: a 2-D float array with one row per item,
    at least one column, and finite values."""
    return (
        features.ndim == 2
        and features.shape[0] == n_items
        and features.shape[1] > 0
        and features.dtype.kind == "f"
        and bool(np.isfinite(features).all())
    )


class FeatureCache:
    """Features by item key, for one backbone + preprocessing namespace."""

    _memory: dict[Path, dict[str, tuple[np.ndarray, int]]] = {}
    _seen_files: dict[Path, set[str]] = {}

    def __init__(self, root: Path, namespace: str) -> None:
        self.folder = Path(root) / "features" / namespace

    def _refresh(self) -> dict[str, tuple[np.ndarray, int]]:
        index = self._memory.setdefault(self.folder, {})
        seen = self._seen_files.setdefault(self.folder, set())
        if self.folder.is_dir():
            for shard in sorted(self.folder.glob("*.npz")):
                if shard.name in seen:
                    continue
                try:
                    # our own handle: np.load leaks the one it opens when the zip is unreadable (ResourceWarning)
                    with open(shard, "rb") as fh, np.load(fh, allow_pickle=False) as data:
                        keys, feats = data["keys"], data["features"]
                except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                    continue  # unreadable (truncated, empty, bad CRC) shard: ignore it, features get recomputed
                if keys.ndim != 1 or not usable_features(feats, len(keys)):
                    continue  # not a shard this cache wrote, or damaged (0 columns, NaN): recomputed
                for row, key in enumerate(keys.tolist()):
                    index[key] = (feats, row)
                seen.add(shard.name)
        return index

    def get(self, keys: list[str]) -> tuple[np.ndarray | None, list[int]]:
        """Cached rows for ``keys`` (None where missing is filled later) and the indices of misses."""
        index = self._refresh()
        misses = [i for i, k in enumerate(keys) if k not in index]
        hits = [i for i, k in enumerate(keys) if k in index]
        if not hits:
            return None, misses
        width = index[keys[hits[0]]][0].shape[1]
        odd = [i for i in hits if index[keys[i]][0].shape[1] != width]  # never written so; recompute them
        if odd:
            hits = sorted(set(hits) - set(odd))
            misses = sorted(misses + odd)
        out = np.empty((len(keys), width), dtype=np.float32)
        for i in hits:
            feats, row = index[keys[i]]
            out[i] = feats[row]
        return out, misses

    _unwritable: set[Path] = set()

    def put(self, keys: list[str], features: np.ndarray) -> None:
        """Store ``features`` for ``keys``: in memory, and on disk where the folder can be written.

        A cache folder that cannot be written (read-only file system, no space, no permission) costs a
        warning, once per folder, not the features just computed: the run goes on uncached.
        """
        if not keys:
            return
        features = np.ascontiguousarray(features, dtype=np.float32)
        if not usable_features(features, len(keys)):
            return  # never store what would poison every later run (0 columns, wrong row count, NaN)
        index = self._memory.setdefault(self.folder, {})
        for row, key in enumerate(keys):
            index[key] = (features, row)
        try:
            name = self._write(keys, features)
        except OSError as exc:
            if self.folder not in self._unwritable:
                self._unwritable.add(self.folder)
                warnings.warn(f"the feature cache {str(self.folder)!r} cannot be written ({exc.strerror or exc}); "
                              "features are not cached on disk (choose another --cache-dir, or --no-cache / "
                              "cache=False to skip the cache)", RuntimeWarning, stacklevel=3)
            return
        self._seen_files.setdefault(self.folder, set()).add(name)

    def _write(self, keys: list[str], features: np.ndarray) -> str:
        """One shard, written to a temporary file and renamed; returns its file name."""
        from ._hashing import config_key

        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, keys=np.asarray(keys), features=features)
            final = self.folder / f"{config_key(keys)}.npz"
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return final.name

    @classmethod
    def clear_memory(cls) -> None:
        """Forget the in-memory index (files stay); used by benchmarks to time a cold cache read."""
        cls._memory.clear()
        cls._seen_files.clear()
        cls._unwritable.clear()
