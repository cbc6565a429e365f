"""Experiment (#16, session 38 H4): does a slide's H&E melanin depend on where its tiles are cut?

``run SLIDE MPP OUT --tile-um T`` (run from one package tree, with it first on ``PYTHONPATH``)
analyses a slide as the CLI does (``analyze_slide(SLIDE, AnalysisConfig(stains="auto", tile_um=T),
mpp=MPP, workers=1)``) and writes OUT (JSON): the melanin metrics and counts, the sha256 of every
low-resolution map, the tile count and the process CPU of ``analyze_slide``; the melanin map is
saved beside it (``OUT.melanin.npy``). ``tile_um = 16000`` is the one-tile reference (the whole slide
one core, white past its edge).

Attribution (how much of the difference the ``blob_*`` body features explain): ``--bodies capture
FILE`` (with the one-tile run) saves the brown-body labels and table the H&E pixel model reads,
in slide analysis-grid coordinates; ``--bodies use FILE`` (with a tiled run) makes every tile read
its body features from that one-tile table (the labels cropped at the tile image's place), all
other features from the tile. Both need ``--measures melanin --no-lean`` (the pigment stage then
reads the whole tile image, whose origin is the tile's ``origin``; the lean path is exact).

``compare A B`` prints the melanin entries that differ between two dumps. ``speed SLIDE MPP H C H2 OUT``:
the rule's CPU gate (the pigment stage's process CPU, ``_worker._pigment`` timed, and the run's).

    PYTHONPATH=TREE python benchmarks/experiments/tile_cut_melanin_s38.py run SLIDE MPP OUT --tile-um 512
    python benchmarks/experiments/tile_cut_melanin_s38.py compare A B
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SCRIPT = Path(__file__).resolve()
_TILE: dict[str, Any] = {}


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _hook_bodies(mode: str, path: Path) -> None:
    """Patch the pipeline so the H&E body table is captured (one tile) or read from a capture."""
    from mmnst_path.classify import pigment as pig
    from mmnst_path.pipeline import _slide, _worker

    real_tile, real_table = _worker.analyze_tile, pig._body_table
    store: dict[str, Any] = {}
    if mode == "use":
        with np.load(path) as z:
            store.update(labels=z["labels"], table=z["table"], origin=tuple(int(v) for v in z["origin"]))

    def tile_hook(rgb: np.ndarray, tile: Any, job: Any) -> Any:
        _TILE["tile"] = tile
        return real_tile(rgb, tile, job)

    def table_hook(total: np.ndarray, fine: Any, mpp: float, *, brown: Any = None) -> Any:
        tile = _TILE["tile"]
        if total.shape != tuple(tile.shape):
            msg = f"the pigment stage read {total.shape}, not the tile image {tile.shape}: run with --no-lean"
            raise SystemExit(msg)
        if mode == "capture":
            labels, table = real_table(total, fine, mpp, brown=brown)
            np.savez(path, labels=labels, table=table, origin=np.asarray(tile.origin))
            return labels, table
        r0, c0 = tile.origin[0] - store["origin"][0], tile.origin[1] - store["origin"][1]
        lab = store["labels"][r0 : r0 + total.shape[0], c0 : c0 + total.shape[1]]
        if lab.shape != total.shape:
            msg = f"tile at {tile.origin} lies outside the captured one-tile image"
            raise SystemExit(msg)
        return np.ascontiguousarray(lab), store["table"]

    _worker.analyze_tile = tile_hook
    _slide.analyze_tile = tile_hook  # (imported there by name)
    pig._body_table = table_hook


def _time_pigment() -> list[float]:
    """Patch the pipeline's pigment stage (``_worker._pigment``) to add its process CPU to the list returned."""
    from mmnst_path.pipeline import _worker

    spent: list[float] = []
    real = _worker._pigment

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append(time.process_time() - t0)

    _worker._pigment = timed
    return spent


def run(slide: str, mpp: float, out: Path, tile_um: float, measures: str, lean: bool,
        bodies: tuple[str, Path] | None) -> None:
    """Analyse ``slide`` and write the dump (see the module docstring)."""
    from mmnst_path.pipeline import AnalysisConfig, _worker, analyze_slide

    pigment_cpu = _time_pigment()

    cfg = AnalysisConfig(stains="auto").replace(tile_um=float(tile_um))
    if measures != "default":
        cfg = cfg.replace(measures=tuple(measures.split(",")))
    if not lean:
        _worker.LEAN_TILES = False
    if bodies is not None:
        _hook_bodies(*bodies)
    t0 = time.process_time()
    res = analyze_slide(slide, cfg, mpp=mpp, workers=1)
    cpu = time.process_time() - t0
    counts = res.counts.get("melanin")
    dump = {
        "tile_um": tile_um, "measures": list(res.measures), "cpu_s": cpu, "pigment_cpu_s": sum(pigment_cpu),
        "tiles": len(res.tiles),
        "metrics": {k: repr(float(v)) for k, v in res.metrics.items() if "melanin" in k},
        "melanin_um2": repr(float(counts.melanin_um2)) if counts is not None else None,
        "maps": {k: _sha(np.asarray(v.image)) for k, v in res.maps.items()},
    }
    out.write_text(json.dumps(dump, indent=1))
    if "melanin" in res.maps:
        np.save(str(out) + ".melanin.npy", np.asarray(res.maps["melanin"].image))
    print(out.name, "tile_um", tile_um, "cpu", cpu, "melanin_um2", dump["melanin_um2"], "fraction",
          dump["metrics"].get("melanin_fraction_pct"), "tiles", len(res.tiles), flush=True)


