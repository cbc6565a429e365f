"""Experiment (#16, session 34 H3): coarse nucleus seeds plus a lone tile's block tissue mask as the defaults
(``coarse_default_s34.patch``), judged on dev data and by the lead's rule; the figures, unrounded.

Trees: ``git archive`` of the start commit (HEAD) and of the candidate (HEAD + the patch, or + only its
``seed_scale_um = 1.0`` line for A). Each command below runs from a tree's root with ``PYTHONPATH`` = that tree,
one thread, and writes into ``DIR/<tree>/``; this script only reads those files (and, for ``acc``, runs
``accuracy.py``'s own ``run`` and keeps the MAE unrounded).

Dev (seeds >= 40, EndoNuke, Kather, osteosarcoma; never the research-only sets or the held-out renderer):

    python benchmarks/eval_ki67_cells.py --seeds 12 --first 40 --csv DIR/T/cells.csv
    python benchmarks/eval_pigment_families.py --chromogens dab --seeds 4 --first-seed 40 --csv DIR/T/fam.csv
    python benchmarks/experiments/lone_tissue_coarse.py --set dev --gen 2 --targets 0 [3.1] --json DIR/T/lone.json
    python coarse_default_s34.py dev DIR head candA candB

The rule's gates 2-4 (gate 1: ``lone_tile_ab.py``):

    python coarse_default_s34.py acc DIR/T/acc.json bcdata shidc deepliif        # in each tree
    python -m mmnst_path quantify sample_tiles --out DIR/T/readme --overwrite --workers 1
    python benchmarks/eval_pigment_families.py --chromogens dab --seeds 4 --csv DIR/T/fam.csv
    python benchmarks/eval_ki67_cells.py --csv DIR/T/cells.csv
    python benchmarks/eval_heldout.py --chromogen dab --seeds 12 --pigment none random --csv DIR/T/heldout.csv
    python coarse_default_s34.py gate {2,3,4} DIR          # DIR/head and DIR/cand; exit 1 when the gate fails
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("ki67_index_pct", "ki67_denominator", "melanin_fraction_pct", "necrosis_fraction_pct", "tissue_area_mm2")


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def _num(v: object) -> float:
    return math.nan if v is None or v == "" else float(v)  # type: ignore[arg-type]


def _abs_err(meas: str, true: str) -> Callable[[dict[str, str]], float]:
    return lambda r: abs(_num(r[meas]) - _num(r[true]))


def _paired(label: str, vals: dict[str, list[float]]) -> None:
    """Mean |error| per tree and each tree's paired change against the first (mean, SE, items worse)."""
    names = list(vals)
    base = vals[names[0]]
    out = f"{label}: n {len(base)}; mean |err| " + ", ".join(f"{t} {statistics.mean(v)!r}" for t, v in vals.items())
    for t in names[1:]:
        d = [b - a for a, b in zip(base, vals[t], strict=True)]
        se = statistics.stdev(d) / math.sqrt(len(d)) if len(d) > 1 else math.nan
        out += f"; {t} - {names[0]} {statistics.mean(d):+.4f} (paired SE {se:.4f}, worse on {sum(x > 0 for x in d)}/{len(d)})"
    print(out)


def dev(folder: Path, trees: list[str]) -> None:
    """The dev figures of ``trees`` (the first is the reference)."""
    cells = {t: _csv(folder / t / "cells.csv") for t in trees if (folder / t / "cells.csv").exists()}
    if cells:
        _paired("eval_ki67_cells Ki67", {t: [abs(_num(r["err"])) for r in v] for t, v in cells.items()})
    fam = {t: _csv(folder / t / "fam.csv") for t in trees if (folder / t / "fam.csv").exists()}
    ki67, mel = _abs_err("ki67_meas", "ki67_true"), _abs_err("mel_meas", "mel_true")
    if fam:
        _paired("families Ki67, 9 pigmented", {t: [ki67(r) for r in v if r["family"] != "none"] for t, v in fam.items()})
        _paired("families Ki67, none", {t: [ki67(r) for r in v if r["family"] == "none"] for t, v in fam.items()})
        _paired("families melanin, all", {t: [mel(r) for r in v] for t, v in fam.items()})
    lone: dict[str, dict[tuple[str, str], dict]] = {}
    for t in trees:
        p = folder / t / "lone.json"
        if p.exists():  # the last target of each input (T = 3.1 in a tree run with --targets 0 3.1)
            lone[t] = {(r["input"], r["config_stains"]): r for r in json.loads(p.read_text())}
    names = list(lone)
    for a, b in itertools.pairwise(names):
        x, y = lone[a], lone[b]
        print(f"\nlone dev inputs ({len(y)}), {b} vs {a}:")
        for key in KEYS:
            d = [(k, _num(y[k][key]) - _num(x[k][key])) for k in y
                 if not (math.isnan(_num(x[k][key])) and math.isnan(_num(y[k][key])))]
            moved = [(k, v) for k, v in d if v != 0]
            worst = max(moved, key=lambda kv: abs(kv[1])) if moved else None
            print(f"  {key}: moved on {len(moved)}/{len(d)}, mean |d| {statistics.mean(abs(v) for _, v in d) if d else 0:.4f},"
                  f" worst {worst}")
        print(f"  stains changed: {sum(x[k]['stains'] != y[k]['stains'] for k in y)}")
        for grp in ("gen_ki67", "endonuke"):
            d = [_num(y[k]["ki67_index_pct"]) - _num(x[k]["ki67_index_pct"]) for k in y if k[0].startswith(grp)]
            d = [v for v in d if not math.isnan(v)]
            if d:
                print(f"  {grp} Ki67 index: n {len(d)}, mean d {statistics.mean(d):+.4f}, "
                      f"mean |d| {statistics.mean(map(abs, d)):.4f}, max |d| {max(map(abs, d)):.4f}")


