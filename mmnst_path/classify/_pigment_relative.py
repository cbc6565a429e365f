"""Brown-body features read relative to the tile's own nuclei (opt-in columns of the body model).

A saturated DAB-positive nucleus and a smooth melanin disc can have the same colour; what differs
is context. A Ki67-positive nucleus has the size of the tile's other nuclei and a darkness not far
from theirs; a packed melanin mass can be several nuclei large and far darker than any nucleus of
the same section. Read relative to the tile, these features do not depend on the section's
thickness, the scanner's white balance or the magnification the way absolute thresholds do.

The tile's nuclear reference (:func:`nuclear_reference`) is measured on its hematoxylin-dominant
blobs (the unstained nuclei): their median area and their median total OD. A tile without enough of
them (fewer than :data:`MIN_BLOBS`) gets the fixed reference :data:`FALLBACK` (a 40 µm² nucleus of
0.5 OD), so a row is always defined.

The columns are computed only for a body model that was trained on them (its ``feature_names``
hold any of :data:`RELATIVE_FEATURES`): the shipped model does not, and its inputs and outputs are
unchanged.
"""

from __future__ import annotations

import math

import numpy as np

#: the relative body feature columns (appended after the image and model columns)
RELATIVE_FEATURES = ("rel_dark", "rel_area", "sat_share")

#: descriptions of :data:`RELATIVE_FEATURES` (unit, text), for the model file's feature specs
RELATIVE_FEATURE_TEXT = {
    "rel_dark": ("log10 ratio", "the body's mean total OD over the median total OD of the tile's hematoxylin "
                                "nuclei (each + 0.02): how much darker than the tile's own nuclei"),
    "rel_area": ("log10 ratio", "the body's area over the median area of the tile's hematoxylin nuclei"),
    "sat_share": ("", "share of the body's pixels with an RGB channel at >= 1.4 OD (the camera's floor "
                      "region, 10 of 255 or darker)"),
}

#: hematoxylin concentration (log10 OD, 1 µm box mean) of a nucleus pixel of the reference
H_NUCLEUS = 0.2
#: nucleus area range (µm²) of the reference blobs
AREA_RANGE = (8.0, 400.0)
#: fewer reference blobs than this: :data:`FALLBACK`
MIN_BLOBS = 5
#: (median area µm², median total OD) used when the tile has too few hematoxylin nuclei
FALLBACK = (40.0, 0.5)
#: per-channel OD from which a pixel counts as near the camera's floor
SAT_OD = 1.4


def nuclear_reference(total: np.ndarray, hematoxylin: np.ndarray, brown: np.ndarray,
                      mpp: float) -> tuple[float, float]:
    """(median area µm², median total OD) of the tile's hematoxylin nuclei.

    Parameters
    ----------
    total : (M, N) float32 ndarray
        Norm of the RGB OD.
    hematoxylin, brown : (M, N) float32 ndarray
        Concentrations of the two-stain unmixing (log10 OD).
    mpp : float
        µm per pixel.

    Returns
    -------
    (float, float)
        The reference, or :data:`FALLBACK` with fewer than :data:`MIN_BLOBS` blobs.
    """
    from scipy import ndimage as ndi

    from ..detect._morphology import _label

    k = max(1, round(1.0 / mpp)) | 1
    h = ndi.uniform_filter(hematoxylin.astype(np.float32), size=k, mode="nearest")
    b = ndi.uniform_filter(brown.astype(np.float32), size=k, mode="nearest")
    nuc = (h >= H_NUCLEUS) & (h >= 2.0 * b)
    labels, n = _label(nuc)
    if n < MIN_BLOBS:
        return FALLBACK
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:] * (mpp * mpp)
    keep = (area >= AREA_RANGE[0]) & (area <= AREA_RANGE[1])
    if int(keep.sum()) < MIN_BLOBS:
        return FALLBACK
    on = np.concatenate([[False], keep])[labels]
    return float(np.median(area[keep])), float(np.median(total[on]))


def relative_columns(x_log_area: np.ndarray, x_log_dark: np.ndarray, sat_share: np.ndarray,
                     reference: tuple[float, float]) -> np.ndarray:
    """(n, 3) float32 :data:`RELATIVE_FEATURES` of bodies with ``log_area`` and ``log_dark`` columns
    (:data:`~mmnst_path.classify._pigment_bodies.OBJECT_FEATURES`), their saturated share, and the
    tile's :func:`nuclear_reference`."""
    area_ref, dark_ref = reference
    rel_dark = x_log_dark - math.log10(dark_ref + 0.02)
    rel_area = x_log_area - math.log10(max(area_ref, 1e-6))
    return np.stack([rel_dark, rel_area, sat_share], axis=1).astype(np.float32)


def saturated_share(labels: np.ndarray, n: int, od: np.ndarray) -> np.ndarray:
    """(n,) share of each body's pixels (labels 1..n of ``labels``) with any RGB OD channel >= :data:`SAT_OD`."""
    idx = np.flatnonzero(labels.ravel() > 0)
    lab = labels.ravel()[idx]
    sat = (od.reshape(-1, 3)[idx] >= SAT_OD).any(axis=1).astype(np.float64)
    cnt = np.maximum(np.bincount(lab, minlength=n + 1)[1:], 1)
    return (np.bincount(lab, weights=sat, minlength=n + 1)[1:] / cnt).astype(np.float32)
