"""report.html: one self-contained page for a batch (no external file, script or font).

A row per input: thumbnail (PNG embedded as a ``data:`` URI), Ki67 index with its 95 % CI and
denominator, hot spot index with CI, H-score, melanin % and necrosis % of tissue, each with its area in mm²
(whether a tissue model ran or not), and the error for failed inputs (without the input's path
where it leads the message: the input column shows it). Long texts (paths, notes) wrap, so the
page fits a 1400 px window; the tissue classes of the tissue model (display colour, area in mm², % of the classed
area, which is wider than necrosis %'s stained tissue: see :data:`CLASSES_KEY`) and the melanin %
of the tumour region under the melanin % of tissue, when a tissue model ran; an optional comparison block (``--compare A B``): Ki67 difference B − A in percentage
points with its 95 % CI and p-value. Numbers are shown rounded (1 decimal, p-value 3
significant digits). Under each input: the stains used (and how they were chosen, when the row
says), the pixel size and where it came from (``mpp_source``), the tissue area; a warning when no
tissue was found. A hot-spot window holding fewer tumour nuclei than required is greyed and
labelled "not a hot spot". Every number cell also carries its full value in ``data-value`` so a test
(or a script) can read the page back. Undefined numbers show as "–" (never 0).
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ._picture_style import area_text, class_display_colour
from ._qc_text import not_measured_reasons, pigment_note
from .report import (
    NO_TISSUE_TEXT,
    error_text,
    hotspot_meets_min_nuclei,
    melanocytic_pigment_warning,
    melanocytic_text,
    nothing_measured,
    qc_warnings,
    shown_row,
)

__all__ = ["NUCLEI_PAGE", "p_value_text", "render_nuclei_page", "render_report"]

#: per-input page of the full-resolution nucleus check pictures (in the input's folder)
NUCLEI_PAGE = "nuclei.html"

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px} p.sub{color:#666;margin:0 0 16px}
table{border-collapse:collapse;font-size:13px} th,td{border-bottom:1px solid #ddd;padding:4px 8px;vertical-align:middle}
th{background:#f3f3f3;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.row-error td{background:#fff1f0} td.err{color:#a8071a;max-width:420px;overflow-wrap:anywhere}
.ok{color:#237804;font-weight:600} .bad{color:#a8071a;font-weight:600}
img.thumb{display:block;max-width:160px;max-height:120px;border:1px solid #ccc}
.ci{color:#666;font-size:11px;white-space:nowrap} .opt{white-space:nowrap} .meta{color:#555;font-size:11px}
.ci.rule{white-space:normal;max-width:240px;margin-left:auto} .path{color:#666;font-size:11px;max-width:280px;overflow-wrap:anywhere}
.warn{color:#ad4e00;font-size:11px;font-weight:600;max-width:360px;white-space:normal} td.dim{color:#999}
tr.row-warn td,tr.warnrow td{background:#fffbe6} tr.row-warn td{border-bottom:none}
tr.warnrow .warn{max-width:none;margin:2px 0} td.classes{font-size:11px;min-width:130px}
td.num .ci{white-space:normal} .cls{padding-left:14px;text-indent:-14px}
.sw{display:inline-block;width:9px;height:9px;border:1px solid #555;margin-right:4px;vertical-align:middle} section.cmp{margin:20px 0;padding:12px 16px;border:1px solid #91caff;background:#f0f7ff;max-width:760px}
"""


def _path_text(text: str) -> str:
    """``text`` escaped for HTML with a line-break chance (``<wbr>``) after each ``/``: a long path wraps
    between its folders, not mid-name (``overflow-wrap:anywhere`` in the CSS, which keeps the columns on a
    laptop screen, breaks inside a name only where no ``/`` leaves room). A command-line option in the text
    (``--resume``) is kept on one line: browsers break after a hyphen, which read "--" / "resume"."""
    return _OPTION.sub(r'<span class="opt">\1</span>', html.escape(text).replace("/", "/<wbr>"))


#: a command-line option in an error text (``--resume``, ``--mpp``), not a ``--`` inside a file name
_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _cell(value: Any, fmt: str = ".1f", *, name: str) -> str:
    f = _num(value)
    if f is None:
        return f'<td class="num" data-col="{name}" data-value="">–</td>'
    return f'<td class="num" data-col="{name}" data-value="{f!r}">{format(f, fmt)}</td>'


