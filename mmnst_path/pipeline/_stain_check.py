"""Named stains checked against the image (session 42 H9, H5's walk #2).

With ``stains`` named (``--stains H-DAB``, a manifest line), the run reads the image with the stains given: an
H&E slide named H-DAB gives a plausible-looking Ki67 index of its hematoxylin nuclei (CMU-1: 81.7 %, n 2723).
The stain guess that ``auto`` runs (:func:`mmnst_path.stain.guess.guess_stains_detail`, on the tissue
thumbnail the run has already read, without the patches ``auto`` reads) is run here too, and a run whose named stains the image contradicts
with confidence gets one warning naming the file, the stains named, what the image reads as and the stain
model's H&E probability. The run goes on with the stains named (the user may be right). Only the H&E-vs-IHC
axis is checked: the stain model's H&E probability at or above :data:`CONTRADICTION_PROBABILITY` against
named stains without eosin, at or below ``1 -`` it against named H&E; an ambiguous guess says nothing.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

__all__ = ["CONTRADICTION_PROBABILITY", "check_named_stains"]

#: The stain model's H&E probability (or one minus it) from which named stains are said to contradict the image:
#: above the unsure-call line of ``auto`` (:data:`mmnst_path._batch_stains.UNSURE_HE_PROBABILITY`, 0.8), so a
#: close call is never contradicted.
CONTRADICTION_PROBABILITY = 0.9


def check_named_stains(tissue: Any, matrix: Any, *, source: str) -> dict[str, Any] | None:
    """Guess the stains of an image whose stains were named; warn when the guess contradicts them.

    Parameters
    ----------
    tissue : TissueResult
        The run's tissue detection (its thumbnail and mask: enough for the H&E-vs-IHC axis; no slide tile is read).
    matrix : StainMatrix
        The stains named.
    source : str
        The file, named at the start of the warning.

    Returns
    -------
    dict or None
        ``{"guess": name, "he_probability": p, "ambiguous": bool, "contradicts": bool}`` (recorded in the result's
        ``stains.named_check``); None when the stain model did not decide (too little tissue).
    """
    from ..stain.guess import guess_stains_detail

    if not tissue.mask.any():
        return None
    # on the run's thumbnail alone: no slide tile is read (the patches ``auto`` reads on a coarse thumbnail tell
    # where a chromogen sits, not H&E from IHC: CMU-1 p 0.95 and TCGA 0.945 either way, 1.15 s and 0.22 s of CPU
    # with them, 0.01 and 0.04 s without; and a slide's tiles are decoded once per run)
    guess = guess_stains_detail(tissue.thumbnail, tissue.mask, mpp=tissue.mask_mpp)
    p = float(guess.he_probability)
    if math.isnan(p):
        return None
    named = str(getattr(matrix, "name", "") or "the stains named")
    named_he = "eosin" in [str(n).lower() for n in matrix.names]
    contradicts = not guess.ambiguous and (
        (not named_he and p >= CONTRADICTION_PROBABILITY) or (named_he and p <= 1 - CONTRADICTION_PROBABILITY))
    if contradicts:
        reads = "H&E" if p >= 0.5 else f"IHC ({guess.name})"
        why = ("its Ki67 index would count hematoxylin nuclei as the chromogen's" if not named_he else
               "its H&E measures would read the chromogen as eosin")
        warnings.warn(f"{source}: stains named {named}, but the image reads as {reads} (the stain model's H&E "
                      f"probability {p:.2f}); analysed as {named}: if the slide is {reads}, {why}; check its stains "
                      "(--stains, or its --manifest line; --stains auto guesses them)", UserWarning, stacklevel=2)
    return {"guess": guess.name, "he_probability": round(p, 4), "ambiguous": bool(guess.ambiguous),
            "contradicts": bool(contradicts)}
