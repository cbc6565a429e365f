"""A pathologist's review of a ``mmnst-path quantify`` result, kept beside it, and the batch summary rebuilt with it.

The measured result is never overwritten: a review is a sidecar in the input's result folder,

``review.json``
    ``{"kind": "mmnst_path.review", "schema_version", "input", "source_sha256", "result_sha256",
    "edits_file", "edits_sha256", "reviewed_at", "reviewer", "n_cells", "ki67_counts", "ki67_metrics",
    "tissue_classes", "annotations_ignored", "software_version"}`` (and ``merged`` / ``dropped`` when an earlier
    review was there: its other part kept, or why not): the reviewed Ki67 counts and metrics (index, 95 % Wilson CI,
    computed from the edits exactly as napari's Review panel computes them: :func:`reviewed_ki67`), the
    SHA-256 of the source image (checked against ``result.json``'s when the review is written) and of the
    result.json the review was made on, the edits file it came from with its SHA-256, the time (UTC), the
    optional reviewer name and, when the reviewer corrected the tissue class map (painted in napari, or drawn
    as classified annotations in the edits: ``Necrosis``, ``Stroma``, ``Tumor``...), the class areas as
    corrected (:func:`mmnst_path._review_tissue.reviewed_class_areas`); a review may hold nuclei edits, tissue
    corrections or both (``ki67_counts`` / ``tissue_classes`` null for what it does not hold);
``review_edits.geojson``
    a copy of the edits (QuPath GeoJSON point detections, as napari's Review saves them, and annotations);
``review_tissue_classes.png``
    the corrected class map, in tissue_classes.png's form (only with tissue corrections);
``review_melanin.png``
    the melanin corrections of the run's ``melanin_map.npz`` blocks (0 the run's, 1 melanin, 2 none; painted in
    napari or drawn as annotations classified ``Melanin`` / ``No melanin``, :mod:`mmnst_path._melanin_map`), with
    review.json's ``melanin`` part (the reviewed melanin area and % of tissue) and ``melanin_map_sha256``.

Both are written atomically by :func:`write_review` (``mmnst-path review``, napari Export's *save review to
result folder*). :func:`rebuild_report` (``mmnst-path report``) rewrites summary.csv, summary.json and
report.html of the output folder from the stored results and the reviews without analysing anything; a
re-run of ``quantify`` keeps the review files (:func:`carry_review`). Reviewed rows carry both figures: the
measured ``ki67_index_pct`` and the :data:`REVIEW_COLUMNS` (``ki67_index_reviewed_pct``,
``reviewed`` yes / no, ``reviewer``...), and with tissue corrections the :data:`TISSUE_REVIEW_COLUMNS`
(``necrosis_fraction_reviewed_pct``...); a folder without any review gives the same files as before.
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

from ._melanin_map import REVIEW_MELANIN_MAP
from ._review_columns import REVIEW_COLUMNS, TISSUE_REVIEW_COLUMNS, melanin_review_row, summary_columns
from ._review_tissue import REVIEW_TISSUE_MAP, tissue_review_row
from .errors import ConfigError

__all__ = [
    "REVIEW_COLUMNS",
    "REVIEW_EDITS",
    "REVIEW_MELANIN_MAP",
    "REVIEW_NAME",
    "REVIEW_TISSUE_MAP",
    "TISSUE_REVIEW_COLUMNS",
    "RebuildOutcome",
    "apply_reviews",
    "bin_thresholds",
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
REVIEW_FILES = (REVIEW_NAME, REVIEW_EDITS, REVIEW_TISSUE_MAP, REVIEW_MELANIN_MAP)
#: what a review made on an earlier result of the same image says in ``review_note``
EARLIER_RESULT = "review made on an earlier result of this input (re-analysed since): review it again to update"


def bin_thresholds(config: Mapping[str, Any] | None = None) -> tuple[float, float]:
    """The DAB OD at which a positive nucleus is moderate (2+) and strong (3+): the run's (``config["ki67"]``
    of result.json or a SlideResult), else :class:`~mmnst_path.quantify.Ki67Params`' defaults."""
    from .quantify._ki67_params import Ki67Params

    k = (config or {}).get("ki67") or {}
    base = Ki67Params()
    return (float(k.get("moderate_threshold_od", base.moderate_threshold_od)),
            float(k.get("strong_threshold_od", base.strong_threshold_od)))


