"""Region annotations in cells.geojson (session 42 H9, H5's walk #6): tissue classes (necrosis first, MultiPolygon
with holes, level-0 px, classification {name, color}, area measures), the melanin map as "Melanin", the Ki67
hot-spot window; an ROI keeps the area measures; --no-geojson-regions leaves the regions out."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from skimage.draw import polygon2mask

from mmnst_path._geojson_regions import block_rings, region_features
from mmnst_path._review_tissue import area_annotations, paint_annotations
from mmnst_path.aggregate import LowResMap
from mmnst_path.geojson import Roi, read_features, read_rois
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.report import write_result

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


def test_block_rings_even_odd_is_the_mask() -> None:
    rng = np.random.default_rng(5)
    for _ in range(50):
        mask = rng.random((11, 13)) < 0.55
        acc = np.zeros(mask.shape, bool)
        for rings in block_rings(mask):
            for ring in rings:
                acc ^= polygon2mask(mask.shape, ring - 0.5)  # block centres at integers
        np.testing.assert_array_equal(acc, mask)
    ring_with_hole = np.ones((5, 5), bool)
    ring_with_hole[2, 2] = False
    ((outer, hole),) = block_rings(ring_with_hole)  # one polygon, one hole, corners only
    assert (len(outer), len(hole)) == (4, 4)


class _Result:
    """What region_features reads of a SlideResult."""

    def __init__(self, index: np.ndarray, ds: float, shape: tuple[int, int]) -> None:
        names = ["background", "tumour", "stroma", "necrosis"]
        self.shape = shape
        self.maps = {"tissue_classes": LowResMap(index.astype(np.int8), ds)}
        self.tissue_classes = {"classes": [{"index": i, "name": n, "colour": [10 * i, 20, 30], "area_mm2": 0.01 * i,
                                            "pct_of_tissue": 10.0 * i} for i, n in enumerate(names)]}
        self.metrics: dict[str, float] = {}
        self.hotspot = None


def test_class_regions_read_back_by_the_review_change_nothing() -> None:
    rng = np.random.default_rng(3)
    index = rng.integers(0, 4, (9, 12))
    index[0, :3] = -1  # not analysed
    shape = (9 * 16 - 5, 12 * 16 - 9)  # the last blocks cut by the image edge
    feats = region_features(_Result(index, 16.0, shape), seed="t")
    names = [f["properties"]["name"] for f in feats]
    assert names[0] == "Necrosis"  # necrosis first, background left out
    assert set(names) == {"Necrosis", "Tumour", "Stroma"}
    for f in feats:
        assert f["geometry"]["type"] == "MultiPolygon"
        assert f["properties"]["classification"]["name"] == f["properties"]["name"]
        xy = np.array([p for poly in f["geometry"]["coordinates"] for ring in poly for p in ring])
        assert xy.min() >= 0
        assert xy[:, 0].max() <= shape[1]
        assert xy[:, 1].max() <= shape[0]
    assert feats[0]["properties"]["measurements"] == {"Tissue area µm^2": pytest.approx(0.03e6), "% of tissue": 30.0}
    classes = ["background", "tumour", "stroma", "necrosis"]
    polys, skipped = area_annotations(feats, classes, source="t")
    assert skipped == 0
    start = np.where(index >= 0, 0, -1)
    painted = paint_annotations(start, polys, downsample=16.0, shape=shape)
    np.testing.assert_array_equal(painted, index)


@pytest.fixture(scope="module")
def ihc_result():  # type: ignore[no-untyped-def]
    import tifffile

    rgb = tifffile.imread(SAMPLES / "ki67_pigmented.tif")[:320, :320, :3]
    return analyze_region(rgb, AnalysisConfig(stains="H-DAB", measures=("ki67", "melanin")), mpp=0.5)


def test_written_melanin_and_hot_spot_regions_and_roi_measures(ihc_result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = ihc_result
    path = write_result(r, tmp_path / "a", outputs=("geojson",))["geojson"]
    feats = read_features(path)
    ann = {f["properties"].get("name"): f for f in feats if f["properties"]["objectType"] == "annotation"}
    assert "Image" in ann
    mel = ann["Melanin"]
    assert mel["properties"]["classification"]["name"] == "Region: Melanin"  # a review skips Region* classes
    assert mel["properties"]["measurements"]["Melanin %"] == pytest.approx(r.metrics["melanin_fraction_pct"])
    hot = ann["Ki67 hot spot" if r.hotspot.meets_min_nuclei else "Ki67 densest window"]
    b = r.hotspot.box
    assert hot["geometry"]["coordinates"][0][2] == [b.col + b.width, b.row + b.height]
    assert hot["properties"]["measurements"]["Num Positive"] == r.hotspot.positive
    assert [x.name for x in read_rois(path)] == ["Image"]  # the run's regions are not regions of interest
    # one ROI: its annotation carries the area measures of the run (of the ROI) besides its counts
    roi = Roi(np.array([[-0.5, -0.5], [-0.5, 319.5], [319.5, 319.5], [319.5, -0.5]]), "all")
    doc = json.loads(write_result(r, tmp_path / "b", outputs=("geojson",), rois=[roi])["geojson"].read_text())
    (mine,) = [f for f in doc["features"] if f["properties"].get("name") == "all"]
    assert mine["properties"]["measurements"]["Melanin %"] == pytest.approx(r.metrics["melanin_fraction_pct"])
    assert "Num Positive" in mine["properties"]["measurements"]
    # several ROIs: the measures on an "All ROIs" annotation, each ROI its own counts only
    two = [Roi(roi.polygon / 2, "x"), Roi(roi.polygon / 2 + 160, "y")]
    doc = json.loads(write_result(r, tmp_path / "c", outputs=("geojson",), rois=two)["geojson"].read_text())
    by = {f["properties"].get("name"): f for f in doc["features"] if f["properties"]["objectType"] == "annotation"}
    assert "Melanin %" not in by["x"]["properties"]["measurements"]
    assert by["All ROIs"]["properties"]["measurements"]["Melanin %"] == pytest.approx(r.metrics["melanin_fraction_pct"])
    assert len(by["All ROIs"]["geometry"]["coordinates"]) == 2
    # left out on request
    doc = json.loads(write_result(r, tmp_path / "d", outputs=("geojson",), geojson_regions=False)["geojson"].read_text())
    assert [f["properties"].get("name") for f in doc["features"] if f["properties"]["objectType"] == "annotation"] == ["Image"]
    assert all(math.isfinite(v) for f in feats for v in (f["properties"].get("measurements") or {}).values())


def test_quantify_writes_regions_unless_asked_not_to(tmp_path: Path) -> None:
    import tifffile

    from mmnst_path.cli import main

    tif = tmp_path / "ihc.tif"
    tifffile.imwrite(tif, tifffile.imread(SAMPLES / "ki67_pigmented.tif")[:200, :200, :3], photometric="rgb",
                     resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    names = {}
    for flag in ([], ["--no-geojson-regions"]):
        out = tmp_path / f"out{len(flag)}"
        assert main(["quantify", str(tif), "--out", str(out), "--workers", "1", "--stains", "H-DAB", "--measures",
                     "ki67", "--tissue-model", "none", "--quiet", *flag]) == 0
        doc = json.loads((out / "ihc" / "cells.geojson").read_text(encoding="utf-8"))
        names[len(flag)] = [f["properties"].get("name") for f in doc["features"]
                            if f["properties"]["objectType"] == "annotation"]
    assert names[0][0] == "Image"
    assert any(n.startswith("Ki67 ") for n in names[0][1:])
    assert names[1] == ["Image"]
