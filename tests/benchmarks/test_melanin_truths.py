"""The melanin benchmarks read one truth (session 39): ``eval_pigment_families.truth_columns`` scores a mask
against the pigment as drawn and as seen through the optical blur, ``mel_true`` / ``dice`` following ``truth``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.synthetic import pigment_family_tile

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fam():
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    import eval_pigment_families

    return eval_pigment_families


@pytest.fixture(scope="module")
def tile():
    return pigment_family_tile(6, "coarse", chromogen="aec", size=128, drawn_melanin=True)


def test_each_truth_scores_its_own_mask_perfectly(fam, tile) -> None:
    for name, (mask_key, pct_key) in fam.TRUTHS.items():
        cols = fam.truth_columns(tile, tile.masks[mask_key], name)
        assert cols["dice"] == pytest.approx(1.0)
        assert cols["mask_err"] == pytest.approx(0.0)
        assert cols["false_pct"] == 0.0
        assert cols["mel_true"] == tile.truth[pct_key]
    # the blurred mask read against the drawn truth: wider, so its surplus is false pigment
    wide = fam.truth_columns(tile, tile.masks["melanin"], "drawn")
    assert wide["mask_err"] > 0.0
    assert wide["false_pct"] == pytest.approx(wide["false_drawn"])
    assert wide["false_pct"] > 0.0
    assert wide["dice"] < 1.0
    assert wide["dice_seen"] == pytest.approx(1.0)


def test_an_empty_mask_and_an_unknown_truth(fam, tile) -> None:
    cols = fam.truth_columns(tile, np.zeros_like(tile.masks["tissue"]), "seen")
    assert cols["dice"] == 0.0
    assert cols["mask_err"] == pytest.approx(-cols["mel_true"])
    with pytest.raises(ValueError, match=r"truth must be one of .*'blurred'"):
        fam.truth_columns(tile, tile.masks["melanin"], "blurred")
