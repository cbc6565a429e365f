"""#14: Ki67 / SOX10 double stains under ``stains="auto"`` by default, on dev tiles only (session 33 H2).

The generated double stains read wrong by the stain guess are mostly Ki67 / SOX10 (red nuclear marker): on
dev seeds 40-63 of ``eval_stain_guess.protocol_tile`` 238 of the 240 SOX10 tiles (Fast Red and AEC), against 96
of the 240 MART-1 tiles. The SOX10 rule (rule (3) of :mod:`mmnst_path.stain.guess`, nuclear bodies that hold
DAB beside red ones) was opt-in: it named single Fast Red tiles double (dense Fast Red nuclei passing the
DAB-holding share), single AEC tiles with melanin over the nuclei double, was not looked at for an H-DAB colour
guess (an AEC marker rendered brownish: 40 of the 60 SOX10 AEC tiles of seeds 40-51) and named the marker of
most SOX10 AEC tiles Fast Red (by the red bodies' angle). This script keeps, per dev tile, the guess made
without rule (3) (``sox10=False``) and its :class:`~mmnst_path.stain.places.ChromogenPlaces`, and replays
rule (3) offline for a grid of its new constants (``SOX10_DAB_MIN_DEG``, ``SOX10_FAST_RED_PINK``,
``SOX10_BROWN_PER_DAB``, ``SOX10_AEC``; column ``floor / pink / brown per DAB [/ AEC]``).

Dev only: generated seeds >= 40 and the permissive real sets (EndoNuke, scikit-image's IHC tile, osteosarcoma,
BRCA-M2C, Kather); never the research sets, never the held-out renderer::

    PYTHONPATH=. python benchmarks/experiments/sox10_default_s33.py collect --seeds 40 52 --out G.pkl
    PYTHONPATH=. python benchmarks/experiments/sox10_default_s33.py collect --real --out R.pkl
    PYTHONPATH=. python benchmarks/experiments/sox10_default_s33.py collect --small --seeds 40 50 --out S.pkl
    PYTHONPATH=. python benchmarks/experiments/sox10_default_s33.py show G.pkl R.pkl S.pkl
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import warnings
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import eval_stain_guess as esg  # noqa: E402

from mmnst_path.stain import guess as G  # noqa: E402

#: The permissive real sets of ``eval_red_chromogens.real_sets`` (research-only sets left out).
DEV_REAL = ("skimage IHC", "osteosarcoma H&E", "EndoNuke IHC (train)", "BRCA-M2C H&E (train)",
            "Kather CRC H&E (train)", "Kather 2016 H&E (train)")


def collect(args: argparse.Namespace) -> None:
    rows = []
    if args.small:
        from mmnst_path.io import ArrayReader
        from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile
        from mmnst_path.tiling import detect_tissue

        names = {"fast_red": "H-FastRed", "aec": "H-AEC", "dab": "H-DAB", "eosin": "H&E"}
        for ch, truth in names.items():
            for seed in range(*args.seeds):
                for fam in PIGMENT_FAMILIES:
                    app = ("plain", "varied")[seed % 2]
                    t = pigment_family_tile(seed, fam, chromogen=ch, size=256, appearance=app)
                    th = detect_tissue(ArrayReader(t.rgb, mpp=t.mpp), mask_mpp=8.0)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        off = G.guess_stains_detail(th.thumbnail, th.mask, mpp=th.mask_mpp, sox10=False)
                    rows.append({"group": f"{truth} 256px", "truth": truth, "label": f"{fam} {app} {seed}", "g": off})
    elif args.real:
        from eval_red_chromogens import _real_thumbnail, real_sets

        for group, (truth, items) in real_sets().items():
            if group not in DEV_REAL:
                continue
            for path, mpp in items:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    th, mask, tmpp = _real_thumbnail(path, mpp)
                    off = G.guess_stains_detail(th, mask, mpp=tmpp, sox10=False)
                rows.append({"group": group, "truth": truth, "label": path.name, "g": off})
    else:
        for p in args.protocols:
            for seed in range(*args.seeds):
                for i in range(10):
                    label, rgb, mpp = esg.protocol_tile(p, seed, i)
                    th, mask, tmpp = esg.thumbnail(rgb, mpp)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        off = G.guess_stains_detail(th, mask, mpp=tmpp, sox10=False)
                    group = p + (" SOX10" if label.startswith("nuclear") else " MART-1" if p.startswith("H-DAB-") else "")
                    rows.append({"group": group, "truth": p, "label": label, "g": off})
    with open(args.out, "wb") as f:
        pickle.dump(rows, f)


def replay(g: G.StainGuess, min_deg: float, pink: float, dab_colour: bool = True,
           brown_per_dab: float = math.inf, aec: bool = True) -> G.StainGuess:
    """Rule (3) of the guess applied to a guess made without it (``sox10=False``), with these constants."""
    p = g.places
    if p is None or g.marker or g.name not in ("H-AEC", "H-FastRed", "H&E", "H-DAB"):
        return g
    if "the browner stain is melanin" in g.reason or (g.name == "H-DAB" and (
            not dab_colour or "the nuclear bodies are reddish" in g.reason)):
        return g  # rule (1) fired (renamed, or kept H-DAB): rule (3) is not looked at
    if g.name == "H-DAB" and not (aec and p.red_body_deg >= G.RED_DEG):
        return g  # red bodies redder than AEC beside an H-DAB colour: not looked at
    old = G.SOX10_DAB_MIN_DEG, G.SOX10_FAST_RED_PINK, G.SOX10_BROWN_PER_DAB, G.SOX10_AEC
    G.SOX10_DAB_MIN_DEG, G.SOX10_FAST_RED_PINK, G.SOX10_BROWN_PER_DAB, G.SOX10_AEC = min_deg, pink, brown_per_dab, aec
    try:
        return G._nuclear_double(replace(g, places=None), p, "")
    finally:
        G.SOX10_DAB_MIN_DEG, G.SOX10_FAST_RED_PINK, G.SOX10_BROWN_PER_DAB, G.SOX10_AEC = old


def show(args: argparse.Namespace) -> None:
    rows = []
    for fn in args.pickles:
        with open(fn, "rb") as f:
            rows += pickle.load(f)
    groups = list(dict.fromkeys(r["group"] for r in rows))
    grid = [(-math.inf, 0.0, False, math.inf, True), (-math.inf, 0.0, True, math.inf, True)] + [
        (d, k, True, b, a) for a in (True, False) for b in (math.inf, 1.75) for d in (-math.inf, -21.0, -19.0, -17.0)
        for k in (0.08, 0.12, 0.14, 0.16, 0.20)]
    print("| group | n | without rule (3) | " + " | ".join(
        f"{d:+.0f}° / {k:.2f} / {b:.2f}{' / AEC' if a else ''}" if k else f"before{' +H-DAB' if dc else ''}"
        for d, k, dc, b, a in grid) + " |")
    print("|---|---:|---:|" + "---:|" * len(grid))
    for grp in groups:
        sel = [r for r in rows if r["group"] == grp]
        base = sum(r["g"].name == r["truth"] for r in sel)
        cells = []
        for d, k, dc, b, a in grid:
            if not k:  # the opt-in rule as shipped before: red bodies' angle names the marker
                new = [_head_rule(r["g"], dc) for r in sel]
            else:
                new = [replay(r["g"], d, k, dc, b, a) for r in sel]
            cells.append(str(sum(n.name == r["truth"] for n, r in zip(new, sel, strict=True))))
        print(f"| {grp} | {len(sel)} | {base} | " + " | ".join(cells) + " |")
    if args.verbose:
        for r in rows:
            p = r["g"].places
            if p is None or not p.dab_bodies_mm2:
                continue
            n = replay(r["g"], args.min_deg, args.pink, True, args.brown_per_dab, G.SOX10_AEC)
            if n.name != r["g"].name or r["truth"].startswith("H-DAB-"):
                print(r["group"], r["label"], r["g"].name, "->", n.name, f"pink {r['g'].pink_share:.4f} "
                      f"dab {p.dab_bodies_mm2:.1f} red {p.red_bodies_mm2:.1f} dab deg {p.dab_body_deg:+.2f} "
                      f"other {p.other_body_deg:+.2f} red deg {p.red_body_deg:+.2f}")


def _head_rule(g: G.StainGuess, dab_colour: bool) -> G.StainGuess:
    """Rule (3) as it was before session 33 (no angle floor, marker named by the red bodies' angle at -13.5°)."""
    p = g.places
    n = replay(g, -math.inf, 0.0, dab_colour, math.inf, True)
    if n is g or not n.marker:
        return n
    aec = g.name in ("H-AEC", "H-DAB") and not p.red_body_deg < -13.5
    return replace(n, name="H-DAB-AEC" if aec else "H-DAB-FastRed")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--seeds", type=int, nargs=2, default=(40, 52), help="first, last + 1 (dev: >= 40)")
    c.add_argument("--protocols", nargs="*", default=list(esg.PROTOCOLS), choices=esg.PROTOCOLS)
    c.add_argument("--real", action="store_true", help="the permissive real sets instead")
    c.add_argument("--small", action="store_true",
                   help="256-px pigment-family tiles of every single stain instead (as tests/stain draw them)")
    c.add_argument("--out", required=True)
    s = sub.add_parser("show")
    s.add_argument("pickles", nargs="+")
    s.add_argument("--verbose", action="store_true")
    s.add_argument("--min-deg", type=float, default=G.SOX10_DAB_MIN_DEG)
    s.add_argument("--pink", type=float, default=G.SOX10_FAST_RED_PINK)
    s.add_argument("--brown-per-dab", type=float, default=G.SOX10_BROWN_PER_DAB)
    args = ap.parse_args(argv)
    if args.cmd == "collect" and min(args.seeds) < 40 and not args.real:
        ap.error("dev seeds only (>= 40)")
    (collect if args.cmd == "collect" else show)(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
