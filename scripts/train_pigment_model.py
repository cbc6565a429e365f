r"""Train the shipped default melanin pixel classifier (issue #14).

Usage::

    .venv/bin/python scripts/train_pigment_model.py [--seeds 3] [--train /work/shared/train]
        [--out mmnst_path/models/pigment_default.mmnst]
    .venv/bin/python scripts/train_pigment_model.py --chromogens dab --out mmnst_path/models/pigment_dab.mmnst
    .venv/bin/python scripts/train_pigment_model.py --bodies --out mmnst_path/models/pigment_dab_bodies.mmnst

``--appearances varied wide`` renders the generated DAB tiles in these
:func:`mmnst_path.synthetic.pigment_family_tile` appearances (default: pixels "varied", bodies
"varied" and "plain"); ``--white-point`` computes every optical density against the tile's glass
colour (:func:`mmnst_path.stain.guess.estimate_white_point`, 255 where no glass is visible)
instead of 255 (the pipeline reads H-DAB against 255: such a model needs the slide's white point
in the H-DAB matrix); ``--pixel-model FILE`` trains the body model on another pixel model.

Every pixel feature of :func:`mmnst_path.classify.pigment.pigment_feature_specs` is trained on, the
granule columns of ``classify/_pigment_granules.py`` included (the shipped version-2 H-DAB model
predates them and stores the 24 it was trained on); ``--version`` names the card's version. The
session-19 candidate (not shipped: benchmarks/README "DAB melanin: where it is lost")::

    .venv/bin/python scripts/train_pigment_model.py --chromogens dab --appearances varied wide --seeds 4 \
        --dab-extra 4 --version 3 --out /tmp/pigment_dab_v3.mmnst
    .venv/bin/python scripts/train_pigment_model.py --bodies --seeds 8 --appearances varied plain wide \
        --version 3 --pixel-model /tmp/pigment_dab_v3.mmnst --out /tmp/pigment_dab_bodies_v3.mmnst

The session-28 candidate (not shipped: it failed the #14 false-pigment gate, SHIDC p1_0299_1 0.79 %; benchmarks/README
"#14: the DAB pixel pigment model against real dark DAB") mines HEAD's false positives on EndoNuke TRAIN::

    .venv/bin/python scripts/train_pigment_model.py --chromogens dab --appearances varied wide --no-granules \
        --endonuke-parts train dev --mine-endonuke 600 --mine-weight 1 --version 3 --out /tmp/pix_mined.mmnst

The session-29 candidate S2 (not shipped: it failed the fixed EndoNuke VAL clause, 5 tiles > 0.1 % against 4;
benchmarks/README "#14: near-black positives as negatives") adds near-black saturated Ki67 positives as negatives
(``--saturated-positives``, pixel and body models) to the session-28 mining at x2::

    .venv/bin/python scripts/train_pigment_model.py --chromogens dab --appearances varied wide --no-granules \
        --endonuke-parts train dev --mine-endonuke 600 --mine-weight 2 --saturated-positives --version 3 \
        --out /tmp/pix_sat.mmnst
    .venv/bin/python scripts/train_pigment_model.py --bodies --seeds 8 --appearances varied plain wide --version 3 \
        --endonuke-parts train dev --saturated-positives --pixel-model /tmp/pix_sat.mmnst --out /tmp/bod_sat.mmnst

Session 30 (benchmarks/README "#14: saturated negatives at a lower weight, meshwork cytoplasm") tried the saturated
rows at a lower weight (``--saturated-share 0.1 / 0.25``) and brown meshwork cytoplasm around positives
(``--meshwork-cytoplasm``) with the mining at x1 / x2 on EndoNuke TRAIN: every fit with mined rows lost families
melanin Dice beyond HEAD - 0.01 on dev (the mined rows cost melanin beside and over nuclei), so none went to the rule.

The session-20 candidate for a gate at ``model_min_od`` 0.2 (not shipped: benchmarks/README "DAB melanin: a
tan-background negative"; it clears BCData 6.png's tan stroma but not BCData 0.png's tan patch)::

    .venv/bin/python scripts/train_pigment_model.py --chromogens dab --appearances varied wide --seeds 2 \
        --dab-extra 2 --version 3 --tan-background --out /tmp/pix_tan.mmnst
    .venv/bin/python scripts/train_pigment_model.py --bodies --seeds 2 --appearances varied wide --version 3 \
        --tan-background --model-min-od 0.2 --pixel-model /tmp/pix_tan.mmnst --out /tmp/bodies_tan02.mmnst

``--bodies`` trains the H-DAB brown-body model instead (one row per brown body of the gate, on the
probabilities of the shipped ``pigment_dab.mmnst``; label: melanin when the true melanin mask
covers at least half of the body): generated DAB tiles in both appearances ("varied" and
"plain") of every family, seeds 1000.., and every brown body of the EndoNuke tiles as a DAB body.

Training data (all redistributable):

- generated here: :func:`mmnst_path.synthetic.pigment_family_tile`, every pigment family x
  DAB / AEC / Fast Red / H&E, seeds 1000.. (the benchmark ``benchmarks/eval_pigment_families.py``
  uses seeds 0..; validation rows come from seeds 2000..). Label: the tile's true melanin mask
  (blurred melanin concentration >= 0.15 log10 OD), per candidate pixel (total OD >= 0.2); half
  the background rows of a tile come from its chromogen-positive nuclei (hard negatives).
- melanin-free negatives from permissively licensed real tiles of ``--train``: EndoNuke ER/PR
  IHC (Naumov et al., Data 2022, CC BY 4.0; ~0.5 µm/px) and Kather NCT-CRC-HE (Kather et al.
  2018/2019, CC BY 4.0; 0.5 µm/px): every candidate pixel there is "background" (strong granular
  DAB nuclei, red blood cells, dark debris are what false pigment is made of).

The research-only Ki67 sets of ``/work/shared/data/ki67`` are never trained on (the benchmark
uses them for the false-pigment check only).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # the repository and scripts/ (_pigment_endonuke), also when loaded by path

from _pigment_endonuke import endonuke_files, mined_rows, split_card  # noqa: E402
from _pigment_training_bodies import (  # noqa: E402, F401  (re-exported: benchmarks use train_pigment_model.body_rows ...)
    ENDONUKE,
    GUARDED,
    NEAR_BLACK_FAMILIES,
    WHITE_POINT,
    _background,
    _body_rows_of,
    body_rows,
    real_body_rows,
    train_bodies,
)

from mmnst_path._synthetic_pigment import granular_cytoplasm_of, meshwork_cytoplasm_of  # noqa: E402
from mmnst_path.classify._pigment_bodies import BODY_FEATURES  # noqa: E402
from mmnst_path.classify._pigment_granules import GRANULE_FEATURES  # noqa: E402
from mmnst_path.classify._pigment_reach_bodies import BOUNDED_FEATURES  # noqa: E402
from mmnst_path.classify.pigment import (  # noqa: E402
    CLASSES,
    PigmentFeatureSettings,
    pigment_feature_specs,
    pigment_features,
    resolve_pigment_model,
)
from mmnst_path.classify.train import train_model  # noqa: E402
from mmnst_path.synthetic import APPEARANCES, FAMILY_CHROMOGENS, PIGMENT_FAMILIES, pigment_family_tile  # noqa: E402

PRESETS = {"dab": "H-DAB", "aec": "H-AEC", "fast_red": "H-FastRed", "eosin": "H&E"}


def _sample(x: np.ndarray, y: np.ndarray, per_class: int, rng: np.random.Generator,
            hard: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``per_class`` rows of each class; half the background rows from ``hard`` pixels
    (chromogen-positive nuclei: what melanin is confused with) when there are any."""
    keep = []
    for k in (0, 1):
        idx = np.flatnonzero(y == k)
        if k == 0 and hard is not None and (y == 0).any():
            hidx = np.flatnonzero((y == 0) & hard)
            nh = min(per_class // 2, hidx.size)
            if nh:
                keep.append(rng.choice(hidx, size=nh, replace=False))
            idx = np.flatnonzero((y == 0) & ~hard)
            keep.append(rng.choice(idx, size=min(per_class - nh, idx.size), replace=False))
            continue
        if idx.size:
            keep.append(rng.choice(idx, size=min(per_class, idx.size), replace=False))
    sel = np.concatenate(keep) if keep else np.zeros(0, np.intp)
    return x[sel], y[sel]


def _share(x: np.ndarray, y: np.ndarray, share: float, key: tuple) -> tuple[np.ndarray, np.ndarray]:
    """``share`` of the rows, drawn without replacement from a stream of ``key`` (seed, family index, appearance)
    alone, in their order (the lower weight of the saturated-positive rows, ``--saturated-share``)."""
    seed, fam, app = key
    rng = np.random.default_rng([seed, fam, APPEARANCES.index(app) + 1 if app in APPEARANCES else 0, 30])
    keep = np.sort(rng.choice(len(y), size=round(share * len(y)), replace=False))
    return x[keep], y[keep]


def _mpp_of(seed: int, chromogen: str) -> float:
    """Pixel size of a generated training tile: even seeds 0.5 µm/px, odd 0.25 (a 40x scan); H&E
    tiles cycle through 0.5, 0.25 and 1.0 µm/px (10x H&E, as the osteosarcoma tiles)."""
    if chromogen == "eosin":
        return (0.5, 0.25, 1.0)[seed % 3]
    return 0.25 if seed % 2 else 0.5


def _he_gate(rgb: np.ndarray, mpp: float) -> np.ndarray:
    """The pixels the H&E gate lets the pixel model see (``classify_pigment`` with stains H&E)."""
    from mmnst_path.detect.pigment import pigment_gate

    return pigment_gate(rgb, mpp=mpp, stains="H&E")[0]


def generated_rows(seeds: range, settings: PigmentFeatureSettings, per_class: int, rng: np.random.Generator,
                   size: int, dab_extra: int = 0,
                   chromogens: tuple[str, ...] = FAMILY_CHROMOGENS,
                   appearances: tuple[str | None, ...] = (None,),
                   hard_negatives: bool = False, tan: bool = False,
                   clumps: bool = False, strength: str | None = None,
                   saturated: bool = False, granular: bool = False, saturated_share: float = 1.0,
                   meshwork: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Rows of every family x chromogen x seed x appearance (None: the chromogen's default);
    ``dab_extra`` more seeds for DAB (the chromogen melanin is nearest to), pixel sizes by
    :func:`_mpp_of`. H&E rows come from the H&E gate's pixels only (what the model sees in the
    pipeline); ``hard_negatives``: H&E tiles also hold lymphocytes, red cells and debris, and half of
    their background rows are the darkest non-melanin candidates. ``tan``: the DAB tiles of seeds
    4k+1 (0.25 µm/px) and 4k+2 (0.5 µm/px) also carry faint tan background staining (``pigment_family_tile(tan_background=True)``),
    whose pixels join the hard background rows. ``clumps``: every pigmented DAB family x seed x appearance once more
    with packed melanin masses and saturated DAB positives (``melanin_clumps=True, saturated_positives=True``).
    ``strength``: every DAB family x seed x appearance once more with ``pigment_family_tile(dab_strength=strength)``.
    ``saturated``: every DAB family x seed x appearance once more with near-black, saturated Ki67 positives
    (``saturated_positives=True``, no melanin added): their pixels join the hard background rows (session 29).
    ``granular``: every DAB family x seed x appearance once more with saturated positives and granular brown
    cytoplasm around them (:func:`mmnst_path._synthetic_pigment.granular_cytoplasm`, outside the melanin mask), the
    granules' pixels hard background rows too. ``saturated_share`` < 1: each ``saturated`` tile keeps this share of
    its rows (drawn from a stream of the tile alone, so every other row is as at 1; session 30). ``meshwork``: every
    DAB family x seed x appearance once more with brown meshwork cytoplasm filling the cells of its positives
    (:func:`mmnst_path._synthetic_pigment.meshwork_cytoplasm`), its pixels hard background rows (session 30)."""
    xs, ys = [], []
    for ch in chromogens:
        extra = range(seeds.stop, seeds.stop + dab_extra) if ch == "dab" else range(0)
        he = ch == "eosin"
        for fam in PIGMENT_FAMILIES:
            variants: list[dict] = [{}]  # the tile as rendered by default, then each opt-in rendering once more
            variants += [{"melanin_clumps": True, "saturated_positives": True}] if clumps and ch == "dab" and fam != "none" else []
            variants += [{"dab_strength": strength}] if strength and ch == "dab" else []
            variants += [{"saturated_positives": True}] if saturated and ch == "dab" else []
            variants += [{"saturated_positives": True, "granular": True}] if granular and ch == "dab" else []
            variants += [{"meshwork": True}] if meshwork and ch == "dab" else []
            for seed, appearance, variant in [(sd, a, v) for sd in [*seeds, *extra] for a in appearances for v in variants]:
                mpp = _mpp_of(seed, ch)
                kw = {k: v for k, v in variant.items() if k not in ("granular", "meshwork")}
                tile = pigment_family_tile(seed, fam, chromogen=ch, size=round(size * 0.5 / mpp), mpp=mpp,
                                           appearance=appearance if ch in ("dab", "eosin") else None,
                                           hard_negatives=hard_negatives and he,
                                           tan_background=tan and ch == "dab" and seed % 4 in (1, 2), **kw)
                rgb, spill = tile.rgb, None
                if variant.get("granular"):
                    rgb, spill = granular_cytoplasm_of(tile, seed)
                if variant.get("meshwork"):
                    rgb, spill = meshwork_cytoplasm_of(tile, seed)
                where = _he_gate(rgb, mpp) if he else None
                x, cand = pigment_features(rgb, mpp=tile.mpp, settings=settings, background=_background(rgb),
                                           where=where, names=ENDONUKE["names"])
                if not x.shape[0]:
                    continue
                y = tile.masks["melanin"][cand].astype(np.int64)
                if he:  # hard: the darker half of the background candidates
                    dark = x[:, 4] >= np.median(x[y == 0, 4]) if (y == 0).any() else None
                    x, y = _sample(x, y, per_class, rng, dark)
                else:
                    hard = tile.masks["positive_nuclei"]
                    if "tan_background" in tile.masks:
                        hard = hard | tile.masks["tan_background"]
                    if spill is not None:
                        hard = hard | spill
                    x, y = _sample(x, y, per_class, rng, hard[cand])
                    if variant == {"saturated_positives": True} and saturated_share < 1.0:
                        x, y = _share(x, y, saturated_share, (seed, PIGMENT_FAMILIES.index(fam), appearance))
                xs.append(x)
                ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


#: the osteosarcoma H&E tiles of ../shared/data/necrosis (TCIA, CC BY 3.0; 1 µm/px) the H&E pigment model
#: trains on with ``--osteo`` (the tissue model's training half, ``scripts/train_tissue_model.OSTEO_TRAIN``);
#: the other 8 are held out (``benchmarks/eval_pigment_he.py`` marks them)
HE_OSTEO_TRAIN = (
    "Non-Viable-Tumor___Case-3-A12-16067-9053_104.jpg",
    "Non-Viable-Tumor___Case-3-A17-16570-4475_110.jpg",
    "Viable___Case-4-C21-25306-21689_120.jpg",
    "Viable___Case-4-C27-32431-19828_114.jpg",
    "Non-Tumor___Case-3-A15-2939-11262_112.jpg",
    "Non-Tumor___Case-3-A17-7799-34542_102.jpg",
    "Non-Tumor___Case-3-A18-11012-16647_113.jpg",
)


def real_files(train: Path, chromogens: tuple[str, ...], osteo: Path | None = None,
               leave_out: tuple[str, ...] = ()) -> list[tuple[Path, float]]:
    """(file, µm/px) of the melanin-free real training tiles. H&E only (``chromogens == ("eosin",)``):
    Kather NCT-CRC-HE and Kather 2016 textures, every BRCA-M2C patch of the official *train* split
    and, with ``osteo``, the :data:`HE_OSTEO_TRAIN` tiles. Otherwise (the default and H-DAB models,
    as shipped): EndoNuke, Kather NCT-CRC-HE and every 4th BRCA-M2C patch."""
    if chromogens == ("eosin",):
        files: list[tuple[Path, float]] = []
        if "kather" not in leave_out:
            files += [(p, 0.5) for p in sorted((train / "kather_nct_crc_he").glob("*/*"))
                      if p.suffix in (".tif", ".png", ".jpg")]
            files += [(p, 0.331) for p in sorted((train / "kather_texture_2016").glob("*/*.png"))]
        if "brca_m2c" not in leave_out:
            split = (train / "brca_m2c" / "_meta" / "brca_ds_train.txt").read_text().split()
            files += [(train / "brca_m2c" / "mixed" / n, 0.5) for n in split
                      if (train / "brca_m2c" / "mixed" / n).exists()]
        if osteo is not None and "osteo" not in leave_out:
            files += [(osteo / n, 1.0) for n in HE_OSTEO_TRAIN]
        return files
    files = endonuke_files(train, ENDONUKE["parts"])
    files += [(p, 0.5) for p in sorted((train / "kather_nct_crc_he").glob("*/*"))
              if p.suffix in (".tif", ".png", ".jpg")]
    files += [(p, 0.5) for p in sorted((train / "brca_m2c" / "mixed").glob("*.png"))[::4]]
    return files


def _faint_band(rgb: np.ndarray, mpp: float, low: float) -> np.ndarray:
    """The pixels the H-DAB gate admits at ``model_min_od = low`` but not at the default: faint
    brown tissue a lowered gate would hand to the pixel model (``--faint-negatives``)."""
    from mmnst_path.detect.pigment import PigmentParams, pigment_gate

    params = PigmentParams()
    at_low = pigment_gate(rgb, mpp=mpp, stains="H-DAB", params=params, bodies=False, min_od=low)[0]
    at_default = pigment_gate(rgb, mpp=mpp, stains="H-DAB", params=params, bodies=False,
                              min_od=params.model_min_od)[0]
    return at_low & ~at_default


#: ``--faint-negatives LOW``: real background rows also from the band of :func:`_faint_band` (None: off)
FAINT = {"low": None}


def real_negative_rows(train: Path, settings: PigmentFeatureSettings, per_image: int,
                       rng: np.random.Generator, chromogens: tuple[str, ...] = FAMILY_CHROMOGENS,
                       osteo: Path | None = None,
                       leave_out: tuple[str, ...] = ()) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Background rows from melanin-free real tiles (:func:`real_files`): half at random, half from
    the darkest brown candidates (strong, granular DAB nuclei: what the generator renders too
    smoothly; on H&E dark lymphocytes, debris and keratin). H&E: the H&E gate's pixels only."""
    from PIL import Image

    he = chromogens == ("eosin",)
    xs = []
    used = []
    for f, mpp in real_files(train, chromogens, osteo, leave_out):
        rgb = np.asarray(Image.open(f).convert("RGB"))
        where = _he_gate(rgb, mpp) if he else None
        x, _ = pigment_features(rgb, mpp=mpp, settings=settings, background=_background(rgb), where=where,
                                names=ENDONUKE["names"])
        if not x.shape[0]:
            continue
        n = min(per_image // 2, x.shape[0])
        pick = [rng.choice(x.shape[0], size=n, replace=False)]
        # dark (log_od) and blue-poor (brown: low u_b share relative to neutral) candidates
        score = x[:, 4] - 2.0 * np.abs(x[:, 2] - x[:, 0] - 0.45)
        pick.append(np.argsort(score)[::-1][:n])
        if FAINT["low"] is not None and not he:  # faint brown tissue a lower gate would admit
            band = _faint_band(rgb, mpp, float(FAINT["low"]))
            _, cand_all = pigment_features(rgb, mpp=mpp, settings=settings, background=_background(rgb),
                                           names=["u_r"])
            rows = np.flatnonzero(band[cand_all])
            if rows.size:
                pick.append(rng.choice(rows, size=min(n, rows.size), replace=False))
        xs.append(x[np.concatenate(pick)])
        used.append(str(f.relative_to(train)) if f.is_relative_to(train) else f.name)
    x = np.concatenate(xs)
    return x, np.zeros(x.shape[0], np.int64), used



def he_card(args: argparse.Namespace, apps: tuple[str | None, ...], used: list[str]) -> dict:
    """Model card of the H&E pigment pixel model (``--chromogens eosin``)."""
    real = ("Kather NCT-CRC-HE-100K / CRC-VAL-HE-7K (Kather, Halama, Marx 2018, doi:10.5281/zenodo.1214456; "
            "Kather et al., PLoS Med 2019; CC BY 4.0; 0.5 µm/px) and Kather 2016 texture tiles (Kather et al., "
            "Sci Rep 2016, doi:10.1038/srep27988; CC BY 4.0; 0.331 µm/px as stored); BRCA-M2C official train "
            "split (Abousamra et al., ICCV 2021; BSD-3-Clause, Copyright (c) 2022 TopoXLab; 0.5 µm/px)")
    if args.osteo is not None:
        real += ("; osteosarcoma H&E, TCIA Osteosarcoma-Tumor-Assessment (Leavey et al. 2019, CC BY 3.0; 1 µm/px): "
                 + ", ".join(HE_OSTEO_TRAIN))
    return {
        "name": "mmnst_path H&E melanin pixel classifier",
        "version": args.version,
        "licence": "same as mmnst_path",
        "intended_use": ("melanin pigment pixels in H&E tiles at 0.25-1 µm/px, on the pixels of the H&E colour gate "
                         "(melanin lower bound over eosin hues >= colour_rim_od); features from RGB optical density "
                         "only"),
        "training_data": {
            "generated": (f"mmnst_path.synthetic.pigment_family_tile seeds 1000-{999 + args.seeds}, H&E, families "
                          f"{list(PIGMENT_FAMILIES)}, appearances {[a or 'plain' for a in apps]}"
                          f"{', with lymphocytes, red cells, debris, hyperchromatic nuclei and marking dye' if args.hard_negatives else ''}"
                          f", {args.size} px at 0.5 µm/px (seeds 3k), 0.25 µm/px (3k+1), 1 µm/px (3k+2), "
                          "generated by this project; label: the true melanin mask"),
            "real_negatives": real + (": all pixels background, half of the rows the darkest candidates"),
            "n_real_images": len(used),
            "held_out": ("BRCA-M2C val and test splits; osteosarcoma tiles not listed above; the H&E slides of "
                         "../shared/data/wsi"),
        },
        "attribution": ("Contains data from Kather et al. (CC BY 4.0), BRCA-M2C (BSD-3-Clause, (c) 2022 TopoXLab; "
                        "licence text in shared/train/brca_m2c/_meta/LICENSE)"
                        + ("; TCIA Osteosarcoma-Tumor-Assessment (CC BY 3.0)" if args.osteo is not None else "")),
        "not_trained_on": "the research-only Ki67 sets of ../shared/data/ki67",
        "script": "scripts/train_pigment_model.py --chromogens eosin",
        "features": ("pigment_feature_specs: hue, darkness, granularity and context columns, and "
                     + ("the bounded brown-body columns (body_*: the brown pixels within a Gaussian of body_um and "
                        "holes seen within hole_um; a finite reach, so tiled and one-tile results are the same)"
                        if args.bounded_bodies else "the whole brown-body columns (blob_*)")),
        "optical_density": "against 255",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--dab-extra", type=int, default=3, help="more generated seeds for DAB")
    ap.add_argument("--chromogens", nargs="+", default=list(FAMILY_CHROMOGENS), choices=FAMILY_CHROMOGENS,
                    help="generated stain systems (the shipped H-DAB model: --chromogens dab)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--per-class", type=int, default=1200)
    ap.add_argument("--per-real", type=int, default=600, help="background rows per real tile")
    ap.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    ap.add_argument("--out", type=Path, default=HERE.parent / "mmnst_path" / "models" / "pigment_default.mmnst")
    ap.add_argument("--bodies", action="store_true",
                    help="train the H-DAB brown-body model (pigment_dab_bodies.mmnst) instead")
    ap.add_argument("--trees", type=int, default=60, help="--bodies: forest size")
    ap.add_argument("--appearances", nargs="+", default=None, choices=APPEARANCES,
                    help="pigment_family_tile renderings of the DAB tiles (default: pixels the DAB default, "
                         "'varied'; --bodies 'varied' and 'plain')")
    ap.add_argument("--version", default="1", help="the model card's version")
    ap.add_argument("--clumps", action="store_true",
                    help="every pigmented DAB family also with packed melanin masses (melanin_clumps=True) "
                         "and saturated DAB positives (pixel and --bodies models; session 25)")
    ap.add_argument("--relative", action="store_true",
                    help="--bodies: also the body features read against the tile's own nuclei (rel_dark, rel_area, "
                         "sat_share; opt-in, mmnst_path.classify._pigment_relative)")
    ap.add_argument("--dab-strength", default=None, choices=("endonuke",),
                    help="every DAB family once more with pigment_family_tile(dab_strength=...) positives "
                         "(--bodies: every family x seed x appearance; pixel model: every DAB tile)")
    ap.add_argument("--dab-strength-families", nargs="+", default=None, choices=PIGMENT_FAMILIES,
                    help="--dab-strength: only these families (default: every family)")
    ap.add_argument("--dab-strength-appearances", nargs="+", default=None, choices=APPEARANCES,
                    help="--dab-strength: only these appearances (default: those of --appearances)")
    ap.add_argument("--saturated-positives", action="store_true",
                    help="every DAB family once more with near-black, saturated Ki67 positives and no added melanin "
                         "(pigment_family_tile(saturated_positives=True)): pixel model, their pixels hard "
                         "negatives; --bodies, round black DAB bodies (session 29)")
    ap.add_argument("--granular-cytoplasm", action="store_true",
                    help="pixel model: every DAB family once more with saturated positives and granular brown "
                         "cytoplasm around them (_synthetic_pigment.granular_cytoplasm), the granules hard negatives")
    ap.add_argument("--saturated-share", type=float, default=1.0, metavar="F",
                    help="pixel model, --saturated-positives: each saturated tile keeps this share of its rows (a "
                         "lower weight; session 30)")
    ap.add_argument("--meshwork-cytoplasm", action="store_true",
                    help="pixel model: every DAB family once more with brown meshwork cytoplasm filling the cells of "
                         "its positives (_synthetic_pigment.meshwork_cytoplasm), the meshwork hard negatives")
    ap.add_argument("--near-black", action="store_true",
                    help="--bodies: also the families of NEAR_BLACK_FAMILIES with near-black, saturated melanin")
    ap.add_argument("--white-point", action="store_true",
                    help="optical density against each tile's glass colour (estimate_white_point) instead of 255")
    ap.add_argument("--pixel-model", default="dab", help="--bodies: the pixel model the bodies are decided on")
    ap.add_argument("--hard-negatives", action="store_true",
                    help="H&E tiles with lymphocytes, red blood cells, karyorrhectic debris and hyperchromatic nuclei")
    ap.add_argument("--osteo", type=Path, default=None, metavar="DIR",
                    help="H&E only: also train on the HE_OSTEO_TRAIN osteosarcoma tiles of DIR "
                         "(../shared/data/necrosis) as real negatives")
    ap.add_argument("--leave-out", nargs="*", default=[], choices=("kather", "brca_m2c", "osteo"),
                    help="H&E only: real negative sources left out (leave-one-source-out checks)")
    ap.add_argument("--faint-negatives", type=float, default=None, metavar="LOW",
                    help="H-DAB: real background rows also from the faint brown band a gate at model_min_od=LOW "
                         "would admit beyond the default (an experiment: benchmarks/README 'DAB melanin')")
    ap.add_argument("--tan-background", action="store_true",
                    help="H-DAB: generated tiles also with faint tan background staining (pigment_family_tile("
                         "tan_background=True): the DAB tiles of seeds 4k+1 and 4k+2 for the pixel model, every family once more "
                         "for --bodies), the negative of faint melanin")
    ap.add_argument("--model-min-od", type=float, default=None, metavar="OD",
                    help="--bodies: the H-DAB gate's model_min_od the bodies are taken at (default: PigmentParams')")
    ap.add_argument("--add-evaluation", type=Path, default=None, metavar="JSON",
                    help="do not train: merge this JSON (benchmark figures) into the card of the model at --out "
                         "as card['evaluation'] and save it again")
    ap.add_argument("--endonuke-parts", nargs="+", default=None, choices=("train", "dev", "val"),
                    help="train only on these parts of the fixed EndoNuke split (scripts/_pigment_endonuke.py; "
                         "default: every tile, as shipped)")
    ap.add_argument("--no-granules", action="store_true",
                    help="pixel model: the columns without the granule ones (those of the shipped pigment_dab.mmnst)")
    ap.add_argument("--bounded-bodies", action="store_true",
                    help="pixel model: the bounded brown-body columns (body_*: a finite reach, tile-invariant) "
                         "instead of the whole-body ones (blob_*; session 38)")
    ap.add_argument("--mine-endonuke", type=int, default=0, metavar="N",
                    help="pixel model: up to N background rows a trained-on EndoNuke tile from the pixels --mine-model "
                         "calls melanin (hard negatives; session 28)")
    ap.add_argument("--mine-weight", type=int, default=1, help="--mine-endonuke: each mined row this many times")
    ap.add_argument("--mine-model", default="dab", help="--mine-endonuke: the pixel model whose false positives are mined")
    args = ap.parse_args()
    if args.mine_endonuke and not args.endonuke_parts:
        ap.error("--mine-endonuke needs --endonuke-parts (e.g. 'train dev'): mining every tile would train on the "
                 "held-out VAL split")
    if not 0.0 < args.saturated_share <= 1.0:
        ap.error(f"--saturated-share must lie in (0, 1], got {args.saturated_share}")
    WHITE_POINT["on"] = args.white_point
    ENDONUKE["parts"] = tuple(args.endonuke_parts) if args.endonuke_parts else None
    # the columns trained on: every one of pigment_feature_specs but the bounded body columns (as before they
    # existed), less the granule ones (--no-granules), the whole-body ones swapped for them (--bounded-bodies)
    names = [f.name for f in pigment_feature_specs(PigmentFeatureSettings()) if f.name not in BOUNDED_FEATURES]
    if args.no_granules:
        names = [name for name in names if name not in GRANULE_FEATURES]
    if args.bounded_bodies:
        names = [name for name in names if name not in BODY_FEATURES] + list(BOUNDED_FEATURES)
    ENDONUKE["names"] = names
    FAINT["low"] = args.faint_negatives
    if args.add_evaluation is not None:
        import json
        from dataclasses import replace

        from mmnst_path.classify import load_model

        model = load_model(args.out, kind="tissue")
        model.card["evaluation"] = json.loads(args.add_evaluation.read_text(encoding="utf-8"))
        replace(model).save(args.out)
        print(f"wrote {args.out} ({load_model(args.out).model_id})")
        return
    if args.bodies:
        train_bodies(args)
        return
    rng = np.random.default_rng(0)
    settings = PigmentFeatureSettings()
    t0 = time.perf_counter()
    chromogens = tuple(args.chromogens)
    apps = tuple(args.appearances or (None,))
    he = chromogens == ("eosin",)
    xg, yg = generated_rows(range(1000, 1000 + args.seeds), settings, args.per_class, rng, args.size,
                            dab_extra=args.dab_extra, chromogens=chromogens, appearances=apps,
                            hard_negatives=args.hard_negatives, tan=args.tan_background, clumps=args.clumps,
                            strength=args.dab_strength, saturated=args.saturated_positives,
                            granular=args.granular_cytoplasm, saturated_share=args.saturated_share,
                            meshwork=args.meshwork_cytoplasm)
    xr, yr, used = real_negative_rows(args.train, settings, args.per_real, rng, chromogens,
                                      args.osteo if he else None, tuple(args.leave_out))
    names = ENDONUKE["names"] or [f.name for f in pigment_feature_specs(settings)]
    if args.mine_endonuke:
        xm, mined_tiles = mined_rows(endonuke_files(args.train, ENDONUKE["parts"]), resolve_pigment_model(args.mine_model),
                                     names, settings, args.mine_endonuke, _background if args.white_point else None)
        print(f"mined {len(xm)} rows from {mined_tiles} EndoNuke tiles, each x{args.mine_weight}")
        xr = np.concatenate([xr, *[xm] * args.mine_weight])
        yr = np.zeros(len(xr), np.int64)
    xv, yv = generated_rows(range(2000, 2000 + (3 if he else 1)), settings, 600, rng, args.size,
                            chromogens=chromogens, appearances=apps, hard_negatives=args.hard_negatives,
                            tan=args.tan_background, clumps=args.clumps)
    x, y = np.concatenate([xg, xr]), np.concatenate([yg, yr])
    print(f"rows ({len(names)} columns): generated {len(yg)} ({int(yg.sum())} melanin), real negatives {len(yr)} from {len(used)} images, "
          f"validation {len(yv)}; features {time.perf_counter() - t0:.0f} s")
    card = he_card(args, apps, used) if he else {
        "name": ("mmnst_path H-DAB melanin pixel classifier" if chromogens == ("dab",)
                 else "mmnst_path default melanin pixel classifier"),
        "version": args.version,
        "licence": "same as mmnst_path",
        "intended_use": (f"melanin pigment pixels in {', '.join(PRESETS[c] for c in chromogens)} tiles at "
                         "0.25-0.5 µm/px (features from RGB optical density only)"),
        "training_data": {
            "generated": (f"mmnst_path.synthetic.pigment_family_tile seeds 1000-{999 + args.seeds} (DAB: "
                          f"1000-{999 + args.seeds + args.dab_extra}), families {list(PIGMENT_FAMILIES)} x "
                          f"{list(chromogens)}, DAB appearances {[a or 'varied' for a in apps]}, even seeds "
                          f"{args.size} px at 0.5 µm/px, odd seeds {2 * args.size} px at 0.25 µm/px (generated by "
                          "this project)"
                          + ("; the DAB tiles of seeds 4k+1 and 4k+2 with faint tan background staining (tan_background=True), "
                             "its pixels hard background rows" if args.tan_background else "")
                          + ("; every pigmented DAB family again with packed melanin masses and saturated DAB positives "
                             "(melanin_clumps=True, saturated_positives=True)" if args.clumps else "")
                          + ("; every DAB family x seed x appearance again with near-black saturated Ki67 positives "
                             "and no added melanin (saturated_positives=True), their pixels hard background rows"
                             if args.saturated_positives else "")
                          + (f" ({args.saturated_share:g} of each such tile's rows)"
                             if args.saturated_positives and args.saturated_share < 1.0 else "")
                          + ("; every DAB family x seed x appearance again with brown meshwork cytoplasm filling the "
                             "cells of its positives (_synthetic_pigment.meshwork_cytoplasm), the meshwork hard "
                             "background rows" if args.meshwork_cytoplasm else "")
                          + ("; every DAB family x seed x appearance again with saturated positives and granular brown "
                             "cytoplasm around them (_synthetic_pigment.granular_cytoplasm), the granules hard "
                             "background rows" if args.granular_cytoplasm else "")),
            "real_negatives": ("EndoNuke ER/PR IHC (Naumov et al., Data 2022, CC BY 4.0; mixed/ at 0.5 µm/px, "
                               "staining_ds/ at 0.25 µm/px) and Kather NCT-CRC-HE (Kather et al. 2018, CC BY 4.0): "
                               "all pixels background, half of the rows the darkest brown candidates; "
                               "BRCA-M2C H&E (Abousamra et al. 2021, BSD-3-Clause; every 4th patch, 0.5 µm/px)"),
            "n_real_images": len(used),
        },
        "features": ("pigment_feature_specs: hue, darkness, granularity, context and brown-body columns"
                     + (", and the granule columns of classify/_pigment_granules.py (the OD excess over the local "
                        "minimum: the granule's own hue and darkness; the density of OD maxima)"
                        if "gran_density" in names else "")),
        "not_trained_on": "the research-only Ki67 sets of ../shared/data/ki67 (used for the false-pigment check only)",
        "script": "scripts/train_pigment_model.py",
        "optical_density": "against each tile's glass colour" if args.white_point else "against 255",
    }
    if not he:
        card["training_data"].update(split_card(args, ENDONUKE["parts"]))
    specs = [f for f in pigment_feature_specs(settings) if f.name in names]
    model = train_model(x, y, kind="tissue", classes=CLASSES, features=specs,
                        settings=settings.to_mapping(), card=card, validation=(xv, yv), n_estimators=30,
                        max_depth=14, min_samples_leaf=8)
    path = model.save(args.out)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.0f} s")
    print("validation:", model.card.get("validation"))
    print("top features:", model.card.get("top_features"))


if __name__ == "__main__":
    main()
