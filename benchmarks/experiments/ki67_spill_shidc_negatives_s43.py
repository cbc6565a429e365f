"""SHIDC's annotated negatives read positive, with and without the spill-resistant DAB (session 43 H10).

Diagnosis after H10's gate 1 had failed (no tuning). Run from the repository root::

    PYTHONPATH=. python benchmarks/experiments/ki67_spill_shidc_negatives_s43.py [--reach 2.0]

Turn 0, no cell model (every detected nucleus read), an annotated negative matched to the nearest detection within
6 µm: prints each one read positive with ``spill_reach_um`` 0, its DAB at 0 -> ``--reach`` and its class there.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SHIDC = Path("/work/shared/data/ki67/shidc")


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    sys.path[:0] = [str(ROOT / "benchmarks" / "experiments"), str(ROOT / "benchmarks")]
    from accuracy import dataset_mpp
    from ki67_spill_dev_s43 import _read

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reach", type=float, default=2.0)
    args = parser.parse_args(argv)
    mpp = dataset_mpp(SHIDC)
    total = lowered = flipped = 0
    for p in sorted(SHIDC.glob("*.jpg")):
        with p.with_suffix(".points.csv").open() as fh:
            rows = list(csv.DictReader(fh))
        negs = np.array([[float(r["y"]), float(r["x"])] for r in rows if r["label"] == "negative"]).reshape(-1, 2)
        rgb = np.asarray(Image.open(p).convert("RGB"))
        pts, c0, d0 = _read(rgb, mpp, 0.0)
        _, c1, d1 = _read(rgb, mpp, args.reach)
        for g in negs:
            d = np.hypot(*(pts - g).T)
            i = int(np.argmin(d))
            if d[i] * mpp <= 6.0 and c0[i] == "positive":
                total += 1
                lowered += int(d1[i] < d0[i])
                flipped += int(c1[i] != "positive")
                print(p.name, i, f"{d0[i]:.3f} -> {d1[i]:.3f}", c1[i])
    print(f"annotated negatives read positive (turn 0, no cell model): {total}, DAB lowered: {lowered},"
          f" flipped: {flipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
