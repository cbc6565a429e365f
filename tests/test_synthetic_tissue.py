"""Generated tiles with tissue-class truth (mmnst_path.synthetic_tissue)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.synthetic_tissue import he_keratin_tile, ihc_tissue_tile


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
