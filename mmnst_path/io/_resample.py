"""Area-averaging resampling of RGB uint8 images (used for thumbnails and analysis resolution).

Area averaging: every output pixel is the mean of the input area it covers, fractional input
pixels weighted by their covered fraction. It is computed exactly, per axis, from cumulative
sums (linear within a pixel), in O(input size) time without scikit-image.
"""

from __future__ import annotations

import numpy as np

__all__ = ["resize_area", "resize_area_axis"]


def resize_area_axis(arr: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """Area-average ``arr`` along ``axis`` from its length ``L`` to ``n_out`` samples.

    Output sample ``i`` is the mean of input interval ``[i * L / n_out, (i + 1) * L / n_out)``.
    Upsampling (``n_out > L``) repeats/interpolates the covered pixels the same way.

    Parameters
    ----------
    arr : ndarray
        Any numeric array.
    n_out : int
        Output length along ``axis`` (>= 1).
    axis : int
        Axis to resample.

    Returns
    -------
    float32 ndarray
        ``arr`` with ``shape[axis] == n_out``.
    """
    length = arr.shape[axis]
    if n_out < 1 or length < 1:
        msg = f"cannot resample an axis of length {length} to {n_out} samples"
        raise ValueError(msg)
    moved = np.moveaxis(np.asarray(arr), axis, 0)
    if length == n_out:
        return np.moveaxis(moved.astype(np.float32), 0, axis)
    factor = length / n_out
    if factor == int(factor):
        k = int(factor)
        blocks = moved.reshape(n_out, k, *moved.shape[1:]).astype(np.float32)
        return np.moveaxis(blocks.mean(axis=1), 0, axis)
    csum = np.zeros((length + 1, *moved.shape[1:]), dtype=np.float64)
    np.cumsum(moved, axis=0, dtype=np.float64, out=csum[1:])
    edges = np.arange(n_out + 1, dtype=np.float64) * factor
    lo = np.minimum(np.floor(edges).astype(np.intp), length - 1)
    frac = (edges - lo).reshape(-1, *([1] * (moved.ndim - 1)))
    # cumulative sum at fractional position e = csum[lo] + frac * pixel[lo]
    at_edges = csum[lo] + frac * (csum[lo + 1] - csum[lo])
    out = (at_edges[1:] - at_edges[:-1]) / factor
    return np.moveaxis(out.astype(np.float32), 0, axis)


def resize_area(img: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
    """Resize an (M, N, C) or (M, N) image to ``out_shape`` (rows, cols) by area averaging.

    The dtype is preserved (uint8 is rounded to nearest); integer factors are exact block means.
    """
    rows, cols = img.shape[:2]
    o_rows, o_cols = int(out_shape[0]), int(out_shape[1])
    if (rows, cols) == (o_rows, o_cols):
        return img
    # reduce the longer-shrinking axis first to keep the intermediate small
    if rows / max(o_rows, 1) >= cols / max(o_cols, 1):
        out = resize_area_axis(resize_area_axis(img, o_rows, 0), o_cols, 1)
    else:
        out = resize_area_axis(resize_area_axis(img, o_cols, 1), o_rows, 0)
    if img.dtype == np.uint8:
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return out.astype(img.dtype)
