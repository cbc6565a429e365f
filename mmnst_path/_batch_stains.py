"""Batch inputs with stains of their own: the ``--manifest`` file (input, stains, µm/px per row), the options
of one input, a stored result whose stains were named that an ``auto`` run keeps, the earlier results a
``--resume`` run keeps listed, and the warning of a Ki67 batch input read with stains that have no chromogen.
Used by :mod:`mmnst_path.batch` and the ``quantify`` / ``report`` commands."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .stain.vectors import StainConditioningWarning

__all__ = ["MARKER_WORDS", "ManifestRow", "adopt_result_folders", "earlier_results", "input_options",
           "ki67_stain_warning", "marker_setting", "named_stored", "read_manifest"]

#: Columns of a manifest: ``input`` and ``stains`` are required, ``mpp`` is optional (empty: the file's or --mpp),
#: ``marker`` too (a double stain's melanocyte marker; empty: the run's, ``--melanocyte-marker``).
MANIFEST_COLUMNS = ("input", "stains", "mpp", "marker")
#: What the ``marker`` column (and ``--melanocyte-marker``) accepts, lower case, and the marker setting each means.
MARKER_WORDS = {"auto": "auto", "cytoplasmic": "cytoplasmic", "nuclear": "nuclear", "mart-1": "cytoplasmic",
                "mart1": "cytoplasmic", "melan-a": "cytoplasmic", "sox10": "nuclear", "none": "none"}

# keys of summary.json that write_summary_json makes from the rows (the rest is the run's header)
_SUMMARY_KEYS = ("schema_version", "kind", "columns", "n_inputs", "n_ok", "n_failed", "rows", "failures")


@dataclass(frozen=True)
class ManifestRow:
    """One manifest row: the input file (read against the manifest's folder; named relative to the current folder
    when its line is relative and the file lies under the current folder, as a folder run names its inputs, else
    absolute), its stains (a preset, a JSON file or ``auto``), its level-0 µm/px (None: the file's, else
    ``--mpp``), ``line`` its line number and ``marker`` its melanocyte marker (``[ki67] melanocyte_marker``: ``auto``,
    ``cytoplasmic``, ``nuclear`` or ``none``; None: the run's)."""

    input: Path
    stains: str
    mpp: float | None
    line: int
    marker: str | None = None


def _where(path: Path, line: int, name: str) -> str:
    return f"--manifest {path} line {line}" + (f" ({name})" if name else "")


def read_manifest(path: str | os.PathLike[str], *, measures: Sequence[str] = ()) -> list[ManifestRow]:
    """Read a CSV manifest (header ``input,stains[,mpp][,marker]``; ``#`` lines and empty lines skipped).

    Relative input paths and stain JSON files are read against the manifest's folder. Every problem raises one
    :class:`~mmnst_path.errors.ConfigError` naming the manifest and the line: a missing column, a missing input file,
    an unknown stain preset, stains that cannot measure one of ``measures``, an implausible ``mpp``, an input twice.
    """
    from .io._metadata import MPP_RANGE_UM
    from .pipeline import AnalysisConfig, applicable_measures

    path = Path(path)
    base = path.resolve().parent
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(f"--manifest {path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--manifest {path}: cannot be read ({exc})") from exc
    lines = [(i, s) for i, s in enumerate(text.splitlines(), 1) if s.strip() and not s.lstrip().startswith("#")]
    if not lines:
        raise ConfigError(f"--manifest {path}: empty; expected a header line 'input,stains[,mpp][,marker]' and one line "
                          "per input")
    header = [c.strip().lower() for c in next(csv.reader([lines[0][1]]))]
    if "input" not in header or "stains" not in header or set(header) - set(MANIFEST_COLUMNS):
        msg = (f"--manifest {path} line {lines[0][0]}: header {','.join(header)!r} must name the columns input, stains "
               "and optionally mpp and marker")
        raise ConfigError(msg)
    config = AnalysisConfig(measures=tuple(measures))
    rows: list[ManifestRow] = []
    seen: dict[str, int] = {}
    for line, cells in ((i, next(csv.reader([s]))) for i, s in lines[1:]):
        cells += [""] * (len(header) - len(cells))
        value = {h: c.strip() for h, c in zip(header, cells, strict=False)}
        name = value["input"]
        where = _where(path, line, name)
        if len(cells) > len(header):
            raise ConfigError(f"{where}: {len(cells)} fields, the header has {len(header)}")
        if not name:
            raise ConfigError(f"{where}: no input")
        file = Path(name).expanduser()
        if not file.is_absolute():
            file = base / file
            try:
                here = os.path.relpath(file)
            except ValueError:  # another drive (Windows)
                here = str(file)
            if not here.startswith(".."):  # summary.csv's input as a folder run from here names it
                file = Path(here)
        if not file.is_file():
            raise ConfigError(f"{where}: input {str(file)!r} does not exist or is not a file")
        key = os.path.realpath(file)
        if key in seen:
            raise ConfigError(f"{where}: the same input as line {seen[key]}")
        seen[key] = line
        stains = value["stains"] or "auto"
        if stains.lower() != "auto":
            if stains.lower().endswith(".json") and not Path(stains).is_absolute():
                stains = str(base / stains)
            try:  # (a poorly conditioned preset is said under its row, when it runs: not here too)
                named = config.replace(stains=stains)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", StainConditioningWarning)
                    applicable_measures(named, named.stain_matrix())
            except (ConfigError, ValueError) as exc:
                text_ = " ".join(str(exc).split()).replace("config key 'stains': ", "")
                raise ConfigError(f"{where}: stains {value['stains']!r}: {text_}") from exc
        mpp: float | None = None
        if value.get("mpp"):
            try:
                mpp = float(value["mpp"])
            except ValueError:
                mpp = math.nan
            if not (math.isfinite(mpp) and MPP_RANGE_UM[0] <= mpp <= MPP_RANGE_UM[1]):
                msg = (f"{where}: mpp must be a plausible pixel size, {MPP_RANGE_UM[0]:g} to {MPP_RANGE_UM[1]:g} µm "
                       f"per pixel, got {value['mpp']!r}")
                raise ConfigError(msg)
        rows.append(ManifestRow(file, stains, mpp, line, _marker(value.get("marker", ""), stains, where, config)))
    if not rows:
        raise ConfigError(f"--manifest {path}: a header but no input line")
    return rows


def marker_setting(word: str, what: str) -> str:
    """The ``melanocyte_marker`` setting a word names (:data:`MARKER_WORDS`); ``what`` (the flag or the manifest line)
    names the error of an unknown word."""
    marker = MARKER_WORDS.get(word.strip().lower())
    if marker is None:
        msg = f"{what} must be auto, cytoplasmic (MART-1, Melan-A), nuclear (SOX10) or none, got {word!r}"
        raise ConfigError(msg)
    return marker


def _marker(word: str, stains: str, where: str, config: Any) -> str | None:
    """A manifest line's ``marker`` as a ``melanocyte_marker`` setting (None: empty); refused when unknown, or named
    (cytoplasmic / nuclear) for named stains without a red marker beside DAB."""
    if not word:
        return None
    marker = marker_setting(word, f"{where}: marker")
    check_marker_stains(marker, stains, config, what=f"{where}: marker {word!r}", stains_what="stains")
    return marker


def check_marker_stains(marker: str, stains: str, config: Any, *, what: str, stains_what: str) -> None:
    """Refuse a named melanocyte ``marker`` (cytoplasmic / nuclear) for named ``stains`` without a red marker beside
    DAB (a single stain); ``auto`` stains and the markers auto / none pass (``auto`` finds the stains per input).

    ``what`` names the marker in the error (``--melanocyte-marker 'nuclear'``, a manifest line's marker) and
    ``stains_what`` where the stains were named (``--stains``, ``stains``).
    """
    if marker not in ("cytoplasmic", "nuclear") or stains.strip().lower() == "auto":
        return
    from .quantify._ki67_stains import marker_channel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StainConditioningWarning)
        matrix = config.replace(stains=stains).stain_matrix()
    if marker_channel(matrix) is None:
        msg = (f"{what} needs a double stain (DAB with a red marker: H-DAB-FastRed, H-DAB-AEC), got {stains_what} "
               f"{stains!r}")
        raise ConfigError(msg)


