"""Dev probe (session 43 H2, #14): the brown nuclear bodies and red rings of generated tiles whose colour guess is
H&E or a red chromogen, for mending the Ki67 / MART-1 ring rule (``guess._by_places``) so that H&E melanin is not
read as a MART-1 double stain. Dev seeds only (7200-7263): per tile the guess, its places and every brown nuclear
body's features (as ``places._count`` finds them: OD norm mean / 90th percentile, share of the OD off hematoxylin,
angle, area), as JSON lines.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/double_stain_ring_dev_s43.py --first-seed 7200 --seeds 8 \\
        --out /tmp/s43_h2/dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import eval_stain_guess as esg  # noqa: E402

from mmnst_path import synthetic  # noqa: E402
from mmnst_path.stain import od_from_rgb  # noqa: E402
from mmnst_path.stain import places as pl  # noqa: E402
from mmnst_path.stain.guess import (  # noqa: E402
    AEC_DEG,
    CHROMOGEN_MIN_OD,
    CHROMOGEN_MIN_SHARE,
    MIN_OD,
    guess_stains_detail,
    od_residual,
)


def brown_bodies(rgb: np.ndarray, tissue: np.ndarray, mpp: float, white: tuple[float, float, float]) -> list[dict]:
    """Features of the brown nuclear bodies (class "brown" of ``places._count``)."""
    from scipy import ndimage as ndi
    from skimage.measure import regionprops

    od = od_from_rgb(rgb, background=white).astype(np.float64)
    norm = np.linalg.norm(od, axis=2)
    m, theta = od_residual(od)
    chrom = tissue & (norm > MIN_OD) & (m >= CHROMOGEN_MIN_OD) & (m >= CHROMOGEN_MIN_SHARE * norm)
    objs = chrom & (theta >= AEC_DEG) & (theta < 30.0)
    r = max(1, round(pl.BODY_OPEN_UM / mpp))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    opened = ndi.binary_opening(objs, structure=yy * yy + xx * xx <= r * r)
    lab, _ = ndi.label(objs)
    feats = []
    for rp in regionprops(lab):
        a = rp.area * mpp * mpp
        if not (pl.BODY_AREA_UM2[0] <= a <= pl.BODY_AREA_UM2[1]) or rp.area < pl.BODY_FILL * rp.area_filled:
            continue
        ys, xs = rp.coords[:, 0], rp.coords[:, 1]
        if not (rp.solidity >= pl.BODY_SOLIDITY and rp.eccentricity <= pl.BODY_MAX_ECC
                and float(opened[ys, xs].mean()) >= pl.BODY_OPEN_KEEP):
            continue
        n = norm[ys, xs]
        feats.append({"area_um2": a, "od": float(n.mean()), "od90": float(np.percentile(n, 90)),
                      "share": float(m[ys, xs].mean()) / float(n.mean()), "deg": float(np.median(theta[ys, xs])),
                      "spread": float(n.std() / n.mean())})
    return feats


def record(group: str, label: str, rgb: np.ndarray, mpp: float) -> dict:
    thumb, mask, tmpp = esg.thumbnail(rgb, mpp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = guess_stains_detail(thumb, mask, mpp=tmpp)
    p = g.places
    feats = brown_bodies(np.asarray(thumb), np.asarray(mask, bool), float(tmpp), g.white_point) if p else []
    return {"group": group, "label": label, "name": g.name, "ambiguous": bool(g.ambiguous),
            "alternative": g.alternative, "p_he": g.he_probability, "marker": g.marker, "reason": g.reason,
            "places": None if p is None else {k: getattr(p, k) for k in p.__dataclass_fields__}, "brown": feats}


def tiles(first: int, n: int, groups: tuple[str, ...]):
    for seed in range(first, first + n):
        if "eval" in groups:
            for proto in ("H&E", "H-DAB-FastRed", "H-DAB-AEC"):
                for i in range(10):
                    lab, rgb, mpp = esg.protocol_tile(proto, seed, i)
                    yield proto, lab, rgb, mpp
        if "he" in groups:
            for fam in synthetic.PIGMENT_FAMILIES:
                for app in synthetic.APPEARANCES:
                    for hard in (False, True):
                        t = synthetic.pigment_family_tile(seed, fam, chromogen="eosin", appearance=app,
                                                          hard_negatives=hard)
                        yield "H&E probe", f"{fam} {app}{' hard' if hard else ''} {seed}", t.rgb, t.mpp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first-seed", type=int, default=7200)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--groups", nargs="+", default=["eval", "he"], choices=["eval", "he"])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    with args.out.open("a") as out:
        for group, lab, rgb, mpp in tiles(args.first_seed, args.seeds, tuple(args.groups)):
            rec = record(group, lab, rgb, mpp)
            out.write(json.dumps(rec, default=lambda x: None if isinstance(x, float) and math.isnan(x) else x) + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
