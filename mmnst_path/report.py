"""Write a :class:`~mmnst_path.aggregate.SlideResult` to disk.

Per input (:func:`write_result`): ``result.json``, ``cells.csv``, ``cells.csv.gz`` and
``cells.parquet`` (the same table), ``cells.geojson`` (QuPath detections + one annotation per ROI, or
without ROIs one "Image" annotation with the slide's area measures, see :mod:`mmnst_path.geojson`), ``overlay.png`` and ``tissue.png`` (see :mod:`mmnst_path.overlay`).
Per batch: ``summary.csv`` and ``summary.json`` (:func:`write_summary_json`). Their ``error`` column holds
why a failed input failed; on an ok input where no tissue was found the measurement columns are empty
(:func:`shown_row`). The last columns are each tissue class's area and % (:mod:`mmnst_path._class_columns`).

Every write is atomic (a temporary file in the target folder, then :func:`os.replace`, see
:mod:`mmnst_path._atomic`), so an interrupted run never leaves a half-written file behind. The QC
sentences (:func:`qc_warnings` and friends) live in :mod:`mmnst_path._qc_text`; both are re-exported here. Undefined numbers (NaN) become ``null``
in JSON and an empty field in CSV, never 0.

``result.json`` layout (``schema_version`` "1.0")::

    {"schema_version", "input", "status", "shape", "mpp", "analysis_mpp", "measures",
     "metrics": {...flat, as in summary.csv...}, "counts": {"ki67": {...}, ...},
     "hotspot": {"box": {row, col, height, width}, ...} | null, "tiles": [...],
     "n_cells", "config": {...}, "stains": {...}, "versions": {...}, "timings": {...},
     "tissue_classes": {"model", "classes": [{"index", "name", "colour", "display_colour", "area_mm2",
                                              "pct_of_tissue"}],
                        "map": {"file": "tissue_classes.png", "shape", "downsample", "not_analysed": 255}}
                       (only when a tissue model ran; ``colour``: the model card's; ``display_colour``: the one
                       tissue_classes.png's palette and the pictures draw, see :mod:`mmnst_path._picture_style`; ``pct_of_tissue``: % of the classed
                       area, i.e. all the class map did not call ``background``, pale areas included. The
                       necrosis class's area is ``metrics.necrosis_area_mm2``, but ``necrosis_fraction_pct``
                       divides it by the stained tissue only (``counts.necrosis.tissue_um2``), so the
                       class's % is a few points lower on tissue with pale areas),
     "melanin_map": {"file": "melanin_map.npz", "shape", "downsample", "block_um", "sha256"} (when melanin
                    was measured: the block map a review corrects, :mod:`mmnst_path._melanin_map`),
     ...keys passed as ``extra`` (the batch runner stores "source", "request_hash", "summary_row")}

``result.json`` is written last: its presence means every other file of the input is complete.

``summary.json`` layout (``schema_version`` "1.0")::

    {"schema_version", "kind": "mmnst_path.batch_summary", "columns": [...], "n_inputs", "n_ok",
     "n_failed", "rows": [{column: value (null when undefined)}...], "failures": [{"input", "error"}],
     ...extra keys}
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import atomic_open_text, atomic_write_bytes, atomic_write_text, current_umask
from ._cells_parquet import cells_parquet_bytes
from ._class_columns import cell_type_values, class_values
from ._picture_style import class_display_colour
from ._qc_text import (
    MARKER_LABELS,
    NEAR_BLACK_WARN_MIN,
    NEAR_BLACK_WARN_PCT,
    NO_TISSUE_TEXT,
    PIGMENT_WARN_PCT,
    STROMA_WARN_MIN,
    STROMA_WARN_PCT,
    melanocytic_pigment_warning,
    melanocytic_text,
    near_black_warning,
    nothing_measured,
    pigment_warning,
    qc_notes,
    qc_warnings,
    shown_row,
    stroma_warning,
)
from ._summary_columns import CELL_COLUMNS, SUMMARY_COLUMNS
from .aggregate import CELL_CLASSES, CellTable, SlideResult
from .geojson import Roi, feature_collection_chunks, image_measurements, image_metadata

__all__ = [
    "CELL_COLUMNS",
    "MARKER_LABELS",
    "NEAR_BLACK_WARN_MIN",
    "NEAR_BLACK_WARN_PCT",
    "NO_TISSUE_TEXT",
    "PIGMENT_WARN_PCT",
    "RESULT_FILES",
    "SCHEMA_VERSION",
    "STROMA_WARN_MIN",
    "STROMA_WARN_PCT",
    "SUMMARY_COLUMNS",
    "atomic_open_text",
    "atomic_write_bytes",
    "atomic_write_text",
    "cells_csv_text",
    "cells_parquet_bytes",
    "current_umask",
    "error_row",
    "error_text",
    "hotspot_meets_min_nuclei",
    "json_ready",
    "melanocytic_pigment_warning",
    "melanocytic_text",
    "near_black_warning",
    "nothing_measured",
    "output_stems",
    "pigment_warning",
    "qc_notes",
    "qc_warnings",
    "result_to_dict",
    "shown_row",
    "stroma_warning",
    "summary_row",
    "write_result",
    "write_summary_csv",
    "write_summary_json",
]

SCHEMA_VERSION = "1.0"



# ------------------------------------------------------------------------------------------------
# JSON
def json_ready(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples, dataclasses and NaN/inf into plain JSON values (NaN -> None)."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_ready(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, str | bool) or value is None:
        return value
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, list | tuple | set | frozenset):
        return [json_ready(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def result_to_dict(result: SlideResult) -> dict[str, Any]:
    """The JSON document of ``result`` (see the module docstring), JSON-ready."""
    hotspot = None
    if result.hotspot is not None:
        h = result.hotspot
        hotspot = {
            "box": {"row": h.box.row, "col": h.box.col, "height": h.box.height, "width": h.box.width},
            "area_mm2": h.area_mm2,
            "positive": h.positive,
            "negative": h.negative,
            "index_pct": h.index_pct,
            "ci_low_pct": h.ci_low_pct,
            "ci_high_pct": h.ci_high_pct,
            "meets_min_nuclei": h.meets_min_nuclei,
            "whole_image": h.whole_image,
        }
    doc = {
        "schema_version": SCHEMA_VERSION,
        "input": result.input,
        "status": "ok",
        "shape": list(result.shape),
        "mpp": result.mpp,
        "analysis_mpp": result.analysis_mpp,
        "measures": list(result.measures),
        "metrics": _metrics(result),
        "counts": dict(result.counts),
        "hotspot": hotspot,
        "n_cells": len(result.cells),
        "cells_by_class": {name: result.cells.count(name) for name in CELL_CLASSES},
        "tiles": result.tiles.records(),
        "config": result.config,
        "stains": result.stains,
        "versions": result.versions,
        "timings": result.timings,
    }
    if result.tissue_classes:  # legend and areas of the class map (the map itself: tissue_classes.png)
        doc["tissue_classes"] = {**result.tissue_classes, "classes": _classes_out(result.tissue_classes["classes"])}
    return json_ready(doc)


def _classes_out(classes: Any) -> list[dict[str, Any]]:
    """The tissue classes as written: the card's ``colour`` and the ``display_colour`` the pictures draw."""
    return [{**dict(c), "display_colour": list(class_display_colour(c["name"], c["colour"]))} for c in classes]


