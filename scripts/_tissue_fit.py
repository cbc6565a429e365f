"""Row edits, the auto-context images and the model card of ``scripts/train_tissue_model.py`` (split from it in
session 29; imported by it, which puts the project and ``scripts/`` on ``sys.path``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from _context_maps import (
    CONTEXT_FOLDS,
    ImageMap,
    alternate_folds,
    context_settings_arg,
    fold_of,
    load_maps,
    oof_proba_cached,
    proba_map,
)
from _tissue_blocks import CLASSES, PURE_SHARE, SOURCE_REFERENCE
from _tissue_recipe import ATTRIBUTION, _uses

from mmnst_path.classify.tissue_features import TissueFeatureSettings, tissue_feature_specs
from mmnst_path.classify.train import train_model
from mmnst_path.classify.train_tissue import ContextImage, train_context_stage


def thin_mask(source: np.ndarray, fractions: dict[str, float]) -> np.ndarray:
    """Training rows kept by ``--thin`` (source -> fraction kept): a seeded (7) uniform draw per row of each
    named source, in the order given."""
    keep = np.ones(len(source), bool)
    rng = np.random.default_rng(7)
    for src, frac in fractions.items():
        sel = keep & (source == src)
        keep[sel] = rng.random(int(sel.sum())) < frac
    return keep


def repeat_necrosis(x: np.ndarray, y: np.ndarray, source: np.ndarray, repeats: dict[str, int]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The training rows with the necrosis rows of each named source (``--repeat-necrosis``) taken ``K`` times.

    Under the forest's balanced class weights this moves weight inside the necrosis class towards those sources'
    renderings of necrosis without changing the weight of the class."""
    extra = [np.flatnonzero((source == src) & (y == CLASSES.index("necrosis")))
             for src, k in repeats.items() for _ in range(k - 1)]
    if not extra:
        return x, y
    idx = np.concatenate([np.arange(len(y)), *extra])
    return x[idx], y[idx]


