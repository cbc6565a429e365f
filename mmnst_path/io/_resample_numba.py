"""Numba kernels of area resampling laid out for the memory they read (:mod:`mmnst_path.io._resample`;
imported only when used): the non-integer-factor taps along image rows (:func:`taps_rows`) and
the integer-factor block means along either axis (:func:`block_rows`, :func:`block_cols`, each
the arithmetic of ``_block_mean`` in the same order: see their docstrings), and the bounds of
the non-white part of a uint8 image (:func:`white_bounds`, the answer of ``_white_margins``), and
the rounding of a grid read's column pass into its uint8 output (:func:`finish_transposed`), and
that column pass with its rounding fused, vectorised across blocks of rows (:func:`taps_cols_round`).

:func:`taps_rows` computes, per output element, exactly what :func:`mmnst_path.io._numba.area_taps` and the
numpy taps compute: ``float32(x[j0]) * w0``, then for ``k >= 1`` the float32 product
``float32(x[jk]) * wk`` added in float32, the terms in the order ``k = 0, 1, ...`` (numba
compiles without fast-math, so there is no fused multiply-add and no reordering). Only the
order in which output elements are visited differs, which no element's value depends on, so
the results are bit-identical. :func:`taps_rows` walks each output row as one contiguous run of
``columns x channels`` values read from contiguous input rows, a loop the compiler vectorises
(the generic kernel reads through runtime strides element by element): ~8x faster on the
2953 x 1230 x 3 -> 516 rows pass of a SHIDC tile's read. The pass along columns of a grid read
runs in :func:`taps_cols_round` (a plain row-order variant, one output at a time, was not faster
than the generic kernel: 2.6 against 2.3 ms on that tile; blocks of rows turned on their side
are).

Compiled on first call, cached on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["block_cols", "block_rows", "finish_transposed", "taps_cols_round", "taps_rows", "white_bounds"]

#: Rows of a block of :func:`taps_cols_round` (its lanes: ``COL_BLOCK_ROWS x channels`` float32)
COL_BLOCK_ROWS = 16


@njit(cache=True, nogil=True, boundscheck=False)
def taps_rows(flat, row_stride, index, weight, out):  # pragma: no cover - compiled
    """``out[i, q] = sum_k float32(flat[index[i, k] * row_stride + q]) * weight[i, k]`` in float32,
    the terms added in the order ``k = 0, 1, ...`` (``flat`` 1-D, any real dtype, contiguous: input
    row ``j`` is ``flat[j * row_stride : j * row_stride + out.shape[1]]``; ``index`` (n, K) intp,
    ``weight`` (n, K) float32, ``out`` (n, Q) float32 C-contiguous)."""
    n, taps = index.shape
    width = out.shape[1]
    for i in range(n):
        o = out[i]
        s = index[i, 0] * row_stride
        src = flat[s : s + width]  # (a slice per row: the loop below then compiles to vector code)
        w0 = weight[i, 0]
        for q in range(width):
            o[q] = np.float32(src[q]) * w0
        for k in range(1, taps):
            s = index[i, k] * row_stride
            src = flat[s : s + width]
            wk = weight[i, k]
            for q in range(width):
                o[q] += np.float32(np.float32(src[q]) * wk)


@njit(cache=True, nogil=True, boundscheck=False)
def block_rows(flat, row_stride, k, out):  # pragma: no cover - compiled
    """``out[i, q]``: the mean of input rows ``i k .. i k + k - 1`` at ``q`` as
    :func:`mmnst_path.io._resample._block_mean` computes it: the float32 sum ``float32(x_0) +
    float32(x_1) + ...`` in that order (for uint8 samples every partial sum is an integer below
    2^24, so it equals the exact integer sum numpy forms there), then ``float32(float64(sum) / k)``
    (numpy divides the float32 sum by an intp scalar in float64). ``flat`` 1-D contiguous, input
    row ``j`` at ``flat[j * row_stride:]``; ``out`` (n, Q) float32 C-contiguous."""
    n, width = out.shape
    divisor = np.float64(k)
    for i in range(n):
        o = out[i]
        s = i * k * row_stride
        src = flat[s : s + width]
        for q in range(width):
            o[q] = np.float32(src[q])
        for j in range(1, k):
            s = (i * k + j) * row_stride
            src = flat[s : s + width]
            for q in range(width):
                o[q] += np.float32(src[q])
        for q in range(width):
            o[q] = np.float32(np.float64(o[q]) / divisor)


@njit(cache=True, nogil=True, boundscheck=False)
def block_cols(src, k, out):  # pragma: no cover - compiled
    """``out[r, i, c]``: the mean of ``src[r, i k .. i k + k - 1, c]``, computed as in
    :func:`block_rows` (``src`` (R, W, C) any real dtype and strides, ``out`` (R, n, C) float32)."""
    rows, n, channels = out.shape
    divisor = np.float64(k)
    for r in range(rows):
        for i in range(n):
            for c in range(channels):
                total = np.float32(src[r, i * k, c])
                for j in range(1, k):
                    total += np.float32(src[r, i * k + j, c])
                out[r, i, c] = np.float32(np.float64(total) / divisor)


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _min_u8(src):  # pragma: no cover - compiled
    """Smallest value of a 1-D uint8 run (255 when empty); a loop the compiler vectorises."""
    low = np.uint8(255)
    for q in range(src.shape[0]):
        low = min(low, src[q])
    return low


@njit(cache=True, nogil=True, boundscheck=False)
def white_bounds(flat, row_stride, rows, width, channels):  # pragma: no cover - compiled
    """(first row, last row, first column, last column) holding a value below 255 of a uint8 image
    whose row ``j`` is ``flat[j * row_stride : j * row_stride + width]`` (``width`` = columns x
    ``channels``); (-1, -1, -1, -1) when every value is 255. The rows are scanned from the top and
    from the bottom until one holds a non-white value; the rows between them only where they can
    still move the column bounds (left of the first column found so far, right of the last)."""
    top = -1
    for r in range(rows):
        if _min_u8(flat[r * row_stride : r * row_stride + width]) < 255:
            top = r
            break
    if top < 0:
        return -1, -1, -1, -1
    bottom = top
    for r in range(rows - 1, top, -1):
        if _min_u8(flat[r * row_stride : r * row_stride + width]) < 255:
            bottom = r
            break
    cols = width // channels
    left = cols
    right = -1
    for r in range(top, bottom + 1):
        row = flat[r * row_stride : r * row_stride + width]
        if left > 0 and _min_u8(row[: left * channels]) < 255:
            for q in range(left * channels):
                if row[q] < 255:
                    left = q // channels
                    break
        start = (right + 1) * channels
        if right < cols - 1 and _min_u8(row[start:]) < 255:
            for q in range(width - 1, start - 1, -1):
                if row[q] < 255:
                    right = q // channels
                    break
    return top, bottom, left, right


@njit(cache=True, nogil=True, boundscheck=False)
def finish_transposed(cols, full, r0, c0):  # pragma: no cover - compiled
    """Write ``cols`` (n_cols, n_rows, channels) float32, the pass along columns of a grid read
    (output column first), into ``full[r0 + i, c0 + o]`` (uint8) as the numpy path does it:
    ``v + 0.5`` in float32, clipped to [0, 255], truncated to uint8. The rounding runs along
    ``cols``' own memory (vectorised, into a uint8 buffer), then the bytes are transposed in
    blocks of 32 output columns (both arrays read and written along runs of memory)."""
    n_cols, n_rows, channels = cols.shape
    flat = cols.reshape(-1)
    rounded = np.empty(flat.size, np.uint8)
    for q in range(flat.size):
        v = flat[q] + np.float32(0.5)
        rounded[q] = np.uint8(min(max(v, np.float32(0.0)), np.float32(255.0)))
    r3 = rounded.reshape(n_cols, n_rows, channels)
    for ob in range(0, n_cols, 32):
        oe = min(ob + 32, n_cols)
        for i in range(n_rows):
            dst = full[r0 + i]
            for o in range(ob, oe):
                for c in range(channels):
                    dst[c0 + o, c] = r3[o, i, c]


@njit(cache=True, nogil=True, boundscheck=False)
def taps_cols_round(rows, index, weight, full, r0, c0):  # pragma: no cover - compiled
    """The pass along columns of a grid read and its rounding, fused: ``full[r0 + i, c0 + o, c]`` =
    uint8 of ``min(max(t + 0.5, 0), 255)`` (float32), with ``t = sum_k rows[i, index[o, k], c] *
    weight[o, k]`` in float32, the terms in the order ``k = 0, 1, ...`` (the first product, then
    each rounded product added): per output value the operations of
    :func:`mmnst_path.io._numba.area_taps` and then of :func:`finish_transposed`, so the same bytes.

    ``rows`` (n_rows, width, channels) float32 C-contiguous (the pass along rows), ``index`` /
    ``weight`` (n_out, K) intp / float32, ``full`` uint8 (.., .., channels). Blocks of
    :data:`COL_BLOCK_ROWS` rows are copied on their side (input column first: the block's values
    of one column are one contiguous run of lanes), so each tap is one multiply-add over those
    lanes (vectorised); the block's outputs are then rounded row by row into ``full``."""
    n_rows, width, channels = rows.shape
    n_out, taps = index.shape
    lanes = COL_BLOCK_ROWS * channels
    side = np.empty((width, lanes), np.float32)
    res = np.empty((n_out, lanes), np.float32)
    half = np.float32(0.5)
    low = np.float32(0.0)
    high = np.float32(255.0)
    for rb in range(0, n_rows, COL_BLOCK_ROWS):
        nb = min(COL_BLOCK_ROWS, n_rows - rb)
        used = nb * channels
        for b in range(nb):
            src = rows[rb + b]
            for j in range(width):
                for c in range(channels):
                    side[j, b * channels + c] = src[j, c]
        for o in range(n_out):
            acc = res[o]
            s = side[index[o, 0]]
            w0 = weight[o, 0]
            for q in range(used):
                acc[q] = s[q] * w0
            for k in range(1, taps):
                s = side[index[o, k]]
                wk = weight[o, k]
                for q in range(used):
                    acc[q] += np.float32(s[q] * wk)
        for b in range(nb):
            dst = full[r0 + rb + b]
            for o in range(n_out):
                for c in range(channels):
                    v = res[o, b * channels + c] + half
                    dst[c0 + o, c] = np.uint8(min(max(v, low), high))
