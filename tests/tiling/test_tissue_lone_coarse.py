"""A lone tile's tissue mask decided on k x k blocks of its thumbnail (``[tissue] lone_block_um``, the
default since session 34, #16)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.errors import ConfigError
from mmnst_path.io import ArrayReader
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.tiling import TissueParams, detect_tissue, tissue, tissue_mask
from mmnst_path.tiling.tissue import _block_mean, lone_tile_mask


def _tile(size: int) -> np.ndarray:
    """Glass with a pink disc of purple-dotted tissue (the disc leaves glass in the corners)."""
    rng = np.random.default_rng(3)
    img = np.full((size, size, 3), 236, np.uint8)
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - size * 0.45) ** 2 + (xx - size * 0.55) ** 2 < (size * 0.38) ** 2
    img[disc] = (228, 170, 200)
    dots = disc & (rng.random((size, size)) < 0.05)
    img[dots] = (110, 70, 150)
    return img


def test_block_mean_matches_numpy_with_partial_blocks() -> None:
    rng = np.random.default_rng(0)
    plane = rng.random((7, 5)).astype(np.float32) * 255
    k = 3
    padded = np.pad(plane, ((0, 2), (0, 1)), mode="edge").astype(np.float64)
    ref = padded.reshape(3, 3, 2, 3).mean(axis=(1, 3))
    out = _block_mean(plane, k)
    assert out.dtype == np.float32
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out, ref, rtol=1e-6)


def test_k1_is_tissue_mask_and_k0_refused() -> None:
    thumb = _tile(96)
    np.testing.assert_array_equal(lone_tile_mask(thumb, mpp=0.625, k=1), tissue_mask(thumb, mpp=0.625))
    with pytest.raises(ConfigError, match="block side"):
        lone_tile_mask(thumb, mpp=0.625, k=0)


def test_blocks_keep_the_texture_inside_them() -> None:
    """A pale neutral thumbnail textured at one pixel (a checkerboard 240 / 200, no colour, no OD over its
    mean) is tissue by the texture rule only: the blocks must carry grey² of the pixels, not the square
    of the blocks' mean grey (which reads a flat 220 and no texture)."""
    yy, xx = np.mgrid[:128, :128]
    grey = np.where((yy + xx) % 2 == 0, 240, 200).astype(np.uint8)
    thumb = np.repeat(grey[..., None], 3, axis=2)
    assert tissue_mask(thumb, mpp=0.625).all()
    assert lone_tile_mask(thumb, mpp=0.625, k=4).all()


def test_lone_mask_moves_only_at_edges() -> None:
    thumb = _tile(256)
    fine = tissue_mask(thumb, mpp=0.625)
    coarse = lone_tile_mask(thumb, mpp=0.625, k=4)
    assert coarse.shape == fine.shape
    assert 0.3 < fine.mean() < 0.7
    changed = fine != coarse
    assert changed.mean() < 0.03
    # every changed pixel lies within 12 thumbnail pixels (3 blocks) of the fine mask's edge
    edge = fine & ~tissue._square_erosion(fine, 1, border=True)
    edge |= ~fine & tissue._square_dilation(fine, 1)
    assert not (changed & ~tissue._square_dilation(edge, 12)).any()
    # each block has one answer
    assert (coarse.reshape(64, 4, 64, 4) == coarse.reshape(64, 4, 64, 4)[:, :1, :, :1]).all()


@pytest.mark.parametrize(("size", "mpp", "k"), [(640, 0.25, 4), (1228, 0.21, 3), (512, 0.31, 4)])
def test_detect_tissue_decides_a_lone_tile_on_blocks(size: int, mpp: float, k: int) -> None:
    """BCData, SHIDC and DeepLIIF geometries: the 256² thumbnail is decided on k x k blocks (<= 4, about
    3.1 µm)."""
    rgb = _tile(size)
    res = detect_tissue(ArrayReader(rgb, mpp=mpp))  # the default configuration
    assert TissueParams().lone_block_um == AnalysisConfig().tissue.lone_block_um == 3.1
    assert res.thumbnail.shape == (256, 256, 3)
    thumb_mpp = size * mpp / 256
    np.testing.assert_array_equal(res.mask, lone_tile_mask(res.thumbnail, mpp=thumb_mpp, k=k))
    assert (res.mask != tissue_mask(res.thumbnail, mpp=thumb_mpp)).any()


def test_an_image_no_larger_than_its_thumbnail_is_decided_on_its_pixels() -> None:
    """A 224² Kather-sized tile: the thumbnail is the image itself, so no blocks (a region near half the
    image must not be dropped or kept by a coarser count)."""
    rgb = _tile(224)
    res = detect_tissue(ArrayReader(rgb, mpp=0.5))
    assert res.thumbnail.shape == (224, 224, 3)
    np.testing.assert_array_equal(res.mask, tissue_mask(res.thumbnail, mpp=0.5))


def test_detect_tissue_off_and_slides_unchanged() -> None:
    rgb = _tile(640)
    off = AnalysisConfig.from_mapping({"tissue": {"lone_block_um": 0}}).tissue  # the thumbnail's own pixels
    res = detect_tissue(ArrayReader(rgb, mpp=0.25), params=off)
    np.testing.assert_array_equal(res.mask, tissue_mask(res.thumbnail, mpp=0.625))
    assert (res.mask != detect_tissue(ArrayReader(rgb, mpp=0.25)).mask).any()
    with pytest.raises(ConfigError, match="lone_block_um"):
        TissueParams(lone_block_um=-1.0)
    # a thumbnail at mask_mpp (a slide, not raised by min_size) is decided on its own pixels, even fine ones
    res = detect_tissue(ArrayReader(rgb, mpp=0.25), mask_mpp=0.5, min_size=64)
    assert res.thumbnail.shape == (320, 320, 3)
    np.testing.assert_array_equal(res.mask, tissue_mask(res.thumbnail, mpp=0.5))
