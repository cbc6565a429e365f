"""Train tissue / Train cells as session 42 H6's walk used them, opened from Plugins > mmnst_path.

- #3: Train tissue trained on one image only; "new training labels" on a second image replaced the first image's
  painted labels without a word (and Train cells' "new training points" the same).
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from mmnst_path_napari._widgets._cells import PREVIEW as CELL_PREVIEW
from mmnst_path_napari._widgets._cells import TRAIN_POINTS
from mmnst_path_napari._widgets._tissue import TRAIN_LABELS
from napari_helpers import open_plugin_widget, wait_idle

from mmnst_path.detect.nuclei import detect_nuclei
from mmnst_path.synthetic import he_necrosis_tile, ki67_pigment_tile

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def _click(widget) -> None:
    widget.changed.emit(True)  # what a click emits; an exception in the callback propagates here


def _answer(monkeypatch, yes: bool) -> list[str]:
    """Answer the widgets' Yes / No questions with ``yes``; the questions asked are appended to the list returned."""
    from qtpy.QtWidgets import QMessageBox

    asked: list[str] = []

    def question(_parent, _title, text, *_a, **_k):
        asked.append(text)
        return QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def _open_tif(viewer, path, rgb: np.ndarray, mpp: float):
    """Write a TIFF with its pixel size and open it with the plugin's reader (as File > Open does)."""
    res = 1e4 / mpp  # pixels per cm
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(res, res), resolutionunit="CENTIMETER")
    (layer,) = viewer.open(str(path), plugin=PLUGIN)
    return layer


def _strokes(tile, widget, classes: dict[str, np.ndarray]) -> np.ndarray:
    """Label image with 6-px strokes every 24 rows over each class's mask."""
    band = (np.arange(tile.rgb.shape[0]) % 24 < 6)[:, None]
    paint = np.zeros(tile.rgb.shape[:2], np.uint8)
    for name, mask in classes.items():
        paint[band & mask] = widget.label_of(name)
    return paint


def _wait_status(qtbot, widget, start: str) -> str:
    qtbot.waitUntil(lambda: widget.status.value.startswith((start, "error")), timeout=240_000)
    return widget.status.value


