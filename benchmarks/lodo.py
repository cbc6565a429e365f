"""Leave-one-dataset-out (LODO) validation of the shipped learned IHC models.

Usage::

    nice -n 10 .venv/bin/python benchmarks/lodo.py [--models nucleus tissue pigment] [--out /tmp/h4]
        [--nucleus-trees 60] [--tissue-trees 24] [--pigment-trees 30] [--quick]

For every model (``nucleus_default``, ``tissue_ihc_default``, ``pigment_dab``) the training rows
of its script (``scripts/train_*_model.py``, whose functions are imported, not copied) are
collected once per source, tagged with the source and a held-out flag, and cached under
``OUT/cache``. Then the model is retrained with the script's recipe on all training rows
("full") and once without each source S ("-S"), and every variant is evaluated

(a) on the held-out split of every source: for "-S", the S column is what a new dataset looks
    like to the model (bold in the tables);
(b) on the research-only validation sets of ``../shared/data`` (BCData, SHIDC, DeepLIIF; never
    trained on), per dataset: the Ki67 index MAE and tumour-nucleus F1 as ``benchmarks/accuracy.py``
    computes them (nucleus model as the cell model; tissue model with ``count_in = "tumour"``), the
    share of annotated tumour nuclei (and SHIDC lymphocytes) inside the tumour region (tissue
    model), the share of pixels called pigment (pigment model; none of these tiles has melanin).

A "shipped" row evaluates the model file in ``mmnst_path/models`` the same way; a "full@n" row is
trained on n rows drawn at random from all sources, n that of the smallest "-S" variant (does less
data alone explain a drop?). The three worst validation images of each shipped model are drawn
under ``OUT/overlays``. Tables go to stdout and ``OUT/lodo_<model>.md``, figures to ``OUT/lodo_<model>.json``.

Sources and held-out splits: nucleus (the shipped 1.2.0 recipe): BRCA-M2C by TCGA tissue source
site A7, A8, AC (the hospitals the slides came from), 60 generated Ki67 tiles (``generated``) and
EndoNuke's train split with borrowed stain-intensity features (``endonuke:train``); held out are
BRCA-M2C's official test split (A8 and the small sites, never trained on) and, for A7 and AC, a
quarter of their images by a hash of the name (so "full" trains on 75 BRCA-M2C images, the shipped
model on 90), and EndoNuke's held-out split and staining_ds (``endonuke``). tissue: EndoNuke (mixed + staining_ds),
BRCA-M2C re-rendered as IHC, generated tiles; the script's held-out split. pigment: every
generated family, and the real melanin-free negatives (EndoNuke, Kather, BRCA-M2C; together and one
at a time), a quarter of the real images held out (the shipped model trained on all); families
are validated on seeds 2000.. (Dice of the melanin mask; family ``none``: false pigment %), the
Ki67 tiles at 0.5 µm/px as the pipeline reads them, with the stain gate and vetoes and without.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (ROOT, ROOT / "scripts", HERE):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

SHARED = ROOT.parent / "shared"
KI67_SETS = ("bcdata", "shidc", "deepliif")
MODELS_DIR = ROOT / "mmnst_path" / "models"
SHIPPED = {"nucleus": "nucleus_default.mmnst", "tissue": "tissue_ihc_default.mmnst", "pigment": "pigment_dab.mmnst"}
SCRIPTS = {"nucleus": "train_nucleus_model.py", "tissue": "train_tissue_ihc_model.py", "pigment": "train_pigment_model.py"}
REGION_SMOOTH_UM = 8.0  # the pipeline's [necrosis] smooth_um default, used for the tumour region
ANALYSIS_MPP = 0.5


@dataclass(frozen=True)
class Budget:
    """Sizes shared by every variant of a run (the scripts' defaults unless ``--quick``)."""

    quick: bool = False
    nucleus_trees: int = 60
    restain: int = 4  # IHC renderings of every BRCA-M2C image (nucleus script default)
    nucleus_generated: int = 60  # generated Ki67 tiles of the shipped recipe (--generated 60)
    tissue_trees: int = 24
    tissue_aug: int = 4
    tissue_rows: int = 400
    pigment_trees: int = 30
    pigment_seeds: int = 3
    pigment_dab_extra: int = 3
    pigment_val_seeds: int = 2
    step: int = 1  # every step-th training image of each source
    ki67_images: int = 0  # first n images of each validation set (0: all)

    @classmethod
    def quick_budget(cls) -> Budget:
        return cls(quick=True, nucleus_trees=4, restain=1, nucleus_generated=1, tissue_trees=4, tissue_aug=1, tissue_rows=100,
                   pigment_trees=4, pigment_seeds=1, pigment_dab_extra=0, pigment_val_seeds=1, step=12,
                   ki67_images=1)


@dataclass
class Rows:
    """Feature rows with their label, source and held-out flag."""

    x: np.ndarray
    y: np.ndarray
    source: np.ndarray
    held: np.ndarray

    @classmethod
    def stack(cls, parts: list[tuple[np.ndarray, np.ndarray, str, bool]]) -> Rows:
        if not parts:
            msg = "no training rows were collected (is --train the shared training folder?)"
            raise FileNotFoundError(msg)
        return cls(np.concatenate([p[0] for p in parts]).astype(np.float32),
                   np.concatenate([p[1] for p in parts]).astype(np.int64),
                   np.concatenate([np.full(len(p[1]), p[2], dtype="<U32") for p in parts]),
                   np.concatenate([np.full(len(p[1]), p[3], dtype=bool) for p in parts]))


def cached_rows(kind: str, budget: Budget, train: Path, out: Path, collect: Any) -> Rows:
    """Rows of ``collect(budget, train)``, cached in ``out/cache`` under a key of the collection sizes and
    of the training scripts' text (a changed recipe is collected again; a changed library is not noticed)."""
    sizes = {k: v for k, v in budget.__dict__.items() if not k.endswith("_trees") and k != "ki67_images"}
    scripts = [ROOT / "scripts" / f for f in (SCRIPTS[kind], "_training_data.py")]
    key = hashlib.sha256(json.dumps([kind, sizes, str(train), [f.read_text() for f in scripts]],
                                    sort_keys=True).encode()).hexdigest()[:12]
    path = out / "cache" / f"{kind}-{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return Rows(z["x"], z["y"], z["source"], z["held"])
    t0 = time.perf_counter()
    rows = collect(budget, train)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=rows.x, y=rows.y, source=rows.source, held=rows.held)
    print(f"# {kind}: {len(rows.y)} rows from {len(set(rows.source))} sources in {time.perf_counter() - t0:.0f} s",
          file=sys.stderr)
    return rows