def acc(out: Path, sets: list[str]) -> None:
    """``accuracy.py``'s per-set summary (pipeline engine), unrounded, from the tree in the working folder."""
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    import accuracy  # type: ignore[import-not-found]

    res = {}
    for name in sets:
        folder = ROOT.parent / "shared" / "data" / "ki67" / name
        s = accuracy.run(folder, accuracy.dataset_mpp(folder), "pipeline", None)
        res[name] = {k: float(v) for k, v in s.items() if isinstance(v, int | float)}
        print(name, repr(res[name]["mae_pp"]), flush=True)
    out.write_text(json.dumps(res, indent=1))


def _verdict(label: str, head: float, cand: float, limit: float) -> bool:
    ok = cand <= head + limit
    print(f"{label}: HEAD {head!r} CAND {cand!r} diff {cand - head!r} limit +{limit} {'pass' if ok else 'FAIL'}")
    return ok


def gate2(folder: Path) -> bool:
    h, c = (json.loads((folder / t / "acc.json").read_text()) for t in ("head", "cand"))
    ok = [_verdict(f"gate 2 {s} index MAE", h[s]["mae_pp"], c[s]["mae_pp"], 0.10) for s in ("bcdata", "shidc", "deepliif")]
    return all(ok)  # every set printed, then the verdict


def gate3(folder: Path) -> bool:
    truth = json.loads((ROOT / "sample_tiles" / "truth.json").read_text())
    rows = {t: {Path(r["input"]).name: r for r in json.loads((folder / t / "readme" / "summary.json").read_text())["rows"]}
            for t in ("head", "cand")}
    ok = []
    for name in ("ki67_primary.tif", "ki67_recurrence.tif", "ki67_pigmented.tif"):
        t = truth[name]["ki67_index_pct"]
        ok.append(_verdict(f"gate 3 {name} |index - truth {t}|", abs(rows["head"][name]["ki67_index_pct"] - t),
                           abs(rows["cand"][name]["ki67_index_pct"] - t), 0.30))
    for key in ("melanin_fraction_pct", "necrosis_fraction_pct"):
        for name, r in sorted(rows["head"].items()):
            a, b = _num(r.get(key)), _num(rows["cand"][name].get(key))
            if not (math.isnan(a) and math.isnan(b)):
                ok.append(abs(b - a) <= 0.10)
                print(f"gate 3 {name} {key}: HEAD {a!r} CAND {b!r} limit |diff| 0.10 {'pass' if ok[-1] else 'FAIL'}")
    return all(ok)


def gate4(folder: Path) -> bool:
    fam = {t: _csv(folder / t / "fam.csv") for t in ("head", "cand")}
    ho = {t: _csv(folder / t / "heldout.csv") for t in ("head", "cand")}
    ki67, mel = _abs_err("ki67_meas", "ki67_true"), _abs_err("mel_meas", "mel_true")

    def mean(rows: dict[str, list[dict[str, str]]], f: Callable[[dict[str, str]], float],
             keep: Callable[[dict[str, str]], bool] = lambda r: True) -> tuple[float, float]:
        h, c = (statistics.mean(f(r) for r in rows[t] if keep(r)) for t in ("head", "cand"))
        return h, c

    cells = {t: _csv(folder / t / "cells.csv") for t in ("head", "cand")}

    def err(r: dict[str, str]) -> float:
        return abs(_num(r["err"]))

    return all([
        _verdict("gate 4 families Ki67 mean |err|, 9 pigmented", *mean(fam, ki67, lambda r: r["family"] != "none"), 0.10),
        _verdict("gate 4 families Ki67 mean |err|, none", *mean(fam, ki67, lambda r: r["family"] == "none"), 0.10),
        _verdict("gate 4 families melanin mean |err|, all", *mean(fam, mel), 0.10),
        _verdict("gate 4 eval_ki67_cells Ki67 mean |err|", *mean(cells, err), 0.10),
        _verdict("gate 4 held-out Ki67 MAE, all tiles", *mean(ho, err), 0.25),
        *[_verdict(f"gate 4 held-out Ki67 MAE, pigment {p}", *mean(ho, err, lambda r, p=p: r["pigment"] == p), 0.50)
          for p in ("none", "random")],
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dev")
    d.add_argument("dir", type=Path)
    d.add_argument("trees", nargs="+")
    a = sub.add_parser("acc")
    a.add_argument("out", type=Path)
    a.add_argument("sets", nargs="+")
    g = sub.add_parser("gate")
    g.add_argument("gate", choices=("2", "3", "4"))
    g.add_argument("dir", type=Path)
    args = ap.parse_args()
    if args.cmd == "dev":
        dev(args.dir, args.trees)
    elif args.cmd == "acc":
        acc(args.out, args.sets)
    else:
        ok = {"2": gate2, "3": gate3, "4": gate4}[args.gate](args.dir)
        print(f"GATE {args.gate} {'PASS' if ok else 'FAIL'}")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
