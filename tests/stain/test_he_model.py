"""The H&E-vs-IHC stain model: features, the file format and its checks, and the guess it drives."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from mmnst_path.errors import CorruptFileError
from mmnst_path.stain.guess import guess_stains_detail
from mmnst_path.stain.he_model import (
    FEATURES,
    LinearStainModel,
    he_features,
    load_he_model,
    read_model,
    shipped_path,
)


def _pixels(n: int, theta: float, m: float, norm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.full(n, m), np.full(n, theta), np.full(n, norm)


def test_features_tell_eosin_in_the_light_tissue_from_red_in_the_nuclei():
    # eosin: light tissue pink at -60°, dense nuclei blue (no residual)
    light = _pixels(600, -60.0, 0.08, 0.3)
    nuclei = _pixels(400, 0.0, 0.01, 1.0)
    he = he_features(*(np.concatenate(p) for p in zip(light, nuclei, strict=True)))
    # red chromogen: light tissue unstained, dense nuclei red at -40°
    pale = _pixels(600, 10.0, 0.01, 0.3)
    red_nuclei = _pixels(400, -40.0, 0.5, 1.0)
    ihc = he_features(*(np.concatenate(p) for p in zip(pale, red_nuclei, strict=True)))
    names = [n for n, _, _ in FEATURES]
    assert he is not None
    assert ihc is not None
    assert he.shape == (len(FEATURES),)
    f_he, f_ihc = dict(zip(names, he, strict=True)), dict(zip(names, ihc, strict=True))
    assert f_he["pink_light"] == 1.0
    assert f_ihc["pink_light"] == 0.0
    assert f_he["red_chromogen_dense"] == 0.0
    assert f_ihc["red_chromogen_dense"] == 1.0
    assert f_he["eosin_far_share"] == pytest.approx(0.6)
    assert f_ihc["eosin_far_share"] == 0.0
    assert f_he["log_red_dense_ratio"] < 0 < f_ihc["log_red_dense_ratio"]
    assert he_features(*_pixels(50, 0.0, 0.1, 0.5)) is None  # too few pixels


def test_the_shipped_model_loads_with_its_card_and_reads_clear_cases():
    model = load_he_model()
    assert model.classes == ("ihc", "he")
    card = model.card
    assert "training_data" in card
    assert "validation" in card
    assert "BRCA-M2C test" in next(iter(card["validation"].values()))  # held out, reported
    assert "BRCA-M2C train+val" not in next(iter(card["validation"].values()))  # trained: not validation
    assert any("CC BY 4.0" in d["licence"] for d in card["training_data"])
    light = _pixels(600, -60.0, 0.08, 0.3)
    nuclei = _pixels(400, 0.0, 0.01, 1.0)
    he = he_features(*(np.concatenate(p) for p in zip(light, nuclei, strict=True)))
    pale = _pixels(600, 10.0, 0.01, 0.3)
    brown = _pixels(400, 8.0, 0.4, 1.0)
    dab = he_features(*(np.concatenate(p) for p in zip(pale, brown, strict=True)))
    assert model.probability(he)[0] > 0.9
    assert model.probability(dab)[0] < 0.1


def test_a_saved_model_round_trips_and_a_damaged_one_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    n = len(FEATURES)
    model = LinearStainModel.build(classes=("ihc", "he"), mean=np.zeros(n), scale=np.ones(n), coef=rng.normal(size=n),
                                   intercept=0.1, card={"name": "test"}, test_x=rng.normal(size=(5, n)))
    path = tmp_path / "m.json"
    model.save(path)
    back = read_model(path)
    x = rng.normal(size=(5, n))
    np.testing.assert_allclose(back.probability(x), model.probability(x))
    assert back.model_id == model.model_id

    body = json.loads(path.read_text())
    body["coef"][0] += 1.0  # edited: the id no longer matches
    path.write_text(json.dumps(body))
    with pytest.raises(CorruptFileError, match=r"m\.json.*does not match its id"):
        read_model(path)
    path.write_text(path.read_text()[:200])
    with pytest.raises(CorruptFileError, match=r"m\.json.*not valid JSON"):
        read_model(path)
    body = model.to_json()
    body["features"] = body["features"][:-1]
    path.write_text(json.dumps(body))
    with pytest.raises(CorruptFileError, match="features"):
        read_model(path)
    body = model.to_json()
    body["format_version"] = 99
    path.write_text(json.dumps(body))
    with pytest.raises(CorruptFileError, match="newer"):
        read_model(path)
    with pytest.raises(CorruptFileError, match="cannot read"):
        load_he_model(tmp_path / "missing.json")


@pytest.mark.parametrize(("edit", "match"), [
    (lambda b: b.update(features=None), "features must be a list"),
    (lambda b: b.update(features=5), "features must be a list"),
    (lambda b: b.update(classes=["he", "ihc"]), "classes"),
    (lambda b: b.update(coef="0.1"), "coef"),
    (lambda b: b.update(coef=[[0.1] * 21]), "coef"),
    (lambda b: b["coef"].__setitem__(0, 10 ** 400), "coef"),
    (lambda b: b.update(intercept="1.5"), "intercept"),
    (lambda b: b.update(intercept=10 ** 400), "intercept"),
    (lambda b: b.update(test_x=[], test_p=[]), "test rows"),
    (lambda b: b.update(format_version=True), "positive integer"),
    (lambda b: b.update(format_version=0), "positive integer"),
])
def test_malformed_fields_are_refused_by_name(tmp_path, edit, match):
    """Each malformed field, with the id recomputed (so only the field check can catch it), gets a
    CorruptFileError naming the file, never a TypeError or OverflowError."""
    from mmnst_path.stain.he_model import _content_id

    body = read_model(shipped_path()).to_json()
    edit(body)
    body["id"] = _content_id(body)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(body))
    with pytest.raises(CorruptFileError, match=match) as info:
        read_model(path)
    assert "edited.json" in str(info.value)


def test_deeply_nested_json_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(CorruptFileError, match=r"deep\.json"):
        read_model(path)


def test_the_probability_is_scikit_learns():
    """The stored standardisation and coefficients give scikit-learn's own probabilities."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    n = len(FEATURES)
    x = rng.normal(size=(200, n)) * rng.uniform(0.1, 5, n) + rng.normal(size=n)
    y = (x[:, 0] + 0.5 * x[:, 3] + rng.normal(size=200) > x[:, 0].mean()).astype(int)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    lr = LogisticRegression(C=1.0, max_iter=5000).fit((x - mean) / scale, y)
    model = LinearStainModel.build(classes=("ihc", "he"), mean=mean, scale=scale, coef=lr.coef_[0],
                                   intercept=float(lr.intercept_[0]), card={}, test_x=x[:5])
    np.testing.assert_allclose(model.probability(x), lr.predict_proba((x - mean) / scale)[:, 1], rtol=1e-10)


