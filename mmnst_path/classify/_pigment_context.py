"""Dark brown bodies decided by their surroundings (issue #14): melanin beside melanin.

The brown-body model (:mod:`mmnst_path.classify._pigment_bodies`) decides each brown body by its
own colour, texture and shape, and answers "DAB" outside the range of its melanin training
bodies. Near-black melanin filling a cell or lying over a nucleus is beyond an 8-bit scanner's
range: every channel at the floor, neutral and textureless, exactly what a saturated DAB-positive
nucleus looks like (measured: real BCData positives have up to 59 % of a body's pixels at OD >= 1
in all three channels, generated near-black melanin 30-70 %). Colour cannot separate them; the
surroundings can: melanin lies where there is other melanin, and the real Ki67 sets, which hold
none, never carry pigment clusters beside their dark nuclei.

A body the body model calls DAB is taken back as melanin here when

1. the pixel model calls at least ``context_model_share`` of it melanin, or it covers at least
   ``context_large_um2`` (several filled cells merged into one body: the pixel model, trained
   without near-black melanin, misses such fields), and at least ``context_saturated_share`` of
   its pixels are near-black (OD >= ``context_saturated_od`` in every RGB channel): it could be
   either; and
2. at least ``context_min_um2`` of confirmed melanin (the pixel model's pixels outside every
   vetoed body and its rim, in clusters) lies within ``context_radius_um`` of it (a square
   window of side ``2 * context_radius_um + 1 px`` centred on one of its pixels). Bodies taken
   back count as confirmed melanin for the next of ``context_steps`` rounds, so a field of
   near-black cells seeded by granular pigment at its edge is taken whole; a tile without
   granular melanin takes nothing back (every body is decided as before).

The nucleus under a body taken back is then covered by the pigment mask and reported as
``pigment`` (unassessable) by :func:`mmnst_path.quantify.ki67.measure_ki67`, never counted
positive, and the QC bound carries it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..detect._pigment_core import nonzero_rc

__all__: list[str] = []


def context_melanin_bodies(labels: np.ndarray, n: int, x: np.ndarray, dab: np.ndarray, support: np.ndarray,
                           od: np.ndarray, *, mpp: float, params: Any) -> np.ndarray:
    """Which of the brown bodies the body model calls DAB are melanin by their surroundings.

    Parameters
    ----------
    labels : (M, N) int ndarray
        Brown bodies 1..n (0 off them).
    n : int
    x : (n, F) float32 ndarray
        The bodies' :data:`~mmnst_path.classify._pigment_bodies.OBJECT_FEATURES` rows.
    dab : (n + 1,) bool ndarray
        The bodies the body model calls DAB (index 0 False).
    support : (M, N) bool ndarray
        Confirmed melanin: the pixel model's melanin off the vetoed bodies and their rims.
    od : (M, N, 3) float32 ndarray
        RGB optical density (log10).
    mpp : float
        µm per pixel.
    params : PigmentParams
        ``context_radius_um`` (0: off), ``context_min_um2``, ``context_model_share``,
        ``context_large_um2``, ``context_saturated_share``, ``context_saturated_od``, ``context_steps``.

    Returns
    -------
    (n + 1,) bool ndarray
        True for the bodies taken back as melanin (index 0 False; a subset of ``dab``).
    """
    from scipy import ndimage as ndi

    from ..detect._nucleus_measure import _label_max
    from ..detect.pigment import clustered_pigment
    from ._pigment_bodies import OBJECT_FEATURES

    taken = np.zeros(n + 1, dtype=bool)
    if params.context_radius_um <= 0 or n == 0 or not dab[1:].any():
        return taken
    if _below_min(int(np.count_nonzero(support)), mpp, params.context_min_um2):
        return taken  # too little confirmed melanin on the whole tile to take any body back
    share = x[:, OBJECT_FEATURES.index("model_share")]
    idx = np.flatnonzero(labels.ravel() > 0)
    lab = labels.ravel()[idx]
    rgb_od = od.reshape(-1, 3)[idx]  # the darkest channel (the same minimum as .min(axis=1), ~4x faster)
    dark = np.minimum(np.minimum(rgb_od[:, 0], rgb_od[:, 1]), rgb_od[:, 2]) >= params.context_saturated_od
    area = np.maximum(np.bincount(lab, minlength=n + 1), 1)
    sat = np.bincount(lab, weights=dark, minlength=n + 1) / area
    # larger than a nucleus (a field of filled cells merged into one body), the pixel model's
    # share is not asked: it was trained without near-black melanin and misses such fields
    large = area[1:] * mpp * mpp >= params.context_large_um2 if params.context_large_um2 > 0 else False
    cand = dab.copy()
    cand[1:] &= ((share >= params.context_model_share) | large) & (sat[1:] >= params.context_saturated_share)
    if not cand.any():
        return taken
    side = 2 * round(params.context_radius_um / mpp) + 1
    if _out_of_reach(idx, lab, cand, support, labels.shape[1], side // 2, mpp, params.context_min_um2):
        return taken
    seeds = clustered_pigment(support, mpp=mpp, params=params) if support.any() else support
    if not seeds.any():
        return taken
    at = np.flatnonzero(cand)
    for _ in range(int(params.context_steps) + 1):
        pool = seeds | (np.take(taken, labels) if taken.any() else False)
        near = ndi.uniform_filter(pool.astype(np.float32), side, mode="constant") * (side * side * mpp * mpp)
        best = np.zeros(n + 1)
        best[at] = _label_max(near, labels, n)[at]  # ndi.maximum's values without its sort of the pixels
        now = cand & (best >= params.context_min_um2)
        if np.array_equal(now, taken):
            break
        taken = now
    return taken


#: relative allowance for the float32 rounding of the window sums (``uniform_filter`` of a 0 / 1
#: image, times the window's area): a count of pixels, recovered within ~1e-6 of itself
_ROUNDING = 1e-3


def _below_min(count: int, mpp: float, min_um2: float) -> bool:
    """Whether ``count`` pixels of confirmed melanin are certainly less than ``min_um2`` µm² (with
    room for the rounding of the window sums, :data:`_ROUNDING`)."""
    return count * mpp * mpp * (1.0 + _ROUNDING) < min_um2


def _out_of_reach(idx: np.ndarray, lab: np.ndarray, cand: np.ndarray, support: np.ndarray, width: int,
                  half: int, mpp: float, min_um2: float) -> bool:
    """Whether no candidate body of :func:`context_melanin_bodies` can be taken back (an exact
    skip of its seeds, window sums and per-body maxima, which then answer "none").

    Necessary condition for taking body b in the first round: some pixel p of b has at least
    ``min_um2`` of seeds in the square of half-side ``half`` around p. The seeds
    (``clustered_pigment(support)``) are a subset of ``support``, and every such square lies in
    b's bounding box grown by ``half``; so the seeds near p are at most the ``support`` pixels in
    that grown box. When that count is below ``min_um2`` for every candidate body (``cand``), the
    first round takes nothing, the rounds stop there and nothing is taken. ``idx``, ``lab``: the
    raveled indices and labels of the body pixels (row-major), ``width``: the tile's columns.

    The count of a box: the support pixels of its rows (a slice of them in row-major order) whose
    column lies in it; the bodies are taken one at a time and the first whose box holds enough
    support answers False (tiles with melanin near many bodies stop at once)."""
    rows_s, cols_s = nonzero_rc(support)  # row-major: rows_s is sorted
    if not len(rows_s):
        return True
    on = cand[lab]
    at, which = idx[on], lab[on]
    rows, cols = at // width, at % width
    n = cand.shape[0]
    r0 = np.full(n, np.iinfo(np.intp).max, np.intp)
    c0 = np.full(n, np.iinfo(np.intp).max, np.intp)
    r1 = np.full(n, -1, np.intp)
    c1 = np.full(n, -1, np.intp)
    np.minimum.at(r0, which, rows)
    np.minimum.at(c0, which, cols)
    np.maximum.at(r1, which, rows)
    np.maximum.at(c1, which, cols)
    for b in np.flatnonzero(cand):
        lo = int(np.searchsorted(rows_s, r0[b] - half, side="left"))
        hi = int(np.searchsorted(rows_s, r1[b] + half, side="right"))
        c = cols_s[lo:hi]
        if not _below_min(int(np.count_nonzero((c >= c0[b] - half) & (c <= c1[b] + half))), mpp, min_um2):
            return False
    return True
