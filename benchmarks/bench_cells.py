"""Cost of the nucleus (cell) model next to nucleus detection, per tile, one thread.

Usage::

    python benchmarks/bench_cells.py [--repeat 3]

On the bundled Ki67 sample tiles (1024² px at 0.5 µm/px) and on real Ki67 tiles of
``../shared/data/ki67`` resampled to 0.5 µm/px, times (best of ``--repeat``, interleaved):
the deconvolution + detection alone, the per-nucleus features, the forest prediction, and the
whole ``measure_ki67`` with ``cell_model = "none"`` and ``"default"``; the ratio is the model's
share of the Ki67 time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(1 + len([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]), str(HERE.parent))  # after PYTHONPATH's trees
sys.path.insert(0, str(HERE))


def _images() -> list[tuple[str, np.ndarray]]:
    import tifffile

    from mmnst_path.io._resample import resize_area

    out = []
    for name in ("ki67_primary", "ki67_recurrence", "ki67_pigmented"):
        out.append((name, tifffile.imread(HERE.parent / "sample_tiles" / f"{name}.tif")[..., :3]))
    real = HERE.parent.parent / "shared" / "data" / "ki67"
    if real.is_dir():
        from accuracy import dataset_mpp, load_dataset

        for ds in ("bcdata", "shidc"):
            folder = real / ds
            mpp = dataset_mpp(folder)
            for item in load_dataset(folder)[:2]:
                f = mpp / 0.5
                shape = (round(item.rgb.shape[0] * f), round(item.rgb.shape[1] * f))
                out.append((f"{ds}/{item.name}", resize_area(item.rgb, shape)))
    return out


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    from threadpoolctl import threadpool_limits

    from mmnst_path.classify import nucleus_features, resolve_model
    from mmnst_path.classify.cells import feature_settings
    from mmnst_path.detect.nuclei import nuclei_from_stains
    from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67
    from mmnst_path.stain import get_preset, separate_stains

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    model = resolve_model("default", "nucleus")
    assert model is not None
    settings = feature_settings(model)
    matrix = get_preset("H-DAB")
    print(f"{'image':24s} {'MPx':>5s} {'nuclei':>6s} {'detect s':>8s} {'feat s':>7s} {'pred s':>7s} "
          f"{'ki67 none s':>11s} {'ki67 model s':>12s} {'model share':>11s}")
    shares = []
    with threadpool_limits(1):
        for name, rgb in _images():
            conc = separate_stains(rgb, matrix, stains=("hematoxylin", "dab"))
            hem, dab = conc[..., 0].copy(), conc[..., 1].copy()
            nuc = nuclei_from_stains(hem, dab, mpp=0.5, return_labels=True)
            x = nucleus_features(nuc.labels, hem, dab, mpp=0.5, settings=settings)
            t_det = _best(lambda: nuclei_from_stains(hem, dab, mpp=0.5, return_labels=True), args.repeat)  # noqa: B023
            t_feat = _best(lambda: nucleus_features(nuc.labels, hem, dab, mpp=0.5, settings=settings), args.repeat)  # noqa: B023
            t_pred = _best(lambda: model.predict_proba(x), args.repeat)  # noqa: B023
            t_none = _best(lambda: measure_ki67(rgb, mpp=0.5, params=Ki67Params(cell_model="none")), args.repeat)  # noqa: B023
            t_model = _best(lambda: measure_ki67(rgb, mpp=0.5), args.repeat)  # noqa: B023
            share = (t_model - t_none) / t_model
            shares.append(share)
            print(f"{name:24s} {rgb.shape[0] * rgb.shape[1] / 1e6:5.2f} {len(nuc):6d} {t_det:8.3f} {t_feat:7.3f} "
                  f"{t_pred:7.3f} {t_none:11.3f} {t_model:12.3f} {100 * share:10.1f}%")
    print(f"model share of the Ki67 time: mean {100 * np.mean(shares):.1f}%, max {100 * np.max(shares):.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
