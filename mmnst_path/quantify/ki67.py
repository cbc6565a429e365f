"""Ki67 classification of detected nuclei, additive counts and index metrics.

The positive channel follows the stain matrix (:func:`chromogen_of`): brown DAB, or the red
chromogens AEC and Fast Red / permanent red that many labs choose for melanocytic lesions
(melanin stays brown-black while Ki67 is red). Below, "DAB" stands for that chromogen; with a
red chromogen the thresholds apply to its concentration (log10 OD) the same way.

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

Everything is computed per label with ``np.bincount`` / ``scipy.ndimage`` (no per-nucleus loop).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from .._params import check_finite, check_known_keys, plain_mapping
from ..detect._morphology import _dilated_um, _filled_at, _smoothed_at, _square_extreme
from ..errors import ConfigError
from ._stats import compare_proportions, wilson_interval

__all__ = [
    "CHROMOGENS",
    "CLASSES",
    "MARKER_CHROMOGENS",
    "MELANOCYTE_MARKERS",
    "Ki67Cells",
    "Ki67Counts",
    "Ki67Params",
    "Ki67Region",
    "chromogen_of",
    "classify_nuclei",
    "compare_proportions",
    "ki67_metrics",
    "marker_channel",
    "marker_of",
    "measure_ki67",
    "slide_positive_threshold",
    "without_marker",
]

CLASSES = ("negative", "positive", "pigment", "excluded")
#: Chromogens a Ki67 positivity can be read from, in order of preference (brown DAB, then the
#: red chromogens AEC and Fast Red / permanent red).
CHROMOGENS = ("dab", "aec", "fast_red")
#: Values of ``Ki67Params.melanocyte_marker``.
MELANOCYTE_MARKERS = ("auto", "none", "cytoplasmic", "nuclear")
#: Red chromogens that carry the melanocyte marker of a Ki67 / MART-1 or SOX10 double stain.
MARKER_CHROMOGENS = ("fast_red", "aec")
_MIN_MELANIN_DEG = 20.0  # a chromogen this far from melanin is unmixed from it (Fast Red: 29°)


def chromogen_of(matrix: Any) -> str:
    """Name of the chromogen (positive) channel of a stain matrix: DAB, AEC or Fast Red.

    Raises
    ------
    ConfigError
        When the matrix holds no hematoxylin or none of :data:`CHROMOGENS`.
    """
    names = tuple(matrix.names)
    for name in CHROMOGENS:
        if name in names:
            if "hematoxylin" not in names:
                break
            return name
    msg = (f"Ki67 needs hematoxylin and a chromogen ({', '.join(CHROMOGENS)}) in the stains, "
           f"got {list(names)}")
    raise ConfigError(msg)


def marker_channel(matrix: Any) -> str | None:
    """The red marker stain of a double-stain matrix (hematoxylin, DAB and one of
    :data:`MARKER_CHROMOGENS`), or None."""
    names = tuple(matrix.names)
    if "hematoxylin" not in names or "dab" not in names:
        return None
    return next((c for c in MARKER_CHROMOGENS if c in names), None)


def without_marker(rgb: np.ndarray, matrix: Any, *, background: Any = None) -> tuple[np.ndarray, Any]:
    """A double-stain image re-rendered from its hematoxylin and DAB only, with that H-DAB matrix.

    The melanin detector (:mod:`mmnst_path.detect.pigment`) reads a hematoxylin-DAB image;
    a red SOX10 nucleus there reads as a brown body and vetoes the melanin granules around it
    (generated Ki67 / SOX10 tiles: melanin Dice 0.0-0.3 on the image, 0.55-0.74 on this one).
    Matrices without a marker are returned unchanged.
    """
    from ..stain import StainMatrix, rgb_from_stains, separate_stains

    red = marker_channel(matrix)
    if red is None:
        return rgb, matrix
    pair = ("hematoxylin", "dab")
    conc = separate_stains(rgb, matrix, stains=pair, background=background)
    clean = rgb_from_stains(conc, matrix, stains=pair, background=background)
    sub = StainMatrix(pair, np.stack([matrix.vector(n) for n in pair]), name=f"{matrix.name}-{red}",
                      background=matrix.background, _warn=False)
    return clean, sub


def marker_of(matrix: Any, params: Ki67Params) -> tuple[str, str] | None:
    """``(red stain name, "cytoplasmic" | "nuclear")`` of a double stain's melanocyte marker, or None.

    The marker is read from the first of :data:`MARKER_CHROMOGENS` in a matrix whose Ki67
    chromogen is DAB; ``params.melanocyte_marker`` ``"auto"`` means ``"cytoplasmic"`` (MART-1 /
    Melan-A) when there is one.

    Raises
    ------
    ConfigError
        ``melanocyte_marker`` is ``"cytoplasmic"`` or ``"nuclear"`` but the matrix has no red
        channel beside DAB.
    """
    mode = params.melanocyte_marker
    if mode == "none":
        return None
    names = tuple(matrix.names)
    red = marker_channel(matrix)
    if red is None:
        if mode == "auto":
            return None
        msg = (f"Ki67Params.melanocyte_marker={mode!r} needs DAB plus a red marker chromogen "
               f"({', '.join(MARKER_CHROMOGENS)}) in the stains (e.g. 'H-DAB-FastRed'), got {list(names)}")
        raise ConfigError(msg)
    return red, ("cytoplasmic" if mode == "auto" else mode)


def _label_median(owner: np.ndarray, values: np.ndarray, keep: np.ndarray, n: int) -> np.ndarray:
    """Median of ``values`` over the ``keep`` pixels of each label 1..n of ``owner`` (NaN: none)."""
    flat = owner.ravel()
    sel = (flat > 0) & keep
    lab, val = flat[sel], values.ravel()[sel]
    out = np.full(n, np.nan, dtype=np.float32)
    if lab.size:
        order = np.lexsort((val, lab))
        lab, val = lab[order], val[order]
        ids, start, count = np.unique(lab, return_index=True, return_counts=True)
        out[ids - 1] = 0.5 * (val[start + (count - 1) // 2] + val[start + count // 2])
    return out


def _marker_od(labels: np.ndarray, red: np.ndarray, hidden: np.ndarray | None, n: int, *, where: str,
               ring_px: int) -> np.ndarray:
    """Red (marker) concentration (n,) of each nucleus, pigment (``hidden``) pixels left out, NaN
    where no pixel is left.

    ``where="nuclear"``: the median over the nucleus. ``"cytoplasmic"``: the larger of the
    medians over the ring of ``ring_px`` background pixels around the nucleus (ring as in
    :func:`_pigment_evidence`) and over its own outer band of ``ring_px``: with stain vectors a
    few degrees off, red cytoplasm leaks into hematoxylin and the segmented nucleus takes part
    of it in (generated MART-1 tiles: the missed melanocytes were segmented at ~1.8x the drawn
    nuclear area, their ring lying outside the cytoplasm). Medians, not means: a marker-negative
    cell beside a melanocyte has the neighbour's red over part of its ring.
    """
    keep = np.ones(labels.size, bool) if hidden is None else ~hidden.ravel()
    if where == "nuclear":
        return _label_median(labels, red, keep, n)
    size = 2 * ring_px + 1
    ring = np.where(labels == 0, _square_extreme(labels, size, op="max"), 0)
    band = np.where(_square_extreme(labels, size, op="min") != labels, labels, 0)
    out = np.fmax(_label_median(ring, red, keep, n), _label_median(band, red, keep, n))
    return out.astype(np.float32)


def _unmixing_matrix(matrix: Any, chromogen: str) -> Any:
    """The matrix Ki67 unmixes with: with Fast Red, melanin becomes a third stain.

    Brown-black melanin is 29° from Fast Red: a hematoxylin + Fast Red unmixing reads it as
    chromogen (generated Fast Red tiles with pigment over 8-20 % of the cells: index +12 pp), a
    hematoxylin + Fast Red + melanin one does not. The melanin row is the physical
    :func:`mmnst_path.stain.melanin_vector`. Chromogens within ``_MIN_MELANIN_DEG`` of melanin
    keep their matrix: AEC (13°) unmixed with melanin lost up to 7 pp of the index of
    unpigmented AEC tiles (its signal went to melanin), and DAB (6°) cannot be separated by
    colour at all; there the pigment mask alone keeps melanin out.
    """
    from ..stain import StainMatrix, angle_deg, melanin_vector

    if "melanin" in matrix.names or angle_deg(matrix.vector(chromogen), melanin_vector()) < _MIN_MELANIN_DEG:
        return matrix
    vectors = np.stack([matrix.vector("hematoxylin"), matrix.vector(chromogen), melanin_vector()])
    return StainMatrix(("hematoxylin", chromogen, "melanin"), vectors, name=f"{matrix.name}+melanin",
                       background=matrix.background, _warn=False)


@dataclass(frozen=True, slots=True)
class Ki67Params:
    """Parameters of the Ki67 classification (OD in log10 units, QuPath convention).

    Attributes
    ----------
    positive_threshold_od : float
        Nucleus DAB OD mean at or above which a nucleus is positive (also the 1+ lower bound).
        Default 0.35: swept over 0.15-0.6 on the real dev tiles (BCData, SHIDC-B-Ki-67, DeepLIIF,
        ``benchmarks/accuracy.py``); the per-set optimum is ~0.5 for BCData (strong DAB spilling
        into the cytoplasm), ~0.25 for SHIDC (weak DAB) and ~0.6 for DeepLIIF; 0.35 gives the
        lowest mean index MAE with one global value. QuPath's own default is 0.2. Rechecked after
        the pigment fix by a split-half sweep (tune on every other image of each set, test on the
        rest): the mean-MAE curve over 0.25-0.5 is flat within ~0.3 pp on one half and favours 0.5
        on the other, which costs SHIDC 5-8 pp held out; 0.35 is kept. A per-tile adaptive
        threshold was not adopted: the pipeline classifies tile by tile, so it would make counts
        depend on the tile size.
    moderate_threshold_od, strong_threshold_od : float
        DAB OD mean lower bounds of the 2+ and 3+ intensity bins.
    exclude_lymphocytes : bool
        Exclude small, round, dark (lymphocyte-like) nuclei from the index (class ``excluded``).
        Off by default: on the real dev tiles (SHIDC annotates lymphocytes) it lowers the SHIDC
        index MAE by at most ~0.6 pp (with area <= 45 µm², circularity >= 0.8, H >= 0.35) but also
        lowers its Pearson r, and leaves BCData/DeepLIIF unchanged. A shape filter against spindle
        stromal nuclei (minor axis, axis ratio, area) was also evaluated on all three sets and made
        the mean MAE worse, so there is none.
    lymphocyte_max_area_um2 : float
        Maximum area (µm²) of a lymphocyte-like nucleus.
    lymphocyte_min_circularity : float
        Minimum circularity of a lymphocyte-like nucleus.
    lymphocyte_min_hematoxylin_od : float
        Minimum hematoxylin OD mean of a lymphocyte-like nucleus.
    pigment_min_visible_fraction : float
        A nucleus touched by the pigment mask is classified on its pigment-free pixels when at
        least this fraction of its area is pigment-free, and is ``pigment`` (out of the index)
        below it. 0.25: a quarter of a 30-90 µm² nucleus is 30-90 pixels at 0.5 µm/px, enough
        for a stable mean; swept 0.1-0.5 on generated melanin-over-negative tiles
        (``benchmarks/eval_melanin.py``), where it changes the index by < 1 pp.
    pigment_margin_um : float
        The pigment mask is grown by this distance (µm) before the visible pixels are taken and
        before the pigment is removed from the detection input: granule rims blurred by the
        optics and JPEG are brown but below the mask's thresholds.
    pigment_fill_um : float
        Gaussian sigma (µm) of the normalised convolution that replaces the DAB of pigment
        pixels by that of the nearby pigment-free pixels in the detection input (a second pass
        at 3x this fills wider pigment; what is still farther from any pigment-free pixel gets
        no DAB).
    pigment_max_dab_fill : float
        A nucleus essentially covered by the pigment mask stays a stained nucleus (classified on
        all its pixels) when at least this fraction of its pixels has DAB >=
        ``positive_threshold_od`` and its ring is mostly pigment-free (next two parameters):
        a Ki67-positive nucleus is DAB filling the contour (>= 0.99 for 90 % of the annotated
        real positives touched by the mask on BCData/DeepLIIF), a granule cluster is patchy.
    pigment_ring_um : float
        Width (µm) of the ring around each nucleus whose pigment-mask coverage is measured.
    pigment_ring_min_fraction : float
        A covered, DAB-filled nucleus is still ``pigment`` when at least this fraction of its
        surrounding ring is pigment (melanin lies mostly outside the nuclear contour, e.g. a
        melanophage); <= 0.32 for 90 % of the real positives touched by the mask.
    weak_stain_adaptation : bool
        Lower the positivity threshold of a whole slide (or region, or ROI) whose stained nuclei
        are weakly stained (:func:`slide_positive_threshold`; applied by
        ``mmnst_path.pipeline.analyze_slide`` / ``analyze_region`` once all tiles are done, so
        it does not depend on the tiling). Ki67 counts any nuclear staining, and a faint run
        of DAB leaves its positive nuclei at 0.25-0.35 OD, under a threshold set for normal
        staining. The threshold is never raised above ``positive_threshold_od``.
    weak_stain_floor_od : float
        Nuclei with a DAB OD mean at or above this are the slide's "stained" nuclei, whose
        median DAB measures the strength of the staining.
    weak_stain_fraction : float
        Adapted threshold = this fraction of that median, clipped to
        [``weak_stain_min_threshold_od``, ``positive_threshold_od``]: 0.7 leaves every slide
        whose stained nuclei have a median >= 0.5 OD at ``positive_threshold_od`` (normal
        1+/2+/3+ staining, e.g. the bundled sample tiles at 0.54-0.65), and only weak runs move.
    weak_stain_min_threshold_od : float
        Lowest adapted threshold (log10 OD). A ``positive_threshold_od`` set below it (e.g.
        QuPath's 0.2) is simply never lowered.
    weak_stain_min_nuclei : int
        Fewer stained nuclei than this: no adaptation (too few to measure the staining).
    cell_model : str
        Nucleus (cell) classifier that decides which nuclei are tumour cells: ``"default"`` (the
        shipped model, :func:`mmnst_path.classify.default_model_path`), ``"none"`` (every
        detected nucleus counts, as before the classifier) or the path of a model file made by
        ``mmnst-path train cells``. Nuclei it calls lymphocyte, stromal, macrophage or other are
        ``excluded`` from the index and counted by type; positivity stays the DAB measurement.
    count_in : str
        Where nuclei are counted: ``"all"`` (every tissue region, the default) or ``"tumour"``
        (only nuclei inside the tumour region of the tissue classifier named by
        ``tissue_model``, so stroma nuclei leave the denominator even before the cell
        classifier). Applied by ``mmnst_path.pipeline``; nuclei outside the tumour region are
        ``excluded`` (reported, not in the index).
    tissue_model : str
        Tissue classifier of ``count_in="tumour"``: ``"auto"`` (the default) uses ``[necrosis]
        tissue_model``, whose default model is chosen by the stains (IHC stains such as H-DAB:
        the shipped ``tissue_ihc_default.mmnst``; H&E: the H&E tissue model); otherwise
        ``"default"`` or the path of a tissue model file.
    melanocyte_marker : str
        Red melanocyte marker of a Ki67 / MART-1 (Melan-A) or SOX10 double stain (stain
        matrices with DAB plus ``fast_red`` or ``aec``, e.g. the ``"H-DAB-FastRed"`` and
        ``"H-DAB-AEC"`` presets): ``"auto"`` (the default: ``"cytoplasmic"`` when the matrix
        has such a red channel besides DAB, off otherwise), ``"none"`` (off),
        ``"cytoplasmic"`` (MART-1 / Melan-A: red in a ring of ``melanocyte_ring_um`` around the
        nucleus) or ``"nuclear"`` (SOX10: red in the nucleus). A nucleus whose mean red
        concentration there is at least ``melanocyte_min_od`` is ``melanocytic``; the
        melanocyte-restricted Ki67 index (positive among melanocytic, :func:`ki67_metrics`)
        is reported beside the ordinary index, which the marker does not change.
    melanocyte_ring_um : float
        Width (µm) of the perinuclear ring where a cytoplasmic marker is read.
    melanocyte_min_od : float
        Red concentration (log10 OD, median over the ring or nucleus, pigment pixels left out)
        at or above which a nucleus is melanocytic. Default 0.12, chosen on generated Fast Red
        double-stain tiles (:mod:`mmnst_path.synthetic_double`, seeds 2000-2009, 10 tiles per
        marker, stain vectors 1-4° off, JPEG): marker-negative cells read a median of 0.02-0.03
        OD (95th percentile 0.08 nuclear, 0.12 cytoplasmic: a neighbour's red cytoplasm),
        melanocytes a median of 0.29-0.33 OD. Sensitivity / specificity at 0.12: 0.91 / 0.94
        (MART-1) and 0.91 / 1.00 (SOX10), the best balanced accuracy of 0.05-0.25 (0.15:
        0.87 / 0.97 and 0.89 / 1.00). Held-out figures: ``benchmarks/eval_double_stain.py``.
        With AEC (8.4° from DAB) no threshold separates well (balanced accuracy <= 0.78).

    Notes
    -----
    The weak-stain adaptation was measured on the real dev tiles (``benchmarks/accuracy.py
    --split``): with it, SHIDC-B-Ki-67 (weak DAB, positives' median 0.42 OD) goes from an index
    MAE of 6.6 to about 4.5 pp on both image halves, while BCData and DeepLIIF (strong DAB) are
    unchanged: their stained nuclei have medians far above 0.5 OD. Its four parameters sit on a
    plateau (floor 0.2-0.25, fraction 0.4-0.7 and median or 75th percentile give the same
    result within 0.3 pp); 0.7 is the end of it that leaves moderately stained slides alone
    (with 0.5 the pigmented sample tile, whose melanin-tinted negatives sit at 0.25-0.35 OD,
    read 1.4 pp higher). A per-slide threshold that can also go *up* (Otsu on the DAB means,
    or a fraction of the 95th percentile) helps BCData's faint-cytoplasm negatives but
    contradicts the counting rule "any nuclear staining is positive" and hurts low-index slides,
    whose upper percentiles are negatives: not adopted.
    """

    positive_threshold_od: float = 0.35
    moderate_threshold_od: float = 0.60
    strong_threshold_od: float = 1.00
    exclude_lymphocytes: bool = False
    lymphocyte_max_area_um2: float = 30.0
    lymphocyte_min_circularity: float = 0.85
    lymphocyte_min_hematoxylin_od: float = 0.35
    pigment_min_visible_fraction: float = 0.25
    pigment_margin_um: float = 0.5
    pigment_fill_um: float = 1.0
    pigment_max_dab_fill: float = 0.95
    pigment_ring_um: float = 2.0
    pigment_ring_min_fraction: float = 0.5
    weak_stain_adaptation: bool = True
    weak_stain_floor_od: float = 0.2
    weak_stain_fraction: float = 0.7
    weak_stain_min_threshold_od: float = 0.25
    weak_stain_min_nuclei: int = 10
    cell_model: str = "default"
    count_in: str = "all"
    tissue_model: str = "auto"
    melanocyte_marker: str = "auto"
    melanocyte_ring_um: float = 2.0
    melanocyte_min_od: float = 0.12

    def __post_init__(self) -> None:
        t1, t2, t3 = self.positive_threshold_od, self.moderate_threshold_od, self.strong_threshold_od
        if not all(math.isfinite(t) for t in (t1, t2, t3)) or not (0 <= t1 <= t2 <= t3):
            msg = (
                "Ki67Params thresholds must satisfy 0 <= positive_threshold_od <= moderate_threshold_od"
                f" <= strong_threshold_od (log10 OD), got {t1!r}, {t2!r}, {t3!r}"
            )
            raise ConfigError(msg)
        if not 0 < self.pigment_min_visible_fraction <= 1:
            msg = (
                "Ki67Params.pigment_min_visible_fraction must be in (0, 1], got "
                f"{self.pigment_min_visible_fraction!r}"
            )
            raise ConfigError(msg)
        for name in ("pigment_margin_um", "pigment_fill_um"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                msg = f"Ki67Params.{name} must be a finite distance >= 0 in µm, got {value!r}"
                raise ConfigError(msg)
        for name in ("pigment_max_dab_fill", "pigment_ring_min_fraction"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= 1):
                msg = f"Ki67Params.{name} must be in [0, 1], got {value!r}"
                raise ConfigError(msg)
        if not (math.isfinite(self.pigment_ring_um) and self.pigment_ring_um > 0):
            msg = f"Ki67Params.pigment_ring_um must be a positive finite width in µm, got {self.pigment_ring_um!r}"
            raise ConfigError(msg)
        if not 0 <= self.lymphocyte_min_circularity <= 1:
            msg = f"Ki67Params.lymphocyte_min_circularity must be in [0, 1], got {self.lymphocyte_min_circularity!r}"
            raise ConfigError(msg)
        if not self.lymphocyte_max_area_um2 > 0:
            msg = f"Ki67Params.lymphocyte_max_area_um2 must be > 0, got {self.lymphocyte_max_area_um2!r}"
            raise ConfigError(msg)
        if not isinstance(self.weak_stain_adaptation, bool):
            msg = f"Ki67Params.weak_stain_adaptation must be true or false, got {self.weak_stain_adaptation!r}"
            raise ConfigError(msg)
        check_finite(self, ("weak_stain_floor_od", "weak_stain_fraction", "weak_stain_min_threshold_od"), positive=False)
        check_finite(self, ("lymphocyte_min_hematoxylin_od", "lymphocyte_max_area_um2"), positive=False)
        n = self.weak_stain_min_nuclei
        if (isinstance(n, bool) or not isinstance(n, int | float) or not math.isfinite(n) or int(n) != n
                or n < 1):
            msg = f"Ki67Params.weak_stain_min_nuclei must be an integer >= 1, got {n!r}"
            raise ConfigError(msg)
        object.__setattr__(self, "weak_stain_min_nuclei", int(n))
        if not isinstance(self.cell_model, str) or not self.cell_model.strip():
            msg = (f"Ki67Params.cell_model must be 'default', 'none' or the path of a nucleus model file, "
                   f"got {self.cell_model!r}")
            raise ConfigError(msg)
        if self.count_in not in ("all", "tumour"):
            msg = f"Ki67Params.count_in must be 'all' or 'tumour', got {self.count_in!r}"
            raise ConfigError(msg)
        if not isinstance(self.tissue_model, str) or not self.tissue_model.strip():
            msg = (f"Ki67Params.tissue_model must be 'auto', 'default' or the path of a tissue model file, "
                   f"got {self.tissue_model!r}")
            raise ConfigError(msg)
        if self.melanocyte_marker not in MELANOCYTE_MARKERS:
            msg = (f"Ki67Params.melanocyte_marker must be one of {', '.join(MELANOCYTE_MARKERS)}, "
                   f"got {self.melanocyte_marker!r}")
            raise ConfigError(msg)
        if not (math.isfinite(self.melanocyte_ring_um) and self.melanocyte_ring_um > 0):
            msg = (f"Ki67Params.melanocyte_ring_um must be a positive finite width in µm, "
                   f"got {self.melanocyte_ring_um!r}")
            raise ConfigError(msg)
        if not (math.isfinite(self.melanocyte_min_od) and self.melanocyte_min_od >= 0):
            msg = f"Ki67Params.melanocyte_min_od must be a finite log10 OD >= 0, got {self.melanocyte_min_od!r}"
            raise ConfigError(msg)

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any]) -> Ki67Params:
        """Build from a plain mapping; unknown keys are an error."""
        check_known_keys(cls, mapping)
        return cls(**mapping)

    def to_mapping(self) -> dict[str, Any]:
        """Plain JSON-serialisable mapping of the parameters."""
        return plain_mapping(self)


@dataclass(frozen=True, slots=True)
class Ki67Counts:
    """Additive nucleus counts of one region (tile, slide, window).

    ``positive == positive_1plus + positive_2plus + positive_3plus``. ``lymphocyte``, ``stromal``,
    ``macrophage`` and ``other_cell`` count the nuclei the cell model took out of the index by
    type (they are part of ``excluded``). ``melanocytic_positive`` / ``melanocytic_negative``
    are the positive / negative (index) nuclei carrying the melanocyte marker of a Ki67 / MART-1
    or SOX10 double stain (0 without a marker). Add counts of disjoint
    regions with ``+``; compute ratios once from totals with :func:`ki67_metrics`.
    """

    positive: int = 0
    negative: int = 0
    pigment: int = 0
    excluded: int = 0
    positive_1plus: int = 0
    positive_2plus: int = 0
    positive_3plus: int = 0
    lymphocyte: int = 0
    stromal: int = 0
    macrophage: int = 0
    other_cell: int = 0
    melanocytic_positive: int = 0
    melanocytic_negative: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if int(value) != value or value < 0:
                msg = f"Ki67Counts.{f.name} must be a non-negative integer, got {value!r}"
                raise ConfigError(msg)
            object.__setattr__(self, f.name, int(value))
        if self.positive != self.positive_1plus + self.positive_2plus + self.positive_3plus:
            msg = (
                "Ki67Counts.positive must equal positive_1plus + positive_2plus + positive_3plus, got "
                f"{self.positive} != {self.positive_1plus} + {self.positive_2plus} + {self.positive_3plus}"
            )
            raise ConfigError(msg)
        if self.melanocytic_positive > self.positive or self.melanocytic_negative > self.negative:
            msg = (
                "Ki67Counts.melanocytic_positive / melanocytic_negative must not exceed positive / negative, got "
                f"{self.melanocytic_positive} / {self.melanocytic_negative} of {self.positive} / {self.negative}"
            )
            raise ConfigError(msg)

    def __add__(self, other: Ki67Counts) -> Ki67Counts:
        if not isinstance(other, Ki67Counts):
            return NotImplemented
        return Ki67Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __radd__(self, other: object) -> Ki67Counts:
        if other == 0:  # lets sum() start from 0
            return self
        return NotImplemented

    @property
    def denominator(self) -> int:
        """Nuclei in the index: positive + negative."""
        return self.positive + self.negative

    @property
    def total(self) -> int:
        """All detected nuclei, including pigment and excluded."""
        return self.positive + self.negative + self.pigment + self.excluded

    @classmethod
    def from_classes(cls, classes: Any, bins: Any | None = None, cell_types: Any | None = None,
                     melanocytic: Any | None = None) -> Ki67Counts:
        """Count per-nucleus classes (strings from :data:`CLASSES`) and intensity bins (0-3).

        ``bins`` is required for positive nuclei (values 1-3); ``None`` counts every positive as 1+.
        ``cell_types`` (cell-model class names) adds the per-type counts of ``excluded`` nuclei;
        ``melanocytic`` (bool per nucleus) the melanocytic positive / negative counts.
        """
        cls_arr = np.asarray(classes).astype(str)
        unknown = set(np.unique(cls_arr)) - set(CLASSES)
        if unknown:
            msg = f"unknown Ki67 classes {sorted(unknown)}; expected some of {CLASSES}"
            raise ConfigError(msg)
        pos = cls_arr == "positive"
        if bins is None:
            b = np.where(pos, 1, 0)
        else:
            b = np.asarray(bins)
            if b.shape != cls_arr.shape:
                msg = f"bins must have the shape of classes {cls_arr.shape}, got {b.shape}"
                raise ConfigError(msg)
        if np.any(pos & ((b < 1) | (b > 3))):
            msg = "positive nuclei need an intensity bin of 1, 2 or 3"
            raise ConfigError(msg)
        return cls(
            positive=int(pos.sum()),
            negative=int((cls_arr == "negative").sum()),
            pigment=int((cls_arr == "pigment").sum()),
            excluded=int((cls_arr == "excluded").sum()),
            positive_1plus=int((pos & (b == 1)).sum()),
            positive_2plus=int((pos & (b == 2)).sum()),
            positive_3plus=int((pos & (b == 3)).sum()),
            **_type_counts(cls_arr == "excluded", cell_types),
            **_melanocytic_counts(cls_arr, melanocytic),
        )

    def to_mapping(self) -> dict[str, int]:
        """Plain mapping of the counts."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _type_counts(excluded: np.ndarray, cell_types: Any | None) -> dict[str, int]:
    """Per-type counts of the excluded nuclei (``other_cell`` takes every non-listed type)."""
    if cell_types is None:
        return {}
    types = np.asarray(cell_types).astype(str)
    if types.shape != excluded.shape:
        msg = f"cell_types must have the shape of classes {excluded.shape}, got {types.shape}"
        raise ConfigError(msg)
    out = {name: int((excluded & (types == name)).sum()) for name in ("lymphocyte", "stromal", "macrophage")}
    out["other_cell"] = int((excluded & np.isin(types, ("other",))).sum())
    return out


def _melanocytic_counts(cls_arr: np.ndarray, melanocytic: Any | None) -> dict[str, int]:
    """Positive / negative nuclei that carry the melanocyte marker."""
    if melanocytic is None:
        return {}
    mel = np.asarray(melanocytic)
    if mel.shape != cls_arr.shape or mel.dtype != bool:
        msg = f"melanocytic must be a bool array of the shape of classes {cls_arr.shape}, got {mel.dtype} {mel.shape}"
        raise ConfigError(msg)
    return {"melanocytic_positive": int((mel & (cls_arr == "positive")).sum()),
            "melanocytic_negative": int((mel & (cls_arr == "negative")).sum())}


def _allred_proportion_score(fraction: float) -> int:
    pct = 100.0 * fraction
    if pct <= 0:
        return 0
    if pct < 1:
        return 1
    if pct <= 10:
        return 2
    if pct <= 100 / 3:
        return 3
    if pct <= 200 / 3:
        return 4
    return 5


def ki67_metrics(counts: Ki67Counts) -> dict[str, Any]:
    """Index metrics from (slide-total) counts.

    Returns
    -------
    dict
        ``index_pct`` (positive / (positive + negative) × 100, ``nan`` when the denominator is 0),
        ``ci_low_pct``/``ci_high_pct`` (95 % Wilson interval, %), ``denominator``, ``positive``,
        ``negative``, ``pigment``, ``excluded`` (with ``lymphocyte``, ``stromal``, ``macrophage`` and
        ``other_cell``: the nuclei the cell model took out, by type), ``h_score`` (0-300: Σ bin × % of index nuclei in
        the bin), ``allred_proportion`` (0-5), ``allred_intensity`` (0-3, rounded mean bin of the
        positive nuclei), ``allred_total`` (0 or 2-8); the pigment QC bound (issue #14):
        ``pigment_obscured_pct`` (nuclei hidden under pigment, ``pigment``, as a percentage of
        positive + negative + pigment), ``index_if_obscured_negative_pct`` and
        ``index_if_obscured_positive_pct`` (the index if every hidden nucleus were negative /
        positive: the range pigment leaves open, beside the Wilson interval); the
        melanocyte-restricted index of a Ki67 / MART-1 or SOX10 double stain:
        ``melanocytic_index_pct`` (melanocytic_positive / (melanocytic_positive +
        melanocytic_negative) × 100), ``melanocytic_ci_low_pct`` / ``melanocytic_ci_high_pct``
        (95 % Wilson) and ``melanocytic_denominator`` (``nan`` index and interval when it is 0,
        as it is without a marker). Undefined values are ``nan``.

    Examples
    --------
    >>> m = ki67_metrics(Ki67Counts(positive=10, negative=70, pigment=20, positive_1plus=10))
    >>> m["index_pct"], m["pigment_obscured_pct"]
    (12.5, 20.0)
    >>> m["index_if_obscured_negative_pct"], m["index_if_obscured_positive_pct"]
    (10.0, 30.0)
    """
    n = counts.denominator
    nan = math.nan
    if n == 0:
        index = low = high = h_score = nan
        allred_ps = allred_is = allred_total = nan
    else:
        index = 100.0 * counts.positive / n
        lo, hi = wilson_interval(counts.positive, n)
        low, high = 100.0 * lo, 100.0 * hi
        weighted = counts.positive_1plus + 2 * counts.positive_2plus + 3 * counts.positive_3plus
        h_score = 100.0 * weighted / n
        allred_ps = _allred_proportion_score(counts.positive / n)
        allred_is = math.floor(weighted / counts.positive + 0.5) if counts.positive else 0
        allred_total = allred_ps + allred_is
    return {
        "index_pct": index,
        "ci_low_pct": low,
        "ci_high_pct": high,
        "denominator": n,
        "positive": counts.positive,
        "negative": counts.negative,
        "pigment": counts.pigment,
        "excluded": counts.excluded,
        "lymphocyte": counts.lymphocyte,
        "stromal": counts.stromal,
        "macrophage": counts.macrophage,
        "other_cell": counts.other_cell,
        "h_score": h_score,
        "allred_proportion": allred_ps,
        "allred_intensity": allred_is,
        "allred_total": allred_total,
        **_pigment_bound(counts),
        **_melanocytic_index(counts),
    }


def _melanocytic_index(counts: Ki67Counts) -> dict[str, float | int]:
    """Ki67 index among the melanocytic (marker-positive) index nuclei, with its Wilson interval."""
    k, n = counts.melanocytic_positive, counts.melanocytic_positive + counts.melanocytic_negative
    if n == 0:
        return {"melanocytic_index_pct": math.nan, "melanocytic_ci_low_pct": math.nan,
                "melanocytic_ci_high_pct": math.nan, "melanocytic_denominator": 0}
    lo, hi = wilson_interval(k, n)
    return {"melanocytic_index_pct": 100.0 * k / n, "melanocytic_ci_low_pct": 100.0 * lo,
            "melanocytic_ci_high_pct": 100.0 * hi, "melanocytic_denominator": n}


def _pigment_bound(counts: Ki67Counts) -> dict[str, float]:
    """How far the index could move if the nuclei hidden under pigment were all negative / positive."""
    seen = counts.denominator + counts.pigment
    if seen == 0:
        return {"pigment_obscured_pct": math.nan, "index_if_obscured_negative_pct": math.nan,
                "index_if_obscured_positive_pct": math.nan}
    return {
        "pigment_obscured_pct": 100.0 * counts.pigment / seen,
        "index_if_obscured_negative_pct": 100.0 * counts.positive / seen,
        "index_if_obscured_positive_pct": 100.0 * (counts.positive + counts.pigment) / seen,
    }


def slide_positive_threshold(dab_od_mean: Any, params: Ki67Params | None = None) -> float:
    """Positivity threshold (log10 OD) of one slide or region, from its nuclei's DAB.

    ``params.positive_threshold_od``, lowered on weakly stained slides when
    ``params.weak_stain_adaptation`` is on: ``clip(weak_stain_fraction * median(stained),
    weak_stain_min_threshold_od, positive_threshold_od)`` where ``stained`` are the DAB OD means
    >= ``weak_stain_floor_od`` (at least ``weak_stain_min_nuclei`` of them, else no adaptation).

    Parameters
    ----------
    dab_od_mean : (n,) array_like of float
        DAB OD mean of every nucleus in the index (positive and negative, the value each was
        classified on) of the whole slide or region.
    params : Ki67Params or None

    Returns
    -------
    float
        The threshold, <= ``params.positive_threshold_od``.

    Examples
    --------
    >>> import numpy as np
    >>> weak = np.r_[np.full(80, 0.1), np.full(20, 0.4)]     # positives at 0.4 OD
    >>> round(slide_positive_threshold(weak), 3)
    0.28
    >>> strong = np.r_[np.full(80, 0.1), np.full(20, 1.5)]
    >>> slide_positive_threshold(strong)
    0.35
    """
    params = params or Ki67Params()
    top = float(params.positive_threshold_od)
    if not params.weak_stain_adaptation:
        return top
    dab = np.asarray(dab_od_mean, dtype=np.float64).reshape(-1)
    stained = dab[np.isfinite(dab) & (dab >= params.weak_stain_floor_od)]
    if stained.size < params.weak_stain_min_nuclei:
        return top
    adapted = params.weak_stain_fraction * float(np.median(stained))
    return float(min(top, max(min(float(params.weak_stain_min_threshold_od), top), adapted)))


@dataclass(frozen=True, slots=True, eq=False)
class Ki67Cells:
    """Classified nuclei: the :class:`~mmnst_path.detect.nuclei.Nuclei` features plus a class.

    Attributes
    ----------
    row, col : (n,) float64
        Centroids in pixels of the analysed image.
    area_um2, dab_od_mean, dab_od_max, hematoxylin_od_mean, circularity, eccentricity : (n,) arrays
        As in ``Nuclei``.
    cls : (n,) str array
        One of :data:`CLASSES`.
    intensity_bin : (n,) int8
        0 for non-positive nuclei, 1/2/3 for 1+/2+/3+ positive nuclei.
    cell_type : (n,) str array
        Class from the cell model (``tumour``, ``lymphocyte``, ``stromal``...), ``unclassified``
        without one.
    tumour_probability : (n,) float32
        The cell model's tumour probability (NaN without a model).
    outline_radii : (n, 16) float32
        Outline of each nucleus as radii (pixels of the analysed image) of a star polygon around
        its centroid (:mod:`mmnst_path.detect.outlines`); (n, 0) when not computed.
    melanocytic : (n,) bool
        The nucleus carries the melanocyte marker of a double stain (False without a marker).
    marker_od_mean : (n,) float32
        Median red (marker) concentration, log10 OD, where the marker was read (perinuclear ring
        or nucleus, pigment pixels left out); NaN without a marker or with no readable pixel.
    """

    row: np.ndarray
    col: np.ndarray
    area_um2: np.ndarray
    dab_od_mean: np.ndarray
    dab_od_max: np.ndarray
    hematoxylin_od_mean: np.ndarray
    circularity: np.ndarray
    eccentricity: np.ndarray
    cls: np.ndarray
    intensity_bin: np.ndarray
    cell_type: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U12"))
    tumour_probability: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    outline_radii: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    melanocytic: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    marker_od_mean: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def __post_init__(self) -> None:
        n = int(self.row.shape[0])
        if self.cell_type.shape != (n,):
            object.__setattr__(self, "cell_type", np.full(n, "unclassified", dtype="<U12"))
        if self.tumour_probability.shape != (n,):
            object.__setattr__(self, "tumour_probability", np.full(n, np.nan, dtype=np.float32))
        if self.outline_radii.ndim != 2 or self.outline_radii.shape[0] != n:
            object.__setattr__(self, "outline_radii", np.zeros((n, 0), np.float32))
        if self.melanocytic.shape != (n,):
            object.__setattr__(self, "melanocytic", np.zeros(n, bool))
        if self.marker_od_mean.shape != (n,):
            object.__setattr__(self, "marker_od_mean", np.full(n, np.nan, dtype=np.float32))

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def select(self, keep: np.ndarray) -> Ki67Cells:
        """Subset by a boolean mask or index array."""
        return Ki67Cells(*(getattr(self, f.name)[keep] for f in fields(self)))

    def counts(self) -> Ki67Counts:
        """Additive counts of these cells."""
        return Ki67Counts.from_classes(self.cls, self.intensity_bin, self.cell_type, self.melanocytic)


@dataclass(frozen=True, slots=True, eq=False)
class Ki67Region:
    """Result of :func:`measure_ki67` on one image: classified cells and their counts."""

    cells: Ki67Cells
    counts: Ki67Counts
    labels: np.ndarray | None = field(default=None, repr=False)


def _per_nucleus(name: str, values: Any, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        msg = f"{name} must have shape ({n},), got {arr.shape}"
        raise ConfigError(msg)
    return arr


def _pigment_evidence(
    labels: np.ndarray, dab: np.ndarray, hidden: np.ndarray, mask: np.ndarray, n: int, *, fill_od: float,
    ring_px: int,
) -> dict[str, np.ndarray]:
    """Per-nucleus pigment evidence, each of shape (n,), from the label image.

    ``visible_fraction``: fraction of the nucleus's pixels outside ``hidden`` (the grown pigment
    mask); ``visible_dab``: mean DAB over those pixels (NaN when none); ``dab_fill``: fraction
    of all its pixels with DAB >= ``fill_od``; ``full_dab``: mean DAB over all its pixels;
    ``ring``: fraction of the ring of ``ring_px`` pixels around it that is in ``mask`` (ring
    pixels are background pixels whose nearest label within a square of side
    ``2 ring_px + 1`` is the nucleus, by a separable maximum filter of the label image).
    """
    flat = labels.ravel()
    d = dab.ravel().astype(np.float64)
    vis = ~hidden.ravel()
    area = np.maximum(np.bincount(flat, minlength=n + 1), 1).astype(np.float64)
    n_vis = np.bincount(flat, vis, minlength=n + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        visible_dab = np.bincount(flat, d * vis, minlength=n + 1) / n_vis
    # ndi.maximum_filter(labels, size=...) in two separable passes (bit-identical, checked on the
    # int32 labels of 6 real tiles at ring sizes 3-13 px, ~1.5x faster)
    grown = _square_extreme(labels, 2 * ring_px + 1, op="max")
    ring = np.where(labels == 0, grown, 0).ravel()
    ring_area = np.maximum(np.bincount(ring, minlength=n + 1), 1)
    return {
        "visible_fraction": (n_vis / area)[1:],
        "visible_dab": visible_dab[1:],
        "dab_fill": (np.bincount(flat, d >= fill_od, minlength=n + 1) / area)[1:],
        "full_dab": (np.bincount(flat, d, minlength=n + 1) / area)[1:],
        "ring": (np.bincount(ring, mask.ravel(), minlength=n + 1) / ring_area)[1:],
    }


def classify_nuclei(
    nuclei: Any,
    params: Ki67Params = Ki67Params(),
    *,
    visible_fraction: Any = None,
    visible_dab_od_mean: Any = None,
    dab_fill: Any = None,
    ring_pigment_fraction: Any = None,
    full_dab_od_mean: Any = None,
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
        if dab_fill is not None and pig.any():
            fill = _per_nucleus("dab_fill", dab_fill, n)
            ring = np.zeros(n) if ring_pigment_fraction is None else _per_nucleus(
                "ring_pigment_fraction", ring_pigment_fraction, n
            )
            stained = pig & (fill >= params.pigment_max_dab_fill) & (ring < params.pigment_ring_min_fraction)
            if full_dab_od_mean is not None:
                dab[stained] = _per_nucleus("full_dab_od_mean", full_dab_od_mean, n)[stained]
            pig &= ~stained
    cls = np.full(n, "negative", dtype="<U8")
    pos = (dab >= params.positive_threshold_od) & ~pig
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
    )


def _without_pigment(rgb: np.ndarray, conc: np.ndarray, hidden: np.ndarray, matrix: Any, background: Any,
                     sigma_px: float, chromogen: str = "dab") -> np.ndarray:
    """``rgb`` with the DAB of the ``hidden`` (pigment) pixels replaced by that of their
    pigment-free surroundings; hematoxylin kept; other pixels unchanged (detection input)."""
    from ..stain import rgb_from_stains

    clean = conc[hidden].copy()
    first = None
    if sigma_px >= 0.3:
        # one windowed pass of the three blurs at sigma_px, shared by the DAB fill and the cap
        keep = (~hidden).astype(np.float32)
        num_d, num_h, den = _smoothed_at((conc[..., 1] * keep, conc[..., 0] * keep, keep), sigma_px, hidden)
        first = (num_d, den)
    clean[:, 1] = _filled_at(conc[..., 1], hidden, sigma_px, first)
    # melanin is not exactly the DAB vector: its leak into hematoxylin would turn granule bands
    # into faint "nuclei" or merge them with the nucleus they surround. Within reach of
    # pigment-free pixels (>= 10 % weight at sigma_px) hematoxylin is capped by theirs; deep
    # under pigment (a wholly covered nucleus) it is kept, so such a nucleus is still found
    # and reported as ``pigment``.
    if sigma_px >= 0.3:
        near = den >= 0.1
        h_fill = num_h[near] / den[near]
        clean[near, 0] = np.minimum(clean[near, 0], h_fill)
    out = rgb.copy()
    out[hidden] = rgb_from_stains(clean, matrix, stains=("hematoxylin", chromogen), background=background)
    return out


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
) -> Ki67Region:
    """Detect and classify the nuclei of one RGB image (tile) at the analysis resolution.

    Parameters
    ----------
    rgb : (M, N, 3) uint8
        Hematoxylin-DAB image at ``mpp`` microns per pixel.
    mpp : float
        Microns per pixel of ``rgb``.
    stains : str or StainMatrix
        Stain matrix (or preset name) holding ``hematoxylin`` and a chromogen (:func:`chromogen_of`).
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
    cell_model : ClassifierModel or None
        Nucleus model deciding which nuclei are tumour cells (None = the one
        ``params.cell_model`` names; ``"none"`` there = no cell model).

    Returns
    -------
    Ki67Region
        ``cells`` (centroids in pixels of ``rgb``, features, class, intensity bin) and ``counts``.
    """
    from ..classify import resolve_model
    from ..classify.cells import classify_cells
    from ..detect.nuclei import NucleusParams, nuclei_from_stains
    from ..geometry import require_mpp
    from ..stain import StainMatrix, load_stains, separate_stains

    mpp = require_mpp(mpp, what="image")
    model = cell_model if cell_model is not None else resolve_model(params.cell_model, "nucleus")
    nparams = NucleusParams() if nuclei_params is None else nuclei_params
    matrix = stains if isinstance(stains, StainMatrix) else load_stains(stains)
    pair = ("hematoxylin", chromogen_of(matrix))
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
    det_rgb = rgb
    conc = None
    if hidden is not None:
        conc = separate_stains(rgb, matrix, stains=pair, background=background)
        det_rgb = _without_pigment(rgb, conc, hidden, matrix, background, params.pigment_fill_um / mpp, pair[1])
    if hidden is not None and conc is not None:
        # the detection input differs from ``rgb`` on the hidden pixels only, and the (per-pixel,
        # lookup-table) deconvolution of the other pixels is ``conc``: unmix just those pixels
        # (what detect_nuclei(det_rgb) would compute, without a second full-tile pass)
        hem_plane = conc[..., 0].copy()
        dab_plane = conc[..., 1].copy()
        patch = separate_stains(det_rgb[hidden], matrix, stains=pair, background=background)
        hem_plane[hidden] = patch[:, 0]
        dab_plane[hidden] = patch[:, 1]
        nuclei = nuclei_from_stains(hem_plane, dab_plane, mpp=mpp, params=nparams, return_labels=True)
    else:
        conc = separate_stains(det_rgb, matrix, stains=pair, background=background)
        hem_plane, dab_plane = conc[..., 0], conc[..., 1]
        nuclei = nuclei_from_stains(hem_plane, dab_plane, mpp=mpp, params=nparams,
                                    return_labels=True)  # labels: cell model and outlines
    evidence: dict[str, np.ndarray] = {}
    if hidden is not None and conc is not None and len(nuclei):
        assert nuclei.labels is not None
        ring_px = max(1, round(params.pigment_ring_um / mpp))
        evidence = _pigment_evidence(nuclei.labels, conc[..., 1], hidden, mask, len(nuclei),
                                     fill_od=params.positive_threshold_od, ring_px=ring_px)
    cells = classify_nuclei(
        nuclei, params,
        visible_fraction=evidence.get("visible_fraction"),
        visible_dab_od_mean=evidence.get("visible_dab"),
        dab_fill=evidence.get("dab_fill"),
        ring_pigment_fraction=evidence.get("ring"),
        full_dab_od_mean=evidence.get("full_dab"),
    )
    if nuclei.labels is not None and len(cells):  # outlines for QuPath / review (16-ray star polygons)
        from ..detect.outlines import star_radii

        cells = replace(cells, outline_radii=star_radii(nuclei.labels, nuclei.row, nuclei.col))
    marker = marker_of(matrix, params)
    if marker is not None and len(cells):
        assert nuclei.labels is not None
        red = separate_stains(rgb, matrix, stains=(marker[0],), background=background)[..., 0]
        red_od = _marker_od(nuclei.labels, red, hidden, len(cells), where=marker[1],
                            ring_px=max(1, round(params.melanocyte_ring_um / mpp)))
        cells = replace(cells, melanocytic=np.nan_to_num(red_od, nan=-1.0) >= params.melanocyte_min_od,
                        marker_od_mean=red_od)
    if model is not None and len(cells):
        assert nuclei.labels is not None
        types, p_tumour = classify_cells(model, nuclei.labels, hem_plane, dab_plane, mpp=mpp)
        cls = cells.cls.copy()
        # positivity stays the stain measurement; the model only decides who is counted
        cls[np.isin(cls, ("positive", "negative")) & (types != "tumour")] = "excluded"
        bins = np.where(cls == "positive", cells.intensity_bin, 0).astype(np.int8)
        cells = replace(cells, cls=cls, intensity_bin=bins, cell_type=types, tumour_probability=p_tumour)
    if roi_mask is not None:
        roi = np.asarray(roi_mask, dtype=bool)
        if roi.shape != shape:
            msg = f"roi_mask must have the image shape {shape}, got {roi.shape}"
            raise ConfigError(msg)
        r = np.clip(np.rint(cells.row).astype(np.intp), 0, roi.shape[0] - 1)
        c = np.clip(np.rint(cells.col).astype(np.intp), 0, roi.shape[1] - 1)
        cells = cells.select(roi[r, c])
    return Ki67Region(cells=cells, counts=cells.counts(), labels=nuclei.labels if return_labels else None)
