"""Per-nucleus measurements of a label image: centroids, moments, stain means and maxima, crack
length (:func:`_measure`, :func:`_label_max`, :func:`_perimeter_edges`).

Sums are ``np.bincount`` over the labelled pixels in raster order; with numba (the default
dependency; :data:`._morphology.BACKEND`) one compiled pass per quantity group makes the same
float64 additions in the same order, so the results are bit-identical
(tests/detect/test_nucleus_measure.py) and no per-pixel index arrays are built.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._morphology import _numba_kernels


def _kernels(labels: np.ndarray) -> Any:
    """The numba kernels for a 2-D integer label image, or None (numba off or missing)."""
    if labels.ndim != 2 or labels.dtype.kind not in "iu" or labels.size == 0:
        return None
    return _numba_kernels()


def _label_max(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Per-label maximum of ``values``, shape (n + 1,) float32 (index 0 = background, -inf if empty).

    ``np.maximum.at`` is linear in the pixels (``ndimage.maximum`` sorts them); with numba one
    pass of :func:`._numba.label_max` (the same maxima, NaN and ties as ``np.maximum``).
    """
    out = np.full(n + 1, -np.inf, dtype=np.float32)
    kern = _kernels(labels) if values.shape == labels.shape else None
    if kern is not None:
        kern.label_max(np.ascontiguousarray(labels), np.ascontiguousarray(values, dtype=np.float32), out)
        return out
    np.maximum.at(out, labels.ravel(), values.ravel().astype(np.float32, copy=False))
    return out


def _perimeter_edges(labels: np.ndarray, n: int) -> np.ndarray:
    """Number of pixel edges between each label and anything else (crack length), shape (n + 1,)."""
    counts = np.zeros(n + 1, dtype=np.int64)
    kern = _kernels(labels)
    if kern is not None:
        kern.perimeter_edges(np.ascontiguousarray(labels), counts)
        return counts
    padded = np.pad(labels, 1)
    for a, b in ((padded[1:, :], padded[:-1, :]), (padded[:, 1:], padded[:, :-1])):
        diff = a != b
        counts += np.bincount(a[diff], minlength=n + 1)
        counts += np.bincount(b[diff], minlength=n + 1)
    return counts


def _measure(
    labels: np.ndarray, n: int, hem: np.ndarray, dab: np.ndarray, mpp: float, origin: tuple[int, int] = (0, 0)
) -> dict[str, np.ndarray]:
    """The :class:`~mmnst_path.detect.nuclei.Nuclei` features of a label image (pixel
    coordinates in the frame of ``origin``: the same float64 operations as on the larger image
    the planes were cut from, so bit-identical centroids and moments)."""
    kern = _kernels(labels) if hem.dtype == dab.dtype == np.float32 else None
    area: np.ndarray
    sr: np.ndarray
    sc: np.ndarray
    srr: np.ndarray
    scc: np.ndarray
    src: np.ndarray
    sd: np.ndarray
    sh: np.ndarray
    if kern is not None:  # one pass: the bincount sums below, added in the same order
        sums = np.zeros((n + 1, 8), np.float64)
        kern.nucleus_sums(np.ascontiguousarray(labels), np.ascontiguousarray(hem), np.ascontiguousarray(dab),
                          int(origin[0]), int(origin[1]), sums)
        area, sr, sc, srr, scc, src, sd, sh = (np.ascontiguousarray(sums[:, k]) for k in range(8))
        dmax = _label_max(dab, labels, n)[1:]
    else:
        ri, ci = np.nonzero(labels)  # sums over the labelled pixels only
        flat = labels[ri, ci]
        rows, cols = (ri + origin[0]).astype(np.float64), (ci + origin[1]).astype(np.float64)
        area = np.bincount(flat, minlength=n + 1).astype(np.float64)
        sr = np.bincount(flat, rows, minlength=n + 1)
        sc = np.bincount(flat, cols, minlength=n + 1)
        srr = np.bincount(flat, rows * rows, minlength=n + 1)
        scc = np.bincount(flat, cols * cols, minlength=n + 1)
        src = np.bincount(flat, rows * cols, minlength=n + 1)
        dab_px = dab[ri, ci]
        sd = np.bincount(flat, dab_px, minlength=n + 1)
        sh = np.bincount(flat, hem[ri, ci], minlength=n + 1)
        dmax = _label_max(dab_px, flat, n)[1:]
    a = np.maximum(area, 1.0)
    r, c = sr / a, sc / a
    # central second moments -> ellipse eigenvalues
    mrr = srr / a - r * r + 1.0 / 12.0
    mcc = scc / a - c * c + 1.0 / 12.0
    mrc = src / a - r * c
    half_tr = 0.5 * (mrr + mcc)
    disc = np.sqrt(np.maximum(0.25 * (mrr - mcc) ** 2 + mrc**2, 0.0))
    l1, l2 = half_tr + disc, np.maximum(half_tr - disc, 0.0)
    ecc = np.sqrt(np.clip(1.0 - l2 / np.maximum(l1, 1e-12), 0.0, 1.0))
    perim = _perimeter_edges(labels, n) * (math.pi / 4.0)
    circ = np.clip(4.0 * math.pi * area / np.maximum(perim, 1.0) ** 2, 0.0, 1.0)
    return {
        "row": r[1:],
        "col": c[1:],
        "area_um2": area[1:] * mpp * mpp,
        "dab_od_mean": (sd / a)[1:].astype(np.float32),
        "dab_od_max": dmax,
        "hematoxylin_od_mean": (sh / a)[1:].astype(np.float32),
        "circularity": circ[1:].astype(np.float32),
        "eccentricity": ecc[1:].astype(np.float32),
    }
