"""Train the hidden-nucleus model (``mmnst_path/models/hidden_nuclei_dab.mmnst``, issue #14).

For each detected nucleus of the Ki67 step the model says whether it is hidden under pigment
(``pigment``, unassessable) or assessable, on the features of
:func:`mmnst_path.classify.hidden_nuclei.nucleus_features` (what ``measure_ki67`` computes with
``return_pigment_features=True``: the same pigment mask, the same nuclei).

Rows:

- generated H-DAB pigment-family tiles (:func:`mmnst_path.synthetic.pigment_family_tile`), seeds
  5000.. (disjoint from the evaluation seeds 0-7 and the pigment models' 1000-2001), every family
  (the ``none`` control too), ``varied`` and ``plain`` rendering, with and without near-black
  melanin; the pigment mask is the shipped pigment stage's (:func:`classify_pigment`). A nucleus is
  ``hidden`` when its centroid lies in a true tumour nucleus >= 75 % under melanin (the
  generator's ``hidden_nuclei``) or on melanin outside every true nucleus (a granule cluster read
  as a nucleus), ``assessable`` when it lies in a true nucleus less covered; nuclei elsewhere
  (stroma) carry no label and are left out;
- with ``--saturated N``: also the same families on seeds 5000..5000+N-1 with ``saturated_positives=True``
  (``varied``, with and without near-black melanin): strong DAB positives at the camera's floor as real ones are
  (black cores, brown rims, counterstain kept, up to every positive of a tile), the hard negative of
  near-black melanin that :func:`~mmnst_path._synthetic_pigment.near_black_positives`'s pale-nucleus discs
  are not (session 21 H3);
- with ``--granular N``: also near-black tiles of seeds 5000..5000+N-1 whose bodies are built of melanin granules
  (``near_black_texture="granular"``, ``varied`` and ``plain``; session 21 H3);
- real EndoNuke ER/PR DAB tiles (CC BY 4.0, ``../shared/train/endonuke``; no melanin): every
  detected nucleus ``assessable``.

Never trained on ``../shared/data`` (research-only) nor on the held-out renderers.

    PYTHONPATH=. .venv/bin/python scripts/train_hidden_model.py --seeds 12 --out mmnst_path/models/hidden_nuclei_dab.mmnst
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from mmnst_path.classify.hidden_nuclei import FEATURES, SETTINGS
from mmnst_path.classify.pigment import model_for_stains, resolve_pigment_model
from mmnst_path.classify.train import train_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67
from mmnst_path.stain import load_stains
from mmnst_path.synthetic import PIGMENT_FAMILIES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _training_data import pigment_tile_cells

CLASSES = ("assessable", "hidden")
EVAL_SEEDS = range(0, 8)


def tile_rows(seed: int, family: str, *, appearance: str, near_black: bool, size: int,
              pixel_model, **tile_kw) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of the labelled nuclei of one generated tile (``tile_kw``: further
    ``pigment_family_tile`` keywords)."""
    tile, region, r, c, t, cov = pigment_tile_cells(seed, family, appearance=appearance, near_black=near_black,
                                                    size=size, pixel_model=pixel_model, tile_kw=tile_kw,
                                                    return_pigment_features=True)
    x = region.pigment_features
    if x is None or not len(x):
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, np.int64)
    y = np.where(t > 0, (cov[t] >= 0.75).astype(np.int64), np.where(tile.masks["melanin"][r, c], 1, -1))
    keep = y >= 0
    return x[keep], y[keep]


#: ``tile_rows`` keywords of the opt-in extra tiles, per seed and family: strong DAB positives at the camera's floor,
#: with and without near-black melanin; near-black melanin built of granules, ``varied`` and ``plain``
SATURATED_VARIANTS = tuple({"appearance": "varied", "near_black": nb, "saturated_positives": True} for nb in (False, True))
GRANULAR_VARIANTS = tuple({"appearance": a, "near_black": True, "near_black_texture": "granular"} for a in ("varied", "plain"))
#: the shipped recipe's tiles: both appearances, with and without near-black melanin
STANDARD_VARIANTS = tuple({"appearance": a, "near_black": nb} for a in ("varied", "plain") for nb in (False, True))


