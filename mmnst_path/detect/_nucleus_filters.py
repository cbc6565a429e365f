"""The nucleus detector's plane filters (:mod:`mmnst_path.detect.nuclei`, steps 1 and 3).

The float32 Gaussian (:func:`_gaussian32`), the local background subtracted from a stain plane
(:func:`_minus_background`, :func:`_background_by_columns`), the reach of the chained LoG
Gaussians (:func:`_gaussian_stack_support`), the 5-point Laplacian (:func:`_laplacian`) and the
window maxima at given points that suppress and merge seeds (:func:`_window_max_at`). Each has a
numpy path and, where numba imports (:func:`._morphology._numba_kernels`), compiled passes that
give the same values bit for bit. The switches that choose between paths
(``GAUSSIAN_FLOAT32``, ``CANDIDATE_ROOM_*``, ``CROP_EMPTY_MARGINS``) stay in
:mod:`mmnst_path.detect.nuclei`, with the functions that read them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._morphology import _gaussian_half_kernel, _numba_kernels, _square_extreme, _uniform

__all__: list[str] = []


def _gaussian32(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Separable Gaussian of a 2-D float32 image in float32 arithmetic: scipy's kernel (radius
    ``int(4 sigma + 0.5)``, normalised in float64) rounded to float32, the same taps and
    reflected borders as ``ndi.gaussian_filter(..., truncate=4.0)``, so the same support (the
    halo is unchanged). Per axis and output pixel: ``x * w0``, then ``+ (x[-k] + x[+k]) * wk``
    for ``k = r .. 1``, each operation rounded to float32; the numba kernels and this numpy path
    make the same operations (bit-identical to each other). Against the float64 filter the error
    is a few float32 ulp of the plane's values (tests/detect/test_nuclei_kernels.py)."""
    w = _gaussian_half_kernel(sigma_px, 4.0).astype(np.float32)
    img = np.ascontiguousarray(image)
    kern = _numba_kernels()
    if kern is not None:
        out = np.empty_like(img)
        kern.gaussian32(img, w, out)
        return out
    r = w.shape[0] - 1
    for axis in (0, 1):
        n = img.shape[axis]
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r, r)
        # scipy's "reflect" is numpy's "symmetric"; np.pad repeats it for pads longer than the axis
        padded = np.pad(img, pad, mode="symmetric")
        part = np.moveaxis(padded, axis, 0)
        acc = part[r : r + n] * w[0]
        for k in range(r, 0, -1):
            acc += (part[r - k : r - k + n] + part[r + k : r + k + n]) * w[k]
        img = np.ascontiguousarray(np.moveaxis(acc, 0, axis))
    return img


