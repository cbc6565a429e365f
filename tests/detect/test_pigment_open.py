"""The brown bodies' morphology on bit-packed rows (detect/_pigment_open.py) and the brown-mode
concentration planes in one pass (detect/_pigment_planes.py) equal the filters they replace, bit
for bit.

The opening decides which brown areas are DAB-filled nuclei (vetoed from the melanin mask with a
dilated margin), so a wrong pixel here moves the pigment mask of a Ki67 tile; the planes are the
hematoxylin and DAB concentrations every later pigment step reads. Comparisons are exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage as ndi

from mmnst_path.detect import _pigment_open, _pigment_planes
from mmnst_path.detect._morphology import _disk, _disk_extreme, _numba_kernels
from mmnst_path.detect._pigment_core import _dilated, _opened
from mmnst_path.stain import StainMatrix, get_preset, separate_stains
from mmnst_path.stain.deconvolve import folded_luts

pytestmark = pytest.mark.skipif(_numba_kernels() is None, reason="the bit-packed kernels need numba")


def _opened_reference(mask: np.ndarray, radius_px: float) -> np.ndarray:
    """The whole-image filters of ``_opened`` without numba: edge padding, erosion, dilation."""
    disk = _disk(radius_px)
    pad = disk.shape[0]
    padded = np.pad(mask, pad, mode="edge")
    eroded = ndi.minimum_filter(padded.view(np.uint8), footprint=disk, mode="constant", cval=0)
    return ndi.maximum_filter(eroded, footprint=disk, mode="constant", cval=0)[pad:-pad, pad:-pad].view(bool)


def _masks(seed: int, count: int):
    """Random masks: specks and blobs, sizes from one pixel to wider than a machine word, radii
    with empty footprint rows (1.5, 2.5) and without."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        m, n = (int(v) for v in rng.integers(1, 150 if rng.random() < 0.3 else 24, 2))
        dens = float(rng.random())
        mask = rng.random((m, n)) < dens
        if rng.random() < 0.5:
            mask = ndi.gaussian_filter(mask.astype(np.float32), 1.5) > 0.3 * dens
        yield mask, float(rng.choice([1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.2]))


def test_opening_equals_the_padded_whole_image_filters() -> None:
    checked = 0
    for mask, radius in _masks(0, 600):
        got = _pigment_open.opened_mask(mask, _disk(radius))
        assert got is not None
        assert got.shape == mask.shape
        assert np.array_equal(got, _opened_reference(mask, radius)), (mask.shape, radius, int(mask.sum()))
        checked += int(got.any())
    assert checked > 100  # (non-empty openings among them)


def test_dilation_equals_the_constant_border_disk_maximum() -> None:
    for mask, radius in _masks(1, 600):
        got = _pigment_open.dilated_mask(mask, _disk(radius))
        ref = ndi.maximum_filter(mask.view(np.uint8), footprint=_disk(radius), mode="constant", cval=0).view(bool)
        assert got is not None
        assert np.array_equal(got, ref), (mask.shape, radius, int(mask.sum()))


def test_brown_bodies_of_a_real_tile_are_unchanged(shared_data, monkeypatch) -> None:
    """The callers (``_opened``, ``_dilated``) give the previous filters' masks on the smoothed
    brown channel of a real BCData tile at the pipeline's 0.5 µm/px (radius 3 px, margin 2 px)."""
    rgb = np.asarray(Image.open(shared_data / "ki67" / "bcdata" / "2.png").convert("RGB"))[::2, ::2]
    brown = separate_stains(np.ascontiguousarray(rgb), get_preset("H-DAB"), stains=("dab",))[..., 0]
    mask = ndi.gaussian_filter(brown, 1.5, truncate=4.0) >= 0.25
    assert 0.02 < mask.mean() < 0.5
    fast_open, fast_dil = _opened(mask, 3.0), _dilated(mask, _disk(2.0))
    monkeypatch.setattr(_pigment_open, "_kernel", lambda: None)  # the filters the callers fall back to
    assert np.array_equal(fast_open, _opened(mask, 3.0))
    assert np.array_equal(fast_open, _opened_reference(mask, 3.0))
    assert np.array_equal(fast_dil, _dilated(mask, _disk(2.0)))
    assert np.array_equal(fast_dil, _disk_extreme(mask, _disk(2.0), op="max", mode="constant"))


def test_brown_planes_equal_separate_stains(shared_data) -> None:
    rgb = np.asarray(Image.open(shared_data / "ki67" / "shidc" / "p1_0299_1.jpg").convert("RGB"))
    dab = get_preset("H-DAB")
    two = StainMatrix(("hematoxylin", "dab"), np.stack([dab.vector("hematoxylin"), dab.vector("dab")]),
                      name="pigment-brown", _warn=False)
    for background in (None, (241.0, 236.0, 248.0)):
        planes = _pigment_planes.brown_planes(rgb, folded_luts(two, ("hematoxylin", "dab"), background=background))
        assert planes is not None
        both = separate_stains(rgb, two, stains=("hematoxylin", "dab"), background=background, backend="numpy")
        for k in range(2):
            assert planes[k].flags.c_contiguous
            assert np.array_equal(planes[k], both[..., k])
