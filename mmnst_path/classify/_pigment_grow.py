"""Brown-mode melanin grown into its faint edge (issue #14, session 37 H6).

The H-DAB gate of :func:`mmnst_path.classify.pigment.classify_pigment` admits a pixel to the pixel
model only where the smoothed brown channel reaches ``PigmentParams.model_min_od`` (0.3): lower, the
faint tan stroma of real Ki67 scans is called melanin (benchmarks/README, session 19 H2 / session 20
H4). A granule's blurred edge and a faint granule beside a dark one lie under it, although the pixel
model marks them: on generated DAB tiles most of the melanin the final mask misses is lost there
(session 37 H6's diagnosis). This step is a hysteresis: the pixels the whole path kept (gate, body
veto, cluster test) are seeds, and the mask grows from them, by at most ``model_grow_um``, into
connected pixels with the melanin hue whose brown channel reaches ``model_grow_od`` and which the
pixel model calls melanin. A tile with no melanin kept has nothing to grow from, so a faint tan
field away from pigment stays out whatever its colour; and only a component with at least
``model_grow_min_um2`` of melanin within the ``2 * context_radius_um`` window somewhere on it grows
(melanin lies beside melanin): the few-pixel false specks a real Ki67 scan keeps on a dark DAB
nucleus would otherwise grow by their whole rim (about doubling them on EndoNuke DEV tiles).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..detect._morphology import _gaussian
from ..detect._pigment_core import _clustered


def grown_melanin(mask: np.ndarray, *, rgb: np.ndarray, mpp: float, model: Any, params: Any, stains: Any,
                  channel: np.ndarray, od: np.ndarray, gate: np.ndarray, veto: np.ndarray | None,
                  background: Any = None) -> np.ndarray:
    """``mask`` grown by at most ``params.model_grow_um`` into its faint melanin edge.

    Parameters
    ----------
    mask : (M, N) bool ndarray
        The brown-mode melanin mask after the body veto and the cluster test; its components with
        ``model_grow_min_um2`` of melanin within the ``2 * context_radius_um`` window are the seeds.
    rgb : (M, N, 3) uint8 ndarray
    mpp : float
        µm per pixel.
    model : ClassifierModel
        The pixel model of the mask.
    params : PigmentParams
        ``model_grow_um`` (reach, µm), ``model_grow_od`` (lowest smoothed brown OD grown into),
        ``model_grow_probability`` (the pixel model's melanin probability needed), ``smooth_sigma_um``
        and ``max_angle_deg`` (the gate's hue cone).
    stains : StainMatrix or str
        The brown stain system (for the hue directions of melanin and DAB).
    channel : (M, N) float32 ndarray
        The brown channel of :func:`mmnst_path.detect.pigment.pigment_channels`.
    od : (M, N, 3) float32 ndarray
        The tile's OD at the white point of ``channel``.
    gate : (M, N) bool ndarray
        The pixels the gate already gave the pixel model: not grown into (their answer stands).
    veto : (M, N) bool ndarray or None
        The vetoed brown bodies with their margins (DAB-positive nuclei): not grown into.
    background : white point or None

    Returns
    -------
    (M, N) bool ndarray
        ``mask`` with the grown pixels (a superset of ``mask``; ``mask`` itself when
        ``model_grow_um`` is 0 or the mask is empty).
    """
    from ..detect._pigment_core import angle_at, brown_hue_vectors
    from ._pigment_bands import feature_reach_px
    from ._pigment_features import PigmentFeatureSettings
    from .pigment import pigment_probability

    steps = round(params.model_grow_um / mpp)
    if steps <= 0 or not mask.any():
        return mask
    seeds = mask
    if params.model_grow_min_um2 > 0:  # only components with melanin around them grow
        if mask.sum() * mpp * mpp < params.model_grow_min_um2:
            return mask
        seeds = _clustered(mask, mpp, replace(params, cluster_radius_um=params.context_radius_um,
                                               cluster_min_um2=params.model_grow_min_um2))
        if not seeds.any():
            return mask
    near = ndi.binary_dilation(seeds, iterations=steps) & ~mask & ~gate
    if veto is not None:
        near &= ~veto
    if not near.any():
        return mask
    rows, cols = np.nonzero(near)
    pad = 2 + int(np.ceil(4.0 * params.smooth_sigma_um / mpp))
    box = (slice(max(int(rows.min()) - pad, 0), int(rows.max()) + pad + 1),
           slice(max(int(cols.min()) - pad, 0), int(cols.max()) + pad + 1))
    sigma = params.smooth_sigma_um / mpp
    smooth = _gaussian(np.ascontiguousarray(channel[box]), sigma) if sigma >= 0.3 else channel[box]
    faint = np.zeros(mask.shape, dtype=bool)
    faint[box] = smooth >= params.model_grow_od
    faint &= near
    at = np.flatnonzero(faint)
    if not len(at):
        return mask
    faint.ravel()[at] = angle_at(od, brown_hue_vectors(stains, params), at) <= 1.5 * params.max_angle_deg
    if not faint.any():
        return mask
    # the pixel model on a crop around the faint pixels (its filters' reach and 10 µm for the brown
    # bodies its body columns read): a few specks of a tile cost no whole-tile pass
    rows, cols = np.nonzero(faint)
    reach = feature_reach_px(PigmentFeatureSettings.from_mapping(model.settings), mpp) + int(np.ceil(10.0 / mpp))
    crop = (slice(max(int(rows.min()) - reach, 0), int(rows.max()) + reach + 1),
            slice(max(int(cols.min()) - reach, 0), int(cols.max()) + reach + 1))
    prob, _ = pigment_probability(np.ascontiguousarray(rgb[crop]), mpp=mpp, model=model, background=background,
                                  where=faint[crop])
    allowed = np.zeros(mask.shape, dtype=bool)
    allowed[crop] = faint[crop] & (prob >= params.model_grow_probability)
    if not allowed.any():
        return mask
    return ndi.binary_dilation(seeds, iterations=steps, mask=allowed | seeds) | mask
