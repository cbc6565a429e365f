"""Generated dense eosinophilic necrosis beside collagen at one eosin level (mmnst_path._synthetic_dense)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path._synthetic_dense import he_dense_necrosis_tile
from mmnst_path.stain import od_from_rgb


def test_dense_tile_classes_partition_the_tile_and_truth_matches() -> None:
    for seed in range(970, 974):
        tile = he_dense_necrosis_tile(seed, size=160, mpp=1.0 if seed % 2 else 0.5)
        m = tile.masks
        total = m["tumour"].astype(int) + m["stroma"] + m["necrosis"]
        np.testing.assert_array_equal(total, m["tissue"].astype(int))  # one class per tissue pixel
        np.testing.assert_array_equal(m["background"], ~m["tissue"])
        assert m["necrosis"].any()
        assert m["stroma"].any()
        assert tile.truth["necrosis_fraction_pct"] == pytest.approx(100.0 * m["necrosis"].sum() / m["tissue"].sum())
        assert 0.12 <= tile.truth["eosin_level"] <= 0.6
        assert 0.8 <= tile.truth["necrosis_to_stroma"] <= 1.25
        assert tile.stains == "H&E"
        assert tile.rgb.dtype == np.uint8
        assert tile.rgb.shape == (160, 160, 3)
    a, b = he_dense_necrosis_tile(971, size=128), he_dense_necrosis_tile(971, size=128)
    np.testing.assert_array_equal(a.rgb, b.rgb)
    assert not np.array_equal(a.rgb, he_dense_necrosis_tile(972, size=128).rgb)


def test_necrosis_and_collagen_are_drawn_at_one_stain_level() -> None:
    """Necrosis and stroma differ by structure, not level: their median OD lies within a factor 1.7 of each other."""
    for seed in range(975, 981):
        tile = he_dense_necrosis_tile(seed, size=256, mpp=0.5)
        od = od_from_rgb(tile.rgb).sum(-1)
        nec, stroma = tile.masks["necrosis"], tile.masks["stroma"]
        ratio = float(np.median(od[nec]) / np.median(od[stroma]))
        assert 1 / 1.7 < ratio < 1.7, (seed, ratio)


@pytest.mark.parametrize(("kw", "word"), [({"mpp": 2.0}, "mpp"), ({"size": 32}, "size")])
def test_dense_tile_refuses_bad_arguments(kw: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        he_dense_necrosis_tile(1, **kw)
