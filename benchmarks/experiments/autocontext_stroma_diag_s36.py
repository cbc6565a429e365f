"""Session 36 H9 (dev only): after the failed dev screen of ``autocontext_stroma_dev_s36.py``, diagnosis.

Reads the screen's saved arrays (``--det DET``: ``DET``, ``DET_stage2_S1.npz`` .. ``_S3``, and, for the
comparison, session 36 H7's ``--h7 DIR/det_stage2_A.npz``) and prints:

- ``sweep``: per design, the least EndoNuke DEV epithelium cost (worse half) of any rule "move a tumour call
  when P2(stromal) >= s and P1(tumour) < u" reaching stroma kept -8 pp on both image halves;
- ``diag``: AUCs of the stage and of the orientation features, H7's four-class stage with and without the
  tumour -> stromal restriction, what the moved EndoNuke nuclei look like, and the figure ``--png``
  (EndoNuke DEV image 4695 and the image with most stroma moved; circle = tumour call kept, square = moved;
  blue / magenta epithelium kept / moved, yellow / green stroma kept / moved, grey stage 1 already not tumour).

Usage::

    PYTHONPATH=. python benchmarks/experiments/autocontext_stroma_diag_s36.py sweep --det /tmp/s36_h9/det.npz
    PYTHONPATH=. python benchmarks/experiments/autocontext_stroma_diag_s36.py diag --det /tmp/s36_h9/det.npz \\
        --h7 /tmp/s36_h7 --png /work/notes/s36/h9_moves.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "scripts"))

import autocontext_stroma_dev_s36 as m  # noqa: E402


def _stage2(det: Path, design: str) -> dict[str, np.ndarray]:
    return dict(np.load(det.with_name(det.stem + f"_stage2_{design}.npz")))


def sweep(args: argparse.Namespace) -> None:
    for design in ("S1", "S2", "S3"):
        z = _stage2(args.det, design)
        p1, p2, y, src, half = z["p1"], z["p2"], z["y"], z["src"], z["half"]
        t1 = p1[:, 0] >= 0.2
        base = {h: m.screen_rates(t1, y, src, half == h) for h in (0, 1)}
        found = []
        for s in np.arange(0.5, 1.0, 0.025):
            for u in (0.3, 0.4, 0.5, 0.6, 0.7, 1.01):
                keep = t1 & ~((p2 >= s) & (p1[:, 0] < u))
                r = {h: m.screen_rates(keep, y, src, half == h) for h in (0, 1)}
                d = {k: [r[h][k] - base[h][k] for h in (0, 1)]
                     for k in ("endo_stroma_kept", "endo_epi_excl", "brca_tumour_excl")}
                if max(d["endo_stroma_kept"]) <= -8.0:
                    found.append((max(d["endo_epi_excl"]), float(s), u, d))
        found.sort(key=lambda t: t[0])
        print(f"{design}: least epithelium cost with stroma kept -8 pp on both halves")
        for _cost, s, u, d in found[:3]:
            print(f"  s={s:.3f} u={u:.2f} " + " ".join(f"{k} {np.round(v, 6).tolist()}" for k, v in d.items()))


def diag(args: argparse.Namespace) -> None:
    from sklearn.metrics import roc_auc_score

    d = np.load(args.det)
    x, names, pos, g, theta = d["x"], list(d["names"]), d["pos"], d["g"], d["theta"]
    z = _stage2(args.det, "S1")
    p1, p2, y, src, half = z["p1"], z["p2"], z["y"], z["src"], z["half"]
    t1 = p1[:, 0] >= 0.2
    ecc = x[:, names.index("eccentricity")].astype(np.float64)
    ori = m.orientation_features(pos, theta, ecc, g)
    for s, name in ((1, "EndoNuke DEV stroma vs epithelium"), (0, "BRCA stromal vs tumour")):
        sel = (src == s) & np.isin(y, (0, 2))
        tsel = sel & t1
        print(f"{name}: AUC (stroma high) S1 P2 among stage-1 tumour calls {roc_auc_score(y[tsel] == 2, p2[tsel]):.6f}, "
              f"stage-1 1-P(tumour) {roc_auc_score(y[tsel] == 2, -p1[tsel, 0]):.6f}; all rows: "
              + ", ".join(f"{n} {roc_auc_score(y[sel] == 2, ori[sel, k]):.6f}"
                          for k, n in enumerate(("coh30", "order30", "order60")))
              + f", eccentricity {roc_auc_score(y[sel] == 2, ecc[sel]):.6f}")
    p_a = np.load(args.h7 / "det_stage2_A.npz")["p2"]
    for t in (0.2, 0.25, 0.3):
        for restricted in (False, True):
            keep = t1 & (p_a[:, 0] >= t) if restricted else p_a[:, 0] >= t
            for h in (0, 1):
                r, b = m.screen_rates(keep, y, src, half == h), m.screen_rates(t1, y, src, half == h)
                print(f"H7 A t={t:.2f} {'tumour->stromal only' if restricted else 'free'} half {h}: "
                      + ", ".join(f"d {k} {r[k] - b[k]:.6f}" for k in ("endo_stroma_kept", "endo_epi_excl",
                                                                       "brca_tumour_excl")))
    moved = t1 & (p2 >= 0.85)
    e = src == 1
    for lab, name in ((0, "epithelium"), (2, "stroma")):
        for cond, cname in ((moved, "moved"), (t1 & ~moved, "kept")):
            sel = e & (y == lab) & cond
            print(f"EndoNuke DEV {name} {cname} (S1, s 0.85): n {int(sel.sum())}, median area "
                  f"{np.median(x[sel, names.index('area_um2')]):.2f} µm², od_mean {np.median(x[sel, names.index('od_mean')]):.4f}, "
                  f"eccentricity {np.median(ecc[sel]):.3f}, P1(tumour) {np.median(p1[sel, 0]):.3f}")
    if args.png:
        _figure(args, pos, g, src, y, t1, moved)


def _figure(args, pos, g, src, y, t1, moved) -> None:
    from _training_data import held_out, read_rgb
    from PIL import Image, ImageDraw

    files = []
    for txt in sorted((args.train / "endonuke" / "mixed").glob("*.txt")):  # the extraction's order
        img = txt.with_suffix(".png")
        if img.is_file() and not held_out(img.name, 0.2) and np.loadtxt(txt, ndmin=2).size:
            files.append(img)
    groups = np.unique(g[src == 1])
    if len(files) != len(groups):
        raise RuntimeError(f"{len(files)} EndoNuke DEV files for {len(groups)} groups")
    by_name = {f.stem: int(groups[i]) for i, f in enumerate(files)}
    most = int(groups[np.argmax([np.sum(moved & (g == gg) & (y == 2)) for gg in groups])])
    colours = {"tk": (0, 0, 255), "em": (255, 0, 255), "sk": (255, 200, 0), "sm": (0, 220, 0), "no": (128, 128, 128)}
    panels = []
    for gg in (by_name["4695"], most):
        rgb = read_rgb(files[int(np.searchsorted(groups, gg))])
        im = Image.fromarray(rgb).resize((rgb.shape[1] * 3, rgb.shape[0] * 3), Image.NEAREST)
        draw = ImageDraw.Draw(im)
        sel = g == gg
        for mask, c, square in ((t1 & ~moved & (y == 0), "tk", False), (moved & (y == 0), "em", True),
                                (t1 & ~moved & (y == 2), "sk", False), (moved & (y == 2), "sm", True),
                                (~t1 & np.isin(y, (0, 2)), "no", False)):
            for r, c2 in pos[sel & mask] * 3:
                (draw.rectangle if square else draw.ellipse)((c2 - 10, r - 10, c2 + 10, r + 10), outline=colours[c], width=3)
        panels.append(im)
    out = Image.new("RGB", (sum(p.width for p in panels) + 10, max(p.height for p in panels)), (255, 255, 255))
    x0 = 0
    for p in panels:
        out.paste(p, (x0, 0))
        x0 += p.width + 10
    out.save(args.png)
    print(f"figure: {args.png} ({[f.name for f in files if by_name[f.stem] in (by_name['4695'], most)]})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sweep")
    s.add_argument("--det", type=Path, required=True)
    d = sub.add_parser("diag")
    d.add_argument("--det", type=Path, required=True)
    d.add_argument("--h7", type=Path, required=True)
    d.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    d.add_argument("--png", type=Path)
    args = ap.parse_args()
    {"sweep": sweep, "diag": diag}[args.cmd](args)


if __name__ == "__main__":
    main()
