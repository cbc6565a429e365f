"""The plain-language QC sentences of a result's metrics (a summary row or ``SlideResult.metrics``):
pigment bound, near-black positives, stromal exclusion, and the melanocyte-restricted index of a
double stain; and how a row where nothing was measured (no tissue) is shown (:func:`shown_row`). The CLI,
the HTML report and the napari plugin all say them in these words.
Re-exported by :mod:`mmnst_path.report`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from .quantify._ki67_counts import STROMA_MIN_NUCLEI, STROMA_SHARE_PCT
from .quantify._ki67_stains import CHROMOGENS

__all__ = [
    "MARKER_LABELS",
    "NEAR_BLACK_WARN_MIN",
    "NEAR_BLACK_WARN_PCT",
    "NECROSIS_NOT_MEASURED",
    "NO_TISSUE_TEXT",
    "PIGMENT_WARN_PCT",
    "STROMA_WARN_MIN",
    "STROMA_WARN_PCT",
    "marker_label",
    "melanocytic_pigment_warning",
    "melanocytic_text",
    "near_black_warning",
    "not_measured_reasons",
    "nothing_measured",
    "pigment_note",
    "pigment_warning",
    "qc_notes",
    "qc_warnings",
    "share_text",
    "shown_row",
    "stains_note",
    "stroma_warning",
]


#: pigment hiding at least this % of the Ki67 index nuclei gets the QC warning with the index range
PIGMENT_WARN_PCT = 5.0


def _finite(metrics: Mapping[str, Any], key: str) -> float | None:
    """``metrics[key]`` as a finite float, None when missing, not a number or NaN / inf."""
    try:
        f = float(metrics.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def pigment_warning(metrics: Mapping[str, Any], *, min_pct: float = PIGMENT_WARN_PCT) -> str:
    """The plain-language pigment QC sentence of a result's metrics (a summary row or
    ``SlideResult.metrics``): what share of the index nuclei pigment hides and the range the index
    could take if they were all negative or all positive. ``""`` when pigment hides fewer than
    ``min_pct`` % of them or a figure is missing or undefined (NaN). The CLI, the HTML report and
    the napari plugin all say it in these words. The sentence says what the index would be, not
    that the true index lies between the two: the bound covers the hidden nuclei only, not how the
    visible ones were read (before 2026-12-06 it said "the index lies between X and Y %", and on
    generated H-DAB tiles with dense melanin the truth lay outside that range on 12 of 12 tiles)."""
    hidden = _finite(metrics, "ki67_pigment_obscured_pct")
    lo = _finite(metrics, "ki67_index_if_obscured_negative_pct")
    hi = _finite(metrics, "ki67_index_if_obscured_positive_pct")
    if hidden is None or lo is None or hi is None or hidden < min_pct:
        return ""
    return (
        f"pigment hides {hidden:.0f} % of the tumour nuclei: "
        f"the index would be {lo:.1f} % if they were all negative, {hi:.1f} % if all positive; "
        + _pigment_remedy(metrics)
    )


#: chromogens that melanin does not look like (it stays brown-black beside them)
_RED_CHROMOGENS = ("aec", "fast_red")
#: how the sentences name a Ki67 chromogen (``ki67_chromogen``)
_CHROMOGEN_NAMES = {"dab": "DAB", "aec": "AEC", "fast_red": "Fast Red"}


def _pigment_remedy(metrics: Mapping[str, Any]) -> str:
    """What would resolve the hidden nuclei, by the stain the result was read with
    (``ki67_chromogen``, ``ki67_counterstain``; results written before these keys read as DAB with
    hematoxylin). With DAB and hematoxylin melanin looks like the chromogen, so a red chromogen or
    an azure B counterstain separates the two by colour; a red chromogen or azure B already does, and
    what still hides a nucleus is the pigment lying over it, which only bleaching the melanin
    before staining removes. When the stains were detected in a close call (``stains_source``), the slide
    may already be AEC or Fast Red read as DAB: the sentence says to name its stains first."""
    chromogen = str(metrics.get("ki67_chromogen") or "dab")
    counterstain = str(metrics.get("ki67_counterstain") or "hematoxylin")
    if chromogen in _RED_CHROMOGENS or counterstain == "azure_b":
        return "the stain already tells melanin by colour; bleaching the melanin before staining would resolve it"
    if "close call" in str(metrics.get("stains_source") or ""):
        return ("the stains were a close call: if this slide is already AEC or Fast Red, name its stains (the red "
                "chromogen then tells melanin by colour); if it is DAB, a red chromogen or an Azure B counterstain "
                "would resolve it")
    return "a red chromogen (AEC, Fast Red) or an Azure B counterstain would resolve it"


#: near-black positives at least this % of the Ki67-positive nuclei (and at least
#: NEAR_BLACK_WARN_MIN of them) get the near-black QC sentence. 30 %: every generated near-black
#: melanin tile whose melanin was counted Ki67 (dab, seeds 0-7: 31.5-58.7 %) is above it, and no
#: generated tile without melanin (at most 27.4 %); real strong DAB is near-black too, so 6 of the
#: 10 BCData tiles (30.2-62.5 %) get it, no SHIDC or DeepLIIF tile (benchmarks/README.md,
#: "Near-black nuclei without granules")
NEAR_BLACK_WARN_PCT = 30.0
NEAR_BLACK_WARN_MIN = 10


def near_black_warning(metrics: Mapping[str, Any], *, min_pct: float = NEAR_BLACK_WARN_PCT,
                       min_count: int = NEAR_BLACK_WARN_MIN) -> str:
    """The plain-language near-black QC sentence of a result's metrics (a summary row or
    ``SlideResult.metrics``): what share of the Ki67-positive nuclei is near-black (at least half
    their pixels at OD >= 1 in every channel, ``Ki67Cells.near_black``), which strong DAB and
    melanin without granules both are, and the index if they were left out as melanin
    (``[ki67] near_black = "pigment"``). ``""`` below ``min_pct`` % or ``min_count`` nuclei, or
    when a figure is missing or undefined. The advice follows the stain the result was read with, as
    :func:`pigment_warning`'s does: a slide already read with a red chromogen or an azure B
    counterstain is told to bleach the melanin, not to use one. The CLI, the HTML report and the
    napari plugin all say it in these words."""
    share = _finite(metrics, "ki67_near_black_positive_pct")
    count = _finite(metrics, "ki67_near_black_positive")
    if share is None or count is None or share < min_pct or count < min_count:
        return ""
    alt = _finite(metrics, "ki67_index_if_near_black_pigment_pct")
    then = "no nucleus left to count" if alt is None else f"index then {alt:.1f} %"
    chromogen = str(metrics.get("ki67_chromogen") or "dab")
    # as the pigment sentence: a slide already read with a red chromogen or azure B is not told to use one
    if chromogen in _RED_CHROMOGENS or str(metrics.get("ki67_counterstain") or "hematoxylin") == "azure_b":
        remedy = "bleach the melanin before staining"
    else:
        remedy = "use a red chromogen (AEC, Fast Red) or an Azure B counterstain"
    return (
        f"{share:.0f} % of the Ki67-positive nuclei are near-black (strong {_CHROMOGEN_NAMES.get(chromogen, 'DAB')} "
        f"or melanin look alike): if this lesion is pigmented, melanin may be counted as Ki67; set [ki67] near_black "
        f"= \"pigment\" ({then}) or {remedy}"
    )


#: the cell model leaving out at least this % of the detected nuclei as ``stromal`` (and at least
#: STROMA_WARN_MIN of them) gets the spindle-cell QC sentence (the condition under which
#: ``[ki67] spindle_sheet = "auto"`` counts the nuclei in spindle sheets; why 50 %:
#: :data:`mmnst_path.quantify._ki67_counts.STROMA_SHARE_PCT`)
STROMA_WARN_PCT = STROMA_SHARE_PCT
STROMA_WARN_MIN = STROMA_MIN_NUCLEI


def stroma_warning(metrics: Mapping[str, Any], *, min_pct: float = STROMA_WARN_PCT,
                   min_count: int = STROMA_WARN_MIN) -> str:
    """The plain-language spindle-cell QC sentence of a result's metrics (a summary row or
    ``SlideResult.metrics``): the share of the detected nuclei (positive, negative, pigment and
    excluded) that the cell model left out of the index as stromal. The nucleus models take many
    spindle tumour nuclei for fibroblasts (generated spindle-cell H-DAB tiles: 44-74 % of the
    tumour nuclei left out, and the index several times the truth), and the tumour this project
    exists for is epithelioid to spindle. ``""`` below ``min_pct`` % or ``min_count`` nuclei, or
    when a figure is missing or undefined. The share is the cell model's own, before the
    spindle-sheet rule took nuclei back (``ki67_spindle_sheet_nuclei``, which the sentence then
    names). What it advises follows the rule's setting (``ki67_spindle_sheet_rule``: "auto", "true"
    or "false"): where the rule ran and took none back it does not advise turning it on. The CLI, the
    HTML report and the napari plugin all say it in these words."""
    stromal = _finite(metrics, "ki67_stromal")
    parts = [_finite(metrics, f"ki67_{k}") for k in ("positive", "negative", "pigment", "excluded")]
    if stromal is None or any(p is None for p in parts):
        return ""
    sheet = int(_finite(metrics, "ki67_spindle_sheet_nuclei") or 0)
    stromal += sheet  # (the nuclei the rule took back were left out by the model)
    detected = sum(p for p in parts if p is not None)
    if detected <= 0 or stromal < min_count or 100.0 * stromal / detected < min_pct:
        return ""
    head = (f"the cell model left {100.0 * stromal / detected:.0f} % of the detected nuclei out of the index as "
            "stromal: in a spindle-cell tumour these may be tumour nuclei; ")
    if sheet:
        return head + (f"{sheet} nuclei in spindle sheets counted as tumour ([ki67] spindle_sheet); check the "
                       "nuclei (nuclei.html, napari Review) or count every nucleus (--cell-model none)")
    if str(metrics.get("ki67_spindle_sheet_rule", "")) in ("auto", "true"):  # the rule ran and found no sheet
        return head + ("none of them lies in a crowded sheet of spindle nuclei ([ki67] spindle_sheet); check the "
                       "excluded nuclei (nuclei.html, napari Review) or count every nucleus (--cell-model none)")
    return head + ("check the excluded nuclei (nuclei.html, napari Review), count those in crowded spindle-cell "
                   'sheets ([ki67] spindle_sheet = "auto") or count every nucleus (--cell-model none)')


def qc_warnings(metrics: Mapping[str, Any]) -> list[str]:
    """Every QC sentence of a result's metrics that applies, in the order the CLI, the HTML report
    and napari show them: pigment bound, near-black positives, stromal exclusion."""
    return [text for text in (pigment_warning(metrics), near_black_warning(metrics), stroma_warning(metrics)) if text]


#: how the melanocyte marker of a Ki67 double stain is named, by where it is read
MARKER_LABELS = {"cytoplasmic": "MART-1+", "nuclear": "SOX10+"}


def melanocytic_text(metrics: Mapping[str, Any]) -> str:
    """"Ki67 in melanocytes (MART-1+): X % [95% CI a–b], n=N" of a Ki67 / MART-1 or SOX10 double
    stain (``""`` for a result without a melanocyte marker); an undefined index reads "–", never 0."""
    marker = str(metrics.get("ki67_melanocyte_marker") or "")
    if marker not in MARKER_LABELS:
        return ""
    idx, n = _finite(metrics, "ki67_melanocytic_index_pct"), _finite(metrics, "ki67_melanocytic_denominator")
    lo, hi = _finite(metrics, "ki67_melanocytic_ci_low_pct"), _finite(metrics, "ki67_melanocytic_ci_high_pct")
    value = "–" if idx is None else f"{idx:.1f} %"
    ci = "" if lo is None or hi is None else f" [95% CI {lo:.1f}–{hi:.1f}]"
    return f"Ki67 in melanocytes ({marker_label(metrics)}): {value}{ci}, n={0 if n is None else int(n)}"


def marker_label(metrics: Mapping[str, Any]) -> str:
    """How a double stain's marker is named: "MART-1+" / "SOX10+" when it was detected or chosen, "cytoplasmic
    marker, assumed" when named double-stain stains left it at ``auto`` (``ki67_melanocyte_marker_source``
    ``"assumed"``: the run read it as cytoplasmic without checking which marker the slide holds); "" without one."""
    marker = str(metrics.get("ki67_melanocyte_marker") or "")
    if marker not in MARKER_LABELS:
        return ""
    if str(metrics.get("ki67_melanocyte_marker_source") or "") == "assumed":
        return f"{marker} marker, assumed"
    return MARKER_LABELS[marker]


def stains_note(row: Mapping[str, Any]) -> str:
    """Why ``auto`` chose the stains of a confident call ("stains H-DAB-FastRed detected: Ki67 / MART-1 double
    stain: brown nuclear bodies beside ..."), from the row's ``stains_reason``; "" for named stains and close calls
    (their warning says the reason)."""
    reason = str(row.get("stains_reason") or "")
    if not reason or str(row.get("stains_source") or "") != "detected":
        return ""
    return f"stains {row.get('stains')} detected: {reason}"


def share_text(share: float, *, line: float = PIGMENT_WARN_PCT) -> str:
    """A hidden-nuclei share in % with the precision its reading needs: one decimal, more where one decimal would
    print 0 for a non-zero share or round it across ``line`` (the 5 % from which the pigment warning is said): 0.04
    -> "0.04", 4.96 -> "4.96", 4.65 -> "4.7"; "< 0.001" for less."""
    for digits in (1, 2, 3):
        text = f"{share:.{digits}f}"
        shown = float(text)
        if (shown > 0 or share <= 0) and (shown >= line) == (share >= line):
            return text
    return "< 0.001" if share < 0.001 else f"{share:.6g}"


def _bound(metrics: Mapping[str, Any]) -> tuple[int, float, float, float] | None:
    """(hidden, share %, index if all negative, if all positive) of the tumour nuclei pigment hides; None when none
    is hidden or a figure is undefined (:func:`pigment_note`, :func:`_small_bound`)."""
    hidden = _finite(metrics, "ki67_pigment")
    share = _finite(metrics, "ki67_pigment_obscured_pct")
    lo = _finite(metrics, "ki67_index_if_obscured_negative_pct")
    hi = _finite(metrics, "ki67_index_if_obscured_positive_pct")
    if not hidden or share is None or lo is None or hi is None:
        return None
    return int(hidden), share, lo, hi


def pigment_note(metrics: Mapping[str, Any]) -> str:
    """The pigment bound in few words, beside the index's CI whenever pigment hides any index nucleus (the full
    sentence, :func:`pigment_warning`, from :data:`PIGMENT_WARN_PCT` %): "7 hidden by pigment (3.2 %): index
    10.1–13.0 %" (the share: :func:`share_text`); "" when none is hidden or a figure is undefined."""
    bound = _bound(metrics)
    if bound is None:
        return ""
    hidden, share, lo, hi = bound
    return f"{hidden} hidden by pigment ({share_text(share)} %): index {lo:.1f}–{hi:.1f} %"


