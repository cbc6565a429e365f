"""Train the pigment-cell model (``mmnst_path/models/pigment_cells_dab.mmnst``, issue #14, session 19).

For each detected nucleus of the H-DAB Ki67 step with melanin around it, the model reads it as
``negative``, ``positive`` or ``hidden`` (under pigment, or a granule cluster read as a nucleus)
from :func:`mmnst_path.classify.hidden_nuclei.cell_features` (what ``measure_ki67`` computes with
``return_cell_features=True``: the same pigment mask, the same nuclei). ``Ki67Params.pigment_cell_model``
lets it only take positivity away (hidden -> ``pigment``, positive -> negative).

Rows: generated H-DAB pigment-family tiles (:func:`mmnst_path.synthetic.pigment_family_tile`), seeds
7000.. (disjoint from the evaluation seeds 0-11 of ``eval_pigment_families.py``, the hidden model's
5000-6001 and the pigment models' 1000-2001), the nine pigment families and the ``none`` control,
``varied`` and ``plain`` rendering (``--appearances``), with and without near-black melanin, and the Ki67 positives
of one clear brown or, with ``--positives wide``, faint 1+ to saturated 3+, some speckled (session 20: the first model
read faint positives as negative on renderings it had not seen); the pigment mask is the
shipped pigment stage's (:func:`classify_pigment`). A detected nucleus whose centroid lies in a true
tumour nucleus is ``hidden`` when that nucleus is >= 75 % under melanin (the generator's
``hidden_nuclei``), else ``positive`` / ``negative`` as the truth says; one whose centroid lies on
or within 1 µm of melanin outside every true nucleus is ``hidden`` (pigment-made); the others
(stroma) carry no label. Never trained on ``../shared/data`` (research-only) nor on the held-out
renderers.

    PYTHONPATH=. .venv/bin/python scripts/train_pigment_cells_model.py --seeds 8 --rows /tmp/rows.npz \\
        --out mmnst_path/models/pigment_cells_dab.mmnst

The shipped model is version 1 (session 19). A version 2 candidate (session 20, not shipped: better on the held-out
renderer's seeds 0-11, but 2.77 pp on the generated DAB families for version 1's 2.63) adds the row caches of seeds
7010-7013 (``--appearances varied wide --positives wide``) to version 1's (7000-7005 varied and plain, 7006-7009 wide
appearance), validated on seed 7502; its commands and figures are in benchmarks/README.md, "Ki67 beside pigment:
faint positives".
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from mmnst_path.classify.hidden_nuclei import CELL_CLASSES, CELL_FEATURES, CELL_TASK, SETTINGS
from mmnst_path.classify.pigment import model_for_stains, resolve_pigment_model
from mmnst_path.classify.train import train_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.synthetic import PIGMENT_FAMILIES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ki67_tile_truth import ki67_tile_rows
from _training_data import pigment_tile_cells

EVAL_SEEDS = range(0, 12)
FIRST_SEED = 7000
FIRST_VALIDATION_SEED = 7500
#: ki67_pigment_tile training seeds (session 33: its dev seeds are 40-59, its gate seeds 60-67)
KI67_TILE_FIRST_SEED = 3000
#: where Ki67 reads a nucleus with the model (session 34: the prior's window keeps it off speck-only tissue)
GUARD = ("only nuclei in the Ki67 index where the pigment prior holds: at least Ki67Params.pigment_prior_fraction "
         "(0.02 since session 34) of the square of half-side Ki67Params.pigment_prior_radius_um (150 µm) around the "
         "nucleus in the pigment mask; the pigment mask's false specks on pigment-free tissue (dark DAB positives, "
         "DAB granules) cover a few thousandths to ~3 % of it, melanin around pigmented cells ~6-16 %")


def tile_rows(seed: int, family: str, *, appearance: str, near_black: bool, size: int,
              pixel_model, positives: str = "standard") -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of the labelled nuclei of one generated tile."""
    tile, region, r, c, t, cov = pigment_tile_cells(seed, family, appearance=appearance, near_black=near_black,
                                                    size=size, pixel_model=pixel_model, positives=positives,
                                                    return_cell_features=True)
    x = region.cell_features
    if x is None or not len(x):
        return np.zeros((0, len(CELL_FEATURES)), np.float32), np.zeros(0, np.int64)
    labels, posmask = tile.masks["nuclei"], tile.masks["positive_nuclei"]
    area = np.maximum(np.bincount(labels.ravel(), minlength=len(cov)), 1)
    pos = np.bincount(labels.ravel(), posmask.ravel().astype(np.float64), minlength=len(cov)) / area > 0.5
    near = ndi.binary_dilation(tile.masks["melanin"], iterations=max(1, round(1.0 / tile.mpp)))
    y = np.where(t > 0, np.where(cov[t] >= 0.75, 2, pos[t].astype(np.int64)), np.where(near[r, c], 2, -1))
    keep = y >= 0
    return x[keep], y[keep]


