"""Session 36 H12 (dev only): the nucleus model's 1.2.0 recipe plus generated lymphocyte-infiltrate rows, out of fold.

Picks ``train_nucleus_model.py --infiltrate N`` on dev data only. The base rows are H7's dev detections
(``autocontext_keep_dev_s36.py extract``: BRCA-M2C train + val re-rendered once as IHC with the 1.2.0
chromogens and 1.5 µm core, EndoNuke's ``mixed`` training split, generated seeds 10000-10059), folded by image
exactly as H7 folds them; each fold's forest (the trainer's forest settings) is fitted on the other folds'
labelled rows **plus the rows of the first N infiltrate training tiles** (seeds 2000 on, the trainer's own
``generated(..., lymphocytes="infiltrate")`` rows; never part of any fold's test side).

``extract``: the infiltrate training rows, tile by tile (seeds 2000 .. 2000 + n - 1), and every detection of the
infiltrate dev tiles (seeds 640-663, H8's dev seeds) with its matched class.
``screen``: for each N, out of fold: BRCA-M2C lymphocytes kept as tumour / tumour excluded / stromal kept,
EndoNuke DEV epithelium excluded / stroma kept, and on the infiltrate dev tiles (P averaged over the fold
models, none of which saw those seeds) lymphocytes kept / tumour excluded, under the 1.2.0 decision.

Usage::

    PYTHONPATH=. python benchmarks/experiments/infiltrate_train_dev_s36.py extract --tiles 100 --out inf.npz
    PYTHONPATH=. python benchmarks/experiments/infiltrate_train_dev_s36.py screen --det det.npz --inf inf.npz \\
        --n 0 25 50 100
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))

import autocontext_keep_dev_s36 as ac  # noqa: E402
import train_nucleus_model as tnm  # noqa: E402

from mmnst_path.classify import NucleusFeatureSettings  # noqa: E402

DEV_SEEDS = range(640, 664)


def extract(args: argparse.Namespace) -> None:
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    settings = NucleusFeatureSettings()
    t0 = time.time()
    xs, ys, tiles = [], [], []
    for k in range(args.tiles):
        (x, y), = tnm.generated(1, settings, first_seed=tnm.INFILTRATE_FIRST_SEED + k, lymphocytes="infiltrate")
        xs.append(x)
        ys.append(y)
        tiles.append(np.full(len(y), k, np.intp))
        if k % 10 == 9:
            print(f"infiltrate training tile {k + 1}: {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    dx, dy, dg = [], [], []
    for seed in DEV_SEEDS:
        tile = ki67_cells_tile(seed, lymphocytes="infiltrate")
        cells = tile.truth["cells"]
        cls = np.array([tnm.CLASSES.index(tnm.GENERATED_CLASS[str(t)]) for t in cells["cell_type"]], np.intp)
        _, x, y = ac.detections(tile.rgb, np.c_[cells["row"], cells["col"]], cls, "H-DAB", settings)
        dx.append(x)
        dy.append(y)
        dg.append(np.full(len(y), seed, np.intp))
    print(f"dev tiles done: {time.time() - t0:.0f} s", file=sys.stderr)
    np.savez(args.out, x=np.concatenate(xs).astype(np.float32), y=np.concatenate(ys), tile=np.concatenate(tiles),
             dev_x=np.concatenate(dx), dev_y=np.concatenate(dy), dev_seed=np.concatenate(dg))


def screen(args: argparse.Namespace) -> None:
    z = dict(np.load(args.det))
    names = list(z["names"])
    x, y, g, src = z["x"], z["y"], z["g"], z["src"]
    inf = dict(np.load(args.inf))
    rng = np.random.default_rng(36)  # H7's folds
    fold_of = {}
    for s in (ac.SRC_BRCA, ac.SRC_ENDO, ac.SRC_GEN):
        for i, gg in enumerate(rng.permutation(np.unique(g[src == s]))):
            fold_of[int(gg)] = i % args.folds
    fold = np.array([fold_of[int(gg)] for gg in g])
    lab = y >= 0
    x_train = x.copy()
    e_lab, b_lab = lab & (src == ac.SRC_ENDO), lab & (src == ac.SRC_BRCA)
    x_train[e_lab] = tnm.borrowed_intensity(x[e_lab], y[e_lab], x[b_lab], y[b_lab], names, np.random.default_rng(0))
    dev_lab = inf["dev_y"] >= 0
    print(f"infiltrate training tiles available: {int(inf['tile'].max()) + 1}; dev detections labelled "
          f"{int(dev_lab.sum())} (lymphocytes {int((inf['dev_y'] == ac.LY).sum())})")
    keys = ["brca_lymph_kept", "brca_tumour_excl", "brca_stromal_kept", "endo_epi_excl", "endo_stroma_kept",
            "inf_dev_lymph_kept", "inf_dev_tumour_excl"]
    print("| N infiltrate tiles (rows) | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for n in args.n:
        extra = inf["tile"] < n
        if n > int(inf["tile"].max()) + 1:
            raise ValueError(f"n={n}: only {int(inf['tile'].max()) + 1} infiltrate tiles extracted")
        p = np.zeros((len(y), 3))
        pdev = np.zeros((len(inf["dev_y"]), 3))
        for f in range(args.folds):
            t0 = time.time()
            tr, te = lab & (fold != f), fold == f
            rf = ac.forest(np.r_[x_train[tr], inf["x"][extra]], np.r_[y[tr], inf["y"][extra]])
            p[te] = rf.predict_proba(x[te])
            pdev += rf.predict_proba(inf["dev_x"]) / args.folds
            print(f"N {n} fold {f}: {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
        r = ac.rates(p[:, ac.TU], y, src)
        keep_dev = pdev[:, ac.TU] >= ac.T_MIN
        r["inf_dev_lymph_kept"] = 100 * float(keep_dev[inf["dev_y"] == ac.LY].mean())
        r["inf_dev_tumour_excl"] = 100 * float((~keep_dev[inf["dev_y"] == ac.TU]).mean())
        print(f"| {n} ({int(extra.sum())}) | " + " | ".join(f"{r[k]:.6f}" for k in keys) + " |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract")
    e.add_argument("--tiles", type=int, default=100)
    e.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("screen")
    s.add_argument("--det", type=Path, required=True)
    s.add_argument("--inf", type=Path, required=True)
    s.add_argument("--folds", type=int, default=3)
    s.add_argument("--n", type=int, nargs="+", default=[0, 25, 50, 100])
    args = ap.parse_args()
    {"extract": extract, "screen": screen}[args.cmd](args)


if __name__ == "__main__":
    main()
