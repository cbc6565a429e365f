"""Is the pixel size plausible? An estimate of µm per pixel from the image itself, before detection.

Every number the tool reports (Ki67 hot spot area, melanin %, necrosis mm², the nucleus size
rules) depends on the pixel size, and a tile carries none: the user gives it (``--mpp``). Nuclei
have a physical size, so the scale (pixels) at which the image's dark blobs are strongest says
what pixel size the image was scanned at. Unlike the detected nuclei's areas (session 34 H11), the
estimate is read before the detector's physical size prior (which splits large nuclei and drops
small ones, compressing a 4x area error to 1.0-1.7x).

Method: the optical density of the red channel (haematoxylin, DAB and melanin all absorb red;
eosin hardly does), a scale-normalised Laplacian-of-Gaussian scale space (σ = 1-45 px, four
scales an octave, computed on a 2x2-mean pyramid so that each octave costs a quarter of the one
before), the :data:`RESPONSE_QUANTILE` th percentile of the blob response at each scale, and the
smallest scale σ* at which it peaks (its first prominent maximum: larger structures, glands and
clusters of nuclei, peak at larger σ). A disc of diameter d peaks at
σ = d / (2√2), so the image's typical nucleus measures 2√2 σ* pixels and the pixel size is
:data:`NUCLEUS_DIAMETER_UM` / (2√2 σ*). The diameter is the dev images' own figure (session 35
H4: EndoNuke, BRCA-M2C, Kather, generated tiles at their known pixel sizes and resampled 2x
and 0.5x), with its spread (:data:`NUCLEUS_DIAMETER_SPREAD`: one sd is x1.32, so a 2x error in
the pixel size given is flagged on about 2 dev images in 3 and a right one on about 1 in 30;
benchmarks/README.md "Pixel size from the image").

A QC check only: :func:`scale_metrics` adds ``mpp_estimate`` and ``mpp_suspect`` to a result's
metrics; no measured value depends on it and it never fails a run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "MPP_SUSPECT_FACTOR",
    "NUCLEUS_DIAMETER_SPREAD",
    "NUCLEUS_DIAMETER_UM",
    "ScaleEstimate",
    "estimate_mpp",
    "scale_metrics",
    "scale_patches",
]

#: the typical nucleus's diameter (µm) that turns the blob scale into a pixel size: the geometric
#: mean of 2√2 σ* · mpp over the dev images at their known pixel size (session 35 H4)
NUCLEUS_DIAMETER_UM = 5.6287
#: the dev images' spread of that diameter: one standard deviation, as a factor (2 ** sd of log2)
NUCLEUS_DIAMETER_SPREAD = 1.3179
#: the claimed pixel size is suspect when it and the estimate differ by more than this factor
MPP_SUSPECT_FACTOR = 1.7
#: the percentile of the blob response read at each scale
RESPONSE_QUANTILE = 99.0
#: a maximum of the response curve counts when the curve falls below this share of it at a larger σ
PEAK_DROP = 0.95
#: the scale-space: σ (level-0 pixels) = 2 ** (k / 4) for k = 0 .. 22 (1-45 px)
LOG2_SIGMAS = np.arange(0.0, 5.51, 0.25)
#: an image side (pixels) a tile is read whole up to; a larger image (a slide) is sampled
WHOLE_IMAGE_PX = 2048
#: the side (pixels, level 0) and number of the tissue patches a slide is sampled by
PATCH_PX = 512
PATCH_COUNT = 4
#: the margin of each pyramid level left out of the percentile (the filters' reflected border), as a
#: share of the level's shorter side
BORDER_SHARE = 0.125


@dataclass(frozen=True)
class ScaleEstimate:
    """The pixel size an image's nuclei imply.

    Attributes
    ----------
    mpp : float
        Estimated level-0 µm per pixel (NaN: the image held no blob scale to read).
    low, high : float
        The estimate divided and multiplied by :data:`NUCLEUS_DIAMETER_SPREAD` (µm/px): one
        standard deviation of the dev images' nucleus diameter.
    sigma_px : float
        The blob scale σ* (level-0 pixels) at which the response peaks.
    """

    mpp: float
    low: float
    high: float
    sigma_px: float


def _red_od(rgb: np.ndarray) -> np.ndarray:
    """(h, w) float32 optical density (natural log) of the red channel of an (h, w, 3) uint8 image."""
    red = np.asarray(rgb)[..., 0].astype(np.float32)
    return -np.log((red + 1.0) / 256.0)


def _halve(img: np.ndarray) -> np.ndarray:
    """The 2x2 mean of an image (odd last row / column dropped)."""
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    x = img[:h, :w]
    return 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])


def response_curve(rgb: np.ndarray) -> np.ndarray:
    """The :data:`RESPONSE_QUANTILE` th percentile of the scale-normalised blob response
    -σ² ∇²G_σ * OD at each σ of :data:`LOG2_SIGMAS` (level-0 pixels; NaN where the image is too
    small for that scale): σ in [√2, 2√2) · 2^o px is read at pyramid level o (a 2^o x 2^o mean)."""
    from scipy import ndimage as ndi

    level = _red_od(rgb)
    out = np.full(LOG2_SIGMAS.size, np.nan)
    octave = 0
    for i, l2s in enumerate(LOG2_SIGMAS):
        o = max(0, math.floor(l2s - 0.5))
        while octave < o:
            level, octave = _halve(level), octave + 1
        s = 2.0 ** (l2s - octave)  # σ in this level's pixels
        side = min(level.shape)
        if side < 6 * s:  # too small an image for this scale
            break
        r = ndi.gaussian_laplace(level, s, mode="reflect")
        m = int(BORDER_SHARE * side)
        core = r[m:level.shape[0] - m, m:level.shape[1] - m] if m else r
        out[i] = -(s * s) * float(np.percentile(core, 100.0 - RESPONSE_QUANTILE))  # blobs: negative LoG
    return out


def _peak_log2_sigma(curve: np.ndarray) -> float:
    """log2 σ of the curve's first prominent maximum: the smallest σ that is a local maximum after
    which the curve falls below :data:`PEAK_DROP` of it before it rises above it (nuclei are the
    smallest dark blobs; glands and nucleus clusters peak at larger σ). The global maximum when no
    maximum is prominent; NaN under 3 finite scales."""
    finite = np.isfinite(curve)
    if finite.sum() < 3:
        return math.nan
    c, l2s = curve[finite], LOG2_SIGMAS[finite]
    for i in range(1, c.size - 1):
        if c[i] >= c[i - 1] and c[i] >= c[i + 1]:
            j = i + 1
            while j < c.size and c[j] <= c[i]:
                if c[j] < PEAK_DROP * c[i]:
                    return float(l2s[i])
                j += 1
    return float(l2s[int(np.argmax(c))])


def estimate_mpp(patches: Sequence[np.ndarray]) -> ScaleEstimate:
    """The pixel size (µm/px) the nuclei of level-0 RGB patches imply.

    Parameters
    ----------
    patches : sequence of (h, w, 3) uint8 ndarray
        Level-0 pixels: a whole tile, or a few tissue patches of a slide (their response curves
        are averaged).

    Returns
    -------
    ScaleEstimate
        NaN figures when no patch is large enough (under 18 px a side).
    """
    curves = [response_curve(p) for p in patches if min(np.shape(p)[:2]) >= 18]
    l2s = math.nan
    if curves:  # the patches' mean curve, over the patches large enough for each scale
        stack = np.stack(curves)
        n = np.isfinite(stack).sum(axis=0)
        mean = np.where(n > 0, np.nansum(stack, axis=0) / np.maximum(n, 1), np.nan)
        l2s = _peak_log2_sigma(mean)
    if not math.isfinite(l2s):
        return ScaleEstimate(math.nan, math.nan, math.nan, math.nan)
    sigma = 2.0 ** l2s
    mpp = NUCLEUS_DIAMETER_UM / (2.0 * math.sqrt(2.0) * sigma)
    return ScaleEstimate(mpp, mpp / NUCLEUS_DIAMETER_SPREAD, mpp * NUCLEUS_DIAMETER_SPREAD, sigma)


def scale_patches(reader: Any, mask: np.ndarray, scale: tuple[float, float]) -> list[np.ndarray]:
    """The level-0 pixels the estimate reads: a tile whole (sides up to :data:`WHOLE_IMAGE_PX`),
    else :data:`PATCH_COUNT` tissue patches of :data:`PATCH_PX` a side (``mask``: the tissue
    thumbnail, ``scale``: level-0 pixels per thumbnail pixel). Never resampled: the claimed pixel
    size is what is checked, so it must not choose the pixels."""
    from .geometry import Box
    from .stain.places import tissue_patches

    h, w = (int(v) for v in reader.shape[:2])
    if max(h, w) <= WHOLE_IMAGE_PX:
        return [np.asarray(reader.read_region(Box(0, 0, h, w), level=0))]
    # tissue_patches sizes patches in µm at a pixel size: a unit pixel size makes them pixels
    picked = tissue_patches(reader, mask, scale, 1.0, mpp=1.0, size_um=float(PATCH_PX), count=PATCH_COUNT)
    return [rgb for rgb, _ in picked]


def scale_metrics(estimate: ScaleEstimate, mpp: float | None) -> dict[str, Any]:
    """The pixel-size QC metrics of a result: ``mpp_estimate`` (µm/px, NaN when unknown) and
    ``mpp_suspect`` (True when the pixel size used, ``mpp`` µm/px, and the estimate differ by more
    than :data:`MPP_SUSPECT_FACTOR`)."""
    est = float(estimate.mpp)
    ok = mpp is not None and math.isfinite(est) and est > 0 and mpp > 0
    ratio = float(mpp) / est if ok and mpp is not None else math.nan
    suspect = bool(ok and max(ratio, 1.0 / ratio) > MPP_SUSPECT_FACTOR)
    return {"mpp_estimate": est, "mpp_suspect": suspect}
