"""Area-averaging resampling of RGB uint8 images (used for thumbnails and analysis resolution).

Area averaging: every output pixel is the mean of the input area it covers, fractional input
pixels weighted by their covered fraction. It is separable, one axis at a time:

- an integer factor ``k`` is a block mean (sum of the ``k`` samples of each block, divided by
  ``k``), bit-identical to ``blocks.astype(float32).mean(axis=1)``;
- any other factor ``f`` is a short weighted sum: output sample ``i`` covers input samples
  ``floor(i f) .. ceil((i + 1) f) - 1`` (at most ``ceil(f) + 1`` of them), each weighted by
  the length of its overlap with ``[i f, (i + 1) f)`` divided by ``f``. The weights are computed
  in float64 and applied in float32, one gather per tap (``ceil(f) + 1`` passes over the
  output), in O(input size) time and without any whole-input float64 temporary; with numba,
  one compiled pass does the same float32 products and sums (:mod:`._numba`, bit-identical,
  2.5x faster on a 1228² SHIDC tile).

Accuracy of the float32 path against exact (float64) area averaging: each output is a sum of
at most ``ceil(f) + 1`` products of values <= 255 with float32 weights (relative rounding
< 2^-24 each), so one axis is off by < ``(ceil(f) + 2) * 2^-24 * 255`` (3e-4 grey levels for
the 2.38 factor of 0.21 -> 0.5 µm/px) and two axes by twice that; a uint8 result (rounded to
nearest) therefore differs from the float64 one only where the exact mean lies within ~1e-3
of a half grey level, and then by one grey level (tests/io/test_resample.py bounds both).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["area_weights", "grid_weights", "resize_area", "resize_area_axis", "resize_area_grid"]


def _edge_taps(edges: np.ndarray, length: int, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Taps of area averaging whose output ``i`` covers input coordinates ``[edges[i], edges[i + 1])``
    of an axis of ``length`` samples: ``index`` (n_out, K) intp (clipped into the input; unused
    taps repeat the last sample with weight 0) and ``weight`` (n_out, K) float64, the overlap of
    input pixel ``[j, j + 1)`` with the output's interval divided by ``factor``."""
    lo = np.minimum(np.floor(edges[:-1]).astype(np.intp), length - 1)
    hi = np.maximum(np.minimum(np.ceil(edges[1:]).astype(np.intp), length), lo + 1)
    taps = int((hi - lo).max())
    index = lo[:, None] + np.arange(taps, dtype=np.intp)
    overlap = np.minimum(index + 1, edges[1:, None]) - np.maximum(index, edges[:-1, None])
    weight = np.clip(overlap, 0.0, None) / factor
    return np.minimum(index, length - 1), weight


