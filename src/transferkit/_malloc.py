"""Keep freed memory in the process while a network runs on the CPU (glibc's malloc).

Each training step allocates its activations afresh and frees them at the end. glibc serves large
allocations with fresh ``mmap`` pages (above its dynamic threshold, at most 32 MiB) and gives freed memory
at the top of its heap back to the system (past its trim threshold), so the next step faults every page
in again: about 50,000-65,000 minor page faults per EfficientNet-Lite0 step of 32 images at 112 px. With
both thresholds raised, freed memory stays in the process for the next step: a plain training loop ran
1.21x as fast on 2 cores (docs/BENCHMARKS.md), at about 300 MB more resident memory during the fit, which
:func:`reuse_freed_memory` gives back with ``malloc_trim`` when the block ends. tcmalloc or jemalloc
loaded with ``LD_PRELOAD`` (what PyTorch's ``torch.backends.xeon.run_cpu`` launcher does) have the same
effect.

The thresholds are process-wide. After the block they are set to (32 MiB, 64 MiB): the state glibc's own
dynamic thresholds reach after the first large block is freed (its maximum mmap threshold, and twice
that for trimming), since glibc has no call that restores its dynamic mode. ``TRANSFERKIT_MALLOC=system``
leaves malloc as it is; other C libraries (musl, macOS, Windows) are left alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

#: ``mallopt`` parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

#: Both thresholds inside the block: allocations and freed memory up to this size stay in the heap.
THRESHOLD = 1 << 30

#: Thresholds (mmap, trim) after the block: glibc's dynamic ones at their maximum on 64-bit systems.
AFTER = (32 << 20, 64 << 20)

#: Environment variable: ``system`` keeps the C library's own malloc settings.
ENV = "TRANSFERKIT_MALLOC"

_state: dict[str, Any] = {"depth": 0, "raised": False}
_lock = threading.Lock()  # fits in several threads: one outermost block raises, the last one out restores


def _glibc() -> Any:
    """The process's C library when it is glibc and its malloc is the one in use, else None."""
    return _loaded_glibc() if sys.platform.startswith("linux") else None


@functools.cache
def _loaded_glibc() -> Any:
    """glibc among the symbols loaded into the process, looked up once (every prediction batch asks)."""
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded into the process, the C library's included
    except OSError:
        return None
    if not all(hasattr(libc, name) for name in ("gnu_get_libc_version", "mallopt", "malloc_trim")):
        return None
    try:  # glibc's own malloc must be the one in use: jemalloc or tcmalloc in LD_PRELOAD replace it
        own = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    if ctypes.cast(libc.malloc, ctypes.c_void_p).value != ctypes.cast(own.malloc, ctypes.c_void_p).value:
        return None
    return libc


@contextlib.contextmanager
def reuse_freed_memory() -> Iterator[bool]:
    """Raise glibc's mmap and trim thresholds for the block; when the last open such block ends (in any
    thread), give free memory back to the system and set the thresholds to :data:`AFTER`. Yields whether
    the thresholds are raised (False with another C library, or with ``TRANSFERKIT_MALLOC=system``)."""
    libc = None if os.environ.get(ENV, "").strip().lower() == "system" else _glibc()
    if libc is None:
        yield False
        return
    with _lock:
        if _state["depth"] == 0:
            _state["raised"] = bool(libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD)) and bool(
                libc.mallopt(M_TRIM_THRESHOLD, THRESHOLD))
        _state["depth"] += 1
        raised = bool(_state["raised"])
    try:
        yield raised
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                libc.malloc_trim(0)
                libc.mallopt(M_MMAP_THRESHOLD, AFTER[0])
                libc.mallopt(M_TRIM_THRESHOLD, AFTER[1])
