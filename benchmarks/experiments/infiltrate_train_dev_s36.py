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
    fold = _folds(g, src, args.folds)
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
        if args.lymph_below_um2 is not None:  # diagnosis only: leave out the large (merged / activated) lymphocytes
            extra &= ~((inf["y"] == ac.LY) & (inf["x"][:, names.index("area_um2")] >= args.lymph_below_um2))
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


def _folds(g: np.ndarray, src: np.ndarray, folds: int) -> np.ndarray:
    rng = np.random.default_rng(36)  # H7's folds
    fold_of = {}
    for s in (ac.SRC_BRCA, ac.SRC_ENDO, ac.SRC_GEN):
        for i, gg in enumerate(rng.permutation(np.unique(g[src == s]))):
            fold_of[int(gg)] = i % folds
    return np.array([fold_of[int(gg)] for gg in g])


def diagnose(args: argparse.Namespace) -> None:
    """Which EndoNuke DEV epithelial nuclei N infiltrate tiles turn from kept to excluded, and what they look like
    beside the rows that taught it (medians of a few features)."""
    z = dict(np.load(args.det))
    names = list(z["names"])
    x, y, g, src = z["x"], z["y"], z["g"], z["src"]
    inf = dict(np.load(args.inf))
    fold = _folds(g, src, args.folds)
    lab = y >= 0
    x_train = x.copy()
    e_lab, b_lab = lab & (src == ac.SRC_ENDO), lab & (src == ac.SRC_BRCA)
    x_train[e_lab] = tnm.borrowed_intensity(x[e_lab], y[e_lab], x[b_lab], y[b_lab], names, np.random.default_rng(0))
    probs = {}
    for n in (0, args.n_diag):
        extra = inf["tile"] < n
        p = np.zeros((len(y), 3))
        for f in range(args.folds):
            tr, te = lab & (fold != f), fold == f
            p[te] = ac.forest(np.r_[x_train[tr], inf["x"][extra]], np.r_[y[tr], inf["y"][extra]]).predict_proba(x[te])
        probs[n] = p
    p0, p1 = probs[0], probs[args.n_diag]
    epi = lab & (src == ac.SRC_ENDO) & (y == ac.TU)
    flip = epi & (p0[:, ac.TU] >= ac.T_MIN) & (p1[:, ac.TU] < ac.T_MIN)
    stay = epi & (p0[:, ac.TU] >= ac.T_MIN) & (p1[:, ac.TU] >= ac.T_MIN)
    blym = lab & (src == ac.SRC_BRCA) & (y == ac.LY)
    lflip = blym & (p0[:, ac.TU] >= ac.T_MIN) & (p1[:, ac.TU] < ac.T_MIN)
    to_ly = float(np.mean(p1[flip, ac.LY] > p1[flip, ac.ST])) if flip.any() else float("nan")
    print(f"N {args.n_diag}: EndoNuke DEV epithelium kept at N=0 then excluded: {int(flip.sum())} of {int(epi.sum())} "
          f"({100 * flip.sum() / epi.sum():.4f} %), called lymphocyte {100 * to_ly:.2f} % of them; BRCA lymphocytes "
          f"turned excluded {int(lflip.sum())} of {int(blym.sum())}; their images: EndoNuke flips in "
          f"{len(np.unique(g[flip]))} of {len(np.unique(g[epi]))} images")
    gen_ly = lab & (src == ac.SRC_GEN) & (y == ac.LY)
    cols = ["area_um2", "minor_um", "od_mean", "od_std", "contrast", "n_within_20um", "nn1_um", "rel_area"]
    groups = {"EndoNuke DEV epithelium flipped": x[flip], "EndoNuke DEV epithelium kept at both": x[stay],
              "EndoNuke DEV stroma": x[lab & (src == ac.SRC_ENDO) & (y == ac.ST)],
              "infiltrate training lymphocyte rows": inf["x"][(inf["tile"] < args.n_diag) & (inf["y"] == ac.LY)],
              "generated scattered lymphocyte rows": x[gen_ly],
              "BRCA lymphocytes turned excluded": x[lflip], "BRCA lymphocytes": x[blym],
              "BRCA tumour": x[lab & (src == ac.SRC_BRCA) & (y == ac.TU)]}
    print("| rows (median) | n | " + " | ".join(cols) + " |")
    print("|---|---:|" + "---:|" * len(cols))
    for name, xx in groups.items():
        print(f"| {name} | {len(xx)} | " + " | ".join(f"{np.median(xx[:, names.index(c)]):.3f}" for c in cols) + " |")
    ly = inf["x"][(inf["tile"] < args.n_diag) & (inf["y"] == ac.LY)][:, names.index("area_um2")]
    print(f"infiltrate lymphocyte rows with area >= 50 um2: {100 * np.mean(ly >= 50):.4f} % (generated scattered "
          f"{100 * np.mean(x[gen_ly, names.index('area_um2')] >= 50):.4f} %, BRCA lymphocytes "
          f"{100 * np.mean(x[blym, names.index('area_um2')] >= 50):.4f} %, EndoNuke DEV epithelium "
          f"{100 * np.mean(x[epi, names.index('area_um2')] >= 50):.4f} %)")
    np.savez(args.det.with_name(f"diag_n{args.n_diag}.npz"), p0=p0, p1=p1)


