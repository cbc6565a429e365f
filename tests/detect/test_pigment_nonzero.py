"""``nonzero_rc`` (detect/_pigment_core.py) is ``np.nonzero`` of a 2-D mask: the pigment stage
reads the candidate, hole and margin pixels through it, so a wrong or reordered index would move
features and vetoes to other pixels."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.detect._pigment_core import nonzero_rc


def _same(mask: np.ndarray) -> None:
    got = nonzero_rc(mask)
    want = np.nonzero(mask)
    assert len(got) == 2
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        assert np.array_equal(g, w)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (0, 5), (5, 0), (0, 0), (13, 17), (200, 3)])
@pytest.mark.parametrize("frac", [0.0, 0.01, 0.5, 1.0])
def test_equals_numpy_nonzero(shape: tuple[int, int], frac: float) -> None:
    rng = np.random.default_rng(abs(hash((shape, frac))) % 2**32)
    _same(rng.random(shape) < frac)


def test_views_ints_and_corners() -> None:
    rng = np.random.default_rng(1)
    big = rng.random((40, 60)) < 0.2
    _same(big[5:30, 7:50])  # a window of a tile (not contiguous)
    _same(big[::2, ::3])
    labels = rng.integers(0, 4, (9, 11)).astype(np.int32)  # nonzero labels count, as for np.nonzero
    _same(labels)
    corner = np.zeros((6, 8), bool)
    corner[0, 0] = corner[5, 7] = True
    rows, cols = nonzero_rc(corner)
    assert rows.tolist() == [0, 5]
    assert cols.tolist() == [0, 7]