def generated_rows(seeds: range, *, size: int, pixel_model, appearances: tuple[str, ...] = ("varied", "plain"),
                   positives: str = "standard") -> tuple[np.ndarray, np.ndarray]:
    if set(seeds) & set(EVAL_SEEDS):
        msg = f"training seeds {seeds} overlap the evaluation seeds {EVAL_SEEDS}"
        raise SystemExit(msg)
    xs, ys = [], []
    for seed in seeds:
        for family in PIGMENT_FAMILIES:
            for appearance in appearances:
                for near_black in (False, True):
                    x, y = tile_rows(seed, family, appearance=appearance, near_black=near_black, size=size,
                                     pixel_model=pixel_model, positives=positives)
                    xs.append(x)
                    ys.append(y)
        print(f"seed {seed}: {sum(len(y) for y in ys)} rows", flush=True)
    return np.concatenate(xs), np.concatenate(ys)


def ki67_rows(seeds: int, pixel_model, cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """The ``ki67_pigment_tile`` rows of ``seeds`` seeds from :data:`KI67_TILE_FIRST_SEED` (``cache``: read if it
    exists, else written)."""
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            return z["xg"], z["yg"]
    xs, ys = [], []
    for seed in range(KI67_TILE_FIRST_SEED, KI67_TILE_FIRST_SEED + seeds):
        x, y = ki67_tile_rows(seed, size=512, pixel_model=pixel_model)
        if len(y):
            xs.append(x)
            ys.append(y)
        print(f"ki67_pigment_tile {seed}: {len(y)} rows ({np.bincount(y, minlength=3).tolist()})", flush=True)
    xg, yg = np.concatenate(xs), np.concatenate(ys)
    if cache is not None:
        np.savez_compressed(cache, xg=xg, yg=yg)
    return xg, yg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=8, help=f"training seeds {FIRST_SEED}..")
    ap.add_argument("--first-seed", type=int, default=FIRST_SEED)
    ap.add_argument("--validation-seeds", type=int, default=1, help=f"held-out seeds {FIRST_VALIDATION_SEED}..")
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--appearances", nargs="+", default=["varied", "plain"], choices=["varied", "plain", "wide"],
                    help="renderings of the generated tiles (pigment_family_tile appearance)")
    ap.add_argument("--positives", default="standard", choices=["standard", "wide"],
                    help="Ki67-positive rendering of the generated tiles (pigment_family_tile positives): 'wide' "
                         "draws faint 1+ to saturated 3+ positives, some speckled")
    ap.add_argument("--ki67-tile-seeds", type=int, default=0,
                    help=f"also ki67_pigment_tile rows of seeds {KI67_TILE_FIRST_SEED}.. (512 px; session 33)")
    ap.add_argument("--ki67-tile-rows", type=Path, default=None, help="cache of those rows (.npz): read if it exists")
    ap.add_argument("--trees", type=int, default=60)
    ap.add_argument("--random-state", type=int, default=0, help="the forest's random state")
    ap.add_argument("--version", default="1")
    ap.add_argument("--rows", type=Path, default=None, help="cache of the rows (.npz): read if it exists, else written")
    ap.add_argument("--rows-only", action="store_true", help="write the rows cache and stop")
    ap.add_argument("--extra-rows", type=Path, nargs="*", default=[], help="more row caches to train on")
    ap.add_argument("--extra-use", default="", help="what the extra row caches hold, for the model card")
    ap.add_argument("--validation-rows", type=Path, default=None,
                    help="a row cache (its training rows) to validate on instead of the validation seeds")
    ap.add_argument("--validation-use", default="", help="what --validation-rows holds, for the model card")
    ap.add_argument("--guard", default=GUARD, help="where the model reads a nucleus, for the model card")
    ap.add_argument("--dev-figures", default="",
                    help="the dev / validation figures of the shipped use and what it still gets wrong, for the card")
    ap.add_argument("--out", type=Path, default=Path("mmnst_path/models/pigment_cells_dab.mmnst"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    pixel_model = resolve_pigment_model("default")
    if args.rows is not None and args.rows.is_file():
        with np.load(args.rows, allow_pickle=False) as z:
            xg, yg, xv, yv = (z[k] for k in ("xg", "yg", "xv", "yv"))
    else:
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        xg, yg = generated_rows(seeds, size=args.size, pixel_model=pixel_model, appearances=tuple(args.appearances),
                                positives=args.positives)
        xv, yv = (generated_rows(range(FIRST_VALIDATION_SEED, FIRST_VALIDATION_SEED + args.validation_seeds),
                                 size=args.size, pixel_model=pixel_model, positives=args.positives)
                  if args.validation_seeds
                  else (np.zeros((0, len(CELL_FEATURES)), np.float32), np.zeros(0, np.int64)))
        if args.rows is not None:
            np.savez_compressed(args.rows, xg=xg, yg=yg, xv=xv, yv=yv)
    if args.rows_only:
        return
    for extra in args.extra_rows:
        with np.load(extra, allow_pickle=False) as z:
            xg, yg = np.concatenate([xg, z["xg"]]), np.concatenate([yg, z["yg"]])
    extra_use = args.extra_use
    if args.ki67_tile_seeds:
        xk, yk = ki67_rows(args.ki67_tile_seeds, pixel_model, args.ki67_tile_rows)
        xg, yg = np.concatenate([xg, xk]), np.concatenate([yg, yk])
        extra_use = "; ".join(x for x in (extra_use, (
            f"mmnst_path.synthetic.ki67_pigment_tile seeds {KI67_TILE_FIRST_SEED}-"
            f"{KI67_TILE_FIRST_SEED + args.ki67_tile_seeds - 1} (512 px, its default keywords; nuclei redrawn "
            "from the seed, scripts/_ki67_tile_truth.py), labelled the same way")) if x)
    if args.validation_rows is not None:
        with np.load(args.validation_rows, allow_pickle=False) as z:
            xv, yv = z["xg"], z["yg"]
    mask_model = model_for_stains(pixel_model, "H-DAB", PigmentParams())
    print(f"rows: {len(yg)} (per class {np.bincount(yg, minlength=3).tolist()}), validation {len(yv)} "
          f"({np.bincount(yv, minlength=3).tolist()}); {time.perf_counter() - t0:.0f} s")
    card = {
        "name": "mmnst_path pigment-cell model (H-DAB Ki67 beside and under melanin: negative / positive / hidden)",
        "version": args.version,
        "licence": "same as mmnst_path",
        "intended_use": ("reads each nucleus of the H-DAB Ki67 step that has melanin around it (the pigment prior, "
                         "Ki67Params.pigment_prior_fraction) as negative, positive or hidden under pigment; "
                         "Ki67Params.pigment_cell_model lets it only take positivity away; on the pigment mask of "
                         f"{mask_model.name} ({mask_model.model_id}); 0.5 µm/px"),
        "training_data": [
            {"dataset": "generated (mmnst_path.synthetic.pigment_family_tile)", "licence": "same as mmnst_path",
             "use": (f"seeds {args.first_seed}-{args.first_seed + args.seeds - 1}, DAB, families "
                     f"{list(PIGMENT_FAMILIES)}, appearances {' and '.join(args.appearances)}, "
                     f"{args.positives} positives, with and without "
                     "near-black melanin, "
                     f"{args.size} px at 0.5 µm/px (generated by this project); labels from the generator's truth: "
                     "hidden = centroid in a true tumour nucleus >= 75 % under melanin or on melanin (within 1 µm) "
                     "outside every true nucleus; positive / negative = the true nucleus's Ki67 status"
                     + (f"; plus {extra_use}" if extra_use else ""))},
        ],
        "validation_data": (args.validation_use if args.validation_rows is not None else
                            f"generated seeds {FIRST_VALIDATION_SEED}-{FIRST_VALIDATION_SEED + args.validation_seeds - 1},"
                            f" same families and renderings, {args.positives} positives"),
        "not_trained_on": ("the research-only Ki67 sets of ../shared/data/ki67, the held-out renderers of "
                           "benchmarks/heldout_render*.py and the evaluation seeds 0-11"),
        "script": "scripts/train_pigment_cells_model.py",
        "decision": args.guard,
    }
    if args.dev_figures:
        card["limitations"] = args.dev_figures
    settings = dict(SETTINGS, task=CELL_TASK, pixel_model_id=mask_model.model_id)
    model = train_model(xg, yg, kind="nucleus", classes=CELL_CLASSES, features=CELL_FEATURES, settings=settings,
                        card=card, validation=(xv, yv) if len(yv) else None, n_estimators=args.trees, max_depth=14,
                        min_samples_leaf=4, random_state=args.random_state)
    path = model.save(args.out)
    print(f"saved {path} ({model.model_id}); held-out {model.card.get('validation', {}).get('held_out')}; "
          f"top features {model.card['top_features']}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
