"""Optical density (Beer–Lambert) and converters between the OD scales of other tools.

Convention (QuPath's): for an 8-bit channel value ``I`` and a background (white point) ``I0``,

    OD = -log10(max(I, 1) / I0)

so a pixel as bright as the background has OD 0, and OD is in decadic absorbance units. Pixels
brighter than the background get a small negative OD (no clipping: it is the honest value). Every
threshold in mmnst_path that is called ``*_od`` is on this scale, so QuPath thresholds (for
example a nuclear DAB OD mean >= 0.2) carry over unchanged.

Other tools use other scales; the converters below map our OD to theirs (and back):

=================  ===================================================  =============================
tool               their quantity                                       from our log10 OD
=================  ===================================================  =============================
scikit-image       ``separate_stains`` / ``rgb2hed``:                   ``od / 6`` (exactly:
                   ``-ln(max(I/255, 1e-6)) / -ln(1e-6)`` then clipped    ``ln 10 / ln 1e6 = 1/6``),
                   at 0                                                 see :func:`skimage_from_od`
HistomicsTK        SDA ``-ln((I + 1) / I0) * 255 / ln(I0)``, I0 = 256    ``od * 255 ln10 / ln I0``,
                   (``rgb_to_sda``), a 0–255 scale                       see :func:`sda_from_od`
TIAToolbox         natural-log OD ``-ln(I / 255)`` (``rgb2od``)          ``od * ln 10``,
                                                                        see :func:`ln_od_from_od`
=================  ===================================================  =============================

The converters are pure scale factors; the intensity offset conventions (``max(I, 1)``,
HistomicsTK's ``I + 1``, scikit-image's ``1e-6`` floor and clipping of negative concentrations)
only differ for the darkest values and are documented with each function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import StainError

__all__ = [
    "background_array",
    "ln_od_from_od",
    "od_from_ln_od",
    "od_from_rgb",
    "od_from_sda",
    "od_from_skimage",
    "od_lut",
    "rgb_from_od",
    "sda_from_od",
    "skimage_from_od",
]

#: ``ln(10) / ln(1e6)``: scikit-image stain concentrations per unit of our log10 OD.
SKIMAGE_SCALE = math.log(10.0) / math.log(1e6)

BackgroundLike = float | Sequence[float] | np.ndarray | None


def background_array(background: BackgroundLike) -> np.ndarray:
    """Validate a background (white point) and return it as a (3,) float64 array.

    Parameters
    ----------
    background : float, sequence of 3 floats, (3,) array or None
        Per-channel intensity of empty glass in 8-bit units, in (0, 255]. ``None`` means 255
        for every channel; a scalar applies to all three channels.

    Returns
    -------
    (3,) float64 ndarray
    """
    if background is None:
        return np.full(3, 255.0)
    try:
        arr = np.asarray(background, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"background must be a number or 3 per-channel intensities in (0, 255], got {background!r}"
        raise StainError(msg) from exc
    if arr.ndim == 0:
        arr = np.full(3, float(arr))
    if arr.shape != (3,) or not np.all(np.isfinite(arr)) or np.any(arr <= 0) or np.any(arr > 255):
        msg = (
            "background must be a scalar or 3 per-channel intensities in (0, 255] (8-bit units), "
            f"got {background!r}"
        )
        raise StainError(msg)
    return arr


def od_lut(background: BackgroundLike = None) -> np.ndarray:
    """Lookup table of OD for every 8-bit value of every channel, in float64.

    Parameters
    ----------
    background : float, sequence of 3 floats or None
        White point, see :func:`background_array`.

    Returns
    -------
    (3, 256) float64 ndarray
        ``lut[c, i] = -log10(max(i, 1) / background[c])``.
    """
    bg = background_array(background)
    levels = np.maximum(np.arange(256, dtype=np.float64), 1.0)
    return -np.log10(levels[None, :] / bg[:, None])


def _check_rgb(rgb: np.ndarray, name: str = "rgb") -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        msg = f"{name} must be a uint8 array (8-bit RGB), got dtype {rgb.dtype}"
        raise StainError(msg)
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        msg = f"{name} must have 3 channels in its last axis, shape (..., 3), got shape {rgb.shape}"
        raise StainError(msg)
    return rgb


def od_from_rgb(rgb: np.ndarray, *, background: BackgroundLike = None) -> np.ndarray:
    """Optical density of an 8-bit RGB image (log10, QuPath convention).

    Parameters
    ----------
    rgb : (..., 3) uint8 ndarray
        RGB image, typically (M, N, 3).
    background : float, sequence of 3 floats or None
        Per-channel white point I0 in 8-bit units; ``None`` means 255.

    Returns
    -------
    (..., 3) float32 ndarray
        ``-log10(max(I, 1) / I0)`` per channel, in decadic absorbance units. Values lie in
        ``[log10(1/I0) .. log10(I0)]``, i.e. at most ~2.41 for I0 = 255.

    Notes
    -----
    Computed through a 256-entry lookup table per channel: no logarithm per pixel (one fused
    pass with numba under the stain back end's rules, :func:`~mmnst_path.stain.set_backend`;
    the same float32 table values either way, so the result is bit-identical).

    Examples
    --------
    >>> import numpy as np
    >>> od = od_from_rgb(np.array([[[255, 25, 1]]], dtype=np.uint8))
    >>> np.round(od, 3).tolist()
    [[[-0.0, 1.009, 2.407]]]
    """
    rgb = _check_rgb(rgb)
    lut = od_lut(background).astype(np.float32)
    out = np.empty(rgb.shape, dtype=np.float32)
    n_px = out.size // 3
    kernel = _numba_od(n_px)
    if kernel is not None:  # the same table reads, one pass (numba, when the stain back end uses it)
        kernel(np.ascontiguousarray(rgb).reshape(n_px, 3), lut, out.reshape(n_px, 3))
        return out
    for c in range(3):
        np.take(lut[c], rgb[..., c], out=out[..., c])
    return out


def _numba_od(n_px: int):  # type: ignore[no-untyped-def]
    """The numba OD lookup when :mod:`mmnst_path.stain.deconvolve`'s back end picks numba for
    ``n_px`` pixels (``"auto"``: numba installed and the image large enough), else None."""
    from .deconvolve import _numba_module, _resolve_backend

    if n_px == 0 or _resolve_backend(None, n_px) != "numba":
        return None
    mod = _numba_module()
    return None if mod is None else mod.od_lookup


def rgb_from_od(od: np.ndarray, *, background: BackgroundLike = None) -> np.ndarray:
    """Inverse of :func:`od_from_rgb`: 8-bit RGB from log10 optical density.

    Parameters
    ----------
    od : (..., 3) float ndarray
        Optical density per channel, log10 units.
    background : float, sequence of 3 floats or None
        White point I0 used to make ``od``; ``None`` means 255.

    Returns
    -------
    (..., 3) uint8 ndarray
        ``round(I0 * 10**-od)`` clipped to [0, 255]. Exact inverse for every value >= 1.
    """
    od = np.asarray(od)
    if od.ndim < 1 or od.shape[-1] != 3:
        msg = f"od must have 3 channels in its last axis, shape (..., 3), got shape {od.shape}"
        raise StainError(msg)
    bg = background_array(background).astype(np.float32)
    intensity = bg * np.power(np.float32(10.0), -od.astype(np.float32, copy=False))
    return np.clip(np.rint(intensity), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------------
# converters to the scales of other tools (pure scale factors, valid for OD and concentrations)


def skimage_from_od(od: np.ndarray | float) -> np.ndarray | float:
    """Our log10 OD (or concentration) on scikit-image's ``separate_stains`` scale.

    scikit-image computes ``(log(max(I/255, 1e-6)) / log(1e-6)) @ conv_matrix`` and clips the
    result at 0, so its unit is ``ln(1e6) = 6 ln(10)``: its value is exactly ``od / 6``.
    Concentrations also carry the norm of its (not normalised) stain rows: with our unit
    vectors, ``ours_k = 6 * |skimage_row_k| * skimage_k`` where scikit-image does not clip.
    """
    return np.multiply(od, SKIMAGE_SCALE)


def od_from_skimage(value: np.ndarray | float) -> np.ndarray | float:
    """Inverse of :func:`skimage_from_od`: scikit-image ``separate_stains`` scale to log10 OD."""
    return np.divide(value, SKIMAGE_SCALE)


def sda_from_od(od: np.ndarray | float, *, i0: float = 256.0) -> np.ndarray | float:
    """Our log10 OD on HistomicsTK's 0–255 SDA scale.

    HistomicsTK's ``rgb_to_sda`` computes ``-ln((I + 1) / I0) * 255 / ln(I0)`` with ``I0 = 256``
    by default (``I0`` in its ``I + 1`` units), i.e. ``log10 OD * 255 * ln(10) / ln(I0)``
    (105.88 per OD unit for I0 = 256). The ``+1`` offset means the same pixel gets
    ``-log10((I + 1) / 256)`` as its OD there, which this converter takes as given.

    Parameters
    ----------
    od : float or ndarray
        log10 optical density (or a concentration in log10-OD units).
    i0 : float
        HistomicsTK's ``I_0`` (default 256, its default).
    """
    return np.multiply(od, 255.0 * math.log(10.0) / math.log(i0))


def od_from_sda(sda: np.ndarray | float, *, i0: float = 256.0) -> np.ndarray | float:
    """Inverse of :func:`sda_from_od`: HistomicsTK SDA (0–255 scale) to log10 OD."""
    return np.divide(sda, 255.0 * math.log(10.0) / math.log(i0))


def ln_od_from_od(od: np.ndarray | float) -> np.ndarray | float:
    """Our log10 OD as natural-log OD (TIAToolbox's ``rgb2od`` scale): ``od * ln(10)``."""
    return np.multiply(od, math.log(10.0))


def od_from_ln_od(ln_od: np.ndarray | float) -> np.ndarray | float:
    """Inverse of :func:`ln_od_from_od`: natural-log OD to log10 OD."""
    return np.divide(ln_od, math.log(10.0))