def _dev_files(train: Path) -> list[Path]:
    """The image of each dev group of H7's ``extract`` (its order: BRCA-M2C train + val, then EndoNuke DEV)."""
    from _training_data import held_out

    test = {t.strip() for t in (train / "brca_m2c" / "_meta" / "brca_ds_test.txt").read_text().split() if t.strip()}
    files = []
    for txt in sorted((train / "brca_m2c" / "mixed").glob("*_gt_class_coords.txt")):
        img = txt.with_name(txt.name.replace("_gt_class_coords.txt", ".png"))
        if img.stem not in test and img.name not in test and img.is_file() and np.loadtxt(txt, ndmin=2).size:
            files.append(img)
    for txt in sorted((train / "endonuke" / "mixed").glob("*.txt")):
        img = txt.with_suffix(".png")
        if img.is_file() and not held_out(img.name, 0.2) and np.loadtxt(txt, ndmin=2).size:
            files.append(img)
    return files


def picture(args: argparse.Namespace) -> None:
    """Two dev images, calls at N = 0 (left) and N = ``--n-diag`` (right): the EndoNuke DEV image with the most
    epithelium newly excluded and the BRCA-M2C image with the most lymphocytes newly excluded. Circles: red
    lymphocyte kept, green excluded; blue tumour / epithelium kept, magenta excluded; yellow stromal kept, grey
    excluded."""
    from _training_data import read_rgb
    from PIL import Image, ImageDraw

    z = dict(np.load(args.det))
    d = np.load(args.det.with_name(f"diag_n{args.n_diag}.npz"))
    y, g, src, pos = z["y"], z["g"], z["src"], z["pos"]
    files = _dev_files(args.train)
    if len(files) != len(np.unique(g[src < 2])):
        raise ValueError(f"{len(files)} dev images for {len(np.unique(g[src < 2]))} groups")
    k0, k1 = d["p0"][:, ac.TU] >= ac.T_MIN, d["p1"][:, ac.TU] >= ac.T_MIN
    picks = []
    for s_, cls in ((ac.SRC_ENDO, ac.TU), (ac.SRC_BRCA, ac.LY)):
        m = (src == s_) & (y == cls) & k0 & ~k1
        picks.append(int(np.bincount(g[m]).argmax()))
    side = 400
    sheet = Image.new("RGB", (2 * side + 10, len(picks) * (side + 10)), (255, 255, 255))
    for j, gg in enumerate(picks):
        rgb = read_rgb(files[gg])
        scale = side / max(rgb.shape[:2])
        for col_i, keep in enumerate((k0, k1)):
            im = Image.fromarray(rgb).resize((round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)))
            draw = ImageDraw.Draw(im)
            for i in np.flatnonzero((g == gg) & (y >= 0)):
                r, c = pos[i] * scale
                colour = {ac.LY: ((255, 0, 0), (0, 200, 0)), ac.TU: ((0, 80, 255), (255, 0, 255)),
                          ac.ST: ((255, 220, 0), (120, 120, 120))}[int(y[i])][0 if keep[i] else 1]
                rad = 2.0 / ac.MPP * scale
                draw.ellipse([c - rad, r - rad, c + rad, r + rad], outline=colour, width=2)
            draw.text((4, 4), f"{files[gg].name} N={0 if col_i == 0 else args.n_diag}", fill=(0, 0, 0))
            sheet.paste(im, (col_i * (side + 10), j * (side + 10)))
    sheet.save(args.out)
    print("saved", args.out, [files[gg].name for gg in picks])


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
    s.add_argument("--lymph-below-um2", type=float, default=None,
                   help="diagnosis only: keep only the infiltrate lymphocyte rows with a smaller outline")
    d = sub.add_parser("diagnose")
    d.add_argument("--det", type=Path, required=True)
    d.add_argument("--inf", type=Path, required=True)
    d.add_argument("--folds", type=int, default=3)
    d.add_argument("--n-diag", type=int, default=25)
    q = sub.add_parser("picture")
    q.add_argument("--det", type=Path, required=True)
    q.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    q.add_argument("--n-diag", type=int, default=25)
    q.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    {"extract": extract, "screen": screen, "diagnose": diagnose, "picture": picture}[args.cmd](args)


if __name__ == "__main__":
    main()
