"""Experiment (#16, session 36 H1), after gate 2 failed: what the shortened pooling of coarse seeds changes on the
SHIDC tiles (research-only: diagnosis of a failed gate, nothing chosen on it). For each tile (turn 0) the default
``analyze_region`` runs three times: the analysis grid (``seed_scale_um`` 0), the coarse grid pooled at the full
distance (``COARSE_MERGE_SHRINK`` 0, session 35's candidate) and at half a block less (0.5, session 36's); per run
the counted cells (positive / negative), and for the 0.5 run the cells with no cell of the 0 run within 2 µm ("new")
and the 0-run cells with two 0.5-run cells within 5 µm ("split").

With ``--montage OUT.png`` a ``--crop-um`` crop around each new cell is written three times (crosses: blue the
analysis grid's cells, red shrink 0, magenta shrink 0.5; a positive cell's cross is drawn with a dot at its centre).

    PYTHONPATH=. python coarse_pool_shidc_s36.py [--set shidc] [--tiles 10] [--montage OUT.png]
"""

from __future__ import annotations

import argparse
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pigment_stage_ab import _decode  # noqa: E402


def _cells(rgb: np.ndarray, mpp: float, seed_scale_um: float, shrink: float) -> tuple[np.ndarray, np.ndarray]:
    import mmnst_path.detect.nuclei as nuclei_mod
    from mmnst_path.aggregate import CELL_CLASSES
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    cfg = AnalysisConfig.from_mapping({"nuclei": {"seed_scale_um": seed_scale_um}})
    old = nuclei_mod.COARSE_MERGE_SHRINK
    nuclei_mod.COARSE_MERGE_SHRINK = shrink
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = analyze_region(rgb, cfg, mpp=mpp)
    finally:
        nuclei_mod.COARSE_MERGE_SHRINK = old
    names = np.asarray(CELL_CLASSES)[np.asarray(res.cells.cls, dtype=np.intp)]
    return np.c_[res.cells.row, res.cells.col], names.astype(str)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--set", default="shidc")
    ap.add_argument("--tiles", type=int, default=10)
    ap.add_argument("--montage", type=Path)
    ap.add_argument("--crop-um", type=float, default=24.0)
    args = ap.parse_args()
    crops: list[np.ndarray] = []
    mpp = float(tomllib.loads((ROOT / "benchmarks" / "datasets.toml").read_text())[args.set]["mpp"])
    folder = ROOT.parent / "shared" / "data" / "ki67" / args.set
    print("| tile | pos / neg: grid 0.5 µm | coarse, shrink 0 | coarse, shrink 0.5 | new cells (pos) | split |")
    print("|---|---|---|---|---|---|")
    tot = np.zeros(8, int)
    for p in sorted(q for q in folder.iterdir() if q.suffix.lower() in (".png", ".jpg"))[: args.tiles]:
        rgb = _decode(p)
        runs = [_cells(rgb, mpp, s, k) for s, k in ((0.0, 0.5), (1.0, 0.0), (1.0, 0.5))]
        counts = [(int((c == "positive").sum()), int((c == "negative").sum())) for _, c in runs]
        p0, (p1, c1) = runs[1][0], runs[2]
        d = np.sqrt(((p1[:, None, :] - p0[None, :, :]) ** 2).sum(-1)) * mpp if len(p0) and len(p1) else np.zeros((len(p1), len(p0)))
        new = d.min(axis=1) > 2.0 if d.size else np.ones(len(p1), bool)
        split = int(((d <= 5.0).sum(axis=0) >= 2).sum()) if d.size else 0
        new_pos = int((new & (c1 == "positive")).sum())
        print(f"| {p.name} | {counts[0][0]} / {counts[0][1]} | {counts[1][0]} / {counts[1][1]} | {counts[2][0]} / {counts[2][1]} |"
              f" {int(new.sum())} ({new_pos}) | {split} |", flush=True)
        if args.montage is not None:
            crops += _crops(rgb, runs, p1[new], round(args.crop_um / mpp / 2))
        tot += [counts[1][0], counts[1][1], counts[2][0], counts[2][1], int(new.sum()), new_pos, split, counts[0][0]]
    print(f"total: shrink 0 pos/neg {tot[0]}/{tot[1]}, shrink 0.5 pos/neg {tot[2]}/{tot[3]}, new {tot[4]} ({tot[5]} positive),"
          f" split {tot[6]}; analysis grid positives {tot[7]}")
    if args.montage is not None and crops:
        from PIL import Image

        width = max(c.shape[1] for c in crops)
        Image.fromarray(np.concatenate([np.pad(c, ((0, 6), (0, width - c.shape[1]), (0, 0))) for c in crops])).save(
            args.montage)


def _crops(rgb: np.ndarray, runs: list[tuple[np.ndarray, np.ndarray]], centres: np.ndarray, half: int) -> list[np.ndarray]:
    """One row per centre: its crop with each run's cells marked (see the module docstring)."""
    from coarse_lost_crops_s35 import _mark

    out = []
    for r, c in np.rint(centres).astype(int):
        r0, c0 = r - half, c - half
        row = []
        for (pts, cls), colour in zip(runs, ((0, 0, 255), (255, 0, 0), (255, 0, 255)), strict=True):
            img = np.full((2 * half, 2 * half, 3), 255, np.uint8)
            rs = slice(max(r0, 0), min(r0 + 2 * half, rgb.shape[0]))
            cs = slice(max(c0, 0), min(c0 + 2 * half, rgb.shape[1]))
            img[rs.start - r0: rs.stop - r0, cs.start - c0: cs.stop - c0] = rgb[rs, cs]
            _mark(img, pts - [r0, c0], colour, cross=True)
            _mark(img, pts[cls == "positive"] - [r0, c0], (255, 255, 0), cross=False)
            row += [np.kron(img, np.ones((2, 2, 1), np.uint8)), np.zeros((4 * half, 6, 3), np.uint8)]
        out.append(np.concatenate(row[:-1], axis=1))
    return out


if __name__ == "__main__":
    main()
