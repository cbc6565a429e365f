"""The compiled hole test and Gaussians of the bounded body columns (classify/_pigment_reach_bodies.py,
session 38 H9) equal session 38 H4's numpy reference bit for bit: the shipped H&E model
(``pigment_he.mmnst`` 2) was trained on the reference's values, so any difference would move its mask."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify import _pigment_reach_bodies as rb
from mmnst_path.classify._pigment_reach_bodies import (
    BOUNDED_FEATURES,
    bounded_body_columns,
    enclosed,
    enclosed_reference,
)
from mmnst_path.detect._morphology import _gaussian_at, _numba_kernels


def _reference_columns(total: np.ndarray, brown: np.ndarray, cand: np.ndarray, mpp: float,
                       monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, np.ndarray]]:
    """H4's columns: the one-tap Gaussians at the pixels and the four numpy scans."""
    with monkeypatch.context() as mp:
        mp.setattr(rb, "gaussian_at", _gaussian_at)
        mp.setattr(rb, "compiled_kernel", lambda store, func: None)
        return bounded_body_columns(total, brown, cand, mpp, body_um=3.0, hole_um=6.0)


def _assert_same(fast: list[tuple[str, np.ndarray]], ref: list[tuple[str, np.ndarray]]) -> None:
    assert [n for n, _ in fast] == [n for n, _ in ref] == list(BOUNDED_FEATURES)
    for (_, a), (_, b) in zip(fast, ref, strict=True):
        assert a.dtype == b.dtype == np.float32
        assert a.shape == b.shape
        assert a.tobytes() == b.tobytes()


def test_compiled_path_is_active() -> None:
    """Without numba both sides below would be the reference."""
    assert _numba_kernels() is not None
    assert rb.compiled_kernel(rb._KERNEL, rb._enclosed_py) is not None


@pytest.mark.parametrize("seed", range(8))
def test_enclosed_equals_the_scans_on_random_masks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(40):
        shape = (int(rng.integers(1, 70)), int(rng.integers(1, 70)))
        brown = rng.random(shape) < rng.uniform(0.0, 1.0)
        reach = int(rng.integers(1, 80))  # also beyond the image
        got = enclosed(brown, reach)
        assert got.dtype == bool
        assert np.array_equal(got, enclosed_reference(brown, reach))


def test_enclosed_equals_the_scans_on_adversarial_masks() -> None:
    rings = np.zeros((40, 50), bool)
    rings[::7, :] = True
    rings[:, ::9] = True  # a grid: every cell a hole within 8 px
    border = np.zeros((30, 30), bool)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True  # brown on the image's edge only
    lines = np.zeros((25, 60), bool)
    lines[[3, 20], :] = True  # walls above and below, none left or right: no hole
    masks = [np.zeros((9, 11), bool), np.ones((9, 11), bool), np.ones((1, 1), bool), np.zeros((1, 1), bool),
             np.eye(17, dtype=bool), rings, border, lines, np.ones((1, 40), bool), np.zeros((40, 1), bool),
             rings.T, rings[::-1, 3:]]  # a transposed and a strided view
    checker = np.indices((33, 35)).sum(axis=0) % 2 == 0
    masks += [checker, ~checker]
    for brown in masks:
        for reach in (1, 2, 6, 7, 8, 9, 29, 30, 31, 200):
            assert np.array_equal(enclosed(brown, reach), enclosed_reference(brown, reach)), (brown.shape, reach)
    with pytest.raises(ValueError, match="reach must be at least 1 pixel, got 0"):
        enclosed(rings, 0)
    assert enclosed(np.zeros((0, 5), bool), 3).shape == (0, 5)


@pytest.mark.parametrize("seed", range(6))
def test_columns_equal_the_reference_on_random_blobs(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Brown sheets with holes and specks, and enough candidates for the four-tap Gaussians (>= 4096)."""
    rng = np.random.default_rng(100 + seed)
    shape = (int(rng.integers(90, 160)), int(rng.integers(90, 160)))
    smooth = rng.random(shape)
    for _ in range(3):  # a little spatial structure: blobs and gaps rather than salt
        smooth = (smooth + np.roll(smooth, 1, 0) + np.roll(smooth, 1, 1) + np.roll(smooth, -1, 0)) / 4
    brown = smooth > np.quantile(smooth, rng.uniform(0.3, 0.8))
    total = (rng.random(shape) * 1.5).astype(np.float32)
    total[rng.random(shape) < 0.05] = 0.0
    cand = brown | (rng.random(shape) < 0.3)
    mpp = float(rng.choice([0.25, 0.5, 1.0]))
    fast = bounded_body_columns(total, brown, cand, mpp, body_um=3.0, hole_um=6.0)
    _assert_same(fast, _reference_columns(total, brown, cand, mpp, monkeypatch))
    if mpp <= 0.5 and seed % 2 == 0:
        assert int(np.count_nonzero(brown & cand)) >= 4096  # the four-tap path ran


def test_columns_equal_the_reference_on_adversarial_masks(monkeypatch: pytest.MonkeyPatch) -> None:
    """All brown, brown only at the image's corners and edge (the reflected border of every
    Gaussian), one brown pixel, an image narrower than the Gaussian's radius, no brown candidate."""
    rng = np.random.default_rng(7)
    cases = []
    for shape in ((70, 90), (5, 200), (200, 3), (1, 1)):
        total = (rng.random(shape) * 2.0).astype(np.float32)
        cases.append((total, np.ones(shape, bool), np.ones(shape, bool)))
        edge = np.zeros(shape, bool)
        edge[0, :] = edge[:, -1] = True
        cases.append((total, edge, np.ones(shape, bool)))
        one = np.zeros(shape, bool)
        one[-1, 0] = True
        cases.append((total, one, one.copy()))
        cases.append((total, one, ~one))  # candidates, none brown: all zero
    ring = np.zeros((60, 60), bool)
    ring[10:50, 10:50] = True
    ring[24:36, 24:36] = False  # a ring whose whole hole the 6 µm test sees at 0.5 µm/px
    cases.append((np.full((60, 60), 0.8, np.float32), ring, np.ones((60, 60), bool)))
    for total, brown, cand in cases:
        for mpp in (0.5, 2.0):
            fast = bounded_body_columns(total, brown, cand, mpp, body_um=3.0, hole_um=6.0)
            _assert_same(fast, _reference_columns(total, brown, cand, mpp, monkeypatch))
            assert all(int(a.size) == int(np.count_nonzero(cand)) for _, a in fast)
    ring_holes = bounded_body_columns(*cases[-1], 0.5, body_um=3.0, hole_um=6.0)[3][1]
    assert ring_holes.max() > 0.1  # the hole column is not all zero there
