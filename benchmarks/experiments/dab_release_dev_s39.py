"""Session 39 H1 (#14): the pixels a release model adds to the H-DAB melanin mask of real melanin-free DAB tiles.

EndoNuke (Naumov et al., Data 2022, CC BY 4.0) holds DAB and no melanin: every pixel the release adds there is false
pigment. Each tile of the chosen parts of the fixed split (``scripts/_pigment_endonuke.py``; DEV by default, never
trained on) is read as ``endonuke_false_pigment.py`` reads it (0.5 µm/px) as it is and with its DAB concentration
multiplied (``--dab-gains``; ``scripts/train_pigment_release.darkened``): the darkened tiles stand in for real dark,
coarse DAB-positive nuclei. Per tile and gain: the mask without the release (``release_model="none"``, HEAD's
path), with it, and the pixels added (% of the tile).

    PYTHONPATH=. python benchmarks/experiments/dab_release_dev_s39.py MODEL.mmnst --csv /tmp/dev.csv [--look X.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parents[1] / "scripts")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("release_model", help="'default' or a release model file")
    ap.add_argument("--parts", nargs="+", default=["dev"], choices=("train", "dev", "val"))
    ap.add_argument("--dab-gains", type=float, nargs="+", default=[1.0, 1.8, 2.6])
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--look", type=Path, default=None, help="PNG of the 4 tiles with most added pixels")
    args = ap.parse_args()

    import dab_darkness
    from _pigment_endonuke import endonuke_split
    from _training_data import read_rgb
    from eval_pigment_dab import detect
    from train_pigment_release import darkened

    from mmnst_path.classify.pigment import resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams

    pixel_model = resolve_pigment_model("dab")
    split = endonuke_split(dab_darkness.TRAIN)
    tiles = [(key, k) for key in sorted(split) for sub, k in (("mixed", 1.0), ("staining_ds", 0.5))
             if key.startswith(f"endonuke/{sub}/") and split[key] in args.parts]
    off, on = PigmentParams(release_model="none"), PigmentParams(release_model=args.release_model)
    lines, added, worst = ["tile,part,gain,head_pct,cand_pct,added_pct"], {g: [] for g in args.dab_gains}, []
    for key, scale in tiles:
        base = dab_darkness._resample(read_rgb(dab_darkness.TRAIN / key), scale)
        for gain in args.dab_gains:
            rgb = darkened(base, gain)
            a = detect(rgb, 0.5, "H-DAB", "model", pixel_model, off)
            b = detect(rgb, 0.5, "H-DAB", "model", pixel_model, on)
            add = 100.0 * float((b & ~a).mean())
            added[gain].append(add)
            worst.append((add, rgb, b & ~a))
            lines.append(f"{key},{split[key]},{gain},{100 * a.mean():.6f},{100 * b.mean():.6f},{add:.6f}")
    for gain, vals in added.items():
        v = np.array(vals)
        print(f"gain {gain}: {len(v)} tiles, added mean {v.mean():.6f} max {v.max():.6f} % tiles > 0.1 % "
              f"{int((v > 0.1).sum())}", flush=True)
    args.csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.look is not None:
        from PIL import Image

        worst.sort(key=lambda r: -r[0])
        panels = []
        for _, rgb, add in worst[:4]:
            over = rgb.copy()
            over[add] = (0.4 * over[add] + 0.6 * np.array([255, 0, 255])).astype(np.uint8)
            for a in (rgb[:200, :200], over[:200, :200]):
                panels.append(np.pad(a, ((0, 200 - a.shape[0]), (0, 204 - a.shape[1]), (0, 0)), constant_values=255))
        Image.fromarray(np.concatenate(panels, axis=1)).save(args.look)


if __name__ == "__main__":
    main()
