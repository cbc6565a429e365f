"""Tissue classes of the shipped H&E tissue model on the Kather colorectal tiles, per class (issue #13).

Each tile of ``../shared/train/kather_nct_crc_he`` (NCT-CRC-HE-100K / CRC-VAL-HE-7K, 224² at 0.5 µm/px)
and ``../shared/train/kather_texture_2016`` (Kather 2016, 224² at ~0.331 µm/px) has one tissue class for
the whole tile. The tile is classified whole (:func:`mmnst_path.classify.tissue.classify_tissue`, the
model's own grid, no smoothing), and the share of its blocks in each class is averaged per source and
tile class, apart for the tiles the model trained on and those ``scripts/train_tissue_model.py`` held
out (its ``held_out`` split; an NCT class with fewer than 3 tiles is never held out). The 05_DEBRIS
tiles that script does not map (mixed debris, fibres and mucus: 30, 37, 56, 62, 77) are shown as
``unlabelled``; they never train.

    .venv/bin/python benchmarks/eval_tissue_kather.py [--tissue-model FILE] [--brca]

The last lines give the mean "read as the truth" over the held-out rows where tumour, stroma and lymphocytes
are confused (``TARGET_ROWS``: NCT STR and TUM, Kather 2016 01_TUMOR, 03_COMPLEX and 04_LYMPHO), with one
decimal. ``--brca`` adds the blocks of the 30 BRCA-M2C test patches (never trained on): each output block
whose pixels are >= 99 % one class of the point-derived regions of ``scripts/train_tissue_model.py``
(``brca_labels``: tumour, stroma, inflammatory, background) against the class the model reads there.

Licence: both Kather sets are CC BY 4.0 (Kather et al. 2016, 2018/2019); BRCA-M2C BSD-3-Clause (Abousamra et
al. 2021); see ../shared/train/README.md.
"""

from __future__ import annotations

import argparse
import collections
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))

from train_tissue_model import BRCA_MPP, K16, K16_DEBRIS, NCT, brca_labels, held_out  # noqa: E402

TRAIN = HERE.parent.parent / "shared" / "train"
#: (source, folder) of the held-out rows the acceptance of #13 (session 17) averages
TARGET_ROWS = (("NCT-CRC-HE", "STR"), ("NCT-CRC-HE", "TUM"), ("Kather 2016", "01_TUMOR"),
               ("Kather 2016", "03_COMPLEX"), ("Kather 2016", "04_LYMPHO"))


