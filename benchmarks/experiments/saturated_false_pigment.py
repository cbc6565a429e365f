"""Melanin called on generated DAB tiles whose Ki67 positives are near-black and saturated, and which hold no melanin
(session 29 H3, #14: the dev analogue of real dark DAB positives called melanin, e.g. the kind a pixel model mined on
EndoNuke calls on a dark Ki67 scan).

Tiles: ``pigment_family_tile(seed, "none", saturated_positives=True, appearance=...)`` (generated, no melanin:
every marked pixel is false pigment), even seeds at 0.5 µm/px, odd at 0.25. Seeds 7000.. are dev seeds no
training script uses (the pigment models train on 1000.. and validate on 2000..). Reported per pixel / body model
pair: % of the tile's pixels marked (mean, max, tiles > 0.1 %) and the share of the saturated positives' pixels
marked. ``--granular``: also granular brown cytoplasm around the positives (the dev analogue of EndoNuke DEV
tile 508's non-specific staining), its pixels counted with the positives'; ``--meshwork`` likewise with brown
meshwork cytoplasm filling the positives' cells (``meshwork_cytoplasm``, session 30).

    PYTHONPATH=. python benchmarks/experiments/saturated_false_pigment.py default
    PYTHONPATH=. python benchmarks/experiments/saturated_false_pigment.py none --pixel-model /tmp/pix.mmnst
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]


def saturated_tiles(seeds: range, appearances: tuple[str, ...], size: int = 256, granular: bool = False,
                    meshwork: bool = False):
    """(rgb, mpp, positive-DAB mask) of the melanin-free tiles with saturated positives (odd seeds at 0.25 µm/px);
    ``granular``: with granular brown cytoplasm around the positives (``granular_cytoplasm_of``), the mask then
    the positives and the granules; ``meshwork``: with meshwork cytoplasm (``meshwork_cytoplasm_of``) likewise."""
    from mmnst_path._synthetic_pigment import granular_cytoplasm_of, meshwork_cytoplasm_of
    from mmnst_path.synthetic import pigment_family_tile

    for seed in seeds:
        mpp = 0.25 if seed % 2 else 0.5
        for app in appearances:
            tile = pigment_family_tile(seed, "none", chromogen="dab", size=round(size * 0.5 / mpp), mpp=mpp,
                                       appearance=app, saturated_positives=True)
            if granular or meshwork:
                rgb, spill = (granular_cytoplasm_of if granular else meshwork_cytoplasm_of)(tile, seed)
                yield rgb, mpp, tile.masks["positive_nuclei"] | spill
            else:
                yield tile.rgb, mpp, tile.masks["positive_nuclei"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("body_models", nargs="+", help="'default', 'none' (pixel model only) or body model files")
    ap.add_argument("--pixel-model", default="dab", help="the pixel model ('dab': the shipped one, or a file)")
    ap.add_argument("--first-seed", type=int, default=7000)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--appearances", nargs="+", default=["varied", "wide"])
    ap.add_argument("--granular", action="store_true",
                    help="also granular brown cytoplasm around the positives (_synthetic_pigment.granular_cytoplasm)")
    ap.add_argument("--meshwork", action="store_true",
                    help="also brown meshwork cytoplasm filling the positives' cells (_synthetic_pigment.meshwork_cytoplasm)")
    args = ap.parse_args()
    if args.granular and args.meshwork:
        ap.error("--granular and --meshwork are two analogues: pick one")

    from eval_pigment_dab import detect

    from mmnst_path.classify.pigment import resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams

    pixel_model = resolve_pigment_model(args.pixel_model)
    tiles = list(saturated_tiles(range(args.first_seed, args.first_seed + args.seeds), tuple(args.appearances),
                                 granular=args.granular, meshwork=args.meshwork))
    print(f"pixel model {args.pixel_model} ({pixel_model.model_id}); {len(tiles)} tiles")
    print("| body model | false pigment mean / max (% of pixels) | tiles > 0.1 % | positive DAB pixels marked % |")
    print("|---|---|---:|---:|")
    for spec in args.body_models:
        params = PigmentParams() if spec == "default" else PigmentParams(body_model=spec)
        pct, hit, npos = [], 0, 0
        for rgb, mpp, pos in tiles:
            mask = detect(rgb, mpp, "H-DAB", "model", pixel_model, params)
            pct.append(100.0 * float(mask.mean()))
            hit += int((mask & pos).sum())
            npos += int(pos.sum())
        a = np.array(pct)
        print(f"| {spec} | {a.mean():.4f} / {a.max():.4f} | {int((a > 0.1).sum())} | {100.0 * hit / max(npos, 1):.4f} |",
              flush=True)


if __name__ == "__main__":
    main()
