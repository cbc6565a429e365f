"""CPU of a whole ``quantify --stains H-DAB`` of two tiles, two trees interleaved (session 42 H1, #14, gate 8).

Tiles: a 1024² pigmented H-DAB dev tile (``pigment_family_tile(7010, "perinuclear", size=1024)``, dev seed,
0.5 µm/px TIFF) and the BCData tile with the most tissue (share of pixels with total OD >= 0.15, at 0.25 µm/px,
``--mpp 0.25``). Per tile: one warm-up run per tree, then rounds of A1, B, A2 (A = HEAD tree, B = candidate
tree, each run from its own checkout with PYTHONPATH=TREE and ``python -P``); CPU = the child's user + system
time (``resource.getrusage``). Ratio of the means B / A1 (the gate) and the A/A control A2 / A1.

    python benchmarks/experiments/dab_melanin_model_cpu_s42.py HEAD_TREE CAND_TREE --rounds 3 --work /tmp/dir
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np

BCDATA = Path("/work/shared/data/ki67/bcdata")


def make_dab_tile(path: Path) -> None:
    import tifffile

    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(7010, "perinuclear", chromogen="dab", size=1024)  # a dev seed
    tifffile.imwrite(path, tile.rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")


def most_tissue_bcdata() -> tuple[Path, float]:
    from PIL import Image

    best = (Path(), -1.0)
    for f in sorted(BCDATA.glob("*.png")):
        rgb = np.asarray(Image.open(f).convert("RGB"), np.float64)
        od = -np.log10(np.clip(rgb, 1, 255) / 255.0)
        share = float((np.linalg.norm(od, axis=-1) >= 0.15).mean())
        if share > best[1]:
            best = (f, share)
    return best


def cpu_of(tree: Path, tile: Path, out: Path, mpp: float | None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-P", "-m", "mmnst_path", "quantify", str(tile), "--out", str(out), "--stains", "H-DAB",
           "--workers", "1"]
    if mpp is not None:
        cmd += ["--mpp", str(mpp)]
    subprocess.run(cmd, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    dab = args.work / "dab_pigmented_1024.tif"
    if not dab.exists():
        make_dab_tile(dab)
    bc, share = most_tissue_bcdata()
    print(f"BCData tile with the most tissue: {bc.name} ({share:.6f} of pixels OD >= 0.15)", flush=True)
    n = 0
    for name, tile, mpp, limit in (("pigmented DAB 1024", dab, None, 1.25), ("BCData " + bc.name, bc, 0.25, 1.05)):

        def run(tree: Path, tile: Path = tile, mpp: float | None = mpp) -> float:
            nonlocal n
            n += 1
            return cpu_of(tree, tile, args.work / f"out{n}", mpp)

        print(f"{name}: warm-up A {run(args.head):.3f} s, B {run(args.cand):.3f} s", flush=True)
        a1, b, a2 = [], [], []
        for i in range(args.rounds):
            a1.append(run(args.head))
            b.append(run(args.cand))
            a2.append(run(args.head))
            print(f"  round {i}: A1 {a1[-1]:.3f} B {b[-1]:.3f} A2 {a2[-1]:.3f} s", flush=True)
        ma1, mb, ma2 = np.mean(a1), np.mean(b), np.mean(a2)
        print(f"{name}: mean CPU A1 {ma1:.6f} B {mb:.6f} A2 {ma2:.6f} s; B/A1 {mb / ma1:.6f} (asked <= {limit}); "
              f"A/A A2/A1 {ma2 / ma1:.6f} (asked in [0.95, 1.05])", flush=True)


if __name__ == "__main__":
    main()