def test_train_tissue_learns_from_the_labels_of_two_images_and_asks_before_discarding(
    make_napari_viewer, qtbot, tmp_path, monkeypatch
):
    from scipy import ndimage as ndi

    a, b = he_necrosis_tile(11, size=256, mpp=1.0), he_necrosis_tile(12, size=256, mpp=1.0)
    viewer = make_napari_viewer()
    image_a = _open_tif(viewer, tmp_path / "slide_a.tif", a.rgb, 1.0)
    image_b = _open_tif(viewer, tmp_path / "slide_b.tif", b.rgb, 1.0)
    widget = open_plugin_widget(viewer, "train_tissue_widget")
    widget.live.value = False
    # image A: necrosis and tumour painted on its own labels
    widget.image.value = image_a
    _click(widget.new_labels)
    lab_a = viewer.layers.selection.active  # the new labels, selected to paint on
    nec_a = ndi.binary_erosion(a.masks["necrosis"], iterations=4)
    viable_a = ndi.binary_erosion(a.masks["tissue"] & ~a.masks["necrosis"], iterations=4)
    paint_a = _strokes(a, widget, {"necrosis": nec_a, "tumour": viable_a})
    lab_a.data_setitem(np.nonzero(paint_a), paint_a[paint_a > 0])
    n_a = int(np.count_nonzero(lab_a.data))
    assert n_a > 500
    # image B: "new training labels" adds B's own layer; A's paint is kept, untouched (it was replaced before)
    widget.image.value = image_b
    _click(widget.new_labels)
    kept = [lay for lay in viewer.layers if lay.name.startswith(TRAIN_LABELS) and np.any(lay.data)]
    assert [int(np.count_nonzero(lay.data)) for lay in kept] == [n_a]  # (0 painted px left before)
    assert kept[0].name == f"{TRAIN_LABELS}: {image_a.name}"  # one layer per image, named by it
    lab_b = viewer.layers[f"{TRAIN_LABELS}: {image_b.name}"]
    assert int(np.count_nonzero(viewer.layers[f"{TRAIN_LABELS}: {image_a.name}"].data)) == n_a
    glass_b = ndi.binary_erosion(~b.masks["tissue"], iterations=4)
    viable_b = ndi.binary_erosion(b.masks["tissue"] & ~b.masks["necrosis"], iterations=4)
    paint_b = _strokes(b, widget, {"background": glass_b, "tumour": viable_b})
    lab_b.data_setitem(np.nonzero(paint_b), paint_b[paint_b > 0])
    n_b = int(np.count_nonzero(lab_b.data))
    # "new training labels" again on B: asked first; No keeps B's paint
    asked = _answer(monkeypatch, yes=False)
    _click(widget.new_labels)
    assert len(asked) == 1
    assert f"Discard the {n_b} painted label pixels of '{TRAIN_LABELS}: {image_b.name}'" in asked[0]
    assert int(np.count_nonzero(viewer.layers[f"{TRAIN_LABELS}: {image_b.name}"].data)) == n_b
    assert widget.status.value.startswith(f"kept the {n_b} painted label pixels")
    # train: the labels of both images, one card entry per image, the held-out figure of whole images
    _click(widget.train_button)
    status = _wait_status(qtbot, widget, "trained")
    assert status.startswith(f"trained on 2 images ({image_b.name}, {image_a.name}): "), status
    model = widget.model
    assert set(model.class_names) == {"necrosis", "tumour", "background"}  # necrosis from A, background from B
    assert [s["image"] for s in model.card["training_data"]] == [image_b.name, image_a.name]
    assert all(sum(s["labelled_blocks"].values()) > 0 for s in model.card["training_data"])
    assert "whole images held out (2 images" in str(model.card["validation"])
    # Yes: B's labels start empty, A's stay
    asked = _answer(monkeypatch, yes=True)
    _click(widget.new_labels)
    assert len(asked) == 1
    assert not np.asarray(viewer.layers[f"{TRAIN_LABELS}: {image_b.name}"].data).any()
    assert int(np.count_nonzero(viewer.layers[f"{TRAIN_LABELS}: {image_a.name}"].data)) == n_a
    # choosing an image shows its labels, hides the other's (the images lie over each other)
    widget.image.value = image_a
    assert viewer.layers[f"{TRAIN_LABELS}: {image_a.name}"].visible
    assert not viewer.layers[f"{TRAIN_LABELS}: {image_b.name}"].visible


def test_train_cells_learns_from_the_points_of_two_images_and_asks_before_discarding(
    make_napari_viewer, qtbot, tmp_path, monkeypatch
):
    viewer = make_napari_viewer()
    layers, tiles = [], []
    for k, seed in enumerate((21, 22)):
        tile = ki67_pigment_tile(seed, size=256, pigmented_cells=0.0, positive_fraction=0.3)
        tiles.append(tile)
        layers.append(_open_tif(viewer, tmp_path / f"ki67_{k}.tif", tile.rgb, tile.mpp))
    widget = open_plugin_widget(viewer, "train_cells_widget")
    widget.stains.value = "H-DAB"
    counts = []
    for image, tile, classes in zip(layers, tiles, (("tumour", "stromal"), ("tumour", "lymphocyte")), strict=True):
        widget.image.value = image
        _click(widget.new_points)
        pts = viewer.layers.selection.active  # the new points layer, selected to click on
        nuc = detect_nuclei(tile.rgb, mpp=tile.mpp)
        for i, (r, c) in enumerate(zip(nuc.row[:10], nuc.col[:10], strict=True)):
            widget.cls.value = classes[i % 2]
            pts.add([r, c])
        counts.append(len(pts.data))
    # the first image's points are still there after the second image's "new training points" (gone before)
    kept = [len(lay.data) for lay in viewer.layers if lay.name.startswith(TRAIN_POINTS)]
    assert kept == counts == [10, 10]
    assert [len(viewer.layers[f"{TRAIN_POINTS}: {im.name}"].data) for im in layers] == [10, 10]
    asked = _answer(monkeypatch, yes=False)
    _click(widget.new_points)  # on the second image, which has 10 points: asked, No keeps them
    assert len(asked) == 1
    assert "Discard the 10 clicked points" in asked[0]
    assert len(viewer.layers[f"{TRAIN_POINTS}: {layers[1].name}"].data) == 10
    _click(widget.train_button)
    status = _wait_status(qtbot, widget, "trained")
    assert f" of 20 clicks on 2 images ({layers[1].name}, {layers[0].name})" in status, status
    model = widget.model
    assert {"tumour", "stromal", "lymphocyte"} <= set(model.class_names)  # stromal from one, lymphocyte from the other
    assert [s["image"] for s in model.card["training_data"]] == [layers[1].name, layers[0].name]


