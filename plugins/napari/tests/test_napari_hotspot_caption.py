"""The hot-spot frame's caption is short (it must fit over a narrow canvas, H8's azure B shot ran
it off the left edge); the whole sentence stays in the results box."""

from __future__ import annotations

import math
from types import SimpleNamespace

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
    r = _result(meets=True, nuclei=612, pct=23.29, whole=True)
    assert _frame_label(r) == "hot spot 23.3 % (n=612)"
    r = _result(meets=True, nuclei=612, pct=math.nan, whole=False)
    assert _frame_label(r) == "hot spot"
    for meets in (False, True):
        assert len(_frame_label(_result(meets=meets, nuclei=99999, pct=100.0, whole=True))) <= MAX_CHARS