def variant_rows(seeds: range, variants: tuple[dict, ...], *, size: int, pixel_model,
                 families=PIGMENT_FAMILIES) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the tiles of ``seeds`` x ``families`` x ``variants`` (``tile_rows`` keywords), in that order."""
    if set(seeds) & set(EVAL_SEEDS):
        msg = f"training seeds {seeds} overlap the evaluation seeds {EVAL_SEEDS}"
        raise SystemExit(msg)
    xs, ys = [np.zeros((0, len(FEATURES)), np.float32)], [np.zeros(0, np.int64)]
    for seed in seeds:
        for family in families:
            for kw in variants:
                x, y = tile_rows(seed, family, size=size, pixel_model=pixel_model, **kw)
                xs.append(x)
                ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def generated_rows(seeds: range, *, size: int, pixel_model, families=PIGMENT_FAMILIES) -> tuple[np.ndarray, np.ndarray]:
    """The shipped recipe's rows (:data:`STANDARD_VARIANTS`) of ``seeds``."""
    return variant_rows(seeds, STANDARD_VARIANTS, size=size, pixel_model=pixel_model, families=families)


def endonuke_rows(train: Path, *, every: int) -> tuple[np.ndarray, list[str]]:
    """Every detected nucleus of every ``every``-th EndoNuke tile (DAB, no melanin), as assessable."""
    from PIL import Image

    files = [(p, 0.5) for p in sorted((train / "endonuke" / "mixed").glob("*.png"))][::every]
    files += [(p, 0.25) for p in sorted((train / "endonuke" / "staining_ds").glob("*.png"))]
    stains = load_stains("H-DAB")
    xs, used = [], []
    for f, mpp in files:
        with Image.open(f) as im:
            if "A" in im.getbands() and np.asarray(im.getchannel("A")).min() < 255:
                continue  # transparent padding reads as black, not tissue
            rgb = np.asarray(im.convert("RGB"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            region = measure_ki67(rgb, mpp=mpp, stains=stains, params=Ki67Params(),
                                  pigment_mask=np.zeros(rgb.shape[:2], bool), return_pigment_features=True)
        if region.pigment_features is not None and len(region.pigment_features):
            xs.append(region.pigment_features)
            used.append(str(f.relative_to(train)))
    return np.concatenate(xs), used


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=12, help="training seeds 5000..")
    ap.add_argument("--validation-seeds", type=int, default=2, help="held-out seeds 6000..")
    ap.add_argument("--saturated", type=int, default=0,
                    help="also saturated-positive tiles of the first N training seeds (session 21; 0: none)")
    ap.add_argument("--granular", type=int, default=0,
                    help="also near-black tiles with granular bodies, first N training seeds (session 21; 0: none)")
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--train", type=Path, default=Path("../shared/train"))
    ap.add_argument("--endonuke-every", type=int, default=4, help="every n-th EndoNuke 'mixed' tile")
    ap.add_argument("--trees", type=int, default=60)
    ap.add_argument("--version", default="1")
    ap.add_argument("--rows", type=Path, default=None, help="cache of the rows (.npz): read if it exists, else written")
    ap.add_argument("--out", type=Path, default=Path("mmnst_path/models/hidden_nuclei_dab.mmnst"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    pixel_model = resolve_pigment_model("default")
    if args.rows is not None and args.rows.is_file():
        with np.load(args.rows, allow_pickle=False) as z:
            xg, yg, xr, xv, yv = (z[k] for k in ("xg", "yg", "xr", "xv", "yv"))
            used = [str(u) for u in z["used"]]
    else:
        xg, yg = generated_rows(range(5000, 5000 + args.seeds), size=args.size, pixel_model=pixel_model)
        xv, yv = generated_rows(range(6000, 6000 + args.validation_seeds), size=args.size, pixel_model=pixel_model)
        xr, used = endonuke_rows(args.train, every=args.endonuke_every)
        if args.rows is not None:
            np.savez_compressed(args.rows, xg=xg, yg=yg, xr=xr, xv=xv, yv=yv, used=np.asarray(used))
    if args.saturated:  # not in the cache of --rows: the standard rows stay what they were
        xs, ys = variant_rows(range(5000, 5000 + args.saturated), SATURATED_VARIANTS, size=args.size,
                              pixel_model=pixel_model)
        print(f"saturated-positive rows {len(ys)} ({int(ys.sum())} hidden)")
        xg, yg = np.concatenate([xg, xs]), np.concatenate([yg, ys])
    if args.granular:
        xs, ys = variant_rows(range(5000, 5000 + args.granular), GRANULAR_VARIANTS, size=args.size,
                              pixel_model=pixel_model)
        print(f"granular near-black rows {len(ys)} ({int(ys.sum())} hidden)")
        xg, yg = np.concatenate([xg, xs]), np.concatenate([yg, ys])
    mask_model = model_for_stains(pixel_model, "H-DAB", PigmentParams())  # the model that drew the masks
    print(f"rows: generated {len(yg)} ({int(yg.sum())} hidden), EndoNuke {len(xr)} from {len(used)} images, "
          f"validation {len(yv)} ({int(yv.sum())} hidden); {time.perf_counter() - t0:.0f} s")
    x = np.concatenate([xg, xr])
    y = np.concatenate([yg, np.zeros(len(xr), np.int64)])
    card = {
        "name": "mmnst_path hidden-nucleus model (H-DAB Ki67: nucleus hidden under pigment or assessable)",
        "version": args.version,
        "licence": "same as mmnst_path",
        "intended_use": ("decides for each nucleus of the H-DAB Ki67 step, where the analysed image carries melanin "
                         "(Ki67Params.pigment_prior_fraction), whether it is hidden under pigment (unassessable) or "
                         f"read on its visible pixels; on the pigment mask of {mask_model.name} ({mask_model.model_id}); "
                         "0.25-0.5 µm/px"),
        "training_data": [
            {"dataset": "generated (mmnst_path.synthetic.pigment_family_tile)", "licence": "same as mmnst_path",
             "use": (f"mmnst_path.synthetic.pigment_family_tile seeds 5000-{4999 + args.seeds}, DAB, families "
                          f"{list(PIGMENT_FAMILIES)}, appearances varied and plain, with and without near-black "
                          f"melanin, {args.size} px at 0.5 µm/px (generated by this project); label hidden when the "
                          "nucleus's centroid lies in a true tumour nucleus >= 75 % under melanin or on melanin "
                          "outside every true nucleus"
                          + (f"; also seeds 5000-{4999 + args.saturated} with saturated_positives=True (varied, with "
                             "and without near-black melanin): strong DAB positives at the camera's floor"
                             if args.saturated else "")
                          + (f"; also seeds 5000-{4999 + args.granular} with near_black=True, "
                             "near_black_texture='granular' (varied and plain): near-black bodies built of granules"
                             if args.granular else ""))},
            {"dataset": "EndoNuke", "licence": "CC BY 4.0 (data); Apache-2.0 (hosting repository ispras/endonet)",
             "citation": ("Naumov A, et al. EndoNuke: Nuclei Detection Dataset for Estrogen and Progesterone Stained "
                          "IHC Endometrium Scans. Data 2022, 7(6), 75. doi:10.3390/data7060075"),
             "use": (f"real negatives: every detected nucleus assessable; every {args.endonuke_every}th tile of mixed/ "
                     f"at 0.5 µm/px, staining_ds/ at 0.25 µm/px; {len(used)} images")},
        ],
        "validation_data": f"generated seeds 6000-{5999 + args.validation_seeds}, same families and renderings",
        "not_trained_on": ("the research-only Ki67 sets of ../shared/data/ki67 and the held-out renderers of "
                           "benchmarks/heldout_render*.py"),
        "script": "scripts/train_hidden_model.py",
    }
    settings = dict(SETTINGS, pixel_model_id=mask_model.model_id)
    model = train_model(x, y, kind="nucleus", classes=CLASSES, features=FEATURES, settings=settings, card=card,
                        validation=(xv, yv), n_estimators=args.trees, max_depth=14, min_samples_leaf=4)
    path = model.save(args.out)
    print(f"saved {path} ({model.model_id}); held-out {model.card['validation']['held_out']}; "
          f"top features {model.card['top_features']}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
