"""Why pigmented negatives read Ki67-positive on ``ki67_pigment_tile`` (issue #14, session 33 H1).

Each tile of :func:`mmnst_path.synthetic.ki67_pigment_tile` (H-DAB, measures ki67 + melanin, default
configuration otherwise, as the session 33 rule runs it) is read by :func:`mmnst_path.pipeline.analyze_region`
while the Ki67 step's per-nucleus evidence (what :func:`mmnst_path.quantify.ki67.classify_nuclei` was given
and returned) is recorded. The generator's own nuclei (centre, radius, Ki67 status, melanin around them) are
drawn again from its seed (same draws in the same order; checked against its truth counts), and each counted
nucleus is matched to the true nucleus whose disc holds its centroid (within ``--match-um`` past the rim).

Every false positive (a true negative counted positive) is put in one cause:

- ``fill``: covered by the detected pigment (visible < ``pigment_min_visible_fraction``) and read on all
  its pixels by the DAB-fill rule (``pigment_max_dab_fill``);
- ``visible``: touched by the detected pigment and read on its visible part at or above the threshold;
- ``plain``: untouched by the detected pigment, read at or above the threshold (``pigment missed``: true melanin
  within ``--near-um`` of it);
- ``contrast``: untouched, positive by the nuclear-contrast rule below the threshold;
- ``slide``: negative in the tile, made positive by the slide's weak-stain threshold;

with the true melanin over the nucleus (share of its disc), near it (ring of ``--near-um``), its DAB OD as
decided, the detected pigment's cover of it, and the granule count in its ring (granularity).

    PYTHONPATH=. python benchmarks/experiments/ki67_pigment_tile_split.py --seeds 40 41 --sizes 512 --csv x.csv
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi

import mmnst_path.quantify.ki67 as ki67_mod
from mmnst_path import synthetic as syn
from mmnst_path.pipeline import AnalysisConfig, analyze_region

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _ki67_tile_truth import true_nuclei
from eval_heldout import _settings, write_csv

CAUSES = ("fill", "visible", "plain", "contrast", "slide")


class Recorder:
    """Wraps ``classify_nuclei`` in :mod:`mmnst_path.quantify.ki67`: keeps every call's evidence and result."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.orig = ki67_mod.classify_nuclei

    def __call__(self, nuclei: Any, params: Any = None, **kw: Any) -> Any:
        params = ki67_mod.Ki67Params() if params is None else params
        out = self.orig(nuclei, params, **kw)
        n = len(out.cls)

        def arr(name: str, default: float) -> np.ndarray:
            v = kw.get(name)
            return np.full(n, default) if v is None else np.asarray(v, np.float64)

        self.calls.append({"row": np.asarray(out.row, float), "col": np.asarray(out.col, float),
                           "cls": np.asarray(out.cls).astype(str), "dab": np.asarray(out.dab_od_mean, float),
                           "vis": arr("visible_fraction", 1.0), "fill": arr("dab_fill", 0.0),
                           "plain_dab": np.asarray(nuclei.dab_od_mean, float), "params": params})
        return out

    def __enter__(self) -> Recorder:
        ki67_mod.classify_nuclei = self  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        ki67_mod.classify_nuclei = self.orig  # type: ignore[assignment]