# ---------------------------------------------------------------- validation sets (research-only)
_KI67: dict[tuple[str, int], tuple[float, list[Any]]] = {}


def ki67_set(name: str, budget: Budget) -> tuple[float, list[Any]]:
    """(µm/px, annotated images) of a research-only Ki67 set, read once."""
    import accuracy

    key = (name, budget.ki67_images)
    if key not in _KI67:
        folder = SHARED / "data" / "ki67" / name
        items = accuracy.load_dataset(folder)
        _KI67[key] = (accuracy.dataset_mpp(folder), items[: budget.ki67_images] if budget.ki67_images else items)
    return _KI67[key]


def ki67_index(cell_model: str | None, tissue_model: str | None, budget: Budget
               ) -> tuple[dict[str, dict[str, float]], list[tuple[str, str, float]]]:
    """Per-set index MAE / tumour F1 (accuracy.py's pipeline engine) and per-image errors (pp)."""
    import accuracy

    accuracy.CELL_MODEL = cell_model
    accuracy.COUNT_IN = "tumour" if tissue_model else None
    accuracy.TISSUE_MODEL = tissue_model
    per_set, per_image = {}, []
    try:
        for name in KI67_SETS:
            mpp, items = ki67_set(name, budget)
            rows = []
            for it in items:
                r = accuracy.evaluate(it, accuracy.measure_pipeline(it.rgb, mpp), mpp)
                rows.append(r)
                per_image.append((name, it.name, float(r["err_pp"])))
            s = accuracy.summarize(rows)
            per_set[name] = {"mae_pp": float(s["mae_pp"]), "tumour_f1": float(s["tumour_f1"])}
    finally:
        accuracy.CELL_MODEL = accuracy.COUNT_IN = accuracy.TISSUE_MODEL = None
    return per_set, per_image


def _fmt(v: float, spec: str = ".2f") -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def _report_cell(y: np.ndarray, pred: np.ndarray, tumour: int = 0) -> str:
    """'accuracy / F1 of class ``tumour``' of predictions (n/a without rows)."""
    if not y.size:
        return "n/a"
    tp = int(((pred == tumour) & (y == tumour)).sum())
    den = int((pred == tumour).sum() + (y == tumour).sum())
    return f"{float((pred == y).mean()):.3f} / {_fmt(2 * tp / den if den else math.nan, '.3f')}"


