"""Experiment (#16, session 29 H2): the outputs an exact pigment-stage change must leave byte-identical.

``dump`` (run with one package tree first on ``PYTHONPATH``, from that tree) writes into OUT:

- ``tiles/SET/NAME/``: per real Ki67 tile (BCData and SHIDC: the first ``--tiles`` by name, as
  bench_peers.py takes them; DeepLIIF: the first 4), ``analyze_region`` at the set's µm/px
  (benchmarks/datasets.toml): the result files (``report.write_result``) and every
  ``classify_pigment`` mask of the run (``pigment_masks.npz``);
- ``slides/NAME/``: ``analyze_slide`` of each slide (1 worker, Ki67 forced, H-DAB, 0.5 µm/px, as
  slide_cpu_account.py runs them) and its default output files;
- ``prob/``: the pixel model's probability map (``pigment_probability``, full forest) on generated
  pigment-family tiles, with the shipped H-DAB model and the default model.

``compare A B`` compares two such folders (or two README-job output folders): every file byte for
byte, except that JSON files are compared flattened without the keys containing ``seconds``,
``timings`` or ``inode`` (the trees are separate copies), and CSV files without the ``seconds``
column; ``.npz`` / ``.npy`` arrays with ``np.array_equal``. Prints one line per differing file and
a count.

    PYTHONPATH=. python benchmarks/experiments/pigment_exact_outputs.py dump OUT [--tiles 10]
    python benchmarks/experiments/pigment_exact_outputs.py compare A B
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
SLIDES = ("CMU-1-Small-Region.svs", "tcga-cr-7395-01a-01-ts1.svs")
FAMILIES = ((0, "coarse"), (1, "dusty"), (2, "perinuclear"))
IGNORED = ("seconds", "timings", "inode")


def _decode(p: Path) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(p) as im:
        return np.asarray(im.convert("RGB"))


def dump(out: Path, tiles: int) -> None:
    import numpy as np

    import mmnst_path.classify.pigment as cp
    from mmnst_path import report
    from mmnst_path.pipeline import AnalysisConfig, analyze_region, analyze_slide
    from mmnst_path.synthetic import pigment_family_tile

    masks: list[Any] = []
    real = cp.classify_pigment

    def spy(rgb: Any, **k: Any) -> Any:
        res = real(rgb, **k)
        masks.append(np.asarray(res[0]).copy())
        return res

    cp.classify_pigment = spy  # type: ignore[assignment]
    scales = tomllib.loads((ROOT / "benchmarks/datasets.toml").read_text())
    for name, n in (("bcdata", tiles), ("shidc", tiles), ("deepliif", 4)):
        paths = sorted(p for p in (DATA / "ki67" / name).iterdir() if p.suffix.lower() in (".png", ".jpg"))[:n]
        for p in paths:
            masks.clear()
            res = analyze_region(_decode(p), None, mpp=float(scales[name]["mpp"]))
            d = out / "tiles" / name / p.stem
            d.mkdir(parents=True, exist_ok=True)
            report.write_result(res, d)
            np.savez(d / "pigment_masks.npz", *masks)
    for s in SLIDES:
        res = analyze_slide(DATA / "wsi" / s, AnalysisConfig(measures=("ki67",), stains="H-DAB"), mpp=0.5, workers=1)
        d = out / "slides" / Path(s).stem
        d.mkdir(parents=True, exist_ok=True)
        report.write_result(res, d)
    d = out / "prob"
    d.mkdir(parents=True, exist_ok=True)
    for spec in ("dab", "default"):
        model = cp.resolve_pigment_model(spec)
        for seed, family in FAMILIES:
            tile = pigment_family_tile(seed, family, chromogen="dab")
            prob, cand = cp.pigment_probability(tile.rgb, mpp=tile.mpp, model=model)
            np.savez(d / f"{spec}_{family}_{seed}.npz", prob=prob, cand=cand)
    print(f"dumped into {out}")


def _flat(obj: Any, key: str = "") -> dict[str, Any]:
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_flat(v, f"{key}/{k}"))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj):
            out.update(_flat(v, f"{key}/{i}"))
        return out
    return {key: obj}


def _kept(flat: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in flat.items() if not any(word in k.lower() for word in IGNORED)}


def _csv_rows(data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode())))
    if not rows:
        return rows
    drop = {i for i, h in enumerate(rows[0]) if any(word in h.lower() for word in IGNORED)}
    return [[c for i, c in enumerate(r) if i not in drop] for r in rows]


def _same(a: Path, b: Path) -> bool:
    if a.suffix in (".npz", ".npy"):
        import numpy as np

        with np.load(a) as x, np.load(b) as y:
            return sorted(x.files) == sorted(y.files) and all(
                x[k].dtype == y[k].dtype and np.array_equal(x[k], y[k]) for k in x.files)
    da, db = a.read_bytes(), b.read_bytes()
    if da == db:
        return True
    if a.suffix == ".json":
        return _kept(_flat(json.loads(da))) == _kept(_flat(json.loads(db)))
    if a.suffix == ".csv":
        return _csv_rows(da) == _csv_rows(db)
    return False


def compare(a: Path, b: Path) -> int:
    fa = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    bad = 0
    for rel in sorted(fa ^ fb):
        print(f"only in one: {rel}")
        bad += 1
    same = 0
    for rel in sorted(fa & fb):
        if _same(a / rel, b / rel):
            same += 1
        else:
            print(f"differs: {rel}")
            bad += 1
    print(f"{same} files equal, {bad} differ or are missing")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("dump")
    p.add_argument("out", type=Path)
    p.add_argument("--tiles", type=int, default=10)
    p = sub.add_parser("compare")
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.out, args.tiles)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
