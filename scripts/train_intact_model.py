"""Train the intact-vs-ghost nucleus model of the necrosis veto (``mmnst_path/models/intact_nuclei_he.mmnst``).

Rows (features of :func:`mmnst_path.quantify._intact_model.candidate_features` on the loose candidates of
``candidate_peaks``), all at 0.5 µm/px, dev data only (session 36 H3):

- intact: candidates within 4 µm of an annotated nucleus of the 90 BRCA-M2C train + val patches, and of OD-faded
  copies of them (OD x U(0.45, 0.8), one draw per patch, seed 36): faded slides keep blue nuclei;
- ghost: every candidate of the two osteosarcoma training Non-Viable-Tumor tiles (``_tissue_recipe.OSTEO_TRAIN``,
  upsampled x2 bicubic to 0.5 µm/px) and every candidate inside the necrosis truth (eroded 4 µm) of generated
  ``he_necrosis_tile`` seeds 40-47 and 360-369.

The call threshold stored in the model (``settings["threshold"]``) gives 90 % intact recall on the original
BRCA-M2C nuclei's out-of-fold probabilities (5 folds of whole patches, tile quadrants and seeds, fold draw 0).
The BRCA-M2C test split, the held-out renderers, the real slides and the research-only Ki67 sets are not read.

    python scripts/train_intact_model.py --out mmnst_path/models/intact_nuclei_he.mmnst [--rows ROWS.npz]
"""

from __future__ import annotations

import argparse
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
GEN_SEEDS = (*range(40, 48), *range(360, 370))
FADE_SEED = 36
FADE_RANGE = (0.45, 0.8)
FOREST = {"n_estimators": 100, "max_depth": 8, "min_samples_leaf": 20, "class_weight": "balanced"}
RECALL = 0.90


def fade(rgb: np.ndarray, factor: float) -> np.ndarray:
    """``rgb`` with its optical density (white point 255) scaled by ``factor``."""
    from mmnst_path.stain import od_from_rgb

    od = od_from_rgb(rgb).astype(np.float64) * factor
    return np.clip(np.round(255.0 * 10.0 ** (-od)), 0, 255).astype(np.uint8)


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


def rows() -> dict[str, np.ndarray]:
    """x, y (1 intact, 0 ghost), group (CV group), source (brca, fade, osteo, gen)."""
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
    for name in names:
        rgb = np.asarray(Image.open(BRCA / "mixed" / name).convert("RGB"))
        pts = np.loadtxt(BRCA / "mixed" / (name[:-4] + "_gt_class_coords.txt"), ndmin=2)[:, :2].astype(float)
        x, r, c = _features(rgb)
        add(x, _near(r, c, pts), 1, name, "brca")
        x, r, c = _features(fade(rgb, float(rng.uniform(*FADE_RANGE))))
        add(x, _near(r, c, pts), 1, name, "fade")
    for name, cls in sorted(recipe.OSTEO_TRAIN.items()):
        if cls != "necrosis":
            continue
        img = Image.open(OSTEO / name).convert("RGB")
        rgb = np.asarray(img.resize((img.width * 2, img.height * 2), Image.Resampling.BICUBIC))
        x, r, c = _features(rgb)
        ri, ci = np.round(r).astype(int), np.round(c).astype(int)
        quad = np.array([f"{name}#q{q}" for q in (ri >= rgb.shape[0] // 2) * 2 + (ci >= rgb.shape[1] // 2)], object)
        add(x, np.ones(len(r), bool), 0, quad, "osteo")
    for seed in GEN_SEEDS:
        t = he_necrosis_tile(seed, mpp=MPP)
        ghost = ndi.binary_erosion(t.masks["necrosis"], iterations=int(4.0 / MPP))
        x, r, c = _features(t.rgb)
        ri = np.clip(np.round(r).astype(int), 0, t.rgb.shape[0] - 1)
        ci = np.clip(np.round(c).astype(int), 0, t.rgb.shape[1] - 1)
        add(x, ghost[ri, ci], 0, f"he_necrosis_tile/{seed}", "gen")
        print(f"rows so far: {sum(len(y) for y in ys)}", flush=True)
    return {"x": np.concatenate(xs).astype(np.float32), "y": np.concatenate(ys), "group": np.concatenate(gs),
            "source": np.concatenate(ss)}


def oof_threshold(d: dict[str, np.ndarray]) -> tuple[float, dict[str, float]]:
    """The probability giving RECALL intact recall on the original BRCA-M2C rows, out of fold, and the ghosts
    passed at it per source."""
    from sklearn.ensemble import RandomForestClassifier

    groups = np.unique(d["group"])
    perm = np.random.default_rng(0).permutation(len(groups))
    gfold = {g: int(perm[i] % 5) for i, g in enumerate(groups)}
    fold = np.array([gfold[g] for g in d["group"]])
    score = np.zeros(len(d["y"]))
    for k in range(5):
        rf = RandomForestClassifier(**FOREST, random_state=0, n_jobs=1).fit(d["x"][fold != k], d["y"][fold != k])
        score[fold == k] = rf.predict_proba(d["x"][fold == k])[:, 1]
    brca = d["source"] == "brca"
    thr = float(np.quantile(score[brca], 1.0 - RECALL))
    a8 = brca & np.char.startswith(d["group"].astype(str), "TCGA-A8")
    figs = {f"ghosts_passed_{s}": float((score[d["source"] == s] >= thr).mean()) for s in ("osteo", "gen")}
    figs["intact_recall_site_A8"] = float((score[a8] >= thr).mean())
    figs["intact_recall_other_sites"] = float((score[brca & ~a8] >= thr).mean())
    return thr, figs


def main() -> None:
    from mmnst_path.classify.train import train_model
    from mmnst_path.quantify._intact_model import CLASSES, FEATURES, SETTINGS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--rows", type=Path, help="cache of the rows (read if present, else written)")
    ap.add_argument("--version", default="1.0.0")
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
        "threshold": {"value": thr, "rule": f"{RECALL:.0%} intact recall on the BRCA-M2C rows out of fold",
                      **figs},
        "training_data": [
            {**BRCA_M2C,
             "use": ("intact: candidates within 4 µm of an annotated nucleus of the 90 train / val patches at 0.5 µm/px, "
                     f"and of OD-faded copies (OD x U{FADE_RANGE}, seed {FADE_SEED})")},
            {"dataset": "Osteosarcoma-Tumor-Assessment (TCIA)", "licence": "CC BY 3.0",
             "citation": ("Leavey P, Sengupta A, Rakheja D, et al. Osteosarcoma data from UT Southwestern/UT Dallas for "
                          "Viable and Necrotic Tumor Assessment. The Cancer Imaging Archive, 2019, "
                          "doi:10.7937/tcia.2019.bvhjhdas"),
             "use": ("ghost: every candidate of the training Non-Viable-Tumor tiles "
                     + ", ".join(n for n, c in sorted(recipe.OSTEO_TRAIN.items()) if c == "necrosis")
                     + " (upsampled x2 bicubic to 0.5 µm/px)")},
            {"dataset": "mmnst_path.synthetic.he_necrosis_tile (generated by this project)", "licence": "BSD-3-Clause",
             "use": f"ghost: candidates inside the necrosis truth (eroded 4 µm) of seeds {list(GEN_SEEDS)} at 0.5 µm/px"},
        ],
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