def tiles(train: Path):
    """(source, folder, file, truth class or "unlabelled", held out, mpp) of every Kather tile."""
    for folder in sorted((train / "kather_nct_crc_he").iterdir()):
        if folder.is_dir() and folder.name in NCT:
            files = sorted(folder.glob("*.*"))
            for p in files:
                yield "NCT-CRC-HE", folder.name, p, NCT[folder.name], len(files) >= 3 and held_out(p.name, 0.25), 0.5
    for folder in sorted((train / "kather_texture_2016").glob("0*")):
        for p in sorted(folder.glob("*.png")):
            truth = K16.get(folder.name) or K16_DEBRIS.get(p.name) or "unlabelled"
            yield "Kather 2016", folder.name, p, truth, held_out(p.name, 0.25), 0.331


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from mmnst_path.classify import load_model, resolve_model
    from mmnst_path.classify.tissue import classify_tissue

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tissue-model", type=Path, default=None, help="a tissue model file (default: the shipped H&E one)")
    ap.add_argument("--train", type=Path, default=TRAIN)
    ap.add_argument("--brca", action="store_true", help="also the BRCA-M2C test-split blocks (point-derived labels)")
    args = ap.parse_args(argv)
    model = (load_model(args.tissue_model, kind="tissue") if args.tissue_model
             else resolve_model("default", "tissue", "H&E"))
    assert model is not None
    groups: dict[tuple[str, str, str, str], list[dict[str, float]]] = collections.defaultdict(list)
    classes: tuple[str, ...] = ()
    for source, folder, path, truth, held, mpp in tiles(args.train):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tmap = classify_tissue(rgb, mpp=mpp, model=model)
        classes = tmap.classes
        counts = np.bincount(tmap.labels.ravel().astype(np.int64), minlength=len(classes))
        split = "held out" if held else ("-" if truth == "unlabelled" else "trained")
        groups[(source, folder, truth, split)].append(dict(zip(classes, counts / counts.sum(), strict=True)))
    print(f"model: {model.name} {model.card.get('version', '')} ({model.model_id[:16]})")
    print("| source | folder | truth | split | tiles | read as the truth % | read as, mean % of blocks |")
    print("|---|---|---|---|---:|---:|---|")
    target: dict[str, float] = {}
    for (source, folder, truth, split), rows in sorted(groups.items()):
        mean = {c: float(np.mean([r[c] for r in rows])) for c in classes}
        top = ", ".join(f"{c} {100 * v:.0f}" for c, v in sorted(mean.items(), key=lambda kv: -kv[1]) if v >= 0.005)
        right = f"{100 * mean[truth]:.1f}" if truth in mean else "-"
        print(f"| {source} | {folder} | {truth} | {split} | {len(rows)} | {right} | {top} |")
        if split == "held out" and (source, folder) in TARGET_ROWS:
            target[f"{source} {folder}"] = 100 * mean[truth]
    print("held-out target rows, read as the truth %: " + ", ".join(f"{k} {v:.1f}" for k, v in target.items())
          + f"; mean {np.mean(list(target.values())):.2f}")
    if args.brca:
        brca_blocks(model, args.train)
    return 0


def brca_blocks(model, train: Path) -> None:
    """Block confusion of the BRCA-M2C test split (labels of ``brca_labels``, blocks >= 99 % one class)."""
    from PIL import Image

    from mmnst_path.classify.tissue import classify_tissue

    root = train / "brca_m2c"
    names = sorted((root / "_meta" / "brca_ds_test.txt").read_text().split())
    classes = model.class_names
    conf = np.zeros((len(classes), len(classes)), np.int64)
    for name in names:
        p = root / "mixed" / name
        rgb = np.asarray(Image.open(p).convert("RGB"))
        lab = brca_labels(rgb, np.loadtxt(p.with_name(p.stem + "_gt_class_coords.txt"), ndmin=2), BRCA_MPP)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tmap = classify_tissue(rgb, mpp=BRCA_MPP, model=model)
        big = tmap.factor
        m, n = tmap.labels.shape
        for c in range(len(classes)):
            hit = np.zeros((m * big, n * big), np.float32)
            sub = (lab == c).astype(np.float32)
            hit[: sub.shape[0], : sub.shape[1]] = sub
            share = hit.reshape(m, big, n, big).mean(axis=(1, 3))
            full = np.zeros((m, n), bool)
            full[: sub.shape[0] // big, : sub.shape[1] // big] = True  # whole blocks inside the patch
            sel = full & (share >= 0.99)
            conf[c] += np.bincount(tmap.labels[sel].astype(np.int64), minlength=len(classes))
    total = conf.sum()
    print(f"\nBRCA-M2C test split ({len(names)} patches): block accuracy {np.trace(conf) / max(total, 1):.3f} "
          f"({total} blocks)")
    print("| truth | blocks | read as the truth % | read as, % of blocks |")
    print("|---|---:|---:|---|")
    for c, name in enumerate(classes):
        if conf[c].sum():
            share = conf[c] / conf[c].sum()
            top = ", ".join(f"{classes[i]} {100 * share[i]:.0f}" for i in np.argsort(-share) if share[i] >= 0.005)
            print(f"| {name} | {conf[c].sum()} | {100 * share[c]:.1f} | {top} |")


if __name__ == "__main__":
    raise SystemExit(main())
