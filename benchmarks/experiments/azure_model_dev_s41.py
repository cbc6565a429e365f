"""Dev check of the azure B melanin pixel model (session 41 H7; dev seeds 4440-4459 only).

Drawn-truth Dice and melanin mask |err| (pp of tissue) of the rules (``pigment_masks``) and of
``azure_pigment_masks`` with each model file given, on ``azure_b_tile`` tiles of every pigmented family.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/azure_model_dev_s41.py MODEL.mmnst ... --seeds 4440 4441
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from mmnst_path.classify import load_model
from mmnst_path.classify._pigment_azure import azure_pigment_masks
from mmnst_path.detect.pigment import PigmentParams, pigment_masks
from mmnst_path.stain import get_preset
from mmnst_path.synthetic import PIGMENT_FAMILIES
from mmnst_path.synthetic_azure import azure_b_tile


def score(mask: np.ndarray, tile) -> tuple[float, float]:
    ti, tr = tile.masks["tissue"], tile.masks["melanin_drawn"]
    m = mask & ti
    d = 2.0 * (m & tr).sum() / max(1, m.sum() + tr.sum())
    return float(d), 100.0 * (int(m.sum()) - int(tr.sum())) / float(ti.sum())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*")
    ap.add_argument("--seeds", nargs="*", type=int, default=[4440, 4441])
    args = ap.parse_args()
    if any(not 4440 <= s <= 4459 for s in args.seeds):
        sys.exit("dev seeds are 4440-4459 only")
    models = [load_model(p) for p in args.models]
    m = get_preset("AzureB-DAB")
    p = PigmentParams()
    res: dict[str, list] = {"rules": []} | {str(i): [] for i in range(len(models))}
    for fam in PIGMENT_FAMILIES[1:]:
        for seed in args.seeds:
            level = 0.06 if seed % 2 else 0.4
            tile = azure_b_tile(seed, fam, size=384, positive_fraction=level, drawn_melanin=True)
            res["rules"].append(score(pigment_masks(tile.rgb, mpp=tile.mpp, stains=m, params=p)[0], tile))
            for i, mod in enumerate(models):
                res[str(i)].append(score(azure_pigment_masks(tile.rgb, mpp=tile.mpp, model=mod, stains=m,
                                                             params=p)[0], tile))
            print(fam, seed, " ".join(f"{k} {v[-1][0]:.3f}/{v[-1][1]:+.2f}" for k, v in res.items()), flush=True)
    for k, v in res.items():
        a = np.asarray(v)
        print(f"{k}: Dice {a[:, 0].mean():.4f} mask |err| {np.abs(a[:, 1]).mean():.3f} pp")


if __name__ == "__main__":
    main()
