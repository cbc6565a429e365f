"""Session 37 H3 gates of the pixel-size plausibility check (the rule: /work/notes/s37/h3_report.md).

``--real``: every real validation input at its true µm/px, then at 2x and 0.5x (BCData, SHIDC,
DeepLIIF at benchmarks/datasets.toml's scale; the 15 osteosarcoma tiles at 1.0; CMU-1-Small-Region
at 0.5, TCGA-CR-7395 at 1.0; the 5 sample tiles at 0.5), default configuration (stains auto), one
JSON line per run: the check's verdict, radius, implied µm/px, an error if the run refused, and the
run's CPU with the check's own CPU (``nuclear_scale`` timed inside the run, one process).
``--generated``: the 120 generated tiles of the rule (seeds 840-849 x 12 generator families) at
their true µm/px. ``--dump DIR``: the measured quantities of the 24 real Ki67 tiles (cells and
metrics, QC fields left out) for the identity gate, run once with this tree and once with HEAD's
(``PYTHONPATH=HEAD``). ``--summary FILE...``: the gate table of the JSON lines.

    PYTHONPATH=. python benchmarks/experiments/pixel_size_gate_s37.py --real > /tmp/s37_h3/real.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

DATA = Path("/work/shared/data")
KI67 = {"bcdata": 0.25, "shidc": 0.21, "deepliif": 0.31}  # benchmarks/datasets.toml
SAMPLES = Path(__file__).resolve().parents[2] / "sample_tiles"


def real_inputs() -> list[tuple[str, str, Path, float]]:
    """(group, name, path, true µm/px) of every real validation input."""
    out = []
    for name, mpp in KI67.items():
        folder = DATA / "ki67" / name
        for p in sorted(q for q in folder.iterdir() if q.suffix.lower() in (".png", ".jpg")):
            out.append((name, p.name, p, mpp))
    for p in sorted((DATA / "necrosis").glob("*.jpg")):
        out.append(("osteosarcoma", p.name, p, 1.0))
    out.append(("slide", "CMU-1-Small-Region.svs", DATA / "wsi" / "CMU-1-Small-Region.svs", 0.5))
    out.append(("slide", "tcga-cr-7395-01a-01-ts1.svs", DATA / "wsi" / "tcga-cr-7395-01a-01-ts1.svs", 1.0))
    for p in sorted(SAMPLES.glob("*.tif")):
        out.append(("sample", p.name, p, 0.5))
    return out


def generated_inputs() -> list[tuple[str, str, np.ndarray, float]]:
    """The rule's 120 generated tiles: seeds 840-849, 12 generator families, their own µm/px."""
    from mmnst_path import synthetic as s
    from mmnst_path import synthetic_azure as sa
    from mmnst_path import synthetic_double as sd
    from mmnst_path import synthetic_ki67 as sk
    from mmnst_path import synthetic_tissue as st

    out = []
    for seed in range(840, 850):
        i = seed - 840
        makers = {
            "ki67_cells": lambda seed=seed, i=i: sk.ki67_cells_tile(seed),
            "ki67_pigment": lambda seed=seed, i=i: s.ki67_pigment_tile(seed),
            "pigment_family": lambda seed=seed, i=i: s.pigment_family_tile(seed, s.PIGMENT_FAMILIES[i % 10],
                                                            chromogen=s.FAMILY_CHROMOGENS[i % 4]),
            "azure_b": lambda seed=seed, i=i: sa.azure_b_tile(seed, s.PIGMENT_FAMILIES[(i + 3) % 10]),
            "double": lambda seed=seed, i=i: sd.double_stain_tile(seed, marker="cytoplasmic" if i % 2 == 0 else "nuclear"),
            "ihc_tissue": lambda seed=seed, i=i: st.ihc_tissue_tile(seed),
            "he_melanin": lambda seed=seed, i=i: s.he_melanin_tile(seed),
            "he_necrosis": lambda seed=seed, i=i: s.he_necrosis_tile(seed),
            "he_tissue": lambda seed=seed, i=i: st.he_tissue_tile(seed),
            "he_mimic": lambda seed=seed, i=i: st.he_mimic_tile(seed),
            "he_keratin": lambda seed=seed, i=i: st.he_keratin_tile(seed),
            "he_squamous": lambda seed=seed, i=i: st.he_squamous_sheet_tile(seed),
        }
        for fam, make in makers.items():
            t = make()
            out.append(("generated", f"{fam}:{seed}", t.rgb, float(t.mpp)))
    return out


_SCALE_CPU = [0.0]


