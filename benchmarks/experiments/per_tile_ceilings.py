"""Experiment (#16, session 29 H4): what exact cuts outside the pigment pixel model could still buy
on a lone real Ki67 tile (``analyze_region``, the code path bench_peers times), measured not guessed.

``benchmarks/bench_profile.py --cpu`` gives the per-stage CPU; this script adds, per set (the first
``--tiles`` BCData / SHIDC tiles, one thread, after one warm-up pass of every tile):

- **job-level fixed costs**: the CPU milliseconds of what every ``analyze_region`` call resolves
  before its pixels (stain matrix, halo parts, the pigment model, the config mapping, model ids),
  each repeated ``--calls`` times in this process (warm caches);
- **window sizes**: the image at 0.5 µm/px, the part the pigment stage runs on, the Ki67 window,
  the crop nucleus detection works in, as pixels (mean over tiles);
- **zero windows of the detector's float32 Gaussians** (``detect.nuclei._gaussian32``: smoothing
  and the chained LoG scales): the share of output pixels whose whole (2r + 1)² window reads +0.0
  only (exactly +0.0 out, so a skip would be exact) and the share of output rows whose whole
  row window does; an upper bound on what skipping them could save of that filter's CPU;
- **tissue detection of a lone tile** (``tiling.tissue``): its thumbnail, the sigma of its five
  ``_gaussian_nearest`` calls and their CPU, against the whole ``tissue_mask``.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/per_tile_ceilings.py [--tiles 10] [--calls 200]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))
from bench_peers import DATA, _decode  # noqa: E402


def fixed_costs(calls: int) -> dict[str, float]:
    """CPU ms per call of the job-level work of one ``analyze_region`` call (warm)."""
    from mmnst_path.pipeline import AnalysisConfig, _config, _reach, _slide

    cfg = AnalysisConfig()
    matrix = cfg.stain_matrix()
    measures = _config.applicable_measures(cfg, matrix)
    steps: dict[str, Callable[[], Any]] = {
        "AnalysisConfig()": AnalysisConfig,
        "config.stain_matrix()": cfg.stain_matrix,
        "halo parts (_halo_um)": lambda: _reach._halo_um(cfg, measures),
        "ki67_halo_parts": lambda: _reach.ki67_halo_parts(cfg),
        "pigment_model_of": lambda: _reach.pigment_model_of(cfg, matrix),
        "config.to_mapping()": cfg.to_mapping,
        "model ids (_models)": lambda: _slide._models(cfg, measures, matrix),
    }
    out = {}
    for name, fn in steps.items():
        fn()
        t0 = time.process_time()
        for _ in range(calls):
            fn()
        out[name] = 1e3 * (time.process_time() - t0) / calls
    return out


def zero_shares(img: np.ndarray, radius: int) -> tuple[float, float]:
    """(share of output pixels, share of output rows) whose (2 radius + 1) window holds only +0.0
    (reflected borders read in-image pixels, so clipping the window to the image is the same)."""
    nz = (np.ascontiguousarray(img, dtype=np.float32).view(np.uint32) != 0).astype(np.int64)
    m, n = nz.shape
    cum = np.zeros((m + 1, n + 1), np.int64)
    cum[1:, 1:] = nz.cumsum(0).cumsum(1)
    r0 = np.clip(np.arange(m) - radius, 0, m)
    r1 = np.clip(np.arange(m) + radius + 1, 0, m)
    c0 = np.clip(np.arange(n) - radius, 0, n)
    c1 = np.clip(np.arange(n) + radius + 1, 0, n)
    win = cum[r1][:, c1] - cum[r0][:, c1] - cum[r1][:, c0] + cum[r0][:, c0]
    rows = cum[r1, n] - cum[r0, n]
    return float((win == 0).mean()), float((rows == 0).mean())


class Recorder:
    """Wraps library functions (in this process only) to record what the script reports."""

    def __init__(self) -> None:
        self.rec: dict[str, list[Any]] = defaultdict(list)
        self.on = False

    def install(self) -> None:
        import mmnst_path.detect.nuclei as nu
        import mmnst_path.pipeline._worker as wk
        import mmnst_path.quantify.ki67 as k
        import mmnst_path.tiling.tissue as ts
        from mmnst_path.detect._morphology import _gaussian_half_kernel

        def wrap(owner: Any, attr: str, before: Callable[..., None], timed: str | None = None) -> None:
            fn = getattr(owner, attr)

            def inner(*args: Any, **kwargs: Any) -> Any:
                if self.on:
                    before(*args, **kwargs)
                t0 = time.process_time()
                try:
                    return fn(*args, **kwargs)
                finally:
                    if self.on and timed:
                        self.rec[timed].append(time.process_time() - t0)

            setattr(owner, attr, inner)

        def gauss(img: np.ndarray, sigma: float) -> None:
            r = _gaussian_half_kernel(sigma, 4.0).shape[0] - 1
            self.rec["gauss"].append((r, img.size, *zero_shares(img, r)))

        wrap(nu, "_gaussian32", gauss, "gauss_cpu")
        wrap(wk, "_pigment", lambda rgb, *a, **kw: self.rec["pigment px"].append(rgb.shape[0] * rgb.shape[1]))
        wrap(k, "measure_ki67", lambda rgb, *a, **kw: self.rec["ki67 px"].append(rgb.shape[0] * rgb.shape[1]))
        wrap(nu, "_labels_of", lambda hem, *a, **kw: self.rec["detection px"].append(hem.size))
        wrap(ts, "_gaussian_nearest", lambda img, s: self.rec["tissue gauss"].append((img.shape, s)),
             "tissue_gauss_cpu")
        wrap(ts, "tissue_mask", lambda *a, **kw: None, "tissue_mask_cpu")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiles", type=int, default=10)
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args(argv)
    from mmnst_path.pipeline import analyze_region

    with (HERE / "datasets.toml").open("rb") as fh:
        scales = tomllib.load(fh)
    rec = Recorder()
    rec.install()
    print("| job-level step (every analyze_region call) | CPU ms a call |\n|---|---|")
    for name, ms in fixed_costs(args.calls).items():
        print(f"| {name} | {ms:.4f} |")
    for name in ("bcdata", "shidc"):
        mpp = float(scales[name]["mpp"])
        paths = sorted(p for p in (DATA / name).iterdir() if p.suffix.lower() in (".png", ".jpg"))[: args.tiles]
        images = [_decode(str(p)) for p in paths]
        for rgb in images:  # warm-up (numba, models)
            analyze_region(rgb, mpp=mpp)
        rec.rec.clear()
        rec.on = True
        t0 = time.process_time()
        for rgb in images:
            analyze_region(rgb, mpp=mpp)
        total = (time.process_time() - t0) / len(images)
        rec.on = False
        r = rec.rec
        image_px = np.mean([(round(im.shape[0] * mpp / 0.5)) * round(im.shape[1] * mpp / 0.5) for im in images])
        print(f"\n{name}: {len(images)} tiles, analyze_region {1e3 * total:.4f} ms CPU a tile")
        for key in ("pigment px", "ki67 px", "detection px"):
            print(f"  {key}: {np.mean(r[key]):.0f} a call ({np.mean(r[key]) / image_px:.4f} x the image's {image_px:.0f})")
        g = np.array(r["gauss"], dtype=np.float64)
        cpu = np.array(r["gauss_cpu"])
        for rad in sorted(set(g[:, 0].astype(int))):
            sel = g[:, 0] == rad
            print(f"  detector Gaussian r={rad}: {sel.sum() / len(images):.1f} calls a tile, "
                  f"{1e3 * cpu[sel].sum() / len(images):.4f} ms a tile; zero-window pixels "
                  f"{np.average(g[sel, 2], weights=g[sel, 1]):.4f}, zero-window rows {np.average(g[sel, 3], weights=g[sel, 1]):.4f}")
        shapes = sorted({(s, round(sig, 3)) for s, sig in r["tissue gauss"]})
        print(f"  tissue_mask {1e3 * np.sum(r['tissue_mask_cpu']) / len(images):.4f} ms a tile, of which its "
              f"{len(r['tissue gauss']) / len(images):.0f} Gaussians {1e3 * np.sum(r['tissue_gauss_cpu']) / len(images):.4f}"
              f" ms (thumbnail, sigma px: {shapes[:3]}{' ...' if len(shapes) > 3 else ''})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
