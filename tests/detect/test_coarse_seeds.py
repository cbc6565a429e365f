"""Nucleus seeds from a coarser grid (``NucleusParams.seed_scale_um``, opt-in): the default is
unchanged, the coarse path still finds the nuclei, and a tile that carries the halo gives the
nuclei of the whole image (the blocks lie on the global grid)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmnst_path.detect import _coarse_seeds
from mmnst_path.detect import nuclei as mod
from mmnst_path.detect.nuclei import Nuclei, NucleusParams, detect_nuclei, nuclei_from_stains, stain_planes
from mmnst_path.errors import ConfigError

COARSE = NucleusParams(seed_scale_um=1.0)


def _bcdata_planes() -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "ki67" / "bcdata" / "5.png"
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))[::2, ::2]  # 320² at 0.5 µm/px
    return stain_planes(rgb)


def test_default_is_the_analysis_grid_and_is_not_written() -> None:
    p = NucleusParams()
    assert p.seed_scale_um is None
    assert mod.seed_factor(p, 0.5) == 1
    assert "seed_scale_um" not in p.to_mapping()  # results written with the default are unchanged
    q = NucleusParams.from_mapping({"seed_scale_um": 1.0})
    assert q.to_mapping()["seed_scale_um"] == 1.0
    assert NucleusParams.from_mapping(q.to_mapping()) == q
    assert mod.seed_factor(q, 0.5) == 2
    assert mod.seed_factor(q, 0.8) == 1  # rounds below 2 blocks: the analysis grid
    for bad in (0.0, -1.0, float("nan"), "1", True):
        with pytest.raises(ConfigError, match="seed_scale_um"):
            NucleusParams(seed_scale_um=bad)  # type: ignore[arg-type]
    from mmnst_path.pipeline import AnalysisConfig

    with pytest.raises(ConfigError, match="seed_scale_um"):  # from a config file: the key is named
        AnalysisConfig.from_mapping({"nuclei": {"seed_scale_um": "1"}})


def test_block_means_lie_on_the_global_grid() -> None:
    rng = np.random.default_rng(0)
    big = rng.random((23, 31), dtype=np.float32)
    whole = _coarse_seeds.block_means(big, (0, 0), 2)
    assert whole.shape == (12, 16)
    np.testing.assert_allclose(whole[3, 5], big[6:8, 10:12].mean(), rtol=1e-6)
    np.testing.assert_allclose(whole[-1, -1], big[22, 30], rtol=1e-6)  # a partial block: its one pixel
    part = _coarse_seeds.block_means(big[5:, 7:], (5, 7), 2)  # odd origin: the first block is cut
    np.testing.assert_allclose(part[0, 0], big[5, 7], rtol=1e-6)
    assert np.array_equal(part[1:, 1:], whole[3:, 4:])  # whole blocks: the same values, bit for bit


@pytest.mark.parametrize("factor", [2, 3])
def test_block_means_and_upsampling_match_a_plain_reference(factor: int) -> None:
    """Any shape (down to one pixel) and origin: block means are the means of the global blocks'
    pixels; the interpolation reads the two nearest block centres (clamped to the planes' blocks)."""
    rng = np.random.default_rng(factor)
    for shape, origin in (((1, 1), (3, 5)), ((2, 7), (1, 0)), ((9, 4), (4, 7)), ((13, 11), (0, 2)), ((5, 6), (-3, -5))):
        plane = rng.random(shape, dtype=np.float32)
        got = _coarse_seeds.block_means(plane, origin, factor)
        br = (origin[0] + np.arange(shape[0])) // factor
        bc = (origin[1] + np.arange(shape[1])) // factor
        ref = np.array([[plane[np.ix_(br == i, bc == j)].mean() for j in np.unique(bc)] for i in np.unique(br)])
        np.testing.assert_allclose(got, ref, rtol=1e-6)
        up = _coarse_seeds.upsample_linear(got, shape, origin, factor)
        x = [((o + np.arange(n) + 0.5) / factor - 0.5 - o // factor) for n, o in zip(shape, origin, strict=True)]
        ref_up = np.empty(shape)
        for i in range(shape[0]):
            for j in range(shape[1]):
                r = np.clip(x[0][i], 0, got.shape[0] - 1)
                c = np.clip(x[1][j], 0, got.shape[1] - 1)
                r0, c0 = min(int(r), got.shape[0] - 1), min(int(c), got.shape[1] - 1)
                r1, c1 = min(r0 + 1, got.shape[0] - 1), min(c0 + 1, got.shape[1] - 1)
                top = got[r0, c0] * (1 - (c - c0)) + got[r0, c1] * (c - c0)
                bottom = got[r1, c0] * (1 - (c - c0)) + got[r1, c1] * (c - c0)
                ref_up[i, j] = top * (1 - (r - r0)) + bottom * (r - r0)
        np.testing.assert_allclose(up, ref_up, rtol=1e-5, atol=1e-6)


def test_linear_upsampling_keeps_constants_and_ramps() -> None:
    coarse = np.full((6, 7), 2.5, np.float32)
    up = _coarse_seeds.upsample_linear(coarse, (12, 13), (0, 1), 2)
    assert up.shape == (12, 13)
    np.testing.assert_array_equal(up, 2.5)
    # block centres of a ramp: the fine pixels get the ramp back away from the edges
    ramp = np.arange(8, dtype=np.float32)[:, None] * 2 + 0.5 + np.zeros((1, 3), np.float32)
    up = _coarse_seeds.upsample_linear(ramp, (16, 6), (0, 0), 2)
    np.testing.assert_allclose(up[1:-1, 2], np.arange(1, 15, dtype=np.float32), atol=1e-5)


def test_coarse_seeds_find_positive_and_pale_nuclei(discs) -> None:
    centres, radii, h, d = discs.grid()
    rgb = discs.render((256, 256), centres, radii, h, d)
    nuc = detect_nuclei(rgb, mpp=0.5, params=COARSE)
    recall, precision = discs.recall_precision(nuc, centres, tol_px=3.0)
    assert recall >= 0.95
    assert precision >= 0.95
    pair = np.array([(40.0, 40.0), (40.0, 55.0)])  # touching pair: still two nuclei
    two = detect_nuclei(discs.render((80, 96), pair, [4.5, 4.5], [0.35, 0.35], [0.0, 0.0]), mpp=0.5, params=COARSE)
    assert len(two) == 2


def test_coarse_path_differs_from_the_default_and_keeps_the_default_exact() -> None:
    hem, dab = _bcdata_planes()
    fine = nuclei_from_stains(hem, dab, mpp=0.5)
    again = nuclei_from_stains(hem, dab, mpp=0.5, params=NucleusParams(seed_scale_um=0.6))  # f = 1: the default
    coarse = nuclei_from_stains(hem, dab, mpp=0.5, params=COARSE)
    for name in Nuclei.FEATURES:
        np.testing.assert_array_equal(getattr(fine, name), getattr(again, name))
    assert len(coarse) > 50
    assert abs(len(coarse) - len(fine)) <= 0.1 * len(fine)
    assert not (len(coarse) == len(fine) and np.array_equal(coarse.row, fine.row))


@pytest.mark.parametrize("origin", [(0, 0), (37, 52), (41, 0), (0, 29)])
def test_tile_with_the_halo_gives_the_whole_image_nuclei(origin: tuple[int, int]) -> None:
    """Planes cut at any (odd or even) origin, passed that origin, give bit for bit the nuclei of
    the whole planes that lie at least the coarse halo inside the cut."""
    hem, dab = (np.pad(p, ((0, 200), (0, 200)), mode="symmetric") for p in _bcdata_planes())  # 520²
    whole = nuclei_from_stains(hem, dab, mpp=0.5, params=COARSE, origin=(1000, 2001))
    r0, c0 = origin
    part = nuclei_from_stains(hem[r0:, c0:], dab[r0:, c0:], mpp=0.5, params=COARSE, origin=(1000 + r0, 2001 + c0))
    margin = COARSE.halo_um(0.5) / 0.5
    assert COARSE.halo_um(0.5) > NucleusParams().halo_um(0.5)  # the coarse LoG reaches farther
    assert COARSE.halo_um() >= COARSE.halo_um(0.5)  # at 0.5 µm/px (not at every mpp; the pipeline uses the exact form)

    def inside(n: Nuclei) -> np.ndarray:
        return ((n.row - 1000 >= r0 + margin) if r0 else n.row >= 0) & ((n.col - 2001 >= c0 + margin) if c0 else n.col >= 0)

    a, b = inside(whole), inside(part)
    assert a.sum() >= 30
    assert a.sum() == b.sum()
    for name in Nuclei.FEATURES:
        np.testing.assert_array_equal(getattr(whole, name)[a], getattr(part, name)[b])


def test_unstained_margins_are_cropped_with_the_same_nuclei(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stained-box crop (an odd offset) keeps the coarse grid on the planes' blocks."""
    hem, dab = _bcdata_planes()
    pad = ((122, 90), (64, 100))
    hem, dab = np.pad(hem, pad), np.pad(dab, pad)
    out = {}
    for crop in (True, False):
        monkeypatch.setattr(mod, "CROP_EMPTY_MARGINS", crop)
        out[crop] = nuclei_from_stains(hem, dab, mpp=0.5, params=COARSE, return_labels=True)
    box = mod._stained_box(np.maximum(hem, 0), np.maximum(dab, 0), 0.5, COARSE)
    assert box is not None
    assert box[0].start % 2 == 1
    assert box[1].start % 2 == 1
    assert len(out[True]) > 50
    np.testing.assert_array_equal(out[True].labels, out[False].labels)
    for name in Nuclei.FEATURES:
        np.testing.assert_array_equal(getattr(out[True], name), getattr(out[False], name))
