"""Per-tile speed and Ki67 accuracy against peers on the same real tiles, interleaved, one thread.

Usage::

    .venv/bin/python benchmarks/bench_peers.py [--htk-python PATH] [--repeat 3] [--sets bcdata shidc] \
        [--before TREE] [--cpu]

Tools, each from an in-memory RGB tile at its native resolution to a Ki67 count (decoding the
file is not timed; rescaling to 0.5 µm/px is, for every tool):

- **mmnst_path**: ``mmnst_path.pipeline.analyze_region`` with the default configuration
  (tissue detection, pigment, nuclei, default cell model, melanin; the CLI's code path).
- **HistomicsTK** (its own virtual environment, see ``--htk-python``; never a dependency of
  this project): OpenCV ``INTER_AREA`` rescale to 0.5 µm/px, ``color_deconvolution`` with its
  hematoxylin / DAB / null matrix, nuclear stain = hematoxylin + DAB optical density (so
  brown nuclei are nuclei too), foreground = that OD above a threshold tuned per set in the
  peer's favour (:data:`HTK_FOREGROUND_OD`; Otsu found only the darkest DAB on BCData),
  ``detect_nuclei_kofahi`` (radii 3-5 µm,
  local-maximum search 4 µm, min area 25 µm²: the physical values of our own detector), DAB
  mean per nucleus >= 0.35 log10 OD (our threshold) = positive. It runs in a subprocess of
  that environment (this same file with ``--serve``), one request per tile, timed inside it.
- **scikit-image, naive**: ``skimage.transform.resize`` (anti-aliased) to 0.5 µm/px,
  ``rgb2hed``, Otsu on H + DAB, opening, distance transform, ``peak_local_max`` (4 µm),
  watershed, ``regionprops`` mean DAB >= 0.35 log10 OD (on ``rgb2hed``'s scale, /6).

- **mmnst_path (before)**, with ``--before TREE``: the same call on the mmnst_path of another
  source tree (``git archive <commit> | tar -x -C TREE``), in a subprocess whose ``PYTHONPATH``
  is ``TREE`` (this file with ``--serve-mmnst``), timed inside it like HistomicsTK.

``--cpu``: every tool is timed with its process's CPU clock (``time.process_time``, in the
subprocesses too) instead of the wall clock, so the time a tool waits for a core on a shared
machine is not counted (its threads are limited to 1 alike).

Interleaved: for every tile and repeat the tools run back to back, so load from other
jobs hits them alike. One untimed warm-up run per tool and tile set. Threads: OMP / OpenBLAS /
MKL / numba set to 1 here and in the subprocess. Accuracy: the index (positive / (positive +
negative)) against the annotated one (lymphocytes excluded, as in ``accuracy.py``), MAE over
the tiles with a defined true index.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "ki67"
ANALYSIS_MPP = 0.5
POSITIVE_OD = 0.35  # log10 OD, the default Ki67Params.positive_threshold_od
#: HistomicsTK foreground (nuclear OD, log10) per set: the best of 0.15 / 0.25 / 0.4 on each set
#: (index MAE BCData 23.4 / 10.1 / 38.1 pp, SHIDC 9.9 / 7.7 / 4.1 pp): tuned in the peer's favour
HTK_FOREGROUND_OD = {"bcdata": 0.25, "shidc": 0.4}
DEFAULT_HTK_PYTHON = "/tmp/h1_htk/bin/python"


def _decode(path: str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _index(pos: int, neg: int) -> float:
    return 100.0 * pos / (pos + neg) if pos + neg else math.nan


# ------------------------------------------------------------------------------------------------
# HistomicsTK (runs in its own environment, in a subprocess: ``--serve``)
def histomicstk_count(rgb: np.ndarray, mpp: float, foreground_od: float) -> tuple[int, int]:
    """HistomicsTK's nucleus pipeline: (positive, negative) nuclei of one tile."""
    import cv2
    from histomicstk.preprocessing.color_deconvolution import color_deconvolution, stain_color_map
    from histomicstk.segmentation.nuclear import detect_nuclei_kofahi
    f = mpp / ANALYSIS_MPP
    shape = (max(1, round(rgb.shape[1] * f)), max(1, round(rgb.shape[0] * f)))  # cv2: (width, height)
    im = cv2.resize(rgb, shape, interpolation=cv2.INTER_AREA)
    w = np.array([stain_color_map["hematoxylin"], stain_color_map["dab"], stain_color_map["null"]]).T
    stains = color_deconvolution(im, w).Stains.astype(np.float64)
    od = -np.log10(np.maximum(stains[..., :2], 1.0) / 255.0)  # its 0-255 stain images -> log10 OD
    nuclear = od[..., 0] + od[..., 1]
    nuclear_im = 255.0 * 10.0 ** (-nuclear)  # Kofahi expects dark-on-bright stain intensities
    fg = nuclear > foreground_od
    px = 1.0 / ANALYSIS_MPP
    labels = detect_nuclei_kofahi(nuclear_im, fg, min_radius=3.0 * px, max_radius=5.0 * px,
                                  min_nucleus_area=25.0 * px * px, local_max_search_radius=4.0 * px)
    labels = np.asarray(labels, dtype=np.int64)
    n = int(labels.max())
    if n == 0:
        return 0, 0
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    dab = np.bincount(labels.ravel(), od[..., 1].ravel(), minlength=n + 1)[1:]
    present = area > 0
    pos = int(np.count_nonzero(dab[present] / area[present] >= POSITIVE_OD))
    return pos, int(np.count_nonzero(present)) - pos


