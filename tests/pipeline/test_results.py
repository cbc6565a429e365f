"""Slide-wide results from tile outputs (:mod:`mmnst_path.pipeline._results`, split out of
:mod:`mmnst_path.pipeline._slide`; that the slide code uses these very
functions: tests/test_module_splits.py)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from mmnst_path.pipeline import _results


def test_maps_are_area_weighted_fractions_clipped_to_the_slide():
    a = SimpleNamespace(map_origin=(0, 0), map_area=np.full((2, 2), 4.0), map_sums={"m": np.full((2, 2), 1.0)})
    b = SimpleNamespace(map_origin=(1, 1), map_area=np.full((2, 2), 4.0), map_sums={"m": np.full((2, 2), 3.0)})
    skip = SimpleNamespace(map_origin=None, map_area=None, map_sums={})
    maps = _results._assemble_maps([a, b, skip], (20, 20), 10.0)  # a 2 x 2 map: b's last row / column fall off
    img = maps["m"].image
    assert img.shape == (2, 2)
    assert img.dtype == np.float32
    assert img[0, 0] == np.float32(0.25)
    assert img[1, 1] == np.float32(0.5)
    assert maps["m"].downsample == 10.0


def test_metrics_without_counts_hold_only_the_tissue_area():
    assert math.isnan(_results._metrics({}, None)["tissue_area_mm2"])
    assert _results._metrics({"ki67": None}, 2.5) == {"tissue_area_mm2": 2.5}
