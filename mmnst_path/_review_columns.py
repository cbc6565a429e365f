"""The summary columns a review adds (:mod:`mmnst_path.review`), apart from the review code itself so that
:mod:`mmnst_path.report` (which writes summary.csv / summary.json) reads them without importing the batch
and pipeline layers that writing and applying reviews need."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["DOUBLE_REVIEW_COLUMNS", "MELANIN_REVIEW_COLUMNS", "REVIEW_COLUMNS", "TISSUE_REVIEW_COLUMNS",
           "TUMOUR_MELANIN_REVIEW_COLUMNS", "melanin_review_row", "summary_columns"]

#: columns after :data:`~mmnst_path.report.SUMMARY_COLUMNS` when the folder holds a review
REVIEW_COLUMNS = ("reviewed", "ki67_index_reviewed_pct", "ki67_ci_low_reviewed_pct", "ki67_ci_high_reviewed_pct",
                  "ki67_positive_reviewed", "ki67_denominator_reviewed", "h_score_reviewed", "reviewer", "reviewed_at",
                  "review_note")
#: columns after :data:`REVIEW_COLUMNS` when some review corrected the tissue classes (painted in napari or drawn
#: as classified annotations): the reviewed necrosis area and % of the classed tissue, and the blocks changed
TISSUE_REVIEW_COLUMNS = ("necrosis_area_reviewed_mm2", "necrosis_fraction_reviewed_pct",
                         "necrosis_tissue_reviewed_mm2", "tumour_fraction_reviewed_pct",
                         "stroma_fraction_reviewed_pct", "tissue_blocks_reviewed")
#: after those (appended there so no earlier column moves): a Ki67 / MART-1 or SOX10 double stain's reviewed
#: melanocyte-restricted index, when some review holds one
DOUBLE_REVIEW_COLUMNS = ("ki67_melanocytic_index_reviewed_pct",)
#: last of all (after the tissue-class columns, so no earlier column moves), when some review corrected the melanin
#: map (:mod:`mmnst_path._melanin_map`): the reviewed melanin % of tissue, its area and the blocks changed
MELANIN_REVIEW_COLUMNS = ("melanin_fraction_reviewed_pct", "melanin_area_reviewed_mm2", "melanin_blocks_reviewed")
#: after those, when some review bears on the melanin of tumour (melanin or tumour corrected on a result that measured
#: it, :mod:`mmnst_path._review_tumour_melanin`): the reviewed ``melanin_tumour_fraction_pct``
TUMOUR_MELANIN_REVIEW_COLUMNS = ("melanin_tumour_fraction_reviewed_pct",)


def melanin_review_row(melanin: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`MELANIN_REVIEW_COLUMNS` of a review's ``melanin`` part
    (:func:`mmnst_path._review_melanin.reviewed_melanin` form), and :data:`TUMOUR_MELANIN_REVIEW_COLUMNS` of a
    reviewed melanin of tumour (:func:`mmnst_path._review_tumour_melanin.reviewed_tumour_melanin` form); NaN / None
    become None."""
    import math

    def num(v: Any) -> float | None:
        return None if v is None or not math.isfinite(float(v)) else float(v)

    if "melanin_tumour_fraction_pct" in melanin:
        return {"melanin_tumour_fraction_reviewed_pct": num(melanin["melanin_tumour_fraction_pct"])}
    return {"melanin_fraction_reviewed_pct": num(melanin.get("melanin_fraction_pct")),
            "melanin_area_reviewed_mm2": num(melanin.get("melanin_area_mm2")),
            "melanin_blocks_reviewed": melanin.get("changed_blocks")}


def summary_columns(rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """summary.csv / summary.json columns: :data:`REVIEW_COLUMNS` follow when some row carries a review
    (``reviewed``, set by :func:`mmnst_path.review.apply_reviews`), then :data:`TISSUE_REVIEW_COLUMNS` when some
    review corrected the tissue classes, then :data:`DOUBLE_REVIEW_COLUMNS` when some review holds a double stain's
    melanocyte index; then the tissue-class columns of every row's tissue model
    (:func:`mmnst_path._class_columns.class_columns`: area mm² and % of each class, empty where not measured);
    last, :data:`MELANIN_REVIEW_COLUMNS` when some review corrected the melanin map and
    :data:`TUMOUR_MELANIN_REVIEW_COLUMNS` when some review bears on the melanin of tumour."""
    from ._class_columns import class_columns
    from .report import SUMMARY_COLUMNS

    if not any("reviewed" in r for r in rows):
        return SUMMARY_COLUMNS + class_columns(rows)
    tissue = TISSUE_REVIEW_COLUMNS if any("tissue_blocks_reviewed" in r for r in rows) else ()
    double = DOUBLE_REVIEW_COLUMNS if any("ki67_melanocytic_index_reviewed_pct" in r for r in rows) else ()
    melanin = MELANIN_REVIEW_COLUMNS if any("melanin_blocks_reviewed" in r for r in rows) else ()
    tumour = TUMOUR_MELANIN_REVIEW_COLUMNS if any("melanin_tumour_fraction_reviewed_pct" in r for r in rows) else ()
    return SUMMARY_COLUMNS + REVIEW_COLUMNS + tissue + double + class_columns(rows) + melanin + tumour
