"""Session 33 H10: how the nucleus model's training rows differ between the image-alone extraction
(``train_nucleus_model.py --rows-path image``, models <= 1.2.0) and the run-time path
(``--rows-path runtime``: what ``analyze_region`` hands the cell model).

Per annotated nucleus matched by both paths (the same annotated point, 4 µm one-to-one), per feature:
the median of the image rows, the median |runtime - image|, the share that differs (> 1e-6) and the
median difference; also how many annotated points each path matches (the run-time detection sees
white past the image's edge, the image path a reflected border; tiles with no tissue give none).
Dev data only: EndoNuke's dev part (``keep_gate_endonuke_s33.val_images(part="dev")``), BRCA-M2C's
train split re-rendered as H-DAB (``restain_as_ihc``, the training recipe's seed), generated
``ki67_cells_tile`` seeds >= 40.

    PYTHONPATH=. python benchmarks/experiments/runtime_rows_diff_s33.py --train ../shared/train \
        [--endonuke 20] [--brca 4] [--generated 4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def both_paths(train, rgb: np.ndarray, pts: np.ndarray, settings) -> tuple[np.ndarray, ...]:
    """(image rows, runtime rows) of the annotated points both paths match, and the two match counts."""
    idx = np.arange(len(pts))  # the "class" of a point = its index: the rows come back with their point
    with train.rows_path("image"):
        x_im, p_im = train.image_rows(rgb, pts, idx, ihc=True, settings=settings)
    with train.rows_path("runtime"):
        x_rt, p_rt = train.image_rows(rgb, pts, idx, ihc=True, settings=settings)
    _, a, b = np.intersect1d(p_im, p_rt, return_indices=True)
    return x_im[a], x_rt[b], len(p_im), len(p_rt)


def main(argv: list[str] | None = None) -> int:
    import train_nucleus_model as train
    from _training_data import read_rgb
    from keep_gate_endonuke_s33 import val_images

    from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=Path, default=ROOT.parent / "shared" / "train")
    ap.add_argument("--endonuke", type=int, default=20, help="EndoNuke dev images (first N, name order)")
    ap.add_argument("--brca", type=int, default=4, help="BRCA-M2C train-split images, re-rendered once as H-DAB")
    ap.add_argument("--generated", type=int, default=4, help="generated ki67_cells_tile seeds 40 on")
    ap.add_argument("--out", type=Path, default=None, help=".npz of the paired rows")
    args = ap.parse_args(argv)
    settings = NucleusFeatureSettings()
    names = [f.name for f in nucleus_feature_specs(settings)]
    sets: dict[str, list] = {"endonuke_dev": [], "brca_train_ihc": [], "generated": []}
    for path, _ in val_images(args.train / "endonuke", "dev")[: args.endonuke]:
        pts = np.loadtxt(path.with_suffix(".txt"), ndmin=2)
        if pts.size:
            sets["endonuke_dev"].append(both_paths(train, read_rgb(path), pts[:, [1, 0]].astype(float), settings))
    meta = args.train / "brca_m2c" / "_meta"
    test = {t.strip() for t in (meta / "brca_ds_test.txt").read_text().split() if t.strip()}
    rng = np.random.default_rng(0)
    imgs = [p for p in sorted((args.train / "brca_m2c" / "mixed").glob("*.png")) if p.stem not in test
            and p.name not in test][: args.brca]
    for img in imgs:
        pts = np.loadtxt(img.with_name(img.stem + "_gt_class_coords.txt"), ndmin=2)
        cls = np.array([{1: 1, 2: 0, 3: 2}[int(k)] for k in pts[:, 2]])
        ihc = train.restain_as_ihc(read_rgb(img), pts[:, :2], cls, rng, dab_core_um=1.5)
        sets["brca_train_ihc"].append(both_paths(train, ihc, pts[:, :2].astype(float), settings))
    for seed in range(40, 40 + args.generated):
        tile = ki67_cells_tile(seed)
        c = tile.truth["cells"]
        sets["generated"].append(both_paths(train, tile.rgb, np.c_[c["row"], c["col"]].astype(float), settings))
    saved = {}
    for name, parts in sets.items():
        if not parts:
            continue
        xi = np.concatenate([p[0] for p in parts])
        xr = np.concatenate([p[1] for p in parts])
        n_im, n_rt = sum(p[2] for p in parts), sum(p[3] for p in parts)
        print(f"{name}: {len(parts)} images; annotated points matched: image path {n_im}, runtime path {n_rt}, "
              f"both {len(xi)}")
        print("  feature: image median, median |runtime - image|, share |diff| > 1e-6, median diff (runtime - image)")
        d = xr - xi
        for k, col in enumerate(names):
            print(f"  {col:16s} {np.median(xi[:, k]):10.4f} {np.median(np.abs(d[:, k])):10.4f} "
                  f"{np.mean(np.abs(d[:, k]) > 1e-6):8.4f} {np.median(d[:, k]):10.4f}")
        saved[f"{name}_image"], saved[f"{name}_runtime"] = xi, xr
    if args.out is not None:
        np.savez(args.out, names=np.array(names), **saved)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
