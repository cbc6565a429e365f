"""Tile-read benchmark: every level-0 512x512 tile of a generated JPEG pyramidal TIFF.

Readers compared, one thread each, in one run on the same file:

(a) a plain OpenSlide ``read_region`` loop (RGBA -> RGB),
(b) ``mmnst_path.io.open_slide`` (the tifffile backend: direct tile decode),
(c) tifffile's zarr store (``aszarr``) sliced per tile, for reference.

Each reader streams in its own fresh process so its peak RSS (VmHWM) is its own; the
throughput is given per wall second and per CPU second of that process (the latter is what
"per thread" means on a machine shared with other jobs). The
slide (default 20480 x 20480 px, 512² JPEG tiles, YCbCr, quality 80, 3 levels, random-ish tissue
texture) is written to a temporary folder and deleted afterwards.

Usage::

    .venv/bin/python benchmarks/bench_read.py [--size 20480] [--keep DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

TILE = 512


def _texture_bank(n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` 512² RGB tiles of smooth blotchy pink/purple 'tissue' with fine grain and holes."""
    rng = np.random.default_rng(seed)
    bank = []
    for _ in range(n):
        coarse = rng.normal(size=(TILE // 16 + 2, TILE // 16 + 2))
        field = np.kron(coarse, np.ones((16, 16)))[8 : 8 + TILE, 8 : 8 + TILE]
        # cheap separable blur of the blocky field
        for axis in (0, 1):
            field = (np.roll(field, 6, axis) + np.roll(field, -6, axis) + 2 * field) / 4
        grain = rng.normal(scale=9, size=(TILE, TILE, 3))
        nuclei = (field > 0.9)[..., None] * np.array([-90, -80, -30])
        base = np.array([215, 160, 200]) + 25 * field[..., None] * np.array([-1, -1.6, -0.6])
        glass = (field < -1.1)[..., None]
        img = np.where(glass, 243, base + nuclei + grain)
        bank.append(np.clip(img, 0, 255).astype(np.uint8))
    return bank


def _tiles(shape: tuple[int, int], bank: list[np.ndarray], factor: int) -> Iterator[np.ndarray]:
    rows, cols = shape
    for r in range(0, rows, TILE):
        for c in range(0, cols, TILE):
            tile = bank[(r // TILE * 7 + c // TILE * 3) % len(bank)]
            if factor > 1:
                tile = np.tile(tile[::factor, ::factor], (factor, factor, 1))
            yield tile


def write_slide(path: Path, size: int) -> None:
    """Write a ``size`` x ``size`` 3-level pyramidal JPEG TIFF, tile by tile (low memory)."""
    import tifffile

    bank = _texture_bank(24)
    with tifffile.TiffWriter(path, bigtiff=True) as tw:
        for level in range(3):
            factor = 2**level
            shape = (size // factor, size // factor)
            tw.write(
                _tiles(shape, bank, factor),
                shape=(*shape, 3),
                dtype=np.uint8,
                tile=(TILE, TILE),
                photometric="ycbcr",
                compression="jpeg",
                compressionargs={"level": 80},
                subfiletype=1 if level else 0,
                resolution=(1e4 / 0.5 * factor, 1e4 / 0.5 * factor),
                resolutionunit="CENTIMETER",
            )


def _stream(kind: str, path: str, queue: multiprocessing.Queue) -> None:
    """Read every level-0 tile with reader ``kind``; report (seconds, tiles, checksum, peak RSS)."""
    checksum = 0
    c0 = time.process_time()
    if kind == "openslide":
        import openslide

        slide = openslide.OpenSlide(path)
        cols, rows = slide.dimensions
        t0 = time.perf_counter()
        n = 0
        for r in range(0, rows, TILE):
            for c in range(0, cols, TILE):
                rgba = np.asarray(slide.read_region((c, r), 0, (TILE, TILE)))
                rgb = rgba[..., :3]
                checksum += int(rgb[::97, ::89].sum())
                n += 1
    elif kind == "mmnst_path":
        from mmnst_path.geometry import Box
        from mmnst_path.io import open_slide

        reader = open_slide(path)
        rows, cols = reader.shape
        t0 = time.perf_counter()
        n = 0
        for r in range(0, rows, TILE):
            for c in range(0, cols, TILE):
                rgb = reader.read_region(Box(r, c, TILE, TILE), 0)
                checksum += int(rgb[::97, ::89].sum())
                n += 1
    elif kind == "zarr":
        import tifffile
        import zarr

        tif = tifffile.TiffFile(path)
        store = tif.pages[0].aszarr()
        arr = zarr.open(store, mode="r")
        rows, cols = arr.shape[:2]
        t0 = time.perf_counter()
        n = 0
        for r in range(0, rows, TILE):
            for c in range(0, cols, TILE):
                rgb = np.asarray(arr[r : r + TILE, c : c + TILE])
                checksum += int(rgb[::97, ::89].sum())
                n += 1
    else:
        raise ValueError(kind)
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0
    queue.put((seconds, cpu_seconds, n, checksum, _peak_rss_mb()))


def _peak_rss_mb() -> float:
    """Peak resident memory of this process, MB (VmHWM: ru_maxrss survives exec on Linux and
    would report the parent's peak)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_reader(kind: str, path: Path) -> tuple[float, float, int, int, float]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_stream, args=(kind, str(path), queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=20480, help="level-0 side in pixels (default 20480)")
    parser.add_argument("--keep", type=Path, help="write the slide here and keep it")
    args = parser.parse_args(argv)
    size = args.size // TILE * TILE
    folder = Path(tempfile.mkdtemp(prefix="bench_read_")) if args.keep is None else args.keep
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench.tif"
    try:
        t0 = time.perf_counter()
        write_slide(path, size)
        print(
            f"slide: {size} x {size} px, {TILE}² JPEG tiles, 3 levels, "
            f"{path.stat().st_size / 2**20:.0f} MiB, written in {time.perf_counter() - t0:.1f} s"
        )
        results = {}
        for kind in ("openslide", "mmnst_path", "zarr"):
            seconds, cpu_seconds, n, checksum, peak_mb = run_reader(kind, path)
            mpx = n * TILE * TILE / 1e6
            results[kind] = (mpx / seconds, mpx / cpu_seconds, checksum)
            print(
                f"{kind:>11}: {n} tiles in {seconds:6.2f} s wall = {n / seconds:6.1f} tiles/s, "
                f"{mpx / seconds:6.1f} MPx/s wall, {mpx / cpu_seconds:6.1f} MPx/s per CPU second, "
                f"peak RSS {peak_mb:5.0f} MB (checksum {checksum})"
            )
        ratio_wall = results["mmnst_path"][0] / results["openslide"][0]
        ratio_cpu = results["mmnst_path"][1] / results["openslide"][1]
        same = len({c for *_, c in results.values()}) == 1
        print(
            f"mmnst_path / OpenSlide: {ratio_wall:.1f}x wall, {ratio_cpu:.1f}x per CPU second "
            f"(one thread each; goal >= 5x); pixels agree: {same}"
        )
        return 0 if same else 1
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
