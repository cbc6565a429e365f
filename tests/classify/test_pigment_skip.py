"""The pigment features' disk extremes at the candidate pixels only (issue #16): the values of the
whole-window filter, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify import _pigment_at
from mmnst_path.classify._pigment_at import disk_extreme_at
from mmnst_path.detect._morphology import _disk, _disk_extreme


@pytest.mark.parametrize("radius", [1.0, 2.0, 2.5, 5.0, 7.3])
@pytest.mark.parametrize("op", ["max", "min"])
def test_disk_extreme_at_equals_whole_filter(radius: float, op: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(int(radius * 10) + (op == "max"))
    img = rng.gamma(2.0, 0.2, size=(161, 119)).astype(np.float32)
    img[40:44, 10:13] = img.max() + 1.0  # a plateau: ties
    disk = _disk(radius)
    full = _disk_extreme(img, disk, op=op)
    # sparse points, every border row / column and corner among them (the reflected footprint)
    pick = rng.random(img.shape) < 0.02
    pick[[0, -1], :] = True
    pick[:, [0, -1]] = True
    at = np.nonzero(pick)
    if _pigment_at._kernel() is not None:  # sparse points: the at-points kernel, not the whole filter
        monkeypatch.setattr(_pigment_at, "_disk_extreme", None)
    got = disk_extreme_at(img, disk, at, op=op)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, full[at])


def test_disk_extreme_at_dense_points_use_the_whole_filter() -> None:
    rng = np.random.default_rng(3)
    img = rng.random((50, 70)).astype(np.float32)
    disk = _disk(5.0)
    at = np.nonzero(np.ones(img.shape, bool))
    np.testing.assert_array_equal(disk_extreme_at(img, disk, at, op="max"), _disk_extreme(img, disk, op="max")[at])


def test_disk_extreme_at_differs_from_a_wrong_border() -> None:
    # the corner's extreme depends on the reflected rows: a constant-0 border would give 0 here
    img = np.full((30, 30), 2.0, np.float32)
    img[0, 0] = 5.0
    at = (np.array([0, 29]), np.array([0, 29]))
    got = disk_extreme_at(img, _disk(3.0), at, op="min")
    assert got.tolist() == [2.0, 2.0]
    got = disk_extreme_at(img, _disk(3.0), at, op="max")
    assert got.tolist() == [5.0, 2.0]


def test_disk_extreme_at_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    # the scipy backend (numba off): the whole-window filter, the same values
    from mmnst_path.detect import _morphology

    monkeypatch.setattr(_morphology, "BACKEND", "scipy")
    assert _pigment_at._kernel() is None
    rng = np.random.default_rng(7)
    img = rng.random((40, 45)).astype(np.float32)
    at = (np.array([0, 10, 39]), np.array([44, 3, 0]))
    disk = _disk(2.0)
    np.testing.assert_array_equal(disk_extreme_at(img, disk, at, op="min"), _disk_extreme(img, disk, op="min")[at])
