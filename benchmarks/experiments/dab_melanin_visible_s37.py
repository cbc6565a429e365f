"""DAB melanin Dice split (issue #14, session 37 H6): what the truth asks, what is visible, where it is lost.

For each generated H-DAB pigment-family tile (:func:`mmnst_path.synthetic.pigment_family_tile`, the tiles of
``benchmarks/eval_pigment_families.py``) the same tile is rendered a second time with its melanin layer at zero
(the generator's melanin concentration map replaced by zeros; no random stream changes, so the camera noise is
the same draw and the difference of the two renderings is the melanin's own change of the 8-bit image). A truth
pixel is *visible* when that change reaches ``--visible-sigma`` times the tile's sensor noise (grey levels) in
some channel. Then, for the shipped H-DAB path (:func:`mmnst_path.classify.pigment.classify_pigment` with the
default :class:`~mmnst_path.detect.pigment.PigmentParams`):

- each missed truth pixel is put in the first class that holds it: not visible; pixel model alone < 0.5 (no gate);
  below the colour gate (brown channel < ``model_min_od``); vetoed by the body model (kept when the veto is off,
  ``body_min_probability`` 1e-6); dropped by the cluster test (kept with ``cluster_min_um2`` 0); other;
- each false pixel: on a Ki67-positive nucleus (DAB called melanin), within 1 px of the truth (the mask's edge),
  elsewhere;
- the Dice, a 1-px tolerant Dice (found pixels within 1 px of the truth, truth within 1 px of the found mask) and
  the truth's own fragility (Dice of the truth against itself dilated by 1 px).

    PYTHONPATH=. python benchmarks/experiments/dab_melanin_visible_s37.py --first-seed 800 --seeds 16 --csv X.csv \
        [--overlays DIR --overlay-seeds 800 801] [--set model_min_od=0.2] [--post]

``--post`` reads the mask of ``classify_pigment`` as the pipeline does from this tree (the same call; named only
to label the output). Dev data only: seeds 800-815 in session 37.
"""

from __future__ import annotations

import argparse
import csv
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

import mmnst_path.synthetic as synth
from mmnst_path.classify.pigment import classify_pigment, pigment_probability, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams, pigment_gate
from mmnst_path.stain import load_stains
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

_EIGHT = np.ones((3, 3), bool)


def _without_melanin(seed: int, family: str, size: int) -> np.ndarray:
    """RGB of the tile with the melanin concentration at zero (every other draw unchanged)."""
    real = synth._granule_layer

    def zero(shape, granules, mpp):  # the same signature; no random draw inside the original either
        return np.zeros(shape, np.float32)

    synth._granule_layer = zero
    try:
        return pigment_family_tile(seed, family, chromogen="dab", size=size).rgb
    finally:
        synth._granule_layer = real


def _value(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def dice(a: np.ndarray, b: np.ndarray) -> float:
    s = int(a.sum()) + int(b.sum())
    return 2.0 * int((a & b).sum()) / s if s else math.nan


def one_tile(seed: int, family: str, *, size: int, model, stains, params: PigmentParams,
             visible_sigma: float) -> tuple[dict, dict]:
    tile = pigment_family_tile(seed, family, chromogen="dab", size=size)
    rgb0 = _without_melanin(seed, family, size)
    truth, tissue = tile.masks["melanin"], tile.masks["tissue"]
    pos_nuc = tile.masks["positive_nuclei"]
    nuclei = tile.masks["nuclei"] > 0
    delta = np.abs(tile.rgb.astype(np.int16) - rgb0.astype(np.int16)).max(axis=2)
    visible = delta >= visible_sigma * float(tile.truth["noise"])
    gate, _ = pigment_gate(tile.rgb, mpp=tile.mpp, stains=stains, params=params, bodies=False,
                           min_od=params.model_min_od)
    prob, _ = pigment_probability(tile.rgb, mpp=tile.mpp, model=model)
    final, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains, params=params)
    no_veto, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains,
                                  params=replace(params, body_min_probability=1e-6))
    no_cluster, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains,
                                     params=replace(params, cluster_min_um2=0.0))
    final &= tissue
    n_t = int(truth.sum())
    missed = truth & ~final
    left = missed.copy()
    row: dict = {"family": family, "seed": seed, "truth_px": n_t, "found_px": int(final.sum()),
                 "tissue_px": int(tissue.sum()), "noise": float(tile.truth["noise"]),
                 "visible_px": int((truth & visible).sum())}
    for name, sel in (("m_invisible", ~visible), ("m_model", prob < params.min_probability), ("m_gate", ~gate),
                      ("m_veto", no_veto), ("m_cluster", no_cluster)):
        hit = left & sel
        row[name] = int(hit.sum())
        left &= ~hit
    row["m_other"] = int(left.sum())
    near_found = ndi.binary_dilation(final, _EIGHT)
    row["m_edge"] = int((missed & near_found).sum())
    row["m_on_pos_nucleus"] = int((missed & pos_nuc).sum())
    row["m_on_neg_nucleus"] = int((missed & nuclei & ~pos_nuc).sum())
    false = final & ~truth
    near_truth = ndi.binary_dilation(truth, _EIGHT)
    row["f_pos_nucleus"] = int((false & pos_nuc).sum())
    row["f_edge"] = int((false & ~pos_nuc & near_truth).sum())
    row["f_other"] = int((false & ~pos_nuc & ~near_truth).sum())
    row["dice"] = dice(final, truth)
    tp_p = int((final & near_truth).sum())
    tp_r = int((truth & near_found).sum())
    row["dice_tol1"] = (2.0 * tp_p * tp_r / (tp_p * n_t + tp_r * int(final.sum()))
                        if tp_p and tp_r else 0.0)  # harmonic mean of the tolerant precision and recall
    row["dice_truth_dil1"] = dice(truth, ndi.binary_dilation(truth, _EIGHT) & tissue)
    row["dice_visible_oracle"] = dice(truth & visible, truth)
    return row, {"rgb": tile.rgb, "truth": truth, "final": final, "visible": visible, "prob": prob, "gate": gate}