def positive_bin(dab: Any, thresholds_od: tuple[float, float]) -> Any:
    """Intensity bin of nuclei made positive by the reviewer, from their DAB OD mean as the run bins a
    measured positive: 1+, 2+ at ``thresholds_od[0]``, 3+ at ``thresholds_od[1]`` (1+ when DAB is unknown)."""
    d = np.nan_to_num(np.asarray(dab, np.float64), nan=-np.inf)
    return (1 + (d >= thresholds_od[0]) + (d >= thresholds_od[1])).astype(np.int64)


def reviewed_ki67(classes: Any, bins: Any, *, near_black: Any = None, dab: Any = None,
                  thresholds_od: tuple[float, float] | None = None,
                  melanocytic: Any = None) -> tuple[Any, dict[str, Any]]:
    """Ki67 counts and metrics of reviewed nucleus classes: the one computation of napari's Review panel,
    its Export and ``mmnst-path review``.

    Parameters
    ----------
    classes : array of str
        Class per nucleus (``positive``, ``negative``, ``pigment``, ``excluded``).
    bins : array of int
        Intensity bin (0-3) per nucleus; a nucleus the reviewer made positive (bin 0) takes the bin of its
        DAB (:func:`positive_bin`) when ``dab`` is given, else 1+.
    near_black : array of bool, optional
        Near-black nuclei the reviewer has not judged (adds the near-black QC counts).
    dab : array of float, optional
        DAB OD mean per nucleus (``dab_od_mean``).
    thresholds_od : (moderate, strong), optional
        The run's bin thresholds (:func:`bin_thresholds`); its defaults when omitted.
    melanocytic : array of bool, optional
        A Ki67 / MART-1 or SOX10 double stain's melanocytic (marker-positive) nuclei: adds the
        melanocyte-restricted index of the reviewed classes (``melanocytic_index_pct`` ...).

    Returns
    -------
    (Ki67Counts, dict)
        The counts and :func:`mmnst_path.quantify.ki67.ki67_metrics` of them.
    """
    from .quantify.ki67 import Ki67Counts, ki67_metrics

    cls = np.asarray(classes).astype(str)
    b = np.asarray(bins, dtype=np.int64).copy()
    made = (cls == "positive") & (b < 1)
    if dab is None:
        b[made] = 1
    else:
        b[made] = positive_bin(np.asarray(dab, np.float64)[made], thresholds_od or bin_thresholds())
    flag = None if near_black is None else np.asarray(near_black, dtype=bool)
    mel = None if melanocytic is None else np.asarray(melanocytic, dtype=bool)
    counts = Ki67Counts.from_classes(cls, b, melanocytic=mel, near_black=flag)
    return counts, dict(ki67_metrics(counts))


