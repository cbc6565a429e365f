"""Experiment (#14 speed, session 38 H6): inclusive CPU of the pigment stage's parts on the 20 BCData + SHIDC tiles.

Wraps the stage's functions with process-CPU timers (inclusive; ``_window_columns`` is a
generator: the time between its yields), then calls ``classify_pigment`` on the captured
arguments (``pigment_stage_ab.py capture tiles CAP.pkl``): one untimed pass, then 3 passes; ms a
tile per set. Parts overlap (inclusive); the stage total is the call's own CPU.

    PYTHONPATH=. python benchmarks/experiments/pigment_unpigmented_parts_s38.py CAP.pkl
"""

from __future__ import annotations

import collections
import importlib
import pickle
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

ACC: dict[str, float] = collections.defaultdict(float)
PIXEL = "mmnst_path.classify.pigment"
BODIES = "mmnst_path.classify._pigment_bodies"


def _timed(f: Callable[..., Any], label: str) -> Callable[..., Any]:
    def w(*a: Any, **k: Any) -> Any:
        t = time.process_time()
        try:
            return f(*a, **k)
        finally:
            ACC[label] += time.process_time() - t
    return w


def _timed_gen(f: Callable[..., Iterator[Any]], label: str) -> Callable[..., Iterator[Any]]:
    def w(*a: Any, **k: Any) -> Iterator[Any]:
        it = f(*a, **k)
        while True:
            t = time.process_time()
            try:
                v = next(it)
            except StopIteration:
                ACC[label] += time.process_time() - t
                return
            ACC[label] += time.process_time() - t
            yield v
    return w


def _wrap(modname: str, name: str, label: str | None = None) -> None:
    mod = importlib.import_module(modname)
    setattr(mod, name, _timed(getattr(mod, name), label or name))


def main(cap: str) -> None:
    for n in ("pigment_probability", "prepare_bodies", "learned_body_veto", "_candidates", "_body_table",
              "_wide_at", "_od_planes", "_brown_mask", "_windows", "_planes_box"):
        _wrap(PIXEL, n)
    cp = importlib.import_module(PIXEL)
    cp._window_columns = _timed_gen(cp._window_columns, "_window_columns")  # type: ignore[attr-defined]
    for n in ("pigment_gate", "pigment_channels", "clustered_pigment"):
        _wrap("mmnst_path.detect.pigment", n)
    _wrap("mmnst_path.stain", "od_from_rgb")
    for n in ("body_image_features", "model_free_dab", "put_model_features", "body_melanin_probability"):
        _wrap(BODIES, n, "bodies." + n)
    bodies = importlib.import_module(BODIES)
    bodies.BrownBodies.skip_region = _timed(bodies.BrownBodies.skip_region, "skip_region")  # type: ignore[method-assign]
    model = importlib.import_module("mmnst_path.classify.model")
    model.ClassifierModel.predict_proba = _timed(  # type: ignore[method-assign]
        model.ClassifierModel.predict_proba, "predict_proba (pixel and body models)")
    with open(cap, "rb") as f:
        data = [r for r in pickle.load(f) if r[1] in ("bcdata", "shidc")]
    for _, _, rgb, k in data:
        cp.classify_pigment(rgb, **k)
    reps = 3
    for ds in ("bcdata", "shidc"):
        ACC.clear()
        tot = 0.0
        for _ in range(reps):
            for _, d, rgb, k in data:
                if d == ds:
                    t = time.process_time()
                    cp.classify_pigment(rgb, **k)
                    tot += time.process_time() - t
        n = sum(d == ds for _, d, _, _ in data) * reps
        print(f"== {ds} stage ms/tile {tot / n * 1000:.2f}")
        for key, v in sorted(ACC.items(), key=lambda x: -x[1]):
            print(f"  {key:40s} {v / n * 1000:.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
