"""Review and Export widgets driven on a viewer: reclassifying nuclei updates the index at once,
GeoJSON / CSV / JSON exports round-trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mmnst_path_napari._layers import CLASS_COLORS, points_layer
from mmnst_path_napari._widgets import ExportWidget, ReviewWidget
from mmnst_path_napari._widgets._review import set_classes, toggle_classes

from mmnst_path.aggregate import CELL_CLASSES, CellTable
from mmnst_path.geojson import read_rois
from mmnst_path.quantify.ki67 import Ki67Counts, ki67_metrics

pytestmark = pytest.mark.napari


def _table(names: list[str], seed: int, **extra: np.ndarray) -> CellTable:
    """Cells of the classes ``names`` at random places (DAB, area, 2+ for positives), with ``extra`` columns."""
    rng = np.random.default_rng(seed)
    n = len(names)
    return CellTable(
        rng.uniform(0, 400, n),
        rng.uniform(0, 600, n),
        np.array([CELL_CLASSES.index(c) for c in names], np.int8),
        {
            "dab_od_mean": rng.uniform(0, 1, n),
            "area_um2": rng.uniform(20, 60, n),
            "intensity_bin": np.array([2 if c == "positive" else 0 for c in names], np.int8),
            **extra,
        },
    )


def _cells(n_pos: int, n_neg: int, n_pig: int = 0) -> CellTable:
    return _table(["positive"] * n_pos + ["negative"] * n_neg + ["pigment"] * n_pig, 7)


def _index(pos: int, neg: int) -> float:
    return ki67_metrics(Ki67Counts(positive=pos, negative=neg, positive_2plus=pos))["index_pct"]


def test_toggling_a_point_changes_the_index_as_it_should(make_napari_viewer):
    viewer = make_napari_viewer()
    layer = viewer.add_layer(
        __import__("napari").layers.Layer.create(*points_layer(_cells(10, 30, 5), mpp=0.5))
    )
    widget = ReviewWidget(viewer)
    viewer.window.add_dock_widget(widget)
    assert widget.points.value is layer
    _, k = widget.metrics()
    assert k["index_pct"] == pytest.approx(_index(10, 30))
    assert "25.0 %" in widget.results.value

    # negative point 12 -> positive: 11 / 40
    toggle_classes(layer, {12})
    _, k = widget.metrics()
    assert k["positive"] == 11
    assert k["negative"] == 29
    assert k["index_pct"] == pytest.approx(100 * 11 / 40)
    assert "27.5 %" in widget.results.value  # panel updated at once
    np.testing.assert_allclose(layer.border_color[12], CLASS_COLORS["positive"])

    # positive point 0 -> pigment: leaves the denominator (10 / 39)
    set_classes(layer, {0}, "pigment")
    _, k = widget.metrics()
    assert (k["positive"], k["negative"], k["pigment"]) == (10, 29, 6)
    assert k["index_pct"] == pytest.approx(100 * 10 / 39)

    # deleting a positive point and adding a negative one through the layer
    layer.selected_data = {1}
    layer.remove_selected()
    widget.add_class.value = "negative"
    layer.add(np.array([[50.0, 60.0]]))
    _, k = widget.metrics()
    assert (k["positive"], k["negative"]) == (9, 30)
    assert layer.features["class"].iloc[-1] == "negative"
    assert k["index_pct"] == pytest.approx(100 * 9 / 39)


def test_review_edits_save_and_load_back(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    layer = viewer.add_layer(__import__("napari").layers.Layer.create(*points_layer(_cells(4, 6), mpp=0.5)))
    widget = ReviewWidget(viewer)
    toggle_classes(layer, {0, 5})
    before = list(layer.features["class"])
    widget.save(tmp_path / "edits.geojson")
    set_classes(layer, range(len(layer.data)), "negative")
    new = widget.load(tmp_path / "edits.geojson")
    assert list(new.features["class"]) == before
    np.testing.assert_allclose(new.data, layer.data, atol=5.1e-4)  # library writes 0.001 px
    _, k = widget.metrics()
    assert (k["positive"], k["negative"]) == (4, 6)


def test_export_and_reimport_geojson_round_trip(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.full((400, 600, 3), 230, np.uint8), rgb=True, scale=(0.5, 0.5), units=("µm", "µm"))
    cells = _cells(3, 5, 2)
    points = viewer.add_layer(__import__("napari").layers.Layer.create(*points_layer(cells, mpp=0.5)))
    roi = np.array([[10.0, 10.0], [10.0, 200.0], [150.0, 200.0], [150.0, 10.0]])
    shapes = viewer.add_shapes([roi], shape_type="polygon", scale=(0.5, 0.5), name="ROIs")
    widget = ExportWidget(viewer)
    widget.points.value = points
    widget.rois.value = shapes
    widget.kind.value = "GeoJSON (QuPath)"
    out = widget.export(tmp_path / "export.geojson")
    (lib_roi,) = read_rois(out)  # the library reads the plugin's export back
    np.testing.assert_array_equal(lib_roi.polygon, roi)
    doc = json.loads(out.read_text())
    assert doc["features"][0]["properties"]["measurements"]["Num Positive"] == sum(
        10 <= r <= 150 and 10 <= c <= 200
        for r, c in points.data[np.asarray(points.features["class"]) == "positive"]
    )
    layers = widget.import_(out)
    kinds = sorted(type(lay).__name__ for lay in layers)
    assert kinds == ["Points", "Shapes"]
    back_pts = next(lay for lay in layers if type(lay).__name__ == "Points")
    back_roi = next(lay for lay in layers if type(lay).__name__ == "Shapes")
    np.testing.assert_allclose(back_pts.data, points.data, atol=5.1e-4)  # library writes 0.001 px
    assert list(back_pts.features["class"]) == list(points.features["class"])
    np.testing.assert_allclose(back_pts.scale, points.scale)
    np.testing.assert_allclose(back_roi.data[0], roi)

    # a Shapes layer drawn in µm (scale 1) is exported in the nuclei's level-0 pixels
    widget.rois.value = viewer.add_shapes([roi * 0.5], shape_type="polygon", name="ROIs in µm")
    (lib_roi,) = read_rois(widget.export(tmp_path / "um.geojson"))
    np.testing.assert_allclose(lib_roi.polygon, roi)

    widget.kind.value = "CSV (cells)"
    csv = widget.export(tmp_path / "cells.csv").read_text().splitlines()
    assert csv[0].startswith("x,y,class")
    assert len(csv) == 1 + len(cells)
    widget.kind.value = "JSON (result)"
    doc = json.loads(widget.export(tmp_path / "result.json").read_text())
    assert doc["review"]["ki67_counts"]["positive"] == 3
    assert doc["review"]["ki67_metrics"]["index_pct"] == pytest.approx(100 * 3 / 8)
    assert len(doc["rois"]) == 1


NEAR_BLACK = "of the Ki67-positive nuclei are near-black"


def _dark_cells() -> CellTable:
    # 20 positive (12 near-black: 60 %), 20 negative (2 near-black), 0 pigment
    cells = _cells(20, 20)
    dark = np.zeros(40, bool)
    dark[:12] = True
    dark[20:22] = True
    return CellTable(cells.row, cells.col, cells.cls, {**cells.columns, "near_black": dark})


def test_review_recounts_the_near_black_and_pigment_qc_of_the_reviewed_nuclei(make_napari_viewer, tmp_path):
    import napari

    viewer = make_napari_viewer()
    layer = viewer.add_layer(napari.layers.Layer.create(*points_layer(_dark_cells(), mpp=0.5)))
    _, widget = viewer.window.add_plugin_dock_widget("mmnst-path-napari", "Review")  # napari's plugin machinery
    assert isinstance(widget, ReviewWidget)
    assert widget.points.value is layer
    counts, k = widget.metrics()
    assert (counts.near_black_positive, counts.near_black_negative) == (12, 2)
    assert k["index_pct"] == pytest.approx(50.0)  # the flag does not move the index
    # 12 of 20 positives near-black; index without the 14 near-black nuclei 8 / 26
    assert f"⚠ 60 % {NEAR_BLACK}" in widget.notice.value
    assert "(index then 30.8 %)" in widget.notice.value
    assert "pigment hides" not in widget.notice.value

    # the pathologist confirms two near-black positives as positive: reviewed, no longer in the QC
    set_classes(layer, {0, 1}, "positive")
    assert list(layer.features["reviewed"][:3]) == [True, True, False]
    counts, k = widget.metrics()
    assert counts.near_black_positive == 10
    assert k["index_pct"] == pytest.approx(50.0)
    assert f"⚠ 50 % {NEAR_BLACK}" in widget.notice.value
    assert "(index then 35.7 %)" in widget.notice.value  # 10 / 28
    # ... and calls a third one melanin: 9 unreviewed near-black positives left, under the 10 needed
    set_classes(layer, {2}, "pigment")
    counts, k = widget.metrics()
    assert (counts.near_black_positive, k["positive"], k["pigment"]) == (9, 19, 1)
    assert NEAR_BLACK not in widget.notice.value
    # pigment QC of the reviewed classes: 6 of 40 nuclei (15 %) called pigment -> the index range
    set_classes(layer, {30, 31, 32, 33, 34}, "pigment")
    _, k = widget.metrics()
    assert k["pigment_obscured_pct"] == pytest.approx(15.0)
    lo, hi = 100 * 19 / 40, 100 * 25 / 40
    assert f"⚠ pigment hides 15 % of the tumour nuclei: the index would be {lo:.1f} % if they were all negative, {hi:.1f} % if all positive" in (
        widget.notice.value
    )
    # a nucleus the reviewer adds is reviewed and not near-black
    widget.add_class.value = "positive"
    layer.add(np.array([[50.0, 60.0]]))
    assert bool(layer.features["reviewed"].iloc[-1])
    assert not bool(layer.features["near_black"].iloc[-1])
    counts, _ = widget.metrics()
    assert counts.near_black_positive == 9

    # the edits file keeps the flag (QuPath measurement "Near-black") and who was reviewed
    before = (list(layer.features["class"]), list(layer.features["near_black"]), list(layer.features["reviewed"]))
    text = widget.results.value
    path = widget.save(tmp_path / "edits.geojson")
    det = json.loads(path.read_text())["features"]
    assert sum(f["properties"]["measurements"]["Near-black"] for f in det) == 14
    assert sum(f["properties"]["measurements"]["Reviewed"] for f in det) == 9
    new = widget.load(path)
    after = (list(new.features["class"]), list(new.features["near_black"]), list(new.features["reviewed"]))
    assert after == before
    # the same panel, now saying the stains the file was read as
    assert widget.results.value.splitlines() == [
        *text.splitlines(), "stains: DAB + Hematoxylin (from the file's measurement names)"]


def test_review_of_nuclei_without_the_near_black_flag_says_nothing_of_it(make_napari_viewer, tmp_path):
    import napari

    viewer = make_napari_viewer()
    cells = _cells(20, 5)  # no near_black column (an older cells.geojson, or a QuPath export)
    layer = viewer.add_layer(napari.layers.Layer.create(*points_layer(cells, mpp=0.5)))
    _, widget = viewer.window.add_plugin_dock_widget("mmnst-path-napari", "Review")
    assert not layer.features["near_black"].any()
    counts, k = widget.metrics()
    assert counts.near_black_positive == 0
    assert k["index_pct"] == pytest.approx(80.0)
    assert NEAR_BLACK not in widget.notice.value
    assert "⚠" not in widget.notice.value + widget.results.value


def _spindle_cells() -> CellTable:
    """20 tumour nuclei (10 +, 10 -), 20 tumour nuclei the spindle-sheet rule took back (10 +, 10 -) and
    40 nuclei the cell model left out as stromal: the model's own stromal share is 60 of 80 (75 %)."""
    from mmnst_path.aggregate import CELL_TYPES

    names = (["positive"] * 10 + ["negative"] * 10) * 2 + ["excluded"] * 40
    types = ["tumour"] * 40 + ["stromal"] * 40
    sheet = [False] * 20 + [True] * 20 + [False] * 40
    return _table(names, 3, cell_type=np.array([CELL_TYPES.index(t) for t in types], np.int8),
                  in_spindle_sheet=np.array(sheet))


