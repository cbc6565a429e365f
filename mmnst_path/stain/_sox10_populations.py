"""Ki67 / SOX10 Fast Red double stains that the DAB-under-marker rule misses (session 44 H1, issue #14, walk
defect 3 of session 43): two nuclear populations, red and brown, the brown one DAB.

Rule (3) of :mod:`mmnst_path.stain.guess` (``_nuclear_double``) names a SOX10 double stain from its Ki67-positive
melanocytes, nuclei that hold DAB under the red marker. Two kinds of slide have no such signature:

- a **pale marker** (marker OD ~0.3 and under): on the 1 µm/px thumbnail the marker's nuclei are tinted red but not
  dominated by the red (no red chromogen bodies, often an H-DAB colour guess), and no marker-only nucleus is a body
  of its own, so the angle between the DAB-holding and the other bodies is not measured (NaN);
- a **low Ki67 index** (5 of 151 melanocytes): few nuclei hold DAB under the marker.

What a pathologist reads there is two distinct nuclear populations: red nuclei (the marker), however faint, and
brown nuclei of DAB's colour (Ki67), the brown ones not melanin (brown-black, browner than DAB, and in granules,
rings and clusters rather than round nuclei). :attr:`~mmnst_path.stain.places.ChromogenPlaces.pink_bodies_mm2` and
:attr:`~mmnst_path.stain.places.ChromogenPlaces.dab_brown_bodies_mm2` count them. Single stains: an H-DAB slide
has no red nuclei (generated H-DAB with every pigment family: 0 per mm²); a MART-1 double stain's marker lies in the
cytoplasm (0); eosin tints the tissue as a whole (0); a single Fast Red slide has red nuclei, and melanin over them
can take DAB's colour, so on a red-chromogen colour guess the two populations are a **close call** (flagged, the
SOX10 double stain named in the warning), never a silent single stain. On an H-DAB colour guess the red nuclei are
a marker's only when they are tinted rather than chromogen-dominated (a single red chromogen outweighed by melanin
fills its positive nuclei with red: rule (1) of the guess) and the brown nuclear bodies are not mostly melanin:
then the image is named ``H-DAB-FastRed`` with the ``"nuclear"`` marker, always flagged.

Numbers chosen on generated dev tiles of seeds 14000-14049 only (``benchmarks/experiments/sox10_two_populations_dev_s44.py``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._stain_guess import StainGuess
    from .places import ChromogenPlaces

__all__ = ["SOX10_DAB_BROWN_MM2", "SOX10_DAB_BROWN_SHARE", "SOX10_PINK_BODIES_MM2", "SOX10_POPULATIONS",
           "pale_marker_double", "two_populations", "two_populations_flag"]

#: Look for the two nuclear populations (False: the guess before session 44).
SOX10_POPULATIONS = True
#: Red nuclei, however faint: at least this many pink nuclear bodies per mm² (generated single H-DAB, MART-1 and H&E
#: tiles of dev seeds 14000-14049: 0; SOX10 Fast Red tiles named H-DAB by colour: from 2xx).
SOX10_PINK_BODIES_MM2 = 150.0
#: Brown nuclei of DAB's colour: at least this many per mm² (one nucleus on the thumbnail of a 256 µm tile is 15).
SOX10_DAB_BROWN_MM2 = 10.0
#: On an H-DAB colour guess, at least this share of the brown nuclear bodies of DAB's colour (the others melanin).
SOX10_DAB_BROWN_SHARE = 0.2


def two_populations(places: ChromogenPlaces | None) -> bool:
    """Red nuclei (pink bodies) beside brown nuclei of DAB's colour, both at their limits."""
    return (places is not None and places.pink_bodies_mm2 >= SOX10_PINK_BODIES_MM2
            and places.dab_brown_bodies_mm2 >= SOX10_DAB_BROWN_MM2)


def _counts(places: ChromogenPlaces) -> str:
    return (f"{places.pink_bodies_mm2:.0f} red (or pink) nuclei and {places.dab_brown_bodies_mm2:.0f} brown nuclei of "
            f"DAB's colour per mm², {places.red_bodies_mm2:.0f} red chromogen and {places.brown_bodies_mm2:.0f} brown "
            "nuclear bodies")


def pale_marker_double(guess: StainGuess, places: ChromogenPlaces) -> StainGuess | None:
    """An H-DAB colour guess that is a Ki67 / SOX10 Fast Red double stain with a pale marker (module docstring), or
    None."""
    if not (SOX10_POPULATIONS and guess.name == "H-DAB" and two_populations(places)):
        return None
    if places.pink_bodies_mm2 < places.red_bodies_mm2:  # chromogen-dominated red nuclei: a single red stain
        return None
    if places.dab_brown_bodies_mm2 < SOX10_DAB_BROWN_SHARE * places.brown_bodies_mm2:  # brown mostly melanin
        return None
    return replace(guess, name="H-DAB-FastRed", ambiguous=True, alternative=guess.name, places=places, marker="nuclear",
                   reason=f"Ki67 / SOX10 double stain with a pale marker: two nuclear populations, red nuclei tinted "
                          f"rather than filled by the red, beside brown nuclei of DAB's colour ({_counts(places)}); by "
                          f"colour alone {guess.name} ({guess.reason})")


def two_populations_flag(guess: StainGuess, places: ChromogenPlaces) -> StainGuess:
    """A single red-chromogen guess with both populations: flagged as a close call (a Ki67 / SOX10 double stain with
    few Ki67-positive melanocytes looks the same as a single Fast Red stain with melanin over some nuclei)."""
    if not (SOX10_POPULATIONS and guess.name in ("H-AEC", "H-FastRed") and two_populations(places)):
        return guess
    return replace(guess, ambiguous=True, reason=f"{guess.reason}; but red nuclei lie beside brown nuclei of DAB's "
                                                 f"colour ({_counts(places)}): a Ki67 / SOX10 double stain with few "
                                                 "Ki67-positive melanocytes looks the same")
