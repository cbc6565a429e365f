"""The tissue features of part of the block grid (``window``) are bit for bit the whole grid's there:
each plane is computed only where the next step reads it, cut at a kernel's reach from the box it serves
(session 38 H1, #13)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify.tissue import classify_tissue, region_mask
from mmnst_path.classify.tissue_features import (
    TissueFeatureSettings,
    base_maps,
    features_from_base,
    grid_factors,
    window_boxes,
)
from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.pipeline._class_window import class_sums


def _image(seed: int, shape: tuple[int, int]) -> np.ndarray:
    """Blotchy colours with sharp edges everywhere (the features differ from block to block)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 256, (shape[0] // 5 + 2, shape[1] // 5 + 2, 3), dtype=np.uint8)
    img = np.repeat(np.repeat(coarse, 5, axis=0), 5, axis=1)[: shape[0], : shape[1]]
    return np.ascontiguousarray(img ^ rng.integers(0, 24, img.shape, dtype=np.uint8))


def _windows(shape: tuple[int, int], rng: np.random.Generator, n: int) -> list[tuple[int, int, int, int]]:
    """Boxes touching each edge of the grid, inside it and the whole grid."""
    m, k = shape
    out = [(0, 2, 0, k), (m - 2, m, 0, k), (0, m, 0, 1), (0, m, k - 1, k), (0, m, 0, k), (1, m - 1, 1, k - 1)]
    for _ in range(n):
        r0, c0 = int(rng.integers(0, m)), int(rng.integers(0, k))
        out.append((r0, int(rng.integers(r0 + 1, m + 1)), c0, int(rng.integers(c0 + 1, k + 1))))
    return out


@pytest.mark.parametrize(("mpp", "settings"), [
    (0.5, TissueFeatureSettings()),
    (0.37, TissueFeatureSettings()),  # non-integer factors: f = 5, micro factor 1
    (1.0, TissueFeatureSettings(relative_level=True)),
    (0.73, TissueFeatureSettings(nuclear_detail=True)),  # (computed whole, then cut)
    (1.0, TissueFeatureSettings(micro_um=2.0)),  # the shipped H&E model's grids since 1.2.0 (micro grid = fine grid)
    (0.5, TissueFeatureSettings(micro_um=2.0)),
])
def test_window_features_are_the_whole_grids_bit_for_bit(mpp: float, settings: TissueFeatureSettings) -> None:
    rng = np.random.default_rng(3)
    f, k, _ = grid_factors(mpp, settings)
    rgb = _image(int(mpp * 100), (f * k * 23, f * k * 19))
    base, fine_mpp = base_maps(rgb, mpp=mpp, stains="H&E", settings=settings)
    whole = features_from_base(base, fine_mpp, k, settings)
    for win in _windows(whole.shape[:2], rng, 6):
        boxes = window_boxes(win, base.shape[:2], fine_mpp, k, settings)
        part, _ = base_maps(rgb, mpp=mpp, stains="H&E", settings=settings, tensor_box=boxes["tensor_fine"])
        got = features_from_base(part, fine_mpp, k, settings, window=win)
        want = whole[win[0] : win[1], win[2] : win[3]]
        assert got.shape == want.shape
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), win


def test_window_classes_are_the_whole_images_and_the_rest_reads_background() -> None:
    model = AnalysisConfig(stains="H&E").necrosis.model()
    rng = np.random.default_rng(8)
    for mpp, origin in ((0.5, (13, 70)), (0.61, (-45, 3)), (1.0, None)):
        rgb = _image(int(mpp * 10), (int(300 / mpp), int(260 / mpp)))
        whole = classify_tissue(rgb, mpp=mpp, model=model, origin=origin)
        assert whole.window is None
        bg = model.class_names.index("background")
        for win in _windows(whole.labels.shape, rng, 3):
            got = classify_tissue(rgb, mpp=mpp, model=model, origin=origin, window=win)
            rows, cols = slice(win[0], win[1]), slice(win[2], win[3])
            if win == (0, whole.labels.shape[0], 0, whole.labels.shape[1]):
                assert got.window is None
            else:
                assert got.window == win
                outside = np.ones(whole.labels.shape, bool)
                outside[rows, cols] = False
                assert (got.labels[outside] == bg).all()
            assert np.array_equal(got.proba[rows, cols].view(np.uint32), whole.proba[rows, cols].view(np.uint32))
            assert np.array_equal(got.labels[rows, cols], whole.labels[rows, cols])


def test_a_window_of_the_wrong_kind_is_refused() -> None:
    base = np.zeros((20, 20, 14), np.float32)
    with pytest.raises(ValueError, match="not inside"):
        features_from_base(base, 2.0, 2, TissueFeatureSettings(), window=(0, 12, 0, 4))
    with pytest.raises(ConfigError):
        TissueFeatureSettings(grid_um=-1.0)


@pytest.mark.parametrize("factor", [5, 16])
def test_class_sums_are_the_block_sums_of_the_class_masks(factor: int) -> None:
    from mmnst_path.pipeline._worker import _block_sums

    rng = np.random.default_rng(factor)
    classes = ("tumour", "stroma", "necrosis", "background")
    for _ in range(6):
        shape = (int(rng.integers(40, 120)), int(rng.integers(40, 120)))
        origin = (int(rng.integers(-300, 300)), int(rng.integers(-300, 300)))
        off = [v % factor for v in origin]
        grid = (-(-(shape[0] + off[0]) // factor), -(-(shape[1] + off[1]) // factor))
        labels = rng.integers(0, len(classes), grid).astype(np.int8)
        r0, c0 = int(rng.integers(0, 15)), int(rng.integers(0, 15))
        core = (slice(r0, shape[0] - int(rng.integers(0, 15))), slice(c0, shape[1] - int(rng.integers(0, 15))))
        owned = np.zeros(shape, bool)
        owned[core] = rng.random(owned[core].shape) < 0.8
        map_px = int(rng.integers(7, 40))
        areas, sums = class_sums(labels, len(classes), owned, core, origin=origin, factor=factor, map_px=map_px)
        sub = (origin[0] + core[0].start, origin[1] + core[1].start)
        for i, name in enumerate(classes):
            m = region_mask(labels, classes, (name,), shape=shape, factor=factor, origin=origin) & owned
            assert areas[i] == m.sum()
            want = _block_sums(m[core], sub, map_px)[1]
            assert sums[i].dtype == want.dtype
            assert np.array_equal(sums[i], want)
