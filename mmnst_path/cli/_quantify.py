"""``mmnst-path quantify``: Ki67 / melanin / necrosis on slides and tiles, batch-wise.

Thin layer over :func:`mmnst_path.pipeline.analyze_slide` and :mod:`mmnst_path.report`: expands
the inputs (files, folders searched recursively, globs), runs each one, writes
``DIR/summary.csv`` after every input (atomically) and ``DIR/<stem>/result.json`` +
``cells.csv``, and prints a results table. A failing input becomes a ``status=error`` row and
the batch goes on. Exit status: 0 all inputs succeeded, 1 some failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
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
            "recursively, or glob). Writes DIR/summary.csv and, per input, DIR/<stem>/result.json "
            "and DIR/<stem>/cells.csv. Exit status: 0 all ok, 1 some inputs failed, 2 bad usage."
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


def _progress_factory(quiet: bool) -> Callable[[str], Any]:
    """A context-manager factory giving a ``progress(done, total)`` callback per input."""
    import contextlib

    if quiet or not sys.stderr.isatty():

        @contextlib.contextmanager
        def plain(label: str) -> Any:
            yield None

        return plain

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    @contextlib.contextmanager
    def bar(label: str) -> Any:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      transient=True) as prog:
            task = prog.add_task(label, total=None)

            def update(done: int, total: int) -> None:
                prog.update(task, completed=done, total=total)

            yield update

    return bar


def run(args: argparse.Namespace) -> int:
    """Execute ``quantify``; return the exit status."""
    from ..errors import ConfigError, MmnstPathError
    from ..pipeline import analyze_slide
    from ..report import error_row, output_stems, summary_row, write_result, write_summary_csv

    def err(msg: str) -> None:
        print(f"mmnst-path quantify: {msg}", file=sys.stderr)

    if args.workers is not None and args.workers < 1:
        err(f"--workers must be >= 1, got {args.workers}")
        return 2
    if args.mpp is not None and not (math.isfinite(args.mpp) and args.mpp > 0):
        err(f"--mpp must be a positive number of µm per pixel, got {args.mpp}")
        return 2
    try:
        config = _config(args)
    except (MmnstPathError, ValueError) as exc:
        err(str(exc))
        return 2
    files, missing = expand_inputs(args.inputs)
    if not files and not missing:
        err("no input")
        return 2
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err(f"cannot create the output folder {str(out_dir)!r}: {exc}")
        return 2

    rows: list[dict[str, Any]] = [error_row(name, reason) for name, reason in missing]
    stems = output_stems(files)
    progress = _progress_factory(args.quiet)
    for i, (path, stem) in enumerate(zip(files, stems, strict=True), 1):
        t0 = time.perf_counter()
        try:
            with progress(f"[{i}/{len(files)}] {path.name}") as cb:
                result = analyze_slide(
                    path, config, mpp=args.mpp, workers=args.workers, scheduler=args.scheduler, progress=cb
                )
            write_result(result, out_dir / stem)
            row = summary_row(result, seconds=time.perf_counter() - t0)
            row["input"] = str(path)
        except ConfigError as exc:
            row = error_row(str(path), exc)
        except (MmnstPathError, OSError, ValueError, RuntimeError, MemoryError) as exc:
            row = error_row(str(path), exc)
        except Exception as exc:  # a bug in one input must not kill the batch; keep the type
            row = error_row(str(path), exc)
        rows.append(row)
        write_summary_csv(rows, out_dir / "summary.csv")
        if not args.quiet:
            status = "ok" if row["status"] == "ok" else f"error: {row['error']}"
            print(f"[{i}/{len(files)}] {path}: {status} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    write_summary_csv(rows, out_dir / "summary.csv")
    _print_table(rows, out_dir)
    failed = [r for r in rows if r["status"] != "ok"]
    if failed:
        err(f"{len(failed)} of {len(rows)} inputs failed: " + ", ".join(str(r["input"]) for r in failed))
        return 1
    return 0
