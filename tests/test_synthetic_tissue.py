"""Generated tiles with tissue-class truth (mmnst_path.synthetic_tissue)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.synthetic_tissue import he_keratin_tile, he_tissue_tile, ihc_tissue_tile


@pytest.mark.parametrize("chromogen", ["dab", "aec", "fast_red"])
def test_ihc_tile_classes_partition_the_tissue_and_render_the_stains(chromogen: str) -> None:
    tile = ihc_tissue_tile(11, size=192, mpp=0.5, chromogen=chromogen)
    m = tile.masks
    assert tile.rgb.shape == (192, 192, 3)
    assert tile.rgb.dtype == np.uint8
    assert not (m["tumour"] & m["stroma"]).any()
    np.testing.assert_array_equal(m["tumour"] | m["stroma"], m["tissue"])
    assert tile.stains == {"dab": "H-DAB", "aec": "H-AEC", "fast_red": "H-FastRed"}[chromogen]
    # glass is bright, tissue darker
    grey = tile.rgb.mean(-1)
    assert (~m["tissue"]).any()  # seed 11 has glass
    assert grey[~m["tissue"]].mean() > grey[m["tissue"]].mean() + 20
    assert np.array_equal(ihc_tissue_tile(11, size=192, mpp=0.5, chromogen=chromogen).rgb, tile.rgb)  # seeded
    with pytest.raises(ValueError, match="chromogen"):
        ihc_tissue_tile(1, chromogen="eosin")


def test_keratin_tile_truth_matches_its_masks() -> None:
    fractions = []
    for seed in range(1, 7):
        tile = he_keratin_tile(seed, size=192, mpp=0.5)
        m = tile.masks
        clean = m["tissue"] & ~m["background"]
        for a, b in (("tumour", "stroma"), ("tumour", "keratin"), ("stroma", "keratin")):
            assert not (m[a] & m[b]).any()
        np.testing.assert_array_equal(m["tumour"] | m["stroma"] | m["keratin"], clean)
        frac = 100.0 * m["keratin"].sum() / max(clean.sum(), 1)
        assert tile.truth["keratin_fraction_pct"] == pytest.approx(frac)
        fractions.append(frac)
        if m["keratin"].any():  # keratin is eosinophilic (pink): green absorbed most
            od = -np.log10(np.maximum(tile.rgb[m["keratin"]].astype(float), 1) / 255.0).mean(0)
            assert od[1] > od[0]
    assert max(fractions) > 10  # keratin appears in the series


@pytest.mark.parametrize("layout", ["none", "geographic", "comedo", "islands"])
def test_he_tissue_tile_classes_partition_the_tile_and_truth_matches(layout: str) -> None:
    tile = he_tissue_tile(950, size=256, mpp=1.0, necrosis=layout)
    m = tile.masks
    names = ("tumour", "stroma", "inflammatory", "necrosis", "background")
    total = sum(m[n].astype(int) for n in names)
    np.testing.assert_array_equal(total, 1)  # every pixel has exactly one class
    np.testing.assert_array_equal(~m["background"], m["tissue"])
    frac = 100.0 * m["necrosis"].sum() / m["tissue"].sum()
    assert tile.truth["necrosis_fraction_pct"] == pytest.approx(frac)
    assert tile.truth["layout"] == layout
    assert (frac == 0) == (layout == "none")
    if layout == "comedo":  # comedo necrosis lies inside the nests: every necrotic pixel has tumour nearby
        from scipy import ndimage as ndi

        near_tumour = ndi.binary_dilation(m["tumour"], iterations=40)
        assert near_tumour[m["necrosis"]].all()
    assert np.array_equal(he_tissue_tile(950, size=256, mpp=1.0, necrosis=layout).rgb, tile.rgb)  # seeded


def test_he_tissue_tile_draws_varied_necrosis_and_rejects_unknown_layouts() -> None:
    layouts, eosin_od = set(), []
    for seed in range(951, 960):
        tile = he_tissue_tile(seed, size=192, mpp=1.0)
        layouts.add(tile.truth["layout"])
        nec = tile.masks["necrosis"]
        if nec.sum() > 200:
            od = -np.log10(np.maximum(tile.rgb[nec].astype(float), 1) / 255.0).mean(0)
            eosin_od.append(od[1])  # eosin absorbs green
    assert len(layouts) >= 3
    assert max(eosin_od) > 2 * min(eosin_od)  # pale and dense eosinophilic necrosis both appear
    with pytest.raises(ValueError, match="necrosis must be one of"):
        he_tissue_tile(1, necrosis="liquefactive")
