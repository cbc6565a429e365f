"""Session 34 H6, rule gate 5: CPU time of nucleus detection on the real BCData and SHIDC tiles.

Each tile is brought to 0.5 µm/px (area resampling, the pipeline's analysis resolution; mpp from
``benchmarks/datasets.toml``) and unmixed once (H-DAB preset); then ``nuclei_from_stains`` (default
parameters, labels returned as the Ki67 stage asks) runs on every tile ``--reps`` times after one warm-up
pass, and the process CPU time (``time.process_time``) of each pass over all tiles is printed (seconds).
Run it alternately under two checkouts (``PYTHONPATH``) for paired A/B timings.

    PYTHONPATH=<tree> python pale_contour_speed_s34.py ../shared/data/ki67/bcdata ../shared/data/ki67/shidc
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    import numpy as np
    from PIL import Image

    from mmnst_path.detect.nuclei import nuclei_from_stains, stain_planes
    from mmnst_path.io._resample import resize_area

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from accuracy import dataset_mpp

    reps = 3
    planes = []
    for folder in map(Path, argv):
        mpp = dataset_mpp(folder)
        files = sorted(p for p in folder.iterdir() if p.suffix in (".png", ".jpg"))[:10]
        for path in files:
            with Image.open(path) as im:
                rgb = np.asarray(im.convert("RGB"))
            f = mpp / 0.5
            rgb = resize_area(rgb, (round(rgb.shape[0] * f), round(rgb.shape[1] * f)))
            planes.append(stain_planes(rgb))
    for hem, dab in planes:  # warm-up (numba caches, allocator)
        nuclei_from_stains(hem, dab, mpp=0.5, return_labels=True)
    times = []
    for _ in range(reps):
        t0 = time.process_time()
        for hem, dab in planes:
            nuclei_from_stains(hem, dab, mpp=0.5, return_labels=True)
        times.append(time.process_time() - t0)
    print(json.dumps({"tiles": len(planes), "cpu_s": times}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