# ---------------------------------------------------------------- nucleus model
def _site(name: str) -> str:
    """TCGA tissue source site of a BRCA-M2C patch (A7, A8, AC; the small ones pooled as 'other')."""
    code = name.split("-")[1]
    return code if code in ("A7", "A8", "AC") else "other"


#: the shipped nucleus recipe's chromogen augmentation (model 1.2.0; scripts/train_nucleus_model.py)
NUCLEUS_CHROMOGENS = ("dab", "aec", "fast_red")
NUCLEUS_DAB_CORE_UM = 1.5


def collect_nucleus(budget: Budget, train: Path) -> Rows:
    import train_nucleus_model as tn
    from _training_data import held_out, read_rgb

    from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs

    settings = NucleusFeatureSettings()
    test = set((train / "brca_m2c" / "_meta" / "brca_ds_test.txt").read_text().split())
    mapping = {1: tn.CLASSES.index("lymphocyte"), 2: tn.CLASSES.index("tumour"), 3: tn.CLASSES.index("stromal")}
    rng = np.random.default_rng(0)  # the script's --seed: same restaining draws, in the same order
    parts: list[tuple[np.ndarray, np.ndarray, str, bool]] = []
    for i, txt in enumerate(sorted((train / "brca_m2c" / "mixed").glob("*_gt_class_coords.txt"))):
        img = txt.with_name(txt.name.replace("_gt_class_coords.txt", ".png"))
        pts = np.loadtxt(txt, ndmin=2)
        if i % budget.step or pts.size == 0 or not img.is_file():
            continue
        cls = np.array([mapping[int(k)] for k in pts[:, 2]])
        rgb, site = read_rgb(img), _site(img.name)
        held = img.name in test or img.stem in test or (site in ("A7", "AC") and held_out(img.name, 0.25))
        for k in range(budget.restain):  # the 1.2.0 recipe: --dab-core-um 1.5 --chromogens dab aec fast_red
            chrom = NUCLEUS_CHROMOGENS[(i + k) % len(NUCLEUS_CHROMOGENS)]
            ihc = tn.restain_as_ihc(rgb, pts[:, :2], cls, rng, None, 0.0, NUCLEUS_DAB_CORE_UM, chrom)
            x, y = tn.image_rows(ihc, pts[:, :2], cls, ihc=True, settings=settings,
                                 preset=tn.CHROMOGEN_PRESETS[chrom])
            parts.append((x, y, f"brca:{site}", held))
    # the shipped recipe (1.1.0 / 1.2.0: --generated 60 --endonuke-train --endonuke-intensity borrowed):
    # generated Ki67 tiles, and EndoNuke's train split with its stain-intensity features borrowed
    # from the re-rendered BRCA-M2C training rows of the same class (all sites: a "-site" variant
    # keeps those borrowed values); EndoNuke's held-out split and staining_ds stay validation
    parts += [(x, y, "generated", False) for x, y in tn.generated(budget.nucleus_generated, settings)]
    if not budget.quick:
        en = tn.endonuke(train, settings)
        donors = [(x, y) for x, y, src, held in parts if src.startswith("brca:") and not held and len(y)]
        donor_x, donor_y = np.concatenate([d[0] for d in donors]), np.concatenate([d[1] for d in donors])
        names = [f.name for f in nucleus_feature_specs(settings)]
        ex = np.concatenate([x for x, _ in en["train"]])
        ey = np.concatenate([y for _, y in en["train"]])
        parts.append((tn.borrowed_intensity(ex, ey, donor_x, donor_y, names, np.random.default_rng(0)), ey,
                      "endonuke:train", False))
        parts += [(x, y, "endonuke", True) for x, y in en["val"] + en["val_staining"]]
    return Rows.stack(parts)


def train_nucleus(x: np.ndarray, y: np.ndarray, budget: Budget, name: str) -> Any:
    import train_nucleus_model as tn

    from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs
    from mmnst_path.classify.train import train_model

    settings = NucleusFeatureSettings()
    return train_model(x, y, kind="nucleus", classes=tn.CLASSES, features=nucleus_feature_specs(settings),
                       settings={"features": settings.to_mapping(), "analysis_mpp_um": tn.MPP, "stains": "H-DAB",
                                 "decision": {"tumour_min_probability": 0.2}},
                       card={"name": f"LODO variant {name} of the nucleus model (benchmarks/lodo.py)"},
                       n_estimators=budget.nucleus_trees, min_samples_leaf=8, random_state=0)


def held_nucleus(model: Any, x: np.ndarray, y: np.ndarray) -> str:
    import train_nucleus_model as tn

    return _report_cell(y, tn._decided(model, x) if len(y) else y)


