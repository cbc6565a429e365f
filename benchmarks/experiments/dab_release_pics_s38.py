"""Pictures of session 38 H2's release model (#14): a dev DAB family tile and a real tile it marks.

Row per input: RGB | the mask without the release (``release_model="none"``) | with it. On the generated tile
the masks are read against the drawn melanin truth (green found, magenta missed, cyan false); on the real tile
(no melanin) the pixels without the release are cyan and the pixels the release adds magenta.

    PYTHONPATH=. python benchmarks/experiments/dab_release_pics_s38.py OUT.png --real FILE --real-mpp 0.21
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.synthetic import pigment_family_tile


def masks(rgb: np.ndarray, mpp: float) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for spec in ("none", "default"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append(classify_pigment(rgb, mpp=mpp, model=resolve_pigment_model("default"), stains="H-DAB",
                                        params=PigmentParams(release_model=spec))[0])
    return out[0], out[1]


def paint(rgb: np.ndarray, layers: list[tuple[np.ndarray, tuple[int, int, int]]]) -> np.ndarray:
    out = (0.45 * rgb).astype(np.uint8)
    for m, colour in layers:
        out[m] = colour
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--family", default="over_nucleus")
    ap.add_argument("--seed", type=int, default=2200)
    ap.add_argument("--real", type=Path, required=True)
    ap.add_argument("--real-mpp", type=float, required=True)
    ap.add_argument("--crop", type=int, default=192)
    args = ap.parse_args()
    rows = []
    tile = pigment_family_tile(args.seed, args.family, drawn_melanin=True)
    truth = tile.masks["melanin_drawn"]
    a, b = masks(tile.rgb, tile.mpp)
    panels = [tile.rgb] + [paint(tile.rgb, [(m & truth, (0, 220, 0)), (truth & ~m, (230, 0, 230)), (m & ~truth, (0, 220, 230))])
                           for m in (a, b)]
    rows.append([p[: args.crop, : args.crop] for p in panels])
    img = Image.open(args.real).convert("RGB")
    f = args.real_mpp / 0.5
    img = img.resize((round(img.width * f), round(img.height * f)), Image.BILINEAR)
    rgb = np.asarray(img)
    a, b = masks(rgb, 0.5)
    added = b & ~a
    r, c = np.nonzero(added) if added.any() else (np.array([0]), np.array([0]))
    r0 = int(np.clip(np.median(r) - args.crop // 2, 0, max(0, rgb.shape[0] - args.crop)))
    c0 = int(np.clip(np.median(c) - args.crop // 2, 0, max(0, rgb.shape[1] - args.crop)))
    box = (slice(r0, r0 + args.crop), slice(c0, c0 + args.crop))
    panels = [rgb, paint(rgb, [(a, (0, 220, 230))]), paint(rgb, [(a, (0, 220, 230)), (added, (230, 0, 230))])]
    rows.append([np.pad(p[box], ((0, args.crop - p[box].shape[0]), (0, args.crop - p[box].shape[1]), (0, 0)))
                 for p in panels])
    grid = np.concatenate([np.concatenate(row, axis=1) for row in rows], axis=0)
    Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST).save(args.out)
    print(f"{args.out}: generated {args.family} {args.seed}, real {args.real.name} ({int(added.sum())} pixels added)")


if __name__ == "__main__":
    main()