def _ci(low: Any, high: Any) -> str:
    lo, hi = _num(low), _num(high)
    return "" if lo is None or hi is None else f'<div class="ci">95% CI {lo:.1f}–{hi:.1f}</div>'


def p_value_text(value: Any) -> str:
    """A p-value as the report and the command line write it: "< 0.001" below 0.001 (never "1.33e-76"),
    else 3 significant digits; "–" when undefined."""
    p = _num(value)
    return "–" if p is None else ("< 0.001" if p < 0.001 else f"{p:.3g}")


def _comparison(c: Mapping[str, Any]) -> str:
    def fmt(v: Any, spec: str) -> str:
        f = _num(v)
        return "–" if f is None else format(f, spec)

    p_text = p_value_text(c.get("p_value"))
    return f"""<section class="cmp" id="comparison">
<h2 style="font-size:16px;margin:0 0 8px">Ki67 comparison</h2>
<table>
<tr><th>A</th><td>{html.escape(Path(str(c.get("a"))).name)}</td><td class="num" data-col="a_index_pct" data-value="{c.get("a_index_pct")!r}">{fmt(c.get("a_index_pct"), ".1f")} %</td><td class="num">{c.get("a_positive")}/{c.get("a_denominator")}</td></tr>
<tr><th>B</th><td>{html.escape(Path(str(c.get("b"))).name)}</td><td class="num" data-col="b_index_pct" data-value="{c.get("b_index_pct")!r}">{fmt(c.get("b_index_pct"), ".1f")} %</td><td class="num">{c.get("b_positive")}/{c.get("b_denominator")}</td></tr>
<tr><th>B − A</th><td></td><td class="num" data-col="difference_pct" data-value="{c.get("difference_pct")!r}">{fmt(c.get("difference_pct"), "+.1f")} pp</td>
<td class="num" data-col="diff_ci" data-low="{c.get("ci_low_pct")!r}" data-high="{c.get("ci_high_pct")!r}">95% CI {fmt(c.get("ci_low_pct"), "+.1f")} to {fmt(c.get("ci_high_pct"), "+.1f")} pp</td></tr>
<tr><th>p-value</th><td></td><td class="num" data-col="p_value" data-value="{c.get("p_value")!r}">{p_text}</td><td class="ci">{html.escape(str(c.get("method", "")).replace("b - a", "B − A"))}</td></tr>
</table></section>"""


def _input_meta(r: Mapping[str, Any]) -> str:
    """Stains, pixel size (and where it came from) and tissue area of one input, one line."""
    parts = []
    stains = r.get("stains")
    if stains:
        how = r.get("stains_source")
        why = f": {r['stains_reason']}" if how == "detected" and r.get("stains_reason") else ""  # a confident call's
        parts.append(f"stains {html.escape(str(stains))}" + (f" ({html.escape(str(how) + why)})" if how else ""))
    mpp = _num(r.get("mpp"))
    if mpp is not None:
        src = r.get("mpp_source")
        parts.append(f"{mpp:.4g} µm/px" + (f" ({html.escape(str(src))})" if src else ""))
    area = _num(r.get("tissue_area_mm2"))
    if area is not None:
        parts.append(f"tissue {area_text(area)}")
    return f'<div class="meta">{" · ".join(parts)}</div>' if parts else ""


def _is_shipped_pigment(text: str) -> bool:
    """Whether a row's ``pigment_model`` (``id name version``) is one of the shipped pigment pixel models."""
    from .classify._pigment_models import shipped_pigment_ids

    return text.partition(" ")[0] in shipped_pigment_ids()


def _models_meta(r: Mapping[str, Any]) -> str:
    """The cell and tissue models that decided an input's numbers (a lab's own ones too), and a lab's own pigment
    model (``train pigment``; the shipped ones are not named here), name then id, one line; ``""`` when none ran. A
    row names a model as ``id name version`` (summary.csv's ``cell_model``)."""
    parts = []
    for key, label in (("cell_model", "cell model"), ("tissue_model", "tissue model"), ("pigment_model", "pigment model")):
        text = str(r.get(key) or "").strip()
        if not text or text in ("none", "rules") or (key == "pigment_model" and _is_shipped_pigment(text)):
            continue
        model_id, _, name = text.partition(" ")
        shown = f"{name} ({model_id})" if model_id.startswith("sha256:") and name else text
        parts.append(f'{label} <span data-col="{key}">{html.escape(shown)}</span>')
    return f'<div class="meta models">{" · ".join(parts)}</div>' if parts else ""


