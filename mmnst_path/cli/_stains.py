"""``mmnst-path stains``: estimate stain vectors of a slide, list the presets.

``mmnst-path stains estimate SLIDE [--roi ROW,COL,HEIGHT,WIDTH] [--stains PRESET]`` prints the
estimated vectors and background as JSON on stdout (save it and pass the file to ``--stains``);
``--qupath`` prints QuPath's ``setColorDeconvolutionStains`` line instead. Diagnostics go to
stderr. Exit status: 0 success, 1 the slide could not be read or estimated, 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

__all__ = ["parse_roi", "register"]


def parse_roi(text: str) -> Any:
    """``"ROW,COL,HEIGHT,WIDTH"`` (level-0 pixels) -> :class:`mmnst_path.geometry.Box`."""
    from ..geometry import Box

    try:
        row, col, height, width = (int(float(v)) for v in text.split(","))
        if height <= 0 or width <= 0:
            raise ValueError
    except ValueError as exc:
        msg = f"--roi must be ROW,COL,HEIGHT,WIDTH in level-0 pixels with positive sizes, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from exc
    return Box(row, col, height, width)


def register(subparsers: Any) -> None:
    """Add the ``stains`` subcommand (``estimate``, ``presets``) to ``subparsers``."""
    p = subparsers.add_parser(
        "stains",
        help="estimate stain vectors of a slide; list the stain presets",
        description="Stain vectors: estimate them on a slide (Macenko) or list the named presets.",
    )
    sub = p.add_subparsers(dest="stains_command", metavar="ACTION")
    est = sub.add_parser(
        "estimate",
        help="estimate the two stain vectors and the background of a slide, print JSON",
        description=(
            "Estimate the background (white point, from the thumbnail's glass) and the two stain "
            "vectors (Macenko, on level-0 pixels of the ROI or of tissue tiles) of SLIDE. Prints "
            "JSON usable by --stains (or QuPath's stain string with --qupath)."
        ),
    )
    est.add_argument("slide", metavar="SLIDE", help="slide or image file")
    est.add_argument("--roi", type=parse_roi, metavar="ROW,COL,HEIGHT,WIDTH",
                     help="level-0 region to estimate from (default: tiles sampled in the tissue)")
    est.add_argument("--stains", default="H-DAB", metavar="PRESET|FILE",
                     help="two-stain preset or JSON naming the stains (default H-DAB)")
    est.add_argument("--mpp", type=float, metavar="X", help="µm per pixel at level 0 (not needed here)")
    est.add_argument("--qupath", action="store_true", help="print QuPath's setColorDeconvolutionStains line")
    est.add_argument("--seed", type=int, default=0, help="random seed of the tile sampling (default 0)")
    est.set_defaults(func=_run_estimate)
    pre = sub.add_parser("presets", help="list the stain presets with their conditioning and references")
    pre.set_defaults(func=_run_presets)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _run_estimate(args: argparse.Namespace) -> int:
    import math

    from ..errors import MmnstPathError
    from ..io._metadata import MPP_RANGE_UM

    if args.mpp is not None and not (math.isfinite(args.mpp) and MPP_RANGE_UM[0] <= args.mpp <= MPP_RANGE_UM[1]):
        print(f"mmnst-path stains estimate: --mpp must be a plausible pixel size, {MPP_RANGE_UM[0]:g} to "
              f"{MPP_RANGE_UM[1]:g} µm per pixel, got {args.mpp:g}", file=sys.stderr)
        return 2
    from ..io import open_slide
    from ..stain import estimate_slide_stains, get_preset, load_stains

    try:
        reference = load_stains(args.stains)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with open_slide(args.slide, mpp=args.mpp) as reader:
                matrix = estimate_slide_stains(reader, roi=args.roi, reference=reference, seed=args.seed)
    except (MmnstPathError, OSError, ValueError) as exc:
        text = " ".join(str(exc).split())
        # the reader's errors mostly name the file already: name it once
        where = "" if str(args.slide) in text else f"{args.slide}: "
        print(f"mmnst-path stains estimate: {where}{text}", file=sys.stderr)
        return 1
    for w in caught:
        if "microns per pixel" in str(w.message):
            continue  # colour only: the scale of the slide does not matter here
        print(f"warning: {w.message}", file=sys.stderr)
    preset = get_preset("H-DAB") if reference.stain_names == ("hematoxylin", "dab") else reference
    for name in matrix.stain_names:
        if name in preset.names:
            from ..stain import angle_deg

            print(f"{name}: {angle_deg(matrix.vector(name), preset.vector(name)):.1f} degrees from "
                  f"{preset.name}", file=sys.stderr)
    print(matrix.to_qupath() if args.qupath else matrix.to_json())
    return 0


def _run_presets(args: argparse.Namespace) -> int:
    from ..stain import PRESETS, StainConditioningWarning, get_preset

    for name in PRESETS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StainConditioningWarning)
            m = get_preset(name)
        vecs = "  ".join(f"{n}=[{', '.join(f'{x:.3f}' for x in m.vector(n))}]" for n in m.stain_names)
        flag = "  POORLY CONDITIONED: two stains overlap by colour, read less surely where both lie" if (
            m.condition_number > 10) else ""
        print(f"{name:18s} cond={m.condition_number:5.1f} min_angle={m.min_angle_deg:4.1f}°  {vecs}{flag}")
        print(f"{'':18s} reference: {m.reference}")  # where the vectors come from (README: "Stain presets")
    return 0