def test_review_says_the_spindle_cell_sentence_of_the_reviewed_nuclei(make_napari_viewer):
    import napari
    from mmnst_path_napari._widgets._review import review_warnings

    viewer = make_napari_viewer()
    layer = viewer.add_layer(napari.layers.Layer.create(*points_layer(_spindle_cells(), mpp=0.5)))
    _, widget = viewer.window.add_plugin_dock_widget("mmnst-path-napari", "Review")  # napari's plugin machinery
    assert widget.points.value is layer
    assert int(layer.features["in_spindle_sheet"].sum()) == 20
    text = widget.notice.value
    assert "the cell model left 75 % of the detected nuclei out of the index as stromal" in text
    assert "20 nuclei in spindle sheets counted as tumour" in text
    # the pathologist calls 10 of the sheet nuclei melanin: 10 sheet nuclei are left in the index
    set_classes(layer, set(range(20, 30)), "pigment")
    assert "the cell model left 62 %" in widget.notice.value  # (40 + 10) of 80
    assert "10 nuclei in spindle sheets counted as tumour" in widget.notice.value
    # ... and all of them: the advice follows the run's setting
    set_classes(layer, set(range(30, 40)), "pigment")
    counts, k = widget.metrics()
    auto = review_warnings(counts, k, layer.features, "auto")
    assert any("none of them lies in a crowded sheet of spindle nuclei" in w for w in auto)
    off = review_warnings(counts, k, layer.features, "false")
    assert any('spindle_sheet = "auto"' in w for w in off)
    # nuclei without cell types (a QuPath export): no sentence
    assert not any("stromal" in w for w in review_warnings(counts, k))


