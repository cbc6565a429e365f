"""Melanin pigment pixels: colour plus darkness plus granularity.

Melanin is brown-black granular pigment (granules 0.5–3 µm) in tumour cells and in
melanophages. On H&E it is the only absorber whose OD rises from red to blue, so an unmixing
into hematoxylin + eosin + melanin isolates it (mode ``"colour"``). Eosin's OD direction is
uncertain exactly in blue (Ruifrok's and QuPath's references are 30° apart), so the melanin
channel is the *lower bound* over a family of eosin hues (:func:`eosin_hypotheses`): a single
assumed eosin either leaks eosin into melanin or hides melanin in eosin (it missed 90 % of the
melanin of ``sample_tiles/he_melanin.tif``). No hue gate is applied to the pixel's raw OD
(a granule over eosin or a nucleus is a mixture, 15–20° from pure melanin); cores above
``colour_min_od`` grow into connected pixels above ``colour_rim_od`` and above
``colour_rim_rel`` of the local peak (granule rims, not the blurred gaps of a cluster). With a brown chromogen (DAB) colour alone cannot tell
them apart: the physically derived melanin vector sits only ~6° from DAB (see
:func:`mmnst_path.stain.melanin_vector`). Mode ``"brown"`` therefore looks at the brown
channel of the plain two-stain deconvolution and keeps a brown pixel as pigment only when it
is

- **granular**: it stands out from a grey opening of radius ``granule_radius_um`` (the
  background without structures narrower than ``2 * granule_radius_um``) by at least
  ``granule_contrast_od`` *and* by a factor ``granule_ratio``, or
- **very dark**: brown OD above ``dark_od`` (off by default),

its OD direction lies within ``max_angle_deg`` of the melanin / brown direction, it is **not
in or on a brown body** (an area brown all over a ``2 * body_radius_um`` disk: a DAB-filled
nucleus, textured or not; a brown ring around a hematoxylin nucleus is cytoplasm and not a
body), and it lies in a **cluster** (``cluster_min_um2`` of pigment within a few µm). Granule
cores are then grown by ``brown_grow_um`` into connected dense brown non-body pixels (granule
rims and dense bands of touching granules; ``ki67_grow_um`` and any brown pixel for the Ki67
exclusion mask), and specks under ``min_area_um2`` are dropped. On the real Ki67 sets of
``../shared/data/ki67`` (no melanin) this marks <= 0.04 % of pixels (before the body and
cluster tests: 1–9 % on BCData, the rims and texture of strong DAB nuclei).

Red chromogens (AEC, Fast Red) are far enough from melanin (14°, 29°) for the 3-stain
deconvolution; they use mode ``"colour"`` with the same darkness and hue gates.

An azure B counterstain (preset ``"AzureB-DAB"``, Kamino & Tam 1991) stains melanin itself:
granules absorb as melanin plus bound azure B and look green-blue. Mode ``"azure"`` unmixes
azure B + DAB and keeps the pixels where both are present in the proportion of stained melanin
(:func:`~mmnst_path.detect._pigment_core.stained_melanin_sector`: ``min(azure B, DAB)`` >=
``azure_min_od`` with ``atan(azure B / DAB)`` within ``atan(azure_binding)``), grown by
``grow_um`` into rims as in colour mode; positive nuclei (DAB, little azure B) and negative
ones (azure B only) lie outside that sector. The Ki67 exclusion mask adds the blurred halo of a
granule over a negative nucleus (more azure B than DAB), within ``grow_um`` of a granule.

All ODs are log10 optical densities (QuPath convention, :func:`mmnst_path.stain.od_from_rgb`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError
from ..geometry import require_mpp
from ._morphology import _disk, _disk_extreme, _gaussian
from ._pigment_core import (
    _brown_bodies,
    _clustered,
    _grown,
    _has_eosin,
    _small_holes,
    eosin_hypotheses,
    pigment_channels,
    pigment_mode,
)
from ._pigment_gate import clustered_pigment as clustered_pigment  # re-exported: classify.pigment uses it
from ._pigment_gate import dab_body_veto, pigment_gate
from ._pigment_params import PigmentParams

__all__ = ["PigmentParams", "dab_body_veto", "eosin_hypotheses", "estimate_melanin_vector", "pigment_gate", "pigment_mask", "pigment_masks",
           "pigment_mode"]


def pigment_mask(
    rgb: np.ndarray,
    *,
    mpp: float,
    stains: Any,
    params: PigmentParams | None = None,
    background: Any = None,
) -> np.ndarray:
    """Melanin pigment pixels of an RGB tile.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Tile at ``mpp`` µm/px.
    mpp : float
        Pixel size, µm/px.
    stains : str or StainMatrix
        Preset name (``"H-DAB"``, ``"H&E"``, ``"H-AEC"``, ``"H-DAB-melanin"``...), JSON, or a
        :class:`~mmnst_path.stain.StainMatrix`. Decides the mode (see :class:`PigmentParams`).
    params : PigmentParams or None
        Thresholds; ``None`` for the defaults.
    background : white point (8-bit) or None for the matrix's own (else 255).

    Returns
    -------
    (M, N) bool ndarray
        True on melanin pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from mmnst_path.detect.pigment import pigment_mask
    >>> tile = np.full((64, 64, 3), 235, np.uint8)
    >>> tile[30:32, 30:32] = (40, 25, 15)             # a 1 µm brown-black granule
    >>> m = pigment_mask(tile, mpp=0.5, stains="H-DAB")
    >>> bool(m[30, 30]), int(m.sum())
    (True, 4)
    """
    return pigment_masks(rgb, mpp=mpp, stains=stains, params=params, background=background)[0]


def pigment_masks(
    rgb: np.ndarray,
    *,
    mpp: float,
    stains: Any,
    params: PigmentParams | None = None,
    background: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Melanin pixels and the wider Ki67 exclusion mask, from one pass of the detector.

    Parameters are those of :func:`pigment_mask`.

    Returns
    -------
    melanin : (M, N) bool ndarray
        Melanin pixels (what :func:`pigment_mask` returns): granule cores grown by ``grow_um``
        (colour mode) or ``brown_grow_um`` (brown mode). Use it for the melanin area/fraction.
    exclusion : (M, N) bool ndarray
        Brown mode: the same cores grown by ``ki67_grow_um`` through dense granule clusters
        (a superset of ``melanin``): pass it to :func:`mmnst_path.quantify.ki67.measure_ki67`
        as ``pigment_mask``, where every brown pixel of a pigmented cytoplasm must be removed.
        Colour mode: identical to ``melanin``.
    """
    params = params or PigmentParams()
    mpp = require_mpp(mpp, what="image")
    channel, angle, darkness, mode, hematoxylin = pigment_channels(
        rgb, stains=stains, params=params, background=background, _with_hematoxylin=True)
    sigma = params.smooth_sigma_um / mpp
    smooth = _gaussian(channel, sigma) if sigma >= 0.3 else channel
    hue_ok = angle <= params.max_angle_deg
    if mode == "colour" and _has_eosin(stains):
        # the channel is already a lower bound over eosin hypotheses: no hue gate needed
        core = smooth >= params.colour_min_od
        peak = _disk_extreme(smooth, _disk(params.colour_peak_radius_um / mpp), op="max")
        rim = (smooth >= params.colour_rim_od) & (smooth >= params.colour_rim_rel * peak)
    elif mode == "colour":
        core = (smooth >= params.colour_min_od) & (angle <= params.colour_max_angle_deg)
        rim = (smooth >= params.colour_rim_od) & (angle <= params.colour_max_angle_deg * 1.5)
    elif mode == "azure":
        core = (smooth >= params.azure_min_od) & (angle <= params.azure_max_angle_deg)
        peak = _disk_extreme(smooth, _disk(params.colour_peak_radius_um / mpp), op="max")
        rim = ((smooth >= params.colour_rim_od) & (smooth >= params.colour_rim_rel * peak)
               & (angle <= params.azure_max_angle_deg * 1.5))
    else:
        dark_s = _gaussian(darkness, sigma) if sigma >= 0.3 else darkness
        granule_disk = _disk(params.granule_radius_um / mpp)
        opened = _disk_extreme(_disk_extreme(dark_s, granule_disk, op="min"), granule_disk, op="max")
        opened = np.maximum(opened, 0.0)
        granular = (dark_s - opened >= params.granule_contrast_od) & (
            dark_s >= params.granule_ratio * opened
        )
        if params.dark_od is not None:
            granular |= smooth >= params.dark_od
        brown_granule = granular & (smooth >= params.min_od) & hue_ok
        filled = _brown_bodies(channel, hematoxylin, mpp, params)
        core = brown_granule & ~filled
        rim = (smooth >= params.min_od) & (angle <= params.max_angle_deg * 1.5) & ~filled
    if mode == "azure":
        # Ki67 exclusion: also the blurred halo of a granule over a negative nucleus, whose own
        # azure B lifts the mixture above the stained-melanin sector (more azure B than DAB)
        mask = _grown(core, rim, params.grow_um, mpp, params)
        halo = rim | ((smooth >= params.colour_rim_od) & (hematoxylin >= channel))
        return mask, mask | _grown(core, halo, params.grow_um, mpp, params)
    if mode == "colour":
        mask = _grown(core, rim, params.grow_um, mpp, params)
        return mask, mask
    wide = _grown(core, rim, params.ki67_grow_um, mpp, params)
    if wide.any():
        # brown gaps the grown cores enclose (the dense middle of a band of touching granules)
        wide |= _small_holes(wide, params.ki67_hole_max_um / mpp) & rim
    if params.cluster_min_um2 > 0 and wide.any():
        wide = _clustered(wide, mpp, params)
    # the melanin mask: the pixels of the wide mask dark enough to be granule rather than gap
    peak = _disk_extreme(smooth, _disk(params.brown_peak_radius_um / mpp), op="max")
    dense = (smooth >= params.brown_pixel_od) & (smooth >= params.brown_pixel_rel * peak)
    tight = _grown(core & dense, rim & dense, params.brown_grow_um, mpp, params) & wide
    return tight, wide


