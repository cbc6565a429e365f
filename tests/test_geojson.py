"""QuPath GeoJSON: detections/annotations written; ROIs and nuclei read from QuPath 0.2-0.6 forms."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.aggregate import CELL_CLASSES, CellTable
from mmnst_path.errors import ConfigError, CorruptFileError
from mmnst_path.geojson import (
    Roi,
    cell_features,
    feature_collection_chunks,
    feature_kind,
    read_cells,
    read_features,
    read_rois,
    roi_features,
)

SQUARE_XY = [[10.5, 20.5], [110.5, 20.5], [110.5, 70.5], [10.5, 70.5], [10.5, 20.5]]  # x = col + 0.5


def _cells() -> CellTable:
    return CellTable(
        np.array([30.0, 40.0, 60.0, 200.0]),
        np.array([20.0, 50.0, 100.0, 300.0]),
        np.array([0, 1, 1, 0], np.int8),
        {"area_um2": np.array([40.0, 30.0, np.nan, 50.0]), "dab_od_mean": np.array([0.5, 0.05, 0.04, 0.6])},
    )


def test_an_roi_counts_the_nuclei_left_out_as_not_tumour() -> None:
    """``Num Excluded``: the detected nuclei inside the region that the cell model or the tumour region
    left out of the index, as napari's results line and the CLI table's ``excluded`` column count them;
    ``Positive %`` stays positive / (positive + negative). Mutation caught: the key left out."""
    from mmnst_path.geojson import roi_counts

    cells = CellTable(np.array([30.0, 40.0, 50.0, 60.0, 200.0]), np.array([20.0, 50.0, 60.0, 100.0, 300.0]),
                      np.array([0, 1, 3, 3, 3], np.int8), {})
    out = roi_counts(cells, np.array([[20.0, 10.0], [20.0, 110.0], [70.0, 110.0], [70.0, 10.0]]))
    assert CELL_CLASSES[3] == "excluded"
    assert out == {"Num Positive": 1, "Num Negative": 1, "Num Pigment": 0, "Num Excluded": 2, "Positive %": 50.0}


def _write(tmp_path: Path, doc: object) -> Path:
    p = tmp_path / "roi.geojson"
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


def test_feature_collection_is_qupath_shaped(tmp_path: Path) -> None:
    rois = [Roi(np.array([[20.0, 10.0], [20.0, 110.0], [70.0, 110.0], [70.0, 10.0]]), "tumour")]
    text = "".join(feature_collection_chunks(_cells(), rois, mpp=0.5, seed="a.svs", chunk=2))
    doc = json.loads(text)
    assert doc["type"] == "FeatureCollection"
    ann, *det = doc["features"]
    assert ann["properties"]["objectType"] == "annotation"
    assert ann["properties"]["name"] == "tumour"
    assert ann["geometry"]["coordinates"][0] == SQUARE_XY
    # inside the ROI: cells at (30, 20) positive, (40, 50) and (60, 100) negative
    assert ann["properties"]["measurements"] == {"Num Positive": 1, "Num Negative": 2, "Num Pigment": 0, "Num Excluded": 0,
                                                 "Positive %": pytest.approx(100 / 3)}
    assert len(det) == 4
    for f in det:
        uuid.UUID(f["id"])
        assert f["properties"]["objectType"] == "detection"
        assert set(f["properties"]["classification"]) == {"name", "color"}
        assert isinstance(f["properties"]["measurements"], dict)
        assert f["geometry"]["type"] == "Polygon"
    assert [f["properties"]["classification"]["name"] for f in det] == ["Positive", "Negative", "Negative", "Positive"]
    assert len({f["id"] for f in doc["features"]}) == 5
    assert "Area µm^2" not in det[2]["properties"]["measurements"]  # NaN is left out, never 0
    # the octagon is centred on the cell in QuPath's frame and has the nucleus' area
    ring = np.array(det[0]["geometry"]["coordinates"][0][:-1])
    np.testing.assert_allclose(ring.mean(axis=0), [20.5, 30.5], atol=1e-3)
    x, y = ring[:, 0], ring[:, 1]
    area_px = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    assert area_px * 0.25 == pytest.approx(40.0, rel=0.01)
    # same input -> same ids (reproducible files); points when asked
    again = json.loads("".join(feature_collection_chunks(_cells(), rois, mpp=0.5, seed="a.svs")))
    assert [f["id"] for f in again["features"]] == [f["id"] for f in doc["features"]]
    pts = list(cell_features(_cells(), shape="point"))
    assert pts[1]["geometry"] == {"type": "Point", "coordinates": [50.5, 40.5]}


def test_round_trip_of_our_own_file(tmp_path: Path) -> None:
    poly = np.array([[5.0, 5.0], [5.0, 50.0], [40.0, 25.0]])
    p = _write(tmp_path, {"type": "FeatureCollection", "features": roi_features([Roi(poly, "r")])})
    (roi,) = read_rois(p)
    np.testing.assert_allclose(roi.polygon, poly)
    assert roi.name == "r"


@pytest.mark.parametrize(
    "doc",
    [
        # QuPath 0.2: "id": "PathAnnotationObject", classification as object, measurements list
        [{"type": "Feature", "id": "PathAnnotationObject", "geometry": {"type": "Polygon", "coordinates": [SQUARE_XY]},
          "properties": {"classification": {"name": "Tumor", "colorRGB": -3670016}, "isLocked": False,
                         "measurements": []}}],
        # QuPath 0.3/0.4: objectType in properties, FeatureCollection
        {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": "0c8b2f5e-1d42-4b7c-9f5f-8d6b7d9e0a11",
             "geometry": {"type": "Polygon", "coordinates": [SQUARE_XY]},
             "properties": {"objectType": "annotation", "name": "Tumor"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 1]},
             "properties": {"objectType": "detection"}},
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [3, 0], [3, 3], [0, 0]]]},
             "properties": {"objectType": "cell"}}]},
        # QuPath 0.5/0.6 single feature with 3-D positions and an open ring
        {"type": "Feature", "id": "0c8b2f5e-1d42-4b7c-9f5f-8d6b7d9e0a12",
         "geometry": {"type": "Polygon", "coordinates": [[[*p, 0.0] for p in SQUARE_XY[:-1]]]},
         "properties": {"objectType": "annotation", "classification": {"name": "Tumor", "color": [200, 0, 0]}}},
        # MultiPolygon inside a GeometryCollection, bare geometry
        {"type": "GeometryCollection", "geometries": [{"type": "MultiPolygon", "coordinates": [[SQUARE_XY]]}]},
    ],
    ids=["qupath-0.2", "qupath-0.4", "qupath-0.6-3d-open", "bare-geometrycollection"],
)
def test_tolerant_roi_reader(tmp_path: Path, doc: object) -> None:
    rois = read_rois(_write(tmp_path, doc))
    assert len(rois) == 1
    np.testing.assert_allclose(rois[0].polygon, [[20, 10], [20, 110], [70, 110], [70, 10]])
    if not isinstance(doc, dict) or doc.get("type") != "GeometryCollection":
        assert rois[0].name == "Tumor"


def test_holes_kept_and_bad_files_are_config_errors(tmp_path: Path) -> None:
    hole = [[30.5, 30.5], [40.5, 30.5], [40.5, 40.5], [30.5, 30.5]]
    (roi,) = read_rois(_write(tmp_path, {"type": "Polygon", "coordinates": [SQUARE_XY, hole]}))
    assert len(roi.polygon) == 4
    assert len(roi.holes) == 1  # (session 42 H9: dropped with a warning before; tests/test_roi_holes.py)
    with pytest.raises(ConfigError, match="no polygon"):
        read_rois(_write(tmp_path, {"type": "FeatureCollection", "features": []}))
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"bad\.geojson"):
        read_rois(bad)


# ------------------------------------------------------------------------------------------------
# nuclei
def _pipeline_cells(n: int = 60, seed: int = 11) -> CellTable:
    """A table shaped like the pipeline's (every column it writes), with gaps and every class."""
    rng = np.random.default_rng(seed)
    cls = np.resize(np.arange(len(CELL_CLASSES), dtype=np.int8), n)
    rng.shuffle(cls)
    area = rng.uniform(15, 90, n)
    area[[3, 17]] = np.nan
    dab = rng.uniform(0, 1.2, n).astype(np.float32)  # float32 columns come back as their float64 value
    return CellTable(
        rng.uniform(0, 4000, n),
        rng.uniform(0, 6000, n),
        cls,
        {
            "area_um2": area,
            "dab_od_mean": dab,
            "dab_od_max": dab + np.float32(0.25),
            "hematoxylin_od_mean": rng.uniform(0, 1, n),
            "circularity": rng.uniform(0.5, 1, n),
            "eccentricity": rng.uniform(0, 0.9, n),
            "intensity_bin": np.where(cls == 0, rng.integers(1, 4, n), 0).astype(np.int8),
            "texture": rng.normal(size=n),  # a column with no QuPath name keeps its own
        },
    )


