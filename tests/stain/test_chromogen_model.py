"""The AEC-vs-Fast-Red chromogen model (issue #14, session 34): features, the file and its checks,
and where the guess asks it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mmnst_path.errors import CorruptFileError
from mmnst_path.stain.chromogen_model import (
    CLASSES,
    FAST_RED_P,
    FEATURES,
    MIN_RED_PIXELS,
    by_chromogen_model,
    chromogen_features,
    load_chromogen_model,
    shipped_path,
)
from mmnst_path.stain.guess import StainGuess, guess_stains_detail
from mmnst_path.stain.he_model import LinearStainModel, read_model

NAMES = [n for n, _, _ in FEATURES]


def _pixels(n: int, theta: float, m: float, norm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.full(n, m), np.full(n, theta), np.full(n, norm)


def _image(red_deg: float, pale_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blue-grey tissue, pale cytoplasm tinted at ``pale_deg`` and dense nuclei red at ``red_deg``."""
    parts = [_pixels(1000, 10.0, 0.01, 0.3), _pixels(600, pale_deg, 0.06, 0.25), _pixels(400, red_deg, 0.5, 1.0)]
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


def test_features_see_the_fast_red_side_and_the_pale_red_tint():
    aec = chromogen_features(_image(-14.0, 5.0), _image(-14.0, 5.0), -14.0)
    fast_red = chromogen_features(_image(-35.0, -30.0), _image(-35.0, -30.0), -35.0)
    assert aec is not None
    assert fast_red is not None
    assert aec.shape == (len(FEATURES),)
    fa, ff = dict(zip(NAMES, aec, strict=True)), dict(zip(NAMES, fast_red, strict=True))
    assert fa["q50_deg"] == pytest.approx(-14.0)
    assert ff["q10_deg"] == pytest.approx(-35.0)
    assert fa["fast_red_side"] == 0.0
    assert ff["fast_red_side"] == 1.0
    assert fa["pink_share"] == 0.0  # AEC at -14° is not pink (-20° and redder), nor its cytoplasm
    assert ff["pink_share"] == pytest.approx(0.5)  # the pale cytoplasm and the nuclei
    assert ff["pink_light"] == pytest.approx(300 / 800)  # lighter half: norm <= the median (0.3)
    assert fa["pink_light"] == 0.0
    assert ff["red_share"] == pytest.approx(0.5)
    # no peak, or too few red chromogen pixels: no row
    assert chromogen_features(_image(-14.0, 5.0), _image(-14.0, 5.0), math.nan) is None
    few = _pixels(2000, -30.0, 0.5, 1.0)
    few[1][MIN_RED_PIXELS - 1:] = 10.0  # too little red (fat, glass): all but MIN_RED_PIXELS - 1 brown
    assert chromogen_features(few, few, -30.0) is None
    few[1][MIN_RED_PIXELS - 1] = -30.0
    assert chromogen_features(few, few, -30.0) is not None
    fat = _pixels(2000, 10.0, 0.5, 1.0)
    fat[1][:185] = -30.0  # the most red pixels of a Kather 2016 fat / glass tile the rules name H-AEC
    assert chromogen_features(fat, fat, -30.0) is None
    # AEC's reddest renderings (-20 to -27°) are not on the Fast Red side (below FAST_RED_DEG, -27°)
    red_aec = chromogen_features(_image(-24.0, 5.0), _image(-24.0, 5.0), -24.0)
    assert red_aec is not None
    assert dict(zip(NAMES, red_aec, strict=True))["fast_red_side"] == 0.0


def _model(bias: float) -> LinearStainModel:
    """A model whose Fast Red probability is 1 / (1 + exp(-bias)) for every row."""
    n = len(FEATURES)
    return LinearStainModel.build(classes=CLASSES, mean=np.zeros(n), scale=np.ones(n), coef=np.zeros(n),
                                  intercept=bias, card={"name": "test"}, test_x=np.zeros((4, n)), features=FEATURES,
                                  expected_classes=CLASSES)


def _guess(name: str, row: np.ndarray | None = None) -> StainGuess:
    return StainGuess(name, False, "chromogen at -20° from DAB", -20.0, 0.1, (255.0, 255.0, 255.0),
                      alternative="H-FastRed", chromogen_features=np.zeros(len(FEATURES)) if row is None else row)


def _bias(p: float) -> float:
    return math.log(p / (1 - p))


def test_a_confident_model_names_an_aec_guess_fast_red():
    sure = _model(_bias(0.5 * (1 + FAST_RED_P) + 0.02))
    g = by_chromogen_model(_guess("H-AEC"), sure)
    assert g.name == "H-FastRed"
    assert g.alternative == "H-AEC"
    assert g.chromogen_probability >= FAST_RED_P
    assert "chromogen model reads Fast Red" in g.reason


