"""Necrosis: real osteosarcoma H&E tiles, real slides and generated tiles of two independent generators.

``--tissue-model`` chooses the detector: ``default`` (the shipped tissue classifier, the default
of ``NecrosisParams``), ``none`` (the rule-based detector) or a model file.

Real mode (default) prints every tile's necrosis % of tissue with its label (filename prefix),
whether the tile trained the default tissue model, the tumour / stroma % and the seconds, and
checks the goals of issue 13 on the tiles that did not train it (Non-Viable-Tumor >= 80 %,
Viable <= 5 %, Non-Tumor mean <= 10 %); ``--out DIR`` saves side-by-side maps (tile | necrosis
in green | tissue classes). The tiles are 10x scans; their pixel size (~1 µm/px, nuclei of
osteosarcoma cells ~8-12 px across) is passed with ``--mpp``.

``--slides`` runs the pipeline (``analyze_slide``, necrosis only, stains auto as the CLI) on the
viable real slides in ``../shared/data/wsi``: the TCGA head-and-neck slide at 1.0 µm/px (it has
no mpp of its own) and CMU-1-Small-Region (0.499 µm/px); goal < 5 % necrosis each.

``--brca`` measures necrosis on the 30 patches of the BRCA-M2C official test split (viable TCGA
breast carcinoma H&E at 0.5 µm/px; no necrosis annotated, so every necrotic block is false;
goal: mean < 2 %, none above 5 %). ``scripts/train_tissue_model.py --brca`` trains on the other 90
patches; the shipped default on none of them.

``--keratin`` classifies held-out generated keratinising squamous tiles
(``mmnst_path.synthetic_tissue.he_keratin_tile``, seeds 900-911; training uses 200-211) with a
model that has a ``keratin`` class (``scripts/train_tissue_model.py --keratin``): keratin truth vs
ours (% of the tissue outside ink and dust), keratin Dice, false necrosis and fat, and the share of
glass / ink / dust pixels classed background.

``--synthetic`` measures generated tiles with known masks from four generators of the project:
``mmnst_path.synthetic.he_necrosis_tile`` (``synthetic``), the recipe of ``sample_tiles/generate.py``
(``sample``: re-run here with its truth mask and parameter variations: seed, necrotic eosin level,
stain vector rotation, 0.5 / 1.0 µm/px, JPEG; no tissue model trains on this recipe, it is the
held-out generator), ``mmnst_path.synthetic_tissue.he_tissue_tile`` (``tissue``, held-out seeds
:data:`TISSUE_EVAL_SEEDS`) and ``he_mimic_tile`` (``mimic``: necrosis mimics, :data:`MIMIC_EVAL_SEEDS`; also the
share of each mimic class read as necrosis), and prints the fraction error (pp) and pixel Dice per tile and the
mean / worst per generator (Dice and error on tiles with >= 5 % necrosis, false necrosis on tiles
without). ``--random-cases N`` adds N cases with parameters drawn from their seed to each generator.

    PYTHONPATH=. .venv/bin/python benchmarks/eval_necrosis.py --out /tmp/necrosis_maps
    PYTHONPATH=. .venv/bin/python benchmarks/eval_necrosis.py --synthetic --random-cases 24 --out /tmp/necrosis_synth
    PYTHONPATH=. .venv/bin/python benchmarks/eval_necrosis.py --slides --out /tmp/necrosis_slides
    PYTHONPATH=. .venv/bin/python benchmarks/eval_necrosis.py --brca --out /tmp/necrosis_brca
    PYTHONPATH=. .venv/bin/python benchmarks/eval_necrosis.py --keratin --out /tmp/keratin   # keratin class
    PYTHONPATH=. .venv/bin/python benchmarks/eval_necrosis.py --tissue-model none   # the rules
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
import time
from pathlib import Path

import numpy as np
from eval_melanin import dice  # benchmarks/ is the script's folder

from mmnst_path.quantify.necrosis import NecrosisParams, mask_to_tile, measure_necrosis, necrosis_metrics

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "necrosis"
WSI = ROOT / ".." / "shared" / "data" / "wsi"
TRAIN = ROOT / ".." / "shared" / "train"
SLIDES = (("tcga-cr-7395-01a-01-ts1.svs", 1.0), ("CMU-1-Small-Region.svs", None))
#: held-out seeds of ``synthetic_tissue.he_tissue_tile`` (training uses 400-495, tests 950-959)
TISSUE_EVAL_SEEDS = tuple(range(1000, 1040))


#: held-out seeds of ``synthetic_tissue.he_mimic_tile`` (training uses 700-795, tests 960-969)
MIMIC_EVAL_SEEDS = tuple(range(1100, 1140))
#: truth classes of the mimic tiles whose share read as necrosis is reported (collagen and oedema are stroma)
MIMIC_TRUTH = ("stroma", "blood", "mucin", "keratin", "fat", "tumour")


def _trained_on() -> set[str]:
    """File names of the osteosarcoma tiles the default tissue model was trained on."""
    spec = importlib.util.spec_from_file_location("_train_tissue", ROOT / "scripts" / "train_tissue_model.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses resolve their (string) annotations through sys.modules
    try:
        spec.loader.exec_module(mod)
    finally:
        del sys.modules[spec.name]
    return set(mod.OSTEO_TRAIN)


def _class_image(rgb: np.ndarray, mpp: float, params: NecrosisParams) -> np.ndarray | None:
    """Tissue classes of a tile in their model colours, at the tile's size (None with the rules)."""
    model = params.model()
    if model is None:
        return None
    from mmnst_path.classify.tissue import classify_tissue, smoothed_labels

    tmap = classify_tissue(rgb, mpp=mpp, model=model, stains=params.stains)
    colours = np.array([c.colour for c in model.classes], np.uint8)
    img = colours[smoothed_labels(tmap, smooth_um=params.smooth_um)]  # the classes necrosis decides with
    img = np.repeat(np.repeat(img, tmap.factor, 0), tmap.factor, 1)[: rgb.shape[0], : rgb.shape[1]]
    return (0.5 * img + 0.5 * rgb).astype(np.uint8)


