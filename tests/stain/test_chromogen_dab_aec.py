"""The DAB-vs-AEC model (issue #14, session 35): its features, the file and its checks, and where the guess
asks it (only a single H-DAB guess redder than DAB itself)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from mmnst_path.errors import CorruptFileError
from mmnst_path.stain import guess as G
from mmnst_path.stain.chromogen_model import (
    AEC_P,
    DAB_CLASSES,
    DAB_MIN_PIXELS,
    DAB_MODEL_MAX_DEG,
    DAB_WINDOW_DEG,
    FEATURES,
    by_dab_model,
    chromogen_features,
    dab_features,
    dab_model_path,
    load_chromogen_model,
    load_dab_model,
)
from mmnst_path.stain.guess import StainGuess, guess_stains_detail
from mmnst_path.stain.he_model import LinearStainModel

NAMES = [n for n, _, _ in FEATURES]


def _pixels(n: int, theta: float, m: float, norm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.full(n, m), np.full(n, theta), np.full(n, norm)


def _image(chromogen_deg: float, n_chromogen: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blue-grey tissue and dense positive nuclei whose residual lies at ``chromogen_deg`` from DAB."""
    parts = [_pixels(1600, 10.0, 0.01, 0.3), _pixels(n_chromogen, chromogen_deg, 0.5, 1.0)]
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


def test_the_dab_window_reads_brownish_chromogen_the_red_window_does_not():
    """A brownish AEC at -3° holds no red chromogen pixel (below AEC_DEG, -5.7°) but is the DAB-vs-AEC
    model's chromogen; melanin beyond DAB_WINDOW_DEG is in neither."""
    img = _image(-3.0)
    assert chromogen_features(img, img, -3.0) is None
    row = dab_features(img, img, -3.0)
    assert row is not None
    f = dict(zip(NAMES, row, strict=True))
    assert f["q50_deg"] == pytest.approx(-3.0)
    assert f["fast_red_side"] == 0.0
    black = _image(DAB_WINDOW_DEG + 1.0)
    assert dab_features(black, black, DAB_WINDOW_DEG + 1.0) is None


def test_too_few_chromogen_pixels_give_no_row():
    few = _image(-3.0, DAB_MIN_PIXELS - 1)
    assert dab_features(few, few, -3.0) is None
    enough = _image(-3.0, DAB_MIN_PIXELS)
    assert dab_features(enough, enough, -3.0) is not None


def _model(bias: float) -> LinearStainModel:
    """A DAB-vs-AEC model whose AEC probability is 1 / (1 + exp(-bias)) for every row."""
    n = len(FEATURES)
    return LinearStainModel.build(classes=DAB_CLASSES, mean=np.zeros(n), scale=np.ones(n), coef=np.zeros(n),
                                  intercept=bias, card={"name": "test"}, test_x=np.zeros((4, n)), features=FEATURES,
                                  expected_classes=DAB_CLASSES)


def _bias(p: float) -> float:
    return math.log(p / (1 - p))


def _guess(name: str, marker: str = "", row: bool = True) -> StainGuess:
    return StainGuess(name, True, "chromogen at -2° from DAB", -2.0, 0.01, (255.0, 255.0, 255.0),
                      alternative="H-AEC", marker=marker,
                      dab_features=np.zeros(len(FEATURES)) if row else None)


def test_a_confident_model_names_a_dab_guess_aec_and_flags_it():
    g = by_dab_model(_guess("H-DAB"), _model(_bias(0.5 * (1 + AEC_P))))
    assert g.name == "H-AEC"
    assert g.ambiguous
    assert g.alternative == "H-DAB"
    assert g.aec_probability >= AEC_P
    assert "DAB-vs-AEC model reads AEC" in g.reason


def test_an_unsure_model_leaves_the_rule_s_dab():
    """Between 0.5 and AEC_P the rule's H-DAB stands (fails if the model decided at 0.5)."""
    g = by_dab_model(_guess("H-DAB"), _model(_bias(0.5 * (0.5 + AEC_P))))
    assert g.name == "H-DAB"
    assert 0.5 < g.aec_probability < AEC_P


@pytest.mark.parametrize(("name", "marker", "row"), [
    ("H-AEC", "", True), ("H-FastRed", "", True), ("H&E", "", True), ("AzureB-DAB", "", True),
    ("H-DAB-AEC", "cytoplasmic", True), ("H-DAB", "nuclear", True), ("H-DAB", "", False)])
def test_only_single_h_dab_guesses_with_a_row_are_asked(name, marker, row):
    g = by_dab_model(_guess(name, marker, row), _model(20.0))
    assert g.name == name
    assert math.isnan(g.aec_probability)