def _nuclei_link(page: str | None) -> str:
    """Link to the input's nucleus check pictures (``nuclei.html`` in its folder)."""
    if not page:
        return ""
    href = html.escape(page)
    return f'<div class="meta"><a href="{href}">check the nuclei (full-resolution fields)</a></div>'


#: chromogen stain names (the Ki67 positive channel) and how the page names them
_CHROMOGEN_LABELS = {"dab": "DAB", "aec": "AEC", "fast_red": "Fast Red"}


def _warnings(r: Mapping[str, Any]) -> list[str]:
    """Reasons to doubt an ok row: no tissue, pigment hiding nuclei, near-black positives (DAB or
    melanin), many nuclei left out as stromal (spindle cells), the warnings of the run."""
    out = [NO_TISSUE_TEXT] if nothing_measured(r) else []
    out += qc_warnings(shown_row(r))
    extra = r.get("warnings")
    if isinstance(extra, list | tuple):  # the row names the input: a warning does not repeat its path
        name = str(r.get("input") or "")
        prefixes = tuple(f"{p}: " for p in (name, Path(name).name) if p)
        for w in map(str, extra[:3]):
            out.append(w[len(next((p for p in prefixes if w.startswith(p)), "")):])
    return out


def _od_text(value: float) -> str:
    """A threshold (log10 OD) to 2 decimals, or to 3 when that is its exact value: a configured
    0.225 (azure B's) reads "0.225", not "0.23"; an adapted 0.2843 reads "0.28"."""
    three = round(value, 3)
    return f"{value:.3f}" if abs(value - three) < 1e-9 and round(value, 2) != three else f"{value:.2f}"


def _melanocytic_note(r: Mapping[str, Any]) -> str:
    """"Ki67 in melanocytes (MART-1+): X % [CI], n=..." under the index of a double stain."""
    text = melanocytic_text(r)
    lo, hi = _num(r.get("ki67_melanocytic_index_if_obscured_negative_pct")), _num(
        r.get("ki67_melanocytic_index_if_obscured_positive_pct"))  # its own pigment bound: melanin sits in melanocytes
    hidden = (f"{int(_num(r.get('ki67_melanocytic_pigment')) or 0)} of them hidden by pigment: {lo:.1f}–{hi:.1f} %"
              if melanocytic_pigment_warning(r) and lo is not None and hi is not None else "")
    return (f'<div class="ci rule" data-col="ki67_melanocytic_index_pct">{html.escape(text)}</div>'
            + (f'<div class="ci rule">{html.escape(hidden)}</div>' if hidden else "")) if text else ""


def _pigment_note(r: Mapping[str, Any]) -> str:
    """"7 hidden by pigment (3 %): index 10.1–13.0 %" beside the CI whenever pigment hides a nucleus (the sentence
    with its advice is a warning from 5 %)."""
    text = pigment_note(r)
    return f'<div class="ci rule" data-col="ki67_pigment_obscured_pct">{html.escape(text)}</div>' if text else ""


def _hotspot_note(r: Mapping[str, Any]) -> tuple[bool, str]:
    """(whether the hot-spot number is a real hot spot, the note under it)."""
    meets = hotspot_meets_min_nuclei(r)
    n = _num(r.get("ki67_hotspot_nuclei"))
    need = _num(r.get("hotspot_min_nuclei"))
    notes = []
    if meets is False:
        count = "" if n is None else f"{int(n)} nuclei"
        more = "" if need is None else f" (&lt; {int(need)} needed)"
        notes.append(f"not a hot spot: densest window, {count}{more}")
    note = "".join(f'<div class="warn">{t}</div>' for t in notes)
    if r.get("hotspot_whole_image"):
        note += '<div class="ci rule">whole image (smaller than the window)</div>'
    return meets is not False, note


