"""The fast morphology/smoothing helpers are bit-identical to the scipy calls they replace."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.detect._morphology import _disk, _disk_extreme, _smoothed_at


@pytest.mark.parametrize("backend", ["auto", "scipy"])
@pytest.mark.parametrize("radius", [0.4, 1, 1.5, 2, 2.5, 3, 4, 6, 8])
def test_disk_extreme_equals_scipy_morphology(radius: float, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled disk extreme (numba) and the numpy chord passes both equal scipy's filters:
    float32 (signed values), uint8, int32 labels and bool, reflected and constant borders."""
    from mmnst_path.detect import _morphology

    monkeypatch.setattr(_morphology, "BACKEND", backend)
    rng = np.random.default_rng(int(radius * 10))
    d = _disk(radius)
    for shape in [(200, 300), (5, 7), (64, 64), (20, 19), (30, 90)]:
        for other in ((rng.random(shape) * 255).astype(np.uint8), rng.integers(0, 50, shape).astype(np.int32),
                      (rng.random(shape) - 0.5).astype(np.float32)):
            for op, filt in (("max", ndi.maximum_filter), ("min", ndi.minimum_filter)):
                for mode in ("reflect", "constant"):
                    assert np.array_equal(_disk_extreme(other, d, op=op, mode=mode),
                                          filt(other, footprint=d, mode=mode, cval=0)), (shape, other.dtype, op, mode)
        x = rng.random(shape).astype(np.float32)
        b = rng.random(shape) > 0.4
        assert np.array_equal(_disk_extreme(x, d, op="max"), ndi.grey_dilation(x, footprint=d))
        opened = _disk_extreme(_disk_extreme(x, d, op="min"), d, op="max")
        assert np.array_equal(opened, ndi.grey_opening(x, footprint=d))
        assert np.array_equal(_disk_extreme(b, d, op="max", mode="constant"), ndi.binary_dilation(b, structure=d))
        b_open = _disk_extreme(_disk_extreme(b, d, op="min", mode="constant"), d, op="max", mode="constant")
        assert np.array_equal(b_open, ndi.binary_opening(b, structure=d))


def test_smoothed_at_equals_a_full_gaussian_at_the_pixels_asked() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        shape = (int(rng.integers(5, 300)), int(rng.integers(5, 300)))
        x = rng.random(shape).astype(np.float32)
        where = rng.random(shape) < rng.choice([0.0005, 0.002, 0.05, 0.5])
        where[0, 0] = True
        for sigma in (0.5, 2.0, 6.0):
            expected = ndi.gaussian_filter(x, sigma, truncate=4.0)[where]
            assert np.array_equal(_smoothed_at((x,), sigma, where)[0], expected)


@pytest.mark.parametrize("backend", ["auto", "scipy"])
def test_gaussian_equals_scipy_bit_for_bit(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The numba Gaussian (when numba is installed) and the scipy fallback give scipy's exact
    float32 values, including reflected borders wider than the image and non-contiguous views."""
    from mmnst_path.detect import _morphology

    monkeypatch.setattr(_morphology, "BACKEND", backend)
    rng = np.random.default_rng(7)
    for shape in [(1, 1), (3, 40), (40, 3), (37, 29), (256, 300)]:
        x = (rng.random(shape) * rng.choice([1e-3, 1.0, 50.0])).astype(np.float32)
        for sigma in (0.3, 1.5, 3.74, 7.07):
            expected = ndi.gaussian_filter(x, sigma, truncate=4.0, mode="reflect")
            got = _morphology._gaussian(x, sigma)
            assert got.dtype == np.float32
            assert np.array_equal(got, expected), (shape, sigma)
        view = x[::2, 1:]
        assert np.array_equal(_morphology._gaussian(view, 2.0), ndi.gaussian_filter(view, 2.0, truncate=4.0))
    x64 = rng.random((30, 30))  # other dtypes: scipy itself
    assert np.array_equal(_morphology._gaussian(x64, 2.0), ndi.gaussian_filter(x64, 2.0, truncate=4.0))


def test_gaussian_of_sparse_planes_equals_scipy_bit_for_bit() -> None:
    """The compiled Gaussian skips the spans that are +0.0 over the whole kernel (white margins,
    clipped background): the float32 bits (signed zeros included) stay scipy's, for zero
    margins on any side, zero rows and columns, blobs near the edges, -0.0 values, planes all
    zero and kernels wider than the plane."""
    from mmnst_path.detect import _morphology

    rng = np.random.default_rng(16)
    for trial in range(120):
        shape = (int(rng.integers(1, 90)), int(rng.integers(1, 90)))
        x = (rng.random(shape) * rng.choice([1e-3, 1.0, 50.0])).astype(np.float32)
        x[rng.random(shape) < rng.choice([0.0, 0.5, 0.95, 1.0])] = 0.0
        r0, r1 = sorted(rng.integers(0, shape[0] + 1, 2))
        c0, c1 = sorted(rng.integers(0, shape[1] + 1, 2))
        x[:r0] = 0.0
        x[r1:] = 0.0
        x[:, :c0] = 0.0
        x[:, c1:] = 0.0
        if trial % 7 == 0:
            x[rng.random(shape) < 0.05] = np.float32(-0.0)
        for sigma in (0.5, 1.5, 4.24, 12.0):
            expected = ndi.gaussian_filter(x, sigma, truncate=4.0, mode="reflect")
            got = _morphology._gaussian(x, sigma)
            np.testing.assert_array_equal(got.view(np.int32), expected.view(np.int32), err_msg=f"{shape} {sigma}")


def test_numba_kernels_is_used_when_available() -> None:
    """Guards the fast path: when numba imports, the float32 filter goes through the kernels."""
    from mmnst_path.detect import _morphology

    try:
        import numba  # noqa: F401
    except ImportError:
        assert _morphology._numba_kernels() is None
        return
    assert _morphology._numba_kernels() is not None


@pytest.mark.parametrize("backend", ["auto", "scipy"])
def test_extreme1d_and_square_extreme_equal_scipy(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Running min/max (numba van Herk / Gil-Werman, or scipy) equal scipy's 1-D and square
    filters for float32 and uint8, reflect and constant borders, windows wider than the image."""
    from mmnst_path.detect import _morphology

    monkeypatch.setattr(_morphology, "BACKEND", backend)
    rng = np.random.default_rng(3)
    for shape in [(1, 1), (2, 9), (9, 2), (31, 47)]:
        for dtype in (np.float32, np.uint8):
            x = (rng.random(shape) * 200).astype(dtype)
            for size in (3, 5, 41):
                for op in ("min", "max"):
                    f1 = ndi.maximum_filter1d if op == "max" else ndi.minimum_filter1d
                    for axis in (0, 1):
                        for mode in ("reflect", "constant"):
                            got = _morphology._extreme1d(x, size, axis=axis, op=op, mode=mode)
                            assert np.array_equal(got, f1(x, size, axis=axis, mode=mode, cval=0))
                    f2 = ndi.maximum_filter if op == "max" else ndi.minimum_filter
                    assert np.array_equal(_morphology._square_extreme(x, size, op=op), f2(x, size=size))


@pytest.mark.parametrize("backend", ["auto", "scipy"])
@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.float32])
def test_square_extreme_of_labels_equals_scipy(backend: str, dtype: type, monkeypatch: pytest.MonkeyPatch) -> None:
    """Running max / min of a label image (int32), as a ring of neighbours is found around
    nuclei, equals scipy's maximum_filter / minimum_filter (reflect) bit for bit."""
    from mmnst_path.detect import _morphology

    monkeypatch.setattr(_morphology, "BACKEND", backend)
    rng = np.random.default_rng(3)
    for shape in [(1, 1), (5, 3), (64, 80), (200, 150)]:
        labels = (rng.integers(0, 50, shape) * (rng.random(shape) < 0.3)).astype(dtype)
        for size in (3, 9, 21):
            got = _morphology._square_extreme(labels, size, op="max")
            assert got.dtype == labels.dtype
            assert np.array_equal(got, ndi.maximum_filter(labels, size=size))
            assert np.array_equal(_morphology._square_extreme(labels, size, op="min"), ndi.minimum_filter(labels, size=size))