def validate_nucleus(path: Path, budget: Budget) -> tuple[dict[str, str], list[tuple[str, str, float]]]:
    per_set, per_image = ki67_index(str(path), None, budget)
    cells = {n: f"{_fmt(v['mae_pp'])} / {_fmt(v['tumour_f1'], '.3f')}" for n, v in per_set.items()}
    return cells, [(s, n, abs(e)) for s, n, e in per_image if not math.isnan(e)]


# ---------------------------------------------------------------- tissue model (IHC)
def _tissue_settings() -> Any:
    from mmnst_path.classify.tissue_features import TissueFeatureSettings

    return TissueFeatureSettings(chromogen_as_hematoxylin=True, nuclear_cap_od=0.35)  # the script's defaults


def collect_tissue(budget: Budget, train: Path) -> Rows:
    import train_tissue_ihc_model as tt

    settings = _tissue_settings()
    rng = np.random.default_rng(13)  # the script's generator: same augmentations in the same order
    seen: dict[str, int] = {}
    parts: list[tuple[np.ndarray, np.ndarray, str, bool]] = []
    for src, _name, rgb, mpp, lab, nuclear, stains, held in tt.sources(train):
        seen[src] = seen.get(src, -1) + 1
        if seen[src] % budget.step:
            continue
        first = [] if nuclear is not None and not held else [(rgb, mpp)]
        n_aug = 1 if held else (budget.tissue_aug // 2 if src == "brca_m2c" else budget.tissue_aug)
        for img, m in first + [tt.augment(rgb, mpp, nuclear, rng, stains) for _ in range(n_aug)]:
            x, y = tt.tile_rows(img, m, lab, stains, settings, rng, budget.tissue_rows)
            parts.append((x, y, src, held))
    return Rows.stack(parts)


def train_tissue(x: np.ndarray, y: np.ndarray, budget: Budget, name: str) -> Any:
    import train_tissue_ihc_model as tt

    from mmnst_path.classify.tissue_features import tissue_feature_specs
    from mmnst_path.classify.train import train_model

    settings = _tissue_settings()
    return train_model(x, y, kind="tissue", classes=tt.CLASSES, features=tissue_feature_specs(settings),
                       settings={"features": settings.to_mapping(), "stains": "H-DAB"},
                       card={"name": f"LODO variant {name} of the IHC tissue model (benchmarks/lodo.py)"},
                       n_estimators=budget.tissue_trees, max_depth=12, min_samples_leaf=15)


def held_tissue(model: Any, x: np.ndarray, y: np.ndarray) -> str:
    return _report_cell(y, model.predict(x) if len(y) else y)


def at_analysis_mpp(rgb: np.ndarray, mpp: float) -> np.ndarray:
    """The image resampled (area) to the pipeline's 0.5 µm/px."""
    from mmnst_path.io._resample import resize_area

    f = mpp / ANALYSIS_MPP
    return resize_area(rgb, (max(1, round(rgb.shape[0] * f)), max(1, round(rgb.shape[1] * f))))


def tumour_region_05(rgb: np.ndarray, mpp: float, model: Any) -> tuple[np.ndarray, float]:
    """Tumour region of ``model`` on the image at 0.5 µm/px, as the pipeline draws it, and the factor
    from image to region pixels."""
    from mmnst_path.classify.tissue import classify_tissue, region_mask, smoothed_labels

    small, f = at_analysis_mpp(rgb, mpp), mpp / ANALYSIS_MPP
    tmap = classify_tissue(small, mpp=ANALYSIS_MPP, model=model, stains="H-DAB")
    labels = smoothed_labels(tmap, smooth_um=REGION_SMOOTH_UM)
    return region_mask(labels, tmap.classes, ("tumour",), shape=small.shape[:2], factor=tmap.factor), f


def _inside(region: np.ndarray, f: float, pts: np.ndarray) -> np.ndarray:
    r = np.clip(np.rint((pts[:, 0] + 0.5) * f - 0.5).astype(int), 0, region.shape[0] - 1)
    c = np.clip(np.rint((pts[:, 1] + 0.5) * f - 0.5).astype(int), 0, region.shape[1] - 1)
    return region[r, c]


def validate_tissue(path: Path, budget: Budget) -> tuple[dict[str, str], list[tuple[str, str, float]]]:
    from mmnst_path.classify import load_model

    model = load_model(path, kind="tissue")
    per_set, _ = ki67_index(None, str(path), budget)
    cells, per_image = {}, []
    for name in KI67_SETS:
        mpp, items = ki67_set(name, budget)
        tum_in = tum_n = lym_in = lym_n = 0
        for it in items:
            region, f = tumour_region_05(it.rgb, mpp, model)
            inside = _inside(region, f, it.points)
            tumour = it.labels != "lymphocyte"
            tum_in, tum_n = tum_in + int(inside[tumour].sum()), tum_n + int(tumour.sum())
            lym_in, lym_n = lym_in + int(inside[~tumour].sum()), lym_n + int((~tumour).sum())
            if tumour.any():  # worst = smallest share of tumour nuclei inside, as 100 - share
                per_image.append((name, it.name, 100.0 - 100.0 * float(inside[tumour].mean())))
        lym = f" (lymph. {100.0 * lym_in / lym_n:.0f} %)" if lym_n else ""
        cells[name] = (f"{_fmt(per_set[name]['mae_pp'])} / {_fmt(100.0 * tum_in / tum_n if tum_n else math.nan, '.0f')}"
                       f" %{lym}")
    return cells, per_image


# ---------------------------------------------------------------- pigment model (H-DAB)
def collect_pigment(budget: Budget, train: Path) -> Rows:
    import train_pigment_model as tp
    from _training_data import held_out, read_rgb

    from mmnst_path.classify.pigment import PigmentFeatureSettings, pigment_features
    from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

    settings = PigmentFeatureSettings()
    rng = np.random.default_rng(0)
    parts: list[tuple[np.ndarray, np.ndarray, str, bool]] = []
    size, per_class = 256, 1200  # the script's --size and --per-class
    seeds = [*range(1000, 1000 + budget.pigment_seeds + budget.pigment_dab_extra)]
    for fam in PIGMENT_FAMILIES:  # generated_rows(chromogens=("dab",)), tagged by family
        for seed in seeds:
            mpp = 0.25 if seed % 2 else 0.5
            tile = pigment_family_tile(seed, fam, chromogen="dab", size=size if mpp == 0.5 else 2 * size, mpp=mpp)
            x, cand = pigment_features(tile.rgb, mpp=tile.mpp, settings=settings)
            y = tile.masks["melanin"][cand].astype(np.int64)
            x, y = tp._sample(x, y, per_class, rng, tile.masks["positive_nuclei"][cand])
            parts.append((x, y, f"gen:{fam}", False))
    for src, f, mpp in _real_files(train)[:: budget.step]:  # real_negative_rows, tagged by dataset
        x, _ = pigment_features(read_rgb(f), mpp=mpp, settings=settings)
        if not x.shape[0]:
            continue
        n = min(300, x.shape[0])  # the script's --per-real 600: half at random, half the darkest brown
        score = x[:, 4] - 2.0 * np.abs(x[:, 2] - x[:, 0] - 0.45)
        pick = np.concatenate([rng.choice(x.shape[0], size=n, replace=False), np.argsort(score)[::-1][:n]])
        parts.append((x[pick], np.zeros(2 * n, np.int64), src, held_out(f.name, 0.25)))
    return Rows.stack(parts)


def _real_files(train: Path) -> list[tuple[str, Path, float]]:
    """(source, file, µm/px) of the melanin-free real tiles of train_pigment_model.real_negative_rows."""
    files = [("real:endonuke", p, 0.5) for p in sorted((train / "endonuke" / "mixed").glob("*.png"))]
    files += [("real:endonuke", p, 0.25) for p in sorted((train / "endonuke" / "staining_ds").glob("*.png"))]
    files += [("real:kather", p, 0.5) for p in sorted((train / "kather_nct_crc_he").glob("*/*"))
              if p.suffix in (".tif", ".png", ".jpg")]
    files += [("real:brca_m2c", p, 0.5) for p in sorted((train / "brca_m2c" / "mixed").glob("*.png"))[::4]]
    return files


def train_pigment(x: np.ndarray, y: np.ndarray, budget: Budget, name: str) -> Any:
    from mmnst_path.classify.pigment import CLASSES, PigmentFeatureSettings, pigment_feature_specs
    from mmnst_path.classify.train import train_model

    settings = PigmentFeatureSettings()
    return train_model(x, y, kind="tissue", classes=CLASSES, features=pigment_feature_specs(settings),
                       settings=settings.to_mapping(),
                       card={"name": f"LODO variant {name} of the H-DAB pigment model (benchmarks/lodo.py)"},
                       n_estimators=budget.pigment_trees, max_depth=14, min_samples_leaf=8)


def pigment_mask(rgb: np.ndarray, mpp: float, model: Any) -> np.ndarray:
    """Melanin pixels as the pipeline finds them in an H-DAB tile (model, gate, vetoes)."""
    from mmnst_path.classify.pigment import classify_pigment

    return classify_pigment(rgb, mpp=mpp, model=model, stains="H-DAB")[0]


def held_pigment(model: Any, budget: Budget, train: Path) -> dict[str, str]:
    """Dice of the melanin mask on held-out generated tiles of every family (false pigment % of the
    tissue for ``none``) and the false pigment % of the held-out real tiles of every dataset."""
    from _training_data import held_out, read_rgb

    from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

    cells = {}
    for fam in PIGMENT_FAMILIES:
        vals = []
        for seed in range(2000, 2000 + budget.pigment_val_seeds):
            tile = pigment_family_tile(seed, fam, chromogen="dab", size=256, mpp=0.5)
            m, truth = pigment_mask(tile.rgb, tile.mpp, model) & tile.masks["tissue"], tile.masks["melanin"]
            vals.append(2.0 * (m & truth).sum() / max(1, m.sum() + truth.sum()) if truth.any()
                        else 100.0 * m.sum() / max(1, tile.masks["tissue"].sum()))
        cells[f"gen:{fam}"] = f"{np.mean(vals):.2f}" + (" %" if fam == "none" else "")
    for src in ("real:endonuke", "real:kather", "real:brca_m2c"):
        vals = [100.0 * float(pigment_mask(read_rgb(f), mpp, model).mean())
                for s, f, mpp in _real_files(train)[:: budget.step] if s == src and held_out(f.name, 0.25)]
        cells[src] = f"{np.mean(vals):.3f} %" if vals else "n/a"
    return cells


def real_ki67_pigment(model: Any, budget: Budget) -> tuple[dict[str, str], list[tuple[str, str, float]]]:
    """False pigment % of the pixels of every research-only Ki67 tile at 0.5 µm/px (as the pipeline reads
    them): per set 'mean / max' with the stain gate and vetoes, then of the model alone (``stains=None``)."""
    from mmnst_path.classify.pigment import classify_pigment

    cells, per_image = {}, []
    for name in KI67_SETS:
        mpp, items = ki67_set(name, budget)
        gated, raw = [], []
        for it in items:
            small = at_analysis_mpp(it.rgb, mpp)
            gated.append(100.0 * float(pigment_mask(small, ANALYSIS_MPP, model).mean()))
            raw.append(100.0 * float(classify_pigment(small, mpp=ANALYSIS_MPP, model=model)[0].mean()))
        per_image += [(name, it.name, v) for it, v in zip(items, raw, strict=True)]
        cells[name] = f"{np.mean(gated):.3f} / {np.max(gated):.3f}; raw {np.mean(raw):.2f} / {np.max(raw):.2f}"
    return cells, per_image


# ---------------------------------------------------------------- overlays of the worst images
def _upsample(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    from PIL import Image

    img = Image.fromarray(mask.astype(np.uint8) * 255).resize((shape[1], shape[0]), Image.Resampling.NEAREST)
    return np.asarray(img) > 0


def draw_worst(kind: str, model: Any, worst: list[tuple[str, str, float]], budget: Budget, folder: Path) -> list[Path]:
    """PNG overlays of the worst validation images of ``model``; returns their paths.

    nucleus: accuracy.py's overlay (annotated nuclei as circles: red positive, blue negative, green
    lymphocyte; detections as dots: magenta positive, cyan negative, grey excluded); tissue: the tumour
    region tinted red with its outline, annotated tumour nuclei as cyan circles, lymphocytes green;
    pigment: the model's melanin pixels in magenta, those the stain gate keeps in yellow. Original on the left.
    """
    import accuracy
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image, _ in worst:
        mpp, items = ki67_set(name, budget)
        item = next(it for it in items if it.name == image)
        path = folder / f"{kind}_{name}_{Path(image).stem}.png"
        if kind == "nucleus":
            meas = accuracy.measure_pipeline(item.rgb, mpp)
            accuracy.save_overlay(item, meas, path)
            drawn = np.asarray(Image.open(path).convert("RGB"))
        else:
            rgb = item.rgb.astype(np.float32)
            if kind == "tissue":
                tint = _upsample(tumour_region_05(item.rgb, mpp, model)[0], item.rgb.shape[:2])
                rgb[tint] = 0.6 * rgb[tint] + 0.4 * np.array([255.0, 0.0, 0.0])
            else:  # the model alone in magenta, what the stain gate and vetoes keep in yellow
                from mmnst_path.classify.pigment import classify_pigment

                small = at_analysis_mpp(item.rgb, mpp)
                for mask, colour in ((classify_pigment(small, mpp=ANALYSIS_MPP, model=model)[0], (255.0, 0.0, 255.0)),
                                     (pigment_mask(small, ANALYSIS_MPP, model), (255.0, 255.0, 0.0))):
                    tint = _upsample(mask, item.rgb.shape[:2])
                    rgb[tint] = 0.4 * rgb[tint] + 0.6 * np.array(colour)
            img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
            draw = ImageDraw.Draw(img)
            if kind == "tissue":
                from scipy import ndimage as ndi

                edge = tint & ~ndi.binary_erosion(tint, iterations=2)
                img.paste((200, 0, 0), mask=Image.fromarray(edge.astype(np.uint8) * 255))
                for (r, c), lab in zip(item.points, item.labels, strict=True):
                    col = (0, 200, 0) if lab == "lymphocyte" else (0, 220, 255)
                    draw.ellipse([c - 6, r - 6, c + 6, r + 6], outline=col, width=2)
            drawn = np.asarray(img)
        Image.fromarray(np.concatenate([item.rgb, drawn], axis=1)).save(path)
        paths.append(path)
    return paths


# ---------------------------------------------------------------- variants and tables
KINDS: dict[str, dict[str, Any]] = {
    "nucleus": {"collect": collect_nucleus, "train": train_nucleus,
                "groups": {"A7": ("brca:A7",), "A8": ("brca:A8",), "AC": ("brca:AC",), "other-sites": ("brca:other",),
                           "generated": ("generated",), "endonuke-train": ("endonuke:train",)},
                "held": "acc / tumour F1 of held-out nuclei", "val": "index MAE pp / tumour-nucleus F1",
                "note": "shipped trained on the A7 / AC held-out images ((a) optimistic there); the other sites are "
                        "the official test split, never trained on"},
    "tissue": {"collect": collect_tissue, "train": train_tissue,
               "groups": {"endonuke": ("endonuke", "endonuke_staining_ds"), "brca_m2c": ("brca_m2c",),
                          "generated": ("generated",)},
               "held": "acc / tumour F1 of held-out blocks",
               "val": "index MAE pp (count_in tumour) / annotated tumour nuclei inside the tumour region",
               "note": "same held-out split as the shipped model"},
    "pigment": {"collect": collect_pigment, "train": train_pigment, "groups": {},
                "held": "Dice on generated seeds 2000.. (none: false pigment % of tissue); real: false pigment %",
                "val": "false pigment % of pixels at 0.5 µm/px, mean / max over the tiles, gated; raw (model alone)",
                "note": "shipped trained on the held-out real tiles ((a) optimistic there)"},
}


def pigment_groups(sources: set[str]) -> dict[str, tuple[str, ...]]:
    real = tuple(sorted(s for s in sources if s.startswith("real:")))
    out = {"real-all": real}
    out.update({s.split(":", 1)[1]: (s,) for s in real})
    out.update({s.split(":", 1)[1]: (s,) for s in sorted(sources) if s.startswith("gen:")})
    return out


def evaluate(kind: str, model: Any, path: Path, rows: Rows, budget: Budget, train: Path
             ) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str, float]]]:
    """(held-out cells by source, validation cells by dataset, per-image badness) of one model."""
    if kind == "pigment":
        val, per_image = real_ki67_pigment(model, budget)
        return held_pigment(model, budget, train), val, per_image
    held_fn = held_nucleus if kind == "nucleus" else held_tissue
    held = {s: held_fn(model, rows.x[rows.held & (rows.source == s)], rows.y[rows.held & (rows.source == s)])
            for s in sorted(set(rows.source[rows.held]))}
    val, per_image = (validate_nucleus if kind == "nucleus" else validate_tissue)(path, budget)
    return held, val, per_image


