"""``mmnst-path quantify``: Ki67 / melanin / necrosis on slides and tiles, batch-wise.

Thin layer over :func:`mmnst_path.batch.run_batch`: expands the inputs (files, folders searched
recursively, globs), shows progress (rich bars on a terminal, plain log lines otherwise: one per input
and, while a slide runs, its tiles done every 30 s; nothing
with ``--quiet``), and prints a results table and the failure list. The batch writes
``DIR/summary.csv``, ``DIR/summary.json``, ``DIR/report.html`` and per input
``DIR/<stem>/{result.json, cells.csv, cells.csv.gz, cells.geojson, overlay.png, tissue.png,
nuclei.html}`` (``<stem>`` gets ``-`` and 8 hex digits when stems clash; see
:func:`mmnst_path.batch.output_folders`).
Exit status: 0 all inputs succeeded, 1 some failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._batch_stains import check_marker_stains, marker_setting
from ._cell_files import CELL_FILES, cell_files_arg, run_outputs
from ._inputs import (
    NAMED_ONLY_EXTENSIONS,
    SLIDE_EXTENSIONS,
    UNREAD_IMAGE_EXTENSIONS,
    expand_inputs,
    skipped_notes,
)
from ._pigment_flag import PIGMENT_MODEL_HELP, with_pigment_model

__all__ = ["NAMED_ONLY_EXTENSIONS", "SLIDE_EXTENSIONS", "UNREAD_IMAGE_EXTENSIONS", "expand_inputs", "register", "run",
           "skipped_notes"]


def register(subparsers: Any) -> None:
    """Add the ``quantify`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "quantify",
        help="measure Ki67, melanin and necrosis on slides and tiles",
        description=(
            "Quantify the Ki67 index (global and hot spot, with 95% CI), the melanin pigment "
            "fraction and the necrosis area of every INPUT (slide or tile file, folder searched "
            "recursively, or glob). Writes DIR/summary.csv, DIR/summary.json, DIR/report.html and, per "
            "input, DIR/<stem>/ with result.json, cells.csv, cells.csv.gz, cells.parquet, cells.geojson (QuPath), "
            "overlay.png, tissue.png, tissue_classes.png and tissue_classes.geojson (when a tissue model ran), melanin_map.npz (the melanin "
            "block map a review corrects) and nuclei.html "
            "(nuclei_hotspot.png, nuclei_field_N.png: full-resolution fields, nuclei ringed by class). One run at a "
            "time per DIR. Exit status: 0 all ok, 1 some inputs failed, 2 bad usage."
        ),
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="slide/tile files, folders or globs")
    p.add_argument("--manifest", metavar="FILE.csv",
                   help="CSV with a header 'input,stains[,mpp][,marker]' and one line per input: a folder of mixed "
                        "stains in one run, each input with its own stains (preset, JSON file or auto), µm/px and "
                        "melanocyte marker (as --melanocyte-marker); relative paths are read against the manifest's "
                        "folder")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--mpp", type=float, metavar="X", help="µm per pixel at level 0 of inputs whose file does not give it (the others keep their file's; one warning line, printed before the table, says which used it)")
    p.add_argument("--mpp-override", action="store_true", help="use --mpp also for inputs whose file gives another value")
    p.add_argument("--stains", metavar="PRESET|FILE", help="stain preset (H-DAB, H&E, ...), JSON file, or 'auto' (default: H&E, H-DAB, H-AEC, H-FastRed or AzureB-DAB guessed per input; a double stain is guessed only when its marker is found: name it to be sure)")
    p.add_argument("--melanocyte-marker", metavar="MARKER", help="a double stain's melanocyte marker: auto (as detected; cytoplasmic assumed, and said, for named double-stain presets), cytoplasmic (MART-1, Melan-A), nuclear (SOX10) or none; a manifest's marker column sets it per input")
    p.add_argument("--measures", metavar="LIST", help="comma list of ki67,melanin,necrosis (default: all that apply)")
    p.add_argument("--config", metavar="FILE.toml", help="analysis parameters (flags override it)")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run tiles on a Dask distributed cluster")
    p.add_argument("--tile-um", type=float, metavar="UM", help="tile core side in µm")
    p.add_argument("--analysis-mpp", type=float, metavar="X", help="analysis resolution, µm per pixel (default 0.5: the shipped models were trained at 0.5, 0.425-0.59 µm/px from their model cards; outside that range each input gets a warning)")
    p.add_argument("--cell-model", metavar="default|none|FILE.mmnst",
                   help="nucleus model deciding which nuclei the Ki67 index counts (default: the shipped model; "
                        "'none' counts every detected nucleus; a file from 'mmnst-path train cells')")
    p.add_argument("--tissue-model", metavar="default|none|FILE.mmnst", action="append",
                   help="tissue model for necrosis, tissue classes and the Ki67 tumour region (default: the shipped "
                        "model of the stains, H&E or IHC; 'none' = necrosis rules, no tissue classes); twice for a "
                        "batch of H&E and IHC slides: an H&E model file and an IHC one, each slide runs the one of "
                        "its stains ([necrosis] / [ki67] tissue_model)")
    p.add_argument("--pigment-model", metavar="default|none|FILE.mmnst", help=PIGMENT_MODEL_HELP)
    p.add_argument("--count-in", choices=("all", "tumour"),
                   help="count Ki67 nuclei in all tissue or only in the tumour region of the tissue model "
                        "(default: [ki67] count_in of --config, else all)")
    p.add_argument("--roi", metavar="FILE.geojson", help="analyse only inside these regions (QuPath GeoJSON annotations, level-0 px; a polygon's holes are left out), for every input")
    p.add_argument("--cell-files", metavar="LIST", type=cell_files_arg, default=CELL_FILES,
                   help="comma list of the per-nucleus files to write, of csv,csv.gz,parquet,geojson, or 'none' (default: all four; "
                        "napari reads a result folder's nuclei from cells.geojson)")
    p.add_argument("--no-geojson-regions", dest="geojson_regions", action="store_false", help="leave the tissue-class, melanin and hot-spot region annotations out of cells.geojson (a large, speckled class map)")
    p.add_argument("--resume", action="store_true", help="skip inputs whose stored result matches the file (path, size, mtime, content hash) and the config (with auto stains, also a result whose stains were named); earlier results of other inputs stay listed")
    p.add_argument("--overwrite", action="store_true", help="redo every input even if DIR holds an earlier run")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare the Ki67 index of two inputs (e.g. primary and recurrence) in report.html")
    p.add_argument("--quiet", action="store_true", help="print only the final table and errors")
    p.set_defaults(func=run)


#: config keys set by flags -> the flag (an error about the value names the flag)
_FLAGS = {"stains": "--stains", "measures": "--measures", "tile_um": "--tile-um", "analysis_mpp": "--analysis-mpp",
          "cell_model": "--cell-model", "tissue_model": "--tissue-model"}


def _model_flag(flag: str, spec: str, kind: str) -> str:
    """A --cell-model / --tissue-model value, checked now (a bad file is a usage error naming the flag)."""
    from ..classify import resolve_model
    from ..errors import ConfigError

    text = spec.strip()
    if text.lower() in ("default", "none"):
        return text.lower()
    try:
        resolve_model(text, kind)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{flag} {spec}: {' '.join(str(exc).split())}") from exc
    return str(Path(text).expanduser().resolve())


def _check_models(config: Any) -> None:
    """Refuse a model file of other stains, or without the class a measure reads, before any input runs
    (:func:`mmnst_path.pipeline._model_stains.check_run_models`; with ``stains = "auto"`` each slide checks it
    once its stains are found)."""
    from ..errors import ConfigError
    from ..pipeline._config import applicable_measures
    from ..pipeline._model_stains import check_run_models

    if str(config.stains).strip().lower() == "auto":
        return
    try:
        matrix = config.stain_matrix()
        measures = applicable_measures(config, matrix)
    except ConfigError:  # the measures do not fit the stains: said by the run as before
        return
    check_run_models(config, matrix, measures)


def _about_flag(key: str, exc: BaseException) -> str:
    """The library's message about config key ``key``, worded for the flag that set it."""
    text = " ".join(str(exc).split())
    for phrase in (f"config key {key!r}", f"AnalysisConfig.{key}", key):
        if phrase in text:
            return text.replace(phrase, _FLAGS[key], 1)
    return f"{_FLAGS[key]}: {text}"


def _load_config(path: str) -> tuple[Any, set[str]]:
    """(AnalysisConfig, top-level keys) of a --config file; every failure names the file."""
    import tomllib

    from ..errors import ConfigError, MmnstPathError
    from ..pipeline import AnalysisConfig

    try:
        with open(path, "rb") as fh:
            keys = set(tomllib.loads(fh.read().decode("utf-8")))
        return AnalysisConfig.from_toml(path), keys
    except FileNotFoundError as exc:
        reason = "no such file"
        err: BaseException = exc
    except IsADirectoryError as exc:
        reason, err = "is a folder, not a TOML file", exc
    except OSError as exc:
        reason, err = f"cannot be read ({exc.strerror or exc})", exc
    except UnicodeDecodeError as exc:
        reason, err = f"is not a UTF-8 text (TOML) file (byte {exc.object[exc.start]:#04x} at offset {exc.start})", exc
    except tomllib.TOMLDecodeError as exc:
        reason, err = f"is not valid TOML ({exc})", exc
    except (MmnstPathError, ValueError) as exc:
        reason, err = " ".join(str(exc).split()), exc
    except Exception as exc:  # e.g. OverflowError of an 'inf' count: still one line naming the file
        reason, err = f"invalid value ({type(exc).__name__}: {exc})", exc
    if path in reason or repr(path) in reason:
        reason = reason.replace(f"config file {path!r} ", "").replace(f"config file {path} ", "")
    msg = f"--config {path}: {reason}"
    raise ConfigError(msg) from err


def _config(args: argparse.Namespace) -> Any:
    from ..errors import ConfigError, MmnstPathError
    from ..pipeline import AnalysisConfig, applicable_measures
    from ..pipeline._slide import check_scales

    config, file_keys = _load_config(args.config) if args.config else (AnalysisConfig(), set())
    changes: dict[str, Any] = {}
    if not args.stains and "stains" not in file_keys:
        config = config.replace(stains="auto")  # a folder may mix H&E and IHC: choose per input
    if args.stains:
        stains = args.stains
        if Path(stains).is_file():
            stains = str(Path(stains).resolve())
        changes["stains"] = stains
    if args.measures is not None:
        changes["measures"] = [m.strip() for m in args.measures.split(",") if m.strip()]
    if args.tile_um is not None:
        changes["tile_um"] = args.tile_um
    if args.analysis_mpp is not None:
        changes["analysis_mpp"] = args.analysis_mpp
    if getattr(args, "cell_model", None):
        value = _model_flag("--cell-model", args.cell_model, "nucleus")
        config = config.replace(ki67={**config.ki67.to_mapping(), "cell_model": value})
    if getattr(args, "tissue_model", None):
        from ._tissue_flag import tissue_model_changes

        values = [args.tissue_model] if isinstance(args.tissue_model, str) else args.tissue_model
        for section, change in tissue_model_changes(values, _model_flag).items():
            config = config.replace(**{section: {**getattr(config, section).to_mapping(), **change}})
    if getattr(args, "pigment_model", None):
        config = with_pigment_model(config, args.pigment_model)
    if getattr(args, "melanocyte_marker", None):  # a double stain's marker, for every input
        marker = marker_setting(args.melanocyte_marker, "--melanocyte-marker")
        config = config.replace(ki67={**config.ki67.to_mapping(), "melanocyte_marker": marker})
    if getattr(args, "count_in", None):
        try:
            config = config.replace(ki67={**config.ki67.to_mapping(), "count_in": args.count_in})
        except (MmnstPathError, ValueError) as exc:
            raise ConfigError(f"--count-in {args.count_in}: {' '.join(str(exc).split())}") from exc
    for key, value in changes.items():  # one flag at a time, so that an error names its flag
        try:
            config = config.replace(**{key: value})
        except (MmnstPathError, ValueError) as exc:
            raise ConfigError(_about_flag(key, exc)) from exc
    where = "--config " + args.config if args.config else None
    try:
        check_scales(config)
    except ConfigError as exc:
        key = str(exc).split(" ", 1)[0]
        if key in changes:
            raise ConfigError(_about_flag(key, exc)) from exc
        raise ConfigError(f"{where}: {exc}" if where else str(exc)) from exc
    if config.stains.strip().lower() != "auto":
        # bad --stains, or measures that do not fit them, are usage errors found before any input runs
        try:
            applicable_measures(config, config.stain_matrix())
        except (MmnstPathError, ValueError) as exc:
            flags = [f for k, f in _FLAGS.items() if k in changes and k in ("stains", "measures")]
            source = " with ".join(f"{f} {getattr(args, f[2:].replace('-', '_'))!r}" for f in flags) or where
            text = " ".join(str(exc).split()).replace("config key 'stains': ", "")
            raise ConfigError(f"{source}: {text}" if source else text) from exc
        if getattr(args, "melanocyte_marker", None):  # a marker for a single stain: a usage error, before any input
            check_marker_stains(config.ki67.melanocyte_marker, config.stains, config,
                                what=f"--melanocyte-marker {args.melanocyte_marker!r}",
                                stains_what="--stains" if "stains" in changes else f"stains in {where}")
    return config


def _fmt(value: Any, spec: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return format(value, spec)


def _print_table(rows: list[dict[str, Any]], out_dir: Path) -> None:
    """The results table on stdout. On a terminal the hot-spot note is the table's caption; in a log (stdout
    not a terminal) it is printed as one whole line under the table, as the other notes are: a caption
    wraps to the table's width, mid-sentence."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ..report import hotspot_meets_min_nuclei, shown_row

    rows = [shown_row(r) for r in rows]  # a row where nothing was measured shows "–" (its note is below the table)
    caption = ""
    table = Table(title=f"mmnst-path quantify -> {out_dir}", show_lines=False)
    # a densest window holding fewer tumour nuclei than a hot spot needs is no hot spot (the report greys
    # it and says so): its number is shown in parentheses, with the reason under the table
    short = [r for r in rows if r["status"] == "ok" and hotspot_meets_min_nuclei(r) is False
             and _fmt(r.get("ki67_hotspot_index_pct")) != "–"]
    if short:
        need = {r.get("hotspot_min_nuclei") for r in short}
        fewer = f"the {need.pop()}" if len(need) == 1 and None not in need else "the"
        caption = (f"(hot spot %): not a hot spot, no window holds {fewer} tumour nuclei one needs; "
                   "the number is the densest window's")
    short_ids = {id(r) for r in short}
    for name, justify in (("input", "left"), ("status", "left"), ("stains", "left"), ("Ki67 %", "right"), ("95% CI", "right"),
                          ("n", "right"), ("excluded", "right"), ("hot spot %", "right"), ("melanin %", "right"),
                          ("necrosis %", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        ok = r["status"] == "ok"
        ci = f"{_fmt(r.get('ki67_ci_low_pct'))}–{_fmt(r.get('ki67_ci_high_pct'))}" if ok and r.get("ki67_denominator") else "–"
        table.add_row(
            escape(Path(str(r["input"])).name),
            ("[yellow]ok ⚠[/]" if r.get("warnings") else "[green]ok[/]") if ok else "[red]error[/]",  # ⚠: read its warnings
            _stains_cell(r) if ok else "–",
            _fmt(r.get("ki67_index_pct")),
            ci,
            _fmt(r.get("ki67_denominator"), "d") if r.get("ki67_denominator") is not None else "–",
            # nuclei the cell model or the tumour region left out of n (napari and the report say the same)
            _fmt(r.get("ki67_excluded"), "d") if r.get("ki67_denominator") is not None and r.get("ki67_excluded") is not None else "–",
            f"({_fmt(r.get('ki67_hotspot_index_pct'))})" if id(r) in short_ids else _fmt(r.get("ki67_hotspot_index_pct")),
            _fmt(r.get("melanin_fraction_pct"), ".2f"),
            _fmt(r.get("necrosis_fraction_pct")),
        )  # errors are printed once, on their own line, never wrapped into the table
    terminal = sys.stdout.isatty()
    if terminal:
        table.caption = caption or None
    Console(soft_wrap=False, width=max(120, os.get_terminal_size(sys.stdout.fileno()).columns if terminal else 160)).print(table)
    if caption and not terminal:
        print(caption)
    for line in _not_measured_lines(rows):
        print(line)


def _stains_cell(row: Mapping[str, Any]) -> str:
    """The stains an input was read with, narrow: ``H-AEC`` when named, ``H&E auto`` when detected, ``H-DAB auto?``
    when detected in a close call (its warning says which other stains it may be)."""
    from rich.markup import escape

    name = str(row.get("stains") or "–")
    name = Path(name).stem if name.lower().endswith(".json") else name
    source = str(row.get("stains_source") or "")
    suffix = " auto?" if "close call" in source else " auto" if source.startswith("detected") else ""
    return escape(name) + (f"[dim]{suffix}[/]" if suffix else "")


def _not_measured_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per measure a "–" in the table stands for because the input's stains lack what it reads
    ("–  necrosis not measured on ki67_a.tif, ki67_b.tif: no eosin in H-DAB (necrosis is read on H&E)")."""
    from .._qc_text import not_measured_reasons

    grouped: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        for measure, why in not_measured_reasons(r).items():
            grouped.setdefault((measure, why), []).append(Path(str(r["input"])).name)
    label = {"ki67": "Ki67", "necrosis": "necrosis"}
    return [f"–  {label.get(m, m)} not measured on {', '.join(names)}: {why}" for (m, why), names in grouped.items()]


def _result_notes(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """What the table has no column for, one line per ok input that has it: why ``auto`` chose its stains (a confident
    call), the melanocyte-restricted index of a double stain and its pigment bound, the pigment QC bound ("pigment
    hides N % of the tumour nuclei: the index would be X % if they were all negative, Y % if all positive") when
    pigment hides enough nuclei to move the index, the near-black and spindle-cell QC sentences (report.html and
    napari say the same words)."""
    from .._qc_text import melanocytic_pigment_warning, stains_note
    from ..report import NO_TISSUE_TEXT, melanocytic_text, nothing_measured, qc_warnings

    out = []
    for r in rows:
        if r.get("status") != "ok":
            continue
        name = Path(str(r["input"])).name
        if nothing_measured(r):  # said once; no QC sentence about counts that were never made
            out.append(f"{name}: {NO_TISSUE_TEXT}")
            continue
        out += [f"{name}: {t}" for t in (stains_note(r), melanocytic_text(r), melanocytic_pigment_warning(r),
                                         *qc_warnings(r)) if t]
    return out


def error_text(row: Mapping[str, Any]) -> str:
    """:func:`mmnst_path.report.error_text` (imported when first used: the CLI starts without numpy)."""
    from ..report import error_text as text

    return text(row)


#: Said when a batch starts on a fresh installation, whose first input compiles the analysis kernels.
COMPILE_NOTE = ("mmnst-path quantify: first analysis of this installation: compiling the analysis kernels "
                "(once; one to a few minutes on a small machine; `mmnst-path warmup` does it ahead)")


class _PlainProgress:
    """One log line per finished input on stderr (output is not a terminal), and while a slide runs a
    line of its tiles done every :attr:`every_s` seconds, so a log of a long slide is never silent
    for minutes."""

    #: seconds between two tile lines of one input
    every_s = 30.0

    def __init__(self, clock: Any = time.perf_counter) -> None:
        self.total = 0
        self.clock = clock
        self.current: tuple[int, Path, float] | None = None  # (index, path, time of the last line)
        self.started = 0.0
        #: print :data:`COMPILE_NOTE` when the batch starts (the analysis kernels are not compiled yet)
        self.compile_note = False

    def batch_started(self, total: int) -> None:
        self.total = total
        if self.compile_note:
            print(COMPILE_NOTE, file=sys.stderr, flush=True)

    def input_started(self, index: int, path: Path) -> None:
        self.started = self.clock()
        self.current = (index, path, self.started)

    def tiles(self, done: int, total: int) -> None:
        if self.current is None or done >= total:
            return
        index, path, last = self.current
        now = self.clock()
        if now - last >= self.every_s:
            print(f"[{index + 1}/{self.total}] {path}: {done}/{total} tiles ({now - self.started:.0f} s)",
                  file=sys.stderr, flush=True)
            self.current = (index, path, now)

    def input_finished(self, index: int, path: Path, row: dict[str, Any], *, skipped: bool, seconds: float) -> None:
        status = "ok" if row["status"] == "ok" else f"error: {error_text(row)}"
        if skipped:
            status += " (up to date, skipped)"
        print(f"[{index + 1}/{self.total}] {path}: {status} ({seconds:.1f} s)", file=sys.stderr, flush=True)
        for message in row.get("warnings") or ():
            print(f"  warning: {message}", file=sys.stderr, flush=True)


class _RichProgress(_PlainProgress):
    """Two bars on a terminal: inputs done, and the current input's tiles (rate and ETA)."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        super().__init__()
        self.console = console if console is not None else Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=self.console, transient=False,
        )
        self.slides: Any = None
        self.tile_task: Any = None
        self.t0 = 0.0

    def batch_started(self, total: int) -> None:
        super().batch_started(total)
        self.progress.start()
        self.slides = self.progress.add_task("inputs", total=total, rate="")
        self.tile_task = self.progress.add_task("tiles", total=None, rate="")

    def input_started(self, index: int, path: Path) -> None:
        self.t0 = time.perf_counter()
        self.progress.reset(self.tile_task, total=None, description=f"tiles of {path.name}", rate="")

    def tiles(self, done: int, total: int) -> None:
        dt = time.perf_counter() - self.t0
        rate = f"{done / dt:.1f} tiles/s" if done and dt > 0 else ""
        self.progress.update(self.tile_task, completed=done, total=total, rate=rate)

    def input_finished(self, index: int, path: Path, row: dict[str, Any], *, skipped: bool, seconds: float) -> None:
        self.progress.update(self.slides, advance=1)
        from rich.markup import escape

        status = "[green]ok[/]" if row["status"] == "ok" else f"[red]error[/]: {escape(error_text(row))}"
        self.progress.console.print(f"[{index + 1}/{self.total}] {path.name}: {status}"
                                    f"{' (up to date, skipped)' if skipped else ''} ({seconds:.1f} s)",
                                    markup=True, highlight=False)
        for message in row.get("warnings") or ():
            self.progress.console.print(f"  warning: {message}", markup=False, highlight=False)

    def close(self) -> None:
        self.progress.stop()


def run(args: argparse.Namespace) -> int:
    """Execute ``quantify``; return the exit status."""
    from ..batch import BatchOptions, run_batch
    from ..errors import MmnstPathError, OutputError, OutputLockedError
    from ..io._metadata import MPP_RANGE_UM

    def err(msg: str) -> None:
        print(f"mmnst-path quantify: {' '.join(str(msg).split())}", file=sys.stderr)

    if not args.out.strip():
        err(f"--out must name an output folder, got {args.out!r}")
        return 2
    if args.workers is not None and args.workers < 1:
        err(f"--workers must be >= 1, got {args.workers}")
        return 2
    if args.mpp is not None and not (math.isfinite(args.mpp) and MPP_RANGE_UM[0] <= args.mpp <= MPP_RANGE_UM[1]):
        err(f"--mpp must be a plausible pixel size, {MPP_RANGE_UM[0]:g} to {MPP_RANGE_UM[1]:g} µm per pixel "
            f"(0.1-1 for slide scanners), got {args.mpp:g}")
        return 2
    if args.mpp_override and args.mpp is None:
        err("--mpp-override needs --mpp")
        return 2
    if args.resume and args.overwrite:
        err("--resume and --overwrite exclude each other")
        return 2
    try:
        config = _config(args)
        _check_models(config)
    except (MmnstPathError, ValueError, OSError) as exc:
        err(f"--config {args.config}: {exc}" if args.config and str(exc).startswith("[pigment] model") else str(exc))
        return 2
    skipped: list[Path] = []
    if not args.inputs and not args.manifest:
        err("give INPUT files, folders or globs, or --manifest FILE.csv")
        return 2
    files, missing = expand_inputs(args.inputs, exclude=args.out, skipped=skipped) if args.inputs else ([], [])
    input_stains: dict[str, str] = {}
    input_mpp: dict[str, float] = {}
    input_marker: dict[str, str] = {}
    if args.manifest:
        from .._batch_stains import read_manifest

        try:
            listed = read_manifest(args.manifest, measures=config.measures)
        except MmnstPathError as exc:
            err(str(exc))
            return 2
        given = {os.path.realpath(f): f for f in files}  # an input also named on the command line: its manifest line
        for entry in listed:
            path = given.get(os.path.realpath(entry.input))
            if path is None:
                files.append(path := entry.input)
            input_stains[str(path)] = entry.stains
            if entry.marker is None and getattr(args, "melanocyte_marker", None):  # the flag's marker for this line
                try:
                    check_marker_stains(config.ki67.melanocyte_marker, entry.stains, config, stains_what="stains",
                                        what=f"--melanocyte-marker {args.melanocyte_marker!r} on --manifest "
                                             f"{args.manifest} line {entry.line}")
                except MmnstPathError as exc:
                    err(str(exc))
                    return 2
            if entry.mpp is not None:
                input_mpp[str(path)] = entry.mpp
            if entry.marker is not None:
                input_marker[str(path)] = entry.marker
        if not args.quiet:
            print(f"--manifest {args.manifest}: {len(listed)} input(s), stains "
                  f"{', '.join(sorted({e.stains if '/' not in e.stains else Path(e.stains).name for e in listed}))}",
                  file=sys.stderr)
    if not args.quiet:
        for note in skipped_notes(skipped):
            print(note, file=sys.stderr)
    if not files:
        for _item, reason in missing:  # nothing to analyse: no output folder, no report
            err(reason)
        if not missing:
            err("no input")
        return 1 if missing else 2
    options = BatchOptions(
        out_dir=Path(args.out), config=config, mpp=args.mpp, workers=args.workers, scheduler=args.scheduler,
        roi_file=Path(args.roi) if args.roi else None, resume=args.resume, overwrite=args.overwrite,
        compare=tuple(args.compare) if args.compare else None,  # type: ignore[arg-type]
        mpp_override=args.mpp_override, input_stains=input_stains, input_mpp=input_mpp, input_marker=input_marker,
        geojson_regions=args.geojson_regions, outputs=run_outputs(args.cell_files),
    )
    progress: Any = None
    if not args.quiet:
        from ..pipeline._warmup import kernels_cached

        progress = _RichProgress() if sys.stderr.isatty() else _PlainProgress()
        # a fresh installation: say why the first slide is slow to start, once the batch starts (not above a
        # usage error found before any input runs: a bad --roi, --compare or an earlier run in DIR)
        progress.compile_note = kernels_cached() is False
    try:
        outcome = run_batch(files, options, missing=missing, progress=progress)
    except OutputLockedError as exc:
        err(str(exc))
        return 2
    except OutputError as exc:  # every input was attempted; the summary could not be written
        err(str(exc))
        return 1
    except MmnstPathError as exc:  # options refused before any input ran
        err(str(exc))
        return 2
    finally:
        if isinstance(progress, _RichProgress):
            progress.close()
    rows = list(outcome.rows)
    _print_table(rows, options.out_dir)
    for line in _result_notes(rows):
        print(line)
    if outcome.comparison is not None:
        from ..html_report import p_value_text

        c = outcome.comparison
        p = p_value_text(c["p_value"])
        print(f"Ki67 {Path(str(c['b'])).name} - {Path(str(c['a'])).name}: {_fmt(c['difference_pct'], '+.1f')} pp "
              f"(95% CI {_fmt(c['ci_low_pct'], '+.1f')} to {_fmt(c['ci_high_pct'], '+.1f')}), "
              f"p {p if p.startswith('<') else '= ' + p}")
    print(f"report: {outcome.files['report_html']}")
    if outcome.failures:
        # each error is printed once: on its progress line, or here (missing inputs have no progress line)
        shown = outcome.failures if progress is None else outcome.failures[: len(missing)]
        if shown:
            err(f"{len(outcome.failures)} of {len(rows)} inputs failed:")
            for r in shown:
                print(f"  {r['input']}: {error_text(r)}", file=sys.stderr)
        else:
            err(f"{len(outcome.failures)} of {len(rows)} inputs failed (errors above; also in summary.csv)")
        return 1
    return 0
