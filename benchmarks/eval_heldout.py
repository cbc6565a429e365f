"""Ki67 and melanin on tiles of the independently written renderer (``heldout_render.py``).

Nothing in mmnst_path was trained or tuned on these tiles: this is the project's stand-in for the
external evaluation's "independently written generator". Each tile goes through
:func:`mmnst_path.analyze_region` with the default configuration and the H-DAB preset (or
``--stains auto``); every detected nucleus is matched to the truth nucleus under its centroid, so
the index error splits into where it comes from:

- ``tumour recall``: truth tumour nuclei with a counted detection;
- ``read +`` per grade: counted tumour nuclei read positive, for negative / weak / moderate /
  strong truth (the first is the false-positive rate, the others the sensitivity);
- ``non-tumour counted``: counted nuclei that are lymphocytes, stroma or macrophages, as a share
  of everything counted (the denominator the external evaluation says is polluted);
- ``excluded`` per grade: detected tumour nuclei the cell model left out of the count;
- ``off-nucleus``: counted objects on no truth nucleus (melanin granules, background);
- ``hidden +``: tumour nuclei hidden under melanin that were counted positive.

The score is the error against the full truth (hidden nuclei counted by their status). As
information, each tile also gets its error against the truth of the nuclei not hidden
(``err_assessable``) and the QC sentences the tool prints for it (``qc``: pigment bound,
near-black positives, stromal exclusion), and the summary says how many of the tiles off by more
than 5 pp carried one: a tile whose tumour nuclei are all hidden should be reported
unassessable, which needs its pigment found.

    PYTHONPATH=. .venv/bin/python benchmarks/eval_heldout.py --seeds 12 --pigment none random
    PYTHONPATH=. .venv/bin/python benchmarks/eval_heldout.py --seeds 6 --pigment dusty spindle --csv out.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heldout_render import KINDS, MORPHOLOGIES, HeldoutTile, render

from mmnst_path.errors import MmnstPathError
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.report import near_black_warning, pigment_warning, stroma_warning

#: short names of the QC sentences (``mmnst_path.report``) in the ``qc`` column
QC_TAGS = ("pigment", "near_black", "stroma")
#: a tile whose |error| exceeds this (pp) is "wrong" in the QC line of the summary
QC_WRONG_PP = 5.0


def truth_of_cells(tile: HeldoutTile, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Index of the truth nucleus under each centroid (the nearest label within 2 µm), -1 if none."""
    lab = tile.labels
    reach = max(1, round(2.0 / tile.mpp))
    out = np.full(len(rows), -1, np.int64)
    s = lab.shape[0]
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
        ri, ci = int(np.rint(r)), int(np.rint(c))
        r0, r1, c0, c1 = max(0, ri - reach), min(s, ri + reach + 1), max(0, ci - reach), min(s, ci + reach + 1)
        if r0 >= r1 or c0 >= c1:  # outside the tile
            continue
        win = lab[r0:r1, c0:c1]
        if not win.any():
            continue
        if 0 <= ri < s and 0 <= ci < s and lab[ri, ci]:
            out[i] = lab[ri, ci] - 1
            continue
        yy, xx = np.nonzero(win)
        k = np.argmin((yy + r0 - r) ** 2 + (xx + c0 - c) ** 2)
        out[i] = win[yy[k], xx[k]] - 1
    return out


def _settings(pairs: list[str]) -> dict:
    """``["ki67.cell_model=none", ...]`` -> ``{"ki67": {"cell_model": "none"}}`` (numbers and booleans parsed)."""
    out: dict = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        section, dot, name = key.partition(".")
        if not sep or not dot:
            msg = f"--set {pair!r}: expected SECTION.KEY=VALUE, e.g. ki67.cell_model=none"
            raise SystemExit(msg)
        value: object = raw
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        else:
            try:
                value = float(raw) if any(ch in raw for ch in ".e") else int(raw)
            except ValueError:
                value = raw
        out.setdefault(section, {})[name] = value
    return out


