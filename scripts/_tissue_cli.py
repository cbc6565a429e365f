"""The command line of ``scripts/train_tissue_model.py`` (split from it in session 29; imported by it, which puts the
project and ``scripts/`` on ``sys.path``): :func:`build_parser` and its option types, :func:`settings_of`."""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

from _context_maps import CONTEXT_FOLDS, sigmas_arg
from _tissue_blocks import CLASSES, PURE_SHARE
from _tissue_recipe import ROWS_FACTOR

from mmnst_path.classify.tissue_features import TissueFeatureSettings

HERE = Path(__file__).resolve().parent


def _repeats(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if not name or not value.isdigit() or not 1 <= int(value) <= 20:
            msg = f"--repeat-necrosis: expected SOURCE=K[,...] with an integer 1 <= K <= 20, got {part!r}"
            raise argparse.ArgumentTypeError(msg)
        out[name] = int(value)
    return out


def _scales(text: str) -> dict[str, float]:
    """``--class-scale``: CLASS=W[,...] -> {class: factor}, each factor 0.05 <= W <= 20 and the class one of
    :data:`_tissue_blocks.CLASSES`."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            factor = float(value)
        except ValueError:
            factor = math.nan
        if name not in CLASSES or not 0.05 <= factor <= 20.0:
            msg = (f"--class-scale: expected CLASS=W[,...] with CLASS one of {list(CLASSES)} and 0.05 <= W <= 20, "
                   f"got {part!r}")
            raise argparse.ArgumentTypeError(msg)
        out[name] = factor
    return out


def _share(text: str) -> float:
    """``--min-share``: a float in [0.5, 1] (below one half a block could be the row of two classes)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.5 <= value <= 1.0:
        msg = f"--min-share: expected a number from 0.5 to 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _drop(text: str) -> tuple[str, str]:
    """``--context-drop``: SOURCE or SOURCE/PREFIX -> (source, name prefix; "" for every image of the source)."""
    source, _, prefix = text.partition("/")
    if not source:
        raise argparse.ArgumentTypeError(f"--context-drop: expected SOURCE or SOURCE/PREFIX, got {text!r}")
    return source, prefix


def _context_thin(text: str) -> tuple[str, str, float]:
    """``--context-thin``: SOURCE[/PREFIX]=FRACTION -> (source, name prefix, fraction kept, 0 < FRACTION < 1)."""
    name, _, value = text.rpartition("=")
    try:
        frac = float(value)
    except ValueError:
        frac = -1.0
    if not name or not 0.0 < frac < 1.0:
        msg = f"--context-thin: expected SOURCE[/PREFIX]=FRACTION with 0 < FRACTION < 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    source, prefix = _drop(name)
    return source, prefix, frac


def _fractions(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            frac = float(value)
        except ValueError:
            frac = -1.0
        if not name or not 0.0 < frac <= 1.0:
            msg = f"--thin: expected SOURCE=FRACTION[,...] with 0 < FRACTION <= 1, got {part!r}"
            raise argparse.ArgumentTypeError(msg)
        out[name] = frac
    return out


#: store_true options (the optional sources and classes) and their help, in --help order
_SOURCE_FLAGS = {
    "--keratin": "add the keratin class (generated keratin tiles); the shipped default is trained without",
    "--mimic-tiles": "add the generated necrosis-mimic tiles (MIMIC_SEEDS; adds the keratin class)",
    "--held-out-recipe": "do not train on the sample_tiles recipe (the held-out generator of eval_necrosis --synthetic)",
    "--brca": "add the BRCA-M2C train / val patches (point-derived regions)",
    "--tissue-tiles": "add the generated he_tissue_tile tiles (TISSUE_SEEDS)",
}
#: store_true options (the optional feature columns) and their help, in --help order
_FEATURE_FLAGS = {
    "--nuclear-detail": "add the nuclear-detail features (TissueFeatureSettings.nuclear_detail: H share, contrast and edge energy of the nuclei, for intact vs ghost nuclei)",
    "--nuclear-morphology": "add the nuclear-morphology features (TissueFeatureSettings.nuclear_morphology: size, roundness and alignment of the nuclei, H / E relative to the surroundings; #13)",
    "--relative-level": "the log OD columns relative to their 30 µm context instead of the absolute stain level (TissueFeatureSettings.relative_level; #13)",
}
#: store_true options (the optional generated stroma / necrosis-border tiles) and their help, in --help order
_TILE_FLAGS = {
    "--wavy-tiles": "add the generated he_tissue_tile tiles with wavy, weakly oriented / unoriented collagen stroma (WAVY_SEEDS; rows after every other source; #13 session 22). With --rows-npz: name them in the model card (their rows must be in the files)",
    "--rim-tiles": "add the generated he_tissue_tile tiles with irregular necrosis borders and a transition zone of dying cells (RIM_SEEDS, source rim; rows after the wavy tiles; #13 session 23)",
    "--oedema-tiles": "add the generated he_tissue_tile tiles with loose oedematous stroma (OEDEMA_SEEDS, source oedema; rows after the rim tiles; #13 session 23)",
    "--matrix-tiles": "add the generated he_tissue_tile tiles with dense pink stromal matrix and small vessels (MATRIX_SEEDS, source matrix; rows after the oedema tiles; #13 session 24)",
    "--clefted-tiles": "add the generated he_tissue_tile tiles with coarse collagen bundles and white clefts (CLEFTED_SEEDS, source clefted; rows after the matrix tiles; #13 session 24)",
    "--dense-tiles": "add the generated tiles where dense eosinophilic necrosis and collagen share one eosin level (mmnst_path._synthetic_dense.he_dense_necrosis_tile, DENSE_SEEDS, source dense; rows after the clefted tiles; #13 session 37)",
}


def _store_true(ap: argparse.ArgumentParser, flags: dict[str, str]) -> None:
    for name, text in flags.items():
        ap.add_argument(name, action="store_true", help=text)


def build_parser(description: str) -> argparse.ArgumentParser:
    """The command line of ``train_tissue_model.py`` (its ``parser``, also used by ``benchmarks/lodo_tissue_he.py``),
    described by ``description``."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--train", type=Path, default=HERE.parent.parent / "shared" / "train")
    ap.add_argument("--osteo", type=Path, default=HERE.parent.parent / "shared" / "data" / "necrosis")
    ap.add_argument(
        "--out", type=Path, default=HERE.parent / "mmnst_path" / "models" / "tissue_default.mmnst"
    )
    ap.add_argument("--aug", type=int, default=5, help="augmented copies of every training image")
    ap.add_argument(
        "--rows", type=int, default=600, help="feature rows per image and copy (x4 for large images)"
    )
    ap.add_argument("--trees", type=int, default=24)
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--leaf", type=int, default=15)
    _store_true(ap, _SOURCE_FLAGS)
    ap.add_argument(
        "--osteo-rows",
        type=int,
        default=ROWS_FACTOR["osteosarcoma"],
        help="row sets (x --rows) per copy of an osteosarcoma training tile",
    )
    ap.add_argument(
        "--grid-um", type=float, default=None, help="fine feature grid, µm (TissueFeatureSettings.grid_um)"
    )
    ap.add_argument(
        "--predict-um", type=float, default=None, help="coarse grid, µm (TissueFeatureSettings.predict_um)"
    )
    ap.add_argument(
        "--micro-um", type=float, default=None, help="micro grid, µm (TissueFeatureSettings.micro_um)"
    )
    ap.add_argument(
        "--add-evaluation",
        type=Path,
        default=None,
        metavar="JSON",
        help="do not train: merge this JSON (figures of benchmarks/eval_necrosis.py) into the card of the model at --out as card['evaluation'] and save it again",
    )
    ap.add_argument(
        "--intensity-aug",
        action="store_true",
        help="extra pale / dark copies of the sources in INTENSITY_AUG (staining intensity decorrelated from necrosis)",
    )
    ap.add_argument(
        "--thin",
        type=_fractions,
        default=None,
        metavar="SOURCE=F[,...]",
        help="keep only this fraction of a source's training rows (e.g. osteosarcoma=0.3)",
    )
    ap.add_argument(
        "--repeat-necrosis",
        type=_repeats,
        default=None,
        metavar="SOURCE=K[,...]",
        help="take the necrosis training rows of a source K times (e.g. sample_recipe=4: more weight for that generator's necrosis inside the class)",
    )
    ap.add_argument(
        "--min-share",
        type=_share,
        default=PURE_SHARE,
        metavar="F",
        help=f"images with pixel labels (BRCA-M2C, generated tiles): a block is a training row of its majority class when that class covers >= F of it (default {PURE_SHARE}: pure blocks only; 0.5 adds the class borders, where 1.1.0 under-reads necrosis; #13, session 20)",
    )
    ap.add_argument("--version", default=None, help="model card version (default 1.0.0 and the options)")
    ap.add_argument(
        "--rows-npz",
        type=Path,
        nargs="+",
        default=None,
        metavar="NPZ",
        help="train on these cached feature rows (benchmarks/lodo_tissue_he.py writes them: the rows of feature_rows with these options, in its order) instead of computing them",
    )
    ap.add_argument(
        "--save-maps",
        type=Path,
        default=None,
        metavar="NPZ",
        help="also write every training image's whole feature map and training rows here (for --maps-npz: retraining, --auto-context, without computing the features again)",
    )
    ap.add_argument(
        "--maps-npz",
        type=Path,
        default=None,
        metavar="NPZ",
        help="train on the feature maps written by --save-maps with the same options",
    )
    ap.add_argument(
        "--auto-context",
        action="store_true",
        help="add a second (auto-context) forest on the first forest's out-of-fold class probabilities pooled over larger neighbourhoods (mmnst_path.classify.tissue_context)",
    )
    ap.add_argument(
        "--context-sigmas",
        type=sigmas_arg,
        default=None,
        metavar="S[,S...]",
        help="--auto-context: the scales (µm, Gaussian sigma) the first-stage probabilities are pooled over (default 16,40,100); the tile halo grows by 3x the largest",
    )
    ap.add_argument(
        "--context-min-share",
        type=_share,
        default=None,
        metavar="F",
        help="--auto-context: the second stage also trains on the blocks of pixel-labelled images whose majority class covers >= F of them (e.g. 0.5: the class borders; needs maps that record the block labels, --save-maps since session 25); the first stage keeps its own rows",
    )
    ap.add_argument(
        "--context-folds",
        choices=("hash", "alternate"),
        default=None,
        help="--auto-context: out-of-fold folds by a hash of source and name (default, session 11) or alternating in name order within each source (every source, and its classes, in both folds)",
    )
    ap.add_argument(
        "--context-fold-count",
        type=int,
        default=None,
        metavar="K",
        help=f"--auto-context: out-of-fold folds (default {CONTEXT_FOLDS}; each fold's forest sees (K-1)/K of the images)",
    )
    ap.add_argument(
        "--context-trees",
        type=int,
        default=None,
        help="--auto-context: trees of the second forest (default --trees); the out-of-fold first-stage forests keep --trees",
    )
    ap.add_argument(
        "--context-keep-necrosis",
        type=float,
        default=None,
        metavar="P",
        help="--auto-context: blocks whose first-stage necrosis probability is >= P (0.5 < P < 1) keep the first stage's classes",
    )
    ap.add_argument(
        "--context-extra-maps",
        type=Path,
        nargs="+",
        default=None,
        metavar="NPZ",
        help="--auto-context: maps (--save-maps, e.g. of --wavy-tiles --extra-only) of images the first stage never trained on: their rows train the second stage only, with the first stage's own probabilities (they are out of its sample)",
    )
    ap.add_argument(
        "--context-extra-repeat",
        type=int,
        default=1,
        metavar="K",
        help="--context-extra-maps: take their rows K times (default 1)",
    )
    ap.add_argument(
        "--context-drop",
        type=_drop,
        nargs="+",
        default=None,
        metavar="SOURCE[/PREFIX]",
        help="--auto-context: the training images of SOURCE (whose names start with PREFIX) give the second stage no "
        "rows; they still train the out-of-fold first stages (e.g. osteosarcoma/Non-Tumor: the rule's osteosarcoma "
        "Non-Tumor tiles stay out of the second stage's sample; #13 session 30)",
    )
    ap.add_argument(
        "--context-thin",
        type=_context_thin,
        nargs="+",
        default=None,
        metavar="SOURCE[/PREFIX]=FRACTION",
        help="--auto-context: each training image of SOURCE (whose name starts with PREFIX) gives the second stage only "
        "FRACTION of its rows (a seeded draw); the out-of-fold first stages still train on all of them (e.g. "
        "osteosarcoma/Non-Viable-Tumor=0.0833: those rows x1 instead of --osteo-rows 12; #13 session 31)",
    )
    ap.add_argument(
        "--first-stage",
        type=Path,
        default=None,
        metavar="MODEL",
        help="--auto-context with --maps-npz: this saved tissue model is the first stage (not refitted; it must have been fitted on these maps' rows, e.g. the same recipe)",
    )
    ap.add_argument(
        "--oof-npz",
        type=Path,
        default=None,
        metavar="NPZ",
        help="--auto-context: the out-of-fold first-stage probability maps, read from NPZ when it exists (written there otherwise)",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="--auto-context: fit the out-of-fold first-stage forests in this many processes (same result)",
    )
    _store_true(ap, _FEATURE_FLAGS)
    ap.add_argument(
        "--image-reference",
        choices=("own", "source"),
        default=None,
        help="the log OD columns relative to the image reference level and the OD against the image's glass (TissueFeatureSettings.image_reference; #13, session 19). 'own': every training image and copy is its own reference; 'source' (with --rows-npz from --save-rows): the images of the single-class sources (SOURCE_REFERENCE) take their source's median level, moved by what the augmentation did to the copy's own level",
    )
    ap.add_argument(
        "--reference-weight",
        type=float,
        default=1.0,
        help="with --image-reference: TissueFeatureSettings.reference_weight (1 = the image's own level; less shrinks it towards DEFAULT_LEVEL; rows from --rows-npz with per-row levels)",
    )
    ap.add_argument(
        "--repeat-rows",
        type=_repeats,
        default=None,
        metavar="SOURCE=K[,...]",
        help="take a source's training rows other than necrosis K times (e.g. nct=3,kather2016=3)",
    )
    ap.add_argument(
        "--class-scale",
        type=_scales,
        default=None,
        metavar="CLASS=W[,...]",
        help="multiply the weight of a class's training rows by W on top of the forest's balanced class weights "
        "(e.g. necrosis=0.8: the class's total weight in every tree x0.8; #13 session 43)",
    )
    ap.add_argument(
        "--save-rows",
        type=Path,
        default=None,
        metavar="NPZ",
        help="also write the feature rows in the --rows-npz format (retrain without computing them again)",
    )
    _store_true(ap, _TILE_FLAGS)
    ap.add_argument(
        "--recipe-border",
        type=int,
        default=0,
        metavar="K",
        help="add every border block (majority class 0.5-0.99 of the block) of the sample-recipe originals K times, as source recipe_border (#13 session 22: the generator's necrosis rim)",
    )
    ap.add_argument(
        "--extra-only",
        action="store_true",
        help="only the rows of the generated extra sources asked for (--wavy-tiles, --mimic-tiles, --rim-tiles, --oedema-tiles, --matrix-tiles, --clefted-tiles, --dense-tiles, --recipe-border), written with --save-rows, and no fit (add them to other rows with --rows-npz A B)",
    )
    return ap


def settings_of(args: argparse.Namespace) -> TissueFeatureSettings:
    """The feature settings the options ask for."""
    grids = {
        k: v
        for k, v in (("grid_um", args.grid_um), ("predict_um", args.predict_um), ("micro_um", args.micro_um))
        if v is not None
    }
    return replace(
        TissueFeatureSettings(),
        nuclear_detail=bool(args.nuclear_detail),
        nuclear_morphology=bool(getattr(args, "nuclear_morphology", False)),
        relative_level=bool(getattr(args, "relative_level", False)),
        image_reference=getattr(args, "image_reference", None) is not None,
        reference_weight=float(getattr(args, "reference_weight", 1.0)),
        **grids,
    )


def check_options(args: argparse.Namespace) -> None:
    """Refuse (SystemExit, one line) the option combinations ``main`` cannot train with."""
    if args.auto_context and (args.thin or args.repeat_necrosis or args.repeat_rows or args.rows_npz
                              or getattr(args, "class_scale", None)):
        raise SystemExit(
            "--auto-context trains from whole feature maps: not with --thin, --repeat-necrosis, "
            "--repeat-rows, --rows-npz, --class-scale"
        )
    context_opts = (
        args.context_sigmas,
        args.context_min_share,
        args.context_trees,
        args.first_stage,
        args.oof_npz,
        args.context_extra_maps,
        args.context_folds,
        args.context_fold_count,
        args.context_keep_necrosis,
        args.context_drop,
        args.context_thin,
    )
    if not args.auto_context and any(v is not None for v in context_opts):
        raise SystemExit(
            "--context-sigmas / --context-min-share / --context-trees / --first-stage / --oof-npz are "
            "options of --auto-context"
        )
    if args.first_stage is not None and not args.maps_npz:
        raise SystemExit("--first-stage: with --maps-npz (the maps its rows came from)")
    if not 0 <= args.recipe_border <= 20:
        raise SystemExit(f"--recipe-border: expected 0-20 copies, got {args.recipe_border}")
    extra = (
        args.wavy_tiles
        or args.mimic_tiles
        or args.recipe_border
        or args.rim_tiles
        or args.oedema_tiles
        or args.matrix_tiles
        or args.clefted_tiles
        or getattr(args, "dense_tiles", False)
    )
    if args.extra_only and (not (args.save_rows and extra) or args.rows_npz or args.maps_npz):
        raise SystemExit(
            "--extra-only writes the rows of --wavy-tiles / --mimic-tiles / --rim-tiles / --oedema-tiles / "
            "--matrix-tiles / --clefted-tiles / --dense-tiles / --recipe-border with --save-rows (computed, not "
            "from --rows-npz / --maps-npz)"
        )
    if args.min_share != PURE_SHARE and (args.rows_npz or args.maps_npz):
        raise SystemExit(
            "--min-share chooses the rows while the features are computed: not with --rows-npz, --maps-npz"
        )
