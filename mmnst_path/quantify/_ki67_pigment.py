"""Pigment handling of the Ki67 measurement (issue #14): per-nucleus pigment evidence, the pigment
prior, the near-black share, the hidden-nucleus and pigment-cell models, and the DAB fill under
pigment that detection reads.

Moved unchanged from :mod:`mmnst_path.quantify.ki67` (which imports these names back, so callers
and tests that read them there still do).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..detect._morphology import _filled_at, _smoothed_at
from ._ki67_contrast import RingLabels, _ring_labels
from ._ki67_params import Ki67Params

if TYPE_CHECKING:
    from .ki67 import Ki67Cells


def _pigment_evidence(
    labels: np.ndarray, dab: np.ndarray, hidden: np.ndarray, mask: np.ndarray, n: int, *, fill_od: float,
    ring_px: int, saturated: np.ndarray | None = None, saturated_share: float = 0.0,
    prior: np.ndarray | None = None, rings: RingLabels | None = None,
) -> dict[str, np.ndarray]:
    """Per-nucleus pigment evidence, each of shape (n,), from the label image.

    ``visible_fraction``: fraction of the nucleus's pixels outside ``hidden`` (the grown pigment
    mask); ``visible_dab``: mean DAB over those pixels (NaN when none); ``dab_fill``: fraction
    of all its pixels with DAB >= ``fill_od``; ``full_dab``: mean DAB over all its pixels;
    ``ring``: fraction of the ring of ``ring_px`` pixels around it that is in ``mask`` (ring
    pixels are background pixels whose nearest label within a square of side
    ``2 ring_px + 1`` is the nucleus, by a separable maximum filter of the label image);
    ``saturated`` (only with ``saturated``, the (n,) near-black fraction of each nucleus from
    :func:`_near_black_fraction`): that fraction.

    Pigment prior (issue #14): ``prior`` ((n,) bool, :func:`_prior_holds`) marks the nuclei with
    melanin around them (or every nucleus, for a lesion declared pigmented). Such a nucleus whose
    pixels are at least ``saturated_share`` near-black (``saturated``) is undecided, whether the
    mask touches it or not: near-black melanin over a cell and a saturated DAB-positive nucleus
    look alike, and beside melanin the first is the likelier. Its ``visible_fraction`` is set to
    0 (unreadable, not added to the mask), and ``saturated`` keeps it ``pigment`` in
    :func:`classify_nuclei`. None: no prior (nuclei without melanin around them are untouched).
    ``rings``: the :class:`~mmnst_path.quantify._ki67_contrast.RingLabels` of ``labels`` (shared).
    """
    from ..detect._morphology import _numba_kernels

    ring = _ring_labels(labels, ring_px) if rings is None else rings(ring_px)
    kern = _numba_kernels() if labels.ndim == 2 and labels.dtype.kind in "iu" and labels.size else None
    area: np.ndarray
    n_vis: np.ndarray
    vis_dab: np.ndarray
    fill: np.ndarray
    full: np.ndarray
    ring_area: np.ndarray
    ring_sum: np.ndarray
    if kern is not None:  # the bincount sums below in compiled raster passes (same additions, same order)
        sums = np.zeros((n + 1, 5), np.float64)
        kern.evidence_sums(np.ascontiguousarray(labels), np.ascontiguousarray(dab), np.ascontiguousarray(hidden),
                           float(fill_od), sums)
        ring_sums = np.zeros((n + 1, 2), np.float64)
        kern.label_count_sum(ring, np.ascontiguousarray(mask), ring_sums)
        area, n_vis, vis_dab, fill, full = (sums[:, k] for k in range(5))
        area = np.maximum(area, 1.0)
        ring_area, ring_sum = np.maximum(ring_sums[:, 0], 1.0), ring_sums[:, 1]
    else:
        flat = labels.ravel()
        d = dab.ravel().astype(np.float64)
        vis = ~hidden.ravel()
        area = np.maximum(np.bincount(flat, minlength=n + 1), 1).astype(np.float64)
        n_vis = np.bincount(flat, vis, minlength=n + 1)
        vis_dab = np.bincount(flat, d * vis, minlength=n + 1)
        fill = np.bincount(flat, d >= fill_od, minlength=n + 1)
        full = np.bincount(flat, d, minlength=n + 1)
        ring_area = np.maximum(np.bincount(ring.ravel(), minlength=n + 1), 1)
        ring_sum = np.bincount(ring.ravel(), mask.ravel(), minlength=n + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        visible_dab = vis_dab / n_vis
    out = {
        "visible_fraction": (n_vis / area)[1:],
        "visible_dab": visible_dab[1:],
        "dab_fill": (fill / area)[1:],
        "full_dab": (full / area)[1:],
        "ring": (ring_sum / ring_area)[1:],
    }
    if saturated is not None:
        out["saturated"] = np.asarray(saturated, dtype=np.float64)
        if saturated_share > 0 and prior is not None:
            undecided = (out["saturated"] >= saturated_share) & prior
            out["visible_fraction"] = np.where(undecided, 0.0, out["visible_fraction"])
    return out


def _local_pigment_share(mask: np.ndarray, row: Any, col: Any, *, radius_px: int,
                         origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """(n,) float64: the fraction of the square of side ``2 radius_px + 1`` centred on each
    centroid's pixel that is in ``mask``.

    ``row``, ``col``: centroids in the frame of a larger image in which ``mask``'s pixel (0, 0)
    is at ``origin``; the centre pixel is ``floor(x + 0.5)`` (unlike ``np.rint``, the same pixel
    whatever integer offset the frame has, so the same in every tile). Pixels outside ``mask``
    count as pigment-free and the denominator is always the square's area, so the share is that
    of the larger image wherever ``mask`` holds all its pigment within ``radius_px`` of the
    centroid. One summed-area table of ``mask``, four look-ups a nucleus.
    """
    r = np.floor(np.asarray(row, np.float64) - origin[0] + 0.5).astype(np.intp)
    c = np.floor(np.asarray(col, np.float64) - origin[1] + 0.5).astype(np.intp)
    if r.size == 0:
        return np.zeros(0, np.float64)
    table = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), np.int64)
    np.cumsum(mask, axis=0, dtype=np.int64, out=table[1:, 1:])
    np.cumsum(table[1:, 1:], axis=1, out=table[1:, 1:])
    r0, r1 = np.clip(r - radius_px, 0, mask.shape[0]), np.clip(r + radius_px + 1, 0, mask.shape[0])
    c0, c1 = np.clip(c - radius_px, 0, mask.shape[1]), np.clip(c + radius_px + 1, 0, mask.shape[1])
    hits = table[r1, c1] - table[r0, c1] - table[r1, c0] + table[r0, c0]
    return hits / float((2 * radius_px + 1) ** 2)


def _prior_holds(params: Ki67Params, mask: np.ndarray, nuclei: Any, *, mpp: float, always: bool,
                 origin: tuple[int, int]) -> np.ndarray | None:
    """(n,) bool: the nuclei for which the pigment prior holds (issue #14), or None for none.

    Every nucleus with ``always`` (``near_black = "pigment"``, a lesion declared pigmented);
    else those with at least ``params.pigment_prior_fraction`` (> 0) of the square of half-side
    ``params.pigment_prior_radius_um`` around their centroid in ``mask``
    (:func:`_local_pigment_share`). Decided per nucleus within a reach the Ki67 tile halo holds,
    so a nucleus's call does not depend on the tiling. Gates the near-black prior of
    :func:`_pigment_evidence` and the hidden-nucleus model (:func:`_hidden_decision`).
    """
    n = len(nuclei)
    if always:
        return np.ones(n, bool)
    if not params.pigment_prior_fraction > 0 or n == 0 or not mask.any():
        return None
    radius_px = max(0, round(params.pigment_prior_radius_um / mpp))
    # exact skip of the summed-area table: a nucleus's square holds at most every mask pixel and
    # its share (hits / area) grows with its hits, so with the whole mask's count / area below the
    # fraction no nucleus holds (the real Ki67 tiles: a few false pigment pixels, 0.2 % of a square
    # of 150 µm half-side is ~720 px at 0.5 µm/px)
    if np.count_nonzero(mask) / float((2 * radius_px + 1) ** 2) < params.pigment_prior_fraction:
        return None
    share = _local_pigment_share(mask, nuclei.row, nuclei.col, radius_px=radius_px, origin=origin)
    held = share >= params.pigment_prior_fraction
    return held if held.any() else None


def _near_black_fraction(labels: np.ndarray, rgb: np.ndarray, n: int, *, od: float,
                         background: Any = None) -> np.ndarray:
    """(n,) float64: the fraction of each nucleus's pixels (label ``i + 1``) that are near-black,
    at OD >= ``od`` in every RGB channel (beyond the scanner's range: strong DAB or melanin).

    The OD of each channel is read from :func:`~mmnst_path.stain.od.od_lut` as float32, the
    table :func:`~mmnst_path.stain.od_from_rgb` reads (non-increasing in the value), so a pixel
    is near-black here exactly when ``od_from_rgb(rgb).min(axis=-1) >= od``. Used by the pigment prior
    (:func:`_pigment_evidence`), by ``Ki67Params.near_black`` and by the QC count of near-black
    positives (:attr:`Ki67Cells.near_black`): one measure for all three.
    """
    from ..detect._morphology import _numba_kernels
    from ..stain.od import od_lut

    dark = od_lut(background).astype(np.float32) >= od  # (3, 256): channel value near-black
    if not dark[:, 0].all():  # some channel never that dark
        return np.zeros(n, np.float64)
    # OD falls as the value rises: near-black is "value <= the last level at od" (3 compares, no gathers)
    top = [int(np.flatnonzero(d).max()) for d in dark]
    sat = rgb[..., 0] <= top[0]
    sat &= rgb[..., 1] <= top[1]
    sat &= rgb[..., 2] <= top[2]
    kern = _numba_kernels() if labels.ndim == 2 and labels.dtype.kind in "iu" and labels.size else None
    if kern is not None:  # counts and sums per label in one compiled raster pass
        sums = np.zeros((n + 1, 2), np.float64)  # (labels 1..n, as in _pigment_evidence)
        kern.label_count_sum(np.ascontiguousarray(labels), np.ascontiguousarray(sat), sums)
        area, hits = sums[:, 0], sums[:, 1]
    else:
        area = np.bincount(labels.ravel(), minlength=n + 1)[: n + 1].astype(np.float64)
        hits = np.bincount(labels.ravel(), sat.ravel(), minlength=n + 1)[: n + 1].astype(np.float64)
    return (hits / np.maximum(area, 1.0))[1:]


#: Ki67 chromogens whose covered nuclei ``Ki67Params.red_covered_min_chromogen_od`` reads by colour.
RED_FILL_CHROMOGENS = ("aec", "fast_red")
_MIN_MELANIN_PIXELS = 20  # fewer pigment pixels outside nuclei: the physical melanin direction
#: A tile whose melanin direction lies within this many degrees of the chromogen gets no colour test:
#: its "melanin" is mostly the chromogen (a pigment mask on red positives, as on unpigmented varied
#: AEC tiles at 3-6°), and the unmixing cannot tell the two apart. Generated families, dev seeds
#: 40-47, AEC plain + varied: melanin read 7-17° from AEC on pigmented tiles; 8 chosen there.
_MIN_MELANIN_CHROMOGEN_DEG = 8.0


def _covered_chromogen(params: Ki67Params, labels: np.ndarray | None, rgb: np.ndarray, mask: np.ndarray | None,
                       matrix: Any, pair: tuple[str, str], *, background: Any) -> np.ndarray | None:
    """(n,) float64: each nucleus's chromogen (log10 OD) read by colour with melanin unmixed, or None
    where ``Ki67Params.red_covered_min_chromogen_od`` does not apply (off, not a red chromogen of
    :data:`RED_FILL_CHROMOGENS`, no labels or no mask).

    The nucleus's mean OD over all its pixels (against ``background``) is unmixed, by least squares,
    into ``matrix``'s counterstain and chromogen vectors plus the tile's melanin direction: the mean OD
    of the ``mask`` pixels outside every nucleus, normalised (the physical
    :func:`~mmnst_path.stain.melanin_vector` when fewer than 20 such pixels). Three unknowns in three
    channels; the mean over a nucleus keeps the per-pixel noise of a chromogen 13° from melanin (AEC)
    out. The direction read from the tile holds whatever the cytoplasm under the melanin adds, so the
    value is a contrast (negatives under melanin read near or below 0), not a calibrated chromogen OD.
    None too when that direction lies within 8° of the chromogen (``_MIN_MELANIN_CHROMOGEN_DEG``).
    """
    from ..stain import angle_deg, melanin_vector
    from ..stain.od import od_from_rgb

    if (not params.red_covered_min_chromogen_od > 0 or pair[1] not in RED_FILL_CHROMOGENS or labels is None
            or mask is None or not labels.size):
        return None
    n = int(labels.max())
    flat = labels.ravel()
    od = od_from_rgb(rgb, background=background).reshape(-1, 3).astype(np.float64)
    free = mask.ravel() & (flat == 0)
    mel = od[free].mean(axis=0) if np.count_nonzero(free) >= _MIN_MELANIN_PIXELS else melanin_vector()
    norm = float(np.linalg.norm(mel))
    mel = mel / norm if norm > 0 else melanin_vector()
    if angle_deg(mel, matrix.vector(pair[1])) < _MIN_MELANIN_CHROMOGEN_DEG:
        return None
    area = np.maximum(np.bincount(flat, minlength=n + 1), 1).astype(np.float64)
    mean = np.stack([np.bincount(flat, od[:, k], minlength=n + 1) / area for k in range(3)], axis=1)[1:]
    basis = np.stack([matrix.vector(pair[0]), matrix.vector(pair[1]), mel]).astype(np.float64)
    return np.asarray(np.linalg.lstsq(basis.T, mean.T, rcond=None)[0][1], np.float64)


def _hidden_decision(params: Ki67Params, labels: np.ndarray | None, rgb: np.ndarray, conc: np.ndarray | None,
                     hidden: np.ndarray | None, mask: np.ndarray | None, saturated: np.ndarray | None, *,
                     pair: tuple[str, str], mpp: float, background: Any, always: bool,
                     prior: np.ndarray | None,
                     keep: bool) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(which nuclei ``Ki67Params.hidden_model`` calls hidden under pigment, or None where the rules
    decide; the same at ``hidden_covered_min_probability`` for the covered nuclei the rules read, or
    None when that is not above ``hidden_min_probability``; the feature rows when ``keep`` or used,
    else None).

    The model decides only with a hematoxylin-DAB pair, a pigment mask and for the nuclei where
    the pigment prior holds (``prior``, :func:`_prior_holds`: melanin around the nucleus, or
    ``always``, a declared pigmented lesion); its decisions are False elsewhere (and
    :func:`classify_nuclei` leaves those nuclei to the rules). In declared mode a near-black
    nucleus stays ``pigment`` whatever it says.
    """
    from ..classify.hidden_nuclei import SETTINGS as SETTINGS_HIDDEN
    from ..classify.hidden_nuclei import hidden_probability, nucleus_features, resolve_hidden_model
    from ..stain.od import od_from_rgb

    if labels is None or conc is None or not labels.size:
        return None, None, None
    n = int(labels.max()) if saturated is None else int(saturated.shape[0])
    model = resolve_hidden_model(params.hidden_model) if pair == ("hematoxylin", "dab") else None
    gate = model is not None and mask is not None and n > 0 and prior is not None
    if not (gate or keep):
        return None, None, None
    sat = np.zeros(n) if saturated is None else saturated
    # the features are computed as the model was trained (its near-black OD and positive DAB threshold),
    # whatever the user set for the rules: a changed Ki67 threshold must not move the model's inputs
    trained = (model.settings if model is not None else {})
    near_black_od = float(trained.get("near_black_od", SETTINGS_HIDDEN["near_black_od"]))
    positive_od = float(trained.get("positive_od", SETTINGS_HIDDEN["positive_od"]))
    feat_sat = sat
    if saturated is None or params.pigment_saturated_od != near_black_od:
        feat_sat = _near_black_fraction(labels, rgb, n, od=near_black_od, background=background)
    empty = np.zeros(labels.shape, bool)
    rows = nucleus_features(labels, od_from_rgb(rgb, background=background), conc[..., 0], conc[..., 1],
                            empty if hidden is None else hidden, empty if mask is None else mask, feat_sat, mpp=mpp,
                            positive_od=positive_od)
    if not gate:
        return None, None, rows
    assert model is not None
    assert prior is not None
    p = hidden_probability(model, rows)
    decided = (p >= params.hidden_min_probability) & prior
    firm = None
    if params.hidden_covered_min_probability > params.hidden_min_probability:
        firm = (p >= params.hidden_covered_min_probability) & prior
    if always:
        decided |= sat >= params.pigment_saturated_share
        if firm is not None:
            firm |= sat >= params.pigment_saturated_share
    return decided, firm, rows if keep else None


def _pigment_cell_rows(labels: np.ndarray, rgb: np.ndarray, conc: np.ndarray, hidden: np.ndarray | None,
                       mask: np.ndarray | None, nuclei: Any, *, mpp: float, background: Any) -> np.ndarray:
    """The (n, F) rows of :func:`mmnst_path.classify.hidden_nuclei.cell_features` of the detected
    nuclei (computed at the settings the models are trained at, whatever the user set for the rules;
    the empty mask where ``hidden`` / ``mask`` is None)."""
    from ..classify.hidden_nuclei import SETTINGS as SETTINGS_HIDDEN
    from ..classify.hidden_nuclei import cell_features
    from ..stain.od import od_from_rgb

    n = len(nuclei)
    empty = np.zeros(labels.shape, bool)
    sat = _near_black_fraction(labels, rgb, n, od=float(SETTINGS_HIDDEN["near_black_od"]), background=background)
    return cell_features(labels, od_from_rgb(rgb, background=background), conc[..., 0], conc[..., 1],
                         empty if hidden is None else hidden, empty if mask is None else mask, sat,
                         np.asarray(nuclei.circularity), np.asarray(nuclei.eccentricity), mpp=mpp,
                         positive_od=float(SETTINGS_HIDDEN["positive_od"]))


def _apply_pigment_cells(cells: Ki67Cells, model: Any, rows: np.ndarray, prior: np.ndarray,
                         params: Ki67Params) -> Ki67Cells:
    """``cells`` with the pigment-cell model's calls (``Ki67Params.pigment_cell_model``) applied to
    the nuclei in the index where the pigment prior holds: ``hidden`` -> ``pigment``, a positive
    read ``negative`` -> negative (bin 0); never a negative made positive.

    A nucleus the model reads ``negative`` whose DAB OD mean is at least ``weak_stain_floor_od``
    (brown that the model reads as melanin) gets ``dab_od_mean`` NaN (not read): the slide's
    weak-stain threshold (:func:`mmnst_path.aggregate.apply_slide_threshold`) neither counts that
    brown as staining nor turns the nucleus positive again."""
    counted = np.isin(cells.cls, ("positive", "negative")) & np.asarray(prior, bool)
    if not counted.any():
        return cells
    from ..classify.hidden_nuclei import CELL_CLASSES

    p = np.zeros((len(cells), len(CELL_CLASSES)))
    p[counted] = model.predict_proba(np.asarray(rows[counted], np.float32))
    t = params.pigment_cell_min_probability
    to_pigment = counted & (p[:, CELL_CLASSES.index("hidden")] >= t)
    to_negative = (counted & ~to_pigment & (cells.cls == "positive")
                   & (p[:, CELL_CLASSES.index("negative")] >= t))
    cls = cells.cls.copy()
    cls[to_pigment] = "pigment"
    cls[to_negative] = "negative"
    bins = np.where(cls == "positive", cells.intensity_bin, 0).astype(np.int8)
    stain = np.where(cls == "positive", bins, np.where(cls == "negative", 0, -1)).astype(np.int8)
    dab = np.asarray(cells.dab_od_mean, np.float32).copy()
    read_negative = (counted & (cls == "negative") & (p[:, CELL_CLASSES.index("negative")] >= t)
                     & (dab >= params.weak_stain_floor_od))
    dab[read_negative] = np.nan
    return replace(cells, cls=cls, intensity_bin=bins, stain_bin=stain, dab_od_mean=dab)


def _without_pigment(rgb: np.ndarray, conc: np.ndarray, hidden: np.ndarray, matrix: Any, background: Any,
                     sigma_px: float, pair: tuple[str, str] = ("hematoxylin", "dab"), *,
                     fill_counterstain: bool = False) -> np.ndarray:
    """``rgb`` with the DAB of the ``hidden`` (pigment) pixels replaced by that of their
    pigment-free surroundings; the counterstain kept; other pixels unchanged (detection input).
    ``pair``: (counterstain, chromogen), the stains of ``conc``'s two planes.

    ``fill_counterstain`` (azure B, ``Ki67Params.azure_counterstain_fill``): the counterstain of
    the hidden pixels is filled from the surroundings too (never raised), at every depth: melanin
    binds azure B, so a granule cluster reads as dark counterstain and would be segmented with
    the negative nuclei it surrounds."""
    from ..stain import rgb_from_stains

    clean = conc[hidden].copy()
    first = first_h = None
    if sigma_px >= 0.3:
        # one windowed pass of the three blurs at sigma_px, shared by the DAB fill and the cap
        keep = (~hidden).astype(np.float32)
        num_d, num_h, den = _smoothed_at((conc[..., 1] * keep, conc[..., 0] * keep, keep), sigma_px, hidden)
        first, first_h = (num_d, den), (num_h, den)
    clean[:, 1] = _filled_at(conc[..., 1], hidden, sigma_px, first)
    if fill_counterstain:
        clean[:, 0] = np.minimum(clean[:, 0], _filled_at(conc[..., 0], hidden, sigma_px, first_h))
    # melanin is not exactly the DAB vector: its leak into hematoxylin would turn granule bands
    # into faint "nuclei" or merge them with the nucleus they surround. Within reach of
    # pigment-free pixels (>= 10 % weight at sigma_px) hematoxylin is capped by theirs; deep
    # under pigment (a wholly covered nucleus) it is kept, so such a nucleus is still found
    # and reported as ``pigment``.
    elif sigma_px >= 0.3:
        near = den >= 0.1
        h_fill = num_h[near] / den[near]
        clean[near, 0] = np.minimum(clean[near, 0], h_fill)
    out = rgb.copy()
    out[hidden] = rgb_from_stains(clean, matrix, stains=pair, background=background)
    return out
