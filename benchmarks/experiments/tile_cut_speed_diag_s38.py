"""Session 38 H4 (#16), diagnosis after gate 5 (not a gate): where the pigment stage's CPU goes on the default
CMU-1 run. Run from a tree (``cd TREE && PYTHONPATH=. python .../tile_cut_speed_diag_s38.py``): the process CPU of
the body-column functions of that tree (whichever exist), of ``pigment_probability`` and of ``_worker._pigment``,
summed over the tiles, one run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

SLIDE = "/work/shared/data/wsi/CMU-1-Small-Region.svs"


def _timed(mod: Any, name: str, acc: dict[str, float]) -> None:
    if not hasattr(mod, name):
        return
    real: Callable[..., Any] = getattr(mod, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            acc[name] = acc.get(name, 0.0) + time.process_time() - t0

    setattr(mod, name, wrapper)


def main() -> None:
    from mmnst_path.classify import pigment as pig
    from mmnst_path.pipeline import AnalysisConfig, _worker, analyze_slide

    acc: dict[str, float] = {}
    try:
        from mmnst_path.classify import _pigment_reach_bodies as rb

        _timed(rb, "enclosed", acc)
    except ImportError:  # HEAD: no bounded columns
        pass
    for name in ("bounded_body_columns", "_brown_mask", "_body_table", "pigment_probability"):
        _timed(pig, name, acc)
    _timed(_worker, "_pigment", acc)
    analyze_slide(SLIDE, AnalysisConfig(stains="auto"), mpp=0.5, workers=1)
    print({k: round(v, 4) for k, v in acc.items()})


if __name__ == "__main__":
    main()
