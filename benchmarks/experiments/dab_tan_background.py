"""Faint tan background vs a lowered H-DAB gate (issue #14, session 20 H4's experiment).

At ``model_min_od`` 0.2 the H-DAB melanin models of session 19 read the pale tan stroma of real
Ki67 IHC (non-specific DAB background) as melanin: 17 % of BCData 6.png. This script prints, for a
pixel / body model pair at a gate, the share of each real Ki67 tile the pair marks as pigment and
the share of the tile in the brown band the gate admits beyond 0.3 (the faint tan a lower gate
hands to the models), and writes overlays (RGB | the pair's pigment in cyan | the band in green).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/dab_tan_background.py \\
        --model PIX.mmnst --body-model BODY.mmnst --min-od 0.2 --tiles bcdata/6.png bcdata/0.png --overlays DIR

Pairs are trained by ``scripts/train_pigment_model.py --tan-background`` (generated tiles with
``pigment_family_tile(tan_background=True)``); the research-only Ki67 sets are read, never trained on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams, pigment_gate
from mmnst_path.stain import load_stains

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "ki67"
#: µm per pixel of each Ki67 set (as benchmarks/eval_pigment_dab.py reads them)
MPP = {"bcdata": 0.25, "shidc": 0.21, "deepliif": 0.31}


def tile_row(path: Path, mpp: float, model_file: str, body_model: str, min_od: float,
             overlay: Path | None) -> tuple[float, float]:
    """(% of the tile marked pigment, % in the band between ``min_od`` and the default 0.3)."""
    rgb = np.asarray(Image.open(path).convert("RGB"))
    stains = load_stains("H-DAB")
    params = PigmentParams(model_min_od=min_od, body_model=body_model)
    mask, _ = classify_pigment(rgb, mpp=mpp, model=resolve_pigment_model(model_file), stains=stains, params=params)
    low = pigment_gate(rgb, mpp=mpp, stains=stains, params=params, bodies=False, min_od=min_od)[0]
    high = pigment_gate(rgb, mpp=mpp, stains=stains, params=params, bodies=False, min_od=0.3)[0]
    band = low & ~high
    if overlay is not None:
        marked, banded = rgb.copy(), rgb.copy()
        marked[mask] = (0, 255, 255)
        banded[band] = (0, 255, 0)
        Image.fromarray(np.concatenate([rgb, marked, banded], 1)).save(overlay)
    return 100.0 * float(mask.mean()), 100.0 * float(band.mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="dab", help="H-DAB pixel model: 'dab' (shipped) or a file")
    ap.add_argument("--body-model", default="default", help="'default', 'none' (the share rule) or a file")
    ap.add_argument("--min-od", type=float, default=0.2, help="PigmentParams.model_min_od")
    ap.add_argument("--tiles", nargs="*", default=None,
                    help="SET/FILE under ../shared/data/ki67 (default: every tile of bcdata, shidc, deepliif)")
    ap.add_argument("--overlays", type=Path, default=None, metavar="DIR")
    args = ap.parse_args()
    if args.tiles:
        tiles = [DATA / t for t in args.tiles]
    else:
        tiles = [p for s in MPP for p in sorted((DATA / s).glob("*")) if p.suffix in (".png", ".jpg")]
    if args.overlays is not None:
        args.overlays.mkdir(parents=True, exist_ok=True)
    print(f"pixel model {args.model}, body model {args.body_model}, model_min_od {args.min_od}")
    print("| tile | pigment % | band 0.2-0.3 % |\n|---|---:|---:|")
    for path in tiles:
        name = f"{path.parent.name}/{path.name}"
        out = None if args.overlays is None else args.overlays / f"{path.parent.name}_{path.stem}.png"
        pct, band = tile_row(path, MPP[path.parent.name], args.model, args.body_model, args.min_od, out)
        print(f"| {name} | {pct:.3f} | {band:.1f} |", flush=True)


if __name__ == "__main__":
    main()
