"""``pigment_default.mmnst`` version 2 and ``train_pigment_default.py``'s hard negatives (#14, session 40 H4)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import train_pigment_default as tpd  # noqa: E402

from mmnst_path.classify.pigment import PigmentFeatureSettings, pigment_features, resolve_pigment_model  # noqa: E402
from mmnst_path.synthetic import pigment_family_tile  # noqa: E402

NAMES = ["u_r", "u_b", "log_od", "grey"]


def test_hard_tiles_flag_only_dark_positive_and_rim_pixels(monkeypatch):
    monkeypatch.setattr(tpd, "PIGMENT_FAMILIES", ("sparse",))
    monkeypatch.setattr(tpd, "RED_CHROMOGENS", ("aec",))
    (x, labels, hard), = tpd.hard_positive_tiles(range(1010, 1011), 96, NAMES, PigmentFeatureSettings(), rim=True)
    tile = pigment_family_tile(1010, "sparse", chromogen="aec", size=96, drawn_melanin=True, positives="wide",
                               positive_fraction=0.5, appearance="plain")
    x0, cand = pigment_features(tile.rgb, mpp=tile.mpp, settings=PigmentFeatureSettings(), names=NAMES)
    np.testing.assert_array_equal(x, x0)  # the plain rendering on an even seed, the wide positives
    np.testing.assert_array_equal(labels["drawn"], tile.masks["melanin_drawn"][cand])
    m = tile.masks
    allowed = (m["positive_nuclei"] | (m["melanin"] & ~m["melanin_drawn"]))[cand]
    dark = x[:, NAMES.index("log_od")] >= tpd.HARD_MIN_LOG_OD
    np.testing.assert_array_equal(hard, allowed & dark)
    assert hard.any()
    assert (allowed & ~dark).any()  # some positive pixels are too faint to be hard rows


def test_hard_tiles_alternate_the_rendering_with_the_seed(monkeypatch):
    monkeypatch.setattr(tpd, "PIGMENT_FAMILIES", ("none",))
    monkeypatch.setattr(tpd, "RED_CHROMOGENS", ("fast_red",))
    odd = tpd.hard_positive_tiles(range(1011, 1012), 64, NAMES, PigmentFeatureSettings())
    tile = pigment_family_tile(1011, "none", chromogen="fast_red", size=64, drawn_melanin=True, positives="wide",
                               positive_fraction=0.5, appearance="varied")
    x0, _ = pigment_features(tile.rgb, mpp=tile.mpp, settings=PigmentFeatureSettings(), names=NAMES)
    np.testing.assert_array_equal(odd[0][0], x0)
    assert not odd[0][1]["drawn"].any()  # an unpigmented tile: every row background


def test_shipped_default_is_version_2_on_the_drawn_label_with_bounded_columns():
    model = resolve_pigment_model("default")
    card = model.card
    assert card["version"] == "2"
    assert "as drawn" in card["label"]
    assert "--hard-positives 4" in card["script"]
    assert "1010-1013" in card["training_data"]["generated"]
    names = [f.name for f in model.features]
    assert names[:15] == ["u_r", "u_g", "u_b", "grey", "log_od", "tophat_1", "tophat_2.5", "peak", "cv",
                          "ctx_log_od", "ctx_u_r", "ctx_u_b", "wide_u_b", "erode", "ctx_grey"]
    assert set(names[15:]) == set(tpd.V2_EXTRA_COLUMNS)
    assert not any(n.startswith("blob_") for n in names)  # whole-body columns would depend on the tiling
    assert card["validation"]["held_out"]["accuracy"] > 0.9


def test_extra_columns_reject_an_unknown_name(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sys, "argv", ["train_pigment_default.py", "--out", str(tmp_path / "m.mmnst"),
                                      "--extra-columns", "no_such_feature"])
    with pytest.raises(SystemExit):
        tpd.main()
    assert "no_such_feature" in capsys.readouterr().err
