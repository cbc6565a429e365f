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


def _block_sums0(plane: np.ndarray, origin: int, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums along axis 0 of a 2-D float32 array over the global ``factor``-blocks (row ``i`` is
    global ``origin + i``): each block's rows added in order (``r0 + r1 + ...``, float32), by
    strided slices; and the number of rows of each block (the first and last may be partial)."""
    m = plane.shape[0]
    head = (-origin) % factor  # rows before the first whole block
    head = min(head, m)
    full = (m - head) // factor
    tail = m - head - full * factor
    parts = []
    counts = []
    if head:
        acc = plane[0].copy()
        for k in range(1, head):
            acc += plane[k]
        parts.append(acc[None])
        counts.append(head)
    if full:
        stop = head + full * factor
        acc = plane[head:stop:factor].copy()
        for k in range(1, factor):
            acc += plane[head + k : stop : factor]
        parts.append(acc)
        counts.extend([factor] * full)
    if tail:
        first = head + full * factor
        acc = plane[first].copy()
        for k in range(first + 1, m):
            acc += plane[k]
        parts.append(acc[None])
        counts.append(tail)
    return np.concatenate(parts, axis=0), np.asarray(counts, dtype=np.float32)


def block_means(plane: np.ndarray, origin: tuple[int, int], factor: int) -> np.ndarray:
    """Means of a 2-D float32 ``plane`` over the ``factor x factor`` blocks of the global grid.

    Block ``(I, J)`` holds the global pixels ``[I f, (I + 1) f) x [J f, (J + 1) f)``; the planes'
    pixel ``(0, 0)`` is global ``origin``. Returns the (Mc, Nc) float32 means of the blocks the
    planes touch (partial blocks at the planes' edges: the mean of the pixels they hold). Sums in
    float32, over rows then columns in pixel order, so a block's mean depends only on its pixels.
    """
    rows, rc = _block_sums0(np.asarray(plane, dtype=np.float32), int(origin[0]), factor)
    sums_t, cc = _block_sums0(np.ascontiguousarray(rows.T), int(origin[1]), factor)
    sums = np.ascontiguousarray(sums_t.T)
    sums /= rc[:, None] * cc[None, :]
    return sums


def _phase_taps(n: int, origin: int, factor: int) -> list[tuple[int, int, int, np.float32]]:
    """Linear interpolation from block centres, per phase: (first fine pixel, count, first coarse
    index in the edge-padded coarse axis, weight of the next block). Fine pixel ``j`` (global
    ``g = origin + j``) sits at coarse coordinate ``(2 g + 1 - f) / (2 f)``; ``lo`` its floor, local
    to the planes' first block and shifted by the one padding block (>= 0, < Nc + 1)."""
    taps = []
    for j0 in range(min(factor, n)):
        g = origin + j0
        num = 2 * g + 1 - factor
        lo = num // (2 * factor)
        w = np.float32((num - lo * 2 * factor) / (2.0 * factor))
        count = (n - j0 + factor - 1) // factor
        taps.append((j0, count, lo - origin // factor + 1, w))
    return taps


def _upsample(coarse: np.ndarray, n: int, origin: int, factor: int, axis: int) -> np.ndarray:
    """One axis (0 or 1) of :func:`upsample_linear`: ``c[lo] * (1 - w) + c[lo + 1] * w`` (float32,
    edge blocks repeated), one strided slice per phase (consecutive fine pixels of a phase read
    consecutive blocks)."""
    c = np.moveaxis(coarse, axis, 0)
    padded = np.concatenate([c[:1], c, c[-1:]], axis=0)
    shape = list(coarse.shape)
    shape[axis] = n
    out = np.empty(shape, dtype=np.float32)
    view = np.moveaxis(out, axis, 0)
    for j0, count, lo, w in _phase_taps(n, origin, factor):
        a = padded[lo : lo + count] * (np.float32(1.0) - w)
        b = padded[lo + 1 : lo + 1 + count] * w
        a += b
        view[j0::factor] = a
    return out


def upsample_linear(coarse: np.ndarray, shape: tuple[int, int], origin: tuple[int, int], factor: int) -> np.ndarray:
    """The (M, N) float32 plane interpolated linearly (rows, then columns) from the block means'
    grid of :func:`block_means`: each fine pixel reads the two nearest block centres along each
    axis (the edge blocks repeated past the planes' edges) with weights that depend only on its
    global position (``origin``)."""
    rows = _upsample(np.asarray(coarse, dtype=np.float32), shape[0], int(origin[0]), factor, 0)
    return _upsample(rows, shape[1], int(origin[1]), factor, 1)


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
