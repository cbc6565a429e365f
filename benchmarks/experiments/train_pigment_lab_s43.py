"""A lab's own pigment model (session 43 H5, issue #14): train on a few tiles of one rendering, evaluate on others.

Tiles: :func:`mmnst_path.synthetic.pigment_family_tile` of one chromogen and rendering (default AEC, ``varied``: the
shipped red-chromogen model ``pigment_default`` was trained on the ``plain`` rendering). Each training tile is written
as a TIFF (0.5 µm/px) with a QuPath GeoJSON the way a lab would draw it: one ``Tumor`` rectangle over the tile, then
one ``Melanin`` polygon per contour of the drawn melanin truth (``masks["melanin_drawn"]``) painted over it. The model
is trained by the CLI (``mmnst-path train pigment``), then every evaluation tile goes through
``benchmarks/eval_pigment_families.run_one`` (analyze_region and the stage's mask, drawn truth) with the lab model and
with ``default``: melanin Dice and |melanin_fraction_pct - truth| (pp).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/train_pigment_lab_s43.py --work /tmp/lab \\
        --train-seeds 12000 12001 12002 12003 --eval-seeds 12010 12011 12012 12013 12014 12015 12016 12017
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

TRAIN_FAMILIES = ("dusty", "coarse", "perinuclear", "whole_cell")
EVAL_FAMILIES = ("dusty", "coarse", "sparse", "confluent", "perinuclear", "over_nucleus", "whole_cell", "melanophage")
PRESET = {"dab": "H-DAB", "aec": "H-AEC", "fast_red": "H-FastRed", "eosin": "H&E"}


def melanin_geojson(mask: np.ndarray, shape: tuple[int, int], *, other: str = "Tumor") -> dict:
    """QuPath annotations of a tile: an ``other`` rectangle over the tile, then one ``Melanin`` polygon per contour
    of ``mask`` (level-0 x, y), in that order (later polygons are painted over earlier ones)."""
    from skimage.measure import find_contours

    h, w = shape

    def feature(ring: list[list[float]], cls: str) -> dict:
        return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"objectType": "annotation", "classification": {"name": cls}}}

    feats = [feature([[0, 0], [w, 0], [w, h], [0, h], [0, 0]], other)]
    padded = np.pad(mask.astype(np.uint8), 1)
    for contour in find_contours(padded, 0.5):
        rc = contour - 1.0
        if len(rc) < 4:
            continue
        ring = [[float(c), float(r)] for r, c in rc]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        feats.append(feature(ring, "Melanin"))
    return {"type": "FeatureCollection", "features": feats}


def write_training_tile(folder: Path, seed: int, family: str, *, chromogen: str, appearance: str,
                        size: int) -> tuple[Path, Path]:
    """A generated tile as TIFF (its µm/px in the tags) and its GeoJSON (:func:`melanin_geojson`)."""
    import tifffile

    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(seed, family, chromogen=chromogen, appearance=appearance, size=size,
                               drawn_melanin=True)
    img = folder / f"train_{seed}_{family}.tif"
    tifffile.imwrite(img, tile.rgb, photometric="rgb", resolution=(1e4 / tile.mpp, 1e4 / tile.mpp),
                     resolutionunit="CENTIMETER")
    ann = folder / f"train_{seed}_{family}.geojson"
    ann.write_text(json.dumps(melanin_geojson(tile.masks["melanin_drawn"], tile.rgb.shape[:2])))
    return img, ann


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True, help="folder for the tiles, annotations and the model")
    ap.add_argument("--train-seeds", type=int, nargs="+", required=True)
    ap.add_argument("--eval-seeds", type=int, nargs="+", required=True)
    ap.add_argument("--chromogen", default="aec", choices=tuple(PRESET))
    ap.add_argument("--appearance", default="varied", choices=("plain", "varied", "wide"))
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--csv", type=Path, default=None)
    args = ap.parse_args()
    from eval_pigment_families import run_one

    from mmnst_path.cli import main as cli

    args.work.mkdir(parents=True, exist_ok=True)
    pairs = [write_training_tile(args.work, s, TRAIN_FAMILIES[i % len(TRAIN_FAMILIES)], chromogen=args.chromogen,
                                 appearance=args.appearance, size=args.size) for i, s in enumerate(args.train_seeds)]
    model = args.work / "lab_pigment.mmnst"
    t0 = time.process_time()
    code = cli(["train", "pigment", "--images", *[str(p[0]) for p in pairs], "--annotations",
                *[str(p[1]) for p in pairs], "--out", str(model), "--stains", PRESET[args.chromogen], "--overwrite"])
    print(f"train pigment: exit {code}, {time.process_time() - t0:.1f} s CPU")
    if code != 0:
        raise SystemExit(code)
    rows = []
    for i, seed in enumerate(args.eval_seeds):
        fam = EVAL_FAMILIES[i % len(EVAL_FAMILIES)]
        for which, spec in (("default", "default"), ("lab", str(model))):
            r = run_one(seed, fam, args.chromogen, size=args.size, stains="preset", model=spec,
                        appearance=args.appearance)
            rows.append({"seed": seed, "family": fam, "model": which, "dice": r["dice"],
                         "mel_true": r["mel_true"], "mel_meas": r["mel_meas"],
                         "abs_err": abs(r["mel_meas"] - r["mel_true"])})
            print(json.dumps(rows[-1]))
    print("\n| model | mean Dice | mean abs err (pp) | worst abs err (pp) |\n|---|---|---|---|")
    for which in ("default", "lab"):
        sel = [r for r in rows if r["model"] == which]
        d = [r["dice"] for r in sel if not math.isnan(r["dice"])]
        e = [r["abs_err"] for r in sel]
        print(f"| {which} | {np.mean(d)!r} | {np.mean(e)!r} | {np.max(e)!r} |")
    print("\n| seed | family | truth % | default % | lab % | default Dice | lab Dice |\n|---|---|---|---|---|---|---|")
    for seed in args.eval_seeds:
        a, b = [r for r in rows if r["seed"] == seed]
        print(f"| {seed} | {a['family']} | {a['mel_true']:.3f} | {a['mel_meas']:.3f} | {b['mel_meas']:.3f} | "
              f"{a['dice']:.4f} | {b['dice']:.4f} |")
    if args.csv:
        import csv

        with args.csv.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
