""":func:`base_maps` fills one preallocated stack channel by channel (session 39 H6, #13): every channel is the plane
it names, and a ``tensor_box`` leaves the structure-tensor channels 0 outside the box and the rest unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify.tissue_features import (
    BASE_CHANNELS,
    MORPHOLOGY_CHANNELS,
    NUCLEAR_CHANNELS,
    TissueFeatureSettings,
    base_maps,
    block_factor,
    block_mean,
)
from mmnst_path.stain import load_stains, od_from_rgb


def _image(seed: int, shape: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(30, 256, (shape[0] // 4 + 2, shape[1] // 4 + 2, 3), dtype=np.uint8)
    img = np.repeat(np.repeat(coarse, 4, axis=0), 4, axis=1)[: shape[0], : shape[1]]
    return np.ascontiguousarray(img ^ rng.integers(0, 16, img.shape, dtype=np.uint8))


@pytest.mark.parametrize(("mpp", "micro_um"), [(0.5, 1.0), (0.5, 2.0), (1.0, 1.0), (1.0, 2.0)])
def test_colour_channels_are_the_block_means_of_the_od(mpp: float, micro_um: float) -> None:
    settings = TissueFeatureSettings(micro_um=micro_um)
    rgb = _image(1, (96, 80))
    base, fine_mpp = base_maps(rgb, mpp=mpp, stains="H&E", settings=settings)
    f = block_factor(mpp, settings.grid_um)
    assert base.shape == (96 // f, 80 // f, len(BASE_CHANNELS))
    assert base.dtype == np.float32
    assert fine_mpp == f * mpp
    od = od_from_rgb(rgb, background=load_stains("H&E").background)
    want = block_mean(od, f)
    # (the channels go through the micro grid first: equal up to float32 rounding)
    np.testing.assert_allclose(base[..., 0:3], want, rtol=1e-5, atol=1e-6)
    white = block_mean(((od[..., 0] + od[..., 1] + od[..., 2]) < settings.white_od).astype(np.float32), f)
    np.testing.assert_allclose(base[..., BASE_CHANNELS.index("white")], white, atol=1e-6)
    h = base[..., BASE_CHANNELS.index("h")]
    assert (base[..., BASE_CHANNELS.index("h2")] >= h * h - 1e-5).all()  # (mean of squares >= square of the mean)


@pytest.mark.parametrize("extra", [{}, {"nuclear_detail": True}, {"nuclear_detail": True, "nuclear_morphology": True}])
def test_tensor_box_zeroes_only_the_tensor_channels_outside_it(extra: dict) -> None:
    settings = TissueFeatureSettings(**extra)
    rgb = _image(2, (120, 100))
    whole, _ = base_maps(rgb, mpp=0.5, stains="H&E", settings=settings)
    n = len(BASE_CHANNELS) + (len(NUCLEAR_CHANNELS) if settings.nuclear_detail else 0)
    n += len(MORPHOLOGY_CHANNELS) if settings.nuclear_morphology else 0
    assert whole.shape[-1] == n
    box = (5, 17, 3, 20)
    part, _ = base_maps(rgb, mpp=0.5, stains="H&E", settings=settings, tensor_box=box)
    tensor = [BASE_CHANNELS.index(c) for c in ("e_jrr", "e_jcc", "e_jrc", "h_jrr", "h_jcc", "h_jrc")]
    rest = [c for c in range(n) if c not in tensor]
    assert np.array_equal(part[..., rest], whole[..., rest])
    inside = np.zeros(whole.shape[:2], bool)
    inside[box[0] : box[1], box[2] : box[3]] = True
    assert np.array_equal(part[inside][:, tensor], whole[inside][:, tensor])
    assert (part[~inside][:, tensor] == 0).all()
    assert (whole[~inside][:, tensor] != 0).any()
