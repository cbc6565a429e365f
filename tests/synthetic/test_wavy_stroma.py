"""Wavy, weakly oriented / unoriented collagen in the generated H&E tissue tile (``he_tissue_tile(...,
stroma_kind="wavy")``, #13 session 22): opt-in, the default tiles byte-identical to before, only the stroma repainted."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path import synthetic_tissue
from mmnst_path._synthetic_wavy import wavy_stroma
from mmnst_path.synthetic_tissue import he_tissue_tile

#: sha256 (first 16 hex) of rgb + masks of default tiles, computed with the generator at 4f43f74 (before the option)
PINNED = {(950, 128, 1.0, None): "fc1f9f00bddb6747", (951, 160, 0.5, "geographic"): "8b97e3f03185cac7"}


def test_default_tiles_are_byte_identical_to_before(tile_digest) -> None:
    for (seed, size, mpp, nec), digest in PINNED.items():
        assert tile_digest(he_tissue_tile(seed, size=size, mpp=mpp, necrosis=nec)) == digest
        assert tile_digest(he_tissue_tile(seed, size=size, mpp=mpp, necrosis=nec, stroma_kind="default")) == digest


@pytest.mark.parametrize(("seed", "mpp"), [(950, 0.5), (953, 1.0)])
def test_wavy_repaints_the_stroma_and_nothing_else(seed: int, mpp: float) -> None:
    plain = he_tissue_tile(seed, size=192, mpp=mpp)
    wavy = he_tissue_tile(seed, size=192, mpp=mpp, stroma_kind="wavy")
    assert plain.masks.keys() == wavy.masks.keys()
    for k in plain.masks:
        np.testing.assert_array_equal(wavy.masks[k], plain.masks[k])
    assert wavy.truth == plain.truth
    stroma = plain.masks["stroma"]
    diff = np.abs(wavy.rgb.astype(np.int16) - plain.rgb.astype(np.int16)).sum(-1)
    assert diff[stroma].mean() > 10  # a visibly different stroma
    # farther than 24 px from the stroma (its old spindle nuclei, blur and JPEG blocks reach less far): unchanged
    far = ndi.distance_transform_edt(~stroma) > 24
    assert far.sum() > 1000
    assert not diff[far].any()
    np.testing.assert_array_equal(he_tissue_tile(seed, size=192, mpp=mpp, stroma_kind="wavy").rgb, wavy.rgb)  # seeded


def _coherence(e: np.ndarray, sigma_px: float) -> float:
    """Mean structure-tensor coherence (1 = every gradient one way, 0 = no preferred direction)."""
    gy, gx = ndi.sobel(e, 0), ndi.sobel(e, 1)
    jxx, jyy, jxy = (ndi.gaussian_filter(v, sigma_px) for v in (gx * gx, gy * gy, gx * gy))
    return float((np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / (jxx + jyy + 1e-9)).mean())


def test_wavy_collagen_is_far_less_oriented_than_the_default_fibres() -> None:
    region = np.ones((192, 192), bool)
    wavy, default = [], []
    for seed in range(6):
        h, e = wavy_stroma(region, 0.5, np.random.default_rng(seed))
        assert e.dtype == np.float32
        assert h.dtype == np.float32
        assert 0.0 < float(e.mean()) < 1.5
        wavy.append(_coherence(e, 40))  # 20 µm neighbourhoods
        default.append(_coherence(synthetic_tissue._fibres(region.shape, 0.5, np.random.default_rng(seed)), 40))
    assert min(default) > 0.9
    assert max(wavy) < 0.8
    assert float(np.median(wavy)) < 0.5


def test_wavy_stroma_is_zero_outside_its_region_and_unknown_kinds_are_refused() -> None:
    region = np.zeros((96, 96), bool)
    region[20:70, 10:80] = True
    h, e = wavy_stroma(region, 1.0, np.random.default_rng(3))
    assert not h[~region].any()
    assert not e[~region].any()
    assert e[region].max() > 0.05
    with pytest.raises(ValueError, match="stroma_kind must be one of"):
        he_tissue_tile(1, size=64, stroma_kind="curly")
