"""cells.geojson of an input without ROIs: its whole-image annotation "Image" carries the slide's area
measures (necrosis / melanin % and mm², tumour / stroma %), so an H&E input shows them in QuPath; read back
by the library's reader and the napari plugin's import (session 34)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from mmnst_path._geojson_regions import is_run_region
from mmnst_path.geojson import image_measurements, read_features, read_rois, rois_from_features
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.report import write_result

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
PLUGIN_SRC = Path(__file__).resolve().parents[1] / "plugins" / "napari" / "src"


def test_image_measurements_keep_measured_values_and_leave_undefined_out() -> None:
    got = image_measurements({"necrosis_fraction_pct": 94.43414956982132, "necrosis_area_mm2": 0.913216,
                              "melanin_fraction_pct": math.nan, "melanin_area_mm2": None,
                              "tumour_fraction_pct": 0.0, "ki67_index_pct": 12.0})
    assert got == {"Necrosis %": 94.43414956982132, "Necrosis area mm^2": 0.913216, "Tumour %": 0.0}


@pytest.fixture(scope="module")
def he_result():  # type: ignore[no-untyped-def]
    import tifffile

    rgb = tifffile.imread(SAMPLES / "he_melanin.tif")[:256, :256]
    return analyze_region(rgb, AnalysisConfig(stains="H&E", measures=("melanin", "necrosis")), mpp=0.5)


def test_he_whole_image_annotation_carries_the_area_measures(he_result, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # mutation: write_result without region_measurements (or roi_features ignoring extra) -> no measurements
    path = write_result(he_result, tmp_path, outputs=("geojson",))["geojson"]
    doc = json.loads(path.read_text())
    (image,) = [f for f in doc["features"] if f["properties"]["objectType"] == "annotation"
                and not is_run_region(f["properties"])]  # (tissue classes / melanin: session 42 H9)
    assert image["properties"]["name"] == "Image"
    meas = image["properties"]["measurements"]
    m = he_result.metrics
    assert meas["Necrosis %"] == m["necrosis_fraction_pct"]
    assert meas["Necrosis area mm^2"] == m["necrosis_area_mm2"]
    assert meas["Melanin %"] == m["melanin_fraction_pct"] > 0
    assert meas["Melanin area mm^2"] == m["melanin_area_mm2"]
    assert "Num Positive" not in meas  # Ki67 not measured: no (zero) counts
    for key in ("tumour_fraction_pct", "stroma_fraction_pct"):
        if math.isfinite(m.get(key, math.nan)):
            assert meas[{"tumour_fraction_pct": "Tumour %", "stroma_fraction_pct": "Stroma %"}[key]] == m[key]
    # read back: the library's readers and the napari plugin's import
    feats = read_features(path)
    (roi,) = rois_from_features(feats, source=str(path))
    assert roi.name == "Image"
    assert len(read_rois(path)) == 1
    sys.path.insert(0, str(PLUGIN_SRC))
    try:
        from mmnst_path_napari._geojson import read_geojson
    finally:
        sys.path.remove(str(PLUGIN_SRC))
    cells, rois = read_geojson(path)
    assert [r.name for r in rois] == ["Image"]
    np.testing.assert_allclose(rois[0].polygon, roi.polygon)
    assert len(cells) == len(he_result.cells)


def test_one_roi_carries_the_area_measures(he_result, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # the slide's measures are of all the ROIs together: on the ROI when it is the only one (session 42 H9, H5's
    # walk #6: before, an H&E run with --roi had its figures nowhere in cells.geojson); several ROIs:
    # tests/test_geojson_regions.py ("All ROIs")
    from mmnst_path.geojson import Roi

    roi = Roi(np.array([[0.0, 0.0], [0.0, 100.0], [100.0, 100.0], [100.0, 0.0]]), "a")
    path = write_result(he_result, tmp_path, outputs=("geojson",), rois=[roi])["geojson"]
    (ann,) = [f for f in json.loads(path.read_text())["features"] if f["properties"]["objectType"] == "annotation"
              and not is_run_region(f["properties"])]
    assert ann["properties"]["measurements"] == image_measurements(he_result.metrics)

