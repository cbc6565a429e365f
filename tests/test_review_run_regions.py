"""A run's own cells.geojson, edited in QuPath and read back by ``mmnst-path review`` (session 42 H11's findings 1-2).

The ROI a run measured is written back into its cells.geojson with its classification; the review read it as a tissue
correction (a ROI classified ``Tumor`` repainted its whole area tumour: one drawn necrosis square took the reviewed
necrosis from 31 % to 2 %; a ROI classified ``Other`` made the file unreadable as a review). A lab tissue model's
``melanin`` class region was read as a melanin correction. Now the run's ROIs are marked and skipped, and the run's
class regions are never melanin corrections.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


def _quantified(tmp_path: Path, roi_class: str) -> Path:
    rgb = np.ascontiguousarray(tifffile.imread(SAMPLES / "he_necrosis.tif")[:512, :512])
    src = tmp_path / "in"
    src.mkdir()
    tifffile.imwrite(src / "he.tif", rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    outer = [[0, 0], [512, 0], [512, 512], [0, 512], [0, 0]]
    hole = [[300, 300], [400, 300], [400, 400], [300, 400], [300, 300]]
    roi = tmp_path / "roi.geojson"
    roi.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [outer, hole]},
        "properties": {"objectType": "annotation", "classification": {"name": roi_class}}}]}), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--roi", str(roi), "--workers", "1", "--quiet"]) == 0
    return out / "he"


def _with_square(folder: Path, dst: Path) -> Path:
    doc = json.loads((folder / "cells.geojson").read_text(encoding="utf-8"))
    doc["features"].append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [
        [[0, 0], [64, 0], [64, 64], [0, 64], [0, 0]]]},
        "properties": {"objectType": "annotation", "classification": {"name": "Necrosis"}}})
    dst.write_text(json.dumps(doc), encoding="utf-8")
    return dst


@pytest.mark.parametrize("roi_class", ["Tumor", "Other"])
def test_the_runs_roi_is_no_tissue_correction(tmp_path: Path, roi_class: str) -> None:
    folder = _quantified(tmp_path, roi_class)
    written = json.loads((folder / "cells.geojson").read_text(encoding="utf-8"))
    (roi,) = [f for f in written["features"] if (f["properties"].get("classification") or {}).get("name") == roi_class]
    assert roi["properties"]["metadata"]["mmnst_path"] == "region of interest"
    measured = json.loads((folder / "result.json").read_text(encoding="utf-8"))["metrics"]["necrosis_fraction_pct"]
    edits = _with_square(folder, tmp_path / "edits.geojson")
    assert main(["review", str(folder), str(edits)]) == 0
    review = json.loads((folder / "review.json").read_text(encoding="utf-8"))["tissue_classes"]
    # a 32 x 32 µm square drawn necrosis moves a few 16 µm blocks, never the whole ROI
    assert 0 < review["changed_blocks"] <= 9
    assert review["pct_of_tissue"]["necrosis"] >= measured - 1.0


def test_a_runs_class_region_named_melanin_is_no_melanin_correction() -> None:
    from mmnst_path._geojson_regions import REGION_METADATA
    from mmnst_path._melanin_map import melanin_annotations

    square = {"type": "Polygon", "coordinates": [[[0, 0], [64, 0], [64, 64], [0, 64], [0, 0]]]}
    run_region = {"type": "Feature", "geometry": square, "properties": {
        "objectType": "annotation", "classification": {"name": "Melanin"}, "metadata": dict(REGION_METADATA)}}
    drawn = {"type": "Feature", "geometry": square, "properties": {
        "objectType": "annotation", "classification": {"name": "Melanin"}}}
    polygons, where = melanin_annotations([run_region, drawn])
    assert where == [1]  # only the reviewer's own Melanin annotation
    assert len(polygons) == 1
