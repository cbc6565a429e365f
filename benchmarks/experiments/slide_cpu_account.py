"""Experiment (#16, session 27 H3): where one whole-slide run's CPU goes, stage by stage.

Each run is a fresh, single-threaded process: ``analyze_slide`` (1 worker, Ki67 forced, H-DAB, the
slide read at the given µm/px) and then ``report.write_result`` with the default outputs into a
temporary folder. The stage functions below are wrapped by inclusive timers of the calling thread's
CPU (``time.thread_time``: 1 worker runs the tiles in this thread) that also add up the pixels each
stage ran on. The table's rows are exclusive (a parent less its timed children), so they add up
to the process CPU. "Tissue MPx per CPU s" is the slide's tissue area at the analysis resolution
over the row's CPU: how fast the slide would go if only that stage ran. The halo lines estimate
the CPU a stage spends on pixels no tile owns (its CPU times the share of its input outside the
tile cores).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/slide_cpu_account.py SLIDE[@MPP]... [--runs 2]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

#: (module, attribute, label, area): the timed functions; area: 0 = none, 1 = the first argument's
#: pixels, 2 = the second argument's (the planned tile of ``read_tile``)
WRAPPED: tuple[tuple[str, str, str, int], ...] = (
    ("mmnst_path.tiling", "detect_tissue", "tissue mask", 0),
    ("mmnst_path.pipeline._region", "CountRegion.from_tissue", "counted region slide", 0),
    ("mmnst_path.pipeline._region", "TileRegion.pixels", "counted region tile", 0),
    ("mmnst_path.pipeline._region", "TileRegion.inside", "counted region tile", 0),
    ("mmnst_path.tiling.executor", "read_tile", "read tile", 2),
    ("mmnst_path.pipeline._worker", "analyze_tile", "tile", 1),
    ("mmnst_path.pipeline._worker", "_pigment", "pigment", 1),
    ("mmnst_path.pipeline._worker", "tumour_region", "tissue classes / necrosis", 0),
    ("mmnst_path.quantify.necrosis", "measure_necrosis", "tissue classes / necrosis", 0),
    ("mmnst_path.quantify.ki67", "measure_ki67", "ki67", 1),
    ("mmnst_path.stain", "separate_stains", "ki67: unmixing", 0),
    ("mmnst_path.detect.nuclei", "nuclei_from_stains", "ki67: nuclei", 1),
    ("mmnst_path.classify.cells", "cell_classes", "ki67: cell classes", 0),
    ("mmnst_path.detect.outlines", "star_radii", "ki67: outlines", 0),
)

#: (row, label it adds, labels it subtracts): the exclusive rows of the table
ROWS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("open, plan, models, aggregate", ("analysis",), ("tile", "read tile", "tissue mask", "counted region slide")),
    ("tissue mask (thumbnail read + detection)", ("tissue mask",), ()),
    ("counted region (slide mask, tile pixels, cells)", ("counted region slide", "counted region tile"), ()),
    ("read tile (decode + resample)", ("read tile",), ()),
    ("tissue classes / necrosis measure", ("tissue classes / necrosis",), ()),
    ("pigment stage", ("pigment",), ()),
    ("Ki67: unmixing not reused from the pigment stage", ("ki67: unmixing",), ()),
    ("Ki67: nucleus detection", ("ki67: nuclei",), ()),
    ("Ki67: cell classes", ("ki67: cell classes",), ()),
    ("Ki67: outlines", ("ki67: outlines",), ()),
    ("Ki67: rest", ("ki67",), ("ki67: unmixing", "ki67: nuclei", "ki67: cell classes", "ki67: outlines")),
    ("tile: rest", ("tile",), ("pigment", "ki67", "tissue classes / necrosis", "counted region tile")),
    ("writing outputs", ("writing",), ()),
)


def _install(cpu: dict[str, float], area: dict[str, float]) -> None:
    """Wrap every :data:`WRAPPED` function (and rebind the names modules imported it under)."""
    for module, attr, label, which in WRAPPED:
        owner: Any = importlib.import_module(module)
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        fn = getattr(owner, name)

        def timed(*a: Any, _fn: Any = fn, _label: str = label, _which: int = which, **k: Any) -> Any:
            t = time.thread_time()
            try:
                return _fn(*a, **k)
            finally:
                cpu[_label] += time.thread_time() - t
                if _which:
                    shape = a[_which - 1].shape
                    area[_label] += float(shape[0] * shape[1])

        setattr(owner, name, timed)
        for mod in list(sys.modules.values()):
            if mod is not None and getattr(mod, "__name__", "").startswith("mmnst_path") and mod is not owner:
                for key, value in list(vars(mod).items()):
                    if value is fn:
                        setattr(mod, key, timed)


def _child(spec: str) -> None:
    """One run in this process; prints one JSON line."""
    import mmnst_path.pipeline._worker
    import mmnst_path.quantify.ki67  # noqa: F401  (both imported before wrapping: their names are rebound)
    from mmnst_path import report
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    path, _, mpp = spec.partition("@")
    cpu: dict[str, float] = defaultdict(float)
    area: dict[str, float] = defaultdict(float)
    _install(cpu, area)
    c0 = time.process_time()
    res = analyze_slide(path, AnalysisConfig(measures=("ki67",), stains="H-DAB"), mpp=float(mpp) if mpp else None,
                        workers=1)
    cpu["analysis"] = time.process_time() - c0
    with tempfile.TemporaryDirectory() as out:
        t = time.thread_time()
        report.write_result(res, out)
        cpu["writing"] = time.thread_time() - t
    cpu["total"] = time.process_time() - c0
    owned = float(sum(int(c[2]) * int(c[3]) for c in res.tiles.core)) / ((res.analysis_mpp / res.mpp) ** 2)
    print("RESULT " + json.dumps({"cpu": cpu, "area": area, "owned_px": owned, "tiles": len(res.tiles.core),
                                  "tissue_mpx": res.metrics["tissue_area_mm2"] / res.analysis_mpp**2,
                                  "load": os.getloadavg()[0]}), flush=True)


def _table(runs: dict[str, list[dict]]) -> list[str]:
    names = list(runs)
    mean = {s: {k: statistics.mean(r["cpu"].get(k, 0.0) for r in runs[s]) for k in
                {k for r in runs[s] for k in r["cpu"]}} for s in names}
    mpx = {s: runs[s][0]["tissue_mpx"] for s in names}
    head = " | ".join(f"{Path(s.partition('@')[0]).stem} CPU s | % | tissue MPx per CPU s" for s in names)
    lines = [f"| stage | {head} |", "|---|" + "---:|---:|---:|" * len(names)]
    for row, plus, minus in ROWS:
        cells = []
        for s in names:
            v = sum(mean[s].get(k, 0.0) for k in plus) - sum(mean[s].get(k, 0.0) for k in minus)
            speed = f"{mpx[s] / v:.1f}" if v > 0.005 else "-"
            cells.append(f"{v:.2f} | {100 * v / mean[s]['total']:.1f} | {speed}")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines.append("| **whole run (process CPU)** | " + " | ".join(
        f"**{mean[s]['total']:.2f}** | 100 | **{mpx[s] / mean[s]['total']:.3f}**" for s in names) + " |")
    for s in names:
        r = runs[s][0]
        halo = ", ".join(f"{k} {r['area'][k] / 1e6:.2f} MPx = {r['area'][k] / r['owned_px']:.2f}x owned, "
                         f"~{mean[s][k] * (1 - r['owned_px'] / r['area'][k]):.2f} s on pixels no tile owns"
                         for k in ("pigment", "ki67: nuclei") if r["area"].get(k))
        lines.append(f"\n{s}: {len(runs[s])} run(s), CPU {[round(x['cpu']['total'], 2) for x in runs[s]]}, "
                     f"{r['tiles']} tiles, tissue {mpx[s]:.2f} MPx, owned {r['owned_px'] / 1e6:.2f} MPx; {halo}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("slides", nargs="+", metavar="SLIDE[@MPP]")
    ap.add_argument("--runs", type=int, default=2, help="fresh processes per slide (alternating slides)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.slides[0])
        return
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    runs: dict[str, list[dict]] = {s: [] for s in args.slides}
    for _ in range(args.runs):
        for spec in args.slides:
            proc = subprocess.run([sys.executable, __file__, "--child", spec], check=True, capture_output=True,
                                  text=True, env=env)
            line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
            runs[spec].append(json.loads(line[len("RESULT "):]))
    print("\n".join(_table(runs)))


if __name__ == "__main__":
    main()
