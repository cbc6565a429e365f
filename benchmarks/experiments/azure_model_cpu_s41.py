"""CPU of a whole ``quantify --stains AzureB-DAB`` of a 1024² azure B tile, two trees interleaved (session 41 H7).

A1, B, A2 per round (A = HEAD tree, B = candidate tree, each run from its own checkout with PYTHONPATH=TREE and
``python -P``), after one warm-up run per tree; CPU = the child's user + system time (``resource.getrusage``).
Ratio of the means over the rounds B / A1 (the gate) and the A/A control A2 / A1.

    python benchmarks/experiments/azure_model_cpu_s41.py HEAD_TREE CAND_TREE --rounds 3 --work /tmp/dir
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
from pathlib import Path


def make_tile(path: Path) -> None:
    import tifffile

    from mmnst_path.synthetic_azure import azure_b_tile

    tile = azure_b_tile(4450, "whole_cell", size=1024, positive_fraction=0.2)  # a dev seed
    tifffile.imwrite(path, tile.rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")


def cpu_of(tree: Path, tile: Path, out: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = dict(os.environ, PYTHONPATH=str(tree))
    subprocess.run([sys.executable, "-P", "-m", "mmnst_path", "quantify", str(tile), "--out", str(out),
                    "--stains", "AzureB-DAB", "--workers", "1"], cwd=tree, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("head", type=Path)
    ap.add_argument("cand", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", type=Path, required=True)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    tile = args.work / "azure_1024.tif"
    if not tile.exists():
        make_tile(tile)
    n = 0

    def run(tree: Path) -> float:
        nonlocal n
        n += 1
        return cpu_of(tree, tile, args.work / f"out{n}")

    print(f"warm-up A {run(args.head):.3f} s, B {run(args.cand):.3f} s", flush=True)
    a1, b, a2 = [], [], []
    for i in range(args.rounds):
        a1.append(run(args.head))
        b.append(run(args.cand))
        a2.append(run(args.head))
        print(f"round {i}: A1 {a1[-1]:.3f} B {b[-1]:.3f} A2 {a2[-1]:.3f} s", flush=True)
    ma1, mb, ma2 = sum(a1) / len(a1), sum(b) / len(b), sum(a2) / len(a2)
    print(f"mean CPU A1 {ma1:.6f} B {mb:.6f} A2 {ma2:.6f} s; B/A1 {mb / ma1:.6f} (asked <= 1.25); "
          f"A/A A2/A1 {ma2 / ma1:.6f} (asked in [0.95, 1.05])")


if __name__ == "__main__":
    main()