def _melanin_tumour(r: Mapping[str, Any]) -> str:
    """Under melanin %: that it is % of tissue and the melanin area in mm² (as under necrosis %), then
    the melanin % of the tumour region (when a tissue model drew one)."""
    out = ""
    area = _num(r.get("melanin_area_mm2"))
    if area is not None and _num(r.get("melanin_fraction_pct")) is not None:
        out = (f'<div class="ci" data-col="melanin_area_mm2" data-value="{area!r}">'
               f"{_of_tissue(r, 'melanin_tissue_mm2')}; {area_text(area)}</div>")
    v = _num(r.get("melanin_tumour_fraction_pct"))
    if v is None:
        return out
    return out + f'<div class="ci" data-col="melanin_tumour_fraction_pct" data-value="{v!r}">{v:.2f} % of tumour</div>'


def _melanin_tumour_review(r: Mapping[str, Any]) -> str:
    """Last in the melanin cell: the reviewed melanin % of tumour of a row whose review corrected melanin or the
    tumour (:mod:`mmnst_path._review_tumour_melanin`)."""
    rv = _num(r.get("melanin_tumour_fraction_reviewed_pct"))
    if r.get("reviewed") != "yes" or rv is None:
        return ""
    return (f'<div class="rev" data-col="melanin_tumour_fraction_reviewed_pct" data-value="{rv!r}">'
            f"reviewed: {rv:.2f} % of tumour</div>")



def _melanin_review(r: Mapping[str, Any]) -> str:
    """Under the measured melanin: the reviewed melanin % of tissue, its area and the melanin map blocks the reviewer
    changed, of a row whose review corrected the melanin map (:mod:`mmnst_path._melanin_map`)."""
    if r.get("reviewed") != "yes" or r.get("melanin_blocks_reviewed") in (None, ""):
        return ""
    pct, area = _num(r.get("melanin_fraction_reviewed_pct")), _num(r.get("melanin_area_reviewed_mm2"))
    blocks = int(_num(r.get("melanin_blocks_reviewed")) or 0)
    who = ""
    if r.get("ki67_denominator_reviewed") is None and r.get("tissue_blocks_reviewed") in (None, ""):
        when = str(r.get("reviewed_at") or "")[:10]  # no Ki67 or tissue review to say it under
        who = (f'<div class="ci">by {html.escape(str(r.get("reviewer") or "reviewer not named"))}'
               f'{", " + html.escape(when) if when else ""}</div>')
    return (f'<div class="rev" data-col="melanin_fraction_reviewed_pct" data-value="{"" if pct is None else repr(pct)}">'
            f'reviewed: {"–" if pct is None else f"{pct:.2f} %"}</div>'
            f'<div class="ci">{area_text(area) + " " if area is not None else ""}({blocks} block'
            f'{"s" if blocks != 1 else ""} changed)</div>{who}')


def _necrosis(r: Mapping[str, Any]) -> str:
    """Under necrosis %: that it is % of tissue, of how much tissue, and the necrotic area in mm² (from the
    metrics, so also without a tissue model), when necrosis was measured."""
    area = _num(r.get("necrosis_area_mm2"))
    if area is None:
        why = not_measured_reasons(r).get("necrosis")
        return f'<div class="ci rule">not measured: {html.escape(why)}</div>' if why else ""
    return (f'<div class="ci" data-col="necrosis_area_mm2" data-value="{area!r}">'
            f"{_of_tissue(r, 'necrosis_tissue_mm2')}; {area_text(area)}</div>")


