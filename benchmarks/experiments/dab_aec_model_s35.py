"""DAB or AEC: the confusion of ``stains="auto"`` on dev tiles and a learned DAB-vs-AEC choice (issue #14, session 35 H6).

Thumbnails come from ``chromogen_model_s34.py collect`` (generated ``eval_stain_guess.protocol_tile`` tiles: the
tissue thumbnail, mask and µm per pixel the pipeline guesses on) and ``collect --real`` (the real sets; guessed here
only where permissive, "(train)", and only on the part ``held_out(name, 0.2)`` leaves for training / choosing).

    PYTHONPATH=. python benchmarks/experiments/chromogen_model_s34.py collect --seeds 40 64 --protocols H-DAB H-AEC \\
        H-FastRed 'H&E' AzureB-DAB H-DAB-FastRed H-DAB-AEC --no-guess --out /tmp/dev.pkl
    PYTHONPATH=. python benchmarks/experiments/dab_aec_model_s35.py confusion /tmp/dev.pkl
    PYTHONPATH=. python benchmarks/experiments/dab_aec_model_s35.py rows /tmp/dev.pkl --out /tmp/dev_rows.npz
    PYTHONPATH=. python benchmarks/experiments/dab_aec_model_s35.py choose /tmp/train_rows.npz /tmp/dev_rows.npz

``confusion`` prints the confusion matrix of the guess before this session's model (``dab_model=False``) per
protocol and, per wrong cell, what decided (the colour rules' angle, the H&E model, where the chromogen sits).
``rows`` computes, for every tile the guess names H-DAB (single stain), the DAB-vs-AEC feature rows
(:func:`mmnst_path.stain.chromogen_model.chromogen_features` over each angle window tried) and its chromogen
peak. ``choose`` fits a logistic model per (window, C) on the training rows and prints, per AEC probability and
peak limit, the dev AEC tiles gained and DAB tiles lost (and per 6-seed block, the generated gate's size).

``grid`` (session 35 H9) reads the trainer's rows (``scripts/train_dab_aec_model.py --features``, the asked
tiles only, window and peak limit of the library) of the training seeds and of dev seeds (``rows``' file of seeds
40-63 and / or the trainer's ``--seeds 100 140`` rows) and prints, per C and AEC probability, the dev AEC tiles
gained and DAB tiles lost, per 12-seed block (the session 35 H9 gate's size):

    PYTHONPATH=. python scripts/train_dab_aec_model.py --features /tmp/train_rows.npz   # seeds 1000-1099
    PYTHONPATH=. python scripts/train_dab_aec_model.py --features /tmp/dev100.npz --seeds 100 140
    PYTHONPATH=. python benchmarks/experiments/dab_aec_model_s35.py grid /tmp/train_rows.npz \\
        --dev /tmp/dev_rows.npz /tmp/dev100.npz
"""

from __future__ import annotations

import argparse
import collections
import math
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))

from mmnst_path.stain import guess as G  # noqa: E402
from mmnst_path.stain.chromogen_model import chromogen_features  # noqa: E402

#: Angle windows (degrees from DAB: chromogen pixels below it) and smallest pixel counts tried.
WINDOWS = (0.0, 6.0, 12.0, 30.0)
PROTOCOL_ORDER = ("H-DAB", "H-AEC", "H-FastRed", "H&E", "AzureB-DAB", "H-DAB-FastRed", "H-DAB-AEC")


def _load(paths: list[Path]) -> list[dict]:
    rows = []
    for p in paths:
        with open(p, "rb") as fh:
            rows.extend(pickle.load(fh))
    return rows


def _usable(r: dict) -> bool:
    """Generated rows, and permissive real rows outside the 20 % held-out part; never research-only rows."""
    from _training_data import held_out

    if "seed" in r:
        return True
    return "(train)" in r["group"] and not held_out(r["label"], 0.2)


def _guess(r: dict, dab_model: bool = False) -> G.StainGuess:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return G.guess_stains_detail(r["thumb"], r["mask"], mpp=r["tmpp"], dab_model=dab_model)


