"""Learned melanin pixel classifier (issue #14): granularity, darkness, hue and context features.

Rules with hand-set thresholds (:func:`mmnst_path.detect.pigment.pigment_masks`) found 1-40 % of
the pigment of generated tiles whose morphology they were not tuned on (fine dust, coarse
granules, confluent sheets, pigment over nuclei, spindle cells). This module classifies each
candidate pixel (total OD >= ``PigmentFeatureSettings.candidate_od``) as melanin or not with a
random forest over features of the RGB optical density only (no stain matrix enters the
features); the stain matrix picks the shipped model (H-DAB: its own) and the veto around it:

==========================  ========================================================================
``u_r``, ``u_g``, ``u_b``   unit OD vector at ``fine_um`` (hue: melanin is brown-black, 3-12° from
                            DAB and more neutral; red chromogens, eosin and hematoxylin are far)
``grey``                    cosine of the OD vector to grey (1, 1, 1): neutrality
``log_od``                  log10 of the total OD (norm of the OD vector) at ``fine_um``: darkness
``tophat_{S}``              total OD minus its grey opening by a disk of S µm, relative to the OD:
                            granularity at granule (1 µm) and cluster (2.5 µm) scale
``peak``                    OD / its maximum within ``peak_um``: granule vs blurred gap
``cv``                      local coefficient of variation of the OD at ``fine_um * 3``: texture
``ctx_log_od``, ``ctx_u_r``, ``ctx_u_b``  total OD and hue at ``context_um``: location relative to
                            nuclei (a blue hematoxylin nucleus, a brown DAB-filled one, cytoplasm)
``wide_u_b``                blue share of the OD at ``wide_um`` (cell-scale context)
``erode``                   minimum OD within ``granule_um`` / OD: stays high inside a solid
                            chromogen-filled nucleus, drops between granules
``ctx_grey``                neutrality at ``context_um`` (a DAB body is DAB-hued all over)
``erode_{cluster}``         minimum OD within ``cluster_um`` / OD (solid body vs granule cluster)
``dog``                     OD minus its blur at ``granule_um``, relative (granule-sized blobs)
``rel_u_b``                 blue share minus its mean at ``context_um`` (a granule on a blue nucleus)
``hue_sd``                  local spread of the blue share at ``granule_um`` (granules on nuclei)
``dark_share``              share of the ``context_um`` window at least half as dark as its top
``blob_*``                  the brown body (8-connected pixels, OD >= 0.35 within 30° of DAB) the
                            pixel lies in: log area, area / moment-ellipse area, OD coefficient of
                            variation, share of holes (a DAB nucleus is a filled 20-100 µm²
                            ellipse; melanin forms rings, irregular clusters and sheets)
``body_*``                  the same measures of bounded reach (:mod:`._pigment_reach_bodies`): the
                            brown pixels within a Gaussian of ``body_um``, holes seen within
                            ``hole_um``; the H&E model reads these (tile-invariant, session 38)
==========================  ========================================================================

A model file stores the names of the features it was trained on and
:func:`classify_pigment` computes exactly those, so model files trained before a feature was
added keep working. The ``blob_*`` features depend on the whole connected brown body: a body cut
by the tile border is seen in part (the pipeline's halo covers granule clusters and nuclei, not
confluent sheets larger than the halo); the ``body_*`` ones read 4 ``body_um`` + ``hole_um`` at
most, within :meth:`PigmentFeatureSettings.halo_um`, so a model of those gives the same mask
however the slide is tiled.

All ODs are log10 (QuPath convention, :func:`mmnst_path.stain.od_from_rgb`). Scales are in µm
and converted with the tile's pixel size; every feature is a chain of Gaussian filters (cut at 4
sigma) and disk extremes, so the halo is :meth:`PigmentFeatureSettings.halo_um`.

The shipped models are trained by ``scripts/train_pigment_model.py`` on tiles of
:func:`mmnst_path.synthetic.pigment_family_tile` (generated here) plus melanin-free negatives from
the permissively licensed real tiles of ``/work/shared/train`` (EndoNuke IHC, Kather H&E, CC BY
4.0; BRCA-M2C H&E, BSD-3-Clause, for the H-DAB model): ``pigment_default.mmnst`` (every
morphology x DAB / AEC / Fast Red / H&E; version 2 by ``scripts/train_pigment_default.py``: the drawn
melanin, dark red-chromogen positives as negatives, 24 features; used for the red chromogens) and
``pigment_dab.mmnst`` (``--chromogens dab``: DAB tiles with dark, clumped, saturating positives,
tinted white balance and a camera black level; all features; used for H-DAB). Their file
``kind`` is ``"tissue"`` (a pixel classifier; the model format knows nucleus and tissue kinds)
with ``settings["target"] = "pigment"``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..detect._morphology import (  # noqa: F401  (tests import them from here)
    _gaussian,
    _od_norm,
)
from ..detect._pigment_core import nonzero_rc
from ._pigment_bands import (  # feature_reach_px and _band_starts stay importable from here (tests use them)
    _band_starts,
    _gauss_reach,
    _wide,
    _wide_at,
    _window_columns,
    feature_reach_px,
)
from ._pigment_bodies import (  # the brown-body names stay importable from here (tests use them)
    _BODY_OD,  # noqa: F401
    _BROWN,  # noqa: F401
    _BROWN_CONE_DEG,  # noqa: F401
    BODY_CLASSES,
    BODY_FEATURES,
    OBJECT_FEATURES,
    _body_table,
    _brown_bodies,  # noqa: F401
    _brown_mask,
    _label_sums,  # noqa: F401
    body_feature_specs,
    body_melanin_probability,
    body_model_for,
    body_object_features,
    dab_body_model_path,
    learned_body_veto,
    prepare_bodies,
    resolve_body_model,
)
from ._pigment_features import (  # the feature names stay importable from here
    PigmentFeatureSettings,
    _blur,  # noqa: F401
    _candidates,
    _check_names,
    _od_planes,
    _rows_of,
    pigment_feature_specs,
    pigment_features,
)
from ._pigment_fine import fine_od  # noqa: F401
from ._pigment_forest import proba_below
from ._pigment_granules import GRANULE_FEATURES, granule_columns, granule_feature_specs  # noqa: F401
from ._pigment_models import (  # the model names stay importable from here
    _is_shipped_default,  # noqa: F401
    _shipped_default_id,  # noqa: F401
    azure_pigment_model_path,
    dab_pigment_model_path,
    default_pigment_model_path,
    he_pigment_model_path,
    model_for_stains,
    resolve_pigment_model,
)
from ._pigment_reach_bodies import BOUNDED_FEATURES, bounded_body_columns
from ._pigment_windows import _blocks, _windows
from .model import ClassifierModel, FeatureSpec  # noqa: F401

__all__ = [
    "BLOCK_ROWS",
    "BODY_CLASSES",
    "OBJECT_FEATURES",
    "PigmentFeatureSettings",
    "azure_pigment_model_path",
    "body_feature_specs",
    "body_melanin_probability",
    "body_object_features",
    "classify_pigment",
    "dab_body_model_path",
    "dab_pigment_model_path",
    "default_pigment_model_path",
    "he_pigment_model_path",
    "model_for_stains",
    "pigment_feature_specs",
    "pigment_features",
    "pigment_probability",
    "resolve_body_model",
    "resolve_pigment_model",
]

CLASSES = ("background", "melanin")

#: On by default (#16, benchmarks/README "Pigment stage cascade"): in brown mode with the body
#: model, the pixel model does not run on the brown bodies the body model calls DAB from their
#: image features alone (outside its ranges, or below its threshold whatever the pixel model's
#: columns hold: an exact bound, :mod:`._pigment_bound`) nor on their veto margin, where its answer cannot
#: change the mask (:meth:`~mmnst_path.classify._pigment_bodies.BrownBodies.skip_region`; masks
#: identical, tested). Where the context rule could take such a body back (near-black bodies
#: beside melanin) the model then runs on that body and its margin only. The returned
#: probability is 0 on the skipped pixels: ``classify_pigment(..., full_probability=True)`` runs
#: the model on every gated pixel. False: that for every call.
SKIP_DECIDED_BODIES = True

#: Opt-in (#16, benchmarks/README "The pixel forest where its answer is decided", session 28 H2):
#: True: unless ``full_probability``, the pixel model's forest stops on a pixel off the brown
#: bodies once the trees walked so far put its probability below ``min_probability`` whatever the
#: others answer (an exact bound: the same mask and body-model inputs, :mod:`._pigment_forest`);
#: the returned probability is 0 there. The pigment stage's CPU -8 % / -10 % on CMU-1 / TCGA tiles, but no
#: change the paired per-tile rule resolves on the real Ki67 tiles (the forest is ~5 % of their
#: stage), so off. False (default): every tree on every candidate. This is the default of
#: ``classify_pigment(..., forest_early_exit=None)``; a caller passing True / False chooses per call
#: (the whole-slide worker's choice: ``mmnst_path.pipeline._worker._pigment``, session 28 H6).
FOREST_EARLY_EXIT = False


#: candidate rows whose features are computed and predicted at a time by
#: :func:`pigment_probability` (24 float32 features: 12 MiB of rows, and about as much of
#: per-row temporaries); a tile with more is cut into bands of rows. 2^17 rather than 2^18:
#: CMU-1's per-worker peak 467 -> 427 MiB for 2 % more CPU in the pigment probabilities
BLOCK_ROWS = 1 << 17


def pigment_probability(rgb: np.ndarray, *, mpp: float, model: ClassifierModel, background: Any = None,
                        where: np.ndarray | None = None,
                        block_rows: int = BLOCK_ROWS, _od: np.ndarray | list[np.ndarray] | None = None,
                        _keep: dict[str, Any] | None = None,
                        _below: tuple[float, np.ndarray | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Melanin probability of a pigment model at the candidate pixels, predicted band by band.

    The values of ``model.predict_proba(pigment_features(rgb, ..., names=model.feature_names)[0])``
    (bit-identical, tested), without holding the feature rows of the whole tile: the candidates
    are cut into bands of rows (at most :data:`BLOCK_ROWS` candidates and four times as many
    pixels), and each band's features are filtered in a window grown by their reach, predicted
    and dropped. The body features (whole connected bodies) are computed once per tile, as a
    table per body, and the ``wide_um`` blur once per tile.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    mpp : float
        µm per pixel of ``rgb``.
    model : ClassifierModel
        A pigment pixel model (its settings and feature names are used).
    background : white point or None
    where : (M, N) bool ndarray or None
        Only these pixels are candidates (with total OD >= ``candidate_od``).
    block_rows : int
        Most candidate rows held at a time.
    _od : (M, N, 3) float32 ndarray, a list holding one, or None
        ``od_from_rgb(rgb, background=background)`` when the caller has it (not recomputed). In a
        list (the caller holding no other reference to it), it is taken out, so that it can be
        freed when the tile goes band by band (each band recomputes its own OD), and put back
        when it is still held at the return (the list stays empty when it was freed).
    _keep : dict or None
        The whole-tile planes (fine-scale OD, its norm, the body table) are kept here and read
        back by a later call with the same ``rgb``, ``model`` and ``background`` (other ``where``).
    _below : (min_probability, exact) or None
        The forest stops on a candidate (not on the (M, N) bool ``exact`` pixels, None: none) once
        its probability is certainly below ``min_probability``, which is then 0 there
        (:func:`~mmnst_path.classify._pigment_forest.proba_below`; ``probability >=
        min_probability`` is the same everywhere). None: the probability everywhere.

    Returns
    -------
    probability : (M, N) float32 ndarray
        P(melanin), 0 off the candidates.
    candidates : (M, N) bool ndarray
    """
    s = PigmentFeatureSettings.from_mapping(model.settings)
    names = [f.name for f in model.features]
    _check_names(s, names)
    j = model.class_names.index("melanin")
    od_box: list[np.ndarray] | None = None
    given: np.ndarray | None = None  # the caller's OD (taken out of ``od_box``)
    if isinstance(_od, list):
        od_box, given = _od, (_od.pop() if _od else None)
    else:
        given = _od
    del _od
    chans: list[np.ndarray] = []  # the OD channels as contiguous planes (the blurs read them)
    box = (slice(0, None), slice(0, None))  # the part of the tile the planes hold (:func:`_planes_box`)
    dropped = False  # the whole-tile fine OD and channel planes were dropped by the first (banded) call
    fresh = False  # the whole-tile planes computed here (not read back from ``_keep``)
    if _keep is not None and "planes" in _keep:
        od, fine, total, chans = _keep["planes"]
        dropped = fine is None
        if dropped:
            od, chans = given if given is not None else od, []
        cand = total >= s.candidate_od
        if where is not None:
            cand &= where
    else:
        # (the OD channel planes the whole-tile blurs read: copied below only when the tile does
        # not go band by band, the same values as the fine blur's own copy)
        od, fine, total, cand = _candidates(rgb, mpp=mpp, settings=s, background=background, where=where, od=given)
        fresh = True
    given = None  # (``od`` holds it, as long as it is needed)
    prob = np.zeros(cand.shape, np.float32)
    k = int(np.count_nonzero(cand))
    if k == 0:
        if fresh and _keep is not None:
            _keep["planes"] = (od, fine, total, [])  # (a later call reads the OD itself: no copy for it)
        if od_box is not None and od is not None:
            od_box.append(od)
        return prob, cand
    local = list(dict.fromkeys(name for name in names if not name.startswith(("blob_", "body_"))
                               and name not in GRANULE_FEATURES))
    granular = list(dict.fromkeys(name for name in names if name in GRANULE_FEATURES))
    # windows around the candidates (:func:`_windows`); any window with more than block_rows
    # candidates or 4 x block_rows pixels: the whole tile goes band by band instead. The
    # ``wide_um`` blur (the widest filter) is computed from the whole-tile channels at the
    # candidates (:func:`_wide_at`), so the windows are grown by the other filters' reach only
    wide_once = "wide_u_b" in local and not dropped and (fresh or bool(chans))
    blocks = _windows(cand, feature_reach_px(s, mpp, wide=not wide_once))
    split = dropped or any(np.count_nonzero(sel) > block_rows or sel.size > 4 * block_rows for _, sel in blocks)
    if split:  # the bands recompute their own channels and fine OD: the whole-tile ones go now
        chans = []
        if _keep is not None:  # a later call reads the norm (its candidates) and the OD only
            _keep["planes"] = (None, None, total, None)
    elif fresh:  # the planes where the candidates' blurs read them (:func:`_planes_box`)
        box = _planes_box(cand, feature_reach_px(s, mpp))
        chans = _od_planes(od[box])
        if _keep is not None:  # a later call has other candidates: whole-tile planes, or it reads the OD itself
            _keep["planes"] = (od, fine, total, chans if chans[0].shape == cand.shape else [])
    bodies = None
    if any(n in BODY_FEATURES for n in names):
        if _keep is not None and "bodies" in _keep:
            bodies = _keep["bodies"]
        else:
            brown = _brown_mask(total, fine)
            if split:  # the bands recompute their own fine OD: the whole-tile one goes before the labelling
                fine = None
            bodies = _body_table(total, None, mpp, brown=brown)
            del brown
        if _keep is not None:
            _keep["bodies"] = bodies
    reach_cols: dict[str, np.ndarray] = {}  # the bounded body columns of every candidate (row-major)
    if bounded := [n for n in names if n in BOUNDED_FEATURES]:
        held = _keep.get("brown") if _keep is not None else None
        brown_now: np.ndarray = held if held is not None else _brown_mask(
            total, fine if fine is not None else _candidates(rgb, mpp=mpp, settings=s, background=background,
                                                             where=None)[1])
        if _keep is not None:
            _keep["brown"] = brown_now
        reach_cols = dict(bounded_body_columns(total, brown_now, cand, mpp, body_um=s.body_um, hole_um=s.hole_um,
                                               names=bounded))
        del brown_now
        flat_all = np.flatnonzero(cand)
    if split:
        fine = None
        if od is None:  # (dropped, and no OD given: the same values from the RGB)
            od = _candidates(rgb, mpp=mpp, settings=s, background=background, where=None)[0]
    wide = starts = None
    if split:  # each band recomputes its OD and fine-scale OD from the RGB: grown by the fine blur
        blocks = _blocks(cand, feature_reach_px(s, mpp, wide=False) + _gauss_reach(s.fine_um / mpp), block_rows)
        if "wide_u_b" in local:  # once, not per band: at the candidates only when the bands take them in order
            starts = _band_starts(blocks, k)
            wide = (_wide(od, s, mpp, cand, chans or None) if starts is None
                    else _wide_at(od, s, mpp, cand, chans or None))
        del od, fine, total
        chans = []
    elif wide_once:  # the same values as a window's own blur: the whole-tile planes, at the candidates
        wide = _wide_at(od, s, mpp, cand[box], chans)  # (the candidates in the box: all, in the same order)
        flat = np.flatnonzero(cand)  # the candidates' raveled indices: row r of `wide` is flat[r]'s
    for b, (win, sel) in enumerate(blocks):
        x = np.empty((int(np.count_nonzero(sel)), len(names)), np.float32)
        od_w = fine_w = total_w = wide_w = None
        if local or granular:
            # a band's own OD and fine OD are exact `reach` px from its border (or at the image
            # border), so every value its candidates' filters read is the whole-tile one
            chans_w: list[np.ndarray] = []
            od_w, fine_w, total_w, _ = (_candidates(rgb[win], mpp=mpp, settings=s, background=background, where=None,
                                                    planes=chans_w)
                                        if split else (od[win], fine[win], total[win], None))
            if not split:
                r0, c0 = box[0].start, box[1].start  # (the window in the box's planes)
                at = (slice(win[0].start - r0, win[0].stop - r0), slice(win[1].start - c0, win[1].stop - c0))
                chans_w = [ch[at] for ch in chans]
            wide_w = (None if wide is None else wide[_rows_of(flat, win, sel, cand.shape[1])] if not split
                      else wide[win] if starts is None else wide[starts[b] : starts[b + 1]])
            for name, v in _window_columns(od_w, fine_w, total_w, sel, s, mpp, local, wide=wide_w,
                                           wide_at_cand=starts is not None or (wide is not None and not split),
                                           planes=chans_w):
                x[:, [i for i, n in enumerate(names) if n == name]] = v[:, None]
            for name, v in granule_columns(fine_w, total_w, sel, s, mpp, granular):
                x[:, [i for i, n in enumerate(names) if n == name]] = v[:, None]
        # the band's candidates as raveled tile indices (gathers and the write below by np.take /
        # np.put: the same values as ``[win][sel]``, several times faster)
        rr, cc = nonzero_rc(sel)
        flat_t = (rr + (win[0].start or 0)) * cand.shape[1] + (cc + (win[1].start or 0))
        del rr, cc
        if bodies is not None:
            lab = np.take(bodies[0].reshape(-1), flat_t) if bodies[0].flags.c_contiguous else bodies[0][win][sel]
            for i, name in enumerate(names):
                if name in BODY_FEATURES:
                    x[:, i] = bodies[1][lab, BODY_FEATURES.index(name)]
        if reach_cols:
            at_b = np.searchsorted(flat_all, flat_t)
            for i, name in enumerate(names):
                if name in reach_cols:
                    x[:, i] = reach_cols[name][at_b]
        if _below is None or not hasattr(model, "forest"):
            np.put(prob.reshape(-1), flat_t, model.predict_proba(x)[:, j])
        else:
            exact = None if _below[1] is None else np.take(np.ascontiguousarray(_below[1]).reshape(-1), flat_t)
            np.put(prob.reshape(-1), flat_t, proba_below(model.forest, x, j, _below[0], exact))
        del x, od_w, fine_w, total_w, chans_w, wide_w, flat_t  # before the next band allocates its own
    if od_box is not None and not split and od is not None:
        od_box.append(od)
    return prob, cand


