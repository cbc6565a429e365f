"""#14: what tells a red chromogen (AEC / Fast Red) beside melanin from DAB (+ melanin), on dev tiles only.

Session 32 H1. The stain guess names red IHC with melanin H-DAB when the melanin peak outweighs the red in the
angle histogram (:mod:`mmnst_path.stain.guess`), and the nuclear-body rule (>= 150 red bodies / mm², twice the
brown) does not fire when the positives are few. This script measures, per tile, candidate quantities on the
tissue thumbnail the pipeline guesses on, for

- ``red``: generated AEC / Fast Red tiles of every pigment family with melanin (``eval_stain_guess.protocol_tile``
  draws: AEC vector over ``AEC_RANGE``, Fast Red over ``FAST_RED_RANGE``, weak staining, tinted glass), with few
  positives (``positive_fraction`` 3-10 %) and with the generator's own (3-50 %);
- ``dab``: generated H-DAB tiles of every family (both positive ranges), EndoNuke (CC BY 4.0, ../shared/train) and
  scikit-image's IHC tile (BSD-3).

``show`` prints, per group, the names right without and with the candidate rule (1b) of
``red_few_bodies_s32.patch`` (an H-DAB colour guess with at least N red nuclear bodies per mm² whose angle lies
below T is a red chromogen, whatever its brown bodies), for a grid of (T, N). The candidate (-18°, 25 per mm²)
failed the lead's rule at its generated gate (``eval_stain_guess.py --seeds 6``: H-AEC + H-FastRed 82 -> 82, +4
asked) and is not applied (benchmarks/README.md, session 32 H1).

Dev seeds only (>= 40); never the held-out renderer, never the research sets (BCData, SHIDC, DeepLIIF)::

    PYTHONPATH=. python benchmarks/experiments/red_beside_melanin.py collect --seeds 40 41 42 43 --out F.pkl
    PYTHONPATH=. python benchmarks/experiments/red_beside_melanin.py show F.pkl [F2.pkl ...]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import pickle
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import eval_stain_guess as esg  # noqa: E402

from mmnst_path import synthetic  # noqa: E402
from mmnst_path.stain.guess import guess_stains_detail  # noqa: E402

TRAIN = HERE.parents[1] / ".." / "shared" / "train"


@contextlib.contextmanager
def _few_positives(rng: np.random.Generator, lo: float, hi: float) -> Iterator[None]:
    """``synthetic.pigment_family_tile`` drawn with a positive fraction in [lo, hi] for one call."""
    old = synthetic.pigment_family_tile
    synthetic.pigment_family_tile = functools.partial(old, positive_fraction=float(rng.uniform(lo, hi)))
    try:
        yield
    finally:
        synthetic.pigment_family_tile = old


def red_evidence(rgb: np.ndarray, tissue: np.ndarray | None, mpp: float,
                 white: tuple[float, float, float]) -> dict:
    """Per-body and tile-level quantities (dev only): every nuclear body of chromogen pixels (brown and red
    labelled together, the shape tests of :mod:`mmnst_path.stain.places`) with its angle percentiles, mean OD
    and residual share; the mean OD of the brown chromogen pixels outside bodies (granular pigment); blue
    nuclei per mm² (hematoxylin-dominated nucleus-sized objects); tissue area."""
    from scipy import ndimage as ndi
    from skimage.measure import regionprops

    from mmnst_path.stain import od_from_rgb
    from mmnst_path.stain import places as pl
    from mmnst_path.stain.guess import _H, CHROMOGEN_MIN_OD, CHROMOGEN_MIN_SHARE, MIN_OD, od_residual

    keep = np.ones(rgb.shape[:2], bool) if tissue is None else np.asarray(tissue, bool)
    area_mm2 = float(keep.sum()) * mpp * mpp / 1e6
    od = od_from_rgb(rgb, background=white).astype(np.float64)
    norm = np.linalg.norm(od, axis=2)
    m, theta = od_residual(od)
    chrom = keep & (norm > MIN_OD) & (m >= CHROMOGEN_MIN_OD) & (m >= CHROMOGEN_MIN_SHARE * norm)
    px = mpp * mpp
    r = max(1, round(pl.BODY_OPEN_UM / mpp))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = yy * yy + xx * xx <= r * r
    bodies = []
    in_body = np.zeros(rgb.shape[:2], bool)
    for cls, sel in (("brown", (theta >= -5.7) & (theta < 30.0)), ("red", theta < -5.7), ("any", theta < 30.0)):
        objs = chrom & sel
        opened = ndi.binary_opening(objs, structure=disc)
        lab, _ = ndi.label(objs)
        for rp in regionprops(lab):
            a = rp.area * px
            ys, xs = rp.coords[:, 0], rp.coords[:, 1]
            shaped = (pl.BODY_AREA_UM2[0] <= a <= pl.BODY_AREA_UM2[1] and rp.area >= pl.BODY_FILL * rp.area_filled
                      and rp.solidity >= pl.BODY_SOLIDITY and rp.eccentricity <= pl.BODY_MAX_ECC
                      and float(opened[ys, xs].mean()) >= pl.BODY_OPEN_KEEP)
            if not shaped:
                continue
            if cls == "any":
                in_body[ys, xs] = True
            t = theta[ys, xs]
            bodies.append((cls, a, float(np.percentile(t, 20)), float(np.median(t)), float(np.percentile(t, 80)),
                           *od[ys, xs].mean(axis=0), float(m[ys, xs].mean()), float(norm[ys, xs].mean())))
    gran = chrom & ~in_body & (theta >= -5.7) & (theta < 30.0)
    gran_od = od[gran].mean(axis=0) if gran.sum() >= 20 else np.full(3, np.nan)
    hemo = keep & (od @ _H >= 0.25) & (m < 0.3 * np.maximum(norm, 1e-6))
    lab, _ = ndi.label(ndi.binary_opening(hemo, structure=disc))
    sizes = np.bincount(lab.ravel())[1:] * px
    nuclei = int(np.sum((sizes >= pl.BODY_AREA_UM2[0]) & (sizes <= pl.BODY_AREA_UM2[1])))
    cth = theta[chrom]
    return {"area_mm2": area_mm2, "bodies": bodies, "gran_od": gran_od, "gran_px": int(gran.sum()),
            "blue_nuclei": nuclei, "chrom_px": int(chrom.sum()), "chrom_theta": cth.astype(np.float32),
            "chrom_m": m[chrom].astype(np.float32), "body_theta": theta[in_body].astype(np.float32),
            "tissue_px": int(keep.sum())}


def record(group: str, label: str, rgb: np.ndarray, mpp: float) -> dict:
    """Thumbnail guess and candidate quantities of one tile."""
    thumb, mask, tmpp = esg.thumbnail(rgb, mpp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = guess_stains_detail(thumb, mask, mpp=tmpp)
        colour = guess_stains_detail(thumb, mask)
    ev = red_evidence(thumb, mask, float(tmpp), colour.white_point) if tmpp is not None else None
    return {"group": group, "label": label, "name": g.name, "colour": colour.name, "deg": colour.chromogen_deg,
            "amb": g.ambiguous, "places": g.places, "ev": ev}


def generated(seeds: list[int], fams: list[str]) -> Iterator[dict]:
    for seed in seeds:
        for i, fam in enumerate(fams):
            for proto in ("H-AEC", "H-FastRed", "H-DAB"):
                idx = synthetic.PIGMENT_FAMILIES.index(fam)
                grp = {"H-AEC": "red aec", "H-FastRed": "red fast_red", "H-DAB": "dab gen"}[proto]
                label, rgb, mpp = esg.protocol_tile(proto, seed, idx)
                yield record(grp, f"{label} std", rgb, mpp)
                rng = np.random.default_rng([seed, i, 32, esg.PROTOCOLS.index(proto)])
                with _few_positives(rng, 0.03, 0.10):
                    label, rgb, mpp = esg.protocol_tile(proto, seed, idx)
                yield record(grp + " few", f"{label} few", rgb, mpp)


def reddish_dab(seeds: list[int], fams: list[str], s_range: tuple[float, float] = (0.2, 0.55)) -> Iterator[dict]:
    """Negatives: DAB turned 1.7-4.6° towards AEC (``red_vector`` s 0.2-0.55 on the arc from DAB through AEC; a
    reddish DAB scan, what AEC_RANGE's brownest end borders on), drawn as ``protocol_tile`` draws AEC."""
    old = esg.AEC_RANGE
    esg.AEC_RANGE = s_range
    try:
        for seed in seeds:
            for i, fam in enumerate(fams):
                idx = synthetic.PIGMENT_FAMILIES.index(fam)
                label, rgb, mpp = esg.protocol_tile("H-AEC", seed, idx)
                yield record("dab reddish", f"{label} std", rgb, mpp)
                rng = np.random.default_rng([seed, i, 32, 99])
                with _few_positives(rng, 0.03, 0.10):
                    label, rgb, mpp = esg.protocol_tile("H-AEC", seed, idx)
                yield record("dab reddish few", f"{label} few", rgb, mpp)
    finally:
        esg.AEC_RANGE = old


def real() -> Iterator[dict]:
    from eval_red_chromogens import _thumbnail_mpp
    from PIL import Image

    files = [(p, 0.5, "dab real " + ("skimage" if "skimage" in p.name else "endonuke"))
             for p in sorted((TRAIN / "endonuke").glob("*/*.png"))]
    files += [(p, 0.5, "he real brca_m2c") for p in sorted((TRAIN / "brca_m2c").glob("mixed/*.png"))]
    files += [(p, 0.5, "he real kather_crc") for p in sorted((TRAIN / "kather_nct_crc_he").glob("*/*.tif"))]
    files += [(p, 0.33, "he real kather_2016") for p in sorted((TRAIN / "kather_texture_2016").glob("*/*.png"))]
    for p, mpp, grp in files:
        rgb = np.asarray(Image.open(p).convert("RGB"))
        thumb, mask, tmpp = _thumbnail_mpp(rgb, mpp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = guess_stains_detail(thumb, mask, mpp=tmpp)
            colour = guess_stains_detail(thumb, mask)
        ev = red_evidence(thumb, mask, float(tmpp), colour.white_point) if tmpp is not None else None
        yield {"group": grp, "label": p.name,
               "name": g.name, "colour": colour.name, "deg": colour.chromogen_deg, "amb": g.ambiguous,
               "places": g.places, "ev": ev}


#: Candidates (T, N) of rule (1b) (``RED_FEW_DEG``, ``RED_FEW_BODIES_MM2`` of ``red_few_bodies_s32.patch``) shown by ``show``.
CANDIDATES = [(t, n) for t in (-13.7, -16.0, -18.0, -20.0) for n in (25.0, 50.0, 75.0)]


def _truth(group: str) -> str:
    return {"red aec": "H-AEC", "red fast_red": "H-FastRed"}.get(" ".join(group.split()[:2]),
                                                                  "H&E" if group.startswith("he") else "H-DAB")


def rule_1b(r: dict, deg_max: float, bodies_min: float) -> str:
    """The name rule (1b) gives a collected row (the guess without it: ``r["name"]``)."""
    from mmnst_path.stain.guess import FAST_RED_DEG

    p = r["places"]
    if r["name"] != "H-DAB" or p is None or not (p.red_bodies_mm2 >= bodies_min and p.red_body_deg < deg_max):
        return r["name"]
    return "H-FastRed" if p.red_body_deg < FAST_RED_DEG else "H-AEC"


def dev_table(rows: list[dict]) -> str:
    """Right names per group without rule (1b) and with each candidate; red tiles gained, DAB / H&E tiles lost."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    lines = ["| group | n | without | " + " | ".join(f"{t:+.1f}° / {n:.0f}" for t, n in CANDIDATES) + " |",
             "|---|---:|---:|" + "---:|" * len(CANDIDATES)]
    gain = dict.fromkeys(CANDIDATES, 0)
    lost = dict.fromkeys(CANDIDATES, 0)
    for g, sel in groups.items():
        truth = _truth(g)
        head = sum(r["name"] == truth for r in sel)
        cells = []
        for c in CANDIDATES:
            k = sum(rule_1b(r, *c) == truth for r in sel)
            cells.append(str(k))
            if truth in ("H-AEC", "H-FastRed"):
                gain[c] += k - head
            else:
                lost[c] += head - k
        lines.append(f"| {g} | {len(sel)} | {head} | " + " | ".join(cells) + " |")
    lines.append("| red gained | | | " + " | ".join(str(gain[c]) for c in CANDIDATES) + " |")
    lines.append("| DAB / H&E lost | | | " + " | ".join(str(lost[c]) for c in CANDIDATES) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--seeds", type=int, nargs="*", default=[40, 41])
    c.add_argument("--real", action="store_true", help="EndoNuke, scikit-image and the H&E training sets instead")
    c.add_argument("--reddish-dab", action="store_true", help="DAB turned towards AEC (negatives) instead")
    c.add_argument("--families", nargs="*", default=[f for f in synthetic.PIGMENT_FAMILIES if f != "none"])
    c.add_argument("--out", required=True)
    s = sub.add_parser("show")
    s.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    if args.cmd == "collect":
        if not args.real and min(args.seeds) < 40:
            raise SystemExit("dev seeds are 40 and above")
        rows = []
        rows_it = (real() if args.real else reddish_dab(args.seeds, args.families) if args.reddish_dab
                   else generated(args.seeds, args.families))
        for r in rows_it:
            rows.append(r)
            print(r["group"], r["label"], r["name"], f"{r['deg']:+.1f}", flush=True)
        with open(args.out, "wb") as f:
            pickle.dump(rows, f)
        return 0
    rows = [r for f in args.files for r in pickle.load(open(f, "rb"))]
    print(dev_table(rows))
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
