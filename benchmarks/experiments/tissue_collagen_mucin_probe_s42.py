"""Session 42 H3 (#13): dev probe. One collagen or mucin style of :mod:`mmnst_path._synthetic_collagen_mucin` painted
over a whole 384 µm tile (1 µm/px, no glass, no other tissue), eosin x0.4 / 1 / 2, blur 0.5 / 2 µm, two draws (dev
seeds 7380-7381), read by the shipped tissue model (``measure_necrosis``): % of the tile read necrosis. The finding
that large uniform fields read necrotic where the same matter in small regions beside tumour does not.

    PYTHONPATH=. python benchmarks/experiments/tissue_collagen_mucin_probe_s42.py
"""

from __future__ import annotations

import warnings

import numpy as np
from mmnst_path._synthetic_collagen_mucin import COLLAGEN_STYLES, MUCIN_STYLES, paint_collagen, paint_mucin
from scipy import ndimage as ndi

from mmnst_path._synthetic_mimics import stain_vectors
from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics
from mmnst_path.synthetic_tissue import _H, _rotated


def field(kind: str, style: str, seed: int, *, eosin_x: float, blur_um: float, mpp: float = 1.0,
          size: int = 384) -> tuple[float, float]:
    """(% read necrosis, mean eosin OD) of one ``kind`` / ``style`` field filling a ``size`` px tile."""
    rng = np.random.default_rng(seed)
    h, e, r = (np.zeros((size, size), np.float32) for _ in range(3))
    region = np.ones((size, size), bool)
    (paint_collagen if kind == "collagen" else paint_mucin)(style, h, e, r, region, mpp, rng)
    vh = _rotated(_H, 3, rng).astype(np.float32)
    ve, _ = stain_vectors(rng)
    od = ndi.gaussian_filter(h[..., None] * vh + e[..., None] * ve * eosin_x, (blur_um / mpp, blur_um / mpp, 0))
    rgb = np.clip(240 * np.power(10.0, -od) + rng.normal(0, 2, od.shape), 0, 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counts, _, _ = measure_necrosis(rgb, mpp=mpp, params=NecrosisParams())
    return float(necrosis_metrics(counts)["necrosis_fraction_pct"]), float(e.mean())


def main() -> int:
    for kind, styles in (("collagen", COLLAGEN_STYLES), ("mucin", MUCIN_STYLES)):
        for style in styles:
            for eosin_x in (0.4, 1.0, 2.0):
                for blur in (0.5, 2.0):
                    got = [field(kind, style, 7380 + k, eosin_x=eosin_x, blur_um=blur) for k in range(2)]
                    print(kind, style, "eosin x", eosin_x, "blur", blur, "necrosis %", [round(g[0], 1) for g in got],
                          "mean eosin OD", [round(g[1], 3) for g in got], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
