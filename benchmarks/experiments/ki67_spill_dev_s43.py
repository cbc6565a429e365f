"""Dev screen of ``Ki67Params.spill_reach_um`` on real dev images (session 43 H10): what the spill-resistant
DAB read flips, and crops of the flipped nuclei.

Usage::

    PYTHONPATH=. python benchmarks/experiments/ki67_spill_dev_s43.py [--reach 1.0] [--endonuke N]
        [--samples] [--crops FILE.png] [--folder DIR ...]

Each image is analysed with ``analyze_region`` (H-DAB, default configuration, no cell model so every detected
nucleus is read) twice: ``spill_reach_um`` 0 (the whole-nucleus mean) and ``--reach``. Detection is the same in
both, so the nuclei are paired by index. It prints, per set, the detected nuclei, those read positive and the
flips (positive -> negative, negative -> positive; the second cannot happen: the read only lowers a mean, but the
slide's weak-stain threshold follows the DAB of the stained nuclei and can move). Sets: the first ``--endonuke``
EndoNuke ``mixed`` images (0.5 µm/px; ER/PR, no Ki67 truth: a flip there is a stained nucleus read negative
unless the crop shows a blue one) and the README's Ki67 sample tiles (``--samples``). ``--crops`` saves 24 µm
crops of up to 40 flipped nuclei (green cross on the centroid). ``--folder`` adds an annotated point set laid out
like ``shared/data/ki67/<name>`` (µm/px from ``benchmarks/datasets.toml``) and prints the annotation within 6 µm
of each flipped nucleus: used only after session 43 H10's gate 1 had failed, to read where the change went.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
ENDONUKE = Path("/work/shared/train/endonuke")
SAMPLES = ("ki67_primary.tif", "ki67_recurrence.tif", "ki67_pigmented.tif")


def _annotation_at(points: np.ndarray, labels: list[str], at: np.ndarray, mpp: float) -> str:
    if not len(points):
        return "none"
    d = np.hypot(points[:, 0] - at[1], points[:, 1] - at[0])
    k = int(np.argmin(d))
    return labels[k] if d[k] * mpp <= 6.0 else "none"


def _read(rgb: np.ndarray, mpp: float, reach: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from mmnst_path.aggregate import CELL_CLASSES
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"],
                                       "ki67": {"cell_model": "none", "spill_reach_um": reach}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cells = analyze_region(rgb, cfg, mpp=mpp).cells
    names = np.asarray(CELL_CLASSES)[np.asarray(cells.cls, dtype=np.intp)].astype(str)
    dab = cells.columns.get("dab_od_mean", np.zeros(len(names)))  # (no column when no nucleus was found)
    return np.c_[cells.row, cells.col], names, np.asarray(dab, np.float64)


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reach", type=float, default=1.0)
    parser.add_argument("--endonuke", type=int, default=40)
    parser.add_argument("--samples", action="store_true")
    parser.add_argument("--crops", type=Path, default=None)
    parser.add_argument("--folder", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    images: list[tuple[str, str, np.ndarray, float]] = []
    notes: dict[str, tuple[np.ndarray, list[str]]] = {}
    if args.folder:
        import csv

        sys.path.insert(0, str(ROOT / "benchmarks"))
        from accuracy import dataset_mpp

        for folder in args.folder:
            for p in sorted(folder.glob("*.jpg")) + sorted(folder.glob("*.png")):
                pts_csv = p.with_suffix(".points.csv")
                if not pts_csv.exists():
                    continue
                with pts_csv.open() as fh:
                    rows = list(csv.DictReader(fh))
                notes[p.name] = (np.array([[float(r["x"]), float(r["y"])] for r in rows]).reshape(-1, 2),
                                 [r["label"] for r in rows])
                images.append((folder.name, p.name, np.asarray(Image.open(p).convert("RGB")), dataset_mpp(folder)))
    for p in sorted((ENDONUKE / "mixed").glob("*.png"))[: args.endonuke]:
        images.append(("endonuke", p.name, np.asarray(Image.open(p).convert("RGB")), 0.5))
    if args.samples:
        for name in SAMPLES:
            img = np.asarray(Image.open(ROOT / "sample_tiles" / name).convert("RGB"))
            images.append(("samples", name, img, 0.5))
    stats: dict[str, np.ndarray] = {}
    crops = []
    for group, name, rgb, mpp in images:
        pts, c0, d0 = _read(rgb, mpp, 0.0)
        pts1, c1, d1 = _read(rgb, mpp, args.reach)
        if pts.shape != pts1.shape or not np.array_equal(pts, pts1):
            print(f"{name}: detections differ ({len(pts)} vs {len(pts1)})")
            continue
        p0, p1 = c0 == "positive", c1 == "positive"
        s = stats.setdefault(group, np.zeros(5, np.int64))
        s += [len(pts), p0.sum(), p1.sum(), (p0 & ~p1).sum(), (~p0 & p1).sum()]
        for i in np.flatnonzero(p0 != p1):
            note = f", annotation {_annotation_at(*notes[name], pts[i], mpp)}" if name in notes else ""
            print(f"  {group} {name} nucleus {i} at ({pts[i, 0]:.0f}, {pts[i, 1]:.0f}): {c0[i]} -> {c1[i]},"
                  f" DAB {d0[i]:.3f} -> {d1[i]:.3f}{note}")
            half = round(12.0 / mpp)
            r, c = round(pts[i, 0]), round(pts[i, 1])
            pad = np.pad(rgb, ((half, half), (half, half), (0, 0)), constant_values=255)
            crop = pad[r: r + 2 * half, c: c + 2 * half].copy()
            crop[half, max(0, half - 3): half + 4] = (0, 255, 0)
            crop[max(0, half - 3): half + 4, half] = (0, 255, 0)
            crops.append(crop)
    print(f"reach {args.reach} µm | set | detected | positive before | positive after | pos->neg | neg->pos")
    for group, s in stats.items():
        print(f"| {group} | {s[0]} | {s[1]} | {s[2]} | {s[3]} | {s[4]} |")
    if args.crops is not None and crops:
        size = max(c.shape[0] for c in crops)
        crops = [np.asarray(Image.fromarray(c).resize((size, size))) for c in crops[:40]]
        ncol = 8
        nrow = (len(crops) + ncol - 1) // ncol
        sheet = np.full((nrow * (size + 4), ncol * (size + 4), 3), 255, np.uint8)
        for k, crop in enumerate(crops):
            r, c = divmod(k, ncol)
            sheet[r * (size + 4): r * (size + 4) + size, c * (size + 4): c * (size + 4) + size] = crop
        Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), Image.NEAREST).save(args.crops)
    return 0


if __name__ == "__main__":
    sys.exit(main())