@pytest.mark.parametrize(("shape", "atol"), [("polygon", 5.01e-4), ("point", 5.01e-4)])
def test_read_cells_round_trips_the_writer(tmp_path: Path, shape: str, atol: float) -> None:
    cells = _pipeline_cells()
    rois = [Roi(np.array([[-0.5, -0.5], [-0.5, 5999.5], [3999.5, 5999.5], [3999.5, -0.5]]), "Image")]
    path = tmp_path / "cells.geojson"
    path.write_text("".join(feature_collection_chunks(cells, rois, mpp=0.25, shape=shape, seed="x", chunk=7)))
    got = read_cells(path)
    assert len(got) == len(cells)  # the annotation is not a nucleus
    np.testing.assert_array_equal(got.cls, cells.cls)
    # positions to the writer's 0.001 px rounding (octagon centroids measured <= 0.00049 px off over 100k cells)
    np.testing.assert_allclose(got.row, cells.row, rtol=0, atol=atol)
    np.testing.assert_allclose(got.col, cells.col, rtol=0, atol=atol)
    assert list(got.columns) == list(cells.columns)  # same names, same order
    for key, want in cells.columns.items():
        np.testing.assert_array_equal(got.columns[key], np.asarray(want, np.float64), err_msg=key)  # NaN == NaN
    assert got.columns["intensity_bin"].dtype == np.int8
    assert got.columns["area_um2"].dtype == np.float64
    # and the same file's region is still read by read_rois
    (roi,) = read_rois(path)
    np.testing.assert_array_equal(roi.polygon, rois[0].polygon)