# ------------------------------------------------------------------------------------------------
# CSV
def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        f = float(value)
        if not math.isfinite(f):
            return ""
        return str(int(f)) if f.is_integer() and abs(f) < 1e15 else f"{f:.6g}"
    if isinstance(value, list | tuple):  # the run's warnings
        return " | ".join(map(str, value))
    return str(value)


def _cells_csv_chunks(cells: CellTable, chunk: int = 50_000) -> Iterator[str]:
    names = [k for k, v in cells.columns.items() if np.ndim(v) == 1]  # outlines go to the GeoJSON
    yield ",".join([*CELL_COLUMNS, *names]) + "\n"
    classes_all = np.asarray(CELL_CLASSES)
    types_all = np.asarray(cells.cell_types)  # a lab cell model's own classes by name
    for start in range(0, len(cells), chunk):
        sl = slice(start, start + chunk)
        cols = [np.char.mod("%.2f", cells.col[sl]), np.char.mod("%.2f", cells.row[sl]),
                classes_all[cells.cls[sl].astype(np.intp)]]
        for name in names:
            arr = np.asarray(cells.columns[name][sl])
            if name == "cell_type":  # the cell model's class, by name
                cols.append(types_all[arr.astype(np.intp)])
            elif arr.dtype.kind in "iub":
                cols.append(arr.astype(np.int64).astype(str))
            else:
                f = arr.astype(np.float64)
                cols.append(np.where(np.isfinite(f), np.char.mod("%.5g", f), ""))
        lines = cols[0].astype(object)
        for c in cols[1:]:
            lines = lines + "," + c.astype(object)
        yield "\n".join(lines.tolist()) + "\n"


