"""Session 44 H1: the guess of the START_HEAD tree on the thumbnails the gate script saved (``--save-thumbs``), to
check that the candidate with its new call off is HEAD's call (name, flag, marker, reason identical).

    cd HEAD_TREE && PYTHONPATH=. python CAND/benchmarks/experiments/sox10_two_populations_headcheck_s44.py THUMBS.npz
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np

from mmnst_path.stain.guess import guess_stains_detail


def main(path: str) -> None:
    z = np.load(path)
    keys = sorted({k.split("_")[0] for k in z.files}, key=int)
    same = 0
    for k in keys:
        mpp = float(z[f"{k}_mpp"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = guess_stains_detail(z[f"{k}_rgb"], z[f"{k}_mask"], mpp=None if math.isnan(mpp) else mpp)
        head = f"{g.name}|{g.ambiguous}|{g.marker}|{g.reason}"
        ok = head == str(z[f"{k}_head"])
        same += ok
        if not ok:
            print(f"DIFFERS {k}: START_HEAD {head!r} vs switch off {str(z[f'{k}_head'])!r}")
    print(f"{path}: {same} of {len(keys)} identical")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        main(p)
