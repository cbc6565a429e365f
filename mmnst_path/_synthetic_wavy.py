"""Wavy, short, weakly oriented or unoriented collagen for the generated H&E tissue tile
(:func:`mmnst_path.synthetic_tissue.he_tissue_tile` with ``stroma_kind="wavy"``; #13, session 22).

Modelled on real stroma, not on any validation generator: the dermis of CMU-1 (0.5 µm/px: bright pink-red
collagen bundles 3-8 µm wide and 20-60 µm long, locally parallel in patches whose direction changes every few tens of
µm, separated by white clefts; the papillary dermis finer, paler and mesh-like), the Kather 2016 stroma tiles (wavy
red bundles with clefts, sparse wavy or spindle nuclei) and the NCT STR tiles (pale lilac fibrillar mesh with short
unoriented fibres and scattered small nuclei). The fibres are streamlines of a slowly turning direction field with a
sinusoidal wave along them; the field is coherent over 15-60 µm (weakly oriented) or over 6-15 µm (unoriented mesh).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import ndimage as ndi

__all__ = ["stroma_maps", "wavy_stroma"]

#: the Parameters / Returns section every stroma painter's docstring shares (added by :func:`stroma_maps`)
_STROMA_DOC = """
    Parameters
    ----------
    region : numpy.ndarray
        (M, N) bool, where the stroma is.
    mpp : float
        µm per pixel.
    rng : numpy.random.Generator

    Returns
    -------
    tuple of numpy.ndarray
        (hematoxylin, eosin) concentration maps, (M, N) float32.
    """


def stroma_maps(paint: Callable[[np.ndarray, float, np.random.Generator, np.ndarray, np.ndarray], None]
                ) -> Callable[[np.ndarray, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]:
    """The stroma generator ``f(region, mpp, rng) -> (hematoxylin, eosin)`` of a painter
    ``paint(region, mpp, rng, h, e)`` that adds its stroma (OD) in place to zeroed (M, N) float32 maps; ``f`` returns
    the zero maps without calling ``paint`` (no random draw) when ``region`` is empty, and carries ``paint``'s name
    and its docstring followed by the shared Parameters / Returns section."""

    def maps(region: np.ndarray, mpp: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        h = np.zeros(region.shape, np.float32)
        e = np.zeros(region.shape, np.float32)
        if region.any():
            paint(region, mpp, rng, h, e)
        return h, e

    maps.__name__, maps.__qualname__, maps.__module__ = paint.__name__, paint.__qualname__, paint.__module__
    maps.__doc__ = (paint.__doc__ or "").rstrip() + "\n" + _STROMA_DOC
    return maps


def _field(shape: tuple[int, int], sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    f = ndi.gaussian_filter(rng.normal(size=shape).astype(np.float32), sigma_px, mode="wrap")
    return (f - f.mean()) / (f.std() + 1e-9)


def _strokes(shape: tuple[int, int], starts: np.ndarray, theta: np.ndarray, length_px: np.ndarray,
             wave: tuple[float, float], rng: np.random.Generator, *, follow: bool = True
             ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel (row, col) of the points of streamlines started at ``starts`` ((n, 2) float) along the direction
    field ``theta`` (radians, per pixel), each ``length_px`` long (both ways from its start), with a sinusoidal
    turn of amplitude ``wave[0]`` (radians) and wavelength ``wave[1]`` (px); the stroke index of every point.
    ``follow=False``: each stroke keeps the direction of the field at its start (straight but for the wave)."""
    n = len(starts)
    if n == 0:
        return np.zeros((0, 2), np.int64), np.zeros(0, np.int64)
    steps = math.ceil(float(length_px.max()) / 2 / 0.5)
    phase = rng.uniform(0, 2 * np.pi, n)
    amp = wave[0] * rng.uniform(0.5, 1.5, n)
    r0 = np.clip(np.rint(starts[:, 0]).astype(np.int64), 0, shape[0] - 1)
    c0 = np.clip(np.rint(starts[:, 1]).astype(np.int64), 0, shape[1] - 1)
    start_theta = theta[r0, c0]
    pts, ids = [], []
    for sign in (1.0, -1.0):
        pos = starts.astype(np.float64).copy()
        for s in range(steps):
            alive = s * 0.5 < length_px / 2
            if not alive.any():
                break
            r = np.clip(np.rint(pos[:, 0]).astype(np.int64), 0, shape[0] - 1)
            c = np.clip(np.rint(pos[:, 1]).astype(np.int64), 0, shape[1] - 1)
            inside = alive & (pos[:, 0] >= 0) & (pos[:, 0] < shape[0]) & (pos[:, 1] >= 0) & (pos[:, 1] < shape[1])
            pts.append(np.stack([r[inside], c[inside]], 1))
            ids.append(np.flatnonzero(inside))
            ang = (theta[r, c] if follow else start_theta) + amp * np.sin(2 * np.pi * sign * s * 0.5 / wave[1] + phase)
            pos[:, 0] += sign * 0.5 * np.sin(ang)
            pos[:, 1] += sign * 0.5 * np.cos(ang)
    return np.concatenate(pts), np.concatenate(ids)


