"""Freed heap kept after a slide's analysis (session 38 H10): RSS after ``analyze_slide`` and after glibc's
``malloc_trim(0)``, in one fresh process.

Usage (``PYTHONPATH`` = the tree under test; single-threaded)::

    python benchmarks/experiments/heap_retention_s38.py SLIDE MPP [win|nowin]

``nowin`` sets ``pipeline._worker.TISSUE_WINDOW = False`` (a tree that has it). Prints the resident set after the
analysis, after the trim (the live size) and their difference (the heap the allocator kept), and ``ru_maxrss``.
A tree with ``release_free_memory`` trims after the tiles only: what the steps after them free is kept again
(TCGA @1.0, session 38 H10's a7af7e7: 51028 KiB kept, against 76392 before the call and HEAD's 60004).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import resource
import sys


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))


def main() -> None:
    slide, mpp = sys.argv[1], float(sys.argv[2])
    arm = sys.argv[3] if len(sys.argv) > 3 else "win"
    if arm not in ("win", "nowin"):
        msg = f"arm must be 'win' or 'nowin', got {arm!r}"
        raise SystemExit(msg)
    if arm == "nowin":
        import mmnst_path.pipeline._worker as worker

        worker.TISSUE_WINDOW = False  # type: ignore[attr-defined]
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    analyze_slide(slide, AnalysisConfig(stains="auto"), mpp=mpp, workers=1)
    before = _rss_kib()
    ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)
    after = _rss_kib()
    print(f"{arm}: rss {before} KiB, after malloc_trim {after} KiB, kept {before - after} KiB, "
          f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} KiB")


if __name__ == "__main__":
    main()