def melanocytic_pigment_warning(metrics: Mapping[str, Any]) -> str:
    """The pigment bound of a double stain's melanocyte-restricted index (melanin sits in melanocytes): how many
    marker-positive nuclei pigment hides and that index if they were all negative / all positive; "" when none is
    hidden, without a marker or a figure undefined."""
    hidden = _finite(metrics, "ki67_melanocytic_pigment")
    lo = _finite(metrics, "ki67_melanocytic_index_if_obscured_negative_pct")
    hi = _finite(metrics, "ki67_melanocytic_index_if_obscured_positive_pct")
    label = marker_label(metrics)
    if not label or not hidden or lo is None or hi is None:
        return ""
    n = _finite(metrics, "ki67_melanocytic_denominator") or 0.0
    share = 100.0 * hidden / (hidden + n)
    return (f"pigment hides {int(hidden)} of the melanocytic nuclei ({label}, {share_text(share)} %): the index in "
            f"melanocytes would be {lo:.1f} % if they were all negative, {hi:.1f} % if all positive")


def qc_notes(metrics: Mapping[str, Any]) -> list[str]:
    """The QC sentences of a result for its ``qc`` column (summary.csv / summary.json), the API
    (:attr:`mmnst_path.aggregate.SlideResult.qc`) and cells.geojson: the pigment bound whenever pigment hides any
    index nucleus (not only from :data:`PIGMENT_WARN_PCT` %), the near-black and stromal sentences, and the
    pigment bound of a double stain's melanocyte-restricted index."""
    out = [pigment_warning(metrics) or _small_bound(metrics), near_black_warning(metrics), stroma_warning(metrics),
           melanocytic_pigment_warning(metrics)]
    return [text for text in out if text]


