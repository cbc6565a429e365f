"""The hot-spot frame's caption kept whole on the canvas at every zoom, pan and canvas size (napari draws a
Shapes layer's text at a fixed anchor of the shape; this moves it where the canvas shows it)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["CAPTION_MARGIN_PX", "CAPTION_PX_PER_SIZE", "keep_caption_on_canvas"]

#: canvas px a caption line may take per point of its text size (glyphs with accents, brackets and descenders
#: measured at 1.7-2.0 px under Xvfb; taken high: it only decides whether the caption fits above the frame) and
#: the px left between the caption and the frame's or the canvas's edge
CAPTION_PX_PER_SIZE = 2.2
CAPTION_MARGIN_PX = 3.0


def keep_caption_on_canvas(layer: Any, viewer: Any) -> None:
    """Keep a hot-spot frame's caption whole on the canvas at every zoom, pan and canvas size.

    Where the canvas shows room above the frame the caption stays where napari's ``upper_left`` anchor
    draws it: above the frame, on the dark canvas, clear of the nuclei rings. Otherwise (the image fills
    the canvas's height, or the frame's top is off the canvas) it hangs from a point just inside the
    frame's top edge, or the canvas's top when that edge is off the canvas: the ``lower_left`` anchor,
    which napari draws downwards from the anchor, moved up by ``text.translation`` (data px) to that
    point, so the caption's top is there whatever the font's height (session 34's shot: drawn upwards
    from an estimated height, the caption's top was cut at the canvas's top-left corner). Its start
    likewise keeps to the canvas's left edge when the frame's is off it. The callbacks are dropped when
    the layer leaves the viewer."""
    scene = getattr(viewer, "scene", None)  # napari >= 0.9 (viewer.camera is deprecated there)
    camera = scene.camera if scene is not None else viewer.camera

    def follow(*_: Any) -> None:
        per_px = 1.0 / float(camera.zoom)  # world units per canvas px
        frame = np.asarray(layer.data[0], dtype=np.float64)[:, -2:]
        corner = np.asarray(layer.data_to_world(frame.min(axis=0)), dtype=np.float64)[-2:]  # top, left (world)
        canvas = np.asarray(camera.center, dtype=np.float64)[-2:] - np.asarray(viewer.canvas.size[:2]) / 2 * per_px
        scale = np.asarray(layer.scale, dtype=np.float64)[-2:]
        # where the frame's top-left corner is off the canvas (zoomed in, panned): from the canvas's edge
        off = np.maximum(0.0, canvas - corner) / scale
        room = corner[0] - canvas[0] >= (CAPTION_PX_PER_SIZE * float(layer.text.size) + CAPTION_MARGIN_PX) * per_px
        anchor = "upper_left" if room else "lower_left"
        if layer.text.anchor != anchor:
            layer.text.anchor = anchor
        if room:  # above the frame: napari's place
            layer.text.translation = np.array([0.0, off[1]])
            return
        line = float(np.max(layer.edge_width, initial=0.0)) / 2
        height = float(np.ptp(frame[:, 0]))
        # the caption's top: inside the frame by the margin and half its line, never past its bottom edge
        top = min(CAPTION_MARGIN_PX * per_px / scale[0] + line + off[0], height)
        left = min(CAPTION_MARGIN_PX * per_px / scale[1] + line + off[1], float(np.ptp(frame[:, 1])))
        layer.text.translation = np.array([top - height, left])  # (lower_left: from the frame's bottom-left)

    events = (camera.events.zoom, camera.events.center, viewer.canvas.events.size, layer.events.data)

    def drop(event: Any) -> None:
        gone = getattr(event, "value", None)  # (a widget opened from the Plugins menu holds a proxy of the layer)
        if gone is not None and getattr(gone, "unique_id", gone) == getattr(layer, "unique_id", layer):
            for ev in events:
                ev.disconnect(follow)
            viewer.layers.events.removed.disconnect(drop)

    for ev in events:
        ev.connect(follow)
    viewer.layers.events.removed.connect(drop)
    follow()
