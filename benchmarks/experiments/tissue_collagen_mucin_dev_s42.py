"""Session 42 H3 (#13): dev read of :func:`mmnst_path._synthetic_collagen_mucin.he_collagen_mucin_tile`.

    PYTHONPATH=. python benchmarks/experiments/tissue_collagen_mucin_dev_s42.py diag --first-seed 7364 --seeds 16
        [--tissue-model FILE] [--necrosis none]
    PYTHONPATH=. python benchmarks/experiments/tissue_collagen_mucin_dev_s42.py look --first-seed 7364 --seeds 8 \
        --out FILE.png

``diag`` reads each tile with :func:`mmnst_path.quantify.necrosis.measure_necrosis` (the default or the given
tissue model) and prints, per painted region, the share read as necrosis with its style and parameters, then the
mean share per kind / style. Dev seeds only (7300-7389 minus the training seeds), never a gate renderer.
"""

from __future__ import annotations

import argparse
import math
import warnings
from pathlib import Path

import numpy as np
from mmnst_path._synthetic_collagen_mucin import COLLAGEN_STYLES, MUCIN_STYLES, he_collagen_mucin_tile


def _read(t, params):
    from mmnst_path.quantify.necrosis import mask_to_tile, measure_necrosis, necrosis_metrics

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counts, mask, mask_mpp = measure_necrosis(t.rgb, mpp=t.mpp, params=params)
    big = mask_to_tile(mask, t.rgb.shape[:2], mpp=t.mpp, mask_mpp=mask_mpp).astype(bool)
    return float(necrosis_metrics(counts)["necrosis_fraction_pct"]), big


def _tile(s: int, necrosis: str | None):
    mpp = 0.5 if s % 2 == 0 else 1.0
    return he_collagen_mucin_tile(s, size=640 if mpp == 0.5 else 384, mpp=mpp, necrosis=necrosis)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("what", choices=["look", "diag"])
    ap.add_argument("--first-seed", type=int, default=7364)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--necrosis", default=None)
    ap.add_argument("--tissue-model", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("/tmp/s42_h3/look.png"))
    args = ap.parse_args(argv)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    from mmnst_path.quantify.necrosis import NecrosisParams

    params = NecrosisParams() if args.tissue_model is None else NecrosisParams(tissue_model=str(args.tissue_model))
    if args.what == "look":
        from PIL import Image

        side = 320
        canvas = np.full((len(seeds) * (side + 4), 2 * side + 4, 3), 255, np.uint8)
        for i, s in enumerate(seeds):
            t = _tile(s, args.necrosis)
            _, big = _read(t, params)
            rgb = np.asarray(Image.fromarray(t.rgb).resize((side, side)))
            lab = np.zeros(t.rgb.shape, np.uint8) + 255
            lab[t.masks["stroma"]] = (0, 160, 0)
            lab[t.masks["mucin"]] = (80, 160, 255)
            lab[t.masks["tumour"]] = (200, 0, 0)
            lab[t.masks["blood"]] = (0, 0, 0)
            lab[t.masks["necrosis"]] = (255, 0, 255)
            lab[big] = (lab[big] * 0.4 + np.array([255, 255, 0]) * 0.6).astype(np.uint8)  # read necrosis: yellow
            canvas[i * (side + 4) : i * (side + 4) + side, :side] = rgb
            canvas[i * (side + 4) : i * (side + 4) + side, side + 4 :] = np.asarray(
                Image.fromarray(lab).resize((side, side), Image.NEAREST))
            print(s, t.mpp, t.truth["kinds"])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(canvas).save(args.out)
        return 0
    per: dict[str, list[float]] = {}
    false, errs = [], []
    for s in seeds:
        t = _tile(s, args.necrosis)
        pct, big = _read(t, params)
        truth = t.truth["necrosis_fraction_pct"]
        (false if truth == 0 else errs).append(pct if truth == 0 else abs(pct - truth))
        print(f"seed {s} mpp {t.mpp} truth {truth:6.2f} read {pct:6.2f} kinds {'+'.join(t.truth['kinds'])}")
        rmap = t.truth["region_map"]
        for p in t.truth["params"]:
            i = int(p["region"])
            kind = t.truth["kinds"][i]
            sel = rmap == i
            if kind == "blood" or sel.sum() < 200:
                continue
            style = (COLLAGEN_STYLES if kind == "collagen" else MUCIN_STYLES)[int(p["style"])]
            share = 100.0 * float(big[sel].mean())
            per.setdefault(f"{kind}:{style}", []).append(share)
            per.setdefault(kind, []).append(share)
            print(f"   {kind:8s} {style:10s} read necrosis {share:5.1f} %  "
                  + " ".join(f"{k}={v:.3g}" for k, v in p.items() if k not in ("region", "style")))
        if t.masks["necrosis"].any():
            per.setdefault("necrosis found", []).append(100.0 * float(big[t.masks["necrosis"]].mean()))
        if t.masks["tumour"].any():
            per.setdefault("tumour", []).append(100.0 * float(big[t.masks["tumour"]].mean()))
    print("false necrosis mean (no-necrosis tiles):", np.mean(false) if false else math.nan,
          "| necrosis |err| mean:", np.mean(errs) if errs else math.nan)
    for k, v in sorted(per.items()):
        print(f"{k:20s} read necrosis mean {np.mean(v):5.1f} % (n {len(v)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