def _rgb(chromogen_deg: float) -> np.ndarray:
    """An image of hematoxylin tissue with positive nuclei whose hematoxylin-free residual lies at
    ``chromogen_deg`` from DAB (OD built in the guess's own plane)."""
    e = math.radians(chromogen_deg)
    resid = math.cos(e) * G._E1 + math.sin(e) * G._E2
    od = np.zeros((96, 96, 3))  # glass around the tissue
    od[16:80, 16:80] = 0.35 * G._H
    od[32:64, 32:64] = 0.6 * G._H + 0.3 * resid  # 1024 chromogen pixels (no channel saturated)
    return np.clip(np.rint(255.0 * 10.0 ** -od), 0, 255).astype(np.uint8)


def test_the_guess_asks_only_about_h_dab_redder_than_dab(monkeypatch):
    """Real DAB lies at +5.5 to +12.5°: never asked. A peak redder than DAB_MODEL_MAX_DEG is (fails if the
    limit moves to the real DAB side or the guess stops computing the row)."""
    from mmnst_path.stain import chromogen_model as CM

    monkeypatch.setattr(CM, "load_dab_model", lambda path=None: _model(20.0))
    brown = guess_stains_detail(_rgb(8.0), None)
    assert brown.name == "H-DAB"
    assert brown.dab_features is None
    assert math.isnan(brown.aec_probability)
    reddish = guess_stains_detail(_rgb(DAB_MODEL_MAX_DEG - 3.0), None, dab_model=False)
    assert reddish.name == "H-DAB"
    assert reddish.dab_features is not None
    assert math.isnan(reddish.aec_probability)
    asked = guess_stains_detail(_rgb(DAB_MODEL_MAX_DEG - 3.0), None)
    assert asked.name == "H-AEC"
    assert asked.aec_probability > 0.99
    off = guess_stains_detail(_rgb(DAB_MODEL_MAX_DEG - 3.0), None, chromogen_model=False)
    assert off.name == "H-DAB"


def test_the_shipped_model_loads_with_its_card():
    model = load_dab_model()
    assert dab_model_path().name == "stains_dab_aec.json"
    assert model is load_dab_model(dab_model_path())
    assert model.classes == DAB_CLASSES
    assert [n for n, _, _ in model.features] == NAMES
    for key in ("name", "task", "model", "licence", "training_data", "validation", "version"):
        assert model.card.get(key), key
    assert model.card["training_data"][0]["seeds"] == "1000-1099"


def _protocol_thumbnail(protocol: str, seed: int, index: int):
    """The tissue thumbnail ``benchmarks/eval_stain_guess.py`` guesses on, of one generated training tile."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    try:
        from eval_stain_guess import protocol_tile, thumbnail
    finally:
        sys.path.pop(0)
    _, rgb, mpp = protocol_tile(protocol, seed, index, size=384)
    return thumbnail(rgb, mpp)


@pytest.mark.parametrize(("protocol", "seed", "index", "rules", "named"), [
    ("H-AEC", 1025, 6, "H-DAB", "H-AEC"),  # over_nucleus varied (s = 1.43), peak -3.5°: p ~ 1.0 (1010 #2: 0.75 since H9)
    ("H-DAB", 1000, 0, "H-DAB", "H-DAB"),  # pigment-free DAB peaking at -3.5°: asked, kept (p ~ 0.08)
])
def test_the_shipped_model_names_a_brownish_aec_tile_and_keeps_a_reddish_dab_one(protocol, seed, index, rules, named):
    thumb, mask, tmpp = _protocol_thumbnail(protocol, seed, index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = guess_stains_detail(thumb, mask, mpp=tmpp, dab_model=False)
        after = guess_stains_detail(thumb, mask, mpp=tmpp)
    assert before.name == rules
    assert before.chromogen_deg < DAB_MODEL_MAX_DEG
    assert after.name == named
    assert math.isfinite(after.aec_probability)
    assert (after.aec_probability >= AEC_P) == (named == "H-AEC")


def test_a_damaged_model_file_gets_a_one_line_error(tmp_path):
    body = json.loads(dab_model_path().read_text())
    body["coef"][0] += 1.0
    path = tmp_path / "stains_dab_aec.json"
    path.write_text(json.dumps(body))
    with pytest.raises(CorruptFileError, match="does not match its id") as info:
        load_dab_model(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_the_chromogen_model_and_the_dab_model_are_not_taken_for_each_other():
    from mmnst_path.stain.chromogen_model import shipped_path

    with pytest.raises(CorruptFileError, match="classes must be"):
        load_dab_model(shipped_path())
    with pytest.raises(CorruptFileError, match="classes must be"):
        load_chromogen_model(dab_model_path())