def _necrosis_review(r: Mapping[str, Any]) -> str:
    """Under the measured necrosis: the reviewed necrosis % (of the reviewed classed tissue), its area and the
    blocks of the class map the reviewer changed, of a row whose review corrected the tissue classes."""
    pct = _num(r.get("necrosis_fraction_reviewed_pct"))
    if r.get("reviewed") != "yes" or r.get("tissue_blocks_reviewed") in (None, ""):
        return ""
    area, base = _num(r.get("necrosis_area_reviewed_mm2")), _num(r.get("necrosis_tissue_reviewed_mm2"))
    blocks = int(_num(r.get("tissue_blocks_reviewed")) or 0)
    who = ""
    if r.get("ki67_denominator_reviewed") is None:  # no Ki67 review to say it under
        when = str(r.get("reviewed_at") or "")[:10]
        who = (f'<div class="ci">by {html.escape(str(r.get("reviewer") or "reviewer not named"))}'
               f'{", " + html.escape(when) if when else ""}</div>')
    shown = "–" if pct is None else f"{pct:.1f} %"
    if pct is None:  # no necrosis class (an IHC tissue model): the reviewed tumour / stroma shares
        shares = [(name, _num(r.get(f"{name}_fraction_reviewed_pct"))) for name in ("tumour", "stroma")]
        shown = ", ".join(f"{name} {v:.1f} %" for name, v in shares if v is not None) or shown
    where = "; ".join(t for t in ("" if base is None else f"of {area_text(base)} tissue",
                                  "" if area is None else area_text(area)) if t)
    return (f'<div class="rev" data-col="necrosis_fraction_reviewed_pct" data-value="{"" if pct is None else repr(pct)}">'
            f'reviewed: {html.escape(shown)}</div>'
            f'<div class="ci">{where + " " if where else ""}({blocks} block{"s" if blocks != 1 else ""} changed)</div>{who}')


def _of_tissue(r: Mapping[str, Any], base_col: str) -> str:
    """"% of tissue", with the tissue area the % is of when the row has it and it is not the row's
    ``tissue_area_mm2`` (each stage measures its own tissue: session 37 H7 found necrosis 26.5 % "of tissue"
    under a 0.256 mm² tissue row while its base was 0.237 mm²)."""
    base, tissue = _num(r.get(base_col)), _num(r.get("tissue_area_mm2"))
    if base is None or base <= 0 or (tissue is not None and area_text(base) == area_text(tissue)):
        return "% of tissue"
    return f"% of {area_text(base)} tissue"


#: The page key's words on the two necrosis figures: the same necrotic area over two bases.
CLASSES_KEY = ("tissue classes: area and % of the classed area (all the class map did not call background, "
               "pale areas included); its necrosis is the area under necrosis %, over this wider base, "
               "so its % can be lower; its tumour is viable cellular tissue as the classifier reads it "
               "(epidermis, epithelium and glands included: not a diagnosis)")


def _classes(r: Mapping[str, Any]) -> str:
    """The tissue-class legend of an input: display colour, name, area (mm²) and % of the classed area
    (:data:`CLASSES_KEY`), one line a class."""
    classes = r.get("tissue_classes") or []
    lines = []
    for c in classes:
        area = _num(c.get("area_mm2"))
        if not area:
            continue
        pct = _num(c.get("pct_of_tissue"))
        name = html.escape(str(c.get("name", "")))
        colour = "#{:02x}{:02x}{:02x}".format(*class_display_colour(str(c.get("name", "")), c.get("colour", (0, 0, 0))))
        lines.append(f'<div class="cls" data-class="{name}" data-area-mm2="{area!r}" '
                     f'data-pct="{"" if pct is None else repr(pct)}"><span class="sw" style="background:{colour}">'
                     f'</span>{name} {area_text(area)} {"" if pct is None else f"({pct:.1f} %)"}</div>')
    return f'<td class="classes">{"".join(lines) or "–"}</td>'


