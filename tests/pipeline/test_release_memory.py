"""release_free_memory: freed heap below a live allocation goes back to the operating system."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

import numpy as np
import pytest

from mmnst_path.pipeline._memory import release_free_memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_freed_heap_is_returned() -> None:
    # 64 KiB blocks come from the heap (under the allocator's mmap threshold). A long run's heap is
    # fragmented, so what it frees stays with the process; in a test process freed blocks may instead sit at
    # the heap's top, which glibc trims by itself past M_TRIM_THRESHOLD (the CI's full suite did, 63 of
    # 100 MiB): that automatic trim is switched off for the test, so the retention is certain
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    m_trim_threshold = -1
    assert libc.mallopt(m_trim_threshold, 1 << 30) == 1
    try:
        blocks, pins = [], []
        for _ in range(1600):  # 100 MiB, touched; small live blocks between them
            blocks.append(np.ones(8192))
            pins.append(np.ones(64))
        before = _rss_kib()
        del blocks
        freed = _rss_kib()
        assert before - freed < 20 * 1024, (before, freed)  # (the retention this function is for)
        assert release_free_memory() is True
        after = _rss_kib()
        assert freed - after > 60 * 1024, (before, freed, after)
        assert sum(float(p.sum()) for p in pins) == 1600 * 64
    finally:
        libc.mallopt(m_trim_threshold, 128 * 1024)  # glibc's default


def test_not_glibc_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import mmnst_path.pipeline._memory as mem

    mem._glibc.cache_clear()
    monkeypatch.setattr(mem.platform, "libc_ver", lambda: ("", ""))
    try:
        assert mem.release_free_memory() is False
    finally:
        mem._glibc.cache_clear()