def test_feature_inputs_are_checked():
    m, theta, norm = _pixels(100, 0.0, 0.1, 0.5)
    with pytest.raises(ValueError, match="one length"):
        he_features(m, theta[:-1], norm)
    with pytest.raises(ValueError, match="1-D"):
        he_features(m.reshape(10, 10), theta.reshape(10, 10), norm.reshape(10, 10))
    m[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        he_features(m, theta, norm)


def test_too_few_tissue_pixels_fall_back_to_the_pink_share_rule():
    """With fewer than MIN_PIXELS tissue pixels the model is not asked; the old rule decides."""
    from mmnst_path.stain.he_model import MIN_PIXELS
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(2, "none", chromogen="eosin", size=256, appearance="plain")
    mask = np.zeros(tile.rgb.shape[:2], bool)
    grey = tile.rgb.astype(int).sum(axis=2)
    rows, cols = np.nonzero(grey < 600)  # tissue pixels
    mask[rows[: MIN_PIXELS // 2], cols[: MIN_PIXELS // 2]] = True
    g = guess_stains_detail(tile.rgb, mask)
    assert math.isnan(g.he_probability)
    assert "stain model" not in g.reason


def test_the_shipped_file_is_the_one_the_guess_uses():
    from mmnst_path.stain import he_model

    assert shipped_path() == he_model.Path(he_model.__file__).resolve().parent.parent / "models" / "stains_he.json"
    assert shipped_path().is_file()
    assert load_he_model() is load_he_model(shipped_path())


def test_the_guess_carries_the_model_probability():
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(3, "none", chromogen="eosin", size=256, appearance="plain")
    g = guess_stains_detail(tile.rgb)
    assert g.name == "H&E"
    assert g.he_probability > 0.5
    assert "stain model" in g.reason
    blank = guess_stains_detail(np.full((64, 64, 3), 240, np.uint8))
    assert math.isnan(blank.he_probability)


def test_an_auto_detected_slide_records_the_model_and_its_probability():
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(5, "none", chromogen="eosin", size=256, appearance="plain")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(tile.rgb, AnalysisConfig(measures=("melanin",), stains="auto"), mpp=tile.mpp)
    det = res.stains["detection"]
    assert res.stains["name"] == "H&E"
    assert det["he_probability"] >= 0.5
    assert det["he_model"] == f"stains_he.json {load_he_model().model_id}"


def test_the_card_licence_line_names_every_training_set_under_an_attribution_licence():
    """The licence line sums up the training data's licences: each CC BY 4.0 set is named there (the model's
    user must attribute all three), and the Apache-2.0 rows are placed."""
    card = load_he_model().card
    cc_by = [d["name"] for d in card["training_data"] if "CC BY" in d["licence"]]
    assert len(cc_by) == 3
    cc_part = card["licence"].split("CC BY 4.0 (", 1)[1].split(")", 1)[0]
    for short in ("EndoNuke", "NCT-CRC-HE-100K", "Kather 2016"):
        assert short in cc_part
    assert "Apache-2.0 (EndoNuke staining_ds/)" in card["licence"]
    assert card["licence"].startswith("BSD-3-Clause (the model")
