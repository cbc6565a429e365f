r"""Train the default melanin pixel model, the one the red chromogens read (issue #14, sessions 39-40).

Usage::

    .venv/bin/python scripts/train_pigment_default.py --label drawn --rim-negatives --hard-positives 4 \
        --hard-rows 2400 --extra-columns erode_2.5 dog rel_u_b hue_sd dark_share body_log_area body_fill body_cv \
        body_holes --max-depth 18 --class-weight none --out mmnst_path/models/pigment_default.mmnst  # version 2
    .venv/bin/python scripts/train_pigment_default.py --label seen --out /tmp/v1.mmnst   # version 1's recipe
    .venv/bin/python scripts/train_pigment_default.py --label drawn --rim-negatives --out /tmp/s39.mmnst
    .venv/bin/python scripts/train_pigment_default.py --label drawn --out /tmp/drawn.mmnst --out-seen /tmp/seen.mmnst

``pigment_default.mmnst`` serves H-AEC and H-FastRed (with DAB the shipped default stands for
``pigment_dab.mmnst``, with H&E for ``pigment_he.mmnst``: :func:`mmnst_path.classify.pigment.model_for_stains`).
Its version 1 was trained by the first ``scripts/train_pigment_model.py`` (commit 5f761f7) on the blurred melanin
label; that script has since grown options for the H-DAB and H&E models (pixel sizes cycling with the seed,
BRCA-M2C negatives, granule columns) that version 1 never had. This script is version 1's recipe, unchanged but
for the label:

- generated: :func:`mmnst_path.synthetic.pigment_family_tile` seeds 1000-1002, every pigment family x DAB / AEC /
  Fast Red / H&E, 256 px at 0.5 µm/px in each chromogen's default rendering; up to 1200 rows per class and tile
  among the candidate pixels (total OD >= 0.2), half the background rows from chromogen-positive nuclei;
- real melanin-free negatives: every EndoNuke ER/PR tile (``mixed/`` at 0.5 µm/px, ``staining_ds/`` at 0.25;
  Naumov et al., Data 2022, CC BY 4.0) and Kather NCT-CRC-HE (CC BY 4.0; 0.5 µm/px): 600 rows per tile, half at
  random, half the darkest brown candidates;
- validation: seeds 2000, 600 rows per class and tile; forest of 30 trees, depth 14, 8 rows per leaf; the 15
  feature columns version 1 stores (:data:`V1_COLUMNS`, or those of ``--columns-of``), optical density against 255.

``--label drawn`` (the session-39 candidate version 2, with ``--rim-negatives``; **not shipped**: it failed its
rule's first gate on AEC, drawn-truth Dice +0.033 of +0.05 asked, benchmarks/README "#14: the red chromogens' pixel
model on the drawn melanin"): a pixel is melanin where the pigment **as drawn**, before the optical blur, reaches
0.15 log10 OD (``pigment_family_tile(drawn_melanin=True)``, the bundled sample tiles' truth and, since session 38,
the benchmarks'); ``--rim-negatives``: the hard half of each tile's background rows also from the rim the optical
blur adds around the drawn pigment (melanin under the blurred label, background under the drawn one: without these
rows the rim is a small share of the background rows and the model keeps most of it; session 39 dev, families seeds
3120-3127, drawn-truth Dice AEC 0.7427 (version 1) -> 0.7596 without -> 0.7722 with, Fast Red 0.7719 -> 0.7993 ->
0.8265); ``--label seen`` the blurred concentration >= 0.15 (version 1's label). ``--out-seen`` also fits
the blurred label on the same rows' tiles (the control that this recipe reproduces version 1).

**Version 2 (session 40 H4, shipped)**: the drawn label and the rim negatives as above, plus
``--hard-positives 4``: red-chromogen tiles (:func:`hard_positive_tiles`, seeds 1010-1013, every family x AEC /
Fast Red, ``positives="wide"``: faint 1+ to saturated 3+, half the nuclei positive, plain and varied rendering)
whose positive nuclei and rim at least 0.5 OD are the hard half of their background rows, 2400 rows per class and
tile (dark AEC positives turn brown and version 1 and the session-39 candidate read them as melanin discs); 9 more
columns (:data:`V2_EXTRA_COLUMNS`: texture at cluster scale, granules on nuclei, the bounded brown-body shape; no
``blob_*`` column, whose reach is the whole body); trees of depth 18 and the rows unweighted (background outnumbers
melanin ~1.8:1: a tighter mask, the rim called less). Session 40 dev (families seeds 4400-4403, 36 pigmented tiles
a chromogen, drawn truth): Dice AEC 0.7727 -> 0.8211, Fast Red 0.7760 -> 0.8503; the gated figures are in
benchmarks/README "#14: the red pixel model tells dark AEC positives from melanin".

The research-only Ki67 sets of ``/work/shared/data/ki67`` are never trained on.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from mmnst_path.classify import load_model  # noqa: E402
from mmnst_path.classify.pigment import (  # noqa: E402
    CLASSES,
    PigmentFeatureSettings,
    pigment_feature_specs,
    pigment_features,
)
from mmnst_path.classify.train import train_model  # noqa: E402
from mmnst_path.synthetic import FAMILY_CHROMOGENS, PIGMENT_FAMILIES, pigment_family_tile  # noqa: E402

#: version 1's feature columns, in its order (the default of ``--columns-of``)
V1_COLUMNS = ("u_r", "u_g", "u_b", "grey", "log_od", "tophat_1", "tophat_2.5", "peak", "cv", "ctx_log_od", "ctx_u_r",
              "ctx_u_b", "wide_u_b", "erode", "ctx_grey")
#: label -> the tile mask it reads (``pigment_family_tile(drawn_melanin=True)``)
LABELS = {"drawn": "melanin_drawn", "seen": "melanin"}
LABEL_TEXT = {
    "drawn": ("melanin where the pigment as drawn, before the optical blur, reaches 0.15 log10 OD (the bundled "
              "sample tiles' truth; pigment_family_tile(drawn_melanin=True) mask melanin_drawn)"),
    "seen": "melanin where the blurred melanin concentration reaches 0.15 log10 OD (the tile's melanin mask)",
}


def _sample(x: np.ndarray, y: np.ndarray, per_class: int, rng: np.random.Generator,
            hard: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``per_class`` rows of each class; half the background rows from ``hard`` pixels (chromogen-positive
    nuclei) when there are any (the sampling of ``train_pigment_model._sample``)."""
    from train_pigment_model import _sample as sample

    return sample(x, y, per_class, rng, hard)


