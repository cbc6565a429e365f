"""``pigment_family_tile(melanin_clumps=True)`` (issue #14, session 25): compact, lobed masses of packed melanin
(:func:`mmnst_path._synthetic_pigment.melanin_clump_layer`), opt-in; default tiles unchanged byte for byte."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from mmnst_path._synthetic_pigment import CLUMP_UM, melanin_clump_layer
from mmnst_path.synthetic import pigment_family_tile

#: sha256 (first 16 hex) of rgb + melanin mask of 128 px tiles, computed on main d9aceec (before the option)
PINNED = [
    ((3, "confluent"), {}, "ae6babb3acc674a1"),
    ((5, "over_nucleus"), {"near_black": True}, "f27ebd63d2fbbc81"),
    ((2, "dusty"), {"appearance": "wide"}, "1912ee67a8b90c1e"),
    ((1, "melanophage"), {"chromogen": "aec"}, "4681022545207bfd"),
]


@pytest.mark.parametrize(("args", "kw", "digest"), PINNED)
def test_default_tiles_are_those_before_the_option(args, kw, digest) -> None:
    for extra in ({}, {"melanin_clumps": False}):
        t = pigment_family_tile(*args, size=128, **kw, **extra)
        assert hashlib.sha256(t.rgb.tobytes() + t.masks["melanin"].tobytes()).hexdigest()[:16] == digest


def test_clumps_add_dark_lobed_melanin_and_keep_the_ki67_layout() -> None:
    base = pigment_family_tile(4, "coarse", size=192, positive_fraction=0.3)
    lump = pigment_family_tile(4, "coarse", size=192, positive_fraction=0.3, melanin_clumps=True)
    for name in ("nuclei", "positive_nuclei", "tissue"):
        assert np.array_equal(lump.masks[name], base.masks[name]), name
    assert lump.truth["ki67_positive"] == base.truth["ki67_positive"]
    assert lump.truth["ki67_negative"] == base.truth["ki67_negative"]
    new = lump.masks["melanin"] & ~base.masks["melanin"]
    assert new.sum() > 0.03 * lump.masks["tissue"].sum()  # the masses are large
    assert lump.truth["melanin_fraction_pct"] > base.truth["melanin_fraction_pct"] + 3
    assert lump.truth["hidden_nuclei"] > base.truth["hidden_nuclei"]  # they cover nuclei
    # brown to brown-black: dark, and blue absorbed more than red
    px = lump.rgb[new].astype(float)
    glass = base.rgb[~base.masks["tissue"]].astype(float).mean(axis=0) if (~base.masks["tissue"]).any() else 240.0
    assert px.mean() < 0.6 * np.mean(glass)
    assert np.median(px[:, 2] - px[:, 0]) <= 0  # B <= R: brown, not the blue of hematoxylin


def test_clump_layer_sizes_and_texture() -> None:
    shape, mpp = (200, 200), 0.5
    tissue = np.ones(shape, bool)
    cells = [(100.0, 100.0, 8.0, 6.0, 0.3)]
    out, vec = melanin_clump_layer(shape, cells, np.array([True]), tissue, np.random.default_rng(3), mpp)
    assert out.dtype == np.float32
    assert out.shape == shape
    assert vec.shape == (3,)
    assert abs(float(np.linalg.norm(vec)) - 1) < 1e-6
    assert vec[2] > vec[0]  # a melanin (brown) vector: blue absorbed most
    body = out > 0.05 * out.max()
    side_um = np.sqrt(body.sum()) * mpp
    assert side_um <= 2 * CLUMP_UM[1]  # no mass larger than the largest clumps (free ones included)
    none, _ = melanin_clump_layer(shape, cells, np.array([False]), np.zeros(shape, bool), np.random.default_rng(3), mpp)
    assert not none.any()
    strip = np.zeros(shape, bool)
    strip[:, 95:105] = True  # 5 µm of tissue: a free mass (>= 10 µm) centred in it overhangs the glass
    cut, _ = melanin_clump_layer(shape, cells, np.array([False]), strip, np.random.default_rng(3), mpp)
    assert cut.any()
    assert not cut[~strip].any()  # no melanin on the glass


def test_clumps_need_a_pigment_family() -> None:
    with pytest.raises(ValueError, match="melanin_clumps=True needs a pigment family"):
        pigment_family_tile(0, "none", size=64, melanin_clumps=True)
