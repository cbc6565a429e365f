"""The pixel features' Gaussians at the candidate pixels, four taps a pass (issue #16).

:func:`mmnst_path.detect._morphology._gaussian_at` (``scipy.ndimage.gaussian_filter``'s value at
a few pixels: a column pass over the columns a run of a row's pixels reads, then the row pass at
the pixels) adds one tap of the kernel to a whole line of float64 sums per pass: ``r`` passes
through the line for a kernel of radius ``r`` (20 for the 2.5 µm context blur at 0.5 µm/px, 48
for the 6 µm one). Those passes are most of the pixel model's feature time on whole slides, where
the candidates are 5-30 % of a tile.

:func:`gaussian_at` gives the same values bit for bit with four taps added per pass: each sum
still gets ``x[i] * w[0]`` first, then ``(x[i - k] + x[i + k]) * w[k]`` for ``k = r .. 1`` in
float64, one addition after the other in that order (no fused multiply-add: numba compiles
without fast-math), so only the number of loads and stores of the line changes
(tests/classify/test_pigment_s29_kernels.py holds it equal to the general kernel).

A call with fewer than :data:`_SMALL` candidates goes to the one-tap kernel itself: there the
numpy run search and the extra arguments cost more than the passes save (session 29 H8, dev data
only: generated tiles and slides, osteosarcoma tiles; per call, below 100 candidates the four-tap
path took 2.4-8x the time, from 15544 up 0.92-0.95x; no dev call fell between 1074 and 15544,
and 4096 is the geometric middle of that gap).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..detect._morphology import _gaussian_at, _gaussian_half_kernel, compiled_kernel

__all__: list[str] = []

_KERNEL: dict[str, Any] = {}
_SMALL = 4096  # fewer candidate pixels: the one-tap kernel (module docstring)


def _gaussian_at_py(img, w, rows, cols, runs, rref, cref, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """:func:`mmnst_path.detect._numba_filters.gaussian_at` (the same runs, column pass, reflected
    line and row pass, the same float64 operations in the same order for every value), with the
    taps ``k, k - 1, k - 2, k - 3`` added in one pass over the line or the run's pixels.

    ``runs`` (G, 4) int: per run of a row's pixels (:func:`_runs`) its first and end pixel and
    the columns ``lo .. hi - 1`` its row pass reads; ``rref[t + r]`` / ``cref[t + r]``: scipy's
    reflected row / column index of ``t`` (:func:`_reflected`)."""
    n = img.shape[1]
    r = w.shape[0] - 1
    acc = np.empty(n, np.float64)
    line = np.empty(n + 2 * r, np.float32)  # line[j + r]: the column pass at column j (reflected)
    vals = np.empty(n, np.float64)
    w0 = w[0]
    for g in range(runs.shape[0]):
        p, q, lo, hi = runs[g, 0], runs[g, 1], runs[g, 2], runs[g, 3]
        i = rows[p]
        width = hi - lo
        col = acc[:width]  # the column pass over the run's columns: the centre row first
        centre = img[i, lo:hi]
        for j in range(width):
            col[j] = np.float64(centre[j]) * w0
        k = r
        while k >= 4:
            u1 = img[rref[i - k + r], lo:hi]
            d1 = img[rref[i + k + r], lo:hi]
            u2 = img[rref[i - k + 1 + r], lo:hi]
            d2 = img[rref[i + k - 1 + r], lo:hi]
            u3 = img[rref[i - k + 2 + r], lo:hi]
            d3 = img[rref[i + k - 2 + r], lo:hi]
            u4 = img[rref[i - k + 3 + r], lo:hi]
            d4 = img[rref[i + k - 3 + r], lo:hi]
            w1 = w[k]
            w2 = w[k - 1]
            w3 = w[k - 2]
            w4 = w[k - 3]
            for j in range(width):
                a = col[j] + (np.float64(u1[j]) + np.float64(d1[j])) * w1
                a = a + (np.float64(u2[j]) + np.float64(d2[j])) * w2
                a = a + (np.float64(u3[j]) + np.float64(d3[j])) * w3
                col[j] = a + (np.float64(u4[j]) + np.float64(d4[j])) * w4
            k -= 4
        while k >= 1:
            up = img[rref[i - k + r], lo:hi]
            down = img[rref[i + k + r], lo:hi]
            wk = w[k]
            for j in range(width):
                col[j] += (np.float64(up[j]) + np.float64(down[j])) * wk
            k -= 1
        dst = line[lo + r : hi + r]
        for j in range(width):
            dst[j] = np.float32(col[j])
        if cols[p] - r < 0:  # the reflected columns left of the image
            for j in range(-r, 0):
                line[j + r] = line[cref[j + r] + r]
        if cols[q - 1] + r >= n:
            for j in range(n, n + r):
                line[j + r] = line[cref[j + r] + r]
        at = cols[p:q]
        cnt = q - p
        vals_v = vals[:cnt]
        for s in range(cnt):
            vals_v[s] = np.float64(line[at[s] + r]) * w0
        k = r
        while k >= 4:
            w1 = w[k]
            w2 = w[k - 1]
            w3 = w[k - 2]
            w4 = w[k - 3]
            for s in range(cnt):
                c = at[s] + r
                a = vals_v[s] + (np.float64(line[c - k]) + np.float64(line[c + k])) * w1
                a = a + (np.float64(line[c - k + 1]) + np.float64(line[c + k - 1])) * w2
                a = a + (np.float64(line[c - k + 2]) + np.float64(line[c + k - 2])) * w3
                vals_v[s] = a + (np.float64(line[c - k + 3]) + np.float64(line[c + k - 3])) * w4
            k -= 4
        while k >= 1:
            wk = w[k]
            for s in range(cnt):
                c = at[s] + r
                vals_v[s] += (np.float64(line[c - k]) + np.float64(line[c + k])) * wk
            k -= 1
        out_v = out[p:q]
        for s in range(cnt):
            out_v[s] = np.float32(vals_v[s])


def _runs(rows: np.ndarray, cols: np.ndarray, r: int, n: int) -> np.ndarray:
    """(G, 4) int64: the runs of :func:`mmnst_path.detect._numba_filters.gaussian_at`: the pixels
    (row-major) cut where the row changes or two neighbours lie more than ``2 r`` columns apart;
    per run its first pixel, its end (one past its last), and the columns ``lo = max(first
    column - r, 0)`` to ``hi = min(last column + r + 1, n)`` its row pass reads."""
    k = rows.shape[0]
    cut = np.flatnonzero((rows[1:] != rows[:-1]) | (cols[1:] - cols[:-1] > 2 * r)) + 1
    first = np.concatenate([[0], cut]).astype(np.int64)
    end = np.concatenate([cut, [k]]).astype(np.int64)
    return np.stack([first, end, np.maximum(cols[first] - r, 0), np.minimum(cols[end - 1] + r + 1, n)], axis=1)


def _reflected(t0: int, count: int, n: int) -> np.ndarray:
    """scipy's ``"reflect"`` index (half-sample symmetric, periodic beyond: ``... 1 0 | 0 1 ... n-1 |
    n-1 n-2 ...``) of ``t0 .. t0 + count - 1`` in a line of ``n``, as intp."""
    t = np.arange(t0, t0 + count) % (2 * n)
    return np.where(t >= n, 2 * n - 1 - t, t).astype(np.intp)


def gaussian_at(image: np.ndarray, sigma_px: float, at: tuple[np.ndarray, ...], *,
                small: int = _SMALL) -> np.ndarray:
    """``_gaussian(image, sigma_px)[at]`` of a float32 (M, N) ``image`` at the pixels ``at``
    (row-major, as ``np.nonzero`` gives them; ``sigma_px`` in pixels):
    :func:`~mmnst_path.detect._morphology._gaussian_at`'s values, bit for bit, four taps a pass
    with numba (:func:`_gaussian_at_py`); else, for fewer than ``small`` pixels, another dtype or
    shape, or ``sigma_px < 0.3`` (no blur), that function itself."""
    if (at[0].shape[0] < small or sigma_px < 0.3 or image.dtype != np.float32 or image.ndim != 2
            or image.size == 0):
        return _gaussian_at(image, sigma_px, at)
    kern = compiled_kernel(_KERNEL, _gaussian_at_py)
    if kern is None:
        return _gaussian_at(image, sigma_px, at)
    w = _gaussian_half_kernel(sigma_px, 4.0)
    r = w.shape[0] - 1
    m, n = image.shape
    out = np.empty(at[0].shape[0], np.float32)
    if out.size == 0:
        return out
    rows, cols = at[0].astype(np.intp, copy=False), at[1].astype(np.intp, copy=False)
    kern(np.ascontiguousarray(image), w, rows, cols, _runs(rows, cols, r, n), _reflected(-r, m + 2 * r, m),
         _reflected(-r, n + 2 * r, n), out)
    return out
