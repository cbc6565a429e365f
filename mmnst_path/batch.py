"""Batch runner: many inputs, one output folder, per-input errors, resumable.

:func:`run_batch` analyses each input with :func:`mmnst_path.pipeline.analyze_slide` and writes
``DIR/<stem>/`` (see :func:`mmnst_path.report.write_result`), then ``DIR/summary.csv``,
``DIR/summary.json`` (rewritten atomically after every input, so an interrupted run leaves a
consistent summary of what was done) and, at the end, ``DIR/report.html``.

Reliability rules
    * An input that fails (unreadable, damaged, unsupported, no mpp...) becomes a row with
      ``status=error`` and the reason; the batch goes on. Only ``KeyboardInterrupt`` stops it.
    * Every file is written atomically (temporary file + rename); ``result.json`` is written
      last, so it marks a complete input. Temporary files left by a killed run are removed at
      the next start.
    * ``resume=True`` skips an input only when its ``result.json`` records the same file size
      and modification time (ns) and the same request hash (resolved config, ``--mpp`` override,
      ROI file content, schema and software version); its stored summary row is reused
      verbatim, so a killed-then-resumed batch gives the same summary as an uninterrupted one.
      Failed inputs are always retried.
    * Without ``resume`` or ``overwrite`` an output folder that already holds a batch summary is
      refused (:class:`~mmnst_path.errors.ConfigError`), so an overnight run is never clobbered
      by accident.
    * Nothing accumulates across inputs but the summary rows (memory stays bounded).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .errors import ConfigError

__all__ = [
    "BatchOptions",
    "BatchOutcome",
    "BatchProgress",
    "check_input",
    "request_hash",
    "run_batch",
    "source_fingerprint",
]

#: Per-input files written by default (keys of mmnst_path.report.RESULT_FILES).
DEFAULT_OUTPUTS = ("cells", "cells_gz", "geojson", "overlay", "tissue")


class BatchProgress(Protocol):
    """What :func:`run_batch` reports while it runs (all methods are called in this process)."""

    def batch_started(self, total: int) -> None: ...

    def input_started(self, index: int, path: Path) -> None: ...

    def tiles(self, done: int, total: int) -> None: ...

    def input_finished(self, index: int, path: Path, row: dict[str, Any], *, skipped: bool, seconds: float) -> None: ...


@dataclass(frozen=True)
class BatchOptions:
    """Everything a batch run needs besides its inputs.

    Attributes
    ----------
    out_dir : Path
        Output folder (created).
    config : AnalysisConfig
        Analysis parameters (``stains="auto"`` resolves per input).
    mpp : float, optional
        Level-0 µm per pixel overriding every file's metadata.
    workers : int, optional
        Worker processes per input (default: all cores).
    scheduler : str, optional
        Dask scheduler address (``tcp://host:port``) instead of the local pool.
    roi_file : Path, optional
        GeoJSON of regions of interest (level-0 pixels) applied to every input.
    resume, overwrite : bool
        See the module docstring.
    compare : (str, str), optional
        Two inputs (path, file name or output stem) whose Ki67 indices are compared.
    outputs : tuple of str
        Per-input files besides result.json.
    """

    out_dir: Path
    config: Any
    mpp: float | None = None
    workers: int | None = None
    scheduler: str | None = None
    roi_file: Path | None = None
    resume: bool = False
    overwrite: bool = False
    compare: tuple[str, str] | None = None
    outputs: tuple[str, ...] = DEFAULT_OUTPUTS


@dataclass(frozen=True)
class BatchOutcome:
    """Rows of the summary (inputs in order), the failed ones, the comparison and the files written."""

    rows: tuple[dict[str, Any], ...]
    failures: tuple[dict[str, Any], ...]
    comparison: dict[str, Any] | None
    files: dict[str, Path] = field(default_factory=dict)
    skipped: int = 0


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def request_hash(config: Any, *, mpp: float | None, roi_digest: str | None) -> str:
    """SHA-256 of everything that decides an input's result besides the file itself."""
    from . import __version__
    from .report import SCHEMA_VERSION

    doc = {"config": config.to_mapping(), "mpp": mpp, "roi": roi_digest, "schema": SCHEMA_VERSION,
           "version": __version__}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def source_fingerprint(path: Path) -> dict[str, Any]:
    """``{"path", "size", "mtime_ns"}`` of an input file (symlinks followed)."""
    st = os.stat(path)
    return {"path": os.path.abspath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def check_input(path: Path) -> str | None:
    """A clear reason why ``path`` cannot be read at all, or ``None`` (the readers judge the content)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path}: symbolic link loop (the link resolves back to itself)"
        if os.path.islink(path):
            return f"{path}: broken symbolic link (its target {os.readlink(path)!r} does not exist)"
        return f"{path}: cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(st.st_mode):
        return f"{path}: is a folder, not a slide or image file"
    if not stat.S_ISREG(st.st_mode):
        return f"{path}: not a regular file (a device, pipe or socket)"
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except PermissionError:
        return f"{path}: permission denied (the file is not readable by this user)"
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or exc})"
    return None


def _stored(result_json: Path, fingerprint: dict[str, Any], req: str, files: Sequence[Path]) -> dict[str, Any] | None:
    """The stored summary row when the stored result is up to date, else None."""
    try:
        doc = json.loads(result_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    src = doc.get("source") or {}
    if doc.get("request_hash") != req or doc.get("status") != "ok":
        return None
    if src.get("size") != fingerprint["size"] or src.get("mtime_ns") != fingerprint["mtime_ns"]:
        return None
    if not all(f.is_file() for f in files):
        return None
    row = doc.get("summary_row")
    return dict(row) if isinstance(row, dict) else None


def _clean_temporaries(out_dir: Path) -> None:
    """Remove temporary files (``.name.XXXX.tmp``) a killed run left behind."""
    for pattern in (".*.tmp", "*/.*.tmp"):
        for tmp in out_dir.glob(pattern):
            try:
                tmp.unlink()
            except OSError:
                continue


def _match(token: str, files: Sequence[Path], stems: Sequence[str]) -> int:
    hits = [i for i, (f, s) in enumerate(zip(files, stems, strict=True))
            if token in (str(f), f.name, s) or os.path.abspath(token) == os.path.abspath(f)]
    if len(hits) != 1:
        what = "matches no input" if not hits else f"matches {len(hits)} inputs"
        msg = f"--compare {token!r} {what}; give an input path, file name or output folder name ({', '.join(stems)})"
        raise ConfigError(msg)
    return hits[0]


def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Ki67 index of ``b`` minus ``a`` (percentage points) with its 95 % CI and p-value."""
    from .quantify import compare_proportions

    def counts(r: dict[str, Any]) -> tuple[int, int]:
        pos, den = r.get("ki67_positive"), r.get("ki67_denominator")
        return (int(pos), int(den)) if r.get("status") == "ok" and pos is not None and den is not None else (0, 0)

    (pa, na), (pb, nb) = counts(a), counts(b)
    c = compare_proportions(pa, na, pb, nb)
    return {
        "a": a.get("input"), "b": b.get("input"),
        "a_index_pct": 100 * c.p_a, "b_index_pct": 100 * c.p_b,
        "a_positive": pa, "a_denominator": na, "b_positive": pb, "b_denominator": nb,
        "difference_pct": 100 * c.difference, "ci_low_pct": 100 * c.ci_low, "ci_high_pct": 100 * c.ci_high,
        "p_value": c.p_value,
        "method": "difference b - a; Newcombe hybrid score 95% CI; pooled two-proportion z test",
    }  # fmt: skip


def run_batch(
    files: Sequence[Path],
    options: BatchOptions,
    *,
    missing: Sequence[tuple[str, str]] = (),
    progress: BatchProgress | None = None,
) -> BatchOutcome:
    """Analyse every file; return the summary rows (see the module docstring for the rules).

    Parameters
    ----------
    files : sequence of Path
        Inputs, in report order.
    options : BatchOptions
    missing : sequence of (input, reason)
        Inputs that matched nothing: error rows at the top of the summary.
    progress : BatchProgress, optional

    Raises
    ------
    ConfigError
        Bad options found before any input runs (ROI file, ``compare`` names, an earlier run in
        the output folder without ``resume``/``overwrite``).
    """
    from .geojson import read_rois
    from .report import output_stems

    out_dir = Path(options.out_dir)
    files = list(files)
    stems = output_stems(files)
    compare_idx = None
    if options.compare is not None:
        compare_idx = (_match(options.compare[0], files, stems), _match(options.compare[1], files, stems))
    rois: tuple[Any, ...] = ()
    roi_digest: str | None = None
    if options.roi_file is not None:
        rois = tuple(read_rois(options.roi_file))
        roi_digest = _sha256_file(Path(options.roi_file))
    if (out_dir / "summary.json").exists() and not (options.resume or options.overwrite):
        msg = (f"output folder {str(out_dir)!r} holds the results of an earlier run (summary.json); pass "
               "--resume to skip the inputs already done or --overwrite to redo them")
        raise ConfigError(msg)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the output folder {str(out_dir)!r}: {exc}"
        raise ConfigError(msg) from exc
    _clean_temporaries(out_dir)
    client = _connect(options.scheduler) if isinstance(options.scheduler, str) else None
    try:
        return _run(files, stems, options, missing, progress, out_dir, compare_idx, rois, roi_digest,
                    client if client is not None else options.scheduler)
    finally:
        if client is not None:
            client.close()


def _connect(address: str) -> Any:
    """One Dask client for the whole batch (not one connection per input)."""
    from distributed import Client

    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError) as exc:
        msg = f"--scheduler: cannot connect to the Dask scheduler at {address!r}: {exc}"
        raise ConfigError(msg) from exc


def _run(files: list[Path], stems: list[str], options: BatchOptions, missing: Sequence[tuple[str, str]],
         progress: BatchProgress | None, out_dir: Path, compare_idx: tuple[int, int] | None,
         rois: tuple[Any, ...], roi_digest: str | None, scheduler: Any) -> BatchOutcome:
    from .errors import MmnstPathError
    from .pipeline import analyze_slide
    from .report import (
        RESULT_FILES,
        error_row,
        summary_row,
        write_result,
        write_summary_csv,
        write_summary_json,
    )

    req = request_hash(options.config, mpp=options.mpp, roi_digest=roi_digest)
    polygons = [r.polygon for r in rois] or None
    expected = [*(RESULT_FILES[k] for k in options.outputs), "result.json"]
    header = {"request_hash": req, "config": options.config.to_mapping(), "mpp_override": options.mpp,
              "roi_file": str(options.roi_file) if options.roi_file else None}

    rows: list[dict[str, Any]] = [error_row(name, reason) for name, reason in missing]
    done_rows: dict[int, dict[str, Any]] = {}
    skipped = 0
    if progress is not None:
        progress.batch_started(len(files))

    def write_summaries() -> None:
        current = rows + [done_rows[i] for i in sorted(done_rows)]
        write_summary_csv(current, out_dir / "summary.csv")
        write_summary_json(current, out_dir / "summary.json", extra=header)

    for i, (path, stem) in enumerate(zip(files, stems, strict=True)):
        t0 = time.perf_counter()
        if progress is not None:
            progress.input_started(i, path)
        folder = out_dir / stem
        reason = check_input(path)
        row: dict[str, Any] | None = None
        was_skipped = False
        if reason is not None:
            row = error_row(str(path), reason)
        else:
            fingerprint = source_fingerprint(path)
            if options.resume:
                row = _stored(folder / "result.json", fingerprint, req, [folder / f for f in expected])
                if row is not None:
                    row["input"] = str(path)
                    was_skipped = True
                    skipped += 1
            if row is None:
                try:
                    result = analyze_slide(path, options.config, mpp=options.mpp, workers=options.workers,
                                           scheduler=scheduler, roi=polygons,
                                           progress=progress.tiles if progress is not None else None)
                    row = summary_row(result, seconds=time.perf_counter() - t0)
                    row["input"] = str(path)
                    write_result(result, folder, rois=rois, outputs=options.outputs,
                                 extra={"source": fingerprint, "request_hash": req, "summary_row": row})
                    del result  # nothing of an input is kept but its row
                except (MmnstPathError, OSError, ValueError, RuntimeError, MemoryError) as exc:
                    row = error_row(str(path), exc)
                except Exception as exc:  # a bug on one input must not kill the batch; keep the type
                    row = error_row(str(path), exc)
        done_rows[i] = row
        write_summaries()
        if progress is not None:
            progress.input_finished(i, path, row, skipped=was_skipped, seconds=time.perf_counter() - t0)

    all_rows = rows + [done_rows[i] for i in sorted(done_rows)]
    comparison = None
    if compare_idx is not None:
        comparison = compare_rows(done_rows[compare_idx[0]], done_rows[compare_idx[1]])
        header["comparison"] = comparison
    write_summaries()
    paths = {"summary_csv": out_dir / "summary.csv", "summary_json": out_dir / "summary.json"}
    paths["report_html"] = _write_html(out_dir, all_rows, dict(zip(map(str, files), stems, strict=True)), comparison)
    failures = tuple(r for r in all_rows if r.get("status") != "ok")
    return BatchOutcome(tuple(all_rows), failures, comparison, paths, skipped)


def _write_html(out_dir: Path, rows: Sequence[dict[str, Any]], stems: dict[str, str],
                comparison: dict[str, Any] | None) -> Path:
    from .html_report import render_report
    from .overlay import thumbnail_png
    from .report import atomic_write_text

    thumbs: dict[str, bytes] = {}
    links: dict[str, str] = {}
    for r in rows:
        stem = stems.get(str(r.get("input")))
        if stem is None or r.get("status") != "ok":
            continue
        png = out_dir / stem / "tissue.png"
        if png.is_file():
            thumbs[str(r["input"])] = thumbnail_png(png.read_bytes())
        links[str(r["input"])] = stem
    html = render_report(rows, thumbnails=thumbs, folders=links, comparison=comparison,
                         title=f"mmnst-path quantify: {out_dir.name}")
    return atomic_write_text(out_dir / "report.html", html)
