"""Ki67 / SOX10 double stains under ``stains="auto"`` by default (issue #14, session 33): rule (3) of
``mmnst_path.stain.guess`` is on, is looked at for an H-DAB colour guess too (an AEC marker rendered
brownish), keeps single Fast Red stains whose dense nuclei pass the DAB-holding share out by the angle of
those bodies, and names the marker's chromogen by the pink share."""

from __future__ import annotations

import math

import pytest

from mmnst_path.stain import guess as guess_module
from mmnst_path.stain.guess import StainGuess, _by_places
from mmnst_path.stain.places import ChromogenPlaces
from mmnst_path.synthetic_double import double_stain_tile


def _colour(name: str, pink: float = 0.02, deg: float = -10.0) -> StainGuess:
    return StainGuess(name, False, f"by colour {name}", deg, pink, (255.0, 255.0, 255.0))


def _sox10_places(dab_deg: float = -2.0, red_deg: float = -16.0, brown: float = 300.0) -> ChromogenPlaces:
    """Nuclear bodies of a Ki67 / SOX10 double stain (per mm²): 400 hold DAB at ``dab_deg``, the others
    (marker only) 6° redder, 150 red bodies at ``red_deg``."""
    return ChromogenPlaces(brown_bodies_mm2=brown, red_bodies_mm2=150.0, red_ring_share=0.0, brown_body_deg=0.0,
                           red_body_deg=red_deg, dab_bodies_mm2=400.0, dab_body_deg=dab_deg,
                           other_body_deg=dab_deg - 6.0)


def test_the_sox10_rule_is_on_by_default():
    assert guess_module.SOX10_DETECTION is True


def test_an_h_dab_colour_guess_with_dab_and_marker_nuclei_is_an_aec_sox10_double_stain():
    """An AEC marker rendered brownish: the colour says H-DAB, the nuclei hold DAB (400 / mm²) and a red
    marker alone (6° redder): H-DAB-AEC, nuclear marker, flagged with H-DAB to pass."""
    g = _by_places(_colour("H-DAB", deg=-2.0), _sox10_places(), True)
    assert g.name == "H-DAB-AEC", g.reason
    assert g.marker == "nuclear"
    assert g.ambiguous
    assert g.alternative == "H-DAB"
    assert "SOX10" in g.reason
    # without the rule (sox10=False) the colour stays
    assert _by_places(_colour("H-DAB", deg=-2.0), _sox10_places(), False).name == "H-DAB"


def test_red_nuclei_outweighed_by_melanin_keep_rule_1_before_the_sox10_rule():
    """An H-DAB colour guess with many red bodies (>= 150 / mm², twice the brown) is rule (1)'s: a red
    chromogen, or, at -9°, a reddish DAB kept H-DAB (flagged with H-AEC), never a SOX10 double stain."""
    g = _by_places(_colour("H-DAB", deg=-2.0), _sox10_places(red_deg=-9.0, brown=50.0), True)
    assert g.name == "H-DAB"
    assert g.alternative == "H-AEC"
    assert not g.marker


@pytest.mark.parametrize("colour", ["H-AEC", "H-FastRed", "H&E", "H-DAB"])
def test_dab_holding_bodies_redder_than_the_floor_are_a_single_red_stain(colour):
    """Dense Fast Red nuclei pass the DAB-holding share (melanophage tiles): their bodies lie redder than
    ``SOX10_DAB_MIN_DEG`` and the colour guess stays."""
    floor = guess_module.SOX10_DAB_MIN_DEG
    below = _by_places(_colour(colour), _sox10_places(dab_deg=floor - 0.5), True)
    above = _by_places(_colour(colour), _sox10_places(dab_deg=floor + 0.5), True)
    assert below.name == colour
    assert not below.marker
    assert above.marker == "nuclear"


@pytest.mark.parametrize("colour", ["H-AEC", "H-DAB"])
def test_the_marker_chromogen_follows_the_pink_share(colour):
    """A SOX10 double stain whose colour is H-AEC or H-DAB: AEC below ``SOX10_FAST_RED_PINK``, Fast Red at
    it, whatever the red bodies' angle (-16°: the angle rule before named this AEC marker Fast Red)."""
    limit = guess_module.SOX10_FAST_RED_PINK
    aec = _by_places(_colour(colour, pink=0.5 * limit), _sox10_places(red_deg=-16.0), True)
    fast_red = _by_places(_colour(colour, pink=limit), _sox10_places(red_deg=-16.0), True)
    assert aec.name == "H-DAB-AEC", aec.reason
    assert fast_red.name == "H-DAB-FastRed", fast_red.reason


@pytest.mark.parametrize("colour", ["H-FastRed", "H&E"])
def test_a_fast_red_or_h_and_e_colour_guess_gives_a_fast_red_marker(colour):
    g = _by_places(_colour(colour, pink=0.0), _sox10_places(), True)
    assert g.name == "H-DAB-FastRed"


def test_generated_sox10_aec_tiles_are_named_by_default(guess_on_thumbnail, monkeypatch):
    """Generated Ki67 / SOX10 AEC tiles (seeds 0-5, 384 px): by default (no ``sox10`` argument) 3 of 6 are
    H-DAB-AEC with the nuclear marker (measured 2026-12-06; colour alone: 3 H-DAB, 3 H-AEC); with the rule
    off none is a double stain."""
    tiles = [double_stain_tile(seed, marker="nuclear", chromogen="aec", size=384) for seed in range(6)]
    got = [guess_on_thumbnail(t.rgb, t.mpp) for t in tiles]
    right = [g for g in got if g.name == "H-DAB-AEC" and g.marker == "nuclear"]
    assert len(right) >= 3, [(g.name, g.marker, g.pink_share, g.places) for g in got]
    for g in right:
        assert g.ambiguous
        assert not math.isnan(g.pink_share)
    monkeypatch.setattr(guess_module, "SOX10_DETECTION", False)
    assert not [g.name for g in (guess_on_thumbnail(t.rgb, t.mpp) for t in tiles) if g.name.startswith("H-DAB-")]