def area_weights(length: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Taps of area averaging from ``length`` samples to ``n_out``.

    Returns
    -------
    index : (n_out, K) intp ndarray
        Input sample of tap ``k`` of output ``i`` (clipped into the input; unused taps repeat
        the last sample with weight 0).
    weight : (n_out, K) float64 ndarray
        Its weight: overlap of input pixel ``[j, j + 1)`` with ``[i f, (i + 1) f)`` divided by
        ``f = length / n_out``; each row sums to 1 (up to float64 rounding).
    """
    if n_out < 1 or length < 1:
        msg = f"cannot resample an axis of length {length} to {n_out} samples"
        raise ValueError(msg)
    factor = length / n_out
    edges = np.arange(n_out + 1, dtype=np.float64) * factor
    edges[-1] = float(length)
    return _edge_taps(edges, length, factor)


def _block_mean(moved: np.ndarray, n_out: int, k: int) -> np.ndarray:
    """Mean of ``k`` consecutive samples along axis 0, float32; the same float32 result as
    ``moved.reshape(n_out, k, ...).astype(float32).mean(axis=1)``."""
    if moved.dtype == np.uint8 and k * 255 < 1 << 16:
        acc = moved[0::k].astype(np.uint16)  # integer sums are exact, so any order gives them
        for j in range(1, k):
            acc += moved[j::k]
        total = acc.astype(np.float32)
    else:
        total = moved[0::k].astype(np.float32)  # float32, added in the order numpy's mean adds
        for j in range(1, k):
            total += moved[j::k].astype(np.float32, copy=False)
    return np.true_divide(total, np.intp(k), out=total, casting="unsafe")


def resize_area_axis(arr: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """Area-average ``arr`` along ``axis`` from its length ``L`` to ``n_out`` samples.

    Output sample ``i`` is the mean of input interval ``[i * L / n_out, (i + 1) * L / n_out)``.
    Upsampling (``n_out > L``) repeats/interpolates the covered pixels the same way.

    Parameters
    ----------
    arr : ndarray
        Any real numeric array (uint8 images are the common case).
    n_out : int
        Output length along ``axis`` (>= 1).
    axis : int
        Axis to resample.

    Returns
    -------
    float32 ndarray
        ``arr`` with ``shape[axis] == n_out``. Integer factors are exact block means; other
        factors are float32 weighted sums, within ``(ceil(L / n_out) + 2) * 2^-24 * max|arr|``
        of exact area averaging (see the module docstring).
    """
    length = arr.shape[axis]
    if n_out < 1 or length < 1:
        msg = f"cannot resample an axis of length {length} to {n_out} samples"
        raise ValueError(msg)
    return _axis_outputs(np.asarray(arr), n_out, axis, 0, n_out, 0)


def _taps(length: int, n_out: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(index, float32 weight) of every output; weight None for an integer factor (block mean)."""
    factor = length / n_out
    if factor == int(factor):
        return np.arange(n_out * int(factor), dtype=np.intp).reshape(n_out, int(factor)), None
    index, weight = area_weights(length, n_out)
    return index, weight.astype(np.float32)


def _axis_outputs(arr: np.ndarray, n_out: int, axis: int, lo: int, hi: int, offset: int,
                  length: int | None = None) -> np.ndarray:
    """Outputs ``lo .. hi - 1`` of :func:`resize_area_axis` along ``axis``, float32.

    ``arr`` holds input samples ``offset .. offset + arr.shape[axis] - 1`` of an axis of
    ``length`` samples (default: ``arr``'s own), at least those the outputs read: every output
    is computed by the same operations as in the whole-axis call (bit-identical).
    """
    length = arr.shape[axis] if length is None else length
    moved = np.moveaxis(arr, axis, 0)
    if length == n_out:
        return np.moveaxis(moved[lo - offset : hi - offset].astype(np.float32), 0, axis)
    index, w32 = _taps(length, n_out)
    index = index[lo:hi] - offset
    if w32 is None:
        k = index.shape[1]
        block = moved[index[0, 0] : index[-1, -1] + 1]
        laid = _block_pass(arr, axis, int(index[0, 0]), hi - lo, k) if NUMBA else None
        return laid if laid is not None else np.moveaxis(_block_mean(block, hi - lo, k), 0, axis)
    out = np.empty((hi - lo, *moved.shape[1:]), dtype=np.float32)
    # (dtypes numpy multiplies by the float32 weights in float32: the kernel's arithmetic)
    exact = moved.dtype in (np.uint8, np.uint16, np.int8, np.int16, np.float32)
    if NUMBA and exact and moved.ndim in (2, 3) and out.size:  # the kernel laid out for the memory read
        if axis == 0 and _rows_pass(moved, index, w32[lo:hi], out) is not None:
            return out
    kern = _compiled("taps") if NUMBA and exact and moved.ndim in (2, 3) and out.size else None
    if kern is not None:  # the same float32 products and sums, without a gathered copy per tap
        as3 = (lambda a: a[:, :, None]) if moved.ndim == 2 else (lambda a: a)
        kern(as3(moved), np.ascontiguousarray(index), np.ascontiguousarray(w32[lo:hi]), as3(out))
        return np.moveaxis(out, 0, axis)
    w = w32[lo:hi].reshape(hi - lo, -1, *([1] * (moved.ndim - 1)))
    tmp = np.empty_like(out)
    for k in range(index.shape[1]):
        np.multiply(moved[index[:, k]], w[:, k], out=out if k == 0 else tmp)
        if k:
            out += tmp
    return np.moveaxis(out, 0, axis)


#: Non-integer factors through the numba kernel (:mod:`._numba`, bit-identical to the numpy
#: taps: tests/io/test_resample.py) when numba imports; False = numpy always (the reference).
NUMBA = True
#: A grid read's pass along columns and its rounding by the fused kernel
#: :func:`~mmnst_path.io._resample_numba.taps_cols_round` (bit-identical:
#: tests/io/test_resample_cols.py); False = the generic taps kernel, then ``finish_transposed``
COLS_FUSED = True
_KERNEL: dict[str, Any] = {}
#: dtypes whose float32 conversion and products the kernels compute exactly as numpy does
_EXACT = (np.uint8, np.uint16, np.int8, np.int16, np.float32)


def _compiled(key: str) -> Any:
    """The numba kernel(s) ``key`` names, loaded once a process, or None without numba (the numpy path):
    ``"taps"`` :func:`mmnst_path.io._numba.area_taps`; from :mod:`mmnst_path.io._resample_numba`,
    ``"rows"`` ``taps_rows``, ``"block"`` (``block_rows``, ``block_cols``), ``"white"`` ``white_bounds``,
    ``"finish"`` ``finish_transposed`` and ``"cols"`` ``taps_cols_round``."""
    if key not in _KERNEL:
        kernel: Any
        try:
            if key == "taps":
                from ._numba import area_taps

                kernel = area_taps
            else:
                from . import _resample_numba as rn

                kernel = {"rows": rn.taps_rows, "block": (rn.block_rows, rn.block_cols),
                          "white": rn.white_bounds, "finish": rn.finish_transposed,
                          "cols": rn.taps_cols_round}[key]
        except ImportError:  # numba missing
            kernel = None
        _KERNEL[key] = kernel
    return _KERNEL[key]


def _rows_pass(moved: np.ndarray, index: np.ndarray, w32: np.ndarray, out: np.ndarray) -> np.ndarray | None:
    """The taps along axis 0 of a 2-D / 3-D ``moved`` whose rows are each contiguous in memory, into
    ``out`` (n, ...) float32 C-contiguous, by :func:`~mmnst_path.io._resample_numba.taps_rows`
    (bit-identical to the other paths; the rows read through :func:`_flat_rows`); None (nothing
    written) for any other layout or without numba."""
    kernel = _compiled("rows")
    flat, row_stride = _flat_rows(moved) if kernel is not None and out.flags.c_contiguous else (None, 0)
    if flat is None or out.size == 0:
        return None
    kernel(flat, row_stride, np.ascontiguousarray(index), np.ascontiguousarray(w32), out.reshape(out.shape[0], -1))
    return out


def _columns_rounded(rows: np.ndarray, index: np.ndarray, w32: np.ndarray, full: np.ndarray, r0: int,
                     c0: int) -> bool:
    """The taps along axis 1 of ``rows`` (n, W[, C]) float32, rounded into the uint8 ``full[r0 : r0 + n,
    c0 : c0 + len(index)]`` (``v + 0.5``, clipped to [0, 255], truncated), by the fused kernel
    :func:`~mmnst_path.io._resample_numba.taps_cols_round`: the float32 operations of
    :func:`_axis_outputs` along axis 1 and of the rounding, so the same bytes. False (nothing
    written) when :data:`COLS_FUSED` is off, without numba, or for another layout."""
    kernel = _compiled("cols") if NUMBA and COLS_FUSED else None
    if (kernel is None or rows.dtype != np.float32 or not rows.flags.c_contiguous or rows.ndim != full.ndim
            or rows.ndim not in (2, 3) or rows.size == 0 or index.shape[0] == 0):
        return False
    as3 = (lambda a: a[:, :, None]) if rows.ndim == 2 else (lambda a: a)
    kernel(as3(rows), np.ascontiguousarray(index, dtype=np.intp), np.ascontiguousarray(w32, dtype=np.float32),
           as3(full), r0, c0)
    return True


def _block_pass(arr: np.ndarray, axis: int, first: int, n_out: int, k: int) -> np.ndarray | None:
    """:func:`_block_mean` of samples ``first .. first + n_out k - 1`` along ``axis`` (0 or 1) of a 2-D /
    3-D ``arr``, by :func:`~mmnst_path.io._resample_numba.block_rows` / ``block_cols`` (the same
    float32 values), float32 with ``n_out`` samples along ``axis``; None for other arrays or
    without numba."""
    kernels = _compiled("block")
    if kernels is None or arr.ndim not in (2, 3) or axis not in (0, 1) or arr.dtype not in _EXACT or arr.size == 0:
        return None
    if axis == 0:
        out = np.empty((n_out, *arr.shape[1:]), dtype=np.float32)
        flat, row_stride = _flat_rows(arr[first : first + n_out * k])
        if flat is None:
            return None
        kernels[0](flat, row_stride, k, out.reshape(n_out, -1))
        return out
    src = arr[:, first : first + n_out * k]
    src3 = src[:, :, None] if arr.ndim == 2 else src
    out = np.empty((arr.shape[0], n_out, src3.shape[2]), dtype=np.float32)
    kernels[1](src3, k, out)
    return out[:, :, 0] if arr.ndim == 2 else out


def _flat_rows(moved: np.ndarray) -> tuple[np.ndarray | None, int]:
    """A flat read-only view of the memory from the first element of a 2-D / 3-D ``moved`` to its
    last, and the distance (elements) from a row's start to the next's, when each row is
    contiguous (row ``j`` is then ``flat[j * stride : j * stride + row size]``); (None, 0) else."""
    item = moved.itemsize
    width = int(np.prod(moved.shape[1:]))
    inner = (item,) if moved.ndim == 2 else (moved.shape[2] * item, item)
    step = moved.strides[0]
    if moved.strides[1:] != inner or step <= 0 or step % item or moved.shape[0] == 0 or width == 0:
        return None, 0
    row_stride = step // item
    flat = np.lib.stride_tricks.as_strided(moved, shape=((moved.shape[0] - 1) * row_stride + width,),
                                           strides=(item,), writeable=False)
    return flat, row_stride


def _touching(length: int, n_out: int, first: int, last: int) -> tuple[int, int, int, int]:
    """Outputs ``[o0, o1)`` whose taps (weight > 0) reach input samples ``first .. last``, and the
    input samples ``[i0, i1)`` those outputs read."""
    if length == n_out:
        return first, last + 1, first, last + 1
    index, w32 = _taps(length, n_out)
    live = np.ones(index.shape, bool) if w32 is None else w32 > 0
    hit = ((index >= first) & (index <= last) & live).any(axis=1)
    o = np.flatnonzero(hit)
    o0, o1 = int(o[0]), int(o[-1]) + 1
    return o0, o1, int(index[o0:o1].min()), int(index[o0:o1].max()) + 1


def _white_margins(img: np.ndarray) -> tuple[int, int, int, int] | None:
    """(first row, last row, first col, last col) holding a non-white (not 255) pixel of a uint8
    image whose border has white; None when a border row or column is not all white (no margin
    to skip) or the image is all white (returned as (-1, -1, -1, -1))."""
    if not ((img[0] == 255).all() or (img[-1] == 255).all() or (img[:, 0] == 255).all()
            or (img[:, -1] == 255).all()):
        return None
    flat, row_stride = _flat_rows(img) if NUMBA and img.dtype == np.uint8 and img.ndim in (2, 3) else (None, 0)
    kernel = _compiled("white") if flat is not None else None
    if kernel is not None:  # the rows scanned until the first / last non-white one, then the margins only
        channels = img.shape[2] if img.ndim == 3 else 1
        r0, r1, c0, c1 = kernel(flat, row_stride, img.shape[0], img.shape[1] * channels, channels)
        return int(r0), int(r1), int(c0), int(c1)
    # min-reductions (vectorised, no full-size temporary): a row / column is white iff its min is 255
    rows = np.flatnonzero(img.reshape(img.shape[0], -1).min(axis=1) < 255)
    if rows.size == 0:
        return (-1, -1, -1, -1)
    col_min = img[rows[0] : rows[-1] + 1].min(axis=0)
    if col_min.ndim == 2:
        col_min = col_min.min(axis=1)
    cols = np.flatnonzero(col_min < 255)
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def _pasted(img: np.ndarray, at: tuple[int, int], canvas: tuple[int, int]) -> np.ndarray:
    """A white (255) ``canvas`` (rows, cols) image with ``img`` at ``at`` (row, col)."""
    out = np.full((*canvas, *img.shape[2:]), 255, dtype=img.dtype)
    out[at[0] : at[0] + img.shape[0], at[1] : at[1] + img.shape[1]] = img
    return out


def _is_part(img: np.ndarray, at: tuple[int, int], canvas: tuple[int, int] | None) -> bool:
    """Whether ``img`` is a part (at ``at``) of a larger white ``canvas``; raises when it does not fit."""
    if canvas is None or (tuple(canvas) == img.shape[:2] and tuple(at) == (0, 0)):
        return False
    if min(at) < 0 or at[0] + img.shape[0] > canvas[0] or at[1] + img.shape[1] > canvas[1]:
        msg = f"a part of {img.shape[:2]} px at {tuple(at)} does not fit in its canvas of {tuple(canvas)} px"
        raise ValueError(msg)
    return True


def resize_area(img: np.ndarray, out_shape: tuple[int, int], *, at: tuple[int, int] = (0, 0),
                canvas: tuple[int, int] | None = None) -> np.ndarray:
    """Resize an (M, N, C) or (M, N) image to ``out_shape`` (rows, cols) by area averaging.

    The dtype is preserved (uint8 is rounded to nearest); integer factors are exact block means.
    A uint8 image's white (255) margins (a slide read past its edge) are not computed: the
    output pixels that read only white are 255, which is what area averaging gives them after
    rounding (the float32 sum of the taps is within 1e-3 of 255), and every other output pixel
    is computed by exactly the operations of the whole-image call, so the result is the same.

    With ``canvas`` (rows, cols), ``img`` is only the part at ``at`` (row, col) of a larger image
    that is white elsewhere (:meth:`~mmnst_path.io.SlideReader.read_region_part`), and the
    result is that image's, bit for bit, without the white being filled or scanned. A uint8
    part should keep a white margin of ``ceil(factor) + 2`` pixels where it ends inside the
    canvas (else the canvas is built and resampled whole: the same result, slower).
    """
    part = _is_part(img, at, canvas)
    rows, cols = canvas if part else img.shape[:2]  # type: ignore[misc]
    o_rows, o_cols = int(out_shape[0]), int(out_shape[1])
    if part and ((rows, cols) == (o_rows, o_cols) or img.dtype != np.uint8):
        return resize_area(_pasted(img, at, (rows, cols)), out_shape)
    if (rows, cols) == (o_rows, o_cols):
        return img
    if min(rows, cols, o_rows, o_cols) < 1:
        msg = f"cannot resample an image of {rows} x {cols} px to {o_rows} x {o_cols} px"
        raise ValueError(msg)
    region = _white_margins(img) if img.dtype == np.uint8 else None
    if region is not None and region[0] < 0:  # all white
        return np.full((o_rows, o_cols, *img.shape[2:]), 255, dtype=np.uint8)
    if region is None:
        region = (0, img.shape[0] - 1, 0, img.shape[1] - 1)
    a0, a1 = at if part else (0, 0)
    r0, r1, ir0, ir1 = _touching(rows, o_rows, region[0] + a0, region[1] + a0)
    c0, c1, ic0, ic1 = _touching(cols, o_cols, region[2] + a1, region[3] + a1)
    if ir0 < a0 or ic0 < a1 or ir1 > a0 + img.shape[0] or ic1 > a1 + img.shape[1]:  # a margin too narrow
        return resize_area(_pasted(img, (a0, a1), (rows, cols)), out_shape)
    sub = img[ir0 - a0 : ir1 - a0, ic0 - a1 : ic1 - a1]
    # reduce the longer-shrinking axis first to keep the intermediate small
    if rows / o_rows >= cols / o_cols:
        first = _axis_outputs(sub, o_rows, 0, r0, r1, ir0, rows)
        if img.dtype == np.uint8 and cols != o_cols:  # the pass along columns and the rounding fused
            index, w32 = _taps(cols, o_cols)
            if w32 is not None:  # (an integer factor: block means, below)
                full = np.full((o_rows, o_cols, *img.shape[2:]), 255, dtype=np.uint8)
                if _columns_rounded(first, index[c0:c1] - ic0, w32[c0:c1], full, r0, c0):
                    return full
        out = _axis_outputs(first, o_cols, 1, c0, c1, ic0, cols)
    else:
        out = _axis_outputs(_axis_outputs(sub, o_cols, 1, c0, c1, ic0, cols), o_rows, 0, r0, r1, ir0, rows)
    if img.dtype == np.uint8:
        out += np.float32(0.5)
        np.clip(out, 0, 255, out=out)
        full = np.full((o_rows, o_cols, *img.shape[2:]), 255, dtype=np.uint8)
        full[r0:r1, c0:c1] = out
        return full
    return out.astype(img.dtype)  # (margins are skipped for uint8 only: this is the whole image)


def grid_weights(n_out: int, start: int, factor: float, first: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Taps of area averaging onto a fixed grid: output ``i`` covers input coordinates
    ``[(start + i) f - first, (start + i + 1) f - first)`` of an axis of ``length`` samples
    (input sample ``first`` of the larger axis is sample 0 here).

    ``(start + i) * f`` is computed as it is for any other ``first`` (a float64 product of the
    same two numbers) and subtracting the integer ``first`` is exact, so an output of a grid
    line gets the same input samples and bit-identical float64 weights whatever part of the axis
    is read. Returns ``index`` (n_out, K) intp and ``weight`` (n_out, K) float64 as
    :func:`area_weights` (unused taps repeat the last sample with weight 0).
    """
    if n_out < 1 or length < 1 or not factor > 0:
        msg = f"cannot resample {length} samples onto {n_out} grid samples of {factor!r} input samples each"
        raise ValueError(msg)
    edges = (start + np.arange(n_out + 1, dtype=np.float64)) * factor - first
    if edges[0] < 0 or edges[-1] > length:
        msg = (f"grid samples {start}..{start + n_out} (x {factor}) need input {edges[0] + first:.3f}.."
               f"{edges[-1] + first:.3f}, outside the {length} samples read from {first}")
        raise ValueError(msg)
    return _edge_taps(edges, length, factor)


def _apply_taps(moved: np.ndarray, index: np.ndarray, w32: np.ndarray) -> np.ndarray:
    """``sum_k float32(moved[index[:, k]]) * w32[:, k]`` along axis 0, float32, the terms added in
    the order ``k = 0, 1, ...`` (the arithmetic of :func:`_axis_outputs`)."""
    out = np.empty((index.shape[0], *moved.shape[1:]), dtype=np.float32)
    exact = moved.dtype in (np.uint8, np.uint16, np.int8, np.int16, np.float32)
    if NUMBA and exact and moved.ndim in (2, 3) and out.size and _rows_pass(moved, index, w32, out) is not None:
        return out
    kern = _compiled("taps") if NUMBA and exact and moved.ndim in (2, 3) and out.size else None
    if kern is not None:
        as3 = (lambda a: a[:, :, None]) if moved.ndim == 2 else (lambda a: a)
        kern(as3(moved), np.ascontiguousarray(index), np.ascontiguousarray(w32), as3(out))
        return out
    w = w32.reshape(index.shape[0], -1, *([1] * (moved.ndim - 1)))
    tmp = np.empty_like(out)
    for k in range(index.shape[1]):
        np.multiply(moved[index[:, k]], w[:, k], out=out if k == 0 else tmp)
        if k:
            out += tmp
    return out


def resize_area_grid(img: np.ndarray, out_shape: tuple[int, int], start: tuple[int, int], factor: float,
                     first: tuple[int, int], *, at: tuple[int, int] = (0, 0),
                     canvas: tuple[int, int] | None = None) -> np.ndarray:
    """Area-average a uint8 (M, N[, C]) image onto a fixed grid of ``factor`` input pixels a sample.

    Output pixel ``(i, j)`` is the mean of the input square ``[(start + (i, j)) factor,
    (start + (i, j) + 1) factor)`` in the coordinates of a larger image of which ``img`` holds the
    pixels from ``first`` on (:func:`grid_weights` per axis; rows first, then columns). Two reads
    of overlapping parts of the larger image give bit-identical pixels where their grids overlap,
    whatever their extents: a tile read at a non-integer factor does not depend on its halo or
    its neighbours. White (255) margins are skipped as in :func:`resize_area` (same result).

    With ``canvas`` (rows, cols), the image read from ``first`` is a ``canvas`` image, white
    except for ``img`` at ``at`` (row, col), as :func:`resize_area` takes it: the result is the
    canvas's, bit for bit (the same taps and weights; a margin too narrow builds the canvas).
    """
    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        msg = f"resize_area_grid takes an (M, N) or (M, N, C) uint8 image, got {img.dtype} {img.shape}"
        raise ValueError(msg)
    part = _is_part(img, at, canvas)
    shape = canvas if part else img.shape[:2]
    a = at if part else (0, 0)
    o_rows, o_cols = int(out_shape[0]), int(out_shape[1])
    full = np.full((o_rows, o_cols, *img.shape[2:]), 255, dtype=np.uint8)
    region = _white_margins(img)
    if region is not None and region[0] < 0:  # all white
        return full
    if region is None:
        region = (0, img.shape[0] - 1, 0, img.shape[1] - 1)
    spans = []
    for axis, (lo_in, hi_in) in enumerate(((region[0], region[1]), (region[2], region[3]))):
        index, weight = grid_weights(out_shape[axis], start[axis], factor, first[axis], shape[axis])  # type: ignore[index]
        live = weight > 0
        hit = ((index >= lo_in + a[axis]) & (index <= hi_in + a[axis]) & live).any(axis=1)
        o = np.flatnonzero(hit)
        o0, o1 = int(o[0]), int(o[-1]) + 1
        index, weight = index[o0:o1] - a[axis], weight[o0:o1]
        if part:
            read = index[weight > 0]
            if read.min() < 0 or read.max() >= img.shape[axis]:  # a margin too narrow
                return resize_area_grid(_pasted(img, a, shape), out_shape, start, factor, first)  # type: ignore[arg-type]
            index = np.clip(index, 0, img.shape[axis] - 1)  # (taps of weight 0 only)
        spans.append((o0, o1, index, weight.astype(np.float32)))
    (r0, r1, r_index, r_w), (c0, c1, c_index, c_w) = spans
    i0, i1 = int(c_index.min()), int(c_index.max()) + 1  # the input columns the outputs read
    rows = _apply_taps(img[:, i0:i1], r_index, r_w)  # (r1 - r0, i1 - i0[, C]) float32
    if _columns_rounded(rows, c_index - i0, c_w, full, r0, c0):
        return full
    as3 = (lambda a: a[:, :, None]) if img.ndim == 2 else (lambda a: a)
    cols = _apply_taps(np.moveaxis(rows, 1, 0), c_index - i0, c_w)  # (c1 - c0, r1 - r0[, C])
    finish = _compiled("finish") if NUMBA and cols.flags.c_contiguous else None
    if finish is not None:  # the same rounding, into ``full`` without a strided float32 copy
        finish(as3(cols), as3(full), r0, c0)
        return full
    out = np.moveaxis(cols, 0, 1)
    out += np.float32(0.5)
    np.clip(out, 0, 255, out=out)
    full[r0:r1, c0:c1] = out
    return full