def test_read_cells_qupath_02_form(tmp_path: Path) -> None:
    square = [[10, 10], [14, 10], [14, 14], [10, 14], [10, 10]]
    doc = [  # QuPath 0.2: a bare list, the object type in "id", measurements as a name/value list
        {"type": "Feature", "id": "PathAnnotationObject", "geometry": {"type": "Polygon", "coordinates": [SQUARE_XY]},
         "properties": {"classification": {"name": "Tumor", "colorRGB": -3670016}, "measurements": []}},
        {"type": "Feature", "id": "PathCellObject", "geometry": {"type": "Polygon", "coordinates": [square]},
         "properties": {"classification": {"name": "Tumor: Positive", "colorRGB": -3670016}, "isLocked": False,
                        "measurements": [{"name": "Nucleus: Area", "value": 30.5},
                                         {"name": "Nucleus: DAB OD mean", "value": 0.42},
                                         {"name": "Cell: Area", "value": "NaN"}]}},
        {"type": "Feature", "id": "PathDetectionObject", "geometry": {"type": "Point", "coordinates": [100.5, 50.5]},
         "properties": {"classification": {"name": "3+"}, "measurements": []}},
        {"type": "Feature", "id": "PathDetectionObject", "geometry": {"type": "Point", "coordinates": [7.5, 8.5]},
         "properties": {"measurements": [{"name": "Nucleus: DAB OD mean", "value": 0.01}]}},
        {"type": "Feature", "id": "PathTileObject", "geometry": {"type": "Polygon", "coordinates": [square]},
         "properties": {"classification": {"name": "Negative"}}},
    ]
    p = _write(tmp_path, doc)
    got = read_cells(p)
    assert list(got.class_names()) == ["positive", "positive", "negative"]  # annotation and tile skipped
    np.testing.assert_allclose(got.row, [11.5, 50.0, 8.0])
    np.testing.assert_allclose(got.col, [11.5, 100.0, 7.0])
    np.testing.assert_array_equal(got.columns["area_um2"], [30.5, np.nan, np.nan])
    np.testing.assert_array_equal(got.columns["dab_od_mean"], [0.42, np.nan, 0.01])
    np.testing.assert_array_equal(got.columns["Cell: Area"], [np.nan, np.nan, np.nan])  # "NaN" text is NaN
    np.testing.assert_array_equal(got.columns["intensity_bin"], [1, 3, 0])  # positive -> 1, "3+" -> 3
    assert [feature_kind(f) for f in read_features(p)] == ["annotation", "detection", "detection", "detection",
                                                           "tile"]  # fmt: skip
    (roi,) = read_rois(p)
    assert roi.name == "Tumor"


