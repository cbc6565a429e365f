"""Batch summary helpers shared by :mod:`mmnst_path.batch` and :mod:`mmnst_path.review`: a stored summary row
completed with the hot-spot flag of later versions, and the batch's report.html with its thumbnails and links."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__: list[str] = []


def _with_hotspot_flag(row: dict[str, Any], result_json: Path) -> dict[str, Any]:
    """A stored summary row with ``ki67_hotspot_meets_min_nuclei`` (rows written before session 32
    lack it): the row's own flag, else its ``ki67_hotspot_nuclei`` >= the minimum (the row's
    ``hotspot_min_nuclei``, else that of the config stored in ``result_json``). Left empty without a
    hot spot (H&E) or without both numbers; nothing is re-run."""
    key = "ki67_hotspot_meets_min_nuclei"
    if row.get(key) is not None or row.get("ki67_hotspot_nuclei") is None:
        return row
    from .report import hotspot_meets_min_nuclei

    meets = hotspot_meets_min_nuclei(row)  # the row's own flag under its older name
    if meets is not None:
        row[key] = meets
        return row
    need = row.get("hotspot_min_nuclei")
    if need is None:
        import json

        try:
            need = json.loads(result_json.read_text(encoding="utf-8"))["config"]["hotspot_min_nuclei"]
        except (OSError, ValueError, KeyError, TypeError):
            return row
    try:
        row[key] = float(row["ki67_hotspot_nuclei"]) >= float(need)
    except (TypeError, ValueError):
        pass
    return row


def _write_html(out_dir: Path, rows: Sequence[dict[str, Any]], stems: dict[str, str],
                comparison: dict[str, Any] | None) -> Path:
    from urllib.parse import quote

    from .html_report import NUCLEI_PAGE, render_report
    from .overlay import thumbnail_png
    from .report import atomic_write_text

    thumbs: dict[str, bytes] = {}
    links: dict[str, str] = {}
    pages: dict[str, str] = {}
    for r in rows:
        stem = stems.get(str(r.get("input")))
        if stem is None or r.get("status") != "ok":
            continue
        png = out_dir / stem / "tissue.png"
        if png.is_file():
            thumbs[str(r["input"])] = thumbnail_png(png.read_bytes())
        links[str(r["input"])] = stem
        if (out_dir / stem / NUCLEI_PAGE).is_file():
            pages[str(r["input"])] = f"{quote(stem)}/{NUCLEI_PAGE}"
    html = render_report(rows, thumbnails=thumbs, folders=links, comparison=comparison,
                         title=f"mmnst-path quantify: {out_dir.name}", nuclei_pages=pages)
    return atomic_write_text(out_dir / "report.html", html)