def test_saved_review_edits_keep_the_cell_types_and_the_spindle_sentence(make_napari_viewer, tmp_path):
    # the edits file carries each nucleus's cell type (GeoJSON metadata) and its spindle-sheet flag: reloaded in a
    # fresh viewer, the Review panel gives the same stromal / spindle-cell sentence as before saving
    import napari

    viewer = make_napari_viewer()
    layer = viewer.add_layer(napari.layers.Layer.create(*points_layer(_spindle_cells(), mpp=0.5)))
    _, widget = viewer.window.add_plugin_dock_widget("mmnst-path-napari", "Review")  # napari's plugin machinery
    set_classes(layer, set(range(20, 30)), "pigment")
    before = widget.notice.value
    assert "10 nuclei in spindle sheets counted as tumour" in before
    path = widget.save(tmp_path / "edits.geojson")

    other = make_napari_viewer()
    other.add_layer(napari.layers.Layer.create(*points_layer(_table(["negative"], 3), mpp=0.5)))
    _, reloaded = other.window.add_plugin_dock_widget("mmnst-path-napari", "Review")
    new = reloaded.load(path)
    assert list(new.features["cell_type"]) == list(layer.features["cell_type"])
    np.testing.assert_array_equal(new.features["in_spindle_sheet"], layer.features["in_spindle_sheet"])
    after = reloaded.notice.value
    assert "the cell model left 62 % of the detected nuclei out of the index as stromal" in after
    assert "10 nuclei in spindle sheets counted as tumour" in after
