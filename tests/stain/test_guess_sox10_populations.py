"""Ki67 / SOX10 Fast Red double stains that the DAB-under-marker rule missed (issue #14, session 43's walk defect 3;
session 44 H1): two nuclear populations, red nuclei however faint beside brown nuclei of DAB's colour
(``mmnst_path.stain._sox10_populations``). A pale marker is named a double stain, a low-Ki67 slide read as a single red
stain is a close call whose warning names the SOX10 preset and marker, never a silent single stain; an H-DAB slide
(no red nuclei) and a single red slide without DAB-coloured nuclei stay as they were."""

from __future__ import annotations

import warnings

import pytest

from mmnst_path.stain import _sox10_populations as pops
from mmnst_path.stain.guess import AmbiguousStainsWarning, StainGuess, _by_places, warn_if_ambiguous
from mmnst_path.stain.places import ChromogenPlaces
from mmnst_path.synthetic_double import double_stain_tile


def _colour(name: str, pink: float = 0.25, deg: float = 5.0) -> StainGuess:
    return StainGuess(name, False, f"by colour {name}", deg, pink, (255.0, 255.0, 255.0))


def _places(pink: float = 600.0, dab_brown: float = 60.0, red: float = 0.0, brown: float = 80.0) -> ChromogenPlaces:
    """A pale SOX10 marker on a thumbnail: red-tinted nuclei (``pink``) that are no red chromogen bodies (``red``),
    a few brown DAB nuclei (``dab_brown`` of ``brown``), no DAB-holding body passing rule (3)."""
    return ChromogenPlaces(brown_bodies_mm2=brown, red_bodies_mm2=red, red_ring_share=0.0, brown_body_deg=1.0,
                           red_body_deg=-14.0, dab_bodies_mm2=60.0, dab_body_deg=1.0, other_body_deg=-6.0,
                           pink_bodies_mm2=pink, dab_brown_bodies_mm2=dab_brown)


def _warning(g: StainGuess) -> str:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        warn_if_ambiguous(g)
    return " ".join(str(x.message) for x in w if issubclass(x.category, AmbiguousStainsWarning))


def test_a_pale_marker_beside_dab_nuclei_is_a_sox10_double_stain():
    g = _by_places(_colour("H-DAB"), _places(), True)
    assert (g.name, g.marker, g.ambiguous, g.alternative) == ("H-DAB-FastRed", "nuclear", True, "H-DAB")
    assert "pale marker" in g.reason
    assert "--melanocyte-marker nuclear" in _warning(g)


@pytest.mark.parametrize(("what", "places"), [
    ("no red nuclei: an H-DAB slide", _places(pink=0.0)),
    ("red nuclei under the limit", _places(pink=pops.SOX10_PINK_BODIES_MM2 - 1.0)),
    ("no brown nucleus of DAB's colour", _places(dab_brown=0.0)),
    ("red nuclei filled by the red: a single red stain outweighed by melanin",
     _places(red=700.0, brown=360.0, dab_brown=100.0)),  # rule (1) needs red >= 2 x brown
    ("brown bodies mostly melanin", _places(dab_brown=15.0, brown=15.0 / pops.SOX10_DAB_BROWN_SHARE + 10.0)),
])
def test_an_h_dab_guess_without_both_populations_stays(what, places):
    g = _by_places(_colour("H-DAB"), places, True)
    assert g.name == "H-DAB", what
    assert not g.marker


def test_the_switch_and_sox10_false_turn_the_call_off(monkeypatch):
    assert _by_places(_colour("H-DAB"), _places(), False).name == "H-DAB"
    monkeypatch.setattr(pops, "SOX10_POPULATIONS", False)
    assert _by_places(_colour("H-DAB"), _places(), True).name == "H-DAB"


@pytest.mark.parametrize("colour", ["H-FastRed", "H-AEC"])
def test_a_red_single_guess_with_both_populations_is_a_close_call_naming_sox10(colour):
    """Low Ki67: red nuclei and a few DAB-coloured brown ones, no DAB under the marker: the single name stays (a single
    Fast Red with melanin over some nuclei looks the same), flagged, the warning naming the SOX10 double stain."""
    g = _by_places(_colour(colour, deg=-40.0), _places(red=700.0), True)
    assert g.name == colour
    assert g.ambiguous
    assert "Ki67 / SOX10" in g.reason
    text = _warning(g)
    assert "--melanocyte-marker nuclear" in text
    plain = _by_places(_colour(colour, deg=-40.0), _places(red=700.0, dab_brown=0.0), True)
    assert not plain.ambiguous  # no DAB-coloured nucleus: a single red stain, unflagged as before


def test_no_marker_only_body_takes_the_red_bodies_angle():
    """A pale marker: every nuclear body of any chromogen holds DAB (``other_body_deg`` NaN); the red bodies' angle
    stands in for the marker-only nuclei (session 43's walk tile 42204)."""
    p = ChromogenPlaces(brown_bodies_mm2=138.0, red_bodies_mm2=292.0, red_ring_share=0.0, brown_body_deg=-2.6,
                        red_body_deg=-12.1, dab_bodies_mm2=492.0, dab_body_deg=-7.1, other_body_deg=float("nan"))
    g = _by_places(_colour("H-AEC", pink=0.265, deg=-9.5), p, True)
    assert (g.name, g.marker) == ("H-DAB-FastRed", "nuclear")


def test_a_pale_marker_generated_tile_is_named_double(guess_on_thumbnail):
    """``double_stain_tile``'s ``marker_od`` range draws a pale marker; the default range draws as before."""
    t = double_stain_tile(140011, marker="nuclear", chromogen="fast_red", size=512, melanocyte_ki67=(0.2, 0.45),
                          marker_od=(0.15, 0.3), pigmented_melanocytes=(0.05, 0.2))
    assert 0.15 <= t.truth["marker_od"] <= 0.3
    g = guess_on_thumbnail(t.rgb, t.mpp)
    assert (g.name, g.marker) == ("H-DAB-FastRed", "nuclear"), g.reason
    a, b = double_stain_tile(7, size=128), double_stain_tile(7, size=128, marker_od=(0.25, 0.7))
    assert (a.rgb == b.rgb).all()


def test_the_sox10_reason_names_the_nuclei_the_dab_bodies_were_compared_with():
    """Session 44 H9 (H1's wording follow-up): where the red bodies' angle stands in for the marker-only nuclei (none
    measured), the reason says the DAB bodies are browner than the red nuclei, not than "the other nuclei"."""
    from dataclasses import replace

    p = ChromogenPlaces(brown_bodies_mm2=138.0, red_bodies_mm2=292.0, red_ring_share=0.0, brown_body_deg=-2.6,
                        red_body_deg=-12.1, dab_bodies_mm2=492.0, dab_body_deg=-7.1, other_body_deg=float("nan"))
    stand_in = _by_places(_colour("H-AEC", pink=0.265, deg=-9.5), p, True)
    assert "+5° browner than the red nuclei beside them (" in stand_in.reason
    assert "other nuclei" not in stand_in.reason
    measured = _by_places(_colour("H-AEC", pink=0.265, deg=-9.5), replace(p, other_body_deg=-12.1), True)
    assert measured.name == "H-DAB-FastRed"
    assert "+5° browner than the other nuclei, beside red nuclei (" in measured.reason  # unchanged
