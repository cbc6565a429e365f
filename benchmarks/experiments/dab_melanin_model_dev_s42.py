"""Dev sweep of the H-DAB drawn-melanin model's reach and threshold (session 42 H1, #14; dev seeds 7000-7039 only).

For each generated H-DAB pigment tile (``pigment_family_tile(seed, family, drawn_melanin=True)``, 384 px, the nine
pigmented families and ``none``): the pigment stage's mask (``classify_pigment`` with ``melanin_model="none"``,
what HEAD's melanin mask is), the model's probability within the largest reach, then per (reach, threshold) the
drawn-truth Dice and the mask's melanin error (mask share of tissue minus the drawn share, pp). Prints a table of
the means over the pigmented tiles (and false pigment on ``none``) for the stage and each setting.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/dab_melanin_model_dev_s42.py MODEL --first-seed 7000 --seeds 4
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
from mmnst_path.classify._pigment_dab_melanin import _disk

from mmnst_path.classify.pigment import classify_pigment, pigment_probability, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.stain import get_preset
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

DEV = range(7000, 7040)


def main() -> None:
    from scipy import ndimage as ndi

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--first-seed", type=int, default=7000)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--reach", type=float, nargs="*", default=[2.0, 3.0, 4.0, 6.0])
    ap.add_argument("--threshold", type=float, nargs="*", default=[0.4, 0.5, 0.6])
    ap.add_argument("--union", action="store_true", help="also each setting's mask joined with the stage's")
    args = ap.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if not set(seeds) <= set(DEV):
        ap.error(f"dev seeds are 7000-7039, got {seeds.start}-{seeds.stop - 1}")
    stage_model = resolve_pigment_model("default")
    model = resolve_pigment_model(str(args.model))
    params = replace(PigmentParams(), melanin_model="none")
    stains = get_preset("H-DAB")
    settings = [(r, t, u) for r in args.reach for t in args.threshold for u in ((False, True) if args.union else (False,))]
    rows: dict[object, list[tuple[str, float, float, float]]] = {k: [] for k in ["stage", *settings]}
    for seed in seeds:
        for fam in PIGMENT_FAMILIES:
            tile = pigment_family_tile(seed, fam, chromogen="dab", size=384, drawn_melanin=True)
            tissue, truth = tile.masks["tissue"], tile.masks["melanin_drawn"]
            n = float(tissue.sum())
            stage, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=stage_model, stains=stains, params=params)

            def score(m: np.ndarray, fam: str = fam, tissue: np.ndarray = tissue, truth: np.ndarray = truth,
                      n: float = n) -> tuple[str, float, float, float]:
                m = m & tissue
                s = int(m.sum()) + int(truth.sum())
                d = 2.0 * int((m & truth).sum()) / s if s and truth.any() else math.nan
                return fam, d, 100.0 * (int(m.sum()) - int(truth.sum())) / n, 100.0 * float((m & ~truth).sum()) / n

            rows["stage"].append(score(stage))
            if stage.any():
                big = ndi.binary_dilation(stage, structure=_disk(round(max(args.reach) / tile.mpp)))
                prob, cand = pigment_probability(tile.rgb, mpp=tile.mpp, model=model, where=big)
            for r, t, u in settings:
                if not stage.any():
                    rows[(r, t, u)].append(score(stage))
                    continue
                near = ndi.binary_dilation(stage, structure=_disk(max(1, round(r / tile.mpp))))
                rows[(r, t, u)].append(score((cand & near & (prob >= t)) | (stage if u else False)))
        print(f"seed {seed} done", flush=True)
    fams = [f for f in PIGMENT_FAMILIES if f != "none"]
    print("| setting | Dice pigmented | mask |err| pp | signed err | false % none | " + " | ".join(fams) + " |")
    for key, vals in rows.items():
        pig = [v for v in vals if v[0] != "none"]
        none = [v[3] for v in vals if v[0] == "none"]
        per = [np.nanmean([v[1] for v in pig if v[0] == f]) for f in fams]
        print(f"| {key} | {np.nanmean([v[1] for v in pig]):.4f} | {np.mean([abs(v[2]) for v in pig]):.4f} | "
              f"{np.mean([v[2] for v in pig]):+.4f} | {np.mean(none):.4f} | " + " | ".join(f"{p:.3f}" for p in per) + " |")


if __name__ == "__main__":
    main()
