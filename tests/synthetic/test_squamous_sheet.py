"""``he_squamous_sheet_tile`` (session 27, #13): the dev analogue of wide maturing squamous carcinoma sheets."""

from __future__ import annotations

import numpy as np

from mmnst_path.stain import get_preset, separate_stains
from mmnst_path.synthetic_tissue import he_squamous_sheet_tile


def test_same_seed_same_tile_and_masks_partition_the_tissue() -> None:
    a, b, c = he_squamous_sheet_tile(3, size=256), he_squamous_sheet_tile(3, size=256), he_squamous_sheet_tile(4, size=256)
    np.testing.assert_array_equal(a.rgb, b.rgb)
    assert not np.array_equal(a.rgb, c.rgb)
    assert a.rgb.shape == (256, 256, 3)
    assert a.rgb.dtype == np.uint8
    assert a.mpp == 1.0
    assert a.stains == "H&E"
    m = a.masks
    assert not (m["tumour"] & m["stroma"]).any()
    np.testing.assert_array_equal(m["tumour"] | m["stroma"], m["tissue"])
    np.testing.assert_array_equal(m["background"], ~m["tissue"])
    assert a.truth["necrosis_fraction_pct"] == 0.0
    assert abs(a.truth["tumour_fraction_pct"] - 100 * m["tumour"].sum() / m["tissue"].sum()) < 1e-6


def test_it_is_sheets_of_pink_cells_between_lymphocyte_rich_septa() -> None:
    """Over seeds: tumour is most of the tissue and pink (red over green), its cells have nuclei (hematoxylin
    peaks over the cytoplasm), sparser than the lymphocytes of the septa (the darkest tenth of each tile's tissue
    lies more in the septa)."""
    in_stroma, in_tumour = [], []
    for seed in (0, 1, 2, 3):
        t = he_squamous_sheet_tile(seed, size=384)
        tum, st = t.masks["tumour"], t.masks["stroma"]
        assert tum.sum() > 0.6 * t.masks["tissue"].sum()
        rgb = t.rgb.astype(np.float32)
        assert rgb[tum][:, 0].mean() > rgb[tum][:, 1].mean() + 30  # eosin-rich cytoplasm
        v = rgb.min(-1)
        dark = v < np.quantile(v[t.masks["tissue"]], 0.1)
        hem = separate_stains(t.rgb, get_preset("H&E"), stains=("hematoxylin",))[..., 0][tum]
        assert np.percentile(hem, 97) > 2.5 * np.percentile(hem, 50)  # nuclei over the cytoplasm (none: ~1.3x)
        in_stroma.append(dark[st].mean())
        in_tumour.append(dark[tum].mean())
    assert np.mean(in_stroma) > 1.3 * np.mean(in_tumour)