def _small_bound(metrics: Mapping[str, Any]) -> str:
    """The pigment bound under :data:`PIGMENT_WARN_PCT` %, without advice: "pigment hides 1 of the tumour nuclei
    (0.2 %): the index would be ..." ("" when none is hidden or a figure is undefined)."""
    bound = _bound(metrics)
    if bound is None:
        return ""
    hidden, share, lo, hi = bound
    return (f"pigment hides {hidden} of the tumour nuclei ({share_text(share)} %): the index would be {lo:.1f} % if "
            f"they were all negative, {hi:.1f} % if all positive")


#: Said once for an ok input where no tissue was found: in summary.csv's ``error`` column (empty on other ok
#: rows), report.html's warnings and the command line's notes under its table.
NO_TISSUE_TEXT = "no tissue found (0 mm²): nothing was measured; check the image and the tissue detection"

#: summary row keys that hold a measurement (left empty where nothing was measured, see :func:`shown_row`)
_MEASURE_PREFIXES = ("ki67_", "hotspot_", "h_score", "melanin_", "necrosis_", "tumour_fraction", "stroma_fraction",
                     "class_")
#: ``ki67_`` keys that describe the stains read, not a measurement: kept on a row where nothing was measured
_STAIN_KEYS = frozenset({"ki67_chromogen", "ki67_counterstain", "ki67_melanocyte_marker",
                         "ki67_melanocyte_marker_source"})


