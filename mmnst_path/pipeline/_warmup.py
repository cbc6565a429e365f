"""Compile the pipeline's numba kernels ahead of the first slide: :func:`compile_kernels`.

The default pipeline runs numba kernels (``cache=True``): the first process that calls one
compiles it (seconds each) and writes it to numba's on-disk cache (``__pycache__`` beside the
module, or the user's cache folder when the package folder is read-only); every later process
loads it from there in milliseconds. A fresh installation therefore pays the compilation (~36 s
of CPU and ~160 MiB of peak memory on the project's 2-core benchmark machine, measured on a
real slide, benchmarks/README.md) on its first slide, once per worker that finds the cache
cold. :func:`compile_kernels` pays it once, up front, on small generated tiles that take every
default code path (``mmnst-path warmup`` on the command line); :func:`analyze_slide
<mmnst_path.pipeline.analyze_slide>` runs it by itself on a cold cache, in a child process
(:func:`compile_in_child`), so neither the analysing process nor its workers keep LLVM's memory.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["WARMUP_CASES", "KernelStats", "WarmupStep", "compile_in_child", "compile_kernels", "kernel_stats",
           "kernels_cached"]

#: The analyses :func:`compile_kernels` runs, in order: (label, stain preset, chromogen of the
#: generated tile, declared µm per pixel). Declared pixel sizes other than the tiles' 0.5 µm/px
#: take the resampling kernels (0.4 -> 0.5 µm/px: a non-integer factor; 0.25: a factor of 2).
WARMUP_CASES: tuple[tuple[str, str, str, float], ...] = (
    ("H-DAB: Ki67 + melanin", "H-DAB", "dab", 0.5),
    ("H-DAB read at 0.4 µm/px (resampled)", "H-DAB", "dab", 0.4),
    ("H-DAB read at 0.25 µm/px (binned)", "H-DAB", "dab", 0.25),
    ("H&E: melanin + necrosis + tissue classes", "H&E", "eosin", 0.5),
    ("H-AEC: Ki67 + melanin (learned pigment)", "H-AEC", "aec", 0.5),
    ("H-FastRed: Ki67 + melanin (learned pigment)", "H-FastRed", "fast_red", 0.5),
    ("Ki67 / MART-1 double stain (H-DAB-FastRed)", "H-DAB-FastRed", "dab", 0.5),
)

#: True while :func:`compile_kernels` runs in this process (its analyses must not start another
#: compilation: :func:`compile_in_child`).
_COMPILING = False

#: Whether :func:`compile_in_child` already started its child in this process (once a process:
#: a child that failed is not started again for every image).
_CHILD_STARTED = False

#: Side of the generated tiles, analysis pixels (0.5 µm/px): big enough for every stage to find
#: something (nuclei, pigment, tissue classes), small enough to analyse in well under a second.
TILE_PX = 384


@dataclass(frozen=True)
class KernelStats:
    """Numba kernels of the package's loaded modules.

    Attributes
    ----------
    compiled : int
        Signatures compiled in this process (cache misses: each was also written to the cache).
    loaded : int
        Signatures loaded from numba's on-disk cache in this process.
    cache_path : str
        Where the first kernel found keeps its cache (``""`` without numba).
    """

    compiled: int
    loaded: int
    cache_path: str


@dataclass(frozen=True)
class WarmupStep:
    """One analysis of :func:`compile_kernels`: its label, seconds and the kernels it compiled."""

    label: str
    seconds: float
    compiled: int
    loaded: int


def kernel_stats() -> KernelStats:
    """Count the numba kernels compiled and loaded from cache so far in this process, over the
    module-level numba functions of every loaded ``mmnst_path`` module (zeros without numba)."""
    try:
        from numba.core.dispatcher import Dispatcher
    except ImportError:  # numba is optional: the numpy / scipy paths need no compilation
        return KernelStats(0, 0, "")
    compiled = loaded = 0
    path = ""
    seen: set[int] = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("mmnst_path") or module is None:
            continue
        for obj in list(vars(module).values()):
            if not isinstance(obj, Dispatcher) or id(obj) in seen:
                continue
            seen.add(id(obj))
            stats = obj.stats
            compiled += sum(stats.cache_misses.values())
            loaded += sum(stats.cache_hits.values())
            if not path and stats.cache_path:
                path = str(stats.cache_path)
    return KernelStats(compiled, loaded, path)


def kernels_cached() -> bool | None:
    """Whether numba's on-disk cache holds this installation's kernels (None: no numba, or a
    numba whose cache layout is not the one read here).

    Checks the index file of the optical-density kernel, which every analysis runs first: when
    it is missing, no analysis has run in this installation and the next one compiles.
    """
    import os

    try:
        from ..stain import _numba
    except ImportError:
        return None
    try:
        kernel: Any = _numba._od_kernel
        index = kernel._cache._cache_file._index_path  # numba's FunctionCache (private)
    except AttributeError:
        return None
    return os.path.exists(index)


def _tile(chromogen: str, mpp: float, seed: int) -> np.ndarray:
    """A generated pigmented tile (:func:`mmnst_path.synthetic.pigment_family_tile`) of
    :data:`TILE_PX` analysis pixels at 0.5 µm/px, scaled to be read at ``mpp`` µm/px."""
    from ..synthetic import pigment_family_tile

    rgb = pigment_family_tile(seed, "whole_cell", chromogen=chromogen, size=TILE_PX, mpp=0.5).rgb
    factor = 0.5 / mpp
    if factor == 1.0:
        return rgb
    n = round(TILE_PX * factor)  # nearest-neighbour upscale: only the read path's kernels matter here
    idx = np.minimum((np.arange(n) / factor).astype(np.intp), TILE_PX - 1)
    return np.ascontiguousarray(rgb[idx][:, idx])


def compile_kernels(*, progress: Callable[[WarmupStep], None] | None = None) -> tuple[WarmupStep, ...]:
    """Run the default analyses once on small generated tiles, so that every numba kernel they
    use is compiled and written to numba's on-disk cache (a no-op in seconds when it is warm).

    Parameters
    ----------
    progress : callable, optional
        Called with each :class:`WarmupStep` as it finishes.

    Returns
    -------
    tuple of WarmupStep
        One per entry of :data:`WARMUP_CASES`, in order.

    Examples
    --------
    >>> from mmnst_path.pipeline import compile_kernels
    >>> steps = compile_kernels()  # doctest: +SKIP
    >>> sum(s.compiled for s in steps)  # doctest: +SKIP
    0
    """
    from ._config import AnalysisConfig
    from ._slide import analyze_region

    global _COMPILING
    steps = []
    outer, _COMPILING = _COMPILING, True
    try:
        for seed, (label, stains, chromogen, mpp) in enumerate(WARMUP_CASES):
            before = kernel_stats()
            t0 = time.perf_counter()
            analyze_region(_tile(chromogen, mpp, seed), AnalysisConfig(stains=stains), mpp=mpp, workers=1)
            after = kernel_stats()
            step = WarmupStep(label, time.perf_counter() - t0, after.compiled - before.compiled,
                              after.loaded - before.loaded)
            steps.append(step)
            if progress is not None:
                progress(step)
    finally:
        _COMPILING = outer
    return tuple(steps)


#: The child of :func:`compile_in_child`: a fresh interpreter (``-P``: nothing of the caller's
#: working directory on its path, no ``__main__`` of the caller's re-imported) that checks it imported
#: the caller's own ``mmnst_path`` (the folder holding it is ``sys.argv[1]``; another copy would fill
#: another cache: exit status :data:`_CHILD_OTHER_COPY`), compiles and exits.
_CHILD_CODE = (
    "import os, sys\n"
    "import mmnst_path\n"
    "here = os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(mmnst_path.__file__))))\n"
    "if here != os.path.realpath(sys.argv[1]):\n"
    "    sys.stderr.write('the child imported mmnst_path from ' + here + ', not ' + sys.argv[1] + '\\n')\n"
    "    sys.exit(3)\n"
    "from mmnst_path.pipeline._warmup import compile_kernels\n"
    "compile_kernels()\n"
)
_CHILD_OTHER_COPY = 3
#: Seconds the child may take (a cold compile takes 1-3 minutes on a loaded 2-core machine).
CHILD_TIMEOUT_S = 1800.0
_CHILD_LOCK = threading.Lock()


def compile_in_child(*, timeout_s: float | None = None) -> bool:
    """When numba's on-disk cache is cold (:func:`kernels_cached` is False), run
    :func:`compile_kernels` in a separate, fresh Python process and wait for it; return whether
    it ran and succeeded (at most once a process, also when several threads ask at once).

    Compiling holds LLVM's memory in the process that compiles until it exits (~160 MiB more
    peak RSS in a process that analyses a slide after compiling, benchmarks/README.md); compiled
    in a child, the analysing process and its workers load the kernels from the cache instead.
    The child inherits this process's environment, is started with ``-P`` (the working directory
    is not on its path) and checks that it imported this same ``mmnst_path``, so it writes the
    cache this process reads. Does nothing in a process already compiling (:func:`compile_kernels`'
    own analyses), with a warm cache, without numba, in a frozen application or without a Python
    executable to start; when the child cannot run, fails or takes longer than ``timeout_s``
    (default :data:`CHILD_TIMEOUT_S`), says why in a warning, returns False, and the kernels
    compile where they are first used, as they would without this step.
    """
    import os
    import subprocess
    import warnings
    from pathlib import Path

    global _CHILD_STARTED
    with _CHILD_LOCK:
        if _COMPILING or _CHILD_STARTED or kernels_cached() is not False:
            return False
        _CHILD_STARTED = True
    if getattr(sys, "frozen", False) or not sys.executable:  # no interpreter of ours to start
        return False
    root = str(Path(__file__).resolve().parents[2])  # the folder that holds the mmnst_path package
    limit = CHILD_TIMEOUT_S if timeout_s is None else float(timeout_s)
    try:
        done = subprocess.run([sys.executable, "-P", "-c", _CHILD_CODE, root], env=dict(os.environ), check=False,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=limit)
    except subprocess.TimeoutExpired:
        warnings.warn(f"compiling the analysis kernels in a child process took over {limit:.0f} s; stopped it, "
                      "the kernels compile where they are first used", RuntimeWarning, stacklevel=2)
        return False
    except (OSError, ValueError, TypeError) as exc:  # no interpreter to start: compiled where first used
        warnings.warn(f"could not start a process to compile the analysis kernels ({exc}); they compile "
                      "where they are first used", RuntimeWarning, stacklevel=2)
        return False
    if done.returncode != 0:
        tail = " ".join(done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:])
        warnings.warn(f"compiling the analysis kernels in a child process failed (exit status "
                      f"{done.returncode}: {tail or 'no message'}); they compile where they are first used",
                      RuntimeWarning, stacklevel=2)
        return False
    return True