def _clock() -> float:
    """Seconds of the clock every tool is timed with: the process's CPU time when
    ``BENCH_PEERS_CLOCK=cpu`` (set by ``--cpu``, inherited by the subprocesses), else wall time."""
    return time.process_time() if os.environ.get("BENCH_PEERS_CLOCK") == "cpu" else time.perf_counter()


def serve(mmnst: bool = False) -> int:
    """Answer one JSON request a line on stdin: {"path", "mpp", "foreground_od"} -> {"seconds",
    "positive", "negative"}: HistomicsTK's count, or with ``mmnst`` :func:`mmnst_count` of the
    mmnst_path this process imports (its ``PYTHONPATH``)."""
    if mmnst:
        import mmnst_path

        sys.stderr.write(f"bench_peers --serve-mmnst: mmnst_path from {Path(mmnst_path.__file__).parent}\n")
    for line in sys.stdin:
        req = json.loads(line)
        rgb = _decode(req["path"])
        t0 = _clock()
        if mmnst:
            pos, neg = mmnst_count(rgb, float(req["mpp"]))
        else:
            pos, neg = histomicstk_count(rgb, float(req["mpp"]), float(req["foreground_od"]))
        out = {"seconds": _clock() - t0, "positive": pos, "negative": neg}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    return 0


