"""The training recipe of ``scripts/train_tissue_model.py`` (split from it in session 29; imported by it, which puts
the project and ``scripts/`` on ``sys.path``): the sources and their seeds, rows and augmented copies, their
attribution, and :func:`feature_rows`, every training / validation row in the order ``main`` trains on them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from _context_maps import ImageMap
from _tissue_blocks import (
    BRCA_MPP,
    CLASSES,
    KERATIN_CLASSES,
    PURE_SHARE,
    _image_rows,
    augment,
    brca_labels,
    tile_maps,
)
from _training_data import BRCA_M2C, held_out, read_rgb

from mmnst_path.classify._image_reference import image_reference
from mmnst_path.classify.tissue_features import TissueFeatureSettings

HERE = Path(__file__).resolve().parent

NCT = {"ADI": "fat", "BACK": "background", "DEB": "necrosis", "LYM": "inflammatory", "MUC": "mucin",
       "MUS": "stroma", "NORM": "tumour", "STR": "stroma", "TUM": "tumour"}
K16 = {"01_TUMOR": "tumour", "02_STROMA": "stroma", "03_COMPLEX": "stroma", "04_LYMPHO": "inflammatory",
       "06_MUCOSA": "tumour", "07_ADIPOSE": "fat", "08_EMPTY": "background"}
K16_DEBRIS = {"image_14_label_4.png": "mucin", "image_17_label_4.png": "mucin", "image_29_label_4.png": "mucin",
              "image_36_label_4.png": "mucin", "image_61_label_4.png": "mucin", "image_73_label_4.png": "mucin",
              "image_88_label_4.png": "blood"}
OSTEO_TRAIN = {
    "Non-Viable-Tumor___Case-3-A12-16067-9053_104.jpg": "necrosis",
    "Non-Viable-Tumor___Case-3-A17-16570-4475_110.jpg": "necrosis",
    "Viable___Case-4-C21-25306-21689_120.jpg": "tumour",
    "Viable___Case-4-C27-32431-19828_114.jpg": "tumour",
    "Non-Tumor___Case-3-A15-2939-11262_112.jpg": "stroma",
    "Non-Tumor___Case-3-A17-7799-34542_102.jpg": "stroma",
    "Non-Tumor___Case-3-A18-11012-16647_113.jpg": "stroma",
}
SYNTH_SEEDS = (100, 101, 102, 103, 104, 105)
#: seeds of the generated H&E tissue tiles (``synthetic_tissue.he_tissue_tile``: tumour, stroma, lymphocyte
#: aggregates, necrosis of many appearances); odd seeds at 1 µm/px, even at 0.5 µm/px. Evaluation uses seeds
#: 1000-1039 (benchmarks/eval_necrosis.py --synthetic), tests 950-959.
TISSUE_SEEDS = tuple(range(400, 496))
#: seeds of the generated keratinising squamous carcinoma tiles (``synthetic_tissue.he_keratin_tile``); odd seeds
#: at 1 µm/px, even at 0.5 µm/px (evaluation: seeds 900-911 in benchmarks/eval_necrosis.py --keratin, tests 950-952)
KERATIN_SEEDS = tuple(range(200, 212))
#: rows per copy of a keratin tile (x --rows). Tried: 1x read the TCGA slide 7.6-8.5 % necrotic; keratin-only rows
#: made every generated tumour keratin (Dice 0.17-0.75); 4x (with 48 trees) is the best (model card of a
#: --keratin model, benchmarks/eval_necrosis.py --keratin)
KERATIN_ROWS = 4
#: seeds of the generated necrosis-mimic tiles (``synthetic_tissue.he_mimic_tile``: dense / hyalinised collagen
#: with clefts, oedema, packed / sludged / lysed blood, mucin, keratin, fat, viable tumour, and coagulative / dirty /
#: liquefactive / dense necrosis); odd seeds at 1 µm/px, even at 0.5 µm/px. Evaluation uses seeds 1100-1139
#: (benchmarks/eval_necrosis.py --synthetic), tests 960-969. Their rows and augmented copies draw from their own
#: generator (seed 1307) after every other source, so the rows of the other sources do not change.
MIMIC_SEEDS = tuple(range(700, 796))
#: feature rows per copy (x --rows) and augmented copies, where they differ from 1-4 rows and --aug: the real
#: osteosarcoma tiles weigh more (--osteo-rows); the sample recipe (dense-eosin necrosis with debris) less, as more
#: of it made keratinising squamous carcinoma read necrotic (TCGA slide 6 % instead of 3 %); the generated tissue
#: tiles (already randomised) two row sets and two augmented copies
ROWS_FACTOR = {"osteosarcoma": 8, "sample_recipe": 2, "tissue": 2, "brca_m2c": 1, "keratin": KERATIN_ROWS, "mimic": 2,
               "wavy": 2, "rim": 2, "oedema": 2, "matrix": 2, "clefted": 2, "dense": 2}
AUG = {"sample_recipe": 4, "tissue": 2, "brca_m2c": 3, "keratin": 2, "mimic": 2, "wavy": 2, "rim": 2, "oedema": 2,
       "matrix": 2, "clefted": 2, "dense": 2}
#: seeds of the generated H&E tissue tiles with wavy stroma (``he_tissue_tile(..., stroma_kind="wavy")``: short wavy,
#: weakly oriented or unoriented collagen labelled stroma; ``--wavy-tiles``, #13 session 22); odd seeds at 1 µm/px,
#: even at 0.5 µm/px. Not the evaluation's he_tissue_tile seeds (1000-1039) nor the tests' (950-959). Their rows and
#: augmented copies draw from their own generator (seed 1311) after every other source.
WAVY_SEEDS = tuple(range(1200, 1248))
#: seeds of the generated H&E tissue tiles with irregular necrosis borders (``he_tissue_tile(...,
#: necrosis_border="irregular")``: viable tumour interdigitating with necrosis, a transition zone of dying cells;
#: ``--rim-tiles``, #13 session 23) and with loose oedematous stroma (``stroma_kind="oedema"``; ``--oedema-tiles``);
#: odd seeds at 1 µm/px, even at 0.5 µm/px; rim tiles cycle the necrosis layouts geographic / comedo / islands with
#: ``seed // 2``. Their held-out dev seeds (``benchmarks/experiments/tissue_recipe_proxy.py``) are 1360-1369 and
#: 1460-1469. Rows and augmented copies draw from their own generators (1313, 1317) after every other source.
RIM_SEEDS = tuple(range(1300, 1348))
OEDEMA_SEEDS = tuple(range(1400, 1448))
#: seeds of the generated H&E tissue tiles with dense pink stromal matrix (``stroma_kind="matrix"``: short random
#: fibres on an eosinophilic ground, small vessels, sparse spindle nuclei; ``--matrix-tiles``) and with coarse clefted
#: collagen (``stroma_kind="clefted"``; ``--clefted-tiles``), #13 session 24; odd seeds at 1 µm/px, even at 0.5 µm/px.
#: Held-out dev seeds (``benchmarks/experiments/tissue_recipe_proxy.py``) 1560-1569 and 1660-1669. Rows and
#: augmented copies draw from their own generators (1319, 1321) after the oedema tiles.
MATRIX_SEEDS = tuple(range(1500, 1548))
CLEFTED_SEEDS = tuple(range(1600, 1648))
#: seeds of the generated tiles where dense eosinophilic necrosis and collagen share one eosin level
#: (``mmnst_path._synthetic_dense.he_dense_necrosis_tile``; ``--dense-tiles``, #13 session 37); odd seeds at 1 µm/px,
#: even at 0.5 µm/px. Rows and augmented copies draw from their own generator (1323) after the clefted tiles.
DENSE_SEEDS = tuple(range(1700, 1748))
RIM_LAYOUTS = ("geographic", "comedo", "islands")
#: with --intensity-aug, extra copies of a source's training images with both stains scaled by ONE factor drawn from
#: [low, high] (count, low, high): pale viable breast carcinoma and dark osteosarcoma (necrotic, viable and normal
#: tiles alike), so that the overall staining intensity stops deciding necrosis. Diagnosed 2026-12-03: the viable
#: BRCA-M2C test patches read necrotic (S3-A6ZH 99 %) sit at log10 OD -0.42 at 30 µm, as the osteosarcoma necrosis
#: rows (-0.46), while the BRCA-M2C tumour rows sit at -0.18; their colour ratios, nuclear density and texture
#: match both. Drawn from their own generator (seed 1301) after the other copies, so the other rows do not change.
INTENSITY_AUG = {"brca_m2c": (2, 0.35, 0.7), "osteosarcoma": (2, 1.3, 2.0)}
#: (seed, necrotic eosin OD, necrotic fraction, µm/px) of the sample_tiles recipe tiles that train (not with
#: --held-out-recipe)
SAMPLE_RECIPE = ((600, 0.15, 0.3, 0.5), (601, 0.25, 0.45, 1.0), (602, 0.35, 0.4, 0.5), (603, 0.45, 0.35, 1.0),
                 (604, 0.55, 0.5, 0.5), (605, 0.3, 0.3, 1.0))

ATTRIBUTION = [
    {"dataset": "NCT-CRC-HE-100K / CRC-VAL-HE-7K", "licence": "CC BY 4.0",
     "citation": "Kather JN, Halama N, Marx A. 100,000 histological images of human colorectal cancer and healthy "
                 "tissue (v0.1). Zenodo 2018, doi:10.5281/zenodo.1214456; Kather JN, Krisam J, et al. PLoS Med "
                 "16(1): e1002730, 2019",
     "use": "26 tiles at 0.5 µm/px: ADI fat, BACK background, DEB necrosis, LYM inflammatory, MUC mucin, MUS/STR "
            "stroma, NORM/TUM tumour"},
    {"dataset": "Kather 2016 colorectal textures", "licence": "CC BY 4.0",
     "citation": "Kather JN, Weis CA, Bianconi F, et al. Multi-class texture analysis in colorectal cancer histology. "
                 "Sci Rep 6, 27988 (2016), doi:10.1038/srep27988; data doi:10.5281/zenodo.53169",
     "use": "95 tiles (~0.331 µm/px, upsampled copies): TUMOR/MUCOSA tumour, STROMA/COMPLEX stroma, LYMPHO "
            "inflammatory, ADIPOSE fat, EMPTY background; DEBRIS tiles relabelled by eye: 6 mucin, 1 blood, "
            "5 left out"},
    {"dataset": "Osteosarcoma-Tumor-Assessment (TCIA)", "licence": "CC BY 3.0",
     "citation": "Leavey P, Sengupta A, Rakheja D, et al. Osteosarcoma data from UT Southwestern/UT Dallas for "
                 "Viable and Necrotic Tumor Assessment. The Cancer Imaging Archive, 2019, "
                 "doi:10.7937/tcia.2019.bvhjhdas",
     "use": "7 of the 15 tiles in the project's evaluation folder trained (tile label -> every tissue block): "
            + ", ".join(sorted(OSTEO_TRAIN)) + "; the other 8 validate"},
    {"dataset": "mmnst_path.synthetic.he_necrosis_tile (generated by this project)", "licence": "BSD-3-Clause",
     "use": f"seeds {list(SYNTH_SEEDS)}: necrosis / tumour / background from the generator's masks"},
    {"dataset": "sample_tiles/generate.py he_necrosis_tile (generated by this project)", "licence": "BSD-3-Clause",
     "use": f"seeds {[r[0] for r in SAMPLE_RECIPE]} (the bundled tile is seed 505; evaluation uses 505-543): "
            "necrosis, tumour, collagen stroma, background from the recipe's layout"},
    {**BRCA_M2C,
     "use": "the 90 train / val patches at 0.5 µm/px: region labels from the tumour / stromal / lymphocyte points "
            "(tumour, stroma, inflammatory where lymphocytes are dense); the official test split (30) validates"},
    {"dataset": "mmnst_path.synthetic_tissue.he_tissue_tile (generated by this project)", "licence": "BSD-3-Clause",
     "use": f"seeds {TISSUE_SEEDS[0]}-{TISSUE_SEEDS[-1]}: tumour, stroma, lymphocyte aggregates, necrosis (pale to "
            "hypereosinophilic, ghost nuclei, karyorrhexis, haemorrhage), background from the generator's masks"},
    {"dataset": "mmnst_path.synthetic_tissue.he_mimic_tile (generated by this project)", "licence": "BSD-3-Clause",
     "use": f"seeds {MIMIC_SEEDS[0]}-{MIMIC_SEEDS[-1]}: necrosis mimics as not-necrosis (dense / hyalinised collagen "
            "with clefts and oedema as stroma, packed / sludged / lysed blood, mucin, keratin, fat), viable tumour, "
            "and coagulative / dirty / liquefactive / dense hypereosinophilic necrosis (eosin hue drawn from "
            "magenta-pink to red-pink, haemoglobin orange-red >= 12 deg from it), from the generator's masks"},
    {"dataset": "mmnst_path._synthetic_wavy.wavy_stroma in generated H&E tissue tiles (generated by this project)",
     "licence": "BSD-3-Clause",
     "use": f"he_tissue_tile(stroma_kind='wavy') seeds {WAVY_SEEDS[0]}-{WAVY_SEEDS[-1]}: short wavy, weakly oriented or "
            "unoriented collagen (dense bundles with clefts or a loose fine mesh, pale to bright eosin, sparse spindle / "
            "wavy nuclei) as stroma, beside tumour, lymphocyte aggregates and necrosis, from the generator's masks"},
    {"dataset": "mmnst_path._synthetic_rim in generated H&E tissue tiles (generated by this project)",
     "licence": "BSD-3-Clause",
     "use": f"he_tissue_tile(necrosis_border='irregular') seeds {RIM_SEEDS[0]}-{RIM_SEEDS[-1]}: necrosis with irregular, "
            "interdigitating borders and a transition zone of dying hypereosinophilic cells with pyknotic / "
            "karyorrhectic nuclei and ghost cells, beside viable tumour, stroma and lymphocyte aggregates, from the "
            "generator's masks"},
    {"dataset": "mmnst_path._synthetic_oedema in generated H&E tissue tiles (generated by this project)",
     "licence": "BSD-3-Clause",
     "use": f"he_tissue_tile(stroma_kind='oedema') seeds {OEDEMA_SEEDS[0]}-{OEDEMA_SEEDS[-1]}: loose oedematous "
            "stroma (pale wispy widely spaced fibres, clear space, sparse stellate / spindle nuclei) as stroma, "
            "beside tumour, lymphocyte aggregates and necrosis, from the generator's masks"},
    {"dataset": "mmnst_path._synthetic_matrix.matrix_stroma in generated H&E tissue tiles (generated by this project)",
     "licence": "BSD-3-Clause",
     "use": f"he_tissue_tile(stroma_kind='matrix') seeds {MATRIX_SEEDS[0]}-{MATRIX_SEEDS[-1]}: dense pink stromal "
            "matrix (short randomly oriented fibres, narrow slits, small vessels with red cells, sparse spindle "
            "nuclei) as stroma, beside tumour, lymphocyte aggregates and necrosis, from the generator's masks"},
    {"dataset": "mmnst_path._synthetic_matrix.clefted_stroma in generated H&E tissue tiles (generated by this project)",
     "licence": "BSD-3-Clause",
     "use": f"he_tissue_tile(stroma_kind='clefted') seeds {CLEFTED_SEEDS[0]}-{CLEFTED_SEEDS[-1]}: coarse collagen "
            "bundles separated by white clefts, flat nuclei, a few small vessels, as stroma, beside tumour, lymphocyte "
            "aggregates and necrosis, from the generator's masks"},
    {"dataset": "mmnst_path._synthetic_dense.he_dense_necrosis_tile (generated by this project)",
     "licence": "BSD-3-Clause",
     "use": f"seeds {DENSE_SEEDS[0]}-{DENSE_SEEDS[-1]}: dense eosinophilic coagulative necrosis (smooth mottled sheet, "
            "ghost outlines, karyorrhectic fragments, dust) and fibrous collagen (clefts, oedema, sparse spindle nuclei) "
            "drawn at one eosin level per tile, beside viable tumour; stain vectors, stain amount and camera drawn per "
            "tile; from the generator's masks"},
    {"dataset": "mmnst_path.synthetic_tissue.he_keratin_tile (generated by this project)", "licence": "BSD-3-Clause",
     "use": f"seeds {KERATIN_SEEDS[0]}-{KERATIN_SEEDS[-1]}: keratin pearls / squames, squamous tumour, stroma, "
            "background (glass, marker ink, dust) from the generator's masks"},
]


def sources(train: Path, osteo: Path, *, keratin: bool = False, sample_recipe: bool = True, brca: bool = False,
            tissue_tiles: bool = False) -> Iterator[tuple[str, str, np.ndarray, float, np.ndarray | str, bool]]:
    """(source, name, rgb, mpp, label, held_out) of every training / validation image (the optional sources
    only when their flag is set; the mimic tiles are :func:`mimic_sources`)."""
    from mmnst_path import synthetic, synthetic_tissue

    for nct_class, label in NCT.items():
        files = sorted((train / "kather_nct_crc_he" / nct_class).glob("*.*"))
        for p in files:
            yield "nct", p.name, read_rgb(p), 0.5, label, len(files) >= 3 and held_out(p.name, 0.25)
    for folder in sorted((train / "kather_texture_2016").glob("0*")):
        for p in sorted(folder.glob("*.png")):
            k16 = K16.get(folder.name) or K16_DEBRIS.get(p.name)
            if k16 is None:
                continue
            yield "kather2016", f"{folder.name}/{p.name}", read_rgb(p), 0.331, k16, held_out(p.name, 0.25)
    for name, osteo_class in OSTEO_TRAIN.items():
        yield "osteosarcoma", name, read_rgb(osteo / name), 1.0, osteo_class, False
    for seed in SYNTH_SEEDS:
        mpp = 1.0 if seed % 2 else 0.5
        t = synthetic.he_necrosis_tile(seed, size=384 if mpp == 1.0 else 640, mpp=mpp,
                                       necrosis_fraction=0.25 + 0.06 * (seed - 100), angle_deg=4.0)
        lab = np.where(t.masks["necrosis"], CLASSES.index("necrosis"), CLASSES.index("tumour"))
        lab[~t.masks["tissue"]] = CLASSES.index("background")
        yield "synthetic", f"seed{seed}", t.rgb, mpp, lab, False
    for seed in KERATIN_SEEDS if keratin else ():
        mpp = 1.0 if seed % 2 else 0.5
        kt = synthetic_tissue.he_keratin_tile(seed, size=384 if mpp == 1.0 else 640, mpp=mpp)
        lab = np.full(kt.rgb.shape[:2], -1, np.int64)
        for name in ("stroma", "tumour", "keratin", "background"):
            lab[kt.masks[name]] = KERATIN_CLASSES.index(name)
        yield "keratin", f"seed{seed}", kt.rgb, mpp, lab, False
    if sample_recipe:
        yield from _sample_recipe_tiles()
    for seed in TISSUE_SEEDS if tissue_tiles else ():
        mpp = 1.0 if seed % 2 else 0.5
        tt = synthetic_tissue.he_tissue_tile(seed, size=384 if mpp == 1.0 else 640, mpp=mpp)
        lab = np.full(tt.rgb.shape[:2], -1, np.int64)
        for name in ("tumour", "stroma", "inflammatory", "necrosis", "background"):
            lab[tt.masks[name]] = CLASSES.index(name)
        yield "tissue", f"seed{seed}", tt.rgb, mpp, lab, False
    root = train / "brca_m2c"
    test_names = set((root / "_meta" / "brca_ds_test.txt").read_text().split()) if brca else set()
    for p in sorted((root / "mixed").glob("*.png")) if brca else ():
        rgb = read_rgb(p)
        lab = brca_labels(rgb, np.loadtxt(p.with_name(p.stem + "_gt_class_coords.txt"), ndmin=2), BRCA_MPP)
        yield "brca_m2c", p.name, rgb, BRCA_MPP, lab, p.name in test_names


def wavy_sources(kind: str = "wavy") -> Iterator[tuple[str, str, np.ndarray, float, np.ndarray, bool]]:
    """(source, name, rgb, mpp, label, held_out) of the generated tissue tiles with wavy stroma (``--wavy-tiles``),
    or with ``kind`` ``"rim"`` (irregular necrosis borders, :data:`RIM_SEEDS`), ``"oedema"`` (oedematous stroma,
    :data:`OEDEMA_SEEDS`), ``"matrix"`` (:data:`MATRIX_SEEDS`), ``"clefted"`` (:data:`CLEFTED_SEEDS`) or ``"dense"``
    (:data:`DENSE_SEEDS`, :func:`mmnst_path._synthetic_dense.he_dense_necrosis_tile`)."""
    from mmnst_path import synthetic_tissue
    from mmnst_path._synthetic_dense import he_dense_necrosis_tile

    seeds = {"wavy": WAVY_SEEDS, "rim": RIM_SEEDS, "oedema": OEDEMA_SEEDS, "matrix": MATRIX_SEEDS,
             "clefted": CLEFTED_SEEDS, "dense": DENSE_SEEDS}
    for seed in seeds[kind]:
        mpp = 1.0 if seed % 2 else 0.5
        size = 384 if mpp == 1.0 else 640
        if kind == "dense":
            tt = he_dense_necrosis_tile(seed, size=size, mpp=mpp)
        elif kind == "rim":
            tt = synthetic_tissue.he_tissue_tile(seed, size=size, mpp=mpp, necrosis=RIM_LAYOUTS[(seed // 2) % 3],
                                                 necrosis_border="irregular")
        else:
            tt = synthetic_tissue.he_tissue_tile(seed, size=size, mpp=mpp, stroma_kind=kind)
        lab = np.full(tt.rgb.shape[:2], -1, np.int64)
        for name in ("tumour", "stroma", "inflammatory", "necrosis", "background"):
            if name in tt.masks:  # the dense tiles have no lymphocyte aggregates
                lab[tt.masks[name]] = CLASSES.index(name)
        yield kind, f"seed{seed}", tt.rgb, mpp, lab, False


def mimic_sources() -> Iterator[tuple[str, str, np.ndarray, float, np.ndarray, bool]]:
    """(source, name, rgb, mpp, label, held_out) of the generated necrosis-mimic tiles (``--mimic-tiles``);
    collagen and oedema are ``stroma``, keratin its own class (:data:`KERATIN_CLASSES`)."""
    from mmnst_path import synthetic_tissue

    for seed in MIMIC_SEEDS:
        mpp = 1.0 if seed % 2 else 0.5
        mt = synthetic_tissue.he_mimic_tile(seed, size=384 if mpp == 1.0 else 640, mpp=mpp)
        lab = np.full(mt.rgb.shape[:2], -1, np.int64)
        for name in ("tumour", "stroma", "necrosis", "fat", "mucin", "blood", "keratin", "background"):
            lab[mt.masks[name]] = KERATIN_CLASSES.index(name)
        yield "mimic", f"seed{seed}", mt.rgb, mpp, lab, False


def _sample_recipe_tiles() -> Iterator[tuple[str, str, np.ndarray, float, np.ndarray, bool]]:
    gen = _sample_generator()
    for seed, eosin, fraction, mpp in SAMPLE_RECIPE:
        rgb, truth = gen.he_necrosis_tile(seed, eosin=eosin, angle_deg=4.0, fraction=fraction)
        rng = np.random.default_rng(seed)  # the recipe's own first draws: stain vectors, then the layout
        gen.perturb(gen.H_REF, 4.0, rng)
        gen.perturb(gen.EOSIN_REF, 4.0, rng)
        tissue, tumour = gen.tissue_layout(rng, 0.10)
        assert np.array_equal(tissue, truth["masks"]["tissue"]), "sample recipe layout changed"
        nec = truth["masks"]["necrosis"]
        lab = np.where(tumour, CLASSES.index("tumour"), CLASSES.index("stroma"))
        lab[nec] = CLASSES.index("necrosis")
        lab[~tissue] = CLASSES.index("background")
        if mpp == 1.0:
            n = rgb.shape[0] // 2
            rgb = np.rint(rgb.reshape(n, 2, n, 2, 3).mean((1, 3))).astype(np.uint8)
            lab = lab[::2, ::2]
        yield "sample_recipe", f"seed{seed}", rgb, mpp, lab, False


def _sample_generator():
    import importlib.util

    path = HERE.parent / "sample_tiles" / "generate.py"
    spec = importlib.util.spec_from_file_location("_sample_tiles_generate", path)
    assert spec is not None
    assert spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen
    spec.loader.exec_module(gen)
    return gen


def _uses(dataset: str, args: argparse.Namespace) -> bool:
    """Whether the ATTRIBUTION entry ``dataset`` trains with these options."""
    optional = {"sample_tiles/": not args.held_out_recipe, "BRCA-M2C": args.brca,
                "he_tissue_tile": args.tissue_tiles, "he_keratin_tile": args.keratin,
                "he_mimic_tile": args.mimic_tiles, "_synthetic_wavy": getattr(args, "wavy_tiles", False),
                "_synthetic_rim": getattr(args, "rim_tiles", False),
                "_synthetic_oedema": getattr(args, "oedema_tiles", False),
                "matrix_stroma": getattr(args, "matrix_tiles", False),
                "clefted_stroma": getattr(args, "clefted_tiles", False),
                "he_dense_necrosis_tile": getattr(args, "dense_tiles", False)}
    return all(flag for key, flag in optional.items() if key in dataset)


def feature_rows(args: argparse.Namespace, settings: TissueFeatureSettings, *, intensity_only: bool = False,
                 maps: list[ImageMap] | None = None, levels: list[tuple[float, int]] | None = None,
                 shares: list[np.ndarray] | None = None) -> Iterator[tuple[str, str, np.ndarray, np.ndarray, bool]]:
    """(source, image name, feature rows, class indices, held out) of every training / validation image and
    augmented copy, as ``main`` trains on them (``args`` as parsed by :func:`parser`; the random draws of
    the augmentation and the row selection come from one generator seeded 13, in this order, those of the
    ``--intensity-aug`` copies from another). ``intensity_only``: only the ``--intensity-aug`` copies.
    ``maps``: a list that receives every image's :class:`ImageMap` (the whole feature map, for
    ``--auto-context``). ``levels``: a list that receives, per image yielded (before it is), its own
    reference level (``settings.image_reference``; NaN without) and its copy index (0 = the original). ``shares``:
    a list that receives, per image yielded, its rows' block shares (``tile_maps``; only for the rows of the
    sources of :func:`sources`, not the mimic and intensity copies)."""
    rng = np.random.default_rng(13)
    rng_int = np.random.default_rng(1301)
    rows_factor = {**ROWS_FACTOR, "osteosarcoma": args.osteo_rows}
    min_share = getattr(args, "min_share", PURE_SHARE)
    for src, name, rgb, mpp, label, held in sources(args.train, args.osteo, keratin=args.keratin,
                                                    sample_recipe=not args.held_out_recipe, brca=args.brca,
                                                    tissue_tiles=args.tissue_tiles):
        if intensity_only or getattr(args, "extra_only", False):
            break
        n = args.rows * rows_factor.get(src, 4 if rgb.shape[0] * rgb.shape[1] * mpp * mpp > 1e5 else 1)
        copies = [(rgb, mpp)] + [augment(rgb, mpp, rng) for _ in range(1 if held else AUG.get(src, args.aug))]
        for copy, (img, m) in enumerate(copies):
            ref = image_reference(img, mpp=m, eps_od=settings.eps_od) if settings.image_reference else None
            if levels is not None:
                levels.append((ref.level if ref is not None else float("nan"), copy))
            got: list[tuple[np.ndarray, np.ndarray]] | None = [] if maps is not None else None
            yield _image_rows(src, name, held,
                              tile_maps(img, m, label, settings, rng, n, ref, min_share, shares, got), maps, got)
    if getattr(args, "mimic_tiles", False) and not intensity_only:
        yield from _mimic_rows(args, settings, maps)
    if getattr(args, "wavy_tiles", False) and not intensity_only:
        yield from _wavy_rows(args, settings, maps, shares)
    for kind, seed in (("rim", 1313), ("oedema", 1317), ("matrix", 1319), ("clefted", 1321), ("dense", 1323)):
        if getattr(args, f"{kind}_tiles", False) and not intensity_only:
            yield from _wavy_rows(args, settings, maps, shares, kind=kind, seed=seed)
    if getattr(args, "recipe_border", 0) and not intensity_only and not args.held_out_recipe:
        yield from _recipe_border_rows(args.recipe_border, settings, shares)
    if not (args.intensity_aug or intensity_only) or getattr(args, "extra_only", False):
        return
    # second pass: the intensity copies after every other row
    for src, name, rgb, mpp, label, held in sources(args.train, args.osteo, keratin=args.keratin,
                                                    sample_recipe=not args.held_out_recipe, brca=args.brca,
                                                    tissue_tiles=args.tissue_tiles):
        if held or src not in INTENSITY_AUG:
            continue
        n = args.rows * rows_factor.get(src, 4 if rgb.shape[0] * rgb.shape[1] * mpp * mpp > 1e5 else 1)
        count, lo, hi = INTENSITY_AUG[src]
        for _ in range(count):
            img, m = augment(rgb, mpp, rng_int, (lo, hi))
            yield _image_rows(src, name, held, tile_maps(img, m, label, settings, rng_int, n), maps)


def _mimic_rows(args: argparse.Namespace, settings: TissueFeatureSettings, maps: list[ImageMap] | None = None
                ) -> Iterator[tuple[str, str, np.ndarray, np.ndarray, bool]]:
    """The rows of the mimic tiles and their augmented copies (generator seeded 1307, see ``MIMIC_SEEDS``)."""
    rng = np.random.default_rng(1307)
    n = args.rows * ROWS_FACTOR["mimic"]
    for src, name, rgb, mpp, label, held in mimic_sources():
        for img, m in [(rgb, mpp)] + [augment(rgb, mpp, rng) for _ in range(AUG["mimic"])]:
            yield _image_rows(src, name, held, tile_maps(img, m, label, settings, rng, n), maps)


def _wavy_rows(args: argparse.Namespace, settings: TissueFeatureSettings, maps: list[ImageMap] | None = None,
               shares: list[np.ndarray] | None = None, *, kind: str = "wavy", seed: int = 1311
               ) -> Iterator[tuple[str, str, np.ndarray, np.ndarray, bool]]:
    """The rows of the wavy-stroma tiles (or of ``kind`` rim / oedema / matrix / clefted, :func:`wavy_sources`) and their
    augmented copies (generator seeded ``seed``: 1311 for wavy, see ``WAVY_SEEDS``), with ``--min-share`` as the other
    pixel-labelled sources."""
    rng = np.random.default_rng(seed)
    n = args.rows * ROWS_FACTOR[kind]
    min_share = getattr(args, "min_share", PURE_SHARE)
    for src, name, rgb, mpp, label, held in (wavy_sources() if kind == "wavy" else wavy_sources(kind)):
        for img, m in [(rgb, mpp)] + [augment(rgb, mpp, rng) for _ in range(AUG[kind])]:
            yield _image_rows(src, name, held, tile_maps(img, m, label, settings, rng, n, None, min_share, shares),
                              maps)


def _recipe_border_rows(k: int, settings: TissueFeatureSettings, shares: list[np.ndarray] | None = None
                        ) -> Iterator[tuple[str, str, np.ndarray, np.ndarray, bool]]:
    """``--recipe-border K``: every border block of the sample-recipe originals (no augmented copies), i.e. the
    blocks whose majority class covers 0.5-0.99 of them, labelled by that class, K times each, as source
    ``recipe_border`` (the rows of ``benchmarks/experiments/tissue_recipe_proxy.py border-rows``; no random draws)."""
    for _src, name, rgb, mpp, label, _held in _sample_recipe_tiles():
        got: list[np.ndarray] = []
        feats, sel, y, _ = tile_maps(rgb, mpp, label, settings, np.random.default_rng(0), 10**9, None, 0.5, got)
        border = got[0] < PURE_SHARE
        x = feats.reshape(-1, feats.shape[-1])[sel[border]]
        for _ in range(k):
            if shares is not None:
                shares.append(got[0][border])
            yield "recipe_border", name, x, y[border], False
