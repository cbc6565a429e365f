"""Brown-body features of bounded reach for the pigment pixel classifier (issues #14, #16).

The ``blob_*`` columns (:mod:`._pigment_bodies`) describe the whole 8-connected brown body a
pixel lies in, however far it runs: a tile edge that cuts a body changes them, so no finite halo
makes a model that reads them tile-invariant (session 37 H10). The ``body_*`` columns here
measure the same things -- how much brown lies around the pixel, how filled and how even it is,
and how much of it rings a hole -- from the brown pixels within a fixed reach only: normalised
Gaussians of ``body_um`` (truncated at 4 sigma, as every blur of the pixel features) over the
brown mask, and holes that are non-brown pixels with a brown pixel within ``hole_um`` on each of
their four axis sides. A pixel's values read the image within
:func:`bounded_reach_px` of it (plus the fine-scale OD's own blur), so a tile whose halo covers
that gives the values one whole-slide image would (bit-identical: each blur is a sum over the
same pixels in the same order, :func:`~mmnst_path.detect._morphology._gaussian_at`).

Speed (session 38 H9): the hole test is two compiled sweeps over the rows (:func:`_enclosed_py`;
H4's four directional numpy scans, :func:`enclosed_reference`, took ~0.27 s of the pigment stage
on CMU-1's six tiles, the sweeps ~0.03 s) and the Gaussians go through
:func:`._pigment_gauss.gaussian_at` (four taps a pass). Both give the same values bit for bit
(tests/classify/test_pigment_reach_kernels.py), so ``pigment_he.mmnst`` 2 reads the columns it was
trained on.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..detect._morphology import compiled_kernel
from ..detect._pigment_core import nonzero_rc
from ._pigment_gauss import gaussian_at

__all__: list[str] = []

#: the bounded body columns, in this order (:func:`bounded_body_columns`)
BOUNDED_FEATURES = ("body_log_area", "body_fill", "body_cv", "body_holes")

_KERNEL: dict[str, Any] = {}


def _gauss_px(sigma_px: float) -> int:
    """Pixels a Gaussian of ``sigma_px`` reads on each side (truncated at 4 sigma; 0: no blur)."""
    return int(4.0 * sigma_px + 0.5) if sigma_px >= 0.3 else 0


def hole_px(hole_um: float, mpp: float) -> int:
    """Pixels a hole test looks along each axis (at least 1)."""
    return max(1, math.ceil(hole_um / mpp))


def bounded_reach_px(body_um: float, hole_um: float, mpp: float) -> int:
    """Pixels beyond the brown mask that a pixel's ``body_*`` values read: the body Gaussian's
    radius plus the hole test's reach (a blurred hole pixel looks ``hole_um`` further)."""
    return _gauss_px(body_um / mpp) + hole_px(hole_um, mpp)


