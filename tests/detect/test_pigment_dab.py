"""The learned melanin classifier on H-DAB (issue #14): DAB nuclei vetoed, pigment found, old
model files still readable, generator appearance randomisation."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify._pigment_granules import GRANULE_FEATURES
from mmnst_path.classify._pigment_reach_bodies import BOUNDED_FEATURES
from mmnst_path.classify.pigment import (
    PigmentFeatureSettings,
    classify_pigment,
    pigment_feature_specs,
    pigment_features,
    resolve_pigment_model,
)
from mmnst_path.detect.pigment import PigmentParams, dab_body_veto, pigment_masks
from mmnst_path.errors import ConfigError
from mmnst_path.stain import get_preset, rgb_from_stains
from mmnst_path.synthetic import pigment_family_tile


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def _dab_nucleus_scene() -> tuple[np.ndarray, np.ndarray]:
    """A strong DAB-filled nucleus (8 µm across) on pale hematoxylin at 0.5 µm/px."""
    conc = np.zeros((64, 64, 2), np.float32)
    conc[..., 0] = 0.05
    yy, xx = np.mgrid[:64, :64]
    nucleus = (yy - 32) ** 2 + (xx - 32) ** 2 <= 8**2
    conc[nucleus, 1] = 1.0
    return rgb_from_stains(conc, get_preset("H-DAB"), stains=("hematoxylin", "dab")), nucleus


def test_dab_body_veto_removes_a_nucleus_the_model_marks_only_at_its_rim():
    rgb, nucleus = _dab_nucleus_scene()
    from scipy import ndimage as ndi

    rim = nucleus & ~ndi.binary_erosion(nucleus, iterations=1)  # a quarter of the body
    halo = ndi.binary_dilation(nucleus, iterations=3) & ~nucleus
    veto = dab_body_veto(rgb, rim | halo, mpp=0.5, stains="H-DAB")
    assert veto[nucleus].all()
    assert veto[halo].all()  # the marked halo connected to the body goes with it
    assert not veto[0:10, 0:10].any()


def test_dab_body_veto_keeps_a_body_the_model_marks_over_most_of_its_area():
    rgb, nucleus = _dab_nucleus_scene()
    assert not dab_body_veto(rgb, nucleus.copy(), mpp=0.5, stains="H-DAB").any()
    # the share is a parameter: demanding all of it vetoes a body marked at 90 %
    from scipy import ndimage as ndi

    most = ndi.binary_erosion(nucleus, iterations=1)
    assert dab_body_veto(rgb, most, mpp=0.5, stains="H-DAB", params=PigmentParams(model_body_share=1.0)).any()
    # no brown bodies outside brown mode
    assert not dab_body_veto(rgb, nucleus, mpp=0.5, stains="H&E").any()


def test_new_pigment_params_are_validated():
    with pytest.raises(ConfigError, match="model_body_share"):
        PigmentParams(model_body_share=1.5)
    with pytest.raises(ConfigError, match="model_body_veto"):
        PigmentParams(model_body_veto="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="model_min_od"):
        PigmentParams(model_min_od=0.0)
    with pytest.raises(ConfigError, match="model_rim_um"):
        PigmentParams(model_rim_um=float("nan"))
    p = PigmentParams.from_mapping({"model_body_share": 0.7, "model_min_od": 0.2})
    assert (p.model_body_share, p.model_min_od) == (0.7, 0.2)


def test_features_are_selected_by_name_for_older_models():
    tile = pigment_family_tile(3, "coarse", size=96)
    names = [f.name for f in pigment_feature_specs(PigmentFeatureSettings())]
    full, cand = pigment_features(tile.rgb, mpp=tile.mpp)
    assert full.shape == (int(cand.sum()), len(names))
    some, cand2 = pigment_features(tile.rgb, mpp=tile.mpp, names=[names[4], names[0]])
    np.testing.assert_array_equal(cand, cand2)
    np.testing.assert_array_equal(some, full[:, [4, 0]])
    with pytest.raises(ConfigError, match="not computed"):
        pigment_features(tile.rgb, mpp=tile.mpp, names=["u_r", "sparkle"])


def test_generator_appearance_keeps_the_layout_and_is_validated():
    varied = pigment_family_tile(5, "perinuclear", size=128)
    plain = pigment_family_tile(5, "perinuclear", size=128, appearance="plain")
    np.testing.assert_array_equal(varied.masks["nuclei"], plain.masks["nuclei"])
    assert varied.truth["ki67_index_pct"] == plain.truth["ki67_index_pct"]
    assert not np.array_equal(varied.rgb, plain.rgb)
    with pytest.raises(ValueError, match="appearance"):
        pigment_family_tile(5, "perinuclear", size=64, appearance="glossy")


def test_wide_appearance_keeps_the_layout_and_widens_the_rendering():
    """'wide' re-renders the same cells (same nuclei, same Ki67 truth) with its own stream: other
    melanin hues (2-15 deg from DAB), granule sizes, section thickness, blur, JPEG and glass."""
    varied = [pigment_family_tile(s, "coarse", size=128) for s in range(6)]
    wide = [pigment_family_tile(s, "coarse", size=128, appearance="wide") for s in range(6)]
    for v, w in zip(varied, wide, strict=True):
        np.testing.assert_array_equal(v.masks["nuclei"], w.masks["nuclei"])
        assert v.truth["ki67_index_pct"] == w.truth["ki67_index_pct"]
        assert not np.array_equal(v.rgb, w.rgb)
    assert {v.truth["melanin_deg"] for v in varied}.isdisjoint({w.truth["melanin_deg"] for w in wide})
    degs = [w.truth["melanin_deg"] for w in wide]
    assert min(degs) >= 2.0
    assert max(degs) <= 15.0
    # the glass colour (the brightest pixels) is tinted on most wide tiles
    glass = [np.percentile(w.rgb.reshape(-1, 3), 99.5, axis=0) for w in wide]
    assert sum(float(g.max() - g.min()) > 12 for g in glass) >= 3


def test_shipped_dab_model_has_its_card():
    model = resolve_pigment_model("dab")
    assert model is not None
    assert model.settings["target"] == "pigment"
    assert "H-DAB" in model.card["intended_use"]
    assert "H&E" not in model.card["intended_use"]
    assert "ki67" in model.card["not_trained_on"]
    names = {f.name for f in pigment_feature_specs(PigmentFeatureSettings())}
    # every pixel feature but the granule columns (an option for models trained with them, issue #14) and the bounded
    # body columns (body_*, the H&E model's since session 39; the DAB model reads the whole-body blob_* columns)
    assert {f.name for f in model.features} == names - set(GRANULE_FEATURES) - set(BOUNDED_FEATURES)
    assert {"blob_log_area", "blob_fill", "blob_cv", "blob_holes"} <= names


@pytest.mark.parametrize(("family", "min_dice"), [("coarse", 0.6), ("confluent", 0.75)])
def test_dab_model_finds_pigment_the_rules_miss_and_leaves_dab_nuclei(family, min_dice):
    """Seed 7 is held out from training (1000-1005, 2000). Measured 2026-12-02: coarse 0.66 (rules
    0.19), confluent 0.82 (rules 0.10); DAB-positive nucleus pixels marked <= 5 %. With the brown-body
    model (2026-12-03): coarse 0.63, confluent 0.90; DAB-positive pixels 4.8 / 6.2 % (dark positives
    touching a pigment cluster, whose body the share rule vetoed). Models trained on the ``wide``
    rendering too (2026-12-03, version 2): coarse 0.76, confluent 0.88; DAB-positive pixels 11.3 /
    4.4 % (over 60 held-out varied tiles 6.8 % mean, was 6.3 %: the price of finding more pigment),
    hence <= 12 %."""
    tile = pigment_family_tile(7, family, chromogen="dab")
    mask, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=resolve_pigment_model("dab"), stains="H-DAB")
    rules, _ = pigment_masks(tile.rgb, mpp=tile.mpp, stains="H-DAB")
    tissue, truth = tile.masks["tissue"], tile.masks["melanin"]
    assert _dice(mask & tissue, truth) >= min_dice
    assert _dice(mask & tissue, truth) >= _dice(rules & tissue, truth) + 0.3
    pos = tile.masks["positive_nuclei"] & ~truth
    assert (mask & pos).sum() <= 0.12 * pos.sum()


def test_dab_model_marks_no_pigment_on_real_ki67_tiles(shared_data):
    """Real Ki67 tiles hold no melanin; their strong, saturated DAB nuclei must stay DAB."""
    from PIL import Image

    for rel, mpp in (("bcdata/0.png", 0.25), ("bcdata/5.png", 0.25), ("shidc/p1_0299_1.jpg", 0.21),
                     ("shidc/p1_0299_9.jpg", 0.21), ("deepliif/6_2.png", 0.31)):
        rgb = np.asarray(Image.open(shared_data / "ki67" / rel).convert("RGB"))
        mask, _ = classify_pigment(rgb, mpp=mpp, model=resolve_pigment_model("dab"), stains="H-DAB")
        assert mask.mean() <= 1e-3, f"{rel}: {100 * mask.mean():.2f} % false pigment"
