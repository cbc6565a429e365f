"""Session 44 H1 (#14, walk defect 3), dev only: per-tile evidence of the Ki67 / SOX10 call on generated tiles.

For each tile: the stain guess as ``--stains auto`` makes it (tissue thumbnail of ``eval_stain_guess.thumbnail``),
the colour guess, :class:`~mmnst_path.stain.places.ChromogenPlaces`, and every nuclear body of the three body classes
of :func:`mmnst_path.stain.places._count` (class, median angle, 20th-percentile angle, residual share, mean OD, area),
pickled for the design. Tiles (``--first-seed`` .. ``+ --seeds``; dev seeds 14000-14049 only):

- SOX10 Fast Red, 512 px (the walk's size): Ki67 low / high x marker pale / normal x pigment low / high
  (:func:`sox10_tile`); MART-1 Fast Red and AEC (``double_stain_tile`` defaults);
- single stains of ``eval_stain_guess.protocol_tile``: H-DAB, H-AEC, H-FastRed, AzureB-DAB, H&E (every pigment family).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/sox10_two_populations_dev_s44.py --first-seed 14000 --seeds 50 \
        --out /tmp/s44_h1/dev.pkl
"""

from __future__ import annotations

import argparse
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

#: The four SOX10 variants x two pigment loads: Ki67-positive melanocyte share, marker OD, pigmented melanocytes.
KI67 = {"low": (0.0, 0.06), "high": (0.2, 0.45)}
MARKER = {"pale": (0.15, 0.3), "normal": (0.3, 0.7)}
PIGMENT = {"light": (0.05, 0.2), "heavy": (0.35, 0.7)}


def sox10_tile(seed: int, variant: int, *, chromogen: str = "fast_red", size: int = 512):
    """``(label, tile)``: a Ki67 / SOX10 tile of variant ``variant`` (0-7: Ki67 low / high, marker pale / normal,
    pigment light / heavy)."""
    from mmnst_path.synthetic_double import double_stain_tile

    ki, mk, pg = ("low", "high")[variant % 2], ("pale", "normal")[(variant // 2) % 2], ("light", "heavy")[(variant // 4) % 2]
    t = double_stain_tile(seed * 10 + variant, marker="nuclear", chromogen=chromogen, size=size,
                          melanocyte_ki67=KI67[ki], marker_od=MARKER[mk], pigmented_melanocytes=PIGMENT[pg])
    return f"nuclear ki67-{ki} marker-{mk} pigment-{pg} {seed * 10 + variant}", t


def bodies(rgb, tissue, mpp, white):
    """Every nuclear body of the three classes of ``places._count``: (class, median deg, p20 deg, share, od, area)."""
    from scipy import ndimage as ndi
    from skimage.measure import regionprops

    from mmnst_path.stain import od_from_rgb
    from mmnst_path.stain import places as P
    from mmnst_path.stain.guess import AEC_DEG, CHROMOGEN_MIN_OD, CHROMOGEN_MIN_SHARE, MIN_OD, od_residual

    keep = np.ones(rgb.shape[:2], bool) if tissue is None else np.asarray(tissue, bool)
    od = od_from_rgb(rgb, background=white).astype(np.float64)
    norm = np.linalg.norm(od, axis=2)
    m, theta = od_residual(od)
    chrom = keep & (norm > MIN_OD) & (m >= CHROMOGEN_MIN_OD) & (m >= CHROMOGEN_MIN_SHARE * norm)
    px = mpp * mpp
    r = max(1, round(P.BODY_OPEN_UM / mpp))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = yy * yy + xx * xx <= r * r
    out = []
    for cls, sel in (("brown", (theta >= AEC_DEG) & (theta < 30.0)), ("red", theta < AEC_DEG), ("any", theta < 30.0)):
        objs = chrom & sel
        opened = ndi.binary_opening(objs, structure=disc)
        lab, _ = ndi.label(objs)
        for rp in regionprops(lab):
            a = rp.area * px
            if not (P.BODY_AREA_UM2[0] <= a <= P.BODY_AREA_UM2[1]) or rp.area < P.BODY_FILL * rp.area_filled:
                continue
            ys, xs = rp.coords[:, 0], rp.coords[:, 1]
            body = (rp.solidity >= P.BODY_SOLIDITY and rp.eccentricity <= P.BODY_MAX_ECC
                    and float(opened[ys, xs].mean()) >= P.BODY_OPEN_KEEP)
            out.append((cls, float(np.median(theta[ys, xs])), float(np.percentile(theta[ys, xs], 20)),
                        float(m[ys, xs].mean() / norm[ys, xs].mean()), float(norm[ys, xs].mean()), a, body))
    return out, float(keep.sum()) * px / 1e6


def rows(first: int, n: int, which: set[str]):
    import eval_stain_guess as E

    from mmnst_path.stain import guess as G
    from mmnst_path.stain.places import chromogen_places
    from mmnst_path.synthetic_double import double_stain_tile

    for seed in range(first, first + n):
        tiles = []
        if "sox10" in which:
            for v in (seed % 8, (seed + 3) % 8):
                lab, t = sox10_tile(seed, v)
                tiles.append(("SOX10-FastRed", "H-DAB-FastRed", lab, t.rgb, t.mpp, t.truth))
        if "mart1" in which:
            for ch, truth in (("fast_red", "H-DAB-FastRed"), ("aec", "H-DAB-AEC")):
                t = double_stain_tile(seed * 10 + 9, marker="cytoplasmic", chromogen=ch, size=384)
                tiles.append((f"MART1-{ch}", truth, f"cytoplasmic {seed * 10 + 9}", t.rgb, t.mpp, t.truth))
        if "single" in which:
            for p in ("H-DAB", "H-AEC", "H-FastRed", "AzureB-DAB", "H&E"):
                lab, rgb, mpp = E.protocol_tile(p, seed, seed % 10)
                tiles.append((p, p, lab, rgb, mpp, {}))
        for group, truth, lab, rgb, mpp, tr in tiles:
            thumb, mask, tmpp = E.thumbnail(rgb, mpp)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                g = G.guess_stains_detail(thumb, mask, mpp=tmpp)
                colour = G._colour_guess(thumb, mask if np.any(mask) else None)
            places = chromogen_places(thumb, mask if np.any(mask) else None, float(tmpp), colour.white_point)
            b, area = bodies(thumb, mask if np.any(mask) else None, float(tmpp), colour.white_point)
            rec = {"group": group, "truth": truth, "label": lab, "seed": seed, "name": g.name, "amb": g.ambiguous,
                   "marker": g.marker, "reason": g.reason, "colour": colour.name, "pink": colour.pink_share,
                   "deg": colour.chromogen_deg, "places": places, "bodies": b, "area": area, "tmpp": tmpp,
                   "truth_d": {k: v for k, v in tr.items() if isinstance(v, (int, float, str))}}
            print(f"{group} | {lab} | {g.name} | amb={g.ambiguous} | colour {colour.name}", flush=True)
            yield rec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--first-seed", type=int, default=14000)
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--which", nargs="*", default=["sox10", "mart1", "single"])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not (14000 <= a.first_seed and a.first_seed + a.seeds <= 14050):
        sys.exit("dev seeds 14000-14049 only")
    recs = []
    for r in rows(a.first_seed, a.seeds, set(a.which)):
        recs.append(r)
        if len(recs) % 20 == 0:
            Path(a.out).write_bytes(pickle.dumps(recs))
    Path(a.out).write_bytes(pickle.dumps(recs))


if __name__ == "__main__":
    main()