def run_one(seed: int, pigment: str, *, size: int, stains: str, settings: dict | None = None,
            chromogen: str = "dab") -> dict:
    tile = render(seed, size=size, pigment=pigment, chromogen=chromogen)
    cfg = AnalysisConfig.from_mapping({"stains": stains, "measures": ["ki67", "melanin"], **(settings or {})})
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = analyze_region(tile.rgb, cfg, mpp=tile.mpp)
        except MmnstPathError as exc:  # e.g. stains guessed without a chromogen: Ki67 refused
            return {"seed": seed, "pigment": pigment, "stains": "error", "error": str(exc)}
    seconds = time.perf_counter() - t0
    cells = res.cells
    counted = np.isin(cells.cls, (0, 1))  # positive, negative (CELL_CLASSES)
    positive = cells.cls == 0
    who = truth_of_cells(tile, cells.row, cells.col)
    kind = np.where(who >= 0, tile.nuclei["kind"][np.maximum(who, 0)], -1)
    grade = np.where(who >= 0, tile.nuclei["grade"][np.maximum(who, 0)], -1)
    hidden = np.where(who >= 0, tile.nuclei["hidden"][np.maximum(who, 0)], False)
    tum = tile.nuclei["kind"] == 0
    hit = np.zeros(len(tum), bool)
    hit[who[counted & (who >= 0)]] = True
    out = {"seed": seed, "pigment": pigment, "stains": str(res.stains.get("name", stains)), "morph": "+".join(str(m) for m in tile.params["morphologies"]),
           "mpp": round(tile.mpp, 3), "jpeg": tile.params["jpeg"], "seconds": round(seconds, 2),
           "ki67_true": tile.ki67_index_pct, "ki67_assessable": tile.ki67_assessable_index_pct,
           "ki67_meas": float(res.metrics.get("ki67_index_pct", math.nan)),
           "mel_true": tile.melanin_pct, "mel_meas": float(res.metrics.get("melanin_fraction_pct", math.nan)),
           "tumour_recall": float(hit[tum].mean()) if tum.any() else math.nan,
           "nontumour_counted": float((counted & (kind > 0)).sum() / max(1, counted.sum())),
           "offnucleus_counted": float((counted & (kind < 0)).sum() / max(1, counted.sum())),
           "hidden_positive": int((positive & hidden & (kind == 0)).sum()),
           "hidden_true": int((tile.nuclei["hidden"] & tum).sum())}
    excluded = cells.cls == 3
    for g, name in enumerate(("neg", "weak", "mod", "strong")):
        sel = counted & (kind == 0) & (grade == g) & ~hidden
        out[f"read_pos_{name}"] = float(positive[sel].mean()) if sel.any() else math.nan
        found = (kind == 0) & (grade == g) & ~hidden
        out[f"excluded_{name}"] = float(excluded[found].mean()) if found.any() else math.nan
    out["err"] = out["ki67_meas"] - out["ki67_true"]
    # information only (the score is ``err``, against the full truth): the error against the truth of the nuclei
    # not hidden by pigment, and which QC sentences the tool would print for this tile
    out["err_assessable"] = out["ki67_meas"] - out["ki67_assessable"]
    out["qc"] = "+".join(tag for tag, text in zip(QC_TAGS, (pigment_warning(res.metrics),
                                                          near_black_warning(res.metrics),
                                                          stroma_warning(res.metrics)), strict=True) if text)
    out["mel_err"] = out["mel_meas"] - out["mel_true"]
    return out


def write_csv(path: Path, rows: list[dict]) -> None:
    """One row per tile, the columns of the first row."""
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _mean_worst(v: list[float]) -> str:
    a = np.asarray([x for x in v if not math.isnan(x)])
    if not a.size:
        return "n/a"
    return f"{np.mean(np.abs(a)):.2f} / {a[np.argmax(np.abs(a))]:+.2f}"


