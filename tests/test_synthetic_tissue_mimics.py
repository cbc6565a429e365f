"""Generated necrosis mimics (mmnst_path.synthetic_tissue.he_mimic_tile, mmnst_path._synthetic_mimics)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path._synthetic_mimics import MIMIC_KINDS, NECROSIS_KINDS, paint_mimic, paint_necrosis
from mmnst_path.stain import get_preset, od_from_rgb
from mmnst_path.synthetic_tissue import he_mimic_tile

CLASSES = ("tumour", "stroma", "necrosis", "blood", "mucin", "keratin", "fat")


def test_mimic_tile_classes_partition_the_tile_and_truth_matches() -> None:
    drawn: set[str] = set()
    for seed in range(960, 966):
        tile = he_mimic_tile(seed, size=160, mpp=1.0)
        m = tile.masks
        total = np.zeros(tile.rgb.shape[:2], int)
        for name in CLASSES:
            total += m[name]
        np.testing.assert_array_equal(total, m["tissue"].astype(int))  # one class per tissue pixel
        np.testing.assert_array_equal(m["background"], ~m["tissue"])
        assert tile.truth["necrosis_fraction_pct"] == pytest.approx(100.0 * m["necrosis"].sum() / m["tissue"].sum())
        drawn |= set(tile.truth["kinds"])
        assert tile.stains == "H&E"
        assert tile.rgb.dtype == np.uint8
    assert len(drawn & set(MIMIC_KINDS)) >= 5  # the mimics vary between seeds
    assert np.array_equal(he_mimic_tile(960, size=160, mpp=1.0).rgb, he_mimic_tile(960, size=160, mpp=1.0).rgb)


@pytest.mark.parametrize("kind", [*NECROSIS_KINDS, "none"])
def test_necrosis_kind_is_drawn_when_asked(kind: str) -> None:
    tile = he_mimic_tile(961, size=160, mpp=1.0, necrosis=kind)
    assert tile.truth["necrosis_kind"] == kind
    if kind == "none":
        assert not tile.masks["necrosis"].any()
    else:
        assert tile.masks["necrosis"].any()
    with pytest.raises(ValueError, match="necrosis"):
        he_mimic_tile(1, necrosis="caseous")


def _paint(kind: str, seed: int, mpp: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    shape = (200, 200)
    h, e, r = (np.zeros(shape, np.float32) for _ in range(3))
    region = np.ones(shape, bool)
    rng = np.random.default_rng(seed)
    if kind in MIMIC_KINDS:
        paint_mimic(kind, h, e, r, region, mpp, rng)
    else:
        paint_necrosis(kind, h, e, r, region, mpp, rng, spacing_um=12.0, radius_um=(3.5, 5.0))
    return h, e, r


def test_mimics_look_as_the_pathology_says() -> None:
    """Blood is haemoglobin, mucin hematoxylin-pale, collagen and keratin eosin with few nuclei, fat mostly empty."""
    for seed in range(3):
        h, e, r = _paint("blood", seed)
        assert r.mean() > 3 * e.mean()
        h, e, r = _paint("mucin", seed)
        assert h.mean() < 0.15
        assert e.mean() <= h.mean()
        for kind in ("collagen", "keratin"):
            h, e, r = _paint(kind, seed)
            assert e.mean() + r.mean() > 0.1
            assert (h > 0.2).mean() < 0.02  # nuclei cover < 2 % of the area
        h, e, r = _paint("fat", seed)
        assert (e < 0.02).mean() > 0.8
    h, _, _ = _paint("dirty", 1)
    assert (h > 0.3).mean() > 0.01  # karyorrhectic dust
    with pytest.raises(ValueError, match="kind"):
        _paint("bone", 0)


def test_mimic_tile_stains_follow_the_h_and_e_vectors() -> None:
    tile = next(t for t in (he_mimic_tile(s, size=160, mpp=1.0) for s in range(960, 970))
                if 0.1 < t.masks["background"].mean() < 0.9)
    od = od_from_rgb(tile.rgb)
    conc = od.reshape(-1, 3) @ np.linalg.inv(np.asarray(get_preset("H&E").vectors, np.float64))
    tissue = tile.masks["tissue"].ravel()
    assert conc[tissue, 1].mean() > conc[~tissue, 1].mean() + 0.02  # tissue carries eosin, glass does not


def test_stain_vectors_span_the_eosin_hues_and_keep_blood_apart() -> None:
    """Eosin from magenta-pink (the H&E preset) to red-pink (Ruifrok's eosin); haemoglobin >= 12° from it."""
    from mmnst_path._synthetic_mimics import EOSIN_REFS, MIN_HUE_GAP_DEG, stain_vectors

    rng = np.random.default_rng(0)
    blue_share, gaps = [], []
    for _ in range(300):
        ve, vr = stain_vectors(rng)
        assert ve.dtype == np.float32
        assert vr.dtype == np.float32
        assert abs(float(np.linalg.norm(ve)) - 1) < 1e-5
        assert abs(float(np.linalg.norm(vr)) - 1) < 1e-5
        blue_share.append(ve[2] / ve.sum())
        gaps.append(np.degrees(np.arccos(np.clip(ve @ vr, -1, 1))))
        assert vr[2] >= 0.8 * vr[1]  # haemoglobin absorbs blue about as much as green or more: orange-red
    ref_share = [v[2] / sum(v) for v in EOSIN_REFS]
    assert min(blue_share) < ref_share[0] + 0.05
    assert max(blue_share) > ref_share[1] - 0.05
    assert min(gaps) >= MIN_HUE_GAP_DEG - 1e-3


def test_dense_necrosis_is_an_even_hypereosinophilic_sheet_with_dust() -> None:
    """``dense``: eosin 0.3-0.6 OD, evenly mottled (no bundles, no clefts), fine dark dust, no intact nuclei."""
    for seed in range(6):
        h, e, _r = _paint("dense", seed)
        assert 0.25 < float(np.median(e)) < 0.75
        assert (e < 0.5 * np.median(e)).mean() < 0.01  # no clefts or holes
        assert 0.0005 < (h > np.median(h) + 0.15).mean() < 0.08  # karyorrhectic dust, not nuclei


def test_blood_shows_red_cell_outlines() -> None:
    """Packed and sludged erythrocytes: haemoglobin with paler seams or centres between dense rims (the texture
    that tells blood from a dense necrotic sheet); lysed blood is a smudge of the same hue."""
    textured = 0
    for seed in range(12):
        _h, e, r = _paint("blood", seed)
        assert r.mean() > 3 * e.mean()
        core = r[20:-20, 20:-20]
        if core.std() / core.mean() > 0.3:
            textured += 1
    assert textured >= 6  # most blood shows its cells (a quarter is lysed)
