"""Train the intact-vs-ghost nucleus model of the necrosis veto (``mmnst_path/models/intact_nuclei_he.mmnst``).

Rows (features of :func:`mmnst_path.quantify._intact_model.candidate_features` on the loose candidates of
``candidate_peaks``), all at 0.5 µm/px, dev data only (session 36 H3; stain augmentation session 37 H4):

- intact: candidates within 4 µm of an annotated nucleus of the 90 BRCA-M2C train + val patches, of OD-faded
  copies of them (OD x U(0.45, 0.8), one draw per patch, seed 36): faded slides keep blue nuclei, and of
  ``AUG_COPIES`` stain-augmented copies (:func:`stain_augment`, ranges ``AUG``, seed 37): hematoxylin turned toward
  grey / eosin (grey-purple nuclei), stain amounts scaled, white balance shifted;
- ghost: every candidate of the two osteosarcoma training Non-Viable-Tumor tiles (``_tissue_recipe.OSTEO_TRAIN``,
  upsampled x2 bicubic to 0.5 µm/px) and every candidate inside the necrosis truth (eroded 4 µm) of generated
  ``he_necrosis_tile`` seeds 40-47, 360-369 and 720-739, each with stain-augmented copies drawn as the intact ones
  (``AUG_COPIES`` per osteosarcoma tile, ``GEN_AUG_COPIES`` per generated tile), so that neither class owns a hue.

The call threshold stored in the model (``settings["threshold"]``) is chosen by ``THRESHOLD_RULE`` on the
out-of-fold probabilities (5 folds of whole patches, tile quadrants and seeds, fold draw 0; a copy is in its
source's fold). The BRCA-M2C test split, the held-out renderers, the real slides and the research-only Ki67 sets
are not read.

    python scripts/train_intact_model.py --out mmnst_path/models/intact_nuclei_he.mmnst [--rows ROWS.npz]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))

BRCA = Path("/work/shared/train/brca_m2c")
OSTEO = Path("/work/shared/data/necrosis")
MPP = 0.5
GEN_SEEDS = (*range(40, 48), *range(360, 370), *range(720, 740))
FADE_SEED = 36
FADE_RANGE = (0.45, 0.8)
FOREST = {"n_estimators": 100, "max_depth": 14, "min_samples_leaf": 5, "class_weight": "balanced"}
#: the threshold: the lowest probability at which at most GHOST_PASS of the original ghosts of each source
#: (osteosarcoma NVT, generated) pass, out of fold
GHOST_PASS = 0.01
THRESHOLD_RULE = (f"the lowest probability passing at most {GHOST_PASS:.0%} of the original ghosts of each source "
                  "(osteosarcoma NVT, generated he_necrosis_tile) out of fold")
#: stain augmentation (session 37 H4): copies per image of every source, seed, and the ranges of ``stain_augment``
AUG_SEED = 37
AUG_COPIES = 4
#: copies of each generated tile (its ghosts are few and hematoxylin-coloured: contrast alone separates them)
GEN_AUG_COPIES = 12
AUG = {"grey": (0.0, 0.8), "h_to_eosin": (0.0, 0.25), "e_grey": (0.0, 0.3), "h_scale": (0.5, 1.3),
       "e_scale": (0.5, 1.5), "white_od": (0.0, 0.04)}


def fade(rgb: np.ndarray, factor: float) -> np.ndarray:
    """``rgb`` with its optical density (white point 255) scaled by ``factor``."""
    from mmnst_path.stain import od_from_rgb

    od = od_from_rgb(rgb).astype(np.float64) * factor
    return np.clip(np.round(255.0 * 10.0 ** (-od)), 0, 255).astype(np.uint8)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def stain_augment(rgb: np.ndarray, rng: np.random.Generator, ranges: dict[str, tuple[float, float]]) -> np.ndarray:
    """``rgb`` re-stained in optical density: its hematoxylin, eosin and residual amounts (Ruifrok H&E unmixing) put
    back with a hematoxylin vector turned toward grey (``grey``: share of the unit grey vector) and then toward eosin
    (``h_to_eosin``), an eosin vector turned toward grey (``e_grey``), the amounts scaled (``h_scale``, ``e_scale``)
    and a white-balance offset per channel (``white_od``, OD added to every pixel). Each draw is uniform in its range.
    Grey-purple, pale or strongly stained slides and tinted backgrounds, for intact nuclei and ghosts alike."""
    from mmnst_path.stain import load_stains, od_from_rgb

    m = load_stains("H&E")
    draw = {k: float(rng.uniform(*v)) for k, v in ranges.items()}
    white = rng.uniform(*ranges["white_od"], size=3)
    h, e, r = (_unit(np.asarray(m.vector(n), np.float64)) for n in m.names)
    grey = np.full(3, 3 ** -0.5)
    h2 = _unit(_unit((1 - draw["grey"]) * h + draw["grey"] * grey) + draw["h_to_eosin"] * e)
    e2 = _unit((1 - draw["e_grey"]) * e + draw["e_grey"] * grey)
    od = od_from_rgb(rgb).astype(np.float64)
    amount = od @ np.linalg.inv(np.stack([h, e, r]))
    new = (amount[..., :1] * draw["h_scale"] * h2 + amount[..., 1:2] * draw["e_scale"] * e2
           + amount[..., 2:] * r + white)
    return np.clip(np.round(255.0 * 10.0 ** (-new)), 0, 255).astype(np.uint8)


def _features(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from mmnst_path.quantify._intact_model import candidate_features, candidate_peaks
    from mmnst_path.stain import load_stains, od_from_rgb

    od = od_from_rgb(rgb, background=load_stains("H&E").background)
    nuc = candidate_peaks(rgb, od, mpp=MPP)
    return candidate_features(od, nuc, mpp=MPP), np.asarray(nuc.row), np.asarray(nuc.col)


def _near(row: np.ndarray, col: np.ndarray, pts: np.ndarray) -> np.ndarray:
    if not len(row) or not len(pts):
        return np.zeros(len(row), bool)
    d = np.hypot(row[:, None] - pts[None, :, 0], col[:, None] - pts[None, :, 1])
    return d.min(1) * MPP <= 4.0


def rows(augment: int = AUG_COPIES) -> dict[str, np.ndarray]:
    """x, y (1 intact, 0 ghost), group (CV group), source (brca, fade, brca_aug, osteo, osteo_aug, gen, gen_aug);
    ``augment`` stain-augmented copies (:func:`stain_augment`) of every image of every source."""
    import _tissue_recipe as recipe

    from mmnst_path.synthetic import he_necrosis_tile

    xs, ys, gs, ss = [], [], [], []

    def add(x: np.ndarray, keep: np.ndarray, label: int, group, source: str) -> None:
        xs.append(x[keep])
        ys.append(np.full(int(keep.sum()), label))
        gs.append(np.broadcast_to(np.asarray(group, dtype=object), keep.shape)[keep].astype(str))
        ss.append(np.full(int(keep.sum()), source))

    names = sorted((BRCA / "_meta/brca_ds_train.txt").read_text().split()
                   + (BRCA / "_meta/brca_ds_val.txt").read_text().split())
    rng = np.random.default_rng(FADE_SEED)
    arng = np.random.default_rng(AUG_SEED)
    for name in names:
        rgb = np.asarray(Image.open(BRCA / "mixed" / name).convert("RGB"))
        pts = np.loadtxt(BRCA / "mixed" / (name[:-4] + "_gt_class_coords.txt"), ndmin=2)[:, :2].astype(float)
        x, r, c = _features(rgb)
        add(x, _near(r, c, pts), 1, name, "brca")
        x, r, c = _features(fade(rgb, float(rng.uniform(*FADE_RANGE))))
        add(x, _near(r, c, pts), 1, name, "fade")
        for _ in range(augment):
            x, r, c = _features(stain_augment(rgb, arng, AUG))
            add(x, _near(r, c, pts), 1, name, "brca_aug")
    for name, cls in sorted(recipe.OSTEO_TRAIN.items()):
        if cls != "necrosis":
            continue
        img = Image.open(OSTEO / name).convert("RGB")
        rgb0 = np.asarray(img.resize((img.width * 2, img.height * 2), Image.Resampling.BICUBIC))
        for k in range(1 + augment):
            rgb = rgb0 if k == 0 else stain_augment(rgb0, arng, AUG)
            x, r, c = _features(rgb)
            ri, ci = np.round(r).astype(int), np.round(c).astype(int)
            quad = np.array([f"{name}#q{q}" for q in (ri >= rgb.shape[0] // 2) * 2 + (ci >= rgb.shape[1] // 2)],
                            object)
            add(x, np.ones(len(r), bool), 0, quad, "osteo" if k == 0 else "osteo_aug")
    for seed in GEN_SEEDS:
        t = he_necrosis_tile(seed, mpp=MPP)
        ghost = ndi.binary_erosion(t.masks["necrosis"], iterations=int(4.0 / MPP))
        for k in range(1 + (GEN_AUG_COPIES if augment else 0)):
            x, r, c = _features(t.rgb if k == 0 else stain_augment(t.rgb, arng, AUG))
            ri = np.clip(np.round(r).astype(int), 0, t.rgb.shape[0] - 1)
            ci = np.clip(np.round(c).astype(int), 0, t.rgb.shape[1] - 1)
            add(x, ghost[ri, ci], 0, f"he_necrosis_tile/{seed}", "gen" if k == 0 else "gen_aug")
        print(f"rows so far: {sum(len(y) for y in ys)}", flush=True)
    return {"x": np.concatenate(xs).astype(np.float32), "y": np.concatenate(ys), "group": np.concatenate(gs),
            "source": np.concatenate(ss)}


def rule_threshold(score: np.ndarray, source: np.ndarray) -> float:
    """``THRESHOLD_RULE``: at most GHOST_PASS of each source's original ghosts score at or above it (the next float
    above the source's quantile, so that no score at the quantile itself passes)."""
    return max(float(np.nextafter(np.quantile(score[source == s], 1.0 - GHOST_PASS, method="higher"), 1.0))
               for s in ("osteo", "gen"))


