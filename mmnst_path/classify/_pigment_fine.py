"""The pixel model's fine-scale OD in one pass (issue #14 / #16): blur, norm and channel planes.

:func:`mmnst_path.classify.pigment._candidates` blurs the three OD channels of a tile at
``fine_um`` and takes the norm of the result. Done with the general kernels, that is three
strided copies of the (M, N, 3) OD into planes, two Gaussian passes per plane through a
temporary image, three strided writes into the (M, N, 3) result and a norm pass: about 8 ms a
732² SHIDC tile, the largest sub-step of the pixel model on the real Ki67 tiles.

:func:`fine_od` computes the same arrays row by row in one compiled pass: each OD row is read
once (converted to float64 into a ring of rows per channel, and copied into the channel planes
when asked), the column pass of an output row is followed at once by its row pass, and the norm
of the row is taken while it is in cache. Every output value gets the operations of
:func:`mmnst_path.detect._morphology._gaussian` (``scipy.ndimage.gaussian_filter`` with
``mode="reflect"``, ``truncate=4``: float64 sums in the same order, rounded to float32 after each
axis) and of :func:`mmnst_path.detect._morphology._od_norm`, so the arrays are the same bit for
bit (tests/classify/test_pigment_fine.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..detect._morphology import _gaussian, _gaussian_half_kernel, _od_norm, compiled_kernel

__all__: list[str] = []

_KERNEL: dict[str, Any] = {}


def _kernel() -> Any:
    """The compiled kernel, or None without numba (or with the scipy backend chosen)."""
    return compiled_kernel(_KERNEL, _fine_od_py)


def _fine_od_py(od, w, fine, total, planes, keep):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Gaussian (half-kernel ``w``, float64, ``w[0]`` centre) of each channel of ``od`` (M, N, 3)
    float32 into ``fine`` (M, N, 3) float32 and its norm into ``total`` (M, N) float32; ``keep``:
    also copy the channels into ``planes`` (3, M, N) float32.

    The rows are read with the channels interleaved (3 N values), so the column pass runs along
    contiguous memory and the row pass too (a channel's neighbour k pixels away is 3 k values
    away). Column pass then row pass, as ``gaussian_axis0`` / ``gaussian_axis1`` of
    :mod:`mmnst_path.detect._numba` compute them: per output value ``x[i] * w[0]`` then
    ``(x[i - k] + x[i + k]) * w[k]`` added for ``k = r .. 1`` in float64, scipy's ``"reflect"``
    border, rounded to float32 after the column pass and after the row pass; the norm is
    ``sqrt((a * a + b * b) + c * c)`` in float32 (``norm3``)."""
    m, n = total.shape
    r = w.shape[0] - 1
    size = 2 * r + 1
    width = 3 * n  # a row of the (M, N, 3) arrays, channels interleaved: every pass runs along it
    ring = np.empty((size, width), np.float64)  # OD row q (float64) at ring[q % size]
    col = np.empty(width, np.float64)
    buf = np.empty(width + 6 * r, np.float64)  # the column pass's row, r reflected pixels each side
    acc = np.empty(width, np.float64)
    w0 = w[0]
    done = 0
    for i in range(m):
        stop = min(i + r + 1, m)
        for q in range(done, stop):
            src = od[q].reshape(width)
            dst = ring[q % size]
            if keep:  # the row's pixels once: into the ring and into the three planes
                pl0 = planes[0, q]
                pl1 = planes[1, q]
                pl2 = planes[2, q]
                for j in range(n):
                    v0 = src[3 * j]
                    v1 = src[3 * j + 1]
                    v2 = src[3 * j + 2]
                    dst[3 * j] = np.float64(v0)
                    dst[3 * j + 1] = np.float64(v1)
                    dst[3 * j + 2] = np.float64(v2)
                    pl0[j] = v0
                    pl1[j] = v1
                    pl2[j] = v2
            else:
                for j in range(width):
                    dst[j] = np.float64(src[j])
        done = max(done, stop)
        cur = ring[i % size]
        for j in range(width):
            col[j] = cur[j] * w0
        for k in range(r, 0, -1):
            # scipy's reflect (half-sample symmetric), periodic for images shorter than r
            q0 = (i - k) % (2 * m)
            if q0 >= m:
                q0 = 2 * m - 1 - q0
            q1 = (i + k) % (2 * m)
            if q1 >= m:
                q1 = 2 * m - 1 - q1
            a = ring[q0 % size]
            b = ring[q1 % size]
            wk = w[k]
            for j in range(width):
                col[j] += (a[j] + b[j]) * wk
        for j in range(width):  # the column pass's float32 result, as the row pass reads it
            buf[j + 3 * r] = np.float64(np.float32(col[j]))
        for j in range(r):  # the reflected pixels beyond both ends of the line
            p0 = (j - r) % (2 * n)
            if p0 >= n:
                p0 = 2 * n - 1 - p0
            p1 = (n + j) % (2 * n)
            if p1 >= n:
                p1 = 2 * n - 1 - p1
            for c in range(3):
                buf[3 * j + c] = buf[3 * (p0 + r) + c]
                buf[3 * (n + r + j) + c] = buf[3 * (p1 + r) + c]
        mid = buf[3 * r : 3 * r + width]
        for j in range(width):
            acc[j] = mid[j] * w0
        for k in range(r, 0, -1):  # pixel j -+ k of a channel is 3 k values away
            wk = w[k]
            lo = buf[3 * (r - k) : 3 * (r - k) + width]
            hi = buf[3 * (r + k) : 3 * (r + k) + width]
            for j in range(width):
                acc[j] += (lo[j] + hi[j]) * wk
        row = fine[i].reshape(width)
        for j in range(width):
            row[j] = np.float32(acc[j])
        tot = total[i]
        for j in range(n):
            a3 = row[3 * j]
            b3 = row[3 * j + 1]
            c3 = row[3 * j + 2]
            tot[j] = np.sqrt((a3 * a3 + b3 * b3) + c3 * c3)


