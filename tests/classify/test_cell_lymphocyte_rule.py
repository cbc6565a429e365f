"""A nucleus model's lymphocyte rule: P(lymphocyte) at least the model's limit takes a nucleus out of the index."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.classify import load_model
from mmnst_path.classify.cells import lymphocyte_rule, types_from_proba
from mmnst_path.classify.model import FeatureSpec
from mmnst_path.classify.train import train_model
from mmnst_path.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

PROBA = np.array([
    [0.50, 0.45, 0.05],  # tumour by the P(tumour) rule, a lymphocyte by the lymphocyte rule at 0.4
    [0.70, 0.30, 0.00],  # tumour either way
    [0.10, 0.30, 0.60],  # stromal either way (P(lymphocyte) under the limit)
    [0.30, 0.40, 0.30],  # exactly at the limit: a lymphocyte
    [0.15, 0.45, 0.40],  # not tumour by P(tumour); lymphocyte either way
])


def _model(classes=("tumour", "lymphocyte", "stromal"), **decision):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 2)).astype(np.float32)
    y = np.arange(60) % len(classes)
    model = train_model(x, y, kind="nucleus", classes=classes, features=[FeatureSpec("a"), FeatureSpec("b")],
                        settings={}, n_estimators=3, max_depth=2, min_samples_leaf=2)
    return replace(model, settings={**model.settings, "decision": dict(decision)})


def test_without_the_rule_the_tumour_rule_alone_decides():
    types, p_t = types_from_proba(_model(tumour_min_probability=0.2), PROBA)
    assert list(types) == ["tumour", "tumour", "stromal", "tumour", "lymphocyte"]
    np.testing.assert_array_equal(p_t, PROBA[:, 0].astype(np.float32))


def test_the_rule_takes_likely_lymphocytes_out_whatever_their_tumour_probability():
    model = _model(tumour_min_probability=0.2, lymphocyte_min_probability=0.4)
    assert lymphocyte_rule(model) == (0.4, 1.0)
    types, p_t = types_from_proba(model, PROBA)
    assert list(types) == ["lymphocyte", "tumour", "stromal", "lymphocyte", "lymphocyte"]
    # P(tumour) is reported as the forest gives it: the rule changes the type only
    np.testing.assert_array_equal(p_t, PROBA[:, 0].astype(np.float32))


def test_the_tumour_ceiling_keeps_likely_tumour_nuclei():
    model = _model(tumour_min_probability=0.2, lymphocyte_min_probability=0.4, lymphocyte_tumour_below=0.45)
    assert lymphocyte_rule(model) == (0.4, 0.45)
    types, _ = types_from_proba(model, PROBA)
    # row 0 (P(tumour) 0.5) stays tumour; row 3 (P(tumour) 0.3, P(lymphocyte) 0.4) leaves
    assert list(types) == ["tumour", "tumour", "stromal", "lymphocyte", "lymphocyte"]


def test_a_tumour_ceiling_without_a_lymphocyte_limit_is_refused():
    with pytest.raises(ConfigError, match=r"lymphocyte_tumour_below = 0\.3 needs decision\.lymphocyte_min_probability"):
        types_from_proba(_model(lymphocyte_tumour_below=0.3), PROBA)


def test_the_rule_also_acts_on_a_most_probable_class_model():
    plain, _ = types_from_proba(_model(), PROBA)
    assert list(plain) == ["tumour", "tumour", "stromal", "lymphocyte", "lymphocyte"]  # most probable class
    types, _ = types_from_proba(_model(lymphocyte_min_probability=0.44), PROBA)
    assert list(types) == ["lymphocyte", "tumour", "stromal", "lymphocyte", "lymphocyte"]


@pytest.mark.parametrize("value", [0.0, -0.1, 1.5])
def test_an_out_of_range_limit_names_the_setting_and_value(value):
    with pytest.raises(ConfigError, match=rf"lymphocyte_min_probability must be in \(0, 1\], got {value}"):
        types_from_proba(_model(lymphocyte_min_probability=value), PROBA)
    with pytest.raises(ConfigError, match=rf"lymphocyte_tumour_below must be in \(0, 1\], got {value}"):
        types_from_proba(_model(lymphocyte_min_probability=0.4, lymphocyte_tumour_below=value), PROBA)


def test_a_model_without_a_lymphocyte_class_is_refused():
    model = _model(classes=("tumour", "stromal"), lymphocyte_min_probability=0.4)
    with pytest.raises(ConfigError, match="needs a 'lymphocyte' and a 'tumour' class"):
        types_from_proba(model, PROBA[:, [0, 2]])


def _set_decision_module():
    spec = importlib.util.spec_from_file_location("set_nucleus_decision", ROOT / "scripts" / "set_nucleus_decision.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_set_decision_rewrites_the_rule_and_card_and_keeps_the_forest(tmp_path):
    src = _model(tumour_min_probability=0.2).save(tmp_path / "src.mmnst")
    mod = _set_decision_module()
    out = mod.set_decision(src, tmp_path / "out.mmnst", version="9.9.9", lymphocyte_min=0.45,
                           lymphocyte_tumour_below=0.3, note="rule added")
    before, after = load_model(src), load_model(out)
    assert after.settings["decision"] == {"tumour_min_probability": 0.2, "lymphocyte_min_probability": 0.45,
                                          "lymphocyte_tumour_below": 0.3}
    assert after.card["version"] == "9.9.9"
    assert "P(lymphocyte) >= 0.45 and P(tumour) < 0.3" in after.card["decision"]
    assert after.card["training_recipe"].endswith("; rule added")
    assert after.model_id != before.model_id
    x = np.random.default_rng(5).normal(size=(40, 2)).astype(np.float32)
    np.testing.assert_array_equal(after.predict_proba(x), before.predict_proba(x))
    # and off again
    off = load_model(mod.set_decision(out, tmp_path / "off.mmnst", version="9.9.10"))
    assert off.settings["decision"] == {"tumour_min_probability": 0.2}
    assert "P(lymphocyte)" not in off.card["decision"]


def test_set_decision_refuses_a_bad_limit_before_writing(tmp_path):
    src = _model(tumour_min_probability=0.2).save(tmp_path / "src.mmnst")
    mod = _set_decision_module()
    assert mod.main([str(src), str(tmp_path / "bad.mmnst"), "--version", "1", "--lymphocyte-min-probability", "2"]) == 2
    assert not (tmp_path / "bad.mmnst").exists()
