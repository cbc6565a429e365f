"""Dense pink stromal matrix and clefted coarse collagen for the generated H&E tissue tile
(:func:`mmnst_path.synthetic_tissue.he_tissue_tile` with ``stroma_kind="matrix"`` or ``"clefted"``; #13, session 24).

Modelled on connective tissue as it is seen in sections, not on any validation image:

- matrix: the loose-to-moderately dense fibrous stroma of soft tissue and reactive stroma around tumours: an
  eosinophilic (pink to lilac-pink) ground substance filling the space, crowded with short, wavy, randomly oriented
  collagen fibres a little pinker than the matrix and a few narrow clear slits between them, scattered small
  vessels (capillaries and venules: a lumen lined by flat endothelial nuclei, a thin pink wall, often red cells
  inside) and sparse spindle or stellate fibroblast nuclei. Unlike necrosis its eosin sits in fibres on a
  fibrillar ground, its nuclei are intact and crisp, and it has vessels.
- clefted: the reticular dermis and other dense irregular connective tissue: coarse, bright pink collagen bundles
  (4-12 µm wide, 20-80 µm long) locally parallel in patches, separated by white clefts (sectioning / fixation
  gaps), with flat dark fibroblast nuclei squeezed between the bundles and a few small vessels.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

from ._synthetic_wavy import _field, _strokes, stroma_maps

__all__ = ["clefted_stroma", "matrix_stroma"]


def _fibres(region: np.ndarray, theta: np.ndarray, width_um: float, length_um: float, cover: float,
            wave: tuple[float, float], mpp: float, rng: np.random.Generator, *, follow: bool) -> np.ndarray:
    """Fibre density (0-1, float32) of strokes ``width_um`` wide and ~``length_um`` long covering ``cover`` of
    ``region`` (area of strokes / area), saturating where they overlap."""
    shape = region.shape
    area_um2 = float(region.sum()) * mpp * mpp
    n = int(cover * area_um2 / (length_um * width_um))
    acc = np.zeros(shape, np.float32)
    if n == 0:
        return acc
    rr, cc = np.nonzero(region)
    pick = rng.integers(0, rr.size, n)
    starts = np.stack([rr[pick], cc[pick]], 1) + rng.uniform(-0.5, 0.5, (n, 2))
    lengths = length_um / mpp * rng.uniform(0.5, 1.5, n)
    pts, ids = _strokes(shape, starts, theta, lengths, wave, rng, follow=follow)
    np.add.at(acc, (pts[:, 0], pts[:, 1]), rng.uniform(0.6, 1.4, n).astype(np.float32)[ids])
    sigma = max(width_um / 2.5 / mpp, 0.4)
    return (1 - np.exp(-1.5 * ndi.gaussian_filter(acc, sigma) * (2.5 * sigma))).astype(np.float32)


def _nuclei(region: np.ndarray, theta: np.ndarray, spacing_um: float, size_um: tuple[float, float],
            width_um: float, mpp: float, rng: np.random.Generator) -> np.ndarray:
    """Density (0-1) of spindle fibroblast nuclei ``size_um`` long along ``theta``, ``spacing_um`` apart."""
    shape = region.shape
    m = int(float(region.sum()) * mpp * mpp / (spacing_um * spacing_um))
    nacc = np.zeros(shape, np.float32)
    if m == 0:
        return nacc
    rr, cc = np.nonzero(region)
    pick = rng.integers(0, rr.size, m)
    centres = np.stack([rr[pick], cc[pick]], 1).astype(np.float64)
    npts, nids = _strokes(shape, centres, theta, rng.uniform(*size_um, m) / mpp, (0.15, 12.0 / mpp), rng,
                          follow=False)
    np.add.at(nacc, (npts[:, 0], npts[:, 1]), rng.uniform(0.7, 1.0, m).astype(np.float32)[nids])
    nw = width_um / 2.5 / mpp
    return np.minimum(ndi.gaussian_filter(np.minimum(nacc, 1.0), nw) * (2.5 * nw) * 1.2, 1.0).astype(np.float32)


def _vessels(h: np.ndarray, e: np.ndarray, region: np.ndarray, spacing_um: float, mpp: float,
             rng: np.random.Generator) -> np.ndarray:
    """Paint small vessels in place, one per ``spacing_um``² of ``region`` on average: an elliptic lumen (radius
    3-10 µm) cleared of matrix, a pink wall 1.5-4 µm thick, 3-8 flat endothelial nuclei along the lumen and, in
    60 % of them, red cells (discs of 6-7.6 µm diameter, eosin 0.45-0.9 OD) filling 20-90 % of the lumen. Returns
    the lumina (bool), where no fibroblast nucleus belongs."""
    shape = region.shape
    lumina = np.zeros(shape, bool)
    m = rng.poisson(float(region.sum()) * mpp * mpp / (spacing_um * spacing_um))
    if m == 0:
        return lumina
    rr, cc = np.nonzero(region)
    for i in rng.integers(0, rr.size, m):
        r, c = float(rr[i]), float(cc[i])
        a = rng.uniform(3.0, 10.0) / mpp
        b = a * rng.uniform(0.45, 1.0)
        ang = rng.uniform(0, np.pi)
        wall = rng.uniform(1.5, 4.0) / mpp
        half = int(a + wall) + 3
        r0, r1 = max(0, int(r) - half), min(shape[0], int(r) + half + 1)
        c0, c1 = max(0, int(c) - half), min(shape[1], int(c) + half + 1)
        yy, xx = np.mgrid[r0:r1, c0:c1].astype(np.float32)
        u = (yy - r) * math.cos(ang) + (xx - c) * math.sin(ang)
        v = -(yy - r) * math.sin(ang) + (xx - c) * math.cos(ang)
        d = np.sqrt((u / a) ** 2 + (v / b) ** 2)  # 1 on the lumen's edge
        rad = np.hypot(u, v) / np.maximum(d, 1e-6)  # the lumen's radius in each pixel's direction
        dist_out = (d - 1) * rad  # px outside the lumen's edge
        reg = region[r0:r1, c0:c1]
        lumen = (d < 1) & reg
        lumina[r0:r1, c0:c1] |= lumen
        wall_m = (dist_out >= 0) & (dist_out < wall) & reg
        eh, ee = h[r0:r1, c0:c1], e[r0:r1, c0:c1]
        ee[wall_m] = np.maximum(ee[wall_m], rng.uniform(0.15, 0.4))
        eh[wall_m] += rng.uniform(0.01, 0.05)
        ee[lumen] = rng.uniform(0.0, 0.03)
        eh[lumen] = 0.0
        if rng.random() < 0.6:  # red cells
            rbc = np.zeros(lumen.shape, np.float32)
            k = int(rng.uniform(0.2, 0.9) * a * b / (3.4 / mpp) ** 2) + 1
            for _ in range(k):
                t = rng.uniform(0, 2 * np.pi)
                s = math.sqrt(rng.random()) * 0.85
                pr = r + s * (a * math.sin(ang) * math.cos(t) + b * math.cos(ang) * math.sin(t)) - r0
                pc = c + s * (a * math.cos(ang) * math.cos(t) - b * math.sin(ang) * math.sin(t)) - c0
                rr_ = rng.uniform(3.0, 3.8) / mpp  # radius (diameter 6-7.6 µm)
                disc = np.hypot(yy - r0 - pr, xx - c0 - pc) / rr_
                rbc = np.maximum(rbc, np.clip((1 - disc) * rr_ + 0.5, 0, 1) * (1 - 0.25 * (disc < 0.4)))
            ee[lumen] += (rng.uniform(0.45, 0.9) * rbc)[lumen]
        # flat endothelial nuclei on the lumen's edge, elongated along it
        ring = (dist_out >= 0) & (dist_out < 1.6 / mpp) & reg
        if ring.any():
            ry, rx = np.nonzero(ring)
            nuc = np.zeros(lumen.shape, np.float32)
            for j in rng.integers(0, ry.size, int(rng.integers(3, 9))):
                gu, gv = float(u[ry[j], rx[j]]) / (a * a), float(v[ry[j], rx[j]]) / (b * b)  # d's gradient
                gy, gx = gu * math.cos(ang) - gv * math.sin(ang), gu * math.sin(ang) + gv * math.cos(ang)
                tang = math.atan2(-gx, gy)  # along the edge: (sin, cos) of it is perpendicular to (gy, gx)
                ln, wd = rng.uniform(2.0, 3.5) / mpp, rng.uniform(0.5, 0.8) / mpp
                du = (yy - r0 - ry[j]) * math.sin(tang) + (xx - c0 - rx[j]) * math.cos(tang)
                dv = -(yy - r0 - ry[j]) * math.cos(tang) + (xx - c0 - rx[j]) * math.sin(tang)
                q = np.sqrt((du / ln) ** 2 + (dv / wd) ** 2)
                nuc = np.maximum(nuc, np.clip((1 - q) * wd + 0.5, 0, 1))
            eh += reg * nuc * rng.uniform(0.4, 0.8)
    return lumina


@stroma_maps
def matrix_stroma(region: np.ndarray, mpp: float, rng: np.random.Generator, h: np.ndarray, e: np.ndarray
                  ) -> None:
    """Hematoxylin and eosin concentration maps (float32, zero outside ``region``) of dense pink stromal matrix.

    Drawn per call: a ground matrix filling the space (eosin 0.04-0.14 OD, mottled over 2-6 µm, a hematoxylin tint
    0.005-0.04 OD: pink to lilac-pink); on it dense short fibres (0.6-2 µm wide, 5-25 µm long, covering 60-150 %
    of it, eosin +0.1-0.35 OD), randomly oriented (direction coherent over only 4-12 µm) and wavy; in 80 % of the
    tiles narrow clear slits between them (1-2.5 µm wide, 8-30 % of the area); small vessels (one per 50-140 µm
    squared, :func:`_vessels`); sparse spindle nuclei (5-12 µm long, 18-45 µm apart) and in some tiles stellate
    ones, hematoxylin 0.3-0.7 OD.
    """
    shape = region.shape
    theta = np.pi * rng.uniform(0.5, 1.0) * _field(shape, rng.uniform(4, 12) / mpp, rng)
    mottle = np.clip(1 + 0.3 * _field(shape, rng.uniform(2, 6) / mpp, rng), 0.3, 2)
    ground = rng.uniform(0.04, 0.14) * mottle
    fib = _fibres(region, theta, rng.uniform(0.6, 2.0), rng.uniform(5, 25), rng.uniform(0.6, 1.5),
                  (rng.uniform(0.2, 0.6), rng.uniform(6, 20) / mpp), mpp, rng, follow=False)
    e_fib = rng.uniform(0.1, 0.35)
    e += region * (ground + e_fib * fib * np.clip(1 + 0.2 * rng.normal(size=shape), 0.4, 1.6))
    h += region * (rng.uniform(0.005, 0.04) * mottle)
    if rng.random() < 0.8:  # narrow clear slits between the fibres
        slit = _fibres(region, theta, rng.uniform(1.0, 2.5), rng.uniform(6, 20), rng.uniform(0.08, 0.3),
                       (0.3, 10.0 / mpp), mpp, rng, follow=False)
        e *= 1 - 0.9 * slit * (1 - fib)
        h *= 1 - 0.9 * slit * (1 - fib)
    lumina = _vessels(h, e, region, rng.uniform(50, 140), mpp, rng)
    nuc = _nuclei(region, theta, rng.uniform(18, 45), (5.0, 12.0), rng.uniform(0.8, 1.6), mpp, rng)
    if rng.random() < 0.5:  # some stellate / plump fibroblasts: short, wider bodies
        nuc = np.maximum(nuc, _nuclei(region, theta, rng.uniform(40, 90), (2.5, 5.0), rng.uniform(1.8, 3.0), mpp,
                                      rng))
    h += (region & ~lumina) * nuc * rng.uniform(0.3, 0.7)


@stroma_maps
def clefted_stroma(region: np.ndarray, mpp: float, rng: np.random.Generator, h: np.ndarray, e: np.ndarray
                   ) -> None:
    """Hematoxylin and eosin concentration maps (float32, zero outside ``region``) of coarse clefted collagen.

    Drawn per call: coarse bundles (4-12 µm wide, 20-80 µm long, covering 100-180 % of the region, eosin
    0.25-0.9 OD) along a direction field coherent over 20-60 µm (patches turning up to ~80°), with a gentle wave;
    white clefts (eosin and hematoxylin x0.0-0.15 in their middle) 1-5 µm wide along the same field, drawn to cover
    15-40 % of the area;
    flat dark nuclei (5-12 µm long, 0.6-1.2 µm wide, 20-50 µm apart, hematoxylin 0.4-0.9 OD) between the bundles;
    a few small vessels (one per 90-250 µm squared).
    """
    shape = region.shape
    theta = rng.uniform(0, np.pi) + rng.uniform(0.5, 1.4) * _field(shape, rng.uniform(20, 60) / mpp, rng)
    wave = (rng.uniform(0.1, 0.3), rng.uniform(20, 60) / mpp)
    fib = _fibres(region, theta, rng.uniform(4, 12), rng.uniform(20, 80), rng.uniform(1.0, 1.8), wave, mpp, rng,
                  follow=True)
    e_fib = rng.uniform(0.25, 0.9)
    e += region * (rng.uniform(0.02, 0.08) + e_fib * fib * np.clip(1 + 0.15 * rng.normal(size=shape), 0.5, 1.5))
    if rng.random() < 0.4:  # a faint hematoxylin tint of the collagen
        h += region * rng.uniform(0.005, 0.03) * fib
    cleft = _fibres(region, theta, rng.uniform(1.0, 5.0), rng.uniform(15, 60), rng.uniform(0.15, 0.4), wave, mpp,
                    rng, follow=True)
    keep = 1 - np.minimum(1.6 * cleft, 1.0) * (1 - rng.uniform(0.0, 0.15))  # sharp-edged: white in their middle
    e *= keep
    h *= keep
    lumina = _vessels(h, e, region, rng.uniform(90, 250), mpp, rng)
    nuc = _nuclei(region, theta, rng.uniform(20, 50), (5.0, 12.0), rng.uniform(0.6, 1.2), mpp, rng)
    h += (region & ~lumina) * nuc * rng.uniform(0.4, 0.9)
