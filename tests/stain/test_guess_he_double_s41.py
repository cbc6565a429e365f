"""An H&E colour guess whose nuclei hold DAB (issue #14, session 41): a Ki67 / MART-1 Fast Red double stain's red
cytoplasm reads as eosin, its Ki67 nuclei are DAB. Such a guess is read H-DAB-FastRed with a cytoplasmic marker,
flagged with H&E to pass; an H&E guess with fewer DAB-holding nuclear bodies, or any other colour guess, is left as
it was."""

from __future__ import annotations

import pytest

from mmnst_path.stain import guess as guess_module
from mmnst_path.stain.guess import AmbiguousStainsWarning, StainGuess, _by_places, warn_if_ambiguous
from mmnst_path.stain.places import ChromogenPlaces


def _he(p: float = 0.83) -> StainGuess:
    return StainGuess("H&E", False, f"the stain model reads H&E at p = {p:.2f}", float("nan"), 0.6,
                      (255.0, 255.0, 255.0), alternative="H-FastRed", he_probability=p)


def _places(dab: float, ring: float = 0.15, brown: float = 5.0, deg: float = -2.0) -> ChromogenPlaces:
    """Places with ``dab`` DAB-holding nuclear bodies per mm², too few brown bodies for the MART-1 rule and no
    red bodies (no SOX10 double stain)."""
    return ChromogenPlaces(brown_bodies_mm2=brown, red_bodies_mm2=0.0, red_ring_share=ring, brown_body_deg=0.0,
                           red_body_deg=float("nan"), dab_bodies_mm2=dab, dab_body_deg=deg, other_body_deg=deg - 4.0)


def test_an_he_guess_with_dab_nuclei_is_read_as_a_mart1_fast_red_double_stain():
    g = _by_places(_he(), _places(2 * guess_module.HE_DAB_BODIES_MM2), True)
    assert g.name == "H-DAB-FastRed"
    assert g.ambiguous
    assert g.alternative == "H&E"
    assert g.marker == "cytoplasmic"
    assert "hold DAB" in g.reason
    assert "by colour alone H&E" in g.reason
    assert g.places is not None
    assert g.he_probability == pytest.approx(0.83)


def test_red_dab_holding_bodies_or_sox10_off_leave_the_h_and_e_guess():
    """DAB-holding bodies redder than ``SOX10_DAB_MIN_DEG`` are dense red bodies, not DAB; ``sox10=False`` turns
    the DAB-holding-body tests off."""
    floor = guess_module.SOX10_DAB_MIN_DEG
    dab = 2 * guess_module.HE_DAB_BODIES_MM2
    assert _by_places(_he(), _places(dab, deg=floor + 0.5), True).name == "H-DAB-FastRed"
    assert _by_places(_he(), _places(dab, deg=floor - 0.5), True).name == "H&E"
    assert _by_places(_he(), _places(dab), False).name == "H&E"


def test_the_dab_body_limit_is_where_the_call_changes():
    limit = guess_module.HE_DAB_BODIES_MM2
    assert _by_places(_he(), _places(limit), True).name == "H-DAB-FastRed"
    below = _by_places(_he(), _places(limit - 1.0), True)
    assert below.name == "H&E"
    assert not below.ambiguous
    assert below.reason == _he().reason


@pytest.mark.parametrize("colour", ["H-FastRed", "H-AEC", "H-DAB"])
def test_other_colour_guesses_are_not_changed_by_dab_nuclei(colour):
    g = StainGuess(colour, False, f"by colour {colour}", -36.0 if colour == "H-FastRed" else -10.0, 0.3,
                   (255.0, 255.0, 255.0))
    assert _by_places(g, _places(400.0, ring=0.0, brown=0.0), True).name == colour


def test_the_warning_names_the_double_stain_and_h_and_e_to_pass():
    g = _by_places(_he(), _places(120.0), True)
    with pytest.warns(AmbiguousStainsWarning) as rec:
        warn_if_ambiguous(g)
    text = str(rec[0].message)
    assert "stains detected as H-DAB-FastRed" in text
    assert "--stains H&E" in text


def test_a_generated_mart1_tile_read_as_h_and_e_by_its_colour_is_named_the_double_stain(guess_on_thumbnail):
    """Dev tile 448906 (session 41): by colour and places before, H&E (p 0.52, no brown bodies in rings); 298
    DAB-holding nuclear bodies per mm²."""
    from mmnst_path.synthetic_double import double_stain_tile

    t = double_stain_tile(448906, marker="cytoplasmic", chromogen="fast_red", size=384)
    g = guess_on_thumbnail(t.rgb, t.mpp)
    assert g.name == "H-DAB-FastRed"
    assert g.marker == "cytoplasmic"
    assert g.ambiguous
    assert g.alternative == "H&E"


def test_a_pigmented_h_and_e_tile_stays_h_and_e(guess_on_thumbnail):
    """Dev tile: generated H&E with coarse melanin (seed 4492), the H&E tile with the most brown bodies of the
    session 41 dev seeds (113 per mm², 28 DAB-holding)."""
    from mmnst_path.synthetic import pigment_family_tile

    t = pigment_family_tile(4492, "coarse", chromogen="eosin", size=384, appearance="varied")
    g = guess_on_thumbnail(t.rgb, t.mpp)
    assert g.name == "H&E"
    assert g.places is not None
    assert g.places.dab_bodies_mm2 < guess_module.HE_DAB_BODIES_MM2
