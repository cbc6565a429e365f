"""Loose oedematous stroma for the generated H&E tissue tile (:func:`mmnst_path.synthetic_tissue.he_tissue_tile`
with ``stroma_kind="oedema"``; #13, session 23).

Modelled on oedematous connective tissue as it is seen in sections (the loose stroma around tumours and in
reactive tissue), not on any validation image: thin, pale, wispy collagen fibres, widely spaced and loosely woven,
with clear (unstained or faintly proteinaceous) space between them; sparse stellate or spindle fibroblast nuclei
with thin processes; few inflammatory cells. Unlike pale necrosis it has no karyorrhectic debris, no ghost cells
and no granular eosin: its eosin is in fibres, not in an amorphous mass.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._synthetic_wavy import _field, _strokes, stroma_maps

__all__ = ["oedema_stroma"]


@stroma_maps
def oedema_stroma(region: np.ndarray, mpp: float, rng: np.random.Generator, h: np.ndarray, e: np.ndarray
                  ) -> None:
    """Hematoxylin and eosin concentration maps (float32, zero outside ``region``) of loose oedematous stroma.

    Drawn per call: thin fibres (0.5-1.5 µm wide, 20-80 µm long, eosin 0.06-0.3 OD) following a direction field
    that turns over 8-30 µm with a wave (wavelength 10-40 µm; in 60 % of the calls half of them cross the others at
    40-90°, a loose net), covering 8-30 % of the stroma; the space between
    them clear (eosin 0-0.02 OD) with, in some tiles, faint proteinaceous fluid (eosin up to 0.05 OD in patches of
    10-40 µm) and a faint hematoxylin tint (ground substance); sparse spindle or stellate nuclei (25-60 µm apart;
    spindles 5-10 x 1-1.8 µm, stellate 2.5-4 µm with 2-4 thin processes of 4-10 µm), hematoxylin 0.25-0.6 OD.
    """
    shape = region.shape
    theta = rng.uniform(0, np.pi) + rng.uniform(0.6, 1.5) * _field(shape, rng.uniform(8, 30) / mpp, rng)
    width_um = rng.uniform(0.5, 1.5)
    length_um = rng.uniform(20, 80)
    wave = (rng.uniform(0.2, 0.6), rng.uniform(10, 40) / mpp)
    area_um2 = float(region.sum()) * mpp * mpp
    cover = rng.uniform(0.08, 0.3)
    n = int(cover * area_um2 / (length_um * width_um))
    rr, cc = np.nonzero(region)
    pick = rng.integers(0, rr.size, n)
    starts = np.stack([rr[pick], cc[pick]], 1) + rng.uniform(-0.5, 0.5, (n, 2))
    lengths = length_um / mpp * rng.uniform(0.5, 1.5, n)
    if rng.random() < 0.6:  # a loose net: a second family of fibres crossing the first at 40-90 deg
        cross = rng.random(n) < 0.5
        theta2 = theta + rng.choice([-1.0, 1.0]) * rng.uniform(0.7, 1.6) + 0.5 * _field(shape, rng.uniform(8, 30) / mpp, rng)
        p1, i1 = _strokes(shape, starts[~cross], theta, lengths[~cross], wave, rng)
        p2, i2 = _strokes(shape, starts[cross], theta2, lengths[cross], wave, rng)
        pts = np.concatenate([p1, p2])
        ids = np.concatenate([np.flatnonzero(~cross)[i1], np.flatnonzero(cross)[i2]])
    else:
        pts, ids = _strokes(shape, starts, theta, lengths, wave, rng)
    acc = np.zeros(shape, np.float32)
    np.add.at(acc, (pts[:, 0], pts[:, 1]), rng.uniform(0.5, 1.3, n).astype(np.float32)[ids])
    sigma = max(width_um / 2.5 / mpp, 0.4)
    fib = 1 - np.exp(-1.5 * ndi.gaussian_filter(acc, sigma) * (2.5 * sigma))
    e_fib = rng.uniform(0.06, 0.3)
    clear = rng.uniform(0.0, 0.02)
    fluid = np.zeros(shape, np.float32)
    if rng.random() < 0.5:  # faint proteinaceous oedema fluid in patches
        fluid = rng.uniform(0.01, 0.05) * np.clip(_field(shape, rng.uniform(10, 40) / mpp, rng), 0, None)
    e += region * (clear + fluid + e_fib * fib * np.clip(1 + 0.2 * rng.normal(size=shape), 0.4, 1.6))
    if rng.random() < 0.5:  # a faint hematoxylin tint (ground substance)
        h += region * rng.uniform(0.003, 0.02)
    # sparse spindle or stellate fibroblast nuclei
    spacing_um = rng.uniform(25, 60)
    m = int(area_um2 / (spacing_um * spacing_um))
    if m:
        pick = rng.integers(0, rr.size, m)
        stellate = rng.random(m) < rng.uniform(0.2, 0.8)
        nacc = np.zeros(shape, np.float32)
        centres = np.stack([rr[pick], cc[pick]], 1).astype(np.float64)
        npts, nids = _strokes(shape, centres, theta, rng.uniform(5, 10, m) / mpp, (0.2, 8.0 / mpp), rng)
        spindle = ~stellate[nids]
        np.add.at(nacc, (npts[spindle, 0], npts[spindle, 1]), 1.0)
        # stellate: a small round body and 2-4 thin processes in random directions
        proc_starts, proc_len = [], []
        for i in np.flatnonzero(stellate):
            r, c = centres[i]
            rad = rng.uniform(1.25, 2.0) / mpp
            r0, r1 = int(max(0, r - rad - 1)), int(min(shape[0], r + rad + 2))
            c0, c1 = int(max(0, c - rad - 1)), int(min(shape[1], c + rad + 2))
            yy, xx = np.mgrid[r0:r1, c0:c1]
            nacc[r0:r1, c0:c1] += np.hypot(yy - r, xx - c) <= rad
            for _ in range(int(rng.integers(2, 5))):  # from the body's edge, each at its own angle
                a = rng.uniform(0, 2 * np.pi)
                proc_starts.append((r + rad * np.sin(a), c + rad * np.cos(a)))
                proc_len.append(rng.uniform(8, 20) / mpp)
        if proc_starts:
            ptheta = rng.uniform(0, np.pi) + np.pi * _field(shape, 3.0 / mpp, rng)
            ppts, _ = _strokes(shape, np.asarray(proc_starts), ptheta, np.asarray(proc_len), (0.3, 6.0 / mpp), rng,
                               follow=False)
            proc = np.zeros(shape, np.float32)
            np.add.at(proc, (ppts[:, 0], ppts[:, 1]), 1.0)
            nacc += 0.3 * np.minimum(proc, 1.0)
        nw = rng.uniform(0.5, 0.9) / 2.5 / mpp
        nuc = np.minimum(ndi.gaussian_filter(np.minimum(nacc, 1.0), nw) * (2.5 * nw) * 1.2, 1.0)
        h += region * nuc * rng.uniform(0.25, 0.6)
