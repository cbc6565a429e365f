"""Experiment (#16, session 37 H2): the gates of an exact per-tile speed change, as one script.

``dump OUT`` (run with one package tree first on ``PYTHONPATH``, from that tree) writes into OUT one
JSON digest per input: every field of the returned SlideResult (timing keys dropped: any key
containing ``seconds``, ``timing`` or ``time``), flattened, with each array given as dtype, shape
and the sha256 of its bytes; every ``classify_pigment`` mask and every ``pigment_probability``
(probability, candidates) the run computed, hashed the same way; and the files
``report.write_result`` writes (hashed; CSV without its ``seconds`` column, JSON compared as the
flattened values without timing keys). Inputs (the rule's exactness gate):

- the 24 real Ki67 tiles (BCData, SHIDC, DeepLIIF) at their µm/px of benchmarks/datasets.toml,
  ``analyze_region`` with the default configuration;
- the scikit-image IHC tile at 0.5 µm/px;
- ``pigment_family_tile`` (10 families x DAB / AEC / Fast Red x seeds 880, 881) and ``azure_b_tile``
  (10 families, seed 880) at their own µm/px;
- the 5 sample tiles through ``analyze_slide`` (their files, 1 worker);
- CMU-1-Small-Region at 0.5 µm/px (H-DAB, Ki67, 1 worker).

``compare A B`` compares two dumps (or two README-job output folders) and prints each differing
entry and the count. ``speed H C H2 OUT`` runs the rule's speed and memory gates: per tree one
discarded process (numba cache, models), then fresh single-threaded processes H C C H H C, then the
A/A series H H2 H2 H; each process decodes the first 10 BCData and 10 SHIDC tiles, analyses each
once untimed (warm-up), then all 20 once more timed together by the process CPU clock
(``time.process_time``), and reports that total and its peak RSS (``ru_maxrss``, KiB).

    PYTHONPATH=TREE python benchmarks/experiments/exact_tile_cuts_s37.py dump OUT
    python benchmarks/experiments/exact_tile_cuts_s37.py compare A B
    python benchmarks/experiments/exact_tile_cuts_s37.py speed H C H2 OUT
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
SKIP = ("seconds", "timing", "time")


def _decode(p: Path) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(p) as im:
        return np.asarray(im.convert("RGB"))


def _digest(obj: Any, key: str = "", out: dict[str, Any] | None = None, seen: set[int] | None = None) -> dict[str, Any]:
    """Flattened values of ``obj`` (dataclasses, mappings, sequences, arrays) keyed by path."""
    import numpy as np

    out = {} if out is None else out
    seen = set() if seen is None else seen
    if any(word in key.rsplit("/", 1)[-1].lower() for word in SKIP):
        return out
    if isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj)
        out[key] = f"{a.dtype}{a.shape}:{hashlib.sha256(a.tobytes()).hexdigest()}"
    elif isinstance(obj, np.generic):
        out[key] = repr(obj.item())
    elif isinstance(obj, float | int | str | bool | type(None)):
        out[key] = repr(obj)
    elif isinstance(obj, Path):
        out[key] = "path"
    elif id(obj) in seen:
        out[key] = "(seen)"
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        seen.add(id(obj))
        for f in dataclasses.fields(obj):
            _digest(getattr(obj, f.name), f"{key}/{f.name}", out, seen)
    elif isinstance(obj, dict):
        seen.add(id(obj))
        for k, v in obj.items():
            _digest(v, f"{key}/{k}", out, seen)
    elif isinstance(obj, list | tuple):
        seen.add(id(obj))
        for i, v in enumerate(obj):
            _digest(v, f"{key}/{i}", out, seen)
    elif hasattr(obj, "__dict__"):
        seen.add(id(obj))
        for k, v in sorted(vars(obj).items()):
            _digest(v, f"{key}/{k}", out, seen)
    else:
        out[key] = f"{type(obj).__name__}:{obj!r}"
    return out


def _files(d: Path) -> dict[str, Any]:
    import csv
    import io

    out: dict[str, Any] = {}
    for p in sorted(d.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(d))
        data = p.read_bytes()
        if p.suffix == ".json":
            out.update(_digest(json.loads(data), f"file:{rel}"))
        elif p.suffix == ".csv":
            rows = list(csv.reader(io.StringIO(data.decode())))
            drop = {i for i, h in enumerate(rows[0] if rows else []) if any(w in h.lower() for w in SKIP)}
            kept = [[c for i, c in enumerate(r) if i not in drop] for r in rows]
            out[f"file:{rel}"] = hashlib.sha256(json.dumps(kept).encode()).hexdigest()
        elif p.suffix in (".html", ".log", ".lock"):
            continue  # (timings and the folder's name inside)
        else:
            out[f"file:{rel}"] = hashlib.sha256(data).hexdigest()
    return out


def dump(out: Path) -> None:
    import shutil
    import tempfile

    import mmnst_path.classify.pigment as cp
    from mmnst_path import report
    from mmnst_path.pipeline import AnalysisConfig, analyze_region, analyze_slide
    from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile
    from mmnst_path.synthetic_azure import azure_b_tile

    extra: list[Any] = []
    real_cls, real_prob = cp.classify_pigment, cp.pigment_probability

    def spy_cls(*a: Any, **k: Any) -> Any:
        res = real_cls(*a, **k)
        extra.append(("classify_pigment", res))
        return res

    def spy_prob(*a: Any, **k: Any) -> Any:
        res = real_prob(*a, **k)
        extra.append(("pigment_probability", res))
        return res

    cp.classify_pigment = spy_cls  # type: ignore[assignment]
    cp.pigment_probability = spy_prob  # type: ignore[assignment]
    out.mkdir(parents=True, exist_ok=True)

    def save(name: str, res: Any) -> None:
        d = _digest(res, "result")
        d.update(_digest(extra, "stages"))
        tmp = Path(tempfile.mkdtemp(prefix="s37h2_"))
        try:
            report.write_result(res, tmp)
            d.update(_files(tmp))
        finally:
            shutil.rmtree(tmp)
        (out / f"{name}.json").write_text(json.dumps(d, indent=0, sort_keys=True))
        extra.clear()

    scales = tomllib.loads((ROOT / "benchmarks/datasets.toml").read_text())
    for ds in ("bcdata", "shidc", "deepliif"):
        for p in sorted(q for q in (DATA / "ki67" / ds).iterdir() if q.suffix.lower() in (".png", ".jpg")):
            save(f"real_{ds}_{p.stem}", analyze_region(_decode(p), None, mpp=float(scales[ds]["mpp"])))
    save("skimage_ihc", analyze_region(_decode(DATA / "ihc" / "skimage_ihc.png"), None, mpp=0.5))
    for seed in (880, 881):
        for chrom in ("dab", "aec", "fast_red"):
            for fam in PIGMENT_FAMILIES:
                t = pigment_family_tile(seed, fam, chromogen=chrom)
                save(f"family_{chrom}_{fam}_{seed}", analyze_region(t.rgb, None, mpp=t.mpp))
    for fam in PIGMENT_FAMILIES:
        t = azure_b_tile(880, fam)
        save(f"azure_{fam}_880", analyze_region(t.rgb, None, mpp=t.mpp))
    for p in sorted((ROOT / "sample_tiles").glob("*.tif")):
        save(f"sample_{p.stem}", analyze_slide(p, None, workers=1))
    save("cmu1_small", analyze_slide(DATA / "wsi" / "CMU-1-Small-Region.svs",
                                     AnalysisConfig(measures=("ki67",), stains="H-DAB"), mpp=0.5, workers=1))
    print(f"dumped {len(list(out.glob('*.json')))} inputs into {out}")


def compare(a: Path, b: Path) -> int:
    if any(a.glob("*.json")) and not (a / "summary.csv").exists():
        fa = {p.name: json.loads(p.read_text()) for p in a.glob("*.json")}
        fb = {p.name: json.loads(p.read_text()) for p in b.glob("*.json")}
    else:  # two README-job output folders
        fa, fb = {"job": _files(a)}, {"job": _files(b)}
    bad = 0
    for name in sorted(set(fa) | set(fb)):
        x, y = fa.get(name), fb.get(name)
        if x is None or y is None:
            print(f"only in one: {name}")
            bad += 1
            continue
        diff = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
        if diff:
            bad += 1
            print(f"differs: {name}: {len(diff)} entries, e.g. {diff[:3]}")
    n = len(set(fa) | set(fb))
    print(f"{n - bad} of {n} inputs identical ({sum(len(v) for v in fa.values())} entries in A)")
    return 1 if bad else 0


def _dev_tiles() -> list[tuple[Any, float]]:
    """Dev inputs of the same geometries: EndoNuke staining_ds (395², taken at 0.25 µm/px) and generated
    ``ki67_cells_tile`` seeds 40-44 at 640² / 0.25 µm/px and 50-54 at 1228² / 0.21 µm/px."""
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    endo = ROOT.parent / "shared" / "train" / "endonuke" / "staining_ds"
    data = [(_decode(p), 0.25) for p in sorted(endo.glob("*.png"))[:5]]
    data += [(ki67_cells_tile(s, size=640, mpp=0.25).rgb, 0.25) for s in range(40, 45)]
    data += [(ki67_cells_tile(s, size=1228, mpp=0.21).rgb, 0.21) for s in range(50, 55)]
    return data


def child(out: str, dev: bool = False) -> None:
    from mmnst_path.pipeline import analyze_region

    scales = tomllib.loads((ROOT / "benchmarks/datasets.toml").read_text())
    data = _dev_tiles() if dev else []
    for ds in () if dev else ("bcdata", "shidc"):
        paths = sorted(q for q in (DATA / "ki67" / ds).iterdir() if q.suffix.lower() in (".png", ".jpg"))[:10]
        data += [(_decode(p), float(scales[ds]["mpp"])) for p in paths]
    for rgb, m in data:  # warm-up, not timed
        analyze_region(rgb, mpp=m)
    t0 = time.process_time()
    for rgb, m in data:
        analyze_region(rgb, mpp=m)
    cpu = time.process_time() - t0
    Path(out).write_text(json.dumps({"cpu_s": cpu, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                     "load": os.getloadavg()[0],
                                     "tree": str(Path(sys.modules["mmnst_path"].__file__ or "").parents[1])}))


def _run(tree: str, args: list[str]) -> None:
    env = dict(os.environ, PYTHONPATH=tree)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], cwd=tree, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def speed(trees: dict[str, str], outdir: Path, dev: bool = False) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    flag = ["--dev"] if dev else []
    for tree in trees.values():  # numba caches and models: one discarded process per tree
        _run(tree, ["child", os.devnull, *flag])
    order = ["H", "C", "C", "H", "H", "C", "H", "H2", "H2", "H"]
    for k, t in enumerate(order):
        series = "main" if k < 6 else "aa"
        _run(trees[t], ["child", str(outdir / f"{k:02d}_{series}_{t}.json"), *flag])
        print(f"{k:02d} {series} {t} done, load {os.getloadavg()[0]:.2f}", flush=True)
    print("\n".join(speed_table(outdir)))


def speed_table(outdir: Path) -> list[str]:
    runs = [(p.stem.split("_")[1], p.stem.split("_")[2], json.loads(p.read_text())) for p in sorted(outdir.glob("*.json"))]
    lines = ["| run | series | tree | CPU s (20 tiles) | maxrss KiB | load |", "|---|---|---|---:|---:|---:|"]
    lines += [f"| {i} | {s} | {t} | {r['cpu_s']!r} | {r['maxrss_kib']} | {r['load']:.2f} |" for i, (s, t, r) in enumerate(runs)]

    def med(series: str, tree: str, key: str) -> float:
        return float(statistics.median(r[key] for s, t, r in runs if s == series and t == tree))

    h, c = med("main", "H", "cpu_s"), med("main", "C", "cpu_s")
    ah, ah2 = med("aa", "H", "cpu_s"), med("aa", "H2", "cpu_s")
    mh, mc = med("main", "H", "maxrss_kib"), med("main", "C", "maxrss_kib")
    lines += ["", f"gate 2 speed: median C {c!r} / median H {h!r} = {c / h!r} (<= 0.92)",
              f"A/A: median H' {ah2!r} / median H {ah!r} = {ah2 / ah!r} (0.95-1.05, else void)",
              f"gate 3 memory: median C maxrss {mc!r} KiB / median H {mh!r} KiB = {mc / mh!r} (<= 1.03)"]
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("cmd", choices=("dump", "compare", "speed", "child", "table"))
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--dev", action="store_true", help="speed / child: the dev tiles (development), not the gate's")
    args = ap.parse_args()
    need = {"dump": 1, "compare": 2, "speed": 4, "child": 1, "table": 1}[args.cmd]
    if len(args.paths) != need:
        ap.error(f"{args.cmd} takes {need} path(s), got {len(args.paths)}")
    if args.cmd == "dump":
        dump(Path(args.paths[0]))
    elif args.cmd == "compare":
        return compare(Path(args.paths[0]), Path(args.paths[1]))
    elif args.cmd == "speed":
        h, c, h2, out = args.paths
        speed({"H": h, "C": c, "H2": h2}, Path(out), args.dev)
    elif args.cmd == "child":
        child(args.paths[0], args.dev)
    else:
        print("\n".join(speed_table(Path(args.paths[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
