"""The summary columns a review adds (:mod:`mmnst_path.review`), apart from the review code itself so that
:mod:`mmnst_path.report` (which writes summary.csv / summary.json) reads them without importing the batch
and pipeline layers that writing and applying reviews need."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["DOUBLE_REVIEW_COLUMNS", "REVIEW_COLUMNS", "TISSUE_REVIEW_COLUMNS", "summary_columns"]

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


def summary_columns(rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """summary.csv / summary.json columns: :data:`REVIEW_COLUMNS` follow when some row carries a review
    (``reviewed``, set by :func:`mmnst_path.review.apply_reviews`), then :data:`TISSUE_REVIEW_COLUMNS` when some
    review corrected the tissue classes, then :data:`DOUBLE_REVIEW_COLUMNS` when some review holds a double stain's
    melanocyte index; last, the tissue-class columns of every row's tissue model
    (:func:`mmnst_path._class_columns.class_columns`: area mm² and % of each class, empty where not measured)."""
    from ._class_columns import class_columns
    from .report import SUMMARY_COLUMNS

    if not any("reviewed" in r for r in rows):
        return SUMMARY_COLUMNS + class_columns(rows)
    tissue = TISSUE_REVIEW_COLUMNS if any("tissue_blocks_reviewed" in r for r in rows) else ()
    double = DOUBLE_REVIEW_COLUMNS if any("ki67_melanocytic_index_reviewed_pct" in r for r in rows) else ()
    return SUMMARY_COLUMNS + REVIEW_COLUMNS + tissue + double + class_columns(rows)