def confusion(paths: list[Path]) -> None:
    rows = [r for r in _load(paths) if _usable(r)]
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    why: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    degs: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    for r in rows:
        g = _guess(r)
        group = r["group"] if "seed" not in r else r["truth"]
        table[group][g.name] += 1
        if g.name != r["truth"]:
            if "no chromogen seen" in g.reason:
                cause = "no chromogen peak"
            elif "stain model reads H&E" in g.reason:
                cause = "H&E model"
            elif "nuclear bodies" in g.reason or "double stain" in g.reason:
                cause = "where the chromogen sits"
            elif "chromogen model" in g.reason and "H-FastRed" in g.reason and g.name == "H-FastRed":
                cause = "chromogen model"
            elif "eosin tints" in g.reason:
                cause = "pink-share rule"
            else:
                cause = "colour angle"
            why[(group, g.name)][cause] += 1
            degs[(group, g.name)].append(g.chromogen_deg)
    names = list(PROTOCOL_ORDER)
    print("| truth | n | " + " | ".join(names) + " | right |")
    print("|---|---:|" + "---:|" * (len(names) + 1))
    for group, c in table.items():
        n = sum(c.values())
        truth = group if group in names else next(r["truth"] for r in rows if r["group"] == group)
        print(f"| {group} | {n} | " + " | ".join(str(c.get(k, 0)) for k in names) + f" | {c.get(truth, 0)} |")
    print("\nwrong cells (truth -> named): what decided; chromogen peak min / median / max")
    for (group, name), c in sorted(why.items(), key=lambda kv: -sum(kv[1].values())):
        d = np.array([x for x in degs[(group, name)] if math.isfinite(x)])
        dtxt = f"{d.min():+.1f} / {np.median(d):+.1f} / {d.max():+.1f}" if d.size else "-"
        print(f"  {group} -> {name}: {sum(c.values())} ({dict(c)}); peak {dtxt} ({d.size} with a peak)")


def _residual_sets(thumb: np.ndarray, mask: np.ndarray | None):
    """The (residual norm, angle, OD norm) pairs the guess reads: against the image's white point and
    against the chromogen's (as :func:`mmnst_path.stain.guess._colour_guess`)."""
    tissue = mask if mask is not None and np.any(mask) else None
    glass, wp, m, theta, norm = G.colour_residuals(thumb, tissue)
    first = (m, theta, norm)
    if glass is None and wp != (255.0, 255.0, 255.0):
        return first, G._residuals(thumb, tissue, (255.0, 255.0, 255.0))
    return first, first


def rows(paths: list[Path], out: Path) -> None:
    """Per H-DAB-named (single stain) tile: truth, seed, label, peak, pixel count and a feature row per window."""
    nf = None
    recs = []
    for r in _load(paths):
        if not _usable(r):
            continue
        g = _guess(r)
        rec = {"truth": r["truth"], "seed": r.get("seed", -1), "label": str(r["label"]), "name": g.name,
               "deg": g.chromogen_deg, "group": r["group"]}
        xs = {}
        if g.name == "H-DAB" and not g.marker and math.isfinite(g.chromogen_deg):
            first, chrom = _residual_sets(r["thumb"], r["mask"])
            for w in WINDOWS:
                x = chromogen_features(first, chrom, g.chromogen_deg, below=w, min_pixels=1)
                if x is not None:
                    nf = x.size
                    m, th, n = chrom
                    cnt = int(((m >= G.CHROMOGEN_MIN_OD) & (m >= G.CHROMOGEN_MIN_SHARE * n) & (th < w)).sum())
                    xs[w] = (x, cnt)
        rec["xs"] = xs
        recs.append(rec)
    assert nf is not None
    out_d = {k: np.array([rec[k] for rec in recs]) for k in ("truth", "seed", "label", "name", "deg", "group")}
    for w in WINDOWS:
        out_d[f"x{w:g}"] = np.stack([rec["xs"][w][0] if w in rec["xs"] else np.full(nf, np.nan) for rec in recs])
        out_d[f"n{w:g}"] = np.array([rec["xs"][w][1] if w in rec["xs"] else 0 for rec in recs])
    np.savez(out, **out_d)
    print(f"{len(recs)} rows -> {out}", file=sys.stderr)


