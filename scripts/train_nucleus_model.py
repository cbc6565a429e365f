"""Train the shipped default nucleus (cell) classifier from permissively licensed data.

Usage::

    .venv/bin/python scripts/train_nucleus_model.py [--train ../shared/train] [--restain 4]
        [--out mmnst_path/models/nucleus_default.mmnst]

Training data (redistributable with attribution; see ``../shared/train/README.md``):
BRCA-M2C (Abousamra et al., ICCV 2021; BSD-3-Clause): H&E breast cancer at 20x (~0.5 µm/px),
points lymphocyte / tumour / stromal; official train + val split trains, test validates. The
default model serves Ki67 (hematoxylin-DAB) slides, so every training image is re-rendered as an
IHC image (:func:`restain_as_ihc`: its own hematoxylin, DAB painted into random nuclei of every
class, randomised stain vectors and optics): the model learns cell classes from shape, texture
and context whatever the DAB. Trained directly on the H&E rows, or with EndoNuke's endometrial
stroma (a dense, cellular stroma unlike tumour stroma), it excluded most tumour nuclei of strongly
stained Ki67 sets; see benchmarks/README.md.

Validation: BRCA-M2C test split (H&E and re-rendered), EndoNuke (Naumov et al., Data 2022;
CC BY 4.0; real ER/PR IHC, epithelium vs stroma; ``mixed/`` at ~0.5 µm/px, ``staining_ds/`` at
~0.25 µm/px judged from nucleus size and spacing), and the research-only Ki67 sets in
``../shared/data/ki67`` (validation figures only, never trained on).

Each image is analysed as the pipeline analyses a tile: the project's own nucleus detector on
the hematoxylin (+ DAB) planes, then :func:`mmnst_path.classify.nucleus_features`. A detection
takes the class of the annotated point it matches (one-to-one, within 4 µm); unmatched
detections are not used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(1 + len([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]), str(HERE.parent))  # after PYTHONPATH's trees

from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features  # noqa: E402
from mmnst_path.classify.train import class_report, match_points, train_model  # noqa: E402

sys.path.insert(0, str(HERE))
from _nucleus_restain import CHROMOGEN_PRESETS, MATCH_UM, MPP, POSITIVE_RATE, _core_weight, restain_as_ihc  # noqa: E402,F401
from _training_data import held_out, read_rgb, swap_chromogen  # noqa: E402

CLASSES = ("tumour", "lymphocyte", "stromal")
EDGE_UM = 6.0
#: where the IHC rows come from: "image" (the detector and the features on the image alone, its own
#: edges; models <= 1.2.0) or "runtime" (what ``analyze_region`` hands the cell model; set by --rows-path)
ROWS_PATH = "image"

ATTRIBUTION = [
    {"dataset": "EndoNuke", "licence": "CC BY 4.0 (data); Apache-2.0 (hosting repository ispras/endonet)",
     "citation": "Naumov A, et al. EndoNuke: Nuclei Detection Dataset for Estrogen and Progesterone Stained IHC "
                 "Endometrium Scans. Data 2022, 7(6), 75. doi:10.3390/data7060075",
     "use": "IHC nuclei, epithelium -> tumour, stroma -> stromal, other -> other"},
    {"dataset": "BRCA-M2C", "licence": "BSD-3-Clause, Copyright (c) 2022, TopoXLab",
     "citation": "Abousamra S, et al. Multi-Class Cell Detection Using Spatial Context Representation. ICCV 2021",
     "use": "H&E nuclei, tumour / lymphocyte / stromal"},
]


def image_rows(rgb: np.ndarray, points_rc: np.ndarray, point_cls: np.ndarray, *, ihc: bool,
               settings: NucleusFeatureSettings, hem_only: bool = False,
               preset: str = "H-DAB") -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the detected nuclei of one annotated image at 0.5 µm/px.

    ``preset``: the IHC stain matrix the image is separated with (the chromogen of a re-rendered
    image: ``H-DAB``, ``H-AEC`` or ``H-FastRed``), as the pipeline separates a tile of that preset.

    ``hem_only``: the features see the hematoxylin plane only (the chromogen still helps detect
    the nuclei), as :func:`mmnst_path.classify.cells.classify_cells` computes them for a model
    whose ``settings["nuclear_stain"]`` is ``"hematoxylin"``.
    """
    from mmnst_path.detect.nuclei import nuclei_from_stains
    from mmnst_path.stain import get_preset, separate_stains

    if ihc and ROWS_PATH == "runtime":  # the pipeline's detection and neighbour correction (_runtime_rows)
        from _runtime_rows import runtime_rows

        det, feats = runtime_rows(rgb, mpp=MPP, preset=preset, settings=settings, hem_only=hem_only)
        return _matched(det, feats, rgb.shape[:2], points_rc, point_cls)
    if ihc:
        matrix = get_preset(preset)
        conc = separate_stains(rgb, matrix, stains=(matrix.names[0], matrix.names[1]))
        hem, chrom = conc[..., 0], conc[..., 1]
    else:
        hem = separate_stains(rgb, get_preset("H&E"), stains=("hematoxylin",))[..., 0]
        chrom = None
    nuclei = nuclei_from_stains(hem, np.zeros_like(hem) if chrom is None else chrom, mpp=MPP, return_labels=True)
    if len(nuclei) == 0:
        return np.zeros((0, len(nucleus_feature_specs(settings))), np.float32), np.zeros(0, np.intp)
    feats = nucleus_features(nuclei.labels, hem, None if hem_only else chrom, mpp=MPP, settings=settings)
    return _matched(np.c_[nuclei.row, nuclei.col], feats, rgb.shape[:2], points_rc, point_cls)