def compare(a: Path, b: Path) -> int:
    """Print the melanin entries that differ between dumps ``a`` and ``b``; their count and the map's."""
    da, db = (json.loads(p.read_text()) for p in (a, b))
    n = 0
    for key in ("melanin_um2",):
        if da[key] != db[key]:
            n += 1
            print(key, da[key], db[key])
    for k in sorted(set(da["metrics"]) | set(db["metrics"])):
        va, vb = da["metrics"].get(k), db["metrics"].get(k)
        if va != vb:
            n += 1
            print(k, va, vb, "diff", float(vb or "nan") - float(va or "nan"))
    ma, mb = (np.load(str(p) + ".melanin.npy") for p in (a, b))
    if ma.shape != mb.shape or not np.array_equal(ma, mb, equal_nan=True):
        n += 1
        d = np.abs(np.nan_to_num(ma) - np.nan_to_num(mb)) if ma.shape == mb.shape else np.array([np.inf])
        print("melanin map differs: blocks", int(np.count_nonzero(d)), "max |d|", float(d.max()))
    print("differing entries:", n)
    return n


def speed(slide: str, mpp: float, trees: dict[str, Path], out: Path) -> None:
    """The rule's CPU gate: pigment-stage and whole-run process CPU of fresh single-threaded default runs,
    a discarded warm-up per tree, then H C C H H C and the A/A series H H2 H2 H; medians and ratios to OUT."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1")

    def one(tag: str) -> tuple[float, float]:
        tree = trees[tag]
        dump = out.parent / f"{out.stem}_{tag}_{time.time_ns()}.json"
        subprocess.run([sys.executable, str(SCRIPT), "run", slide, str(mpp), str(dump), "--tile-um", "512"],
                       cwd=tree, env=dict(env, PYTHONPATH=str(tree)), check=True, capture_output=True)
        d = json.loads(dump.read_text())
        print(tag, d["pigment_cpu_s"], d["cpu_s"], flush=True)
        return float(d["pigment_cpu_s"]), float(d["cpu_s"])

    for tag in ("H", "C", "H2"):
        one(tag)  # warm-up (numba cache, models): discarded
    runs: dict[str, list[tuple[float, float]]] = {"H": [], "C": [], "Haa": [], "H2": []}
    load0 = os.getloadavg()
    for tag in ("H", "C", "C", "H", "H", "C"):
        runs[tag].append(one(tag))
    for tag in ("H", "H2", "H2", "H"):
        runs["Haa" if tag == "H" else "H2"].append(one(tag))
    med = {k: statistics.median(p for p, _ in v) for k, v in runs.items()}
    med_all = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    result = {"runs_pigment_cpu_total_cpu": runs, "medians_pigment": med, "medians_total": med_all,
              "ratio_C_over_H": med["C"] / med["H"], "aa_H2_over_H": med["H2"] / med["Haa"],
              "ratio_total_C_over_H": med_all["C"] / med_all["H"], "aa_total": med_all["H2"] / med_all["Haa"],
              "load_start": load0, "load_end": os.getloadavg()}
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("slide")
    r.add_argument("mpp", type=float)
    r.add_argument("out", type=Path)
    r.add_argument("--tile-um", type=float, default=512.0)
    r.add_argument("--measures", default="default")
    r.add_argument("--no-lean", action="store_true")
    r.add_argument("--bodies", nargs=2, metavar=("MODE", "FILE"), default=None)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    sp = sub.add_parser("speed")
    sp.add_argument("slide")
    sp.add_argument("mpp", type=float)
    for name in ("h", "c", "h2"):
        sp.add_argument(name, type=Path)
    sp.add_argument("out", type=Path)
    a = p.parse_args()
    if a.cmd == "run":
        bodies = None if a.bodies is None else (a.bodies[0], Path(a.bodies[1]))
        run(a.slide, a.mpp, a.out, a.tile_um, a.measures, not a.no_lean, bodies)
    elif a.cmd == "compare":
        compare(a.a, a.b)
    else:
        speed(a.slide, a.mpp, {"H": a.h, "C": a.c, "H2": a.h2}, a.out)


if __name__ == "__main__":
    main()
