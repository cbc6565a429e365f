"""Experiment (#16, session 37 H2): ``bench_profile.py``'s per-stage table of the default lone-tile path on dev
inputs, with timers on more of the tile and job bookkeeping (CPU clock).

Inputs (dev only: no research-only Ki67 set): EndoNuke ``staining_ds`` (the first 5, 395², taken at 0.25 µm/px)
and generated ``ki67_cells_tile`` seeds 40-42 at 640² / 0.25 µm/px (column ``dev025``), seeds 50-52 at
1228² / 0.21 µm/px (``gen021``), written as PNG into a temporary folder and decoded as bench_profile does.

    PYTHONPATH=. python benchmarks/experiments/tile_stage_profile_dev_s37.py [REPEAT]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_profile as bp

EXTRA = (
    ("mmnst_path.pipeline._region", "CountRegion.from_tissue", "count region"),
    ("mmnst_path.pipeline._slide", "apply_spindle_sheet", "spindle sheet"),
    ("mmnst_path.pipeline._slide", "apply_slide_threshold", "slide threshold"),
    ("mmnst_path.pipeline._slide", "find_hotspot", "hotspot"),
    ("mmnst_path.pipeline._slide", "_assemble_maps", "assemble maps"),
    ("mmnst_path.pipeline._slide", "with_slide_white_point", "white point"),
    ("mmnst_path.pipeline._slide", "_models", "models"),
    ("mmnst_path.pipeline._slide", "_halo_um", "halo"),
    ("mmnst_path.pipeline._worker", "_owned_mask", "owned mask"),
    ("mmnst_path.pipeline._region", "TileRegion.pixels", "region pixels"),
    ("mmnst_path.pipeline._worker", "_lean_windows", "lean windows"),
    ("mmnst_path.pipeline._worker", "_ki67_window", "ki67 window"),
    ("mmnst_path.pipeline._worker", "_ki67_cells", "ki67 cells table"),
    ("mmnst_path.pipeline._worker", "_block_sums", "block sums"),
    ("mmnst_path.pipeline._worker", "_planes_at", "planes at"),
    ("mmnst_path.quantify.ki67", "_near_black_fraction", "near black"),
    ("mmnst_path.quantify.ki67", "_ring_mean", "ring mean"),
    ("mmnst_path.quantify.ki67", "neutral_dab_od", "neutral dab"),
    ("mmnst_path.tiling.tissue", "tissue_mask", "tissue_mask"),
    ("mmnst_path.quantify.melanin", "tissue_from_rgb", "melanin tissue"),
)


def main() -> None:
    from PIL import Image

    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    bp.STAGES = bp.STAGES + EXTRA
    bp._clock = time.process_time
    endo = Path(__file__).resolve().parents[3] / "shared" / "train" / "endonuke" / "staining_ds"
    with tempfile.TemporaryDirectory() as tmp:
        a = sorted(endo.glob("*.png"))[:5]
        b = []
        for s in (40, 41, 42):
            a.append(Path(tmp) / f"g640_{s}.png")
            Image.fromarray(ki67_cells_tile(s, size=640, mpp=0.25).rgb).save(a[-1])
        for s in (50, 51, 52):
            b.append(Path(tmp) / f"g1228_{s}.png")
            Image.fromarray(ki67_cells_tile(s, size=1228, mpp=0.21).rgb).save(b[-1])
        per_set, missing = bp.run({"dev025": (0.25, a), "gen021": (0.21, b)}, repeat)
    print(bp.table(per_set))
    print("missing:", missing)


if __name__ == "__main__":
    main()