def run_kind(kind: str, budget: Budget, train: Path, out: Path, only: list[str] | None = None) -> dict[str, Any]:
    """Train and evaluate every variant of one model; write its table and the worst overlays."""
    from mmnst_path.classify import load_model

    spec = KINDS[kind]
    rows = cached_rows(kind, budget, train, out, spec["collect"])
    groups = spec["groups"] or pigment_groups(set(rows.source))
    train_rows = ~rows.held
    variants: list[tuple[str, tuple[str, ...], np.ndarray]] = [("full", (), train_rows)]
    for g, srcs in groups.items():  # a group without training rows (never trained on) would equal "full"
        keep = train_rows & ~np.isin(rows.source, srcs)
        if (only is None or g in only) and keep.sum() < train_rows.sum():
            variants.append((f"-{g}", srcs, keep))
    if len(variants) > 2:  # size control: as few rows as the smallest variant, drawn at random from all sources
        n = min(int(k.sum()) for _, _, k in variants[1:])
        keep = np.zeros_like(train_rows)
        keep[np.random.default_rng(0).choice(np.flatnonzero(train_rows), size=n, replace=False)] = True
        variants.append((f"full@{n}", (), keep))
    (out / "models").mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    shipped = load_model(MODELS_DIR / SHIPPED[kind])
    t0 = time.perf_counter()
    held, val, per_image = evaluate(kind, shipped, MODELS_DIR / SHIPPED[kind], rows, budget, train)
    results["shipped"] = {"held": held, "val": val, "left_out": [], "n_train": None,
                          "sec": time.perf_counter() - t0}
    worst = sorted(per_image, key=lambda t: -t[2])[:3]
    for name, left_out, keep in variants:
        t0 = time.perf_counter()
        model = spec["train"](rows.x[keep], rows.y[keep], budget, name)
        path = model.save(out / "models" / f"{kind}_{name.lstrip('-').replace('@', '_')}.mmnst")
        held, val, _ = evaluate(kind, model, path, rows, budget, train)
        results[name] = {"held": held, "val": val, "left_out": list(left_out), "n_train": int(keep.sum()),
                         "sec": time.perf_counter() - t0}
        print(f"# {kind} {name}: {int(keep.sum())} rows, {results[name]['sec']:.0f} s", file=sys.stderr)
    table = markdown(kind, results, budget)
    lines = [table, "", f"worst validation images of the shipped model ({spec['val']}):"]
    lines += [f"- {s}/{n}: {v:.2f}" for s, n, v in worst]
    lines += [f"- overlay: {p}" for p in draw_worst(kind, shipped, worst, budget, out / "overlays")]
    text = "\n".join(lines)
    (out / f"lodo_{kind}.md").write_text(text + "\n", encoding="utf-8")
    (out / f"lodo_{kind}.json").write_text(json.dumps({"budget": budget.__dict__, "results": results,
                                                       "worst": worst}, indent=1), encoding="utf-8")
    print(text, flush=True)
    return results


