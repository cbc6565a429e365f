"""Stain separation throughput against peers and the memory-traffic limit, in one process.

Usage (from the project root)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_stain.py

Prints a Markdown table for 1024² and 4096² uint8 tiles (the real scikit-image IHC tile,
repeated): MPx/s (best of several runs), ratio to the trivial-kernel limit, and the max abs
difference of the H and DAB outputs to a float64 reference (log10 per pixel + linear solve with
the same stain matrix, in our log10-OD units; scikit-image outputs are converted with
``od_from_skimage`` and its row norms, and compared to the reference clipped at 0 as it clips).
Threads: 1 and 2 (numba threads, BLAS threads via threadpoolctl, numpy path split in 2 threads).

Our paths write into a preallocated ``out`` buffer (as the trivial kernel does); scikit-image
allocates its outputs. Pixels with a 0 channel are left out of the scikit-image differences.
"""

# ruff: noqa: B023  (closures are called inside the loop iteration that defines them)

from __future__ import annotations

import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(1 + len([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]), str(ROOT))  # after PYTHONPATH's trees

from mmnst_path.stain import StainMatrix, get_preset, od_from_skimage, separate_stains  # noqa: E402

STAINS = ("hematoxylin", "dab")


def _tile(size: int) -> np.ndarray:
    from skimage.io import imread

    src = imread(ROOT / ".." / "shared" / "data" / "ihc" / "skimage_ihc.png")[..., :3]
    reps = -(-size // src.shape[0])
    return np.ascontiguousarray(np.tile(src, (reps, reps, 1))[:size, :size])


def _reference(rgb: np.ndarray, matrix: StainMatrix) -> np.ndarray:
    od = -np.log10(np.maximum(rgb.astype(np.float64), 1.0) / 255.0).reshape(-1, 3)
    conc = np.linalg.solve(matrix.vectors.T, od.T).T
    cols = [matrix.names.index(s) for s in STAINS]
    return conc[:, cols].reshape(*rgb.shape[:2], len(cols))


def _best(fn, repeats: int) -> float:
    fn()  # warm-up (JIT, page faults)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _trivial_kernels():
    from numba import njit, prange

    @njit(parallel=True, cache=False, boundscheck=False)
    def trivial(rgb2, out2):  # pragma: no cover - compiled
        n = rgb2.shape[0]
        chunk = 4096
        for ci in prange((n + chunk - 1) // chunk):
            for p in range(ci * chunk, min(ci * chunk + chunk, n)):
                out2[p, 0] = np.float32(rgb2[p, 0])
                out2[p, 1] = np.float32(rgb2[p, 2])

    return trivial


def main() -> None:
    import numba
    import skimage
    from skimage.color import hdx_from_rgb, rgb2hed, rgb_from_hdx, rgb_from_hed
    from skimage.color import separate_stains as sk_separate
    from threadpoolctl import threadpool_limits

    try:
        from histomicstk.preprocessing.color_deconvolution import color_deconvolution as htk
    except ImportError:
        htk = None

    trivial = _trivial_kernels()
    ours = get_preset("H-DAB")
    sk_hed = StainMatrix(("hematoxylin", "eosin", "dab"), rgb_from_hed, _warn=False)
    sk_hdx = StainMatrix(("hematoxylin", "dab", "x"), rgb_from_hdx, _warn=False)
    hed_norm = np.linalg.norm(rgb_from_hed, axis=1)
    hdx_norm = np.linalg.norm(rgb_from_hdx, axis=1)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
          f"scikit-image {skimage.__version__}, HistomicsTK {'yes' if htk else 'not installed'}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}, "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE')}")
    print()
    print("| tile | method | threads | MPx/s | x limit | max abs diff to float64 (log10 OD) |")
    print("|---|---|---|---|---|---|")
    for size in (1024, 4096):
        rgb = _tile(size)
        rgb2 = rgb.reshape(-1, 3)
        mpx = rgb.shape[0] * rgb.shape[1] / 1e6
        repeats = 7 if size == 1024 else 3
        ref = _reference(rgb, ours)
        ref_hed = np.clip(_reference(rgb, sk_hed), 0, None)
        ref_hdx = np.clip(_reference(rgb, sk_hdx), 0, None)
        out2 = np.empty((rgb2.shape[0], 2), np.float32)
        out3 = out2.reshape(*rgb.shape[:2], 2)
        valid = rgb.min(axis=2) >= 1  # scikit-image floors 0 at 1e-6, we at 1: compare on >= 1
        copy_dst = np.empty_like(rgb)
        rows = []
        for threads in (1, 2):
            numba.set_num_threads(threads)

            def numpy_path(threads=threads):
                if threads == 1:
                    return separate_stains(rgb, ours, stains=STAINS, backend="numpy", out=out3)
                halves = np.array_split(np.arange(rgb.shape[0]), threads)
                with ThreadPoolExecutor(threads) as pool:
                    parts = list(pool.map(
                        lambda r: separate_stains(rgb[r[0]: r[-1] + 1], ours, stains=STAINS, backend="numpy"),
                        halves))
                return np.concatenate(parts)

            limit_t = _best(lambda: trivial(rgb2, out2), repeats)
            limit = mpx / limit_t
            cases = [
                ("trivial kernel (read RGB, write 2 float32 planes; numba)", limit_t, None),
                ("memcpy of the RGB tile (np.copyto)", _best(lambda: np.copyto(copy_dst, rgb), repeats), None),
            ]
            res = numpy_path()
            cases.append(("**ours, numpy** (pair LUT, blocks)", _best(numpy_path, repeats),
                          np.abs(res - ref).max()))
            res = separate_stains(rgb, ours, stains=STAINS, backend="numba")
            cases.append(("**ours, numba** (fused LUT)", _best(
                lambda: separate_stains(rgb, ours, stains=STAINS, backend="numba", out=out3), repeats),
                np.abs(res - ref).max()))
            with threadpool_limits(limits=threads):
                hed = rgb2hed(rgb)
                conv = od_from_skimage(hed[..., [0, 2]] * hed_norm[[0, 2]])
                cases.append(("scikit-image rgb2hed", _best(lambda: rgb2hed(rgb), max(1, repeats // 2)),
                              np.abs(conv - ref_hed)[valid].max()))
                hdx = sk_separate(rgb, hdx_from_rgb)
                conv = od_from_skimage(hdx[..., :2] * hdx_norm[:2])
                cases.append(("scikit-image separate_stains (hdx)",
                              _best(lambda: sk_separate(rgb, hdx_from_rgb), max(1, repeats // 2)),
                              np.abs(conv - ref_hdx)[valid].max()))
                if htk is not None:
                    w = ours.vectors.T
                    cases.append(("HistomicsTK color_deconvolution", _best(lambda: htk(rgb, w), 1), None))
            for name, t, diff in cases:
                rate = mpx / t
                diff_s = "-" if diff is None else f"{diff:.1e}"
                rows.append(f"| {size}² | {name} | {threads} | {rate:,.0f} | {rate / limit:.2f} | {diff_s} |")
        print("\n".join(rows))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
