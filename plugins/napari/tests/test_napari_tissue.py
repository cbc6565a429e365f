"""Train tissue, the way a user works: the widget opened through napari's plugin machinery, classes
painted on the training Labels layer (napari's own painting calls, which emit its events), the
live preview of the view appearing after the strokes, a full model trained, applied, saved as
``.mmnst`` and read back by the library.

Set ``MMNST_SCREENSHOT_DIR`` to keep the napari screenshot of the workflow there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from mmnst_path_napari._widgets import TrainTissueWidget
from mmnst_path_napari._widgets._tissue import CLASS_MAP, PREVIEW, TRAIN_LABELS
from scipy import ndimage as ndi

from mmnst_path.synthetic import he_necrosis_tile

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def _grid(mask: np.ndarray, f: int) -> np.ndarray:
    h, w = -(-mask.shape[0] // f) * f, -(-mask.shape[1] // f) * f
    pad = np.zeros((h, w), np.float32)
    pad[: mask.shape[0], : mask.shape[1]] = mask
    return pad.reshape(h // f, f, w // f, f).mean(axis=(1, 3)) > 0.5


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_paint_train_apply_save_load_on_a_generated_tile(make_napari_viewer, tmp_path):
    from mmnst_path.classify import load_model

    tile = he_necrosis_tile(3, size=512, mpp=1.0)
    nec, tissue = tile.masks["necrosis"], tile.masks["tissue"]
    viewer = make_napari_viewer()
    viewer.add_image(tile.rgb, rgb=True, scale=(1.0, 1.0), units=("µm", "µm"), name="he")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Train tissue")
    assert isinstance(widget, TrainTissueWidget)
    widget.live.value = False
    # the legend starts from the default model's classes, with their colours and values
    assert widget.classes[:3] == ["tumour", "stroma", "necrosis"]
    assert "keratin" in widget.classes
    assert "1 tumour" in widget.legend.value
    # necrosis (120, 60, 20) of the default model, shown in the pictures' magenta (not melanin's brown; session 35)
    assert "#e600c8" in widget.legend.value
    assert "#783c14" not in widget.legend.value
    assert widget.colours[2] == (120, 60, 20)  # the card's, kept for the model
    with pytest.raises(ValueError, match="no tissue model"):
        widget.apply()
    widget.stains.value = "H-DAB"  # IHC: the classes of the shipped IHC default
    assert widget.classes == [*widget.base_model("H-DAB").class_names, "keratin", "melanin"]
    widget.stains.value = "H&E"
    assert widget.classes[:3] == ["tumour", "stroma", "necrosis"]

    labels = widget.add_training_labels()
    assert labels.name == f"{TRAIN_LABELS}: he"  # one training layer per image, named by it
    assert labels.data.shape == (512, 512)
    # strokes 6 px wide every 32 rows, inside necrosis / viable tissue / glass
    strokes = np.zeros(nec.shape, bool)
    for r in range(3, 512, 32):
        strokes[r : r + 6] = True
    paint = np.zeros(nec.shape, np.uint8)
    paint[strokes & ndi.binary_erosion(nec, iterations=8)] = widget.label_of("necrosis")
    paint[strokes & ndi.binary_erosion(tissue & ~nec, iterations=8)] = widget.label_of("tumour")
    paint[strokes & ndi.binary_erosion(~tissue, iterations=8)] = widget.label_of("background")
    assert (paint > 0).mean() < 0.2
    labels.data_setitem(np.nonzero(paint), paint[paint > 0])
    model = widget.train()
    assert set(model.class_names) == {"necrosis", "tumour", "background"}
    assert "trained on" in widget.status.value
    # its held-out figure holds out squares of the image (session 40; H5's fix of the CLI card), named as such
    validation = model.card["validation"]
    assert "held_out" in validation
    assert "training_image_blocks" not in validation
    assert "square" in validation["split"]
    assert "held-out accuracy" in widget.status.value

    applied = widget.apply()
    assert applied.name == CLASS_MAP
    ds = round(applied.metadata["mmnst_path"]["downsample"])
    assert ds == 8  # the model's 8 µm output grid at 1 µm/px
    np.testing.assert_allclose(applied.scale, (ds, ds))
    np.testing.assert_allclose(applied.translate, ((ds - 1) / 2, (ds - 1) / 2))
    pred = np.asarray(applied.data) == widget.label_of("necrosis")
    truth = _grid(nec, ds)
    assert pred.shape == truth.shape
    assert _iou(pred, truth) > 0.75, _iou(pred, truth)
    areas = widget.areas
    assert areas["pct_of_tissue"]["necrosis"] == pytest.approx(tile.truth["necrosis_fraction_pct"], abs=6)
    assert areas["area_mm2"]["necrosis"] == pytest.approx(tile.truth["necrosis_area_mm2"], rel=0.15)
    assert "necrosis" in widget.results.value
    assert "% of tissue" in widget.status.value

    # saved as .mmnst (with its card) and read back by the library
    path = widget.save(tmp_path / "my_tissue")
    assert path.suffix == ".mmnst"
    loaded = load_model(path, kind="tissue")
    assert loaded.model_id == model.model_id
    assert loaded.card["training_data"][0]["image"] == "he"
    assert loaded.card["training_data"][0]["labelled_blocks"]["necrosis"] > 20
    widget.model = None
    widget.load(path)
    again = widget.apply()
    np.testing.assert_array_equal(np.asarray(again.data), np.asarray(applied.data))

    # a preview of an off-grid view shows the blocks of the whole-image map
    viewer.scene.camera.zoom *= 2.7
    viewer.scene.camera.center = (0, 283.0, 301.0)
    preview = widget.preview()
    assert preview.name == PREVIEW
    r0, c0 = preview.metadata["mmnst_path"]["origin"]
    assert (r0 % ds, c0 % ds) == (0, 0)
    got = np.asarray(preview.data)
    want = np.asarray(applied.data)[r0 // ds : r0 // ds + got.shape[0], c0 // ds : c0 // ds + got.shape[1]]
    assert (got == want).mean() > 0.97


def _keep(path: Path) -> None:
    where = os.environ.get("MMNST_SCREENSHOT_DIR")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(where) / path.name)


def _stroke(labels, r: int, c0: int, c1: int, value: int) -> None:
    """Brush dabs along row ``r`` (napari's ``paint``: it writes the data and emits ``paint``)."""
    for c in range(c0, c1, 6):
        labels.paint((r, c), value)


def test_live_preview_follows_the_strokes_on_the_sample_tile(
    make_napari_viewer, qtbot, sample_tiles, tmp_path
):
    from mmnst_path.classify import load_model

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1500, 1000)
    (image,) = viewer.open(str(sample_tiles / "he_necrosis.tif"), plugin=PLUGIN)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Train tissue")
    assert widget.image.value is image
    assert widget.live.value
    labels = widget.add_training_labels()
    assert labels.brush_size == 32  # 16 µm at 0.5 µm/px
    viewer.reset_view()
    # the tile (0.5 µm/px, sample_tiles/README.md): necrosis lower right, tumour nuclei in bands,
    # collagen stroma upper left, glass
    _stroke(labels, 750, 620, 880, widget.label_of("necrosis"))
    _stroke(labels, 430, 420, 600, widget.label_of("tumour"))
    _stroke(labels, 60, 20, 220, widget.label_of("stroma"))
    _stroke(labels, 500, 240, 320, widget.label_of("background"))
    # debounced: nothing trains during the strokes (the paint handler only restarts a timer)
    assert widget.live_runs == 0
    assert PREVIEW not in viewer.layers
    # the retraining runs while the GUI thread goes on (seen running from here), then the preview
    qtbot.waitUntil(lambda: widget.live_worker is not None and widget.live_worker.is_running, timeout=10_000)
    qtbot.waitUntil(lambda: PREVIEW in viewer.layers, timeout=60_000)
    assert widget.live_runs == 1  # 60 dabs, one retraining after the last
    preview = viewer.layers[PREVIEW]
    assert widget.live_model is not None
    assert set(widget.live_model.class_names) == {"necrosis", "tumour", "stroma", "background"}
    assert viewer.layers[-1].name == f"{TRAIN_LABELS}: {image.name}"  # the paint stays on top of the preview
    assert widget.results.value.startswith("previewed region:")
    assert "necrosis" in widget.results.value
    ds = round(preview.metadata["mmnst_path"]["downsample"])
    data = np.asarray(preview.data)

    def at(r: int, c: int) -> int:
        r0, c0 = preview.metadata["mmnst_path"]["origin"]
        return int(data[(r - r0) // ds, (c - c0) // ds])

    # away from the strokes
    assert at(650, 800) == widget.label_of("necrosis")
    assert at(200, 700) == widget.label_of("tumour")
    assert at(330, 520) == widget.label_of("stroma")
    assert at(880, 520) == widget.label_of("background")

    # a new stroke: a newer preview replaces the old one (the stale one is dropped)
    first_id = preview.metadata["mmnst_path"]["model_id"]
    gen = widget._generation
    _stroke(labels, 250, 930, 1010, widget.label_of("necrosis"))
    assert widget._generation > gen
    qtbot.waitUntil(
        lambda: (
            PREVIEW in viewer.layers and viewer.layers[PREVIEW].metadata["mmnst_path"]["model_id"] != first_id
        ),
        timeout=60_000,
    )
    qtbot.waitUntil(lambda: not (widget.live_worker and widget.live_worker.is_running), timeout=60_000)
    assert [lay.name for lay in viewer.layers].count(PREVIEW) == 1  # replaced, not added beside
    assert widget.live_runs == 2

    # full model: train, apply to the whole tile (in worker threads, as the buttons do)
    widget.train_button.changed.emit(True)
    qtbot.waitUntil(lambda: widget.model is not None, timeout=120_000)
    widget.apply_button.changed.emit(True)
    qtbot.waitUntil(lambda: CLASS_MAP in viewer.layers, timeout=120_000)
    nec = widget.areas["pct_of_tissue"]["necrosis"]
    assert 20 < nec < 55, nec  # truth 37.1 % of tissue (sample_tiles/README.md), from four strokes
    assert "necrosis" in widget.results.value
    path = widget.save(tmp_path / "sample_tissue.mmnst")
    assert load_model(path).card["training_data"][0]["image"] == "he_necrosis.tif"

    viewer.layers[CLASS_MAP].visible = False
    viewer.reset_view()  # a view change re-predicts the view (no retraining) after the debounce
    runs = widget.live_runs
    qtbot.waitUntil(lambda: widget.live_runs > runs, timeout=10_000)
    qtbot.waitUntil(lambda: not widget.live_worker.is_running, timeout=60_000)
    qtbot.wait(300)
    shot = tmp_path / "napari_train_tissue_live.png"
    viewer.window.screenshot(str(shot), canvas_only=False, flash=False)
    _keep(shot)
    viewer.layers[CLASS_MAP].visible = True
    viewer.layers[PREVIEW].visible = False
    qtbot.wait(300)
    shot = tmp_path / "napari_train_tissue_applied.png"
    viewer.window.screenshot(str(shot), canvas_only=False, flash=False)
    _keep(shot)


def test_live_training_recomputes_only_the_windows_whose_paint_changed(monkeypatch):
    from mmnst_path_napari._tissue import TRAIN_CHUNK as CHUNK
    from mmnst_path_napari._tissue import training_rows

    import mmnst_path.classify.train_tissue as tt
    from mmnst_path.io import ArrayReader

    tile = he_necrosis_tile(4, size=384, mpp=0.5)
    rgb = np.tile(tile.rgb, (1, 7, 1))[:, : CHUNK + 500]  # two label windows side by side
    reader = ArrayReader(rgb, mpp=0.5)
    labels = np.zeros(rgb.shape[:2], np.uint8)
    labels[100:140, 100:300] = 1
    labels[200:240, 100:300] = 2
    labels[100:140, CHUNK + 100 : CHUNK + 300] = 1
    calls = []
    real = tt.tissue_training_blocks
    monkeypatch.setattr(tt, "tissue_training_blocks", lambda *a, **k: calls.append(1) or real(*a, **k))
    cache: dict = {}
    kw = {
        "d": 1,
        "bounds": rgb.shape[:2],
        "mpp": 0.5,
        "w": 1,
        "classes": ["tumour", "necrosis"],
        "stains": "H&E",
    }
    rows, counts = training_rows(reader, labels, cache=cache, **kw)
    assert len(calls) == 2
    assert len(rows) == 2
    again, counts2 = training_rows(reader, labels, cache=cache, **kw)
    assert len(calls) == 2  # nothing painted since: no feature computed
    assert counts2 == counts
    np.testing.assert_array_equal(np.concatenate([x for x, _ in again]), np.concatenate([x for x, _ in rows]))
    labels[300:340, CHUNK + 100 : CHUNK + 300] = 2  # a stroke in the second window only
    cached, counts3 = training_rows(reader, labels, cache=cache, **kw)
    assert len(calls) == 3
    assert counts3["necrosis"] > counts["necrosis"]
    fresh, counts4 = training_rows(reader, labels, **kw)  # without a cache: the same rows
    assert counts4 == counts3
    np.testing.assert_array_equal(
        np.concatenate([x for x, _ in fresh]), np.concatenate([x for x, _ in cached])
    )
    assert len(cache) == 2
    # the blocks' places (session 40: a napari-trained card's held-out figure holds out squares of the image):
    # level-0 µm of every row, inside the paint of its window, cached or not
    for cache_arg in (cache, None):
        where: list = []
        rows5, _ = training_rows(reader, labels, cache=cache_arg, places=where, **kw)
        assert [len(rc) for rc in where] == [len(y) for _, y in rows5]
        rc = np.round(np.concatenate(where) / 0.5).astype(int)  # level-0 px
        near = ndi.binary_dilation(labels > 0, iterations=8)  # a block centre lies within half a block of paint
        assert near[rc[:, 0], rc[:, 1]].all()
        assert rc[:, 1].max() > CHUNK  # the second window's blocks sit at its own place, not at its window's origin


def test_an_ihc_model_is_trained_with_the_ihc_default_features(make_napari_viewer):
    from mmnst_path.classify.tissue import tissue_feature_settings
    from mmnst_path.synthetic import ki67_pigment_tile

    tile = ki67_pigment_tile(2, size=384, mpp=0.5, pigmented_cells=0.0)
    viewer = make_napari_viewer()
    viewer.add_image(tile.rgb, rgb=True, scale=(0.5, 0.5), units=("µm", "µm"), name="ki67")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Train tissue")
    widget.live.value = False
    widget.stains.value = "H-DAB"
    labels = widget.add_training_labels()
    paint = np.zeros(tile.rgb.shape[:2], np.uint8)
    dark = tile.rgb.mean(axis=-1) < 200
    near = ndi.uniform_filter(dark.astype(np.float32), 31)
    paint[::2][near[::2] > 0.5] = widget.label_of("tumour")  # cellular
    paint[::2][near[::2] < 0.02] = widget.label_of("background")  # glass
    labels.data_setitem(np.nonzero(paint), paint[paint > 0])
    model = widget.train()
    assert model.settings["stains"] == "H-DAB"
    assert tissue_feature_settings(model) == tissue_feature_settings(widget.base_model("H-DAB"))
    assert model.settings["features"]["chromogen_as_hematoxylin"] is True  # positivity-blind, as the default


def test_deleting_the_training_layer_before_the_preview_starts_is_quiet(make_napari_viewer, qtbot):
    tile = he_necrosis_tile(5, size=256, mpp=1.0)
    viewer = make_napari_viewer()
    viewer.add_image(tile.rgb, rgb=True, scale=(1.0, 1.0), units=("µm", "µm"), name="he")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Train tissue")
    labels = widget.add_training_labels()
    _stroke(labels, 100, 20, 200, widget.label_of("tumour"))
    viewer.layers.remove(f"{TRAIN_LABELS}: he")
    qtbot.wait(int(1000 * 1.5))  # past the debounce: the timer fires and finds no layer
    assert widget.live_runs == 0
    assert PREVIEW not in viewer.layers


def _ring(mask: np.ndarray) -> np.ndarray:
    """(row, col) outline of the largest component of a mask."""
    from skimage.measure import find_contours, label

    lab = label(mask)
    big = lab == np.argmax(np.bincount(lab.ravel())[1:]) + 1
    return max(find_contours(big.astype(np.float32), 0.5), key=len)


def test_qupath_annotations_and_shapes_are_painted_as_training_labels(make_napari_viewer, tmp_path):
    import json

    tile = he_necrosis_tile(6, size=512, mpp=1.0)
    nec, tissue = tile.masks["necrosis"], tile.masks["tissue"]
    viewer = make_napari_viewer()
    viewer.add_image(tile.rgb, rgb=True, scale=(1.0, 1.0), units=("µm", "µm"), name="he")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Train tissue")
    widget.live.value = False
    # a QuPath export: one Necrosis and one Tumor polygon (x, y = col + 0.5, row + 0.5), an Ignore* one
    features = []
    for cls, mask in (("Necrosis", ndi.binary_erosion(nec, iterations=10)),
                      ("Tumor", ndi.binary_erosion(tissue & ~nec, iterations=10)),
                      ("Ignore*", np.pad(np.ones((20, 20), bool), ((0, 492), (0, 492))))):  # fmt: skip
        ring = _ring(mask)
        xy = [[float(c) + 0.5, float(r) + 0.5] for r, c in ring]
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[*xy, xy[0]]]},
                         "properties": {"objectType": "annotation", "classification": {"name": cls}}})  # fmt: skip
    path = tmp_path / "qupath.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    painted = widget.import_annotations(path)
    assert set(painted) == {"necrosis", "tumour"}
    labels = np.asarray(viewer.layers[f"{TRAIN_LABELS}: he"].data)
    nec_painted = labels == widget.label_of("necrosis")
    assert nec_painted.sum() == painted["necrosis"] > 1000
    assert (nec[nec_painted]).mean() > 0.99  # the polygon lies on the true necrosis
    assert "painted qupath.geojson" in widget.status.value

    # a Shapes layer with a 'class' feature (a rectangle on the glass): a class added, painted too
    glass = np.argwhere(ndi.binary_erosion(~tissue, iterations=12))
    r, c = glass[len(glass) // 2]
    viewer.add_shapes([np.array([[r - 6, c - 6], [r - 6, c + 6], [r + 6, c + 6], [r + 6, c - 6]])],
                      shape_type="rectangle", features={"class": ["Glass"]}, name="boxes")  # fmt: skip
    assert widget.paint_shapes(viewer.layers["boxes"]) == {"background": 169}
    model = widget.train()
    assert set(model.class_names) == {"necrosis", "tumour", "background"}
    applied = widget.apply()
    pred = np.asarray(applied.data) == widget.label_of("necrosis")
    assert _iou(pred, _grid(nec, 8)) > 0.75, _iou(pred, _grid(nec, 8))
    with pytest.raises(ValueError, match="choose an existing GeoJSON"):
        widget.import_annotations(tmp_path / "missing.geojson")