def _overlay(rgb: np.ndarray, mask: np.ndarray, mpp: float, mask_mpp: float,
             truth: np.ndarray | None = None) -> np.ndarray:
    big = mask_to_tile(mask, rgb.shape[:2], mpp=mpp, mask_mpp=mask_mpp)
    ov = rgb.copy()
    ov[big] = (0.5 * ov[big] + [0, 127, 0]).astype(np.uint8)
    if truth is not None:  # true border in blue
        from scipy import ndimage as ndi

        edge = truth & ~ndi.binary_erosion(truth, iterations=max(1, round(1.5 / mpp)))
        ov[edge] = (0, 0, 255)
    return np.concatenate([rgb, ov], 1)


def _save(img: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = img.shape[:2]
    Image.fromarray(img).resize((1024, round(1024 * h / w))).save(path)


def real(args: argparse.Namespace, params: NecrosisParams, summary: dict | None = None) -> int:
    from PIL import Image

    # a model file of scripts/train_tissue_model.py trains on the same tiles as the default
    trained = _trained_on() if params.model() is not None else set()
    rows = []
    print(f"{'label':18s} {'necrosis %':>10s} {'tumour %':>8s} {'stroma %':>8s} {'s':>5s}  tile")
    for path in sorted(args.data.glob("*.jpg")):
        label = path.name.split("___")[0]
        rgb = np.asarray(Image.open(path).convert("RGB"))
        t0 = time.perf_counter()
        counts, mask, mask_mpp = measure_necrosis(rgb, mpp=args.mpp, params=params)
        secs = time.perf_counter() - t0
        m = necrosis_metrics(counts)
        pct = m["necrosis_fraction_pct"]
        train = path.name in trained
        rows.append((label, path.name, pct, train))
        print(f"{label:18s} {pct:10.1f} {m['tumour_fraction_pct']:8.1f} {m['stroma_fraction_pct']:8.1f} "
              f"{secs:5.2f}  {path.name}{'  (trained on)' if train else ''}")
        if args.out is not None:
            panels = _overlay(rgb, mask, args.mpp, mask_mpp)
            cls = _class_image(rgb, args.mpp, params)
            _save(panels if cls is None else np.concatenate([panels, cls], 1), args.out / f"{path.stem}.png")
    ok = True
    for name, group in (("all tiles", rows), ("not trained on", [r for r in rows if not r[3]])):
        nec = [p for lab, _, p, _ in group if lab == "Non-Viable-Tumor"]
        via = [p for lab, _, p, _ in group if lab == "Viable"]
        non = [p for lab, _, p, _ in group if lab == "Non-Tumor"]
        print(f"{name}: necrotic min {min(nec):.1f} % mean {np.mean(nec):.1f} % (goal >= 80 each); "
              f"viable max {max(via):.1f} % mean {np.mean(via):.1f} % (goal <= 5 each); "
              f"non-tumour mean {np.mean(non):.1f} % max {max(non):.1f} % (goal mean <= 10)")
        ok = min(nec) > max(via)
    held = [r for r in rows if not r[3]]
    if summary is not None:
        summary.update({"osteo_nvt_held": [p for lab, _, p, _ in held if lab == "Non-Viable-Tumor"],
                        "osteo_viable_max": max(p for lab, _, p, _ in held if lab == "Viable"),
                        "osteo_nontumour_mean": float(np.mean([p for lab, _, p, _ in held if lab == "Non-Tumor"])),
                        "osteo_tiles": {name: p for _, name, p, _ in rows}})
    return 0 if ok else 1


def slides(args: argparse.Namespace, params: NecrosisParams) -> int:
    """The viable real slides through the pipeline (necrosis only, stains auto as the CLI)."""
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    config = AnalysisConfig(stains="auto", measures=("necrosis",), necrosis=params)
    worst = 0.0
    print(f"{'slide':34s} {'mpp':>5s} {'necrosis %':>10s} {'tumour %':>8s} {'stroma %':>8s} {'tissue mm2':>10s} "
          f"{'s':>6s}")
    for name, mpp in SLIDES:
        path = args.wsi / name
        if not path.is_file():
            print(f"{name}: missing, skipped")
            continue
        t0 = time.perf_counter()
        r = analyze_slide(path, config, mpp=mpp, workers=args.workers)
        secs = time.perf_counter() - t0
        m = r.metrics
        worst = max(worst, m["necrosis_fraction_pct"])
        print(f"{name:34s} {mpp or float('nan'):5.2f} {m['necrosis_fraction_pct']:10.2f} "
              f"{m.get('tumour_fraction_pct', float('nan')):8.1f} {m.get('stroma_fraction_pct', float('nan')):8.1f} "
              f"{m.get('tissue_area_mm2', float('nan')):10.2f} {secs:6.1f}")
        if args.out is not None and "necrosis" in r.maps:
            thumb = r.maps["thumbnail"]
            nec = r.maps["necrosis"]
            img = np.asarray(thumb.image, np.uint8)
            f = nec.downsample / thumb.downsample
            ri = np.minimum((np.arange(img.shape[0]) / f).astype(int), nec.image.shape[0] - 1)
            ci = np.minimum((np.arange(img.shape[1]) / f).astype(int), nec.image.shape[1] - 1)
            frac = np.nan_to_num(nec.image[np.ix_(ri, ci)])
            ov = img.astype(np.float32)
            ov[..., 1] += 120 * frac
            ov[..., 0] *= 1 - 0.5 * frac
            _save(np.concatenate([img, np.clip(ov, 0, 255).astype(np.uint8)], 1), args.out / f"{Path(name).stem}.png")
        if r.tissue_classes:
            print("    classes (% of tissue): " + ", ".join(
                f"{c['name']} {c['pct_of_tissue']:.1f}" for c in r.tissue_classes["classes"] if c["name"] != "background"))
        if args.out is not None and "tissue_classes" in r.maps:
            _save(_class_overlay(r.maps["thumbnail"], r.maps["tissue_classes"], r.tissue_classes["classes"]),
                  args.out / f"{Path(name).stem}_classes.png")
    print(f"worst slide necrosis {worst:.2f} % (goal < 5 %)")
    return 0 if worst < 5.0 else 1


def _class_overlay(thumb, classes, legend) -> np.ndarray:
    """Thumbnail beside the class map blended over it (the model's colours; not analysed: unchanged)."""
    img = np.asarray(thumb.image, np.uint8)
    f = classes.downsample / thumb.downsample
    ri = np.minimum((np.arange(img.shape[0]) / f).astype(int), classes.image.shape[0] - 1)
    ci = np.minimum((np.arange(img.shape[1]) / f).astype(int), classes.image.shape[1] - 1)
    idx = classes.image[np.ix_(ri, ci)].astype(int)
    colours = np.zeros((max(c["index"] for c in legend) + 1, 3), np.float32)
    for c in legend:
        colours[c["index"]] = c["colour"]
    ov = np.where((idx >= 0)[..., None], 0.5 * img + 0.5 * colours[np.maximum(idx, 0)], img)
    return np.concatenate([img, ov.astype(np.uint8)], 1)


def brca_mode(args: argparse.Namespace, params: NecrosisParams, summary: dict | None = None) -> int:
    """Necrosis on the 30 BRCA-M2C test patches (viable TCGA breast carcinoma H&E, 0.5 µm/px, no necrosis
    annotated: every necrotic block is a false one); no H&E tissue model trains on this split."""
    from PIL import Image

    brca = args.train / "brca_m2c"
    names = sorted((brca / "_meta" / "brca_ds_test.txt").read_text().split())
    pcts = []
    for name in names:
        rgb = np.asarray(Image.open(brca / "mixed" / name).convert("RGB"))
        counts, mask, mask_mpp = measure_necrosis(rgb, mpp=0.5, params=params)
        m = necrosis_metrics(counts)
        pcts.append(m["necrosis_fraction_pct"])
        print(f"{m['necrosis_fraction_pct']:6.1f} % necrosis, tumour {m['tumour_fraction_pct']:5.1f} %, stroma "
              f"{m['stroma_fraction_pct']:5.1f} %  {name}")
        if args.out is not None:
            panels = _overlay(rgb, mask, 0.5, mask_mpp)
            cls = _class_image(rgb, 0.5, params)
            _save(panels if cls is None else np.concatenate([panels, cls], 1), args.out / f"brca_{Path(name).stem}.png")
    n_over = sum(p > 5.0 for p in pcts)
    if summary is not None:
        summary.update({"brca_mean": float(np.mean(pcts)), "brca_max": max(pcts), "brca_over5": n_over,
                        "brca_patches": dict(zip(names, pcts, strict=True))})
    print(f"BRCA-M2C test patches: necrosis mean {np.mean(pcts):.2f} %, max {max(pcts):.1f} %, {n_over} of {len(pcts)} "
          "above 5 % (goal: mean < 2 %, none above 5 %)")
    return 0 if np.mean(pcts) < 2.0 and n_over == 0 else 1


def keratin_mode(args: argparse.Namespace, params: NecrosisParams) -> int:
    """Held-out generated keratinising squamous tiles: keratin Dice / fraction, false necrosis, fat."""
    from mmnst_path.classify.tissue import classify_tissue, smoothed_labels
    from mmnst_path.synthetic_tissue import he_keratin_tile

    model = params.model()
    if model is None or "keratin" not in model.class_names:
        print("the tissue model has no keratin class")
        return 1
    names = model.class_names
    worst_dice, worst_nec, worst_err = 1.0, 0.0, 0.0
    print(f"{'seed':>4s} {'mpp':>4s} {'keratin truth %':>15s} {'ours %':>7s} {'Dice':>5s} {'necrosis %':>10s} "
          f"{'fat %':>6s} {'background ok %':>15s}")
    for seed in args.keratin_seeds:
        mpp = 1.0 if seed % 2 else 0.5
        t = he_keratin_tile(seed, size=384 if mpp == 1.0 else 640, mpp=mpp)
        tmap = classify_tissue(t.rgb, mpp=mpp, model=model)
        labels = smoothed_labels(tmap, smooth_um=params.smooth_um)
        big = np.repeat(np.repeat(labels, tmap.factor, 0), tmap.factor, 1)[: t.rgb.shape[0], : t.rgb.shape[1]]
        clean = ~t.masks["background"]
        ker = big == names.index("keratin")
        truth = t.masks["keratin"]
        d = dice(ker & clean, truth) if truth.any() else float("nan")
        ours = 100.0 * (ker & clean).sum() / max(clean.sum(), 1)
        nec = 100.0 * ((big == names.index("necrosis")) & clean).sum() / max(clean.sum(), 1)
        fat = 100.0 * ((big == names.index("fat")) & clean).sum() / max(clean.sum(), 1)
        bg_ok = 100.0 * (big[t.masks["background"]] == names.index("background")).mean()
        if truth.sum() * mpp * mpp > 2000:  # Dice only where keratin covers > 2000 µm²
            worst_dice = min(worst_dice, d)
        worst_nec, worst_err = max(worst_nec, nec), max(worst_err, abs(ours - t.truth["keratin_fraction_pct"]))
        print(f"{seed:4d} {mpp:4.1f} {t.truth['keratin_fraction_pct']:15.1f} {ours:7.1f} {d:5.2f} {nec:10.1f} {fat:6.1f} "
              f"{bg_ok:15.1f}")
        if args.out is not None:
            colours = np.array([c.colour for c in model.classes], np.uint8)
            img = (0.5 * colours[big] + 0.5 * t.rgb).astype(np.uint8)
            _save(np.concatenate([t.rgb, img], 1), args.out / f"keratin_seed{seed}.png")
    print(f"worst keratin Dice {worst_dice:.2f}, worst |keratin error| {worst_err:.1f} pp, worst false necrosis "
          f"{worst_nec:.1f} %")
    return 0


def _sample_generator():
    spec = importlib.util.spec_from_file_location("_sample_tiles_generate", ROOT / "sample_tiles" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen
    spec.loader.exec_module(gen)
    return gen


def sample_recipe_tile(gen, seed: int, *, eosin: float = 0.38, angle_deg: float = 3.0, mpp: float = 0.5,
                       jpeg_quality: int | None = None, fraction: float = 0.38):
    """The necrosis recipe of ``sample_tiles/generate.py`` (1024² px at 0.5 µm/px) with its mask.

    ``generate.he_necrosis_tile`` itself (seed 505 with the defaults is the bundled tile), with
    the necrotic eosin level, vector rotation and necrotic fraction as parameters; ``mpp=1.0``
    averages 2x2 pixel blocks of the rendered image (and takes the majority of the mask);
    ``jpeg_quality`` re-encodes the result.
    """
    rgb, t = gen.he_necrosis_tile(seed, eosin=eosin, angle_deg=angle_deg, fraction=fraction)
    necrotic, tissue = t["masks"]["necrosis"], t["masks"]["tissue"]
    if mpp == 1.0:
        rgb = np.rint(rgb.reshape(512, 2, 512, 2, 3).mean((1, 3))).astype(np.uint8)
        necrotic = necrotic.reshape(512, 2, 512, 2).mean((1, 3)) >= 0.5
        tissue = tissue.reshape(512, 2, 512, 2).mean((1, 3)) >= 0.5
    elif mpp != 0.5:
        raise ValueError(f"mpp must be 0.5 or 1.0, got {mpp}")
    if jpeg_quality:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=int(jpeg_quality))
        rgb = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).copy()
    truth = 100.0 * (necrotic & tissue).sum() / tissue.sum()
    return rgb, mpp, truth, necrotic & tissue


