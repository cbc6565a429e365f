"""Granule features of the pigment pixel classifier (issue #14): a granule's own colour and the
density of granules around it.

Fine dusty melanin (0.3-0.8 µm granules), sparse granules and granule chains along spindle cells
are faint: their OD adds little to what lies under them (a hematoxylin nucleus, cytoplasm, the
glass tint of a yellow-balanced scan), so the hue of the pixel (``u_r``, ``u_b`` of
:func:`mmnst_path.classify.pigment.pigment_features`) is mostly the hue of what is under the
granule. These columns describe the granule itself:

=====================  =======================================================================
``gran_ex_u_r``        red and blue shares of the OD *excess* of the pixel over the per-channel
``gran_ex_u_b``        minimum within ``cluster_um`` (the granule minus its surroundings: the
                       tint and the stain under it cancel; melanin stays brown-black, a
                       hematoxylin speck stays blue)
``gran_ex_log``        log10 of the norm of that excess (+ 0.02): how much darker than its
                       surroundings the pixel is
``gran_density``       local maxima of the total OD (the top within 0.6 µm and >= 0.05 OD above
                       the minimum within ``granule_um``) per µm² in a Gaussian window of
                       ``context_um``: a dusty cloud holds many, a DAB-filled nucleus or a
                       smooth cytoplasm few
=====================  =======================================================================

Every filter reads at most ``max(cluster_um, granule_um)`` (disk) or ``granule_um`` (disk) plus the
``context_um`` Gaussian around a pixel: within the reach of the other pixel features
(:func:`mmnst_path.classify._pigment_bands.feature_reach_px`, tested), so the windows and
bands of :func:`~mmnst_path.classify.pigment.pigment_probability` need no more halo.
ODs are log10; lengths in µm, converted with the tile's pixel size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from ..detect._morphology import _disk_extreme, _gaussian_at
from ..detect._pigment_core import _disk_of, nonzero_rc
from ._pigment_at import disk_extreme_at
from .model import FeatureSpec

if TYPE_CHECKING:
    from ._pigment_features import PigmentFeatureSettings

__all__: list[str] = []

#: the granule feature columns, in the order :func:`granule_feature_specs` names them
GRANULE_FEATURES = ("gran_ex_u_r", "gran_ex_u_b", "gran_ex_log", "gran_density")

#: radius (µm) of the disk a local maximum of the total OD is the top of
_MAX_UM = 0.6
#: a local maximum is >= this much (log10 OD) above the minimum within ``granule_um``
_MAX_CONTRAST_OD = 0.05


def granule_feature_specs(settings: PigmentFeatureSettings) -> list[FeatureSpec]:
    """Named granule features (:data:`GRANULE_FEATURES`), in column order, with their scales."""
    s = settings
    return [
        FeatureSpec("gran_ex_u_r", "", f"red share of the OD excess over the per-channel minimum within {s.cluster_um} µm"),
        FeatureSpec("gran_ex_u_b", "", f"blue share of the OD excess over the per-channel minimum within {s.cluster_um} µm"),
        FeatureSpec("gran_ex_log", "log10(log10 OD)", f"norm of the OD excess over the minimum within {s.cluster_um} µm"),
        FeatureSpec("gran_density", "1/µm²", f"local maxima of the total OD (top within {_MAX_UM} µm, >= "
                    f"{_MAX_CONTRAST_OD} OD above the minimum within {s.granule_um} µm) per µm², "
                    f"Gaussian window {s.context_um} µm"),
    ]


def granule_reach_px(settings: PigmentFeatureSettings, mpp: float) -> int:
    """Pixels the granule features of a pixel read beyond the fine-scale OD: the excess disk, or
    the maxima's disks plus the density window (scipy's Gaussian radius, 4 sigma)."""
    s = settings
    sigma = s.context_um / mpp
    gauss = int(4.0 * sigma + 0.5) if sigma >= 0.3 else 0
    disk = max(_disk_of(_MAX_UM / mpp).shape[0], _disk_of(s.granule_um / mpp).shape[0]) // 2
    return max(_disk_of(s.cluster_um / mpp).shape[0] // 2, disk + gauss)


def granule_columns(fine: np.ndarray, total: np.ndarray, cand: np.ndarray, settings: PigmentFeatureSettings,
                    mpp: float, wanted: list[str]) -> Iterator[tuple[str, np.ndarray]]:
    """The granule columns of the ``cand`` pixels of one window, in row-major order, as (name, column)
    pairs (only the names of :data:`GRANULE_FEATURES` in ``wanted``, in their order there).

    Parameters
    ----------
    fine : (M, N, 3) float32 ndarray
        The window's OD blurred at ``fine_um`` (log10).
    total : (M, N) float32 ndarray
        Its norm.
    cand : (M, N) bool ndarray
        The pixels whose rows are wanted.
    settings : PigmentFeatureSettings
    mpp : float
        µm per pixel.
    wanted : list of str
    """
    s = settings
    names = [n for n in wanted if n in GRANULE_FEATURES]
    if not names:  # a model without granule columns (every shipped one): nothing per window
        return
    at = nonzero_rc(cand)
    excess = None
    if any(n.startswith("gran_ex_") for n in names):
        disk = _disk_of(s.cluster_um / mpp)
        f = fine[cand]
        floor = np.stack([disk_extreme_at(np.ascontiguousarray(fine[..., c]), disk, at, op="min") for c in range(3)],
                         axis=1)
        excess = np.maximum(f - floor, 0.0)
    norm = None if excess is None else np.sqrt(np.einsum("kc,kc->k", excess, excess))
    for name in names:
        if name == "gran_density":
            tot = np.ascontiguousarray(total, dtype=np.float32)
            top = _disk_extreme(tot, _disk_of(_MAX_UM / mpp), op="max")
            low = _disk_extreme(tot, _disk_of(s.granule_um / mpp), op="min")
            peaks = ((tot >= top) & (tot - low >= _MAX_CONTRAST_OD)).astype(np.float32)
            yield name, (_gaussian_at(peaks, s.context_um / mpp, at) / (mpp * mpp)).astype(np.float32)
        elif excess is not None and norm is not None:
            if name == "gran_ex_log":
                yield name, np.log10(norm + 0.02).astype(np.float32)
            else:
                yield name, (excess[:, 0 if name == "gran_ex_u_r" else 2] / np.maximum(norm, 1e-6)).astype(np.float32)