def _square(r0: float, r1: float, c0: float, c1: float) -> list[list[float]]:
    """A closed GeoJSON ring (x, y) of the square rows r0-r1, cols c0-c1."""
    return [[c0, r0], [c1, r0], [c1, r1], [c0, r1], [c0, r0]]


def _geojson(path, features: list[tuple[str, list]]) -> None:
    """A QuPath 0.5 annotation export: (class, Polygon coordinates) per feature."""
    import json

    feats = [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": coords},
              "properties": {"objectType": "annotation", "classification": {"name": cls, "color": [200, 0, 0]}}}
             for cls, coords in features]  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))


def test_geojson_polygon_holes_are_left_out_of_the_class_as_the_cli_paints_them(make_napari_viewer, tmp_path):
    """#4: the hole of a Tumor polygon was painted tumour (only a console warning); the CLI leaves it out."""
    from mmnst_path.pipeline._train import _paint_window, read_tissue_polygons

    tile = he_necrosis_tile(13, size=256, mpp=1.0)
    viewer = make_napari_viewer()
    image = _open_tif(viewer, tmp_path / "slide.tif", tile.rgb, 1.0)
    widget = open_plugin_widget(viewer, "train_tissue_widget")
    widget.live.value = False
    path = tmp_path / "slide.geojson"
    # a Tumor square 10-120 with a hole 40-90 holding an island 60-70; a Stroma square drawn inside the hole
    _geojson(path, [("Tumor", [_square(10, 120, 10, 120), _square(40, 90, 40, 90), _square(60, 70, 60, 70)]),
                    ("Stroma", [_square(45, 55, 45, 85)]),
                    ("Necrosis", [_square(150, 240, 150, 240)])])  # fmt: skip
    widget.annotations.value = str(path)
    _click(widget.import_button)
    (lab,) = [lay for lay in viewer.layers if lay.name.startswith(TRAIN_LABELS)]
    labels = np.asarray(lab.data)
    tumour, stroma = widget.label_of("tumour"), widget.label_of("stroma")
    assert labels[20, 20] == tumour
    assert labels[80, 50] == 0  # in the hole: not tumour (it was)
    assert labels[50, 60] == stroma  # the Stroma polygon drawn in the hole keeps its class
    assert labels[65, 65] == tumour  # the island inside the hole is the polygon's again
    # the labels the CLI's train tissue paints from the same file (values as the widget's legend)
    polys = read_tissue_polygons(path)
    cli = _paint_window(polys, np.arange(len(polys)), [tumour, stroma, widget.label_of("necrosis")], (0, 0, 256, 256))
    np.testing.assert_array_equal(labels, cli)
    assert lab.name == f"{TRAIN_LABELS}: {image.name}"
    status = widget.status.value
    assert status.startswith("painted slide.geojson: tumour "), status
    assert "2 polygon holes left out of the class, as mmnst-path train tissue paints them" in status, status