def generated_tiles(seeds: range, size: int, names: list[str], settings: PigmentFeatureSettings,
                    rim: bool = False) -> list[tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]]:
    """(feature rows, {label: per-row label}, per-row hard flag) of every family x chromogen x seed; hard: the
    chromogen-positive nuclei and, with ``rim``, the rim the optical blur adds around the drawn pigment (blurred
    melanin mask minus the drawn one: background under the drawn label, what it is most confused with)."""
    out = []
    for ch in FAMILY_CHROMOGENS:
        for fam in PIGMENT_FAMILIES:
            for seed in seeds:
                tile = pigment_family_tile(seed, fam, chromogen=ch, size=size, drawn_melanin=True)
                rows = _tile_rows(tile, names, settings, rim)
                if rows is not None:
                    out.append(rows)
    return out


def _tile_rows(tile: Any, names: list[str], settings: PigmentFeatureSettings,
               rim: bool) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray] | None:
    """(features, labels, hard-negative flags) of a generated tile's candidate pixels (None when it has none): the
    hard ones are its positive-nucleus pixels (and, with ``rim``, the blur rim of its melanin)."""
    x, cand = pigment_features(tile.rgb, mpp=tile.mpp, settings=settings, names=names)
    if not x.shape[0]:
        return None
    labels = {k: tile.masks[m][cand].astype(np.int64) for k, m in LABELS.items()}
    hard = tile.masks["positive_nuclei"]
    if rim:
        hard = hard | (tile.masks["melanin"] & ~tile.masks["melanin_drawn"])
    return x, labels, hard[cand]


#: the red chromogens (the ones this model serves) whose positives are the hard-negative tiles' subject
RED_CHROMOGENS = ("aec", "fast_red")
#: first seed of the hard-negative tiles (``--hard-positives N``: seeds 1010 to 1009 + N)
HARD_FIRST_SEED = 1010
#: their hard rows: positive-nucleus (and blur-rim) pixels at least this dark (log10 of the total OD: 0.5 OD)
HARD_MIN_LOG_OD = -0.3
#: the feature columns version 2 adds to version 1's 15 (texture at cluster scale, granules on nuclei, and the
#: bounded brown-body shape: a solid, filled nucleus-sized ellipse against melanin's rings and clusters)
V2_EXTRA_COLUMNS = ("erode_2.5", "dog", "rel_u_b", "hue_sd", "dark_share", "body_log_area", "body_fill", "body_cv",
                    "body_holes")


