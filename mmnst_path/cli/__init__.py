"""Command-line interface: ``mmnst-path SUBCOMMAND ...``.

Thin layer over the library: parses arguments, calls the public API, prints results. No
algorithm lives here. Each subcommand is a private module exposing ``register(subparsers)``;
the function it sets as ``func`` returns the process exit code.

Exit codes: 0 success, 1 some inputs failed (each reported on one line), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from typing import Any

from .. import __version__

__all__ = ["main"]

# subcommand modules, in the order they appear in --help
_SUBCOMMANDS = ("_info", "_stains", "_quantify", "_review", "_train", "_warmup")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser (and its subcommands') without prefix matching: ``--worker`` is an
    error, never silently ``--workers``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Warnings as one ``mmnst-path: warning: ...`` line, without the source file and line."""
    print(f"mmnst-path: warning: {' '.join(str(message).split())}", file=file if file is not None else sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mmnst-path",
        description="Quantify Ki67, melanin and necrosis on whole-slide images and tiles.",
    )
    parser.add_argument("--version", action="version", version=f"mmnst-path {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        try:
            module = import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # subcommand not built yet in this checkout
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def _silence_stdout() -> None:
    """Point stdout's descriptor at the null device, so the interpreter's last flush of a closed pipe
    raises no second BrokenPipeError ("Exception ignored ...") at exit."""
    import os

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture): nothing to flush
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _resume_hint(args: argparse.Namespace) -> str:
    """After an interrupted ``quantify``: where the finished inputs are and how to go on."""
    out = getattr(args, "out", None)
    if not hasattr(args, "resume") or not out:
        return ""
    if not (Path(out) / "summary.csv").is_file():  # written after each input: none has finished
        return f"; no input had finished ({out} holds no summary.csv), so there is nothing to resume"
    return (f"; the inputs finished so far are in {out} (summary.csv and report.html list them, the rest as "
            "not analysed); run the same command with --resume to analyse the rest")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    shown = warnings.showwarning
    warnings.showwarning = _show_warning  # no raw "file.py:160: UserWarning" lines
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"mmnst-path: interrupted{_resume_hint(args)}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`mmnst-path models list | head -2`): stop quietly
        _silence_stdout()
        return 141  # as a shell reports a process ended by SIGPIPE
    finally:
        warnings.showwarning = shown


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
