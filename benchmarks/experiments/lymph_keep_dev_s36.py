"""Session 36 H2 (dev only): what the nucleus model does with lymphocytes, and a lymphocyte exclusion threshold.

Rows are extracted as ``scripts/train_nucleus_model.py`` extracts model 1.2.0's (BRCA-M2C official train+val
split re-rendered 4x with dab / aec / fast_red in turn, chromogen core 1.5 µm; 60 generated tiles; EndoNuke's
train split with borrowed intensity). The BRCA-M2C **test** split is never read here (it is a gate).

``extract``: writes the rows with the BRCA-M2C image of each row (for grouped folds).
``oof``: out-of-fold probabilities of the 1.2.0 recipe on BRCA-M2C train+val, folds by image (each fold's
forest also sees the generated and EndoNuke rows, as 1.2.0 did).
``report``: lymphocytes kept as tumour, tumour excluded, stromal kept, under 1.2.0's decision
(tumour unless P(tumour) < 0.2) and with a nucleus also excluded when P(lymphocyte) >= t.

Usage::

    PYTHONPATH=. python benchmarks/experiments/lymph_keep_dev_s36.py extract --restain 1 --out /tmp/s36_h2/rows_full.npz
    PYTHONPATH=. python benchmarks/experiments/lymph_keep_dev_s36.py oof --rows /tmp/s36_h2/rows_full.npz --folds 3
    PYTHONPATH=. python benchmarks/experiments/lymph_keep_dev_s36.py report --rows /tmp/s36_h2/rows_full.npz

(``extract --brca-only``: folds fitted on the BRCA-M2C rows alone, a comparison; ``binary``: a dedicated
lymphocyte-vs-rest forest after the out-of-fold cell model.)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import train_nucleus_model as tnm  # noqa: E402
from _nucleus_restain import CHROMOGEN_PRESETS, restain_as_ihc  # noqa: E402
from _training_data import read_rgb  # noqa: E402

from mmnst_path.classify import NucleusFeatureSettings, nucleus_feature_specs  # noqa: E402

CHROMOGENS = ("dab", "aec", "fast_red")
RESTAIN = 4
DAB_CORE_UM = 1.5
T_MIN = 0.2
TU, LY, ST = 0, 1, 2


def brca_train_rows(root: Path, settings: NucleusFeatureSettings,
                    restain: int = RESTAIN) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Re-rendered IHC rows of BRCA-M2C's official train + val split, with each row's image index."""
    meta = root / "brca_m2c" / "_meta"
    test = {s.strip() for s in (meta / "brca_ds_test.txt").read_text().split() if s.strip()}
    mapping = {1: LY, 2: TU, 3: ST}
    rng = np.random.default_rng(0)
    xs, ys, gs = [], [], []
    for i_img, txt in enumerate(sorted((root / "brca_m2c" / "mixed").glob("*_gt_class_coords.txt"))):
        img = txt.with_name(txt.name.replace("_gt_class_coords.txt", ".png"))
        if img.stem in test or img.name in test:
            continue  # the gate's split: never read in dev
        pts = np.loadtxt(txt, ndmin=2)
        if pts.size == 0 or not img.is_file():
            continue
        cls = np.array([mapping[int(k)] for k in pts[:, 2]])
        rgb = read_rgb(img)
        for k in range(restain):
            chrom = CHROMOGENS[(i_img + k) % len(CHROMOGENS)]
            ihc = restain_as_ihc(rgb, pts[:, :2], cls, rng, None, 0.0, DAB_CORE_UM, chrom)
            x, y = tnm.image_rows(ihc, pts[:, :2], cls, ihc=True, settings=settings, preset=CHROMOGEN_PRESETS[chrom])
            xs.append(x)
            ys.append(y)
            gs.append(np.full(len(y), i_img, np.intp))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)


