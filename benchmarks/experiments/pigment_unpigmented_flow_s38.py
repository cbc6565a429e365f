"""Experiment (#14 speed, session 38 H6): what the pigment stage decides on the 20 unpigmented BCData + SHIDC tiles.

Per tile, ``classify_pigment`` as the pipeline calls it (arguments captured by
``pigment_stage_ab.py capture tiles CAP.pkl``), with its steps observed: the pixels of the tile,
of the colour gate, of the brown bodies the body model decides from the image alone and their
skip region, of the pixel model's input (gate minus skip) and its candidates, the pixels the
pixel forest puts at >= ``min_probability``, and the final mask. Shows which steps run on pixels
that end with no pigment at all (the final mask).

    PYTHONPATH=. python benchmarks/experiments/pigment_unpigmented_flow_s38.py CAP.pkl
"""

from __future__ import annotations

import pickle
import sys
from typing import Any

import numpy as np


def main(cap: str) -> None:
    import mmnst_path.classify.pigment as cp
    import mmnst_path.detect.pigment as dp

    seen: dict[str, Any] = {}
    real_gate, real_prep, real_prob = dp.pigment_gate, cp.prepare_bodies, cp.pigment_probability

    def gate(*a: Any, **k: Any) -> Any:
        g = real_gate(*a, **k)
        seen["gate"] = int(np.count_nonzero(g[0]))
        return g

    def prep(*a: Any, **k: Any) -> Any:
        b = real_prep(*a, **k)
        seen["bodies"] = int(b.labels.max())
        seen["decided"] = int(np.count_nonzero(b.decided[1:]))
        return b

    def prob(*a: Any, **k: Any) -> Any:
        p, c = real_prob(*a, **k)
        seen.setdefault("where", int(np.count_nonzero(k["where"])) if k.get("where") is not None else -1)
        seen.setdefault("cand", int(np.count_nonzero(c)))
        seen["model_calls"] = seen.get("model_calls", 0) + 1
        return p, c

    dp.pigment_gate, cp.prepare_bodies, cp.pigment_probability = gate, prep, prob  # type: ignore[assignment]
    with open(cap, "rb") as f:
        data = [r for r in pickle.load(f) if r[1] in ("bcdata", "shidc")]
    print("| tile | pixels | gate | brown bodies (decided DAB) | model input | candidates | forest >= min_p | final mask |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, _, rgb, k in data:
        seen.clear()
        mask, p = cp.classify_pigment(rgb, **k)
        hi = int(np.count_nonzero(p >= k["params"].min_probability))
        print(f"| {name} | {rgb.shape[0] * rgb.shape[1]} | {seen.get('gate', 0)} | {seen.get('bodies', 0)} "
              f"({seen.get('decided', 0)}) | {seen.get('where', 0)} | {seen.get('cand', 0)} | {hi} | "
              f"{int(np.count_nonzero(mask))} |")


if __name__ == "__main__":
    main(sys.argv[1])
