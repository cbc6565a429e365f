"""Session 39 H6 (#13): CPU of the tissue features per call site during one ``analyze_slide`` (dev profile).

Wraps the Gaussians (``tissue_features._g``, scipy's ``gaussian_laplace`` / ``gaussian_gradient_magnitude``),
``block_mean``, ``_coherence_of``, ``od_from_rgb``, ``np.stack`` / ``np.concatenate`` with ``time.process_time``
timers keyed by the calling function and line (for ``gw``, the windowed Gaussian helper, also the line that called
it), and ``base_maps`` / ``features_from_base`` as wholes. The wrappers add overhead (~25 % on TCGA); read the
figures as shares. Run from a tree's root with ``PYTHONPATH=.``::

    python benchmarks/experiments/tissue_feature_profile_s39.py SLIDE MPP [default|nonec]
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))

T: collections.Counter[str] = collections.Counter()
N: collections.Counter[str] = collections.Counter()
TOTAL: collections.Counter[str] = collections.Counter()


def _wrap(mod: Any, name: str, label: str) -> None:
    fn = getattr(mod, name)

    def timed(*a: Any, **k: Any) -> Any:
        fr = sys._getframe(1)
        key = f"{label}@{fr.f_code.co_name}:{fr.f_lineno}"
        if fr.f_code.co_name in ("gw", "<lambda>") and fr.f_back is not None:
            key += f"<-{fr.f_back.f_lineno}"
        t = time.process_time()
        r = fn(*a, **k)
        T[key] += time.process_time() - t
        N[key] += 1
        return r

    setattr(mod, name, timed)


def _wrap_whole(name: str) -> None:
    import mmnst_path.classify.tissue as tt
    import mmnst_path.classify.tissue_features as tf

    fn = getattr(tf, name)

    def timed(*a: Any, **k: Any) -> Any:
        t = time.process_time()
        r = fn(*a, **k)
        TOTAL[name] += time.process_time() - t
        return r

    setattr(tf, name, timed)
    if hasattr(tt, name):
        setattr(tt, name, timed)


def main() -> None:
    from tissue_cost_s37 import _config

    import mmnst_path.classify.tissue_features as tf
    import mmnst_path.stain as stain
    from mmnst_path.pipeline import analyze_slide

    for mod, name, label in ((tf, "_g", "g"), (tf, "block_mean", "bm"), (tf, "_coherence_of", "coh"),
                             (ndi, "gaussian_laplace", "LoG"), (ndi, "gaussian_gradient_magnitude", "ggm"),
                             (stain, "od_from_rgb", "od"), (np, "stack", "stack"), (np, "concatenate", "cat")):
        _wrap(mod, name, label)
    for name in ("base_maps", "features_from_base"):
        _wrap_whole(name)
    slide, mpp = sys.argv[1], float(sys.argv[2])
    t0 = time.process_time()
    analyze_slide(slide, _config(sys.argv[3] if len(sys.argv) > 3 else "default"), mpp=mpp, workers=1)
    print("total CPU", time.process_time() - t0, dict(TOTAL))
    for key, v in sorted(T.items(), key=lambda kv: -kv[1]):
        if v > 0.01:
            print(f"{v:8.3f} {N[key]:5d} {key}")


if __name__ == "__main__":
    main()
