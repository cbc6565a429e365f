"""Where the held-out renderer's melanin is lost, and how it compares with the generator's (issue #14, session 25 H3).

For each held-out renderer tile (``heldout_render.render``, used as a black box: only its image and truth masks are
read) the recall of the TRUE melanin mask at each stage of ``classify_pigment`` (as ``dab_melanin_stages.py``):
candidates (total OD >= 0.2), the pixel model alone (p >= 0.5, no gate), the brown gate, model and gate, the final mask
(body model / veto and cluster test); then image statistics of the true melanin pixels: OD norm (median, 90th
percentile), hue angle to DAB and to neutral grey (median over pixels with OD norm >= 0.3), share of pixels at the
camera floor (any channel <= 8), component area (median, µm²) and local texture (coefficient of variation of the OD
norm in 1 µm windows). ``--generated`` prints the same statistics for ``pigment_family_tile`` tiles (every family,
``--gen-seeds``, the appearance and options given) to set beside them.

    PYTHONPATH=. python benchmarks/experiments/heldout_melanin_stages.py --first-seed 100 --seeds 12
    PYTHONPATH=. python benchmarks/experiments/heldout_melanin_stages.py --generated --gen-seeds 40 41 --near-black
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmnst_path.classify.pigment import classify_pigment, pigment_probability, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams, pigment_gate
from mmnst_path.stain import load_stains

_DAB = np.array([0.26814753, 0.57031375, 0.77642715])


def melanin_stats(rgb: np.ndarray, truth: np.ndarray, mpp: float) -> dict[str, float]:
    """Image statistics of the true melanin pixels (see the module docstring)."""
    od = -np.log10(np.maximum(rgb.astype(np.float32), 1.0) / 255.0)
    norm = np.linalg.norm(od, axis=2)
    sel = truth & (norm >= 0.3)
    out: dict[str, float] = {"px": float(truth.sum())}
    if not sel.any():
        return out | {k: float("nan") for k in ("od50", "od90", "deg_dab", "deg_grey", "floor", "area_um2", "cv")}
    v = od[sel] / norm[sel][:, None]
    dab = _DAB / np.linalg.norm(_DAB)
    grey = np.ones(3) / np.sqrt(3)
    lab, n = ndi.label(truth)
    areas = np.bincount(lab.ravel())[1:] * mpp * mpp
    w = max(1, round(1.0 / mpp))
    m1 = ndi.uniform_filter(norm, w)
    m2 = ndi.uniform_filter(norm * norm, w)
    cv = np.sqrt(np.maximum(m2 - m1 * m1, 0)) / np.maximum(m1, 1e-3)
    return out | {"od50": float(np.median(norm[truth])), "od90": float(np.percentile(norm[truth], 90)),
                  "deg_dab": float(np.median(np.degrees(np.arccos(np.clip(v @ dab, -1, 1))))),
                  "deg_grey": float(np.median(np.degrees(np.arccos(np.clip(v @ grey, -1, 1))))),
                  "floor": float((rgb[truth].min(axis=1) <= 8).mean()),
                  "area_um2": float(np.median(areas)) if n else float("nan"),
                  "cv": float(np.median(cv[truth]))}


def stages(rgb: np.ndarray, truth: np.ndarray, tissue: np.ndarray, mpp: float, model, stains, params) -> dict:
    n = max(int(truth.sum()), 1)
    gate, _ = pigment_gate(rgb, mpp=mpp, stains=stains, params=params, bodies=False, min_od=params.model_min_od)
    prob, cand = pigment_probability(rgb, mpp=mpp, model=model)
    final, _ = classify_pigment(rgb, mpp=mpp, model=model, stains=stains, params=params)
    final &= tissue

    def rec(m: np.ndarray) -> float:
        return float((m & truth).sum()) / n

    return {"truth_pct": 100.0 * n / max(int(tissue.sum()), 1), "cand": rec(cand), "alone": rec(prob >= 0.5),
            "gate": rec(gate), "model_gate": rec(gate & (prob >= 0.5)), "final": rec(final),
            "prec": float((final & truth).sum()) / max(int(final.sum()), 1),
            "dice": 2.0 * float((final & truth).sum()) / max(int(final.sum()) + n, 1), "final_mask": final,
            "prob": prob, "gate_mask": gate}


def _fmt(d: dict, keys: list[str]) -> str:
    return " | ".join(f"{d[k]:.2f}" if isinstance(d[k], float) else str(d[k]) for k in keys)


STAT_KEYS = ["od50", "od90", "deg_dab", "deg_grey", "floor", "area_um2", "cv"]
STAGE_KEYS = ["truth_pct", "cand", "alone", "gate", "model_gate", "final", "prec", "dice"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first-seed", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=12)
    ap.add_argument("--model", default="dab")
    ap.add_argument("--overlays", type=Path, default=None)
    ap.add_argument("--generated", action="store_true")
    ap.add_argument("--gen-seeds", type=int, nargs="*", default=[40, 41])
    ap.add_argument("--appearance", default="varied")
    ap.add_argument("--near-black", action="store_true")
    ap.add_argument("--gen-kw", nargs="*", default=[], metavar="KEY=VALUE", help="more pigment_family_tile keywords")
    args = ap.parse_args()
    if args.generated:
        from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

        kw: dict = {"appearance": args.appearance, "near_black": args.near_black}
        for s in args.gen_kw:
            k, v = s.split("=", 1)
            kw[k] = v
        print("| family seed | " + " | ".join(STAT_KEYS) + " |")
        for fam in PIGMENT_FAMILIES[1:]:
            for seed in args.gen_seeds:
                t = pigment_family_tile(seed, fam, chromogen="dab", size=384, **kw)
                print(f"| {fam} {seed} | " + _fmt(melanin_stats(t.rgb, t.masks["melanin"], t.mpp), STAT_KEYS) + " |",
                      flush=True)
        return
    from heldout_render import render

    model = resolve_pigment_model(args.model)
    stains = load_stains("H-DAB")
    params = PigmentParams()
    print("| seed | morph | " + " | ".join(STAGE_KEYS) + " | " + " | ".join(STAT_KEYS) + " |")
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        t = render(seed, size=512, pigment="random", chromogen="dab")
        st = stages(t.rgb, t.melanin, t.tissue, t.mpp, model, stains, params)
        ms = melanin_stats(t.rgb, t.melanin, t.mpp)
        print(f"| {seed} | {'+'.join(map(str, t.params['morphologies']))} | " + _fmt(st, STAGE_KEYS) + " | "
              + _fmt(ms, STAT_KEYS) + " |", flush=True)
        if args.overlays is not None:
            from PIL import Image

            args.overlays.mkdir(parents=True, exist_ok=True)
            final, truth = st["final_mask"], t.melanin
            ov = t.rgb.copy()
            ov[truth & final] = (0, 200, 0)
            ov[truth & ~final] = (255, 0, 255)
            ov[final & ~truth] = (0, 200, 255)
            grey = np.repeat((255 * st["prob"])[..., None], 3, axis=2).astype(np.uint8)
            gated = t.rgb.copy()
            gated[st["gate_mask"]] = (0.5 * gated[st["gate_mask"]] + (0, 127, 0)).astype(np.uint8)
            Image.fromarray(np.concatenate([t.rgb, ov, grey, gated], axis=1)).save(args.overlays / f"heldout_{seed}.png")


if __name__ == "__main__":
    main()
