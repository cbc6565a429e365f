"""Brown-body features of the pigment pixel classifier (:mod:`mmnst_path.classify.pigment`).

A brown body is a set of 8-connected pixels of total OD >= 0.35 within 30° of DAB: a DAB-filled
nucleus is a compact, filled, ellipse-shaped body of 20-100 µm²; melanin forms rings around
nuclei, irregular clusters and sheets. Each body's features (``blob_*``) are computed once per
tile, as a table indexed by the body's label, from sums accumulated in one raster pass.
"""

from __future__ import annotations

import math

import numpy as np

from ..detect._pigment_core import _hole_labels

#: brown reference (unit RGB OD of the H-DAB preset's DAB) and the cone around it that holds DAB,
#: melanin (3-12° from DAB, towards grey) and saturated, neutral-looking DAB
_BROWN = np.array([0.268, 0.570, 0.776]) / np.linalg.norm([0.268, 0.570, 0.776])
_BROWN_CONE_DEG = 30.0
_BODY_OD = 0.35


#: the body feature columns, in the column order of :func:`_body_table`
BODY_FEATURES = ("blob_log_area", "blob_fill", "blob_cv", "blob_holes")


def _brown_bodies(total: np.ndarray, fine: np.ndarray, mpp: float, cand: np.ndarray) -> dict[str, np.ndarray]:
    """Object features of the brown body (8-connected brown pixels: total OD >= 0.35 within 30° of
    DAB) each candidate pixel lies in: a DAB-filled nucleus is a compact, filled, ellipse-shaped
    body of 20-100 µm²; melanin forms rings around nuclei, irregular clusters and sheets."""
    labels, table = _body_table(total, fine, mpp)
    lc = labels[cand]
    return {name: table[lc, i] for i, name in enumerate(BODY_FEATURES)}


def _body_table(total: np.ndarray, fine: np.ndarray, mpp: float) -> tuple[np.ndarray, np.ndarray]:
    """(labels (M, N) of the brown bodies, 0 off them; (n + 1, 4) float32 body features of each
    label, columns :data:`BODY_FEATURES`, row 0 zeros): the features of a pixel are
    ``table[labels[pixel]]``."""
    from scipy import ndimage as ndi

    cos = np.einsum("...c,c->...", fine, _BROWN.astype(np.float32)) / np.maximum(total, 1e-6)
    brown = (total >= _BODY_OD) & (cos >= math.cos(math.radians(_BROWN_CONE_DEG)))
    labels, n = ndi.label(brown, structure=np.ones((3, 3), bool))
    table = np.zeros((n + 1, len(BODY_FEATURES)), np.float32)
    if n == 0:
        return labels, table
    sums = _label_sums(labels, total, n)  # count, Σr, Σc, Σr², Σc², Σrc, Σt, Σt² of each body
    cnt = sums[:, 0]
    safe = np.maximum(cnt, 1.0)
    mr, mc = sums[:, 1] / safe, sums[:, 2] / safe
    vrr = np.maximum(sums[:, 3] / safe - mr * mr, 0.0) + 1.0 / 12
    vcc = np.maximum(sums[:, 4] / safe - mc * mc, 0.0) + 1.0 / 12
    vrc = sums[:, 5] / safe - mr * mc
    det = np.maximum(vrr * vcc - vrc * vrc, 1e-12)
    ellipse = 4.0 * math.pi * np.sqrt(det)  # area of the ellipse with the body's second moments
    mt = sums[:, 6] / safe
    sd = np.sqrt(np.maximum(sums[:, 7] / safe - mt * mt, 0.0))
    # the holes of each body (what ndi.binary_fill_holes would fill: 4-connected non-brown
    # components off the image border), attributed to the body around them
    hole_lab, is_hole = _hole_labels(brown)
    hole_px = is_hole[hole_lab]
    if hole_px.any():
        # the largest label in each hole pixel's 3x3 neighbourhood (ndi.grey_dilation of the
        # labels, at the hole pixels only: they never lie on the image border)
        hr, hc = np.nonzero(hole_px)
        grown = labels[hr, hc]
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                grown = np.maximum(grown, labels[hr + dr, hc + dc])
        at = hole_lab[hr, hc]
        owner = np.zeros(hole_lab.max() + 1, np.int64)
        owner[at] = grown  # any neighbour label of each hole
        for _ in range(2):  # propagate the owner through the hole
            owner[at] = np.maximum(owner[at], grown)
        hcount = np.bincount(owner[at], minlength=n + 1).astype(np.float64)[: n + 1]
    else:
        hcount = np.zeros(n + 1)
    # per body, in float64, rounded to float32 once (the values the per-pixel columns held)
    table[1:, 0] = np.log10(cnt[1:] * mpp * mpp)
    table[1:, 1] = np.minimum(cnt / ellipse, 2.0)[1:]
    table[1:, 2] = (sd / (mt + 0.05))[1:]
    table[1:, 3] = (hcount / np.maximum(cnt + hcount, 1.0))[1:]
    return labels, table


def _label_sums(labels: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """(n + 1, 8) float64 sums over the pixels of each label > 0 of ``labels`` (M, N): count, row,
    col, row², col², row·col, value, value², each accumulated in raster order (row 0 zeros).

    With numba one pass of :func:`mmnst_path.detect._numba.label_sums` (no per-pixel
    temporaries); else ``np.bincount`` over the labelled pixels, which adds in the same order,
    so the sums are the same to the bit (tested)."""
    from ..detect._morphology import _numba_kernels

    out = np.zeros((n + 1, 8), np.float64)
    kern = _numba_kernels()
    if kern is not None:
        kern.label_sums(np.ascontiguousarray(labels), np.ascontiguousarray(values), out)
        return out
    idx = np.flatnonzero(labels.ravel() > 0)
    lab = labels.ravel()[idx]
    rr = (idx // labels.shape[1]).astype(np.float64)
    cc = (idx % labels.shape[1]).astype(np.float64)
    t = values.ravel()[idx].astype(np.float64)
    for i, w in enumerate((None, rr, cc, rr * rr, cc * cc, rr * cc, t, t * t)):
        out[:, i] = np.bincount(lab, weights=w, minlength=n + 1)[: n + 1]
    out[0] = 0.0
    return out
