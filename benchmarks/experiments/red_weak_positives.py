"""Weak red (AEC, Fast Red) Ki67 positives read negative: where their chromogen OD sits (issue #14, session 31 H1).

Dev data only: :func:`mmnst_path.synthetic.pigment_family_tile` with ``positives="wide"`` (faint 1+ painted at
0.08-0.35 OD over a visible counterstain, moderate 2+, saturated 3+) or ``"standard"``, every pigment family, seeds
>= 40. Each tile runs through :func:`mmnst_path.pipeline.analyze_region` with its preset and the default
configuration (plus ``--set``); every detected nucleus is matched to the truth nucleus under its centroid (within
``--match-um``) and written as one row: the truth (tumour, positive, grade 1-3 of a wide positive, hidden >= 75 %
under melanin, melanin over part of it / within ``--near-um`` of it), the class read and the nucleus's chromogen
OD mean (the value its class was decided on, log10 OD in the chromogen's own units), hematoxylin OD mean and the
tile's threshold (``ki67_positive_threshold_od`` of the result). The summary gives, per chromogen and positives
mode, the chromogen OD quantiles of true positives per grade, of true negatives (clean / melanin beside / over)
and how many visible positives read negative.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/red_weak_positives.py --seeds 8 --csv /tmp/nuclei.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_heldout import _settings  # (SECTION.KEY=VALUE parsing)

import mmnst_path._synthetic_pigment as _sp
import mmnst_path.synthetic as _syn
from mmnst_path.aggregate import CELL_CLASSES
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

PRESET = {"aec": "H-AEC", "fast_red": "H-FastRed"}


def tile_with_grades(seed: int, family: str, chromogen: str, positives: str, appearance: str = "plain") -> tuple:
    """(tile, grade per label (index 0 = background; 0 = negative or a standard positive))."""
    drawn: list[int] = []
    painted: list[int] = []
    draw, ellipse = _sp.WidePositives.draw, _syn._ellipse

    def rec_draw(self):  # type: ignore[no-untyped-def]
        out = draw(self)
        drawn.append(out[0])
        painted.append(-1)
        return out

    def rec_ellipse(*a, **kw):  # type: ignore[no-untyped-def]
        label = a[8] if len(a) > 8 else kw.get("label")
        if label is not None and painted and painted[-1] == -1:
            painted[-1] = int(a[9] if len(a) > 9 else kw.get("value", 0))
        return ellipse(*a, **kw)

    _sp.WidePositives.draw, _syn._ellipse = rec_draw, rec_ellipse
    try:
        tile = pigment_family_tile(seed, family, chromogen=chromogen, positives=positives, appearance=appearance)
    finally:
        _sp.WidePositives.draw, _syn._ellipse = draw, ellipse
    labels = tile.masks["nuclei"]
    grade = np.zeros(int(labels.max()) + 1, np.int8)
    for g, lab in zip(drawn, painted, strict=True):
        if 0 < lab < grade.size:
            grade[lab] = g
    return tile, grade


def truth_under(labels: np.ndarray, centroids: np.ndarray, reach_px: int) -> np.ndarray:
    """Truth label under each (row, col) centroid, else the largest label within ``reach_px`` (0: none)."""
    idx = tuple(np.clip(np.rint(centroids).astype(int), 0, np.array(labels.shape) - 1).T)
    near = ndi.grey_dilation(labels, size=2 * reach_px + 1)[idx] if reach_px > 0 else labels[idx]
    return np.where(labels[idx] > 0, labels[idx], near)


def nucleus_rows(seed: int, family: str, chromogen: str, positives: str, *, near_um: float, match_um: float,
                 settings: dict | None = None, appearance: str = "plain") -> tuple[list[dict], dict]:
    """Per detected nucleus rows of one tile, and the tile's row."""
    tile, grade = tile_with_grades(seed, family, chromogen, positives, appearance)
    labels, mel, mpp = tile.masks["nuclei"], tile.masks["melanin"], tile.mpp
    n = int(labels.max())
    area = np.bincount(labels.ravel(), minlength=n + 1)
    share = lambda m: np.bincount(labels.ravel(), m.ravel().astype(float), minlength=n + 1) / np.maximum(area, 1)  # noqa: E731
    tumour = area > 0
    tumour[0] = False
    tpos = tumour & (share(tile.masks["positive_nuclei"]) > 0.5)
    cover = share(mel)
    near = max(1, round(near_um / mpp))
    beside = np.bincount(ndi.grey_dilation(labels, size=2 * near + 1).ravel(), mel.ravel(), minlength=n + 1) > 0
    cfg = AnalysisConfig.from_mapping({"stains": PRESET[chromogen], "measures": ["ki67", "melanin"],
                                       **(settings or {})})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(tile.rgb, cfg, mpp=mpp)
    cells = res.cells
    cls = np.asarray(CELL_CLASSES, dtype=object)[np.asarray(cells.cls).astype(int)].astype(str)
    t = truth_under(labels, np.c_[cells.row, cells.col], round(match_um / mpp))
    thr = float(res.metrics.get("ki67_positive_threshold_od", math.nan))
    rows = []
    for i in range(len(cls)):
        k = int(t[i])
        rows.append({"chromogen": chromogen, "positives": positives, "family": family, "seed": seed,
                     "truth": k, "tumour": bool(tumour[k]) if k else False, "tpos": bool(tpos[k]) if k else False,
                     "grade": int(grade[k]) if k else 0, "cover": float(cover[k]) if k else math.nan,
                     "melanin": ("hidden" if k and cover[k] >= 0.75 else "over" if k and cover[k] > 0
                                 else "beside" if k and beside[k] else "clean"),
                     "cls": cls[i], "red_od": float(cells.columns["dab_od_mean"][i]),
                     "hem_od": float(cells.columns["hematoxylin_od_mean"][i]), "threshold": thr})
    tile_row = {"chromogen": chromogen, "positives": positives, "family": family, "seed": seed,
                "true": float(tile.truth["ki67_index_pct"]), "measured": float(res.metrics.get("ki67_index_pct", math.nan)),
                "threshold": thr}
    tile_row["error"] = tile_row["measured"] - tile_row["true"]
    # visible truth tumour nuclei (< 75 % under melanin) without a counted detection, by truth: negative,
    # positive of grade 1 / 2 / 3 (wide) or standard positive (grade 0), and those called ``pigment``
    counted = np.zeros(n + 1, bool)
    called_pigment = np.zeros(n + 1, bool)
    counted[t[np.isin(cls, ("positive", "negative")) & (t > 0)]] = True
    called_pigment[t[(cls == "pigment") & (t > 0)]] = True
    visible = tumour & (cover < 0.75)
    missed = visible & ~counted
    tile_row["visible_neg"], tile_row["missed_neg"] = int((visible & ~tpos).sum()), int((missed & ~tpos).sum())
    for g in (0, 1, 2, 3):
        sel = visible & tpos & (grade == g)
        tile_row[f"visible_pos{g}"], tile_row[f"missed_pos{g}"] = int(sel.sum()), int((sel & missed).sum())
    tile_row["missed_as_pigment"] = int((missed & called_pigment).sum())
    return rows, tile_row


