"""``quantify --cell-files``: which of the four per-nucleus tables a run writes (moved from ``_quantify``)."""

from __future__ import annotations

__all__ = ["CELL_FILES", "cell_files_arg", "run_outputs"]

#: ``--cell-files`` names -> keys of :data:`mmnst_path.report.RESULT_FILES` (the same table four ways)
CELL_FILES = {"csv": "cells", "csv.gz": "cells_gz", "parquet": "parquet", "geojson": "geojson"}


def cell_files_arg(text: str) -> dict[str, str]:
    """``--cell-files``: the per-nucleus files chosen (argparse type; its error names the option and the value)."""
    import argparse

    names = [t.strip().lower() for t in text.split(",") if t.strip()]
    if names == ["none"]:
        return {}
    bad = [n for n in names if n not in CELL_FILES]
    if bad or not names:
        msg = f"--cell-files: expected a comma list of {','.join(CELL_FILES)} or 'none', got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return {n: CELL_FILES[n] for n in names}


def run_outputs(chosen: dict[str, str]) -> tuple[str, ...]:
    """The per-input outputs of a run: every default one, less the per-nucleus files not chosen."""
    from ..batch import DEFAULT_OUTPUTS

    return tuple(k for k in DEFAULT_OUTPUTS if k not in CELL_FILES.values() or k in chosen.values())