def _enclosed_py(brown, reach, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """:func:`enclosed_reference` in two sweeps over the rows of the (M, N) bool ``brown`` into
    ``out`` (M, N) bool: per column the row of the last brown pixel above (top-down sweep) and of
    the next one below (bottom-up sweep), per row the column of the last brown pixel left and of
    the next one right; a non-brown pixel stays True when each lies at most ``reach`` away (none
    counts as beyond the image, as the reference's sentinel)."""
    m, n = brown.shape
    far = reach + 1
    edge = np.empty(n, np.int64)
    for j in range(n):
        edge[j] = -far  # no brown above yet
    for i in range(m):
        row = brown[i]
        hole = out[i]
        last = -far  # no brown left yet
        for j in range(n):
            if row[j]:
                edge[j] = i
                last = j
                hole[j] = False
            else:
                hole[j] = j - last <= reach and i - edge[j] <= reach
        nxt = n - 1 + far  # no brown right yet
        for j in range(n - 1, -1, -1):
            if row[j]:
                nxt = j
            elif nxt - j > reach:
                hole[j] = False
    for j in range(n):
        edge[j] = m - 1 + far  # no brown below yet
    for i in range(m - 1, -1, -1):
        row = brown[i]
        hole = out[i]
        for j in range(n):
            if row[j]:
                edge[j] = i
            elif edge[j] - i > reach:
                hole[j] = False


def enclosed_reference(brown: np.ndarray, reach: int) -> np.ndarray:
    """:func:`enclosed` with four directional numpy scans (session 38 H4's code: the reference
    the compiled sweeps are held to, and the path without numba)."""
    out = ~brown
    for axis in (0, 1):
        n = brown.shape[axis]
        pos = np.arange(n, dtype=np.int64).reshape((-1, 1) if axis == 0 else (1, -1))
        for flip in (False, True):
            b = np.flip(brown, axis) if flip else brown
            last = np.maximum.accumulate(np.where(b, pos, -(reach + 1) - n), axis=axis)  # last brown at or before
            near = (pos - last) <= reach
            out &= np.flip(near, axis) if flip else near
    return out


def enclosed(brown: np.ndarray, reach: int) -> np.ndarray:
    """(M, N) bool: the non-brown pixels with a brown pixel at most ``reach`` pixels away on each
    of their four axis sides (left, right, above, below): the inside of a ring or a gap in a body,
    seen only ``reach`` pixels away (the image border counts as no brown). With numba two compiled
    sweeps (:func:`_enclosed_py`), else :func:`enclosed_reference`: the same mask (tested)."""
    if reach < 1:
        msg = f"reach must be at least 1 pixel, got {reach}"
        raise ValueError(msg)
    kern = compiled_kernel(_KERNEL, _enclosed_py) if brown.ndim == 2 and brown.size > 0 else None
    if kern is None:
        return enclosed_reference(brown, reach)
    out = np.empty(brown.shape, bool)
    kern(np.ascontiguousarray(brown, dtype=bool), int(reach), out)
    return out


def bounded_body_columns(total: np.ndarray, brown: np.ndarray, cand: np.ndarray, mpp: float, *,
                         body_um: float, hole_um: float, names: Any = BOUNDED_FEATURES
                         ) -> list[tuple[str, np.ndarray]]:
    """The ``body_*`` values of the ``cand`` pixels (row-major order), 0 off the brown mask.

    Parameters
    ----------
    total : (M, N) float32 ndarray
        Total fine-scale OD (the norm the brown mask was taken from).
    brown : (M, N) bool ndarray
        Brown pixels (:func:`._pigment_bodies._brown_mask`).
    cand : (M, N) bool ndarray
        The pixels whose values are returned.
    mpp : float
        Pixel size, µm.
    body_um, hole_um : float
        Gaussian sigma of the body measures and the reach of the hole test, µm.
    names : sequence of str
        The columns wanted (of :data:`BOUNDED_FEATURES`).

    Returns
    -------
    list of (name, (K,) float32 ndarray)
        ``body_log_area``: log10 of the brown area (µm²) the Gaussian of ``body_um`` weighs
        around the pixel (its brown share x 2 pi sigma²); ``body_fill``: the brown share within
        ``body_um / 2`` (1: inside a filled body); ``body_cv``: coefficient of variation of the
        total OD over the brown pixels, Gaussian-weighted; ``body_holes``: the weighted share of
        hole pixels (:func:`enclosed`) among the brown and hole pixels around.
    """
    if body_um <= 0 or hole_um <= 0:
        msg = f"body_um and hole_um must be > 0, got {body_um} and {hole_um}"
        raise ValueError(msg)
    wanted = [name for name in BOUNDED_FEATURES if name in set(names)]
    k = int(np.count_nonzero(cand))
    out = {name: np.zeros(k, np.float32) for name in wanted}
    on = brown & cand
    if k and wanted and on.any():
        sigma = body_um / mpp
        reach = bounded_reach_px(body_um, hole_um, mpp)
        m, n = brown.shape
        rows, cols = np.flatnonzero(on.any(axis=1)), np.flatnonzero(on.any(axis=0))
        box = (slice(max(int(rows[0]) - reach, 0), min(int(rows[-1]) + 1 + reach, m)),
               slice(max(int(cols[0]) - reach, 0), min(int(cols[-1]) + 1 + reach, n)))
        b_box = brown[box]
        b = b_box.astype(np.float32)
        at = nonzero_rc(on[box])
        a = gaussian_at(b, sigma, at).astype(np.float64)
        safe = np.maximum(a, 1e-9)
        vals: dict[str, np.ndarray] = {}
        if "body_log_area" in wanted:
            vals["body_log_area"] = np.log10(safe * (2.0 * math.pi * sigma * sigma) * mpp * mpp)
        if "body_fill" in wanted:
            vals["body_fill"] = gaussian_at(b, sigma / 2.0, at).astype(np.float64)
        if "body_cv" in wanted:
            t = np.zeros(b_box.shape, np.float32)  # the OD on the brown pixels, 0 elsewhere
            np.copyto(t, total[box], where=b_box)
            mt = gaussian_at(t, sigma, at).astype(np.float64) / safe
            mt2 = gaussian_at(t * t, sigma, at).astype(np.float64) / safe
            vals["body_cv"] = np.sqrt(np.maximum(mt2 - mt * mt, 0.0)) / (mt + 0.05)
        if "body_holes" in wanted:
            h = gaussian_at(enclosed(b_box, hole_px(hole_um, mpp)).astype(np.float32), sigma, at).astype(np.float64)
            vals["body_holes"] = h / np.maximum(h + a, 1e-9)
        on_rows = on[cand]  # which candidate rows lie on the brown mask (row-major order)
        for name in wanted:
            out[name][on_rows] = vals[name].astype(np.float32)
    return [(name, out[name]) for name in wanted]