def _npz(p: Path) -> dict[str, np.ndarray]:
    with np.load(p, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def choose(train: Path, dev: Path, grid_c: list[float], grid_p: list[float], grid_deg: list[float],
           grid_min: list[int]) -> None:
    from train_chromogen_model import fit, probability

    tr, dv = _npz(train), _npz(dev)
    use_tr = tr["name"] == "H-DAB"
    print(f"train H-DAB-named rows: DAB {int((use_tr & (tr['truth'] != 'H-AEC')).sum())}, "
          f"AEC {int((use_tr & (tr['truth'] == 'H-AEC')).sum())}")
    dab_dev = (dv["truth"] == "H-DAB") & (dv["name"] == "H-DAB")
    aec_dev = (dv["truth"] == "H-AEC") & (dv["name"] == "H-DAB")
    other_dev = (dv["name"] == "H-DAB") & ~np.isin(dv["truth"], ["H-DAB", "H-AEC"])
    print(f"dev H-DAB-named: right DAB {int(dab_dev.sum())} (generated {int((dab_dev & (dv['seed'] >= 0)).sum())}), "
          f"AEC {int(aec_dev.sum())}, other {int(other_dev.sum())}")
    for w in WINDOWS:
        for mn in grid_min:
            for dmax in grid_deg:  # trained on the rows the model is asked about
                ok_tr = (use_tr & (tr[f"n{w:g}"] >= mn) & (tr["deg"] < dmax)
                         & np.all(np.isfinite(tr[f"x{w:g}"]), axis=1))
                x, y = tr[f"x{w:g}"][ok_tr], (tr["truth"][ok_tr] == "H-AEC").astype(np.int64)
                if y.sum() < 5 or (1 - y).sum() < 5:
                    continue
                asked = ((dv["name"] == "H-DAB") & (dv[f"n{w:g}"] >= mn) & (dv["deg"] < dmax)
                         & np.all(np.isfinite(dv[f"x{w:g}"]), axis=1))
                for c in grid_c:
                    params = fit(x, y, c)
                    p = np.zeros(len(dv["truth"]))
                    p[asked] = probability(params, dv[f"x{w:g}"][asked])
                    top_dab = np.sort(p[asked & (dv["truth"] != "H-AEC")])[-2:]
                    cells = []
                    for t in grid_p:
                        flip = asked & (p >= t)
                        lost = int((flip & (dv["truth"] == "H-DAB")).sum())
                        won = int((flip & (dv["truth"] == "H-AEC")).sum())
                        real = int((flip & (dv["seed"] < 0)).sum())
                        blocks = []
                        for b0 in range(40, 64, 6):
                            blk = (dv["seed"] >= b0) & (dv["seed"] < b0 + 6)
                            blocks.append(f"{-int((flip & blk & (dv['truth'] == 'H-DAB')).sum()):+d}/"
                                          f"{int((flip & blk & (dv['truth'] == 'H-AEC')).sum()):+d}")
                        cells.append(f"p>={t}: -{lost} DAB +{won} AEC, real {real} ({' '.join(blocks)})")
                    print(f"w<{w:g} min {mn} peak<{dmax:g} C {c} (train {len(y)}, AEC {int(y.sum())}): asked AEC "
                          f"{int((asked & aec_dev).sum())} DAB {int((asked & (dv['truth'] == 'H-DAB')).sum())} "
                          f"real {int((asked & (dv['seed'] < 0)).sum())}; top p of non-AEC {top_dab.round(4)}")
                    for cell in cells:
                        print("    " + cell)


def _asked(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(truth, seed, x) of the asked rows of a trainer's file or of ``rows``' file (window 0°, >= 100 pixels,
    peak below +3°, as ``mmnst_path.stain.chromogen_model``)."""
    from mmnst_path.stain.chromogen_model import DAB_MIN_PIXELS, DAB_MODEL_MAX_DEG, DAB_WINDOW_DEG

    d = _npz(path)
    if "x" in d:
        return d["truth"], d["seed"], d["x"]
    x, n = d[f"x{DAB_WINDOW_DEG:g}"], d[f"n{DAB_WINDOW_DEG:g}"]
    ok = ((d["name"] == "H-DAB") & (n >= DAB_MIN_PIXELS) & (d["deg"] < DAB_MODEL_MAX_DEG)
          & np.all(np.isfinite(x), axis=1))
    return d["truth"][ok], d["seed"][ok], x[ok]


def grid(train: Path, devs: list[Path], grid_c: list[float], grid_p: list[float]) -> None:
    from train_chromogen_model import fit, probability

    tt, _, tx = _asked(train)
    y = (tt == "H-AEC").astype(np.int64)
    parts = [_asked(p) for p in devs]
    dt, ds, dx = (np.concatenate([q[k] for q in parts]) for k in range(3))
    print(f"train rows {len(y)} (AEC {int(y.sum())}); dev asked: DAB {int((dt == 'H-DAB').sum())}, "
          f"AEC {int((dt == 'H-AEC').sum())}, seeds {sorted(set(ds.tolist()))[0]}-{sorted(set(ds.tolist()))[-1]}")
    firsts = sorted({(s - 40) // 12 * 12 + 40 if s < 64 else (s - 100) // 12 * 12 + 100 for s in ds.tolist()})
    for c in grid_c:
        params = fit(tx, y, c)
        p = probability(params, dx)
        print(f"C {c}: largest p of dev DAB rows {np.sort(p[dt == 'H-DAB'])[::-1][:4].round(4)}, "
              f"of training DAB rows {np.sort(probability(params, tx)[y == 0])[::-1][:3].round(4)}")
        for t in grid_p:
            flip = p >= t
            blocks = " ".join(f"{b}:-{int((flip & (ds >= b) & (ds < b + 12) & (dt == 'H-DAB')).sum())}"
                              f"/+{int((flip & (ds >= b) & (ds < b + 12) & (dt == 'H-AEC')).sum())}" for b in firsts)
            print(f"    p>={t}: -{int((flip & (dt == 'H-DAB')).sum())} DAB +{int((flip & (dt == 'H-AEC')).sum())} AEC "
                  f"(12-seed blocks {blocks})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("confusion")
    c.add_argument("pickles", type=Path, nargs="+")
    r = sub.add_parser("rows")
    r.add_argument("pickles", type=Path, nargs="+")
    r.add_argument("--out", type=Path, required=True)
    h = sub.add_parser("choose")
    h.add_argument("train", type=Path)
    h.add_argument("dev", type=Path)
    h.add_argument("--c", type=float, nargs="*", default=[1.0, 10.0])
    h.add_argument("--p", type=float, nargs="*", default=[0.8, 0.9, 0.95])
    h.add_argument("--deg", type=float, nargs="*", default=[0.0, 3.0, 5.0])
    h.add_argument("--min", type=int, nargs="*", default=[50, 100, 300])
    g = sub.add_parser("grid")
    g.add_argument("train", type=Path)
    g.add_argument("--dev", type=Path, nargs="+", required=True)
    g.add_argument("--c", type=float, nargs="*", default=[1.0, 3.0, 10.0, 30.0])
    g.add_argument("--p", type=float, nargs="*", default=[0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995])
    args = ap.parse_args(argv)
    if args.cmd == "grid":
        grid(args.train, args.dev, args.c, args.p)
    elif args.cmd == "confusion":
        confusion(args.pickles)
    elif args.cmd == "rows":
        rows(args.pickles, args.out)
    else:
        choose(args.train, args.dev, args.c, args.p, args.deg, args.min)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
