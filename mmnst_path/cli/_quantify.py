"""``mmnst-path quantify``: Ki67 / melanin / necrosis on slides and tiles, batch-wise.

Thin layer over :func:`mmnst_path.batch.run_batch`: expands the inputs (files, folders searched
recursively, globs), shows progress (rich bars on a terminal, plain log lines otherwise, nothing
with ``--quiet``), and prints a results table and the failure list. The batch writes
``DIR/summary.csv``, ``DIR/summary.json``, ``DIR/report.html`` and per input
``DIR/<stem>/{result.json, cells.csv, cells.csv.gz, cells.geojson, overlay.png, tissue.png}``.
Exit status: 0 all inputs succeeded, 1 some failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["SLIDE_EXTENSIONS", "expand_inputs", "register", "run"]

#: File extensions picked up when a folder is given (lower case, compared case-insensitively).
SLIDE_EXTENSIONS = (
    ".svs", ".tif", ".tiff", ".ndpi", ".mrxs", ".scn", ".vms", ".vmu", ".bif", ".svslide",
    ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp",
)  # fmt: skip


def register(subparsers: Any) -> None:
    """Add the ``quantify`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "quantify",
        help="measure Ki67, melanin and necrosis on slides and tiles",
        description=(
            "Quantify the Ki67 index (global and hot spot, with 95% CI), the melanin pigment "
            "fraction and the necrosis area of every INPUT (slide or tile file, folder searched "
            "recursively, or glob). Writes DIR/summary.csv, DIR/summary.json, DIR/report.html and, per "
            "input, DIR/<stem>/ with result.json, cells.csv(.gz), cells.geojson (QuPath), overlay.png "
            "and tissue.png. Exit status: 0 all ok, 1 some inputs failed, 2 bad usage."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="slide/tile files, folders or globs")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--mpp", type=float, metavar="X", help="µm per pixel at level 0 (overrides the file)")
    p.add_argument("--stains", metavar="PRESET|FILE", help="stain preset (H-DAB, H&E, ...), JSON file, or 'auto' (default: H&E or H-DAB guessed per input)")
    p.add_argument("--measures", metavar="LIST", help="comma list of ki67,melanin,necrosis (default: all that apply)")
    p.add_argument("--config", metavar="FILE.toml", help="analysis parameters (flags override it)")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run tiles on a Dask distributed cluster")
    p.add_argument("--tile-um", type=float, metavar="UM", help="tile core side in µm")
    p.add_argument("--analysis-mpp", type=float, metavar="X", help="analysis resolution, µm per pixel")
    p.add_argument("--roi", metavar="FILE.geojson", help="analyse only inside these regions (QuPath GeoJSON annotations, level-0 px), for every input")
    p.add_argument("--resume", action="store_true", help="skip inputs whose stored result matches the file (size, mtime) and the config")
    p.add_argument("--overwrite", action="store_true", help="redo every input even if DIR holds an earlier run")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare the Ki67 index of two inputs (e.g. primary and recurrence) in report.html")
    p.add_argument("--quiet", action="store_true", help="print only the final table and errors")
    p.set_defaults(func=run)


def expand_inputs(inputs: Sequence[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to analyse, and (input, reason) pairs for inputs that match nothing.

    Folders are searched recursively for :data:`SLIDE_EXTENSIONS` (hidden files and folders
    skipped, symlink loops not followed twice); a pattern with ``*?[`` is a glob. Order is
    stable (sorted within each folder) and duplicates are dropped.
    """
    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            files.append(p)

    for item in inputs:
        candidates = [Path(m) for m in sorted(glob.glob(item, recursive=True))] if glob.has_magic(item) else [Path(item)]
        if not candidates:
            missing.append((item, f"no file matches the pattern {item!r}"))
        for path in candidates:
            if path.is_dir():
                found = _walk(path)
                if not found:
                    missing.append((str(path), f"folder {str(path)!r} holds no slide or image file ({', '.join(SLIDE_EXTENSIONS)})"))
                for f in found:
                    add(f)
            elif path.exists() or path.is_symlink():
                add(path)
            else:
                missing.append((str(path), f"input {str(path)!r} does not exist"))
    return files, missing


def _walk(root: Path) -> list[Path]:
    out: list[Path] = []
    visited: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in visited:  # symlink loop
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and name.lower().endswith(SLIDE_EXTENSIONS):
                out.append(Path(dirpath) / name)
    return out


def _config(args: argparse.Namespace) -> Any:
    from ..pipeline import AnalysisConfig, applicable_measures

    config = AnalysisConfig.from_toml(args.config) if args.config else AnalysisConfig()
    changes: dict[str, Any] = {}
    if not args.stains and not (args.config and "stains" in _toml_keys(args.config)):
        changes["stains"] = "auto"  # a folder may mix H&E and IHC: choose per input
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
    config = config.replace(**changes) if changes else config
    if config.stains.strip().lower() != "auto":
        # bad --stains, or measures that do not fit them, are usage errors found before any input runs
        applicable_measures(config, config.stain_matrix())
    return config


def _toml_keys(path: str) -> set[str]:
    import tomllib

    with open(path, "rb") as fh:
        return set(tomllib.load(fh))


def _fmt(value: Any, spec: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return format(value, spec)


def _print_table(rows: list[dict[str, Any]], out_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"mmnst-path quantify -> {out_dir}", show_lines=False)
    for name, justify in (("input", "left"), ("status", "left"), ("Ki67 %", "right"), ("95% CI", "right"),
                          ("n", "right"), ("hot spot %", "right"), ("melanin %", "right"),
                          ("necrosis %", "right"), ("error", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        ok = r["status"] == "ok"
        ci = f"{_fmt(r.get('ki67_ci_low_pct'))}–{_fmt(r.get('ki67_ci_high_pct'))}" if ok and r.get("ki67_denominator") else "–"
        table.add_row(
            Path(str(r["input"])).name,
            "[green]ok[/]" if ok else "[red]error[/]",
            _fmt(r.get("ki67_index_pct")),
            ci,
            _fmt(r.get("ki67_denominator"), "d") if r.get("ki67_denominator") is not None else "–",
            _fmt(r.get("ki67_hotspot_index_pct")),
            _fmt(r.get("melanin_fraction_pct"), ".2f"),
            _fmt(r.get("necrosis_fraction_pct")),
            "" if ok else str(r.get("error", ""))[:120],
        )
    Console(soft_wrap=False, width=max(120, os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else 160)).print(table)


class _PlainProgress:
    """One log line per finished input on stderr (output is not a terminal)."""

    def __init__(self) -> None:
        self.total = 0

    def batch_started(self, total: int) -> None:
        self.total = total

    def input_started(self, index: int, path: Path) -> None:
        return None

    def tiles(self, done: int, total: int) -> None:
        return None

    def input_finished(self, index: int, path: Path, row: dict[str, Any], *, skipped: bool, seconds: float) -> None:
        status = "ok" if row["status"] == "ok" else f"error: {row['error']}"
        if skipped:
            status += " (up to date, skipped)"
        print(f"[{index + 1}/{self.total}] {path}: {status} ({seconds:.1f} s)", file=sys.stderr, flush=True)


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
        status = "[green]ok[/]" if row["status"] == "ok" else f"[red]error[/]: {row['error']}"
        self.progress.console.print(f"[{index + 1}/{self.total}] {path.name}: {status}"
                                    f"{' (up to date, skipped)' if skipped else ''} ({seconds:.1f} s)",
                                    markup=True, highlight=False)

    def close(self) -> None:
        self.progress.stop()


def run(args: argparse.Namespace) -> int:
    """Execute ``quantify``; return the exit status."""
    from ..batch import BatchOptions, run_batch
    from ..errors import MmnstPathError

    def err(msg: str) -> None:
        print(f"mmnst-path quantify: {msg}", file=sys.stderr)

    if args.workers is not None and args.workers < 1:
        err(f"--workers must be >= 1, got {args.workers}")
        return 2
    if args.mpp is not None and not (math.isfinite(args.mpp) and args.mpp > 0):
        err(f"--mpp must be a positive number of µm per pixel, got {args.mpp}")
        return 2
    if args.resume and args.overwrite:
        err("--resume and --overwrite exclude each other")
        return 2
    try:
        config = _config(args)
    except (MmnstPathError, ValueError, OSError) as exc:
        err(str(exc))
        return 2
    files, missing = expand_inputs(args.inputs)
    if not files and not missing:
        err("no input")
        return 2
    options = BatchOptions(
        out_dir=Path(args.out), config=config, mpp=args.mpp, workers=args.workers, scheduler=args.scheduler,
        roi_file=Path(args.roi) if args.roi else None, resume=args.resume, overwrite=args.overwrite,
        compare=tuple(args.compare) if args.compare else None,  # type: ignore[arg-type]
    )
    progress: Any = None
    if not args.quiet:
        progress = _RichProgress() if sys.stderr.isatty() else _PlainProgress()
    try:
        outcome = run_batch(files, options, missing=missing, progress=progress)
    except MmnstPathError as exc:  # options refused before any input ran
        err(str(exc))
        return 2
    finally:
        if isinstance(progress, _RichProgress):
            progress.close()
    rows = list(outcome.rows)
    _print_table(rows, options.out_dir)
    if outcome.comparison is not None:
        c = outcome.comparison
        print(f"Ki67 {Path(str(c['b'])).name} - {Path(str(c['a'])).name}: {_fmt(c['difference_pct'], '+.1f')} pp "
              f"(95% CI {_fmt(c['ci_low_pct'], '+.1f')} to {_fmt(c['ci_high_pct'], '+.1f')}), p = {_fmt(c['p_value'], '.3g')}")
    print(f"report: {outcome.files['report_html']}")
    if outcome.failures:
        err(f"{len(outcome.failures)} of {len(rows)} inputs failed:")
        for r in outcome.failures:
            print(f"  {r['input']}: {r['error']}", file=sys.stderr)
        return 1
    return 0