def _cases(n_random: int = 0):
    """(generator, name, kwargs) of the generated-tile table: the fixed cases of each generator, then
    ``n_random`` randomised cases of each (parameters drawn from the case's seed)."""
    out = []
    fixed = [(1, 1.0, 3.0, 85, 0.4), (2, 0.5, 3.0, 85, 0.4), (3, 1.0, 6.0, 85, 0.25), (4, 0.5, 6.0, 60, 0.55),
             (5, 1.0, 3.0, None, 0.4), (6, 0.5, 4.0, 75, 0.3), (7, 1.0, 5.0, 70, 0.6), (8, 0.5, 2.0, 90, 0.45),
             (9, 1.0, 4.0, 80, 0.0), (10, 0.5, 3.0, 85, 0.0)]  # 9, 10: viable only
    for seed in range(11, 11 + n_random):
        r = np.random.default_rng(seed)
        fixed.append((seed, float(r.choice([0.5, 1.0])), round(float(r.uniform(2, 7)), 1),
                      None if r.random() < 0.25 else int(r.integers(55, 96)),
                      0.0 if r.random() < 0.2 else round(float(r.uniform(0.1, 0.6)), 2)))
    for seed, mpp, ang, q, frac in fixed:
        out.append(("synthetic", f"seed{seed} mpp{mpp} {ang:.0f}deg q{q} f{frac}",
                    {"seed": seed, "mpp": mpp, "angle_deg": ang, "jpeg_quality": q, "necrosis_fraction": frac,
                         "size": int(384 / mpp) if mpp == 1.0 else 768}))
    recipe = [(505, 0.38, 0.5, 3.0, None, 0.38), (506, 0.38, 1.0, 3.0, None, 0.38), (507, 0.2, 0.5, 5.0, 80, 0.5),
              (508, 0.55, 0.5, 3.0, 70, 0.3), (509, 0.28, 1.0, 6.0, 85, 0.45), (510, 0.12, 0.5, 3.0, None, 0.4)]
    for seed in range(520, 520 + n_random):
        r = np.random.default_rng(seed)
        recipe.append((seed, round(float(r.uniform(0.1, 0.6)), 2), float(r.choice([0.5, 1.0])),
                       round(float(r.uniform(2, 7)), 1), None if r.random() < 0.3 else int(r.integers(55, 96)),
                       round(float(r.uniform(0.1, 0.6)), 2)))
    for seed, eos, mpp, ang, q, frac in recipe:
        out.append(("sample", f"seed{seed} E{eos} mpp{mpp} {ang:.0f}deg q{q} f{frac}",
                    {"seed": seed, "eosin": eos, "mpp": mpp, "angle_deg": ang, "jpeg_quality": q, "fraction": frac}))
    for seed in TISSUE_EVAL_SEEDS[: 10 + n_random]:
        mpp = 1.0 if seed % 2 else 0.5
        out.append(("tissue", f"seed{seed} mpp{mpp}", {"seed": seed, "mpp": mpp, "size": 384 if mpp == 1.0 else 640}))
    for seed in MIMIC_EVAL_SEEDS[: 10 + n_random]:
        mpp = 1.0 if seed % 2 else 0.5
        out.append(("mimic", f"seed{seed} mpp{mpp}", {"seed": seed, "mpp": mpp, "size": 384 if mpp == 1.0 else 640}))
    return out


