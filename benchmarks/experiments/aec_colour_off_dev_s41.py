"""Dev tool of session 41 H9 (#14): AEC's colour test on tiles whose melanin direction lies within 8° of AEC.

Runs the families tiles of one chromogen (``eval_pigment_families.run_one``) with the colour reading of
``mmnst_path.quantify._ki67_pigment._covered_chromogen`` replaced by a variant, and prints each tile's error and
the angles the variant saw (the tile's melanin direction to the chromogen, and the fallback's), so the fallback
for the colour-off tiles can be chosen on dev seeds only (4460-4479 in session 41):

    PYTHONPATH=. python benchmarks/experiments/aec_colour_off_dev_s41.py --first-seed 4460 --seeds 8 \
        --variants head physical minus_tissue --csv /tmp/s41_h9/dev.csv

Variants: ``head`` (the colour test off below 8°), ``physical`` (the physical
:func:`mmnst_path.stain.melanin_vector` below 8°), ``minus_tissue`` (below 8°: the mask's mean OD outside nuclei
minus the mean OD of the unmasked tissue outside nuclei, normalised), ``tileX`` (the tile's own direction down to
X°), ``block`` (no fill rescue on a colour-off tile: its covered nuclei stay ``pigment``). ``head`` runs first;
the others run only on its colour-off tiles (elsewhere they are the same code path).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval_pigment_families as epf

import mmnst_path.quantify.ki67 as ki67_mod
from mmnst_path.quantify import _ki67_pigment as kp
from mmnst_path.stain import angle_deg, melanin_vector
from mmnst_path.stain.od import od_from_rgb

SEEN: list[dict] = []


def variant(mode: str):
    def covered(params, labels, rgb, mask, matrix, pair, *, background):
        if (not params.red_covered_min_chromogen_od > 0 or pair[1] not in kp.RED_FILL_CHROMOGENS or labels is None
                or mask is None or not labels.size):
            return None
        n = int(labels.max())
        flat = labels.ravel()
        od = od_from_rgb(rgb, background=background).reshape(-1, 3).astype(np.float64)
        free = mask.ravel() & (flat == 0)
        mel = od[free].mean(axis=0) if np.count_nonzero(free) >= kp._MIN_MELANIN_PIXELS else melanin_vector()
        norm = float(np.linalg.norm(mel))
        mel = mel / norm if norm > 0 else melanin_vector()
        chrom = matrix.vector(pair[1])
        a_tile = angle_deg(mel, chrom)
        rec = {"a_tile": a_tile, "a_used": a_tile, "off": a_tile < kp._MIN_MELANIN_CHROMOGEN_DEG}
        if a_tile < kp._MIN_MELANIN_CHROMOGEN_DEG:
            if mode == "head":
                mel = None
            elif mode == "physical":
                mel = melanin_vector()
            elif mode.startswith("tile"):  # the tile's own direction down to a lower guard (tile4 = 4°)
                mel = mel if a_tile >= float(mode[4:] or 0) else None
            elif mode == "block":  # no fill rescue on the tile: every covered nucleus stays pigment
                SEEN.append(rec)
                return np.full(n, -np.inf)
            elif mode == "minus_tissue":
                tissue = ~mask.ravel() & (flat == 0) & (od.sum(axis=1) > 0.15)
                if np.count_nonzero(tissue) >= kp._MIN_MELANIN_PIXELS and np.count_nonzero(free) >= kp._MIN_MELANIN_PIXELS:
                    d = od[free].mean(axis=0) - od[tissue].mean(axis=0)
                    nd = float(np.linalg.norm(d))
                    mel = d / nd if nd > 0 else melanin_vector()
                else:
                    mel = melanin_vector()
            if mel is not None and not mode.startswith("tile"):
                rec["a_used"] = angle_deg(mel, chrom)
                if rec["a_used"] < kp._MIN_MELANIN_CHROMOGEN_DEG:
                    mel = None
        SEEN.append(rec)
        if mel is None:
            return None
        area = np.maximum(np.bincount(flat, minlength=n + 1), 1).astype(np.float64)
        mean = np.stack([np.bincount(flat, od[:, k], minlength=n + 1) / area for k in range(3)], axis=1)[1:]
        basis = np.stack([matrix.vector(pair[0]), chrom, mel]).astype(np.float64)
        return np.asarray(np.linalg.lstsq(basis.T, mean.T, rcond=None)[0][1], np.float64)
    return covered


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--first-seed", type=int, required=True)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--chromogen", default="aec")
    ap.add_argument("--appearance", default=None)
    ap.add_argument("--families", nargs="*", default=None)
    ap.add_argument("--variants", nargs="*", default=["head", "physical", "minus_tissue"])
    ap.add_argument("--csv", type=Path, required=True)
    args = ap.parse_args()
    fams = args.families or list(epf.PIGMENT_FAMILIES)
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for fam in fams:
            off = True
            for v in args.variants:
                if v != "head" and not off:  # the variants differ from head only on its colour-off tiles
                    rows.append({**rows[-1], "variant": v})
                    continue
                ki67_mod._covered_chromogen = variant(v)
                SEEN.clear()
                r = epf.run_one(seed, fam, args.chromogen, size=384, stains="preset", appearance=args.appearance)
                s = SEEN[-1] if SEEN else {"a_tile": np.nan, "a_used": np.nan, "off": False}
                if v == "head":
                    off = bool(s["off"])
                rows.append({"variant": v, "family": fam, "seed": seed, "err": r["ki67_meas"] - r["ki67_true"],
                             "ki67_true": r["ki67_true"], "ki67_meas": r["ki67_meas"], **s})
                print(v, fam, seed, f"{rows[-1]['err']:+.3f}", f"tile {s['a_tile']:.2f} used {s['a_used']:.2f}",
                      flush=True)
    with args.csv.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for v in args.variants:
        vr = [r for r in rows if r["variant"] == v]
        head_off = {(r["family"], r["seed"]) for r in rows if r["variant"] == args.variants[0] and r["off"]}
        e = np.abs([r["err"] for r in vr])
        eo = np.abs([r["err"] for r in vr if (r["family"], r["seed"]) in head_off])
        print(f"{v}: all {len(e)} mean |err| {e.mean():.4f} worst {e.max():.2f}; colour-off {len(eo)} "
              f"mean |err| {eo.mean() if len(eo) else np.nan:.4f}")


if __name__ == "__main__":
    main()
