"""Dense pink stromal matrix and clefted coarse collagen in the generated H&E tissue tile (``he_tissue_tile(...,
stroma_kind="matrix" | "clefted")``; #13 session 24): opt-in, every tile of the other kinds byte-identical to
before, each kind changes only the stroma and looks like what it claims."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path._synthetic_matrix import _vessels, clefted_stroma, matrix_stroma
from mmnst_path.synthetic_tissue import he_tissue_tile

#: sha256 (first 16 hex) of rgb + masks, computed with the generator at 07b4201 (before the new kinds)
PINNED = {(970, 160, 0.5, "geographic", "default"): "f23d1523468ed3ff",
          (971, 128, 1.0, "comedo", "default"): "fbba2d51dbb45db9",
          (972, 160, 0.5, "geographic", "wavy"): "39df2479f3da1b7b",
          (973, 160, 0.5, "none", "oedema"): "c2c0e1b39a172a6e"}


def test_other_kinds_are_byte_identical_to_before(tile_digest) -> None:
    for (seed, size, mpp, nec, kind), digest in PINNED.items():
        assert tile_digest(he_tissue_tile(seed, size=size, mpp=mpp, necrosis=nec, stroma_kind=kind)) == digest


@pytest.mark.parametrize("kind", ["matrix", "clefted"])
def test_new_kind_repaints_the_stroma_and_nothing_else(kind: str) -> None:
    plain = he_tissue_tile(974, size=192, mpp=0.5, necrosis="geographic")
    new = he_tissue_tile(974, size=192, mpp=0.5, necrosis="geographic", stroma_kind=kind)
    for k in plain.masks:
        np.testing.assert_array_equal(new.masks[k], plain.masks[k])
    assert new.truth == plain.truth
    stroma = plain.masks["stroma"]
    diff = np.abs(new.rgb.astype(np.int16) - plain.rgb.astype(np.int16)).sum(-1)
    assert diff[stroma].mean() > 10
    far = ndi.distance_transform_edt(~stroma) > 24
    assert far.sum() > 1000
    assert not diff[far].any()
    np.testing.assert_array_equal(he_tissue_tile(974, size=192, mpp=0.5, necrosis="geographic",
                                                 stroma_kind=kind).rgb, new.rgb)  # seeded


def test_matrix_is_pink_filling_the_space_with_short_fibres_and_few_nuclei() -> None:
    region = np.ones((256, 256), bool)
    for seed in range(4):
        h, e = matrix_stroma(region, 0.5, np.random.default_rng(seed))
        assert h.dtype == np.float32
        assert e.dtype == np.float32
        # the matrix fills the space (unlike oedema: over half of it under 0.06 OD): under 10 % nearly clear
        assert float(np.mean(e < 0.03)) < 0.1
        assert float(np.median(e)) > 0.1
        # fibres: texture on the scale of a few µm, not a flat wash
        assert float(np.std(e - ndi.uniform_filter(e, 16))) > 0.03
        # sparse nuclei: under 6 % of it holds hematoxylin >= 0.15 OD
        assert float(np.mean(h >= 0.15)) < 0.06
    sub = np.zeros((96, 96), bool)
    sub[20:70, 10:80] = True
    for paint in (matrix_stroma, clefted_stroma):
        h, e = paint(sub, 1.0, np.random.default_rng(5))
        assert not h[~sub].any()
        assert not e[~sub].any()
        assert e[sub].mean() > 0.05


def test_vessels_have_cleared_lumina_lined_by_nuclei_some_with_red_cells() -> None:
    region = np.ones((200, 200), bool)
    h = np.zeros(region.shape, np.float32)
    e = np.full(region.shape, 0.15, np.float32)
    lumina = _vessels(h, e, region, 30.0, 0.5, np.random.default_rng(3))
    _, n = ndi.label(lumina)
    assert n >= 3
    # the lumina are cleared of matrix, except where red cells fill them (dense eosin, no hematoxylin)
    assert float(np.mean(e[lumina] < 0.05)) > 0.2
    red = lumina & (e > 0.4) & (h < 0.05)
    assert red.any()
    # a lining of endothelial nuclei just outside the lumina
    ring = ndi.binary_dilation(lumina, iterations=3) & ~lumina
    assert float(np.mean(h[ring] > 0.2)) > 0.05
    assert float(np.mean(h[ring] > 0.2)) > 3 * float(np.mean(h[~ndi.binary_dilation(lumina, iterations=8)] > 0.2))


def test_clefted_is_bright_bundles_with_white_clefts() -> None:
    region = np.ones((256, 256), bool)
    white, bright = [], []
    for seed in range(4):
        _, e = clefted_stroma(region, 0.5, np.random.default_rng(seed))
        white.append(float(np.mean(e < 0.05)))
        bright.append(float(np.quantile(e, 0.9)))
        _, m_e = matrix_stroma(region, 0.5, np.random.default_rng(seed))
        assert float(np.quantile(e, 0.9)) > float(np.quantile(m_e, 0.9))
    assert min(bright) > 0.4
    assert np.mean(white) > 0.05