def render_report(
    rows: Sequence[Mapping[str, Any]],
    *,
    thumbnails: Mapping[str, bytes] | None = None,
    folders: Mapping[str, str] | None = None,
    comparison: Mapping[str, Any] | None = None,
    title: str = "mmnst-path quantify",
    nuclei_pages: Mapping[str, str] | None = None,
) -> str:
    """The HTML text of the batch report.

    Parameters
    ----------
    rows : sequence of mapping
        Summary rows (keys of :data:`mmnst_path.report.SUMMARY_COLUMNS`).
    thumbnails : mapping of input -> PNG bytes, optional
        Embedded as data URIs.
    folders : mapping of input -> output folder name, optional
        Links to each input's overlay.png (relative to the report).
    comparison : mapping, optional
        From :func:`mmnst_path.batch.compare_rows`.
    title : str
    nuclei_pages : mapping of input -> relative path of its nuclei.html, optional
        Linked as "check the nuclei" (only inputs whose page exists should be given).
    """
    thumbnails = thumbnails or {}
    nuclei_pages = nuclei_pages or {}
    folders = folders or {}
    n_ok = sum(1 for r in rows if r.get("status") == "ok")
    n_left = sum(1 for r in rows if r.get("status") == "not analysed")  # a run stopped by Ctrl-C
    left = (f'<p class="bad" id="interrupted">This run was interrupted: {n_left} input(s) not analysed yet (no '
            "results for them below); run the same command with --resume to analyse them.</p>") if n_left else ""
    left_count = f", {n_left} not analysed" if n_left else ""
    n_rev = sum(1 for r in rows if r.get("reviewed") == "yes")
    css = _CSS
    if any("reviewed" in r for r in rows):  # a folder with reviews (mmnst_path.review); else the page as before
        css += (".rev{color:#0958d9;font-size:11px;font-weight:600} tr.row-reviewed td{background:#f0f7ff} "
                ".warn.revnote{max-width:240px;margin-left:auto}\n")
        left_count += (f", {n_rev} reviewed (the reviewed Ki67 index, melanin and necrosis under the measured ones; the "
                       "measured figures are never changed)")
    body = []
    for row in rows:
        # a row where nothing was measured (no tissue) shows "–" and no notes under its measures, and says so once
        r, nothing = shown_row(row), nothing_measured(row)
        name = str(r.get("input", ""))
        ok = r.get("status") == "ok"
        png = thumbnails.get(name)
        thumb = (f'<img class="thumb" alt="thumbnail of {html.escape(Path(name).name)}" '
                 f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">') if png else ""
        folder = folders.get(name)
        if folder and thumb:
            thumb = f'<a href="{html.escape(quote(folder))}/overlay.png">{thumb}</a>'  # a space or é percent-encoded
        status = ('<span class="ok">ok</span>' if ok else '<span class="bad">not analysed</span>'
                  if r.get("status") == "not analysed" else '<span class="bad">error</span>')
        den = _num(r.get("ki67_denominator"))
        thr = _num(r.get("ki67_positive_threshold_od"))
        names = r.get("stain_names") or []
        chromogen = next((n for n in names if n in _CHROMOGEN_LABELS), "dab")
        contrast = _num(r.get("ki67_nuclear_contrast_od"))
        also = "" if contrast is None else f", or ≥ {contrast:.2f} OD above the ring around the nucleus"
        # the positivity rule wraps (class "rule"): on one line it widened the Ki67 column so far that a
        # 1600 px window cut the tissue-class and error columns off
        thr_note = "" if thr is None else (f'<div class="ci rule">positive at {_CHROMOGEN_LABELS[chromogen]} ≥ '
                                           f'{_od_text(thr)} OD{also}</div>')
        if ok and not nothing and r.get("ki67_denominator") is None and names and not set(names) & set(_CHROMOGEN_LABELS):
            thr_note += f'<div class="ci rule">not measured: no chromogen in {html.escape(str(r.get("stains", "")))}</div>'
        ki67 = (_cell(r.get("ki67_index_pct"), name="ki67_index_pct")[:-5]
                + _ci(r.get("ki67_ci_low_pct"), r.get("ki67_ci_high_pct")) + _pigment_note(r) + thr_note
                + _melanocytic_note(r)
                + _review_note(row) + "</td>")
        real_hot, hot_note = _hotspot_note(r)
        hot = _cell(r.get("ki67_hotspot_index_pct"), name="ki67_hotspot_index_pct")[:-5] + _ci(
            r.get("ki67_hotspot_ci_low_pct"), r.get("ki67_hotspot_ci_high_pct")) + hot_note + "</td>"
        if not real_hot:
            hot = hot.replace('<td class="num"', '<td class="num dim"', 1)
        warns = _warnings(row) if ok else []
        if warns:  # the sentences go in a full-width row below: in the status cell they wrapped over ~20 lines
            status += f'<div class="warn">⚠ {len(warns)} warning{"s" if len(warns) > 1 else ""} below</div>'
        row_class = ("row-warn" if warns else "row-ok") if ok else "row-error"
        if row.get("reviewed") == "yes":
            row_class += " row-reviewed"
            status += '<div class="rev">reviewed</div>'
        body.append(
            f'<tr class="{row_class}" data-input="{html.escape(name)}">'
            f"<td>{thumb}</td><td>{html.escape(Path(name).name)}<div class=\"path\">{_path_text(name)}</div>"
            f"{_input_meta(r) + _models_meta(r) if ok else ''}{_nuclei_link(nuclei_pages.get(name)) if ok else ''}</td>"
            f"<td>{status}</td>{ki67}"
            f'<td class="num" data-col="ki67_denominator" data-value="{"" if den is None else int(den)}">{"–" if den is None else int(den)}'
            f"{_excluded_note(r) if den is not None else ''}</td>"
            f"{hot}{_cell(r.get('h_score'), name='h_score')[:-5]}{_h_score_review(row)}</td>"
            f"{_cell(r.get('melanin_fraction_pct'), '.2f', name='melanin_fraction_pct')[:-5]}"
            f"{_melanin_tumour(r)}{_melanin_review(row)}{_melanin_tumour_review(row)}</td>"
            f"{_cell(r.get('necrosis_fraction_pct'), name='necrosis_fraction_pct')[:-5]}{_necrosis(r)}"
            f"{_necrosis_review(row)}</td>"
            f"{_classes(r)}"
            f'<td class="err">{"" if ok else _path_text(error_text(r))}</td></tr>'
        )
        if warns:
            body.append('<tr class="warnrow"><td></td><td colspan="10">'
                        + "".join(f'<div class="warn">⚠ {html.escape(w)}</div>' for w in warns) + "</td></tr>")
    cmp_block = _comparison(comparison) if comparison else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>{css}</style></head>
<body><h1>{html.escape(title)}</h1>
{left}<p class="sub">{len(rows)} input(s): {n_ok} ok, {len(rows) - n_ok - n_left} failed{left_count}. Ki67 index = positive / (positive + negative) tumour nuclei (n; "excluded" under it = detected nuclei left out as not tumour), 95% Wilson CI; hot spot = the window of the set area with the highest Ki67 index among those holding the minimum number of tumour nuclei (greyed, and not called a hot spot, when no window holds enough); H-score (0–300) = 1 × % weak + 2 × % moderate + 3 × % strong of the tumour nuclei; melanin % and necrosis % are of the tissue area; {CLASSES_KEY}; undefined values show as –.</p>
{cmp_block}
<table id="results"><thead><tr><th></th><th>input</th><th>status</th><th>Ki67 %</th><th>n</th><th>hot spot %</th>
<th>H-score</th><th>melanin %</th><th>necrosis %</th><th>tissue classes (% of classed area)</th><th>error</th></tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table></body></html>
"""


def _review_note(r: Mapping[str, Any]) -> str:
    """Under the measured Ki67 index: the reviewed one (index, CI, positive / n, who, when) of a reviewed row,
    or why its review was refused / that it was made on an earlier result (:mod:`mmnst_path.review`)."""
    # the note without the review file's folder (summary.csv names it): a long path widened the Ki67 column
    note = re.sub(r"^\S*[/\\](review\.json: )", r"\1", str(r.get("review_note") or ""))
    # on the page the reason without its figures (the hashes wrapped it over ~6 lines); in full as its title
    short, prev = note, None
    while short != prev:  # innermost parentheses first: a nested one keeps no stray ")"
        short, prev = re.sub(r"\s*\([^()]*\)", "", short), short
    if short.endswith("; review refused"):
        short = "review refused: " + short.removeprefix("review.json: ")[: -len("; review refused")]
    note = (f'<div class="warn revnote" title="{html.escape(note)}">⚠ {html.escape(short)}</div>' if note else "")
    if r.get("reviewed") != "yes" or r.get("ki67_denominator_reviewed") is None:
        return note
    index, pos, den = (_num(r.get(k)) for k in ("ki67_index_reviewed_pct", "ki67_positive_reviewed",
                                                "ki67_denominator_reviewed"))
    text = "–" if index is None else f"{index:.1f} %"
    counts = "" if pos is None or den is None else f" ({int(pos)} / {int(den)})"
    who = html.escape(str(r.get("reviewer") or "reviewer not named"))
    when = html.escape(str(r.get("reviewed_at") or "")[:10])
    return (f'<div class="rev" data-col="ki67_index_reviewed_pct" data-value="{"" if index is None else repr(index)}">'
            f'reviewed: {text}{counts}</div>'
            f'{_ci(r.get("ki67_ci_low_reviewed_pct"), r.get("ki67_ci_high_reviewed_pct"))}'
            f'<div class="ci">by {who}{", " + when if when else ""}</div>{note}')


def _h_score_review(r: Mapping[str, Any]) -> str:
    """Under the measured H-score: the reviewed one (of the reviewed tumour nuclei and their bins), of a row whose
    review judged the nuclei."""
    h = _num(r.get("h_score_reviewed"))
    if r.get("reviewed") != "yes" or h is None:
        return ""
    return f'<div class="rev" data-col="h_score_reviewed" data-value="{h!r}">reviewed: {h:.1f}</div>'


def _excluded_note(r: Mapping[str, Any]) -> str:
    """Under ``n``: how many detected nuclei were left out of it as not tumour (the cell model's stromal /
    lymphocyte calls, or outside the tumour region), in napari's words; nothing when none were."""
    exc = _num(r.get("ki67_excluded"))
    return "" if not exc else (f'<div class="ci" title="detected nuclei left out of n as not tumour (the cell model\'s '
                               f'stromal / lymphocyte calls, or outside the tumour region)">{int(exc)} excluded</div>')


#: ring colour of each class in the check pictures, as :data:`mmnst_path.overlay.CLASS_RGB` draws them
#: (a test keeps the two equal), and what the legend adds after the name
_RING_HEX = {"positive": ("#e60000", ""), "negative": ("#005aff", ""), "pigment": ("#8c8c8c", " (not counted)"),
             "excluded": ("#00a0a0", " (not counted)")}


def _ring_legend() -> str:
    """The nuclei page's legend: a swatch of each ring colour (yellow text would not read on white)."""
    return ", ".join(f'<span class="sw" style="background:{hx}"></span>{name}{note}'
                     for name, (hx, note) in _RING_HEX.items())


def render_nuclei_page(
    input_name: str, fields: Sequence[Mapping[str, Any]], *, mpp: float, note: str = ""
) -> str:
    """``nuclei.html`` of one input: its full-resolution check pictures (files beside the page).

    Parameters
    ----------
    input_name : str
    fields : sequence of mapping
        ``file`` (PNG name), ``title``, ``box`` (level-0 row, col, height, width) and ``counts``
        (nuclei per class) of each picture.
    mpp : float
        µm per level-0 pixel (for the field size).
    note : str
        Shown instead of the pictures when there are none (why).
    """
    blocks = []
    for f in fields:
        row, col, h, w = (int(v) for v in f["box"])
        counts = ", ".join(f"{k} {int(v)}" for k, v in dict(f["counts"]).items())
        blocks.append(
            f'<figure><figcaption><b>{html.escape(str(f["title"]))}</b>: {h * mpp:.0f} × {w * mpp:.0f} µm at '
            f"level-0 row {row}, col {col} ({counts})</figcaption>"
            f'<a href="{html.escape(str(f["file"]))}"><img src="{html.escape(str(f["file"]))}" '
            f'alt="{html.escape(str(f["title"]))}" width="{w}"></a></figure>'
        )
    body = "\n".join(blocks) or f"<p>No picture: {html.escape(note or 'no classified nucleus to show.')}</p>"
    # what the pictures are, as many as there are (a tile smaller than the window has only the first)
    which = {0: "", 1: "\nThe field is the densest part of the Ki67 hot-spot window."}.get(
        len(blocks), "\nThe first field is the densest part of the Ki67 hot-spot window; the others are random places "
                     "with nuclei.")
    click = "\nClick a picture for the file itself." if blocks else ""
    name = html.escape(Path(input_name).name)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>nuclei of {name}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_CSS}
figure{{margin:16px 0}} figcaption{{margin:0 0 6px;font-size:13px}} img{{max-width:100%;height:auto;border:1px solid #ccc}}
</style></head>
<body><h1>Nuclei of {name}</h1>
<p class="sub">Full-resolution fields (1 image pixel = 1 scanned pixel); every nucleus the analysis found is ringed
in its class colour: {_ring_legend()}.{which}{click}</p>
{body}
</body></html>
"""
