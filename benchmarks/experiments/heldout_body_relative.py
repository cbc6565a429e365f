"""Brown-body features relative to the tile's nuclei: true melanin bodies vs DAB bodies (session 26 H2, #14).

Measures, per source, the body features of :mod:`mmnst_path.classify._pigment_relative` (and a few absolute
ones) for the brown bodies of the H-DAB pigment stage, split by truth (a body is melanin when the true melanin
mask covers >= 50 % of it, as the body model's training labels):

- the held-out renderer (DEV seeds only, >= 100; black box: only its rgb, mpp and melanin mask are read);
- generated pigment families (``pigment_family_tile``), optionally with ``melanin_clumps=True``;
- real Ki67 tiles (every body DAB; resampled to ``--analysis-mpp`` as the pipeline reads them). These are
  the false-pigment gate's validation tiles: measured, not tuned on.

    PYTHONPATH=. python benchmarks/experiments/heldout_body_relative.py --renderer 100 112 --families 40 44 --real
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parents[1] / "scripts")]

COLS = ("log_area", "log_dark", "maxima", "brown_od", "rel_area", "rel_dark", "sat_share")


def rows_of(rgb: np.ndarray, mpp: float, pixel_model, params) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """(labels, (n, F) rows: ALL_FEATURES, as the body model computes them, the tile's nuclear reference)."""
    from train_pigment_model import _background, _body_rows_of

    from mmnst_path.classify._pigment_relative import nuclear_reference
    from mmnst_path.detect.pigment import pigment_channels
    from mmnst_path.stain import load_stains, od_from_rgb

    bg = _background(rgb)
    chans = pigment_channels(rgb, stains=load_stains("H-DAB"), params=params, background=bg, _with_hematoxylin=True)
    total = np.linalg.norm(od_from_rgb(rgb, background=bg), axis=2).astype(np.float32)
    labels, x = _body_rows_of(rgb, mpp, pixel_model, params, relative=True)
    return labels, x, nuclear_reference(total, chans[4], chans[0], mpp)


def truth_of(labels: np.ndarray, n: int, melanin: np.ndarray) -> np.ndarray:
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    mel = np.bincount(labels.ravel(), weights=melanin.ravel().astype(np.float64), minlength=n + 1)[1:]
    return mel >= 0.5 * area


def summary(name: str, x: np.ndarray, is_mel: np.ndarray, ref: tuple[float, float] | None) -> str:
    from mmnst_path.classify._pigment_bodies import ALL_FEATURES

    names = list(ALL_FEATURES)
    out = []
    for label, sel in (("melanin", is_mel), ("DAB", ~is_mel)):
        if not sel.any():
            continue
        cells = []
        for c in COLS:
            v = x[sel, names.index(c)]
            q = np.percentile(v, [10, 50, 90])
            cells.append(f"{q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f}")
        r = "" if ref is None else f"{ref[0]:.0f} / {ref[1]:.2f}"
        out.append(f"| {name} | {label} | {int(sel.sum())} | {r} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--renderer", type=int, nargs=2, default=None, metavar=("FIRST", "STOP"))
    ap.add_argument("--families", type=int, nargs=2, default=None, metavar=("FIRST", "STOP"))
    ap.add_argument("--clumps", action="store_true", help="families also with melanin_clumps=True")
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--analysis-mpp", type=float, default=0.5)
    ap.add_argument("--pooled", action="store_true", help="families: one row per family, seeds pooled")
    args = ap.parse_args()

    from mmnst_path.classify.pigment import resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams
    from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

    pm, params = resolve_pigment_model("dab"), PigmentParams()
    print("| source | truth | bodies | nuclear ref area µm² / OD | " + " | ".join(f"{c} p10 / p50 / p90" for c in COLS)
          + " |")
    print("|---|---|---:|---|" + "---|" * len(COLS))
    if args.renderer:
        from heldout_render import render

        first, stop = args.renderer
        if first < 12:
            raise SystemExit("--renderer: DEV seeds only (>= 12; the rule reads 0-11)")
        for seed in range(first, stop):
            t = render(seed, size=512, pigment="random", chromogen="dab")
            labels, x, ref = rows_of(t.rgb, t.mpp, pm, params)
            print(summary(f"renderer {seed}", x, truth_of(labels, len(x), t.melanin), ref), flush=True)
    if args.families:
        for lumps in (False, True) if args.clumps else (False,):
            for fam in PIGMENT_FAMILIES:
                if fam == "none" and lumps:
                    continue
                xs, ys, refs = [], [], []
                for seed in range(*args.families):
                    tile = pigment_family_tile(seed, fam, chromogen="dab", melanin_clumps=lumps)
                    labels, x, ref = rows_of(tile.rgb, tile.mpp, pm, params)
                    xs.append(x)
                    ys.append(truth_of(labels, len(x), tile.masks["melanin"]))
                    refs.append(ref)
                r = (float(np.median([a for a, _ in refs])), float(np.median([d for _, d in refs])))
                print(summary(f"family {fam}{' +clumps' if lumps else ''}", np.concatenate(xs), np.concatenate(ys),
                              r), flush=True)
    if args.real:
        from eval_pigment_dab import DATA, REAL
        from PIL import Image

        from mmnst_path.io._resample import resize_area

        for name in ("bcdata", "shidc", "deepliif"):
            pattern, native, _ = REAL[name]
            xs, refs = [], []
            for f in sorted(DATA.glob(pattern)):
                rgb = np.asarray(Image.open(f).convert("RGB"))
                k = native / args.analysis_mpp
                rgb = resize_area(rgb, (max(1, round(rgb.shape[0] * k)), max(1, round(rgb.shape[1] * k))))
                _, x, ref = rows_of(rgb, args.analysis_mpp, pm, params)
                xs.append(x)
                refs.append(ref)
            x = np.concatenate(xs)
            r = (float(np.median([a for a, _ in refs])), float(np.median([d for _, d in refs])))
            print(summary(f"real {name} ({len(xs)} tiles)", x, np.zeros(len(x), bool), r), flush=True)
            print(f"<!-- {name} max log_dark {x[:, 5].max():.3f} max rel_dark {x[:, -3].max():.3f} "
                  f"max rel_area {x[:, -2].max():.3f} max sat_share {x[:, -1].max():.3f} -->")


if __name__ == "__main__":
    main()