@stroma_maps
def wavy_stroma(region: np.ndarray, mpp: float, rng: np.random.Generator, h: np.ndarray, e: np.ndarray
                ) -> None:
    """Hematoxylin and eosin concentration maps (float32, zero outside ``region``) of wavy collagen.

    Drawn per call: weakly oriented (direction coherent over 15-60 µm, turning up to ~70°) or unoriented (coherent
    over 6-15 µm); dense bundles (3-8 µm wide, white clefts between them) or a loose fine mesh (1-2.5 µm fibres on a
    pale matrix); fibres 10-60 µm long (unoriented 5-20 µm) with a gentle wave (wavelength 12-40 µm); eosin from
    pale (0.1 OD) to bright (0.8 OD); sparse spindle or wavy nuclei (4-9 µm long, 0.6-1.4 µm wide, 18-50 µm apart) along the fibres, and in
    some tiles a faint hematoxylin tint of the matrix.
    """
    shape = region.shape
    unoriented = rng.random() < 0.4
    if unoriented:  # short straight-ish fibres in every direction (each keeps the direction at its start)
        theta = 0.6 * np.pi * _field(shape, rng.uniform(6, 15) / mpp, rng)
    else:
        theta = rng.uniform(0, np.pi) + rng.uniform(0.4, 1.2) * _field(shape, rng.uniform(15, 60) / mpp, rng)
    dense = rng.random() < 0.6
    width_um = (rng.uniform(3, 8) if dense else rng.uniform(1.0, 2.5))
    length_um = rng.uniform(5, 20) if unoriented else rng.uniform(10, 60)
    wave = (rng.uniform(0.1, 0.35), rng.uniform(12, 40) / mpp)
    area_um2 = float(region.sum()) * mpp * mpp
    cover = rng.uniform(0.8, 1.4) if dense else rng.uniform(0.5, 1.2)
    n = int(cover * area_um2 / (length_um * width_um))
    rr, cc = np.nonzero(region)
    pick = rng.integers(0, rr.size, n)
    starts = np.stack([rr[pick], cc[pick]], 1) + rng.uniform(-0.5, 0.5, (n, 2))
    lengths = length_um / mpp * rng.uniform(0.5, 1.5, n)
    pts, ids = _strokes(shape, starts, theta, lengths, wave, rng, follow=not unoriented)
    weight = rng.uniform(0.6, 1.4, n).astype(np.float32)  # bundle to bundle eosin
    acc = np.zeros(shape, np.float32)
    np.add.at(acc, (pts[:, 0], pts[:, 1]), weight[ids])
    sigma = width_um / 2.5 / mpp
    fib = ndi.gaussian_filter(acc, sigma) * (2.5 * sigma)  # ~ the stroke weight across a fibre
    fib = 1 - np.exp(-1.5 * fib)  # saturating: overlapping fibres are one bundle
    e_fib = float(np.exp(rng.uniform(np.log(0.1), np.log(0.8))))
    matrix = rng.uniform(0.0, 0.03) if dense else rng.uniform(0.01, 0.06)
    mottle = np.clip(1 + 0.3 * _field(shape, rng.uniform(1, 3) / mpp, rng), 0.2, 2)
    e += region * (matrix * mottle + e_fib * fib * np.clip(1 + 0.15 * rng.normal(size=shape), 0.5, 1.5))
    if rng.random() < 0.4:  # a faint hematoxylin tint (basophilic matrix, lilac stroma)
        h += region * (rng.uniform(0.005, 0.03) + rng.uniform(0.0, 0.03) * fib)
    # sparse spindle / wavy nuclei along the fibres
    spacing_um = rng.uniform(18, 50)
    m = int(area_um2 / (spacing_um * spacing_um))
    if m:
        pick = rng.integers(0, rr.size, m)
        nstarts = np.stack([rr[pick], cc[pick]], 1).astype(np.float64)
        nlen = rng.uniform(4, 9, m) / mpp
        npts, nids = _strokes(shape, nstarts, theta, nlen, (rng.uniform(0.1, 0.8), rng.uniform(4, 10) / mpp), rng)
        nacc = np.zeros(shape, np.float32)
        np.add.at(nacc, (npts[:, 0], npts[:, 1]), rng.uniform(0.6, 1.0, m).astype(np.float32)[nids])
        nw = rng.uniform(0.6, 1.4) / 2.5 / mpp
        nuc = np.minimum(ndi.gaussian_filter(np.minimum(nacc, 1.0), nw) * (2.5 * nw) * 1.2, 1.0)
        h += region * nuc * rng.uniform(0.35, 0.75)