def synthetic_mode(args: argparse.Namespace, params: NecrosisParams, summary: dict | None = None) -> int:
    """Generated tiles of the four generators: error (pp) and Dice per tile, worst and mean per generator."""
    from mmnst_path import synthetic
    from mmnst_path.synthetic_tissue import he_mimic_tile, he_tissue_tile

    gen = _sample_generator()
    stats: dict[str, dict[str, list[float]]] = {}
    mimic_share: dict[str, list[float]] = {}
    print(f"{'generator':10s} {'case':42s} {'truth %':>8s} {'ours %':>7s} {'err pp':>7s} {'Dice':>5s} {'s':>5s}")
    for kind, name, kw in _cases(args.random_cases):
        if args.generators and kind not in args.generators:
            continue
        if kind == "synthetic":
            t = synthetic.he_necrosis_tile(**kw)
            rgb, mpp, truth_pct, truth = t.rgb, t.mpp, t.truth["necrosis_fraction_pct"], t.masks["necrosis"]
        elif kind == "tissue":
            tt = he_tissue_tile(kw["seed"], size=kw["size"], mpp=kw["mpp"])
            rgb, mpp, truth_pct, truth = tt.rgb, tt.mpp, tt.truth["necrosis_fraction_pct"], tt.masks["necrosis"]
            name = f"{name} {tt.truth['layout']}"
        elif kind == "mimic":
            tt = he_mimic_tile(kw["seed"], size=kw["size"], mpp=kw["mpp"])
            rgb, mpp, truth_pct, truth = tt.rgb, tt.mpp, tt.truth["necrosis_fraction_pct"], tt.masks["necrosis"]
            name = f"{name} {tt.truth['necrosis_kind']}"
        else:
            rgb, mpp, truth_pct, truth = sample_recipe_tile(gen, **kw)
        t0 = time.perf_counter()
        counts, mask, mask_mpp = measure_necrosis(rgb, mpp=mpp, params=params)
        secs = time.perf_counter() - t0
        pct = necrosis_metrics(counts)["necrosis_fraction_pct"]
        big = mask_to_tile(mask, rgb.shape[:2], mpp=mpp, mask_mpp=mask_mpp)
        st = stats.setdefault(kind, {"err": [], "dice": [], "false": []})
        if truth_pct >= 5.0:  # Dice and error where necrosis is a real part of the tile
            d = dice(big, truth)
            st["err"].append(pct - truth_pct)
            st["dice"].append(d)
        elif truth.any():
            d = dice(big, truth)
            st["err"].append(pct - truth_pct)
        else:
            d = float("nan")
            st["false"].append(pct)
        print(f"{kind:10s} {name:42s} {truth_pct:8.1f} {pct:7.1f} {pct - truth_pct:+7.1f} {d:5.2f} {secs:5.1f}")
        if kind == "mimic":  # share of each truth class read as necrosis
            for cls in MIMIC_TRUTH:
                if tt.masks[cls].sum() * mpp * mpp >= 1000:
                    mimic_share.setdefault(cls, []).append(100.0 * float((big & tt.masks[cls]).mean() / tt.masks[cls].mean()))
        if args.out is not None:
            _save(_overlay(rgb, mask, mpp, mask_mpp, truth), args.out / f"{kind}_{name.replace(' ', '_')}.png")
    ok = True
    print("generator   tiles  |err| mean  worst err pp   Dice min / mean   false necrosis max % (tiles)")
    for kind, st in stats.items():
        err = np.asarray(st["err"])
        worst = float(err[np.argmax(np.abs(err))]) if err.size else float("nan")
        dmin = min(st["dice"], default=float("nan"))
        dmean = float(np.mean(st["dice"])) if st["dice"] else float("nan")
        fmax = max(st["false"], default=float("nan"))
        print(f"{kind:10s} {len(st['err']) + len(st['false']):6d} {np.mean(np.abs(err)):11.2f} {worst:+13.1f} "
              f"{dmin:9.2f} / {dmean:4.2f} {fmax:14.1f} ({len(st['false'])})")
        ok &= bool(abs(worst) <= 3.0 and dmin >= 0.85 and not fmax >= 2.0)
        if summary is not None:
            summary.setdefault("generators", {})[kind] = {
                "tiles": len(st["err"]) + len(st["false"]), "mean_abs": float(np.mean(np.abs(err))), "worst": worst,
                "dice_min": dmin, "dice_mean": dmean, "false_max": fmax, "errors": [float(e) for e in err]}
    if mimic_share:
        print("mimic tiles, % of each truth class read as necrosis (mean / max over tiles with >= 1000 µm² of it): "
              + ", ".join(f"{c} {np.mean(v):.1f} / {max(v):.1f} (n={len(v)})" for c, v in mimic_share.items()))
        if summary is not None:
            summary["mimic_share"] = {c: {"mean": float(np.mean(v)), "max": max(v), "n": len(v)}
                                      for c, v in mimic_share.items()}
    print("goals: |err| <= 3 pp, Dice >= 0.85 (tiles with >= 5 % necrosis), false necrosis < 2 % (tiles without)")
    return 0 if ok else 1