def test_read_cells_qupath_05_form(tmp_path: Path) -> None:
    def ring(x0: float, y0: float, w: float, h: float) -> list[list[float]]:
        return [[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h], [x0, y0]]

    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "b6a2f3f8-7c4a-4f9a-9a39-0d1c1b2a3e4f",
         "geometry": {"type": "Polygon", "coordinates": [ring(0, 0, 40, 40)]},  # the cell boundary
         "properties": {"objectType": "cell",
                        "classification": {"name": "Tumor: Negative", "color": [112, 112, 225]},
                        "nucleusGeometry": {"type": "Polygon", "coordinates": [ring(20, 4, 6, 10)]},
                        "measurements": {"Nucleus: Area µm^2": 14.0, "Nucleus: DAB OD mean": 0.08,
                                         "Cell: Area µm^2": 400.0}}},
        {"type": "Feature", "id": "c6a2f3f8-7c4a-4f9a-9a39-0d1c1b2a3e4f",
         "geometry": {"type": "MultiPolygon", "coordinates": [  # main part = the larger square
             [[[*p, 0.0] for p in ring(100, 200, 2, 2)]], [ring(300, 400, 8, 8)]]},
         "properties": {"objectType": "detection", "classification": {"names": ["Tumor", "2+"], "color": [1, 2, 3]},
                        "measurements": {"Intensity bin": 2}}},
        {"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": [[1.5, 2.5, 0], [3.5, 4.5, 0]]},
         "properties": {"objectType": "detection", "classification": {"name": "Stroma"}}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring(0, 0, 500, 500)]},
         "properties": {"objectType": "annotation", "name": "Image"}},
    ]}  # fmt: skip
    got = read_cells(_write(tmp_path, doc))
    assert list(got.class_names()) == ["negative", "positive", "excluded", "excluded"]
    np.testing.assert_allclose(got.row, [8.5, 403.5, 2.0, 4.0])  # y - 0.5; nucleus, not cell, centroid
    np.testing.assert_allclose(got.col, [22.5, 303.5, 1.0, 3.0])
    np.testing.assert_array_equal(got.columns["area_um2"], [14.0, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(got.columns["Cell: Area µm^2"], [400.0, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(got.columns["intensity_bin"], [0, 2, 0, 0])


def test_read_cells_malformed_files(tmp_path: Path) -> None:
    good = tmp_path / "cells.geojson"
    good.write_text("".join(feature_collection_chunks(_pipeline_cells(20), [], mpp=0.5)))
    truncated = tmp_path / "truncated.geojson"
    truncated.write_text(good.read_text()[: len(good.read_text()) // 2])
    with pytest.raises(CorruptFileError, match=r"truncated\.geojson.*invalid or truncated"):
        read_cells(truncated)
    binary = tmp_path / "binary.geojson"
    binary.write_bytes(b"\xff\xfe\x00garbage\x9c")
    with pytest.raises(CorruptFileError, match=r"binary\.geojson.*UTF-8"):
        read_cells(binary)
    with pytest.raises(ConfigError, match=r"missing\.geojson.*readable"):
        read_cells(tmp_path / "missing.geojson")
    for name, doc, pattern in [
        ("number.geojson", 42, "got int"),
        ("topo.geojson", {"type": "Topology", "objects": {}}, "got an object of type 'Topology'"),
        ("features.geojson", {"type": "FeatureCollection", "features": {"a": 1}}, "'features' to be a list"),
    ]:
        p = tmp_path / name
        p.write_text(json.dumps(doc))
        with pytest.raises(ConfigError, match=rf"{name.split('.')[0]}\.geojson.*{pattern}"):
            read_cells(p)
    bad_point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": ["x", 1]},
                 "properties": {"objectType": "detection"}}  # fmt: skip
    p = tmp_path / "badpoint.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature"}, bad_point]}))
    with pytest.raises(CorruptFileError, match=r"badpoint\.geojson.*feature 1 has malformed Point coordinates"):
        read_cells(p)
    bad_ring = {"type": "Polygon", "coordinates": [[1, 2, 3]]}
    p.write_text(json.dumps(bad_ring))
    with pytest.raises(ConfigError, match=r"badpoint\.geojson.*feature 0 has malformed polygon"):
        read_rois(p)  # a bad ROI file stays a ConfigError (a bad option of quantify)
    # a detection with no geometry is skipped with a warning; a file of regions has no nuclei
    p.write_text(json.dumps([{"type": "Feature", "geometry": None, "properties": {"objectType": "detection"}},
                             {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.5, 1.5]},
                              "properties": {"objectType": "detection", "classification": "Positive"}}]))  # fmt: skip
    with pytest.warns(UserWarning, match="1 detection"):
        got = read_cells(p)
    assert (len(got), got.row[0], got.col[0], got.class_names()[0]) == (1, 1.0, 2.0, "positive")
    empty = read_cells(_write(tmp_path, {"type": "Polygon", "coordinates": [SQUARE_XY]}))
    assert len(empty) == 0
    assert list(empty.columns) == ["intensity_bin"]


