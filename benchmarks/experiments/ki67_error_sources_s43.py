"""Split each real Ki67 tile's signed index error into its sources (session 43 H4; diagnosis only).

Usage::

    PYTHONPATH=. python benchmarks/experiments/ki67_error_sources_s43.py DATASET_DIR... [--rotate K]
        [--overlays DIR] [--worst N] [--csv FILE]

Runs the public pipeline (``analyze_region``, default configuration) as ``benchmarks/accuracy.py``
does, matches detections to the annotations one-to-one within 6 µm (Hungarian, as ``accuracy.py``)
and sorts every annotated tumour nucleus and every detection into one source:

- ``miss_pos`` / ``miss_neg``: an annotated positive / negative with no detection;
- ``excl_pos`` / ``excl_neg``: matched, but not in the index (the cell model excluded it, or pigment);
- ``pos_read_neg`` / ``neg_read_pos``: matched and counted with the wrong positivity;
- ``extra_<kind>_<pos|neg>``: a counted detection with no annotated tumour nucleus, by kind:
  ``lymph`` (annotated lymphocyte, SHIDC), ``incell`` (inside an annotated cell's mask: a second
  detection of it; DeepLIIF only), ``spindle`` (eccentricity >= 0.9), ``small`` (< 20 µm²),
  ``other`` (a whole, ordinary nucleus no one annotated).

The kinds' limits are fixed descriptions for this diagnosis, not fitted. Each source is a change of
the counts (remove annotated cells, flip their call, add detections); those changes commute, so the
index is a function of which sources are applied, and each source's signed share of the error (pp)
is its Shapley value over all sources (no order is privileged; the shares add up to the error, except
where a coalition leaves no annotated tumour nucleus: that index is undefined and its terms are skipped,
so the ``check`` column, shares minus error, is then not 0, e.g. SHIDC p1_0299_10).
The research-only sets are validation data: this script reads them, nothing is fitted on them.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import accuracy as acc  # noqa: E402

SPINDLE_ECC = 0.9
SMALL_UM2 = 20.0


def _masks(folder: Path, name: str, k: int) -> np.ndarray | None:
    """DeepLIIF instance labels of annotated cells (red / blue components), turned like the image."""
    counts = folder / "counts.csv"
    if not counts.is_file() or list(folder.glob("*.points.csv")):
        return None
    from scipy import ndimage as ndi

    with counts.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if Path(row["image"]).name != name:
                continue
            gt = acc._read_rgb(folder / row["seg_gt"]).astype(np.int16)
            red = (gt[..., 0] > 150) & (gt[..., 1] < 100) & (gt[..., 2] < 100)
            blue = (gt[..., 2] > 150) & (gt[..., 0] < 100) & (gt[..., 1] < 100)
            lab_r, nr = ndi.label(red)
            lab_b, _ = ndi.label(blue)
            lab = np.where(lab_r > 0, lab_r, np.where(lab_b > 0, lab_b + nr, 0))
            # the green boundary line belongs to the cell it rings
            dist, (ir, ic) = ndi.distance_transform_edt(lab == 0, return_indices=True)
            lab = np.where(dist <= 3, lab[ir, ic], 0)
            return np.rot90(lab, k) if k % 4 else lab
    return None


def _index(pos: float, neg: float) -> float:
    return 100.0 * pos / (pos + neg) if pos + neg > 0 else math.nan


def shapley(base: tuple[int, int], deltas: dict[str, tuple[int, int]]) -> dict[str, float]:
    """Shapley value (pp) of each count change ``(dpos, dneg)`` applied to ``base`` counts."""
    names = [k for k, d in deltas.items() if d != (0, 0)]
    out = dict.fromkeys(deltas, 0.0)
    n = len(names)
    value: dict[frozenset[str], float] = {}
    for r in range(n + 1):
        for sub in itertools.combinations(names, r):
            p = base[0] + sum(deltas[s][0] for s in sub)
            q = base[1] + sum(deltas[s][1] for s in sub)
            value[frozenset(sub)] = _index(p, q)
    for name in names:
        others = [s for s in names if s != name]
        tot = 0.0
        for r in range(n):
            w = math.factorial(r) * math.factorial(n - r - 1) / math.factorial(n)
            for sub in itertools.combinations(others, r):
                a, b = value[frozenset(sub) | {name}], value[frozenset(sub)]
                if not (math.isnan(a) or math.isnan(b)):
                    tot += w * (a - b)
        out[name] = tot
    return out


SOURCES = ("miss_pos", "miss_neg", "excl_pos", "excl_neg", "pos_read_neg", "neg_read_pos",
           "extra_lymph_neg", "extra_lymph_pos", "extra_incell_neg", "extra_incell_pos",
           "extra_spindle_neg", "extra_spindle_pos", "extra_small_neg", "extra_small_pos",
           "extra_other_neg", "extra_other_pos")


def measure(rgb: np.ndarray, mpp: float):
    from mmnst_path.aggregate import CELL_CLASSES
    from mmnst_path.pipeline import analyze_region

    cells = analyze_region(rgb, None, mpp=mpp).cells
    names = np.asarray(CELL_CLASSES)[np.asarray(cells.cls, dtype=np.intp)].astype(str)
    return cells, names


def tile_sources(item: acc.Annotated, cells, names: np.ndarray, mpp: float,
                 masks: np.ndarray | None) -> tuple[dict[str, float], dict[str, int], dict[str, np.ndarray]]:
    """Per-source Shapley shares (pp), counts, and a per-detection / per-annotation source label."""
    pts = np.c_[cells.row, cells.col]
    m = acc.match_points(pts, item.points, acc.MATCH_UM / mpp)
    det_gt = np.full(len(pts), -1)
    det_gt[m[:, 0]] = m[:, 1]
    gt_det = np.full(len(item.points), -1)
    gt_det[m[:, 1]] = m[:, 0]
    counted = np.isin(names, ("positive", "negative"))
    lab = item.labels
    gt_src = np.full(len(lab), "", dtype="<U24")
    det_src = np.full(len(pts), "", dtype="<U24")
    for j, label in enumerate(lab):
        if label == "lymphocyte":
            continue
        s = label[:3]
        i = gt_det[j]
        if i < 0:
            gt_src[j] = f"miss_{s}"
        elif not counted[i]:
            gt_src[j] = det_src[i] = f"excl_{s}"
        elif names[i] != label:
            gt_src[j] = det_src[i] = "pos_read_neg" if label == "positive" else "neg_read_pos"
        else:
            gt_src[j] = det_src[i] = "ok"
    cols = cells.columns
    for i in np.flatnonzero(counted & (det_src == "")):
        sign = names[i][:3]
        j = det_gt[i]
        if j >= 0 and lab[j] == "lymphocyte":
            kind = "lymph"
        elif masks is not None and masks[int(np.clip(round(pts[i, 0]), 0, masks.shape[0] - 1)),
                                         int(np.clip(round(pts[i, 1]), 0, masks.shape[1] - 1))] > 0:
            kind = "incell"
        elif float(cols["eccentricity"][i]) >= SPINDLE_ECC:
            kind = "spindle"
        elif float(cols["area_um2"][i]) < SMALL_UM2:
            kind = "small"
        else:
            kind = "other"
        det_src[i] = f"extra_{kind}_{sign}"
    tum = lab != "lymphocyte"
    base = (int((tum & (lab == "positive")).sum()), int((tum & (lab == "negative")).sum()))
    deltas: dict[str, tuple[int, int]] = {}
    ncount: dict[str, int] = {}
    for s in SOURCES:
        if s.startswith(("miss", "excl")):
            n = int((gt_src == s).sum())
            d = (-n, 0) if s.endswith("pos") else (0, -n)
        elif s == "pos_read_neg":
            n = int((gt_src == s).sum())
            d = (-n, n)
        elif s == "neg_read_pos":
            n = int((gt_src == s).sum())
            d = (n, -n)
        else:
            n = int((det_src == s).sum())
            d = (n, 0) if s.endswith("pos") else (0, n)
        deltas[s], ncount[s] = d, n
    shares = shapley(base, deltas)
    return shares, ncount, {"gt": gt_src, "det": det_src}


def overlay(item: acc.Annotated, cells, names: np.ndarray, src: dict[str, np.ndarray], path: Path,
            title: str) -> None:
    """Image beside the same image marked by source (legend in the caption)."""
    from PIL import Image, ImageDraw

    gt_col = {"ok": (0, 200, 0), "miss_pos": (255, 0, 0), "miss_neg": (0, 90, 255), "excl_pos": (255, 140, 0),
              "excl_neg": (255, 140, 0), "pos_read_neg": (255, 0, 255), "neg_read_pos": (255, 0, 255)}
    img = Image.fromarray(item.rgb.copy())
    scale = 2 if item.rgb.shape[0] <= 700 else 1
    w, h = img.size
    img = img.resize((w * scale, h * scale), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(img)
    for (r, c), s, lab in zip(item.points, src["gt"], item.labels, strict=True):
        r, c = r * scale, c * scale
        colour = gt_col.get(str(s), (0, 220, 0) if lab == "lymphocyte" else (128, 128, 128))
        draw.ellipse([c - 9 * scale, r - 9 * scale, c + 9 * scale, r + 9 * scale], outline=colour, width=2 * scale)
    for r, c, s, n in zip(cells.row, cells.col, src["det"], names, strict=True):
        r, c = r * scale, c * scale
        if str(s).startswith("extra"):
            colour = (255, 255, 0) if n == "positive" else (0, 255, 255)
            draw.line([c - 6 * scale, r, c + 6 * scale, r], fill=colour, width=2 * scale)
            draw.line([c, r - 6 * scale, c, r + 6 * scale], fill=colour, width=2 * scale)
            draw.text((c + 4 * scale, r - 12), str(s).split("_")[1][:2], fill=(0, 0, 0))
        elif n in ("positive", "negative"):
            draw.rectangle([c - 2, r - 2, c + 2, r + 2], fill=(120, 0, 0) if n == "positive" else (0, 0, 120))
        else:
            draw.rectangle([c - 3, r - 3, c + 3, r + 3], outline=(90, 90, 90), width=2)
    out = Image.new("RGB", (2 * img.size[0], img.size[1] + 60), (255, 255, 255))
    out.paste(Image.fromarray(item.rgb).resize(img.size, Image.Resampling.NEAREST), (0, 60))
    out.paste(img, (img.size[0], 60))
    d = ImageDraw.Draw(out)
    d.text((6, 4), title, fill=(0, 0, 0))
    d.text((6, 22), "circles = annotations: green counted right, red missed positive, blue missed negative, "
           "magenta wrong positivity, orange excluded; crosses = counted detections with no annotated tumour "
           "nucleus (yellow counted positive, cyan counted negative; label sp spindle, ot other, in in-cell, "
           "ly lymphocyte, sm small); dark dots = counted matched; grey squares = not counted", fill=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    out.save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--rotate", type=int, default=0, choices=(0, 1, 2, 3))
    parser.add_argument("--overlays", type=Path, default=None)
    parser.add_argument("--worst", type=int, default=3, help="overlays of the N worst tiles per set")
    parser.add_argument("--csv", type=Path, default=None, help="per-tile rows (shares and counts)")
    args = parser.parse_args(argv)
    rows = []
    for folder in args.datasets:
        mpp = acc.dataset_mpp(folder)
        items = acc.load_dataset(folder)
        per = []
        for raw in items:
            item = acc.rotated(raw, args.rotate)
            cells, names = measure(item.rgb, mpp)
            masks = _masks(folder, raw.name, args.rotate)
            shares, ncount, src = tile_sources(item, cells, names, mpp, masks)
            tum = item.labels != "lymphocyte"
            true_idx = _index((item.labels[tum] == "positive").sum(), (item.labels[tum] == "negative").sum())
            meas_idx = _index((names == "positive").sum(), (names == "negative").sum())
            err = meas_idx - true_idx
            total = sum(shares.values())
            prn = src["gt"] == "pos_read_neg"
            dab_prn = []
            if prn.any():
                idx = acc.match_points(np.c_[cells.row, cells.col], item.points, acc.MATCH_UM / mpp)
                dmap = dict(zip(idx[:, 1], idx[:, 0], strict=True))
                dab_prn = [float(cells.columns["dab_od_mean"][dmap[j]]) for j in np.flatnonzero(prn)]
            row = {"set": folder.name, "tile": raw.name, "true": true_idx, "meas": meas_idx, "err": err,
                   "check": total - err if not math.isnan(err) else math.nan,
                   **{f"pp_{k}": v for k, v in shares.items()}, **{f"n_{k}": v for k, v in ncount.items()},
                   "dab_pos_read_neg": ";".join(f"{v:.3f}" for v in dab_prn)}
            rows.append(row)
            per.append((row, item, cells, names, src))
            print(f"{folder.name} {raw.name}: true {true_idx:.2f} meas {meas_idx:.2f} err {err:+.2f} | "
                  + " ".join(f"{k} {shares[k]:+.2f}({ncount[k]})" for k in SOURCES if ncount[k]), flush=True)
        if args.overlays is not None:
            worst = sorted((p for p in per if not math.isnan(p[0]["err"])), key=lambda p: -abs(p[0]["err"]))
            for row, item, cells, names, src in worst[: args.worst]:
                title = (f"{folder.name} {row['tile']} (rot {args.rotate}): true {row['true']:.1f} % measured "
                         f"{row['meas']:.1f} % error {row['err']:+.1f} pp")
                overlay(item, cells, names, src, args.overlays / f"{folder.name}_{Path(row['tile']).stem}.png", title)
    if args.csv is not None:
        with args.csv.open("w", newline="") as fh:
            wr = csv.DictWriter(fh, fieldnames=list(rows[0]))
            wr.writeheader()
            wr.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
