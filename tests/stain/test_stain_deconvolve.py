"""Colour deconvolution against an independent float64 implementation; numpy and numba paths."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from mmnst_path.errors import StainError
from mmnst_path.stain import (
    StainConditioningWarning,
    StainMatrix,
    get_backend,
    get_preset,
    numba_available,
    rgb_from_stains,
    separate_stains,
    set_backend,
)
from mmnst_path.stain import deconvolve as deconvolve_module

BACKENDS = ["numpy", "numba"]


def _image(shape=(97, 131), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    img[0, :3] = [[0, 0, 0], [255, 255, 255], [1, 128, 254]]
    return img


def _reference(rgb, matrix, stains, background):
    """Independent float64 deconvolution: log10 per pixel and a linear solve."""
    bg = np.broadcast_to(np.asarray(255.0 if background is None else background, float), (3,))
    od = -np.log10(np.maximum(rgb.astype(np.float64), 1.0) / bg).reshape(-1, 3)
    conc = np.linalg.solve(matrix.vectors.T, od.T).T  # od = conc @ V
    cols = [matrix.names.index(s) for s in stains]
    return conc[:, cols].reshape(*rgb.shape[:-1], len(cols))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("preset", "stains", "background"),
    [
        ("H-DAB", ("hematoxylin", "dab"), None),
        ("H-DAB", ("dab",), (236.0, 231.0, 222.0)),
        ("H-E-DAB", ("eosin", "dab", "hematoxylin"), 245.0),
        ("H-FastRed-melanin", ("melanin", "fast_red"), None),
        ("H&E", ("residual",), None),
    ],
)
def test_matches_float64_reference(backend, preset, stains, background):
    img = _image()
    m = get_preset(preset)
    got = separate_stains(img, m, stains=stains, background=background, backend=backend)
    assert got.dtype == np.float32
    assert got.shape == (*img.shape[:2], len(stains))
    ref = _reference(img, m, stains, background)
    np.testing.assert_allclose(got, ref, rtol=0, atol=2e-5)


def test_ill_conditioned_matrix_still_matches_reference():
    with pytest.warns(StainConditioningWarning):
        m = get_preset("H-DAB-melanin")
    img = _image()
    got = separate_stains(img, m, stains=("hematoxylin", "dab", "melanin"), backend="numpy")
    np.testing.assert_allclose(got, _reference(img, m, m.names, None), rtol=0, atol=2e-4)


def test_numba_equals_numpy_on_a_large_image():
    img = _image((700, 1000), seed=3)  # > one numpy block and many numba chunks
    m = get_preset("H-DAB")
    a = separate_stains(img, m, stains=("hematoxylin", "dab", "residual"), backend="numpy")
    b = separate_stains(img, m, stains=("hematoxylin", "dab", "residual"), backend="numba")
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_numba_is_installed_here():
    """The project's test environment ships numba, so the accelerated path is really tested."""
    assert numba_available()


