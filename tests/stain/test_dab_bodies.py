"""The DAB-vs-AEC body model (issue #14, session 36): its per-body features, the file and its checks, and
where the guess asks it (only a single H-DAB guess redder than DAB itself, on an image that resolves nuclei)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mmnst_path.errors import CorruptFileError
from mmnst_path.stain import guess as G
from mmnst_path.stain.dab_bodies import (
    AEC_P,
    AEC_REF,
    BODY_FEATURES,
    DAB_CLASSES,
    DAB_FEATURES,
    DAB_MODEL_MAX_DEG,
    MIN_BODIES,
    body_features,
    by_dab_model,
    dab_model_path,
    dab_row,
    load_dab_model,
)
from mmnst_path.stain.guess import StainGuess, guess_stains_detail
from mmnst_path.stain.he_model import LinearStainModel

NAMES = [n for n, _, _ in BODY_FEATURES]
MPP = 0.75


def _bodies_image(chromogen: np.ndarray, n_bodies: int = 9, radius_px: float = 4.0, od: float = 0.5,
                  od_step: float = 0.0) -> np.ndarray:
    """Glass, hematoxylin tissue and ``n_bodies`` round positive nuclei of hematoxylin plus ``chromogen``
    (OD ``od``, body k darker by ``k * od_step``) on a 3 x 3 grid, at :data:`MPP` µm/px."""
    h = G._H
    c = np.asarray(chromogen, float) / np.linalg.norm(chromogen)
    img = np.zeros((120, 120, 3))
    img[6:114, 6:114] = 0.35 * h
    yy, xx = np.mgrid[:120, :120]
    for k in range(n_bodies):
        r0, c0 = 20 + 40 * (k // 3), 20 + 40 * (k % 3)
        disc = (yy - r0) ** 2 + (xx - c0) ** 2 <= radius_px ** 2
        img[disc] = 0.4 * h + (od + k * od_step) * c
    return np.clip(np.rint(255.0 * 10.0 ** -img), 0, 255).astype(np.uint8)


def _row(chromogen, **kw) -> dict[str, float]:
    row = body_features([(_bodies_image(chromogen, **kw), None)], MPP)
    assert row is not None
    return dict(zip(NAMES, row, strict=True))


def test_dab_bodies_sit_at_hue_zero_and_fit_dab_better():
    f = _row(G._DAB)
    assert f["hue_q50"] == pytest.approx(0.0, abs=0.05)
    assert f["fit_q50"] < -0.02
    assert f["hem_turn"] == pytest.approx(0.0, abs=1.0)
    assert f["log_bodies"] == pytest.approx(math.log(9))


def test_aec_bodies_sit_at_hue_one_and_fit_aec_better():
    f = _row(np.asarray(AEC_REF))
    assert f["hue_q50"] == pytest.approx(1.0, abs=0.05)
    assert f["fit_q50"] > 0.02


def test_the_slope_between_bodies_follows_hue_with_darkness():
    """Bodies that turn from AEC towards DAB as they darken give a negative hue-on-log-OD slope; one hue a
    slope near zero (fails if the slope's sign or its pooling were wrong)."""
    dab, aec = np.asarray(G._DAB), np.asarray(AEC_REF) / np.linalg.norm(AEC_REF)
    h = G._H
    img = np.zeros((120, 120, 3))
    img[6:114, 6:114] = 0.35 * h
    yy, xx = np.mgrid[:120, :120]
    for k in range(9):
        t = k / 8.0  # 0: AEC, pale; 1: DAB, dark
        c = (1 - t) * aec + t * dab
        disc = (yy - 20 - 40 * (k // 3)) ** 2 + (xx - 20 - 40 * (k % 3)) ** 2 <= 16
        img[disc] = 0.4 * h + (0.3 + 0.1 * k) * c / np.linalg.norm(c)
    rgb = np.clip(np.rint(255.0 * 10.0 ** -img), 0, 255).astype(np.uint8)
    row = body_features([(rgb, None)], MPP)
    assert row is not None
    assert dict(zip(NAMES, row, strict=True))["slope_between"] < -0.5
    assert _row(G._DAB, od_step=0.05)["slope_between"] == pytest.approx(0.0, abs=0.1)


def test_too_few_or_wrongly_sized_bodies_give_no_row():
    assert body_features([(_bodies_image(G._DAB, n_bodies=MIN_BODIES - 1), None)], MPP) is None
    assert body_features([(_bodies_image(G._DAB, n_bodies=MIN_BODIES), None)], MPP) is not None
    # 1-px specks (0.56 µm²) are below BODY_AREA_UM2
    assert body_features([(_bodies_image(G._DAB, radius_px=0.5), None)], MPP) is None
    with pytest.raises(ValueError, match="mpp"):
        body_features([(_bodies_image(G._DAB), None)], -1.0)


def test_patches_pool_their_bodies():
    one = _bodies_image(G._DAB, n_bodies=3)
    assert body_features([(one, None)], MPP) is None
    pooled = body_features([(one, None), (one, None)], MPP)
    assert pooled is not None
    assert dict(zip(NAMES, pooled, strict=True))["log_bodies"] == pytest.approx(math.log(6))


def _model(bias: float) -> LinearStainModel:
    """A DAB-vs-AEC model whose AEC probability is 1 / (1 + exp(-bias)) for every row."""
    n = len(DAB_FEATURES)
    return LinearStainModel.build(classes=DAB_CLASSES, mean=np.zeros(n), scale=np.ones(n), coef=np.zeros(n),
                                  intercept=bias, card={"name": "test"}, test_x=np.zeros((4, n)),
                                  features=DAB_FEATURES, expected_classes=DAB_CLASSES)


def _bias(p: float) -> float:
    return math.log(p / (1 - p))


def _guess(name: str, deg: float = -2.0, marker: str = "") -> StainGuess:
    return StainGuess(name, True, f"chromogen at {deg}° from DAB", deg, 0.01, (255.0, 255.0, 255.0),
                      alternative="H-AEC", marker=marker)


IMAGES = [(_bodies_image(np.asarray(AEC_REF)), None)]


def test_a_confident_model_names_a_dab_guess_aec_and_flags_it():
    g = by_dab_model(_guess("H-DAB"), IMAGES, MPP, _model(_bias(0.5 * (1 + AEC_P))))
    assert g.name == "H-AEC"
    assert g.ambiguous
    assert g.alternative == "H-DAB"
    assert g.aec_probability >= AEC_P
    assert g.dab_features is not None
    assert g.dab_features[-1] == -2.0
    assert "DAB-vs-AEC body model reads AEC" in g.reason


def test_an_unsure_model_leaves_the_rule_s_dab():
    """Between 0.5 and AEC_P the rule's H-DAB stands (fails if the model decided at 0.5)."""
    g = by_dab_model(_guess("H-DAB"), IMAGES, MPP, _model(_bias(0.5 * (0.5 + AEC_P))))
    assert g.name == "H-DAB"
    assert 0.5 < g.aec_probability < AEC_P


@pytest.mark.parametrize(("name", "deg", "marker", "mpp"), [
    ("H-AEC", -2.0, "", MPP), ("H-FastRed", -2.0, "", MPP), ("H&E", -2.0, "", MPP), ("AzureB-DAB", -2.0, "", MPP),
    ("H-DAB-AEC", -2.0, "cytoplasmic", MPP), ("H-DAB", -2.0, "nuclear", MPP),
    ("H-DAB", DAB_MODEL_MAX_DEG, "", MPP), ("H-DAB", math.nan, "", MPP), ("H-DAB", -2.0, "", 4.0)])
def test_only_single_h_dab_guesses_redder_than_dab_on_fine_images_are_asked(name, deg, marker, mpp):
    g = by_dab_model(_guess(name, deg, marker), IMAGES, mpp, _model(20.0))
    assert g.name == name
    assert math.isnan(g.aec_probability)
    assert dab_row(_guess(name, deg, marker), IMAGES, mpp) is None


def _rgb(chromogen_deg: float) -> np.ndarray:
    """Hematoxylin tissue with 9 positive nuclei whose hematoxylin-free residual lies at ``chromogen_deg`` from
    DAB (OD built in the guess's own plane)."""
    e = math.radians(chromogen_deg)
    return _bodies_image(0.8 * G._H + math.cos(e) * G._E1 + math.sin(e) * G._E2, radius_px=5.0)


def test_the_guess_asks_only_about_h_dab_redder_than_dab(monkeypatch):
    """Real DAB lies at +5.5 to +12.5°: never asked. A peak redder than DAB_MODEL_MAX_DEG is, when the image
    resolves nuclei (fails if the limit moves to the real DAB side or the guess stops asking)."""
    from mmnst_path.stain import dab_bodies as DB

    monkeypatch.setattr(DB, "load_dab_model", lambda path=None: _model(20.0))
    brown = guess_stains_detail(_rgb(8.0), None, mpp=MPP)
    assert brown.name == "H-DAB"
    assert math.isnan(brown.aec_probability)
    reddish = _rgb(DAB_MODEL_MAX_DEG - 4.0)
    before = guess_stains_detail(reddish, None, mpp=MPP, dab_model=False)
    assert before.name == "H-DAB"
    assert before.chromogen_deg < DAB_MODEL_MAX_DEG
    asked = guess_stains_detail(reddish, None, mpp=MPP)
    assert asked.name == "H-AEC"
    assert asked.aec_probability > 0.99
    assert guess_stains_detail(reddish, None, mpp=MPP, chromogen_model=False).name == "H-DAB"
    assert guess_stains_detail(reddish, None).name == "H-DAB"  # no mpp: bodies cannot be read


def test_the_shipped_model_loads_with_its_card():
    model = load_dab_model()
    assert dab_model_path().name == "stains_dab_aec.json"
    assert model is load_dab_model(dab_model_path())
    assert model.classes == DAB_CLASSES
    assert [n for n, _, _ in model.features] == [n for n, _, _ in DAB_FEATURES]
    for key in ("name", "task", "model", "licence", "training_data", "validation", "version"):
        assert model.card.get(key), key
    assert model.card["training_data"][0]["seeds"] == "1000-1024"


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


@pytest.mark.parametrize(("protocol", "seed", "index", "named"), [
    ("H-AEC", 1015, 4, "H-AEC"),  # AEC peaking at +0.5°, browner than any AEC_DEG rule could reach: p 0.988
    ("H-DAB", 1012, 1, "H-DAB"),  # DAB peaking at -5.5°, the training DAB tile read most AEC-like: p 0.853, kept
])
def test_the_shipped_model_names_a_brownish_aec_tile_and_keeps_a_reddish_dab_one(protocol, seed, index, named):
    import warnings

    thumb, mask, tmpp = _protocol_thumbnail(protocol, seed, index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = guess_stains_detail(thumb, mask, mpp=tmpp, dab_model=False)
        after = guess_stains_detail(thumb, mask, mpp=tmpp)
    assert before.name == "H-DAB"
    assert before.chromogen_deg < DAB_MODEL_MAX_DEG
    assert after.name == named
    assert math.isfinite(after.aec_probability)
    assert (after.aec_probability >= AEC_P) == (named == "H-AEC")


def test_the_pipeline_records_the_body_model():
    """``stains="auto"`` on a brownish AEC tile: the preset is H-AEC and the detection names the model and p."""
    import sys
    import warnings
    from pathlib import Path

    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    try:
        from eval_stain_guess import protocol_tile
    finally:
        sys.path.pop(0)
    _, rgb, mpp = protocol_tile("H-AEC", 1015, 4, size=384)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(rgb, AnalysisConfig(measures=("ki67",), stains="auto"), mpp=mpp)
    det = res.stains["detection"]
    assert res.stains["name"] == "H-AEC"
    assert det["aec_probability"] >= AEC_P
    assert det["dab_model"] == f"stains_dab_aec.json {load_dab_model().model_id}"


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
    from mmnst_path.stain.chromogen_model import load_chromogen_model, shipped_path

    with pytest.raises(CorruptFileError, match=r"classes must be|features .* are not the ones"):
        load_dab_model(shipped_path())
    with pytest.raises(CorruptFileError, match=r"classes must be|features .* are not the ones"):
        load_chromogen_model(dab_model_path())
