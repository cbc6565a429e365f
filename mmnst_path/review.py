"""A pathologist's review of a ``mmnst-path quantify`` result, kept beside it, and the batch summary rebuilt with it.

The measured result is never overwritten: a review is a sidecar in the input's result folder,

``review.json``
    ``{"kind": "mmnst_path.review", "schema_version", "input", "source_sha256", "result_sha256",
    "edits_file", "edits_sha256", "reviewed_at", "reviewer", "n_cells", "ki67_counts", "ki67_metrics",
    "tissue_classes", "software_version"}``: the reviewed Ki67 counts and metrics (index, 95 % Wilson CI,
    computed from the edits exactly as napari's Review panel computes them: :func:`reviewed_ki67`), the
    SHA-256 of the source image (checked against ``result.json``'s when the review is written) and of the
    result.json the review was made on, the edits file it came from with its SHA-256, the time (UTC), the
    optional reviewer name and, when the reviewer painted the tissue class map in napari, the class areas as
    painted;
``review_edits.geojson``
    a copy of the edits (QuPath GeoJSON point detections, as napari's Review saves them).

Both are written atomically by :func:`write_review` (``mmnst-path review``, napari Export's *save review to
result folder*). :func:`rebuild_report` (``mmnst-path report``) rewrites summary.csv, summary.json and
report.html of the output folder from the stored results and the reviews without analysing anything; a
re-run of ``quantify`` keeps the review files (:func:`carry_review`). Reviewed rows carry both figures: the
measured ``ki67_index_pct`` and the :data:`REVIEW_COLUMNS` (``ki67_index_reviewed_pct``,
``reviewed`` yes / no, ``reviewer``...); a folder without any review gives the same files as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._review_columns import REVIEW_COLUMNS, summary_columns
from .errors import ConfigError

__all__ = [
    "REVIEW_COLUMNS",
    "REVIEW_EDITS",
    "REVIEW_NAME",
    "RebuildOutcome",
    "apply_reviews",
    "carry_review",
    "ki67_of_edits",
    "read_review",
    "rebuild_report",
    "reviewed_ki67",
    "summary_columns",
    "write_review",
]

REVIEW_NAME = "review.json"
REVIEW_EDITS = "review_edits.geojson"
#: the files of a review, kept when quantify re-analyses the input
REVIEW_FILES = (REVIEW_NAME, REVIEW_EDITS)
#: what a review made on an earlier result of the same image says in ``review_note``
EARLIER_RESULT = "review made on an earlier result of this input (re-analysed since): review it again to update"


def reviewed_ki67(classes: Any, bins: Any, *, near_black: Any = None) -> tuple[Any, dict[str, Any]]:
    """Ki67 counts and metrics of reviewed nucleus classes: the one computation of napari's Review panel,
    its Export and ``mmnst-path review``.

    Parameters
    ----------
    classes : array of str
        Class per nucleus (``positive``, ``negative``, ``pigment``, ``excluded``).
    bins : array of int
        Intensity bin (0-3) per nucleus; a nucleus the reviewer made positive counts at least as 1+.
    near_black : array of bool, optional
        Near-black nuclei the reviewer has not judged (adds the near-black QC counts).

    Returns
    -------
    (Ki67Counts, dict)
        The counts and :func:`mmnst_path.quantify.ki67.ki67_metrics` of them.
    """
    from .quantify.ki67 import Ki67Counts, ki67_metrics

    cls = np.asarray(classes).astype(str)
    b = np.asarray(bins, dtype=np.int64).copy()
    pos = cls == "positive"
    b[pos & (b < 1)] = 1
    flag = None if near_black is None else np.asarray(near_black, dtype=bool)
    counts = Ki67Counts.from_classes(cls, b, near_black=flag)
    return counts, dict(ki67_metrics(counts))


def ki67_of_edits(cells: Any) -> tuple[Any, dict[str, Any]]:
    """:func:`reviewed_ki67` of a nuclei table read from saved edits (a :class:`~mmnst_path.aggregate.CellTable`):
    classes from its codes, ``intensity_bin``, and the near-black nuclei not ``reviewed``, as napari reads them."""
    from .aggregate import CELL_CLASSES

    n = len(cells)
    cols = cells.columns
    classes = np.asarray(CELL_CLASSES, dtype=object)[np.asarray(cells.cls, np.intp)] if n else np.zeros(0, object)
    bins = np.asarray(cols.get("intensity_bin", np.zeros(n)), dtype=np.int64)
    near_black = None
    if "near_black" in cols:
        near_black = np.asarray(cols["near_black"], dtype=bool)
        if "reviewed" in cols:
            near_black = near_black & ~np.asarray(cols["reviewed"], dtype=bool)
    return reviewed_ki67(classes, bins, near_black=near_black)


def _sha256(path: Path) -> str:
    from ._batch_inputs import _sha256_file

    return _sha256_file(path)


def _result_doc(folder: Path) -> dict[str, Any]:
    path = folder / "result.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{folder}: holds no result.json; give a result folder of mmnst-path quantify (OUT/<input>)"
        raise ConfigError(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"{path}: cannot be read ({exc})"
        raise ConfigError(msg) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("source"), dict) or not doc["source"].get("sha256"):
        msg = f"{path}: records no source image (source.sha256); it is not a result of mmnst-path quantify"
        raise ConfigError(msg)
    return doc


def write_review(folder: str | os.PathLike[str], edits: str | os.PathLike[str], *, reviewer: str | None = None,
                 image: str | os.PathLike[str] | None = None, tissue_classes: Mapping[str, Any] | None = None,
                 ) -> dict[str, Any]:
    """Write ``review.json`` and ``review_edits.geojson`` into a quantify result folder (atomically).

    Parameters
    ----------
    folder : path
        The input's result folder (``OUT/<input>``, holding result.json).
    edits : path
        Saved edits: QuPath GeoJSON point detections (napari Review's *save edits*).
    reviewer : str, optional
        Who reviewed (recorded and shown in the report).
    image : path, optional
        The source image, when it is no longer at the path result.json records.
    tissue_classes : mapping, optional
        Class areas as painted in napari (recorded as they are).

    Returns
    -------
    dict
        The review document written.

    Raises
    ------
    ConfigError
        No result.json, an edits file without nuclei, a source image that cannot be read or whose
        SHA-256 differs from the one result.json records.
    """
    from . import __version__
    from .batch import _locked
    from .geojson import cells_from_features, read_features
    from .report import atomic_write_bytes, atomic_write_text, json_ready

    folder = Path(folder)
    doc = _result_doc(folder)
    source = doc["source"]
    img = Path(image) if image is not None else Path(str(source.get("path", "")))
    if not img.is_file():
        msg = (f"image={str(img)!r}: the source image of {folder / 'result.json'} cannot be found; "
               "give its present place (--image)")
        raise ConfigError(msg)
    sha = _sha256(img)
    if sha != source["sha256"]:
        msg = (f"image={str(img)!r} is not the image {folder / 'result.json'} was measured on "
               f"(sha256 {sha[:12]}... != {str(source['sha256'])[:12]}...)")
        raise ConfigError(msg)
    edits = Path(edits)
    cells = cells_from_features(read_features(edits), source=f"edits file {str(edits)!r}")
    if not len(cells):
        msg = f"edits={str(edits)!r} holds no nuclei (point detections); save the edits from napari's Review"
        raise ConfigError(msg)
    counts, metrics = ki67_of_edits(cells)
    data = edits.read_bytes()
    review = {
        "kind": "mmnst_path.review",
        "schema_version": "1.0",
        "input": doc.get("input"),
        "source_sha256": source["sha256"],
        "result_sha256": _sha256(folder / "result.json"),
        "edits_file": os.path.abspath(edits),
        "edits_sha256": hashlib.sha256(data).hexdigest(),
        "reviewed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "reviewer": reviewer.strip() if reviewer and reviewer.strip() else None,
        "n_cells": len(cells),
        "ki67_counts": counts.to_mapping(),
        "ki67_metrics": metrics,
        "tissue_classes": dict(tissue_classes) if tissue_classes else None,
        "software_version": __version__,
    }
    with _locked(folder.parent):
        if os.path.abspath(edits) != os.path.abspath(folder / REVIEW_EDITS):
            atomic_write_bytes(folder / REVIEW_EDITS, data)
        atomic_write_text(folder / REVIEW_NAME, json.dumps(json_ready(review), indent=1, ensure_ascii=False) + "\n")
    return review


def read_review(folder: str | os.PathLike[str]) -> tuple[dict[str, Any] | None, str | None]:
    """The review of a result folder checked against its result.json: ``(review, None)``; ``(None, None)``
    without a review; ``(None, reason)`` when the review is refused (one line naming the file: unreadable,
    another source image, edits changed since). A review made on an earlier result of the same image is
    returned with ``review["note"]`` = :data:`EARLIER_RESULT`."""
    folder = Path(folder)
    path = folder / REVIEW_NAME
    if not path.is_file():
        return None, None
    try:
        review = json.loads(path.read_text(encoding="utf-8"))
        doc = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        measured = doc["source"]["sha256"]
        float(review["ki67_metrics"]["index_pct"] or "nan")  # a review without figures is refused
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"{path}: cannot be read ({type(exc).__name__}: {exc}); review refused"
    if review.get("source_sha256") != measured:
        return None, (f"{path}: made on another source image (sha256 {str(review.get('source_sha256'))[:12]}... != "
                      f"result.json's {str(measured)[:12]}...); review refused")
    edits = folder / REVIEW_EDITS
    if review.get("edits_sha256") and edits.is_file():
        if _sha256(edits) != review["edits_sha256"]:
            return None, f"{path}: {edits.name} changed since the review (sha256 differs); review refused"
    review["note"] = EARLIER_RESULT if review.get("result_sha256") != _sha256(folder / "result.json") else ""
    return review, None


def apply_reviews(rows: Sequence[Mapping[str, Any]], out_dir: str | os.PathLike[str],
                  folders: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Summary rows with their reviews (:data:`~mmnst_path.report.REVIEW_COLUMNS`), and the one-line reasons of
    the refused reviews. ``folders`` maps a row's input to its result folder's name. Without any review file in
    the folders the rows come back unchanged (no review column), so such a folder's summary is as before."""
    out_dir = Path(out_dir)
    names = [folders.get(str(r.get("input"))) for r in rows]
    if not any(n and (out_dir / n / REVIEW_NAME).is_file() for n in names):
        return [dict(r) for r in rows], []
    out, errors = [], []
    for r, name in zip(rows, names, strict=True):
        row = dict(r)
        review, error = read_review(out_dir / name) if name and r.get("status") == "ok" else (None, None)
        row.update(reviewed="no", review_note=error or "")
        if error:
            errors.append(error)
        if review is not None:
            m = review["ki67_metrics"]
            row.update(ki67_index_reviewed_pct=m.get("index_pct"), ki67_ci_low_reviewed_pct=m.get("ci_low_pct"),
                       ki67_ci_high_reviewed_pct=m.get("ci_high_pct"), ki67_positive_reviewed=m.get("positive"),
                       ki67_denominator_reviewed=m.get("denominator"), reviewed="yes",
                       reviewer=review.get("reviewer"), reviewed_at=review.get("reviewed_at"),
                       review_note=review.get("note", ""))
        out.append(row)
    return out, errors


def carry_review(old: Path, new: Path) -> bool:
    """Copy the review files of the result folder ``old`` into ``new`` (the staging folder of a re-analysis,
    or the emptied folder of an input that failed); True when there was a review."""
    present = [name for name in REVIEW_FILES if (Path(old) / name).is_file()]
    for name in present:
        Path(new).mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(old) / name, Path(new) / name)
    return bool(present)