def extract(args: argparse.Namespace) -> None:
    settings = NucleusFeatureSettings()
    names = [f.name for f in nucleus_feature_specs(settings)]
    t0 = time.time()
    bx, by, bg = brca_train_rows(args.train, settings, args.restain)
    print(f"brca train+val rows {len(by)} in {time.time() - t0:.0f} s", file=sys.stderr)
    if args.brca_only:  # the shared machine's budget: folds fitted on BRCA-M2C rows alone
        np.savez(args.out, bx=bx, by=by, bg=bg, ex=bx[:0], ey=by[:0], gx=bx[:0], gy=by[:0], names=np.array(names))
        return
    en = tnm.endonuke(args.train, settings)
    ex, ey = tnm._stack(en["train"])
    ex = tnm.borrowed_intensity(ex, ey, bx, by, names, np.random.default_rng(0))
    print(f"endonuke train rows {len(ey)} in {time.time() - t0:.0f} s", file=sys.stderr)
    gx, gy = tnm._stack(tnm.generated(args.generated, settings))
    print(f"generated rows {len(gy)} in {time.time() - t0:.0f} s", file=sys.stderr)
    np.savez(args.out, bx=bx, by=by, bg=bg, ex=ex, ey=ey, gx=gx, gy=gy, names=np.array(names))


def oof(args: argparse.Namespace) -> None:
    from sklearn.ensemble import RandomForestClassifier

    z = dict(np.load(args.rows))
    bx, by, bg = z["bx"], z["by"], z["bg"]
    images = np.unique(bg)
    fold_of = {g: i % args.folds for i, g in enumerate(np.random.default_rng(36).permutation(images))}
    fold = np.array([fold_of[g] for g in bg])
    proba = np.zeros((len(by), 3), np.float64)
    for f in range(args.folds):
        te = fold == f
        x = np.concatenate([bx[~te], z["ex"], z["gx"]])
        y = np.concatenate([by[~te], z["ey"], z["gy"]])
        t0 = time.time()
        rf = RandomForestClassifier(n_estimators=60, max_depth=14, min_samples_leaf=8,
                                    class_weight="balanced_subsample", random_state=0, n_jobs=1).fit(x, y)
        proba[te] = rf.predict_proba(bx[te])
        print(f"fold {f}: {te.sum()} held-out rows, fit+predict {time.time() - t0:.0f} s", file=sys.stderr)
    np.savez(args.rows.with_name(args.rows.stem + "_oof.npz"), proba=proba, y=by, g=bg, fold=fold)


def decide(proba: np.ndarray, t_lymph: float | None, t_below: float = 1.0) -> np.ndarray:
    """True where the nucleus counts as tumour: P(tumour) >= 0.2 and not (P(lymphocyte) >= t and P(tumour) < b)."""
    keep = proba[:, TU] >= T_MIN
    if t_lymph is not None:
        keep &= ~((proba[:, LY] >= t_lymph) & (proba[:, TU] < t_below))
    return keep


def rates(proba: np.ndarray, y: np.ndarray, t_lymph: float | None, t_below: float = 1.0) -> tuple[float, float, float]:
    keep = decide(proba, t_lymph, t_below)
    return (100 * float(np.mean(keep[y == LY])), 100 * float(np.mean(~keep[y == TU])),
            100 * float(np.mean(keep[y == ST])))


