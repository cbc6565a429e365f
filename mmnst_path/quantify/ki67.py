"""Ki67 classification of detected nuclei, additive counts and index metrics.

The positive channel follows the stain matrix (:func:`chromogen_of`): brown DAB, or the red
chromogens AEC and Fast Red / permanent red that many labs choose for melanocytic lesions
(melanin stays brown-black while Ki67 is red). Below, "DAB" stands for that chromogen; with a
red chromogen the thresholds apply to its concentration (log10 OD) the same way. Likewise
"hematoxylin" stands for the nuclear counterstain (:func:`counterstain_of`): hematoxylin, or
azure B (preset ``"AzureB-DAB"``, Kamino & Tam's counterstain, which turns melanin green-blue).

A nucleus is ``positive`` when its mean DAB concentration (log10 OD, QuPath convention) is at or
above ``Ki67Params.positive_threshold_od``; intensity bins 1+/2+/3+ use the same quantity with two
higher thresholds. ``excluded`` nuclei (lymphocyte-like: small, round and dark, when asked for)
are reported but left out of the index. Counts are additive over tiles; ratios are computed once
from totals by :func:`ki67_metrics`.

Melanin (design decision)
-------------------------
Melanin looks like DAB, so brown alone must never make a nucleus positive. The Ki67 index is a
property of the tumour cells, and a pigmented tumour cell is still a Ki67-negative (or positive)
tumour cell: the truth counts a negative cell with melanin granules over it as a negative.
Dropping every nucleus touched by pigment would therefore bias the index upwards (in a heavily
pigmented tumour most negatives carry granules, while proliferating cells are often less
pigmented), and counting its brown would bias it far more. So, given a melanin mask
(:func:`mmnst_path.detect.pigment.pigment_mask`), :func:`measure_ki67`

1. removes the pigment from the detection input: on the mask pixels (grown by
   ``pigment_margin_um``, the blurred granule rims) the DAB concentration is replaced by that of
   the surrounding pigment-free pixels (normalised Gaussian convolution) while hematoxylin is
   kept, and those pixels only are re-rendered before nucleus detection; pigment granule
   clusters therefore do not become brown "nuclei", and a nucleus under granules keeps its
   hematoxylin outline;
2. measures each nucleus's DAB on its *visible* (pigment-free) pixels only, on the original
   image: a nucleus with at least ``pigment_min_visible_fraction`` of its area visible is
   classified positive / negative / 1+-3+ on the mean DAB of those pixels (untouched nuclei keep
   the detector's own mean, so tiles without pigment are classified exactly as before);
3. calls ``pigment`` only the nuclei essentially covered by pigment (visible fraction below
   that minimum), including "nuclei" that are granule clusters with little hematoxylin; they
   are counted in ``Ki67Counts.pigment`` and left out of the index. The one exception protects
   against a false pigment mask on a strongly stained nucleus: a covered nucleus whose DAB fills
   its contour (>= ``pigment_max_dab_fill`` of its pixels at the positive threshold) while its
   surroundings are mostly pigment-free (< ``pigment_ring_min_fraction`` of a
   ``pigment_ring_um`` ring) is a DAB-positive nucleus and is classified on all its pixels.
   Not with a counterstain that stains melanin (azure B, :data:`MELANIN_COUNTERSTAINS`): there
   the mask is green-blue pigment, which a DAB nucleus is not, and a nucleus filled with it is
   pigment (generated azure B tiles, pigment over the nucleus: the exception called 40 of 254
   negative nuclei positive).

Everything is computed per label with ``np.bincount`` / ``scipy.ndimage`` (no per-nucleus loop).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..detect._morphology import _dilated_um
from ..errors import ConfigError
from ._ki67_cells import Ki67Cells, Ki67Region
from ._ki67_contrast import RingLabels, _ring_mean, neutral_dab_od, neutral_dab_ratio
from ._ki67_counts import CLASSES, Ki67Counts, ki67_metrics, slide_positive_threshold
from ._ki67_params import Ki67Params
from ._ki67_pigment import (
    _apply_pigment_cells,
    _covered_chromogen,
    _hidden_decision,
    _near_black_fraction,
    _pigment_cell_rows,
    _pigment_evidence,
    _prior_holds,
    _without_pigment,
)
from ._ki67_setup import cell_model_of, nuclear_contrast_applies, unstained_reach_um
from ._ki67_stains import (
    CHROMOGENS,
    COUNTERSTAINS,
    MARKER_CHROMOGENS,
    MELANIN_COUNTERSTAINS,
    MELANOCYTE_MARKERS,
    _marker_od,
    _unmixing_matrix,
    chromogen_of,
    counterstain_of,
    marker_channel,
    marker_of,
    stain_pair,
    without_marker,
)
from ._stats import compare_proportions

__all__ = [
    "CHROMOGENS",
    "CLASSES",
    "COUNTERSTAINS",
    "MARKER_CHROMOGENS",
    "MELANIN_COUNTERSTAINS",
    "MELANOCYTE_MARKERS",
    "Ki67Cells",
    "Ki67Counts",
    "Ki67Params",
    "Ki67Region",
    "cell_model_of",
    "chromogen_of",
    "classify_nuclei",
    "compare_proportions",
    "counterstain_of",
    "ki67_metrics",
    "marker_channel",
    "marker_of",
    "measure_ki67",
    "nuclear_contrast_applies",
    "slide_positive_threshold",
    "stain_pair",
    "unstained_reach_um",
    "without_marker",
]


def _per_nucleus(name: str, values: Any, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        msg = f"{name} must have shape ({n},), got {arr.shape}"
        raise ConfigError(msg)
    return arr


def classify_nuclei(
    nuclei: Any,
    params: Ki67Params = Ki67Params(),
    *,
    visible_fraction: Any = None,
    visible_dab_od_mean: Any = None,
    dab_fill: Any = None,
    ring_pigment_fraction: Any = None,
    full_dab_od_mean: Any = None,
    ring_dab_od_mean: Any = None,
    neutral_dab_od_mean: Any = None,
    saturated_fraction: Any = None,
    hidden_by_pigment: Any = None,
    hidden_by_pigment_firm: Any = None,
    hidden_model_applies: Any = None,
    covered_chromogen_od: Any = None,
) -> Ki67Cells:
    """Classify detected nuclei as positive / negative / pigment / excluded.

    Parameters
    ----------
    nuclei : mmnst_path.detect.nuclei.Nuclei
        Detected nuclei with their features; ``dab_od_mean`` classifies nuclei pigment does not touch.
    params : Ki67Params
        Thresholds (log10 OD) and exclusion options.
    visible_fraction : (n,) array_like of float or None
        Fraction of each nucleus's area not covered by pigment (1 = untouched). Nuclei below
        ``params.pigment_min_visible_fraction`` are ``pigment``; touched nuclei above it are
        classified on ``visible_dab_od_mean``. None = no pigment information.
    visible_dab_od_mean : (n,) array_like of float or None
        Mean DAB (log10 OD) over each nucleus's pigment-free pixels; required with
        ``visible_fraction``.
    dab_fill : (n,) array_like of float or None
        Fraction of each nucleus's pixels with DAB >= ``params.positive_threshold_od``. A
        covered nucleus whose fill is >= ``params.pigment_max_dab_fill`` and whose ring is
        mostly pigment-free is a DAB-stained nucleus, classified on ``full_dab_od_mean``.
        None = every covered nucleus is ``pigment``.
    ring_pigment_fraction : (n,) array_like of float or None
        Pigment fraction of a ring of ``params.pigment_ring_um`` around each nucleus (None = 0).
    full_dab_od_mean : (n,) array_like of float or None
        Mean DAB over all the nucleus's pixels of the original image (None = ``nuclei.dab_od_mean``).
    ring_dab_od_mean : (n,) array_like of float or None
        Mean DAB of the ring of ``params.nuclear_contrast_ring_um`` around each nucleus: with
        ``params.nuclear_contrast_rule``, a nucleus at least ``params.nuclear_contrast_od`` above
        it (and at least ``params.nuclear_contrast_min_od``) is positive (1+) below
        ``params.positive_threshold_od``. None = no contrast rule.
    neutral_dab_od_mean : (n,) array_like of float or None
        DAB (log10 OD) of each nucleus's excess over its ring that a neutral (grey-beige)
        absorber explains (:func:`~mmnst_path.quantify._ki67_contrast.neutral_dab_od`): the
        contrast rule tests the excess minus this. None = 0 (NaN also counts as 0).
    saturated_fraction : (n,) array_like of float or None
        Fraction of each nucleus's pixels at OD >= ``params.pigment_saturated_od`` in every RGB
        channel: a covered nucleus at least ``params.pigment_saturated_share`` saturated stays
        ``pigment`` whatever its DAB fill (near-black: DAB and melanin cannot be told apart),
        and every nucleus at least that share is flagged ``near_black`` (QC, whatever its class).
        None = no saturation test.
    hidden_by_pigment : (n,) array_like of bool or None
        A learned per-nucleus decision (``Ki67Params.hidden_model``): the nuclei it marks are
        ``pigment`` whether or not the mask touches them. It takes the place of the ring,
        saturation and prior tests: a covered nucleus it does not mark is read on all its pixels
        when its DAB fills it (``dab_fill`` >= ``params.pigment_max_dab_fill``), and stays
        ``pigment`` otherwise (too little of it readable). Not with ``params.near_black``
        ``"pigment"`` (declared: near-black stays pigment). None = the rules alone.
    hidden_by_pigment_firm : (n,) array_like of bool or None
        The same model's firmer decision (``Ki67Params.hidden_covered_min_probability``), which
        takes the place of ``hidden_by_pigment`` for the nuclei the mask touches and the rules
        read (their visible part, or all of them when DAB fills them and their ring is clear):
        a near-black DAB-positive nucleus the mask covers looks like melanin to the model.
        None = ``hidden_by_pigment`` for every nucleus.
    hidden_model_applies : (n,) array_like of bool or None
        The nuclei the model decides (those where the pigment prior holds, :func:`_prior_holds`);
        the others are decided by the rules alone, as if ``hidden_by_pigment`` were None. None =
        every nucleus.
    covered_chromogen_od : (n,) array_like of float or None
        Each nucleus's chromogen by colour, melanin unmixed (log10 OD, :func:`._ki67_pigment._covered_chromogen`):
        a covered nucleus the ``dab_fill`` rule reads is read only at or above
        ``params.red_covered_min_chromogen_od`` (red chromogens), else stays ``pigment``; with
        ``params.red_covered_max_negative_od`` every covered nucleus not near-black is read by it both ways,
        and with ``params.red_touched_min_chromogen_od`` a readable touched one below it is negative
        (``dab_od_mean`` NaN for the nuclei read negative by colour). None = no such test.

    Returns
    -------
    Ki67Cells
        ``dab_od_mean`` is the value the class was decided on (the visible mean for nuclei
        pigment touches).
    """
    dab = np.asarray(nuclei.dab_od_mean, dtype=np.float32).copy()
    n = dab.shape[0]
    pig = np.zeros(n, dtype=bool)
    if visible_fraction is not None:
        vis = _per_nucleus("visible_fraction", visible_fraction, n)
        if visible_dab_od_mean is None:
            msg = "visible_dab_od_mean is required with visible_fraction"
            raise ConfigError(msg)
        vis_dab = _per_nucleus("visible_dab_od_mean", visible_dab_od_mean, n)
        touched = vis < 1.0
        readable = touched & (vis >= params.pigment_min_visible_fraction)
        dab[readable] = vis_dab[readable]
        pig = touched & ~readable
        colour = None if covered_chromogen_od is None else _per_nucleus("covered_chromogen_od", covered_chromogen_od, n)
        if colour is not None and params.red_touched_min_chromogen_od > 0:  # melanin read on the visible part
            dab[readable & (colour < params.red_touched_min_chromogen_od)] = np.nan
        if dab_fill is not None and pig.any():
            fill = _per_nucleus("dab_fill", dab_fill, n)
            ring = np.zeros(n) if ring_pigment_fraction is None else _per_nucleus(
                "ring_pigment_fraction", ring_pigment_fraction, n
            )
            stained = pig & (fill >= params.pigment_max_dab_fill) & (ring < params.pigment_ring_min_fraction)
            clear = pig.copy()  # not near-black
            if saturated_fraction is not None and params.pigment_saturated_od > 0:
                sat = _per_nucleus("saturated_fraction", saturated_fraction, n)
                clear &= ~(sat >= params.pigment_saturated_share)
            stained &= clear
            if colour is not None:  # red chromogens: the fill must be chromogen by colour
                stained &= colour >= params.red_covered_min_chromogen_od
                if params.red_covered_max_negative_od > 0:  # colour reads every covered nucleus, both ways
                    stained |= clear & (colour >= params.red_covered_min_chromogen_od)
                    unstained = clear & (colour < params.red_covered_max_negative_od)
                    dab[unstained] = np.nan
                    pig &= ~unstained
            if full_dab_od_mean is not None:
                dab[stained] = _per_nucleus("full_dab_od_mean", full_dab_od_mean, n)[stained]
            pig &= ~stained
        if hidden_by_pigment is not None:
            hidden_by = np.asarray(hidden_by_pigment, dtype=bool)
            if hidden_by.shape != (n,):
                msg = f"hidden_by_pigment must have shape ({n},), got {hidden_by.shape}"
                raise ConfigError(msg)
            if hidden_by_pigment_firm is not None and visible_fraction is not None:
                firm = np.asarray(hidden_by_pigment_firm, dtype=bool)
                if firm.shape != (n,):
                    msg = f"hidden_by_pigment_firm must have shape ({n},), got {firm.shape}"
                    raise ConfigError(msg)
                read = (_per_nucleus("visible_fraction", visible_fraction, n) < 1.0) & ~pig  # the rules read them
                hidden_by = np.where(read, firm, hidden_by)
            applies = np.ones(n, bool)
            if hidden_model_applies is not None:
                applies = np.asarray(hidden_model_applies, dtype=bool)
                if applies.shape != (n,):
                    msg = f"hidden_model_applies must have shape ({n},), got {applies.shape}"
                    raise ConfigError(msg)
                hidden_by = hidden_by & applies
            if dab_fill is not None and params.near_black != "pigment":
                # a covered nucleus the model keeps is read on all its pixels when its DAB fills it (the
                # model takes the place of the ring, saturation and prior tests); patchy: unreadable
                kept = pig & ~hidden_by & applies & (
                    _per_nucleus("dab_fill", dab_fill, n) >= params.pigment_max_dab_fill)
                if full_dab_od_mean is not None:
                    dab[kept] = _per_nucleus("full_dab_od_mean", full_dab_od_mean, n)[kept]
                pig &= ~kept
            pig |= hidden_by
    cls = np.full(n, "negative", dtype="<U8")
    pos = (dab >= params.positive_threshold_od) & ~pig
    if params.nuclear_contrast_rule and ring_dab_od_mean is not None:
        ring = _per_nucleus("ring_dab_od_mean", ring_dab_od_mean, n)
        untouched = np.ones(n, bool) if visible_fraction is None else np.asarray(visible_fraction) >= 1.0
        grey = 0.0 if neutral_dab_od_mean is None else np.nan_to_num(
            _per_nucleus("neutral_dab_od_mean", neutral_dab_od_mean, n), nan=0.0)
        smooth = np.asarray(nuclei.dab_od_max, np.float64) < params.nuclear_contrast_max_od
        pos |= (untouched & ~pig & smooth & (dab >= params.nuclear_contrast_min_od)
                & (dab - np.nan_to_num(ring, nan=np.inf) - grey >= params.nuclear_contrast_od))
    cls[pos] = "positive"
    bins = np.zeros(n, dtype=np.int8)
    bins[pos] = 1
    bins[pos & (dab >= params.moderate_threshold_od)] = 2
    bins[pos & (dab >= params.strong_threshold_od)] = 3
    if params.exclude_lymphocytes:
        lymph = (
            (np.asarray(nuclei.area_um2) <= params.lymphocyte_max_area_um2)
            & (np.asarray(nuclei.circularity) >= params.lymphocyte_min_circularity)
            & (np.asarray(nuclei.hematoxylin_od_mean) >= params.lymphocyte_min_hematoxylin_od)
            & ~pos
            & ~pig
        )
        cls[lymph] = "excluded"
    cls[pig] = "pigment"
    near_black = np.zeros(n, bool)
    if saturated_fraction is not None and params.pigment_saturated_od > 0:
        near_black = _per_nucleus("saturated_fraction", saturated_fraction, n) >= params.pigment_saturated_share
    return Ki67Cells(
        row=nuclei.row,
        col=nuclei.col,
        area_um2=nuclei.area_um2,
        dab_od_mean=dab,
        dab_od_max=nuclei.dab_od_max,
        hematoxylin_od_mean=nuclei.hematoxylin_od_mean,
        circularity=nuclei.circularity,
        eccentricity=nuclei.eccentricity,
        cls=cls,
        intensity_bin=bins,
        near_black=near_black,
    )


def measure_ki67(
    rgb: np.ndarray,
    *,
    mpp: float,
    stains: Any = "H-DAB",
    nuclei_params: Any = None,
    params: Ki67Params = Ki67Params(),
    pigment_mask: np.ndarray | None = None,
    roi_mask: np.ndarray | None = None,
    background: Any = None,
    return_labels: bool = False,
    cell_model: Any = None,
    return_pigment_features: bool = False,
    return_cell_features: bool = False,
    origin: tuple[int, int] = (0, 0),
    extent: tuple[int, int] | None = None,
    grid_origin: tuple[int, int] | None = None,
    _conc: tuple[np.ndarray, np.ndarray] | None = None,
) -> Ki67Region:
    """Detect and classify the nuclei of one RGB image (tile) at the analysis resolution.

    Parameters
    ----------
    rgb : (M, N, 3) uint8
        Hematoxylin-DAB image at ``mpp`` microns per pixel.
    mpp : float
        Microns per pixel of ``rgb``.
    stains : str or StainMatrix
        Stain matrix (or preset name) holding a nuclear counterstain (hematoxylin or azure B,
        :func:`counterstain_of`) and a chromogen (:func:`chromogen_of`).
        With DAB plus a red chromogen (``"H-DAB-FastRed"``, ``"H-DAB-AEC"``: a Ki67 / MART-1 or
        SOX10 double stain) each nucleus is also called ``melanocytic`` or not from the red
        marker (``params.melanocyte_marker``, :func:`marker_of`); Ki67 positivity stays DAB.
    nuclei_params : NucleusParams or None
        Detection parameters (None = defaults).
    params : Ki67Params
        Classification parameters.
    pigment_mask : (M, N) bool or None
        Melanin pixels (e.g. ``mmnst_path.detect.pigment.pigment_mask``). Pigment is removed from
        the detection input, nuclei are classified on their pigment-free pixels and only nuclei
        essentially covered by pigment are ``pigment`` (see the module docstring).
        None = no pigment handling.
    roi_mask : (M, N) bool or None
        Count only nuclei whose centroid falls in this mask (region of interest).
    background : None or sequence of 3 float
        White point of the OD conversion (None = 255 / the matrix's background).
    return_labels : bool
        Keep the label image (nucleus ``i`` has label ``i + 1``, before any ROI filtering).
    return_pigment_features : bool
        Keep the (n, F) rows of :func:`mmnst_path.classify.hidden_nuclei.nucleus_features` of the
        nuclei (before any ROI filtering; the empty mask where ``pigment_mask`` is None or empty):
        what ``Ki67Params.hidden_model`` decides on, for training and checks.
    return_cell_features : bool
        Keep the (n, F) rows of :func:`mmnst_path.classify.hidden_nuclei.cell_features` (what
        ``Ki67Params.pigment_cell_model`` decides on; before any ROI filtering), for training.
    cell_model : ClassifierModel or None
        Nucleus model deciding which nuclei are tumour cells (None = the one
        ``params.cell_model`` names for these stains, :func:`cell_model_of`; ``"none"`` there =
        no cell model).
    origin : (int, int)
        Pixel (row, col) of ``rgb``'s pixel (0, 0) in a larger image of shape ``extent`` that
        ``rgb`` was cut from (the pipeline's lean window of a tile): centroids are reported in
        that image's pixels and the cell model's edge correction uses its edges. When the larger
        image is white outside ``rgb`` and ``rgb`` keeps :func:`unstained_reach_um` of white
        around its non-white pixels and ``pigment_mask``, the cells are exactly those of the
        larger image. Default: ``rgb`` itself.
    extent : (int, int) or None
        Shape (rows, cols) of that larger image (None: ``rgb``'s shape).
    grid_origin : (int, int), optional
        Pixel of ``rgb``'s (0, 0) on the slide's analysis grid, where nucleus detection's coarse
        seed blocks lie (``NucleusParams.seed_scale_um``); None: ``origin``.
    _conc : (tables, (M, N, 2) float32 ndarray) or None
        The (counterstain, chromogen) concentrations of ``rgb`` an earlier stage of the tile
        computed, with the folded lookup tables it computed them with
        (:func:`mmnst_path.stain.deconvolve.folded_luts`): used instead of unmixing ``rgb`` again
        when those tables are the ones this function unmixes with (the same values: the
        deconvolution is a per-pixel table look-up).

    Returns
    -------
    Ki67Region
        ``cells`` (centroids in pixels of ``rgb``, features, class, intensity bin) and ``counts``.
    """
    from ..classify.cells import SpindleSheet, cell_classes
    from ..detect.nuclei import NucleusParams, nuclei_from_stains
    from ..geometry import require_mpp
    from ..stain import StainMatrix, load_stains, separate_stains

    mpp = require_mpp(mpp, what="image")
    nparams = NucleusParams() if nuclei_params is None else nuclei_params
    matrix = stains if isinstance(stains, StainMatrix) else load_stains(stains)
    model = cell_model if cell_model is not None else cell_model_of(params, matrix)
    pair = stain_pair(matrix)
    params = params.for_counterstain(pair[0])  # azure B: its own positive threshold
    matrix = _unmixing_matrix(matrix, pair[1])
    shape = rgb.shape[:2]
    hidden = None
    if pigment_mask is not None:
        mask = np.asarray(pigment_mask, dtype=bool)
        if mask.shape != shape:
            msg = f"pigment_mask must have the image shape {shape}, got {mask.shape}"
            raise ConfigError(msg)
        if mask.any():  # most tiles hold no pigment: they skip all of this
            hidden = _dilated_um(mask, params.pigment_margin_um, mpp)
    given = None  # the tile's unmixing of ``rgb`` by an earlier stage, when it used these tables
    if _conc is not None and _conc[1].shape == (*shape, 2):
        from ..stain.deconvolve import folded_luts

        if np.array_equal(_conc[0], folded_luts(matrix, pair, background=background)):
            given = _conc[1]
    det_rgb = rgb
    conc = None
    if hidden is not None:
        conc = given if given is not None else separate_stains(rgb, matrix, stains=pair, background=background)
        sigma = params.pigment_fill_um / mpp
        azure = pair[0] in MELANIN_COUNTERSTAINS and params.azure_counterstain_fill and sigma >= 0.3
        det_rgb = _without_pigment(rgb, conc, hidden, matrix, background, sigma, pair,
                                   fill_counterstain=azure)  # azure B: granules are counterstain too
    if hidden is not None and conc is not None:
        # the detection input differs from ``rgb`` on the hidden pixels only, and the (per-pixel,
        # lookup-table) deconvolution of the other pixels is ``conc``: unmix just those pixels
        # (what detect_nuclei(det_rgb) would compute, without a second full-tile pass)
        hem_plane = conc[..., 0].copy()
        dab_plane = conc[..., 1].copy()
        patch = separate_stains(det_rgb[hidden], matrix, stains=pair, background=background)
        hem_plane[hidden] = patch[:, 0]
        dab_plane[hidden] = patch[:, 1]
        nuclei = nuclei_from_stains(hem_plane, dab_plane, mpp=mpp, params=nparams, return_labels=True,
                                    origin=origin, grid_origin=grid_origin)
    else:  # (``det_rgb`` is ``rgb`` here)
        conc = given if given is not None else separate_stains(det_rgb, matrix, stains=pair, background=background)
        hem_plane, dab_plane = conc[..., 0], conc[..., 1]
        nuclei = nuclei_from_stains(hem_plane, dab_plane, mpp=mpp, params=nparams, origin=origin,
                                    grid_origin=grid_origin, return_labels=True)  # labels: cell model and outlines
    evidence: dict[str, np.ndarray] = {}
    # the background rings around the nuclei, computed once per width for every measure reading one
    rings = None if nuclei.labels is None else RingLabels(nuclei.labels)
    # near-black nuclei unassessable even with an empty mask: the user says the lesion is pigmented
    always = params.near_black == "pigment" and pigment_mask is not None and params.pigment_saturated_od > 0
    if always and hidden is None:
        mask = hidden = np.zeros(shape, dtype=bool)
    saturated = None  # near-black share of each nucleus: every channel beyond the scanner's range
    if params.pigment_saturated_od > 0 and nuclei.labels is not None and len(nuclei):
        saturated = _near_black_fraction(nuclei.labels, rgb, len(nuclei), od=params.pigment_saturated_od,
                                         background=background)
    prior = None  # the nuclei with melanin around them (issue #14), decided per nucleus
    if hidden is not None and conc is not None and len(nuclei):
        assert nuclei.labels is not None
        prior = _prior_holds(params, mask, nuclei, mpp=mpp, always=always, origin=origin)
        ring_px = max(1, round(params.pigment_ring_um / mpp))
        evidence = _pigment_evidence(nuclei.labels, conc[..., 1], hidden, mask, len(nuclei),
                                     fill_od=params.positive_threshold_od, ring_px=ring_px, saturated=saturated,
                                     saturated_share=params.pigment_saturated_share, prior=prior, rings=rings)
    hidden_by, hidden_firm, features = _hidden_decision(
        params, nuclei.labels, rgb, conc, hidden, mask if hidden is not None else None, saturated, pair=pair,
        mpp=mpp, background=background, always=always, prior=prior, keep=return_pigment_features,
    )
    ring_dab = neutral = None
    if nuclear_contrast_applies(params, matrix) and nuclei.labels is not None and len(nuclei):
        contrast_px = max(1, round(params.nuclear_contrast_ring_um / mpp))
        ring_dab = _ring_mean(nuclei.labels, dab_plane, len(nuclei), ring_px=contrast_px, rings=rings)
        ratio = neutral_dab_ratio(matrix, pair[1]) if params.nuclear_contrast_neutral else None
        if ratio is not None:  # the grey-beige part of the excess is not nuclear staining
            residual = separate_stains(rgb, matrix, stains=("residual",), background=background)[..., 0]
            neutral = neutral_dab_od(nuclei.labels, residual, len(nuclei), ring_px=contrast_px, ratio=ratio,
                                     rings=rings)
    cells = classify_nuclei(
        nuclei, params,
        ring_dab_od_mean=ring_dab,
        neutral_dab_od_mean=neutral,
        visible_fraction=evidence.get("visible_fraction"),
        visible_dab_od_mean=evidence.get("visible_dab"),
        dab_fill=None if pair[0] in MELANIN_COUNTERSTAINS else evidence.get("dab_fill"),
        ring_pigment_fraction=evidence.get("ring"),
        full_dab_od_mean=evidence.get("full_dab"),
        saturated_fraction=saturated,  # (read with pigment evidence only; always flags near_black)
        hidden_by_pigment=hidden_by if evidence else None,
        hidden_by_pigment_firm=hidden_firm if evidence else None,
        hidden_model_applies=prior if evidence and hidden_by is not None else None,
        covered_chromogen_od=_covered_chromogen(params, nuclei.labels, rgb, mask, matrix, pair, background=background)
        if evidence else None,
    )
    cell_rows = None
    pig_model = None
    if params.pigment_cell_model != "none" and pair == ("hematoxylin", "dab"):
        from ..classify.hidden_nuclei import resolve_cell_model

        pig_model = resolve_cell_model(params.pigment_cell_model)
    use_pig = pig_model is not None and prior is not None and bool(evidence) and len(cells) > 0
    if nuclei.labels is not None and conc is not None and len(nuclei) and (use_pig or return_cell_features):
        cell_rows = _pigment_cell_rows(nuclei.labels, rgb, conc, hidden, mask if hidden is not None else None,
                                       nuclei, mpp=mpp, background=background)
    if use_pig and cell_rows is not None:
        assert prior is not None
        cells = _apply_pigment_cells(cells, pig_model, cell_rows, prior, params)
    if nuclei.labels is not None and len(cells):  # outlines for QuPath / review (16-ray star polygons)
        from ..detect.outlines import star_radii

        cells = replace(cells, outline_radii=star_radii(nuclei.labels, nuclei.row, nuclei.col, origin=origin))
    marker = marker_of(matrix, params)
    if marker is not None and len(cells):
        assert nuclei.labels is not None
        red = separate_stains(rgb, matrix, stains=(marker[0],), background=background)[..., 0]
        red_od = _marker_od(nuclei.labels, red, hidden, len(cells), where=marker[1],
                            ring_px=max(1, round(params.melanocyte_ring_um / mpp)))
        from ..stain import angle_deg  # SOX10: Ki67-positive nuclei lose red to DAB (_ki67_double)
        from ._ki67_double import melanocytic_call

        called = melanocytic_call(red_od, cells.cls == "positive", where=marker[1], min_od=params.melanocyte_min_od,
                                  separation_deg=angle_deg(matrix.vector(marker[0]), matrix.vector("dab")))
        cells = replace(cells, melanocytic=called, marker_od_mean=red_od)
        if marker[1] == "nuclear":  # SOX10: double positives by the learned call (_ki67_double_model)
            from ._ki67_double_model import learned_double_call

            cells = learned_double_call(cells, nuclei.labels, rgb, matrix, (pair[0], pair[1], marker[0]),
                                        background=background, params=params)
    if model is not None and len(cells):
        assert nuclei.labels is not None
        found = cell_classes(model, nuclei.labels, hem_plane, dab_plane, mpp=mpp, origin=origin, extent=extent,
                             _rings=rings, sheet=None if params.spindle_sheet is False else SpindleSheet())
        types = found.types
        if params.spindle_sheet is True:  # always: the nuclei in spindle sheets are tumour cells here
            types = np.where(found.in_spindle_sheet, "tumour", types)
        cls = cells.cls.copy()
        # positivity stays the stain measurement; the model only decides who is counted
        cls[np.isin(cls, ("positive", "negative")) & (types != "tumour")] = "excluded"
        bins = np.where(cls == "positive", cells.intensity_bin, 0).astype(np.int8)
        cells = replace(cells, cls=cls, intensity_bin=bins, cell_type=types,
                        tumour_probability=found.tumour_probability, in_spindle_sheet=found.in_spindle_sheet,
                        stain_bin=cells.stain_bin)
    if roi_mask is not None:
        roi = np.asarray(roi_mask, dtype=bool)
        if roi.shape != shape:
            msg = f"roi_mask must have the image shape {shape}, got {roi.shape}"
            raise ConfigError(msg)
        r = np.clip(np.rint(cells.row).astype(np.intp) - origin[0], 0, roi.shape[0] - 1)
        c = np.clip(np.rint(cells.col).astype(np.intp) - origin[1], 0, roi.shape[1] - 1)
        cells = cells.select(roi[r, c])
    return Ki67Region(cells=cells, counts=cells.counts(), labels=nuclei.labels if return_labels else None,
                      pigment_features=features, cell_features=cell_rows if return_cell_features else None)
