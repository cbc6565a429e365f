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


def warn_if_ambiguous(guess: StainGuess, *, source: str | None = None) -> None:
    """Issue the :class:`AmbiguousStainsWarning` of an ambiguous guess (nothing for a clear one).

    A close call between H&E and a red chromogen also names the red chromogen's double stain: a
    Ki67 / MART-1 double stain's red cytoplasm tints the tissue as eosin does, so such slides reach
    this call too, and following the single red preset there would count the red marker as Ki67
    (session 32's acceptance pass: a generated H-DAB-FastRed tile read H&E at p 0.64). ``source``: the file the
    guess is of, named at the start of the warning (as every other warning of a batch names its file)."""
    if guess.ambiguous:
        alt = (f"if the slide is {guess.alternative}, pass stains='{guess.alternative}' (CLI: --stains "
               f"{guess.alternative})" if guess.alternative else "pass the stains explicitly if this is wrong")
        double = _DOUBLE_OF_RED.get(guess.alternative or "") if guess.name == "H&E" else None
        if double:
            alt += (f"; if it is a Ki67 / MART-1 or SOX10 double stain (brown nuclei beside the red), pass "
                    f"--stains {double} instead: {guess.alternative} alone would count the red marker as Ki67")
        where = f"{source}: " if source else ""
        warnings.warn(f"{where}stains detected as {guess.name}, but ambiguous: {guess.reason}; {alt}",
                      AmbiguousStainsWarning, stacklevel=3)