def _mean(v: list[float], scale: float = 1.0) -> str:
    a = np.asarray([x for x in v if not math.isnan(x)])
    return f"{scale * a.mean():.1f}" if a.size else "n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--pigment", nargs="+", default=["none", "random"],
                    choices=["none", "random", *MORPHOLOGIES])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--chromogen", default="dab", choices=["dab", "aec", "fast_red"])
    ap.add_argument("--stains", default="auto", help="stain preset or 'auto' (default: auto, as the CLI)")
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE",
                    help="configuration overrides, e.g. ki67.cell_model=none")
    ap.add_argument("--csv", type=Path, help="per-tile rows")
    args = ap.parse_args(argv)
    settings = _settings(args.set)
    rows: list[dict] = []
    failed: list[dict] = []
    for pig in args.pigment:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            r = run_one(seed, pig, size=args.size, stains=args.stains, settings=settings, chromogen=args.chromogen)
            if "error" in r:
                failed.append(r)
                print(f"{pig:12s} seed {seed:3d} FAILED: {r['error']}", flush=True)
                continue
            rows.append(r)
            print(f"{pig:12s} seed {seed:3d} {r['morph']:28s} ki67 {r['ki67_meas']:5.1f} vs {r['ki67_true']:5.1f} "
                  f"({r['err']:+6.1f})  melanin {r['mel_meas']:5.2f} vs {r['mel_true']:5.2f}  recall "
                  f"{r['tumour_recall']:.2f} non-tumour {100 * r['nontumour_counted']:4.1f}% "
                  f"weak+ {r['read_pos_weak']:.2f} qc {r['qc'] or '-'}", flush=True)
    print()
    print(f"Held-out renderer ({KINDS}), {args.seeds} seeds from {args.first_seed}, chromogen {args.chromogen}, "
          f"stains {args.stains} (chosen: {sorted({r['stains'] for r in rows})}), "
          f"settings {settings or 'default'}")
    print("| pigment | tiles | Ki67 MAE / worst pp | melanin MAE / worst pp | tumour recall | non-tumour counted % "
          "| off-nucleus % | read + neg / weak / mod / strong % | excluded neg / weak / mod / strong % "
          "| hidden counted + |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for pig in args.pigment:
        sub = [r for r in rows if r["pigment"] == pig]
        grades = " / ".join(_mean([r[f"read_pos_{g}"] for r in sub], 100) for g in ("neg", "weak", "mod", "strong"))
        excl = " / ".join(_mean([r[f"excluded_{g}"] for r in sub], 100) for g in ("neg", "weak", "mod", "strong"))
        hid = sum(r["hidden_positive"] for r in sub)
        hid_t = sum(r["hidden_true"] for r in sub)
        print(f"| {pig} | {len(sub)} | {_mean_worst([r['err'] for r in sub])} | "
              f"{_mean_worst([r['mel_err'] for r in sub])} | {_mean([r['tumour_recall'] for r in sub], 100)} | "
              f"{_mean([r['nontumour_counted'] for r in sub], 100)} | {_mean([r['offnucleus_counted'] for r in sub], 100)} "
              f"| {grades} | {excl} | {hid} of {hid_t} |")
    for pig in args.pigment:  # information: did the tool say so where it was wrong?
        sub = [r for r in rows if r["pigment"] == pig]
        wrong = [r for r in sub if abs(r["err"]) > QC_WRONG_PP]
        flagged = [r for r in wrong if r["qc"]]
        print(f"{pig}: error against the assessable truth (nuclei not hidden) "
              f"{_mean_worst([r['err_assessable'] for r in sub])}; {len(wrong)} tile(s) off by > {QC_WRONG_PP:g} pp, "
              f"{len(flagged)} of them with a QC sentence; QC sentences on tiles within it: "
              f"{sum(1 for r in sub if r['qc'] and abs(r['err']) <= QC_WRONG_PP)}")
    if failed:
        print(f"{len(failed)} tile(s) failed: " + "; ".join(f"{r['pigment']} seed {r['seed']}" for r in failed))
    if args.csv and rows:
        write_csv(args.csv, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
