"""Brown-body features of the pigment pixel classifier (:mod:`mmnst_path.classify.pigment`).

A brown body is a set of 8-connected pixels of total OD >= 0.35 within 30° of DAB: a DAB-filled
nucleus is a compact, filled, ellipse-shaped body of 20-100 µm²; melanin forms rings around
nuclei, irregular clusters and sheets. Each body's features (``blob_*``) are computed once per
tile, as a table indexed by the body's label, from sums accumulated in one raster pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..detect._pigment_core import _hole_labels, _label, nonzero_rc
from ._pigment_body_model import (  # every name of the body model stays importable from here
    ALL_FEATURES,
    BODY_CLASSES,  # noqa: F401
    MODEL_COLUMNS,  # noqa: F401
    OBJECT_FEATURE_TEXT,  # noqa: F401
    OBJECT_FEATURES,
    body_feature_specs,  # noqa: F401
    body_melanin_probability,
    body_model_for,  # noqa: F401
    dab_body_model_path,  # noqa: F401
    inside_ranges,  # noqa: F401
    model_free_dab,
    resolve_body_model,  # noqa: F401
    wants_relative,
)
from .model import ClassifierModel

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


def _body_table(total: np.ndarray, fine: np.ndarray | None, mpp: float, *,
                brown: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(labels (M, N) of the brown bodies, 0 off them; (n + 1, 4) float32 body features of each
    label, columns :data:`BODY_FEATURES`, row 0 zeros): the features of a pixel are
    ``table[labels[pixel]]``. ``brown``: :func:`_brown_mask` of ``total`` and ``fine`` when the
    caller has it (``fine`` is then not read, and may be None)."""
    if brown is None:
        if fine is None:
            msg = "_body_table needs the fine-scale OD or the brown mask computed from it"
            raise ValueError(msg)
        brown = _brown_mask(total, fine)
    labels, n = _label(brown, eight=True)
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
    # (with numba only the holes are labelled: their pixels are the labelled ones)
    hr, hc = nonzero_rc(hole_lab > 0 if is_hole[1:].all() else is_hole[hole_lab])
    if len(hr):
        # the largest label in each hole pixel's 3x3 neighbourhood (ndi.grey_dilation of the
        # labels, at the hole pixels only: they never lie on the image border)
        grown = labels[hr, hc]
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                grown = np.maximum(grown, labels[hr + dr, hc + dc])
        at = hole_lab[hr, hc]
        owner = np.zeros(is_hole.shape[0], np.int64)  # (hole_lab.max() + 1: labels 1..n)
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


#: image rows whose dark pixels :func:`_brown_mask` tests at a time (its per-pixel temporaries,
#: ~40 bytes a dark pixel, are held for one band, not for the whole tile)
BROWN_BAND_ROWS = 128


def _brown_mask(total: np.ndarray, fine: np.ndarray, band_rows: int = BROWN_BAND_ROWS) -> np.ndarray:
    """(M, N) bool: the brown pixels of the body table, total OD >= :data:`_BODY_OD` and within
    :data:`_BROWN_CONE_DEG` of :data:`_BROWN` (``fine`` (M, N, 3) the fine-scale OD, ``total`` its norm).

    The hue test runs at the dark pixels only, band by band of ``band_rows`` image rows: each pixel
    gets the same float32 operations as in one whole-tile pass (a 3-term dot product and a
    division per pixel, independent of the others), so the mask is the same (tested), without
    whole-tile index, gathered-OD and cosine arrays (tens of MiB on a 3-MPx slide tile). With
    numba in one pass, the same operations (:func:`._pigment_brown.brown_mask`)."""
    from ._pigment_brown import brown_mask

    ref = _BROWN.astype(np.float32)
    fast = brown_mask(total, fine, ref, _BODY_OD, _BROWN_CONE_DEG)
    if fast is not None:
        return fast
    brown = np.zeros(total.shape, dtype=bool)
    limit = math.cos(math.radians(_BROWN_CONE_DEG))
    for r0 in range(0, total.shape[0], max(1, int(band_rows))):
        t = total[r0 : r0 + band_rows].ravel()
        dark = np.flatnonzero(t >= _BODY_OD)
        if dark.size == 0:
            continue
        f = fine[r0 : r0 + band_rows].reshape(-1, 3)[dark]
        cos = np.einsum("kc,c->k", f, ref) / np.maximum(t[dark], 1e-6)
        brown[r0 : r0 + band_rows].ravel()[dark[cos >= limit]] = True
    return brown


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


