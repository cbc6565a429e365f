"""The warning of an ambiguous stain guess (split from :mod:`mmnst_path.stain.guess` in session 33,
when that module passed 600 lines; both names stay importable from it)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .guess import StainGuess

__all__ = ["AmbiguousStainsWarning", "warn_if_ambiguous"]

class AmbiguousStainsWarning(UserWarning):
    """:func:`guess_stains` chose a preset on evidence close to a boundary: check it, or name the stains."""


#: the Ki67 / MART-1 or SOX10 double stain of each red chromogen (what a close H&E call's warning also names)
_DOUBLE_OF_RED = {"H-FastRed": "H-DAB-FastRed", "H-AEC": "H-DAB-AEC"}
_MARKERS = {"cytoplasmic": "MART-1 / Melan-A", "nuclear": "SOX10"}


def _candidate(guess: StainGuess) -> str:
    """The marker (``"nuclear"``, ``"cytoplasmic"``) of a double stain the image may hold though the guess is a single
    stain: where the chromogen sits passes the double-stain rules' body counts of :mod:`mmnst_path.stain.guess` (DAB
    held by nuclear bodies beside red nuclei: SOX10; brown nuclear bodies beside red rings: MART-1), "" otherwise or
    when it was not measured."""
    from .guess import (
        DOUBLE_BROWN_BODIES_MM2,
        DOUBLE_RING_SHARE,
        SOX10_DAB_BODIES_MM2,
        SOX10_RED_BODIES_MM2,
    )

    p = getattr(guess, "places", None)
    if p is None:
        return ""
    if p.red_ring_share >= DOUBLE_RING_SHARE and p.brown_bodies_mm2 >= DOUBLE_BROWN_BODIES_MM2:
        return "cytoplasmic"
    from ._sox10_populations import SOX10_POPULATIONS, two_populations

    if ((p.dab_bodies_mm2 >= SOX10_DAB_BODIES_MM2 and p.red_bodies_mm2 >= SOX10_RED_BODIES_MM2)
            or (SOX10_POPULATIONS and two_populations(p))):  # red nuclei beside DAB nuclei (session 44)
        return "nuclear"
    return ""


def _double_advice(guess: StainGuess, chosen: str = "auto") -> str:
    """What a close call says about a double stain: for a double-stain guess, how to keep it (its preset and
    marker) and what its single-stain alternative would do; for a single red (or H-DAB / AEC) guess of an image that
    holds a double-stain candidate (:func:`_candidate`), the double-stain preset and marker to pass. "" otherwise.
    ``chosen``: the run's ``melanocyte_marker`` (a marker the user chose is the one named, and "keep auto" is not
    said)."""
    picked = chosen if chosen in _MARKERS else ""
    if guess.name in _DOUBLE_OF_RED.values():
        marker = picked or getattr(guess, "marker", "") or "cytoplasmic"
        which = (f"a Ki67 / {_MARKERS[marker]} double stain (the marker chosen), pass" if picked else
                 f"the Ki67 / {_MARKERS[marker]} double stain detected, keep auto or pass")
        return (f"if it is {which} --stains {guess.name} "
                f"--melanocyte-marker {marker} (Python: stains='{guess.name}', [ki67] melanocyte_marker = "
                f"'{marker}'); a single-stain preset on a double stain would count the red marker as Ki67")
    marker = picked or _candidate(guess)
    double = _DOUBLE_OF_RED.get(guess.name) or _DOUBLE_OF_RED.get(guess.alternative or "")
    if not _candidate(guess) or not double:
        return ""
    return (f"if it is a Ki67 / {_MARKERS[marker]} double stain (DAB Ki67 nuclei beside a red marker), pass --stains "
            f"{double} --melanocyte-marker {marker} (Python: stains='{double}', [ki67] melanocyte_marker = '{marker}'): "
            "a single-stain preset would count the red marker as Ki67")


def warn_if_ambiguous(guess: StainGuess, *, source: str | None = None, marker: str = "auto") -> None:
    """Issue the :class:`AmbiguousStainsWarning` of an ambiguous guess (nothing for a clear one).

    A close call between H&E and a red chromogen also names the red chromogen's double stain: a
    Ki67 / MART-1 double stain's red cytoplasm tints the tissue as eosin does, so such slides reach
    this call too, and following the single red preset there would count the red marker as Ki67
    (session 32's acceptance pass: a generated H-DAB-FastRed tile read H&E at p 0.64). A close call of a
    double stain, or of a single stain on an image that holds a double-stain candidate, names the double-stain
    preset and the marker setting (:func:`_double_advice`; session 43, H7's walk #6: the advice pointed to the single
    red preset only, whose index on a SOX10 double stain is 3-6x). The advice is in command-line words, each with its
    Python form in brackets ("(Python: ...)"). ``source``: the file the guess is of, named at the start of the warning
    (as every other warning of a batch names its file); ``marker``: the run's ``melanocyte_marker`` (a marker chosen
    is the one the advice names)."""
    if guess.ambiguous:
        other = guess.alternative
        alt = (f"if the slide is {other}, pass --stains {other} (Python: stains='{other}')" if other else
               "pass the stains explicitly if this is wrong")
        double = _DOUBLE_OF_RED.get(other or "") if guess.name == "H&E" else None
        if double:
            alt += (f"; if it is a Ki67 / MART-1 or SOX10 double stain (brown nuclei beside the red), pass "
                    f"--stains {double} instead: {other} alone would count the red marker as Ki67")
        elif guess.name in _DOUBLE_OF_RED.values():  # the double stain first: the single preset is the risky one
            alt = f"{_double_advice(guess, marker)}; otherwise {alt}"
        else:
            more = _double_advice(guess, marker)
            alt += f"; {more}" if more else ""
        where = f"{source}: " if source else ""
        warnings.warn(f"{where}stains detected as {guess.name}, but ambiguous: {guess.reason}; {alt}",
                      AmbiguousStainsWarning, stacklevel=3)