def estimate_melanin_vector(rgb: np.ndarray, region: np.ndarray | None = None, *,
                            min_od: float = 0.6, background: Any = None) -> tuple[float, float, float]:
    """Melanin OD vector of one slide, from a user-drawn pigment-only region.

    The vector is the normalised median OD of the region's dark pixels (OD norm >= ``min_od``);
    pass it as ``PigmentParams(melanin_vector=...)`` or use it in a 3-stain matrix.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    region : (M, N) bool ndarray or None
        Pixels drawn around pigment only (no DAB); ``None`` means the whole image.
    min_od : float
        Minimum OD norm (log10) of the pixels used.

    Returns
    -------
    tuple of 3 float
        Unit OD vector (R, G, B).
    """
    from ..stain import od_from_rgb

    od = od_from_rgb(rgb, background=background)
    if region is not None:
        region = np.asarray(region, dtype=bool)
        if region.shape != od.shape[:2]:
            msg = f"region must have the image's shape {od.shape[:2]}, got {region.shape}"
            raise ConfigError(msg)
        od = od[region]
    od = od.reshape(-1, 3)
    norm = np.linalg.norm(od, axis=1)
    sel = od[norm >= min_od]
    if len(sel) < 10:
        msg = (f"estimate_melanin_vector: only {len(sel)} pixels of the region have OD >= {min_od}; "
               "draw the region over dark pigment (>= 10 pixels needed)")
        raise ConfigError(msg)
    direction = sel / np.linalg.norm(sel, axis=1, keepdims=True)
    vec = np.median(direction, axis=0)
    vec = vec / np.linalg.norm(vec)
    return (float(vec[0]), float(vec[1]), float(vec[2]))
