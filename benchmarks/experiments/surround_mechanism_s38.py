"""Session 38 H3, after gate 1 failed: what the surround descriptor sees on the real Ki67 tiles.

Validation-only diagnosis on the research-only sets (nothing fitted or chosen on them). Each
annotated BCData / SHIDC tile is brought to 0.5 µm/px, separated (H-DAB), its nuclei detected and
described (20 base + 8 surround columns) as the trainer does; detections are matched to the
annotated points (positive / negative tumour, lymphocyte) within 4 µm. Printed per set: each
surround column's AUC annotated positive vs negative, and the nuclei HEAD's model (1.2.0 @0.2)
and the candidate exclude, by annotated label (newly excluded / newly kept).

    PYTHONPATH=. python benchmarks/experiments/surround_mechanism_s38.py --head-model HEAD.mmnst \
        --cand-model CAND.mmnst /work/shared/data/ki67/bcdata /work/shared/data/ki67/shidc
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

MPP = 0.5


def rows(folder: Path, settings) -> tuple[np.ndarray, np.ndarray]:
    from mmnst_path.classify import nucleus_features
    from mmnst_path.classify.train import match_points
    from mmnst_path.detect.nuclei import nuclei_from_stains
    from mmnst_path.io._resample import resize_area
    from mmnst_path.stain import get_preset, separate_stains

    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    import accuracy

    mpp0 = accuracy.dataset_mpp(folder)
    xs, ys = [], []
    for it in accuracy.load_dataset(folder):
        f = mpp0 / MPP
        rgb = resize_area(it.rgb, (round(it.rgb.shape[0] * f), round(it.rgb.shape[1] * f)))
        m = get_preset("H-DAB")
        conc = separate_stains(rgb, m, stains=(m.names[0], m.names[1]))
        hem, dab = conc[..., 0], conc[..., 1]
        nuc = nuclei_from_stains(hem, dab, mpp=MPP, return_labels=True)
        if len(nuc) == 0:
            continue
        x = nucleus_features(nuc.labels, hem, dab, mpp=MPP, settings=settings)
        n = x.shape[0]
        cnt = np.maximum(np.bincount(nuc.labels.ravel(), minlength=n + 1)[1:], 1)
        mdab = np.bincount(nuc.labels.ravel(), dab.astype(np.float64).ravel(), minlength=n + 1)[1:] / cnt
        d, a = match_points(np.c_[nuc.row, nuc.col], (it.points + 0.5) * f - 0.5, 4.0 / MPP)
        xs.append(np.c_[x[d], mdab[d]])
        ys.append(it.labels[a])
    return np.concatenate(xs), np.concatenate(ys)


def main(argv: list[str] | None = None) -> int:
    from sklearn.metrics import roc_auc_score

    from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs
    from mmnst_path.classify.cells import types_from_proba
    from mmnst_path.classify.model import load_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--head-model", type=Path, required=True)
    ap.add_argument("--cand-model", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=None, help="npz of the matched rows per set (optional)")
    args = ap.parse_args(argv)
    saved: dict[str, np.ndarray] = {}
    head, cand = load_model(args.head_model), load_model(args.cand_model)
    settings = NucleusFeatureSettings.from_mapping(cand.settings["features"])
    names = [f.name for f in nucleus_feature_specs(settings)]
    for folder in args.folders:
        x, lab = rows(folder, settings)
        saved[folder.name + "_x"], saved[folder.name + "_label"] = x, lab
        tum = np.isin(lab, ("positive", "negative"))
        pos = lab == "positive"
        print(f"== {folder.name}: matched {len(lab)} (positive {pos.sum()}, negative {(lab == 'negative').sum()}, "
              f"lymphocyte {(lab == 'lymphocyte').sum()})")
        print("  AUC annotated positive vs negative: " + " ".join(
            f"{n}:{roc_auc_score(pos[tum], x[tum, i]):.3f}" for i, n in enumerate(names) if n.startswith("sur_")))
        th, _ = types_from_proba(head, head.predict_proba(np.ascontiguousarray(x[:, :20])))
        tc, _ = types_from_proba(cand, cand.predict_proba(np.ascontiguousarray(x[:, :len(names)])))
        eh, ec = th != "tumour", tc != "tumour"
        for label in ("positive", "negative", "lymphocyte"):
            s = lab == label
            if s.any():
                print(f"  {label:10s} n {s.sum():5d} excluded HEAD {eh[s].mean():.4f} cand {ec[s].mean():.4f} "
                      f"newly excluded {(ec & ~eh)[s].sum():4d} newly kept {(eh & ~ec)[s].sum():4d}")
        for i, n in enumerate(names):
            if n in ("sur_free_8um", "sur_od_8um", "sur_sd_8um", "sur_coh_8um", "n_within_20um"):
                print(f"  median {n:14s} pos {np.median(x[pos, i]):.4f} neg {np.median(x[lab == 'negative', i]):.4f}")
    if args.out is not None:
        np.savez(args.out, names=np.array(names), **saved)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