def repeat_rows(x: np.ndarray, y: np.ndarray, source: np.ndarray, repeats: dict[str, int]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training rows with every row of each named source that is not necrosis (``--repeat-rows``) taken
    ``K`` times (the necrosis class keeps its make-up); returns rows, classes and sources."""
    extra = [np.flatnonzero((source == src) & (y != CLASSES.index("necrosis")))
             for src, k in repeats.items() for _ in range(k - 1)]
    if not extra:
        return x, y, source
    idx = np.concatenate([np.arange(len(y)), *extra])
    return x[idx], y[idx], source[idx]


def context_images(maps: list[ImageMap], min_share: float | None, folds: str = "hash",
                   n_folds: int = CONTEXT_FOLDS) -> list[ContextImage]:
    """The :class:`ContextImage` s of ``maps`` (fold by :func:`fold_of`, or with ``folds="alternate"`` by
    :func:`alternate_folds`; -1 held out). ``min_share``: the second stage's rows are the first stage's plus, on images
    whose maps record their block labels, every other block whose majority class covers >= ``min_share`` of it (None:
    the first stage's rows only). ``n_folds``: how many folds (2 by default, :data:`CONTEXT_FOLDS`)."""
    if not 2 <= n_folds <= 10:
        raise SystemExit(f"--context-fold-count: expected 2-10 folds, got {n_folds}")
    if folds not in ("hash", "alternate"):
        raise SystemExit(f"--context-folds: expected hash or alternate, got {folds!r}")
    alt = alternate_folds(maps, n_folds) if folds == "alternate" else {}
    out = []
    for m in maps:
        fold = -1 if m.held else alt[(m.source, m.name)] if alt else fold_of(m.source, m.name, n_folds)
        ctx_sel = ctx_y = None
        if min_share is not None and m.block_y is not None and m.block_share is not None and not m.held:
            share = m.block_share.astype(np.float32).ravel()
            by = m.block_y.astype(np.int64).ravel()
            extra = np.flatnonzero((by >= 0) & (share >= min_share) & (share < PURE_SHARE))
            extra = extra[~np.isin(extra, m.sel)]
            ctx_sel, ctx_y = np.concatenate([m.sel, extra]), np.concatenate([m.y, by[extra]])
        out.append(ContextImage(m.feats, m.sel, m.y, m.grid_mpp, fold, ctx_sel, ctx_y))
    return out


def drop_context_images(maps: list[ImageMap], images: list[ContextImage], proba: list[np.ndarray],
                        drop: list[tuple[str, str]]) -> tuple[list[ContextImage], list[np.ndarray]]:
    """``--context-drop``: ``images`` (one per map, in order) and their out-of-fold ``proba`` without the training
    images of each (source, name prefix) in ``drop`` (held-out images stay: they only validate). Refused when a pair
    matches no training image (a misspelt source would otherwise drop nothing)."""
    hit = [any(m.source == src and m.name.startswith(pre) for src, pre in drop) and not m.held for m in maps]
    for src, pre in drop:
        if not any(m.source == src and m.name.startswith(pre) and not m.held for m in maps):
            raise SystemExit(f"--context-drop {src}{'/' + pre if pre else ''}: no training image matches")
    print(f"--context-drop: {sum(hit)} of {len(maps)} maps give the second stage no rows", file=sys.stderr)
    return ([im for im, h in zip(images, hit, strict=True) if not h],
            [p for p, h in zip(proba, hit, strict=True) if not h])


def thin_context_images(maps: list[ImageMap], images: list[ContextImage],
                        thin: list[tuple[str, str, float]]) -> list[ContextImage]:
    """``--context-thin``: ``images`` (one per map, in order) with each training image of a (source, name prefix,
    fraction) in ``thin`` keeping ``round(fraction * k)`` of its ``k`` second-stage rows (the first matching entry
    decides; one generator seeded 17 draws them without replacement, in map order). Held-out images stay whole (they
    only validate). Refused when an entry matches no training image."""
    def frac_of(m: ImageMap) -> float | None:
        return None if m.held else next((f for src, pre, f in thin if m.source == src and m.name.startswith(pre)), None)

    for src, pre, _ in thin:
        if not any(m.source == src and m.name.startswith(pre) and not m.held for m in maps):
            raise SystemExit(f"--context-thin {src}{'/' + pre if pre else ''}: no training image matches")
    rng = np.random.default_rng(17)
    out, before, after = [], 0, 0
    for m, im in zip(maps, images, strict=True):
        frac = frac_of(m)
        if frac is None:
            out.append(im)
            continue
        sel, y = im.context_rows()
        keep = np.sort(rng.choice(len(sel), size=round(frac * len(sel)), replace=False))
        out.append(replace(im, ctx_sel=sel[keep], ctx_y=y[keep]))
        before, after = before + len(sel), after + len(keep)
    print(f"--context-thin: the named images give the second stage {after} of their {before} rows", file=sys.stderr)
    return out


def model_card(args: argparse.Namespace, settings: TissueFeatureSettings, lowest_share: float) -> dict[str, Any]:
    """The model card of a model trained with these options and features; ``lowest_share``: the smallest block
    share of a training row (below :data:`PURE_SHARE`: border rows, named in the card)."""
    card = {
        "name": "mmnst_path default tissue classifier (H&E)",
        "version": args.version or "1.0.0" + "".join(f"+{flag}" for flag, on in (
            ("keratin", args.keratin), ("held-out-recipe", args.held_out_recipe), ("brca", args.brca),
            ("tissue-tiles", args.tissue_tiles), ("mimic-tiles", args.mimic_tiles), ("nuclear-detail", args.nuclear_detail),
            ("nuclear-morphology", args.nuclear_morphology), ("relative-level", args.relative_level),
            ("intensity-aug", args.intensity_aug), ("thin", bool(args.thin)),
            ("repeat-necrosis", bool(args.repeat_necrosis)), ("repeat-rows", bool(args.repeat_rows)),
            ("class-scale", bool(getattr(args, "class_scale", None))),
            ("min-share", args.min_share != PURE_SHARE or lowest_share < PURE_SHARE), ("wavy-tiles", args.wavy_tiles),
            ("rim-tiles", args.rim_tiles), ("oedema-tiles", args.oedema_tiles), ("matrix-tiles", args.matrix_tiles),
            ("clefted-tiles", args.clefted_tiles), ("dense-tiles", getattr(args, "dense_tiles", False)),
            ("recipe-border", bool(args.recipe_border))) if on),
        "licence": "BSD-3-Clause (the model); training data licences and attribution below",
        "intended_use": "H&E brightfield sections analysed at 0.25-2 µm/px: tissue classes on a "
                        f"{settings.output_um:g} µm grid for the necrosis area (% of tissue), tumour and stroma fractions.",
        "classes_meaning": {
            "tumour": "viable cellular epithelial / tumour tissue (incl. normal mucosa)",
            "stroma": "collagen, smooth muscle, loose and complex stroma, bone matrix",
            "necrosis": "coagulative necrosis with ghost cells, karyorrhectic debris",
            "inflammatory": "lymphocyte conglomerates", "fat": "adipose tissue", "mucin": "extracellular mucus",
            "blood": "erythrocytes, packed or lysed" + ("" if args.mimic_tiles else " (one training tile only)"),
            "background": "glass, out-of-focus debris",
            **({"keratin": "keratin pearls, lamellae and squames (lamellated glassy eosin, almost no nuclei); trained "
                           "on generated tiles only"} if args.keratin or args.mimic_tiles else {})},
        "limitations": "Little necrosis training data (1 NCT tile, 2 osteosarcoma tiles, generated tiles); "
                       + ("blood, keratin and dense acellular collagen from generated tiles only; " if args.mimic_tiles
                          else "one blood tile; ")
                       + ("keratin from generated tiles only (on the real TCGA squamous carcinoma it finds "
                          "almost none); " if args.keratin and not args.mimic_tiles
                          else "" if args.mimic_tiles else "no keratin class; ")
                       + "no melanin class (the pigment classifier masks melanin per pixel, far below the 8 µm "
                       "blocks); squamous tumour nests partly called stroma and lymphocyte-rich stroma tumour "
                       "(TCGA), dermis called tumour (CMU-1). Tile-level labels were applied to every tissue block "
                       "of a training tile.",
        "training_data": [a for a in ATTRIBUTION if _uses(a["dataset"], args)],
        "augmentation": "stain amounts x0.6-1.5, stain vectors rotated <= 8 deg, white balance x0.88-1, blur 0-0.7 "
                        "µm, noise, JPEG q45-95 (p 0.7), claimed pixel size x0.85-1.18",
    }
    if settings.image_reference:
        card["image_reference"] = (
            "the log OD columns (log_od_ref_*) are the level minus the slide's reference level, and the OD is taken "
            "against the slide's glass: both computed once per slide from its thumbnail (once per plain image, from "
            "the whole image) and passed to every tile (mmnst_path.classify._image_reference). Training images: "
            + ("each image and augmented copy its own reference" if args.image_reference == "own" else
               "each image and copy its own, except the single-class tiles of " + ", ".join(SOURCE_REFERENCE)
               + ": their source's median level, moved by the augmentation's change of the copy's own level"))
    edits = {k: v for k, v in (("thin", args.thin), ("repeat_necrosis", args.repeat_necrosis),
                               ("repeat_rows", args.repeat_rows),
                               ("class_scale", getattr(args, "class_scale", None))) if v}
    if edits:  # the row edits as given, so that the card reproduces the model
        card["training_row_edits"] = edits
    if lowest_share < PURE_SHARE:  # border rows (--min-share, or cached rows that hold them: --rows-npz)
        card["training_block_share"] = (
            f"a block is a training row of its majority class when that class covers >= {lowest_share:.3g} of it "
            f"(border rows included; pure blocks are >= {PURE_SHARE:g})")
    return card


def fit_first_stage(args: argparse.Namespace, classes: tuple[str, ...], settings: TissueFeatureSettings,
                    rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], card: dict[str, Any]) -> Any:
    """The (first-stage) forest on ``rows`` (training x, y, held-out x, y), or with ``--first-stage`` that saved model
    (checked against these classes and features, not refitted)."""
    x_tr, y_tr, x_va, y_va = rows
    if args.first_stage is not None:
        from mmnst_path.classify import load_model

        model = load_model(args.first_stage, kind="tissue")
        if (model.class_names != tuple(classes) or [f.name for f in model.features]
                != [f.name for f in tissue_feature_specs(settings)] or model.context is not None):
            raise SystemExit(f"--first-stage {args.first_stage}: not a one-stage model with these classes and features")
        model = replace(model, card={**model.card, "first_stage": f"{model.name} {model.card.get('version')} "
                                     f"({model.model_id}), not refitted",
                                     **({"version": args.version} if args.version else {})})
    else:
        model = train_model(x_tr, y_tr, kind="tissue", classes=classes, features=tissue_feature_specs(settings),
                            settings={"features": settings.to_mapping(), "stains": "H&E"},
                            card=card, validation=(x_va, y_va), n_estimators=args.trees, max_depth=args.depth,
                            min_samples_leaf=args.leaf, class_scale=getattr(args, "class_scale", None))
    return model


def save_rows(path: Path, settings: TissueFeatureSettings, saved: list[tuple[str, np.ndarray, np.ndarray, bool, str,
              np.ndarray]], saved_ref: list[tuple[float, int]]) -> None:
    """``--save-rows``: the rows in the ``--rows-npz`` format (with per-row reference levels and copy indices where
    ``saved_ref`` holds them); ``saved``: (source, x, y, held, image name, block shares) per part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, names=np.array([f.name for f in tissue_feature_specs(settings)]),
             settings=np.array(json.dumps(settings.to_mapping())),
             x=np.concatenate([r[1] for r in saved]).astype(np.float32),
             y=np.concatenate([r[2] for r in saved]).astype(np.int64),
             source=np.concatenate([np.full(len(r[2]), r[0], dtype="<U16") for r in saved]),
             held=np.concatenate([np.full(len(r[2]), r[3], dtype=bool) for r in saved]),
             image=np.repeat(np.array([r[4] for r in saved]), [len(r[2]) for r in saved]),
             share=np.concatenate([r[5] for r in saved]),
             **({} if not saved_ref else {
                 "level": np.concatenate([np.full(len(r[2]), f[0], dtype=np.float32) for r, f in zip(saved, saved_ref, strict=True)]),
                 "copy": np.concatenate([np.full(len(r[2]), f[1], dtype=np.int16) for r, f in zip(saved, saved_ref, strict=True)])}))


def context_stage(args: argparse.Namespace, model: Any, maps: list[ImageMap], t0: float) -> Any:
    """``--auto-context``: save the first stage next to ``--out`` (``.stage1``), fit the second stage on its
    out-of-fold probabilities (and ``--context-extra-maps``) and return the two-stage model."""
    first = args.out.with_name(args.out.stem + ".stage1" + args.out.suffix)
    model.save(first)
    print(f"first stage: wrote {first} ({model.model_id}) in {time.time() - t0:.0f} s", file=sys.stderr)
    n_folds = args.context_fold_count or CONTEXT_FOLDS
    images = context_images(maps, args.context_min_share, args.context_folds or "hash", n_folds)
    if args.context_min_share is not None and all(im.ctx_sel is None for im in images):
        raise SystemExit("--context-min-share: no map records its block labels (maps from --save-maps since "
                         "session 25)")
    proba = oof_proba_cached(args.oof_npz, images, model, args)
    if args.context_thin:
        images = thin_context_images(maps, images, args.context_thin)
    if args.context_drop:
        images, proba = drop_context_images(maps, images, proba, args.context_drop)
    if args.context_extra_maps:
        if not 1 <= args.context_extra_repeat <= 10:
            raise SystemExit(f"--context-extra-repeat: expected 1-10, got {args.context_extra_repeat}")
        extra = [m for path in args.context_extra_maps for m in load_maps(path) if not m.held]
        extra_p = [proba_map(model, m.feats) for m in extra]
        for _ in range(args.context_extra_repeat):
            images += [ContextImage(m.feats, m.sel, m.y, m.grid_mpp, fold_of(m.source, m.name, n_folds))
                       for m in extra]
            proba = [*proba, *extra_p]
    model = train_context_stage(
        images, model, settings=context_settings_arg(args.context_sigmas, args.context_keep_necrosis),
        n_estimators=args.context_trees or args.trees, max_depth=args.depth, min_samples_leaf=args.leaf,
        jobs=args.jobs, proba=proba, fold_scheme=args.context_folds or "hash")
    if args.context_extra_maps:
        srcs = sorted({m.source for path in args.context_extra_maps for m in load_maps(path)})
        model.card["auto_context"]["extra_sources"] = (
            f"second stage only: the rows of {', '.join(srcs)} (x{args.context_extra_repeat}) with the first "
            "stage's own probabilities (images it never trained on)")
    if args.context_drop:
        model.card["auto_context"]["dropped_images"] = (
            "second stage: no rows of the training images of " + ", ".join(
                f"{src} named {pre}*" if pre else src for src, pre in args.context_drop)
            + " (they train the out-of-fold first stages only)")
    if args.context_thin:
        model.card["auto_context"]["thinned_images"] = (
            "second stage: " + ", ".join(f"{frac:g} of the rows of each training image of {src}"
                                         + (f" named {pre}*" if pre else "") for src, pre, frac in args.context_thin)
            + " (a seeded draw; the out-of-fold first stages train on all of them)")
    if args.context_min_share is not None:
        model.card["auto_context"]["training_blocks"] = (
            f"the first stage's rows plus the blocks of pixel-labelled images whose majority class covers >= "
            f"{args.context_min_share:g} of them (class borders), second stage only")
    model.card["validation"]["note"] += ("; per_source: first stage alone; auto_context.validation: the "
                                         "held-out quarter through both stages")
    model = replace(model)
    ac = model.card["auto_context"]
    print("auto-context held out: acc first stage "
          f"{ac['validation_first_stage']['accuracy']:.3f} -> both {ac['validation']['accuracy']:.3f}",
          file=sys.stderr)
    return model
