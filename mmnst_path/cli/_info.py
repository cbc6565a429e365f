"""``mmnst-path info PATH... [--json]``: what a slide holds, without analysing it.

Per input: backend and vendor, pyramid level shapes and downsamples, microns per pixel,
objective power, associated images and the tissue area (tissue detected on a thumbnail by
:func:`mmnst_path.tiling.detect_tissue`). A folder is searched recursively and a glob expanded
as in ``mmnst-path quantify``. A bad input prints one line ``mmnst-path: error: <file>: <reason>``
on stderr and the others still print; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["collect_info", "register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``info`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "info",
        help="show levels, resolution, associated images and tissue area of slides",
        description=(
            "Print, for every PATH (slide or image file, folder searched recursively, or glob), the "
            "reader backend, pyramid levels (rows x cols) and downsamples, µm per pixel, objective "
            "power, associated images and the tissue area in mm². Exit status: 0 all inputs read, "
            "1 some failed (one error line each on stderr), 2 bad usage."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="slide/image files, folders or globs")
    p.add_argument("--json", action="store_true", help="print a JSON list (one object per input)")
    p.add_argument("--mpp", type=float, metavar="X", help="µm per pixel at level 0 (overrides the file)")
    p.add_argument("--no-tissue", action="store_true", help="skip tissue detection (faster)")
    p.set_defaults(func=run)


def _expand(paths: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Plain paths stay as given (open_slide reports their problems); folders and globs expand."""
    from ._quantify import expand_inputs

    files: list[str] = []
    failed: list[tuple[str, str]] = []
    for item in paths:
        if glob.has_magic(item) or Path(item).is_dir():
            found, missing = expand_inputs([item])
            files.extend(str(f) for f in found)
            failed.extend(missing)
        else:
            files.append(item)
    return files, failed


def collect_info(path: str, *, mpp: float | None = None, tissue: bool = True) -> dict[str, Any]:
    """Everything ``info`` prints about one slide, as a JSON-ready dict.

    Raises the reader's errors (:class:`~mmnst_path.errors.MmnstPathError` subclasses) for
    inputs that cannot be opened. Warnings (unknown mpp, odd metadata) go to ``"warnings"``.
    """
    from ..io import open_slide

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open_slide(path, mpp=mpp) as reader:
            info: dict[str, Any] = {
                "path": path,
                "backend": reader.backend,
                "vendor": reader.vendor,
                "level_shapes": [list(s) for s in reader.level_shapes],
                "level_downsamples": [round(d, 4) for d in reader.level_downsamples],
                "mpp": reader.mpp,
                "objective_power": reader.objective_power,
                "associated_images": list(reader.associated_names),
                "tissue_area_mm2": None,
                "tissue_fraction": None,
            }
            if tissue:
                info.update(_tissue(reader))
    info["warnings"] = sorted({str(w.message) for w in caught})
    return info


def _tissue(reader: Any) -> dict[str, Any]:
    try:
        from ..tiling import detect_tissue
    except ImportError as exc:  # tiling not installed in this checkout
        return {"tissue_error": f"tissue detection unavailable ({exc})"}
    try:
        result = detect_tissue(reader)
    except Exception as exc:  # report, do not fail the whole info
        return {"tissue_error": f"tissue detection failed ({type(exc).__name__}: {exc})"}
    area = result.area_mm2
    return {
        "tissue_area_mm2": None if area is None else round(float(area), 4),
        "tissue_fraction": round(float(result.tissue_fraction), 4),
    }


def _format_text(info: dict[str, Any]) -> str:
    lines = [info["path"]]
    vendor = f" ({info['vendor']})" if info["vendor"] else ""
    lines.append(f"  backend      {info['backend']}{vendor}")
    for i, ((rows, cols), ds) in enumerate(zip(info["level_shapes"], info["level_downsamples"], strict=True)):
        head = "  levels       " if i == 0 else "               "
        lines.append(f"{head}{i}: {rows} x {cols} px (rows x cols), downsample {ds:g}")
    mpp = info["mpp"]
    lines.append(f"  mpp          {mpp:.4g} µm/px" if mpp is not None else "  mpp          unknown (pass --mpp)")
    power = info["objective_power"]
    lines.append(f"  objective    {power:g}x" if power is not None else "  objective    unknown")
    lines.append(f"  associated   {', '.join(info['associated_images']) or 'none'}")
    if "tissue_error" in info:
        lines.append(f"  tissue       {info['tissue_error']}")
    elif info["tissue_fraction"] is not None:
        fraction = f"{100 * info['tissue_fraction']:.1f} % of the image"
        area = info["tissue_area_mm2"]
        area_text = f"{area:.3f} mm²" if area is not None else "area unknown (no mpp)"
        lines.append(f"  tissue       {area_text}, {fraction}")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def run(args: argparse.Namespace) -> int:
    """Print the information for every input; return 0, or 1 when some input failed."""
    import math

    from ..io._metadata import MPP_RANGE_UM

    if args.mpp is not None and not (math.isfinite(args.mpp) and MPP_RANGE_UM[0] <= args.mpp <= MPP_RANGE_UM[1]):
        print(f"mmnst-path info: --mpp must be a plausible pixel size, {MPP_RANGE_UM[0]:g} to "
              f"{MPP_RANGE_UM[1]:g} µm per pixel (0.1-1 for slide scanners), got {args.mpp:g}", file=sys.stderr)
        return 2
    files, failed = _expand(args.paths)
    for item, reason in failed:
        print(f"mmnst-path: error: {item}: {_one_line(reason)}", file=sys.stderr)
    results: list[dict[str, Any]] = []
    n_failed = len(failed)
    for path in files:
        try:
            info = collect_info(path, mpp=args.mpp, tissue=not args.no_tissue)
        except Exception as exc:  # one line per bad input, never a traceback
            n_failed += 1
            reason = str(exc)
            # the library's messages already start with the path
            if reason.startswith(f"{path}: "):
                reason = reason[len(path) + 2 :]
            elif not isinstance(exc, OSError | ValueError):
                reason = f"{type(exc).__name__}: {reason}"
            print(f"mmnst-path: error: {path}: {_one_line(reason)}", file=sys.stderr)
            results.append({"path": path, "error": _one_line(reason)})
            continue
        results.append(info)
        if not args.json:
            print(_format_text(info))
            for message in info["warnings"]:
                print(f"mmnst-path: warning: {_one_line(message)}", file=sys.stderr)
    if args.json:
        json.dump(results, sys.stdout, indent=2, ensure_ascii=False)
        print()
    return 1 if n_failed else 0
