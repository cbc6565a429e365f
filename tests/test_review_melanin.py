"""Melanin corrections (session 41 H4, review leftover 3): blocks of the run's melanin map painted melanin / no
melanin give the reviewed melanin area and fraction of tissue, computed by hand here."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path._review_melanin import MELANIN_ADD, MELANIN_REMOVE, block_tissue_mm2, reviewed_melanin


def test_block_tissue_sums_the_tissue_map_into_blocks():
    tissue = np.ones((4, 6))
    tissue[0, 0] = 0.5
    tissue[3, 5] = np.nan  # no tissue
    # 2 x 2 tissue pixels per block, 2 level-0 px per tissue pixel at 0.5 µm/px: a tissue pixel is 1e-6 mm²
    bt = block_tissue_mm2(tissue, tissue_downsample=2.0, downsample=4.0, grid=(2, 3), mpp=0.5)
    assert bt.shape == (2, 3)
    assert bt[0, 0] == pytest.approx(3.5e-6)
    assert bt[1, 2] == pytest.approx(3e-6)
    assert bt[0, 1] == pytest.approx(4e-6)
    with pytest.raises(ValueError, match=r"downsample=5\.0 is not a whole number"):
        block_tissue_mm2(tissue, tissue_downsample=2.0, downsample=5.0, grid=(2, 3), mpp=0.5)


def test_reviewed_melanin_by_hand():
    share = np.array([[0.5, 0.0], [np.nan, 0.25]])
    tissue = np.array([[2.0, 2.0], [0.0, 4.0]])  # mm² per block
    run_area = 0.5 * 2 + 0.25 * 4  # 2.0 mm², over 8 mm² of tissue: 25 %
    keep = reviewed_melanin(share, np.zeros((2, 2), int), tissue, area_mm2=run_area, tissue_mm2=8.0)
    assert keep["melanin_area_mm2"] == pytest.approx(2.0)
    assert keep["melanin_fraction_pct"] == pytest.approx(25.0)
    assert keep["changed_blocks"] == 0
    corr = np.array([[MELANIN_REMOVE, MELANIN_ADD], [MELANIN_ADD, 0]])
    out = reviewed_melanin(share, corr, tissue, area_mm2=run_area, tissue_mm2=8.0)
    # block (0, 0) loses 1 mm², block (0, 1) gains 2 mm², block (1, 0) has no tissue: nothing
    assert out["melanin_area_mm2"] == pytest.approx(3.0)
    assert out["melanin_fraction_pct"] == pytest.approx(37.5)
    assert out["measured_fraction_pct"] == pytest.approx(25.0)
    assert (out["added_mm2"], out["removed_mm2"]) == (pytest.approx(2.0), pytest.approx(1.0))
    assert (out["blocks_added"], out["blocks_removed"], out["changed_blocks"]) == (2, 1, 2)
    with pytest.raises(ValueError, match=r"corrections hold \[3\]"):
        reviewed_melanin(share, np.full((2, 2), 3), tissue, area_mm2=run_area, tissue_mm2=8.0)
    with pytest.raises(ValueError, match="must equal the melanin map's"):
        reviewed_melanin(share, np.zeros((3, 2), int), tissue, area_mm2=run_area, tissue_mm2=8.0)
    assert np.isnan(reviewed_melanin(share, corr, tissue, area_mm2=run_area, tissue_mm2=0.0)["melanin_fraction_pct"])
