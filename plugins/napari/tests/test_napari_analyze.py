"""Analyze widget on a generated sample tile: layers and numbers equal the library's; a
screenshot of the viewer shows the class colours where the nuclei are."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from mmnst_path_napari._layers import exact_raster
from mmnst_path_napari._widgets import AnalyzeWidget
from mmnst_path_napari._widgets._analyze import Cancelled, run_in_thread

from mmnst_path import Box, open_slide
from mmnst_path.pipeline import analyze_region

RED = lambda px: (px[..., 0] > 200) & (px[..., 1] < 70) & (px[..., 2] < 70)  # noqa: E731
BLUE = lambda px: (px[..., 2] > 200) & (px[..., 0] < 70) & (px[..., 1] < 140)  # noqa: E731


def test_run_in_thread_reports_progress_returns_and_cancels():
    cancel = threading.Event()

    def fn(progress):
        for i in range(3):
            progress(i + 1, 3)
        return "result"

    gen = run_in_thread(fn, cancel)
    seen = []
    while True:
        try:
            seen.append(next(gen))
        except StopIteration as stop:
            returned = stop.value
            break
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert returned == "result"

    def slow(progress):
        while True:
            progress(0, 1)
            time.sleep(0.01)

    cancel.set()
    with pytest.raises(Cancelled):
        list(run_in_thread(slow, cancel))


@pytest.mark.napari
def test_analyze_sample_tile_matches_library_and_screenshot_shows_nuclei(
    make_napari_viewer, qtbot, sample_tiles, tmp_path
):
    path = sample_tiles / "ki67_recurrence.tif"
    viewer = make_napari_viewer(show=True)
    (image,) = viewer.open(str(path), plugin="mmnst-path-napari")
    widget = AnalyzeWidget(viewer)
    viewer.window.add_dock_widget(widget)
    assert widget.image.value is image
    widget.region.value = "whole image"
    worker = widget.run()
    assert worker is not None, widget.controls.status.value
    qtbot.waitUntil(lambda: widget.result is not None or widget.controls.status.value.startswith("error"),
                    timeout=180_000)  # fmt: skip
    assert widget.result is not None, widget.controls.status.value

    # the library on the same pixels with the same configuration
    reader = open_slide(str(path))
    rgb = reader.read_region(Box(0, 0, *reader.shape), 0)
    expected = analyze_region(rgb, widget.config(), mpp=reader.mpp)
    got = widget.result
    assert got.metrics["ki67_index_pct"] == pytest.approx(expected.metrics["ki67_index_pct"])
    assert got.metrics["ki67_positive"] == expected.metrics["ki67_positive"] > 0
    assert got.metrics["ki67_negative"] == expected.metrics["ki67_negative"] > 0

    nuclei = viewer.layers["nuclei"]
    assert len(nuclei.data) == len(expected.cells)
    order = np.lexsort((nuclei.data[:, 1], nuclei.data[:, 0]))
    exp_order = np.lexsort((expected.cells.col, expected.cells.row))
    np.testing.assert_allclose(nuclei.data[order, 0], expected.cells.row[exp_order])
    np.testing.assert_allclose(nuclei.data[order, 1], expected.cells.col[exp_order])
    assert list(np.asarray(nuclei.features["class"])[order]) == list(expected.cells.class_names()[exp_order])
    np.testing.assert_allclose(nuclei.scale, image.scale)
    assert {"class", "dab_od", "area_um2"} <= set(nuclei.features.columns)

    mel = viewer.layers["melanin fraction"]
    m = expected.maps["melanin"]
    # the map is repeated k x k and cropped to the image: same values, exactly the image's extent
    k = mel.data.shape[0] // m.image.shape[0] if mel.data.shape[0] >= m.image.shape[0] else 1
    up = np.repeat(np.repeat(m.image, k, 0), k, 1)[: mel.data.shape[0], : mel.data.shape[1]]
    low = mel.contrast_limits[0]
    np.testing.assert_array_equal(np.nan_to_num(up, nan=low), mel.data)
    np.testing.assert_allclose(
        np.asarray(mel.extent.world)[1] + np.asarray(mel.scale) / 2,
        np.asarray(image.extent.world)[1] + 0.5 * np.asarray(image.scale),
    )
    t = exact_raster(m.image, downsample=m.downsample, shape=reader.shape, mpp=reader.mpp)[1]
    np.testing.assert_allclose(mel.scale, t["scale"])
    np.testing.assert_allclose(mel.translate, t["translate"])
    assert "Ki67 heatmap" in viewer.layers
    hot = viewer.layers["Ki67 hot spot"]
    h = expected.hotspot.box
    np.testing.assert_allclose(hot.data[0].min(axis=0), [h.row - 0.5, h.col - 0.5])
    np.testing.assert_allclose(hot.data[0].max(axis=0), [h.row_end - 0.5, h.col_end - 0.5])
    index = f"{expected.metrics['ki67_index_pct']:.1f} %"
    assert index in widget.results.value
    assert f"positive {expected.metrics['ki67_positive']}" in widget.results.value

    # screenshot: class colours on the canvas where positive / negative nuclei are
    for name in ("melanin fraction", "Ki67 heatmap", "Ki67 hot spot"):
        viewer.layers[name].visible = False
    viewer.reset_view()
    qtbot.wait(200)
    shot = np.asarray(viewer.screenshot(canvas_only=True, flash=False))
    from skimage.io import imsave

    imsave(tmp_path / "analyze_screenshot.png", shot, check_contrast=False)
    print(f"screenshot: {tmp_path / 'analyze_screenshot.png'}")
    h_px, w_px = shot.shape[:2]
    zoom = viewer.scene.camera.zoom * h_px / viewer.canvas.size[0]  # screen px per world unit
    centre = np.asarray(viewer.scene.camera.center)[-2:]
    world = nuclei.data * np.asarray(nuclei.scale)
    screen = np.rint((world - centre) * zoom + np.array([h_px, w_px]) / 2).astype(int)
    cls = np.asarray(nuclei.features["class"])
    ring = max(3, int(np.ceil(nuclei.size.max() * nuclei.scale[0] * zoom / 2)) + 1)

    def hit_fraction(img, which, colour):
        sel = screen[cls == which]
        hits = [
            colour(img[max(0, r - ring) : r + ring + 1, max(0, c - ring) : c + ring + 1]).any()
            for r, c in sel
        ]
        return float(np.mean(hits))

    assert hit_fraction(shot, "positive", RED) > 0.8
    assert hit_fraction(shot, "negative", BLUE) > 0.8
    nuclei.visible = False
    qtbot.wait(100)
    bare = np.asarray(viewer.screenshot(canvas_only=True, flash=False))
    assert hit_fraction(bare, "positive", RED) < 0.1  # the colours come from the overlay
    assert hit_fraction(bare, "negative", BLUE) < 0.1
