"""Experiment (#16, session 31 H3): what a lone real Ki67 tile's pigment stage pays for its white canvas, a ceiling.

``analyze_region`` plans a lone tile like a slide's: the image is the core, and the halo the Ki67 chain needs around
it is read past the image's edge as white (255). The pigment stage (``classify_pigment``) runs on that whole canvas:
2.81x (BCData) / 2.01x (SHIDC) the image's pixels at 0.5 µm/px (session 29 H4). Per tile (the first ``--tiles``
BCData and SHIDC tiles, default configuration, one thread), this script records the pigment stage's input as the
pipeline passes it (``pigment_stage_ab.pigment_calls``), then times, interleaved in this process (thread CPU,
median of ``--reps``):

- ``canvas``: ``classify_pigment`` on the input as passed;
- ``part``: the same call on the crop of the input to its non-white bounding box (the image) grown by the pigment
  stage's reach (``halo_parts(...)["pigment"]``, µm, rounded up to analysis pixels), every array keyword argument
  of the input's shape cropped alike.

``canvas - part`` bounds what any cut that skips the white canvas could save in the pigment stage (an exact cut
would also have to prove the canvas outside that crop gives no pigment and leaves the image's masks unchanged); it
is printed against the whole ``analyze_region`` call's CPU (timed in the same process). ``--reach-px 0`` crops to
the image alone (not exact: the image's border pixels then lose the white their windows read), the most any
handling of the canvas could save.

    PYTHONPATH=. python benchmarks/experiments/lone_canvas_ceiling.py [--tiles 10] [--reps 5] [--reach-px N]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pigment_stage_ab import KI67, ROOT, _decode, pigment_calls


def _crop_box(rgb: np.ndarray, reach_px: int) -> tuple[slice, slice] | None:
    """The non-white bounding box of ``rgb`` grown by ``reach_px`` (clipped), or None when all white."""
    inked = np.any(rgb != 255, axis=2)
    rows, cols = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
    if not rows.size:
        return None
    m, n = inked.shape
    return (slice(max(0, rows[0] - reach_px), min(m, rows[-1] + 1 + reach_px)),
            slice(max(0, cols[0] - reach_px), min(n, cols[-1] + 1 + reach_px)))


def _cropped(rgb: np.ndarray, kwargs: dict[str, Any], box: tuple[slice, slice]) -> tuple[np.ndarray, dict[str, Any]]:
    out = {k: (v[box] if isinstance(v, np.ndarray) and v.shape[:2] == rgb.shape[:2] else v) for k, v in kwargs.items()}
    return np.ascontiguousarray(rgb[box]), out


def _cpu(fn: Any, reps: int) -> float:
    t = []
    for _ in range(reps):
        t0 = time.thread_time()
        fn()
        t.append(time.thread_time() - t0)
    return statistics.median(t)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--tiles", type=int, default=10)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--reach-px", type=int, default=None,
                    help="grow the image's box by this many analysis pixels instead of the stage's reach (0: the "
                         "image alone, not exact: the most any handling of the canvas could save)")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from mmnst_path.classify.pigment import classify_pigment
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.pipeline._reach import halo_parts

    cfg = AnalysisConfig()
    reach_um = halo_parts(cfg, ("ki67", "melanin"))["pigment"]
    reach_px = math.ceil(reach_um / cfg.analysis_mpp) if args.reach_px is None else args.reach_px
    mpp = {k: float(v["mpp"]) for k, v in tomllib.loads((ROOT / "benchmarks/datasets.toml").read_text()).items()}
    print(f"pigment reach {reach_um:.2f} µm = {reach_px} px at {cfg.analysis_mpp} µm/px")
    print("| set | tile | canvas px / image px | part px / image px | tile ms | canvas ms | part ms | canvas - part ms |"
          " of the tile |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    per_set: dict[str, list[tuple[float, float]]] = {}
    with threadpool_limits(1):
        for ds in ("bcdata", "shidc"):
            paths = sorted(q for q in (KI67 / ds).iterdir() if q.suffix.lower() in (".png", ".jpg"))[: args.tiles]
            for p in paths:
                rgb0 = _decode(p)
                analyze_region(rgb0, mpp=mpp[ds])  # warm
                with pigment_calls() as calls:
                    analyze_region(rgb0, mpp=mpp[ds])
                tile = _cpu(lambda rgb0=rgb0, ds=ds: analyze_region(rgb0, mpp=mpp[ds]), args.reps)
                image_px = rgb0.shape[0] * rgb0.shape[1] * (mpp[ds] / cfg.analysis_mpp) ** 2
                for rgb, k in calls:
                    box = _crop_box(rgb, reach_px)
                    if box is None:
                        continue
                    crgb, ck = _cropped(rgb, k, box)
                    classify_pigment(crgb, **ck)  # warm the crop's shapes
                    full = _cpu(lambda rgb=rgb, k=k: classify_pigment(rgb, **k), args.reps)
                    part = _cpu(lambda crgb=crgb, ck=ck: classify_pigment(crgb, **ck), args.reps)
                    per_set.setdefault(ds, []).append((full - part, tile))
                    print(f"| {ds} | {p.name} | {rgb.shape[0] * rgb.shape[1] / image_px:.2f} | "
                          f"{crgb.shape[0] * crgb.shape[1] / image_px:.2f} | {1e3 * tile:.2f} | {1e3 * full:.2f} | "
                          f"{1e3 * part:.2f} | {1e3 * (full - part):.2f} | {(full - part) / tile:.1%} |", flush=True)
    for ds, v in per_set.items():
        saved = [a for a, _ in v]
        share = [a / t for a, t in v]
        print(f"{ds}: canvas - part mean {1e3 * statistics.mean(saved):.2f} ms, median share of the tile "
              f"{statistics.median(share):.2%} (range {min(share):.2%}-{max(share):.2%})")


if __name__ == "__main__":
    main()
