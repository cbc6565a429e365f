"""A reviewed result reopens as reviewed, and painted tissue corrections round-trip (session 39 H5).

Ki67: a tile is quantified, opened, its cells.geojson imported by Export, three negatives made positive in Review
(from the Plugins menu), the review saved to the result folder; ``mmnst-path report`` rebuilds the summary; a fresh
viewer opens the result *folder* through the plugin's reader: the nuclei layer is the reviewed one ("nuclei
reviewed by Dr B, date"), the Review panel says REVIEWED above the same index, CI and H-score as review.json and
summary.csv, every nucleus at its place with its class and bin. Export's import of the folder's cells.geojson gives
the same reviewed layer. H&E: a QuPath necrosis annotation given to ``mmnst-path review``; the folder opened in
napari shows the corrected class map; saving the review again from napari (nothing painted since) gives the same
areas, painting one more block changes exactly one block more.

Mutations caught: the reader ignoring review.json (measured nuclei shown); the reviewed layer not marked; classes,
positions or bins lost on the way; the corrected map not reopened or its areas recomputed otherwise than
``mmnst-path review`` computes them; a toggled positive left at bin 0.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile
from napari_helpers import open_plugin_widget as _open

from mmnst_path._review_tissue import REVIEW_TISSUE_MAP, read_class_map
from mmnst_path.cli import main
from mmnst_path.review import REVIEW_NAME, bin_thresholds, positive_bin

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
SAMPLES = Path(__file__).resolve().parents[3] / "sample_tiles"


def _tile(tmp_path: Path, sample: str, size: int, name: str) -> Path:
    rgb = tifffile.imread(SAMPLES / sample)[:size, :size]
    path = tmp_path / name
    tifffile.imwrite(path, np.ascontiguousarray(rgb), photometric="rgb", resolution=(2e4, 2e4),
                     resolutionunit="CENTIMETER")
    return path


def _nuclei(viewer):  # type: ignore[no-untyped-def]
    (layer,) = [lay for lay in viewer.layers if lay.metadata.get("mmnst_path", {}).get("kind") == "nuclei"]
    return layer


def test_ki67_review_round_trip_and_reopen(make_napari_viewer, tmp_path):
    tile = _tile(tmp_path, "ki67_primary.tif", 256, "tile.tif")
    out = tmp_path / "out"
    assert main(["quantify", str(tile), "--out", str(out)]) == 0
    folder = out / "tile"
    viewer = make_napari_viewer()
    viewer.open(str(tile), plugin=PLUGIN)
    export = _open(viewer, "export_widget")
    review = _open(viewer, "review_widget")
    export.import_(folder / "cells.geojson")
    points = review.points.value
    classes = np.asarray(points.features["class"], dtype=object)
    flip = np.flatnonzero(classes == "negative")[:3]
    points.selected_data = set(flip.tolist())
    review.toggle_button.changed.emit(True)
    dab = np.asarray(points.features["dab_od"], np.float64)[flip]
    want_bins = positive_bin(dab, bin_thresholds(json.loads((folder / "result.json").read_text())["config"]))
    assert np.asarray(points.features["intensity_bin"])[flip].tolist() == want_bins.tolist()
    _, panel = review.metrics()
    data_before = np.asarray(points.data).copy()
    feats_before = points.features[["class", "intensity_bin"]].copy()
    export.reviewer.value = "Dr B"
    export.review_button.changed.emit(True)
    assert export.status.value.startswith("review saved"), export.status.value
    assert main(["report", str(out)]) == 0
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    saved = json.loads((folder / REVIEW_NAME).read_text(encoding="utf-8"))
    assert float(row["ki67_index_reviewed_pct"]) == pytest.approx(panel["index_pct"], rel=1e-5)

    # reopened: the folder through the plugin's reader, in a fresh viewer
    again = make_napari_viewer()
    again.open(str(folder / "result.json"), plugin=PLUGIN)
    layer = _nuclei(again)
    assert layer.name.startswith("nuclei reviewed by Dr B, ")
    assert any(lay.name == "tile.tif" for lay in again.layers)  # the measured slide, from result.json
    review2 = _open(again, "review_widget")
    assert review2.points.value is layer
    _, reopened = review2.metrics()
    for key in ("positive", "negative", "excluded", "denominator", "h_score", "index_pct", "ci_low_pct", "ci_high_pct"):
        assert reopened[key] == pytest.approx(saved["ki67_metrics"][key], nan_ok=True), key
        assert reopened[key] == pytest.approx(panel[key], nan_ok=True), key
    assert np.allclose(np.asarray(layer.data), data_before, atol=0.01)  # GeoJSON keeps 1/100 px
    assert list(layer.features["class"]) == list(feats_before["class"])
    assert np.array_equal(np.asarray(layer.features["intensity_bin"]), np.asarray(feats_before["intensity_bin"]))
    text = review2.results.value
    assert text.startswith("REVIEWED: reviewed by Dr B, ")
    assert "measured" in text.splitlines()[0]
    # the same through Export's import of the folder's cells.geojson beside the slide
    third = make_napari_viewer()
    third.open(str(tile), plugin=PLUGIN)
    export3 = _open(third, "export_widget")
    export3.import_(folder / "cells.geojson")
    assert export3.status.value.startswith("REVIEWED: by Dr B, "), export3.status.value
    assert Path(export3.result_folder.value) == folder
    assert list(_nuclei(third).features["class"]) == list(feats_before["class"])


def test_necrosis_annotation_reopens_and_round_trips(make_napari_viewer, tmp_path):
    tile = _tile(tmp_path, "he_necrosis.tif", 512, "he.tif")
    out = tmp_path / "out"
    assert main(["quantify", str(tile), "--out", str(out)]) == 0
    folder = out / "he"
    ring = [[0, 0], [160, 0], [160, 96], [0, 96], [0, 0]]
    edits = tmp_path / "qupath.geojson"
    edits.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"objectType": "annotation", "classification": {"name": "Necrosis"}}}]}), encoding="utf-8")
    assert main(["review", str(folder), str(edits), "--reviewer", "Dr N"]) == 0
    cli = json.loads((folder / REVIEW_NAME).read_text(encoding="utf-8"))["tissue_classes"]
    assert cli["changed_blocks"] > 0
    doc = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    corrected = read_class_map(folder, doc, name=REVIEW_TISSUE_MAP)["labels"]

    viewer = make_napari_viewer()
    viewer.open(str(folder / "result.json"), plugin=PLUGIN)  # the reader is registered for the file result.json
    (classes,) = [lay for lay in viewer.layers if lay.metadata.get("mmnst_path", {}).get("kind") == "tissue classes"]
    assert classes.name.startswith("tissue classes reviewed by Dr N")
    assert np.array_equal(np.asarray(classes.data).astype(int) - 1, corrected)
    export = _open(viewer, "export_widget")
    export.reviewer.value = "Dr N"  # saved below: no nuclei, a tissue-only review, to the folder the layer knows
    assert export.status.value.startswith("REVIEWED: by Dr N, "), export.status.value  # said on opening
    assert "necrosis" in export.status.value
    before = (folder / REVIEW_NAME).read_bytes()
    export.review_button.changed.emit(True)  # nothing painted since opening: Dr N's review is not re-saved (s39 H13)
    assert "unchanged since it was opened" in export.status.value, export.status.value
    assert (folder / REVIEW_NAME).read_bytes() == before
    assert np.array_equal(read_class_map(folder, doc, name=REVIEW_TISSUE_MAP)["labels"], corrected)
    # one more block painted necrosis: exactly one block more
    necrosis = classes.metadata["mmnst_path"]["classes"].index("necrosis") + 1
    r, c = np.argwhere(np.asarray(classes.data) != necrosis)[-1]
    data = np.asarray(classes.data).copy()
    data[r, c] = necrosis
    classes.data = data
    export.review_button.changed.emit(True)
    assert export.status.value.startswith("review saved in he: necrosis"), export.status.value
    third = json.loads((folder / REVIEW_NAME).read_text(encoding="utf-8"))["tissue_classes"]
    assert third["source"] == "painted (napari)"
    assert third["changed_blocks"] == cli["changed_blocks"] + 1
    assert third["area_mm2"]["necrosis"] > cli["area_mm2"]["necrosis"]
    assert main(["report", str(out)]) == 0
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert float(row["necrosis_fraction_reviewed_pct"]) == pytest.approx(third["pct_of_tissue"]["necrosis"], 1e-5)


def test_folder_of_a_tile_without_pixel_size_opens_at_the_measured_mpp(make_napari_viewer, tmp_path):
    """A PNG tile quantified with --mpp: the slide layer takes the result's µm / px, so the nuclei lie on it (at
    scale 1 beside µm nuclei they lay at 1 / mpp times their place, under an "Inconsistent units" warning)."""
    from PIL import Image

    rgb = tifffile.imread(SAMPLES / "ki67_primary.tif")[:256, :256]
    tile = tmp_path / "t.png"
    Image.fromarray(np.ascontiguousarray(rgb)).save(tile)
    out = tmp_path / "out"
    assert main(["quantify", str(tile), "--mpp", "0.25", "--out", str(out)]) == 0
    viewer = make_napari_viewer()
    with warnings.catch_warnings():  # the result's µm / px is known: no "microns per pixel unknown" (s39 H11's walk)
        warnings.filterwarnings("error", message=".*microns per pixel unknown")
        viewer.open(str(out / "t" / "result.json"), plugin=PLUGIN)
    image = viewer.layers["t.png"]
    nuclei = _nuclei(viewer)
    assert tuple(image.scale) == pytest.approx((0.25, 0.25))
    assert tuple(nuclei.scale) == pytest.approx(tuple(image.scale))
    assert nuclei.name == "nuclei"  # no review: the measured nuclei, not marked
    assert len(nuclei.data) == json.loads((out / "t" / "result.json").read_text(encoding="utf-8"))["n_cells"]