def test_a_class_mmnst_path_does_not_know_is_said_and_a_misspelt_one_refused(make_napari_viewer, tmp_path):
    """#16: a Shapes layer's 'Cartilage' became class 12 without a word (the CLI says "new classes"); a misspelt
    'Necorsis' became a class of its own (the CLI refuses it)."""
    tile = he_necrosis_tile(14, size=256, mpp=1.0)
    viewer = make_napari_viewer()
    image = _open_tif(viewer, tmp_path / "slide.tif", tile.rgb, 1.0)
    widget = open_plugin_widget(viewer, "train_tissue_widget")
    widget.live.value = False
    n_classes = len(widget.classes)
    shapes = viewer.add_shapes([np.array([[10, 10], [10, 70], [70, 70], [70, 10]]),
                                np.array([[100, 100], [100, 160], [160, 160], [160, 100]])],
                               shape_type="polygon", features={"class": ["Stroma", "Cartilage"]}, name="my shapes")
    viewer.layers.selection.active = shapes
    _click(widget.shapes_button)
    status = widget.status.value
    assert status.startswith("painted my shapes: stroma "), status
    assert len(widget.classes) == n_classes + 1
    assert ("new classes (not classes mmnst_path knows; kept as yours): cartilage "
            f"(value {n_classes + 1}): check the spelling") in status, status
    # painting it again: no longer new to the legend, not said again
    viewer.layers.selection.active = shapes
    _click(widget.shapes_button)
    assert "new classes" not in widget.status.value
    # a near miss of a known class is refused, as mmnst-path train tissue refuses it; nothing painted
    lab = viewer.layers[f"{TRAIN_LABELS}: {image.name}"]
    before = np.asarray(lab.data).copy()
    path = tmp_path / "typo.geojson"
    _geojson(path, [("Necorsis", [_square(180, 240, 180, 240)])])
    widget.annotations.value = str(path)
    _click(widget.import_button)
    assert widget.status.value.startswith("error: annotation file 'typo.geojson': class 'Necorsis' looks like a "
                                          "misspelt 'necrosis'"), widget.status.value
    assert "necorsis" not in widget.classes
    np.testing.assert_array_equal(np.asarray(lab.data), before)


def test_train_tissue_stains_follow_the_image_and_a_chosen_preset_of_other_stains_is_warned(
    make_napari_viewer, qtbot, tmp_path
):
    """#7: Train tissue's stains stayed H&E on an H-DAB tile and saved an H&E model (quantify refused it later)."""
    from mmnst_path_napari._widgets._analyze import AUTO

    ihc = ki67_pigment_tile(23, size=256, pigmented_cells=0.0, positive_fraction=0.3)
    he = he_necrosis_tile(15, size=256, mpp=0.5)
    viewer = make_napari_viewer()
    image_he = _open_tif(viewer, tmp_path / "he.tif", he.rgb, 0.5)
    image_ihc = _open_tif(viewer, tmp_path / "ki67.tif", ihc.rgb, ihc.mpp)
    widget = open_plugin_widget(viewer, "train_tissue_widget")
    widget.live.value = False
    assert widget.stains.value == AUTO  # as Train cells and Analyze
    widget.image.value = image_ihc
    assert widget.classes[:3] == list(widget.base_model("H-DAB").class_names)  # the legend of the IHC default
    _click(widget.new_labels)
    lab = viewer.layers[f"{TRAIN_LABELS}: {image_ihc.name}"]
    paint = np.zeros(ihc.rgb.shape[:2], np.uint8)
    paint[10:30, 10:240] = widget.label_of("tumour")
    paint[200:220, 10:240] = widget.label_of("stroma")
    lab.data_setitem(np.nonzero(paint), paint[paint > 0])
    _click(widget.train_button)
    status = _wait_status(qtbot, widget, "trained")
    assert widget.model.settings["stains"] == "H-DAB", status
    assert "stains H-DAB (detected from the image)" in status
    assert "warning" not in status
    # a preset of other stains chosen by hand: trained as chosen, with a warning naming the image's guess
    widget.stains.value = "H&E"
    widget.status.value = ""
    _click(widget.train_button)
    status = _wait_status(qtbot, widget, "trained")
    assert widget.model.settings["stains"] == "H&E"
    assert (f"warning: stains H&E chosen, but {image_ihc.name} looks H-DAB (the guess of 'auto (detect)'): "
            "quantify refuses a model of H&E on slides of other stains") in status, status
    # auto over labels of an H&E and an H-DAB image: refused, naming both (one model is of one stains)
    widget.stains.value = AUTO
    widget.image.value = image_he
    _click(widget.new_labels)
    lab_he = viewer.layers[f"{TRAIN_LABELS}: {image_he.name}"]
    lab_he.data_setitem(np.nonzero(paint), paint[paint > 0])
    widget.status.value = ""
    _click(widget.train_button)
    status = _wait_status(qtbot, widget, "trained")
    assert status.startswith("error: the training images are of different stains ("), status
    assert f"{image_he.name} H&E" in status
    assert f"{image_ihc.name} H-DAB" in status


