"""``pigment_family_tile(drawn_melanin=True)`` (issue #14, session 38): the melanin as drawn, before the optical
blur, as the bundled sample tiles define their truth; everything else of the tile unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.synthetic import pigment_family_tile


@pytest.mark.parametrize(("family", "chromogen"), [("sparse", "dab"), ("over_nucleus", "fast_red"), ("dusty", "aec")])
def test_drawn_melanin_adds_only_its_mask_and_share(family: str, chromogen: str) -> None:
    plain = pigment_family_tile(5, family, chromogen=chromogen, size=128)
    drawn = pigment_family_tile(5, family, chromogen=chromogen, size=128, drawn_melanin=True)
    assert np.array_equal(plain.rgb, drawn.rgb)
    assert set(drawn.masks) == set(plain.masks) | {"melanin_drawn"}
    for key, mask in plain.masks.items():
        assert np.array_equal(mask, drawn.masks[key]), key
    assert {k: v for k, v in drawn.truth.items() if k != "melanin_drawn_pct"} == plain.truth
    mask, tissue = drawn.masks["melanin_drawn"], drawn.masks["tissue"]
    assert mask.dtype == bool
    assert mask.any()
    assert not (mask & ~tissue).any()
    assert drawn.truth["melanin_drawn_pct"] == pytest.approx(100.0 * mask.sum() / tissue.sum())


def test_drawn_melanin_is_narrower_than_the_blurred_truth() -> None:
    # the optical blur spreads each small granule over its rim: the blurred concentration crosses 0.15 OD
    # outside the drawn granule, so the drawn truth is the smaller one on fine pigment
    tile = pigment_family_tile(3, "dusty", size=192, drawn_melanin=True)
    drawn, seen = tile.masks["melanin_drawn"], tile.masks["melanin"]
    assert drawn.sum() < seen.sum()
    assert (drawn & seen).sum() > 0.5 * drawn.sum()


def test_no_melanin_drawn_on_the_control() -> None:
    tile = pigment_family_tile(2, "none", size=96, drawn_melanin=True)
    assert not tile.masks["melanin_drawn"].any()
    assert tile.truth["melanin_drawn_pct"] == 0.0


@pytest.mark.parametrize("family", ["dusty", "none"])
def test_azure_b_drawn_melanin_adds_only_its_mask_and_share(family: str) -> None:
    # session 39: the azure B tiles carry the same opt-in truth, nothing else of the tile moves
    from mmnst_path.synthetic_azure import azure_b_tile

    plain = azure_b_tile(4, family, size=128)
    drawn = azure_b_tile(4, family, size=128, drawn_melanin=True)
    assert np.array_equal(plain.rgb, drawn.rgb)
    assert set(drawn.masks) == set(plain.masks) | {"melanin_drawn"}
    for key, mask in plain.masks.items():
        assert np.array_equal(mask, drawn.masks[key]), key
    assert {k: v for k, v in drawn.truth.items() if k != "melanin_drawn_pct"} == plain.truth
    mask, tissue = drawn.masks["melanin_drawn"], drawn.masks["tissue"]
    assert not (mask & ~tissue).any()
    assert drawn.truth["melanin_drawn_pct"] == pytest.approx(100.0 * mask.sum() / tissue.sum())
    if family == "none":
        assert not mask.any()
    else:
        assert 0 < mask.sum() < plain.masks["melanin"].sum()
