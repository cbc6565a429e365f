"""Session 33 H3 (#13): overlays of tiles read by two tissue models at 1 µm/px (tile | necrosis in blue | class map, per
model), with each model's necrosis % (unrounded) and class-map shares printed.

    python tissue_overlay_s33.py OUT.png MODEL[=NAME] ... -- TILE ...     ('default' = the shipped model)
Session 33 ran it after the rule's stop on the three held-out osteosarcoma Non-Viable-Tumor tiles (information only).
"""

import sys
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mmnst_path.classify import load_model, resolve_model
from mmnst_path.classify.tissue import classify_tissue
from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics

BLUE = np.array([30, 90, 255])
COLOURS = {
    "tumour": (200, 60, 200),
    "stroma": (240, 170, 200),
    "necrosis": tuple(BLUE),
    "inflammatory": (40, 40, 120),
    "fat": (255, 255, 180),
    "mucin": (150, 220, 255),
    "blood": (200, 0, 0),
    "background": (255, 255, 255),
}


def to_tile(grid: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A block grid (uint8) resized to the tile's pixels, nearest."""
    return np.asarray(Image.fromarray(grid).resize((shape[1], shape[0]), Image.Resampling.NEAREST))


def panels(rgb: np.ndarray, name: str, model: str) -> list[np.ndarray]:
    counts, mask, _ = measure_necrosis(rgb, mpp=1.0, params=NecrosisParams(tissue_model=model))
    shown = rgb.astype(float)
    inside = to_tile(mask.astype(np.uint8) * 255, rgb.shape) > 0
    shown[inside] = 0.45 * shown[inside] + 0.55 * BLUE
    m = resolve_model("default", "tissue", "H&E") if model == "default" else load_model(model, kind="tissue")
    tmap = classify_tissue(rgb, mpp=1.0, model=m)
    labels = np.asarray(tmap.labels)
    cmap = np.zeros((*labels.shape, 3), np.uint8)
    for i, c in enumerate(tmap.classes):
        cmap[labels == i] = COLOURS.get(c, (128, 128, 128))
    shares = {
        c: round(100 * float((labels == i).mean()), 1)
        for i, c in enumerate(tmap.classes)
        if (labels == i).any()
    }
    print(
        name,
        f"necrosis {necrosis_metrics(counts)['necrosis_fraction_pct']!r}",
        "class map %",
        shares,
        flush=True,
    )
    return [shown.astype(np.uint8), to_tile(cmap, rgb.shape)]


def main() -> None:
    if "--" not in sys.argv[2:]:
        raise SystemExit(__doc__)
    cut = sys.argv.index("--")
    models = [a.split("=", 1) if "=" in a else (a, a) for a in sys.argv[2:cut]]
    rows = []
    for path in map(Path, sys.argv[cut + 1 :]):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        row = [rgb]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for model, name in models:
                row += panels(rgb, f"{path.name} {name}", model)
        small = [Image.fromarray(p).resize((round(p.shape[1] * 300 / p.shape[0]), 300)) for p in row]
        img = Image.new("RGB", (sum(s.width + 5 for s in small), 316), "white")
        for k, s in enumerate(small):
            img.paste(s, (sum(t.width + 5 for t in small[:k]), 16))
        title = " | ".join(["tile"] + [f"{n} necrosis (blue) | {n} classes" for _, n in models])
        ImageDraw.Draw(img).text((2, 2), f"{path.name}: {title}", fill="black")
        rows.append(img)
    out = Image.new("RGB", (max(r.width for r in rows), 316 * len(rows)), "white")
    for k, r in enumerate(rows):
        out.paste(r, (0, 316 * k))
    out.save(sys.argv[1])
    print("wrote", sys.argv[1])


if __name__ == "__main__":
    main()
