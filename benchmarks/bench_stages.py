"""Per-stage CPU timers for ``bench_slide.py --real`` and the before / after summary of ``--ab``.

The timers wrap the pipeline's stage functions in the measuring process (1 worker runs the tiles
in-process) and add the CPU time of the calling thread (``time.thread_time``) spent inside each
call, so a sampling thread or another process does not count. A stage's time includes the stages
nested in it (``ki67`` holds ``ki67.detect``, ``ki67.cell_model`` and ``ki67.outlines``; ``tile``
holds ``pigment`` and ``ki67``). Besides the time, each stage counts its calls and the pixels of
its first array argument (or of its result: the tile read), and ``decode`` counts the slide tiles decoded (misses of the reader's
decoded-tile cache): counts of work, the same in every run of one tree, which show what a change
removes without the noise of the clock.

A stage whose function a tree does not have is left out of that tree's runs (its columns read
``-``), so trees from before a stage existed can still be compared.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: (label, module, attribute path): the functions timed, inclusive of what they call
STAGES: tuple[tuple[str, str, str], ...] = (
    ("read", "mmnst_path.tiling.executor", "read_tile"),
    ("tile", "mmnst_path.pipeline._worker", "analyze_tile"),
    ("pigment", "mmnst_path.pipeline._worker", "_pigment"),
    ("ki67", "mmnst_path.quantify.ki67", "measure_ki67"),
    ("ki67.detect", "mmnst_path.detect.nuclei", "nuclei_from_stains"),
    ("ki67.cell_model", "mmnst_path.classify.cells", "cell_classes"),
    ("ki67.outlines", "mmnst_path.detect.outlines", "star_radii"),
)
#: (label, module, attribute path): calls counted only (decode = a slide tile decoded: a cache miss)
COUNTS: tuple[tuple[str, str, str], ...] = (("decode", "mmnst_path.io._tifffile", "_TileCache.put"),)


def _resolve(module: str, attr: str) -> tuple[Any, str, Any] | None:
    """(owner, name, function) of ``module.attr`` (``attr`` may be ``Class.method``), or None."""
    try:
        owner: Any = importlib.import_module(module)
    except ImportError:
        return None
    *path, name = attr.split(".")
    for part in path:
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    fn = getattr(owner, name, None)
    return None if fn is None else (owner, name, fn)


def _replace_everywhere(owner: Any, name: str, old: Any, new: Any) -> None:
    """Set ``owner.name = new`` and rebind every already-imported mmnst_path module attribute that
    holds ``old`` (a function imported by name at a module's top)."""
    setattr(owner, name, new)
    for modname, mod in list(sys.modules.items()):
        if modname.startswith("mmnst_path") and mod is not None and mod is not owner:
            for key, value in list(vars(mod).items()):
                if value is old:
                    setattr(mod, key, new)


def install() -> dict[str, dict[str, float]]:
    """Wrap the :data:`STAGES` and :data:`COUNTS` functions; return the live totals
    ``{label: {"cpu": s, "calls": n, "px": n, "hwm_rise": MiB}}`` (filled as the pipeline runs;
    ``hwm_rise``: how far the process's high-water RSS rose during the stage's calls, i.e. which
    stage sets the peak)."""
    totals: dict[str, dict[str, float]] = {}
    for label, module, attr in STAGES + COUNTS:
        found = _resolve(module, attr)
        if found is None:
            continue
        owner, name, fn = found
        rec = totals.setdefault(label, {"cpu": 0.0, "calls": 0.0, "px": 0.0, "hwm_rise": 0.0})
        timed = (label, module, attr) in STAGES
        wrapper = _timed(fn, rec) if timed else _counted(fn, rec)
        _replace_everywhere(owner, name, fn, wrapper)
    return totals


def _hwm() -> float:
    """The process's high-water RSS, MiB (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)


def _timed(fn: Callable[..., Any], rec: dict[str, float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        hwm, t = _hwm(), time.thread_time()
        out = fn(*args, **kwargs)
        rec["cpu"] += time.thread_time() - t
        rec["calls"] += 1
        rec["hwm_rise"] += _hwm() - hwm  # MiB the process's high-water mark rose during the call
        # pixels: of the first array argument (the image or labels it works on), else of the result
        arr = next((a for a in args if isinstance(a, np.ndarray)), out if isinstance(out, np.ndarray) else None)
        if arr is not None and arr.ndim >= 2:
            rec["px"] += float(arr.shape[0]) * float(arr.shape[1])
        return out

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def _counted(fn: Callable[..., Any], rec: dict[str, float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rec["calls"] += 1
        return fn(*args, **kwargs)

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


# ------------------------------------------------------------------------------------------------
# before / after summary
def _spread(values: Sequence[float]) -> float:
    return max(values) - min(values) if values else float("nan")


def ab_rows(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per measured quantity of paired runs (``before[i]`` and ``after[i]`` ran next to
    each other): means, spreads (max - min over the runs), the paired differences (after - before)
    and whether the change of the mean is resolved (``|mean after - mean before| > 3 x`` the larger
    of the two spreads; never with a single run of a tree; None for the high-water rise of a stage,
    which is not a verdict). Before and after must have the same number of runs. Quantities:
    ``whole`` (the process's CPU over ``analyze_slide``), every stage's CPU, the peak RSS (``hwm``,
    MiB) and the counts of work (calls, pixels, decodes)."""
    def series(runs: list[dict[str, Any]], key: str, field: str) -> list[float] | None:
        out = []
        for r in runs:
            if key == "whole":
                out.append(float(r["cpu"]))
            elif key == "hwm":
                out.append(float(r["rss_hwm"]) / 2**20)
            elif key in r.get("stages", {}) and field in r["stages"][key]:
                out.append(float(r["stages"][key][field]))
            else:
                return None
        return out

    def row(what: str, b: list[float], a: list[float], verdict: bool) -> dict[str, Any]:
        diffs = [y - x for x, y in zip(b, a, strict=True)]
        spread = max(_spread(b), _spread(a))
        delta = statistics.fmean(a) - statistics.fmean(b)
        return {"what": what, "before": b, "after": a, "mean_before": statistics.fmean(b),
                "mean_after": statistics.fmean(a), "spread_before": _spread(b), "spread_after": _spread(a),
                "diff_mean": statistics.fmean(diffs), "diff_min": min(diffs), "diff_max": max(diffs),
                "resolved": (len(b) > 1 and len(a) > 1 and abs(delta) > 3 * spread) if verdict else None}

    labels = ["whole"] + [s[0] for s in STAGES] + ["hwm"]
    rows = []
    for key in labels:
        b, a = series(before, key, "cpu"), series(after, key, "cpu")
        if b is None or a is None:
            rows.append({"what": key, "missing": True})
            continue
        r = row(key, b, a, verdict=True)
        if key not in ("whole", "hwm"):  # the work counts (deterministic: first run of each tree)
            for field in ("calls", "px"):
                r[f"{field}_before"] = before[0]["stages"][key][field]
                r[f"{field}_after"] = after[0]["stages"][key][field]
        rows.append(r)
    # where the high-water mark rose (MiB, summed over the stage's calls): a place to look, never a
    # verdict (no "resolved"): it follows the allocator's state, and an A/A run of one tree against
    # itself moved it by 14 MiB with spreads of 0-3 MiB (benchmarks/README.md, session 22)
    for label, _, _ in STAGES:
        b, a = series(before, label, "hwm_rise"), series(after, label, "hwm_rise")
        if b is not None and a is not None:
            rows.append(row(f"{label} hwm rise", b, a, verdict=False))
    for label, _, _ in COUNTS:
        b, a = series(before, label, "calls"), series(after, label, "calls")
        if b is not None and a is not None:
            rows.append({"what": label, "count": True, "before": b, "after": a})
    return rows


def _verdict(resolved: bool | None) -> str:
    return "-" if resolved is None else ("yes" if resolved else "no")


def ab_table(rows: list[dict[str, Any]], name: str) -> list[str]:
    """Markdown lines of :func:`ab_rows` for one slide."""
    out = [f"#### {name}", "",
           "| what | before (each run) | after (each run) | mean before -> after | spread before / after | "
           "paired diff mean [min, max] | resolved (> 3x spread) | calls before -> after | MPx before -> after |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("missing"):
            out.append(f"| {r['what']} | - | - | - | - | - | - | - | - |")
            continue
        if r.get("count"):
            out.append(f"| {r['what']} (count) | {', '.join(f'{v:.0f}' for v in r['before'])} | "
                       f"{', '.join(f'{v:.0f}' for v in r['after'])} | - | - | - | - | "
                       f"{r['before'][0]:.0f} -> {r['after'][0]:.0f} | - |")
            continue
        unit = "MiB" if r["what"] == "hwm" or r["what"].endswith("hwm rise") else "s"
        fmt = ".0f" if unit == "MiB" else ".3f"
        calls = px = "-"
        if "calls_before" in r:
            calls = f"{r['calls_before']:.0f} -> {r['calls_after']:.0f}"
            px = f"{r['px_before'] / 1e6:.2f} -> {r['px_after'] / 1e6:.2f}"
        out.append(
            f"| {r['what']} ({unit}) | {', '.join(format(v, fmt) for v in r['before'])} | "
            f"{', '.join(format(v, fmt) for v in r['after'])} | {r['mean_before']:{fmt}} -> {r['mean_after']:{fmt}} | "
            f"{r['spread_before']:{fmt}} / {r['spread_after']:{fmt}} | {r['diff_mean']:+{fmt}} "
            f"[{r['diff_min']:+{fmt}}, {r['diff_max']:+{fmt}}] | {_verdict(r['resolved'])} | {calls} | {px} |")
    whole = next(r for r in rows if r["what"] == "whole")
    if not whole.get("missing"):
        ok = whole["mean_after"] <= whole["mean_before"] + max(whole["spread_before"], whole["spread_after"])
        out += ["", f"whole run not slower (mean after <= mean before + the larger spread): {'yes' if ok else 'NO'}"]
    return out