@contextmanager
def rows_path(path: str) -> Iterator[None]:
    """Within the block, :func:`image_rows` extracts IHC rows by ``path`` (:data:`ROWS_PATH`); restored after."""
    global ROWS_PATH
    if path not in ("image", "runtime"):
        msg = f"rows_path: 'image' or 'runtime', got {path!r}"
        raise ValueError(msg)
    old, ROWS_PATH = ROWS_PATH, path
    try:
        yield
    finally:
        ROWS_PATH = old


def _matched(det: np.ndarray, feats: np.ndarray, shape: tuple[int, ...], points_rc: np.ndarray,
             point_cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the detections (px) matched to the annotated points, those within EDGE_UM of an edge left out."""
    if len(det) == 0:
        return feats[:0], np.zeros(0, np.intp)
    d, a = match_points(det, points_rc, MATCH_UM / MPP)
    edge = EDGE_UM / MPP
    m, n = shape[:2]
    inside = (det[d, 0] >= edge) & (det[d, 0] < m - edge) & (det[d, 1] >= edge) & (det[d, 1] < n - edge)
    return feats[d[inside]], point_cls[a[inside]]


def endonuke(root: Path, settings: NucleusFeatureSettings, hem_only: bool = False,
             swap: tuple[str, ...] = (), seed: int = 0) -> dict[str, list]:
    """Rows of EndoNuke (real ER/PR IHC): as scanned (H-DAB), or with ``swap`` the DAB of every
    image swapped for the chromogens of ``swap`` in turn (:func:`swap_chromogen`, separated with
    their presets)."""
    out: dict[str, list] = {"train": [], "val": [], "val_staining": []}
    mapping = {0: CLASSES.index("stromal"), 1: CLASSES.index("tumour"), 2: -1}  # "other" nuclei: not used
    scale = {"mixed": 1.0, "staining_ds": 0.5}  # staining_ds is ~0.25 µm/px (nuclei twice as large)
    rng = np.random.default_rng([seed, 4107])
    i_img = 0
    for sub in ("mixed", "staining_ds"):
        for txt in sorted((root / "endonuke" / sub).glob("*.txt")):
            img = txt.with_suffix(".png")
            if not img.is_file():
                continue
            pts = np.loadtxt(txt, ndmin=2)
            if pts.size == 0:
                continue
            cls = np.array([mapping[int(k)] for k in pts[:, 2]])
            rgb = read_rgb(img)
            f = scale[sub]
            if f != 1.0:
                from mmnst_path.io._resample import resize_area

                rgb = resize_area(rgb, (round(rgb.shape[0] * f), round(rgb.shape[1] * f)))
            preset = "H-DAB"
            if swap:
                chrom = swap[i_img % len(swap)]
                rgb, preset = swap_chromogen(rgb, chrom, rng), CHROMOGEN_PRESETS[chrom]
            i_img += 1
            x, y = image_rows(rgb, (pts[:, [1, 0]] + 0.5) * f - 0.5, cls, ihc=True, settings=settings,
                              hem_only=hem_only, preset=preset)
            rows = (x[y >= 0], y[y >= 0])
            key = "val_staining" if sub == "staining_ds" else ("val" if held_out(img.name, 0.2) else "train")
            out[key].append(rows)
    return out


def brca(root: Path, settings: NucleusFeatureSettings, restain: int = 0, seed: int = 0,
         positive_rate: float | None = None, hem_only: bool = False, hem_masking: float = 0.0,
         dab_core_um: float = 0.0, chromogens: tuple[str, ...] = ("dab",)) -> dict[str, list]:
    """Rows of BRCA-M2C: H&E as it is, and ``restain`` IHC re-renderings of every image.

    The k-th re-rendering of the i-th image takes chromogen ``chromogens[(i + k) % len]`` (no
    random draw, so ``("dab",)`` gives the images of model 1.1.0) and is separated with its preset.
    """
    meta = root / "brca_m2c" / "_meta"
    test = {line.strip() for line in (meta / "brca_ds_test.txt").read_text().split() if line.strip()}
    mapping = {1: CLASSES.index("lymphocyte"), 2: CLASSES.index("tumour"), 3: CLASSES.index("stromal")}
    out: dict[str, list] = {"train": [], "val": [], "train_ihc": [], "val_ihc": []}
    rng = np.random.default_rng(seed)
    for i_img, txt in enumerate(sorted((root / "brca_m2c" / "mixed").glob("*_gt_class_coords.txt"))):
        img = txt.with_name(txt.name.replace("_gt_class_coords.txt", ".png"))
        pts = np.loadtxt(txt, ndmin=2)
        if pts.size == 0 or not img.is_file():
            continue
        cls = np.array([mapping[int(k)] for k in pts[:, 2]])
        rgb = read_rgb(img)
        split = "val" if (img.stem in test or img.name in test) else "train"
        out[split].append(image_rows(rgb, pts[:, :2], cls, ihc=False, settings=settings))
        for k in range(restain):
            chrom = chromogens[(i_img + k) % len(chromogens)]
            ihc = restain_as_ihc(rgb, pts[:, :2], cls, rng, positive_rate, hem_masking, dab_core_um, chrom)
            out[split + "_ihc"].append(image_rows(ihc, pts[:, :2], cls, ihc=True, settings=settings,
                                                  hem_only=hem_only, preset=CHROMOGEN_PRESETS[chrom]))
    return out


GENERATED_CLASS = {"tumour": "tumour", "lymphocyte": "lymphocyte", "stromal": "stromal", "macrophage": "stromal"}


#: first seed of the generated spindle-cell tumour tiles (``--generated-spindle``); the benchmarks
#: use seeds 0-99 and the nest tiles 10000 on
SPINDLE_FIRST_SEED = 20_000
#: first seed of the generated lymphocyte-infiltrate tiles (``--infiltrate``; seeds 2000-2199 are reserved
#: for training, the benchmarks' dev and gate seeds lie below 2000)
INFILTRATE_FIRST_SEED = 2_000
INFILTRATE_LAST_SEED = 2_199


def generated(n_tiles: int, settings: NucleusFeatureSettings, first_seed: int = 10_000,
              hem_only: bool = False, swap: tuple[str, ...] = (), tumour: str = "nest",
              lymphocytes: str = "scattered") -> list:
    """Rows of generated Ki67 tiles (:func:`mmnst_path.synthetic_ki67.ki67_cells_tile`).

    Tumour nuclei of every DAB grade (negative to saturated), lymphocytes, stromal spindles and
    macrophages (taught as stromal: not tumour) under random stain vectors, optics and white
    balance. Seeds ``first_seed`` onwards (the benchmark ``eval_ki67_cells.py`` uses 0-99).
    ``tumour="spindle"``: the tumour is fascicles of spindle cells beside a paucicellular stroma
    (the spindle tumour nuclei are taught as tumour). ``lymphocytes="infiltrate"``: the lymphocytes
    are packed aggregates, peritumoural bands and lone ones (touching, squeezed into the nest's edge,
    some activated), labelled from the generator's truth as the other classes are.
    """
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    out = []
    rng = np.random.default_rng([first_seed, 4108])
    for k, seed in enumerate(range(first_seed, first_seed + n_tiles)):
        tile = (ki67_cells_tile(seed, tumour=tumour) if lymphocytes == "scattered"
                else ki67_cells_tile(seed, tumour=tumour, lymphocytes=lymphocytes))
        cells = tile.truth["cells"]
        cls = np.array([CLASSES.index(GENERATED_CLASS[str(t)]) for t in cells["cell_type"]], dtype=np.intp)
        rgb, preset = tile.rgb, "H-DAB"
        if swap:  # the tile's DAB swapped for a red chromogen (its truth carries over)
            chrom = swap[k % len(swap)]
            rgb, preset = swap_chromogen(rgb, chrom, rng), CHROMOGEN_PRESETS[chrom]
        out.append(image_rows(rgb, np.c_[cells["row"], cells["col"]], cls, ihc=True, settings=settings,
                              hem_only=hem_only, preset=preset))
    return out


INTENSITY_FEATURES = ("od_mean", "od_std", "od_max", "od_fine", "ring_od", "contrast", "rel_od")


def borrowed_intensity(x: np.ndarray, y: np.ndarray, donor_x: np.ndarray, donor_y: np.ndarray,
                       names: list[str], rng: np.random.Generator) -> np.ndarray:
    """``x`` with its stain-intensity columns taken from random donor rows of the same class.

    EndoNuke's endometrial stroma is dense and dark: trained as it is, it teaches "dark nucleus =
    stroma" and the model excludes strongly stained tumour nuclei. With the intensity columns
    (:data:`INTENSITY_FEATURES`) borrowed from the re-rendered BRCA-M2C rows of the same class, its
    rows teach only shape and context.
    """
    out = x.copy()
    cols = [names.index(n) for n in INTENSITY_FEATURES if n in names]
    for k in np.unique(y):
        rows, donors = np.flatnonzero(y == k), np.flatnonzero(donor_y == k)
        if len(donors):
            pick = donors[rng.integers(0, len(donors), len(rows))]
            out[np.ix_(rows, cols)] = donor_x[np.ix_(pick, cols)]
    return out


def _stack(parts: list) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.intp)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _decided(model, x: np.ndarray) -> np.ndarray:
    from mmnst_path.classify.cells import types_from_proba

    types, _ = types_from_proba(model, model.predict_proba(x))
    return np.array([CLASSES.index(str(t)) for t in types], dtype=np.intp)


def ki67_validation(model_path: Path, ki67_root: Path) -> dict:
    """Index error and tumour-nucleus F1 on the research-only Ki67 sets (validation only)."""
    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    import accuracy

    accuracy.CELL_MODEL = str(model_path)
    out = {}
    for name in ("bcdata", "shidc", "deepliif"):
        folder = ki67_root / name
        if not folder.is_dir():
            continue
        mpp = accuracy.dataset_mpp(folder)
        rows = [accuracy.evaluate(it, accuracy.measure_pipeline(it.rgb, mpp), mpp)
                for it in accuracy.load_dataset(folder)]
        s = accuracy.summarize(rows)
        out[name] = {"images": int(s["images"]), "index_mae_pp": round(float(s["mae_pp"]), 2),
                     "pearson_r": round(float(s["pearson_r"]), 3), "tumour_f1": round(float(s["tumour_f1"]), 3),
                     "detection_f1": round(float(s["f1"]), 3)}
        print(f"ki67 {name}: {out[name]}", file=sys.stderr)
    return out


ROW_KEYS = ("en_train", "en_val", "en_val_staining", "br_train_ihc", "br_val_ihc", "br_val", "gen")


def extract_rows(args: argparse.Namespace, settings: NucleusFeatureSettings) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Feature rows and labels of every split (from ``args.rows_cache`` when it matches the options)."""
    options = json.dumps({"features": settings.to_mapping(), "nuclear_stain": args.nuclear_stain,
                          **({"rows_path": ROWS_PATH} if ROWS_PATH != "image" else {}),
                          "restain": args.restain, "seed": args.seed, "positive_rate": args.positive_rate,
                          "generated": args.generated, "train": str(args.train.resolve()),
                          "hem_masking": args.hem_masking,
                          **({"dab_core_um": args.dab_core_um} if args.dab_core_um > 0 else {}),
                          **({"chromogens": list(args.chromogens)} if tuple(args.chromogens) != ("dab",) else {}),
                          **({"swap": list(args.swap)} if args.swap else {})},
                         sort_keys=True)
    cache = args.rows_cache
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            if str(z["options"]) == options:
                print(f"feature rows from {cache}", file=sys.stderr)
                return {k: (z[k + "_x"], z[k + "_y"]) for k in ROW_KEYS}
        print(f"{cache} was written with other options: extracting again", file=sys.stderr)
    t0 = time.time()
    hem_only = args.nuclear_stain == "hematoxylin"
    swap = tuple(args.swap)
    en = endonuke(args.train, settings, hem_only, swap=swap, seed=args.seed)
    br = brca(args.train, settings, restain=args.restain, seed=args.seed, positive_rate=args.positive_rate,
              hem_only=hem_only, hem_masking=args.hem_masking, dab_core_um=args.dab_core_um,
              chromogens=tuple(args.chromogens))
    gen = generated(args.generated, settings, hem_only=hem_only, swap=swap) if args.generated else []
    print(f"features in {time.time() - t0:.0f} s", file=sys.stderr)
    width = len(nucleus_feature_specs(settings))
    rows = {"en_train": en["train"], "en_val": en["val"], "en_val_staining": en["val_staining"],
            "br_train_ihc": br["train_ihc"], "br_val_ihc": br["val_ihc"], "br_val": br["val"], "gen": gen}
    out = {}
    for k, parts in rows.items():
        x, y = _stack(parts)
        out[k] = (x.reshape(-1, width).astype(np.float32), y.astype(np.intp))
    if cache is not None:
        np.savez(cache, options=np.array(options), **{f"{k}_{a}": v for k, xy in out.items() for a, v in zip("xy", xy,
                                                                                                         strict=True)})
    return out


def _extra_rows(args: argparse.Namespace, settings: NucleusFeatureSettings, kind: str, n_tiles: int,
                first_seed: int, **family) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``n_tiles`` generated tiles of one family (``family``: ``generated``'s tumour / lymphocytes
    options; the DAB swapped as ``--swap`` says), cached beside ``args.rows_cache`` (``<stem>_<kind>.npz``)
    so the other rows' cache stays valid."""
    options = json.dumps({"features": settings.to_mapping(), "nuclear_stain": args.nuclear_stain,
                          **({"rows_path": ROWS_PATH} if ROWS_PATH != "image" else {}),
                          ("generated_spindle" if kind == "spindle" else kind): n_tiles, "first_seed": first_seed,
                          "swap": list(args.swap)}, sort_keys=True)
    cache = None if args.rows_cache is None else args.rows_cache.with_name(args.rows_cache.stem + f"_{kind}.npz")
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            if str(z["options"]) == options:
                print(f"{kind} feature rows from {cache}", file=sys.stderr)
                return z["x"], z["y"]
    parts = generated(n_tiles, settings, first_seed=first_seed, hem_only=args.nuclear_stain == "hematoxylin",
                      swap=tuple(args.swap), **family)
    x, y = _stack(parts)
    x = x.reshape(-1, len(nucleus_feature_specs(settings))).astype(np.float32)
    y = y.astype(np.intp)
    if cache is not None:
        np.savez(cache, options=np.array(options), x=x, y=y)
    return x, y


def spindle_rows(args: argparse.Namespace, settings: NucleusFeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``args.generated_spindle`` generated spindle-cell tumour tiles (seeds :data:`SPINDLE_FIRST_SEED` on)."""
    return _extra_rows(args, settings, "spindle", args.generated_spindle, SPINDLE_FIRST_SEED, tumour="spindle")


def infiltrate_rows(args: argparse.Namespace, settings: NucleusFeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``args.infiltrate`` generated lymphocyte-infiltrate tiles (``ki67_cells_tile(lymphocytes=
    "infiltrate")``, seeds :data:`INFILTRATE_FIRST_SEED` on)."""
    n = args.infiltrate
    if not 0 < n <= INFILTRATE_LAST_SEED - INFILTRATE_FIRST_SEED + 1:
        raise ValueError(f"infiltrate must be 1-{INFILTRATE_LAST_SEED - INFILTRATE_FIRST_SEED + 1} tiles "
                         f"(seeds {INFILTRATE_FIRST_SEED}-{INFILTRATE_LAST_SEED}), got {n}")
    return _extra_rows(args, settings, "infiltrate", n, INFILTRATE_FIRST_SEED, lymphocytes="infiltrate")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=Path, default=HERE.parent.parent / "shared" / "train")
    ap.add_argument("--ki67", type=Path, default=HERE.parent.parent / "shared" / "data" / "ki67",
                    help="research-only Ki67 sets: VALIDATION figures for the card (never trained on)")
    ap.add_argument("--out", type=Path, default=HERE.parent / "mmnst_path" / "models" / "nucleus_default.mmnst")
    ap.add_argument("--trees", type=int, default=60)
    ap.add_argument("--min-leaf", type=int, default=8)
    ap.add_argument("--restain", type=int, default=4, help="IHC re-renderings of each BRCA-M2C training image")
    ap.add_argument("--tumour-min-probability", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--nuclear-cap-od", type=float, default=0.0,
                    help="cap the nuclear stain (hematoxylin + DAB) at this OD before the features (0 = no cap)")
    ap.add_argument("--positive-rate", type=float, default=None,
                    help="share of nuclei painted DAB-positive, the same for every class (default: by class, "
                         "tumour 0.4 / lymphocyte 0.1 / stromal 0.08, the 1.0.0 recipe)")
    ap.add_argument("--generated", type=int, default=0,
                    help="also train on this many generated Ki67 tiles (synthetic_ki67: tumour nuclei of every DAB "
                         "grade, lymphocytes, stromal spindles, macrophages as stromal)")
    ap.add_argument("--generated-spindle", type=int, default=0,
                    help="also train on this many generated spindle-cell tumour tiles (ki67_cells_tile "
                         "tumour='spindle', seeds 20000 on: fascicles of spindle tumour nuclei taught as tumour, "
                         "thin sparse fibroblasts as stromal)")
    ap.add_argument("--infiltrate", type=int, default=0,
                    help="also train on this many generated lymphocyte-infiltrate tiles (ki67_cells_tile "
                         "lymphocytes='infiltrate', seeds 2000 on, at most 200: packed aggregates, peritumoural "
                         "bands, lymphocytes squeezed into the nest's edge, activated ones; labelled from the "
                         "generator's truth)")
    ap.add_argument("--spindle-repeat", type=int, default=1,
                    help="the generated spindle-tumour rows enter the training set this many times (a weight)")
    ap.add_argument("--endonuke-train", action="store_true",
                    help="also train on EndoNuke's train split (real IHC: epithelium as tumour, stroma as stromal); "
                         "its held-out split and staining_ds stay validation")
    ap.add_argument("--endonuke-intensity", choices=("own", "borrowed"), default="own",
                    help="with --endonuke-train: keep EndoNuke's own stain-intensity features or borrow them from "
                         "re-rendered BRCA-M2C rows of the same class (EndoNuke then teaches shape and context only)")
    ap.add_argument("--arrangement", action="store_true",
                    help="also the two arrangement features (nbr_align: orientation agreement with the neighbours, "
                         "rel_elong: elongation relative to them; NucleusFeatureSettings.arrangement)")
    ap.add_argument("--nuclear-stain", choices=("all", "hematoxylin"), default="all",
                    help="what the intensity / texture features see: hematoxylin + chromogen (all, models <= 1.1.0) "
                         "or hematoxylin only (chromogen-blind; stored as settings['nuclear_stain'])")
    ap.add_argument("--hem-masking", type=float, default=0.0,
                    help="re-rendered IHC: remove up to this share of a positive nucleus' hematoxylin, more the "
                         "darker its DAB (the chromogen hides the counterstain; 0 = none, model 1.1.0)")
    ap.add_argument("--dab-core-um", type=float, default=0.0,
                    help="re-rendered IHC: confine each positive nucleus' chromogen to its core, U(0, this) µm "
                         "inside the outline (a hematoxylin rim; the detector then outlines positives tighter, as "
                         "on real strong positives); 0 = the whole nucleus (model 1.1.0)")
    ap.add_argument("--chromogens", nargs="+", choices=sorted(CHROMOGEN_PRESETS), default=["dab"],
                    help="chromogens the BRCA-M2C re-renderings take in turn (each separated with its preset: "
                         "the model then serves H-DAB, H-AEC and H-FastRed); default dab (model 1.1.0)")
    ap.add_argument("--swap", nargs="*", choices=sorted(set(CHROMOGEN_PRESETS) - {"dab"}), default=[],
                    help="swap the DAB of the EndoNuke images and of the generated tiles for these red chromogens "
                         "in turn (swap_chromogen: real morphology and labels, red chromogen; separated with their "
                         "presets): a model for red Ki67 chromogens (e.g. nucleus_red.mmnst)")
    ap.add_argument("--name", default="mmnst_path default nucleus classifier (IHC)", help="model name in the card")
    ap.add_argument("--drop-features", nargs="*", default=[], metavar="NAME",
                    help="feature columns the model does not use ('intensity' = the stain-intensity columns "
                         f"{', '.join(INTENSITY_FEATURES)}); the model file names the columns it reads")
    ap.add_argument("--rows-cache", type=Path, default=None,
                    help="npz of the extracted feature rows: read when it was written with the same feature "
                         "options, else written (to train several forests from one extraction)")
    ap.add_argument("--version", default="1.0.0", help="model version written into the card")
    ap.add_argument("--rows-path", choices=("image", "runtime"), default="image",
                    help="IHC rows from the image alone (its own edges; models <= 1.2.0) or through the run-time "
                         "path (analyze_region: its white-margin detection and tile-read neighbour correction)")
    args = ap.parse_args(argv)
    if not 0 <= args.infiltrate <= INFILTRATE_LAST_SEED - INFILTRATE_FIRST_SEED + 1:
        ap.error(f"--infiltrate: 0-{INFILTRATE_LAST_SEED - INFILTRATE_FIRST_SEED + 1} tiles, got {args.infiltrate}")
    global ROWS_PATH
    ROWS_PATH = args.rows_path
    settings = NucleusFeatureSettings(nuclear_cap_od=args.nuclear_cap_od, arrangement=args.arrangement)
    all_names = [f.name for f in nucleus_feature_specs(settings)]
    drop = {n for d in args.drop_features for n in (INTENSITY_FEATURES if d == "intensity" else (d,))}
    unknown = sorted(drop - set(all_names))
    if unknown:
        ap.error(f"--drop-features: no feature column named {unknown} (columns: {', '.join(all_names)})")
    keep = np.array([i for i, n in enumerate(all_names) if n not in drop], np.intp)
    rows = extract_rows(args, settings)
    parts = [rows["br_train_ihc"]]
    if args.generated:
        parts.append(rows["gen"])
        print(f"generated rows: {len(rows['gen'][1])}", file=sys.stderr)
    if args.generated_spindle:
        parts += [spindle_rows(args, settings)] * args.spindle_repeat
        print(f"generated spindle-tumour rows: {len(parts[-1][1])} (x{args.spindle_repeat})", file=sys.stderr)
    if args.infiltrate:
        parts.append(infiltrate_rows(args, settings))
        print(f"generated infiltrate rows: {len(parts[-1][1])}", file=sys.stderr)
    if args.endonuke_train:
        if args.endonuke_intensity == "borrowed":
            donor_x, donor_y = rows["br_train_ihc"]
            ex, ey = rows["en_train"]
            parts.append((borrowed_intensity(ex, ey, donor_x, donor_y, all_names, np.random.default_rng(args.seed)),
                          ey))
        else:
            parts.append(rows["en_train"])
    x_tr, y_tr = _stack(parts)
    x_tr = x_tr[:, keep]
    endo_val = [rows["en_val"], rows["en_val_staining"], *([] if args.endonuke_train else [rows["en_train"]])]
    splits = {"brca_m2c_test_restained_ihc": rows["br_val_ihc"], "brca_m2c_test_he": rows["br_val"],
              "endonuke_ihc_real": _stack(endo_val)}
    splits = {k: (xs[:, keep] if xs.shape[1] == len(all_names) else xs, ys) for k, (xs, ys) in splits.items()}
    painted = ("tumour 40 %, lymphocyte 10 %, stromal 8 %, unmatched 20 %" if args.positive_rate is None
               else f"{100 * args.positive_rate:g} % of every class")
    card = {
        "name": args.name,
        "version": args.version,
        "licence": "BSD-3-Clause (the model); training data licences and attribution below",
        "intended_use": "Hematoxylin-DAB (Ki67) brightfield sections analysed at 0.5 µm/px, nuclei from the "
                        "project's detector: tells tumour nuclei from lymphocytes and stromal nuclei so the Ki67 "
                        "index counts tumour cells only. Positivity is never decided by this model.",
        "decision": f"a nucleus is tumour unless P(tumour) < {args.tumour_min_probability}; then the more "
                    "probable of lymphocyte / stromal",
        "limitations": ("No macrophage or 'other' class (no redistributable labelled data"
                        + ("; generated macrophages are taught as stromal" if args.generated else "") + "). "
                        + ("Trained on breast "
                           "carcinoma H&E re-rendered as hematoxylin-DAB (BRCA-M2C), so spindle-shaped tumour cells "
                           "(e.g. spindle melanocytic / nerve sheath tumours) may be called stromal: check with "
                           "cell_model = 'none' or train on your own annotations (mmnst-path train cells)."
                           if not args.generated_spindle else
                           "Spindle tumour cells are learned from generated tiles only (no redistributable labelled "
                           "real spindle-cell tumour); the price is that real stromal nuclei are often counted as "
                           "tumour (see the stromal recall of the validation splits): on tissue with much stroma, "
                           "check with a tumour region (count_in = 'tumour') or train on your own annotations "
                           "(mmnst-path train cells).")),
        "training_data": [ATTRIBUTION[1], *(ATTRIBUTION[:1] if args.endonuke_train else [])],
        "validation_data": [*([] if args.endonuke_train else ATTRIBUTION[:1]), {"dataset": "BCData, SHIDC-B-Ki-67, DeepLIIF sample",
                                                "licence": "research / evaluation only: validation, never trained on"}],
        "training_recipe": f"BRCA-M2C official train+val split; each image re-rendered {args.restain}x as "
                           "hematoxylin-DAB (hematoxylin plane kept, eosin faint, DAB painted into a random subset of "
                           f"nuclei of every class ({painted}) at 0.1-2 OD with cytoplasmic spill, stain vectors "
                           "rotated <= 6°, blur, noise, white balance, JPEG); detections matched one-to-one to the "
                           f"annotated points within {MATCH_UM} µm; nuclei within {EDGE_UM} µm of an image edge left "
                           "out" + (f"; nuclear stain capped at {args.nuclear_cap_od} OD before the features"
                                    if args.nuclear_cap_od > 0 else "")
                           + (f"; plus {args.generated} generated Ki67 tiles (mmnst_path.synthetic_ki67, seeds "
                              "10000 on: tumour nuclei negative to saturated DAB, lymphocytes, stromal spindles, "
                              "macrophages as stromal)" if args.generated else "")
                           + (f"; plus {args.generated_spindle} generated spindle-cell tumour tiles (rows entered "
                              f"{args.spindle_repeat}x) "
                              "(ki67_cells_tile tumour='spindle', seeds 20000 on: fascicles of plump hyperchromatic "
                              "spindle nuclei as tumour, sparse thin fibroblasts as stromal)"
                              if args.generated_spindle else "")
                           + (f"; plus {args.infiltrate} generated lymphocyte-infiltrate tiles (ki67_cells_tile "
                              "lymphocytes='infiltrate', seeds 2000 on: packed lymphoid aggregates, peritumoural "
                              "bands spilling between the tumour cells, lymphocytes squeezed into the nest's edge, "
                              "3-15 % activated, all taught as lymphocyte; tumour, stroma and macrophages as in "
                              "the generated tiles)" if args.infiltrate else "")
                           + ("; plus EndoNuke's train split (real ER/PR IHC: epithelium as tumour, stroma as "
                              "stromal; 'other' unused" + (", stain-intensity features borrowed from re-rendered "
                              "BRCA-M2C rows of the same class)" if args.endonuke_intensity == "borrowed" else ")")
                              if args.endonuke_train else ""),
    }
    specs = nucleus_feature_specs(settings)
    model_settings: dict = {"features": settings.to_mapping(), "analysis_mpp_um": MPP, "stains": "H-DAB"}
    if args.nuclear_stain == "hematoxylin":  # absent in models whose features see hematoxylin + chromogen
        model_settings["nuclear_stain"] = "hematoxylin"
    if drop:
        card["training_recipe"] += ("; feature columns left out (the model reads the others by name): "
                                    + ", ".join(n for n in all_names if n in drop))
    if args.dab_core_um > 0:
        card["training_recipe"] += (f"; a re-rendered positive nucleus' chromogen confined to its core, 0-"
                                    f"{args.dab_core_um:g} µm inside the outline (hematoxylin rim)")
    if tuple(args.chromogens) != ("dab",):
        card["training_recipe"] += ("; the re-renderings take the chromogens " + ", ".join(args.chromogens)
                                    + " in turn, each separated with its preset ("
                                    + ", ".join(CHROMOGEN_PRESETS[c] for c in args.chromogens) + ")")
        model_settings["stains"] = [CHROMOGEN_PRESETS[c] for c in args.chromogens]
        card["intended_use"] = card["intended_use"].replace(
            "Hematoxylin-DAB (Ki67)", "Hematoxylin + " + " / ".join(c.replace("_", " ").upper() if c != "fast_red"
                                                                   else "Fast Red" for c in args.chromogens)
            + " (Ki67)")
    if args.swap:
        card["training_recipe"] += ("; the DAB of every EndoNuke image and generated tile swapped for "
                                    + " / ".join(args.swap) + " in turn (separated with the H-DAB preset, recomposed "
                                    "with the red vector, both vectors turned <= 6°, hematoxylin x0.8-1.25, chromogen "
                                    "x0.6-1.6, blur, JPEG), so real morphology and labels carry over; EndoNuke "
                                    "validation figures are on swapped images too")
    if args.rows_path == "runtime":
        card["training_recipe"] += ("; IHC rows through the run-time path (analyze_region's detection, white past "
                                    "the image's edge, and its neighbour correction to the tile read)")
    if args.hem_masking > 0:
        card["training_recipe"] += (f"; up to {args.hem_masking:g} of a re-rendered positive nucleus' hematoxylin "
                                    "removed, more the darker its DAB")
    if args.nuclear_stain == "hematoxylin":
        card["training_recipe"] += "; intensity and texture features from the hematoxylin plane only"
    model = train_model(x_tr, y_tr, kind="nucleus", classes=CLASSES, features=tuple(specs[i] for i in keep),
                        settings={**model_settings,
                                  "decision": {"tumour_min_probability": args.tumour_min_probability}},
                        card=card, n_estimators=args.trees, min_samples_leaf=args.min_leaf,
                        random_state=args.seed)
    per_split = {}
    for name, (xs, ys) in splits.items():
        if len(ys):
            pred = _decided(model, xs)
            per_split[name] = class_report(ys, pred, CLASSES)
            # what the Ki67 index uses: tumour (counted) vs any other class (excluded); EndoNuke has no
            # lymphocyte label, so its stroma called "lymphocyte" is a 3-class error but a right exclusion
            per_split[name]["tumour_vs_rest_accuracy"] = round(float(np.mean((pred == 0) == (ys == 0))), 4)
    model.card["validation"] = {"per_split": per_split}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    if args.ki67.is_dir():
        model.card["validation"]["ki67_research_sets"] = ki67_validation(args.out, args.ki67)
        model.__dict__.pop("model_id", None)  # the card changed: the content hash is computed again
        model.save(args.out)
    print(f"trained on {len(y_tr)} nuclei {model.card['training_counts']}", file=sys.stderr)
    for name, rep in per_split.items():
        pc = rep["per_class"]
        print(f"{name}: acc {rep['accuracy']:.3f} tumour-vs-rest {rep['tumour_vs_rest_accuracy']:.3f} " + " ".join(
            f"{c}:P{pc[c]['precision']:.2f}/R{pc[c]['recall']:.2f}(n={pc[c]['support']})" for c in CLASSES
            if pc[c]["support"]), file=sys.stderr)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {model.model_id})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