def overlay(path: Path, pics: dict) -> None:
    from PIL import Image

    rgb, truth, final = pics["rgb"], pics["truth"], pics["final"]
    ov = rgb.copy()
    ov[truth & final] = (0, 200, 0)
    ov[truth & ~final] = (255, 0, 255)
    ov[truth & ~final & ~pics["visible"]] = (255, 255, 0)
    ov[final & ~truth] = (0, 200, 255)
    grey = np.repeat((255 * pics["prob"])[..., None], 3, axis=2).astype(np.uint8)
    gated = rgb.copy()
    gated[pics["gate"]] = (0.5 * gated[pics["gate"]] + (0, 127, 0)).astype(np.uint8)
    Image.fromarray(np.concatenate([rgb, ov, grey, gated], axis=1)).save(path)


SUM_KEYS = ("truth_px", "found_px", "visible_px", "m_invisible", "m_model", "m_gate", "m_veto", "m_cluster",
            "m_other", "m_edge", "m_on_pos_nucleus", "m_on_neg_nucleus", "f_pos_nucleus", "f_edge", "f_other")


def summarise(rows: list[dict]) -> str:
    out = ["| family | tiles | Dice | 1-px tolerant Dice | truth vs truth+1px | visible share of truth | "
           "missed % of truth: invisible / model / gate / veto / cluster / other (edge) | "
           "false % of found: positive nucleus / edge / other |", "|---|---:|---:|---:|---:|---:|---|---|"]
    fams = [f for f in PIGMENT_FAMILIES if any(r["family"] == f for r in rows)] + ["all"]
    for fam in fams:
        sel = [r for r in rows if fam in ("all", r["family"]) and r["truth_px"] > 0]
        if not sel:
            continue
        s = {k: sum(r[k] for r in sel) for k in SUM_KEYS}
        t, f = max(s["truth_px"], 1), max(s["found_px"], 1)
        miss = " / ".join(f"{100.0 * s[k] / t:.1f}" for k in
                          ("m_invisible", "m_model", "m_gate", "m_veto", "m_cluster", "m_other"))
        fal = " / ".join(f"{100.0 * s[k] / f:.1f}" for k in ("f_pos_nucleus", "f_edge", "f_other"))
        out.append(f"| {fam} | {len(sel)} | {np.mean([r['dice'] for r in sel]):.4f} | "
                   f"{np.mean([r['dice_tol1'] for r in sel]):.4f} | {np.mean([r['dice_truth_dil1'] for r in sel]):.4f} | "
                   f"{s['visible_px'] / t:.4f} | {miss} ({100.0 * s['m_edge'] / t:.1f}) | {fal} |")
    return "\n".join(out)


def sweep(variants: list[str], families: list[str], seeds: range, size: int, model, stains) -> None:
    """Dice mean (over the tiles with truth) of ``classify_pigment`` per variant (``KEY=V,KEY=V`` PigmentParams)."""
    sets = [PigmentParams.from_mapping({k: _value(v) for k, v in (kv.split("=", 1) for kv in var.split(",") if kv)})
            for var in variants]
    dices: dict[str, list[list[float]]] = {f: [[] for _ in sets] for f in families}
    for fam in families:
        for seed in seeds:
            tile = pigment_family_tile(seed, fam, chromogen="dab", size=size)
            truth, tissue = tile.masks["melanin"], tile.masks["tissue"]
            for i, params in enumerate(sets):
                m, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains, params=params)
                dices[fam][i].append(dice(m & tissue, truth))
        print(f"| {fam} | " + " | ".join(f"{np.nanmean(v):.4f}" for v in dices[fam]) + " |", flush=True)
    allv = [np.nanmean([x for f in families for x in dices[f][i]]) for i in range(len(sets))]
    print("| all | " + " | ".join(f"{v:.4f}" for v in allv) + " |")
    print("variants: " + " ; ".join(v or "HEAD defaults" for v in variants))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", nargs="*", default=[f for f in PIGMENT_FAMILIES if f != "none"])
    ap.add_argument("--first-seed", type=int, default=800)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--visible-sigma", type=float, default=2.0)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="PigmentParams values")
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--overlays", type=Path, default=None)
    ap.add_argument("--overlay-seeds", type=int, nargs="*", default=[])
    ap.add_argument("--sweep", nargs="*", default=None, metavar="KEY=V,KEY=V",
                    help="only the Dice of each PigmentParams variant ('' = the defaults)")
    args = ap.parse_args()
    if args.sweep is not None:
        sweep(args.sweep, args.families, range(args.first_seed, args.first_seed + args.seeds), args.size,
              resolve_pigment_model("dab"), load_stains("H-DAB"))
        return
    params = PigmentParams.from_mapping({k: _value(v) for k, v in (s.split("=", 1) for s in args.set)})
    stains = load_stains("H-DAB")
    model = resolve_pigment_model("dab")
    rows = []
    for fam in args.families:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            row, pics = one_tile(seed, fam, size=args.size, model=model, stains=stains, params=params,
                                 visible_sigma=args.visible_sigma)
            rows.append(row)
            print(f"{fam} {seed} dice {row['dice']:.3f} tol {row['dice_tol1']:.3f}", flush=True)
            if args.overlays is not None and seed in args.overlay_seeds:
                args.overlays.mkdir(parents=True, exist_ok=True)
                overlay(args.overlays / f"{fam}_{seed}.png", pics)
    print(summarise(rows))
    if args.csv:
        with args.csv.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
