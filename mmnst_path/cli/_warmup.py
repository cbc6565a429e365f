"""``mmnst-path warmup``: compile the analysis kernels once, ahead of the first slide.

A fresh installation compiles its numba kernels on first use (about half a minute of CPU, once);
this command does it up front on small generated tiles
(:func:`mmnst_path.pipeline.compile_kernels`) and says where the compiled kernels are cached.
Run it after installing or upgrading (a second run takes seconds). Exit status: 0 done, 1 an
analysis failed (the error is printed), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``warmup`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "warmup",
        help="compile the analysis kernels once (after installing), so the first slide starts at full speed",
        description=(
            "Run the default analyses (H-DAB, H&E, AEC, Fast Red, double stain; resampled reads) on small "
            "generated tiles so that every compiled (numba) kernel they use is built and written to numba's "
            "on-disk cache. A fresh installation otherwise compiles them during its first slide (about half a "
            "minute of CPU, once per installation). Exit status: 0 done, 1 an analysis failed, 2 bad usage."
        ),
    )
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compile; one line per analysis (unless ``--quiet``) and a summary; return the exit code."""
    from ..errors import MmnstPathError
    from ..pipeline import compile_kernels, kernel_stats

    t0 = time.perf_counter()
    if not args.quiet:
        print("mmnst-path warmup: compiling the analysis kernels (about half a minute on a fresh install, "
              "seconds once cached)", file=sys.stderr, flush=True)

    def show(step: Any) -> None:
        if not args.quiet:
            print(f"  {step.label}: {step.seconds:.1f} s, {step.compiled} kernels compiled, "
                  f"{step.loaded} loaded from the cache", file=sys.stderr, flush=True)

    try:
        steps = compile_kernels(progress=show)
    except (MmnstPathError, ValueError, OSError) as exc:
        print(f"mmnst-path: error: warmup: {exc}", file=sys.stderr)
        return 1
    stats = kernel_stats()
    compiled = sum(s.compiled for s in steps)
    where = f" (cache: {stats.cache_path})" if stats.cache_path else " (numba is not installed: nothing to compile)"
    print(f"warmup done in {time.perf_counter() - t0:.1f} s: {compiled} kernels compiled, "
          f"{stats.loaded} loaded from the cache{where}")
    return 0
