"""The DAB-vs-AEC body model retrained on more generated seeds (issue #14, session 36 H14): dev choice and screen.

Rows come from ``dab_aec_bodies_s36.py rows`` (one ``.npz`` per rendered chunk: truth, seed, peak, body features).
``choose`` fits the logistic model on the training rows for each C of the grid, reads the dev rows' AEC probability
and applies the choice rule written in /work/notes/s36/h14_report.md before any row was read:

* admissible (C, AEC_P): no dev DAB tile renamed and AEC_P >= the largest dev DAB p + ``margin`` (0.03);
* chosen: the most dev AEC tiles gained (ties: the smaller C, then the smaller AEC_P);
* screen: the shipped model (its own AEC_P) on the same dev rows; the candidate goes to the gate only if its dev
  AEC gain is at least the shipped model's + (dev seeds) / 3 (the gate's +4 per 12 seeds).

``diagnose`` (dev only) lists the most AEC-like dev DAB tiles and a learning curve over the training seeds.
``plot`` draws the AEC probability of the dev rows against the colour rule's peak, shipped model and candidate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "scripts"))

from train_chromogen_model import fit, probability  # noqa: E402


def load_rows(paths: list[Path]) -> dict[str, np.ndarray]:
    """The rows of several ``.npz`` files, concatenated, with ``x`` (body features and the peak last) and
    ``usable`` (every feature finite: enough bodies)."""
    parts = [dict(np.load(p)) for p in paths]
    z = {k: np.concatenate([d[k] for d in parts]) for k in ("truth", "seed", "index", "deg", "body")}
    z["x"] = np.column_stack([z["body"], z["deg"]])
    z["usable"] = np.all(np.isfinite(z["x"]), axis=1)
    z["aec"] = z["truth"] == "H-AEC"
    return z


def dev_probability(dev: dict[str, np.ndarray], prob) -> np.ndarray:
    """AEC probability of every dev row (0: too few bodies, the model is not asked)."""
    p = np.zeros(len(dev["aec"]))
    p[dev["usable"]] = prob(dev["x"][dev["usable"]])
    return p


def shipped_probability(model_path: Path):
    """The probability function of a model file (``LinearStainModel``)."""
    from mmnst_path.stain.dab_bodies import load_dab_model

    model = load_dab_model(model_path)
    return lambda x: np.asarray(model.probability(x), dtype=np.float64).reshape(-1)


def choose(train_paths: list[Path], dev_paths: list[Path], *, shipped: Path, shipped_p: float, grid_c: list[float],
           grid_p: list[float], margin: float) -> None:
    """Print the grid, the chosen (C, AEC_P) and the screen against the shipped model."""
    tr, dev = load_rows(train_paths), load_rows(dev_paths)
    yt = tr["aec"][tr["usable"]].astype(int)
    n_seeds = len(set(dev["seed"].tolist()))
    print(f"train: {len(tr['aec'])} asked rows ({int(tr['usable'].sum())} usable, {int(yt.sum())} AEC), seeds "
          f"{int(tr['seed'].min())}-{int(tr['seed'].max())} ({len(set(tr['seed'].tolist()))})")
    print(f"dev: {len(dev['aec'])} asked rows ({int(dev['usable'].sum())} usable; {int(dev['aec'].sum())} AEC, "
          f"{int((~dev['aec']).sum())} DAB), {n_seeds} seeds")
    ps = dev_probability(dev, shipped_probability(shipped))
    head_gain = int(((ps >= shipped_p) & dev["aec"]).sum())
    head_lost = int(((ps >= shipped_p) & ~dev["aec"]).sum())
    top = np.sort(ps[~dev["aec"]])[::-1][:3]
    print(f"shipped model at {shipped_p}: +{head_gain} AEC / -{head_lost} DAB; largest dev DAB p "
          f"{[float(v) for v in top]}")
    best = None
    for c in grid_c:
        params = fit(tr["x"][tr["usable"]], yt, c)
        p = dev_probability(dev, lambda x, params=params: probability(params, x))
        dab_top = float(np.max(p[~dev["aec"]]))
        cells = []
        for t in grid_p:
            gain, lost = int(((p >= t) & dev["aec"]).sum()), int(((p >= t) & ~dev["aec"]).sum())
            ok = lost == 0 and t >= dab_top + margin
            cells.append(f"{t:g}: +{gain}/-{lost}{'' if ok else ' x'}")
            if ok and (best is None or gain > best[0]):
                best = (gain, c, t, dab_top)
        print(f"C {c:g}: largest dev DAB p {dab_top!r} | " + "  ".join(cells))
    if best is None:
        print("no admissible (C, AEC_P): nothing to gate")
        return
    gain, c, t, dab_top = best
    bar = head_gain + n_seeds / 3
    print(f"chosen: C {c:g}, AEC_P {t:g}: +{gain} dev AEC (largest dev DAB p {dab_top!r}); screen bar "
          f"{head_gain} + {n_seeds}/3 = {bar:.2f}: {'PASS' if gain >= bar else 'FAIL'}")


def plot(train_paths: list[Path], dev_paths: list[Path], *, shipped: Path, shipped_p: float, c: float, p_cut: float,
         out: Path) -> None:
    """AEC probability (y, 0-1) against the peak (x, -8 to +3.5°) on dev: the shipped model (left) and the
    candidate (right); DAB brown dots, AEC red triangles, the threshold dashed (PIL, no plotting library)."""
    from PIL import Image, ImageDraw

    tr, dev = load_rows(train_paths), load_rows(dev_paths)
    params = fit(tr["x"][tr["usable"]], tr["aec"][tr["usable"]].astype(int), c)
    panels = ((f"shipped (AEC_P {shipped_p:g})", dev_probability(dev, shipped_probability(shipped)), shipped_p),
              (f"retrained C {c:g} (AEC_P {p_cut:g})",
               dev_probability(dev, lambda x: probability(params, x)), p_cut))
    w, h, pad = 520, 380, 40
    img = Image.new("RGB", (2 * w, h), "white")
    draw = ImageDraw.Draw(img)
    x0, x1 = -8.0, 3.5
    for k, (title, p, cut) in enumerate(panels):
        ox = k * w

        def xy(deg: float, prob: float, ox: int = ox) -> tuple[float, float]:
            return (ox + pad + (deg - x0) / (x1 - x0) * (w - 2 * pad), h - pad - prob * (h - 2 * pad))

        draw.rectangle([xy(x0, 1.0), xy(x1, 0.0)], outline="black")
        for deg in range(-8, 4, 2):
            draw.text((xy(deg, 0.0)[0] - 6, h - pad + 4), f"{deg:+d}", fill="black")
        for prob in (0.0, 0.5, 0.9, 1.0):
            draw.text((ox + 4, xy(x0, prob)[1] - 6), f"{prob:g}", fill="black")
        ya = xy(x0, cut)[1]
        for xs in range(int(xy(x0, 0)[0]), int(xy(x1, 0)[0]), 8):
            draw.line([(xs, ya), (xs + 4, ya)], fill="black")
        u = dev["usable"]
        jitter = np.random.default_rng(0).uniform(-0.2, 0.2, len(p))
        for i in np.flatnonzero(u & ~dev["aec"]):
            cx, cy = xy(float(dev["deg"][i] + jitter[i]), float(p[i]))
            draw.ellipse([cx - 2.5, cy - 2.5, cx + 2.5, cy + 2.5], fill=(139, 90, 43))
        for i in np.flatnonzero(u & dev["aec"]):
            cx, cy = xy(float(dev["deg"][i] + jitter[i]), float(p[i]))
            draw.polygon([(cx, cy - 3.5), (cx - 3, cy + 2.5), (cx + 3, cy + 2.5)], fill=(214, 39, 40))
        gain, lost = int(((p >= cut) & dev["aec"]).sum()), int(((p >= cut) & ~dev["aec"]).sum())
        draw.text((ox + pad, 8), f"{title}: +{gain} AEC, -{lost} DAB (dev seeds 40-63, 100-139)", fill="black")
        draw.text((ox + w // 2 - 60, h - 16), "peak (degrees from DAB)", fill="black")
    img.save(out)
    print("wrote", out)


def diagnose(train_paths: list[Path], dev_paths: list[Path], *, shipped: Path, margin: float) -> None:
    """Dev only: the most AEC-like DAB tiles of the shipped model and the retrains, the AEC tiles each names, the
    shipped model on the new training seeds, and a learning curve (training seeds cut at 1024 / 1048 / 1072 / all)."""
    tr, dev = load_rows(train_paths), load_rows(dev_paths)
    a, d, u = dev["aec"], ~dev["aec"], tr["usable"]
    ps = dev_probability(dev, shipped_probability(shipped))
    pc = {}
    for c in (0.1, 0.3):
        params = fit(tr["x"][u], tr["aec"][u].astype(int), c)
        pc[c] = dev_probability(dev, lambda x, params=params: probability(params, x))
    for name, p in (("shipped", ps), ("C 0.1", pc[0.1]), ("C 0.3", pc[0.3])):
        print(name, "AEC / DAB named per AEC_P:",
              {t: (int(((p >= t) & a).sum()), int(((p >= t) & d).sum())) for t in (0.8, 0.85, 0.9, 0.95, 0.97)})
        top = np.argsort(-np.where(d, p, -1))[:4]
        print("   top DAB (seed, index, peak, p):", [(int(dev["seed"][i]), int(dev["index"][i]),
                                                     float(dev["deg"][i]), round(float(p[i]), 4)) for i in top])
    old, new = (ps >= 0.9) & a, (pc[0.1] >= 0.9) & a
    print(f"dev AEC at 0.9: shipped only {int((old & ~new).sum())}, C 0.1 only {int((new & ~old).sum())}, "
          f"both {int((old & new).sum())}")
    pt = dev_probability(tr, shipped_probability(shipped))
    unseen = tr["seed"] >= 1025
    print(f"shipped on training seeds >= 1025: AEC >= 0.9 {int(((pt >= 0.9) & tr['aec'] & unseen).sum())} of "
          f"{int((tr['aec'] & unseen).sum())}; DAB >= 0.9 {int(((pt >= 0.9) & ~tr['aec'] & unseen).sum())} of "
          f"{int((~tr['aec'] & unseen).sum())}, largest DAB p {float(np.max(pt[~tr['aec'] & unseen]))!r}")
    print("| training seeds | rows | C | largest dev DAB p | 2nd | best admissible (AEC_P, dev AEC gained) |")
    print("|---|---:|---:|---:|---:|---|")
    for last in (1025, 1049, 1073, int(tr["seed"].max()) + 1):
        sel = u & (tr["seed"] < last)
        for c in (0.1, 0.3, 1.0):
            pr = fit(tr["x"][sel], tr["aec"][sel].astype(int), c)
            p = dev_probability(dev, lambda x, pr=pr: probability(pr, x))
            top2 = np.sort(p[d])[::-1][:2]
            ok = [(t, int(((p >= t) & a).sum())) for t in (0.9, 0.95, 0.97, 0.98, 0.99) if t >= top2[0] + margin]
            best = max(ok, key=lambda v: v[1]) if ok else None
            print(f"| 1000-{last - 1} | {int(sel.sum())} | {c:g} | {top2[0]:.4f} | {top2[1]:.4f} | {best} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("choose", "plot", "diagnose"):
        s = sub.add_parser(name)
        s.add_argument("--train", type=Path, nargs="+", required=True)
        s.add_argument("--dev", type=Path, nargs="+", required=True)
        s.add_argument("--shipped", type=Path, required=True, help="the shipped model file (HEAD's)")
        s.add_argument("--shipped-p", type=float, default=0.9)
    sub.choices["choose"].add_argument("--c", type=float, nargs="*", default=[0.1, 0.3, 1.0, 3.0, 10.0])
    sub.choices["choose"].add_argument("--p", type=float, nargs="*", default=[0.9, 0.95, 0.97, 0.98, 0.99])
    sub.choices["choose"].add_argument("--margin", type=float, default=0.03)
    sub.choices["diagnose"].add_argument("--margin", type=float, default=0.03)
    sub.choices["plot"].add_argument("--c", type=float, required=True)
    sub.choices["plot"].add_argument("--p-cut", type=float, required=True)
    sub.choices["plot"].add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.cmd == "choose":
        choose(args.train, args.dev, shipped=args.shipped, shipped_p=args.shipped_p, grid_c=args.c, grid_p=args.p,
               margin=args.margin)
    elif args.cmd == "diagnose":
        diagnose(args.train, args.dev, shipped=args.shipped, margin=args.margin)
    else:
        plot(args.train, args.dev, shipped=args.shipped, shipped_p=args.shipped_p, c=args.c, p_cut=args.p_cut,
             out=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
