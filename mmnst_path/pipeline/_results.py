"""Slide-wide results from the tile outputs: the low-resolution maps (fraction per map pixel), the
slide metrics (areas mm², indices %), the spindle-sheet nuclei and the tissue-class areas and legend.
Split word for word out of :mod:`mmnst_path.pipeline._slide` (session 29), which uses them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..aggregate import CELL_CLASSES, CELL_TYPES, CellTable, LowResMap
from ..quantify.ki67 import ki67_metrics
from ._worker import TileOutput

__all__: list[str] = []


def _tissue_classes(model: Any, table: Any, maps: dict[str, LowResMap], metrics: dict[str, Any]) -> dict[str, Any]:
    """Class areas (into ``metrics``: ``class_<name>_area_mm2`` / ``class_<name>_pct``), the class map
    (``maps["tissue_classes"]``, from the per-class fraction maps) and its legend."""
    names = tuple(model.class_names)
    areas = {n: float(np.nansum(table.columns[f"class_{n}_um2"])) / 1e6 if f"class_{n}_um2" in table.columns else 0.0
             for n in names}
    tissue = sum(a for n, a in areas.items() if n != "background")
    legend = []
    for spec in model.classes:
        pct = 100.0 * areas[spec.name] / tissue if tissue > 0 and spec.name != "background" else math.nan
        metrics[f"class_{spec.name}_area_mm2"] = areas[spec.name]
        metrics[f"class_{spec.name}_pct"] = pct
        legend.append({"index": int(spec.index), "name": spec.name, "colour": [int(v) for v in spec.colour],
                       "area_mm2": areas[spec.name], "pct_of_tissue": pct})
    if "melanin_tumour_um2" in table.columns and "tumour" in names:
        tumour_um2 = areas["tumour"] * 1e6
        mel = float(np.nansum(table.columns["melanin_tumour_um2"]))
        metrics["melanin_tumour_fraction_pct"] = 100.0 * mel / tumour_um2 if tumour_um2 > 0 else math.nan
    fractions = [maps[f"class:{n}"] for n in names if f"class:{n}" in maps]
    if len(fractions) == len(names):
        stack = np.stack([f.image for f in fractions])
        defined = np.isfinite(stack).all(axis=0)
        index = np.argmax(np.where(np.isfinite(stack), stack, -1.0), axis=0).astype(np.int8)
        maps["tissue_classes"] = LowResMap(np.where(defined, index, np.int8(-1)).astype(np.int8),
                                           fractions[0].downsample)
    return {"model": f"{model.model_id} {model.name} {model.card.get('version', '')}".strip(), "classes": legend}


def _assemble_maps(outputs: Sequence[TileOutput], shape0: tuple[int, int], map_scale: float) -> dict[str, LowResMap]:
    """Sum the per-tile map blocks into slide-wide low-resolution maps (fraction per map pixel)."""
    n_r = max(1, math.ceil(shape0[0] / map_scale))
    n_c = max(1, math.ceil(shape0[1] / map_scale))
    sums: dict[str, np.ndarray] = {}
    area = np.zeros((n_r, n_c), dtype=np.float64)
    for out in outputs:
        if out.map_origin is None:
            continue
        r0, c0 = out.map_origin
        h, w = out.map_area.shape
        r1, c1 = min(n_r, r0 + h), min(n_c, c0 + w)
        area[r0:r1, c0:c1] += out.map_area[: r1 - r0, : c1 - c0]
        for name, block in out.map_sums.items():
            acc = sums.setdefault(name, np.zeros((n_r, n_c), dtype=np.float64))
            acc[r0:r1, c0:c1] += block[: r1 - r0, : c1 - c0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            name: LowResMap(np.where(area > 0, acc / np.maximum(area, 1), np.nan).astype(np.float32), map_scale)
            for name, acc in sums.items()
        }


def _metrics(counts: Mapping[str, Any], tissue_area_mm2: float | None) -> dict[str, Any]:
    from ..quantify.melanin import melanin_metrics
    from ..quantify.necrosis import necrosis_metrics

    m: dict[str, Any] = {"tissue_area_mm2": math.nan if tissue_area_mm2 is None else float(tissue_area_mm2)}
    if counts.get("ki67") is not None:
        k = ki67_metrics(counts["ki67"])
        m.update(
            ki67_positive=int(counts["ki67"].positive),
            ki67_negative=int(counts["ki67"].negative),
            ki67_pigment=int(counts["ki67"].pigment),
            ki67_excluded=int(counts["ki67"].excluded),
            ki67_lymphocyte=int(counts["ki67"].lymphocyte),
            ki67_stromal=int(counts["ki67"].stromal),
            ki67_macrophage=int(counts["ki67"].macrophage),
            ki67_other_cell=int(counts["ki67"].other_cell),
            ki67_denominator=int(k["denominator"]),
            ki67_index_pct=float(k["index_pct"]),
            ki67_ci_low_pct=float(k["ci_low_pct"]),
            ki67_ci_high_pct=float(k["ci_high_pct"]),
            h_score=float(k["h_score"]),
        )
        m.update(ki67_near_black_positive=int(counts["ki67"].near_black_positive),
                 ki67_near_black_negative=int(counts["ki67"].near_black_negative))
        for key in ("pigment_obscured_pct", "index_if_obscured_negative_pct", "index_if_obscured_positive_pct",
                    "near_black_positive_pct", "index_if_near_black_pigment_pct"):
            if key in k:  # QC bounds: how far pigment-hidden (near-black) nuclei could move the index
                m[f"ki67_{key}"] = float(k[key])
        # Ki67 / MART-1 or SOX10 double stain: the index among melanocytic nuclei (NaN without)
        for key in ("melanocytic_index_pct", "melanocytic_ci_low_pct", "melanocytic_ci_high_pct"):
            m[f"ki67_{key}"] = float(k[key])
        m["ki67_melanocytic_denominator"] = int(k["melanocytic_denominator"])
        for key in ("allred_proportion", "allred_intensity", "allred_score"):
            if key in k:
                m[key] = k[key]
    if counts.get("melanin") is not None:
        m.update(melanin_metrics(counts["melanin"]))
    if counts.get("necrosis") is not None:
        m.update(necrosis_metrics(counts["necrosis"]))
    return m



def _lab_cell_types(cells: CellTable, cell_model: Any, metrics: dict[str, Any]) -> CellTable:
    """The excluded nuclei of each class of a lab's own cell model that mmnst_path does not know (``plasma_cell``),
    by name, into ``metrics`` (``ki67_cell_<name>``, 0 when none was called so): with ``ki67_lymphocyte``,
    ``ki67_stromal``, ``ki67_macrophage`` and ``ki67_other_cell`` they make up the excluded nuclei the model left
    out. ``cells`` is returned naming those classes (:attr:`CellTable.cell_types`) even when it holds no nucleus."""
    from .._class_columns import class_column_stem
    from ..aggregate import cell_type_names

    names = cell_type_names(None if cell_model is None else cell_model.class_names)
    if len(names) > len(cells.cell_types):
        cells = replace(cells, cell_types=names)
    excluded = cells.cls == CELL_CLASSES.index("excluded")
    codes = np.asarray(cells.columns["cell_type"], dtype=np.intp) if "cell_type" in cells.columns else None
    for i, name in enumerate(names[len(CELL_TYPES):], start=len(CELL_TYPES)):
        n = 0 if codes is None else int(np.count_nonzero(excluded & (codes == i)))
        metrics[f"ki67_cell_{class_column_stem(name)}"] = n
    return cells


def _spindle_sheet_nuclei(cells: CellTable) -> int:
    """Nuclei in the index as tumour cells that the cell model alone had left out: those in a
    spindle sheet (``[ki67] spindle_sheet``; 0 without the rule's columns)."""
    if "in_spindle_sheet" not in cells.columns or "cell_type" not in cells.columns:
        return 0
    in_index = (cells.cls == CELL_CLASSES.index("positive")) | (cells.cls == CELL_CLASSES.index("negative"))
    tumour = np.asarray(cells.columns["cell_type"], dtype=np.intp) == CELL_TYPES.index("tumour")
    return int(np.count_nonzero(np.asarray(cells.columns["in_spindle_sheet"], dtype=bool) & tumour & in_index))


def melanocyte_metrics(cells: CellTable, counts: Any, setting: str, detection: Mapping[str, Any] | None) -> dict[str, Any]:
    """A double stain's marker: how it was set and the pigment bound of its melanocyte-restricted index.

    ``ki67_melanocyte_marker_source``: ``"detected"`` (``stains="auto"`` found where the marker sits),
    ``"assumed"`` (the marker left at ``"auto"`` with named double-stain stains: read as cytoplasmic, MART-1,
    which the run never checked) or ``"chosen"`` (``[ki67] melanocyte_marker``, ``--melanocyte-marker``, a
    manifest's ``marker``). The bound is the Ki67 index's (:func:`mmnst_path.quantify.ki67_metrics`) among the
    melanocytic nuclei: ``ki67_melanocytic_pigment`` (marker-positive nuclei pigment hides: melanin sits in
    melanocytes) and the melanocyte-restricted index if they were all negative / all positive
    (``ki67_melanocytic_index_if_obscured_negative_pct`` / ``_positive_pct``; NaN without a melanocytic nucleus).
    """
    source = ("detected" if detection is not None and detection.get("marker") else
              "assumed" if setting == "auto" else "chosen")
    out: dict[str, Any] = {"ki67_melanocyte_marker_source": source}
    flag = cells.columns.get("melanocytic")
    hidden = 0 if flag is None else int((np.asarray(flag, dtype=bool)
                                         & (np.asarray(cells.cls) == CELL_CLASSES.index("pigment"))).sum())
    k, n = int(counts.melanocytic_positive), int(counts.melanocytic_positive + counts.melanocytic_negative)
    seen = n + hidden
    out["ki67_melanocytic_pigment"] = hidden
    out["ki67_melanocytic_index_if_obscured_negative_pct"] = 100.0 * k / seen if seen else math.nan
    out["ki67_melanocytic_index_if_obscured_positive_pct"] = 100.0 * (k + hidden) / seen if seen else math.nan
    return out
