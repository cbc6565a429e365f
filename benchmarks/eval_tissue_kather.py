"""Tissue classes of the shipped H&E tissue model on the Kather colorectal tiles, per class (issue #13).

Each tile of ``../shared/train/kather_nct_crc_he`` (NCT-CRC-HE-100K / CRC-VAL-HE-7K, 224² at 0.5 µm/px)
and ``../shared/train/kather_texture_2016`` (Kather 2016, 224² at ~0.331 µm/px) has one tissue class for
the whole tile. The tile is classified whole (:func:`mmnst_path.classify.tissue.classify_tissue`, the
model's own grid, no smoothing), and the share of its blocks in each class is averaged per source and
tile class, apart for the tiles the model trained on and those ``scripts/train_tissue_model.py`` held
out (its ``held_out`` split; an NCT class with fewer than 3 tiles is never held out). The 05_DEBRIS
tiles that script does not map (mixed debris, fibres and mucus: 30, 37, 56, 62, 77) are shown as
``unlabelled``; they never train.

    .venv/bin/python benchmarks/eval_tissue_kather.py [--tissue-model FILE]

Licence: both sets are CC BY 4.0 (Kather et al. 2016, 2018/2019); see ../shared/train/README.md.
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

from train_tissue_model import K16, K16_DEBRIS, NCT, held_out  # noqa: E402

TRAIN = HERE.parent.parent / "shared" / "train"


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
    print(f"model: {model.name} ({model.model_id[:16]})")
    print("| source | folder | truth | split | tiles | read as the truth % | read as, mean % of blocks |")
    print("|---|---|---|---|---:|---:|---|")
    for (source, folder, truth, split), rows in sorted(groups.items()):
        mean = {c: float(np.mean([r[c] for r in rows])) for c in classes}
        top = ", ".join(f"{c} {100 * v:.0f}" for c, v in sorted(mean.items(), key=lambda kv: -kv[1]) if v >= 0.005)
        right = f"{100 * mean[truth]:.0f}" if truth in mean else "-"
        print(f"| {source} | {folder} | {truth} | {split} | {len(rows)} | {right} | {top} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
