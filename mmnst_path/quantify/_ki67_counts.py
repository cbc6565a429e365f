"""Additive Ki67 counts and the metrics computed once from slide totals (see :mod:`.ki67`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._ki67_params import Ki67Params
from ._stats import wilson_interval

CLASSES = ("negative", "positive", "pigment", "excluded")

#: the cell model leaving out at least this % of a slide's detected nuclei as ``stromal`` (and at
#: least STROMA_MIN_NUCLEI of them) marks a possible spindle-cell tumour: the QC sentence
#: (:func:`mmnst_path.report.stroma_warning`) is said and ``Ki67Params.spindle_sheet = "auto"``
#: counts the stromal nuclei in spindle sheets. 50 %: no real annotated Ki67 tile reaches it
#: (BCData 7-27 %, SHIDC 8-45 %, DeepLIIF 2-31 % of their detected nuclei), the generated
#: spindle-cell tumours do (pigment family ``spindle`` 43-72 %, 3 of 4 tiles;
#: ``ki67_cells_tile(tumour="spindle")`` 50-56 %), and generated nests beside true stroma reach
#: 25-50 % (benchmarks/README.md, "Spindle-cell tumours: a QC sentence")
STROMA_SHARE_PCT = 50.0
STROMA_MIN_NUCLEI = 20



@dataclass(frozen=True, slots=True)
class Ki67Counts:
    """Additive nucleus counts of one region (tile, slide, window).

    ``positive == positive_1plus + positive_2plus + positive_3plus``. ``lymphocyte``, ``stromal``,
    ``macrophage`` and ``other_cell`` count the nuclei the cell model took out of the index by
    type (they are part of ``excluded``). ``melanocytic_positive`` / ``melanocytic_negative``
    are the positive / negative (index) nuclei carrying the melanocyte marker of a Ki67 / MART-1
    or SOX10 double stain (0 without a marker). ``near_black_positive`` / ``near_black_negative``
    are the positive / negative (index) nuclei at least ``Ki67Params.pigment_saturated_share``
    near-black (``Ki67Cells.near_black``): strong DAB, or melanin without granules, which no
    per-nucleus cue tells apart (QC: ``Ki67Params.near_black = "pigment"`` would make them
    unassessable). Add counts of disjoint regions with ``+``; compute ratios once from totals with
    :func:`ki67_metrics`.
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
    near_black_positive: int = 0
    near_black_negative: int = 0

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
        if self.near_black_positive > self.positive or self.near_black_negative > self.negative:
            msg = (
                "Ki67Counts.near_black_positive / near_black_negative must not exceed positive / negative, got "
                f"{self.near_black_positive} / {self.near_black_negative} of {self.positive} / {self.negative}"
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

    def mostly_stromal(self, *, min_pct: float = STROMA_SHARE_PCT, min_count: int = STROMA_MIN_NUCLEI) -> bool:
        """Whether the cell model left at least ``min_pct`` % of the detected nuclei (:attr:`total`),
        and at least ``min_count``, out of the index as stromal: a possible spindle-cell tumour."""
        return self.total > 0 and self.stromal >= min_count and 100.0 * self.stromal / self.total >= min_pct

    @classmethod
    def from_classes(cls, classes: Any, bins: Any | None = None, cell_types: Any | None = None,
                     melanocytic: Any | None = None, *, near_black: Any | None = None) -> Ki67Counts:
        """Count per-nucleus classes (strings from :data:`CLASSES`) and intensity bins (0-3).

        ``bins`` is required for positive nuclei (values 1-3); ``None`` counts every positive as 1+.
        ``cell_types`` (cell-model class names) adds the per-type counts of ``excluded`` nuclei;
        ``melanocytic`` (bool per nucleus) the melanocytic positive / negative counts;
        ``near_black`` (bool per nucleus) the near-black positive / negative counts.
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
            **_flagged_counts("near_black", cls_arr, near_black),
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
    return _flagged_counts("melanocytic", cls_arr, melanocytic)


def _flagged_counts(name: str, cls_arr: np.ndarray, flag: Any | None) -> dict[str, int]:
    """``{name}_positive`` / ``{name}_negative``: positive / negative nuclei whose bool ``flag`` is set."""
    if flag is None:
        return {}
    f = np.asarray(flag)
    if f.shape != cls_arr.shape or f.dtype != bool:
        msg = f"{name} must be a bool array of the shape of classes {cls_arr.shape}, got {f.dtype} {f.shape}"
        raise ConfigError(msg)
    return {f"{name}_positive": int((f & (cls_arr == "positive")).sum()),
            f"{name}_negative": int((f & (cls_arr == "negative")).sum())}


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
        as it is without a marker); the near-black QC (issue #14): ``near_black_positive_pct``
        (near-black positives as a percentage of the positives) and
        ``index_if_near_black_pigment_pct`` (the index with every near-black positive and
        negative nucleus left out as unassessable, as ``Ki67Params.near_black = "pigment"`` would
        read them). Undefined values are ``nan``.

    Examples
    --------
    >>> m = ki67_metrics(Ki67Counts(positive=10, negative=70, pigment=20, positive_1plus=10))
    >>> m["index_pct"], m["pigment_obscured_pct"]
    (12.5, 20.0)
    >>> m["index_if_obscured_negative_pct"], m["index_if_obscured_positive_pct"]
    (10.0, 30.0)
    >>> m = ki67_metrics(Ki67Counts(positive=40, negative=60, positive_3plus=40, near_black_positive=30))
    >>> m["near_black_positive_pct"], m["index_if_near_black_pigment_pct"]
    (75.0, 14.285714285714286)
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
        **_near_black_bound(counts),
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


def _near_black_bound(counts: Ki67Counts) -> dict[str, float]:
    """Share of the positives that are near-black, and the index with the near-black nuclei unassessable."""
    rest = counts.denominator - counts.near_black_positive - counts.near_black_negative
    return {
        "near_black_positive_pct": 100.0 * counts.near_black_positive / counts.positive if counts.positive else math.nan,
        "index_if_near_black_pigment_pct": (100.0 * (counts.positive - counts.near_black_positive) / rest
                                            if rest else math.nan),
    }


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
    With ``weak_stain_baseline_margin_od`` > 0 the adapted threshold is at least that much above
    the median of the DAB OD means under ``weak_stain_floor_od`` (the unstained nuclei, when at
    least ``weak_stain_min_nuclei``): a tint lifts them, and the threshold with them.
    ``params.weak_stain_basis = "baseline"`` (the red chromogens' form, ``Ki67Params.for_chromogen``)
    leaves the stained nuclei out: ``clip(median(unstained) + weak_stain_baseline_margin_od,
    weak_stain_min_threshold_od, positive_threshold_od)``, so a slide whose strong positives keep the
    stained median high still counts its faint ones (no adaptation with a margin of 0 or fewer
    than ``weak_stain_min_nuclei`` unstained nuclei).

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
    >>> tinted = np.r_[np.full(80, 0.19), np.full(20, 0.32)]   # negatives lifted by a tint
    >>> slide_positive_threshold(tinted)
    0.25
    >>> round(slide_positive_threshold(tinted, Ki67Params(weak_stain_baseline_margin_od=0.12)), 3)
    0.31
    >>> faint = np.r_[np.full(70, 0.03), np.full(10, 0.15), np.full(20, 1.2)]  # strong and faint positives
    >>> slide_positive_threshold(faint)
    0.35
    >>> red = Ki67Params(weak_stain_basis="baseline", weak_stain_baseline_margin_od=0.1,
    ...                  weak_stain_min_threshold_od=0.05)
    >>> round(slide_positive_threshold(faint, red), 3)
    0.13
    """
    params = params or Ki67Params()
    top = float(params.positive_threshold_od)
    if not params.weak_stain_adaptation:
        return top
    dab = np.asarray(dab_od_mean, dtype=np.float64).reshape(-1)
    dab = dab[np.isfinite(dab)]
    low = min(float(params.weak_stain_min_threshold_od), top)
    if params.weak_stain_basis == "baseline":  # the unstained nuclei alone (red chromogens)
        unstained = dab[dab < params.weak_stain_floor_od]
        if params.weak_stain_baseline_margin_od <= 0 or unstained.size < params.weak_stain_min_nuclei:
            return top
        return float(min(top, max(low, float(np.median(unstained)) + params.weak_stain_baseline_margin_od)))
    stained = dab[dab >= params.weak_stain_floor_od]
    if stained.size < params.weak_stain_min_nuclei:
        return top
    adapted = params.weak_stain_fraction * float(np.median(stained))
    unstained = dab[dab < params.weak_stain_floor_od]
    if params.weak_stain_baseline_margin_od > 0 and unstained.size >= params.weak_stain_min_nuclei:
        # the unstained nuclei's DAB (crosstalk, a tint): the threshold keeps the margin above it
        adapted = max(adapted, float(np.median(unstained)) + params.weak_stain_baseline_margin_od)
    return float(min(top, max(low, adapted)))