def test_train_cells_warns_when_the_chosen_stains_are_not_the_images(make_napari_viewer, qtbot, tmp_path):
    """#7 (Train cells): a chosen H&E on an H-DAB tile trained without a word."""
    tile = ki67_pigment_tile(24, size=256, pigmented_cells=0.0, positive_fraction=0.3)
    viewer = make_napari_viewer()
    image = _open_tif(viewer, tmp_path / "ki67.tif", tile.rgb, tile.mpp)
    widget = open_plugin_widget(viewer, "train_cells_widget")
    widget.stains.value = "H&E"
    _click(widget.new_points)
    pts = viewer.layers.selection.active
    nuc = detect_nuclei(tile.rgb, mpp=tile.mpp)
    for i, (r, c) in enumerate(zip(nuc.row[:12], nuc.col[:12], strict=True)):
        widget.cls.value = ("tumour", "stromal")[i % 2]
        pts.add([r, c])
    _click(widget.train_button)
    status = _wait_status(qtbot, widget, "trained")
    assert f"warning: stains H&E chosen, but {image.name} looks H-DAB" in status, status


def test_save_model_asks_before_replacing_another_model_file(make_napari_viewer, qtbot, tmp_path, monkeypatch):
    """#9: *save model* over an existing model file replaced it without a word (Train tissue and Train cells)."""
    from mmnst_path.classify import load_model

    tile = he_necrosis_tile(16, size=256, mpp=1.0)
    viewer = make_napari_viewer()
    image = _open_tif(viewer, tmp_path / "slide.tif", tile.rgb, 1.0)
    widget = open_plugin_widget(viewer, "train_tissue_widget")
    widget.live.value = False
    _click(widget.new_labels)
    lab = viewer.layers.selection.active  # the new labels, selected to paint on
    paint = np.zeros(tile.rgb.shape[:2], np.uint8)
    paint[10:40, 10:240] = widget.label_of("tumour")
    paint[200:230, 10:240] = widget.label_of("stroma")
    lab.data_setitem(np.nonzero(paint), paint[paint > 0])
    path = tmp_path / "lab_tissue.mmnst"
    widget.file.value = str(path)
    _click(widget.train_button)
    _wait_status(qtbot, widget, "trained")
    first = widget.model.model_id
    _click(widget.save_button)  # a new file: no question
    assert widget.status.value.startswith(f"saved {path}")
    _click(widget.save_button)  # the same model again: nothing to lose, no question
    assert widget.status.value.startswith(f"saved {path}")
    saved = path.read_bytes()
    rr, cc = np.mgrid[100:140, 60:200]  # more paint: another model
    lab.data_setitem((rr.ravel(), cc.ravel()), np.full(rr.size, widget.label_of("necrosis"), np.uint8))
    widget.status.value = ""
    _click(widget.train_button)
    _wait_status(qtbot, widget, "trained")
    assert widget.model.model_id != first
    asked = _answer(monkeypatch, yes=False)
    _click(widget.save_button)
    assert len(asked) == 1
    assert f"holds the model 'tissue classifier trained in napari on {image.name}' ({first})" in asked[0]
    assert path.read_bytes() == saved  # kept (it was replaced before)
    assert widget.status.value.startswith(f"not saved: {str(path)!r} exists and was kept"), widget.status.value
    _answer(monkeypatch, yes=True)
    _click(widget.save_button)
    assert load_model(path).model_id == widget.model.model_id

    # Train cells, the same
    cells = open_plugin_widget(viewer, "train_cells_widget")
    ki67 = ki67_pigment_tile(25, size=256, pigmented_cells=0.0, positive_fraction=0.3)
    ki67_image = _open_tif(viewer, tmp_path / "ki67.tif", ki67.rgb, ki67.mpp)
    cells.image.value = ki67_image
    _click(cells.new_points)
    pts = viewer.layers.selection.active
    nuc = detect_nuclei(ki67.rgb, mpp=ki67.mpp)
    for i, (r, c) in enumerate(zip(nuc.row[:12], nuc.col[:12], strict=True)):
        cells.cls.value = ("tumour", "stromal")[i % 2]
        pts.add([r, c])
    _click(cells.train_button)
    _wait_status(qtbot, cells, "trained")
    cells.file.value = str(path)  # the tissue model's file
    asked = _answer(monkeypatch, yes=False)
    _click(cells.save_button)
    assert len(asked) == 1
    assert load_model(path).model_id == widget.model.model_id  # the tissue model kept
    assert cells.status.value.startswith("not saved:")