def _q(v: np.ndarray) -> str:
    v = v[np.isfinite(v)]
    if not v.size:
        return "–"
    a, b, c = np.percentile(v, [10, 50, 90])
    return f"{a:.2f} / {b:.2f} / {c:.2f} ({v.size})"


def summary(nuc: list[dict], tiles: list[dict]) -> str:
    """Per chromogen and positives mode: chromogen OD 10th / 50th / 90th percentiles (count) of the visible true
    positives per grade and of the true negatives by melanin contact, positives read negative, index error."""
    head = ("| chromogen | positives | tiles | mean abs err | mean err | threshold min / median | + grade 1 | "
            "+ grade 2 | + grade 3 | + standard | - clean | - melanin beside | - melanin over | "
            "visible + read - (of) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for key in dict.fromkeys((r["chromogen"], r["positives"]) for r in tiles):
        ts = [r for r in tiles if (r["chromogen"], r["positives"]) == key]
        ns = [r for r in nuc if (r["chromogen"], r["positives"]) == key and r["tumour"]
              and r["cls"] in ("positive", "negative") and r["melanin"] != "hidden"]
        od = np.asarray([r["red_od"] for r in ns])
        pos = np.asarray([r["tpos"] for r in ns])
        g = np.asarray([r["grade"] for r in ns])
        where = np.asarray([r["melanin"] for r in ns])
        readneg = np.asarray([r["cls"] == "negative" for r in ns])
        e = np.asarray([r["error"] for r in ts])
        thr = np.asarray([r["threshold"] for r in ts])
        cols = [_q(od[pos & (g == k)]) for k in (1, 2, 3)] + [_q(od[pos & (g == 0)])]
        cols += [_q(od[~pos & (where == w)]) for w in ("clean", "beside", "over")]
        lines.append(f"| {key[0]} | {key[1]} | {len(ts)} | {np.mean(np.abs(e)):.2f} | {np.mean(e):+.2f} | "
                     f"{thr.min():.3f} / {np.median(thr):.3f} | " + " | ".join(cols)
                     + f" | {int((pos & readneg).sum())} ({int(pos.sum())}) |")
    return "\n".join(lines)


def missed_table(tiles: list[dict]) -> str:
    """Per chromogen and positives mode: visible truth nuclei without a counted detection (% of them), by truth."""
    head = ("| chromogen | positives | missed negatives | missed + grade 1 | missed + grade 2 | missed + grade 3 | "
            "missed + standard | of the missed, called pigment |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for key in dict.fromkeys((r["chromogen"], r["positives"]) for r in tiles):
        ts = [r for r in tiles if (r["chromogen"], r["positives"]) == key]
        tot = {k: sum(r[k] for r in ts) for k in ts[0] if k.startswith(("visible_", "missed_"))}
        cols = [f"{100 * tot['missed_neg'] / max(1, tot['visible_neg']):.1f} % ({tot['visible_neg']})"]
        cols += [f"{100 * tot[f'missed_pos{g}'] / max(1, tot[f'visible_pos{g}']):.1f} % ({tot[f'visible_pos{g}']})"
                 for g in (1, 2, 3, 0)]
        n_missed = tot["missed_neg"] + sum(tot[f"missed_pos{g}"] for g in range(4))
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(cols) + f" | {tot['missed_as_pigment']} of {n_missed} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chromogens", nargs="*", default=["aec", "fast_red"])
    ap.add_argument("--positives", nargs="*", default=["wide", "standard"])
    ap.add_argument("--families", nargs="*", default=list(PIGMENT_FAMILIES))
    ap.add_argument("--first-seed", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--appearance", default="plain", choices=["plain", "varied", "wide"])
    ap.add_argument("--near-um", type=float, default=2.0)
    ap.add_argument("--match-um", type=float, default=1.0)
    ap.add_argument("--csv", type=Path, default=None, help="per-nucleus rows (the tiles' rows go to *_tiles.csv)")
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    args = ap.parse_args()
    if args.first_seed < 40:
        ap.error("dev seeds only: --first-seed must be >= 40 (seeds 0-39 are evaluation seeds)")
    settings = _settings(args.set)
    nuc: list[dict] = []
    tiles: list[dict] = []
    for ch in args.chromogens:
        for mode in args.positives:
            for fam in args.families:
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    rows, tr = nucleus_rows(seed, fam, ch, mode, near_um=args.near_um, match_um=args.match_um,
                                            settings=settings, appearance=args.appearance)
                    nuc += rows
                    tiles.append(tr)
                    print(f"{ch} {mode} {fam} {seed}: true {tr['true']:.4f} read {tr['measured']:.4f} "
                          f"({tr['error']:+.4f}) threshold {tr['threshold']:.4f}", flush=True)
    if args.csv:
        for path, data in ((args.csv, nuc), (args.csv.with_name(args.csv.stem + "_tiles.csv"), tiles)):
            with path.open("w", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(data[0]))
                w.writeheader()
                w.writerows(data)
    print(summary(nuc, tiles))
    print(missed_table(tiles))


if __name__ == "__main__":
    main()