def hard_positive_tiles(seeds: range, size: int, names: list[str], settings: PigmentFeatureSettings,
                        rim: bool = False) -> list[tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]]:
    """As :func:`generated_tiles`, of red-chromogen tiles whose positives span faint 1+ to saturated 3+.

    Every family (so every nucleus shape, round to spindle) x AEC / Fast Red x seed, with
    ``positives="wide"`` (:class:`mmnst_path._synthetic_pigment.WidePositives`: 0.08-2.5 OD painted, a share
    speckled), half the tumour nuclei positive, the plain rendering on even seeds and the varied one (tinted
    glass, black level, clumped chromatin) on odd ones. Their positive nuclei at least :data:`HARD_MIN_LOG_OD`
    dark (and, with ``rim``, the blur rim) are the hard half of each tile's background rows: dark, saturated AEC
    positives turn brown and were read as melanin discs (session 39 H2).
    """
    i_od = names.index("log_od")
    out = []
    for ch in RED_CHROMOGENS:
        for fam in PIGMENT_FAMILIES:
            for seed in seeds:
                tile = pigment_family_tile(seed, fam, chromogen=ch, size=size, drawn_melanin=True, positives="wide",
                                           positive_fraction=0.5, appearance="varied" if seed % 2 else "plain")
                rows = _tile_rows(tile, names, settings, rim)
                if rows is not None:
                    x, labels, hard = rows
                    out.append((x, labels, hard & (x[:, i_od] >= HARD_MIN_LOG_OD)))
    return out


