"""Stain presets, the melanin vector, conditioning warnings and the JSON / QuPath forms."""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pytest

from mmnst_path.errors import StainError
from mmnst_path.stain import (
    PRESETS,
    StainConditioningWarning,
    StainMatrix,
    angle_deg,
    get_preset,
    load_stains,
    melanin_vector,
)

REQUIRED = (
    "H-DAB", "H&E", "H&E-QuPath", "H-E-DAB", "H-AEC", "H-FastRed",
    "H-DAB-melanin", "H&E-melanin", "H-AEC-melanin", "H-FastRed-melanin",
)
ILL_CONDITIONED = {"H-DAB-melanin", "H-AEC-melanin"}


def _preset(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StainConditioningWarning)
        return get_preset(name)


@pytest.mark.parametrize("name", REQUIRED)
def test_presets_are_complete_and_referenced(name):
    assert name in PRESETS
    m = _preset(name)
    assert m.vectors.shape == (3, 3)
    np.testing.assert_allclose(np.linalg.norm(m.vectors, axis=1), 1.0)
    assert m.names[0] == "hematoxylin"
    assert all(n.islower() for n in m.names)
    assert "Ruifrok" in m.reference or "QuPath" in m.reference
    if "melanin" in m.names:
        assert "λ^-3.48" in m.reference
    assert not m.vectors.flags.writeable


def test_preset_values_from_the_literature():
    hdab = get_preset("H-DAB")
    np.testing.assert_allclose(hdab.vector("dab"), np.array([0.268, 0.570, 0.776]) / 0.99993, atol=1e-3)
    np.testing.assert_allclose(hdab.vector("hematoxylin"), [0.650, 0.704, 0.286], atol=1e-3)
    np.testing.assert_allclose(get_preset("H&E-QuPath").vector("eosin"), [0.2159, 0.8012, 0.5581], atol=1e-3)
    np.testing.assert_allclose(get_preset("H-AEC").vector("aec"), [0.2743, 0.6796, 0.6803], atol=1e-3)
    np.testing.assert_allclose(get_preset("H-FastRed").vector("fast_red"), [0.21394, 0.85113, 0.47794], atol=1e-3)


def test_lookup_is_case_insensitive_and_errors_list_valid_names():
    assert get_preset("h-dab") == get_preset("H-DAB")
    assert get_preset(" h&e ").name == "H&E"
    with pytest.raises(StainError, match=r"unknown stain preset 'H-XYZ'.*H-DAB.*H-FastRed-melanin"):
        get_preset("H-XYZ")


def test_two_stain_matrices_get_the_cross_product_residual():
    m = get_preset("H-DAB")
    assert m.names == ("hematoxylin", "dab", "residual")
    assert m.stain_names == ("hematoxylin", "dab")
    resid = m.vector("residual")
    assert abs(resid @ m.vector("hematoxylin")) < 1e-12
    assert abs(resid @ m.vector("dab")) < 1e-12
    np.testing.assert_allclose(np.abs(resid), np.abs(np.cross(m.vectors[0], m.vectors[1])) /
                               np.linalg.norm(np.cross(m.vectors[0], m.vectors[1])))


def test_melanin_vector_derivation():
    mel = melanin_vector()
    np.testing.assert_allclose(mel, [0.32, 0.49, 0.82], atol=0.01)
    # independent check: narrow bands reduce to the power law sampled at the band centres
    narrow = melanin_vector(band_fwhm_nm=(1.0, 1.0, 1.0))
    at_centres = np.array([610.0, 540.0, 465.0]) ** -3.48
    np.testing.assert_allclose(narrow, at_centres / np.linalg.norm(at_centres), atol=1e-4)
    # steeper spectrum: more blue absorption
    assert melanin_vector(4.0)[2] > mel[2] > melanin_vector(3.0)[2]


def test_melanin_is_3_to_10_degrees_from_dab():
    dab = get_preset("H-DAB").vector("dab")
    assert 3.0 <= angle_deg(melanin_vector(), dab) <= 10.0
    assert angle_deg(melanin_vector(), get_preset("H-FastRed").vector("fast_red")) > 25.0


def test_conditioning_numbers():
    assert get_preset("H-DAB").condition_number == pytest.approx(3.0, abs=0.3)
    m = _preset("H-DAB-melanin")
    assert m.condition_number == pytest.approx(23.0, abs=1.5)
    assert 3.0 <= m.min_angle_deg <= 10.0
    assert get_preset("H-DAB").min_angle_deg > 30.0


