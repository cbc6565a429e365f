"""Named stains checked against the image (session 42 H9, H5's walk #2; the IHC axis: session 43 H8, H7's walk #1).

With ``stains`` named (``--stains H-DAB``, a manifest line, or ``AnalysisConfig(stains="H-DAB")`` in Python; the
API's default was H-DAB until session 44, it is ``auto`` as the command line's), the run reads the image with the
stains given: an H&E slide named H-DAB gives a plausible-looking Ki67 index of its hematoxylin nuclei (CMU-1: 81.7 %,
n 2723), a Fast Red slide named H-DAB one 1.6x its truth, an azure B slide named H-DAB a melanin fraction of 0.55 %
for 10 % drawn. The stain guess that ``auto`` runs (:func:`mmnst_path.stain.guess.guess_stains_detail`, on the tissue
thumbnail the run has already read) is run here too, and a run whose named stains the image contradicts with
confidence gets one warning naming the file, the stains named, what the image reads as and why. The run goes on with
the stains named (the user may be right). Two axes are checked:

* H&E vs IHC: the stain model's H&E probability at or above :data:`CONTRADICTION_PROBABILITY` against named stains
  without eosin, at or below ``1 -`` it against named H&E;
* within IHC: a guess that is no close call (:attr:`~mmnst_path.stain.guess.StainGuess.ambiguous` false) and reads
  another chromogen, counterstain or double stain than the stains named (:func:`stain_family`: the stains less
  melanin, so H-DAB and H-DAB-melanin are one family). On a thumbnail too coarse to see where the chromogen sits
  (a slide's), such a guess is made again on a few fine tissue patches (as ``auto`` does) before it is said: a
  thumbnail tells a red chromogen from DAB, not a single red stain from a double stain.

A close call whose candidates (the guess and its alternative) include the protocol named says nothing: ``auto`` would
have warned there, a named stain is the user's call. A close call *both* of whose candidates lie outside the named
protocol (H&E counting as outside any IHC protocol) warns on the IHC axis, after the same finer look (session 43 H13,
H12's finding 1): the Ki67 / MART-1 sample tile named H-DAB reads H&E at p 0.54 on its thumbnail, and H-DAB-FastRed
(a close call with H&E) on its patches; named H-DAB it gave a Ki67 index of 63.9 % for 9.05 % drawn, silently. The
patches are read only for named IHC stains whose thumbnail is a close call or reads another IHC protocol.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

__all__ = ["CONTRADICTION_PROBABILITY", "check_named_stains", "marker_found", "stain_family"]

#: The stain model's H&E probability (or one minus it) from which named stains are said to contradict the image:
#: above the unsure-call line of ``auto`` (:data:`mmnst_path.pipeline._stain_sources.UNSURE_HE_PROBABILITY`, 0.8), so a
#: close call is never contradicted.
CONTRADICTION_PROBABILITY = 0.9

#: Stains that do not tell one protocol from another: melanin (a preset's pigment vector) and the derived residual.
_NOT_PROTOCOL = frozenset({"melanin", "residual"})
_RED = frozenset({"aec", "fast_red"})
#: where stains are named (the warning's last words): the command line and the Python API
_WHERE = ("--stains, or its --manifest line; --stains auto guesses them; in Python AnalysisConfig(stains=...), "
          "stains='auto' guesses them")


def stain_family(names: Iterable[str]) -> frozenset[str]:
    """The stains of a matrix that name its protocol: its stain names less melanin and the residual.

    ``("hematoxylin", "dab", "melanin")`` and ``("hematoxylin", "dab")`` are one family; H-DAB-FastRed
    (``hematoxylin, dab, fast_red``) is another than H-FastRed.
    """
    return frozenset(str(n).lower() for n in names) - _NOT_PROTOCOL


def _why(named: frozenset[str], read: frozenset[str]) -> str:
    """What reading the image with the named stains would do if it holds the stains read (one clause)."""
    named_double, read_double = "dab" in named and bool(named & _RED), "dab" in read and bool(read & _RED)
    if read_double and not named_double:
        return "its red melanocyte marker would be read as the Ki67 chromogen (counted as Ki67), with no melanocyte-restricted index"
    if named_double and not read_double:
        return ("Ki67 would be read as DAB and the red Ki67 stain as a melanocyte marker (a melanocyte-restricted index "
                "of a marker the slide does not hold)")
    if named - {"hematoxylin", "azure_b"} != read - {"hematoxylin", "azure_b"}:
        return "its Ki67 chromogen would be unmixed with another chromogen's vector (the index and melanin off)"
    return "its counterstain would be unmixed with another vector (azure B turns melanin green-blue: melanin off)"


def check_named_stains(tissue: Any, matrix: Any, *, source: str, reader: Any = None,
                       mpp0: float | None = None) -> dict[str, Any] | None:
    """Guess the stains of an image whose stains were named; warn when the guess contradicts them.

    Parameters
    ----------
    tissue : TissueResult
        The run's tissue detection (its thumbnail and mask).
    matrix : StainMatrix
        The stains named.
    source : str
        The file, named at the start of the warning.
    reader : SlideReader, optional
        The slide, read for a few fine tissue patches only when the thumbnail is too coarse to see where the
        chromogen sits and its guess contradicts the named stains within IHC (None: the thumbnail's guess stands).
    mpp0 : float, optional
        Level-0 µm/px of ``reader`` (needed with it).

    Returns
    -------
    dict or None
        ``{"guess": name, "he_probability": p, "ambiguous": bool, "contradicts": bool}`` (recorded in the result's
        ``stains.named_check``), with ``"axis"`` (``"H&E"`` or ``"IHC"``) and ``"warning"`` (its text) when it
        contradicts; None when the stain model did not decide (too little tissue).
    """
    from ..stain.guess import guess_stains_detail
    from ..stain.places import PATCH_MPP, PLACES_MAX_MPP, tissue_patches

    if not tissue.mask.any():
        return None
    # on the run's thumbnail: no slide tile is read unless a within-IHC contradiction needs a finer look (the
    # patches ``auto`` reads tell where a chromogen sits, not H&E from IHC: CMU-1 p 0.95 and TCGA 0.945 either
    # way, 1.15 s and 0.22 s of CPU with them, 0.01 and 0.04 s without)
    guess = guess_stains_detail(tissue.thumbnail, tissue.mask, mpp=tissue.mask_mpp)
    p = float(guess.he_probability)
    if math.isnan(p):
        return None
    named = str(getattr(matrix, "name", "") or "the stains named")
    family = stain_family(matrix.names)
    named_he = "eosin" in family
    axis = ""
    if not guess.ambiguous and ((not named_he and p >= CONTRADICTION_PROBABILITY)
                                or (named_he and p <= 1 - CONTRADICTION_PROBABILITY)):
        axis = "H&E"
    elif not named_he and (guess.ambiguous or (p < 0.5 and _differs(guess.name, family))):
        coarse = tissue.mask_mpp is None or float(tissue.mask_mpp) > PLACES_MAX_MPP
        if coarse and reader is not None and mpp0 is not None:  # where the chromogen sits, as ``auto`` reads it
            patches = tissue_patches(reader, tissue.mask, tissue.scale, float(mpp0))
            guess = guess_stains_detail(tissue.thumbnail, tissue.mask, mpp=tissue.mask_mpp, patches=patches,
                                        patches_mpp=max(PATCH_MPP, float(mpp0)))
        if _outside(guess, family):
            axis = "IHC"
    out: dict[str, Any] = {"guess": guess.name, "he_probability": round(p, 4), "ambiguous": bool(guess.ambiguous),
                           "contradicts": bool(axis)}
    if axis == "H&E":
        reads = "H&E" if p >= 0.5 else f"IHC ({guess.name})"
        why = ("its Ki67 index would count hematoxylin nuclei as the chromogen's" if not named_he else
               "its H&E measures would read the chromogen as eosin")
        text = (f"{source}: stains named {named}, but the image reads as {reads} (the stain model's H&E "
                f"probability {p:.2f}); analysed as {named}: if the slide is {reads}, {why}; check its stains "
                f"({_WHERE})")
    elif axis == "IHC":
        from ..stain import get_preset

        read = _ihc_candidate(guess)
        why = _why(family, stain_family(get_preset(read).names))
        how = f"a close call with {guess.alternative}: {guess.reason}" if guess.ambiguous else guess.reason
        text = (f"{source}: stains named {named}, but the image reads as {guess.name} ({how}); analysed as "
                f"{named}: if the slide is {read}, {why}; check its stains ({_WHERE})")
    else:
        return out
    warnings.warn(text, UserWarning, stacklevel=2)
    return {**out, "axis": axis, "warning": text}


def _differs(guess_name: str, family: frozenset[str]) -> bool:
    """Whether a guessed preset names another protocol than ``family`` (a guess of no known preset: no)."""
    from ..stain import PRESETS, get_preset

    if guess_name not in PRESETS:
        return False
    read = stain_family(get_preset(guess_name).names)
    return "eosin" not in read and read != family


def _candidates(guess: Any) -> list[str]:
    """The presets a guess names: its own, and on a close call its alternative too (known presets only)."""
    from ..stain import PRESETS

    names = [guess.name] + ([guess.alternative] if guess.ambiguous and guess.alternative else [])
    return [n for n in names if n in PRESETS]


def _is_he(name: str) -> bool:
    from ..stain import get_preset

    return "eosin" in stain_family(get_preset(name).names)


def _outside(guess: Any, family: frozenset[str]) -> bool:
    """Whether a guess contradicts the named IHC ``family`` within IHC.

    No close call: it reads another IHC protocol (:func:`_differs`) at an H&E probability under 0.5. A close call:
    both its candidates (:func:`_candidates`) lie outside the named family (an H&E preset, with its eosin, lies
    outside any IHC family) and one is an IHC protocol, e.g. H-DAB-FastRed or H&E on a tile named H-DAB; a close call
    one of whose candidates is the named protocol says nothing (the user's call).
    """
    if not guess.ambiguous:
        return float(guess.he_probability) < 0.5 and _differs(guess.name, family)
    names = _candidates(guess)
    return (len(names) == 2 and any(_differs(n, family) for n in names)
            and all(_is_he(n) or _differs(n, family) for n in names))


def _ihc_candidate(guess: Any) -> str:
    """The IHC protocol a contradicting guess reads (the guess itself, or on a close call its IHC candidate)."""
    return next(n for n in _candidates(guess) if not _is_he(n))


def marker_found(config: Any, matrix: Any, found: str, *, source: str) -> Any:
    """The run's config once ``stains="auto"`` found ``found`` (``matrix``): a melanocyte marker chosen (cytoplasmic /
    nuclear: ``--melanocyte-marker``, a manifest's marker, ``[ki67] melanocyte_marker``) for stains without a red
    marker beside DAB is set back to auto, with one warning naming the file, the marker and the stains found (never
    dropped silently); otherwise ``config`` itself.
    """
    from ..quantify._ki67_stains import marker_channel

    marker = config.ki67.melanocyte_marker
    if marker not in ("cytoplasmic", "nuclear") or marker_channel(matrix) is not None:
        return config
    warnings.warn(f"{source}: melanocyte marker {marker} not applied: stains auto found {found}, which has no red "
                  "marker beside DAB (a double stain: H-DAB-FastRed, H-DAB-AEC)", UserWarning, stacklevel=3)
    return config.replace(ki67={**config.ki67.to_mapping(), "melanocyte_marker": "auto"})
