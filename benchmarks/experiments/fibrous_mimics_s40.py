"""Session 40 H1 (#13): dev look and diagnosis of the fibrous / keratin mimics of ``he_fibrous_tile``.

    PYTHONPATH=. python benchmarks/experiments/fibrous_mimics_s40.py look --seeds 5500 5501 ... --out DIR
    PYTHONPATH=. python benchmarks/experiments/fibrous_mimics_s40.py diag --first-seed 5500 --seeds 24
        [--tissue-model FILE] [--necrosis none]

``diag`` reads each tile with :func:`mmnst_path.quantify.necrosis.measure_necrosis` (the default or the given
tissue model) and prints, per painted region, the share read as necrosis with the parameters drawn, then the mean
share per kind (blood regions and, session 40 H7, the necrosis haemorrhage's erythrocytes); dev seeds only (H1
5500-5599, H7 5700-5799), never the held-out renderer.
"""

from __future__ import annotations

import argparse
import math
import warnings
from pathlib import Path

import numpy as np
from mmnst_path._synthetic_fibrous import he_fibrous_tile


def _read(t, params):
    from mmnst_path.quantify.necrosis import mask_to_tile, measure_necrosis, necrosis_metrics

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counts, mask, mask_mpp = measure_necrosis(t.rgb, mpp=t.mpp, params=params)
    big = mask_to_tile(mask, t.rgb.shape[:2], mpp=t.mpp, mask_mpp=mask_mpp).astype(bool)
    return float(necrosis_metrics(counts)["necrosis_fraction_pct"]), big


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("what", choices=["look", "diag"])
    ap.add_argument("--first-seed", type=int, default=5500)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--necrosis", default=None)
    ap.add_argument("--tissue-model", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("/tmp/fibrous_look"))
    args = ap.parse_args(argv)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if args.what == "look":
        from PIL import Image

        args.out.mkdir(parents=True, exist_ok=True)
        tiles = [he_fibrous_tile(s, size=384, mpp=0.5 if s % 2 == 0 else 1.0, necrosis=args.necrosis) for s in seeds]
        cols = 4
        rows = math.ceil(len(tiles) / cols)
        canvas = np.full((rows * 388, cols * 388, 3), 255, np.uint8)
        for i, t in enumerate(tiles):
            canvas[(i // cols) * 388 : (i // cols) * 388 + 384, (i % cols) * 388 : (i % cols) * 388 + 384] = t.rgb
            print(seeds[i], t.mpp, t.truth["kinds"])
        Image.fromarray(canvas).save(args.out / f"fibrous_{seeds[0]}.png")
        return 0
    from mmnst_path.quantify.necrosis import NecrosisParams

    params = NecrosisParams() if args.tissue_model is None else NecrosisParams(tissue_model=str(args.tissue_model))
    per_kind: dict[str, list[float]] = {}
    false, errs = [], []
    for s in seeds:
        mpp = 0.5 if s % 2 == 0 else 1.0
        t = he_fibrous_tile(s, size=640 if mpp == 0.5 else 384, mpp=mpp, necrosis=args.necrosis)
        pct, big = _read(t, params)
        truth = t.truth["necrosis_fraction_pct"]
        (false if truth == 0 else errs).append(pct if truth == 0 else abs(pct - truth))
        print(f"seed {s} mpp {mpp} truth {truth:6.2f} read {pct:6.2f} kinds {'+'.join(t.truth['kinds'])}")
        for p in t.truth["params"]:
            kind = t.truth["kinds"][int(p["region"])]
            sel = t.masks[kind] if kind in ("keratin", "mucin", "blood") else None
            if sel is None:
                sel = t.masks["stroma"] & ~t.masks["keratin"]
            if sel.sum() < 200:
                continue
            share = 100.0 * float(big[sel].mean())
            per_kind.setdefault(kind, []).append(share)
            print(f"   {kind:8s} read necrosis {share:5.1f} %  " +
                  " ".join(f"{k}={v:.3g}" for k, v in p.items() if k != "region"))
        haem = t.masks["blood"] if "blood" not in t.truth["kinds"] else np.zeros_like(t.masks["blood"])
        if haem.sum() >= 50:  # erythrocytes of the necrosis haemorrhage (no blood region of their own)
            per_kind.setdefault("haemorrhage cells", []).append(100.0 * float(big[haem].mean()))
        if t.masks["necrosis"].any():
            per_kind.setdefault("necrosis found", []).append(100.0 * float(big[t.masks["necrosis"]].mean()))
    print("false necrosis mean (no-necrosis tiles):", np.mean(false) if false else math.nan,
          "| necrosis |err| mean:", np.mean(errs) if errs else math.nan)
    for k, v in sorted(per_kind.items()):
        print(f"{k:15s} read necrosis mean {np.mean(v):5.1f} % (n {len(v)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