def sampled(tiles: list, label: str, per_class: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The rows of :func:`generated_tiles` drawn for ``label``."""
    xs, ys = [], []
    for x, labels, hard in tiles:
        xx, yy = _sample(x, labels[label], per_class, rng, hard)
        xs.append(xx)
        ys.append(yy)
    return np.concatenate(xs), np.concatenate(ys)


def real_files(train: Path) -> list[tuple[Path, float]]:
    """(file, µm/px) of version 1's melanin-free real tiles: EndoNuke mixed / staining_ds and Kather NCT-CRC-HE."""
    files = [(p, 0.5) for p in sorted((train / "endonuke" / "mixed").glob("*.png"))]
    files += [(p, 0.25) for p in sorted((train / "endonuke" / "staining_ds").glob("*.png"))]
    files += [(p, 0.5) for p in sorted((train / "kather_nct_crc_he").glob("*/*"))
              if p.suffix in (".tif", ".png", ".jpg")]
    return files


def real_rows(train: Path, names: list[str], settings: PigmentFeatureSettings, per_image: int,
              rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Background rows of :func:`real_files`: half at random, half the darkest brown candidates."""
    from PIL import Image

    xs, used = [], []
    i_od, i_r, i_b = names.index("log_od"), names.index("u_r"), names.index("u_b")
    for f, mpp in real_files(train):
        rgb = np.asarray(Image.open(f).convert("RGB"))
        x, _ = pigment_features(rgb, mpp=mpp, settings=settings, names=names)
        if not x.shape[0]:
            continue
        n = min(per_image // 2, x.shape[0])
        score = x[:, i_od] - 2.0 * np.abs(x[:, i_b] - x[:, i_r] - 0.45)
        pick = [rng.choice(x.shape[0], size=n, replace=False), np.argsort(score)[::-1][:n]]
        xs.append(x[np.concatenate(pick)])
        used.append(str(f.relative_to(train)))
    return np.concatenate(xs), used


def command_of(label: str, args: argparse.Namespace, rim: bool) -> str:
    """The command line that fits this label's model (the card's ``script``)."""
    cmd = f"scripts/train_pigment_default.py --label {label}" + (" --rim-negatives" if rim else "")
    if label == "drawn" and args.hard_positives:
        cmd += f" --hard-positives {args.hard_positives} --hard-rows {args.hard_rows}"
    if args.extra_columns:
        cmd += " --extra-columns " + " ".join(args.extra_columns)
    if args.max_depth != 14:
        cmd += f" --max-depth {args.max_depth}"
    if args.class_weight != "balanced_subsample":
        cmd += f" --class-weight {args.class_weight}"
    return cmd


def card_of(label: str, args: argparse.Namespace, n_real: int, rim: bool = False) -> dict:
    """Model card (version 2 for the drawn label, 1 for the blurred one)."""
    hard = label == "drawn" and args.hard_positives > 0
    generated = (f"mmnst_path.synthetic.pigment_family_tile seeds 1000-{999 + args.seeds}, families "
                 f"{list(PIGMENT_FAMILIES)} x {list(FAMILY_CHROMOGENS)}, {args.size} px at 0.5 µm/px "
                 "(generated by this project); half of each tile's background rows from its "
                 "chromogen-positive nuclei" + (" and the blur rim around the drawn pigment (blurred "
                                                "melanin mask minus the drawn one)" if rim else ""))
    if hard:
        generated += (f"; hard negatives: seeds {HARD_FIRST_SEED}-{HARD_FIRST_SEED + args.hard_positives - 1}, "
                      f"every family x {list(RED_CHROMOGENS)}, positives='wide' (faint 1+ to saturated 3+, "
                      "0.08-2.5 OD painted, a share speckled), positive_fraction 0.5, plain rendering on even seeds "
                      f"and varied on odd ones, up to {args.hard_rows} rows per class and tile, the hard half of "
                      f"the background rows from positive nuclei and blur rim at least {10 ** HARD_MIN_LOG_OD:.1f} "
                      "OD")
    return {
        "name": "mmnst_path default melanin pixel classifier",
        "version": "2" if label == "drawn" else "1",
        "licence": "same as mmnst_path",
        "intended_use": ("melanin pigment pixels in H-AEC and H-FastRed tiles at ~0.5 µm/px (the shipped default "
                         "stands for pigment_dab.mmnst with DAB and pigment_he.mmnst with H&E); features from RGB "
                         "optical density only"),
        "label": LABEL_TEXT[label],
        "history": ("version 1 (5f761f7): the blurred label, so its mask sat on the blurred edge (12.7-13.8 % of "
                    "tissue against ~9.6 % drawn on the session-38 families); session 39 H2's drawn label with the "
                    "blur rim as hard negatives was not shipped (AEC Dice +0.033 of +0.05 asked: dark AEC positives "
                    "stayed melanin discs); version 2 (session 40 H4): that label plus red-chromogen tiles with "
                    "faint to saturated positives as hard negatives, 9 more feature columns, depth 18, rows "
                    "unweighted"),
        "training_data": {
            "generated": generated,
            "real_negatives": ("EndoNuke ER/PR IHC (Naumov et al., Data 2022, CC BY 4.0; mixed/ at 0.5 µm/px, "
                               "staining_ds/ at 0.25 µm/px) and Kather NCT-CRC-HE (Kather et al. 2018, CC BY 4.0): "
                               "all pixels background, half of the rows the darkest brown candidates"),
            "n_real_images": n_real,
        },
        "not_trained_on": "the research-only Ki67 sets of ../shared/data/ki67 (used for the false-pigment check only)",
        "script": command_of(label, args, rim),
        "validation_data": ("mmnst_path.synthetic.pigment_family_tile seed 2000 (every family x chromogen, 600 rows "
                            "per class and tile; not a training seed)"),
        "forest": {"n_estimators": 30, "max_depth": args.max_depth, "min_samples_leaf": 8,
                   "class_weight": args.class_weight},
        "optical_density": "against 255",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--label", choices=tuple(LABELS), default="drawn", help="the melanin label (see above)")
    ap.add_argument("--out", type=Path, required=True, help="model file of --label")
    ap.add_argument("--out-seen", type=Path, default=None, help="also the blurred label's model, same tiles")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--per-class", type=int, default=1200)
    ap.add_argument("--per-real", type=int, default=600, help="background rows per real tile")
    ap.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    ap.add_argument("--rim-negatives", action="store_true",
                    help="the hard half of the background rows also from the blur rim around the drawn pigment "
                         "(only with --label drawn; --out-seen is fitted without it)")
    ap.add_argument("--hard-positives", type=int, default=0, metavar="N",
                    help=f"also N seeds ({HARD_FIRST_SEED}...) of red-chromogen hard-negative tiles "
                         "(:func:`hard_positive_tiles`; only with --label drawn)")
    ap.add_argument("--hard-rows", type=int, default=2400, help="rows per class and hard-negative tile")
    ap.add_argument("--extra-columns", nargs="*", default=[], metavar="NAME",
                    help="feature columns added to those of --columns-of (version 2: "
                         f"{' '.join(V2_EXTRA_COLUMNS)})")
    ap.add_argument("--max-depth", type=int, default=14, help="depth of the forest's trees (version 2: 18)")
    ap.add_argument("--class-weight", choices=("balanced_subsample", "none"), default="balanced_subsample",
                    help="'none': the rows unweighted (version 2: background rows outnumber melanin ~1.8:1, "
                         "a tighter mask)")
    ap.add_argument("--columns-of", type=Path, default=None,
                    help="model file whose feature columns are trained on (default: version 1's, V1_COLUMNS)")
    args = ap.parse_args()
    if args.seeds < 1:
        ap.error(f"--seeds must be >= 1, got {args.seeds}")
    if args.rim_negatives and args.label != "drawn":
        ap.error(f"--rim-negatives needs --label drawn, got --label {args.label}")
    if args.hard_positives < 0 or (args.hard_positives and args.label != "drawn"):
        ap.error(f"--hard-positives needs --label drawn and N >= 0, got {args.hard_positives} with --label {args.label}")
    if args.hard_rows < 1:
        ap.error(f"--hard-rows must be >= 1, got {args.hard_rows}")
    names = list(V1_COLUMNS) if args.columns_of is None else [f.name for f in load_model(args.columns_of).features]
    known = [f.name for f in pigment_feature_specs(PigmentFeatureSettings())]
    for name in args.extra_columns:
        if name not in known:
            ap.error(f"--extra-columns: unknown feature {name!r} (known: {', '.join(known)})")
        if name not in names:
            names.append(name)
    settings = PigmentFeatureSettings()
    specs = [f for f in pigment_feature_specs(settings) if f.name in names]
    specs.sort(key=lambda f: names.index(f.name))
    t0 = time.perf_counter()
    tiles = generated_tiles(range(1000, 1000 + args.seeds), args.size, names, settings, rim=args.rim_negatives)
    hard = (hard_positive_tiles(range(HARD_FIRST_SEED, HARD_FIRST_SEED + args.hard_positives), args.size, names,
                                settings, rim=args.rim_negatives) if args.hard_positives else [])
    valid = generated_tiles(range(2000, 2001), args.size, names, settings)
    xr, used = real_rows(args.train, names, settings, args.per_real, np.random.default_rng(1))
    print(f"features of {len(tiles)} generated tiles, {len(used)} real tiles: {time.perf_counter() - t0:.0f} s",
          flush=True)
    jobs = [(args.label, args.out)] + ([("seen", args.out_seen)] if args.out_seen is not None else [])
    plain = None
    if args.out_seen is not None and args.rim_negatives:  # the blurred label's control without the rim rows
        plain = generated_tiles(range(1000, 1000 + args.seeds), args.size, names, settings)
    for label, out in jobs:
        rim = args.rim_negatives and label == "drawn"
        rng = np.random.default_rng(0)
        xg, yg = sampled(tiles if plain is None or rim else plain, label, args.per_class, rng)
        if hard and label == "drawn":
            xh, yh = sampled(hard, label, args.hard_rows, rng)
            xg, yg = np.concatenate([xg, xh]), np.concatenate([yg, yh])
        xv, yv = sampled(valid, label, 600, rng)
        x, y = np.concatenate([xg, xr]), np.concatenate([yg, np.zeros(len(xr), np.int64)])
        model = train_model(x, y, kind="tissue", classes=CLASSES, features=specs, settings=settings.to_mapping(),
                            card=card_of(label, args, len(used), rim), validation=(xv, yv), n_estimators=30,
                            max_depth=args.max_depth, min_samples_leaf=8,
                            class_weight=None if args.class_weight == "none" else args.class_weight)
        path = model.save(out)
        print(f"{label}: rows generated {len(yg)} ({int(yg.sum())} melanin), real {len(xr)}; saved {path} "
              f"({path.stat().st_size / 1e6:.2f} MB, {model.model_id}); validation "
              f"{model.card['validation']['held_out']['accuracy']}", flush=True)


if __name__ == "__main__":
    main()
