"""ROI polygons with holes (session 42 H9, H5's walk #1): a hole of a ``--roi`` annotation is not measured
(even-odd, as ``train tissue`` and ``review`` read holes), and the written ROI keeps its hole and class."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import numpy as np
from skimage.draw import polygon2mask
from skimage.measure import points_in_poly

from mmnst_path._geojson_regions import is_run_region
from mmnst_path.geojson import keyhole_ring, read_rois
from mmnst_path.geometry import Box
from mmnst_path.tiling.grid import _polygon_intersects_box

OUTER_XY = [[0, 0], [160, 0], [160, 160], [0, 160], [0, 0]]  # x = col + 0.5 (pixel corners)
HOLE_XY = [[40, 40], [120, 40], [120, 120], [40, 120], [40, 40]]  # the middle quarter of the area
TUMOR = {"name": "Tumor", "color": [200, 0, 0]}


def _roi_file(tmp_path: Path, rings: list[list[list[float]]]) -> Path:
    path = tmp_path / f"roi{len(rings)}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
        "geometry": {"type": "Polygon", "coordinates": rings},
        "properties": {"objectType": "annotation", "name": "tissue less a fold", "classification": TUMOR}}]}))
    return path


def test_holes_are_read_and_left_out_of_the_region(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "polygon holes are ignored (the outer ring is used)" before
        (roi,) = read_rois(_roi_file(tmp_path, [OUTER_XY, HOLE_XY]))
    assert len(roi.holes) == 1
    assert roi.classification == TUMOR
    mask = polygon2mask((160, 160), roi.region)
    assert not mask[40:120, 40:120].any()  # the hole
    ring = np.ones((160, 160), bool)
    ring[40:120, 40:120] = False
    assert mask[ring].all()
    assert mask.sum() == 160 * 160 - 80 * 80
    pts = np.array([[80.0, 80.0], [10.0, 10.0], [150.0, 80.0], [80.0, 39.0], [80.0, 121.0]])
    assert points_in_poly(pts, roi.region).tolist() == [False, True, True, True, True]
    assert not _polygon_intersects_box(roi.region, Box(50, 50, 60, 60))  # a tile inside the hole is not planned
    assert _polygon_intersects_box(roi.region, Box(0, 0, 30, 30))
    np.testing.assert_array_equal(keyhole_ring(roi.polygon), roi.polygon)  # no hole: the ring itself


def test_two_holes_and_a_multipolygon_part_each_keep_theirs(tmp_path: Path) -> None:
    h1 = [[10, 10], [30, 10], [30, 30], [10, 30], [10, 10]]
    h2 = [[100, 100], [140, 100], [140, 140], [100, 140], [100, 100]]
    part2 = [[[200, 0], [260, 0], [260, 60], [200, 60], [200, 0]]]
    path = tmp_path / "multi.geojson"
    path.write_text(json.dumps({"type": "MultiPolygon", "coordinates": [[OUTER_XY, h1, h2], part2]}))
    a, b = read_rois(path)
    assert (len(a.holes), len(b.holes)) == (2, 0)
    mask = polygon2mask((160, 270), a.region) | polygon2mask((160, 270), b.region)
    assert mask.sum() == 160 * 160 - 20 * 20 - 40 * 40 + 60 * 60


def test_quantify_measures_outside_the_hole_only(tmp_path: Path) -> None:
    """One run with the hole: no nucleus counted in it, less tissue than the outer ring holds, and the ROI
    written back to cells.geojson with its hole and its class; no warning in summary.csv."""
    import tifffile

    from mmnst_path.cli import main
    from tests.test_pipeline import render_ihc

    tif = tmp_path / "ihc.tif"
    tifffile.imwrite(tif, render_ihc((160, 160), 0.5, seed=11, n_nuclei=90, positive=0.4), photometric="rgb",
                     resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    out = tmp_path / "out"
    assert main(["quantify", str(tif), "--out", str(out), "--workers", "1", "--stains", "H-DAB", "--measures",
                 "ki67", "--cell-model", "none", "--tissue-model", "none", "--quiet",
                 "--roi", str(_roi_file(tmp_path, [OUTER_XY, HOLE_XY]))]) == 0
    row = next(csv.DictReader((out / "summary.csv").open()))
    assert row["warnings"] in ("", "[]")
    cells = list(csv.DictReader((out / "ihc" / "cells.csv").open()))
    assert len(cells) > 10
    in_hole = [c for c in cells if 40 <= float(c["x"]) < 120 and 40 <= float(c["y"]) < 120]
    assert in_hole == []
    assert float(row["tissue_area_mm2"]) <= (160 * 160 - 80 * 80) * 0.25e-6 * 1.01
    doc = json.loads((out / "ihc" / "cells.geojson").read_text(encoding="utf-8"))
    (ann,) = [f for f in doc["features"] if f["properties"]["objectType"] == "annotation"
              and not is_run_region(f["properties"])]
    assert len(ann["geometry"]["coordinates"]) == 2  # the outer ring and the hole
    assert ann["properties"]["classification"] == TUMOR
    assert ann["properties"]["measurements"]["Num Negative"] == int(row["ki67_negative"])
