"""Every CellTable column the pipeline or napari writes to GeoJSON carries a readable measurement name
(QuPath shows names as written): ``stain_bin`` -> "Stain bin before cell model", ``tumour_probability``
-> "Tumour probability", ``reviewed`` -> "Reviewed"; files written before (the raw keys) read back
to the same columns.

Mutations caught: an entry dropped from ``MEASUREMENT_NAMES`` (its raw key is written: the first test
fails); the reader not taking the raw key any more (the old-file test fails)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mmnst_path._geojson_names import MEASUREMENT_NAMES
from mmnst_path.aggregate import CellTable
from mmnst_path.geojson import Roi, feature_collection_chunks, read_cells

NEW = {"stain_bin": "Stain bin before cell model", "tumour_probability": "Tumour probability", "reviewed": "Reviewed"}


def _cells() -> CellTable:
    return CellTable(np.array([10.0, 30.0, 50.0]), np.array([12.0, 40.0, 60.0]), np.array([0, 1, 1], np.int8),
                     {"dab_od_mean": np.array([0.61, 0.04, 0.1]), "area_um2": np.array([30.0, 40.0, 35.0]),
                      "stain_bin": np.array([2, 0, -1], np.int8), "tumour_probability": np.array([0.9, 0.2, 0.5]),
                      "reviewed": np.array([1.0, 0.0, 1.0]), "intensity_bin": np.array([2, 0, 0], np.int8)})


def _write(tmp_path, cells: CellTable, rename: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    whole = Roi(np.array([[-0.5, -0.5], [-0.5, 99.5], [99.5, 99.5], [99.5, -0.5]]), "Image")
    text = "".join(feature_collection_chunks(cells, [whole], mpp=0.5, shape="point"))
    doc = json.loads(text)
    for f in doc["features"]:  # as a file written before the names: the raw keys
        meas = f["properties"].get("measurements", {})
        for old, new in (rename or {}).items():
            if new in meas:
                meas[old] = meas.pop(new)
    path = tmp_path / "cells.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path, doc


def _names(doc) -> set[str]:  # type: ignore[no-untyped-def]
    return {k for f in doc["features"] if f["properties"]["objectType"] == "detection"
            for k in f["properties"]["measurements"]}


def test_every_column_is_written_under_a_readable_name(tmp_path):
    assert {k: MEASUREMENT_NAMES[k] for k in NEW} == NEW
    _, doc = _write(tmp_path, _cells())
    names = _names(doc)
    assert set(NEW.values()) <= names
    assert not {k for k in names if k == k.lower() or "_" in k}  # no raw column key reaches QuPath
    # every name is one QuPath shows as written: starts upper case or is a stain name
    assert all(name[0].isupper() for name in names)


@pytest.mark.parametrize("old", [False, True])
def test_new_and_old_names_read_back_to_the_same_columns(tmp_path, old):
    path, doc = _write(tmp_path, _cells(), dict(NEW) if old else None)
    assert (set(NEW) <= _names(doc)) is old
    got = read_cells(path)
    want = _cells()
    for key in NEW:
        np.testing.assert_allclose(got.columns[key], want.columns[key])
    assert not set(NEW.values()) & set(got.columns)