@pytest.mark.parametrize(("column", "name"), [("near_black", "Near-black"), ("melanocytic", "Melanocytic")])
def test_cell_flags_are_qupath_measurements_and_read_back(tmp_path: Path, column: str, name: str) -> None:
    # the near-black QC flag (Ki67Cells.near_black) and the double stain's melanocytic flag, bool cell
    # columns, are written as numeric measurements with QuPath-style names (1 / 0: QuPath's measurement
    # maps hold numbers only) on every detection, point or polygon, and read back to their columns
    base = _cells()
    flag = np.array([True, False, True, False])
    cells = CellTable(base.row, base.col, base.cls, {**base.columns, column: flag})
    for shape in ("point", "polygon"):
        doc = json.loads("".join(feature_collection_chunks(cells, [], mpp=0.5, shape=shape, seed=column)))
        det = doc["features"]
        assert [f["properties"]["measurements"][name] for f in det] == [1.0, 0.0, 1.0, 0.0]
        for f in det:
            assert all(isinstance(v, float) for v in f["properties"]["measurements"].values())
            assert column not in f["properties"]["measurements"]  # the QuPath-style name only
        path = tmp_path / f"{shape}.geojson"
        path.write_text(json.dumps(doc), encoding="utf-8")
        back = read_cells(path)
        np.testing.assert_array_equal(back.columns[column], flag.astype(np.float64))
        np.testing.assert_array_equal(back.cls, cells.cls)
    # a file without the flag has no such column (nothing is invented)
    path = tmp_path / "plain.geojson"
    path.write_text("".join(feature_collection_chunks(base, [], mpp=0.5, shape="point")), encoding="utf-8")
    assert column not in read_cells(path).columns


def test_cell_types_and_spindle_flag_round_trip(tmp_path: Path) -> None:
    # with a cell model, every detection names its type in properties.metadata (a string QuPath keeps); the
    # nuclei the model took out of the index are classed by type; both read back to the cell_type column
    from mmnst_path.aggregate import CELL_TYPES

    base = _cells()
    cls = np.array([0, 1, 3, 3], np.int8)  # positive, negative, excluded, excluded
    types = np.array([CELL_TYPES.index(t) for t in ("tumour", "tumour", "stromal", "lymphocyte")], np.int8)
    sheet = np.array([True, False, False, False])
    cells = CellTable(base.row, base.col, cls, {**base.columns, "cell_type": types, "in_spindle_sheet": sheet})
    doc = json.loads("".join(feature_collection_chunks(cells, [], mpp=0.5, shape="point", seed="types")))
    props = [f["properties"] for f in doc["features"]]
    assert [p["metadata"]["cell_type"] for p in props] == ["tumour", "tumour", "stromal", "lymphocyte"]
    assert [p["classification"]["name"] for p in props] == ["Positive", "Negative", "Stroma", "Lymphocyte"]
    assert [p["measurements"]["In spindle sheet"] for p in props] == [1.0, 0.0, 0.0, 0.0]
    path = tmp_path / "typed.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    back = read_cells(path)
    np.testing.assert_array_equal(back.columns["cell_type"], types)
    np.testing.assert_array_equal(back.columns["in_spindle_sheet"], sheet.astype(np.float64))
    np.testing.assert_array_equal(back.cls, cls)

    # a QuPath file: no metadata, type classes only -> those types, the rest unclassified; bad metadata ignored
    for p in props:
        del p["metadata"]
    props[0]["metadata"] = {"cell_type": "not-a-type"}
    path.write_text(json.dumps(doc), encoding="utf-8")
    np.testing.assert_array_equal(read_cells(path).columns["cell_type"],
                                  [0, 0, CELL_TYPES.index("stromal"), CELL_TYPES.index("lymphocyte")])
    # no type anywhere (no cell model ran): no column, nothing invented
    path.write_text("".join(feature_collection_chunks(base, [], mpp=0.5, shape="point")), encoding="utf-8")
    assert "cell_type" not in read_cells(path).columns
    assert "metadata" not in json.loads(path.read_text(encoding="utf-8"))["features"][0]["properties"]
