"""#13 speed (session 39 H6, after session 38 H1's script): the #13 figure of HEAD and of a candidate, interleaved.

Runs ``benchmarks/experiments/tissue_cost_s37.py child`` (one fresh single-threaded process, 1 worker:
``analyze_slide`` CPU, ``ru_maxrss``, stage CPU) from two source trees: ``head`` and ``aa`` (the HEAD tree
twice, the A/A control), ``cand`` (this tree, default measures), ``nonec`` (this tree, melanin only:
the candidate's #13 denominator) and ``hnonec`` (the HEAD tree, melanin only: HEAD's #13 denominator).
Per slide one discarded warm-up process per arm, then ``--rounds`` rounds,
arms in order ``head cand nonec hnonec aa`` in even rounds and reversed in odd ones.

Usage (``PYTHONPATH=.`` not needed: each child runs with its tree on ``PYTHONPATH``)::

    python benchmarks/experiments/tissue_speed_s39.py run --head /tmp/head --cand . \\
        --slides SLIDE@MPP ... --rounds 4 --out OUT.json
    python benchmarks/experiments/tissue_speed_s39.py table OUT.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ARMS = ("head", "cand", "nonec", "hnonec", "aa")
#: arm -> (tree, tissue_cost_s37 arm)
_SOURCE = {"head": ("head", "default"), "aa": ("head", "aa"), "cand": ("cand", "default"), "nonec": ("cand", "nonec"),
           "hnonec": ("head", "nonec")}


def _spawn(trees: dict[str, Path], slide: str, arm: str) -> dict[str, Any]:
    tree, child_arm = _SOURCE[arm]
    root = trees[tree]
    path, _, mpp = slide.partition("@")
    env = dict(os.environ, PYTHONPATH=str(root))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    script = root / "benchmarks" / "experiments" / "tissue_cost_s37.py"
    cmd = [sys.executable, str(script), "child", path, mpp or "-", child_arm]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=root)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def run(trees: dict[str, Path], slides: list[str], rounds: int, out: Path) -> None:
    got: list[dict[str, Any]] = []
    for slide in slides:
        for arm in ARMS:  # discarded warm-up (numba cache, file cache)
            _spawn(trees, slide, arm)
        for i in range(rounds):
            for arm in ARMS if i % 2 == 0 else tuple(reversed(ARMS)):
                load = os.getloadavg()[0]
                r = _spawn(trees, slide, arm)
                r.update(arm=arm, round=i, load1=load, utc=time.strftime("%H:%M:%S", time.gmtime()))
                got.append(r)
                print(f"{r['utc']} load {load:.2f} {r['slide']} round {i} {arm}: CPU {r['cpu']!r} s, maxrss "
                      f"{r['maxrss_kib_analyse']} / {r['maxrss_kib']} KiB, necrosis {r['necrosis_pct']!r}",
                      file=sys.stderr, flush=True)
                out.write_text(json.dumps(got))


def table(path: Path) -> None:
    runs = json.loads(path.read_text())
    for slide in dict.fromkeys(r["slide"] for r in runs):
        by = {a: [r for r in runs if r["slide"] == slide and r["arm"] == a] for a in ARMS}
        med = {a: statistics.median(r["cpu"] for r in v) for a, v in by.items() if v}
        print(f"\n{slide}")
        for a, v in by.items():
            print(f"- {a}: CPU {[r['cpu'] for r in v]!r} median {med[a]!r}; maxrss analyse "
                  f"{[r['maxrss_kib_analyse'] for r in v]} after write {[r['maxrss_kib'] for r in v]}; "
                  f"necrosis {v[0]['necrosis_pct']!r} melanin {v[0]['melanin_pct']!r}; load "
                  f"{[round(r['load1'], 2) for r in v]}")
        print(f"A/A aa / head: {med['aa'] / med['head']!r}")
        print(f"cand / head: {med['cand'] / med['head']!r}")
        print(f"#13 cand / nonec: {med['cand'] / med['nonec']!r}; #13 head / hnonec: {med['head'] / med['hnonec']!r}; "
              f"difference {med['cand'] / med['nonec'] - med['head'] / med['hnonec']!r}")
        for key in ("maxrss_kib_analyse", "maxrss_kib"):
            h = max(r[key] for r in by["head"] + by["aa"])
            c = max(r[key] for r in by["cand"])
            print(f"{key}: max cand {c} - max head/aa {h} = {c - h} KiB")
        stages = sorted({k for r in by["cand"] for k in r["stages"]})
        print("stage CPU means (head / cand): " + "; ".join(
            f"{s} {statistics.mean(r['stages'].get(s, {}).get('cpu', 0.0) for r in by['head']):.3f} / "
            f"{statistics.mean(r['stages'].get(s, {}).get('cpu', 0.0) for r in by['cand']):.3f}" for s in stages))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--head", type=Path, required=True)
    r.add_argument("--cand", type=Path, required=True)
    r.add_argument("--slides", nargs="+", required=True)
    r.add_argument("--rounds", type=int, default=4)
    r.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("table")
    t.add_argument("out", type=Path)
    args = ap.parse_args()
    if args.cmd == "run":
        run({"head": args.head.resolve(), "cand": args.cand.resolve()}, args.slides, args.rounds, args.out)
    else:
        table(args.out)


if __name__ == "__main__":
    main()
