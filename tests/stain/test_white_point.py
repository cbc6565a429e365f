"""The white point module (:mod:`mmnst_path.stain._white_point`, split out of :mod:`mmnst_path.stain.guess`):
every name stays importable from ``guess`` as the very same object, and a tinted glass is found."""

from __future__ import annotations

import numpy as np

from mmnst_path.stain import _white_point, guess


def test_guess_re_exports_the_white_point_names_unchanged():
    for name in _white_point.__all__:
        assert getattr(guess, name) is getattr(_white_point, name)
        assert name in guess.__all__
    assert not [n for n in _white_point.__all__ if n.startswith("_")]


def test_white_point_of_tinted_glass_beside_tissue():
    rgb = np.full((40, 40, 3), (250, 240, 200), np.uint8)
    rgb[:20] = (120, 60, 140)
    tissue = np.zeros((40, 40), bool)
    tissue[:20] = True
    assert _white_point.estimate_white_point(rgb, tissue) == (250.0, 240.0, 200.0)
    assert _white_point.estimate_white_point(rgb[:20], tissue[:20], plateau=None) is None