class HistomicsTK:
    """The HistomicsTK pipeline in a subprocess of its own environment (or, with ``tree``, the
    mmnst_path of that source tree in a subprocess of this Python)."""

    def __init__(self, python: str, tree: Path | None = None) -> None:
        env = dict(os.environ)
        args = [python, str(Path(__file__).resolve()), "--serve"]
        if tree is not None:
            env["PYTHONPATH"] = str(tree.resolve())
            args = [sys.executable, str(Path(__file__).resolve()), "--serve-mmnst"]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def __call__(self, path: Path, mpp: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        fg = HTK_FOREGROUND_OD[path.parent.name]
        self.proc.stdin.write(json.dumps({"path": str(path), "mpp": mpp, "foreground_od": fg}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            msg = f"the HistomicsTK subprocess ended without answering for {path} (see its error above)"
            raise RuntimeError(msg)
        return dict(json.loads(line))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def htk_problem(python: str) -> str | None:
    """Why HistomicsTK cannot run from ``python`` (None when it can)."""
    if not Path(python).is_file():
        return f"no Python at {python} (make a venv: pip install --no-deps histomicstk + its runtime deps)"
    code = ("import cv2, skimage, histomicstk; from histomicstk.segmentation.nuclear import detect_nuclei_kofahi; "
            "print(histomicstk.__version__)")
    res = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return f"{python} cannot import HistomicsTK: {res.stderr.strip().splitlines()[-1] if res.stderr else '?'}"
    return None


# ------------------------------------------------------------------------------------------------
# in this process
def mmnst_count(rgb: np.ndarray, mpp: float) -> tuple[int, int]:
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    res = analyze_region(rgb, AnalysisConfig(stains="H-DAB"), mpp=mpp)  # (the API's default until session 44)
    return int(res.metrics["ki67_positive"]), int(res.metrics["ki67_negative"])


def skimage_count(rgb: np.ndarray, mpp: float) -> tuple[int, int]:
    """The obvious scikit-image pipeline (see the module docstring)."""
    from scipy import ndimage as ndi
    from skimage.color import rgb2hed
    from skimage.feature import peak_local_max
    from skimage.filters import threshold_otsu
    from skimage.measure import regionprops
    from skimage.morphology import disk, opening
    from skimage.segmentation import watershed
    from skimage.transform import resize

    f = mpp / ANALYSIS_MPP
    shape = (max(1, round(rgb.shape[0] * f)), max(1, round(rgb.shape[1] * f)))
    im = resize(rgb, shape, anti_aliasing=True, preserve_range=True).astype(np.uint8)
    hed = rgb2hed(im)
    nuclear = hed[..., 0] + hed[..., 2]
    if nuclear.max() <= nuclear.min():
        return 0, 0
    fg = opening(nuclear > threshold_otsu(nuclear), disk(2))
    dist = ndi.distance_transform_edt(fg)
    comp, _ = ndi.label(fg)
    peaks = peak_local_max(dist, min_distance=round(4.0 / ANALYSIS_MPP), labels=comp, exclude_border=False)
    markers = np.zeros(fg.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    labels = watershed(-dist, markers, mask=fg)
    min_area = 25.0 / ANALYSIS_MPP**2
    dab_threshold = POSITIVE_OD * math.log(10.0) / math.log(1e6)  # rgb2hed's scale: log10 OD / 6
    pos = neg = 0
    for region in regionprops(labels, intensity_image=hed[..., 2]):
        if region.area < min_area:
            continue
        if region.intensity_mean >= dab_threshold:
            pos += 1
        else:
            neg += 1
    return pos, neg


def timed(fn: Any, rgb: np.ndarray, mpp: float) -> dict[str, Any]:
    t0 = _clock()
    pos, neg = fn(rgb, mpp)
    return {"seconds": _clock() - t0, "positive": pos, "negative": neg}


def true_index(path: Path) -> float:
    """Annotated index of a point-annotated tile (lymphocytes are not tumour nuclei)."""
    import csv

    with path.with_name(path.stem + ".points.csv").open(newline="") as fh:
        labels = [r["label"].strip().lower() for r in csv.DictReader(fh)]
    return _index(labels.count("positive"), labels.count("negative"))


def clip_at_edge() -> None:
    """Make the pipeline plan its tiles with ``clip_at_edge=True`` (in this process only)."""
    import functools

    import mmnst_path.tiling as tiling

    tiling.plan_grid = functools.partial(tiling.plan_grid, clip_at_edge=True)  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--serve-mmnst", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--before", type=Path, metavar="TREE",
                    help="also time the mmnst_path of this source tree (e.g. a git archive of an older commit)")
    ap.add_argument("--htk-python", default=os.environ.get("HTK_PYTHON", DEFAULT_HTK_PYTHON),
                    help="Python of a venv with HistomicsTK (default $HTK_PYTHON or %(default)s)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of every tool on every tile")
    ap.add_argument("--sets", nargs="+", default=["bcdata", "shidc"], help="point-annotated sets in shared/data/ki67")
    ap.add_argument("--tiles", type=int, default=10, help="tiles per set (first N by name)")
    ap.add_argument("--json", type=Path, help="also write every measurement to this JSON file")
    ap.add_argument("--cpu", action="store_true",
                    help="time every tool with its process's CPU clock instead of the wall clock (shared machines)")
    ap.add_argument("--clip-at-edge", action="store_true",
                    help="what-if: plan tiles with tiling.plan_grid(clip_at_edge=True) (no white margins)")
    args = ap.parse_args(argv)
    if args.cpu:  # before any subprocess starts: they inherit it
        os.environ["BENCH_PEERS_CLOCK"] = "cpu"
    if args.clip_at_edge:
        clip_at_edge()
    if args.serve or args.serve_mmnst:
        return serve(mmnst=args.serve_mmnst)
    import tomllib

    with (HERE / "datasets.toml").open("rb") as fh:
        scales = tomllib.load(fh)
    tools: dict[str, Any] = {"mmnst_path": lambda p, mpp: timed(mmnst_count, _decode(str(p)), mpp),
                             "scikit-image (naive)": lambda p, mpp: timed(skimage_count, _decode(str(p)), mpp)}
    before = None
    if args.before is not None:
        if not (args.before / "mmnst_path" / "__init__.py").is_file():
            print(f"--before {args.before}: no mmnst_path package there", file=sys.stderr)
            return 2
        before = HistomicsTK(sys.executable, tree=args.before)
        tools["mmnst_path (before)"] = before
    problem = htk_problem(args.htk_python)
    htk = None
    if problem is None:
        htk = HistomicsTK(args.htk_python)
        tools["HistomicsTK"] = htk
    else:
        print(f"HistomicsTK not run: {problem}")
    records: list[dict[str, Any]] = []
    try:
        for name in args.sets:
            mpp = float(scales[name]["mpp"])
            paths = sorted(p for p in (DATA / name).iterdir() if p.suffix.lower() in (".png", ".jpg"))[: args.tiles]
            for fn in tools.values():  # warm-up: numba compilation, models, imports
                fn(paths[0], mpp)
            for rep in range(args.repeat):
                for p in paths:
                    shape = _decode(str(p)).shape
                    for tool, fn in tools.items():
                        r = fn(p, mpp)
                        records.append({"set": name, "tile": p.name, "tool": tool, "repeat": rep,
                                        "mpx": shape[0] * shape[1] / 1e6, "true_index": true_index(p), **r})
    finally:
        for server in (htk, before):
            if server is not None:
                server.close()
    print(table(records, list(tools)))
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return 0


def table(records: list[dict[str, Any]], tools: list[str]) -> str:
    rows = ["| set | tool | s/tile (median) | MPx/s (native px) | x HistomicsTK time | index MAE pp | tiles |",
            "|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["set"] for r in records):
        ref = None
        per_tool = {}
        for tool in tools:
            rs = [r for r in records if r["set"] == name and r["tool"] == tool]
            secs = float(np.median([r["seconds"] for r in rs]))
            mpx = float(np.median([r["mpx"] for r in rs]))
            errs = {}
            for r in rs:
                if r["repeat"] == 0 and not math.isnan(r["true_index"]):
                    meas = _index(r["positive"], r["negative"])
                    errs[r["tile"]] = abs(meas - r["true_index"]) if not math.isnan(meas) else math.nan
            per_tool[tool] = (secs, mpx, float(np.nanmean(list(errs.values()))) if errs else math.nan,
                              len({r["tile"] for r in rs}))
            if tool == "HistomicsTK":
                ref = secs
        for tool, (secs, mpx, mae, n) in per_tool.items():
            ratio = f"{secs / ref:.2f}" if ref else "-"
            rows.append(f"| {name} | {tool} | {secs:.3f} | {mpx / secs:.2f} | {ratio} | {mae:.2f} | {n} |")
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
