"""Drawing primitives of the generated tiles (:mod:`mmnst_path.synthetic` and its siblings): the
reference stain vectors, stain-vector perturbation, smooth random fields, textured ellipses
(nuclei, cells, melanin bodies) and sub-pixel melanin granules.

Kept apart from :mod:`mmnst_path.synthetic`, which re-exports them, so that the tile generators
stay readable; the public names (:func:`perturb_vector`, :func:`family_melanin_vector`) are
documented there.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

__all__ = ["family_melanin_vector", "perturb_vector"]

_H = (0.650, 0.704, 0.286)
_E = (0.2159, 0.8012, 0.5581)
_DAB = (0.268, 0.570, 0.776)
_FINE = 4  # supersampling of the granule layer (granules down to 0.3 µm at 0.5 µm/px)


def perturb_vector(vector, degrees: float, rng: np.random.Generator) -> np.ndarray:
    """Unit OD vector rotated by ``degrees`` in a random direction (components kept > 0.02)."""
    v = np.asarray(vector, dtype=np.float64)
    v = v / np.linalg.norm(v)
    for _ in range(100):
        d = rng.normal(size=3)
        d -= d.dot(v) * v
        d /= np.linalg.norm(d)
        out = math.cos(math.radians(degrees)) * v + math.sin(math.radians(degrees)) * d
        if np.all(out > 0.02):
            return out / np.linalg.norm(out)
    return v


def _melanin_ref() -> np.ndarray:
    from .stain import melanin_vector

    return melanin_vector()


def _field(shape, sigma, rng) -> np.ndarray:
    f = ndi.gaussian_filter(rng.normal(size=shape).astype(np.float32), sigma)
    return (f - f.mean()) / (f.std() + 1e-9)


def family_melanin_vector(rng: np.random.Generator, degrees: tuple[float, float] = (3.0, 12.0)) -> np.ndarray:
    """A melanin OD vector ``degrees`` from DAB, turned mostly towards grey (brown-black: more
    neutral than DAB), with a random sideways part."""
    dab = np.asarray(_DAB) / np.linalg.norm(_DAB)
    grey = np.ones(3) / math.sqrt(3.0)
    to_grey = grey - grey.dot(dab) * dab
    side = rng.normal(size=3)
    side -= side.dot(dab) * dab
    d = to_grey / np.linalg.norm(to_grey) + 0.3 * side / np.linalg.norm(side)
    d -= d.dot(dab) * dab
    d /= np.linalg.norm(d)
    t = math.radians(rng.uniform(*degrees))
    v = math.cos(t) * dab + math.sin(t) * d
    return np.clip(v, 0.02, None) / np.linalg.norm(np.clip(v, 0.02, None))


def _ellipse(conc, r, c, a_px, b_px, ang, dens, rng, label=None, value=0, clumps=None):
    """Paint an ellipse (semi-axes a along ``ang``, b across) with textured density; mark ``label``.

    ``clumps``: optional ``(amplitude, sigma_px, generator)`` of a smooth multiplicative chromatin
    texture (clumped, granular-looking chromogen, as strong real DAB nuclei are) on top of the
    pixel noise, drawn from its own generator.
    """
    half = int(max(a_px, b_px) * 1.2) + 2
    r0, c0 = int(r) - half, int(c) - half
    yy, xx = np.mgrid[r0 : r0 + 2 * half + 1, c0 : c0 + 2 * half + 1]
    u = (yy - r) * math.cos(ang) + (xx - c) * math.sin(ang)
    v = -(yy - r) * math.sin(ang) + (xx - c) * math.cos(ang)
    d = np.sqrt((u / a_px) ** 2 + (v / b_px) ** 2)
    inside = np.clip((1 - d) * min(a_px, b_px) + 0.5, 0, 1)
    tex = np.clip(1 + 0.2 * rng.normal(size=d.shape), 0.5, 1.6)
    if clumps is not None and clumps[0] > 0:
        f = ndi.gaussian_filter(clumps[2].normal(size=d.shape), clumps[1])
        tex = tex * np.clip(1 + clumps[0] * f / (f.std() + 1e-9), 0.15, 2.0)
    patch = (dens * inside * tex).astype(np.float32)
    sr0, sc0 = max(0, -r0), max(0, -c0)
    sr1, sc1 = min(patch.shape[0], conc.shape[0] - r0), min(patch.shape[1], conc.shape[1] - c0)
    if sr1 <= sr0 or sc1 <= sc0:
        return
    sl = (slice(r0 + sr0, r0 + sr1), slice(c0 + sc0, c0 + sc1))
    np.maximum(conc[sl], patch[sr0:sr1, sc0:sc1], out=conc[sl])
    if label is not None:
        label[sl][inside[sr0:sr1, sc0:sc1] >= 0.5] = value


def _granule_layer(shape, granules, mpp):
    """Melanin concentration (log10 OD, pixel means) of discs ``(row, col, diameter_um, od)`` in
    pixels of ``shape``, drawn on a ``_FINE`` times finer grid and averaged back."""
    fine = (shape[0] * _FINE, shape[1] * _FINE)
    if not granules:
        return np.zeros(shape, np.float32)
    g = np.asarray(granules, dtype=np.float64)
    fr = np.clip(np.rint(g[:, 0] * _FINE), 0, fine[0] - 1).astype(np.intp)
    fc = np.clip(np.rint(g[:, 1] * _FINE), 0, fine[1] - 1).astype(np.intp)
    seeds = np.zeros(fine, bool)
    seeds[fr, fc] = True
    rad = np.zeros(fine, np.float32)
    od = np.zeros(fine, np.float32)
    rad[fr, fc] = 0.5 * g[:, 2] / (mpp / _FINE)
    od[fr, fc] = g[:, 3]
    dist, idx = ndi.distance_transform_edt(~seeds, return_indices=True)
    near_r, near_c = idx[0], idx[1]
    grain = dist <= np.maximum(rad[near_r, near_c], 0.5)
    fine_od = np.where(grain, od[near_r, near_c], 0.0).astype(np.float32)
    return fine_od.reshape(shape[0], _FINE, shape[1], _FINE).mean(axis=(1, 3))


def _cell_axes(rad: float, spindle: bool, rng: np.random.Generator) -> tuple[float, float, float]:
    """Orientation (rad) and half-axes (px) of a cell of radius ``rad``: a spindle 1.6-2.4 x
    0.35-0.5 times ``rad``, else an ellipse of axis ratio 0.75-1 and the same area."""
    ang = rng.uniform(0, np.pi)
    if spindle:
        return ang, rad * rng.uniform(1.6, 2.4), rad * rng.uniform(0.35, 0.5)
    e = rng.uniform(0.75, 1.0)
    return ang, rad / math.sqrt(e), rad * math.sqrt(e)