def _timed_check() -> None:
    """Time ``nuclear_scale`` inside the runs of this process (the check's own CPU)."""
    import mmnst_path.quantify.pixel_size as ps

    orig = ps.nuclear_scale

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        t = time.process_time()
        try:
            return orig(*args, **kwargs)
        finally:
            _SCALE_CPU[0] += time.process_time() - t

    ps.nuclear_scale = timed  # type: ignore[assignment]


def _read(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


#: the configuration of every run (None: the library default, stains H-DAB; ``--stains auto``: as the CLI)
CONFIG: list = [None]


def run_one(source: Path | np.ndarray, mpp: float) -> dict:
    from mmnst_path.pipeline import analyze_region, analyze_slide

    config = CONFIG[0]
    _SCALE_CPU[0] = 0.0
    t = time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(source, np.ndarray):
                r = analyze_region(source, config, mpp=mpp)
            elif source.suffix.lower() in (".svs", ".tif"):
                r = analyze_slide(source, config, mpp=mpp)
            else:
                r = analyze_region(_read(source), config, mpp=mpp)
    except Exception as exc:  # a run that refuses is recorded (counted as not warned)
        return {"error": f"{type(exc).__name__}: {exc}"[:200], "cpu": time.process_time() - t}
    m = r.metrics
    return {"check": m.get("pixel_size_check"), "radius_um": m.get("pixel_size_nuclear_radius_um"),
            "implied_mpp": m.get("pixel_size_implied_mpp"), "measures": ",".join(r.measures),
            "stains": r.stains.get("name") if isinstance(r.stains, dict) else None,
            "cpu": time.process_time() - t, "cpu_check": _SCALE_CPU[0]}


def dump(out: Path) -> None:
    """Measured quantities of the 24 real Ki67 tiles (QC fields ``pixel_size_*`` left out)."""
    from mmnst_path.pipeline import analyze_region

    out.mkdir(parents=True, exist_ok=True)
    for group, name, path, mpp in real_inputs():
        if group not in KI67:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = analyze_region(_read(path), mpp=mpp)
        arrays = {"row": r.cells.row, "col": r.cells.col, "cls": r.cells.cls}
        arrays.update({f"col_{k}": np.asarray(v) for k, v in r.cells.columns.items()})
        np.savez(out / f"{group}_{name}.npz", **arrays)
        metrics = {k: v for k, v in r.metrics.items() if not k.startswith("pixel_size")}
        counts = {k: repr(v) for k, v in r.counts.items()}
        (out / f"{group}_{name}.json").write_text(json.dumps({"metrics": metrics, "counts": counts}, default=repr,
                                                             sort_keys=True))
        print(group, name, len(r.cells), flush=True)


def compare_dumps(a: Path, b: Path) -> int:
    """Gate 3 (a): the dumps of two trees equal, file by file (arrays with ``np.array_equal``)."""
    bad = 0
    names = sorted(p.name for p in a.iterdir())
    if names != sorted(p.name for p in b.iterdir()):
        print("different files:", names, sorted(p.name for p in b.iterdir()))
        return 1
    for name in names:
        if name.endswith(".npz"):
            x, y = np.load(a / name), np.load(b / name)
            same = sorted(x.files) == sorted(y.files) and all(np.array_equal(x[k], y[k]) for k in x.files)
        else:
            same = (a / name).read_text() == (b / name).read_text()
        bad += not same
        print(("same      " if same else "DIFFERENT ") + name)
    print(f"{len(names) - bad} of {len(names)} files equal")
    return int(bad > 0)


QC_COLUMNS = ("pixel_size_check", "pixel_size_implied_mpp")


def compare_readme(a: Path, b: Path) -> int:
    """Gate 3 (b): two ``quantify sample_tiles`` outputs (a: HEAD, b: this branch) equal but for the QC fields."""
    import csv

    bad = 0
    ra = list(csv.DictReader((a / "summary.csv").open()))
    rb = list(csv.DictReader((b / "summary.csv").open()))
    cols = [c for c in (ra[0].keys() if ra else []) if c != "seconds"]
    extra = sorted(set(rb[0].keys()) - set(ra[0].keys())) if rb and ra else []
    print("columns only in b:", extra)
    bad += any(c not in QC_COLUMNS for c in extra) or len(ra) != len(rb)
    for x, y in zip(ra, rb, strict=True):
        diff = [c for c in cols if x[c] != y.get(c)]
        bad += bool(diff)
        print("summary row", x["input"], "same" if not diff else f"DIFFERENT {diff}")
    for sub in sorted(p for p in a.iterdir() if p.is_dir()):
        ja = json.loads((sub / "result.json").read_text())
        jb = json.loads((b / sub.name / "result.json").read_text())
        ma = ja["metrics"]
        mb = {k: v for k, v in jb["metrics"].items() if not k.startswith("pixel_size")}
        keys = ("counts", "hotspot", "n_cells", "cells_by_class")
        same = ma == mb and all(ja[k] == jb[k] for k in keys)
        cells = (sub / "cells.csv").read_bytes() == (b / sub.name / "cells.csv").read_bytes()
        bad += not (same and cells)
        print(sub.name, "result.json", "same" if same else "DIFFERENT", "cells.csv", "same" if cells else "DIFFERENT")
    print("README job:", "identical but for the QC fields" if not bad else f"{bad} DIFFERENCES")
    return int(bad > 0)


def summary(files: list[Path]) -> None:
    rows = [json.loads(line) for f in files for line in f.read_text().splitlines() if line.startswith("{")]
    real = [r for r in rows if r["group"] != "generated"]
    gen = [r for r in rows if r["group"] == "generated"]
    for f in (1.0, 2.0, 0.5):
        sel = [r for r in real if r["factor"] == f]
        warned = [r for r in sel if r.get("check") == "implausible"]
        errors = [r for r in sel if "error" in r]
        notrun = [r for r in sel if r.get("check") == "not run"]
        print(f"real x{f}: {len(warned)} of {len(sel)} warned ({100 * len(warned) / max(1, len(sel)):.4f} %), "
              f"not run {len(notrun)}, errors {len(errors)}")
        for g in ("bcdata", "shidc", "deepliif", "osteosarcoma", "slide", "sample"):
            s = [r for r in sel if r["group"] == g]
            w = sum(r.get("check") == "implausible" for r in s)
            radii = [r["radius_um"] for r in s if r.get("radius_um") is not None]
            rr = f"{min(radii):.3f}-{max(radii):.3f}" if radii else "-"
            print(f"   {g:12s} {w:2d}/{len(s):2d} warned, radius {rr}")
    if gen:
        warned = [r for r in gen if r.get("check") == "implausible"]
        print(f"generated x1: {len(warned)} of {len(gen)} warned ({100 * len(warned) / len(gen):.4f} %), "
              f"not run {sum(r.get('check') == 'not run' for r in gen)}, errors {sum('error' in r for r in gen)}")
        for r in warned:
            print("   warned:", r["name"], r.get("radius_um"))
    for label, groups in (("Ki67 (24 real + 3 sample IHC)", None), ("H&E (15 osteosarcoma, 2 slides, 2 sample)", "he")):
        sel = [r for r in real if r["factor"] == 1.0 and "cpu_check" in r]
        he = [r for r in sel if r["group"] in ("osteosarcoma", "slide") or r["name"].startswith("he_")]
        pick = he if groups == "he" else [r for r in sel if r not in he]
        tot, chk = sum(r["cpu"] for r in pick), sum(r["cpu_check"] for r in pick)
        per = [100 * r["cpu_check"] / r["cpu"] for r in pick if r["cpu"] > 0]
        if pick:
            print(f"CPU {label}: check {chk:.4f} s of {tot:.4f} s = {100 * chk / tot:.4f} % "
                  f"(per input median {float(np.median(per)):.4f} %, max {max(per):.4f} %)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--generated", action="store_true")
    ap.add_argument("--factors", type=float, nargs="+", default=[1.0, 2.0, 0.5])
    ap.add_argument("--dump", type=Path, default=None)
    ap.add_argument("--summary", type=Path, nargs="+", default=None)
    ap.add_argument("--compare-dumps", type=Path, nargs=2, default=None, metavar=("HEAD_DIR", "NEW_DIR"))
    ap.add_argument("--compare-readme", type=Path, nargs=2, default=None, metavar=("HEAD_OUT", "NEW_OUT"))
    ap.add_argument("--stains", default=None, help="config stains for every run (e.g. auto, as the CLI)")
    args = ap.parse_args()
    if args.stains:
        from mmnst_path.pipeline import AnalysisConfig

        CONFIG[0] = AnalysisConfig(stains=args.stains)
    if args.compare_dumps:
        return compare_dumps(*args.compare_dumps)
    if args.compare_readme:
        return compare_readme(*args.compare_readme)
    if args.summary:
        summary(args.summary)
        return 0
    if args.dump:
        dump(args.dump)
        return 0
    _timed_check()
    if args.real:
        for group, name, path, mpp in real_inputs():
            for f in args.factors:
                res = run_one(path, mpp * f)
                print(json.dumps({"group": group, "name": name, "true_mpp": mpp, "factor": f, **res},
                                 default=lambda v: None if isinstance(v, float) and math.isnan(v) else str(v)),
                      flush=True)
    if args.generated:
        for group, name, rgb, mpp in generated_inputs():
            res = run_one(rgb, mpp)
            print(json.dumps({"group": group, "name": name, "true_mpp": mpp, "factor": 1.0, **res}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
