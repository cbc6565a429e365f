"""Experiment (#16, session 29 H6): is the pigment stage's mask local to its declared reach on real
slide tiles?

A stage computed once per slide pixel (blocks stitched across tiles, instead of once per tile
image) is exact only when the mask at a pixel depends on the image within the stage's reach
(:func:`~mmnst_path.pipeline._reach.ki67_halo_parts` ``pigment``) and on nothing else. This runs
one ``analyze_slide`` (1 worker, Ki67 forced, H-DAB, 0.5 µm/px) and, for the first ``--tiles``
tiles whose pigment-stage image is at least 1000 px a side (``--marked``: and whose mask is not
empty), runs the same stage (``_worker._pigment``) on sub-rectangles of that image cut at a few
offsets, and counts the pixels farther than the reach (+ ``--margin`` px) from every cut edge whose
mask differs from the whole image's. (On generated pigmented tiles: pigment_locality_generated.py.)

    PYTHONPATH=. python benchmarks/experiments/pigment_locality.py SLIDE[@MPP] [--tiles 4] [--marked] [--margin 0]
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

#: (top, bottom, left, right) pixels cut off the tile image
CUTS = ((300, 0, 457, 0), (0, 333, 0, 211), (123, 401, 389, 77))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("slide", metavar="SLIDE[@MPP]")
    ap.add_argument("--margin", type=int, default=0, help="extra pixels kept from each cut edge")
    ap.add_argument("--tiles", type=int, default=4, help="whole-image tiles to test")
    ap.add_argument("--marked", action="store_true", help="only tiles whose mask is not empty")
    args = ap.parse_args()
    import mmnst_path.pipeline._worker as worker
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    path, _, mpp = args.slide.partition("@")
    config = AnalysisConfig(measures=("ki67",), stains="H-DAB")
    reach_um = worker.ki67_halo_parts(config)["pigment"]
    orig = worker._pigment
    done: list[str] = []

    def pig(rgb: Any, mpp_: float, job: Any, planes: Any = None) -> Any:
        out = orig(rgb, mpp_, job, planes=planes)
        if len(done) >= args.tiles * len(CUTS) or rgb.shape[0] < 1000 or rgb.shape[1] < 1000:
            return out
        if args.marked and not np.asarray(out[0]).any():
            return out
        px = math.ceil(reach_um / mpp_) + args.margin
        whole = np.asarray(out[0], bool)
        for top, bottom, left, right in CUTS:
            m, n = rgb.shape[:2]
            sub = np.ascontiguousarray(rgb[top : m - bottom, left : n - right])
            part = np.asarray(orig(sub, mpp_, job)[0], bool)
            r0, r1 = (px if top else 0), part.shape[0] - (px if bottom else 0)
            c0, c1 = (px if left else 0), part.shape[1] - (px if right else 0)
            diff = part[r0:r1, c0:c1] != whole[top + r0 : top + r1, left + c0 : left + c1]
            done.append(f"tile {len(done) // len(CUTS)} {rgb.shape[:2]} cut {(top, bottom, left, right)}: "
                        f"mask px {int(whole.sum())}, interior px {diff.size}, differing {int(diff.sum())}")
            print(done[-1], flush=True)
        return out

    worker._pigment = pig
    try:
        analyze_slide(path, config, mpp=float(mpp) if mpp else None, workers=1)
    finally:
        worker._pigment = orig
    print(f"reach {reach_um} µm = {math.ceil(reach_um / float(mpp or 0.5))} px (+ margin {args.margin})")


if __name__ == "__main__":
    main()
