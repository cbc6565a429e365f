"""Optional numba accelerator for :func:`mmnst_path.stain.separate_stains`.

Imported only when the numba back end is used (``import mmnst_path.stain`` never imports numba).
The kernel is compiled on first call and cached on disk (``cache=True``), so later processes,
including tile workers, load it in a fraction of a second.

It computes exactly what the numpy reference computes, in the same order of additions
(``(T0[r] + T1[g]) + T2[b]`` in float32), one fused pass over the pixels, rows split
across numba's threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["od_lookup", "separate"]


@njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def _separate_kernel(rgb2, tables, out2):  # pragma: no cover - compiled
    n_px = rgb2.shape[0]
    n_st = tables.shape[0]
    chunk = 4096
    n_chunks = (n_px + chunk - 1) // chunk
    for ci in prange(n_chunks):
        start = ci * chunk
        stop = min(start + chunk, n_px)
        for p in range(start, stop):
            r = rgb2[p, 0]
            g = rgb2[p, 1]
            b = rgb2[p, 2]
            for k in range(n_st):
                acc = tables[k, 0, r] + tables[k, 1, g]
                out2[p, k] = acc + tables[k, 2, b]


def separate(rgb2: np.ndarray, tables: np.ndarray, out2: np.ndarray) -> None:
    """Fill ``out2`` (P, K) float32 from ``rgb2`` (P, 3) uint8 and ``tables`` (K, 3, 256) float32."""
    _separate_kernel(rgb2, tables, out2)


@njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def _od_kernel(rgb2, lut, out2):  # pragma: no cover - compiled
    n_px = rgb2.shape[0]
    chunk = 4096
    n_chunks = (n_px + chunk - 1) // chunk
    for ci in prange(n_chunks):
        start = ci * chunk
        stop = min(start + chunk, n_px)
        for p in range(start, stop):
            for c in range(3):
                out2[p, c] = lut[c, rgb2[p, c]]


def od_lookup(rgb2: np.ndarray, lut: np.ndarray, out2: np.ndarray) -> None:
    """Fill ``out2`` (P, 3) float32 with ``lut[c, rgb2[p, c]]`` (``lut`` (3, 256) float32): the
    same table reads as :func:`mmnst_path.stain.od_from_rgb`'s numpy path, in one pass."""
    _od_kernel(rgb2, lut, out2)
