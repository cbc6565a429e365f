"""The pixel model's fine-scale OD in one compiled pass (classify/_pigment_fine.py) equals the
channel-by-channel reference (``_gaussian`` per channel, ``_od_norm``) and scipy, bit for bit.

A wrong value here changes the candidates and every feature of the pigment pixel model, so the
melanin mask of a tile; the comparisons are exact (array_equal), not approximate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.classify import _pigment_fine
from mmnst_path.classify._pigment_fine import fine_od
from mmnst_path.classify.pigment import PigmentFeatureSettings, _candidates
from mmnst_path.detect._morphology import _numba_kernels


def _reference(od: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """scipy's Gaussian of each channel and numpy's norm (the definitions the kernel follows)."""
    planes = [np.ascontiguousarray(od[..., c]) for c in range(3)]
    fine = np.stack([ndi.gaussian_filter(p, sigma, truncate=4.0, mode="reflect") if sigma >= 0.3 else p
                     for p in planes], axis=-1)
    return fine, np.sqrt(np.einsum("...c,...c->...", fine, fine)), planes


def _check(od: np.ndarray, sigma: float) -> None:
    planes: list[np.ndarray] = []
    fine, total = fine_od(od, sigma, planes)
    ref_fine, ref_total, ref_planes = _reference(od, sigma)
    assert fine.dtype == np.float32
    assert total.dtype == np.float32
    assert np.array_equal(fine, ref_fine), f"fine OD differs at sigma {sigma}, shape {od.shape}"
    assert np.array_equal(total, ref_total), f"norm differs at sigma {sigma}, shape {od.shape}"
    assert len(planes) == 3
    for p, q in zip(planes, ref_planes, strict=True):
        assert p.flags.c_contiguous
        assert np.array_equal(p, q)


def test_compiled_path_is_active() -> None:
    """The equality tests below would compare the reference with itself without numba."""
    assert _numba_kernels() is not None
    assert _pigment_fine._kernel() is not None


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 3), (5, 4), (7, 7), (8, 13), (37, 29), (64, 80)])
@pytest.mark.parametrize("sigma", [0.3, 0.7, 1.4, 3.1])
def test_random_od_equals_reference(shape: tuple[int, int], sigma: float) -> None:
    """Random OD (images shorter and narrower than the kernel reach included: scipy's reflect
    repeats periodically there) at the tile's fine scale and others."""
    rng = np.random.default_rng(hash((shape, sigma)) % 2**32)
    od = (rng.random((*shape, 3)) * 2.5).astype(np.float32)
    od[rng.random(shape) < 0.3] = 0.0  # white glass beside dark pixels
    _check(od, sigma)


def test_no_blur_and_empty() -> None:
    """Below 0.3 px no blur (the planes themselves); an empty image gives empty arrays."""
    rng = np.random.default_rng(3)
    od = rng.random((6, 5, 3)).astype(np.float32)
    fine, total = fine_od(od, 0.2)
    assert np.array_equal(fine, od)
    _check(od, 0.29)
    fine, total = fine_od(np.zeros((0, 4, 3), np.float32), 0.7)
    assert fine.shape == (0, 4, 3)
    assert total.shape == (0, 4)


def test_without_planes_and_strided_input() -> None:
    """A non-contiguous OD view and no planes asked: the same fine OD and norm."""
    rng = np.random.default_rng(4)
    big = rng.random((40, 50, 3)).astype(np.float32)
    view = big[3:33, 5:45]
    fine, total = fine_od(view, 0.7)
    ref_fine, ref_total, _ = _reference(np.ascontiguousarray(view), 0.7)
    assert np.array_equal(fine, ref_fine)
    assert np.array_equal(total, ref_total)


def test_fallback_equals_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the kernel (no numba, scipy backend) the channel-by-channel path gives the same."""
    rng = np.random.default_rng(5)
    od = (rng.random((33, 21, 3)) * 1.5).astype(np.float32)
    planes: list[np.ndarray] = []
    fine, total = fine_od(od, 0.7, planes)
    monkeypatch.setattr(_pigment_fine, "_kernel", lambda: None)
    planes2: list[np.ndarray] = []
    fine2, total2 = fine_od(od, 0.7, planes2)
    assert np.array_equal(fine, fine2)
    assert np.array_equal(total, total2)
    assert all(np.array_equal(a, b) for a, b in zip(planes, planes2, strict=True))


def test_real_tile_candidates_equal_reference(shared_data: Path) -> None:
    """A real BCData tile at the pipeline's 0.5 µm/px scale: ``_candidates`` (fine OD, norm,
    candidates, planes) equals the reference built from scipy."""
    from PIL import Image

    from mmnst_path.stain import od_from_rgb

    path = shared_data / "ki67" / "bcdata" / "2.png"
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))[:300, :260]
    s = PigmentFeatureSettings()
    planes: list[np.ndarray] = []
    _od, fine, total, cand = _candidates(rgb, mpp=0.5, settings=s, background=None, where=None, planes=planes)
    ref_fine, ref_total, ref_planes = _reference(od_from_rgb(rgb).astype(np.float32), s.fine_um / 0.5)
    assert np.array_equal(fine, ref_fine)
    assert np.array_equal(total, ref_total)
    assert np.array_equal(cand, ref_total >= s.candidate_od)
    assert cand.any()
    assert all(np.array_equal(a, b) for a, b in zip(planes, ref_planes, strict=True))