# --- object-level decision on the brown bodies of the gate (DAB-filled nucleus or melanin) -------

def body_object_features(labels: np.ndarray, n: int, od: np.ndarray, brown: np.ndarray, hematoxylin: np.ndarray,
                         prob: np.ndarray, melanin: np.ndarray, mpp: float, *, relative: bool = False) -> np.ndarray:
    """Features of each labelled brown body (:data:`OBJECT_FEATURES`) for the body model.

    Parameters
    ----------
    labels : (M, N) int ndarray
        Bodies 1..n (0 off them), e.g. the DAB-filled-nucleus candidates of the gate
        (:func:`mmnst_path.detect._pigment_gate.brown_body_labels`).
    n : int
    od : (M, N, 3) float32 ndarray
        RGB optical density (log10).
    brown, hematoxylin : (M, N) float32 ndarray
        Brown (DAB) and hematoxylin concentrations of the two-stain unmixing (log10 OD).
    prob : (M, N) float32 ndarray
        The pixel model's melanin probability.
    melanin : (M, N) bool ndarray
        The pixels the pixel model calls melanin.
    mpp : float
        µm per pixel.
    relative : bool
        Also the :data:`RELATIVE_FEATURES` columns (:data:`ALL_FEATURES`).

    Returns
    -------
    (n, F) float32 ndarray
        One row per body 1..n, columns :data:`OBJECT_FEATURES` (``relative``: :data:`ALL_FEATURES`).
    """
    x = body_image_features(labels, n, od, brown, hematoxylin, mpp, relative=relative)
    put_model_features(x, labels, n, prob, melanin)
    return x


