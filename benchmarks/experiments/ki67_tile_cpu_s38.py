"""Session 38 H3, gate 5: Ki67 analysis CPU per real tile, for the tree on ``PYTHONPATH``.

Loads the 24 real Ki67 tiles (BCData 10, SHIDC 10, DeepLIIF 4; research-only, read for timing),
analyses one first as a warm-up (compilation, model load), then each tile once through
``benchmarks/accuracy.py``'s ``measure_pipeline`` (``analyze_region``, default configuration) and
prints the summed CPU time (``time.process_time``) of the analyses, one JSON line. Runs of two
trees are interleaved by the caller (H, C, C, H, H, C) with the H/H and C/C spread as A/A control.

    cd TREE && PYTHONPATH=. python ki67_tile_cpu_s38.py /work/shared/data/ki67/{bcdata,shidc,deepliif}
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    folders = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    import accuracy

    items = [(it.rgb, accuracy.dataset_mpp(f)) for f in folders for it in accuracy.load_dataset(f)]
    warnings.simplefilter("ignore")
    accuracy.measure_pipeline(*items[0])
    per = []
    for rgb, mpp in items:
        t0 = time.process_time()
        accuracy.measure_pipeline(rgb, mpp)
        per.append(time.process_time() - t0)
    print(json.dumps({"tiles": len(per), "cpu_s": sum(per), "per_tile": per}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