def test_train_cells_status_shows_whole_under_train_tissue_and_its_preview_hides_under_analyze(
    make_napari_viewer, qtbot, tmp_path
):
    """#15: docked under Train tissue, Train cells' wrapped status showed only its last words; its preview rings
    (tumour red, lymphocyte blue) stayed under Analyze's nuclei (positive red, negative blue)."""
    tile = ki67_pigment_tile(26, size=256, pigmented_cells=0.0, positive_fraction=0.3)
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1800, 1150)  # H6's window on a 1920 x 1200 screen
    image = _open_tif(viewer, tmp_path / "ki67.tif", tile.rgb, tile.mpp)
    open_plugin_widget(viewer, "train_tissue_widget")
    cells = open_plugin_widget(viewer, "train_cells_widget")  # docked under Train tissue
    cells.stains.value = "H-DAB"
    _click(cells.new_points)
    pts = viewer.layers.selection.active
    nuc = detect_nuclei(tile.rgb, mpp=tile.mpp)
    for i, (r, c) in enumerate(zip(nuc.row[:12], nuc.col[:12], strict=True)):
        cells.cls.value = ("tumour", "lymphocyte")[i % 2]
        pts.add([r, c])
    _click(cells.train_button)
    status = _wait_status(qtbot, cells, "trained")
    assert "caution" in status  # a long status: five lines or more at the dock's width
    qtbot.wait(500)
    label = cells.status.native
    need = label.heightForWidth(label.width())
    assert need > 3 * label.fontMetrics().lineSpacing()
    assert label.height() >= need, (label.height(), need)  # every wrapped line shows
    assert label.visibleRegion().boundingRect().height() >= need
    # the preview's rings, then Analyze's nuclei: the preview is hidden, the status says so
    _click(cells.preview_button)
    _wait_status(qtbot, cells, "view classified")
    assert viewer.layers[CELL_PREVIEW].visible
    analyze = open_plugin_widget(viewer, "analyze_widget")
    analyze.image.value = image
    analyze.region.value = "whole image"
    analyze.stains.value = "H-DAB"
    analyze.do_melanin.value = False
    analyze.do_necrosis.value = False
    assert analyze.run() is not None, analyze.controls.status.value
    wait_idle(qtbot, analyze)
    assert "nuclei" in viewer.layers
    assert viewer.layers["nuclei"].visible
    assert not viewer.layers[CELL_PREVIEW].visible
    assert cells.status.value.startswith(f"the {CELL_PREVIEW!r} layer is hidden under Analyze's nuclei")
