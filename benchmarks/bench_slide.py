"""Whole-slide Ki67 benchmark: mmnst_path vs a naive pipeline, 1 vs 2 workers, peak memory.

Usage::

    .venv/bin/python benchmarks/bench_slide.py [--size 20480] [--naive-tiles 48] [--keep DIR]
    .venv/bin/python benchmarks/bench_slide.py --real SLIDE[@MPP]... [--workers 1] [--tile-um 512]
    .venv/bin/python benchmarks/bench_slide.py --real SLIDE[@MPP]... --ab BEFORE AFTER [--repeats 4] [--ab-out F]

``--ab BEFORE AFTER`` (with ``--real``): two package trees (folders holding ``mmnst_path``), run
alternately (ABBA) in fresh 1-worker processes with that tree first on ``PYTHONPATH``; per slide
one table of each stage's CPU (:mod:`bench_stages`: pigment, Ki67 and its parts, tile reading,
tiles decoded), the whole run's CPU and high-water RSS: every run, means, spreads, the paired
differences and whether each change is resolved (more than 3x the larger spread).

``--real``: instead, ``analyze_slide`` (Ki67 forced, H-DAB) on each real slide in a fresh,
single-threaded process: tissue MPx (tissue-mask area at the analysis resolution) per second
per worker, the tile halo and its largest part (:func:`mmnst_path.pipeline._worker.halo_parts`),
the halo overhead (analysis pixels read / pixels owned, 1 worker; in brackets only those inside
the slide: the white margin past its edge is not decoded), the numba kernels compiled during the
run (a cold cache: see ``mmnst-path warmup``), tile CPU time,
the per-slide fixed costs (tissue detection, planning, aggregation) and the peak RSS of all
processes together and of the largest single process (the per-worker peak; not counting the child
that compiles a cold kernel cache before the tiles start, whose peak has a column of its own).

1. Writes a generated slide (``--size``² px of tissue at 0.5 µm/px, JPEG-compressed tiled
   pyramidal TIFF with 512² tiles and levels /4, /16, /64; Beer–Lambert H-DAB rendering of
   textured nuclei, about 25 % positive) into a temporary folder, tile by tile (the slide is
   never held in memory).
2. Runs ``analyze_slide`` (Ki67 only) with 1 and with 2 worker processes on the whole slide.
3. Runs the naive pipeline written the obvious way — OpenSlide ``read_region`` per 512² tile,
   ``skimage.color.rgb2hed``, Otsu threshold, opening, distance transform, ``peak_local_max``,
   watershed, ``regionprops`` — on a fixed, evenly spread subset of ``--naive-tiles`` tiles
   (it is too slow for the whole slide) and extrapolates per MPx.
4. Prints one table: MPx of tissue per second, peak RSS (the measuring process + all its
   children, sampled every 0.1 s with psutil), and the speed-ups against the goals (>= 10x
   naive, RSS < 1 GB, 2 workers >= 1.8x). Each row runs in a fresh interpreter, so a row's
   peak RSS is not inflated by the heap an earlier row left behind.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np

TILE = 512
MPP = 0.5
H = np.array([0.650, 0.704, 0.286], np.float32)
DAB = np.array([0.268, 0.570, 0.776], np.float32)


# ------------------------------------------------------------------------------------------------
# slide generation
def _render_patch(size: int, seed: int) -> np.ndarray:
    """A (size, size, 3) uint8 H-DAB patch: pale stroma and ~8 µm textured nuclei, 25 % positive."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(seed)
    hem = np.full((size, size), 0.05, np.float32)
    dab = np.full((size, size), 0.02, np.float32)
    n = int(size * size * MPP * MPP / 160.0)  # one nucleus per ~160 µm²: cellular tumour
    yy, xx = np.mgrid[-14:15, -14:15]
    for _ in range(n):
        rad = rng.uniform(3.0, 5.0) / MPP
        r, c = rng.integers(14, size - 14, 2)
        disc = ((yy / rng.uniform(0.8, 1.0)) ** 2 + xx**2 <= rad * rad).astype(np.float32)
        disc *= rng.uniform(0.75, 1.25, disc.shape).astype(np.float32)
        target = dab if rng.random() < 0.25 else hem
        view = target[r - 14 : r + 15, c - 14 : c + 15]
        np.maximum(view, disc * np.float32(rng.uniform(0.35, 0.8)), out=view)
    od = hem[..., None] * H + dab[..., None] * DAB
    od = ndi.gaussian_filter(od, (0.8, 0.8, 0))
    rgb = 243.0 * 10.0 ** (-od) + rng.normal(0, 2.0, od.shape)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


