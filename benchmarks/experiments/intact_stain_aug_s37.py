"""Session 37 H4 (#13): dev screen of the stain-augmented intact-nucleus model (dev data only).

    python intact_stain_aug_s37.py rows OUT.npz            the trainer's rows with its stain augmentation
    python intact_stain_aug_s37.py screen_rows OUT.npz     grey-shifted copies of the BRCA-M2C dev patches (seed 3700)
                                                           and of the ghost sources (seed 3701): screen rows only
    python intact_stain_aug_s37.py screen ROWS.npz SCREEN.npz [SOURCES]   out-of-fold screen 1 for a forest trained
                                                           on SOURCES (comma list; default all of ROWS)
    python intact_stain_aug_s37.py veto MODEL [MODEL ...]  screen 2: the library veto fed each model on the 90 BRCA-M2C
                                                           dev patches and on he_necrosis_tile seeds 730-739
Run from the worktree root with PYTHONPATH=.:scripts. Screen 1 uses the trainer's grouping and fold draw 0; a screen
copy is predicted by the fold that holds its source patch / quadrant / seed out.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import train_intact_model as T

#: the screen's grey-purple shift (a subset of the training ranges, drawn with its own seed)
GREY = {"grey": (0.4, 0.7), "h_to_eosin": (0.0, 0.2), "e_grey": (0.0, 0.0), "h_scale": (0.6, 1.0),
        "e_scale": (1.0, 1.0), "white_od": (0.0, 0.0)}
DEV_SEEDS = tuple(range(730, 740))  # in the trainer's GEN_SEEDS since design 5: in-sample there (not run)


def screen_rows() -> dict[str, np.ndarray]:
    import _tissue_recipe as recipe

    from mmnst_path.synthetic import he_necrosis_tile

    xs, ys, gs, ss = [], [], [], []

    def add(x, keep, label, group, source):
        xs.append(x[keep])
        ys.append(np.full(int(keep.sum()), label))
        gs.append(np.broadcast_to(np.asarray(group, dtype=object), keep.shape)[keep].astype(str))
        ss.append(np.full(int(keep.sum()), source))

    names = sorted((T.BRCA / "_meta/brca_ds_train.txt").read_text().split()
                   + (T.BRCA / "_meta/brca_ds_val.txt").read_text().split())
    rng = np.random.default_rng(3700)
    for name in names:
        rgb = np.asarray(Image.open(T.BRCA / "mixed" / name).convert("RGB"))
        pts = np.loadtxt(T.BRCA / "mixed" / (name[:-4] + "_gt_class_coords.txt"), ndmin=2)[:, :2].astype(float)
        x, r, c = T._features(T.stain_augment(rgb, rng, GREY))
        add(x, T._near(r, c, pts), 1, name, "brca_grey")
    rng = np.random.default_rng(3701)
    for name, cls in sorted(recipe.OSTEO_TRAIN.items()):
        if cls != "necrosis":
            continue
        img = Image.open(T.OSTEO / name).convert("RGB")
        rgb = np.asarray(img.resize((img.width * 2, img.height * 2), Image.Resampling.BICUBIC))
        x, r, c = T._features(T.stain_augment(rgb, rng, GREY))
        ri, ci = np.round(r).astype(int), np.round(c).astype(int)
        quad = np.array([f"{name}#q{q}" for q in (ri >= rgb.shape[0] // 2) * 2 + (ci >= rgb.shape[1] // 2)], object)
        add(x, np.ones(len(r), bool), 0, quad, "osteo_grey")
    for seed in T.GEN_SEEDS:
        t = he_necrosis_tile(seed, mpp=T.MPP)
        ghost = ndi.binary_erosion(t.masks["necrosis"], iterations=int(4.0 / T.MPP))
        x, r, c = T._features(T.stain_augment(t.rgb, rng, GREY))
        ri = np.clip(np.round(r).astype(int), 0, t.rgb.shape[0] - 1)
        ci = np.clip(np.round(c).astype(int), 0, t.rgb.shape[1] - 1)
        add(x, ghost[ri, ci], 0, f"he_necrosis_tile/{seed}", "gen_grey")
    return {"x": np.concatenate(xs).astype(np.float32), "y": np.concatenate(ys), "group": np.concatenate(gs),
            "source": np.concatenate(ss)}


def screen(d: dict, s: dict, sources: list[str] | None) -> dict:
    from sklearn.ensemble import RandomForestClassifier

    if sources is not None:
        keep = np.isin(d["source"], sources)
        d = {k: v[keep] for k, v in d.items()}
    groups = np.unique(d["group"])
    perm = np.random.default_rng(0).permutation(len(groups))
    gfold = {g: int(perm[i] % 5) for i, g in enumerate(groups)}
    fold = np.array([gfold[g] for g in d["group"]])
    sfold = np.array([gfold[g] for g in s["group"]])
    score, sscore = np.zeros(len(d["y"])), np.zeros(len(s["y"]))
    for k in range(5):
        rf = RandomForestClassifier(**T.FOREST, random_state=0, n_jobs=1).fit(d["x"][fold != k], d["y"][fold != k])
        score[fold == k] = rf.predict_proba(d["x"][fold == k])[:, 1]
        sscore[sfold == k] = rf.predict_proba(s["x"][sfold == k])[:, 1]
    brca = d["source"] == "brca"
    thr = T.rule_threshold(score, d["source"])
    out = {"sources": sorted(set(d["source"].tolist())), "threshold": thr}
    for src in np.unique(d["source"]):
        sel = d["source"] == src
        out[f"pass_{src}"] = float((score[sel] >= thr).mean())
    for src in np.unique(s["source"]):
        sel = s["source"] == src
        out[f"pass_{src}"] = float((sscore[sel] >= thr).mean())
    a8 = brca & np.char.startswith(d["group"].astype(str), "TCGA-A8")
    out["recall_brca"] = float((score[brca] >= thr).mean())
    out["recall_A8"] = float((score[a8] >= thr).mean())
    g = s["source"] == "brca_grey"
    out["recall_grey_by_site"] = {site: float((sscore[g & np.char.startswith(s["group"].astype(str), site)] >= thr).mean())
                                  for site in sorted({n[:7] for n in s["group"][g].tolist()})}
    return out


def veto(models: list[str]) -> dict:
    from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics
    from mmnst_path.synthetic import he_necrosis_tile

    names = sorted((T.BRCA / "_meta/brca_ds_train.txt").read_text().split()
                   + (T.BRCA / "_meta/brca_ds_val.txt").read_text().split())
    res: dict = {m: {"brca": {}, "gen": {}} for m in models}
    for name in names:
        rgb = np.asarray(Image.open(T.BRCA / "mixed" / name).convert("RGB"))
        for m in models:
            r = measure_necrosis(rgb, mpp=T.MPP, params=NecrosisParams(intact_model=m))
            res[m]["brca"][name] = float(necrosis_metrics(r[0])["necrosis_fraction_pct"])
    for seed in DEV_SEEDS:
        t = he_necrosis_tile(seed, mpp=T.MPP)
        for m in models:
            r = measure_necrosis(t.rgb, mpp=T.MPP, params=NecrosisParams(intact_model=m))
            res[m]["gen"][str(seed)] = [float(t.truth["necrosis_fraction_pct"]),
                                        float(necrosis_metrics(r[0])["necrosis_fraction_pct"])]
    for m in models:
        b = list(res[m]["brca"].values())
        g = list(res[m]["gen"].values())
        res[m]["summary"] = {"brca_mean": float(np.mean(b)), "brca_over5": int(sum(v > 5 for v in b)),
                             "gen_mean_abs": float(np.mean([abs(o - t) for t, o in g if t > 0] or [0.0])),
                             "gen_false_mean": float(np.mean([o for t, o in g if t == 0] or [0.0]))}
        print(m, res[m]["summary"], flush=True)
    return res


def main() -> None:
    import warnings

    warnings.simplefilter("ignore")
    cmd, t0 = sys.argv[1], time.process_time()
    if cmd == "rows":
        np.savez_compressed(sys.argv[2], **T.rows())
    elif cmd == "screen_rows":
        np.savez_compressed(sys.argv[2], **screen_rows())
    elif cmd == "screen":
        d, s = dict(np.load(sys.argv[2])), dict(np.load(sys.argv[3]))
        out = screen(d, s, sys.argv[4].split(",") if len(sys.argv) > 4 else None)
        print(json.dumps(out, indent=1))
    elif cmd == "veto":
        out = veto(sys.argv[2:])
        Path("/tmp/s37_h4/veto.json").write_text(json.dumps(out, indent=1))
    print(f"{cmd}: {time.process_time() - t0:.0f} CPU s", flush=True)


if __name__ == "__main__":
    main()