def oof_threshold(d: dict[str, np.ndarray]) -> tuple[float, dict[str, float]]:
    """The threshold of ``THRESHOLD_RULE`` on the out-of-fold probabilities, and at it the ghosts passed per source
    and the intact recall (original BRCA-M2C rows: site A8, other sites; faded and stain-augmented copies)."""
    from sklearn.ensemble import RandomForestClassifier

    groups = np.unique(d["group"])
    perm = np.random.default_rng(0).permutation(len(groups))
    gfold = {g: int(perm[i] % 5) for i, g in enumerate(groups)}
    fold = np.array([gfold[g] for g in d["group"]])
    score = np.zeros(len(d["y"]))
    for k in range(5):
        rf = RandomForestClassifier(**FOREST, random_state=0, n_jobs=1).fit(d["x"][fold != k], d["y"][fold != k])
        score[fold == k] = rf.predict_proba(d["x"][fold == k])[:, 1]
    src = d["source"]
    thr = rule_threshold(score, src)
    brca = src == "brca"
    a8 = brca & np.char.startswith(d["group"].astype(str), "TCGA-A8")
    figs = {f"ghosts_passed_{s}": float((score[src == s] >= thr).mean())
            for s in ("osteo", "gen", "osteo_aug", "gen_aug") if (src == s).any()}
    figs["intact_recall_brca"] = float((score[brca] >= thr).mean())
    figs["intact_recall_site_A8"] = float((score[a8] >= thr).mean())
    figs["intact_recall_other_sites"] = float((score[brca & ~a8] >= thr).mean())
    figs.update({f"intact_recall_{s}": float((score[src == s] >= thr).mean()) for s in ("fade", "brca_aug")
                 if (src == s).any()})
    return thr, figs


