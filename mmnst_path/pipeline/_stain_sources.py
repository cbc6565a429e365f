"""Where a run's stains and µm/px came from, and the warning of a Ki67 run read as H&E by an unsure call (session 44
H9, H6's follow-up).

:func:`~mmnst_path.pipeline.analyze_slide` records in its result what ``mmnst-path quantify`` writes on an input's
summary row: ``stains_source`` (:func:`stains_source`: the stains detected by ``stains="auto"``, a close call of it,
or named) and ``mpp_source`` (:func:`mpp_source`: the file's metadata or the µm/px given). Until then a Python user's
``summary_row(result)`` left both empty; the batch wrote them, and still writes which of its options gave a µm/px
(``--mpp``, ``manifest``, ``--mpp-override``: :func:`mmnst_path._batch_mpp.input_mpp`), which a run cannot know.

:func:`unsure_he_warning` is the warning of a run that measures Ki67 by default on an image ``auto`` read as stains
without a Ki67 chromogen (H&E) by an unsure call: its Ki67 index is missing, which a result without a warning hides.
Issued by the run (so an API user gets it in ``result.warnings``); the batch lists it first on the row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["UNSURE_HE_PROBABILITY", "detection_record", "mpp_source", "stains_source", "unsure_he_warning"]

#: below this H&E probability of the stain model an H&E call is unsure enough to say so on the row: ~1 real H&E tile
#: in 10 (session 41 H8's table: 7-20 % per set below 0.8), a Ki67 / MART-1 double stain read as H&E (p 0.72)
UNSURE_HE_PROBABILITY = 0.8


def detection_record(guess: Any) -> dict[str, Any]:
    """What ``result.stains["detection"]`` records of the guess ``stains="auto"`` made (a
    :class:`~mmnst_path.stain.guess.StainGuess`): close call, reason, and each model's probability and id where it
    decided. (Moved word for word out of :func:`~mmnst_path.pipeline.analyze_slide`.)"""
    from ..stain.chromogen_model import CHROMOGEN_MODEL_FILE, load_chromogen_model
    from ..stain.he_model import HE_MODEL_FILE, load_he_model

    detection: dict[str, Any] = {"ambiguous": bool(guess.ambiguous), "reason": guess.reason}
    if not math.isnan(guess.he_probability):  # the H&E-vs-IHC model decided
        detection["he_probability"] = round(float(guess.he_probability), 4)
        detection["he_model"] = f"{HE_MODEL_FILE} {load_he_model().model_id}"
    if not math.isnan(guess.chromogen_probability):  # the chromogen model read a single red chromogen
        detection["fast_red_probability"] = round(float(guess.chromogen_probability), 4)
        detection["chromogen_model"] = f"{CHROMOGEN_MODEL_FILE} {load_chromogen_model().model_id}"
    if not math.isnan(guess.aec_probability):  # the DAB-vs-AEC body model read a reddish H-DAB
        from ..stain.dab_bodies import DAB_MODEL_FILE, load_dab_model

        detection["aec_probability"] = round(float(guess.aec_probability), 4)
        detection["dab_model"] = f"{DAB_MODEL_FILE} {load_dab_model().model_id}"
    return detection


def stains_source(detection: Mapping[str, Any] | None) -> str:
    """Where a run's stains came from, as summary.csv's ``stains_source`` says it: ``"detected"`` (``stains="auto"``
    chose them: ``detection`` is its record, :func:`detection_record`), ``"detected, a close call: check"`` (a close
    call, also warned about) or ``"chosen"`` (named: no detection)."""
    if detection is None:
        return "chosen"
    return "detected, a close call: check" if detection.get("ambiguous") else "detected"


def mpp_source(mpp: float | None, *, in_memory: bool) -> str:
    """Where a run's level-0 µm/px came from: ``"given"`` (the ``mpp`` argument, or an in-memory image's, which
    carries no metadata) or ``"file"`` (the file's metadata; a reader passed in: the µm/px it holds)."""
    return "given" if mpp is not None or in_memory else "file"


def unsure_he_warning(stains: str, names: Iterable[str], detection: Mapping[str, Any] | None, *,
                      measures_named: bool) -> str | None:
    """The warning of a run whose stains ``stains="auto"`` detected without a Ki67 chromogen (read as H&E) by an
    unsure call (the stain model's H&E probability in ``detection`` below :data:`UNSURE_HE_PROBABILITY`) where Ki67
    is measured by default (no measures named: ``measures_named`` false; a named ``ki67`` on such stains is an error
    of the input), else None. A sure H&E call says nothing here (no warning on every H&E slide of an H&E lab; the
    batch's row notes "Ki67 not measured ...: no chromogen").

    Parameters
    ----------
    stains : str
        The preset detected (``result.stains["name"]``).
    names : iterable of str
        Its stain names.
    detection : mapping or None
        The detection record (:func:`detection_record`); None: the stains were named.
    measures_named : bool
        The run names its measures (``AnalysisConfig.measures`` not empty).
    """
    from ..quantify._ki67_stains import CHROMOGENS

    if detection is None or measures_named:
        return None
    lowered = {str(n).lower() for n in names}
    if not lowered or lowered & set(CHROMOGENS):
        return None
    p = detection.get("he_probability")
    if not isinstance(p, int | float) or not p < UNSURE_HE_PROBABILITY:
        return None
    return (f"Ki67 not measured: the stains were detected as {stains} by an unsure call (p = {p:.2f}), "
            "which has no Ki67 chromogen; if this is a Ki67 (IHC) slide, name its stains (--stains, or its line in a "
            "--manifest; Python: AnalysisConfig(stains=...))")
