"""``pigment_family_tile(dab_strength="endonuke")`` (issue #14, session 27): DAB positives drawn from the range
measured on the EndoNuke ER/PR tiles, opt-in; default tiles unchanged byte for byte."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path._synthetic_dab import ENDONUKE_TILE_DAB, EndoNukeDab
from mmnst_path.stain import get_preset, separate_stains
from mmnst_path.synthetic import pigment_family_tile

#: sha256 (first 16 hex) of rgb + every mask (``tile_digest``) of 128 px tiles, computed on main e8fabd9
PINNED = [
    ((3, "confluent"), {}, "44e69c203f56124c"),
    ((5, "over_nucleus"), {"near_black": True}, "46aa6d8f3f481ef4"),
    ((2, "dusty"), {"appearance": "wide"}, "3420cbe49852a9e0"),
    ((7, "whole_cell"), {"positives": "wide"}, "fb730a2ebaefff36"),
    ((4, "spindle"), {"saturated_positives": True, "positive_fraction": 0.4}, "581fafb83e51bfd2"),
    ((1, "melanophage"), {"chromogen": "aec"}, "908363af78a2919a"),
]


@pytest.mark.parametrize(("args", "kw", "digest"), PINNED)
def test_default_tiles_are_those_before_the_option(args, kw, digest, tile_digest) -> None:
    for extra in ({}, {"dab_strength": None}):
        assert tile_digest(pigment_family_tile(*args, size=128, **kw, **extra)) == digest


def _positive_medians(tile) -> tuple[float, float]:
    """(median DAB, median hematoxylin) over the true positive nuclei's pixels (H-DAB unmixing)."""
    conc = separate_stains(tile.rgb, get_preset("H-DAB"), stains=("hematoxylin", "dab"))
    on = tile.masks["positive_nuclei"]
    return float(np.median(conc[..., 1][on])), float(np.median(conc[..., 0][on]))


def test_endonuke_positives_keep_the_layout_carry_counterstain_and_vary_per_tile() -> None:
    dab, hem, dab_std, hem_std = [], [], [], []
    for seed in range(6):
        kw = {"size": 192, "positive_fraction": 0.4}
        std = pigment_family_tile(seed, "sparse", **kw)
        new = pigment_family_tile(seed, "sparse", dab_strength="endonuke", **kw)
        for name in ("nuclei", "positive_nuclei", "tissue", "melanin"):  # same cells, same status, same pigment
            assert np.array_equal(new.masks[name], std.masks[name]), name
        for key in ("ki67_positive", "ki67_negative", "ki67_index_pct", "melanin_fraction_pct"):
            assert new.truth[key] == std.truth[key], key
        # only the positives change (pixels beyond their blur and JPEG blocks' reach: 4 µm, 8 px)
        near = ndi.binary_dilation(new.masks["positive_nuclei"], iterations=8)
        assert np.abs(new.rgb[~near].astype(int) - std.rgb[~near].astype(int)).mean() < 1.0
        assert np.abs(new.rgb[near].astype(int) - std.rgb[near].astype(int)).mean() > 3.0
        d, h = _positive_medians(new)
        ds, hs = _positive_medians(std)
        dab.append(d)
        hem.append(h)
        dab_std.append(ds)
        hem_std.append(hs)
    # EndoNuke's positives keep their counterstain (tile medians 0.23-0.58 OD); the standard ones are pale
    assert np.mean(hem) > np.mean(hem_std) + 0.1
    # the tile's level is drawn per tile: the tiles' positive DAB spans a real range, within EndoNuke's
    assert max(dab) - min(dab) > 0.12
    assert ENDONUKE_TILE_DAB[0] * 0.7 < min(dab)
    assert max(dab) < ENDONUKE_TILE_DAB[-1] * 1.4


def test_endonuke_draws_follow_the_measured_tables() -> None:
    tiles = [EndoNukeDab(np.random.default_rng(s)) for s in range(400)]
    levels = np.array([t.dab for t in tiles])
    assert abs(np.median(levels) - ENDONUKE_TILE_DAB[5]) < 0.05
    draws = np.array([tiles[0].draw() for _ in range(2000)])
    assert (draws[:, 0] > 0).all()
    assert (draws[:, 1] > 0).all()
    # a long weak tail: the weakest tenth of a tile's positives below 0.65x its median
    assert np.percentile(draws[:, 0], 10) < 0.65 * np.median(draws[:, 0])


@pytest.mark.parametrize(("kw", "word"), [({"dab_strength": "strong"}, "dab_strength"),
                                          ({"dab_strength": "endonuke", "chromogen": "aec"}, "chromogen"),
                                          ({"dab_strength": "endonuke", "positives": "wide"}, "positives")])
def test_bad_dab_strength_is_refused_by_name(kw, word) -> None:
    with pytest.raises(ValueError, match=word):
        pigment_family_tile(0, "sparse", size=64, **kw)
