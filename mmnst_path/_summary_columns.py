"""The columns of summary.csv and the leading columns of cells.csv (split from :mod:`mmnst_path.report` in
session 43, when that module reached 597 lines; both names stay importable from it)."""

from __future__ import annotations

__all__ = ["CELL_COLUMNS", "SUMMARY_COLUMNS"]

#: Columns of summary.csv, in order (the Ki67 and melanin/necrosis issues fix the names).
SUMMARY_COLUMNS = (
    "input", "status", "error", "warnings", "qc",  # (qc: the QC sentences of the numbers, pigment bound first)
    "mpp", "mpp_source", "stains", "stains_source",  # (where the pixel size and the stains came from)
    "tissue_area_mm2",
    "ki67_positive",
    "ki67_negative",
    "ki67_pigment",
    "ki67_excluded",
    "ki67_lymphocyte",
    "ki67_stromal",
    "ki67_spindle_sheet_nuclei",
    "ki67_denominator",
    "ki67_index_pct",
    "ki67_ci_low_pct",
    "ki67_ci_high_pct",
    "ki67_hotspot_index_pct",
    "ki67_hotspot_ci_low_pct",
    "ki67_hotspot_ci_high_pct",
    "ki67_hotspot_nuclei",
    "ki67_hotspot_meets_min_nuclei",
    "h_score",
    "ki67_positive_threshold_od",
    "ki67_nuclear_contrast_od",
    "ki67_pigment_obscured_pct",
    "ki67_index_if_obscured_negative_pct",
    "ki67_index_if_obscured_positive_pct",
    "ki67_near_black_positive",
    "ki67_near_black_positive_pct",
    "ki67_index_if_near_black_pigment_pct",
    "ki67_melanocytic_index_pct",
    "ki67_melanocytic_ci_low_pct",
    "ki67_melanocytic_ci_high_pct",
    "ki67_melanocytic_denominator",
    "ki67_melanocytic_pigment",
    "ki67_melanocytic_index_if_obscured_negative_pct",
    "ki67_melanocytic_index_if_obscured_positive_pct",
    "ki67_melanocyte_marker",
    "ki67_melanocyte_marker_source",
    "ki67_chromogen",
    "ki67_counterstain",
    "melanin_area_mm2",
    "melanin_fraction_pct",
    "melanin_tissue_mm2",
    "melanin_tumour_fraction_pct",
    "necrosis_area_mm2",
    "necrosis_fraction_pct",
    "necrosis_tissue_mm2",
    "tumour_fraction_pct",
    "stroma_fraction_pct",
    "cell_model", "hidden_model", "pigment_cell_model", "tissue_model", "intact_model", "pigment_model", "pigment_gate",
    "n_tiles",
    "seconds",
)

#: Leading columns of cells.csv; feature columns follow in the table's order.
CELL_COLUMNS = ("x", "y", "class")
