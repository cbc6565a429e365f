"""The brown mask of the pixel model's body table in one compiled pass (classify/_pigment_brown.py)
and the body features' local maxima read at the local maxima only give the values of the band
by band numpy code they replace, bit for bit.

The brown mask decides the brown bodies whose shape the pixel model reads (``blob_*``) and the
maxima count is a feature of the body model that vetoes DAB nuclei: a wrong pixel moves the
melanin mask. Comparisons are exact, including pixels exactly at the thresholds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

import mmnst_path.classify._pigment_bodies as bodies_mod
from mmnst_path.classify import _pigment_brown
from mmnst_path.classify._pigment_fine import fine_od
from mmnst_path.detect._morphology import _numba_kernels
from mmnst_path.detect.pigment import PigmentParams, pigment_channels
from mmnst_path.stain import load_stains, od_from_rgb

pytestmark = pytest.mark.skipif(_numba_kernels() is None, reason="the compiled brown mask needs numba")


def _bands(total: np.ndarray, fine: np.ndarray, monkeypatch) -> np.ndarray:
    with monkeypatch.context() as mp:
        mp.setattr(_pigment_brown, "_kernel", lambda: None)
        return bodies_mod._brown_mask(total, fine)


def test_brown_mask_of_real_tiles_equals_the_bands(shared_data, monkeypatch) -> None:
    for name in ("bcdata/2.png", "shidc/p1_0299_1.jpg", "deepliif/34_3.png"):
        rgb = np.asarray(Image.open(shared_data / "ki67" / name).convert("RGB"))
        fine, total = fine_od(od_from_rgb(rgb), 0.7)
        got = bodies_mod._brown_mask(total, fine)
        assert 0.005 < got.mean() < 0.6, name
        assert np.array_equal(got, _bands(total, fine, monkeypatch)), name


def test_brown_mask_at_the_thresholds(monkeypatch) -> None:
    """Norms exactly at the OD threshold's float32 value and hues on both sides of the cone's
    float32 cosine (where a float64 comparison would differ)."""
    rng = np.random.default_rng(0)
    ref = bodies_mod._BROWN.astype(np.float32)
    limit = np.float32(math.cos(math.radians(bodies_mod._BROWN_CONE_DEG)))
    n = 200_000
    # unit vectors at angles around the cone's edge, scaled to norms around the threshold
    axis = np.cross(ref, [1.0, 0.0, 0.0])
    axis /= np.linalg.norm(axis)
    ang = np.arccos(np.float64(limit)) + rng.normal(0, 1e-7, n) * (rng.random(n) < 0.5) + rng.uniform(-0.6, 0.6, n) * (rng.random(n) < 0.3)
    vec = np.cos(ang)[:, None] * ref + np.sin(ang)[:, None] * axis
    norm = np.where(rng.random(n) < 0.3, np.float32(bodies_mod._BODY_OD), rng.uniform(0.2, 2.0, n))
    fine = (vec * norm[:, None]).astype(np.float32).reshape(400, 500, 3)
    total = np.where(rng.random(n) < 0.5, norm, np.linalg.norm(fine.reshape(n, 3), axis=1)).astype(np.float32).reshape(400, 500)
    got = bodies_mod._brown_mask(total, fine)
    assert 0.2 < got.mean() < 0.8
    assert np.array_equal(got, _bands(total, fine, monkeypatch))


def test_body_maxima_column_equals_whole_image_filters(shared_data) -> None:
    """``body_image_features`` takes the 1 µm minimum at the bodies' local maxima only; its
    ``maxima`` column equals the count from whole-image maximum and minimum filters (scipy,
    ``"reflect"``) at every body pixel, per µm² of the body (0 / 1 sums: exact in any order)."""
    from scipy import ndimage as ndi

    from mmnst_path.detect._morphology import _disk, _od_norm
    from mmnst_path.detect._pigment_gate import brown_body_labels

    mpp = 0.5
    rgb = np.ascontiguousarray(np.asarray(Image.open(shared_data / "ki67" / "bcdata" / "2.png").convert("RGB"))[::2, ::2])
    params = PigmentParams()
    chans = pigment_channels(rgb, stains=load_stains("H-DAB"), params=params, _with_hematoxylin=True)
    labels, n = brown_body_labels(chans[0], chans[4], mpp, params)
    assert n >= 10
    od = od_from_rgb(rgb)
    got = bodies_mod.body_image_features(labels, n, od, chans[0], chans[4], mpp)
    whole = _od_norm(od).astype(np.float32)
    top = ndi.maximum_filter(whole, footprint=_disk(0.6 / mpp), mode="reflect")
    low = ndi.minimum_filter(whole, footprint=_disk(1.0 / mpp), mode="reflect")
    peak = (whole >= top) & (whole - low >= 0.1) & (labels > 0)
    count = np.bincount(labels[peak], minlength=n + 1)[1:]
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:] * mpp * mpp
    col = bodies_mod.OBJECT_FEATURES.index("maxima")
    assert count.sum() > 0
    assert np.array_equal(got[:, col], (count / area).astype(np.float32))


def test_blue_share_planes_equal_numpy_on_a_strided_window(shared_data) -> None:
    """The ``hue_sd`` input (blue share of the fine OD, clipped to [0, 1], and its square) from the
    compiled pass equals numpy's, on a window view of a real tile's planes and on values below 0
    (kept as -0.0 by ``np.clip``), above 1 and at the 1e-3 floor of the norm."""
    rgb = np.asarray(Image.open(shared_data / "ki67" / "shidc" / "p1_0299_1.jpg").convert("RGB"))
    fine, total = fine_od(od_from_rgb(rgb), 0.7)
    fine[:8, :8, 2] = -0.0
    fine[8:16, :8, 2] = -0.5
    fine[:8, 8:16, 2] = 3.0
    total[16:24, :8] = 0.0
    win = (slice(5, 300), slice(3, 411))
    planes = _pigment_brown.blue_share_planes(fine[win], total[win])
    assert planes is not None
    img = np.clip(fine[win][..., 2] / np.maximum(total[win], 1e-3), 0.0, 1.0).astype(np.float32)
    assert np.signbit(img).any()
    assert (img == 1.0).any()
    assert np.array_equal(planes[0], img)
    assert np.array_equal(np.signbit(planes[0]), np.signbit(img))
    assert np.array_equal(planes[1], img * img)