def cells_csv_text(cells: CellTable) -> str:
    """cells.csv content: ``x, y`` (level-0 px, x = column), ``class``, then the feature columns."""
    return "".join(_cells_csv_chunks(cells))


def _metrics(result: SlideResult) -> dict[str, Any]:
    """The result's metrics plus ``ki67_hotspot_meets_min_nuclei`` (bool) next to
    ``ki67_hotspot_nuclei`` when a hot spot was sought: its window held the config's
    ``hotspot_min_nuclei`` (False: the densest window, not a hot spot)."""
    m = dict(result.metrics)
    if result.hotspot is None or "ki67_hotspot_nuclei" not in m:
        return m
    out: dict[str, Any] = {}
    for key, value in m.items():
        out[key] = value
        if key == "ki67_hotspot_nuclei":
            out["ki67_hotspot_meets_min_nuclei"] = bool(result.hotspot.meets_min_nuclei)
    return out


def hotspot_meets_min_nuclei(row: Mapping[str, Any]) -> bool | None:
    """A summary row's ``ki67_hotspot_meets_min_nuclei``: whether its hot-spot window held the
    ``hotspot_min_nuclei`` tumour nuclei a hot spot needs (False: the densest window, no hot spot);
    None without a hot spot. Rows written before the column existed carry it as
    ``hotspot_meets_min_nuclei``, which is read when the column is empty."""
    for key in ("ki67_hotspot_meets_min_nuclei", "hotspot_meets_min_nuclei"):
        value = row.get(key)
        if isinstance(value, bool):
            return value
    return None


def summary_row(result: SlideResult, *, seconds: float | None = None) -> dict[str, Any]:
    """One summary.csv row (a dict keyed by :data:`SUMMARY_COLUMNS`, and when a tissue model ran the
    ``class_<name>_area_mm2`` / ``class_<name>_pct`` of each of its classes) for a successful input.
    ``mpp_source`` and ``stains_source`` are the ones the run recorded (:attr:`SlideResult.mpp_source`,
    :attr:`SlideResult.stains_source`; a batch then names which of its options gave the µm/px).

    A few more keys, not written to summary.csv but shown by report.html, say how to read the
    numbers: ``stains`` (matrix name) and ``stain_names``; ``hotspot_whole_image``,
    ``hotspot_min_nuclei`` and ``hotspot_area_mm2`` (with the column
    ``ki67_hotspot_meets_min_nuclei``: a window with too few nuclei is not a hot spot; read it with
    :func:`hotspot_meets_min_nuclei`); ``ki67_spindle_sheet_rule`` (the spindle-sheet setting the
    stromal QC sentence's advice follows); ``tissue_classes`` (the class legend with areas, when a
    tissue model ran).
    """
    m = _metrics(result)
    row: dict[str, Any] = {name: m.get(name) for name in SUMMARY_COLUMNS}
    row.update(input=result.input, status="ok", error="", mpp=result.mpp, n_tiles=len(result.tiles))
    row.update(mpp_source=result.mpp_source, stains_source=result.stains_source)  # as the run recorded them
    row["seconds"] = seconds if seconds is not None else result.timings.get("total")
    if row.get("necrosis_tissue_mm2") is None and row.get("necrosis_area_mm2") is not None:  # a result of before
        necrosis = result.counts.get("necrosis") if isinstance(result.counts, Mapping) else None  # the column
        base = necrosis.get("tissue_um2") if isinstance(necrosis, Mapping) else getattr(necrosis, "tissue_um2", None)
        row["necrosis_tissue_mm2"] = float(base) / 1e6 if isinstance(base, int | float) else None
    if "ki67_spindle_sheet_rule" in m:  # what the spindle-cell QC sentence advises follows it
        row["ki67_spindle_sheet_rule"] = m["ki67_spindle_sheet_rule"]
    stains = result.stains if isinstance(result.stains, Mapping) else {}
    row["stains"] = stains.get("name") or result.config.get("stains")
    if isinstance(stains.get("detection"), Mapping) and stains["detection"].get("reason"):  # why auto chose them
        row["stains_reason"] = str(stains["detection"]["reason"])
    row["stain_names"] = list(stains.get("names") or [])
    h = result.hotspot
    if h is not None:
        row["hotspot_whole_image"] = bool(getattr(h, "whole_image", False))
        row["hotspot_min_nuclei"] = result.config.get("hotspot_min_nuclei")
        row["hotspot_area_mm2"] = float(h.area_mm2)
    row.update(cell_type_values(m))  # ki67_macrophage / ki67_other_cell / ki67_cell_<name> of a lab's own classes
    if result.tissue_classes:
        row["tissue_classes"] = _classes_out(result.tissue_classes["classes"])
        row.update(class_values(row))  # class_<name>_area_mm2 / _pct of each class of the model that ran
    row["qc"] = qc_notes(row)  # the QC sentences (pigment bound whenever a nucleus is hidden) beside the numbers
    return row


