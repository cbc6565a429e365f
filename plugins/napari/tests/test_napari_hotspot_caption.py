"""The hot-spot frame's caption is short (it must fit over a narrow canvas, H8's azure B shot ran
it off the left edge); the whole sentence stays in the results box. The caption stays inside the frame's
top edge, on the canvas, when the image fills the canvas's height."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from mmnst_path_napari._analysis import hotspot_caption, hotspot_label, layers_from_result

MAX_CHARS = 32  # ~ 250 px at the caption's size 10: fits over a 300 px wide canvas


def _result(*, meets: bool, nuclei: int, pct: float, whole: bool) -> SimpleNamespace:
    box = SimpleNamespace(row=0, col=0, height=400, width=300)
    hot = SimpleNamespace(box=box, meets_min_nuclei=meets, nuclei=nuclei, index_pct=pct, whole_image=whole)
    return SimpleNamespace(hotspot=hot, config={"hotspot_min_nuclei": 500}, maps={}, shape=(400, 300),
                           measures=(), cells=[])  # fmt: skip


def _frame_label(result: SimpleNamespace) -> str:
    (layer,) = layers_from_result(result, mpp=0.5)  # type: ignore[arg-type]
    _, kwargs, kind = layer
    assert kind == "shapes"
    assert kwargs["text"]["anchor"] == "upper_left"
    (label,) = kwargs["features"]["label"]
    return str(label)


def test_whole_image_caption_is_short_and_keeps_the_count():
    r = _result(meets=False, nuclei=322, pct=math.nan, whole=True)
    label = _frame_label(r)
    assert label == hotspot_caption(r) == "no hot spot (322 < 500 nuclei)"
    assert len(label) <= MAX_CHARS
    # the results box's sentence keeps the detail
    assert hotspot_label(r) == "densest window, 322 nuclei (< 500 needed): no hot spot, whole image (smaller than the window)"


def test_hot_spot_caption_gives_the_index():
    r = _result(meets=True, nuclei=612, pct=23.29, whole=False)
    assert _frame_label(r) == "hot spot 23.3 % (n=612)"
    r = _result(meets=True, nuclei=612, pct=math.nan, whole=False)
    assert _frame_label(r) == "hot spot"


def test_a_whole_image_hot_spot_says_so():
    """A tile smaller than the hot-spot window with enough nuclei: the library's "hot spot" is the whole
    image (session 34's shot of ki67_pigmented: "hot spot 15.7 %", the tile's own index). The caption and
    the results box say whole image; the box gives no separate "hot spot index" line.
    Mutation caught: the caption or the box without the whole-image words."""
    from mmnst_path_napari._analysis import panel_text

    r = _result(meets=True, nuclei=1009, pct=15.66, whole=True)
    assert _frame_label(r) == "whole image 15.7 % (n=1009)"
    r.metrics = {"ki67_hotspot_index_pct": 15.66}
    text = panel_text(r)  # type: ignore[arg-type]
    assert "hot spot 15.7 % (n=1009), whole image (smaller than the window)" in text
    assert "hot spot index" not in text
    r.hotspot.whole_image = False  # a window inside a larger image: the index line, no sentence
    text = panel_text(r)  # type: ignore[arg-type]
    assert "hot spot index: 15.7 %" in text
    assert "whole image" not in text
    for meets in (False, True):
        assert len(_frame_label(_result(meets=meets, nuclei=99999, pct=100.0, whole=True))) <= MAX_CHARS


def _caption_pixels(viewer, qtbot) -> np.ndarray:  # type: ignore[no-untyped-def]
    """(rows, cols) bool of the canvas's caption pixels in a screenshot: yellow, less the frame's lines (the
    rows and columns holding a long yellow run)."""
    qtbot.wait(100)
    img = viewer.screenshot(canvas_only=True, flash=False)[..., :3].astype(int)
    yellow = (img[..., 0] > 110) & (np.abs(img[..., 0] - img[..., 1]) < 25) & (img[..., 2] < img[..., 0] - 60)
    return yellow & ~(yellow.sum(axis=1) > 150)[:, None] & ~(yellow.sum(axis=0) > 150)[None, :]


@pytest.mark.napari
def test_the_caption_stays_on_the_canvas(make_napari_viewer, qtbot):
    """napari draws an ``upper_left`` caption above the frame: off the canvas when a whole-image frame fills
    the canvas's height (session 33), and its top cut at the canvas's top-left corner when moved down by an
    estimated height (session 34's Plugins-menu shot: brackets and accents are taller than the estimate).
    The caption's pixels in a screenshot lie whole on the canvas (a margin from its top and left edges), at
    two text sizes: inside the frame's top edge when there is no room above it, above the frame (napari's
    place, on the dark canvas) when there is; its start stays on the canvas when the frame's left edge is
    off it; it follows zoom and pan.
    Mutations caught: the caption drawn upwards from an estimated height (session 34's code: its top row is
    the canvas's first at size 10, cut); no translation (zoomed in, off the canvas); a translation that does
    not follow the camera (after zooming out it stays inside the frame although there is room above; after
    zooming back in, off the canvas)."""
    import napari
    from mmnst_path_napari._layers import hotspot_layer, keep_caption_on_canvas

    mpp = 0.5
    viewer = make_napari_viewer(show=True)
    viewer.add_image(np.full((600, 500, 3), 60, np.uint8), rgb=True, scale=(mpp, mpp), units=("µm", "µm"))
    r = _result(meets=False, nuclei=322, pct=math.nan, whole=True)
    r.hotspot.box.height, r.hotspot.box.width = 600, 500
    layer = viewer.add_layer(napari.layers.Layer.create(*hotspot_layer(r.hotspot.box, mpp=mpp, label="Ég (n=1)")))
    keep_caption_on_canvas(layer, viewer)
    viewer.window.resize(900, 700)
    for size in (10.0, 20.0):
        layer.text.size = size
        for shown, room in ((0.5, False), (3.0, True), (0.5, False), (0.98, False)):  # image heights on the canvas
            viewer.reset_view()
            viewer.camera.zoom = viewer.canvas.size[0] / (shown * 600 * mpp)  # 0.5: the frame's top and left off it
            zoom = float(viewer.camera.zoom)
            canvas_top = float(viewer.camera.center[-2]) - viewer.canvas.size[0] / (2 * zoom)
            canvas_left = float(viewer.camera.center[-1]) - viewer.canvas.size[1] / (2 * zoom)
            assert (canvas_top < -0.5 * mpp) == room
            text = _caption_pixels(viewer, qtbot)
            rows, cols = np.flatnonzero(text.any(axis=1)), np.flatnonzero(text.any(axis=0))
            assert rows.size, (size, shown)  # the caption is drawn
            assert rows.min() >= 2, (size, shown, rows.min())  # its top whole on the canvas (not cut)
            assert cols.min() >= 2, (size, shown, cols.min())  # its start too
            frame_top_px = (-0.5 * mpp - canvas_top) * zoom  # canvas px (< 0: off the canvas)
            frame_left_px = (-0.5 * mpp - canvas_left) * zoom
            if room:  # above the frame, on the dark canvas
                assert rows.max() <= frame_top_px, (size, shown, rows.max(), frame_top_px)
            else:  # inside the frame
                assert rows.min() >= frame_top_px, (size, shown, rows.min(), frame_top_px)
            assert cols.min() >= frame_left_px - 1, (size, shown)
    viewer.layers.remove(layer)  # the callbacks go with the layer
    viewer.camera.zoom *= 2