def ki67_of_edits(cells: Any, thresholds_od: tuple[float, float] | None = None) -> tuple[Any, dict[str, Any]]:
    """:func:`reviewed_ki67` of a nuclei table read from saved edits (a :class:`~mmnst_path.aggregate.CellTable`):
    classes from its codes, ``intensity_bin`` (a positive without one from its ``dab_od_mean``), the
    near-black nuclei not ``reviewed``, as napari reads them, and a double stain's ``melanocytic`` nuclei."""
    from ._geojson_read import flag_values
    from .aggregate import CELL_CLASSES

    n = len(cells)
    cols = cells.columns
    classes = np.asarray(CELL_CLASSES, dtype=object)[np.asarray(cells.cls, np.intp)] if n else np.zeros(0, object)
    bins = np.asarray(cols.get("intensity_bin", np.zeros(n)), dtype=np.int64)
    near_black = None
    if "near_black" in cols:
        near_black = flag_values(cols["near_black"])
        if "reviewed" in cols:
            near_black = near_black & ~flag_values(cols["reviewed"])
    dab = cols.get("dab_od_mean")
    melanocytic = flag_values(cols["melanocytic"]) if "melanocytic" in cols else None
    return reviewed_ki67(classes, bins, near_black=near_black, dab=dab, thresholds_od=thresholds_od,
                         melanocytic=melanocytic)


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
                 tissue_map: Any = None, tissue_annotations: bool = False, replace: bool = False,
                 melanin_map: Any = None) -> dict[str, Any]:
    """Write ``review.json`` and ``review_edits.geojson`` into a quantify result folder (atomically).

    Parameters
    ----------
    folder : path
        The input's result folder (``OUT/<input>``, holding result.json).
    edits : path
        Saved edits: QuPath GeoJSON point detections (napari Review's *save edits*) and / or polygon
        annotations classified with a tissue class (``Necrosis``, ``Stroma``, ``Tumor``...: the blocks of the
        result's class map whose centre they hold take that class; unclassified, ``Region*`` and ``Ignore*``
        annotations are skipped; one partly off the image is applied by its part inside and recorded in
        ``tissue_classes.annotations_clipped``, :func:`mmnst_path._review_clip.annotations_off_image`).
    reviewer : str, optional
        Who reviewed (recorded and shown in the report).
    image : path, optional
        The source image, when it is no longer at the path result.json records.
    tissue_classes : mapping, optional
        Class areas as painted in napari (recorded as they are).
    tissue_map : (M, N) integer array, optional
        The class map as painted (class index, -1 = none), kept as ``review_tissue_classes.png``.
    tissue_annotations : bool, default False
        Read the classified annotations of an edits file that also holds nuclei as tissue corrections. By
        default they are regions (QuPath's ``Tumor`` outline round its cell detections), skipped and counted
        (``annotations_ignored``); an edits file without nuclei always has its annotations read.
    replace : bool, default False
        The new review replaces the earlier one whole (its other part is not kept; ``dropped`` says what went).
    melanin_map : (M, N) integer array, optional
        Melanin corrections painted in napari on the result's ``melanin_map.npz`` grid (0 the run's block, 1
        melanin, 2 no melanin); recomputed into the ``melanin`` part (:func:`mmnst_path._review_melanin.reviewed_melanin`)
        and kept as ``review_melanin.png``. Annotations classified ``Melanin`` / ``No melanin`` give the same.

    Returns
    -------
    dict
        The review document written. When the folder held an accepted review of the same result and this one
        holds only nuclei or only tissue corrections, the other part of the earlier review is kept unless
        ``replace`` (``merged``: what was kept, by whom, when, from which edits). Each part records its own reviewer
        and time (``nuclei_reviewer`` / ``nuclei_reviewed_at``, ``tissue_classes.reviewer`` / ``reviewed_at``);
        ``reviewer`` names the reviewers of the parts present; ``dropped`` says what of an earlier review was not
        kept (replaced, refused, or made on an earlier result).

    Raises
    ------
    ConfigError
        No result.json, an edits file without nuclei or tissue annotations, annotations of a class the result's
        tissue model does not have or on a result without a class map, a source image that cannot be read or
        whose SHA-256 differs from the one result.json records.
    """
    from . import __version__
    from ._melanin_map import melanin_annotations, melanin_review_part
    from ._review_merge import merge_earlier
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
    features = read_features(edits)
    cells = cells_from_features(features, source=f"edits file {str(edits)!r}")
    read_annotations = tissue_annotations or not len(cells)
    melanin_polygons, where = melanin_annotations(features) if _melanin_names_apply(doc) else ([], [])
    if where:  # melanin corrections are not tissue classes
        features = [f for i, f in enumerate(features) if i not in set(where)]
    melanin, melanin_png = melanin_review_part(folder, doc, melanin_polygons if read_annotations else [],
                                               melanin_map, edits=str(edits))
    tissue, png, ignored = _tissue_review(folder, doc, features, str(edits), tissue_classes, tissue_map,
                                          read_annotations=read_annotations)
    ignored += 0 if read_annotations else len(where)
    if not len(cells) and tissue is None and melanin is None:
        msg = (f"edits={str(edits)!r} holds no nuclei (point detections), no tissue-class and no melanin annotations; "
               "save the edits from napari's Review, or draw annotations classified Necrosis, Stroma, Tumor... or "
               "Melanin / No melanin in QuPath")
        raise ConfigError(msg)
    counts, metrics = ki67_of_edits(cells, bin_thresholds(doc.get("config"))) if len(cells) else (None, None)
    data = edits.read_bytes()
    who = reviewer.strip() if reviewer and reviewer.strip() else None
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for part in (tissue, melanin):  # each part keeps its own reviewer and time (a later review may replace one)
        if part is not None:
            part.update(reviewer=who, reviewed_at=now)
    review = {
        "kind": "mmnst_path.review",
        "schema_version": "1.0",
        "input": doc.get("input"),
        "source_sha256": source["sha256"],
        "result_sha256": _sha256(folder / "result.json"),
        "edits_file": os.path.abspath(edits),
        "edits_sha256": hashlib.sha256(data).hexdigest(),
        "reviewed_at": now,
        "reviewer": who,
        "nuclei_reviewer": who if len(cells) else None,
        "nuclei_reviewed_at": now if len(cells) else None,
        "n_cells": len(cells),
        "ki67_counts": None if counts is None else counts.to_mapping(),
        "ki67_metrics": metrics,
        "tissue_classes": tissue,
        "tissue_map_sha256": None if png is None else hashlib.sha256(png).hexdigest(),
        "melanin": melanin,
        "melanin_map_sha256": None if melanin_png is None else hashlib.sha256(melanin_png).hexdigest(),
        "annotations_ignored": ignored,
        "software_version": __version__,
    }
    with _locked(folder.parent):
        kept = merge_earlier(folder, review, read_review=read_review, name=REVIEW_NAME, replace=replace)
        if "nuclei" not in kept and os.path.abspath(edits) != os.path.abspath(folder / REVIEW_EDITS):
            atomic_write_bytes(folder / REVIEW_EDITS, data)
        for file, made, which in ((REVIEW_TISSUE_MAP, png, "tissue"), (REVIEW_MELANIN_MAP, melanin_png, "melanin")):
            if made is not None:
                atomic_write_bytes(folder / file, made)
            elif which not in kept:
                (folder / file).unlink(missing_ok=True)  # a map of an earlier review is not this one's
        review["melanin_tumour"] = _tumour_melanin(folder, review, doc)  # of the parts kept, on the maps just written
        atomic_write_text(folder / REVIEW_NAME, json.dumps(json_ready(review), indent=1, ensure_ascii=False) + "\n")
    return review


