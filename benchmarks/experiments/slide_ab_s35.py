"""Experiment (#16, session 35 H1): whole slides, two package trees interleaved: ``slide_cpu_account.py``'s run
(``analyze_slide``, 1 worker, Ki67 forced, H-DAB, then ``write_result``) in fresh single-threaded processes,
alternating HEAD and CAND for every slide and run; per tree and slide the tissue MPx per process CPU second and
the Ki67 figures of the result (index, positive and counted nuclei).

    python slide_ab_s35.py HEAD CAND SLIDE[@MPP]... [--runs 2]

Each process runs with ``PYTHONPATH`` = its tree and that tree as working folder (this file and
``slide_cpu_account.py`` are read from here; the package from the tree).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KI67_KEYS = ("ki67_index_pct", "ki67_positive", "ki67_negative", "ki67_denominator", "ki67_excluded")


def _child(spec: str) -> None:
    """``slide_cpu_account``'s child, then one ``KI67`` JSON line of the result's Ki67 metrics."""
    sys.path.insert(0, str(HERE))
    import slide_cpu_account  # type: ignore[import-not-found]

    import mmnst_path.pipeline

    kept: list[Any] = []
    original = mmnst_path.pipeline.analyze_slide

    def keep(*a: Any, **k: Any) -> Any:
        res = original(*a, **k)
        kept.append(res)
        return res

    mmnst_path.pipeline.analyze_slide = keep  # type: ignore[assignment]
    slide_cpu_account._child(spec)
    res = kept[-1]
    cells = getattr(res, "cells", None)
    print("KI67 " + json.dumps({**{k: res.metrics.get(k) for k in KI67_KEYS},
                                "cells": None if cells is None else len(cells)}), flush=True)


def _run(tree: str, spec: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=tree)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    out = subprocess.run([sys.executable, __file__, "--child", spec], cwd=tree, env=env, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    res = json.loads([ln for ln in out if ln.startswith("RESULT ")][-1][len("RESULT "):])
    res["ki67"] = json.loads([ln for ln in out if ln.startswith("KI67 ")][-1][len("KI67 "):])
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("items", nargs="+", help="HEAD CAND SLIDE[@MPP]... (or the slide spec with --child)")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    if args.child:
        _child(args.items[0])
        return
    trees = {"HEAD": args.items[0], "CAND": args.items[1]}
    slides = args.items[2:]
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for k in range(args.runs):
        for spec in slides:
            order = ("HEAD", "CAND") if k % 2 == 0 else ("CAND", "HEAD")
            for t in order:
                r = _run(trees[t], spec)
                runs.setdefault((spec, t), []).append(r)
                print(f"{Path(spec).name} {t} run {k}: CPU {r['cpu']['total']!r} s, tissue {r['tissue_mpx']!r} MPx, "
                      f"load {r['load']:.1f}, {r['ki67']}", flush=True)
    print("\n| slide | tree | CPU s per run | tissue MPx per CPU s | Ki67 index % | positive | counted | cells |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for (spec, t), rs in runs.items():
        cpu = [r["cpu"]["total"] for r in rs]
        k = rs[0]["ki67"]
        print(f"| {Path(spec).name} | {t} | {', '.join(f'{c:.2f}' for c in cpu)} | "
              f"{rs[0]['tissue_mpx'] / statistics.mean(cpu):.4f} | {k.get('ki67_index_pct')!r} | "
              f"{k.get('ki67_positive')!r} | {k.get('ki67_denominator')!r} | {k.get('cells')!r} |")


if __name__ == "__main__":
    main()