def _per_body(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat indices of the labelled pixels, their labels, pixel count of each body 1..n, >= 1)."""
    idx = np.flatnonzero(labels.ravel() > 0)
    lab = labels.ravel()[idx]
    cnt = np.maximum(np.bincount(lab, minlength=n + 1)[1:].astype(np.float64), 1.0)
    return idx, lab, cnt


def put_model_features(x: np.ndarray, labels: np.ndarray, n: int, prob: np.ndarray, melanin: np.ndarray,
                       rows: np.ndarray | None = None) -> None:
    """Fill the :data:`MODEL_COLUMNS` of the body rows ``x`` (n, F) in place from the pixel model's
    probability ``prob`` and melanin pixels ``melanin`` (M, N); ``rows``: only these rows (n,) bool."""
    idx, lab, cnt = _per_body(labels, n)
    for name, w in (("model_share", melanin.ravel()[idx].astype(np.float64)),
                    ("model_prob", prob.ravel()[idx].astype(np.float64))):
        v = (np.bincount(lab, weights=w, minlength=n + 1)[1:] / cnt).astype(np.float32)
        col = OBJECT_FEATURES.index(name)
        if rows is None:
            x[:, col] = v
        else:
            x[rows, col] = v[rows]


def body_image_features(labels: np.ndarray, n: int, od: np.ndarray, brown: np.ndarray, hematoxylin: np.ndarray,
                        mpp: float, *, relative: bool = False) -> np.ndarray:
    """The rows of :func:`body_object_features` with the :data:`MODEL_COLUMNS` zero: what the
    image alone gives, before the pixel model ran (:func:`put_model_features` adds the rest; each
    column is computed on its own, so the values are the same). ``relative``: also the
    :data:`RELATIVE_FEATURES` columns, read against the tile's own nuclei."""
    from ..detect._morphology import _od_norm
    from ..detect._pigment_core import _disk_of
    from ._pigment_at import disk_extreme_at
    from ._pigment_body_sums import SUMS, body_pixel_sums

    idx, _, cnt = _per_body(labels, n)
    # dark local maxima (granules) inside each body (the disk extremes at the body pixels only:
    # the values of the whole-tile filters)
    whole = np.ascontiguousarray(_od_norm(od), dtype=np.float32)
    at = (idx // labels.shape[1], idx % labels.shape[1])
    here = whole.ravel()[idx]
    top = disk_extreme_at(whole, _disk_of(0.6 / mpp), at, op="max")
    # the 1 µm minimum at the local maxima only (a few per cent of the body pixels; elsewhere the
    # first test already fails): the same per-pixel values and test, so the same column
    peak = np.flatnonzero(here >= top)
    maxima = np.zeros(len(idx), np.float64)
    if len(peak):
        low = disk_extreme_at(whole, _disk_of(1.0 / mpp), (at[0][peak], at[1][peak]), op="min")
        maxima[peak] = (here[peak] - low >= 0.1).astype(np.float64)
    # the per-body sums of every per-pixel value below, in one pass (:mod:`._pigment_body_sums`)
    sums = body_pixel_sums(labels, n, idx, od, brown, hematoxylin, maxima)

    def per(name: str) -> np.ndarray:
        return sums[:, SUMS.index(name)]

    mean_t = per("total") / cnt
    sd_t = np.sqrt(np.maximum(per("total2") / cnt - mean_t * mean_t, 0.0))
    vec = np.stack([per("od_r"), per("od_g"), per("od_b")], axis=1)
    unit = vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-9)
    grey = unit.sum(axis=1) / math.sqrt(3.0)
    b = per("brown") / cnt
    h = per("hematoxylin") / cnt
    mean_s = per("share") / cnt
    mean_g = per("grey") / cnt
    # moment ellipse (filled nucleus ~1, ragged cluster or sheet lower)
    mr, mc = per("row") / cnt, per("col") / cnt
    vrr = np.maximum(per("row2") / cnt - mr * mr, 0.0) + 1.0 / 12
    vcc = np.maximum(per("col2") / cnt - mc * mc, 0.0) + 1.0 / 12
    vrc = per("rowcol") / cnt - mr * mc
    ellipse = 4.0 * math.pi * np.sqrt(np.maximum(vrr * vcc - vrc * vrc, 1e-12))
    area_um2 = cnt * mpp * mpp
    zero = np.zeros(n)
    cols = {
        "log_area": np.log10(area_um2),
        "model_share": zero,
        "model_prob": zero,
        "brown_od": b,
        "h_share": h / np.maximum(h + b, 1e-6),
        "log_dark": np.log10(mean_t + 0.02),
        "grey": grey,
        "u_r": unit[:, 0],
        "u_b": unit[:, 2],
        "od_cv": sd_t / (mean_t + 0.05),
        "maxima": per("maxima") / area_um2,
        "fill": np.minimum(cnt / ellipse, 2.0),
        "brown_sd": np.sqrt(np.maximum(per("share2") / cnt - mean_s * mean_s, 0.0)),
        "grey_sd": np.sqrt(np.maximum(per("grey2") / cnt - mean_g * mean_g, 0.0)),
    }
    x = np.stack([cols[name] for name in OBJECT_FEATURES], axis=1).astype(np.float32)
    if not relative:
        return x
    from ._pigment_relative import nuclear_reference, relative_columns, saturated_share

    rel = relative_columns(x[:, OBJECT_FEATURES.index("log_area")], x[:, OBJECT_FEATURES.index("log_dark")],
                           saturated_share(labels, n, od), nuclear_reference(whole, hematoxylin, brown, mpp))
    return np.concatenate([x, rel], axis=1)


@dataclass(frozen=True)
class BrownBodies:
    """The brown bodies of a tile and what the image alone says about them, before the pixel
    model runs (:func:`prepare_bodies`).

    Attributes
    ----------
    labels : (M, N) int ndarray
        Bodies 1..n (:func:`mmnst_path.detect._pigment_gate.brown_body_labels`), 0 off them.
    n : int
    od : (M, N, 3) ndarray
        RGB optical density (log10) of the tile.
    x : (n, F) float32 ndarray
        :func:`body_image_features` (the :data:`MODEL_COLUMNS` zero).
    decided : (n,) bool ndarray
        :func:`model_free_dab`: DAB whatever the pixel model says (outside the body model's
        ranges, or below its threshold for any pixel-model columns).
    """

    labels: np.ndarray
    n: int
    od: np.ndarray
    x: np.ndarray
    decided: np.ndarray

    def skip_region(self, gate: np.ndarray, *, mpp: float, params: Any) -> np.ndarray:
        """(M, N) bool, within ``gate`` (M, N) bool: where the pixel model's answer cannot change
        the result: the decided bodies with their ``filled_margin_um`` margin (what
        :func:`veto_bodies` vetoes before the rim grows), less the pixels of the other bodies
        (whose model features read it), within ``gate``."""
        from ..detect._pigment_core import _dilated, _disk_of

        on = np.take(np.concatenate([[False], self.decided]), self.labels)  # the decided bodies' pixels
        out = gate & on
        near = round(params.filled_margin_um / mpp)  # as veto_bodies grows the veto
        ask = gate & (self.labels == 0)
        if near > 0 and ask.any():
            disk = _disk_of(near)
            r = disk.shape[0] // 2
            m, n = on.shape
            # veto_bodies' dilation sees zeros beyond the tile: pixels whose disk crosses the border
            # are left to the pixel model (fewer skipped pixels, never a wrong one)
            ask[:r] = False
            ask[m - r :] = False
            ask[:, :r] = False
            ask[:, n - r :] = False
            out |= ask & _dilated(on, disk)  # (the disk inside the tile: its border is not read)
        return out


