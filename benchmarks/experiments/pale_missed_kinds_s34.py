"""Session 34 H6: what kind each EndoNuke keypoint the pipeline misses is (diagnosis; DEV part only).

Reads the per-keypoint arrays of ``pale_nuclei_endonuke_s34.py --part dev --save FILE`` (the pipeline's
hits) and runs the detector alone (``nuclei_from_stains``, H-DAB preset, white 255; the ``mixed`` images
are at 0.5 µm/px already) twice with the area filter off: with the default contour and without it
(``contour_fraction = 0``: the watershed regions; the seeds and the watershed are the same). Every
missed keypoint gets the first kind that fits:

- ``faint``: outside every watershed region (under ``foreground_od``: no edge at all);
- ``small``: in a contoured region of its own (centroid within 4 µm) under ``min_area_um2``: the pale
  core only (kind (a));
- ``cut_dark`` / ``cut_other``: in a watershed region but cut off by the contour of a region whose
  nucleus lies elsewhere: the owner DAB-stained (mean DAB over its contoured pixels >= 0.3 OD: kind
  (b), a pale nucleus pressed against a dark one) or not;
- ``merged_dark`` / ``merged_other``: inside a contoured region whose centroid is more than 4 µm away
  (one detection for two nuclei), owner stained or not;
- ``shared_dark`` / ``shared_other``: in a contoured region of its own with a valid area that holds
  another keypoint too (two nuclei, one detection between them, matched to the other);
- ``own``: in a contoured region of its own with a valid area, alone: the detector has it, the pipeline
  (its white point, the one-to-one matching) does not.

Prints the counts per kind overall, for the pale-hematoxylin third and for the keypoints within 8 µm of a
stained keypoint, as JSON.

    PYTHONPATH=<tree> python pale_missed_kinds_s34.py --endonuke ../shared/train/endonuke --hits FILE.npz
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

KINDS = ("faint", "small", "cut_dark", "cut_other", "merged_dark", "merged_other", "shared_dark", "shared_other", "own")


def kinds_of(rgb: np.ndarray, pts: np.ndarray, mpp: float, every: np.ndarray) -> list[str]:
    """The kind (see the module docstring) of each (row, col) point of ``pts`` in ``rgb`` (``every``: all
    the image's keypoints, for ``shared``)."""
    from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains, stain_planes

    hem, dab = stain_planes(rgb)
    base = NucleusParams()
    loose = {"min_area_um2": 0.0, "max_area_um2": 1e9}
    cont = nuclei_from_stains(hem, dab, mpp=mpp, params=NucleusParams(**loose), return_labels=True)
    ws = nuclei_from_stains(hem, dab, mpp=mpp, params=NucleusParams(**loose, contour_fraction=0.0),
                            return_labels=True)
    assert cont.labels is not None
    assert ws.labels is not None
    er = np.clip(np.rint(every[:, 0]).astype(int), 0, rgb.shape[0] - 1)
    ec = np.clip(np.rint(every[:, 1]).astype(int), 0, rgb.shape[1] - 1)
    held = np.bincount(cont.labels[er, ec], minlength=len(cont) + 1)
    out = []
    for r, c in np.rint(pts).astype(int):
        r = min(max(r, 0), rgb.shape[0] - 1)
        c = min(max(c, 0), rgb.shape[1] - 1)
        lw, lc = int(ws.labels[r, c]), int(cont.labels[r, c])
        if lw == 0:
            out.append("faint")
            continue
        k = (lc if lc else lw) - 1  # the same seeds: label i of both runs is one region
        stained = bool(cont.dab_od_mean[k] >= 0.3)
        near = np.hypot(cont.row[k] - r, cont.col[k] - c) * mpp <= 4.0
        if lc == 0:
            out.append("cut_dark" if stained else "cut_other")
        elif not near:
            out.append("merged_dark" if stained else "merged_other")
        elif cont.area_um2[k] < base.min_area_um2:
            out.append("small")
        elif held[lc] > 1:
            out.append("shared_dark" if stained else "shared_other")
        else:
            out.append("own")
    return out


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endonuke", type=Path, required=True)
    ap.add_argument("--hits", type=Path, required=True, help="pale_nuclei_endonuke_s34.py --part dev --save output")
    args = ap.parse_args(argv)
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pale_nuclei_endonuke_s34 import STAINED_OD, images

    d = np.load(args.hits)
    files = images(args.endonuke, "dev")
    kind = np.array([""] * len(d["hit"]), dtype=object)
    for k_img in np.unique(d["img"][~d["hit"]]):
        path, mpp = files[int(k_img)]
        sel = np.flatnonzero((d["img"] == k_img) & ~d["hit"])
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        alls = d["img"] == k_img
        kind[sel] = kinds_of(rgb, np.c_[d["row"][sel], d["col"][sel]], mpp, np.c_[d["row"][alls], d["col"][alls]])
    miss = ~d["hit"]
    pale = d["hem"] <= np.quantile(d["hem"], 1 / 3)
    groups = {"all": miss, "pale_third": miss & pale, "unstained": miss & (d["dab"] < STAINED_OD),
              "dab_below_0.3": miss & (d["dab"] < 0.3), "near_stained": miss & d["near"]}
    out = {g: {"missed": int(m.sum()), **{k: int((kind[m] == k).sum()) for k in KINDS}} for g, m in groups.items()}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
