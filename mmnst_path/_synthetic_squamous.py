"""The body of :func:`mmnst_path.synthetic_tissue.he_squamous_sheet_tile` (session 27, #13): wide sheets of viable,
maturing squamous carcinoma cells (large polygonal cells with abundant pink cytoplasm, keratinised cell borders and
sparse, pale nuclei) between thin lymphocyte-rich stromal septa, without necrosis.

Session 27's two-stage tissue candidate grew and joined the first stage's false necrosis speckles in such sheets of a
real head-and-neck squamous carcinoma at 1 µm/px; this tile is a permissive dev analogue of that tissue."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .synthetic_tissue import TissueTile, _ellipse, _fibres, _he_canvas, _he_rgb, _place, _smooth_noise

__all__ = ["squamous_sheet_tile"]


def squamous_sheet_tile(seed: int, *, size: int = 512, mpp: float = 1.0) -> TissueTile:
    """:func:`mmnst_path.synthetic_tissue.he_squamous_sheet_tile` (see there)."""
    rng, shape, h, e = _he_canvas(seed, size)
    tissue = _smooth_noise(shape, rng.uniform(60, 120) / mpp, rng) > rng.uniform(-2.2, -1.2)
    # thin stromal septa: the zero lines of a smooth field, 8-30 µm wide
    septa = np.abs(_smooth_noise(shape, rng.uniform(50, 110) / mpp, rng)) < rng.uniform(0.08, 0.25)
    stroma = tissue & septa
    tumour = tissue & ~stroma
    maturity = np.clip(0.5 + 0.5 * _smooth_noise(shape, rng.uniform(30, 80) / mpp, rng), 0, 1)
    # polygonal cells: a Voronoi partition of the nucleus centres; keratinised borders in eosin
    centres = _place(tumour, rng.uniform(12, 20) / mpp, rng.uniform(0.75, 0.95), rng)
    seeds = np.zeros(shape, bool)
    ci = np.clip(np.rint(centres).astype(int), 0, size - 1)
    if len(centres):
        seeds[ci[:, 0], ci[:, 1]] = True
        _, (ir, ic) = ndi.distance_transform_edt(~seeds, return_indices=True)
        cell = ir * size + ic
        border = (cell != np.roll(cell, 1, 0)) | (cell != np.roll(cell, 1, 1))
        e += tumour * ndi.binary_dilation(border, iterations=max(1, round(0.6 / mpp))) * rng.uniform(0.05, 0.15)
    cyto = np.clip(1 + 0.2 * _smooth_noise(shape, 2.0 / mpp, rng), 0.5, 1.6) * (0.8 + 0.4 * maturity)
    e += tumour * cyto * rng.uniform(0.15, 0.32)
    h += tumour * cyto * rng.uniform(0.02, 0.05)
    h_nuc = rng.uniform(0.55, 0.95)
    for (r, c), (ir_, ic_) in zip(centres, ci, strict=True):
        m = float(maturity[ir_, ic_])
        if rng.random() < 0.1 * m:  # anucleate mature cells
            continue
        a = rng.uniform(2.5, 4.5) / mpp
        _ellipse(h, r, c, a, a * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi), h_nuc * (1 - 0.3 * m) * rng.uniform(0.7, 1.3),
                 rng)
    fib = _fibres(shape, mpp, rng)
    e += stroma * (0.05 + fib * rng.uniform(0.1, 0.3))
    h += stroma * fib * rng.uniform(0.0, 0.04)
    for r, c in _place(stroma, rng.uniform(6, 12) / mpp, rng.uniform(0.3, 0.8), rng):  # lymphocytes
        rad = rng.uniform(2.5, 3.5) / mpp
        _ellipse(h, r, c, rad, rad * rng.uniform(0.8, 1.0), rng.uniform(0, np.pi), rng.uniform(0.6, 1.0), rng)
    rgb8 = _he_rgb(h, e, mpp, rng)
    truth = {"tumour_fraction_pct": 100.0 * float(tumour.sum()) / max(int(tissue.sum()), 1), "necrosis_fraction_pct": 0.0}
    masks = {"tissue": tissue, "tumour": tumour, "stroma": stroma, "background": ~tissue}
    return TissueTile(rgb8, float(mpp), "H&E", truth, masks)