def prepare_bodies(rgb: np.ndarray, chans: Any, body_model: ClassifierModel, *, mpp: float, params: Any,
                   background: Any, od: np.ndarray | None = None) -> BrownBodies:
    """The brown bodies of ``rgb`` (``chans``: its ``pigment_channels(..., _with_hematoxylin=True)``),
    their image features and the ones decided DAB without the pixel model (:class:`BrownBodies`).
    ``od``: ``od_from_rgb(rgb, background=background)`` when the caller has it."""
    from ..detect._pigment_gate import brown_body_labels
    from ..stain import od_from_rgb

    od = od_from_rgb(rgb, background=background) if od is None else od
    labels, n = brown_body_labels(chans[0], chans[4], mpp, params)
    if n == 0:
        width = len(ALL_FEATURES if wants_relative(body_model) else OBJECT_FEATURES)
        return BrownBodies(labels, 0, od, np.zeros((0, width), np.float32), np.zeros(0, dtype=bool))
    x = body_image_features(labels, n, od, chans[0], chans[4], mpp, relative=wants_relative(body_model))
    return BrownBodies(labels, n, od, x, model_free_dab(x, body_model, params))


class _UndecidedBody(Exception):
    """A body decided DAB before the pixel model ran (:attr:`BrownBodies.decided`) might be taken
    back by its surroundings, which asks the pixel model's share of it: run the model there."""


