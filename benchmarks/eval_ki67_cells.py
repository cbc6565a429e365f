"""Where the Ki67 index error comes from, on generated tiles with per-nucleus truth.

Usage::

    python benchmarks/eval_ki67_cells.py [--seeds N] [--first S] [--cell-model default|FILE]
        [--size PX] [--weak-share X] [--grey-share X] [--lymphocytes scattered|infiltrate]
        [--ki67 KEY=VALUE ...] [--csv FILE] [--overlays DIR]

Tiles: :func:`mmnst_path.synthetic_ki67.ki67_cells_tile` (tumour nest with negative, weak,
moderate and strong Ki67 nuclei; lymphocytes, stromal spindles and macrophages around). Each
tile is analysed twice with the public ``analyze_region`` (default configuration, the slide's
weak-stain threshold included): with the cell model and with ``cell_model = "none"`` (the same
detections; it gives the positivity of every detected nucleus). Detections are matched one-to-one
to true nuclei within 4 µm (Hungarian, :func:`accuracy.match_points`).

The index error (measured - true, pp) is split into stages, each the change of the index when
one more stage is real instead of perfect:

- ``det``: detection (true positivity of the detected tumour nuclei vs of all tumour nuclei);
- ``excl``: the cell model excluding tumour nuclei (true positivity of the kept ones);
- ``pos``: positivity (measured instead of true positivity of the kept tumour nuclei);
- ``keep``: non-tumour nuclei and spurious detections the index counts (the rest).

The same split is printed for the real sets by ``accuracy.py`` (:func:`accuracy.stage_costs`).

Per truth class it prints the detection recall, the share the cell model keeps in the index and
the share read positive; per grade of tumour nucleus the same, and separately for the tumour
nuclei rendered with a grey-beige absorber (``--grey-share``: the hard negatives of
``ki67_cells_tile(grey_share=...)``; 0, the default, renders the tiles of earlier versions).
``--lymphocytes infiltrate`` renders the lymphocytes as dense aggregates and peritumoural bands of
touching nuclei (``ki67_cells_tile(lymphocytes="infiltrate")``; ``scattered``, the default, renders
the tiles of earlier versions) and adds a per-site line (aggregate, band, nest edge, single) to the
lymphocyte row.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(1 + len([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]), str(HERE.parent))  # after PYTHONPATH's trees
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

MATCH_UM = 4.0
STAGES = ("det", "excl", "pos", "keep")


def _index(pos: np.ndarray) -> float:
    return 100.0 * float(pos.sum()) / pos.size if pos.size else math.nan


def _analyze(rgb: np.ndarray, mpp: float, cell_model: str,
             ki67: dict | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from mmnst_path.aggregate import CELL_CLASSES
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    config = AnalysisConfig.from_mapping({"stains": "H-DAB", "ki67": {**(ki67 or {}), "cell_model": cell_model}})
    result = analyze_region(rgb, config, mpp=mpp)
    cells = result.cells
    names = np.asarray(CELL_CLASSES)[np.asarray(cells.cls, dtype=np.intp)].astype(str)
    return np.c_[cells.row, cells.col], names, np.asarray(cells.columns["dab_od_mean"], np.float64)


def evaluate_tile(tile, cell_model: str = "default", ki67: dict | None = None) -> dict:
    """Per-nucleus outcome and stage indices of one generated tile."""
    from accuracy import match_points

    truth = tile.truth["cells"]
    n = truth["row"].size
    gt = np.c_[truth["row"], truth["col"]]
    pts, cls_m, _ = _analyze(tile.rgb, tile.mpp, cell_model, ki67)
    pts0, cls0, dab0 = _analyze(tile.rgb, tile.mpp, "none", ki67)
    out = {"detected": np.zeros(n, bool), "kept": np.zeros(n, bool), "read_pos": np.zeros(n, bool),
           "dab": np.full(n, np.nan)}
    m0 = match_points(pts0, gt, MATCH_UM / tile.mpp)
    out["detected"][m0[:, 1]] = True
    out["read_pos"][m0[:, 1]] = cls0[m0[:, 0]] == "positive"
    out["dab"][m0[:, 1]] = dab0[m0[:, 0]]
    m = match_points(pts, gt, MATCH_UM / tile.mpp)
    out["kept"][m[:, 1]] = np.isin(cls_m[m[:, 0]], ("positive", "negative"))
    tumour = truth["cell_type"] == "tumour"
    true_pos = truth["grade"] != "negative"
    det_t = tumour & out["detected"]
    kept_t = tumour & out["kept"]
    idx = {
        "true": _index(true_pos[tumour]),
        "det": _index(true_pos[det_t]),
        "excl": _index(true_pos[kept_t]),
        "pos": _index(out["read_pos"][kept_t]),
        "meas": _index(cls_m[np.isin(cls_m, ("positive", "negative"))] == "positive"),
        "none": _index(cls0[np.isin(cls0, ("positive", "negative"))] == "positive"),
    }
    out["index"] = idx
    out["truth"] = truth
    out["n_det"] = len(pts)
    out["unmatched_kept"] = int(np.isin(cls_m, ("positive", "negative")).sum() - out["kept"].sum())
    return out


def _share(num: np.ndarray, den: np.ndarray) -> str:
    k = int(den.sum())
    return f"{float((num & den).sum()) / k:5.2f}" if k else "  nan"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--cell-model", default="default")
    parser.add_argument("--weak-share", type=float, default=None)
    parser.add_argument("--grey-share", type=float, default=0.0,
                        help="share of tumour nuclei with a grey-beige absorber (hard negatives)")
    parser.add_argument("--lymphocytes", choices=("scattered", "infiltrate"), default="scattered",
                        help="lymphocyte family of the tiles (infiltrate: aggregates and bands of touching nuclei)")
    parser.add_argument("--ki67", action="append", default=[], metavar="KEY=VALUE",
                        help="a [ki67] parameter (Ki67Params, value parsed as TOML); repeatable")
    parser.add_argument("--csv", type=Path, default=None)
    parser.add_argument("--overlays", type=Path, default=None)
    args = parser.parse_args(argv)
    import tomllib

    ki67: dict = {}
    for item in args.ki67:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--ki67 expects KEY=VALUE, got {item!r}")
        ki67[key.strip()] = tomllib.loads(f"v = {value.strip()}")["v"]
    from mmnst_path.synthetic_ki67 import CELL_TYPES, GRADES, ki67_cells_tile

    rows, allc = [], []
    print(f"{'seed':>4s} {'true':>6s} {'meas':>6s} {'err':>6s} | " + " ".join(f"{k:>6s}" for k in STAGES)
          + f" | {'none':>6s} {'T':>4s} {'L':>4s} {'S':>4s} {'M':>4s}")
    for seed in range(args.first, args.first + args.seeds):
        tile = ki67_cells_tile(seed, size=args.size, weak_share=args.weak_share, grey_share=args.grey_share,
                               lymphocytes=args.lymphocytes)
        res = evaluate_tile(tile, args.cell_model, ki67)
        ix = res["index"]
        steps = {"det": ix["det"] - ix["true"], "excl": ix["excl"] - ix["det"], "pos": ix["pos"] - ix["excl"],
                 "keep": ix["meas"] - ix["pos"]}
        row = {"seed": seed, **{f"idx_{k}": v for k, v in ix.items()}, "err": ix["meas"] - ix["true"],
               "err_none": ix["none"] - ix["true"], **{f"cost_{k}": v for k, v in steps.items()}}
        rows.append(row)
        t = res["truth"]
        print(f"{seed:4d} {ix['true']:6.1f} {ix['meas']:6.1f} {row['err']:+6.1f} | "
              + " ".join(f"{steps[k]:+6.1f}" for k in STAGES)
              + f" | {row['err_none']:+6.1f} " + " ".join(f"{int((t['cell_type'] == c).sum()):4d}" for c in CELL_TYPES))
        allc.append({**{k: res[k] for k in ("detected", "kept", "read_pos", "dab")},
                     "type": t["cell_type"], "grade": t["grade"], "grey": t["grey"],
                     "site": t.get("lymph_site", np.full(t["cell_type"].size, ""))})
        if args.overlays is not None:
            from PIL import Image

            args.overlays.mkdir(parents=True, exist_ok=True)
            Image.fromarray(tile.rgb).save(args.overlays / f"cells_{seed}.png")
    err = np.array([r["err"] for r in rows])
    err0 = np.array([r["err_none"] for r in rows])
    print(f"index error: with model mean {err.mean():+.2f}, MAE {np.abs(err).mean():.2f}, worst {err[np.argmax(np.abs(err))]:+.2f} pp;"
          f" without model MAE {np.abs(err0).mean():.2f}, mean {err0.mean():+.2f}")
    for k in STAGES:
        v = np.array([r[f"cost_{k}"] for r in rows])
        print(f"  stage {k:5s}: mean {v.mean():+6.2f} pp, mean |.| {np.abs(v).mean():5.2f} pp")
    cat = {k: np.concatenate([c[k] for c in allc]) for k in allc[0]}
    print(f"{'class':12s} {'n':>6s} {'recall':>6s} {'kept':>6s} {'readP':>6s} {'DAB med':>7s}")
    for ctype in CELL_TYPES:
        sel = cat["type"] == ctype
        groups = [(ctype, sel)] if ctype != "tumour" else [(f"tumour {g}", sel & (cat["grade"] == g)) for g in GRADES]
        if ctype == "lymphocyte" and (cat["site"] != "").any():
            groups += [(f"  {s}"[:12], sel & (cat["site"] == s)) for s in ("aggregate", "band", "nest_edge", "single")]
        if ctype == "tumour" and cat["grey"].any():
            groups += [(f"grey {g}"[:12], sel & cat["grey"] & (cat["grade"] == g)) for g in GRADES]
        for name, s in groups:
            det = s & cat["detected"]
            med = float(np.nanmedian(cat["dab"][det])) if det.any() else math.nan
            print(f"{name:12s} {int(s.sum()):6d} {_share(cat['detected'], s)} {_share(cat['kept'], det)}"
                  f" {_share(cat['read_pos'], det)} {med:7.3f}")
    if args.csv is not None:
        with args.csv.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
