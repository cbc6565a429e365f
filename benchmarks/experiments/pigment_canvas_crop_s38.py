"""Experiment (#14 speed, session 38 H6): how much of the pigment stage runs on a lone tile's white canvas.

A real Ki67 tile analysed alone (``analyze_region``) is planned with a white margin: at
0.5 µm/px the 640² BCData image becomes a 536² pigment-stage input (64 % white), a SHIDC one 732²
(50 % white), because the pipeline's lean window (``_worker._lean_reach``) grows the non-white
box by the pigment stage's declared reach, the rules' halo of 52.96 µm, over the learned path's
feature halo of 30.4 µm. Here ``classify_pigment`` runs on the captured inputs
(``pigment_stage_ab.py capture tiles CAP.pkl``) once as captured and once on the non-white box grown
by each margin given (µm, + 2 px, clipped; as ``_lean_reach`` rounds). The crop's mask is pasted
back into a False tile, and the script reports whether the masks are equal and the stage CPU ratio
(crop / full, 3 passes each, the 20 BCData + SHIDC tiles). A margin below the stage's true reach
is not exact in general: equal masks there only say that these tiles hold no pigment near their edge.

    PYTHONPATH=. python benchmarks/experiments/pigment_canvas_crop_s38.py CAP.pkl 0 10 20 30.4 40 52.957691216057306
"""

from __future__ import annotations

import math
import pickle
import sys
import time

import numpy as np


def main(cap: str, margins: list[float]) -> None:
    from mmnst_path.classify.pigment import classify_pigment

    with open(cap, "rb") as f:
        data = pickle.load(f)
    for _, _, rgb, k in data:
        classify_pigment(rgb, **k)
    for um in margins:
        same, full_s, crop_s = 0, 0.0, 0.0
        for name, ds, rgb, k in data:
            pad = math.ceil(um / k["mpp"]) + 2
            seen = (rgb != 255).any(axis=2)
            rows, cols = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
            r0, r1 = max(int(rows[0]) - pad, 0), min(int(rows[-1]) + 1 + pad, rgb.shape[0])
            c0, c1 = max(int(cols[0]) - pad, 0), min(int(cols[-1]) + 1 + pad, rgb.shape[1])
            crop = np.ascontiguousarray(rgb[r0:r1, c0:c1])
            whole, _ = classify_pigment(rgb, **k)
            part, _ = classify_pigment(crop, **k)
            back = np.zeros_like(whole)
            back[r0:r1, c0:c1] = part
            if np.array_equal(back, whole):
                same += 1
            else:
                print(f"  differs: {name} at {um} µm ({int(whole.sum())} vs {int(back.sum())} px)")
            if ds == "deepliif":
                continue
            for _ in range(3):
                t = time.process_time()
                classify_pigment(rgb, **k)
                full_s += time.process_time() - t
                t = time.process_time()
                classify_pigment(crop, **k)
                crop_s += time.process_time() - t
        print(f"margin {um!r} µm: equal masks {same}/{len(data)}; stage CPU crop / full (20 tiles) {crop_s / full_s!r}")


if __name__ == "__main__":
    main(sys.argv[1], [float(x) for x in sys.argv[2:]])
