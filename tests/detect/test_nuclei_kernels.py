"""The nucleus detector's float32 Gaussians and its compiled background / seed / contrast passes.

The float32 Gaussian (``nuclei.GAUSSIAN_FLOAT32``, the default) is checked against scipy's
float64 filter with a stated tolerance, and its numba and numpy paths against each other bit for
bit; the background, candidate and contrast kernels against the scipy / numpy expressions they
replace, bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.detect import _morphology, nuclei
from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains, stain_planes

#: |float32 Gaussian - float64 Gaussian| <= GAUSS_TOL_ULP float32 epsilons of max |image|: every
#: product and sum of the two passes is rounded to float32 (the kernel sums to 1, so the
#: rounding errors add up to a few epsilons of the largest value; measured <= 2.5 here)
GAUSS_TOL_ULP = 8.0
EPS32 = float(np.finfo(np.float32).eps)


def _planes(shape: tuple[int, int], seed: int) -> list[np.ndarray]:
    """A smooth plane, a sparse one with large jumps (blobs on zeros, like a background-subtracted
    stain plane) and white noise with a dynamic range of 1e4."""
    rng = np.random.default_rng(seed)
    smooth = ndi.gaussian_filter(rng.random(shape), 1.5).astype(np.float32) * 3
    sparse = np.where(rng.random(shape) < 0.05, rng.uniform(0.1, 2.5, shape), 0.0).astype(np.float32)
    noise = (rng.random(shape) * 10.0 ** rng.uniform(-2, 2, shape)).astype(np.float32)
    return [smooth, sparse, noise]


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 2), (37, 64), (120, 90)])
@pytest.mark.parametrize("sigma", [0.4, 1.5, 3.74, 4.24, 12.0])
def test_float32_gaussian_is_within_tolerance_of_scipy(shape: tuple[int, int], sigma: float) -> None:
    """Against ``ndi.gaussian_filter`` of the float64 image (truncate 4, reflected), radii
    larger than the image included."""
    for plane in _planes(shape, shape[0] * 7 + shape[1]):
        got = nuclei._gaussian32(plane, sigma)
        assert got.dtype == np.float32
        assert got.shape == plane.shape
        ref = ndi.gaussian_filter(plane.astype(np.float64), sigma, truncate=4.0, mode="reflect")
        err = float(np.abs(got.astype(np.float64) - ref).max())
        assert err <= GAUSS_TOL_ULP * EPS32 * float(np.abs(plane).max()), (err, plane.max())


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 2), (37, 64), (120, 90)])
@pytest.mark.parametrize("sigma", [0.4, 1.5, 4.24, 12.0])
def test_float32_gaussian_numba_equals_numpy(monkeypatch: pytest.MonkeyPatch, shape: tuple[int, int],
                                             sigma: float) -> None:
    """The compiled and the numpy float32 paths make the same operations: identical bits."""
    for plane in _planes(shape, 3 + shape[0]):
        monkeypatch.setattr(_morphology, "BACKEND", "auto")
        fast = nuclei._gaussian32(plane, sigma)
        monkeypatch.setattr(_morphology, "BACKEND", "scipy")
        slow = nuclei._gaussian32(plane, sigma)
        np.testing.assert_array_equal(fast, slow)


def test_float32_gaussian_keeps_the_filter_support() -> None:
    """A window of the plane gives the whole plane's values wherever the kernel radius stays
    inside the window (what the halo derivation assumes), and zeros stay zero beyond it."""
    plane = _planes((160, 170), 9)[0]
    sigma = 4.24
    rad = int(4.0 * sigma + 0.5)
    whole = nuclei._gaussian32(plane, sigma)
    win = nuclei._gaussian32(plane[30:140, 25:150], sigma)
    np.testing.assert_array_equal(win[rad:-rad, rad:-rad], whole[30 + rad : 140 - rad, 25 + rad : 150 - rad])
    spot = np.zeros((80, 80), np.float32)
    spot[40, 40] = 1.0
    blurred = nuclei._gaussian32(spot, sigma)
    assert blurred[40 - rad : 41 + rad, 40 - rad : 41 + rad].min() > 0
    assert not blurred[: 40 - rad].any()
    assert not blurred[41 + rad :].any()
    assert not blurred[:, 41 + rad :].any()


def test_float64_switch_gives_scipy_bit_for_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """``GAUSSIAN_FLOAT32 = False`` is the float64 reference filter exactly."""
    plane = _planes((50, 61), 4)[0]
    monkeypatch.setattr(nuclei, "GAUSSIAN_FLOAT32", False)
    np.testing.assert_array_equal(nuclei._gaussian(plane, 4.24),
                                  ndi.gaussian_filter(plane, 4.24, truncate=4.0, mode="reflect"))


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (5, 60), (37, 64), (120, 90)])
@pytest.mark.parametrize("side", [3, 21, 41])
def test_background_by_columns_equals_scipy(shape: tuple[int, int], side: int) -> None:
    """The transposed opening + box mean is scipy's min, max and uniform filters bit for bit,
    sides longer than the image included."""
    kern = _morphology._numba_kernels()
    if kern is None:
        pytest.skip("numba is not installed: the scipy path is the only one")
    for plane in _planes(shape, side + shape[1]):
        expected = ndi.uniform_filter(ndi.maximum_filter(ndi.minimum_filter(plane, side), side), side)
        got = nuclei._background_by_columns(kern, plane, side // 2)
        np.testing.assert_array_equal(got, expected)
        sub = np.maximum(plane - expected, 0.0)
        np.testing.assert_array_equal(nuclei._minus_background(plane, side), sub)


def test_log_contrast_equals_numpy() -> None:
    """The fused contrast is ``log1p(x / c0)`` with numpy's float32 division, within one unit in
    the last place of the float64 ``log1p`` of that quotient, zeros (and a negative zero) exactly.
    (Not numpy's float32 ``log1p`` bit for bit: on AVX-512 machines its SIMD loop is up to 2 units
    off the scalar one the kernel calls, on ~4 % of values.)"""
    kern = _morphology._numba_kernels()
    if kern is None:
        pytest.skip("numba is not installed: the numpy path is the only one")
    rng = np.random.default_rng(2)
    x = (rng.random((70, 83)) ** 3 * 3).astype(np.float32)
    x[rng.random(x.shape) < 0.5] = 0.0
    x[0, 0] = -0.0
    x[1, 1] = 1e-38
    for c0 in (0.1, 0.3):
        quotient = np.divide(x, np.float32(c0))
        expected = np.log1p(quotient.astype(np.float64)).astype(np.float32)
        got = x.copy()
        kern.log_contrast(got, np.float32(c0), got)
        np.testing.assert_array_max_ulp(got, expected, maxulp=1)
        np.testing.assert_array_equal(got == 0, expected == 0)
        assert np.signbit(got[0, 0]) == np.signbit(expected[0, 0])
        assert not np.signbit(got[x == 0.0][1:]).any()


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (2, 3), (40, 57)])
def test_local_max_candidates_equal_the_filter_expression(shape: tuple[int, int]) -> None:
    """Seed candidates: ``best >= min_response`` and the maximum of their 3x3 window, plateaus
    (ties) and borders included, in raster order."""
    kern = _morphology._numba_kernels()
    if kern is None:
        pytest.skip("numba is not installed: the numpy path is the only one")
    rng = np.random.default_rng(shape[0] * 13 + shape[1])
    best = np.round(rng.random(shape) * 4).astype(np.float32) / 4  # many ties
    for min_response in (0.0, 0.3, 2.0):
        cand = (best >= np.float32(min_response)) & (best >= ndi.maximum_filter(best, 3, mode="reflect"))
        rows = np.empty(best.size, np.intp)
        cols = np.empty(best.size, np.intp)
        k = kern.local_max_candidates(best, np.float32(min_response), rows, cols)
        exp_r, exp_c = np.nonzero(cand)
        np.testing.assert_array_equal(rows[:k], exp_r)
        np.testing.assert_array_equal(cols[:k], exp_c)


def test_float32_detection_matches_the_float64_reference_on_a_real_tile(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a real SHIDC Ki67 tile at 0.5 µm/px the float32 Gaussians find the same nuclei as the
    float64 ones: the same count within 1 %, >= 98 % of the nuclei at the same centroid (within
    0.05 px) with the same area, and the same nucleus pixels but for <= 0.05 % of them. (What
    may differ is a knife-edge seed: on this tile one 119 µm² nucleus whose two LoG maxima are
    within rounding of each other is split in two, 50.75 + 70 µm², by the float32 run.)"""
    from PIL import Image

    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "ki67" / "shidc" / "p1_0299_5.jpg"
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB").resize((516, 516), Image.Resampling.BOX))  # 0.21 -> 0.5 µm/px
    hem, dab = stain_planes(rgb)
    out = {}
    for f32 in (True, False):
        monkeypatch.setattr(nuclei, "GAUSSIAN_FLOAT32", f32)
        out[f32] = nuclei_from_stains(hem, dab, mpp=0.5, params=NucleusParams(), return_labels=True)
    a, b = out[True], out[False]
    assert len(b) > 150
    assert abs(len(a) - len(b)) <= 0.01 * len(b)
    dist = np.hypot(a.row[:, None] - b.row[None], a.col[:, None] - b.col[None])
    nearest = dist.argmin(1)
    moved = dist[np.arange(len(a)), nearest]
    same = (moved <= 0.05) & (a.area_um2 == b.area_um2[nearest])
    assert same.mean() >= 0.98
    assert a.labels is not None
    assert b.labels is not None
    fg_a, fg_b = a.labels > 0, b.labels > 0
    assert np.count_nonzero(fg_a != fg_b) <= 0.0005 * np.count_nonzero(fg_b)