def input_options(options: Any, path: Path) -> Any:
    """The :class:`~mmnst_path.batch.BatchOptions` of one input: the batch's, with the stains and µm/px its manifest
    row gives (``options.input_stains`` / ``options.input_mpp`` / ``options.input_marker``, keyed by the input's
    path)."""
    stains = options.input_stains.get(str(path))
    mpp = options.input_mpp.get(str(path))
    marker = getattr(options, "input_marker", {}).get(str(path))
    if stains is None and mpp is None and marker is None:
        return options
    changes: dict[str, Any] = {}
    config = options.config
    if stains is not None and stains != config.stains:
        config = config.replace(stains=stains)
    if marker is not None and marker != config.ki67.melanocyte_marker:
        config = config.replace(ki67={**config.ki67.to_mapping(), "melanocyte_marker": marker})
    if config is not options.config:
        changes["config"] = config
    if mpp is not None:
        changes["mpp"] = mpp
    return dataclasses.replace(options, **changes) if changes else options


def named_stored(result_json: Path, path: Path, options: Any, roi_digest: str | None,
                 stored: Any) -> tuple[dict[str, Any], str] | None:
    """An ``auto`` run's ``--resume`` keeps a stored result whose stains were *named* (chosen by the user) when all
    else of the request is the same: (its summary row, the stains named), else None. ``stored`` is the
    up-to-date check (:func:`mmnst_path._batch_inputs._stored` with the result's own request hash)."""
    from ._batch_inputs import request_hash

    if not options.resume or str(options.config.stains).strip().lower() != "auto":
        return None
    try:
        doc = json.loads(result_json.read_text(encoding="utf-8"))
        named = str(doc["config"]["stains"])
        was_chosen = doc["summary_row"]["stains_source"] == "chosen"
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not was_chosen or named.strip().lower() == "auto":
        return None
    try:
        config = options.config.replace(stains=named)
    except (ConfigError, ValueError):
        return None
    for mpp in {options.mpp, None}:  # the file may give its own µm/px (then --mpp is not in the hash)
        req = request_hash(config, mpp=mpp, roi_digest=roi_digest, mpp_override=options.mpp_override)
        hit = stored(req)
        if hit is not None:
            return dict(hit[0]), named
    return None


