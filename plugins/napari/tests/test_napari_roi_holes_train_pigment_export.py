"""Session 43's napari leftovers (session 44 H5): Analyze's "selected shapes" leaves a ROI's holes out, as
``quantify --roi`` does; Train pigment's µm/px box, QuPath annotations loaded as its polygons, polygon holes; Export's
status keeps an import's words when the search for the image's results ends after it.

Each test fails at cbb6c9e: Analyze measured a selected ROI's holes; Train pigment had no µm/px box, no loading and no
holes; the search's words replaced the import's.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from napari_helpers import ki67_tile, open_plugin_widget, search_done, wait_idle

from mmnst_path.geojson import read_rois

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def _square(r0: float, c0: float, side: float) -> list[list[float]]:
    """A closed GeoJSON ring (x, y) of a square, its corner at row ``r0``, column ``c0``."""
    return [[c0, r0], [c0 + side, r0], [c0 + side, r0 + side], [c0, r0 + side], [c0, r0]]


def _feature(rings: list[list[list[float]]], *, name: str = "", cls: str | None = None) -> dict:
    props: dict = {"objectType": "annotation", "name": name}
    if cls is not None:
        props["classification"] = {"name": cls}
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings}, "properties": props}


def _write(path, *features):  # type: ignore[no-untyped-def]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}), encoding="utf-8")
    return path


def test_analyze_selected_roi_leaves_its_holes_out_as_quantify_roi(make_napari_viewer, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    from mmnst_path import open_slide
    from mmnst_path.pipeline import analyze_slide

    tile = ki67_tile(tmp_path / "tile.tif")
    roi_file = _write(tmp_path / "qupath.geojson",
                      _feature([_square(8, 8, 176), _square(56, 56, 80)], name="tumour"))  # a fold left out in QuPath
    viewer = make_napari_viewer()
    (image,) = viewer.open(str(tile), plugin=PLUGIN)
    export = search_done(qtbot, open_plugin_widget(viewer, "export_widget"))
    export.import_(roi_file)
    rois = viewer.layers["qupath annotations"]
    assert len(viewer.layers["qupath ROI holes"].data) == 1
    analyze = open_plugin_widget(viewer, "analyze_widget")
    analyze.image.value = image
    analyze.region.value = "selected shapes"
    analyze.stains.value = "H-DAB"
    analyze.do_melanin.value = analyze.do_necrosis.value = False
    rois.selected_data = {0}
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    got = analyze.result
    assert got is not None, analyze.controls.status.value

    # what `mmnst-path quantify --roi qupath.geojson` runs (batch: the even-odd ring of each ROI, holes kept)
    (roi,) = read_rois(roi_file)
    config = analyze.plan.config
    with open_slide(tile) as reader:
        cli = analyze_slide(reader, config, roi=[roi.region], workers=1)
    with open_slide(tile) as reader:
        outer = analyze_slide(reader, config, roi=[roi.polygon], workers=1)
    keys = ("ki67_positive", "ki67_negative")
    assert [got.metrics[k] for k in keys] == [cli.metrics[k] for k in keys]
    assert len(got.cells) == len(cli.cells)
    assert [cli.metrics[k] for k in keys] != [outer.metrics[k] for k in keys]  # the hole held nuclei: it mattered


def test_train_pigment_mpp_box_loads_qupath_polygons_and_leaves_holes_out(make_napari_viewer, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    import tifffile
    from mmnst_path_napari._widgets._mpp import entered_mpp

    from mmnst_path.pipeline import read_tissue_polygons, train_pigment
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(801, "dusty", chromogen="aec", size=192, drawn_melanin=True)
    path = tmp_path / "tile.tif"
    tifffile.imwrite(path, tile.rgb, photometric="rgb")  # no pixel size in the file
    ann = _write(tmp_path / "qupath.geojson", _feature([_square(0, 0, 192)], cls="Tumor"),
                 _feature([_square(40, 40, 112), _square(76, 76, 40)], cls="Melanin"))  # a gap left out
    viewer = make_napari_viewer()
    (image,) = viewer.open(str(path), plugin=PLUGIN)
    train = open_plugin_widget(viewer, "train_pigment_widget")
    train.image.value = image
    train.annotations.value = ann
    train.load_button.changed.emit(True)
    assert train.status.value.startswith("loaded qupath.geojson: 1 melanin, 1 other polygon(s), 1 hole(s)"), \
        train.status.value
    melanin, other, holes = (train.polygons_layer(c) for c in ("Melanin", "Other", "hole"))
    assert [len(lay.data) for lay in (melanin, other, holes)] == [1, 1, 1]
    # no pixel size: refused with the words of the other Train widgets, until one is entered in the box
    assert train.mpp.enabled
    assert train.train() is None
    assert "has no pixel size: enter its µm/px in 'image µm/px'" in train.status.value, train.status.value
    train.mpp.value = 0.5
    assert entered_mpp(image) == 0.5  # kept on the layer: Analyze's and the Train widgets' boxes follow it
    train.stains.value = "H-AEC"
    assert train.train() is not None, train.status.value
    qtbot.waitUntil(lambda: train.model is not None or train.status.value.startswith("error"), timeout=240_000)
    assert train.model is not None, train.status.value
    got = dict(train.model.card["training_data"][0])
    # the library on the QuPath file itself (`mmnst-path train pigment tile.tif qupath.geojson --mpp 0.5`)
    want = dict(train_pigment([path], [ann], mpp=0.5, stains="H-AEC").card["training_data"][0])
    got.pop("annotations"), want.pop("annotations")
    assert got == want
    assert got["mpp_um"] == 0.5
    assert got["melanin_px"] < 112 * 112  # the hole taught no melanin (its pixels stay the Tumor polygon's)
    # a hole drawn in napari is the interior of the polygon around it (the smallest), written for the trainer
    holes.add_polygons([np.array([[4.0, 4.0], [4.0, 24.0], [24.0, 24.0], [24.0, 4.0]])])
    train.training_pairs(tmp_path)
    written = read_tissue_polygons(tmp_path / "image0.geojson")
    assert [(name, len(rings)) for rings, name in written] == [("Other", 2), ("Melanin", 2)]


@pytest.mark.parametrize("changed", [True, False], ids=["no-result-found", "result-opened"])
def test_export_import_during_the_search_keeps_its_status(make_napari_viewer, qtbot, tmp_path, monkeypatch, changed):  # type: ignore[no-untyped-def]
    import threading

    import tifffile
    from mmnst_path_napari import _result_find

    from mmnst_path.cli import main

    tile = ki67_tile(tmp_path / "slides" / "tile.tif")
    assert main(["quantify", str(tile), "--out", str(tile.parent / "results")]) == 0
    if changed:  # same size, other bytes: the result beside it is of an earlier version (read, then not offered)
        rgb = tifffile.imread(tile)
        rgb[:8, :8] = 255
        tifffile.imwrite(tile, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    release = threading.Event()
    read = _result_find.sha256_pieces

    def slow_read(path, *, stop):  # type: ignore[no-untyped-def]
        release.wait(60)  # a whole slide: the read takes minutes
        return (yield from read(path, stop=stop))

    monkeypatch.setattr(_result_find, "sha256_pieces", slow_read)
    roi_file = _write(tmp_path / "qupath.geojson", _feature([_square(8, 8, 100), _square(20, 20, 10)], name="t"))
    viewer = make_napari_viewer()
    viewer.open(str(tile), plugin=PLUGIN)
    export = open_plugin_widget(viewer, "export_widget")
    assert export.find_worker is not None
    assert export.status.value.startswith("reading tile.tif"), export.status.value
    export.import_(roi_file)  # while the image is read
    imported = export.status.value
    assert imported.startswith("imported 2 layer(s) from qupath.geojson; 1 ROI hole(s)"), imported
    release.set()
    search_done(qtbot, export)
    status = export.status.value
    assert imported in status, status  # the import's words kept
    assert "reading tile.tif" not in status, status  # the read's own line gone
    if changed:
        assert status.startswith("no quantify result of tile.tif found"), status
    else:
        assert status.startswith("opened results/tile (the only result of tile.tif"), status
