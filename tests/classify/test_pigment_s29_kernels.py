"""Session 29 (#16): the pixel model's cheaper feature pieces give the reference values bit for bit.

Each compiled or rewritten piece is held equal to the general code it replaces on random inputs
with the edge cases that differ: no candidate, candidates on the tile border, 1-px and thin tiles,
kernels wider than the tile, +0.0 / -0.0 ties of an extreme, rows of -0.0 in a sum."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify import _pigment_gauss
from mmnst_path.classify._pigment_at import disk_extreme_at
from mmnst_path.classify._pigment_bands import _gather, _sum3
from mmnst_path.classify._pigment_gauss import gaussian_at
from mmnst_path.classify._pigment_windows import _block_any
from mmnst_path.detect._morphology import _disk_extreme, _gaussian_at
from mmnst_path.detect._pigment_core import _disk_of, nonzero_rc

SHAPES = [(1, 1), (1, 9), (9, 1), (3, 40), (40, 3), (37, 61), (120, 90)]


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint32 if a.dtype == np.float32 else np.uint64)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sigma", [0.7, 2.0, 2.1, 5.0, 12.0])
def test_gaussian_four_taps_a_pass_equals_the_general_kernel(shape: tuple[int, int], sigma: float) -> None:
    rng = np.random.default_rng(hash((shape, sigma)) % 2**32)
    img = (rng.random(shape) * rng.choice([1e-3, 1.0, 30.0], shape)).astype(np.float32)
    for share in (0.0, 0.05, 0.4, 1.0):
        where = rng.random(shape) < share
        where[0, -1] |= share > 0  # a candidate on the border (the reflected columns and rows)
        at = nonzero_rc(where)
        ref = _gaussian_at(img, sigma, at)
        got = gaussian_at(img, sigma, at, small=0)  # the four-tap kernel whatever the count
        assert got.dtype == np.float32
        np.testing.assert_array_equal(_bits(got), _bits(ref), err_msg=f"{shape} {sigma} {share}")


def test_gaussian_of_a_strided_window_and_no_blur() -> None:
    rng = np.random.default_rng(3)
    tile = rng.random((80, 70)).astype(np.float32)
    win = tile[5:60, 7:50]  # not C-contiguous: copied first, the same values
    at = nonzero_rc(rng.random(win.shape) < 0.2)
    np.testing.assert_array_equal(_bits(gaussian_at(np.ascontiguousarray(win), 5.0, at, small=0)),
                                  _bits(_gaussian_at(np.ascontiguousarray(win), 5.0, at)))
    np.testing.assert_array_equal(gaussian_at(win, 0.2, at, small=0), win[at])  # sigma < 0.3: no blur


@pytest.mark.parametrize("sigma", [2.0, 12.0])
def test_gaussian_at_either_side_of_the_small_set_threshold(sigma: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer than ``_SMALL`` candidates take the one-tap kernel, ``_SMALL`` or more the four-tap one;
    both give the same bits as the general kernel on either side of the threshold."""
    rng = np.random.default_rng(29)
    img = (rng.random((97, 103)) * 20.0).astype(np.float32)
    calls: list[int] = []

    def one_tap(image: np.ndarray, s: float, at: tuple[np.ndarray, ...]) -> np.ndarray:
        calls.append(at[0].shape[0])
        return _gaussian_at(image, s, at)

    monkeypatch.setattr(_pigment_gauss, "_gaussian_at", one_tap)
    for k in (_pigment_gauss._SMALL - 1, _pigment_gauss._SMALL, _pigment_gauss._SMALL + 1):
        flat = np.sort(rng.choice(img.size, k, replace=False))
        at = (flat // img.shape[1], flat % img.shape[1])
        calls.clear()
        got = gaussian_at(img, sigma, at)
        assert calls == ([k] if k < _pigment_gauss._SMALL else []), k  # which kernel ran
        np.testing.assert_array_equal(_bits(got), _bits(_gaussian_at(img, sigma, at)), err_msg=str(k))
        np.testing.assert_array_equal(_bits(gaussian_at(img, sigma, at, small=0)), _bits(got), err_msg=str(k))


def test_sum3_is_numpys_row_sum_bit_for_bit() -> None:
    rng = np.random.default_rng(4)
    v = (rng.standard_normal((5000, 3)) * rng.choice([1e-30, 1e-3, 1.0, 1e30], (5000, 3))).astype(np.float32)
    v[:10] = np.float32(-0.0)  # numpy adds from +0: a row of -0.0 sums to +0.0
    v[10] = [np.float32(-0.0), np.float32(0.0), np.float32(-0.0)]
    v[11] = [np.float32(3e38), np.float32(3e38), np.float32(-3e38)]  # the order of the additions shows
    v[12] = [np.inf, -np.inf, 1.0]
    np.testing.assert_array_equal(_bits(_sum3(v)), _bits(v.sum(axis=1)))
    assert np.signbit(v[:10].sum(axis=1)).sum() == 0
    assert np.signbit(_sum3(v[:10])).sum() == 0


def test_gather_by_flat_index_equals_fancy_indexing() -> None:
    rng = np.random.default_rng(5)
    img3 = rng.random((30, 20, 3)).astype(np.float32)
    where = rng.random((30, 20)) < 0.3
    at = nonzero_rc(where)
    flat = np.flatnonzero(where)
    np.testing.assert_array_equal(_gather(img3, at, flat), img3[where])
    np.testing.assert_array_equal(_gather(img3[..., 0].copy(), at, flat), img3[..., 0][where])
    view = img3[:, :, 1]  # not C-contiguous: the fancy index
    np.testing.assert_array_equal(_gather(view, at, flat), view[where])
    none = np.zeros((30, 20), dtype=bool)
    assert _gather(img3, nonzero_rc(none), np.flatnonzero(none)).shape == (0, 3)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("b", [1, 2, 3, 6])
def test_block_any_equals_the_padded_reduction(shape: tuple[int, int], b: int) -> None:
    rng = np.random.default_rng(b)
    for share in (0.0, 0.01, 0.3):
        where = rng.random(shape) < share
        m, n = shape
        mb, nb = -(-m // b), -(-n // b)
        pad = np.zeros((mb * b, nb * b), dtype=bool)
        pad[:m, :n] = where
        ref = pad.reshape(mb, b, nb, b).any(axis=(1, 3)).astype(np.uint8)
        got = _block_any(where, b)
        assert got.dtype == np.uint8
        assert got.flags.c_contiguous
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("radius", [1.0, 2.0, 5.0])
@pytest.mark.parametrize("op", ["max", "min"])
def test_disk_extreme_at_points_keeps_the_whole_window_ties(radius: float, op: str) -> None:
    rng = np.random.default_rng(int(radius * 10) + (op == "max"))
    img = rng.random((64, 90)).astype(np.float32)
    img[rng.random(img.shape) < 0.3] = np.float32(0.0)  # +0.0 / -0.0 ties: the first one visited is kept
    img[rng.random(img.shape) < 0.3] = np.float32(-0.0)
    fp = _disk_of(radius)
    for share in (0.0, 0.02, 0.1):  # (sparse: the at-points kernel, not the whole-window filter)
        where = rng.random(img.shape) < share
        where[0, 0] = where[-1, -1] = where[0, -1] = share > 0  # corners: reflected rows and columns
        at = nonzero_rc(where)
        ref = _disk_extreme(img, fp, op=op)[at]
        np.testing.assert_array_equal(_bits(disk_extreme_at(img, fp, at, op=op)), _bits(ref))