def test_matrix_background_is_used_when_none_is_given():
    img = _image()
    m0 = get_preset("H-DAB")
    m = StainMatrix(m0.names[:2], m0.vectors[:2], background=(230, 225, 215))
    a = separate_stains(img, m, backend="numpy")
    b = separate_stains(img, m0, background=(230, 225, 215), backend="numpy")
    np.testing.assert_array_equal(a, b)
    c = separate_stains(img, m, background=255, backend="numpy")  # explicit wins
    np.testing.assert_array_equal(c, separate_stains(img, m0, backend="numpy"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_any_layout_and_shape(backend):
    img = _image((64, 80))
    m = get_preset("H-DAB")
    full = separate_stains(img, m, backend=backend)
    # non-contiguous view, a 1-D list of pixels and an empty image
    np.testing.assert_array_equal(separate_stains(img[::2, ::3], m, backend=backend), full[::2, ::3])
    np.testing.assert_array_equal(separate_stains(img.reshape(-1, 3), m, backend=backend),
                                  full.reshape(-1, 2))
    assert separate_stains(img[:0], m, backend=backend).shape == (0, 80, 2)


@pytest.mark.parametrize("preset", ["H-DAB", "H-E-DAB", "H&E-melanin"])
def test_round_trip_rgb_stains_rgb(preset):
    img = np.maximum(_image(), 1)
    m = get_preset(preset)
    conc = separate_stains(img, m, stains=m.names, backend="numpy")
    back = rgb_from_stains(conc, m)
    assert np.abs(back.astype(int) - img).max() <= 1
    assert (back == img).mean() > 0.99


def test_single_stain_rendering_is_pure():
    m = get_preset("H-DAB")
    conc = np.zeros((1, 1, 1), np.float32) + 0.8
    px = rgb_from_stains(conc, m, stains=("dab",))
    again = separate_stains(px, m, stains=("hematoxylin", "dab", "residual"), backend="numpy")
    np.testing.assert_allclose(again.ravel(), [0.0, 0.8, 0.0], atol=0.02)


def test_errors_name_the_problem():
    m = get_preset("H&E")
    with pytest.raises(StainError, match=r"stain 'dab' is not in stain matrix 'H&E'.*hematoxylin"):
        separate_stains(_image(), m)  # default stains are hematoxylin and dab
    with pytest.raises(StainError, match="at least one"):
        separate_stains(_image(), m, stains=())
    with pytest.raises(StainError, match="StainMatrix"):
        separate_stains(_image(), np.eye(3))
    with pytest.raises(StainError, match="backend"):
        separate_stains(_image(), m, stains="eosin", backend="cuda")
    with pytest.raises(StainError, match="one channel per stain"):
        rgb_from_stains(np.zeros((2, 2, 2)), m)


def test_backend_switch_and_numba_absent(monkeypatch):
    assert get_backend() == "auto"
    previous = set_backend("numpy")
    try:
        assert previous == "auto"
        assert get_backend() == "numpy"
        assert deconvolve_module._resolve_backend(None, 10**7) == "numpy"
    finally:
        set_backend(previous)
    assert deconvolve_module._resolve_backend(None, 10**7) == "numba"
    assert deconvolve_module._resolve_backend(None, 100) == "numpy"  # tiny: no call overhead
    # without numba, auto falls back to numpy and an explicit request is a clear error
    monkeypatch.setattr(deconvolve_module, "numba_available", lambda: False)
    assert deconvolve_module._resolve_backend("auto", 10**7) == "numpy"
    with pytest.raises(StainError, match="numba is not installed"):
        separate_stains(_image(), get_preset("H-DAB"), backend="numba")
    img = _image((200, 200))
    np.testing.assert_allclose(
        separate_stains(img, get_preset("H-DAB"), backend="auto"),
        _reference(img, get_preset("H-DAB"), ("hematoxylin", "dab"), None), atol=2e-5,
    )


def test_import_does_not_load_numba_or_skimage():
    code = (
        "import sys, mmnst_path.stain; print([m for m in ('numba', 'skimage', 'scipy') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_numba_path_without_numba_installed_runs_numpy():
    """A process where numba cannot be imported still separates stains (auto -> numpy)."""
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy as np, warnings\n"
        "from mmnst_path.stain import separate_stains, get_preset, numba_available\n"
        "img = np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8)\n"
        "out = separate_stains(img, get_preset('H-DAB'))\n"
        "print(numba_available(), out.shape, 'numba' in sys.modules and sys.modules['numba'] is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "(300,", "300,", "2)", "False"]


def test_warnings_do_not_leak_from_well_conditioned_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        separate_stains(_image(), get_preset("H-DAB"), backend="numpy")


@pytest.mark.parametrize("backend", BACKENDS)
def test_out_buffer_is_filled_and_checked(backend):
    img = _image()
    m = get_preset("H-DAB")
    buf = np.full((*img.shape[:2], 2), np.nan, np.float32)
    res = separate_stains(img, m, backend=backend, out=buf)
    assert res is buf
    np.testing.assert_array_equal(buf, separate_stains(img, m, backend=backend))
    with pytest.raises(StainError, match="out must be"):
        separate_stains(img, m, backend=backend, out=np.empty((*img.shape[:2], 3), np.float32))