@pytest.mark.parametrize("name", REQUIRED)
def test_ill_conditioned_presets_warn_with_advice(name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        get_preset(name)
    got = [w for w in caught if issubclass(w.category, StainConditioningWarning)]
    if name in ILL_CONDITIONED:
        assert len(got) == 1
        text = str(got[0].message)
        assert "red chromogen" in text
        assert "pigment detector" in text
        assert "melanin" in text
    else:
        assert got == []


def test_custom_ill_conditioned_matrix_warns_and_singular_raises():
    with pytest.warns(StainConditioningWarning, match="poorly conditioned"):
        StainMatrix(("a", "b", "c"), [[1, 0, 0], [0, 1, 0], [0.05, 0.99, 0.05]])
    with pytest.raises(StainError, match="parallel"):
        StainMatrix(("a", "b"), [[1, 1, 1], [2, 2, 2]])
    with pytest.raises(StainError, match="singular"):
        StainMatrix(("a", "b", "c"), [[1, 0, 0], [0, 1, 0], [1, 1, 0]])


@pytest.mark.parametrize(
    ("names", "vectors", "match"),
    [
        (("h",), [[1, 0, 0]], "2 or 3"),
        (("h", "h"), [[1, 0, 0], [0, 1, 0]], "unique"),
        (("h", "d"), [[1, 0, 0], [0, 0, 0]], "zero"),
        (("h", "d"), [[1, 0, np.nan], [0, 1, 0]], "finite"),
        (("h", "residual"), [[1, 0, 0], [0, 1, 0]], "residual"),
    ],
)
def test_invalid_matrices(names, vectors, match):
    with pytest.raises(StainError, match=match):
        StainMatrix(names, vectors)


@pytest.mark.parametrize("name", REQUIRED)
def test_json_round_trip(name):
    m = _preset(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StainConditioningWarning)
        back = StainMatrix.from_json(m.to_json())
    assert back == m
    assert back.name == m.name


def test_json_keeps_background_and_qupath_string_round_trip():
    m = StainMatrix(("hematoxylin", "dab"), get_preset("H-DAB").vectors[:2], background=(231, 229.5, 220))
    assert StainMatrix.from_json(m.to_json()).background == (231.0, 229.5, 220.0)
    q = m.to_qupath()
    assert q.startswith("setColorDeconvolutionStains('{")
    assert '"Stain 2" : "DAB"' in q
    back = StainMatrix.from_json(q)
    assert back.names == m.names
    np.testing.assert_allclose(back.vectors, m.vectors, atol=2e-5)
    assert back.background == (231.0, 230.0, 220.0)  # QuPath stores whole numbers


def test_qupath_string_from_qupath():
    text = (
        '{"Name" : "H-DAB estimated", "Stain 1" : "Hematoxylin", "Values 1" : "0.6511 0.70119 0.29049", '
        '"Stain 2" : "DAB", "Values 2" : "0.26917 0.56824 0.77759", '
        '"Stain 3" : "Residual", "Values 3" : "0.0 0.0 0.0", "Background" : " 245 240 250"}'
    )
    m = StainMatrix.from_json(text)
    assert m.names == ("hematoxylin", "dab", "residual")
    assert m.background == (245.0, 240.0, 250.0)
    assert angle_deg(m.vector("dab"), get_preset("H-DAB").vector("dab")) < 0.5


def test_load_stains_accepts_preset_json_file_and_text(tmp_path):
    assert load_stains("h-dab") == get_preset("H-DAB")
    path = tmp_path / "stains.json"
    path.write_text(get_preset("H-AEC").to_json())
    assert load_stains(path).names == ("hematoxylin", "aec", "residual")
    assert load_stains(get_preset("H&E").to_json()).name == "H&E"
    with pytest.raises(StainError, match="neither a preset"):
        load_stains("nonsense")
    with pytest.raises(StainError, match="not valid JSON"):
        load_stains("{broken")


def test_pickle_round_trip_does_not_warn_again():
    m = _preset("H-DAB-melanin")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = pickle.loads(pickle.dumps(m))
    assert back == m
    assert back.condition_number == pytest.approx(m.condition_number)


def test_angle_deg():
    assert angle_deg([1, 0, 0], [0, 1, 0]) == pytest.approx(90.0)
    assert angle_deg([1, 1, 0], [2, 2, 0]) == pytest.approx(0.0, abs=1e-6)
    assert math.isclose(angle_deg([1, 0, 0], [-1, 0, 0]), 180.0)
