"""Experiment (#14, session 38 H8): the per-tile outputs the learned pigment reach of the lean window must leave
bit-identical (gate 1 of benchmarks/experiments/pigment_lean_reach_rule_s38.md).

``dump OUT`` (run from the package tree, ``PYTHONPATH=.``) writes into OUT, per tile:

- the 24 real Ki67 tiles (BCData and SHIDC: the first 10 by name; DeepLIIF: the first 4) at rotations 0 and 1
  (``np.rot90(rgb, k)``), and the skimage IHC tile (H-DAB at 0.5 µm/px, as benchmarks/README's identity runs),
  through ``analyze_region`` at the set's µm/px (benchmarks/datasets.toml): the result files
  (``report.write_result``: Ki67 counts, index, excluded counts, melanin %, cells, maps) and the pigment stage's
  masks in the frame of the whole tile image (``pigment.npz``: what ``_worker._pigment`` returned, pasted where it
  ran: the whole tile, or its lean window).

``compare A B`` is :func:`pigment_exact_outputs.compare` (every file; JSON without timing keys, CSV without the
``seconds`` column, arrays with ``np.array_equal``).

    PYTHONPATH=. python benchmarks/experiments/pigment_lean_reach_exact_s38.py dump OUT
    python benchmarks/experiments/pigment_lean_reach_exact_s38.py compare A B
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = Path("/work/shared/data")


def _decode(p: Path) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(p) as im:
        return np.asarray(im.convert("RGB"))


def dump(out: Path) -> None:
    import numpy as np

    import mmnst_path.pipeline._worker as worker
    from mmnst_path import report
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    seen: dict[str, Any] = {}
    masks: list[Any] = []
    real_lean, real_pigment = worker._lean_windows, worker._pigment

    def lean_spy(rgb: Any, *a: Any, **k: Any) -> Any:
        res = real_lean(rgb, *a, **k)
        seen["shape"], seen["win"] = rgb.shape[:2], None if res is None else res[1]
        return res

    def pigment_spy(rgb: Any, *a: Any, **k: Any) -> Any:
        res = real_pigment(rgb, *a, **k)
        win = seen.get("win")
        shape = seen.get("shape", rgb.shape[:2])
        for m in res:
            full = np.zeros(shape, dtype=bool)
            full[win if win is not None and rgb.shape[:2] != shape else (slice(None), slice(None))] = m
            masks.append(full)
        return res

    worker._lean_windows = lean_spy  # type: ignore[assignment]
    worker._pigment = pigment_spy  # type: ignore[assignment]
    scales = tomllib.loads((ROOT / "benchmarks/datasets.toml").read_text())
    jobs: list[tuple[str, Path, float, Any]] = []
    for name, n in (("bcdata", 10), ("shidc", 10), ("deepliif", 4)):
        paths = sorted(p for p in (DATA / "ki67" / name).iterdir() if p.suffix.lower() in (".png", ".jpg"))[:n]
        jobs += [(name, p, float(scales[name]["mpp"]), None) for p in paths]
    jobs.append(("ihc", DATA / "ihc" / "skimage_ihc.png", 0.5, AnalysisConfig(stains="H-DAB")))
    for name, p, mpp, cfg in jobs:
        rgb = _decode(p)
        for k in ((0, 1) if name != "ihc" else (0,)):
            masks.clear()
            seen.clear()
            res = analyze_region(np.ascontiguousarray(np.rot90(rgb, k)), cfg, mpp=mpp)
            d = out / name / f"{p.stem}_rot{k}"
            d.mkdir(parents=True, exist_ok=True)
            report.write_result(res, d)
            np.savez(d / "pigment.npz", *masks)
            print(name, p.stem, k, int(sum(int(m.sum()) for m in masks)), flush=True)
    print(f"dumped into {out}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("dump")
    p.add_argument("out", type=Path)
    p = sub.add_parser("compare")
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.out)
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pigment_exact_outputs import compare

    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