def _result_rows(out_dir: Path) -> list[tuple[str, dict[str, Any], str]]:
    """(folder name, stored summary row, source real path) of every complete ok result folder in ``out_dir``."""
    out = []
    for result_json in sorted(Path(out_dir).glob("*/result.json")):
        if result_json.parent.name.startswith("."):
            continue
        try:
            doc = json.loads(result_json.read_text(encoding="utf-8"))
            row = dict(doc["summary_row"])
            if doc.get("status") == "ok" and row.get("status") == "ok" and isinstance(row.get("input"), str):
                out.append((result_json.parent.name, row, str((doc.get("source") or {}).get("path") or "")))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


def earlier_results(out_dir: Path, inputs: Sequence[str | os.PathLike[str]],
                    folders: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """(folder name, stored summary row) of the ok results in ``out_dir`` whose input is not among ``inputs`` and
    whose folder is not one of this run's ``folders``: a ``--resume`` run keeps them in the summary, after its own."""
    now = {str(p) for p in inputs} | {os.path.realpath(p) for p in inputs}
    taken = set(folders)
    return [(name, row) for name, row, real in _result_rows(out_dir)
            if name not in taken and row["input"] not in now and real not in now]


def adopt_result_folders(out_dir: str | os.PathLike[str]) -> int:
    """Add to ``out_dir/summary.json`` a row for every ok result folder it does not list (a folder a run with other
    inputs left there); ``mmnst-path report`` then lists every result of the folder. Returns how many were added."""
    from .batch import _locked
    from .report import write_summary_json

    out_dir = Path(out_dir)
    try:
        summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
        rows = summary["rows"]
        if not isinstance(rows, list):
            return 0
    except (OSError, ValueError, KeyError, TypeError):
        return 0  # the report says what is wrong with the summary
    listed = {str(r.get("input")) for r in rows if isinstance(r, dict)}
    listed |= {os.path.realpath(s) for s in listed}
    with _locked(out_dir):
        new = [row for _name, row, real in _result_rows(out_dir) if row["input"] not in listed and real not in listed]
        if new:
            header = {k: v for k, v in summary.items() if k not in _SUMMARY_KEYS}
            write_summary_json([*rows, *new], out_dir / "summary.json", extra=header)
    return len(new)


def ki67_stain_warning(row: dict[str, Any], config: Any, *, detection: Mapping[str, Any] | None = None) -> str | None:
    """The warning of a batch input whose stains were detected without a Ki67 chromogen (read as H&E) by an unsure
    call in a batch that measures Ki67 by default (:func:`mmnst_path.pipeline._stain_sources.unsure_he_warning`, which
    the run itself issues since session 44: the batch finds it among the run's warnings and lists it first), read
    from the input's summary ``row``, the batch's ``config`` and the run's ``detection`` record. A sure H&E call keeps
    the plain note "Ki67 not measured ...: no chromogen" (no warning on every H&E slide of an H&E lab)."""
    from .pipeline._stain_sources import unsure_he_warning

    if str(config.stains).strip().lower() != "auto" or row.get("status") != "ok":
        return None
    return unsure_he_warning(str(row.get("stains")), row.get("stain_names") or (), detection,
                             measures_named=bool(config.measures))
