"""Picture of EndoNuke DEV tiles (no melanin: every mask pixel is false; session 42 H13, #14): tile | HEAD's melanin
mask (the pigment stage's) | H1's candidate (the drawn-melanin model within 14 µm, no guard) | H13's candidate (kept
off the brown bodies the stage grazed and around lone specks), magenta = melanin mask, a crop round the masks.
Real Ki67 gate tiles (``ki67/<set>/``) are read at 0.5 µm/px as the gate read them: only after the gate ran.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/dab_melanin_nuclei_picture_s42.py OUT.png TILE.png ...
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from mmnst_path.classify._pigment_dab_melanin import dab_melanin_mask, resolve_dab_melanin_model
from PIL import Image

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.stain import get_preset

FOLDER_MPP = {"mixed": 0.5, "staining_ds": 0.25}
#: real Ki67 gate tiles (after a gate, for the failure's mechanism): native µm/px, read at 0.5 as the gate did
KI67_MPP = {"bcdata": 0.25, "shidc": 0.21, "deepliif": 0.31}


def panel(rgb: np.ndarray, mask: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    out = rgb[box].copy()
    out[mask[box]] = (255, 0, 255)
    return np.pad(out, ((3, 3), (3, 3), (0, 0)), constant_values=255)


def main() -> None:
    out, tiles = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
    stage_model, model = resolve_pigment_model("default"), resolve_dab_melanin_model("default")
    stains, params = get_preset("H-DAB"), PigmentParams()
    rows = []
    for path in tiles:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        if path.parent.name in KI67_MPP:
            from mmnst_path.io._resample import resize_area

            k = KI67_MPP[path.parent.name] / 0.5
            rgb = resize_area(rgb, (max(1, round(rgb.shape[0] * k)), max(1, round(rgb.shape[1] * k))))
        mpp = 0.5 if path.parent.name in KI67_MPP else FOLDER_MPP[path.parent.name]
        stage, _ = classify_pigment(rgb, mpp=mpp, model=stage_model, stains=stains,
                                    params=replace(params, melanin_model="none"))
        h1, _ = dab_melanin_mask(rgb, stage, mpp=mpp, model=model, min_probability=0.35, min_seed_um2=0.0)
        cand, _ = classify_pigment(rgb, mpp=mpp, model=stage_model, stains=stains, params=params)
        ys, xs = np.nonzero(stage | h1 | cand)
        cy, cx = (int(ys.mean()), int(xs.mean())) if len(ys) else (rgb.shape[0] // 2, rgb.shape[1] // 2)
        h = 80
        y0, x0 = min(max(cy - h, 0), max(rgb.shape[0] - 2 * h, 0)), min(max(cx - h, 0), max(rgb.shape[1] - 2 * h, 0))
        box = (slice(y0, y0 + 2 * h), slice(x0, x0 + 2 * h))
        row = np.concatenate([panel(rgb, np.zeros_like(stage), box), panel(rgb, stage, box), panel(rgb, h1, box),
                              panel(rgb, cand, box)], axis=1)
        rows.append(row)
        print(f"{path.name}: % of pixels HEAD {100 * stage.mean():.4f} H1 {100 * h1.mean():.4f} "
              f"H13 {100 * cand.mean():.4f}", flush=True)
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    img = np.concatenate(rows, axis=0)
    Image.fromarray(img).resize((img.shape[1] * 2, img.shape[0] * 2), Image.NEAREST).save(out)


if __name__ == "__main__":
    main()