def figures(argv: list[str]) -> dict:
    """The summary figures of the mode the options choose (``--brca``, ``--synthetic`` or the real tiles), as
    a dict (keys ``brca_*``, ``generators`` or ``osteo_*``); printing as :func:`main`."""
    summary: dict = {}
    main(argv, summary)
    return summary


def main(argv: list[str] | None = None, summary: dict | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA.resolve())
    ap.add_argument("--mpp", type=float, default=1.0, help="µm/px of the real tiles")
    ap.add_argument("--out", type=Path, default=None, help="folder for overlay images")
    ap.add_argument("--synthetic", action="store_true", help="generated tiles of both generators")
    ap.add_argument("--slides", action="store_true", help="the viable real slides through the pipeline")
    ap.add_argument("--wsi", type=Path, default=WSI.resolve())
    ap.add_argument("--brca", action="store_true", help="false necrosis on the BRCA-M2C test patches (viable H&E)")
    ap.add_argument("--train", type=Path, default=TRAIN.resolve(), help="the training-data folder (BRCA-M2C)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--keratin", action="store_true", help="held-out generated keratinising squamous tiles")
    ap.add_argument("--keratin-seeds", type=int, nargs="+", default=list(range(900, 912)))
    ap.add_argument("--tissue-model", default="default", help="'default', 'none' (rules) or a model file")
    ap.add_argument("--random-cases", type=int, default=0, metavar="N",
                    help="--synthetic: N randomised cases of each generator besides the fixed ones")
    ap.add_argument("--generators", nargs="+", default=None, choices=("synthetic", "sample", "tissue", "mimic"),
                    help="--synthetic: only these generators (default all)")
    ap.add_argument("--min-area-um2", type=float, default=None, help="NecrosisParams.min_area_um2 (default: its own)")
    ap.add_argument("--fill-holes-um2", type=float, default=None,
                    help="NecrosisParams.fill_holes_um2: holes in necrosis below this area become necrosis")
    ap.add_argument("--intact-veto", type=float, default=None, metavar="D",
                    help="NecrosisParams.intact_veto_density: no necrosis where >= D intact nuclei per 1000 µm² (0: off)")
    ap.add_argument("--intact-contrast-od", type=float, default=None, help="NecrosisParams.intact_contrast_od")
    ap.add_argument("--intact-surround", type=float, default=None, help="NecrosisParams.intact_surround_tissue")
    ap.add_argument("--intact-max-mpp", type=float, default=None, help="NecrosisParams.intact_max_mpp_um")
    ap.add_argument("--intact-min-fill", type=float, default=None, help="NecrosisParams.intact_min_fill")
    ap.add_argument("--intact-min-extent", type=float, default=None, help="NecrosisParams.intact_min_extent_um")
    args = ap.parse_args(argv)
    region = {k: v for k, v in (("min_area_um2", args.min_area_um2), ("fill_holes_um2", args.fill_holes_um2),
                                ("intact_veto_density", args.intact_veto),
                                ("intact_contrast_od", args.intact_contrast_od),
                                ("intact_surround_tissue", args.intact_surround),
                                ("intact_max_mpp_um", args.intact_max_mpp),
                                ("intact_min_fill", args.intact_min_fill),
                                ("intact_min_extent_um", args.intact_min_extent)) if v is not None}
    params = NecrosisParams(tissue_model=args.tissue_model, **region)
    if args.slides:
        return slides(args, params)
    if args.keratin:
        return keratin_mode(args, params)
    if args.brca:
        return brca_mode(args, params, summary)
    return synthetic_mode(args, params, summary) if args.synthetic else real(args, params, summary)


if __name__ == "__main__":
    raise SystemExit(main())
