"""Experiment (#16, session 18 H1): the nucleus detector's background and LoG seeds at 1 µm/px.

Not in the default path: this script swaps, in its own process only, two steps of
:func:`mmnst_path.detect.nuclei._labels_of` for coarse versions, and measures what that buys
(CPU time per tile, interleaved with the unchanged detector in the same process) and what it
costs (``benchmarks/accuracy.py`` on the annotated real Ki67 tiles):

- **background**: the plane is averaged over ``factor x factor`` blocks (1 µm/px at the 0.5 µm/px
  analysis resolution with ``factor = 2``), its local background (grey opening by a square of
  half-side ``background_radius_um``, box-smoothed) is computed there and repeated back onto the
  fine grid; the fine plane minus it, clipped at 0, as before (the background is a box mean over
  21 µm: smooth at 1 µm/px);
- **LoG seeds**: the contrast plane is averaged over the same blocks, the scale-space LoG runs there
  at radii / ``factor`` px (the same µm), its best response is repeated back onto the fine grid (the
  watershed's landscape) and each coarse seed is refined to the pixel of its block with the largest
  fine contrast ("seeds at 1 µm/px, refined at 0.5", issue #16).

The watershed, foreground, contours and measurements stay at 0.5 µm/px. Blocks are taken from the
planes' own pixel (0, 0): the tile-invariance of the default detector does not hold for this
variant (a slide tile's origin would have to be aligned to the blocks, and the halo would grow by
``factor - 1`` px); single tiles only, as accuracy.py analyses them.

Usage (from a checkout, one thread)::

    PYTHONPATH=$PWD python benchmarks/experiments/coarse_nuclei.py time [--tiles 5] [--repeat 3] [--steps seeds]
    PYTHONPATH=$PWD python benchmarks/experiments/coarse_nuclei.py accuracy ../shared/data/ki67/bcdata ... \
        [accuracy.py's options, e.g. --rotate 1] [--steps seeds|background]

``accuracy``: every argument this script does not know goes to ``benchmarks/accuracy.py``; give
``--steps`` last (it takes one or more step names).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
DATA = BENCH.parent.parent / "shared" / "data" / "ki67"


def block_mean(plane: np.ndarray, f: int) -> np.ndarray:
    """(ceil(M / f), ceil(N / f)) float32 means of the ``f x f`` blocks of ``plane`` (the last
    row / column of blocks repeats the plane's edge pixels)."""
    m, n = plane.shape
    pm, pn = -m % f, -n % f
    if pm or pn:
        plane = np.pad(plane, ((0, pm), (0, pn)), mode="edge")
    out = np.zeros((plane.shape[0] // f, plane.shape[1] // f), np.float32)
    for dr in range(f):  # strided sums: several times faster than reshape(...).mean(axis=(1, 3))
        for dc in range(f):
            out += plane[dr::f, dc::f]
    out *= np.float32(1.0 / (f * f))
    return out


def repeat_back(coarse: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """``coarse`` repeated ``f x f`` times (nearest), cut to ``shape``, C-contiguous float32."""
    out = np.repeat(np.repeat(coarse, f, axis=0), f, axis=1)
    return np.ascontiguousarray(out[: shape[0], : shape[1]], dtype=np.float32)


class Coarse:
    """Installs (and removes) the coarse background and LoG seeds in :mod:`mmnst_path.detect.nuclei`."""

    def __init__(self, factor: int = 2, steps: tuple[str, ...] = ("background", "seeds")) -> None:
        from mmnst_path.detect import nuclei

        self.nuclei = nuclei
        self.factor = int(factor)
        self.steps = steps
        self.fine_background = nuclei._minus_background
        self.fine_seeds = nuclei._log_seeds

    def minus_background(self, plane: np.ndarray, side: int) -> np.ndarray:
        f = self.factor
        half = (side - 1) // 2
        half_c = max(1, round(half / f))
        coarse = block_mean(plane, f)
        # the coarse plane minus its background, then the background itself = coarse - that
        sig = self.fine_background(coarse, 2 * half_c + 1)
        background = repeat_back(coarse - sig, f, plane.shape)
        np.subtract(plane, background, out=background)
        return np.maximum(background, 0.0, out=background)

    def log_seeds(self, contrast: np.ndarray, radii_px: tuple[float, ...], suppression: float,
                  min_response: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = self.factor
        coarse = block_mean(contrast, f)
        best_c, rows_c, cols_c = self.fine_seeds(coarse, tuple(r / f for r in radii_px), suppression, min_response)
        best = repeat_back(best_c, f, contrast.shape)
        m, n = contrast.shape
        rows = np.empty(rows_c.shape, np.intp)
        cols = np.empty(cols_c.shape, np.intp)
        for i, (rc, cc) in enumerate(zip(rows_c, cols_c, strict=True)):  # refine in the block
            r0, c0 = int(rc) * f, int(cc) * f
            block = contrast[r0 : min(r0 + f, m), c0 : min(c0 + f, n)]
            k = int(np.argmax(block))
            rows[i], cols[i] = r0 + k // block.shape[1], c0 + k % block.shape[1]
        return best, rows, cols

    def install(self) -> None:
        if "background" in self.steps:
            self.nuclei._minus_background = self.minus_background  # type: ignore[assignment]
        if "seeds" in self.steps:
            self.nuclei._log_seeds = self.log_seeds  # type: ignore[assignment]

    def remove(self) -> None:
        self.nuclei._minus_background = self.fine_background  # type: ignore[assignment]
        self.nuclei._log_seeds = self.fine_seeds  # type: ignore[assignment]


def _images(name: str, n: int) -> tuple[float, list[Path]]:
    with (BENCH / "datasets.toml").open("rb") as fh:
        mpp = float(tomllib.load(fh)[name]["mpp"])
    folder = DATA / name
    return mpp, sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg"))[:n]


def time_tiles(tiles: int, repeat: int, factor: int, steps: tuple[str, ...]) -> None:
    """CPU seconds of ``analyze_region`` per tile, fine and coarse alternating in one process."""
    from PIL import Image

    from mmnst_path.pipeline import analyze_region

    coarse = Coarse(factor, steps)
    print("| set | tiles | fine s/tile | coarse s/tile | coarse / fine |")
    print("|---|---:|---:|---:|---:|")
    for name in ("bcdata", "shidc"):
        mpp, paths = _images(name, tiles)
        imgs = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
        spent = {"fine": 0.0, "coarse": 0.0}
        for variant in ("fine", "coarse"):  # warm-up (numba, models)
            (coarse.install if variant == "coarse" else coarse.remove)()
            analyze_region(imgs[0], mpp=mpp)
        for _ in range(repeat):
            for img in imgs:
                for variant in ("fine", "coarse"):
                    (coarse.install if variant == "coarse" else coarse.remove)()
                    t0 = time.process_time()
                    analyze_region(img, mpp=mpp)
                    spent[variant] += time.process_time() - t0
        coarse.remove()
        k = repeat * len(imgs)
        fine_s, coarse_s = spent["fine"] / k, spent["coarse"] / k
        print(f"| {name} | {len(imgs)} | {fine_s:.4f} | {coarse_s:.4f} | {coarse_s / fine_s:.3f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["time", "accuracy"])
    ap.add_argument("--factor", type=int, default=2, help="coarse pixel = factor x analysis pixel (2: 1 µm/px)")
    ap.add_argument("--steps", nargs="+", default=["background", "seeds"], choices=["background", "seeds"],
                    help="which steps run at the coarse resolution")
    ap.add_argument("--tiles", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    args, rest = ap.parse_known_args(argv)
    if args.factor < 2:
        ap.error(f"--factor must be an integer >= 2, got {args.factor}")
    if args.mode == "time":
        time_tiles(args.tiles, args.repeat, args.factor, tuple(args.steps))
        return 0
    sys.path.insert(0, str(BENCH))
    import accuracy  # benchmarks/accuracy.py

    Coarse(args.factor, tuple(args.steps)).install()
    result: Any = accuracy.main(rest)
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())
