"""Session 42 H3 (#13): pictures of tiles, tissue classes of two models side by side (made after the gates ran).

    PYTHONPATH=. python benchmarks/experiments/tissue_collagen_mucin_pics_s42.py heldout --csv HEAD.csv CAND.csv \
        --head-model FILE --cand-model FILE --worst 4 --out FILE.png

``heldout``: the ``none`` tiles of ``eval_heldout_he.py``'s CSVs with the most necrosis read by either model (the
largest of the two), or with ``--tiles random --seed S ...`` those ``random`` tiles, each as a row: the tile | the HEAD model's tissue classes | the candidate's, necrosis as
measured (``measure_necrosis``: classes, intact veto, minimum area) drawn over the classes in white hatching. Class
colours: tumour red, stroma green, necrosis magenta, inflammatory blue, fat yellow, mucin light blue, blood dark red,
background white.
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from pathlib import Path

import numpy as np

COLOURS = {"tumour": (200, 0, 0), "stroma": (0, 160, 0), "necrosis": (255, 0, 255), "inflammatory": (0, 0, 200),
           "fat": (240, 220, 0), "mucin": (80, 170, 255), "blood": (110, 0, 0), "background": (255, 255, 255)}


def _classes(rgb: np.ndarray, mpp: float, model_file: Path) -> np.ndarray:
    from mmnst_path.classify import resolve_model
    from mmnst_path.classify.tissue import classify_tissue
    from mmnst_path.quantify.necrosis import NecrosisParams, mask_to_tile, measure_necrosis

    model = resolve_model(str(model_file), "tissue", "H&E")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = classify_tissue(rgb, mpp=mpp, model=model)
        _, mask, mask_mpp = measure_necrosis(rgb, mpp=mpp, params=NecrosisParams(tissue_model=str(model_file)))
    f = tm.factor
    lab = np.kron(tm.labels.astype(np.int64), np.ones((f, f), np.int64))
    full = np.full(rgb.shape[:2], len(model.class_names) - 1, np.int64)
    h, w = min(lab.shape[0], full.shape[0]), min(lab.shape[1], full.shape[1])
    full[:h, :w] = lab[:h, :w]
    pic = np.zeros(rgb.shape, np.uint8)
    for i, name in enumerate(model.class_names):
        pic[full == i] = COLOURS.get(name, (128, 128, 128))
    big = mask_to_tile(mask, rgb.shape[:2], mpp=mpp, mask_mpp=mask_mpp).astype(bool)
    yy, xx = np.mgrid[: rgb.shape[0], : rgb.shape[1]]
    hatch = big & (((yy + xx) // 4) % 4 == 0)
    pic[hatch] = (255, 255, 255)
    return pic


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("what", choices=["heldout"])
    ap.add_argument("--csv", type=Path, nargs=2, required=True)
    ap.add_argument("--head-model", type=Path, required=True)
    ap.add_argument("--cand-model", type=Path, required=True)
    ap.add_argument("--worst", type=int, default=4)
    ap.add_argument("--tiles", choices=["none", "random"], default="none",
                    help="none: the tiles with the most necrosis read; random: the seeds of --seed")
    ap.add_argument("--seed", type=int, nargs="*", default=[])
    ap.add_argument("--size", type=int, default=640)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from heldout_render_he import render_he
    from PIL import Image

    reads = []
    for f in args.csv:
        with f.open() as fh:
            reads.append({int(r["seed"]): float(r["meas_pct"]) for r in csv.DictReader(fh)
                          if r["necrosis"] == args.tiles})
    seeds = (sorted(reads[0], key=lambda s: -max(reads[0][s], reads[1][s]))[: args.worst] if args.tiles == "none"
             else args.seed)
    side = 400
    rows = []
    for s in seeds:
        t = render_he(s, size=args.size, necrosis=args.tiles)
        panels = [t.rgb, _classes(t.rgb, t.mpp, args.head_model), _classes(t.rgb, t.mpp, args.cand_model)]
        row = [np.asarray(Image.fromarray(p).resize((side, side), Image.NEAREST)) for p in panels]
        gap = np.full((side, 6, 3), 255, np.uint8)
        rows.append(np.concatenate([row[0], gap, row[1], gap, row[2]], axis=1))
        rows.append(np.full((6, rows[-1].shape[1], 3), 255, np.uint8))
        print(f"seed {s} mpp {t.mpp} kinds {'+'.join(str(k) for k in t.params['kinds'])} necrosis read head "
              f"{reads[0][s]!r} cand {reads[1][s]!r}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
