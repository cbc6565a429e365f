"""Session 36 H8 (dev only): lymphocytes kept as tumour by the shipped nucleus model, by the true nucleus's
visible area, scattered vs infiltrate lymphocytes (``ki67_cells_tile(lymphocytes=...)``), dev seeds 640-663.

Usage::

    PYTHONPATH=. python benchmarks/experiments/lymph_infiltrate_area_s36.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_ki67_cells import evaluate_tile

from mmnst_path.synthetic_ki67 import ki67_cells_tile

BINS_UM2 = ((0, 20), (20, 25), (25, 30), (30, 35), (35, 45), (45, 200))


def main() -> None:
    rows = []
    for seed in range(640, 664):
        for fam in ("scattered", "infiltrate"):
            tile = ki67_cells_tile(seed, lymphocytes=fam)
            res = evaluate_tile(tile)
            c = tile.truth["cells"]
            n = len(c["row"])
            area = np.bincount(tile.masks["nuclei"].ravel(), minlength=n + 1)[c["label"]] * tile.mpp ** 2
            ly = (c["cell_type"] == "lymphocyte") & res["detected"]
            site = c.get("lymph_site", np.full(n, "scattered"))
            act = c.get("activated", np.zeros(n, bool))
            rows += [(fam, a, k, s, x) for a, k, s, x in zip(area[ly], res["kept"][ly], site[ly], act[ly], strict=True)]
    fam = np.array([r[0] for r in rows])
    area = np.array([r[1] for r in rows])
    kept = np.array([r[2] for r in rows])
    site = np.array([r[3] for r in rows])
    act = np.array([r[4] for r in rows])
    for f in ("scattered", "infiltrate"):
        for lo, hi in BINS_UM2:
            for name, sel in (("all", fam == f), ("single non-activated", (fam == f) & (site == "single") & ~act)):
                s = sel & (area >= lo) & (area < hi)
                if s.sum():
                    print(f"{f:10s} {name:21s} visible area {lo:3d}-{hi:3d} µm²: n {int(s.sum()):4d}"
                          f" kept {100 * kept[s].mean():.4f} %")


if __name__ == "__main__":
    main()
