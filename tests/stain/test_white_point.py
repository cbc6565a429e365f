"""The white point module (:mod:`mmnst_path.stain._white_point`, split out of :mod:`mmnst_path.stain.guess`):
a tinted glass is found (the re-exports from ``guess``: tests/test_module_splits.py)."""

from __future__ import annotations

import numpy as np

from mmnst_path.stain import _white_point


def test_white_point_of_tinted_glass_beside_tissue():
    rgb = np.full((40, 40, 3), (250, 240, 200), np.uint8)
    rgb[:20] = (120, 60, 140)
    tissue = np.zeros((40, 40), bool)
    tissue[:20] = True
    assert _white_point.estimate_white_point(rgb, tissue) == (250.0, 240.0, 200.0)
    assert _white_point.estimate_white_point(rgb[:20], tissue[:20], plateau=None) is None