def _minus_background(plane: np.ndarray, side: int) -> np.ndarray:
    """``plane`` minus its local background (grey opening by a square, box-smoothed), clipped at 0.

    Computed in place where possible (one extra plane at a time); ``plane`` is not modified.
    With numba and an odd ``side`` of a float32 plane, the passes along axis 1 run as passes
    along axis 0 of the transposed image (:func:`_background_by_columns`: the same values).
    """
    kern = _numba_kernels() if plane.dtype == np.float32 and plane.ndim == 2 and plane.size else None
    if kern is not None and side > 1 and side % 2 == 1:
        background = _background_by_columns(kern, np.ascontiguousarray(plane), side // 2)
        np.subtract(plane, background, out=background)
        return np.maximum(background, 0.0, out=background)
    background = _square_extreme(plane, side, op="min")  # = ndi.minimum_filter(plane, size=side)
    background = _square_extreme(background, side, op="max")
    background = _uniform(background, side)  # = ndi.uniform_filter(background, size=side)
    np.subtract(plane, background, out=background)
    return np.maximum(background, 0.0, out=background)


def _background_by_columns(kern: Any, plane: np.ndarray, h: int) -> np.ndarray:
    """``ndi.uniform_filter(ndi.maximum_filter(ndi.minimum_filter(plane, s), s), s)`` with
    ``s = 2 h + 1`` (reflected borders) of a C-contiguous float32 plane, bit for bit, from the
    compiled axis-0 passes only (running extremes and sums along whole rows: vectorised, several
    times faster than along a row) and four transposes (numpy's strided copy: ~2x faster than the
    compiled block transpose on the 0.3-0.5 MPx planes of a tile, the same at 2 MPx).

    The opening's minima and maxima are exact, so its four 1-D passes may run in any order that
    keeps the minima before the maxima: min along axis 0, transpose, min and max along (the
    original) axis 1, transpose back, max along axis 0. The box mean keeps scipy's order (axis 0,
    then axis 1, float32 between them): its axis-1 pass is the axis-0 running sum of the
    transposed plane, the same float64 additions in the same order.
    """
    m, n = plane.shape
    a = np.empty((m, n), np.float32)
    kern.extreme_axis0(plane, h, False, False, a)  # min along axis 0
    t = np.empty((n, m), np.float32)
    np.copyto(t, a.T)
    t2 = np.empty((n, m), np.float32)
    kern.extreme_axis0(t, h, False, False, t2)  # min along axis 1
    kern.extreme_axis0(t2, h, True, False, t)  # max along axis 1
    np.copyto(a, t.T)
    b = np.empty((m, n), np.float32)
    kern.extreme_axis0(a, h, True, False, b)  # max along axis 0: the opening
    kern.uniform_axis0(b, h, a)  # box mean along axis 0
    np.copyto(t, a.T)
    kern.uniform_axis0(t, h, t2)  # box mean along axis 1
    np.copyto(b, t2.T)
    return b


def _gaussian_stack_support(sigmas: tuple[float, ...]) -> float:
    """Reach (same unit as ``sigmas``, plus one pixel counted as 1) of the chained Gaussians of
    :func:`_gaussian_stack` and the Laplacian, at the largest scale."""
    total, prev = 1.0, 0.0  # 1: the Laplacian's reach
    for sigma in sorted(sigmas):
        total += 4.0 * math.sqrt(max(sigma * sigma - prev * prev, 0.0))
        prev = sigma
    return total


def _laplacian(image: np.ndarray) -> np.ndarray:
    """Discrete 5-point Laplacian (reflected border: the outside neighbour of an edge pixel is
    itself), float32, by shifted slices."""
    out = image * np.float32(-4.0)
    out[1:] += image[:-1]
    out[:-1] += image[1:]
    out[0] += image[0]
    out[-1] += image[-1]
    out[:, 1:] += image[:, :-1]
    out[:, :-1] += image[:, 1:]
    out[:, 0] += image[:, 0]
    out[:, -1] += image[:, -1]
    return out


def _window_max_at(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Max of ``image`` over the square window of half-side ``half[i]`` around each point.

    Windows are clipped to the image (what ``ndi.maximum_filter(mode="reflect")`` gives there);
    evaluated at the points only, by gathering one offset at a time (no full-image filter).
    """
    out = np.full(rows.shape, -np.inf, dtype=np.float32)
    if rows.size == 0:
        return out
    kern = _numba_kernels() if image.dtype == np.float32 else None
    if kern is not None:  # the same maximum, one window at a time
        kern.window_max_at(np.ascontiguousarray(image), rows.astype(np.intp, copy=False),
                           cols.astype(np.intp, copy=False), half.astype(np.intp, copy=False), out)
        return out
    h_max = int(half.max())
    m, n = image.shape
    for dr in range(-h_max, h_max + 1):
        ok_r = np.abs(dr) <= half
        rr = np.clip(rows + dr, 0, m - 1)
        for dc in range(-h_max, h_max + 1):
            ok = ok_r & (abs(dc) <= half)
            vals = image[rr, np.clip(cols + dc, 0, n - 1)]
            np.maximum(out, np.where(ok, vals, -np.inf), out=out)
    return out
