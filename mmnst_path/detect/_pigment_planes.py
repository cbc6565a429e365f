"""The two concentration planes of the brown pigment mode in one pass (issue #14 / #16).

:func:`mmnst_path.detect._pigment_core.pigment_channels` unmixes hematoxylin and the brown
chromogen (:func:`mmnst_path.stain.separate_stains`, an (M, N, 2) array) and copies each channel
into a C-contiguous plane for the filters that read it. :func:`brown_planes` writes the two
planes directly, from the same folded lookup tables with the same float32 additions
(``(T[k, 0, r] + T[k, 1, g]) + T[k, 2, b]``, as both of ``separate_stains``' kernels add them),
so the planes are the same bit for bit (tests/detect/test_pigment_open.py), without the
interleaved array and the two copies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._morphology import compiled_kernel

__all__: list[str] = []

_KERNEL: dict[str, Any] = {}


def _kernel() -> Any:
    """The compiled kernel, or None without numba (or with the scipy backend chosen)."""
    return compiled_kernel(_KERNEL, _planes_py)


def _planes_py(rgb2, tables, first, second):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``first[p]``, ``second[p]``: stains 0 and 1 of ``tables`` (2, 3, 256) float32 at the pixels
    ``rgb2`` (P, 3) uint8, ``(T[k, 0, r] + T[k, 1, g]) + T[k, 2, b]`` in float32."""
    t0r = tables[0, 0]
    t0g = tables[0, 1]
    t0b = tables[0, 2]
    t1r = tables[1, 0]
    t1g = tables[1, 1]
    t1b = tables[1, 2]
    for p in range(rgb2.shape[0]):
        r = rgb2[p, 0]
        g = rgb2[p, 1]
        b = rgb2[p, 2]
        acc = t0r[r] + t0g[g]
        first[p] = acc + t0b[b]
        acc = t1r[r] + t1g[g]
        second[p] = acc + t1b[b]


def brown_planes(rgb: np.ndarray, tables: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(stain 0, stain 1) of ``tables`` ((2, 3, 256) float32, :func:`~mmnst_path.stain.deconvolve.folded_luts`)
    at the (M, N, 3) uint8 ``rgb``, as two C-contiguous (M, N) float32 planes: the channels of
    ``separate_stains(rgb, ...)`` with those tables. None without numba (or with the scipy
    backend) or for another input (the caller separates then)."""
    kern = _kernel()
    if (kern is None or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or tables.shape != (2, 3, 256)
            or tables.dtype != np.float32):
        return None
    m, n = rgb.shape[:2]
    first = np.empty((m, n), np.float32)
    second = np.empty((m, n), np.float32)
    kern(np.ascontiguousarray(rgb).reshape(m * n, 3), np.ascontiguousarray(tables), first.reshape(-1),
         second.reshape(-1))
    return first, second
