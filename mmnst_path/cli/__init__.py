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

from .. import __version__

__all__ = ["main"]

# subcommand modules, in the order they appear in --help
_SUBCOMMANDS = ("_info", "_stains", "_quantify")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("mmnst-path: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
