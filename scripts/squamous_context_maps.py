"""Feature maps of generated squamous tiles for the auto-context second stage of the tissue model (#13, session 28).

Writes an npz of :class:`ImageMap` s (``train_tissue_model.py --save-maps`` format) that
``train_tissue_model.py --auto-context --context-extra-maps`` reads as second-stage-only rows:

- ``squamous``: ``synthetic_tissue.he_squamous_sheet_tile`` (wide sheets of viable, maturing squamous carcinoma with
  pink cytoplasm and sparse nuclei, lymphocyte-rich septa; no necrosis), labelled tumour / stroma / background;
- ``keratin``: ``synthetic_tissue.he_keratin_tile`` (keratinising squamous carcinoma, keratin pearls and squames),
  with keratin labelled ``tumour`` (part of the squamous tumour compartment; the 8-class model has no keratin class).

Even seeds are drawn at 0.5 µm/px (768 px), odd seeds at 1 µm/px (384 px); every tile adds ``--copies`` stain /
scanner variants (``train_tissue_model.augment``). The feature settings are the first-stage model's.

Usage::

    python scripts/squamous_context_maps.py OUT.npz --first-stage mmnst_path/models/tissue_default.mmnst \
        [--squamous-seeds 3000-3023] [--keratin-seeds 3100-3123] [--copies 2]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _context_maps import ImageMap, save_maps
from train_tissue_model import CLASSES, PURE_SHARE, augment, tile_maps

from mmnst_path.classify import load_model
from mmnst_path.classify.tissue import tissue_feature_settings

#: rows per image and copy (the generated sources' 600 x 2 of ``train_tissue_model.py``)
ROWS = 1200


def _seeds(text: str) -> tuple[int, ...]:
    try:
        lo, _, hi = text.partition("-")
        seeds = tuple(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds like 3000-3023, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"expected seeds like 3000-3023 (low <= high), got {text!r}")
    return seeds


def squamous_sources(kind: str, seeds: tuple[int, ...]) -> Iterator[tuple[str, np.ndarray, float, np.ndarray]]:
    """(name, rgb, mpp, label image of class indices, -1 unlabelled) of the generated tiles of ``kind``."""
    from mmnst_path import synthetic_tissue

    for seed in seeds:
        mpp = 1.0 if seed % 2 else 0.5
        size = 384 if mpp == 1.0 else 768
        if kind == "squamous":
            tt = synthetic_tissue.he_squamous_sheet_tile(seed, size=size, mpp=mpp)
            names = {"tumour": "tumour", "stroma": "stroma", "background": "background"}
        elif kind == "keratin":
            tt = synthetic_tissue.he_keratin_tile(seed, size=size, mpp=mpp)
            names = {"tumour": "tumour", "keratin": "tumour", "stroma": "stroma", "background": "background"}
        else:
            raise ValueError(f"kind must be 'squamous' or 'keratin', got {kind!r}")
        lab = np.full(tt.rgb.shape[:2], -1, np.int64)
        for mask, cls in names.items():
            lab[tt.masks[mask]] = CLASSES.index(cls)
        yield f"seed{seed}", tt.rgb, mpp, lab


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--first-stage", type=Path, required=True, help="tissue model whose feature settings to use")
    ap.add_argument("--squamous-seeds", type=_seeds, default=_seeds("3000-3023"))
    ap.add_argument("--keratin-seeds", type=_seeds, default=_seeds("3100-3123"))
    ap.add_argument("--copies", type=int, default=2, help="augmented copies of every tile (default 2)")
    args = ap.parse_args(argv)
    if not 0 <= args.copies <= 10:
        raise SystemExit(f"--copies: expected 0-10, got {args.copies}")
    settings = tissue_feature_settings(load_model(args.first_stage, kind="tissue"))
    maps: list[ImageMap] = []
    for kind, seeds, rng_seed in (("squamous", args.squamous_seeds, 2801), ("keratin", args.keratin_seeds, 2803)):
        rng = np.random.default_rng(rng_seed)
        for name, rgb, mpp, lab in squamous_sources(kind, seeds):
            for img, m in [(rgb, mpp)] + [augment(rgb, mpp, rng) for _ in range(args.copies)]:
                feats, sel, y, grid_mpp = tile_maps(img, m, lab, settings, rng, ROWS, None, PURE_SHARE)
                maps.append(ImageMap(kind, name, False, feats, sel, y, grid_mpp))
        print(f"{kind}: {len(seeds)} tiles x {1 + args.copies}", flush=True)
    save_maps(args.out, maps)
    print(f"wrote {args.out}: {len(maps)} maps, {sum(len(m.sel) for m in maps)} rows", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