def learned_body_veto(rgb: np.ndarray, mask: np.ndarray, prob: np.ndarray, chans: Any, body_model: ClassifierModel,
                      *, mpp: float, params: Any, background: Any, bodies: BrownBodies | None = None,
                      fill: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(veto, taken), (M, N) bool each.

    ``veto``: the brown bodies the body model calls DAB (melanin probability below
    ``body_min_probability``), with their margin and connected rim, and (``spindle_core_elongation``
    > 0) the DAB spindle nuclei inside the bodies it keeps (:func:`spindle_core_veto`).
    ``taken``: the pixels of the bodies it calls DAB that their surroundings decide melanin
    (:func:`~mmnst_path.classify._pigment_context.context_melanin_bodies`: near-black, marked by
    the pixel model, beside confirmed melanin), whole: they are melanin, not vetoed.

    ``bodies``: :func:`prepare_bodies` of these arguments (else computed here). ``prob`` and
    ``mask`` need not hold the pixel model's answer inside :meth:`BrownBodies.skip_region`
    (nothing read there changes the result). Where the context rule could take a decided body
    back (it reads the model's share of it; on tiles without confirmed melanin it never does),
    ``fill(still)`` is called with the decided bodies that stay decided ((n,) bool: the others
    are the ones the rule could take) and returns (``mask``, ``prob``) with the pixel model's
    answer wherever the skip region of the bodies left (:meth:`BrownBodies.skip_region`) is
    not; the rule is then asked again (one call suffices: the new pixels lie inside the veto of
    every decided body, so the rule's support is unchanged and the shares it asks can only
    fall). Without ``fill`` it raises :class:`_UndecidedBody` there.
    """
    from ..detect._pigment_gate import veto_bodies
    from ._pigment_context import context_melanin_bodies

    if bodies is None:
        bodies = prepare_bodies(rgb, chans, body_model, mpp=mpp, params=params, background=background)
        bodies = replace(bodies, decided=np.zeros(bodies.n, dtype=bool))
    labels, n, od = bodies.labels, bodies.n, bodies.od
    if n == 0:
        return np.zeros(mask.shape, dtype=bool), np.zeros(mask.shape, dtype=bool)
    x = bodies.x.copy()
    put_model_features(x, labels, n, prob, mask)
    p = body_melanin_probability(x, body_model)
    dab = np.concatenate([[False], p < params.body_min_probability])
    veto = veto_bodies(labels, dab, mask, mpp=mpp, params=params)
    taken = np.zeros(n + 1, dtype=bool)
    if params.context_radius_um > 0 and dab[1:].any() and mask.any():
        # a decided body counts as marked all over by the pixel model: the bodies taken back are
        # a superset of the exact ones, the same set when it holds no decided body
        decided = bodies.decided
        while True:
            x_ctx = x
            if decided.any():
                x_ctx = x.copy()
                x_ctx[decided, OBJECT_FEATURES.index("model_share")] = np.inf
            taken = context_melanin_bodies(labels, n, x_ctx, dab, mask & ~veto, od, mpp=mpp, params=params)
            back = taken[1:] & decided
            if not back.any():
                break
            if fill is None:
                raise _UndecidedBody
            # the pixel model over the bodies the rule could take and their margins; they stay
            # DAB for the body model (outside its ranges) and the new pixels lie inside the veto
            # of the decided bodies (its rim grows from there): ``dab`` and ``veto`` are as before
            decided = decided & ~back
            mask, prob = fill(decided)
            put_model_features(x, labels, n, prob, mask)
            if (x[back, OBJECT_FEATURES.index("model_share")] >= params.context_model_share).all():
                # the bodies taken are still candidates of the rule with their own shares (the
                # only thing of them it reads; its support is unchanged): the same answer
                break
        if taken.any():
            dab &= ~taken
            veto = veto_bodies(labels, dab, mask, mpp=mpp, params=params)
    if params.spindle_core_elongation > 0 and not dab[1:].all():
        kept = ~np.take(dab, labels) & (labels > 0)
        veto |= spindle_core_veto(kept, od, chans, prob, mask, body_model, mpp=mpp, params=params)
    return veto, np.take(taken, labels) & ~veto


def spindle_core_veto(kept: np.ndarray, od: np.ndarray, chans: Any, prob: np.ndarray, mask: np.ndarray,
                      body_model: ClassifierModel, *, mpp: float, params: Any) -> np.ndarray:
    """Veto (M, N) bool: DAB-filled spindle nuclei inside the brown bodies kept as melanin.

    A DAB-positive spindle nucleus merges with the granule chain along its cell into one brown
    body (the smoothing that closes a textured nucleus bridges the granules), which the body
    model keeps as melanin. The cores of the kept bodies (``kept``: unsmoothed brown >=
    ``body_od``, opened with a disk of radius ``body_radius_um``: separate granules fall away)
    whose moment ellipse is >= ``spindle_core_elongation`` times longer than wide and filled to
    >= ``spindle_core_min_fill`` (a spindle nucleus) are decided again by the body model on their
    own; those it calls DAB are vetoed (no margin, no rim).
    """
    from ..detect._pigment_core import _opened

    core = _opened((chans[0] >= params.body_od) & kept, params.body_radius_um / mpp)
    labels, n = _label(core)
    if n == 0:
        return np.zeros(kept.shape, dtype=bool)
    idx = np.flatnonzero(labels.ravel() > 0)
    lab = labels.ravel()[idx]
    rr = (idx // labels.shape[1]).astype(np.float64)
    cc = (idx % labels.shape[1]).astype(np.float64)
    cnt = np.maximum(np.bincount(lab, minlength=n + 1), 1.0)

    def mean(w: np.ndarray) -> np.ndarray:
        return np.bincount(lab, weights=w, minlength=n + 1) / cnt

    mr, mc = mean(rr), mean(cc)
    vrr = np.maximum(mean(rr * rr) - mr * mr, 0.0) + 1.0 / 12
    vcc = np.maximum(mean(cc * cc) - mc * mc, 0.0) + 1.0 / 12
    vrc = mean(rr * cc) - mr * mc
    half = np.sqrt((vrr - vcc) ** 2 / 4.0 + vrc * vrc)
    major = 4.0 * np.sqrt((vrr + vcc) / 2.0 + half)  # full axes of the moment ellipse, px
    minor = 4.0 * np.sqrt(np.maximum((vrr + vcc) / 2.0 - half, 1e-12))
    fill = cnt / (math.pi * major * minor / 4.0)
    spindle = (major >= params.spindle_core_elongation * minor) & (fill >= params.spindle_core_min_fill)
    spindle[0] = False
    if not spindle.any():
        return np.zeros(kept.shape, dtype=bool)
    x = body_object_features(labels, n, od, chans[0], chans[4], prob, mask, mpp, relative=wants_relative(body_model))
    dab = np.concatenate([[False], body_melanin_probability(x, body_model) < params.body_min_probability])
    return np.take(dab & spindle, labels)