def fine_od(od: np.ndarray, sigma_px: float, planes: list[np.ndarray] | None = None,
            ) -> tuple[np.ndarray, np.ndarray]:
    """(fine (M, N, 3) float32, total (M, N) float32): ``_gaussian`` of each channel of the
    float32 OD ``od`` (M, N, 3) at ``sigma_px`` (``sigma_px < 0.3``: no blur) and ``_od_norm`` of
    that; ``planes`` (a list): receives the three channels of ``od`` as C-contiguous (M, N)
    planes. With numba in one compiled pass (:func:`_fine_od_py`); without numba (or with the
    scipy backend), for an empty image or without blur, a channel at a time (the reference)."""
    od = np.ascontiguousarray(od, dtype=np.float32)
    kern = _kernel()
    if kern is not None and sigma_px >= 0.3 and od.ndim == 3 and od.shape[2] == 3 and od.size > 0:
        m, n = od.shape[:2]
        fine = np.empty((m, n, 3), np.float32)
        total = np.empty((m, n), np.float32)
        chans = np.empty((3, m, n) if planes is not None else (3, 0, 0), np.float32)
        kern(od, _gaussian_half_kernel(sigma_px, 4.0), fine, total, chans, planes is not None)
        if planes is not None:
            planes[:] = [chans[0], chans[1], chans[2]]
        return fine, total
    split = [np.ascontiguousarray(od[..., c]) for c in range(3)]
    fine = np.empty(od.shape, np.float32)  # filled a channel at a time: one blurred plane alive, not three
    for c, ch in enumerate(split):
        fine[..., c] = _gaussian(ch, sigma_px) if sigma_px >= 0.3 else ch
    if planes is not None:
        planes[:] = split
    return fine, _od_norm(fine)