def test_an_unsure_model_leaves_the_rule_s_aec():
    """Between 0.5 and FAST_RED_P the rule stands (fails if the model decided at 0.5)."""
    unsure = _model(_bias(0.5 * (0.5 + FAST_RED_P)))
    g = by_chromogen_model(_guess("H-AEC"), unsure)
    assert g.name == "H-AEC"
    assert 0.5 < g.chromogen_probability < FAST_RED_P


def test_a_fast_red_guess_is_never_named_aec():
    """The rule never named an AEC tile Fast Red on dev: the model only moves AEC to Fast Red."""
    g = by_chromogen_model(_guess("H-FastRed"), _model(-20.0))
    assert g.name == "H-FastRed"
    assert g.chromogen_probability < 0.01


@pytest.mark.parametrize("name", ["H-DAB", "H&E", "AzureB-DAB", "H-DAB-FastRed", "H-DAB-AEC"])
def test_only_single_red_guesses_are_asked(name):
    """A DAB, H&E, azure B or double-stain guess never reaches the model (a DAB slide cannot turn red)."""
    g = by_chromogen_model(_guess(name), _model(20.0))
    assert g.name == name
    assert math.isnan(g.chromogen_probability)


def test_a_guess_without_features_is_left_alone():
    g = _guess("H-AEC")
    g = StainGuess(g.name, g.ambiguous, g.reason, g.chromogen_deg, g.pink_share, g.white_point)
    assert by_chromogen_model(g, _model(20.0)).name == "H-AEC"


def test_the_shipped_model_loads_with_its_card():
    model = load_chromogen_model()
    assert shipped_path().name == "stains_chromogen.json"
    assert model is load_chromogen_model(shipped_path())
    assert model.classes == CLASSES
    assert [n for n, _, _ in model.features] == NAMES
    card = model.card
    for key in ("name", "task", "model", "licence", "training_data", "validation", "version"):
        assert card.get(key), key
    assert card["training_data"][0]["seeds"] == "1000-1019"


@pytest.mark.parametrize(("edit", "match"), [
    (lambda b: b["coef"].__setitem__(0, b["coef"][0] + 1.0), "does not match its id"),
    (lambda b: b.update(classes=["ihc", "he"]), "classes must be"),
])
def test_a_damaged_model_file_gets_a_one_line_error(tmp_path, edit, match):
    body = json.loads(shipped_path().read_text())
    edit(body)
    path = tmp_path / "stains_chromogen.json"
    path.write_text(json.dumps(body))
    with pytest.raises(CorruptFileError, match=match) as info:
        load_chromogen_model(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    path.write_text(shipped_path().read_text()[:500])
    with pytest.raises(CorruptFileError, match="not valid JSON"):
        load_chromogen_model(path)


def test_the_h_and_e_model_is_not_taken_for_the_chromogen_model(tmp_path):
    from mmnst_path.stain.he_model import shipped_path as he_path

    with pytest.raises(CorruptFileError, match=r"features .* are not the ones"):
        load_chromogen_model(he_path())
    with pytest.raises(CorruptFileError, match=r"features .* are not the ones"):
        read_model(shipped_path())  # the H&E model's reader refuses the chromogen file


def test_the_guess_asks_the_model_only_when_told():
    """``chromogen_model=False`` is the rules alone: no probability; on, a red guess carries one."""
    from mmnst_path.io import ArrayReader
    from mmnst_path.synthetic import pigment_family_tile
    from mmnst_path.tiling import detect_tissue

    tile = pigment_family_tile(1001, "none", chromogen="fast_red", size=256, appearance="plain")
    t = detect_tissue(ArrayReader(tile.rgb, mpp=tile.mpp), mask_mpp=8.0)
    off = guess_stains_detail(t.thumbnail, t.mask, mpp=t.mask_mpp, chromogen_model=False)
    on = guess_stains_detail(t.thumbnail, t.mask, mpp=t.mask_mpp)
    assert off.name in ("H-AEC", "H-FastRed")
    assert off.chromogen_features is not None
    assert math.isnan(off.chromogen_probability)
    assert 0.0 <= on.chromogen_probability <= 1.0
    np.testing.assert_array_equal(on.chromogen_features, off.chromogen_features)


def test_an_auto_detected_red_slide_records_the_chromogen_model_and_its_probability():
    import warnings

    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.stain.chromogen_model import load_chromogen_model
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(5, "none", chromogen="fast_red", size=256, appearance="plain")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(tile.rgb, AnalysisConfig(measures=("ki67",), stains="auto"), mpp=tile.mpp)
    det = res.stains["detection"]
    assert res.stains["name"] in ("H-FastRed", "H-AEC")
    assert 0.0 <= det["fast_red_probability"] <= 1.0
    assert det["chromogen_model"] == f"stains_chromogen.json {load_chromogen_model().model_id}"