@dataclass(frozen=True)
class RebuildOutcome:
    """Rows written (inputs in the summary's order), reasons of the refused reviews, the files written."""

    rows: tuple[dict[str, Any], ...]
    errors: tuple[str, ...]
    files: dict[str, Path]
    n_reviewed: int


_SUMMARY_KEYS = ("schema_version", "kind", "columns", "n_inputs", "n_ok", "n_failed", "rows", "failures")


def rebuild_report(out_dir: str | os.PathLike[str]) -> RebuildOutcome:
    """Rewrite summary.csv, summary.json and report.html of a quantify output folder from its stored results
    (each input's ``result.json`` summary row) and reviews; nothing is analysed. Inputs keep the summary's
    order; failed and not-analysed rows are kept as they are.

    Raises
    ------
    ConfigError
        The folder holds no readable summary.json.
    OutputLockedError
        A quantify run is writing to the folder.
    """
    from .batch import _locked, _with_hotspot_flag, _write_html
    from .report import write_summary_csv, write_summary_json

    out_dir = Path(out_dir)
    try:
        summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
        stored_rows = list(summary["rows"])
    except FileNotFoundError:
        msg = f"{out_dir}: holds no summary.json; give the --out folder of mmnst-path quantify"
        raise ConfigError(msg) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        msg = f"{out_dir / 'summary.json'}: cannot be read ({exc})"
        raise ConfigError(msg) from exc
    header = {k: v for k, v in summary.items() if k not in _SUMMARY_KEYS}
    with _locked(out_dir):
        # each result folder by the input its row names and by its source file's real path
        stored: dict[str, tuple[str, dict[str, Any]]] = {}
        by_path: dict[str, tuple[str, dict[str, Any]]] = {}
        for result_json in sorted(out_dir.glob("*/result.json")):
            try:
                doc = json.loads(result_json.read_text(encoding="utf-8"))
                entry = (result_json.parent.name, dict(doc["summary_row"]))
                stored[str(entry[1]["input"])] = entry
                by_path[str(doc["source"]["path"])] = entry
            except (OSError, ValueError, KeyError, TypeError):
                continue
        rows, folders = [], {}
        for r in stored_rows:
            name = str(r.get("input"))  # a resumed run may have named the input otherwise than the first run
            hit = stored.get(name) or by_path.get(os.path.realpath(name))
            if r.get("status") == "ok" and hit is not None:
                folders[name] = hit[0]
                row = _with_hotspot_flag(dict(hit[1]), out_dir / hit[0] / "result.json")
                row["input"] = r["input"]
                rows.append(row)
            else:
                rows.append(dict(r))
        rows, errors = apply_reviews(rows, out_dir, folders)
        files = {"summary_csv": write_summary_csv(rows, out_dir / "summary.csv"),
                 "summary_json": write_summary_json(rows, out_dir / "summary.json", extra=header)}
        files["report_html"] = _write_html(out_dir, rows, folders, header.get("comparison"))
    n_reviewed = sum(1 for r in rows if r.get("reviewed") == "yes")
    return RebuildOutcome(tuple(rows), tuple(errors), files, n_reviewed)