def split_tile(seed: int, size: int, *, near_um: float, match_um: float, settings: dict | None = None) -> tuple[dict, list[dict]]:
    """(row of per-cause counts and index errors of one tile, one row per false positive)."""
    tile = syn.ki67_pigment_tile(seed, size=size)
    tn = true_nuclei(seed, size)
    assert int(tn["pos"].sum()) == tile.truth["ki67_positive"]
    assert int((~tn["pos"]).sum()) == tile.truth["ki67_negative"]
    mpp = tile.mpp
    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67", "melanin"], **(settings or {})})
    with warnings.catch_warnings(), Recorder() as rec:
        warnings.simplefilter("ignore")
        res = analyze_region(tile.rgb, cfg, mpp=mpp)
    cells = res.cells
    cls = np.asarray(cells.cls).astype(str)
    from mmnst_path.aggregate import CELL_CLASSES

    if cls.dtype.kind != "U" or not set(cls) <= set(CELL_CLASSES):
        cls = np.asarray(CELL_CLASSES, dtype=object)[np.asarray(cells.cls).astype(int)].astype(str)
    row_, col_ = np.asarray(cells.row, float), np.asarray(cells.col, float)
    # the Ki67 step's record of each final cell (nearest recorded centroid)
    rec_all = {k: np.concatenate([c[k] for c in rec.calls]) for k in ("row", "col", "cls", "dab", "vis", "fill", "plain_dab")}
    params = rec.calls[0]["params"]
    # one Ki67 call per tile, in the cells' order, its centroids in the frame of the tile with its halo
    assert len(rec_all["row"]) == len(row_), "more than one tile: align by tile"
    j = np.arange(len(row_))
    if len(row_):
        off = rec_all["row"] - row_, rec_all["col"] - col_
        assert np.ptp(off[0]) < 1e-6, "cells and the Ki67 record differ"
        assert np.ptp(off[1]) < 1e-6, "cells and the Ki67 record differ"
    # truth match: the true disc holding the centroid (within match_um past its rim), nearest centre
    dt2 = (row_[:, None] - tn["row"][None]) ** 2 + (col_[:, None] - tn["col"][None]) ** 2
    reach = (tn["rad"] + match_um / mpp) ** 2
    dt2 = np.where(dt2 <= reach[None], dt2, np.inf)
    t = np.where(np.isfinite(dt2).any(axis=1), np.argmin(dt2, axis=1), -1)
    mel = tile.masks["melanin"]
    yy, xx = np.mgrid[: mel.shape[0], : mel.shape[1]]
    near_px = near_um / mpp
    dist = ndi.distance_transform_edt(~mel)
    counted = np.isin(cls, ("positive", "negative"))
    pos = cls == "positive"
    out_rows: list[dict] = []
    fp = counted & pos & (t >= 0) & ~tn["pos"][np.maximum(t, 0)]
    fn = counted & ~pos & (t >= 0) & tn["pos"][np.maximum(t, 0)]
    for i in np.flatnonzero(fp):
        k = int(t[i])
        r0, c0, rad = tn["row"][k], tn["col"][k], tn["rad"][k]
        lo_r, hi_r = max(0, int(r0 - rad - near_px - 2)), int(r0 + rad + near_px + 3)
        lo_c, hi_c = max(0, int(c0 - rad - near_px - 2)), int(c0 + rad + near_px + 3)
        d = np.hypot(yy[lo_r:hi_r, lo_c:hi_c] - r0, xx[lo_r:hi_r, lo_c:hi_c] - c0)
        m = mel[lo_r:hi_r, lo_c:hi_c]
        disc, ring = d <= rad, (d > rad) & (d <= rad + near_px)
        _, ngran = ndi.label(m & (d <= rad + near_px))
        jj = j[i]
        vis = rec_all["vis"][jj]
        if rec_all["cls"][jj] != "positive":
            cause = "slide"
        elif vis < 1.0 and vis < params.pigment_min_visible_fraction:
            cause = "fill"
        elif vis < 1.0:
            cause = "visible"
        elif rec_all["dab"][jj] >= params.positive_threshold_od:
            cause = "plain"
        else:
            cause = "contrast"
        out_rows.append({
            "seed": seed, "size": size, "cause": cause, "pigmented": bool(tn["pigmented"][k]),
            "missed": bool(vis >= 1.0 and dist[int(r0), int(c0)] <= rad + near_px),
            "dab_decided": float(rec_all["dab"][jj]), "dab_plain": float(rec_all["plain_dab"][jj]),
            "visible_fraction": float(vis), "dab_fill": float(rec_all["fill"][jj]),
            "mel_over": float(m[disc].mean()) if disc.any() else math.nan,
            "mel_ring": float(m[ring].mean()) if ring.any() else math.nan, "granules": int(ngran),
        })
    row = {"seed": seed, "size": size, "true": float(tile.truth["ki67_index_pct"]),
           "measured": float(res.metrics.get("ki67_index_pct", math.nan)),
           "melanin_true": float(tile.truth["melanin_fraction_pct"]),
           "melanin": float(res.metrics.get("melanin_fraction_pct", math.nan)),
           "P": int(pos.sum()), "N": int((cls == "negative").sum()), "pigment": int((cls == "pigment").sum()),
           "fp": int(fp.sum()), "fn": int(fn.sum()),
           "fp_pigmented": sum(r["pigmented"] for r in out_rows),
           "unmatched_pos": int((counted & pos & (t < 0)).sum()), "unmatched_neg": int((counted & ~pos & (t < 0)).sum())}
    row["error"] = row["measured"] - row["true"]
    for cse in CAUSES:
        row[f"fp_{cse}"] = sum(r["cause"] == cse for r in out_rows)
    row["fp_missed_pigment"] = sum(r["missed"] for r in out_rows)
    return row, out_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(40, 60)))
    ap.add_argument("--sizes", type=int, nargs="+", default=[512])
    ap.add_argument("--near-um", type=float, default=2.0)
    ap.add_argument("--match-um", type=float, default=1.0)
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    ap.add_argument("--csv", type=Path, default=None, help="per-tile rows")
    ap.add_argument("--fp-csv", type=Path, default=None, help="one row per false positive")
    args = ap.parse_args()
    settings = _settings(args.set)
    rows, fps = [], []
    for size in args.sizes:
        for seed in args.seeds:
            row, fp = split_tile(seed, size, near_um=args.near_um, match_um=args.match_um, settings=settings)
            rows.append(row)
            fps.extend(fp)
            print(f"seed {seed} size {size}: true {row['true']:.4f} read {row['measured']:.4f} ({row['error']:+.4f}) "
                  f"P {row['P']} N {row['N']} pig {row['pigment']} fp {row['fp']} (pigmented {row['fp_pigmented']}; "
                  + ", ".join(f"{c} {row[f'fp_{c}']}" for c in CAUSES)
                  + f"; pigment missed {row['fp_missed_pigment']}) fn {row['fn']} melanin {row['melanin']:.4f}/{row['melanin_true']:.4f}",
                  flush=True)
    err = np.array([r["error"] for r in rows])
    print(f"mean |err| {np.abs(err).mean():.4f} max |err| {np.abs(err).max():.4f} mean err {err.mean():+.4f}")
    for path, data in ((args.csv, rows), (args.fp_csv, fps)):
        if path and data:
            write_csv(path, data)

if __name__ == "__main__":
    main()
