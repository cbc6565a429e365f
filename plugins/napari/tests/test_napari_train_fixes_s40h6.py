"""The Train widgets as session 40 H3's walk used them, opened from Plugins > mmnst_path (#13 item 4).

- D5: a live preview still running when its image and training labels were deleted came back over the next
  image (a 1024 µm map over a 197 µm tile); one still running when the labels were replaced was drawn too.
- D6: Train tissue on a PNG without a pixel size had no µm/px box and did not take Analyze's; "new training
  labels" and an empty "add class" raised through the button's signal (a traceback in napari).
- D8: Train cells' "retrain and preview after each click" dropped the clicks made while a retrain ran
  (27 of 40 clicks trained).
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from mmnst_path_napari._widgets._cells import PREVIEW as CELL_PREVIEW
from mmnst_path_napari._widgets._tissue import PREVIEW, TRAIN_LABELS
from napari_helpers import open_plugin_widget

from mmnst_path.detect.nuclei import detect_nuclei
from mmnst_path.synthetic import he_necrosis_tile, ki67_pigment_tile

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def _click(widget) -> None:
    widget.changed.emit(True)  # what a click emits; an exception in the callback propagates here


def _paint(labels, value: int, r0: int, r1: int, c0: int, c1: int) -> None:
    rr, cc = np.mgrid[r0:r1, c0:c1]
    labels.data_setitem((rr.ravel(), cc.ravel()), np.full(rr.size, value, np.uint8))


def _idle(qtbot, widget) -> None:
    qtbot.waitUntil(lambda: not (widget.live_worker is not None and widget.live_worker.is_running), timeout=120_000)
    qtbot.wait(1500)  # the debounce timer (0.7 s) and a queued result: nothing more may come
    qtbot.waitUntil(lambda: not (widget.live_worker is not None and widget.live_worker.is_running), timeout=120_000)


def _tissue_with_preview(viewer, qtbot):
    """Train tissue on a 1024 µm generated H&E tile (1 µm/px), two classes painted, the first live preview shown."""
    tile = he_necrosis_tile(3, size=1024, mpp=1.0)
    viewer.add_image(tile.rgb, rgb=True, scale=(1.0, 1.0), units=("µm", "µm"), name="he A")
    widget = open_plugin_widget(viewer, "train_tissue_widget")
    labels = widget.add_training_labels()
    nec, tissue = tile.masks["necrosis"], tile.masks["tissue"]
    paint = np.zeros(nec.shape, np.uint8)
    band = np.zeros(nec.shape, bool)
    band[::24] = band[1::24] = band[2::24] = True
    paint[band & nec] = widget.label_of("necrosis")
    paint[band & tissue & ~nec] = widget.label_of("tumour")
    labels.data_setitem(np.nonzero(paint), paint[paint > 0])
    qtbot.waitUntil(lambda: PREVIEW in viewer.layers, timeout=120_000)
    _idle(qtbot, widget)
    return tile, widget, labels


def _start_second_job(widget, labels, qtbot) -> None:
    """One more stroke, then wait until its live job runs (retraining in the worker thread)."""
    runs = widget.live_runs
    _paint(labels, widget.label_of("background"), 0, 40, 0, 1024)
    qtbot.waitUntil(lambda: widget.live_runs > runs and widget.live_worker.is_running, timeout=30_000)


def test_live_preview_of_a_deleted_image_is_not_drawn_over_the_next(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    _, widget, labels = _tissue_with_preview(viewer, qtbot)
    _start_second_job(widget, labels, qtbot)
    for layer in list(viewer.layers):  # the user closes everything while the job runs
        viewer.layers.remove(layer)
    small = he_necrosis_tile(5, size=200, mpp=0.5)
    viewer.add_image(small.rgb, rgb=True, scale=(0.5, 0.5), units=("µm", "µm"), name="he B")
    _idle(qtbot, widget)
    assert [lay.name for lay in viewer.layers] == ["he B"]  # no preview of image A over image B
    assert not widget.status.value.startswith("live preview (")
    assert "previewed region" not in widget.results.value or widget.results.value == ""
    assert widget.live_model is None  # the quick model of A's labels is not used to preview B


def test_live_preview_of_replaced_training_labels_is_dropped(make_napari_viewer, qtbot, monkeypatch):
    viewer = make_napari_viewer()
    _, widget, labels = _tissue_with_preview(viewer, qtbot)
    first = viewer.layers[PREVIEW].metadata["mmnst_path"]["model_id"]
    _start_second_job(widget, labels, qtbot)
    from qtpy.QtWidgets import QMessageBox

    yes = QMessageBox.StandardButton.Yes  # "discard the painted labels?" (session 42): Yes
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *_a, **_k: yes))
    _click(widget.new_labels)  # fresh labels while the job of the old ones runs
    assert not np.asarray(viewer.layers[f"{TRAIN_LABELS}: he A"].data).any()
    _idle(qtbot, widget)
    assert viewer.layers[PREVIEW].metadata["mmnst_path"]["model_id"] == first  # the old job's map not drawn
    assert widget.live_model is None
    # painting the new labels previews again (the live preview is not stuck)
    new = viewer.layers[f"{TRAIN_LABELS}: he A"]
    _paint(new, widget.label_of("necrosis"), 600, 640, 600, 1000)
    _paint(new, widget.label_of("tumour"), 100, 140, 100, 400)
    qtbot.waitUntil(lambda: viewer.layers[PREVIEW].metadata["mmnst_path"]["model_id"] != first, timeout=120_000)
    assert widget.status.value.startswith("live preview (")


def _png(tmp_path, size: int = 384):
    tile = he_necrosis_tile(7, size=size, mpp=1.0)
    path = tmp_path / "tile.png"
    from skimage.io import imsave

    imsave(path, tile.rgb, check_contrast=False)
    return tile, path


def test_train_tissue_buttons_on_a_png_without_pixel_size_say_it_on_the_status_line(make_napari_viewer, tmp_path):
    _, path = _png(tmp_path, size=128)
    viewer = make_napari_viewer()
    (image,) = viewer.open(str(path), plugin=PLUGIN)
    widget = open_plugin_widget(viewer, "train_tissue_widget")
    _click(widget.new_labels)  # raised ValueError through the button's signal (a traceback in napari)
    assert widget.status.value.startswith(f"error: image {image.name!r} has no pixel size: enter its µm/px")
    assert not [lay for lay in viewer.layers if lay.name.startswith(TRAIN_LABELS)]
    widget.new_class.value = ""
    _click(widget.add_class_button)  # the same
    assert widget.status.value.startswith("error: class name '': expected a tissue class name")
    # a µm scale given to the layer later (napari's console) is the image's pixel size: the box shows it, greyed
    image.scale, image.units = (0.5, 0.5), ("µm", "µm")
    assert widget.mpp.value == 0.5
    assert not widget.mpp.enabled
    _click(widget.new_labels)
    assert f"{TRAIN_LABELS}: {image.name}" in viewer.layers


def test_train_tissue_on_a_png_takes_the_entered_pixel_size_and_says_what_is_missing(make_napari_viewer, tmp_path):
    tile, path = _png(tmp_path)
    viewer = make_napari_viewer()
    (image,) = viewer.open(str(path), plugin=PLUGIN)
    widget = open_plugin_widget(viewer, "train_tissue_widget")
    # a box to enter it, empty; the status line says what is missing as soon as the image is chosen
    assert widget.mpp.value == 0
    assert widget.mpp.enabled
    assert widget.status.value == (f"image {image.name!r} has no pixel size: enter its µm/px in 'image µm/px' "
                                   "(about 0.25 at 40x, 0.5 at 20x); the tissue classifier works in µm")  # fmt: skip
    # the value entered in Analyze's "image µm/px" reaches Train tissue (and Train cells)
    analyze = open_plugin_widget(viewer, "analyze_widget")
    analyze.mpp.value = 1.0
    assert widget.mpp.value == 1.0
    cells = open_plugin_widget(viewer, "train_cells_widget")
    assert cells.mpp.value == 1.0
    _click(widget.new_labels)
    labels = viewer.layers[f"{TRAIN_LABELS}: {image.name}"]
    # in the image's pixels, as the image (no µm scale of its own: it would not lie over the image)
    np.testing.assert_allclose(labels.scale, image.scale)
    assert [str(u) for u in labels.units] == [str(u) for u in image.units]
    widget.live.value = False
    nec = tile.masks["necrosis"]
    band = (np.arange(nec.shape[0]) % 32 < 12)[:, None]
    paint = np.zeros(nec.shape, np.uint8)
    paint[band & nec] = widget.label_of("necrosis")
    paint[band & tile.masks["tissue"] & ~nec] = widget.label_of("tumour")
    labels.data_setitem(np.nonzero(paint), paint[paint > 0])
    model = widget.train()
    assert model.card["training_data"][0]["pixel_size_um"] == 1.0
    # a value typed in Train tissue is the image's for the others too
    widget.mpp.value = 0.5
    assert analyze.mpp.value == 0.5
    assert cells.mpp.value == 0.5
    # an image whose file gives its pixel size shows it, greyed
    tifffile.imwrite(tmp_path / "known.tif", tile.rgb[:128, :128], photometric="rgb", resolution=(2e4, 2e4),
                     resolutionunit="CENTIMETER")  # fmt: skip
    (known,) = viewer.open(str(tmp_path / "known.tif"), plugin=PLUGIN)
    widget.image.value = known
    assert widget.mpp.value == pytest.approx(0.5)
    assert not widget.mpp.enabled
    widget.image.value = image
    assert widget.mpp.enabled
    assert widget.mpp.value == 0.5


def test_train_cells_live_retraining_keeps_every_click(make_napari_viewer, qtbot):
    tile = ki67_pigment_tile(5, size=320, pigmented_cells=0.0, positive_fraction=0.3)
    viewer = make_napari_viewer()
    viewer.add_image(tile.rgb, rgb=True, scale=(tile.mpp, tile.mpp), units=("µm", "µm"), name="ki67")
    widget = open_plugin_widget(viewer, "train_cells_widget")
    _click(widget.new_points)
    pts = viewer.layers["cell training: ki67"]
    widget.live.value = True
    nuc = detect_nuclei(tile.rgb, mpp=tile.mpp)
    n = 30
    for i, (r, c) in enumerate(zip(nuc.row[:n], nuc.col[:n], strict=True)):
        widget.cls.value = "tumour" if i % 2 else "stromal"
        pts.add([r, c])
        qtbot.wait(60)  # clicks faster than a retrain: most land while one runs
    qtbot.waitUntil(lambda: not widget._busy, timeout=120_000)
    qtbot.wait(500)
    qtbot.waitUntil(lambda: not widget._busy, timeout=120_000)
    assert len(pts.data) == n
    assert f" of {n} clicks" in widget.status.value  # the last preview is trained on every click
    assert CELL_PREVIEW in viewer.layers
