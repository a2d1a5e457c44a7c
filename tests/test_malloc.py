"""reuse_freed_memory: on glibc, memory freed by one step is reused by the next instead of being faulted
in again; elsewhere, or when asked not to, nothing changes."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import numpy as np
import pytest

from transferkit import _malloc

glibc = pytest.mark.skipif(_malloc._glibc() is None, reason="malloc is not glibc's (another C library, or "
                           "jemalloc/tcmalloc in LD_PRELOAD)")
_BLOCK_MB = 96


def _fewest_faults_of_a_fresh_block() -> int:
    """A freshly mapped block faults at least once per page of the largest size the kernel may give it:
    a transparent huge page where THP is on, whatever its mode (2 MiB on x86_64; 32 MiB with 16 KiB
    pages, 512 MiB with 64 KiB pages: larger than the block, which then gets base pages)."""
    block = _BLOCK_MB * 2**20
    pmd = Path("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")
    huge = int(pmd.read_text()) if pmd.exists() else 2 << 20
    return block // (huge if huge <= block else resource.getpagesize())


def _faults_of_a_fresh_block(mb: int = _BLOCK_MB) -> int:
    """Minor page faults of allocating, touching and freeing ``mb`` MB (an activation tensor's life)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.ones(mb * 2**20 // 8)
    del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@glibc
def test_freed_memory_is_reused_inside_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_malloc.ENV, raising=False)
    with _malloc.reuse_freed_memory() as raised:
        assert raised is True
        _faults_of_a_fresh_block()  # the first time the heap grows: its pages are faulted in once
        again = _faults_of_a_fresh_block()
    # glibc's defaults map a fresh block each time: 24,576 faults of 4 KiB pages, about 560 with THP in
    # "madvise" mode, 49 where the kernel gives it huge pages (one fault per 2 MiB); reused, none
    fewest = _fewest_faults_of_a_fresh_block()
    assert again < max(1, fewest // 4), f"{again} page faults: the freed block was not reused"
    # after the block, a block above the 32 MiB mmap threshold is mapped afresh again, as by default
    after = _faults_of_a_fresh_block()
    assert after >= max(1, fewest // 2), f"{after} page faults: the block was not mapped afresh"


def test_other_c_libraries_and_the_opt_out_leave_malloc_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, ...]] = []

    class FakeLibc:
        def __getattr__(self, name: str) -> object:
            return lambda *args: calls.append((name, *args)) or 1

    monkeypatch.setattr(_malloc, "_state", {"depth": 0, "raised": False})
    monkeypatch.setattr(_malloc, "_glibc", lambda: FakeLibc())
    monkeypatch.setenv(_malloc.ENV, "system")
    with _malloc.reuse_freed_memory() as raised:
        assert raised is False
    assert calls == []
    monkeypatch.delenv(_malloc.ENV)
    with _malloc.reuse_freed_memory() as raised:
        assert raised is True
        with _malloc.reuse_freed_memory() as inner:  # nested (an extraction inside a fit): the outer block rules
            assert inner is True
        assert calls == [("mallopt", -3, 1 << 30), ("mallopt", -1, 1 << 30)]  # mmap, trim thresholds: 1 GiB
    # on the outermost block's exit: free memory returned, thresholds where glibc's dynamic ones end up
    assert calls[2:] == [("malloc_trim", 0), ("mallopt", -3, 32 << 20), ("mallopt", -1, 64 << 20)]
    monkeypatch.undo()
    monkeypatch.setattr(sys, "platform", "darwin")
    assert _malloc._glibc() is None


def test_a_malloc_interposed_over_glibcs_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes

    class Library:
        def __init__(self, malloc_at: int) -> None:
            self.malloc = ctypes.c_void_p(malloc_at)
            self.gnu_get_libc_version = self.mallopt = self.malloc_trim = object()

    def loaded(process_malloc_at: int) -> object:
        monkeypatch.setattr(ctypes, "CDLL", lambda name: Library(process_malloc_at if name is None else 0x1000))
        return _malloc._loaded_glibc.__wrapped__()  # type: ignore[attr-defined]

    assert loaded(0x1000) is not None  # the process's malloc is glibc's own
    assert loaded(0x2000) is None  # jemalloc or tcmalloc in LD_PRELOAD: glibc's thresholds would do nothing
