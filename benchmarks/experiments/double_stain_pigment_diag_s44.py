"""Session 44 H10 (#14), diagnosis: why SOX10 double-stain melanocytes are marked ``pigment``.

For each dev seed / chromogen: the pipeline's pigment mask (learned model on the marker-free rendering, as
``pipeline._worker._pigment``), ``measure_ki67`` on it, detected nuclei matched to drawn ones; for the true
melanocytes marked ``pigment``: truly pigmented (drawn melanin within 1.6 r) or not, mask and true melanin share
of the drawn nucleus disk.

    PYTHONPATH=. python benchmarks/experiments/double_stain_pigment_diag_s44.py 14700 40 aec,fast_red
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from mmnst_path.classify.pigment import classify_pigment
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.pipeline._reach import pigment_model_of
from mmnst_path.quantify.ki67 import measure_ki67, without_marker
from mmnst_path.synthetic_double import double_stain_tile, match_cells

PRESET = {"fast_red": "H-DAB-FastRed", "aec": "H-DAB-AEC"}


def disk_share(mask: np.ndarray, r: float, c: float, rad: float) -> float:
    rr, cc = np.ogrid[: mask.shape[0], : mask.shape[1]]
    d = (rr - r) ** 2 + (cc - c) ** 2 <= rad * rad
    return float(mask[d].mean()) if d.any() else 0.0


def one(seed: int, chromogen: str, size: int = 384) -> dict:
    tile = double_stain_tile(seed, marker="nuclear", chromogen=chromogen, size=size)
    cfg = AnalysisConfig.from_mapping({"stains": PRESET[chromogen], "measures": ["ki67"],
                                       "ki67": {"melanocyte_marker": "nuclear"}})
    matrix = cfg.stain_matrix()
    clean, sub = without_marker(tile.rgb, matrix)
    model = pigment_model_of(cfg, matrix)
    mask, _ = classify_pigment(clean, mpp=tile.mpp, model=model, stains=sub, params=cfg.pigment)
    reg = measure_ki67(tile.rgb, mpp=tile.mpp, stains=matrix, nuclei_params=cfg.nuclei, params=cfg.ki67,
                       pigment_mask=mask)
    cells = reg.cells
    idx = match_cells(tile, cells.row, cells.col)
    mel_true = tile.masks["melanin"]
    out = {"seed": seed, "chrom": chromogen, "model": getattr(model, "name", str(model))[:40],
           "mask_px": int(mask.sum()), "true_px": int(mel_true.sum()),
           "mask_on_true": float(mask[mel_true].mean()) if mel_true.any() else np.nan,
           "true_on_mask": float(mel_true[mask].mean()) if mask.any() else np.nan}
    rows = []
    for i in np.flatnonzero(idx >= 0):
        t = tile.cells[idx[i]]
        if t[3] <= 0:
            continue
        pigmented = disk_share(mel_true, t[0], t[1], 1.6 * t[2]) > 0
        rows.append((cells.cls[i], bool(t[4] > 0), pigmented, disk_share(mask, t[0], t[1], t[2]),
                     disk_share(mel_true, t[0], t[1], t[2])))
    out["rows"] = rows
    out["truth"] = tile.truth
    return out


def main() -> None:
    warnings.simplefilter("ignore")
    first, n = int(sys.argv[1]), int(sys.argv[2])
    chroms = sys.argv[3].split(",") if len(sys.argv) > 3 else ["aec", "fast_red"]
    for seed in range(first, first + n):
        for ch in chroms:
            o = one(seed, ch)
            rows = o["rows"]
            mel = len(rows)
            pig = [r for r in rows if r[0] == "pigment"]
            inidx = [r for r in rows if r[0] in ("positive", "negative")]
            pig_np = [r for r in pig if not r[2]]
            print(f"{seed} {ch:8s} mel {mel:3d} inidx {len(inidx):3d} pigment {len(pig):3d} "
                  f"(unpigmented {len(pig_np):3d}, Ki67+ {sum(r[1] for r in pig):3d}) "
                  f"mask {o['mask_px']:6d} true {o['true_px']:6d} recall {o['mask_on_true']:.2f} "
                  f"prec {o['true_on_mask']:.2f} maskshare(pig,unpigm) "
                  f"{np.mean([r[3] for r in pig_np]) if pig_np else float('nan'):.2f} "
                  f"truemel% {o['truth']['melanocytic_index_pct']:.0f} model {o['model']}", flush=True)


if __name__ == "__main__":
    main()
