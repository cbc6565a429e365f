"""What H&E false pigment is made of, painted into generated H&E tiles
(:func:`mmnst_path.synthetic.pigment_family_tile` with ``hard_negatives=True``; issue #14)."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

from .synthetic import _ellipse, perturb_vector

__all__ = ["he_confounders"]

#: OD directions of green and blue tissue-marking dyes (green absorbs red and blue, blue red and green)
_INKS = ((0.72, 0.28, 0.63), (0.70, 0.62, 0.25))


def he_confounders(hem: np.ndarray, eos: np.ndarray, tissue: np.ndarray, rng: np.random.Generator,
                    mpp: float) -> tuple[np.ndarray, np.ndarray]:
    """Paint what H&E false pigment is made of into the hematoxylin / eosin maps (in place):
    lymphocytes (dense round nuclei 2.5-3.5 µm in radius, loose and in aggregates), red blood cells
    (eosin-dense 7-8 µm discs, in rows along vessels), karyorrhectic debris (groups of dark
    hematoxylin fragments 0.6-2.5 µm: granular, like melanin, but blue), hyperchromatic nuclei with
    clumped chromatin, and (returned) a patch of green or blue tissue-marking dye at the tissue
    border (particles 0.5-4 µm): its concentration map and OD vector."""
    ink = np.zeros(tissue.shape, np.float32)
    vec = perturb_vector(_INKS[int(rng.integers(len(_INKS)))], rng.uniform(0, 8), rng)
    rr, cc = np.nonzero(tissue)
    if not len(rr):
        return ink, vec
    area = tissue.sum() * mpp * mpp

    def at() -> tuple[float, float]:
        j = int(rng.integers(len(rr)))
        return float(rr[j]), float(cc[j])

    for _ in range(int(rng.integers(1, 4))):  # lymphocyte aggregates and loose lymphocytes
        r0, c0 = at()
        spread = rng.uniform(6.0, 25.0) / mpp
        for _ in range(int(rng.integers(5, 40))):
            rad = rng.uniform(2.5, 3.5) / mpp
            _ellipse(hem, r0 + rng.normal(0, spread), c0 + rng.normal(0, spread), rad, rad * rng.uniform(0.85, 1.0),
                     rng.uniform(0, np.pi), rng.uniform(0.7, 1.4), rng,
                     clumps=(rng.uniform(0.0, 0.4), rng.uniform(0.4, 0.8) / mpp, rng))
    for _ in range(int(rng.integers(1, 3))):  # red blood cells in rows (a capillary)
        r0, c0 = at()
        ang = rng.uniform(0, np.pi)
        for k in range(int(rng.integers(4, 20))):
            step = k * rng.uniform(5.0, 8.0) / mpp
            r, c = r0 + step * math.sin(ang) + rng.normal(0, 2 / mpp), c0 + step * math.cos(ang) + rng.normal(0, 2 / mpp)
            rad = rng.uniform(3.5, 4.0) / mpp
            dens = rng.uniform(0.4, 1.0)
            _ellipse(eos, r, c, rad, rad * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi), dens, rng)
    for _ in range(int(rng.integers(1, 4))):  # karyorrhectic debris
        r0, c0 = at()
        for _ in range(int(rng.integers(10, 40))):
            rad = rng.uniform(0.3, 1.25) / mpp
            _ellipse(hem, r0 + rng.normal(0, 6 / mpp), c0 + rng.normal(0, 6 / mpp), max(rad, 0.6), max(rad, 0.6) * rng.uniform(0.6, 1.0),
                     rng.uniform(0, np.pi), rng.uniform(0.8, 1.6), rng)
    for _ in range(int(area / 2500)):  # hyperchromatic nuclei with clumped chromatin
        r, c = at()
        rad = rng.uniform(3.0, 5.5) / mpp
        _ellipse(hem, r, c, rad, rad * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi), rng.uniform(0.7, 1.1), rng,
                 clumps=(rng.uniform(0.2, 0.5), rng.uniform(0.4, 1.0) / mpp, rng))
    border = np.argwhere(tissue & ~ndi.binary_erosion(tissue, iterations=2))
    if rng.random() < 0.7 and len(border):  # marking dye along part of the tissue border
        r0, c0 = border[int(rng.integers(len(border)))]
        near = border[np.hypot(border[:, 0] - r0, border[:, 1] - c0) < rng.uniform(20, 80) / mpp]
        for r, c in near[rng.random(len(near)) < rng.uniform(0.1, 0.5)]:
            rad = rng.uniform(0.25, 2.0) / mpp
            _ellipse(ink, r + rng.normal(0, 3 / mpp), c + rng.normal(0, 3 / mpp), max(rad, 0.6), max(rad, 0.6),
                     0.0, rng.uniform(0.3, 1.2), rng)
    return ink, vec