def nothing_measured(row: Mapping[str, Any]) -> bool:
    """Whether an ok summary row found no tissue (``tissue_area_mm2`` 0): none of its measures ran on anything."""
    area = row.get("tissue_area_mm2")
    return row.get("status") == "ok" and isinstance(area, numbers.Real) and not isinstance(area, bool) and area == 0


#: how a run's warning begins when its tissue model has no necrosis class (necrosis "–", not 0 %)
NECROSIS_NOT_MEASURED = "necrosis not measured: "


def not_measured_reasons(row: Mapping[str, Any]) -> dict[str, str]:
    """Why the Ki67 index or the necrosis % of an ok row with tissue is "–": its stains lack what the measure reads
    (``{"ki67": "no chromogen in H&E (Ki67 is read on IHC)"}``, ``{"necrosis": "no eosin in H-DAB (necrosis is
    read on H&E)"}``); empty when the row's stains are not known, both were measured, or nothing was
    (:func:`nothing_measured` says that)."""
    names = [str(n).lower() for n in row.get("stain_names") or []]
    if row.get("status") != "ok" or nothing_measured(row) or not names:
        return {}
    stains = str(row.get("stains") or "+".join(names))
    out = {}
    if row.get("ki67_denominator") is None and not set(names) & set(CHROMOGENS):
        out["ki67"] = f"no chromogen in {stains} (Ki67 is read on IHC)"
    if row.get("necrosis_fraction_pct") is None and "eosin" not in names:
        out["necrosis"] = f"no eosin in {stains} (necrosis is read on H&E)"
    said = [str(w) for w in row.get("warnings") or [] if str(w).startswith(NECROSIS_NOT_MEASURED)]
    nec = row.get("necrosis_fraction_pct")
    if said and (nec is None or (isinstance(nec, float) and math.isnan(nec))):  # a tissue model without necrosis
        out["necrosis"] = said[0][len(NECROSIS_NOT_MEASURED):]
    return out


def shown_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A summary row as summary.csv, summary.json, report.html and the command line show it.

    A row where nothing was measured (:func:`nothing_measured`) keeps its columns, but every
    measurement column (Ki67 counts and thresholds, hot spot, H-score, melanin, necrosis, tissue
    fractions) is empty (undefined, not 0: no nucleus could be counted); its status stays ok and its
    ``error`` stays empty (a column a user filters for failures; the CLI and report.html say
    :data:`NO_TISSUE_TEXT` once). Other rows come back as they are (a copy).
    """
    out = dict(row)
    if nothing_measured(row):
        for name in out:
            if name.startswith(_MEASURE_PREFIXES) and name not in _STAIN_KEYS:
                out[name] = None
    return out
