"""Train the shipped default melanin pixel classifier (issue #14).

Usage::

    .venv/bin/python scripts/train_pigment_model.py [--seeds 3] [--train /work/shared/train]
        [--out mmnst_path/models/pigment_default.mmnst]
    .venv/bin/python scripts/train_pigment_model.py --chromogens dab --out mmnst_path/models/pigment_dab.mmnst

Training data (all redistributable):

- generated here: :func:`mmnst_path.synthetic.pigment_family_tile`, every pigment family x
  DAB / AEC / Fast Red / H&E, seeds 1000.. (the benchmark ``benchmarks/eval_pigment_families.py``
  uses seeds 0..; validation rows come from seeds 2000..). Label: the tile's true melanin mask
  (blurred melanin concentration >= 0.15 log10 OD), per candidate pixel (total OD >= 0.2); half
  the background rows of a tile come from its chromogen-positive nuclei (hard negatives).
- melanin-free negatives from permissively licensed real tiles of ``--train``: EndoNuke ER/PR
  IHC (Naumov et al., Data 2022, CC BY 4.0; ~0.5 µm/px) and Kather NCT-CRC-HE (Kather et al.
  2018/2019, CC BY 4.0; 0.5 µm/px): every candidate pixel there is "background" (strong granular
  DAB nuclei, red blood cells, dark debris are what false pigment is made of).

The research-only Ki67 sets of ``/work/shared/data/ki67`` are never trained on (the benchmark
uses them for the false-pigment check only).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mmnst_path.classify.pigment import (  # noqa: E402
    CLASSES,
    PigmentFeatureSettings,
    pigment_feature_specs,
    pigment_features,
)
from mmnst_path.classify.train import train_model  # noqa: E402
from mmnst_path.synthetic import FAMILY_CHROMOGENS, PIGMENT_FAMILIES, pigment_family_tile  # noqa: E402

PRESETS = {"dab": "H-DAB", "aec": "H-AEC", "fast_red": "H-FastRed", "eosin": "H&E"}


def _sample(x: np.ndarray, y: np.ndarray, per_class: int, rng: np.random.Generator,
            hard: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``per_class`` rows of each class; half the background rows from ``hard`` pixels
    (chromogen-positive nuclei: what melanin is confused with) when there are any."""
    keep = []
    for k in (0, 1):
        idx = np.flatnonzero(y == k)
        if k == 0 and hard is not None and (y == 0).any():
            hidx = np.flatnonzero((y == 0) & hard)
            nh = min(per_class // 2, hidx.size)
            if nh:
                keep.append(rng.choice(hidx, size=nh, replace=False))
            idx = np.flatnonzero((y == 0) & ~hard)
            keep.append(rng.choice(idx, size=min(per_class - nh, idx.size), replace=False))
            continue
        if idx.size:
            keep.append(rng.choice(idx, size=min(per_class, idx.size), replace=False))
    sel = np.concatenate(keep) if keep else np.zeros(0, np.intp)
    return x[sel], y[sel]


def generated_rows(seeds: range, settings: PigmentFeatureSettings, per_class: int, rng: np.random.Generator,
                   size: int, dab_extra: int = 0,
                   chromogens: tuple[str, ...] = FAMILY_CHROMOGENS) -> tuple[np.ndarray, np.ndarray]:
    """Rows of every family x chromogen x seed; ``dab_extra`` more seeds for DAB (the chromogen
    melanin is nearest to), every other seed at 0.25 µm/px (a 40x scan) instead of 0.5."""
    xs, ys = [], []
    for ch in chromogens:
        extra = range(seeds.stop, seeds.stop + dab_extra) if ch == "dab" else range(0)
        for fam in PIGMENT_FAMILIES:
            for seed in [*seeds, *extra]:
                mpp = 0.25 if seed % 2 else 0.5
                tile = pigment_family_tile(seed, fam, chromogen=ch, size=size if mpp == 0.5 else 2 * size, mpp=mpp)
                x, cand = pigment_features(tile.rgb, mpp=tile.mpp, settings=settings)
                y = tile.masks["melanin"][cand].astype(np.int64)
                x, y = _sample(x, y, per_class, rng, tile.masks["positive_nuclei"][cand])
                xs.append(x)
                ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def real_negative_rows(train: Path, settings: PigmentFeatureSettings, per_image: int,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Background rows from melanin-free real tiles: half at random, half from the darkest
    brown candidates (strong, granular DAB nuclei: what the generator renders too smoothly)."""
    from PIL import Image

    files = [(p, 0.5) for p in sorted((train / "endonuke" / "mixed").glob("*.png"))]
    files += [(p, 0.25) for p in sorted((train / "endonuke" / "staining_ds").glob("*.png"))]
    files += [(p, 0.5) for p in sorted((train / "kather_nct_crc_he").glob("*/*"))
              if p.suffix in (".tif", ".png", ".jpg")]
    files += [(p, 0.5) for p in sorted((train / "brca_m2c" / "mixed").glob("*.png"))[::4]]
    xs = []
    used = []
    for f, mpp in files:
        rgb = np.asarray(Image.open(f).convert("RGB"))
        x, _ = pigment_features(rgb, mpp=mpp, settings=settings)
        if not x.shape[0]:
            continue
        n = min(per_image // 2, x.shape[0])
        pick = [rng.choice(x.shape[0], size=n, replace=False)]
        # dark (log_od) and blue-poor (brown: low u_b share relative to neutral) candidates
        score = x[:, 4] - 2.0 * np.abs(x[:, 2] - x[:, 0] - 0.45)
        pick.append(np.argsort(score)[::-1][:n])
        xs.append(x[np.concatenate(pick)])
        used.append(str(f.relative_to(train)))
    x = np.concatenate(xs)
    return x, np.zeros(x.shape[0], np.int64), used


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--dab-extra", type=int, default=3, help="more generated seeds for DAB")
    ap.add_argument("--chromogens", nargs="+", default=list(FAMILY_CHROMOGENS), choices=FAMILY_CHROMOGENS,
                    help="generated stain systems (the shipped H-DAB model: --chromogens dab)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--per-class", type=int, default=1200)
    ap.add_argument("--per-real", type=int, default=600, help="background rows per real tile")
    ap.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    ap.add_argument("--out", type=Path, default=HERE.parent / "mmnst_path" / "models" / "pigment_default.mmnst")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    settings = PigmentFeatureSettings()
    t0 = time.perf_counter()
    chromogens = tuple(args.chromogens)
    xg, yg = generated_rows(range(1000, 1000 + args.seeds), settings, args.per_class, rng, args.size,
                            dab_extra=args.dab_extra, chromogens=chromogens)
    xr, yr, used = real_negative_rows(args.train, settings, args.per_real, rng)
    xv, yv = generated_rows(range(2000, 2001), settings, 600, rng, args.size, chromogens=chromogens)
    x, y = np.concatenate([xg, xr]), np.concatenate([yg, yr])
    print(f"rows: generated {len(yg)} ({int(yg.sum())} melanin), real negatives {len(yr)} from {len(used)} images, "
          f"validation {len(yv)}; features {time.perf_counter() - t0:.0f} s")
    card = {
        "name": ("mmnst_path H-DAB melanin pixel classifier" if chromogens == ("dab",)
                 else "mmnst_path default melanin pixel classifier"),
        "version": "1",
        "licence": "same as mmnst_path",
        "intended_use": (f"melanin pigment pixels in {', '.join(PRESETS[c] for c in chromogens)} tiles at "
                         "0.25-0.5 µm/px (features from RGB optical density only)"),
        "training_data": {
            "generated": (f"mmnst_path.synthetic.pigment_family_tile seeds 1000-{999 + args.seeds} (DAB: "
                          f"1000-{999 + args.seeds + args.dab_extra}), families {list(PIGMENT_FAMILIES)} x "
                          f"{list(chromogens)}, even seeds {args.size} px at 0.5 µm/px, odd seeds "
                          f"{2 * args.size} px at 0.25 µm/px (generated by this project)"),
            "real_negatives": ("EndoNuke ER/PR IHC (Naumov et al., Data 2022, CC BY 4.0; mixed/ at 0.5 µm/px, "
                               "staining_ds/ at 0.25 µm/px) and Kather NCT-CRC-HE (Kather et al. 2018, CC BY 4.0): "
                               "all pixels background, half of the rows the darkest brown candidates; "
                               "BRCA-M2C H&E (Abousamra et al. 2021, BSD-3-Clause; every 4th patch, 0.5 µm/px)"),
            "n_real_images": len(used),
        },
        "not_trained_on": "the research-only Ki67 sets of ../shared/data/ki67 (used for the false-pigment check only)",
        "script": "scripts/train_pigment_model.py",
    }
    model = train_model(x, y, kind="tissue", classes=CLASSES, features=pigment_feature_specs(settings),
                        settings=settings.to_mapping(), card=card, validation=(xv, yv), n_estimators=30,
                        max_depth=14, min_samples_leaf=8)
    path = model.save(args.out)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.0f} s")
    print("validation:", model.card.get("validation"))
    print("top features:", model.card.get("top_features"))


if __name__ == "__main__":
    main()
