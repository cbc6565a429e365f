"""Batch runner: many inputs, one output folder, per-input errors, resumable.

:func:`run_batch` analyses each input with :func:`mmnst_path.pipeline.analyze_slide` and writes
``DIR/<name>/`` (see :func:`mmnst_path.report.write_result`), then ``DIR/summary.csv``,
``DIR/summary.json`` (rewritten atomically after every input, so a killed run leaves a
consistent summary of what was done) and, at the end, ``DIR/report.html``. A run stopped by Ctrl-C
(``KeyboardInterrupt``) after one input or more writes all three at once, the inputs it did not reach
as ``status="not analysed"`` rows, then re-raises; a second Ctrl-C meanwhile (or one while the final
summaries are written, after which the complete run ends as usual) waits until all three are written, so
they never disagree.

Reliability rules
    * An input that fails (unreadable, damaged, unsupported, no mpp, a result that cannot be
      written...) becomes a row with ``status=error`` and a one-line reason; the batch goes on.
      Only ``KeyboardInterrupt`` stops it. Its earlier result folder, if any, is removed, so a
      stale "ok" ``result.json`` never sits beside a new error row.
    * Result folders (:func:`output_folders`) are the file stem made safe (no path separator,
      no leading dot, never ``.``/``..``, never a name of the batch's own files); stems that
      clash (case-insensitively) get ``-`` and 8 hex digits of a hash of the input's path, so
      two inputs never share a folder and the name does not depend on input order.
    * A result is written into a hidden staging folder and renamed into place when complete:
      a killed or failing input never leaves a partial folder. Leftovers of a killed run
      (temporary files, staging folders) are removed at the next start.
    * ``resume=True`` skips an input only when its ``result.json`` records the same resolved
      source path, size, mtime and SHA-256 of the content, and the same request hash (resolved
      config, ``--mpp``, ROI file content, schema and software version); its stored summary row
      is reused verbatim, so a killed-then-resumed batch gives the same summary as an
      uninterrupted one (a row written before ``ki67_hotspot_meets_min_nuclei`` existed gets it
      from its own hot-spot numbers and the stored config, without a re-run). Failed inputs are
      always retried. The content hash is computed once per analysed input and re-read on resume
      only when the file's identity (inode, ctime) changed. A run with ``stains="auto"`` also keeps a
      stored result whose stains were named and whose request is otherwise the same (said once, as a
      warning): ``auto`` never replaces a stain the user chose. ``resume`` keeps the folder's other ok
      results listed after the run's own inputs (:func:`mmnst_path._batch_stains.earlier_results`). A skipped
      input's folder loses the per-nucleus tables its request leaves out (``outputs``, ``--cell-files``: an
      earlier run asked for more), so it holds what a fresh run writes; a table it asks for that is missing
      makes the input run again. Its other files (and the other inputs' kept folders) stay as they are.
    * Each input may carry its own stains and µm/px (``input_stains`` / ``input_mpp``, e.g. from a
      ``--manifest``); its request hash holds them.
    * One run at a time per output folder: a second concurrent run is refused
      (:class:`~mmnst_path.errors.OutputLockedError`) through a lock file ``DIR/.mmnst-path.lock``.
    * Without ``resume`` or ``overwrite`` an output folder that already holds a batch summary is
      refused (:class:`~mmnst_path.errors.ConfigError`), so an overnight run is never clobbered
      by accident.
    * ``mpp`` applies to inputs whose file gives none; an input with its own mpp keeps it (with
      a warning when they differ) unless ``mpp_override=True``. ``result.json`` records where
      the mpp came from (``"mpp_source"``).
    * Warnings raised while analysing an input are recorded (``"warnings"`` in its row and in
      ``result.json``) instead of being printed.
    * Nothing accumulates across inputs but the summary rows (memory stays bounded).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ._batch_inputs import (
    LOCK_NAME,
    RESERVED_NAMES,
    _match,
    _sha256_file,
    _stored,
    check_input,
    compare_rows,
    output_folders,
    request_hash,
    source_fingerprint,
)
from ._batch_mpp import input_mpp, input_request, mpp_needed, mpp_use_line
from ._batch_rows import _with_hotspot_flag, _write_html
from ._batch_stains import earlier_results, input_options, ki67_stain_warning, named_stored
from .errors import ConfigError, OutputError, OutputLockedError
from .review import REVIEW_NAME, apply_reviews, carry_review

__all__ = [
    "LOCK_NAME",
    "NOT_ANALYSED",
    "NOT_ANALYSED_REASON",
    "RESERVED_NAMES",
    "BatchOptions",
    "BatchOutcome",
    "BatchProgress",
    "check_input",
    "interrupted_row",
    "output_folders",
    "request_hash",
    "run_batch",
    "source_fingerprint",
]

#: Per-input files written by default (keys of mmnst_path.report.RESULT_FILES); "nuclei" is the
#: page of full-resolution pictures with every nucleus ringed in its class colour (Ki67 only).
DEFAULT_OUTPUTS = ("cells", "cells_gz", "parquet", "geojson", "overlay", "tissue", "nuclei")
#: The per-nucleus tables (``--cell-files``): an up-to-date result kept by ``resume`` loses those its request leaves out.
CELL_TABLES = ("cells", "cells_gz", "parquet", "geojson")

#: ``status`` of the summary rows an interrupted run writes for the inputs it did not reach, and their reason.
NOT_ANALYSED = "not analysed"
NOT_ANALYSED_REASON = "not analysed (interrupted): run the same command with --resume to analyse it"

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
        Level-0 µm per pixel for inputs whose file does not give it.
    mpp_override : bool
        Use ``mpp`` for every input, also those whose file gives another value.
    workers : int, optional
        Worker processes per input (default: all cores).
    scheduler : str, optional
        Dask scheduler address (``tcp://host:port``) instead of the local pool.
    roi_file : Path, optional
        GeoJSON of regions of interest (level-0 pixels) applied to every input.
    resume, overwrite : bool
        See the module docstring.
    compare : (str, str), optional
        Two inputs (path, file name or output folder name) whose Ki67 indices are compared.
    outputs : tuple of str
        Per-input files besides result.json.
    geojson_regions : bool
        Tissue-class, melanin and hot-spot annotations in cells.geojson (:mod:`mmnst_path._geojson_regions`).
    input_stains, input_mpp : mapping of str to str / float
        Stains and level-0 µm/px of single inputs (keyed by the input's path as given in ``files``), e.g. from a
        ``--manifest``: they replace ``config.stains`` and ``mpp`` for that input (its request hash follows).
    input_marker : mapping of str to str
        The melanocyte marker of single inputs (``auto``, ``cytoplasmic`` for MART-1 / Melan-A, ``nuclear`` for
        SOX10; a manifest's ``marker`` column): it replaces ``[ki67] melanocyte_marker`` for that input.
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
    mpp_override: bool = False
    input_stains: Mapping[str, str] = field(default_factory=dict)
    input_mpp: Mapping[str, float] = field(default_factory=dict)
    geojson_regions: bool = True
    input_marker: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchOutcome:
    """Rows of the summary (inputs in order), the failed ones, the comparison and the files written."""

    rows: tuple[dict[str, Any], ...]
    failures: tuple[dict[str, Any], ...]
    comparison: dict[str, Any] | None
    files: dict[str, Path] = field(default_factory=dict)
    skipped: int = 0


def _clean_temporaries(out_dir: Path) -> None:
    """Remove what a killed run left behind: temporary files (``.name.XXXX.tmp``) and hidden
    staging or superseded result folders (``.name.partial``, ``.name.old-PID``)."""
    for pattern in (".*.tmp", "*/.*.tmp"):
        for tmp in out_dir.glob(pattern):
            with contextlib.suppress(OSError):
                tmp.unlink()
    for pattern in (".*.partial", ".*.old-*"):
        for folder in out_dir.glob(pattern):
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir/.mmnst-path.lock`` (an advisory ``flock``) for the whole run; the file is removed at the end
    (no dead pid left in the folder). A run that locked a file another run removed meanwhile (the path no longer
    names the file it holds) opens the path again, so two runs never hold two files."""
    lock = out_dir / LOCK_NAME
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        fcntl = None  # type: ignore[assignment]
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            msg = f"output folder {str(out_dir)!r} is not writable ({exc.strerror or exc})"
            raise ConfigError(msg) from exc
        if fcntl is None:
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown process"
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            msg = (f"output folder {str(out_dir)!r} is in use by another mmnst-path run ({holder}); "
                   "wait for it to finish or choose another --out")
            raise OutputLockedError(msg) from exc
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the run before removed it as this one locked it: lock the new one
    try:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0)
        except OSError as exc:
            msg = f"output folder {str(out_dir)!r} is not writable ({exc.strerror or exc})"
            raise ConfigError(msg) from exc
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()  # while still held: a run waiting on this file finds it gone and opens a new one
        os.close(fd)


