"""QuPath GeoJSON: detections/annotations written, ROIs read from QuPath 0.2-0.6 forms."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.aggregate import CellTable
from mmnst_path.errors import ConfigError
from mmnst_path.geojson import Roi, cell_features, feature_collection_chunks, read_rois, roi_features

SQUARE_XY = [[10.5, 20.5], [110.5, 20.5], [110.5, 70.5], [10.5, 70.5], [10.5, 20.5]]  # x = col + 0.5


def _cells() -> CellTable:
    return CellTable(
        np.array([30.0, 40.0, 60.0, 200.0]),
        np.array([20.0, 50.0, 100.0, 300.0]),
        np.array([0, 1, 1, 0], np.int8),
        {"area_um2": np.array([40.0, 30.0, np.nan, 50.0]), "dab_od_mean": np.array([0.5, 0.05, 0.04, 0.6])},
    )


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
    assert ann["properties"]["measurements"] == {"Num Positive": 1, "Num Negative": 2, "Num Pigment": 0,
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


def test_holes_warn_and_bad_files_are_config_errors(tmp_path: Path) -> None:
    hole = [[30.5, 30.5], [40.5, 30.5], [40.5, 40.5], [30.5, 30.5]]
    with pytest.warns(UserWarning, match="holes"):
        (roi,) = read_rois(_write(tmp_path, {"type": "Polygon", "coordinates": [SQUARE_XY, hole]}))
    assert len(roi.polygon) == 4
    with pytest.raises(ConfigError, match="no polygon"):
        read_rois(_write(tmp_path, {"type": "FeatureCollection", "features": []}))
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"bad\.geojson"):
        read_rois(bad)
