"""QuPath GeoJSON through the library: the plugin's export reads back with the library's reader,
``mmnst-path quantify``'s cells.geojson imports as Points, QuPath's own forms are understood."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import tifffile
from mmnst_path_napari._geojson import read_detections, read_geojson, write_geojson
from mmnst_path_napari._layers import CLASS_COLORS, cells_from_points, points_layer
from mmnst_path_napari._widgets._export import import_geojson_layers

from mmnst_path.aggregate import CELL_CLASSES, CellTable
from mmnst_path.cli import main as cli_main
from mmnst_path.errors import ConfigError, CorruptFileError
from mmnst_path.geojson import Roi, cell_features, read_cells, read_rois


def _cells(n: int = 40, seed: int = 3) -> CellTable:
    rng = np.random.default_rng(seed)
    cls = rng.integers(0, len(CELL_CLASSES), n).astype(np.int8)
    return CellTable(
        rng.uniform(0, 500, n),
        rng.uniform(0, 700, n),
        cls,
        {
            "dab_od_mean": rng.uniform(0, 1, n),
            "area_um2": rng.uniform(20, 80, n),
            "intensity_bin": np.where(cls == 0, rng.integers(1, 4, n), 0).astype(np.int8),
        },
    )


ROIS = [
    Roi(np.array([[10.0, 20.0], [10.0, 380.25], [260.5, 380.25], [260.5, 20.0]]), "tumour"),
    Roi(np.array([[300.0, 400.0], [300.0, 650.75], [480.125, 500.0]]), ""),
]


def test_export_reads_back_identically_with_the_library_reader(tmp_path):
    cells = _cells()
    # the Points layer the plugin exports from, and back to a CellTable (as the widgets do)
    data, kw, _ = points_layer(cells, mpp=0.5)
    exported = cells_from_points(data, kw["features"])
    path = write_geojson(tmp_path / "export.geojson", cells=exported, rois=ROIS)

    doc = json.loads(path.read_text())
    kinds = [f["properties"]["objectType"] for f in doc["features"]]
    assert kinds == ["annotation"] * 2 + ["detection"] * len(cells)
    det = doc["features"][2]
    assert det["geometry"]["type"] == "Point"
    assert det["geometry"]["coordinates"] == pytest.approx([cells.col[0] + 0.5, cells.row[0] + 0.5], abs=5e-4)
    names = [f["properties"]["classification"]["name"] for f in doc["features"][2:]]
    assert names == [n.capitalize() for n in cells.class_names()]
    # each ROI carries the library's counts of the nuclei inside it
    from skimage.measure import points_in_poly

    inside = points_in_poly(np.column_stack([cells.row, cells.col]), ROIS[0].polygon)
    meas = doc["features"][0]["properties"]["measurements"]
    assert meas["Num Positive"] == int(np.sum(inside & (cells.cls == 0)))
    assert meas["Num Negative"] == int(np.sum(inside & (cells.cls == 1)))

    # regions: the library's reader returns exactly what was exported (vertices on 1/8 px)
    back = read_rois(path)
    assert [r.name for r in back] == ["tumour", ""]
    for got, want in zip(back, ROIS, strict=True):
        np.testing.assert_array_equal(got.polygon, want.polygon)
    # nuclei: positions to the library's 0.001 px precision, classes and features exactly
    cells_back, rois_back = read_geojson(path)
    assert len(rois_back) == 2
    np.testing.assert_allclose(cells_back.row, cells.row, atol=5.1e-4)
    np.testing.assert_allclose(cells_back.col, cells.col, atol=5.1e-4)
    np.testing.assert_array_equal(cells_back.cls, cells.cls)
    np.testing.assert_allclose(cells_back.columns["dab_od_mean"], np.float32(cells.columns["dab_od_mean"]))
    np.testing.assert_allclose(cells_back.columns["area_um2"], np.float32(cells.columns["area_um2"]))
    np.testing.assert_array_equal(cells_back.columns["intensity_bin"], cells.columns["intensity_bin"])


def test_rois_only_export_has_no_counts_and_detections_only_file_has_no_rois(tmp_path):
    p = write_geojson(tmp_path / "rois.geojson", rois=ROIS[:1])
    (f,) = json.loads(p.read_text())["features"]
    assert "measurements" not in f["properties"]  # nothing measured: no (zero) counts
    cells, rois = read_geojson(p)
    assert len(cells) == 0
    np.testing.assert_array_equal(rois[0].polygon, ROIS[0].polygon)

    p = write_geojson(tmp_path / "cells.geojson", cells=_cells(5))
    cells, rois = read_geojson(p)
    assert (len(cells), rois) == (5, [])


def test_library_octagons_and_qupath_forms_become_points(tmp_path):
    cells = _cells(12, seed=5)
    octagons = list(cell_features(cells, mpp=0.25, shape="polygon"))
    qupath = [
        {  # QuPath 0.2: object type in "id", measurements as a list, intensity class
            "type": "Feature",
            "id": "PathCellObject",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[10, 10], [14, 10], [14, 14], [10, 14], [10, 10]]],
            },
            "properties": {
                "classification": {"name": "2+"},
                "measurements": [{"name": "Nucleus: Area µm^2", "value": 30}],
            },
        },
        {  # derived class, open ring, 3-D positions
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[100, 50, 0], [120, 50, 0], [120, 70, 0], [100, 70, 0]]],
            },
            "properties": {"objectType": "detection", "classification": {"name": "Tumor: Negative"}},
        },
        {  # tiles are neither nuclei nor regions
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [9, 0], [9, 9], [0, 0]]]},
            "properties": {"objectType": "tile"},
        },
    ]
    p = tmp_path / "mixed.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": octagons + qupath}))
    assert read_detections is read_cells  # the plugin parses nothing itself
    got = read_detections(p)
    assert len(got) == len(cells) + 2
    np.testing.assert_allclose(got.row[:12], cells.row, atol=2e-3)  # octagon centroid = nucleus centroid
    np.testing.assert_allclose(got.col[:12], cells.col, atol=2e-3)
    np.testing.assert_array_equal(got.cls[:12], cells.cls)
    assert list(got.class_names()[12:]) == ["positive", "negative"]
    assert got.columns["intensity_bin"][12] == 2
    assert got.columns["area_um2"][12] == 30
    assert (got.row[12], got.col[12]) == pytest.approx((11.5, 11.5))
    assert (got.row[13], got.col[13]) == pytest.approx((59.5, 109.5))
    (tmp_path / "tile-only.geojson").write_text(json.dumps([qupath[2]]))
    with pytest.raises(ConfigError, match=r"tile-only\.geojson.* neither detections nor polygon"):
        read_geojson(tmp_path / "tile-only.geojson")
    (tmp_path / "bad.geojson").write_text("{nope")
    with pytest.raises(CorruptFileError, match=r"bad\.geojson.*invalid or truncated"):
        read_geojson(tmp_path / "bad.geojson")


def test_quantify_cells_geojson_imports_as_points_with_its_classes(sample_tiles, tmp_path):
    rgb = tifffile.imread(sample_tiles / "ki67_primary.tif")
    crop = tmp_path / "crop.tif"
    tifffile.imwrite(crop, rgb[:320, :320])
    out = tmp_path / "out"
    argv = ["quantify", str(crop), "--out", str(out), "--mpp", "0.5", "--stains", "H-DAB",
            "--measures", "ki67", "--workers", "1", "--quiet"]  # fmt: skip
    assert cli_main(argv) == 0
    result = json.loads((out / "crop" / "result.json").read_text())
    with (out / "crop" / "cells.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert result["n_cells"] == len(table) > 20
    assert result["cells_by_class"]["positive"] > 0

    layers = import_geojson_layers(out / "crop" / "cells.geojson", mpp=0.5)
    kinds = [kind for _, _, kind in layers]
    assert kinds == ["shapes", "points"]  # the analysed region ("Image") and the nuclei
    (region,), shapes_kw, _ = layers[0]
    assert shapes_kw["features"]["name"] == ["Image"]
    np.testing.assert_allclose(region.min(axis=0), [-0.5, -0.5])
    np.testing.assert_allclose(region.max(axis=0), [319.5, 319.5])
    data, kw, _ = layers[1]
    assert len(data) == result["n_cells"]
    assert list(kw["features"]["class"]) == [row["class"] for row in table]
    for name in ("positive", "negative", "pigment"):
        assert int(np.sum(kw["features"]["class"] == name)) == result["cells_by_class"][name]
    np.testing.assert_allclose(data[:, 0], [float(r["y"]) for r in table], atol=0.006)
    np.testing.assert_allclose(data[:, 1], [float(r["x"]) for r in table], atol=0.006)
    np.testing.assert_allclose(kw["features"]["area_um2"], [float(r["area_um2"]) for r in table], rtol=1e-4)
    pos = np.asarray(kw["features"]["class"]) == "positive"
    np.testing.assert_allclose(kw["border_color"][pos], np.tile(CLASS_COLORS["positive"], (pos.sum(), 1)))
    assert kw["scale"] == (0.5, 0.5)
