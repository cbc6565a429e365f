"""Experiment (#16, session 37 H10): does a slide's melanin depend on which other measures ran?

``run SLIDE MPP OUT --arm ARM`` (run with one package tree first on ``PYTHONPATH``, from that tree)
analyses a slide as the CLI does (``analyze_slide(SLIDE, AnalysisConfig(stains="auto"), mpp=MPP,
workers=1)``) and writes OUT (JSON): every metric, every count (as a mapping), the sha256 of every
low-resolution map, per tile the core and its melanin / necrosis / class areas, the tissue classes,
and the process CPU of ``analyze_slide`` (``time.process_time``) and its peak RSS. Arms: ``default``
(the measures that apply), ``melanin`` (``measures=("melanin",)``), ``onetile`` (the default
measures, ``tile_um`` larger than the slide: one tile, white past the slide's edge); the melanin map
is saved beside OUT (``OUT.melanin.npy``) for the picture.

``compare A B [--keys melanin]`` prints the entries that differ between two dumps (all, or only the
keys containing a word). ``speed SLIDE MPP H C H2 OUT`` runs the rule's CPU gate: per tree one
discarded process, then fresh single-threaded processes of the ``default`` arm in the order H C C H H C,
then the A/A series H H2 H2 H, and writes every figure to OUT.

    PYTHONPATH=TREE python benchmarks/experiments/melanin_context_s37.py run SLIDE MPP OUT --arm default
    python benchmarks/experiments/melanin_context_s37.py compare A B
    python benchmarks/experiments/melanin_context_s37.py speed SLIDE MPP H C H2 OUT
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SCRIPT = Path(__file__).resolve()


def _plain(value: Any) -> Any:
    """JSON-ready form of a count object, array or scalar (arrays as dtype, shape, sha256)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return {"dtype": str(value.dtype), "shape": list(value.shape),
                "sha256": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return repr(float(value))  # (exact: compared as text)
    if isinstance(value, (np.integer, int, bool, np.bool_)):
        return int(value) if not isinstance(value, (bool, np.bool_)) else bool(value)
    return str(value)


def run(slide: str, mpp: float, out: Path, arm: str) -> None:
    """Analyse ``slide`` in arm ``arm`` and write the dump (see the module docstring)."""
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    cfg = AnalysisConfig(stains="auto")
    if arm == "melanin":
        cfg = cfg.replace(measures=("melanin",))
    elif arm == "onetile":
        cfg = cfg.replace(tile_um=16000.0)
    elif arm != "default":
        msg = f"arm must be default, melanin or onetile, got {arm!r}"
        raise SystemExit(msg)
    t0 = time.process_time()
    res = analyze_slide(slide, cfg, mpp=mpp, workers=1)
    cpu = time.process_time() - t0
    tiles = res.tiles
    cols = {name: np.asarray(tiles.columns[name]).tolist() for name in tiles.columns
            if name != "seconds"} if hasattr(tiles, "columns") else {}
    dump = {
        "arm": arm, "measures": list(res.measures), "cpu_s": cpu,
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "metrics": _plain(dict(res.metrics)),
        "counts": _plain(dict(res.counts)),
        "maps": {k: _plain(np.asarray(v.image)) for k, v in res.maps.items()},
        "tissue_classes": _plain(dict(res.tissue_classes or {})),
        "tiles": _plain(cols),
    }
    out.write_text(json.dumps(dump, indent=1))
    if "melanin" in res.maps:
        np.save(str(out) + ".melanin.npy", np.asarray(res.maps["melanin"].image))
    m = res.metrics
    print(arm, "cpu", cpu, "melanin_um2", _plain(res.counts["melanin"])["melanin_um2"] if "melanin" in res.counts
          else None, "fraction", m.get("melanin_fraction_pct"), "tiles", len(res.tiles))


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(value, list):
        return {prefix: json.dumps(value)}
    return {prefix: value}


def compare(a: Path, b: Path, keys: str | None) -> int:
    """Print every entry that differs between dumps ``a`` and ``b`` (timing dropped); their count."""
    fa, fb = (_flat({k: v for k, v in json.loads(p.read_text()).items() if k not in ("cpu_s", "maxrss_kib", "arm")})
              for p in (a, b))
    n = 0
    for k in sorted(set(fa) | set(fb)):
        if "seconds" in k or "time" in k or (keys and keys not in k):
            continue
        if fa.get(k, "<absent>") != fb.get(k, "<absent>"):
            n += 1
            print(f"{k}: {str(fa.get(k, '<absent>'))[:160]} | {str(fb.get(k, '<absent>'))[:160]}")
    print("differing entries:", n)
    return n


def speed(slide: str, mpp: float, trees: dict[str, Path], out: Path) -> None:
    """The rule's CPU gate (see the module docstring)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1")

    def one(tag: str) -> float:
        tree = trees[tag]
        dump = out.parent / f"{out.stem}_{tag}_{time.time_ns()}.json"
        subprocess.run([sys.executable, str(SCRIPT), "run", slide, str(mpp), str(dump), "--arm", "default"],
                       cwd=tree, env=dict(env, PYTHONPATH=str(tree)), check=True, capture_output=True)
        cpu = float(json.loads(dump.read_text())["cpu_s"])
        print(tag, cpu, flush=True)
        return cpu

    for tag in ("H", "C", "H2"):
        one(tag)  # warm-up (numba cache, models): discarded
    runs: dict[str, list[float]] = {"H": [], "C": [], "Haa": [], "H2": []}
    for tag in ("H", "C", "C", "H", "H", "C"):
        runs[tag].append(one(tag))
    for tag in ("H", "H2", "H2", "H"):
        runs["Haa" if tag == "H" else "H2"].append(one(tag))
    med = {k: statistics.median(v) for k, v in runs.items()}
    result = {"runs": runs, "medians": med, "ratio_C_over_H": med["C"] / med["H"],
              "aa_H2_over_H": med["H2"] / med["Haa"], "load": os.getloadavg()}
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("slide")
    r.add_argument("mpp", type=float)
    r.add_argument("out", type=Path)
    r.add_argument("--arm", default="default")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    c.add_argument("--keys", default=None)
    s = sub.add_parser("speed")
    s.add_argument("slide")
    s.add_argument("mpp", type=float)
    s.add_argument("h", type=Path)
    s.add_argument("c", type=Path)
    s.add_argument("h2", type=Path)
    s.add_argument("out", type=Path)
    a = p.parse_args()
    if a.cmd == "run":
        run(a.slide, a.mpp, a.out, a.arm)
    elif a.cmd == "compare":
        compare(a.a, a.b, a.keys)
    else:
        speed(a.slide, a.mpp, {"H": a.h, "C": a.c, "H2": a.h2}, a.out)


if __name__ == "__main__":
    main()
