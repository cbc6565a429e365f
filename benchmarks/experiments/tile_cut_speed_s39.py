"""Session 39 H4 (#16), gate 5: pigment-stage CPU of the default slide run, candidate vs HEAD, with an A/A control.

``speed SLIDE MPP H C H2 OUT`` runs ``tile_cut_melanin_s38.py run SLIDE MPP DUMP --tile-um 512`` (the default run,
``AnalysisConfig(stains="auto")``, 1 worker; it times ``_worker._pigment`` with ``time.process_time``, summed over
the tiles) in fresh single-threaded processes from the trees H (HEAD), C (candidate) and H2 (a second copy of HEAD).
First it waits until the 1-minute load average is below ``--max-load`` (checked every 30 s, at most ``--wait-s``;
else it writes why and stops), then one discarded warm-up per tree (H, C, H2), then ``--rounds`` rounds, each
running the three trees once in the next of the six orders of (H, C, H2) in turn. Ratio = median(C) / median(H);
A/A = median(H2) / median(H). Everything (each run's pigment and whole-run CPU, loads) goes to OUT (JSON).

    python benchmarks/experiments/tile_cut_speed_s39.py SLIDE MPP H C H2 OUT --rounds 8
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNNER = Path(__file__).resolve().parent / "tile_cut_melanin_s38.py"


def one(tree: Path, slide: str, mpp: float, dump: Path) -> tuple[float, float]:
    """(pigment-stage CPU s, whole-run CPU s) of one fresh default run of ``slide`` from ``tree``."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1", PYTHONPATH=str(tree))
    subprocess.run([sys.executable, str(RUNNER), "run", slide, str(mpp), str(dump), "--tile-um", "512"],
                   cwd=tree, env=env, check=True, capture_output=True)
    d = json.loads(dump.read_text())
    return float(d["pigment_cpu_s"]), float(d["cpu_s"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("slide")
    ap.add_argument("mpp", type=float)
    ap.add_argument("h", type=Path)
    ap.add_argument("c", type=Path)
    ap.add_argument("h2", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--max-load", type=float, default=3.0)
    ap.add_argument("--wait-s", type=float, default=900.0)
    a = ap.parse_args()
    trees = {"H": a.h, "C": a.c, "H2": a.h2}
    t0 = time.time()
    while os.getloadavg()[0] >= a.max_load:
        if time.time() - t0 > a.wait_s:
            a.out.write_text(json.dumps({"not_run": f"load {os.getloadavg()} >= {a.max_load} for {a.wait_s} s"}))
            print("not run: load", os.getloadavg(), flush=True)
            return
        time.sleep(30)
    load_check = os.getloadavg()
    work = a.out.parent / f"{a.out.stem}_dumps"
    work.mkdir(parents=True, exist_ok=True)
    for tag in ("H", "C", "H2"):  # warm-ups (numba caches, models): discarded
        print("warm-up", tag, one(trees[tag], a.slide, a.mpp, work / f"warm_{tag}.json"), flush=True)
    orders = list(itertools.permutations(("H", "C", "H2")))
    runs: dict[str, list[list[float]]] = {"H": [], "C": [], "H2": []}
    sequence = []
    for i in range(a.rounds):
        for tag in orders[i % len(orders)]:
            p, w = one(trees[tag], a.slide, a.mpp, work / f"r{i}_{tag}.json")
            runs[tag].append([p, w])
            sequence.append(tag)
            print(i, tag, p, w, flush=True)
    med = {k: statistics.median(p for p, _ in v) for k, v in runs.items()}
    med_all = {k: statistics.median(w for _, w in v) for k, v in runs.items()}
    result = {"slide": a.slide, "mpp": a.mpp, "trees": {k: str(v) for k, v in trees.items()},
              "load_at_check": load_check, "load_end": os.getloadavg(), "started": t0, "ended": time.time(),
              "sequence": sequence, "runs_pigment_whole": runs, "medians_pigment": med, "medians_whole": med_all,
              "ratio_C_over_H": med["C"] / med["H"], "aa_H2_over_H": med["H2"] / med["H"],
              "ratio_whole_C_over_H": med_all["C"] / med_all["H"], "aa_whole": med_all["H2"] / med_all["H"]}
    a.out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("medians_pigment", "ratio_C_over_H", "aa_H2_over_H",
                                             "ratio_whole_C_over_H", "aa_whole", "load_at_check", "load_end")},
                     indent=1))


if __name__ == "__main__":
    main()
