"""Session 44 H3 (#13): a reduced-recipe proxy of the D2 check (not the rule's D2, which needs the full
re-extraction): forests fitted on a subset of 1.1.0's training sources with the 36 shipped columns, and with the
screen's candidate columns added, read on the held-out renderer dev blocks of the screen's cache.

    PYTHONPATH=.:benchmarks:benchmarks/experiments:scripts python benchmarks/experiments/tissue_debris_proxy_s44.py \
        rows /tmp/s44_h3/proxy_rows.npz
    ... fit /tmp/s44_h3/proxy_rows.npz /tmp/s44_h3/dev.npz [COLUMN,...]

Subset (no augmented copies; held-out images skipped): every Kather NCT tile, every third Kather 2016 tile, the 7
osteosarcoma training tiles, the 6 he_necrosis_tile seeds, he_tissue_tile seeds 400-415, the first 24 BRCA-M2C
train / val patches; up to 600 blocks per image that are >= 90 % one class (tile-level labels: the blocks less than
30 % glass-white).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from tissue_debris_screen_s44 import COMMON, SETTINGS, _shares, candidate_columns

from mmnst_path.classify.tissue_features import tissue_features

PICK = ("deb_dot_s6", "deb_dot_s18", "h_ridge_share_s18", "eridge_share_s18", "ecoh_i18")
#: recipe class -> the held-out renderer's class order is not needed: the proxy is necrosis vs not
SHARED = Path("/work/shared")


def rows(out: Path) -> None:
    import _tissue_recipe as recipe

    rng = np.random.default_rng(44)
    xs, cs, ys = [], [], []
    counts: dict[str, int] = {}
    k16 = 0
    for src, name, rgb, mpp, label, held in recipe.sources(SHARED / "train", SHARED / "data" / "necrosis",
                                                          sample_recipe=False, brca=True, tissue_tiles=True):
        if held:
            continue
        if src == "kather2016":
            k16 += 1
            if k16 % 3:
                continue
        if src == "tissue" and int(name[4:]) > 415:  # (generated all the same by sources(): skipped here)
            continue
        if src == "brca_m2c" and counts.get(src, 0) >= 24:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f, _ = tissue_features(rgb, mpp=mpp, settings=SETTINGS)
        shape = f.shape[:2]
        x = f.reshape(-1, f.shape[-1])
        c, _ = candidate_columns(rgb, mpp)
        cand = np.stack([c[n] for n in PICK], -1)
        if isinstance(label, str | int | np.integer):
            lab = recipe.CLASSES.index(label) if isinstance(label, str) else int(label)
            y = np.full(len(x), lab)
            y[x[:, 4] >= 0.3] = -1  # white_s2
        else:
            sh = _shares(label, recipe.CLASSES, mpp, shape)
            y = np.where(sh.max(1) >= 0.9, sh.argmax(1), -1)
        keep = np.flatnonzero(y >= 0)
        keep = rng.choice(keep, min(600, len(keep)), replace=False) if len(keep) else keep
        xs.append(x[keep])
        cs.append(cand[keep])
        ys.append(y[keep])
        counts[src] = counts.get(src, 0) + 1
        print(src, name, len(keep), flush=True)
    np.savez(out, x=np.concatenate(xs), cand=np.concatenate(cs), y=np.concatenate(ys),
             classes=np.array(recipe.CLASSES))


def fit(rows_path: Path, dev: Path) -> None:
    from sklearn.ensemble import RandomForestClassifier

    r = np.load(rows_path)
    z = np.load(dev)
    classes = list(r["classes"])
    names = list(z["cand_names"])
    idx = [names.index(n) for n in PICK]
    tag, truth = z["tag"].astype(str), z["truth"]
    pure = truth.max(1) >= 0.9
    cls = truth.argmax(1)
    held = np.char.startswith(tag, "held") & pure & (cls != COMMON.index("glass"))
    mim = np.isin(cls, [COMMON.index(c) for c in ("collagen", "loose", "keratin", "mucin")])
    nec_t = cls == COMMON.index("necrosis")
    none = np.char.startswith(tag, "held_none")
    nec = classes.index("necrosis")
    print(f"training rows {len(r['y'])}: " + ", ".join(f"{c} {int((r['y'] == i).sum())}" for i, c in enumerate(classes)))
    sets = [("36 shipped columns", r["x"], z["x"]),
            ("36 + 5 debris columns", np.hstack([r["x"], r["cand"]]), np.hstack([z["x"], z["cand"][:, idx]]))]
    if len(sys.argv) > 4:  # fit ... ONLY: the shipped columns + the named screen columns only
        only = sys.argv[4].split(",")
        sets = [(f"36 + {only}", np.hstack([r["x"], r["cand"][:, [PICK.index(n) for n in only]]]),
                 np.hstack([z["x"], z["cand"][:, [names.index(n) for n in only]]]))]
    for label, X, XT in sets:
        for seed in (0, 1):
            f = RandomForestClassifier(32, max_depth=14, min_samples_leaf=15, class_weight="balanced_subsample",
                                       random_state=seed, n_jobs=1).fit(X, r["y"])
            pr = f.predict_proba(XT[held])[:, list(f.classes_).index(nec)]
            p = f.predict(XT[held]) == nec
            nt, mm = pr[nec_t[held]], pr[mim[held]]
            at = []
            for recall in (0.5, 0.6, 0.7):  # mimic share read necrosis at a matched necrosis recall (threshold on p)
                thr = np.quantile(nt, 1 - recall)
                at.append(f"{100 * (mm >= thr).mean():.2f}")
            from tissue_debris_screen_s44 import _auc

            print(f"{label} seed {seed}: AUC true necrosis vs mimic {_auc(nt, mm):.4f}; mimic read necrosis at necrosis "
                  f"recall 50 / 60 / 70 %: {' / '.join(at)} %")
            print(f"{label} seed {seed}: held dev mimic blocks read necrosis {100 * p[mim[held]].mean():.2f} %, "
                  f"tissue blocks of the none tiles {100 * p[none[held]].mean():.2f} %, true necrosis found "
                  f"{100 * p[nec_t[held]].mean():.2f} %", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "rows":
        rows(Path(sys.argv[2]))
    else:
        fit(Path(sys.argv[2]), Path(sys.argv[3]))