def error_row(input_name: str, error: BaseException | str) -> dict[str, Any]:
    """A summary.csv row for an input that failed: ``status=error`` and the reason."""
    reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    row: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS)
    row.update(input=input_name, status="error", error=" ".join(str(reason).split()))
    return row


def error_text(row: Mapping[str, Any]) -> str:
    """A failed row's error without the input's path where it leads the message ("Type: PATH: why"
    reads "Type: why"), for a place that shows the input beside it (report.html's input column, the
    command line's progress lines): a long path said twice pushed the error off a laptop screen."""
    text = str(row.get("error") or "")
    name = str(row.get("input") or "")
    return text.replace(f"{name}: ", "", 1) if name else text


def write_summary_csv(rows: Iterable[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write summary.csv atomically; extra keys in rows are ignored, missing ones left empty (a row
    where nothing was measured as :func:`shown_row` shows it)."""
    from ._review_columns import summary_columns  # the review columns follow when some row carries a review

    columns = summary_columns(rows := list(rows))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in (shown_row({**r, **class_values(r)}) for r in rows):  # a row of before: columns from its legend
        writer.writerow([_fmt(r.get(name)) for name in columns])
    return atomic_write_text(path, buf.getvalue())


def write_summary_json(
    rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str], *, extra: Mapping[str, Any] | None = None
) -> Path:
    """Write summary.json atomically (layout in the module docstring); NaN -> null; a row where nothing was
    measured as :func:`shown_row` shows it."""
    from ._review_columns import summary_columns

    columns = summary_columns(rows)
    rows = [shown_row({**r, **class_values(r)}) for r in rows]
    failures = [{"input": r.get("input"), "error": r.get("error")} for r in rows if r.get("status") != "ok"]
    doc = {
        "schema_version": SCHEMA_VERSION,
        "kind": "mmnst_path.batch_summary",
        "columns": list(columns),
        "n_inputs": len(rows),
        "n_ok": len(rows) - len(failures),
        "n_failed": len(failures),
        "rows": [{name: r.get(name) for name in columns} for r in rows],
        "failures": failures,
        **(extra or {}),
    }
    return atomic_write_text(path, json.dumps(json_ready(doc), indent=1, allow_nan=False, ensure_ascii=False) + "\n")


#: Files :func:`write_result` can write, by key.
RESULT_FILES = {
    "cells": "cells.csv",
    "cells_gz": "cells.csv.gz",
    "parquet": "cells.parquet",
    "geojson": "cells.geojson",
    "overlay": "overlay.png",
    "tissue": "tissue.png",
    "nuclei": "nuclei.html",  # with nuclei_hotspot.png, nuclei_field_N.png (Ki67 results only)
    "classes": "tissue_classes.png",  # written with "overlay" too, when a tissue model ran
    "melanin_map": "melanin_map.npz",  # with "classes" / "overlay", when melanin was measured (_melanin_map)
    "result": "result.json",
}


def tissue_classes_png(result: SlideResult) -> bytes | None:
    """The tissue class map as an indexed PNG (pixel value = class index, 255 = not analysed; the
    palette holds the classes' display colours, :func:`~mmnst_path._picture_style.class_display_colour`), or
    None when no tissue model ran."""
    from PIL import Image

    cmap = result.maps.get("tissue_classes")
    if cmap is None or not result.tissue_classes:
        return None
    index = np.asarray(cmap.image, dtype=np.int16)
    img = Image.fromarray(np.where(index < 0, 255, index).astype(np.uint8))
    palette = [255, 255, 255] * 256
    for c in result.tissue_classes["classes"]:
        palette[3 * c["index"] : 3 * c["index"] + 3] = list(class_display_colour(c["name"], c["colour"]))
    img.putpalette(palette)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def write_result(
    result: SlideResult,
    out_dir: str | os.PathLike[str],
    *,
    rois: Sequence[Roi] = (),
    outputs: Sequence[str] = ("cells", "cells_gz", "parquet", "geojson", "overlay", "tissue", "nuclei"),
    geojson_shape: str = "polygon",
    extra: Mapping[str, Any] | None = None,
    geojson_regions: bool = True,
) -> dict[str, Path]:
    """Write the files of one input into ``out_dir`` (created); return their paths by key.

    Parameters
    ----------
    result : SlideResult
    out_dir : path
    rois : sequence of Roi
        Regions analysed (level-0): one QuPath annotation each in cells.geojson, drawn on the
        PNGs. Without ROIs the whole image is one annotation.
    outputs : sequence of str
        Keys of :data:`RESULT_FILES` to write besides result.json (always written, last).
    geojson_shape : {"polygon", "point"}
        Nuclei as small polygons or points in cells.geojson.
    extra : mapping, optional
        More top-level keys of result.json.
    geojson_regions : bool
        Write the tissue-class, melanin and hot-spot annotations into cells.geojson
        (:func:`mmnst_path._geojson_regions.region_features`); False leaves them out (a large class map).
    """
    from .geojson import Roi as _Roi

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    unknown = set(outputs) - set(RESULT_FILES)
    if unknown:
        msg = f"write_result: unknown outputs {sorted(unknown)}; expected some of {sorted(RESULT_FILES)}"
        raise ValueError(msg)
    paths: dict[str, Path] = {}
    tables = [(key, compress) for key, compress in (("cells", False), ("cells_gz", True)) if key in outputs]
    if tables:  # the CSV text is formatted once, streamed (millions of cells) into each file asked for
        with contextlib.ExitStack() as stack:
            handles = []
            for key, compress in tables:
                paths[key] = out / RESULT_FILES[key]
                handles.append(stack.enter_context(atomic_open_text(paths[key], compress=compress)))
            for part in _cells_csv_chunks(result.cells):
                for fh in handles:
                    fh.write(part)
    if "parquet" in outputs:
        stained = {"stains": result.stains.get("name"), "chromogen": result.metrics.get("ki67_chromogen"),
                   "counterstain": result.metrics.get("ki67_counterstain")}
        paths["parquet"] = atomic_write_bytes(out / RESULT_FILES["parquet"], cells_parquet_bytes(result.cells, stained=stained))
    if "geojson" in outputs:
        from ._geojson_regions import ROI_METADATA, region_features, rois_union_feature

        regions = list(rois)
        image: dict[str, float] | None = image_measurements(result.metrics)
        more = region_features(result, seed=result.input) if geojson_regions else []
        if not regions:  # the whole image: its annotation carries the slide's area measures
            r1, c1 = result.shape[0] - 0.5, result.shape[1] - 0.5
            whole = np.array([[-0.5, -0.5], [-0.5, c1], [r1, c1], [r1, -0.5]])
            regions = [_Roi(whole, "Image")]
        elif len(regions) > 1:  # the area measures are of all the ROIs together: on an annotation of their own
            more, image = [rois_union_feature(regions, image or {}, seed=result.input), *more], None
        paths["geojson"] = out / RESULT_FILES["geojson"]
        with atomic_open_text(paths["geojson"]) as fh:
            for part in feature_collection_chunks(result.cells, regions, mpp=result.mpp, shape=geojson_shape,
                                                  seed=result.input, ki67="ki67" in result.measures,
                                                  chromogen=str(result.metrics.get("ki67_chromogen") or "dab"),
                                                  counterstain=str(result.metrics.get("ki67_counterstain")
                                                                   or "hematoxylin"),
                                                  region_measurements=image, regions=more,
                                                  region_metadata={**image_metadata(result.metrics), **ROI_METADATA}):
                fh.write(part)
    polygons = [ring for r in rois for ring in r.rings]  # outlines: outer rings and holes
    if "overlay" in outputs or "tissue" in outputs:
        from .overlay import overlay_png, tissue_png

        if "tissue" in outputs:
            paths["tissue"] = atomic_write_bytes(out / RESULT_FILES["tissue"], tissue_png(result, polygons))
        if "overlay" in outputs:
            paths["overlay"] = atomic_write_bytes(out / RESULT_FILES["overlay"], overlay_png(result, polygons))
    if "nuclei" in outputs:
        paths.update(_write_nucleus_fields(result, out))
    doc = result_to_dict(result)
    if "classes" in outputs or "overlay" in outputs:
        png = tissue_classes_png(result)
        if png is not None:
            paths["classes"] = atomic_write_bytes(out / RESULT_FILES["classes"], png)
            cmap = result.maps["tissue_classes"]
            doc["tissue_classes"]["map"] = {"file": RESULT_FILES["classes"], "shape": list(cmap.image.shape),
                                            "downsample": float(cmap.downsample), "not_analysed": 255}
            from ._class_regions import CLASS_REGIONS_FILE, class_regions_geojson

            class_text = class_regions_geojson(result, seed=result.input)  # as cells.geojson's class regions
            if class_text is not None:
                paths["class_regions"] = atomic_write_text(out / CLASS_REGIONS_FILE, class_text)
    if "classes" in outputs or "overlay" in outputs or "melanin_map" in outputs:  # the map a review corrects
        from ._melanin_map import write_melanin_map

        paths.update(write_melanin_map(result, out, doc))
    doc.update(json_ready(dict(extra or {})))
    paths["result"] = atomic_write_text(out / "result.json", json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return paths


def _write_nucleus_fields(result: SlideResult, out: Path) -> dict[str, Path]:
    """nuclei.html and its full-resolution check pictures, when the result has classified nuclei
    and its input can be read again (a file path); nothing otherwise."""
    if "ki67" not in result.measures or not len(result.cells):
        return {}
    from .errors import MmnstPathError
    from .html_report import NUCLEI_PAGE, render_nuclei_page
    from .io import open_slide
    from .overlay import nucleus_fields

    source = Path(str(result.input))
    if not source.is_file():
        return {}
    note = ""
    try:
        with open_slide(source, mpp=result.mpp) as reader:
            fields = nucleus_fields(result, reader)
    except (OSError, ValueError, MmnstPathError) as exc:  # the page says why there is no picture
        fields, note = [], f"The slide could not be read again for the pictures ({type(exc).__name__}: {exc})."
    paths = {}
    docs = []
    for f in fields:
        paths[f.name] = atomic_write_bytes(out / f"{f.name}.png", f.png)
        docs.append({"file": f"{f.name}.png", "title": f.title, "counts": f.counts,
                     "box": (f.box.row, f.box.col, f.box.height, f.box.width)})
    page = render_nuclei_page(str(result.input), docs, mpp=float(result.mpp), note=note)
    paths["nuclei"] = atomic_write_text(out / NUCLEI_PAGE, page)
    return paths


def output_stems(inputs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """A distinct output folder name per input: the file stem, de-duplicated with ``-2``, ``-3``...

    The stem drops the last suffix (``slide.ome.tif`` -> ``slide.ome``); names are compared
    case-insensitively so the folders do not clash on case-insensitive file systems.
    """
    seen: dict[str, int] = {}
    out = []
    for p in inputs:
        stem = Path(p).stem or "input"
        key = stem.lower()
        seen[key] = seen.get(key, 0) + 1
        out.append(stem if seen[key] == 1 else f"{stem}-{seen[key]}")
    return out
