"""Hovering over the tissue-class layer names the class in the status bar, not only its label number (session 39
H11's walk: "[1800.0, 2200.0]: 1")."""

from __future__ import annotations

import numpy as np
from mmnst_path_napari._classmap import class_map_layer
from napari.layers import Labels


def test_status_names_the_class_under_the_cursor() -> None:
    grid = np.full((6, 8), -1, np.int16)
    grid[:3, :4] = 0
    grid[3:, 4:] = 2
    data, kwargs, kind = class_map_layer(grid, classes=["tumour", "stroma", "necrosis"],
                                         colours=[(200, 40, 40), (60, 170, 90), (230, 0, 200)], downsample=1.0,
                                         origin=(0, 0), mpp=None, name="tissue classes")
    assert kind == "labels"
    layer = Labels(data, **kwargs)
    assert layer.get_status((1, 1))["value"] == "1; class: tumour"
    assert layer.get_status((4, 6))["value"] == "3; class: necrosis"
    assert layer.get_status((0, 7))["value"] == "0; class: not analysed"