def main() -> None:
    from mmnst_path.classify.train import train_model
    from mmnst_path.quantify._intact_model import CLASSES, FEATURES, SETTINGS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--rows", type=Path, help="cache of the rows (read if present, else written)")
    ap.add_argument("--version", default="1.1.0")
    ap.add_argument("--validation", type=Path, help="JSON of validation figures to add to the card's threshold entry")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.rows is not None and args.rows.is_file():
        d = dict(np.load(args.rows, allow_pickle=False))
    else:
        d = rows()
        if args.rows is not None:
            np.savez_compressed(args.rows, **d)
    thr, figs = oof_threshold(d)
    print(f"out-of-fold threshold {thr!r}: {figs}", flush=True)
    if args.validation is not None:
        figs.update(json.loads(args.validation.read_text()))
    import _tissue_recipe as recipe
    from _training_data import BRCA_M2C

    card = {
        "name": "mmnst_path intact-nucleus model (H&E: a nucleus candidate intact or a ghost, for the necrosis veto)",
        "version": args.version,
        "licence": "same as mmnst_path",
        "intended_use": ("decides for each loose hematoxylin-contrast candidate near the tissue model's necrosis "
                         "whether it is an intact nucleus (viable tissue, however faded) or a ghost of necrosis; "
                         "used by the intact-nucleus veto when NecrosisParams.intact_model names it; H&E at "
                         "0.25-0.55 µm/px"),
        "classes": {"ghost": "candidate of necrosis (ghost nucleus, debris)", "intact": "intact nucleus"},
        "threshold": {"value": thr, "rule": THRESHOLD_RULE,
                      **figs},
        "training_data": [
            {**BRCA_M2C,
             "use": ("intact: candidates within 4 µm of an annotated nucleus of the 90 train / val patches at 0.5 µm/px, "
                     f"of OD-faded copies (OD x U{FADE_RANGE}, seed {FADE_SEED}) and of {AUG_COPIES} stain-augmented "
                     f"copies per patch (augmentation below)")},
            {"dataset": "Osteosarcoma-Tumor-Assessment (TCIA)", "licence": "CC BY 3.0",
             "citation": ("Leavey P, Sengupta A, Rakheja D, et al. Osteosarcoma data from UT Southwestern/UT Dallas for "
                          "Viable and Necrotic Tumor Assessment. The Cancer Imaging Archive, 2019, "
                          "doi:10.7937/tcia.2019.bvhjhdas"),
             "use": ("ghost: every candidate of the training Non-Viable-Tumor tiles "
                     + ", ".join(n for n, c in sorted(recipe.OSTEO_TRAIN.items()) if c == "necrosis")
                     + f" (upsampled x2 bicubic to 0.5 µm/px) and of {AUG_COPIES} stain-augmented copies per tile")},
            {"dataset": "mmnst_path.synthetic.he_necrosis_tile (generated by this project)", "licence": "BSD-3-Clause",
             "use": (f"ghost: candidates inside the necrosis truth (eroded 4 µm) of seeds {list(GEN_SEEDS)} at 0.5 µm/px "
                     f"and of {GEN_AUG_COPIES} stain-augmented copies per tile")},
        ],
        "augmentation": {"what": ("stain_augment: Ruifrok H&E amounts of each image put back in optical density with "
                                  "the hematoxylin vector turned toward grey (share 'grey' of the unit grey vector) and "
                                  "then toward eosin ('h_to_eosin'), the eosin vector toward grey ('e_grey'), the amounts "
                                  "scaled ('h_scale', 'e_scale') and a white-balance OD offset per channel ('white_od'); "
                                  "uniform draws"),
                         "ranges": {k: list(v) for k, v in AUG.items()}, "seed": AUG_SEED,
                         "copies": {"brca_m2c_patch": AUG_COPIES, "osteosarcoma_tile": AUG_COPIES,
                                    "generated_tile": GEN_AUG_COPIES}},
        "not_trained_on": ("the BRCA-M2C test split, the osteosarcoma evaluation tiles, the held-out renderers of "
                           "benchmarks/heldout_render*.py, the real slides and the research-only Ki67 sets"),
        "script": "scripts/train_intact_model.py",
    }
    settings = dict(SETTINGS, threshold=thr, mpp=MPP)
    model = train_model(d["x"], d["y"], kind="nucleus", classes=CLASSES, features=FEATURES, settings=settings,
                        card=card, **FOREST)
    path = model.save(args.out)
    print(f"saved {path} ({model.model_id}); top features {model.card['top_features']}; "
          f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
