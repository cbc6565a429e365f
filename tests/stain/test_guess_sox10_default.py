"""Ki67 / SOX10 Fast Red double stains under ``stains="auto"`` by default (issue #14, session 33): rule (3)
of ``mmnst_path.stain.guess`` is on for a Fast Red marker, keeps single Fast Red stains whose dense nuclei
pass the DAB-holding share out by the angle of those bodies, keeps melanin over single-stain nuclei out by
the brown bodies per DAB-holding body, and names the marker Fast Red by the pink share of an H-AEC colour
guess; an AEC marker (H-AEC under the pink limit, or H-DAB) is looked for only with ``SOX10_AEC``."""

from __future__ import annotations

import pytest

from mmnst_path.stain import guess as guess_module
from mmnst_path.stain.guess import StainGuess, _by_places
from mmnst_path.stain.places import ChromogenPlaces
from mmnst_path.synthetic_double import double_stain_tile


def _colour(name: str, pink: float = 0.3, deg: float = -10.0) -> StainGuess:
    return StainGuess(name, False, f"by colour {name}", deg, pink, (255.0, 255.0, 255.0))


def _sox10_places(dab_deg: float = -2.0, red_deg: float = -16.0, brown: float = 300.0) -> ChromogenPlaces:
    """Nuclear bodies of a Ki67 / SOX10 double stain (per mm²): 400 hold DAB at ``dab_deg``, the others
    (marker only) 6° redder, 150 red bodies at ``red_deg``, ``brown`` brown ones."""
    return ChromogenPlaces(brown_bodies_mm2=brown, red_bodies_mm2=150.0, red_ring_share=0.0, brown_body_deg=0.0,
                           red_body_deg=red_deg, dab_bodies_mm2=400.0, dab_body_deg=dab_deg,
                           other_body_deg=dab_deg - 6.0)


def test_the_sox10_rule_is_on_by_default_for_a_fast_red_marker():
    assert guess_module.SOX10_DETECTION is True
    assert guess_module.SOX10_AEC is False


@pytest.mark.parametrize("colour", ["H-AEC", "H-FastRed", "H&E"])
def test_dab_and_marker_nuclei_make_a_fast_red_sox10_double_stain(colour):
    g = _by_places(_colour(colour), _sox10_places(), True)
    assert g.name == "H-DAB-FastRed", g.reason
    assert g.marker == "nuclear"
    assert g.ambiguous
    assert g.alternative == colour
    assert "SOX10" in g.reason
    assert _by_places(_colour(colour), _sox10_places(), False).name == colour  # sox10=False: the colour stays


@pytest.mark.parametrize("colour", ["H-AEC", "H-FastRed", "H&E"])
def test_dab_holding_bodies_redder_than_the_floor_are_a_single_red_stain(colour):
    """Dense Fast Red nuclei pass the DAB-holding share (melanophage tiles): their bodies lie redder than
    ``SOX10_DAB_MIN_DEG`` and the colour guess stays."""
    floor = guess_module.SOX10_DAB_MIN_DEG
    below = _by_places(_colour(colour), _sox10_places(dab_deg=floor - 0.5), True)
    above = _by_places(_colour(colour), _sox10_places(dab_deg=floor + 0.5), True)
    assert below.name == colour
    assert not below.marker
    assert above.marker == "nuclear"


def test_brown_bodies_that_hold_no_dab_are_melanin_over_a_single_stain():
    """Melanin over the nuclei of a single red stain makes brown nuclear bodies that hold no DAB: with more
    than ``SOX10_BROWN_PER_DAB`` brown bodies per DAB-holding body the colour guess stays."""
    limit = guess_module.SOX10_BROWN_PER_DAB
    many = _by_places(_colour("H-AEC"), _sox10_places(brown=400.0 * limit * 1.1), True)
    few = _by_places(_colour("H-AEC"), _sox10_places(brown=400.0 * limit * 0.9), True)
    assert many.name == "H-AEC"
    assert not many.marker
    assert few.marker == "nuclear"


def test_an_h_aec_colour_guess_needs_the_pink_of_a_fast_red_marker(monkeypatch):
    """Below ``SOX10_FAST_RED_PINK`` an H-AEC colour guess stays (an AEC marker is not looked for by
    default), whatever the red bodies' angle; with ``SOX10_AEC`` it is H-DAB-AEC."""
    limit = guess_module.SOX10_FAST_RED_PINK
    assert _by_places(_colour("H-AEC", pink=limit), _sox10_places(), True).name == "H-DAB-FastRed"
    low = _by_places(_colour("H-AEC", pink=0.5 * limit), _sox10_places(red_deg=-16.0), True)
    assert low.name == "H-AEC"
    assert not low.marker
    monkeypatch.setattr(guess_module, "SOX10_AEC", True)
    assert _by_places(_colour("H-AEC", pink=0.5 * limit), _sox10_places(red_deg=-16.0), True).name == "H-DAB-AEC"


def test_an_h_dab_colour_guess_is_looked_at_only_for_an_aec_marker_and_aec_red_bodies(monkeypatch):
    """An AEC marker rendered brownish: the colour says H-DAB. By default (``SOX10_AEC`` off) it stays;
    with it, DAB and marker nuclei with red bodies at AEC's angles make H-DAB-AEC, red bodies redder than
    ``RED_DEG`` (Fast Red beside confluent melanin) do not, and rule (1) (many red bodies, twice the
    brown) comes first."""
    assert _by_places(_colour("H-DAB", deg=-2.0), _sox10_places(red_deg=-14.0), True).name == "H-DAB"
    monkeypatch.setattr(guess_module, "SOX10_AEC", True)
    g = _by_places(_colour("H-DAB", pink=0.0, deg=-2.0), _sox10_places(red_deg=-14.0), True)
    assert g.name == "H-DAB-AEC", g.reason
    assert g.alternative == "H-DAB"
    assert _by_places(_colour("H-DAB", pink=0.0, deg=4.5), _sox10_places(red_deg=-26.0), True).name == "H-DAB"
    reddish = _by_places(_colour("H-DAB", pink=0.0, deg=-2.0), _sox10_places(red_deg=-9.0, brown=50.0), True)
    assert reddish.name == "H-DAB"
    assert reddish.alternative == "H-AEC"
    assert not reddish.marker


def test_generated_sox10_aec_tiles_only_with_the_aec_switch(guess_on_thumbnail, monkeypatch):
    """Generated Ki67 / SOX10 AEC tiles (seeds 0-5, 384 px; colour alone: 3 H-DAB, 3 H-AEC): by default
    none is named a double stain; with ``SOX10_AEC`` 3 of 6 are H-DAB-AEC with the nuclear marker
    (measured 2026-12-06)."""
    tiles = [double_stain_tile(seed, marker="nuclear", chromogen="aec", size=384) for seed in range(6)]
    assert not [g.name for g in (guess_on_thumbnail(t.rgb, t.mpp) for t in tiles) if g.name.startswith("H-DAB-")]
    monkeypatch.setattr(guess_module, "SOX10_AEC", True)
    got = [guess_on_thumbnail(t.rgb, t.mpp) for t in tiles]
    right = [g for g in got if g.name == "H-DAB-AEC" and g.marker == "nuclear"]
    assert len(right) >= 3, [(g.name, g.marker, g.pink_share, g.places) for g in got]