def _planes_box(cand: np.ndarray, reach: int) -> tuple[slice, slice]:
    """The part of the tile whose OD channel planes :func:`pigment_probability` copies when it goes
    window by window: the bounding box of the candidates grown by ``reach`` (the features' reach
    with the ``wide_um`` blur, the longest of its filter chains) and clipped to the tile.

    Every blur and extreme a candidate's features take reads pixels within ``reach`` of it, so in
    the box; where the box is clipped, its edge is the tile's, so the reflected values at the
    edge are the tile's too; and every window (:func:`_windows`, grown by at most ``reach``)
    lies in it. So the features read from the box's planes are the whole-tile planes' values
    (bit-identical), and the pixels beyond it are not copied."""
    m, n = cand.shape
    rows, cols = np.flatnonzero(cand.any(axis=1)), np.flatnonzero(cand.any(axis=0))
    return (slice(max(int(rows[0]) - reach, 0), min(int(rows[-1]) + 1 + reach, m)),
            slice(max(int(cols[0]) - reach, 0), min(int(cols[-1]) + 1 + reach, n)))


class _Fill:
    """The second call of the pixel model in :func:`classify_pigment`: over the skipped bodies the
    context rule may take back and their margins (``fill(still)``: the bodies ``still`` decided
    stay skipped), with the whole-tile planes of the first call (``keep``)."""

    def __init__(self, rgb: np.ndarray, mpp: float, model: ClassifierModel, background: Any, params: Any,
                 bodies: Any, gate: np.ndarray, skip: np.ndarray, prob: np.ndarray, keep: dict[str, Any] | None,
                 below: tuple[float, np.ndarray | None] | None = None):
        self.rgb, self.mpp, self.model, self.background, self.params = rgb, mpp, model, background, params
        self.bodies, self.gate, self.skip, self.prob, self.keep = bodies, gate, skip, prob, keep
        self.below = below

    def __call__(self, still: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        now = (replace(self.bodies, decided=still).skip_region(self.gate, mpp=self.mpp, params=self.params)
               if still.any() else np.zeros_like(self.skip))
        more = self.gate & self.skip & ~now
        if more.any():
            rest, _ = pigment_probability(self.rgb, mpp=self.mpp, model=self.model, background=self.background,
                                          where=more, _od=self.bodies.od, _keep=self.keep, _below=self.below)
            self.prob = np.where(more, rest, self.prob)
        self.skip = now
        return self.prob >= self.params.min_probability, self.prob


def classify_pigment(rgb: np.ndarray, *, mpp: float, model: ClassifierModel, stains: Any = None,
                     params: Any = None, background: Any = None,
                     full_probability: bool | None = None, forest_early_exit: bool | None = None,
                     _planes: dict[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Melanin pixels of an RGB tile: the pixel model, vetoed by colour and context.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    mpp : float
    model : ClassifierModel
        A pigment pixel model (:func:`resolve_pigment_model`). The shipped default model stands
        for "the shipped model of the stain system": with a brown chromogen (DAB) the shipped
        H-DAB model (``pigment_dab.mmnst``) is used instead.
    stains : str or StainMatrix or None
        With stains, the model's pixels are kept only inside
        :func:`mmnst_path.detect.pigment.pigment_gate` (colour near melanin; brown channel >=
        ``model_min_od`` in brown mode; with ``model_body_veto`` not in a DAB-filled nucleus).
        In brown mode each brown body (a nucleus-sized area brown all over: a DAB-positive nucleus
        or dense melanin) is then decided by the brown-body model ``params.body_model``
        (:func:`body_melanin_probability` on :data:`OBJECT_FEATURES`: the pixel model's share and
        probability over the body, its hue relative to the tile's nucleus-sized bodies, hematoxylin
        share, texture, shape); the bodies it calls DAB (probability below
        ``body_min_probability``) are vetoed with their connected rim, except near-black bodies
        beside confirmed melanin, which are taken back whole
        (:func:`~mmnst_path.classify._pigment_context.context_melanin_bodies`, ``context_*``
        parameters: melanin and saturated DAB look alike; melanin lies beside melanin). Without a body model, or
        with a pixel model the body model was not trained on, the bodies the pixel model marks
        over less than ``model_body_share`` of their area are vetoed instead
        (:func:`~mmnst_path.detect.pigment.dab_body_veto`). The rest is kept in clusters
        (:func:`~mmnst_path.detect.pigment.clustered_pigment`) in brown mode, and in clusters of
        ``he_cluster_min_um2`` with H&E (the shipped default stands for ``pigment_he.mmnst``
        there); red chromogens keep every pixel the model marks inside the gate. ``None``: the
        model alone.
    params : PigmentParams or None
        ``min_probability`` and the gate's thresholds; ``gate`` (not ``"off"``): the learned
        per-tile gate (:func:`~mmnst_path.classify._pigment_gate.tile_may_hold_pigment`) runs
        first, and a tile it keeps closed has no melanin (probability 0) without the rest.
    background : white point or None (the matrix's, else 255).
    full_probability : bool or None
        False (the default, :data:`SKIP_DECIDED_BODIES`): in brown mode with the body model, the
        pixel model skips the brown bodies the body model calls DAB from the image alone and
        their veto margin, where its answer cannot change ``melanin`` (same mask, less time);
        ``probability`` is 0 there; with stains and ``forest_early_exit``, its forest also
        stops where the answer is decided below ``min_probability`` (0 there). True: the model runs on every
        gated pixel, every tree, for a caller that uses the probability map itself (e.g. to show it
        or to threshold it differently).
    forest_early_exit : bool or None
        None (the default): :data:`FOREST_EARLY_EXIT` (False). True: unless ``full_probability``,
        with stains, the pixel forest stops on a pixel off the brown bodies once its answer is
        certainly below ``min_probability`` (:func:`~mmnst_path.classify._pigment_forest.proba_below`:
        exact, the same ``melanin``; ``probability`` 0 there). The whole-slide worker passes its
        own choice; :func:`~mmnst_path.pipeline.analyze_region` and the other callers take the default.

    Returns
    -------
    melanin : (M, N) bool ndarray
    probability : (M, N) float32 ndarray
        The model's melanin probability (0 off the candidates and, with stains, off the gate;
        unless ``full_probability``, also 0 on the skipped brown bodies decided DAB and their
        margins, and with ``forest_early_exit`` where the forest's answer was decided below
        ``min_probability`` before its last tree: the pipeline uses ``melanin`` only).

    ``_planes`` (a dict, for the pipeline's later stages of the same tile): receives ``"od"``,
    (the float32 OD lookup table (3, 256) of the white point used, the (M, N, 3) OD) and, in
    brown mode, ``"deconvolution"`` (:func:`~mmnst_path.detect.pigment.pigment_channels`).
    """
    from ..detect._pigment_core import _has_eosin
    from ..detect.pigment import (
        PigmentParams,
        clustered_pigment,
        dab_body_veto,
        pigment_channels,
        pigment_gate,
        pigment_mode,
    )
    from ..geometry import require_mpp
    from ._pigment_azure import azure_pigment_masks
    from ._pigment_gate import resolve_gate_model, tile_may_hold_pigment

    mpp = require_mpp(mpp, what="image")
    params = params if params is not None else PigmentParams()
    if full_probability is None:
        full_probability = not SKIP_DECIDED_BODIES
    if background is None and stains is not None and not isinstance(stains, str):
        background = stains.background
    model = model_for_stains(model, stains, params)
    if stains is not None and pigment_mode(stains, params) == "azure":  # inside the rules' exclusion mask
        melanin, _, prob = azure_pigment_masks(rgb, mpp=mpp, model=model, stains=stains, params=params,
                                               background=background)
        return melanin, prob
    gate_model = resolve_gate_model(params.gate)
    if gate_model is not None and not tile_may_hold_pigment(rgb, mpp=mpp, model=gate_model, background=background):
        prob = np.zeros(rgb.shape[:2], np.float32)  # no block could hold melanin: most unpigmented tiles
        return prob >= params.min_probability, prob
    # the tile's OD, once for the stain channels, the brown bodies and the pixel features (at the
    # white point each of them uses: ``background``, else the matrix's, which then is the same)
    od, same_white = None, False
    if stains is not None:
        from ..detect._pigment_params import _matrix
        from ..stain import od_from_rgb
        from ..stain.od import od_lut

        white = background if background is not None else _matrix(stains).background
        od = od_from_rgb(rgb, background=white)
        same_white = background is not None or white is None
        if _planes is not None:
            _planes["od"] = (od_lut(white).astype(np.float32), od)
    # the stain channels, once for the gate and the veto (the hue angle: at the gate's dark pixels only)
    chans = None if stains is None else pigment_channels(rgb, stains=stains, params=params, background=background,
                                                         _with_hematoxylin=True, _od=od, _hue=False,
                                                         _keep=_planes)
    gate, mode = (None, "") if stains is None else pigment_gate(rgb, mpp=mpp, stains=stains, params=params,
                                                               background=background,
                                                               bodies=params.model_body_veto,
                                                               min_od=params.model_min_od, _channels=chans, _od=od)
    if gate is not None and not gate.any():  # no pixel the colour allows: most unpigmented tiles
        prob = np.zeros(rgb.shape[:2], np.float32)
        return prob >= params.min_probability, prob
    body_model = body_model_for(model, params) if mode == "brown" and not params.model_body_veto else None
    # the brown bodies the body model calls DAB from the image alone (outside the ranges of its
    # melanin training bodies: most DAB-positive nuclei of a real scan) are vetoed with their
    # margin whatever the pixel model says there: it does not run on them
    bodies = skip = None
    if body_model is not None and gate is not None and not full_probability:
        bodies = prepare_bodies(rgb, chans, body_model, mpp=mpp, params=params, background=background,
                                od=od if same_white else None)
        if bodies.decided.any():
            skip = bodies.skip_region(gate, mpp=mpp, params=params)
    # the forest runs on the gated pixels only (it costs ~4 s per 1024² tile on all dark pixels),
    # band by band (a tile's feature rows at once would be ~100 bytes per pixel)
    where = gate if skip is None or gate is None else gate & ~skip
    # off the brown bodies only ``prob >= min_probability`` is read: the forest stops where that is decided
    below = None
    if forest_early_exit is None:
        forest_early_exit = FOREST_EARLY_EXIT
    if forest_early_exit and not full_probability and gate is not None:
        below = (params.min_probability, None if bodies is None else bodies.labels > 0)
    keep: dict[str, Any] | None = None if skip is None else {}  # whole-tile planes, for a second call below
    if where is not None and not where.any():
        prob = np.zeros(rgb.shape[:2], np.float32)
    elif od is not None and same_white:
        # the tile's OD (12 bytes a pixel) is handed over, with no other reference left here, so that
        # it is not held while the model runs band by band; recomputed after when it was freed (the
        # same table reads: the same values) for the veto, the second call and ``_planes``
        box, od = [od], None
        if bodies is not None:  # (an empty stand-in while the model runs: the OD is put back below)
            bodies = replace(bodies, od=np.empty((0, 0, 3), np.float32))
        if _planes is not None:
            _planes.pop("od", None)
        prob, _ = pigment_probability(rgb, mpp=mpp, model=model, background=background, where=where,
                                      _od=box, _keep=keep, _below=below)
        od = box.pop() if box else od_from_rgb(rgb, background=white)
        del box
        if bodies is not None:
            bodies = replace(bodies, od=od)
        if _planes is not None:
            _planes["od"] = (od_lut(white).astype(np.float32), od)
    else:
        prob, _ = pigment_probability(rgb, mpp=mpp, model=model, background=background, where=where,
                                      _od=bodies.od if bodies is not None else od if same_white else None,
                                      _keep=keep, _below=below)
    mask = prob >= params.min_probability
    fill = None  # the model over the skipped bodies the context rule may take back
    if skip is not None and bodies is not None and gate is not None:
        fill = _Fill(rgb, mpp, model, background, params, bodies, gate, skip, prob, keep, below)
    if mode == "brown" and mask.any() and not params.model_body_veto:
        if body_model is None:  # the share rule
            mask &= ~dab_body_veto(rgb, mask, mpp=mpp, stains=stains, params=params, background=background,
                                   _channels=chans)
        else:
            veto, taken = learned_body_veto(rgb, mask, prob, chans, body_model, mpp=mpp, params=params,
                                            background=background, bodies=bodies, fill=fill)
            if fill is not None and fill.prob is not prob:  # the model ran over more bodies
                prob = fill.prob
                mask = prob >= params.min_probability
            mask = (mask & ~veto) | taken
    if mode == "brown" and mask.any():
        mask = clustered_pigment(mask, mpp=mpp, params=params)
    elif mode == "colour" and mask.any() and _has_eosin(stains):
        # H&E: isolated specks on dark nuclei, fibre edges and debris are no pigment cluster
        mask = clustered_pigment(mask, mpp=mpp, params=replace(params, cluster_min_um2=params.he_cluster_min_um2))
    return mask, prob

