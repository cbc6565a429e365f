"""Train-necrosis widget on a generated H&E tile with a known necrosis mask: paint sparse strokes
from the truth, train the library's pixel classifier, preview, apply, save and load."""

from __future__ import annotations

import numpy as np
import pytest
from mmnst_path_napari._widgets import TrainNecrosisWidget
from mmnst_path_napari._widgets._common import view_box
from mmnst_path_napari._widgets._necrosis import NECROSIS, OTHER, TRAIN_LABELS
from scipy import ndimage as ndi

from mmnst_path.synthetic import he_necrosis_tile

pytestmark = pytest.mark.napari


def _grid(mask: np.ndarray, f: int) -> np.ndarray:
    h, w = (mask.shape[0] // f) * f, (mask.shape[1] // f) * f
    return mask[:h, :w].reshape(h // f, f, w // f, f).mean(axis=(1, 3)) > 0.5


def test_train_preview_apply_save_load(make_napari_viewer, tmp_path):
    tile = he_necrosis_tile(3, size=512, mpp=1.0)
    nec, tissue = tile.masks["necrosis"], tile.masks["tissue"]
    viewer = make_napari_viewer()
    viewer.add_image(tile.rgb, rgb=True, scale=(1.0, 1.0), units=("µm", "µm"), name="he")
    widget = TrainNecrosisWidget(viewer)
    with pytest.raises(ValueError, match="no classifier"):
        widget.apply()

    labels = widget.add_training_labels()
    assert labels.name == TRAIN_LABELS
    assert labels.data.shape == (512, 512)
    # sparse strokes: every 24th row, well inside necrosis / viable tissue
    strokes = np.zeros(nec.shape, bool)
    strokes[::24] = True
    paint = np.zeros(nec.shape, np.uint8)
    paint[strokes & ndi.binary_erosion(nec, iterations=8)] = NECROSIS
    paint[strokes & ndi.binary_erosion(tissue & ~nec, iterations=8)] = OTHER
    assert (paint > 0).mean() < 0.05  # the user painted < 5 % of the pixels
    with pytest.raises(ValueError, match="both classes"):
        widget.train()
    labels.data = paint
    model = widget.train()
    assert "necrosis" in model.classes
    assert "trained on" in widget.status.value

    applied = widget.apply()
    assert applied.name == "necrosis (classifier)"
    ds = applied.metadata["mmnst_path"]["downsample"]
    f = round(ds)
    pred = np.asarray(applied.data) > 0
    truth = _grid(nec, f)[: pred.shape[0], : pred.shape[1]]
    iou = (pred[: truth.shape[0], : truth.shape[1]] & truth).sum() / (
        pred[: truth.shape[0], : truth.shape[1]] | truth
    ).sum()
    assert iou > 0.7, iou
    assert widget.metrics["necrosis_fraction_pct"] == pytest.approx(
        tile.truth["necrosis_fraction_pct"], abs=10
    )
    np.testing.assert_allclose(applied.scale, (ds, ds))
    np.testing.assert_allclose(applied.translate, ((ds - 1) / 2, (ds - 1) / 2))

    viewer.reset_view()
    preview = widget.preview()
    assert preview.name == "necrosis preview"
    assert (np.asarray(preview.data) > 0).any()

    # a view whose corner is off the block grid: the preview's blocks are the applied ones
    viewer.scene.camera.zoom *= 2.7
    viewer.scene.camera.center = (0, 283.0, 301.0)
    box = view_box(viewer, viewer.layers["he"])
    viewer.scene.camera.center = (0, 283.0 + (box.row % f == 0), 301.0 + (box.col % f == 0))
    box = view_box(viewer, viewer.layers["he"])
    assert (box.row % f, box.col % f) != (0, 0), box
    assert box.row > 0, box
    assert box.col > 0, box
    preview = widget.preview()
    r0, c0 = preview.metadata["mmnst_path"]["origin"]
    assert (r0 % f, c0 % f) == (0, 0)
    assert r0 <= box.row < r0 + f
    assert c0 <= box.col < c0 + f
    np.testing.assert_allclose(preview.translate, (r0 + (ds - 1) / 2, c0 + (ds - 1) / 2))
    got = np.asarray(preview.data) > 0
    want = pred[r0 // f : r0 // f + got.shape[0], c0 // f : c0 // f + got.shape[1]]
    inner = (slice(2, -2), slice(2, -2))  # the view's edge blocks lack context / are partial
    assert (got[inner] == want[inner]).mean() > 0.95

    path = widget.save(tmp_path / "necrosis.npz")
    widget.model = None
    widget.load(path)
    again = widget.apply()
    np.testing.assert_array_equal(
        np.asarray(again.data), pred.astype(np.uint8) * np.asarray(again.data).max()
    )
