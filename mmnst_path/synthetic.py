"""Generated Beer–Lambert tiles with known truth, for validation and sample data.

Every tile is rendered from stain concentration maps (log10 OD along unit stain vectors):
``I = I0 * 10 ** -(Σ c_k v_k)``, with the stain vectors rotated by a few degrees from the
reference presets, an optical blur, sensor noise and optional JPEG compression, so that a
detector tuned to the exact reference vectors or to clean pixels does not pass. The truth
(masks and counts) comes from the concentration maps, not from the rendered image.

Public API
----------
``SyntheticTile``          rgb, mpp, truth (dict of numbers), masks (dict of bool arrays)
``he_melanin_tile(seed, *, size=512, mpp=0.5, pigment_fraction=0.06, angle_deg=3.0, jpeg_quality=85)``
    H&E with melanin granules (cytoplasmic clusters and melanophages); truth
    ``melanin_fraction_pct`` = melanin pixels / tissue pixels, masks ``melanin``, ``tissue``.
``he_necrosis_tile(seed, *, size=512, mpp=1.0, necrosis_fraction=0.4, angle_deg=3.0, jpeg_quality=85)``
    H&E with a necrotic area (pale eosin, ghost nuclei, karyorrhectic debris) beside viable
    tumour; truth ``necrosis_fraction_pct``, masks ``necrosis``, ``tissue``. Viable nuclei whose
    centre lies in the viable area but that reach over the drawn border are not necrosis.
``ki67_pigment_tile(seed, *, size=512, mpp=0.5, positive_fraction=0.15, pigmented_cells=0.5, angle_deg=3.0, jpeg_quality=85, granule_um=0.8)``
    H-DAB Ki67 with melanin granules over a fraction of the *negative* cells; truth
    ``ki67_positive``, ``ki67_negative``, ``ki67_index_pct``, ``melanin_fraction_pct``.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage as ndi

__all__ = ["SyntheticTile", "he_melanin_tile", "he_necrosis_tile", "ki67_pigment_tile", "perturb_vector"]

_H = (0.650, 0.704, 0.286)
_E = (0.2159, 0.8012, 0.5581)
_DAB = (0.268, 0.570, 0.776)


@dataclass(frozen=True)
class SyntheticTile:
    """A generated tile: ``rgb`` (M, N, 3) uint8 at ``mpp`` µm/px, its truth and true masks."""

    rgb: np.ndarray
    mpp: float
    truth: dict = field(default_factory=dict)
    masks: dict = field(default_factory=dict)


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


def _render(concs, vectors, rng, *, blur_px: float, jpeg_quality: int | None) -> np.ndarray:
    od = np.zeros((*concs[0].shape, 3), np.float32)
    for c, v in zip(concs, vectors, strict=True):
        od += c[..., None] * np.asarray(v, np.float32)
    od = ndi.gaussian_filter(od, (blur_px, blur_px, 0))
    bg = np.array([243.0, 241.0, 246.0]) + rng.normal(0, 3, 3)
    rgb = bg * 10.0 ** (-od) + rng.normal(0, 2.0, od.shape)
    rgb = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    if jpeg_quality:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=int(jpeg_quality))
        rgb = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).copy()
    return rgb


def _nuclei(region, n, rng, mpp, radius_um=(3.0, 5.5)):
    rr, cc = np.nonzero(region)
    if len(rr) == 0:
        return []
    out: list = []
    occupied = np.zeros(region.shape, bool)
    for i in rng.permutation(len(rr))[: n * 6]:
        if len(out) >= n:
            break
        r, c, rad = rr[i], cc[i], rng.uniform(*radius_um) / mpp
        if occupied[r, c]:
            continue
        out.append((float(r), float(c), rad))
        r0, r1 = int(max(0, r - 1.8 * rad)), int(r + 1.8 * rad + 1)
        c0, c1 = int(max(0, c - 1.8 * rad)), int(c + 1.8 * rad + 1)
        occupied[r0:r1, c0:c1] = True
    return out


def _paint(conc, r, c, rad, dens, rng):
    half = int(rad * 1.5) + 2
    r0, c0 = int(r) - half, int(c) - half
    yy, xx = np.mgrid[r0 : r0 + 2 * half + 1, c0 : c0 + 2 * half + 1]
    a = rng.uniform(0.75, 1.0)
    ang = rng.uniform(0, np.pi)
    u = (yy - r) * math.cos(ang) + (xx - c) * math.sin(ang)
    v = -(yy - r) * math.sin(ang) + (xx - c) * math.cos(ang)
    d = np.sqrt((u / (rad / math.sqrt(a))) ** 2 + (v / (rad * math.sqrt(a))) ** 2)
    inside = np.clip((1 - d) * rad + 0.5, 0, 1)
    tex = np.clip(1 + 0.2 * rng.normal(size=d.shape), 0.5, 1.6)
    patch = (dens * inside * tex).astype(np.float32)
    sr0, sc0 = max(0, -r0), max(0, -c0)
    sr1, sc1 = min(patch.shape[0], conc.shape[0] - r0), min(patch.shape[1], conc.shape[1] - c0)
    if sr1 <= sr0 or sc1 <= sc0:
        return
    view = conc[r0 + sr0 : r0 + sr1, c0 + sc0 : c0 + sc1]
    np.maximum(view, patch[sr0:sr1, sc0:sc1], out=view)


def _granules(shape, centres, rng, mpp, *, ring=True, granule_um=0.8):
    """Melanin concentration: clusters of granules (``granule_um`` and twice that across) around
    centres (row, col, spread_px)."""
    seeds = np.zeros(shape, bool)
    big = np.zeros(shape, bool)
    for r, c, spread in centres:
        k = int(rng.integers(30, 100))
        ang = rng.uniform(0, 2 * np.pi, k)
        dist = spread * np.sqrt(rng.uniform(0.4 if ring else 0.0, 1.0, k))
        gr = np.clip((r + dist * np.sin(ang)).astype(int), 0, shape[0] - 1)
        gc = np.clip((c + dist * np.cos(ang)).astype(int), 0, shape[1] - 1)
        seeds[gr, gc] = True
        big[gr, gc] |= rng.random(k) < 0.3
    r_small = max(1, round(0.5 * granule_um / mpp))
    grains = ndi.binary_dilation(seeds, iterations=r_small) | ndi.binary_dilation(big, iterations=2 * r_small)
    dens = rng.uniform(0.7, 1.6, shape).astype(np.float32)
    return np.where(grains, dens, 0.0).astype(np.float32), grains


def _layout(size, rng, glass):
    g = _field((size, size), size / 12, rng)
    return g > np.quantile(g, glass)


def he_melanin_tile(seed: int, *, size: int = 512, mpp: float = 0.5, n_pigmented: int = 60,
                    angle_deg: float = 3.0, jpeg_quality: int | None = 85, granule_um: float = 0.8,
                    melanin_vector=None, blur_um: float = 0.4) -> SyntheticTile:
    """H&E tile with melanin granule clusters around some cells and a few melanophages.

    ``granule_um``: diameter (µm) of the small granules (a third are about twice as big);
    ``melanin_vector``: reference melanin OD vector before the random rotation (default: the
    physical :func:`mmnst_path.stain.melanin_vector`); ``blur_um``: optical blur sigma (µm).
    """
    rng = np.random.default_rng(seed)
    vh, ve = perturb_vector(_H, angle_deg, rng), perturb_vector(_E, angle_deg, rng)
    vm = perturb_vector(_melanin_ref() if melanin_vector is None else melanin_vector, angle_deg, rng)
    tissue = _layout(size, rng, rng.uniform(0.05, 0.2))
    eos = (rng.uniform(0.12, 0.25) * (1 + 0.3 * _field(tissue.shape, 3, rng))).clip(0) * tissue
    hem = np.zeros_like(eos) + 0.03 * tissue
    cells = _nuclei(tissue, int(size * size * mpp * mpp / 120), rng, mpp)
    for r, c, rad in cells:
        _paint(hem, r, c, rad, rng.uniform(0.3, 0.7), rng)
    pick = rng.choice(len(cells), size=min(n_pigmented, len(cells)), replace=False)
    centres = [(cells[i][0], cells[i][1], 2.0 * cells[i][2]) for i in pick]
    mel, grains = _granules(tissue.shape, centres, rng, mpp, granule_um=granule_um)
    mel *= tissue
    rgb = _render([hem, eos.astype(np.float32), mel], [vh, ve, vm], rng, blur_px=blur_um / mpp,
                  jpeg_quality=jpeg_quality)
    melanin = grains & tissue
    truth = {"melanin_fraction_pct": 100.0 * melanin.sum() / tissue.sum(),
             "melanin_area_mm2": melanin.sum() * mpp * mpp / 1e6}
    return SyntheticTile(rgb, mpp, truth, {"melanin": melanin, "tissue": tissue})


def he_necrosis_tile(seed: int, *, size: int = 512, mpp: float = 1.0, necrosis_fraction: float = 0.4,
                     angle_deg: float = 3.0, jpeg_quality: int | None = 85) -> SyntheticTile:
    """H&E tile: viable tumour (dense nuclei) and a necrotic area (pale eosin, ghosts, debris)."""
    rng = np.random.default_rng(seed)
    vh, ve = perturb_vector(_H, angle_deg, rng), perturb_vector(_E, angle_deg, rng)
    tissue = _layout(size, rng, rng.uniform(0.05, 0.15))
    n = _field(tissue.shape, size / 8, rng) + np.linspace(-1, 1, size)[None, :] * rng.choice([-1, 1])
    nec = tissue & (n > np.quantile(n[tissue], 1 - necrosis_fraction))
    viable = tissue & ~nec
    eos = np.where(viable, rng.uniform(0.12, 0.22), rng.uniform(0.04, 0.12)).astype(np.float32)
    eos = (eos * (1 + 0.25 * _field(tissue.shape, 2, rng))).clip(0) * tissue
    hem = (0.03 * tissue).astype(np.float32)
    for r, c, rad in _nuclei(viable, int(viable.sum() * mpp * mpp / 70), rng, mpp, (3.5, 6.0)):
        _paint(hem, r, c, rad, rng.uniform(0.45, 0.8), rng)
    # a viable nucleus straddling the drawn border is viable tissue, not necrosis
    nec &= ~(hem > 0.2)
    for r, c, rad in _nuclei(nec, int(nec.sum() * mpp * mpp / 150), rng, mpp, (3.5, 6.0)):
        _paint(hem, r, c, rad, rng.uniform(0.08, 0.2), rng)  # ghost nuclei
    debris = nec & (rng.random(tissue.shape) < 0.01 * mpp * mpp)
    hem += 0.7 * ndi.binary_dilation(debris, iterations=max(1, round(0.6 / mpp))).astype(np.float32)
    rgb = _render([hem, eos.astype(np.float32)], [vh, ve], rng, blur_px=0.4 / mpp, jpeg_quality=jpeg_quality)
    truth = {"necrosis_fraction_pct": 100.0 * nec.sum() / tissue.sum(),
             "necrosis_area_mm2": nec.sum() * mpp * mpp / 1e6}
    return SyntheticTile(rgb, mpp, truth, {"necrosis": nec, "tissue": tissue})


def ki67_pigment_tile(seed: int, *, size: int = 512, mpp: float = 0.5, positive_fraction: float = 0.15,
                      pigmented_cells: float = 0.5, angle_deg: float = 3.0,
                      jpeg_quality: int | None = 85, granule_um: float = 0.8,
                      melanin_vector=None) -> SyntheticTile:
    """Ki67 (H-DAB) tile with melanin granules over a fraction of the negative cells.

    ``granule_um``: diameter (µm) of the small granules (a third of them are about twice as big);
    ``melanin_vector``: reference melanin OD vector before the random rotation.
    """
    rng = np.random.default_rng(seed)
    vh, vd = perturb_vector(_H, angle_deg, rng), perturb_vector(_DAB, angle_deg, rng)
    vm = perturb_vector(_melanin_ref() if melanin_vector is None else melanin_vector, angle_deg, rng)
    tissue = _layout(size, rng, 0.05)
    hem = (0.05 * tissue * (1 + 0.3 * _field(tissue.shape, 4, rng))).clip(0).astype(np.float32)
    dab = (0.02 * tissue).astype(np.float32)
    cells = _nuclei(tissue, int(size * size * mpp * mpp / 110), rng, mpp)
    pos = rng.random(len(cells)) < positive_fraction
    for (r, c, rad), p in zip(cells, pos, strict=True):
        if p:
            _paint(dab, r, c, rad, rng.uniform(0.4, 1.1), rng)
            _paint(hem, r, c, rad, 0.15, rng)
        else:
            _paint(hem, r, c, rad, rng.uniform(0.3, 0.6), rng)
    neg = [cells[i] for i in np.flatnonzero(~pos)]
    k = round(pigmented_cells * len(neg))
    pick: Any = rng.choice(len(neg), size=k, replace=False) if k else []
    mel, grains = _granules(tissue.shape, [(neg[i][0], neg[i][1], 1.6 * neg[i][2]) for i in pick], rng, mpp,
                            granule_um=granule_um)
    rgb = _render([hem, dab, mel * tissue], [vh, vd, vm], rng, blur_px=0.4 / mpp, jpeg_quality=jpeg_quality)
    npos, nneg = int(pos.sum()), int((~pos).sum())
    truth = {"ki67_positive": npos, "ki67_negative": nneg, "ki67_index_pct": 100.0 * npos / max(1, npos + nneg),
             "melanin_fraction_pct": 100.0 * (grains & tissue).sum() / tissue.sum()}
    return SyntheticTile(rgb, mpp, truth, {"melanin": grains & tissue, "tissue": tissue})