def _tumour_melanin(folder: Path, review: Mapping[str, Any], doc: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The reviewed melanin of tumour (:func:`mmnst_path._review_tumour_melanin.folder_tumour_melanin`), None when the
    review does not bear on it or the folder's maps cannot be read."""
    from ._review_tumour_melanin import folder_tumour_melanin

    try:
        return folder_tumour_melanin(folder, review, doc)
    except (ConfigError, OSError, ValueError):
        return None


def _melanin_names_apply(doc: Mapping[str, Any]) -> bool:
    """Annotations named Melanin / No melanin are melanin corrections, except on a result without a melanin map
    whose tissue model has a melanin class (there they stay tissue-class corrections, as before melanin maps)."""
    classes = [str(c.get("name")) for c in (doc.get("tissue_classes") or {}).get("classes") or []]
    return bool(doc.get("melanin_map")) or "melanin" not in classes


def _tissue_review(folder: Path, doc: Mapping[str, Any], features: Sequence[Mapping[str, Any]], edits: str,
                   painted: Mapping[str, Any] | None, painted_map: Any, *,
                   read_annotations: bool) -> tuple[dict[str, Any] | None, bytes | None, int]:
    """The tissue part of a review, its corrected map (PNG bytes) and the annotations not read (regions of a file
    with nuclei, unless ``read_annotations``): the areas painted in napari as given (``painted`` with its map),
    else the edits' classified annotations applied to the result's class map."""
    from ._review_clip import annotations_off_image
    from ._review_tissue import (
        area_annotations,
        class_map_png,
        classified_annotations,
        paint_annotations,
        read_class_map,
        reviewed_class_areas,
    )

    if not read_annotations:
        ignored = classified_annotations(features)  # an unclassified one (QuPath's "Image") is no correction anyway
        features = []
    else:
        ignored = 0
    cmap = read_class_map(folder, doc)
    classes = cmap["classes"] if cmap else ["tumour", "stroma", "necrosis", "inflammatory", "fat", "mucin", "blood"]
    polygons, skipped = area_annotations(features, classes,
                                         source=f"edits file {edits!r}")
    if polygons and painted:
        msg = f"edits={edits!r} holds tissue-class annotations and the class map was painted: give one of them"
        raise ConfigError(msg)
    if not polygons and not painted:
        return None, None, ignored
    if cmap is None:
        msg = (f"edits={edits!r}: {folder / 'result.json'} has no tissue class map (no tissue model ran), so its "
               "tissue-class annotations cannot correct it")
        raise ConfigError(msg)
    if painted:
        now = None if painted_map is None else np.asarray(painted_map)
        tissue = {**dict(painted), "source": "painted (napari)"}
    else:
        clipped = annotations_off_image(polygons, cmap["shape"], cmap["classes"], mpp=cmap["mpp"], source=edits)
        glass = cmap["classes"].index("background") if "background" in cmap["classes"] else None
        now = paint_annotations(cmap["labels"], polygons, downsample=cmap["downsample"], glass=glass,
                                shape=cmap["shape"])
        kept = 0 if glass is None else int(
            ((paint_annotations(cmap["labels"], polygons, downsample=cmap["downsample"], shape=cmap["shape"])
              != now)).sum())
        tissue = {**reviewed_class_areas(cmap["classes"], cmap["areas"], cmap["labels"], now,
                                         downsample=cmap["downsample"], mpp=cmap["mpp"], shape=cmap["shape"]),
                  "source": "annotations", "annotations": len(polygons), "annotations_skipped": skipped,
                  "background_blocks_kept": kept, "annotations_clipped": clipped}
    if now is not None and now.shape != cmap["labels"].shape:
        msg = f"tissue_map: shape {now.shape} differs from the result's class map {cmap['labels'].shape}"
        raise ConfigError(msg)
    png = None if now is None else class_map_png(now, cmap["classes"], cmap["colours"])
    return tissue, png, ignored


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
        if review.get("ki67_metrics") is not None:
            float(review["ki67_metrics"]["index_pct"] or "nan")
        if review.get("ki67_metrics") is None and not review.get("tissue_classes") and not review.get("melanin"):
            raise ValueError("no reviewed figures")  # a review without figures is refused
        if review.get("tissue_classes"):
            _check_tissue_part(review["tissue_classes"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"{path}: cannot be read ({type(exc).__name__}: {exc}); review refused"
    if review.get("source_sha256") != measured:
        return None, (f"{path}: made on another source image (sha256 {str(review.get('source_sha256'))[:12]}... != "
                      f"result.json's {str(measured)[:12]}...); review refused")
    edits = folder / REVIEW_EDITS
    if review.get("ki67_metrics") is not None and review.get("edits_sha256") and not edits.is_file():
        return None, f"{path}: {edits.name} (the reviewed nuclei) is missing; review refused"
    if review.get("edits_sha256") and edits.is_file():
        if _sha256(edits) != review["edits_sha256"]:
            return None, f"{path}: {edits.name} changed since the review (sha256 differs); review refused"
    tissue_map = folder / REVIEW_TISSUE_MAP
    if review.get("tissue_classes") and review["tissue_classes"].get("source") == "annotations" \
            and not review.get("tissue_map_sha256"):
        return None, f"{path}: records no tissue_map_sha256 for its corrected class map; review refused"
    if review.get("tissue_map_sha256") and (not tissue_map.is_file() or _sha256(tissue_map) != review["tissue_map_sha256"]):
        return None, f"{path}: {tissue_map.name} missing or changed since the review (sha256 differs); review refused"
    melanin_map = folder / REVIEW_MELANIN_MAP
    if review.get("melanin") and (not review.get("melanin_map_sha256") or not melanin_map.is_file()
                                  or _sha256(melanin_map) != review["melanin_map_sha256"]):
        return None, f"{path}: {melanin_map.name} missing or changed since the review (sha256 differs); review refused"
    review["note"] = EARLIER_RESULT if review.get("result_sha256") != _sha256(folder / "result.json") else ""
    return review, None


def _check_tissue_part(tissue: Any) -> None:
    """Raise ValueError / TypeError unless ``tissue`` is a review's ``tissue_classes``: mappings of numbers
    (None / NaN allowed) ``area_mm2`` and ``pct_of_tissue``, a number ``tissue_mm2``, an int ``changed_blocks``."""
    if not isinstance(tissue, Mapping):
        raise TypeError(f"tissue_classes is {type(tissue).__name__}, not a mapping")
    for key in ("area_mm2", "pct_of_tissue"):
        part = tissue.get(key)
        if not isinstance(part, Mapping):
            raise TypeError(f"tissue_classes.{key} is {type(part).__name__}, not a mapping")
        for name, v in part.items():
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise ValueError(f"tissue_classes.{key}.{name} = {v!r} is not a number")
    t, n = tissue.get("tissue_mm2"), tissue.get("changed_blocks")
    if t is not None and (isinstance(t, bool) or not isinstance(t, int | float)):
        raise ValueError(f"tissue_classes.tissue_mm2 = {t!r} is not a number")
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"tissue_classes.changed_blocks = {n!r} is not an integer")


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
            m = review.get("ki67_metrics")
            if m is not None:
                row.update(ki67_index_reviewed_pct=m.get("index_pct"), ki67_ci_low_reviewed_pct=m.get("ci_low_pct"),
                           ki67_ci_high_reviewed_pct=m.get("ci_high_pct"), ki67_positive_reviewed=m.get("positive"),
                           ki67_denominator_reviewed=m.get("denominator"), h_score_reviewed=m.get("h_score"))
                if m.get("melanocytic_denominator"):  # a double stain's reviewed melanocyte-restricted index
                    row.update(ki67_melanocytic_index_reviewed_pct=m.get("melanocytic_index_pct"))
            if review.get("tissue_classes"):
                row.update(tissue_review_row(review["tissue_classes"]))
            if review.get("melanin"):
                row.update(melanin_review_row(review["melanin"]))
            tumour = _tumour_melanin(out_dir / str(name), review)
            if tumour is not None:
                row["melanin_tumour_fraction_reviewed_pct"] = melanin_review_row(tumour)["melanin_tumour_fraction_reviewed_pct"]
            row.update(reviewed="yes", reviewer=review.get("reviewer"), reviewed_at=review.get("reviewed_at"),
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
    order; failed and not-analysed rows are kept as they are; an ok row whose result folder is gone becomes an error
    row saying so (its figures are not listed without their result).

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
            elif r.get("status") == "ok":  # its result folder was removed: its figures are not listed as results
                rows.append({"input": r.get("input"), "status": "error",
                             "error": (f"ResultMissing: {name}: its result folder is no longer in {out_dir} (removed "
                                       "since the run?); run mmnst-path quantify on it again")})
            else:
                rows.append(dict(r))
        rows, errors = apply_reviews(rows, out_dir, folders)
        files = {"summary_csv": write_summary_csv(rows, out_dir / "summary.csv"),
                 "summary_json": write_summary_json(rows, out_dir / "summary.json", extra=header)}
        files["report_html"] = _write_html(out_dir, rows, folders, header.get("comparison"))
    n_reviewed = sum(1 for r in rows if r.get("reviewed") == "yes")
    return RebuildOutcome(tuple(rows), tuple(errors), files, n_reviewed)
