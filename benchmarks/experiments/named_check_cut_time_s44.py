"""Session 44 H8 (#16): gate 1's timing. Every pass is a fresh subprocess of one source tree (its ``PYTHONPATH``,
checked), timing the per-tile default pipeline with stains named H-DAB as ``bench_peers.py`` runs it
(``analyze_region(rgb, AnalysisConfig(stains="H-DAB"), mpp=mpp)``) with the child's CPU clock
(``time.process_time`` around each call; decoding and one warm-up tile of each set untimed), one thread.
The trees alternate over the rounds: the six orders of the three trees, then the same six reversed (ABBA).

Usage::

    python benchmarks/experiments/named_check_cut_time_s44.py run --tree H=DIR --tree C=DIR --tree H2=DIR \\
        --rounds 12 --tiles 10 --json OUT.json
    python benchmarks/experiments/named_check_cut_time_s44.py summary OUT.json   # medians and ratios

The figure: for each tree and set, the median of its per-tile CPU seconds over every tile and round; the ratios
C / H and (the A/A) H2 / H.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[2] / "shared" / "data" / "ki67"
SETS = ("bcdata", "shidc")


def _images(name: str, n: int) -> tuple[float, list[Path]]:
    with (HERE.parent / "datasets.toml").open("rb") as fh:
        mpp = float(tomllib.load(fh)[name]["mpp"])
    folder = DATA / name
    return mpp, sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg"))[:n]


def child(tree: str, n: int) -> int:
    import numpy as np
    from PIL import Image

    import mmnst_path
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    where = Path(mmnst_path.__file__).resolve()
    if not where.is_relative_to(Path(tree).resolve()):
        raise SystemExit(f"mmnst_path imported from {where}, not from {tree}")
    out: dict = {"module": str(where)}
    for name in SETS:
        mpp, paths = _images(name, n)
        rgbs = []
        for p in paths:
            with Image.open(p) as im:
                rgbs.append(np.asarray(im.convert("RGB")))
        analyze_region(rgbs[0], AnalysisConfig(stains="H-DAB"), mpp=mpp)  # warm-up (imports, models), untimed
        rows = []
        for p, rgb in zip(paths, rgbs, strict=True):
            t0 = time.process_time()
            res = analyze_region(rgb, AnalysisConfig(stains="H-DAB"), mpp=mpp)
            dt = time.process_time() - t0
            rows.append([p.name, dt, int(res.metrics["ki67_positive"]), int(res.metrics["ki67_negative"])])
        out[name] = rows
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


def run(trees: dict[str, str], rounds: int, n: int, out: Path) -> int:
    names = list(trees)
    orders = list(itertools.permutations(names))
    orders = orders + [tuple(reversed(o)) for o in orders]
    rec: dict = {"trees": trees, "rounds": []}
    for t in names:  # one untimed pass of each tree first (its numba cache and .pyc files written), not recorded
        env = {**os.environ, "PYTHONPATH": trees[t]}
        subprocess.run([sys.executable, "-P", str(Path(__file__).resolve()), "child", trees[t], "1"],
                       cwd=trees[t], env=env, capture_output=True, text=True, check=True)
    for r in range(rounds):
        order = orders[r % len(orders)]
        passes = {}
        for t in order:
            env = {**os.environ, "PYTHONPATH": trees[t]}
            res = subprocess.run([sys.executable, "-P", str(Path(__file__).resolve()), "child", trees[t], str(n)],
                                 cwd=trees[t], env=env, capture_output=True, text=True, check=False)
            if res.returncode != 0:
                sys.stderr.write(res.stderr)
                return 1
            passes[t] = json.loads(res.stdout.strip().splitlines()[-1])
        rec["rounds"].append({"order": list(order), "passes": passes})
        out.write_text(json.dumps(rec))
        print(f"round {r + 1}/{rounds} {time.strftime('%H:%M:%S')} order {' '.join(order)}", flush=True)
    return summary(out)


def summary(path: Path) -> int:
    rec = json.loads(Path(path).read_text())
    names = list(rec["trees"])
    med = {t: {} for t in names}
    for t in names:
        for s in SETS:
            med[t][s] = statistics.median(row[1] for rd in rec["rounds"] for row in rd["passes"][t][s])
    print(f"{len(rec['rounds'])} rounds")
    for t in names:
        print(t, {s: med[t][s] for s in SETS})
    for a, b in (("C", "H"), ("H2", "H")):
        if a in med and b in med:
            print(f"{a} / {b}", {s: med[a][s] / med[b][s] for s in SETS})
    # the counts of every tree on every tile and round
    counts = {(s, row[0], row[2], row[3]) for rd in rec["rounds"] for t in names for s in SETS
              for row in rd["passes"][t][s]}
    tiles = {(s, row[0]) for rd in rec["rounds"] for t in names for s in SETS for row in rd["passes"][t][s]}
    print(f"counts: {len(counts)} distinct (tile, positive, negative) for {len(tiles)} tiles "
          f"({'identical' if len(counts) == len(tiles) else 'DIFFER'})")
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=("run", "child", "summary"))
    ap.add_argument("args", nargs="*")
    ap.add_argument("--tree", action="append", default=[])
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--tiles", type=int, default=10)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    if a.cmd == "child":
        sys.exit(child(a.args[0], int(a.args[1])))
    if a.cmd == "summary":
        sys.exit(summary(Path(a.args[0])))
    sys.exit(run(dict(t.split("=", 1) for t in a.tree), a.rounds, a.tiles, a.json))
