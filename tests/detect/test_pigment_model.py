"""The learned melanin pixel classifier (issue #14): shipped model, where it is used, real tiles."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify.pigment import (
    PigmentFeatureSettings,
    classify_pigment,
    pigment_feature_specs,
    pigment_features,
    resolve_pigment_model,
)
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.errors import ConfigError
from mmnst_path.synthetic import pigment_family_tile


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def test_shipped_model_has_its_card():
    model = resolve_pigment_model("default")
    assert model is not None
    assert model.settings["target"] == "pigment"
    assert model.class_names == ("background", "melanin")
    # features are computed by name: the model's are among this version's (in any order)
    assert {f.name for f in model.features} <= {f.name for f in pigment_feature_specs(PigmentFeatureSettings())}
    card = model.card
    assert "generated" in card["training_data"]
    assert "CC BY 4.0" in card["training_data"]["real_negatives"]
    assert "ki67" in card["not_trained_on"]
    assert card["validation"]["held_out"]["accuracy"] > 0.85
    assert resolve_pigment_model("none") is None


def test_features_are_finite_and_match_the_specs():
    tile = pigment_family_tile(3, "coarse", size=128)
    x, cand = pigment_features(tile.rgb, mpp=tile.mpp)
    assert x.shape == (int(cand.sum()), len(pigment_feature_specs(PigmentFeatureSettings())))
    assert np.all(np.isfinite(x))


def test_model_is_used_for_every_stain_system_by_default():
    p = PigmentParams()
    assert p.uses_model("H-FastRed")
    assert p.uses_model("H-AEC")
    assert p.uses_model("H-DAB")
    assert p.uses_model("H&E")  # since 2026-12-03 (pigment_he.mmnst; tests/detect/test_pigment_he.py)
    assert not PigmentParams(model_stains=("dab",)).uses_model("H&E")
    assert not PigmentParams(model_stains=("aec",)).uses_model("H-DAB")
    assert PigmentParams(model_stains=("dab", "eosin")).uses_model("H-DAB")
    assert not PigmentParams(model="none").uses_model("H-FastRed")
    q = PigmentParams.from_mapping(PigmentParams(model_stains=("dab",)).to_mapping())
    assert q.model_stains == ("dab",)
    with pytest.raises(ConfigError, match="model_stains"):
        PigmentParams(model_stains=("blue",))


@pytest.mark.parametrize(("family", "chromogen", "min_dice"), [("whole_cell", "fast_red", 0.8),
                                                                 ("coarse", "aec", 0.7),
                                                                 ("perinuclear", "fast_red", 0.8)])
def test_model_finds_the_pigment_of_red_chromogen_tiles(family, chromogen, min_dice):
    """Measured 2026-12-02 on seed 7 (not a training seed): see benchmarks/eval_pigment_families.py."""
    tile = pigment_family_tile(7, family, chromogen=chromogen)
    stains = {"aec": "H-AEC", "fast_red": "H-FastRed"}[chromogen]
    mask, prob = classify_pigment(tile.rgb, mpp=tile.mpp, model=resolve_pigment_model("default"), stains=stains)
    assert prob.dtype == np.float32
    assert _dice(mask & tile.masks["tissue"], tile.masks["melanin"]) >= min_dice
    # red Ki67-positive nuclei (where no granule lies over them) are not melanin
    pos = tile.masks["positive_nuclei"] & ~tile.masks["melanin"]
    assert (mask & pos).sum() <= 0.05 * pos.sum()


def test_model_with_its_gate_marks_no_pigment_on_real_ki67_tiles(shared_data):
    """With H-DAB the shipped default stands for the shipped H-DAB model, whose body veto keeps
    real Ki67 DAB tiles free of pigment (the all-stain model without any veto: 6-20 %)."""
    from PIL import Image

    model = resolve_pigment_model("default")
    for name in ("0.png", "4.png"):
        rgb = np.asarray(Image.open(shared_data / "ki67" / "bcdata" / name).convert("RGB"))
        mask, _ = classify_pigment(rgb, mpp=0.25, model=model, stains="H-DAB")
        assert mask.mean() <= 1e-3, f"{name}: {100 * mask.mean():.2f} % false pigment"
