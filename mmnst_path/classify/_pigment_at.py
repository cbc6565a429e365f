"""Grey dilation / erosion by a disk evaluated at a few pixels only (issue #16).

The pigment pixel features need a disk extreme (the opening's dilation, the local peak) only at
the candidate pixels, which are a few per cent of a real Ki67 tile (0.1-13 % of the analysis
pixels of the BCData / SHIDC / DeepLIIF tiles); a whole-window filter computes it at every
pixel. :func:`disk_extreme_at` takes the extreme over the footprint's pixels at each asked
pixel, with the same ``"reflect"`` border as :func:`mmnst_path.detect._morphology._disk_extreme`.
A maximum or minimum is exact, so the values are those of the whole-window filter bit for bit
(tested); the whole-window filter is used instead where the pixels are many (it is cheaper
there, and identical).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..detect._morphology import _disk_extreme, compiled_kernel

__all__: list[str] = []

_KERNEL: dict[str, Any] = {}


def _kernel() -> Any:
    """The compiled at-points kernel, or None without numba (or with the scipy backend chosen)."""
    return compiled_kernel(_KERNEL, _extreme_at_py)


def _extreme_at_py(img, halves, rows, cols, is_max, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``out[s]``: max (``is_max``) or min of ``img`` over the footprint of centred row runs
    ``halves`` (row ``d`` of ``2 r + 1`` spans columns ``-halves[d] .. halves[d]``, -1: empty)
    around (``rows[s]``, ``cols[s]``), indices outside the image reflected as scipy's
    ``"reflect"`` (``... 1 0 | 0 1 ... n-1 | n-1 n-2 ...``). The footprint's pixels are visited
    row by row, left to right, and the first of equal values is kept (``v > best`` / ``v < best``),
    so ties of +0.0 and -0.0 resolve as in the whole-window filter; the first pixel starts the
    extreme and each row run is a plain loop (no per-pixel test of the first or of ``is_max``)."""
    m, n = img.shape
    size = halves.shape[0]
    r = size // 2
    for s in range(rows.shape[0]):
        i = rows[s]
        j = cols[s]
        started = False
        best = img[i, j]
        for d in range(size):
            h = halves[d]
            if h < 0:
                continue
            k = i + d - r
            if k < 0:
                k = -k - 1
            elif k >= m:
                k = 2 * m - 1 - k
            line = img[k]
            lo = j - h
            hi = j + h
            if lo >= 0 and hi < n:
                c0 = lo
                if not started:
                    best = line[lo]
                    started = True
                    c0 = lo + 1
                if is_max:
                    for c in range(c0, hi + 1):
                        v = line[c]
                        if v > best:
                            best = v
                else:
                    for c in range(c0, hi + 1):
                        v = line[c]
                        if v < best:
                            best = v
            else:
                for c0 in range(lo, hi + 1):
                    c = c0
                    if c < 0:
                        c = -c - 1
                    elif c >= n:
                        c = 2 * n - 1 - c
                    v = line[c]
                    if not started:
                        best = v
                        started = True
                    elif is_max:
                        if v > best:
                            best = v
                    elif v < best:
                        best = v
        out[s] = best


def disk_extreme_at(image: np.ndarray, footprint: np.ndarray, at: tuple[np.ndarray, ...], *,
                    op: str) -> np.ndarray:
    """``_disk_extreme(image, footprint, op=op)[at]`` (``mode="reflect"``), computed at ``at`` only.

    Parameters
    ----------
    image : (M, N) float32 ndarray
        Finite values (no NaN: a maximum with NaN depends on the order of comparison).
    footprint : (2r+1, 2r+1) bool ndarray
        A disk (:func:`mmnst_path.detect._morphology._disk`): centred runs, 2 r + 1 < min(M, N).
    at : (rows, cols) int arrays
        The pixels asked, as ``np.nonzero`` returns them.
    op : {"max", "min"}

    Returns
    -------
    (len(rows),) ndarray, dtype of ``image``
    """
    rows, cols = at
    size = footprint.shape[0]
    m, n = image.shape
    kern = _kernel() if image.dtype == np.float32 and image.ndim == 2 else None
    area = int(np.count_nonzero(footprint))
    halves = footprint.sum(axis=1) // 2
    passes = len({int(h) for h, row in zip(halves, footprint, strict=True) if row.any()}) + size
    # the whole-image pass costs ~ `passes` comparisons a pixel, the at-points one `area` a point
    if kern is None or size < 3 or min(m, n) <= size or len(rows) * area > passes * m * n // 2:
        return _disk_extreme(image, footprint, op=op)[at]
    runs = np.where(footprint.any(axis=1), halves, -1).astype(np.int64)
    out = np.empty(len(rows), image.dtype)
    kern(np.ascontiguousarray(image), runs, np.asarray(rows, np.int64), np.asarray(cols, np.int64), op == "max", out)
    return out
