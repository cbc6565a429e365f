"""Session 39 H7 (#13): overlays of the necrosis read without and with the learned border stage.

Each row: the tile with the truth border (blue) | necrosis read, ``border_model = "none"`` (green) | read with
``border_model = "default"`` (green; the blocks the stage added in yellow). Direct path (``necrosis_labels`` of the
tile at its corner, as ``measure_necrosis``). Cases: ``mimic:SEED`` / ``mimic_none:SEED`` / ``tissue:SEED``
(1 µm/px odd seeds, 0.5 even, as the rule's viable sets), ``sample`` (the bundled he_necrosis.tif, truth from
``sample_tiles/generate.py`` seed 505), ``recipe:SEED`` (the sample recipe at its defaults), ``heldout:SEED:NEC``
(``benchmarks/heldout_render_he.py``, 640 px, necrosis ``random`` / ``none``; drawn after its gate had run).

    PYTHONPATH=. python benchmarks/experiments/necrosis_border_panels_s39.py OUT.png CASE [CASE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[2]


def _case(name: str) -> tuple[np.ndarray, float, np.ndarray]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import eval_necrosis as en

    from mmnst_path.synthetic_tissue import he_mimic_tile, he_tissue_tile

    kind, _, seed_s = name.partition(":")
    if kind == "sample":
        gen = en._sample_generator()
        _, t = gen.he_necrosis_tile(505)
        rgb = np.asarray(Image.open(ROOT / "sample_tiles" / "he_necrosis.tif").convert("RGB"))
        return rgb, 0.5, t["masks"]["necrosis"]
    if kind == "heldout":  # the held-out renderer (a gate: pictures only after its gate ran)
        from heldout_render_he import render_he

        seed_s, _, nec = seed_s.partition(":")
        h = render_he(int(seed_s), size=640, necrosis=nec or "random")
        return h.rgb, h.mpp, h.necrosis
    seed = int(seed_s)
    if kind == "recipe":
        rgb, mpp, _, truth = en.sample_recipe_tile(en._sample_generator(), seed)
        return rgb, mpp, truth
    mpp = 1.0 if seed % 2 else 0.5
    size = 384 if mpp == 1.0 else 640
    fn = he_mimic_tile if kind.startswith("mimic") else he_tissue_tile
    tt = fn(seed, size=size, mpp=mpp, necrosis="none" if kind.endswith("_none") else None)
    return tt.rgb, tt.mpp, tt.masks["necrosis"]


def _edge(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndi.binary_erosion(mask, iterations=2)


def panel(rgb: np.ndarray, mpp: float, truth: np.ndarray) -> np.ndarray:
    from mmnst_path.classify.tissue import classify_tissue
    from mmnst_path.quantify._necrosis_model import necrosis_labels
    from mmnst_path.quantify.necrosis import NecrosisParams

    off, on = NecrosisParams(border_model="none"), NecrosisParams(border_model="default")
    tmap = classify_tissue(rgb, mpp=mpp, model=off.model(), stains="H&E")
    _, before, _ = necrosis_labels(rgb, mpp, off, tmap, "H&E")
    _, after, _ = necrosis_labels(rgb, mpp, on, tmap, "H&E")
    f = int(tmap.factor)

    def up(a: np.ndarray) -> np.ndarray:
        return np.kron(a, np.ones((f, f), bool))[: rgb.shape[0], : rgb.shape[1]]

    a = rgb.copy()
    a[_edge(truth)] = (0, 0, 255)
    cols = [a]
    for mask, added in ((before, None), (after, after & ~before)):
        b = rgb.astype(np.float32)
        b[up(mask)] = 0.55 * b[up(mask)] + 0.45 * np.array((0, 200, 0))
        if added is not None:
            b[up(added)] = 0.4 * b[up(added)] + 0.6 * np.array((255, 230, 0))
        b = b.astype(np.uint8)
        b[_edge(truth)] = (0, 0, 255)
        cols.append(b)
    return np.concatenate([np.pad(c, ((4, 4), (4, 4), (0, 0)), constant_values=255) for c in cols], 1)


def main() -> None:
    out, cases = Path(sys.argv[1]), sys.argv[2:]
    rows = []
    for name in cases:
        rgb, mpp, truth = _case(name)
        p = panel(rgb, mpp, truth)
        scale = 640 / p.shape[0]
        img = Image.fromarray(p).resize((int(p.shape[1] * scale), 640))
        ImageDraw.Draw(img).text((8, 8), f"{name} ({mpp} um/px): truth | border off | border on (added yellow)",
                                 fill=(0, 0, 0))
        rows.append(np.asarray(img))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    Image.fromarray(np.concatenate(rows, 0)).save(out)
    print(out)


if __name__ == "__main__":
    main()