def markdown(kind: str, results: dict[str, Any], budget: Budget) -> str:
    """One table: rows = variants, columns = held-out sources (a) then validation sets (b)."""
    spec = KINDS[kind]
    held_cols = list(results["full"]["held"])
    val_cols = list(results["full"]["val"])
    head = ["variant", "train rows", *[f"(a) {c}" for c in held_cols], *[f"(b) {c}" for c in val_cols]]
    out = [f"### {kind}: {SHIPPED[kind]} (trees {getattr(budget, kind + '_trees')}"
           f"{', QUICK' if budget.quick else ''})", "",
           f"(a) {spec['held']}; (b) {spec['val']}; bold: the source the variant left out; "
           f"full@n: n training rows drawn at random from all sources (size control); {spec['note']}", "",
           "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in results.items():
        cells = [f"**{r['held'][c]}**" if c in r["left_out"] else r["held"].get(c, "n/a") for c in held_cols]
        n = "" if r["n_train"] is None else str(r["n_train"])
        out.append("| " + " | ".join([name, n, *cells, *[r["val"].get(c, "n/a") for c in val_cols]]) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", choices=tuple(KINDS), default=list(KINDS))
    ap.add_argument("--variants", nargs="+", default=None, help="only these left-out groups (default: all)")
    ap.add_argument("--train", type=Path, default=SHARED / "train")
    ap.add_argument("--out", type=Path, default=Path("/tmp/h4"))
    ap.add_argument("--quick", action="store_true", help="smoke test: a twelfth of the images, tiny forests")
    ap.add_argument("--nucleus-trees", type=int, default=None)
    ap.add_argument("--tissue-trees", type=int, default=None)
    ap.add_argument("--pigment-trees", type=int, default=None)
    args = ap.parse_args(argv)
    if not args.train.is_dir():
        ap.error(f"--train {args.train}: no such folder (the shared training data)")
    budget = Budget.quick_budget() if args.quick else Budget()
    sizes = {f"{k}_trees": getattr(args, f"{k}_trees") for k in KINDS if getattr(args, f"{k}_trees")}
    if sizes:
        budget = Budget(**{**budget.__dict__, **sizes})
    args.out.mkdir(parents=True, exist_ok=True)
    for kind in args.models:
        run_kind(kind, budget, args.train, args.out, args.variants)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