def _rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        with contextlib.suppress(OSError):
            path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _discard(folder: Path, *, keep_review: bool = False) -> None:
    """Remove an input's earlier result folder (its result no longer holds); ``keep_review``: but not a review in it."""
    if not (folder.is_dir() and not folder.is_symlink()):
        return
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    try:
        os.replace(folder, old)
    except OSError:  # cannot move it: at least the stale result.json must go
        with contextlib.suppress(OSError):
            (folder / "result.json").unlink()
        return
    if keep_review:
        carry_review(old, folder)
    _rmtree(old)


def _install(staging: Path, folder: Path) -> None:
    """Put the complete result folder ``staging`` at ``folder``, replacing an earlier one."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        msg = f"{folder} exists and is not a result folder; move it away"
        raise FileExistsError(errno.EEXIST, msg)
    _discard(folder)
    os.replace(staging, folder)


def _one_line_reason(exc: BaseException) -> str:
    """``Type: message`` of an input's failure on one line (worker tracebacks cut off)."""
    text = str(exc).split("\n--- worker traceback ---", 1)[0]
    return " ".join(f"{type(exc).__name__}: {text}".split())


def _under(path: Path, folder_real: str) -> bool:
    real = os.path.realpath(path)
    return real == folder_real or real.startswith(folder_real.rstrip(os.sep) + os.sep)


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
        Bad options found before any input runs (ROI file, ``compare`` names, an output folder
        that cannot be created or written, an earlier run in it without ``resume``/``overwrite``).
    OutputLockedError
        Another run is writing to the output folder.
    OutputError
        The summary or the report could not be written (after every input was attempted).
    """
    from .geojson import read_rois

    out_dir = Path(options.out_dir)
    files = list(files)
    names = output_folders(files)
    compare_idx = None
    if options.compare is not None:
        compare_idx = (_match(options.compare[0], files, names), _match(options.compare[1], files, names))
    rois: tuple[Any, ...] = ()
    roi_digest: str | None = None
    if options.roi_file is not None:
        from .tiling import as_polygons

        rois = tuple(read_rois(options.roi_file))
        try:
            as_polygons([r.region for r in rois])
        except ConfigError as exc:
            msg = f"--roi {options.roi_file}: {exc}"
            raise ConfigError(msg) from exc
        roi_digest = _sha256_file(Path(options.roi_file))
    if not options.geojson_regions:  # a result written with the regions in cells.geojson is not this request's
        roi_digest = f"{roi_digest or ''}:no-geojson-regions"  # (the default's hash stays as it was)
    if out_dir.exists() and not out_dir.is_dir():
        msg = f"output folder {str(out_dir)!r} is a file, not a folder"
        raise ConfigError(msg)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the output folder {str(out_dir)!r} ({exc.strerror or exc})"
        raise ConfigError(msg) from exc
    with _locked(out_dir):
        if (out_dir / "summary.json").exists() and not (options.resume or options.overwrite):
            msg = (f"output folder {str(out_dir)!r} holds the results of an earlier run (summary.json); pass "
                   "--resume to skip the inputs already done or --overwrite to redo them")
            raise ConfigError(msg)
        _clean_temporaries(out_dir)
        kept = earlier_results(out_dir, files, names) if options.resume else []
        client = _connect(options.scheduler) if isinstance(options.scheduler, str) else None
        try:
            outcome = _run(files, names, options, missing, progress, out_dir, compare_idx, rois, roi_digest,
                           client if client is not None else options.scheduler, kept)
        finally:
            if client is not None:
                client.close()
    if kept:
        shown = ", ".join(Path(str(r["input"])).name for _, r in kept[:3]) + (f" and {len(kept) - 3} more" if len(kept) > 3 else "")
        warnings.warn(f"{out_dir / 'summary.json'}: {len(kept)} earlier result(s) in this folder ({shown}) are not "
                      "among this run's inputs: kept as they are and listed after this run's inputs in summary.csv / "
                      "report.html (remove a result's folder and run `mmnst-path report` to drop it)", stacklevel=2)
    return outcome


def _connect(address: str) -> Any:
    """One Dask client for the whole batch (not one connection per input)."""
    from distributed import Client

    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError) as exc:
        msg = f"--scheduler: cannot connect to the Dask scheduler at {address!r}: {exc}"
        raise ConfigError(msg) from exc


def _analyse_one(path: Path, folder: Path, options: BatchOptions, req: str, rois: tuple[Any, ...],
                 scheduler: Any, progress: BatchProgress | None, t0: float, *, mpp_needed: bool = True) -> dict[str, Any]:
    """Analyse one input and install its result folder; return its summary row (errors raise)."""
    from .pipeline import analyze_slide
    from .report import summary_row, write_result

    polygons = [r.region for r in rois] or None  # holes kept: even-odd rings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fingerprint = source_fingerprint(path)
        mpp, mpp_source = input_mpp(path, options, needed=mpp_needed)
        result = analyze_slide(path, options.config, mpp=mpp, workers=options.workers, scheduler=scheduler,
                               roi=polygons, progress=progress.tiles if progress is not None else None)
    messages = list(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))
    row = summary_row(result, seconds=time.perf_counter() - t0)
    row["input"] = str(path)
    row["warnings"] = messages
    row["mpp_source"] = mpp_source  # shown by report.html beside the pixel size (the option that gave it)
    # (stains_source: the run's, from summary_row; a close call is said by report.html)
    # a Ki67 batch input read without a chromogen on an unsure call: not a plain ok, its warning (the run's) first
    no_ki67 = ki67_stain_warning(row, options.config, detection=result.stains.get("detection"))
    if no_ki67 is not None:
        row["warnings"] = messages = [no_ki67, *(m for m in messages if m != no_ki67)]
    staging = folder.with_name(f".{folder.name}.partial")
    _rmtree(staging)
    try:
        write_result(result, staging, rois=rois, outputs=options.outputs, geojson_regions=options.geojson_regions,
                     extra={"source": fingerprint, "request_hash": req, "mpp_source": mpp_source,
                            "warnings": messages, "summary_row": row})
        if carry_review(folder, staging):  # a review is never deleted by a re-run; it refers to the earlier result
            warnings.warn(f"{folder / REVIEW_NAME} refers to the earlier result of {path}: kept, and marked in the "
                          "summary as made on an earlier result; review the new result again", stacklevel=2)
        _install(staging, folder)
    except Exception as exc:
        _rmtree(staging)
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"{type(exc).__name__}: {exc}"
        msg = f"cannot write the results to {folder}: {why}"
        raise OutputError(msg) from exc
    return row


def _run(files: list[Path], names: list[str], options: BatchOptions, missing: Sequence[tuple[str, str]],
         progress: BatchProgress | None, out_dir: Path, compare_idx: tuple[int, int] | None,
         rois: tuple[Any, ...], roi_digest: str | None, scheduler: Any,
         kept: Sequence[tuple[str, dict[str, Any]]] = ()) -> BatchOutcome:
    from ._atomic import interrupt_held
    from .report import RESULT_FILES, error_row, write_summary_csv, write_summary_json

    req = request_hash(options.config, mpp=options.mpp, roi_digest=roi_digest, mpp_override=options.mpp_override)
    # files every complete result holds (nuclei.html only exists for Ki67 results with nuclei)
    expected = [*(RESULT_FILES[k] for k in options.outputs if k != "nuclei"), "result.json"]
    header = {"request_hash": req, "config": options.config.recorded_mapping(), "mpp_override": options.mpp,
              "mpp_override_all": options.mpp_override,
              "roi_file": str(options.roi_file) if options.roi_file else None}
    out_real = os.path.realpath(out_dir)
    stems = dict(zip(map(str, files), names, strict=True))
    stems.update((str(row["input"]), name) for name, row in kept)  # earlier results a --resume run keeps listed
    kept_rows = [row for _, row in kept]

    rows: list[dict[str, Any]] = [error_row(name, reason) for name, reason in missing]
    done_rows: dict[int, dict[str, Any]] = {}
    skipped = 0
    kept_named: list[str] = []
    summary_error: OSError | None = None
    found = mpp_needed(files, options)  # the files' own pixel sizes, when --mpp concerns them
    needed = any(v is None for v in found.values())
    if progress is not None:
        progress.batch_started(len(files))

    def write_summaries() -> list[dict[str, Any]]:
        current, _ = apply_reviews(rows + [done_rows[i] for i in sorted(done_rows)] + kept_rows, out_dir, stems)
        write_summary_csv(current, out_dir / "summary.csv")
        write_summary_json(current, out_dir / "summary.json", extra=header)
        return current

    try:
        for i, (path, name) in enumerate(zip(files, names, strict=True)):
            t0 = time.perf_counter()
            if progress is not None:
                progress.input_started(i, path)
            folder = out_dir / name
            reason = check_input(path)
            if reason is None and _under(path, out_real):
                reason = f"{path}: is inside the output folder {str(out_dir)!r}; results are never taken as inputs"
            row: dict[str, Any] | None = None
            was_skipped = False
            req_i = req
            opts = input_options(options, path)  # its stains / µm/px from a manifest, else the batch's
            if reason is not None:
                row = error_row(str(path), reason)
            else:
                req_o = req if opts is options else request_hash(opts.config, mpp=opts.mpp, roi_digest=roi_digest,
                                                                 mpp_override=opts.mpp_override)
                req_i = input_request(path, opts, req_o, roi_digest)

                def up_to_date(r: str, f: Path = folder, p: Path = path) -> Any:
                    return _stored(f / "result.json", p, r, [f / n for n in expected])

                stored = up_to_date(req_i) if options.resume else None
                named = named_stored(folder / "result.json", path, opts, roi_digest, up_to_date) if stored is None else None
                if named is not None:  # an auto run never replaces a result whose stains were named (said once, below)
                    stored = (named[0], {})
                    kept_named.append(f"{path.name} ({named[1]})")
                if stored is not None and not _drop_unasked(folder, options.outputs):
                    stored = None  # a table the request left out could not be removed: analysed anew
                if stored is not None:
                    row = _with_hotspot_flag(stored[0], folder / "result.json")
                    row["input"] = str(path)
                    was_skipped = True
                    skipped += 1
            if row is None:
                try:
                    row = _analyse_one(path, folder, opts, req_i, rois, scheduler, progress, t0,
                                      mpp_needed=needed)
                except Exception as exc:  # a bug on one input must not kill the batch; keep the type
                    row = error_row(str(path), _one_line_reason(exc))
            if row.get("status") != "ok":
                _discard(folder, keep_review=True)
            done_rows[i] = row
            try:
                write_summaries()
            except OSError as exc:  # e.g. a full disk: the other inputs are still attempted
                summary_error = exc
            if progress is not None:
                progress.input_finished(i, path, row, skipped=was_skipped, seconds=time.perf_counter() - t0)
    except KeyboardInterrupt:  # Ctrl-C: the folder says what is there and what is not, then the run stops
        if done_rows:
            _write_interrupted(out_dir, rows, done_rows, files, names, header, kept)
        raise

    all_rows = rows + [done_rows[i] for i in sorted(done_rows)]
    comparison = None
    if compare_idx is not None:
        comparison = compare_rows(done_rows[compare_idx[0]], done_rows[compare_idx[1]])
        header["comparison"] = comparison
    paths = {"summary_csv": out_dir / "summary.csv", "summary_json": out_dir / "summary.json"}
    summary_error = None  # only the final summary counts
    # the three files agree: a Ctrl-C now waits until they are written, and the run, complete, ends as usual
    with interrupt_held():
        try:
            paths["report_html"] = _write_html(out_dir, write_summaries(), stems, comparison)
        except OSError as exc:
            summary_error = exc
    if summary_error is not None:
        msg = f"cannot write the batch summary to {out_dir}: {summary_error.strerror or summary_error}"
        raise OutputError(msg) from summary_error
    line = mpp_use_line(options, found)
    if line is not None:
        warnings.warn(line, stacklevel=3)
    if kept_named:
        shown = ", ".join(kept_named[:3]) + (f" and {len(kept_named) - 3} more" if len(kept_named) > 3 else "")
        warnings.warn(f"kept {len(kept_named)} earlier result(s) whose stains were named: {shown}; --resume with "
                      "stains 'auto' never replaces named stains (--overwrite, or naming other stains, redoes them)",
                      stacklevel=3)
    failures = tuple(r for r in all_rows if r.get("status") != "ok")
    return BatchOutcome(tuple(all_rows), failures, comparison, paths, skipped)


def _drop_unasked(folder: Path, outputs: Sequence[str]) -> bool:
    """Remove from a kept result ``folder`` the per-nucleus tables (:data:`CELL_TABLES`) that ``outputs`` does not
    ask for, so a resumed folder holds what a fresh run of the request writes (an earlier run with a wider
    ``--cell-files`` left them); False when one could not be removed."""
    from .report import RESULT_FILES

    for key in CELL_TABLES:
        if key not in outputs:
            try:
                (folder / RESULT_FILES[key]).unlink(missing_ok=True)
            except OSError:
                return False
    return True


def _write_interrupted(out_dir: Path, rows: list[dict[str, Any]], done_rows: dict[int, dict[str, Any]],
                       files: Sequence[Path], names: Sequence[str], header: dict[str, Any],
                       kept: Sequence[tuple[str, dict[str, Any]]] = ()) -> None:
    """After Ctrl-C: summary.csv, summary.json and report.html (each written atomically) hold the finished
    inputs and, in input order, a row ``status="not analysed"`` for each input not reached, so the folder
    reads as what it is; ``--resume`` then analyses those (they have no result folder) and rewrites all three."""
    from ._atomic import interrupt_held
    from .report import write_summary_csv, write_summary_json

    current = list(rows)
    for i, path in enumerate(files):
        current.append(done_rows[i] if i in done_rows else interrupted_row(str(path)))
    stems = {**dict(zip(map(str, files), names, strict=True)), **{str(r["input"]): n for n, r in kept}}
    current, _ = apply_reviews(current + [r for _, r in kept], out_dir, stems)
    # a second Ctrl-C waits until all three are written (it would leave summary.csv new and report.html old)
    with interrupt_held(), contextlib.suppress(OSError):  # a full disk must not hide the interruption itself
        write_summary_csv(current, out_dir / "summary.csv")
        write_summary_json(current, out_dir / "summary.json", extra={**header, "interrupted": True})
        _write_html(out_dir, current, stems, None)


def interrupted_row(input_name: str) -> dict[str, Any]:
    """A summary row for an input an interrupted run did not analyse (its measures left empty)."""
    from .report import error_row

    row = error_row(input_name, NOT_ANALYSED_REASON)
    row["status"] = NOT_ANALYSED
    return row
