"""Session 38 H3: is the surround descriptor blind to DAB positivity? (dev data only)

On the training-side rows (EndoNuke ``mixed`` train split, real ER/PR IHC; BRCA-M2C official
train split re-rendered once as hematoxylin-DAB) a nucleus is DAB-positive when its mean
chromogen OD is >= 0.35 (Ki67Params.positive_threshold_od). A small forest (image-grouped 3-fold
cross-validation) predicts positive vs negative from the surround columns alone; its AUC, over
all nuclei and within each class, says how much positivity the descriptor reads (0.5 = none).
The 20 base columns' AUC is printed beside it as the scale (they read the chromogen).

Usage::

    PYTHONPATH=. python benchmarks/experiments/surround_blind_s38.py --surround-um 3 8
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(HERE / "scripts"))

import train_nucleus_model as tnm  # noqa: E402

from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs  # noqa: E402
from mmnst_path.classify import nucleus_features as _features  # noqa: E402

POSITIVE_OD = 0.35


def _with_chromogen(state: dict):
    """``nucleus_features`` that appends the nucleus' mean chromogen OD and the image's index."""

    def wrapped(labels, hem, chrom, *, mpp, settings, **kw):
        x = _features(labels, hem, chrom, mpp=mpp, settings=settings, **kw)
        n = x.shape[0]
        if chrom is None:
            mc = np.full(n, np.nan)
        else:
            cnt = np.maximum(np.bincount(labels.ravel(), minlength=n + 1)[1:], 1)
            mc = np.bincount(labels.ravel(), np.asarray(chrom, np.float64).ravel(), minlength=n + 1)[1:] / cnt
        state["image"] += 1
        return np.c_[x, mc, np.full(n, state["image"])].astype(np.float32)

    return wrapped


def _auc(x: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int = 0) -> float:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    if len(np.unique(y)) < 2:
        return float("nan")
    p = np.zeros(len(y))
    for tr, te in GroupKFold(3).split(x, y, groups):
        rf = RandomForestClassifier(60, min_samples_leaf=20, random_state=seed, n_jobs=1).fit(x[tr], y[tr])
        p[te] = rf.predict_proba(x[te])[:, list(rf.classes_).index(1)] if 1 in rf.classes_ else 0.0
    return float(roc_auc_score(y, p))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=Path, default=HERE.parent / "shared" / "train")
    ap.add_argument("--surround-um", type=float, nargs="+", default=[3.0, 8.0])
    ap.add_argument("--out", type=Path, default=None, help="npz of the rows (optional)")
    args = ap.parse_args(argv)
    settings = NucleusFeatureSettings(surround_um=tuple(args.surround_um))
    names = [f.name for f in nucleus_feature_specs(settings)]
    width = len(names) + 2
    state = {"image": 0}
    tnm.nucleus_features = _with_chromogen(state)
    en = tnm.endonuke(args.train, settings)
    br = tnm.brca(args.train, settings, restain=1, seed=38, dab_core_um=1.5)
    sets = {"endonuke_train": en["train"], "brca_train_ihc": br["train_ihc"]}
    sur = np.array([n.startswith("sur_") for n in names])
    saved = {}
    for key, parts in sets.items():
        x = np.concatenate([p[0].reshape(-1, width) for p in parts])
        y = np.concatenate([p[1] for p in parts])
        saved[key + "_x"], saved[key + "_y"] = x, y
        pos = (x[:, -2] >= POSITIVE_OD).astype(int)
        grp = x[:, -1].astype(int)
        print(f"{key}: {len(y)} nuclei, DAB+ share {pos.mean():.4f}")
        for label, sel in [("all", np.ones(len(y), bool))] + [(c, y == i) for i, c in enumerate(tnm.CLASSES)]:
            if sel.sum() < 100 or len(np.unique(pos[sel])) < 2:
                continue
            a_sur = _auc(x[sel][:, :len(names)][:, sur], pos[sel], grp[sel])
            a_base = _auc(x[sel][:, :20], pos[sel], grp[sel])
            print(f"  {label:10s} n {sel.sum():6d} DAB+ {pos[sel].mean():.4f}  AUC surround {a_sur!r}  "
                  f"base 20 {a_base!r}")
    if args.out is not None:
        np.savez(args.out, names=np.array(names), **saved)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
