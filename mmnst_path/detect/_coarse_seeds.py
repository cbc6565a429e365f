"""LoG seeds of nucleus detection from a coarser grid (opt-in: ``NucleusParams.seed_scale_um``).

The scale-space LoG of :func:`.nuclei._log_seeds` is the costliest part of nucleus detection that
is not exact arithmetic on the whole plane (six chained Gaussians of sigma 4-7 px at 0.5 µm/px).
Nuclei are 3-5 µm in radius, so their blobs are resolved on a grid of ``f`` analysis pixels
(``f = round(seed_scale_um / mpp)``, 2 at 1 µm on 0.5 µm/px): the background-subtracted stain
signal is averaged over ``f x f`` blocks, compressed (``log(1 + c / c0)``) and searched for LoG
seeds there (radii in coarse pixels); each seed goes back to the pixel of its block with the
largest fine signal, and the best response is brought back to the analysis grid by linear
interpolation for the watershed and the seed pooling.

Tiling: the blocks lie on the global analysis grid (``origin``: the planes' pixel (0, 0) in the
larger image), so a tile and the whole image average the same pixels into the same blocks, and
the interpolation weights depend only on a pixel's global position. Blocks cut by the planes'
edges are averaged over the pixels they hold; those, and the coarse filters' reflected borders,
lie in the halo (:func:`coarse_log_reach_px`).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["block_means", "coarse_log_reach_px", "refine_seeds", "upsample_linear"]


def _block_starts(n: int, origin: int, factor: int) -> np.ndarray:
    """First pixel (in ``0 .. n``) of each global ``factor``-block the ``n`` pixels from ``origin`` touch."""
    first = origin // factor
    last = (origin + n - 1) // factor
    starts = np.arange(first, last + 1, dtype=np.intp) * factor - origin
    starts[0] = 0
    return starts


def block_means(plane: np.ndarray, origin: tuple[int, int], factor: int) -> np.ndarray:
    """Means of a 2-D float32 ``plane`` over the ``factor x factor`` blocks of the global grid.

    Block ``(I, J)`` holds the global pixels ``[I f, (I + 1) f) x [J f, (J + 1) f)``; the planes'
    pixel ``(0, 0)`` is global ``origin``. Returns the (Mc, Nc) float32 means of the blocks the
    planes touch (partial blocks at the planes' edges: the mean of the pixels they hold). Sums in
    float32, along rows then columns in pixel order, so a block's mean depends only on its pixels.
    """
    m, n = plane.shape
    rs = _block_starts(m, int(origin[0]), factor)
    cs = _block_starts(n, int(origin[1]), factor)
    sums = np.add.reduceat(np.add.reduceat(plane, rs, axis=0, dtype=np.float32), cs, axis=1, dtype=np.float32)
    rc = np.diff(np.append(rs, m)).astype(np.float32)
    cc = np.diff(np.append(cs, n)).astype(np.float32)
    sums /= rc[:, None] * cc[None, :]
    return sums


def _linear_taps(n: int, origin: int, factor: int, n_coarse: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``n`` fine pixels from global ``origin``: the two coarse indices (local to the
    planes' first block) and the float32 weight of the second, sampling the block centres
    linearly (clamped at the planes' first and last block)."""
    g = origin + np.arange(n, dtype=np.int64)
    # coarse coordinate of the pixel centre: (g + 0.5) / f - 0.5, in units of 1 / (2 f)
    num = 2 * g + 1 - factor  # = 2 f * coordinate
    lo = np.floor_divide(num, 2 * factor)
    w = ((num - lo * 2 * factor) / (2.0 * factor)).astype(np.float32)
    lo -= origin // factor
    hi = lo + 1
    lo_c = np.clip(lo, 0, n_coarse - 1).astype(np.intp)
    hi_c = np.clip(hi, 0, n_coarse - 1).astype(np.intp)
    return lo_c, hi_c, w


def upsample_linear(coarse: np.ndarray, shape: tuple[int, int], origin: tuple[int, int], factor: int) -> np.ndarray:
    """The (M, N) float32 plane interpolated linearly (rows, then columns) from the block means'
    grid of :func:`block_means`: each fine pixel reads the two nearest block centres along each
    axis with weights that depend only on its global position (``origin``)."""
    lo, hi, w = _linear_taps(shape[0], int(origin[0]), factor, coarse.shape[0])
    a = coarse[lo]
    a *= (np.float32(1.0) - w)[:, None]
    b = coarse[hi]
    b *= w[:, None]
    a += b
    lo, hi, w = _linear_taps(shape[1], int(origin[1]), factor, coarse.shape[1])
    out = a[:, lo]
    out *= (np.float32(1.0) - w)[None, :]
    b = a[:, hi]
    b *= w[None, :]
    out += b
    return out


def refine_seeds(rows: np.ndarray, cols: np.ndarray, fine: np.ndarray, origin: tuple[int, int],
                 factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Fine (row, col) of coarse seeds: the pixel of each seed's block (clipped to the planes)
    with the largest ``fine`` value, the first in raster order on ties."""
    m, n = fine.shape
    r_base = (rows + int(origin[0]) // factor) * factor - int(origin[0])
    c_base = (cols + int(origin[1]) // factor) * factor - int(origin[1])
    best_v = np.full(rows.shape, -np.inf, dtype=np.float32)
    best_r = np.clip(r_base, 0, m - 1)
    best_c = np.clip(c_base, 0, n - 1)
    for dr in range(factor):
        rr = r_base + dr
        ok_r = (rr >= 0) & (rr < m)
        for dc in range(factor):
            cc = c_base + dc
            ok = ok_r & (cc >= 0) & (cc < n)
            v = np.where(ok, fine[np.clip(rr, 0, m - 1), np.clip(cc, 0, n - 1)], -np.inf)
            better = v > best_v
            best_v = np.where(better, v, best_v)
            best_r = np.where(better, rr, best_r)
            best_c = np.where(better, cc, best_c)
    return best_r.astype(np.intp), best_c.astype(np.intp)


def coarse_log_reach_px(radii_um: tuple[float, ...], mpp: float, factor: int) -> int:
    """Reach (analysis pixels) of the coarse LoG response at a fine pixel: the block it averages
    (``f - 1``), the chained Gaussians (radius ``int(4 step + 0.5)`` coarse pixels each) and the
    Laplacian's pixel, and the interpolation's second block (1 coarse pixel), in coarse pixels
    times ``f``."""
    coarse_mpp = mpp * factor
    g, prev = 1, 0.0  # the Laplacian's pixel, then each chained Gaussian step's radius
    for sigma in (r / coarse_mpp / math.sqrt(2.0) for r in sorted(radii_um)):
        step = math.sqrt(max(sigma * sigma - prev * prev, 0.0))
        g += int(4.0 * step + 0.5) if step > 0 else 0
        prev = sigma
    return (g + 1) * factor + factor - 1