@pytest.mark.parametrize("backend", ["auto", "scipy"])
def test_uniform_equals_scipy_bit_for_bit(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The box mean of the background estimate equals scipy's uniform_filter exactly, windows
    wider than the image (reflected several times) and non-contiguous views included."""
    from mmnst_path.detect import _morphology

    monkeypatch.setattr(_morphology, "BACKEND", backend)
    rng = np.random.default_rng(9)
    for shape in [(1, 1), (2, 5), (41, 3), (64, 80), (300, 257)]:
        x = (rng.random(shape) * rng.choice([1e-3, 1.0, 40.0])).astype(np.float32)
        for size in (3, 21, 41, 101):
            got = _morphology._uniform(x, size)
            assert got.dtype == np.float32
            assert np.array_equal(got, ndi.uniform_filter(x, size=size)), (shape, size)
        view = x[::2, 1:]
        assert np.array_equal(_morphology._uniform(view, 41), ndi.uniform_filter(view, size=41))
    x64 = rng.random((30, 30))  # other dtypes and even sizes: scipy itself
    assert np.array_equal(_morphology._uniform(x64, 5), ndi.uniform_filter(x64, size=5))
    x32 = x64.astype(np.float32)
    assert np.array_equal(_morphology._uniform(x32, 4), ndi.uniform_filter(x32, size=4))


@pytest.mark.parametrize("backend", ["auto", "scipy"])
def test_gaussian_at_pixels_equals_the_whole_image_filter(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``_gaussian_at`` (the Gaussian computed at some pixels only) gives scipy's whole-image
    values there to the bit: pixels at every border, kernels wider than the image, sparse and
    dense pixel sets, rows holding one pixel or all of them, sigma below the blur threshold."""
    from mmnst_path.detect import _morphology

    monkeypatch.setattr(_morphology, "BACKEND", backend)
    rng = np.random.default_rng(11)
    shapes = [(1, 1), (2, 9), (9, 2), (23, 17), (64, 200), (180, 150)]
    for shape in shapes:
        x = (rng.random(shape) * rng.choice([1e-3, 1.0, 40.0])).astype(np.float32)
        for density in (0.003, 0.05, 0.6, 1.0):
            where = rng.random(shape) < density
            where[0, 0] = where[-1, -1] = where[0, -1] = where[-1, 0] = True
            where[shape[0] // 2, :] = True  # a full row
            at = np.nonzero(where)
            for sigma in (0.2, 0.7, 2.1, 5.0, 12.0):
                expected = ndi.gaussian_filter(x, sigma, truncate=4.0, mode="reflect")[where] if sigma >= 0.3 else x[where]
                got = _morphology._gaussian_at(x, sigma, at)
                assert got.dtype == np.float32
                assert np.array_equal(got, expected), (shape, density, sigma)
    view = rng.random((50, 61)).astype(np.float32)[::2, 1:]  # a non-contiguous view
    at = np.nonzero(rng.random(view.shape) < 0.2)
    assert np.array_equal(_morphology._gaussian_at(view, 3.0, at), ndi.gaussian_filter(view, 3.0, truncate=4.0)[at])
