"""Experiment (#16, session 37 H2): what each exact cut saves, timed in one process on the inputs the pipeline
gives it (the dev tiles of exact_tile_cuts_s37.py): the counted-pixel gather against the reference gather of
tests/pipeline/test_tile_exact_cuts.py (checked equal first), the owned count, one Ki67-reach computation.

    PYTHONPATH=. python benchmarks/experiments/exact_tile_cuts_size_s37.py
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "experiments"))
sys.path.insert(0, str(ROOT / "tests" / "pipeline"))


def _ms(fn: Callable[[], Any], n: int = 20) -> float:
    """Mean CPU milliseconds of ``fn()`` over ``n`` calls after one untimed call."""
    fn()
    t0 = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - t0) / n * 1e3


def main() -> None:
    import exact_tile_cuts_s37 as gate
    from test_tile_exact_cuts import _reference_pixels

    import mmnst_path.pipeline._region as region_mod
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.pipeline._reach import ki67_halo_parts

    caught: list[tuple[Any, Any]] = []
    real = region_mod.TileRegion.pixels

    def spy(self: Any, tile: Any) -> np.ndarray:
        caught.append((self, tile))
        return real(self, tile)

    region_mod.TileRegion.pixels = spy  # type: ignore[method-assign]
    data = gate._dev_tiles()
    for rgb, mpp in data:
        analyze_region(rgb, mpp=mpp)
    region_mod.TileRegion.pixels = real  # type: ignore[method-assign]
    print(f"{len(data)} dev tiles; TileRegion.pixels reached on {len(caught)}")
    for part, tile in caught:
        assert np.array_equal(part.pixels(tile), _reference_pixels(part, tile))
        print(f"tile {tile.shape}: row gather {_ms(lambda p=part, t=tile: p.pixels(t)):.3f} ms, "
              f"reference {_ms(lambda p=part, t=tile: _reference_pixels(p, t)):.3f} ms")
    shape = caught[-1][1].shape if caught else (1240, 1240)
    owned = np.zeros(shape, bool)
    owned[shape[0] // 4 : 3 * shape[0] // 4, shape[1] // 4 : 3 * shape[1] // 4] = True
    print(f"owned {shape}: .sum() {_ms(owned.sum, 200):.3f} ms, count_nonzero {_ms(lambda: np.count_nonzero(owned), 200):.3f} ms")
    print(f"ki67_halo_parts(a fresh default config): {_ms(lambda: ki67_halo_parts(AnalysisConfig()), 200):.3f} ms")


if __name__ == "__main__":
    main()
