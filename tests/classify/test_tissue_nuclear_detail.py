"""Nuclear-detail tissue features (TissueFeatureSettings.nuclear_detail) and the necrosis hole filling."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path import synthetic
from mmnst_path.classify.tissue_features import TissueFeatureSettings, tissue_feature_specs, tissue_features
from mmnst_path.errors import ConfigError
from mmnst_path.quantify._necrosis_model import small_holes as _small_holes
from mmnst_path.stain import get_preset

ND = replace(TissueFeatureSettings(), nuclear_detail=True)


def _names(settings: TissueFeatureSettings) -> list[str]:
    return [s.name for s in tissue_feature_specs(settings)]


def test_nuclear_columns_follow_the_unchanged_columns() -> None:
    rgb = synthetic.he_necrosis_tile(0, size=96).rgb
    base, _ = tissue_features(rgb, mpp=1.0, settings=TissueFeatureSettings())
    nd, grid = tissue_features(rgb, mpp=1.0, settings=ND)
    assert grid == pytest.approx(8.0)
    assert nd.shape == (*base.shape[:2], len(_names(ND)))
    assert len(_names(ND)) == len(_names(TissueFeatureSettings())) + 8
    np.testing.assert_array_equal(nd[..., : base.shape[-1]], base)
    assert np.all(np.isfinite(nd))
    assert TissueFeatureSettings.from_mapping(ND.to_mapping()) == ND
    assert TissueFeatureSettings.from_mapping(TissueFeatureSettings().to_mapping()).nuclear_detail is False
    assert ND.halo_um() >= TissueFeatureSettings().halo_um()
    with pytest.raises(ConfigError, match="nuclear_detail"):
        TissueFeatureSettings(nuclear_detail=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        TissueFeatureSettings(ring_um=0.0)


def test_nuclear_features_of_a_tile_with_its_halo_equal_the_whole_image() -> None:
    t = synthetic.he_necrosis_tile(5, size=448, mpp=1.0, necrosis_fraction=0.4)
    whole, _ = tissue_features(t.rgb, mpp=1.0, settings=ND)
    big = 8  # image px per output block at 1 µm/px
    halo = math.ceil(ND.halo_um() / big) * big
    r0 = 2 * big + halo
    sub = t.rgb[r0 - halo: r0 + 4 * big + halo, r0 - halo: r0 + 4 * big + halo]
    part, _ = tissue_features(sub, mpp=1.0, settings=ND)
    h = halo // big
    np.testing.assert_allclose(part[h: h + 4, h: h + 4], whole[r0 // big: r0 // big + 4, r0 // big: r0 // big + 4],
                               rtol=1e-4, atol=1e-5)


def _field(ghost: bool, seed: int = 0, mpp: float = 0.5, size: int = 256) -> np.ndarray:
    """Cells of 12 µm on a regular jittered lattice: intact nuclei (hematoxylin, dark rim, chromatin
    grains) on eosinophilic cytoplasm, or ghosts (the same outlines, pale, pink-purple, blurred)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] * mpp
    h = np.zeros((size, size))
    e = np.full((size, size), 0.25)
    pitch = 12.0
    for cy in np.arange(pitch / 2, size * mpp, pitch):
        for cx in np.arange(pitch / 2, size * mpp, pitch):
            y0, x0 = cy + rng.uniform(-2, 2), cx + rng.uniform(-2, 2)
            r = np.hypot(yy - y0, xx - x0)
            inside = r < 3.5
            rim = (r >= 2.6) & (r < 3.5)
            if ghost:
                h[inside] += 0.08
                e[inside] += 0.1
            else:
                h[inside] += 0.25
                h[rim] += 0.35
                grains = inside & (rng.random((size, size)) < 0.25)
                h[grains] += 0.3
    if ghost:
        h = ndi.gaussian_filter(h, 1.5 / mpp)
        e = ndi.gaussian_filter(e, 1.5 / mpp)
    v = np.asarray(get_preset("H&E").vectors, np.float64)
    od = h[..., None] * v[0] + e[..., None] * v[1]
    return np.clip(np.rint(255.0 * 10.0 ** -od), 0, 255).astype(np.uint8)


def test_intact_nuclei_differ_from_ghost_nuclei() -> None:
    names = _names(ND)
    for mpp in (0.5, 1.0):
        size = 256 if mpp == 0.5 else 128
        intact, _ = tissue_features(_field(False, mpp=mpp, size=size), mpp=mpp, settings=ND)
        ghost, _ = tissue_features(_field(True, mpp=mpp, size=size), mpp=mpp, settings=ND)
        for col in ("nuc_h_share_s6", "nuc_contrast_s6", "h_energy_s6"):
            i = names.index(col)
            a, b = np.median(intact[2:-2, 2:-2, i]), np.median(ghost[2:-2, 2:-2, i])
            assert a > b + 0.05, (mpp, col, a, b)


def test_small_holes_of_necrosis_are_filled_and_large_ones_kept() -> None:
    mask = np.zeros((40, 40), bool)
    mask[5:35, 5:35] = True
    mask[10:13, 10:13] = False  # 9 px hole
    mask[18:30, 18:30] = False  # 144 px hole
    holes = _small_holes(mask, 20)
    assert holes[10:13, 10:13].all()
    assert not holes[18:30, 18:30].any()
    assert holes.sum() == 9
    open_ring = mask.copy()
    open_ring[11, 0:12] = False  # the small hole now reaches the border: not a hole
    assert not _small_holes(open_ring, 20)[10:13, 10:13].any()