_BANK: list[np.ndarray] = []


def _tile_key(i: int, j: int) -> tuple[int, int, int]:
    return ((i * 7 + j * 3) % len(_BANK), (i + 2 * j) % 4, (i ^ j) % 4)


@lru_cache(maxsize=512)
def _tile(key: tuple[int, int, int], factor: int = 1) -> np.ndarray:
    """A 512² quarter of a bank patch, rotated, block-averaged by ``factor`` (only 96 distinct tiles)."""
    p, q, rot = key
    t = _BANK[p][(q // 2) * TILE : (q // 2 + 1) * TILE, (q % 2) * TILE : (q % 2 + 1) * TILE]
    t = np.ascontiguousarray(np.rot90(t, rot))
    if factor > 1:
        s = TILE // factor
        t = t.reshape(s, factor, s, factor, 3).mean(axis=(1, 3)).round().astype(np.uint8)
    return t


def _level_tiles(n_tiles: int, factor: int) -> Iterator[np.ndarray]:
    """512² tiles of the level downsampled by ``factor``, assembled from downsampled level-0 tiles."""
    per = factor  # level-0 tiles per output tile side
    small = TILE // factor
    n_out = math.ceil(n_tiles / per)
    for oi in range(n_out):
        for oj in range(n_out):
            out = np.full((TILE, TILE, 3), 255, np.uint8)
            for a in range(per):
                for b in range(per):
                    i, j = oi * per + a, oj * per + b
                    if i < n_tiles and j < n_tiles:
                        out[a * small : (a + 1) * small, b * small : (b + 1) * small] = _tile(_tile_key(i, j), factor)
            yield out


def write_slide(path: Path, size: int) -> tuple[int, int]:
    """Write the generated slide; return its level-0 shape."""
    import tifffile

    n_tiles = math.ceil(size / TILE)
    shape0 = n_tiles * TILE
    if not _BANK:
        _BANK.extend(_render_patch(2 * TILE, seed) for seed in range(6))
    res = 1e4 / MPP
    with tifffile.TiffWriter(path, bigtiff=True) as tw:
        tw.write(
            (_tile(_tile_key(i, j)) for i in range(n_tiles) for j in range(n_tiles)),
            shape=(shape0, shape0, 3), dtype=np.uint8, tile=(TILE, TILE), photometric="rgb",
            compression="jpeg", compressionargs={"level": 90},
            resolution=(res, res), resolutionunit="CENTIMETER",
        )
        for factor in (4, 16, 64):
            lvl = math.ceil(n_tiles / factor) * TILE
            tw.write(
                _level_tiles(n_tiles, factor), shape=(lvl, lvl, 3), dtype=np.uint8, tile=(TILE, TILE),
                photometric="rgb", compression="jpeg", compressionargs={"level": 90}, subfiletype=1,
                resolution=(res / factor, res / factor), resolutionunit="CENTIMETER",
            )
    return shape0, shape0


# ------------------------------------------------------------------------------------------------
# measurement helpers
class PeakRSS:
    """Samples the RSS of this process plus all its children every ``interval`` s."""

    def __init__(self, interval: float = 0.1) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self.peak = 0
        self.peak_process = 0  # the largest RSS of any one process (the parent or one worker)
        self.peak_compile = 0  # of the child that compiles a cold kernel cache (pipeline._warmup.compile_in_child)
        self._compiler: dict[int, bool] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        import psutil

        total = 0
        for p in [self._proc, *self._proc.children(recursive=True)]:
            try:
                rss = p.memory_info().rss
                if p.pid not in self._compiler:
                    self._compiler[p.pid] = p is not self._proc and "compile_kernels" in " ".join(p.cmdline())
            except psutil.Error:
                continue
            total += rss
            if self._compiler[p.pid]:  # not a worker: it exits before the tiles start
                self.peak_compile = max(self.peak_compile, rss)
            else:
                self.peak_process = max(self.peak_process, rss)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakRSS:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def naive_tile(slide: object, row: int, col: int) -> tuple[int, int]:
    """The obvious pipeline on one 512² level-0 tile; returns (positive, negative) nuclei."""
    from scipy import ndimage as ndi
    from skimage.color import rgb2hed
    from skimage.feature import peak_local_max
    from skimage.filters import threshold_otsu
    from skimage.measure import regionprops
    from skimage.morphology import binary_opening, disk
    from skimage.segmentation import watershed

    warnings.filterwarnings("ignore", category=FutureWarning)  # skimage 0.26 deprecations
    rgba = np.asarray(slide.read_region((col, row), 0, (TILE, TILE)))  # type: ignore[attr-defined]
    rgb = rgba[..., :3]
    hed = rgb2hed(rgb)
    signal = hed[..., 0] + hed[..., 2]
    fg = signal > threshold_otsu(signal)
    fg = binary_opening(fg, disk(2))
    dist = ndi.distance_transform_edt(fg)
    peaks = peak_local_max(dist, min_distance=6, labels=ndi.label(fg)[0])
    markers = np.zeros(fg.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    labels = watershed(-dist, markers, mask=fg)
    pos = neg = 0
    for region in regionprops(labels, intensity_image=hed[..., 2]):
        if region.area < 40:
            continue
        if region.intensity_mean > 0.03:  # skimage HED units (~ QuPath OD / 6)
            pos += 1
        else:
            neg += 1
    return pos, neg


def run_naive(path: Path, shape: tuple[int, int], n_tiles: int) -> tuple[float, float, int]:
    """(seconds, MPx, peak RSS) of the naive pipeline on an evenly spread subset of tiles."""
    import openslide

    per_side = shape[0] // TILE
    idx = np.linspace(0, per_side * per_side - 1, n_tiles).astype(int)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        slide = openslide.OpenSlide(str(path))
        for k in idx:
            naive_tile(slide, int(k // per_side) * TILE, int(k % per_side) * TILE)
        slide.close()
        seconds = time.perf_counter() - t0
    return seconds, n_tiles * TILE * TILE / 1e6, mem.peak


def run_ours(path: Path, workers: int, tile_um: float | None = None) -> tuple[float, float, int, object, float]:
    """(seconds, MPx analysed, peak RSS, result, CPU seconds of this process and its workers) of
    analyze_slide on the whole slide."""
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    cfg = AnalysisConfig(measures=("ki67",), stains="H-DAB")
    if tile_um is not None:
        cfg = cfg.replace(tile_um=tile_um)
    with PeakRSS() as mem:
        t0, c0 = time.perf_counter(), _cpu_with_children()
        result = analyze_slide(path, cfg, workers=workers)
        seconds = time.perf_counter() - t0
    cpu = _cpu_with_children() - c0
    # tissue analysed = the tile cores planned on tissue (the generated slide is tissue everywhere)
    cores = result.tiles.core
    analysed_mpx = float((cores[:, 2] * cores[:, 3]).sum()) / 1e6
    return seconds, analysed_mpx, mem.peak, result, cpu


def _cpu_with_children() -> float:
    """CPU seconds (user + system) of this process and of its children that have ended (a
    worker pool's processes once it is closed): under load, the figure wall time is not."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_real(path: Path, mpp: float | None, workers: int, tile_um: float | None, stages: bool = False) -> dict:
    """``analyze_slide`` (Ki67 forced, H-DAB) on a real slide: speed per MPx of tissue, halo
    overhead (analysis pixels read / pixels owned) and the per-tile fixed cost; ``stages``: also
    the CPU of each stage (:mod:`bench_stages`; 1 worker)."""
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide
    from mmnst_path.tiling import executor

    totals = None
    if stages:
        from bench_stages import install

        totals = install()

    cfg = AnalysisConfig(measures=("ki67",), stains="H-DAB")
    if tile_um is not None:
        cfg = cfg.replace(tile_um=tile_um)
    read_px = [0, 0, 0]  # analysis pixels read, tiles, pixels read inside the slide
    plain_read = executor.read_tile

    def counting_read(reader: object, tile: object) -> np.ndarray:
        read_px[0] += tile.shape[0] * tile.shape[1]  # type: ignore[attr-defined]
        read_px[1] += 1
        # the analysis grid's extent (the white margin past the slide's edge is not decoded)
        n = [math.ceil(v / tile.scale - 1e-9) for v in reader.shape]  # type: ignore[attr-defined]
        span = [max(0, min(o + m, k) - max(o, 0)) for o, m, k in zip(tile.origin, tile.shape, n, strict=True)]  # type: ignore[attr-defined]
        read_px[2] += span[0] * span[1]
        return plain_read(reader, tile)  # type: ignore[arg-type]

    executor.read_tile = counting_read  # counted in this process (1 worker runs in-process)
    with PeakRSS() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        res = analyze_slide(path, cfg, mpp=mpp, workers=workers)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    executor.read_tile = plain_read
    from mmnst_path.pipeline import kernel_stats
    from mmnst_path.pipeline._worker import halo_parts

    run_cfg = AnalysisConfig.from_mapping(res.config)
    parts = halo_parts(run_cfg, res.measures)
    try:  # the Ki67 part's steps (trees from 2026-12-03 session 10 on)
        from mmnst_path.pipeline._worker import ki67_halo_parts

        ki67_steps = ki67_halo_parts(run_cfg) if "ki67" in parts else {}
    except ImportError:
        ki67_steps = {}
    cores = res.tiles.core
    scale = (res.analysis_mpp / res.mpp) ** 2  # level-0 px per analysis px
    owned = float((cores[:, 2] * cores[:, 3]).sum()) / scale
    tissue_mpx = res.metrics["tissue_area_mm2"] * 1e6 / (res.analysis_mpp**2) / 1e6
    # the kernel's high-water mark of this process (1 worker: the analysing one): no spike between two samples escapes it
    # ru_maxrss is in KiB on Linux, in bytes on macOS
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return {"seconds": seconds, "cpu": cpu, "tissue_mpx": tissue_mpx, "owned_mpx": owned / 1e6, "rss": mem.peak,
            "rss_hwm": hwm,
            "rss_process": mem.peak_process, "rss_compile": mem.peak_compile,
            "read_over_owned": read_px[0] / owned if workers == 1 and owned else math.nan,
            "inside_over_owned": read_px[2] / owned if workers == 1 and owned else math.nan,
            "halo_parts": parts, "ki67_steps": ki67_steps, "kernels_compiled": kernel_stats().compiled if workers == 1 else -1,
            "tiles": int(cores.shape[0]), "timings": res.timings, "shape": list(res.shape),
            "mpp": res.mpp, "analysis_mpp": res.analysis_mpp,
            "index": res.metrics["ki67_index_pct"], "denominator": res.metrics["ki67_denominator"],
            "stages": totals or {}}


def _child(args: argparse.Namespace) -> None:
    """One measurement in this (fresh) process; prints one JSON line for the parent."""
    import json

    path = Path(args.slide)
    if args.child == "real":
        out = run_real(path, args.mpp, args.workers, args.tile_um, stages=args.stages)
    elif args.child == "naive":
        n = math.ceil(args.size / TILE) * TILE
        s, mpx, rss = run_naive(path, (n, n), args.naive_tiles)
        out = {"seconds": s, "mpx": mpx, "rss": rss}
    else:
        workers = int(args.child)
        s, mpx, rss, res, cpu = run_ours(path, workers, args.tile_um)
        counts = res.counts["ki67"]  # type: ignore[attr-defined]
        out = {"seconds": s, "mpx": mpx, "rss": rss, "counts": counts.to_mapping(),
               "cpu": cpu,
               "index": res.metrics["ki67_index_pct"], "denominator": res.metrics["ki67_denominator"]}  # type: ignore[attr-defined]
    print("RESULT " + json.dumps(out), flush=True)


def _real_table(args: argparse.Namespace) -> None:
    """--real: one fresh, single-threaded process per slide; one table."""
    import os

    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    print("| slide | level-0 µm/px | tiles | tissue MPx (0.5 µm/px) | halo µm (largest part) | read / owned px "
          "(inside the slide) | s | tissue MPx/s/worker | CPU s (this process) | tissue MPx per CPU s | tile CPU s | "
          "tissue + plan + aggregate s | "
          "peak MiB (all) | peak MiB (one process) | high-water MiB (this process) | kernels compiled | "
          "compiling child peak MiB | Ki67 % (n) |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    parts_line = ""
    for spec in args.real:
        path, _, mpp = spec.partition("@")
        r = _real_child(path, mpp, args.tile_um, env, ["--workers", str(args.workers)])
        t = r["timings"]
        fixed = t.get("tissue", 0.0) + t.get("plan", 0.0) + t.get("aggregate", 0.0)
        parts = r["halo_parts"]
        big = max(parts, key=parts.get)
        parts_line = ", ".join(f"{k} {v:.1f}" for k, v in parts.items())
        print(f"| {Path(path).name} | {r['mpp']:.3f} | {r['tiles']} | {r['tissue_mpx']:.1f} | {parts[big]:.1f} ({big}) | "
              f"{r['read_over_owned']:.2f} ({r['inside_over_owned']:.2f}) | {r['seconds']:.1f} | "
              f"{r['tissue_mpx'] / r['seconds'] / args.workers:.2f} | {r['cpu']:.2f} | "
              f"{r['tissue_mpx'] / r['cpu']:.3f} | "
              f"{t.get('tile_cpu', math.nan):.1f} | {fixed:.2f} | {r['rss'] / 2**20:.0f} | {r['rss_process'] / 2**20:.0f} | {r['rss_hwm'] / 2**20:.0f} | "
              f"{r['kernels_compiled'] if r['kernels_compiled'] >= 0 else '-'} | "
              f"{r.get('rss_compile', 0) / 2**20:.0f} | {r['index']:.1f} ({r['denominator']}) |",
              flush=True)
    print(f"\nhalo parts, µm (the tile halo is the largest): {parts_line}")
    if r.get("ki67_steps"):
        print("ki67 part, µm (summed): " + ", ".join(f"{k} {v:.1f}" for k, v in r["ki67_steps"].items()))


def _real_child(path: str, mpp: str, tile_um: float | None, env: dict, extra: list[str]) -> dict:
    """Run one ``--child real`` process on ``path`` (``mpp``: '' for the slide's own) and return
    the result it prints on its ``RESULT`` line."""
    import json
    import subprocess

    cmd = [sys.executable, str(Path(__file__).resolve()), "--slide", path, "--child", "real", *extra]
    if mpp:
        cmd += ["--mpp", mpp]
    if tile_um is not None:
        cmd += ["--tile-um", str(tile_um)]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1][len("RESULT "):])


def _ab_table(args: argparse.Namespace) -> None:
    """--real with --ab BEFORE AFTER: per slide, ``--repeats`` pairs of fresh single-threaded
    processes, one with each package tree first on ``PYTHONPATH`` (alternating which runs first:
    ABBA), each with the stage timers; one table per slide (:func:`bench_stages.ab_table`)."""
    import json
    import os

    from bench_stages import ab_rows, ab_table

    trees = [str(Path(t).resolve()) for t in args.ab]
    runs: dict[str, dict[str, list[dict]]] = {}
    for spec in args.real:
        path, _, mpp = spec.partition("@")
        got: dict[str, list[dict]] = {"before": [], "after": []}
        for i in range(args.repeats):
            for which in (("before", "after") if i % 2 == 0 else ("after", "before")):
                env = dict(os.environ)
                for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
                    env[var] = "1"
                env["PYTHONPATH"] = trees[which == "after"]
                r = _real_child(path, mpp, args.tile_um, env, ["--workers", "1", "--stages"])
                got[which].append(r)
                print(f"  {Path(path).name} run {i + 1} {which}: CPU {r['cpu']:.2f} s, high-water "
                      f"{r['rss_hwm'] / 2**20:.0f} MiB, Ki67 {r['index']:.3f} % ({r['denominator']})",
                      file=sys.stderr, flush=True)
        runs[spec] = got
        print("\n".join(ab_table(ab_rows(got["before"], got["after"]), f"{Path(path).name}: {trees[0]} -> {trees[1]}")))
        print(flush=True)
    if args.ab_out is not None:
        args.ab_out.write_text(json.dumps({"trees": trees, "runs": runs}))


def _measure(args: argparse.Namespace, path: Path, what: str) -> dict:
    """Run one measurement in a fresh interpreter (so one run's heap does not inflate the
    next one's peak RSS, as it would when the 1-worker run, which works in-process, came first)."""
    import json
    import subprocess

    cmd = [sys.executable, str(Path(__file__).resolve()), "--size", str(args.size), "--naive-tiles",
           str(args.naive_tiles), "--slide", str(path), "--child", what]
    if args.tile_um is not None:
        cmd += ["--tile-um", str(args.tile_um)]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20480, help="slide side in level-0 px (tissue everywhere)")
    parser.add_argument("--naive-tiles", type=int, default=48, help="512² tiles the naive pipeline runs on")
    parser.add_argument("--tile-um", type=float, help="tile core side in µm (default: AnalysisConfig's)")
    parser.add_argument("--keep", type=Path, help="write the slide here and keep it (default: temp dir)")
    parser.add_argument("--slide", help=argparse.SUPPRESS)  # internal: child measurement
    parser.add_argument("--child", choices=("1", "2", "naive", "real"), help=argparse.SUPPRESS)
    parser.add_argument("--real", nargs="+", metavar="SLIDE[@MPP]",
                        help="instead of the generated slide: real slides (level-0 µm/px after @ when the file has none)")
    parser.add_argument("--workers", type=int, default=1, help="workers for --real (default 1)")
    parser.add_argument("--mpp", type=float, help=argparse.SUPPRESS)  # internal: child of --real
    parser.add_argument("--stages", action="store_true", help=argparse.SUPPRESS)  # internal: child timers
    parser.add_argument("--ab", nargs=2, metavar=("BEFORE", "AFTER"),
                        help="with --real: compare two package trees (folders holding mmnst_path), per stage")
    parser.add_argument("--repeats", type=int, default=4, help="--ab: runs of each tree per slide (default 4)")
    parser.add_argument("--ab-out", type=Path, help="--ab: write every run's numbers here (JSON)")
    args = parser.parse_args()
    if args.child is not None:
        _child(args)
        return
    if args.real and args.ab:
        _ab_table(args)
        return
    if args.real:
        _real_table(args)
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"bench_{args.size}.tif"
        t0 = time.perf_counter()
        if not path.exists():
            shape = write_slide(path, args.size)
        else:
            n = math.ceil(args.size / TILE) * TILE
            shape = (n, n)
        print(f"slide {path.name}: {shape[0]}x{shape[1]} px at {MPP} µm/px, {path.stat().st_size / 1e6:.0f} MB "
              f"(written in {time.perf_counter() - t0:.0f} s)", flush=True)

        rows = []
        results = {}
        for workers in (1, 2):
            res = _measure(args, path, str(workers))
            results[workers] = res
            rows.append((f"mmnst_path, {workers} worker{'s' * (workers > 1)}", res["mpx"], res["seconds"], res["rss"]))
            print(f"  ours {workers}w: {res['mpx']:.0f} MPx tissue in {res['seconds']:.1f} s ({res['cpu']:.1f} CPU s, "
                  f"{res['mpx'] / res['cpu']:.2f} MPx per CPU s), peak RSS "
                  f"{res['rss'] / 2**20:.0f} MiB, Ki67 {res['index']:.2f} % of {res['denominator']}", flush=True)
        same = results[1]["counts"] == results[2]["counts"]
        res = _measure(args, path, "naive")
        rows.append((f"naive ({args.naive_tiles} tiles, extrapolated per MPx)", res["mpx"], res["seconds"], res["rss"]))

        print()
        print("| pipeline | MPx | seconds | MPx/s | peak RSS (MiB) |")
        print("|---|---:|---:|---:|---:|")
        for name, mpx, sec, mem in rows:
            print(f"| {name} | {mpx:.0f} | {sec:.1f} | {mpx / sec:.2f} | {mem / 2**20:.0f} |")
        r1, r2, rn = (r[1] / r[2] for r in rows)
        print()
        print("each row measured in a fresh process (peak RSS = that process and its workers)")
        print(f"speed-up vs naive (1 worker each): {r1 / rn:.2f}x (goal >= 10x)")
        print(f"2 workers vs 1: {r2 / r1:.2f}x (goal >= 1.8x)")
        print(f"peak RSS ours: {max(rows[0][3], rows[1][3]) / 2**20:.0f} MiB (goal < 1024 MiB)")
        print(f"identical counts with 1 and 2 workers: {same}")


if __name__ == "__main__":
    main()
