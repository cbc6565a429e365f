"""The colour/context gate and the DAB-body veto combined with the learned melanin pixel model
(:func:`mmnst_path.classify.pigment.classify_pigment`); public through
:mod:`mmnst_path.detect.pigment`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..geometry import require_mpp
from ._morphology import _gaussian
from ._pigment_core import (
    _brown_bodies,
    _clustered,
    _dilated,
    _disk_of,
    _grown,
    _has_eosin,
    _label,
    angle_at,
    brown_hue_vectors,
    nonzero_rc,
    pigment_channels,
)
from ._pigment_params import PigmentParams


def pigment_gate(
    rgb: np.ndarray,
    *,
    mpp: float,
    stains: Any,
    params: PigmentParams | None = None,
    background: Any = None,
    bodies: bool = True,
    min_od: float | None = None,
    _channels: tuple | None = None,
    _od: np.ndarray | None = None,
) -> tuple[np.ndarray, str]:
    """Pixels that *may* be melanin by colour and context: the veto a learned pixel classifier
    (:func:`mmnst_path.classify.pigment.classify_pigment`) is combined with.

    Brown mode (DAB): brown channel >= ``min_od``, OD within ``1.5 * max_angle_deg`` of melanin
    or DAB, and not in or on a brown body (:func:`_brown_bodies`: a DAB-filled nucleus; a ring
    around a hematoxylin nucleus is not a body). Colour mode (H&E, red chromogens): melanin
    channel >= ``colour_rim_od`` (with eosin, the lower bound over eosin hues; with a red
    chromogen, melanin of the hematoxylin + chromogen + melanin unmixing). Real DAB nuclei are granular and brown-black,
    real eosin edges are dark and textured: a classifier trained on generated tiles alone marked
    6-18 % of the real Ki67 and H&E tiles of ``../shared/data`` as melanin; this gate is what
    keeps the rules' <= 0.05 % there. ``bodies=False`` drops the brown-body veto (a model that
    separates DAB nuclei itself; pigment over a nucleus or filling a cell stays reachable);
    ``min_od`` replaces ``params.min_od`` in brown mode. ``_channels``: the caller's
    ``pigment_channels(rgb, ..., _with_hematoxylin=True)`` of these arguments (not recomputed);
    when they were computed without the hue angle (``_hue=False``), ``_od`` is the OD they were
    computed from and the angle is computed at the pixels dark enough in the brown channel only
    (the angle test is the second term of the gate: the same gate).

    Returns
    -------
    gate : (M, N) bool ndarray
    mode : str
        ``"brown"`` or ``"colour"``.
    """
    params = params or PigmentParams()
    mpp = require_mpp(mpp, what="image")
    channel, angle, _, mode, hematoxylin = _channels or pigment_channels(
        rgb, stains=stains, params=params, background=background, _with_hematoxylin=True)
    sigma = params.smooth_sigma_um / mpp
    smooth = _gaussian(channel, sigma) if sigma >= 0.3 else channel
    if mode == "brown":
        gate = smooth >= (params.min_od if min_od is None else min_od)
        if angle is None:  # the hue angle at those pixels only (the same values: angle_at)
            if _od is None:
                msg = "pigment_gate: channels without the hue angle need the OD they were computed from (_od)"
                raise ValueError(msg)
            at = np.flatnonzero(gate)
            gate.ravel()[at] = angle_at(_od, brown_hue_vectors(stains, params), at) <= 1.5 * params.max_angle_deg
        else:
            gate &= angle <= 1.5 * params.max_angle_deg
        if bodies and gate.any():
            gate &= ~_brown_bodies(channel, hematoxylin, mpp, params)
    elif _has_eosin(stains):
        gate = smooth >= params.colour_rim_od
    else:
        # red chromogens: melanin in the hematoxylin + red + melanin unmixing (no hue gate: brown-
        # black melanin 3-12° from DAB lies up to ~18° from the physical melanin vector)
        gate = smooth >= params.colour_rim_od
    return gate, mode


def dab_body_veto(
    rgb: np.ndarray,
    melanin: np.ndarray,
    *,
    mpp: float,
    stains: Any,
    params: PigmentParams | None = None,
    background: Any = None,
    _channels: tuple | None = None,
) -> np.ndarray:
    """Brown mode: the brown bodies (:func:`_brown_bodies`, DAB-filled nuclei) of which less than
    ``model_body_share`` of the pixels are in ``melanin``, with their ``filled_margin_um`` margin.

    A learned classifier marks the granular-looking rim of a strong DAB nucleus and a nucleus
    touched by a pigment cluster; a body that is melanin (pigment filling a cell, a confluent
    sheet) is melanin over most of its area and is kept. Returns an (M, N) bool veto mask
    (all False outside brown mode). ``_channels`` as in :func:`pigment_gate`.
    """
    params = params or PigmentParams()
    mpp = require_mpp(mpp, what="image")
    channel, _, _, mode, hematoxylin = _channels or pigment_channels(
        rgb, stains=stains, params=params, background=background, _with_hematoxylin=True)
    veto = np.zeros(melanin.shape, dtype=bool)
    if mode != "brown":
        return veto
    labels, n = brown_body_labels(channel, hematoxylin, mpp, params)
    if n == 0:
        return veto
    area = np.bincount(labels.ravel(), minlength=n + 1)
    mel = np.bincount(labels.ravel(), weights=melanin.ravel().astype(np.float64), minlength=n + 1)
    dab = mel < params.model_body_share * area
    dab[0] = False
    return veto_bodies(labels, dab, melanin, mpp=mpp, params=params)


def brown_body_labels(channel: np.ndarray, hematoxylin: np.ndarray, mpp: float,
                      params: PigmentParams) -> tuple[np.ndarray, int]:
    """Labels (M, N) of the brown bodies (:func:`_brown_bodies` without margin: nucleus-sized areas
    brown all over, a DAB-filled nucleus or dense pigment) and their number."""
    body = _brown_bodies(channel, hematoxylin, mpp, params, margin=False)
    if not body.any():
        return np.zeros(body.shape, np.int32), 0
    return _label(body)


def veto_bodies(labels: np.ndarray, dab: np.ndarray, melanin: np.ndarray, *, mpp: float,
                params: PigmentParams) -> np.ndarray:
    """The bodies ``labels`` whose entry of ``dab`` ((n + 1,) bool, index 0 False) is True, grown
    by the ``filled_margin_um`` margin and through ``melanin`` pixels connected to them within
    ``model_rim_um`` (the halo of a saturated DAB nucleus): an (M, N) bool veto mask."""
    veto = np.take(dab, labels)  # (dab[labels], about twice as fast)
    near = round(params.filled_margin_um / mpp)
    if near > 0 and veto.any():
        veto = _dilated(veto, _disk_of(near))  # (bit-packed rows with numba: the same mask)
    rim = round(params.model_rim_um / mpp)
    if rim > 0 and veto.any():
        veto = grown_through(veto, melanin, rim)
    return veto


def grown_through(seed: np.ndarray, into: np.ndarray, steps: int) -> np.ndarray:
    """``ndi.binary_dilation(seed, iterations=steps, mask=seed | into)`` (4-connected steps,
    zeros beyond the border), computed at the pixels of ``into`` outside ``seed`` only (a few
    granule rims on a tile: the whole-tile passes cost ~2 ms a step on a 640² tile)."""
    rows, cols = nonzero_rc(into & ~seed)
    if steps <= 0 or not len(rows):
        return seed
    out = seed.copy()
    m, n = seed.shape
    up, down = np.maximum(rows - 1, 0), np.minimum(rows + 1, m - 1)
    left, right = np.maximum(cols - 1, 0), np.minimum(cols + 1, n - 1)
    for _ in range(steps):  # each step from the previous step's set, as one dilation
        hit = (((rows > 0) & out[up, cols]) | ((rows < m - 1) & out[down, cols])
               | ((cols > 0) & out[rows, left]) | ((cols < n - 1) & out[rows, right]))
        hit &= ~out[rows, cols]
        if not hit.any():
            break
        out[rows[hit], cols[hit]] = True
    return out


def clustered_pigment(mask: np.ndarray, *, mpp: float, params: PigmentParams | None = None) -> np.ndarray:
    """``mask`` without specks under ``min_area_um2`` and (``cluster_min_um2`` > 0) without
    components that lie in no cluster of pigment (an isolated brown dot)."""
    params = params or PigmentParams()
    # on the mask's bounding box grown by the cluster window (zeros beyond it: the window sums and
    # the components there are the whole tile's; a few specks of a tile cost no whole-tile pass)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return _grown(mask, mask, 0.0, mpp, params)
    pad = round(params.cluster_radius_um / mpp) + 2
    box = (slice(max(rows[0] - pad, 0), rows[-1] + pad + 1), slice(max(cols[0] - pad, 0), cols[-1] + pad + 1))
    part = _grown(mask[box], mask[box], 0.0, mpp, params)
    if params.cluster_min_um2 > 0 and part.any():
        part = _clustered(part, mpp, params)
    out = np.zeros(mask.shape, dtype=bool)
    out[box] = part
    return out

