"""Irregular necrosis borders for the generated H&E tissue tile (:func:`mmnst_path.synthetic_tissue.he_tissue_tile`
with ``necrosis_border="irregular"``; #13, session 23).

Modelled on coagulative tumour necrosis as it is seen in sections, not on any validation image: the front between
viable tumour and necrosis is rarely a smooth line. Tongues and islands of viable tumour (often around a vessel)
reach into the necrosis and necrosis reaches between nests, over tens of µm; the necrotic side of the front is a
transition zone, 5-30 µm deep, of dying cells before the anucleate matrix: shrunken hypereosinophilic cells whose
nucleus is pyknotic (small, round, dense, 2-4 µm across) or broken into karyorrhectic fragments (0.5-1.5 µm), and
ghost cells (the outline of a cell with a pale eosinophilic body and a faint or absent nucleus). All of it is
necrosis: only viable tumour keeps a nucleus of normal size and chromatin.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._synthetic_wavy import _field

__all__ = ["irregular_necrosis", "paint_dying_zone"]


def irregular_necrosis(necrosis: np.ndarray, allowed: np.ndarray, mpp: float, rng: np.random.Generator) -> np.ndarray:
    """(M, N) bool: ``necrosis`` with its border made irregular, inside ``allowed``.

    The signed distance to the border (µm, positive inside) is displaced by two noise fields: fine
    interdigitation (correlation 3-10 µm, amplitude 4-15 µm) and tongues / islands of viable tissue (correlation
    12-30 µm, amplitude 6-18 µm), each clipped at 2 amplitudes, so that the new border lies within 66 µm of the
    old one.

    Parameters
    ----------
    necrosis : numpy.ndarray
        (M, N) bool, the necrotic region of the layout.
    allowed : numpy.ndarray
        (M, N) bool, where necrosis may lie (the tissue, or the tumour for necrosis inside nests).
    mpp : float
        µm per pixel.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        (M, N) bool.
    """
    if not necrosis.any() or necrosis.all():
        return necrosis & allowed
    shape = necrosis.shape
    signed = (ndi.distance_transform_edt(necrosis) - ndi.distance_transform_edt(~necrosis)) * mpp
    fine = np.clip(_field(shape, rng.uniform(3, 10) / mpp, rng), -2, 2) * rng.uniform(4, 15)
    coarse = np.clip(_field(shape, rng.uniform(12, 30) / mpp, rng), -2, 2) * rng.uniform(6, 18)
    return allowed & (signed + fine + coarse > 0)


def paint_dying_zone(h: np.ndarray, e: np.ndarray, necrosis: np.ndarray, viable: np.ndarray, mpp: float,
                     rng: np.random.Generator, *, radius_um: tuple[float, float] = (3.0, 5.0)) -> None:
    """Paint (in place, by max / add) the transition zone of ``necrosis`` next to ``viable`` tumour.

    Within a depth of 5-30 µm (drawn per call) of the border with ``viable``, dying cells fill the necrosis at a
    density falling with the depth: hypereosinophilic shrunken cells (cell radius 0.7-1.1 of ``radius_um``, eosin
    +0.15-0.5 OD) with a pyknotic nucleus (radius 1.0-2.0 µm, hematoxylin 0.55-1.0 OD) or 2-6 karyorrhectic
    fragments (0.4-0.8 µm radius), and ghost cells (a pale eosin body with a darker rim and a faint nucleus,
    hematoxylin 0.03-0.12 OD). Nothing is painted outside ``necrosis``.

    Parameters
    ----------
    h, e : numpy.ndarray
        (M, N) float32 hematoxylin and eosin concentration maps (log10 OD), changed in place.
    necrosis, viable : numpy.ndarray
        (M, N) bool: the necrotic region and the viable tumour beside it.
    mpp : float
        µm per pixel.
    rng : numpy.random.Generator
    radius_um : tuple of float
        (low, high) nuclear radius of the tile's viable tumour, µm (cells are sized from it).
    """
    if not necrosis.any() or not viable.any():
        return
    shape = necrosis.shape
    depth = ndi.distance_transform_edt(~viable) * mpp
    zone_um = rng.uniform(5, 30)
    zone = necrosis & (depth <= zone_um)
    if not zone.any():
        return
    cell_um = rng.uniform(1.6, 2.4) * float(np.mean(radius_um))
    eos_cell = rng.uniform(0.15, 0.5)
    share_ghost = rng.uniform(0.1, 0.7)
    share_kr = rng.uniform(0.1, 0.6)  # of the dying (non-ghost) cells: karyorrhexis rather than pyknosis
    rr, cc = np.nonzero(zone)
    n = int(rng.uniform(0.4, 0.9) * rr.size * mpp * mpp / (np.pi * (cell_um / 2) ** 2))
    pick = rng.integers(0, rr.size, n)
    # density falls off with the depth: keep a cell with probability 1 - depth / zone
    keep = rng.random(n) >= depth[rr[pick], cc[pick]] / zone_um * rng.uniform(0.5, 1.0)
    pick = pick[keep]
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    body_e = np.zeros(shape, np.float32)
    ghost_e = np.zeros(shape, np.float32)
    nuc_h = np.zeros(shape, np.float32)
    for r, c in zip(rr[pick], cc[pick], strict=True):
        rad = cell_um / 2 * rng.uniform(0.7, 1.1) / mpp
        half = int(rad) + 3
        r0, r1, c0, c1 = max(0, r - half), min(shape[0], r + half + 1), max(0, c - half), min(shape[1], c + half + 1)
        d = np.hypot(yy[r0:r1, c0:c1] - r, xx[r0:r1, c0:c1] - c) / rad
        disc = np.clip((1 - d) * rad + 0.5, 0, 1).astype(np.float32)
        if rng.random() < share_ghost:  # ghost cell: pale body, a rim where the membrane was, faint nucleus
            rim = np.exp(-((d - 0.95) ** 2) / 0.02).astype(np.float32)
            view = ghost_e[r0:r1, c0:c1]
            np.maximum(view, disc * rng.uniform(0.03, 0.12) + rim * rng.uniform(0.05, 0.2), out=view)
            nr = rng.uniform(0.3, 0.5) * rad
            nuc = np.clip((1 - np.hypot(yy[r0:r1, c0:c1] - r, xx[r0:r1, c0:c1] - c) / nr) * nr + 0.5, 0, 1)
            view = nuc_h[r0:r1, c0:c1]
            np.maximum(view, (nuc * rng.uniform(0.03, 0.12)).astype(np.float32), out=view)
            continue
        view = body_e[r0:r1, c0:c1]  # shrunken hypereosinophilic cell
        np.maximum(view, disc * eos_cell * rng.uniform(0.8, 1.2), out=view)
        if rng.random() < share_kr:  # karyorrhexis: a few dense fragments inside the cell
            for _ in range(int(rng.integers(2, 7))):
                fr = rng.uniform(0.4, 0.8) / mpp
                fy, fx = r + rng.normal(0, 0.35 * rad), c + rng.normal(0, 0.35 * rad)
                dd = np.hypot(yy[r0:r1, c0:c1] - fy, xx[r0:r1, c0:c1] - fx) / fr
                view = nuc_h[r0:r1, c0:c1]
                np.maximum(view, (np.clip((1 - dd) * fr + 0.5, 0, 1) * rng.uniform(0.5, 1.0)).astype(np.float32),
                           out=view)
        else:  # pyknosis: a small round dense nucleus, off centre
            pr = rng.uniform(1.0, 2.0) / mpp
            py, px = r + rng.normal(0, 0.15 * rad), c + rng.normal(0, 0.15 * rad)
            dd = np.hypot(yy[r0:r1, c0:c1] - py, xx[r0:r1, c0:c1] - px) / pr
            view = nuc_h[r0:r1, c0:c1]
            np.maximum(view, (np.clip((1 - dd) * pr + 0.5, 0, 1) * rng.uniform(0.55, 1.0)).astype(np.float32), out=view)
    e += necrosis * np.maximum(body_e, ghost_e)
    np.maximum(h, nuc_h * necrosis, out=h)