def report(args: argparse.Namespace) -> None:
    o = np.load(args.rows.with_name(args.rows.stem + "_oof.npz"))
    proba, y = o["proba"], o["y"]
    print(f"BRCA-M2C train+val out of fold (re-rendered IHC): lymphocytes {int((y == LY).sum())}, "
          f"tumour {int((y == TU).sum())}, stromal {int((y == ST).sum())}")
    print("| decision | lymphocytes kept as tumour % | tumour excluded % | stromal kept % |")
    print("|---|---:|---:|---:|")
    base = rates(proba, y, None)
    for t in (None, *args.grid):
        lk, te, sk = rates(proba, y, t)
        print(f"| {'1.2.0 (P(tumour) < 0.2 out)' if t is None else f'+ P(lymphocyte) >= {t:g} out'} "
              f"| {lk:.6f} | {te:.6f} | {sk:.6f} |")
    res = []
    for a in np.arange(0.10, 0.70, 0.01):
        for b in np.arange(0.20, 1.01, 0.02):
            lk, te, sk = rates(proba, y, a, b)
            res.append((lk - base[0], te - base[1], a, b))
    grid = np.array(res)
    print("two-limit rule (P(lymphocyte) >= a and P(tumour) < b out): least tumour excluded for a lymphocyte gain")
    for lim in (-5, -7, -9, -10, -11, -12):
        ok = grid[grid[:, 0] <= lim]
        if not len(ok):
            print(f"  no rule of the grid keeps <= {lim} pp fewer lymphocytes")
            continue
        dl, dt, a, b = ok[np.argmin(ok[:, 1])]
        print(f"  lymphocytes kept {dl:+.4f} pp (<= {lim}): tumour excluded {dt:+.4f} pp at a {a:.2f}, b {b:.2f}")
    ly = y == LY
    print("P(tumour) of lymphocytes, quartiles:", np.round(np.quantile(proba[ly, TU], [0.25, 0.5, 0.75]), 4))
    print("P(lymphocyte) of lymphocytes, quartiles:", np.round(np.quantile(proba[ly, LY], [0.25, 0.5, 0.75]), 4))
    print("P(lymphocyte) of tumour, 90/95/99 %:", np.round(np.quantile(proba[y == TU, LY], [0.9, 0.95, 0.99]), 4))


def binary(args: argparse.Namespace) -> None:
    """A dedicated lymphocyte-vs-rest forest after the cell model, out of fold on the same image folds:
    what taking out P(lymphocyte | second forest) >= t costs beside the out-of-fold 1.2.0-recipe decision."""
    from sklearn.ensemble import RandomForestClassifier

    z = dict(np.load(args.rows))
    o = np.load(args.rows.with_name(args.rows.stem + "_oof.npz"))
    bx, by, fold, proba = z["bx"], z["by"], o["fold"], o["proba"]
    keep0 = proba[:, TU] >= T_MIN
    base_l, base_t = 100 * keep0[by == LY].mean(), 100 * (~keep0[by == TU]).mean()
    for depth, leaf, more in ((14, 8, False), (None, 4, False), (14, 8, True)):
        q = np.zeros(len(by))
        for f in range(int(fold.max()) + 1):
            te = fold == f
            x, y = bx[~te], (by[~te] == LY).astype(int)
            if more:  # the generated tiles (their lymphocytes) and EndoNuke (no lymphocyte) too
                x = np.concatenate([x, z["gx"], z["ex"]])
                y = np.concatenate([y, (z["gy"] == LY).astype(int), np.zeros(len(z["ey"]), int)])
            rf = RandomForestClassifier(n_estimators=60, max_depth=depth, min_samples_leaf=leaf,
                                        class_weight="balanced_subsample", random_state=0, n_jobs=1).fit(x, y)
            q[te] = rf.predict_proba(bx[te])[:, 1]
        print(f"lymphocyte forest depth {depth} leaf {leaf}{' + generated + EndoNuke' if more else ''}:")
        for t in np.arange(0.30, 0.90, 0.05):
            keep = keep0 & (q < t)
            print(f"  t {t:.2f}: lymphocytes kept {100 * keep[by == LY].mean() - base_l:+.3f} pp, "
                  f"tumour excluded {100 * (~keep[by == TU]).mean() - base_t:+.3f} pp")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract")
    e.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    e.add_argument("--generated", type=int, default=60)
    e.add_argument("--restain", type=int, default=RESTAIN, help="re-renderings of each image (1.2.0: 4)")
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--brca-only", action="store_true", help="no EndoNuke or generated rows (faster)")
    o = sub.add_parser("oof")
    o.add_argument("--rows", type=Path, required=True)
    o.add_argument("--folds", type=int, default=3)
    r = sub.add_parser("report")
    r.add_argument("--rows", type=Path, required=True)
    r.add_argument("--grid", type=float, nargs="+", default=[0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7])
    b = sub.add_parser("binary")
    b.add_argument("--rows", type=Path, required=True)
    args = ap.parse_args()
    {"extract": extract, "oof": oof, "report": report, "binary": binary}[args.cmd](args)


if __name__ == "__main__":
    main()
