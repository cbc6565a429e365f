"""cells.parquet: the per-nucleus table of :mod:`mmnst_path.report` (re-exported there) as Parquet, with the
stains its generic OD columns hold in the schema metadata."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from .aggregate import CELL_CLASSES, CellTable

__all__ = ["POSITION_UNITS", "cells_parquet_bytes"]

#: The unit of the position columns, in the schema metadata under ``mmnst_path.units`` (session 42 H9, H5's walk
#: #12: said before only in README's Architecture section); the other columns name theirs (``_um``, ``_um2``, ``_od``).
POSITION_UNITS = {"x": "level-0 pixels, column (pixel centres at integers)",
                  "y": "level-0 pixels, row (pixel centres at integers)"}


def cells_parquet_bytes(cells: CellTable, *, stained: Mapping[str, Any] | None = None) -> bytes:
    """cells.parquet: the cells.csv columns with their own types (``class`` and ``cell_type`` as
    dictionary-encoded strings), zstd-compressed; opens with ``pandas.read_parquet``, pyarrow,
    polars, DuckDB or R's arrow. A slide's 10^5-10^6 cells take a fraction of the CSV's size.

    ``stained`` (``{"stains": preset name, "chromogen": "aec", "counterstain": "hematoxylin"}``) goes into the
    schema metadata under ``mmnst_path.stains``, with the stain each generic OD column holds
    (``{"dab_od_mean": "AEC", "hematoxylin_od_mean": "Hematoxylin", ...}``), so a table read alone says it; the
    unit of ``x`` and ``y`` (level-0 pixels) goes under ``mmnst_path.units`` (:data:`POSITION_UNITS`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data: dict[str, Any] = {
        "x": pa.array(np.round(np.asarray(cells.col, np.float64), 3)),
        "y": pa.array(np.round(np.asarray(cells.row, np.float64), 3)),
        "class": pa.DictionaryArray.from_arrays(pa.array(np.asarray(cells.cls, np.int8)),
                                                pa.array(list(CELL_CLASSES))),
    }
    for name, arr in cells.columns.items():
        a = np.asarray(arr)
        if a.ndim != 1:  # per-nucleus outline radii: in cells.geojson
            continue
        if name == "cell_type":
            data[name] = pa.DictionaryArray.from_arrays(pa.array(a.astype(np.int8)), pa.array(list(cells.cell_types)))
        else:
            data[name] = pa.array(a)
    table = pa.table(data)
    units = json.dumps(POSITION_UNITS).encode("utf-8")  # x, y carry no unit in their names (kept for cells.csv)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"mmnst_path.units": units})
    if stained is not None:
        from ._geojson_names import column_stains

        meta = json.dumps(column_stains(stained, list(data))).encode("utf-8")
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"mmnst_path.stains": meta})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())
