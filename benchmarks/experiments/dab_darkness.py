"""How dark DAB-positive nuclei are against their own counterstain: EndoNuke, generator, renderer, real Ki67 (#14).

Session 27 H2. Per tile, the positive nuclei's DAB OD, total OD (norm of the RGB OD) and ``rel_dark`` =
log10((nucleus total OD + 0.02) / (reference OD + 0.02)), the reference being the tile's hematoxylin nuclei
(:func:`mmnst_path.classify._pigment_relative.nuclear_reference`: median total OD of the hematoxylin-dominant
blobs). Two ways of finding the positive nuclei, on every source alike:

- ``points``: a 2 µm-radius disc at each labelled nucleus centre. EndoNuke's keypoints carry no positive /
  negative label (classes are stroma / epithelium / other), so a point is positive when the disc's mean DAB
  concentration >= ``--dab-min`` (0.25 log10 OD, the pipeline's adapted positivity level); BCData / SHIDC use
  their own positive labels; the generator and the held-out renderer their truth (label centroids);
- ``blobs``: DAB-dominant blobs, found as the reference finds its hematoxylin blobs (1 µm box mean of DAB
  >= ``--dab-min`` and >= the hematoxylin, 8-400 µm²), needing no labels (DeepLIIF has none).

Per tile: the median positive nucleus and the tile's 90th-percentile positive nucleus (its strongest); the
tables give the 10th / 50th / 90th percentiles of these over the tiles. Tiles are read at 0.5 µm/px (EndoNuke
``mixed`` as it is, ``staining_ds`` halved; real Ki67 resampled from their µm/px; generated tiles are 0.5;
the renderer at its own µm/px, black box: only its rgb, mpp, nucleus labels and truth table are read; DEV
seeds only). BCData / SHIDC / DeepLIIF are research-only: measured here for information, nothing is set
from them.

    PYTHONPATH=. python benchmarks/experiments/dab_darkness.py --endonuke --generator 40 52 --renderer 100 112 --real
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parents[1] / "scripts")]

TRAIN = Path("/work/shared/train")
DATA = Path("/work/shared/data")
DISC_UM = 2.0
AREA_UM2 = (8.0, 400.0)
#: a labelled nucleus whose disc's mean DAB is below this is a negative of the second reference
NEG_DAB = 0.15


def planes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(total OD, hematoxylin, DAB) planes of ``rgb`` as the pigment stage's H-DAB unmixing reads them."""
    from train_pigment_model import _background

    from mmnst_path.detect.pigment import PigmentParams, pigment_channels
    from mmnst_path.stain import load_stains, od_from_rgb

    bg = _background(rgb)
    chans = pigment_channels(rgb, stains=load_stains("H-DAB"), params=PigmentParams(), background=bg,
                             _with_hematoxylin=True)
    total = np.linalg.norm(od_from_rgb(rgb, background=bg), axis=2).astype(np.float32)
    return total, chans[4], chans[0]


def disc_means(planes_: tuple[np.ndarray, ...], rows: np.ndarray, cols: np.ndarray, mpp: float) -> np.ndarray:
    """(n, len(planes_)) mean of each plane over a :data:`DISC_UM` disc at every (row, col)."""
    rad = DISC_UM / mpp
    k = int(np.ceil(rad))
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    inside = yy * yy + xx * xx <= rad * rad
    dy, dx = yy[inside], xx[inside]
    s = planes_[0].shape
    out = np.full((len(rows), len(planes_)), np.nan)
    for i, (r, c) in enumerate(zip(np.rint(rows).astype(int), np.rint(cols).astype(int), strict=True)):
        ry, rx = r + dy, c + dx
        ok = (ry >= 0) & (ry < s[0]) & (rx >= 0) & (rx < s[1])
        if ok.sum() < 0.5 * len(dy):
            continue
        out[i] = [float(p[ry[ok], rx[ok]].mean()) for p in planes_]
    return out


def blob_means(total: np.ndarray, hem: np.ndarray, dab: np.ndarray, mpp: float, dab_min: float) -> np.ndarray:
    """(n, 2) (mean DAB, mean total OD) of the tile's DAB-dominant blobs."""
    from scipy import ndimage as ndi

    k = max(1, round(1.0 / mpp)) | 1
    h = ndi.uniform_filter(hem, size=k, mode="nearest")
    b = ndi.uniform_filter(dab, size=k, mode="nearest")
    lab, n = ndi.label((b >= dab_min) & (b >= h))
    if n == 0:
        return np.zeros((0, 2))
    area = np.bincount(lab.ravel(), minlength=n + 1)[1:] * mpp * mpp
    keep = (area >= AREA_UM2[0]) & (area <= AREA_UM2[1])
    idx = np.arange(1, n + 1)[keep]
    if len(idx) == 0:
        return np.zeros((0, 2))
    return np.stack([ndi.mean(dab, lab, idx), ndi.mean(total, lab, idx)], axis=1)


def tile_row(rgb: np.ndarray, mpp: float, rows: np.ndarray | None, cols: np.ndarray | None,
             positive: np.ndarray | None, dab_min: float) -> dict[str, np.ndarray]:
    """Per positive nucleus (points and blobs): DAB, total OD, rel_dark; and the tile's reference."""
    from mmnst_path.classify._pigment_relative import nuclear_reference

    total, hem, dab = planes(rgb)
    area_ref, ref = nuclear_reference(total, hem, dab, mpp)
    out: dict[str, np.ndarray] = {"ref": np.array([ref, area_ref])}
    if rows is not None and cols is not None:
        m = disc_means((dab, total), rows, cols, mpp)
        ok = ~np.isnan(m[:, 0])
        pos = (m[:, 0] >= dab_min) if positive is None else np.asarray(positive, bool)
        neg = ok & ~pos & (m[:, 0] < NEG_DAB)
        # second reference: the tile's labelled negative nuclei (their disc's median total OD), >= 3 of them
        neg_ref = float(np.median(m[neg, 1])) if neg.sum() >= 3 else np.nan
        out["ref"] = np.array([ref, area_ref, neg_ref])
        m = m[ok & pos]
        out["points"] = np.column_stack([m, np.log10((m[:, 1] + 0.02) / (ref + 0.02)),
                                         np.log10((m[:, 1] + 0.02) / (neg_ref + 0.02))])
    m = blob_means(total, hem, dab, mpp, dab_min)
    out["blobs"] = (np.column_stack([m, np.log10((m[:, 1] + 0.02) / (ref + 0.02)), np.full(len(m), np.nan)])
                    if len(m) else np.zeros((0, 4)))
    return out


def _resample(rgb: np.ndarray, k: float) -> np.ndarray:
    from mmnst_path.io._resample import resize_area

    if k == 1.0:
        return rgb
    return resize_area(rgb, (max(1, round(rgb.shape[0] * k)), max(1, round(rgb.shape[1] * k))))


def endonuke_tiles(limit: int | None) -> Iterator[tuple[str, np.ndarray, float, np.ndarray, np.ndarray, None]]:
    from _training_data import read_rgb

    for sub, k in (("mixed", 1.0), ("staining_ds", 0.5)):
        files = sorted((TRAIN / "endonuke" / sub).glob("*.txt"))
        if limit:
            files = files[:: max(1, len(files) // limit)]
        for txt in files:
            img = txt.with_suffix(".png")
            pts = np.loadtxt(txt, ndmin=2)
            if not img.is_file() or pts.size == 0:
                continue
            rgb = _resample(read_rgb(img), k)
            yield f"endonuke/{sub}", rgb, 0.5, (pts[:, 1] + 0.5) * k - 0.5, (pts[:, 0] + 0.5) * k - 0.5, None


def generator_tiles(first: int, stop: int, **kw) -> Iterator:
    from scipy import ndimage as ndi

    from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

    for seed in range(first, stop):
        fam = PIGMENT_FAMILIES[seed % len(PIGMENT_FAMILIES)]
        t = pigment_family_tile(seed, fam, chromogen="dab", **kw)
        lab = t.masks["nuclei"]
        n = int(lab.max())
        idx = np.arange(1, n + 1)
        cnt = np.bincount(lab.ravel(), minlength=n + 1)[1:]
        pos = np.bincount(lab.ravel(), weights=t.masks["positive_nuclei"].ravel().astype(float), minlength=n + 1)[1:]
        keep = cnt > 0
        cen = np.array(ndi.center_of_mass(np.ones_like(lab), lab, idx[keep]))
        yield "generator", t.rgb, t.mpp, cen[:, 0], cen[:, 1], (pos[keep] >= 0.5 * cnt[keep])


def renderer_tiles(first: int, stop: int) -> Iterator:
    from heldout_render import render
    from scipy import ndimage as ndi

    if first < 12:
        raise SystemExit("--renderer: DEV seeds only (>= 12; the rule reads 0-11)")
    for seed in range(first, stop):
        t = render(seed, size=512, pigment="random", chromogen="dab")
        lab = t.labels
        n = int(lab.max())
        idx = np.arange(1, n + 1)
        present = np.bincount(lab.ravel(), minlength=n + 1)[1:] > 0
        cen = np.array(ndi.center_of_mass(np.ones_like(lab), lab, idx[present]))
        grade = np.asarray(t.nuclei["grade"])[:n][present]
        kind = np.asarray(t.nuclei["kind"])[:n][present]
        hidden = np.asarray(t.nuclei["hidden"])[:n][present]
        yield "renderer", t.rgb, t.mpp, cen[:, 0], cen[:, 1], (grade > 0) & (kind == 0) & ~hidden


def real_tiles() -> Iterator:
    import csv

    from _training_data import read_rgb

    for name, pattern, native in (("bcdata", "ki67/bcdata/*.png", 0.25), ("shidc", "ki67/shidc/*.jpg", 0.21),
                                  ("deepliif", "ki67/deepliif/*.png", 0.31)):
        for f in sorted(DATA.glob(pattern)):
            k = native / 0.5
            rgb = _resample(read_rgb(f), k)
            pts = f.with_suffix(".points.csv")
            if pts.is_file():
                with pts.open() as fh:
                    recs = list(csv.DictReader(fh))
                x = np.array([float(r["x"]) for r in recs])
                y = np.array([float(r["y"]) for r in recs])
                p = np.array([r["label"].strip().lower().startswith("pos") for r in recs])
                yield f"real {name}", rgb, 0.5, (y + 0.5) * k - 0.5, (x + 0.5) * k - 0.5, p
            else:
                yield f"real {name}", rgb, 0.5, None, None, None


def report(results: dict[str, list[dict]]) -> None:
    cols = ("DAB OD", "total OD", "rel_dark", "rel_dark vs negatives")
    print("| source | method | tiles (with positives) | ref OD / µm² p50 | tile stat | "
          + " | ".join(f"{c} p10 / p50 / p90" for c in cols) + " |")
    print("|---|---|---|---|---|" + "---|" * len(cols))
    print("<!-- ref: median over tiles of the nuclear reference OD / area µm²; 'fallback' = tiles whose reference is "
          "the fixed (40 µm², 0.5 OD); 'neg' = tiles with >= 3 labelled negatives (DAB < 0.15) -->")
    for src, rows in results.items():
        refs = np.array([r["ref"][:2] for r in rows])
        n_fb = sum(1 for r in rows if r["ref"][0] == 0.5 and r["ref"][1] == 40.0)
        n_neg = sum(1 for r in rows if len(r["ref"]) > 2 and not np.isnan(r["ref"][2]))
        for method in ("points", "blobs"):
            per = [r[method] for r in rows if method in r and len(r[method])]
            if not per:
                continue
            for stat, q in (("p10 nucleus", 10), ("median nucleus", 50), ("p90 nucleus", 90)):
                t = np.array([np.nanpercentile(p, q, axis=0) if np.isfinite(p).any() else np.full(4, np.nan)
                          for p in per])
                cells = [" / ".join(f"{v:.2f}" for v in np.nanpercentile(t[:, j], [10, 50, 90]))
                         if np.isfinite(t[:, j]).any() else "-" for j in range(4)]
                print(f"| {src} | {method} | {len(rows)} ({len(per)}; fallback {n_fb}, neg {n_neg}) | "
                      f"{np.median(refs[:, 0]):.2f} / {np.median(refs[:, 1]):.0f} | {stat} | "
                      + " | ".join(cells) + " |")
            allp = np.concatenate(per)
            print(f"<!-- {src} {method}: {len(allp)} positive nuclei, rel_dark max {allp[:, 2].max():.2f}, "
                  f"DAB max {allp[:, 0].max():.2f}, total max {allp[:, 1].max():.2f} -->")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--endonuke", action="store_true")
    ap.add_argument("--endonuke-limit", type=int, default=None, help="every k-th mixed tile, about this many")
    ap.add_argument("--generator", type=int, nargs=2, default=None, metavar=("FIRST", "STOP"))
    ap.add_argument("--dab-strength", default=None, help="pigment_family_tile(dab_strength=...) also")
    ap.add_argument("--renderer", type=int, nargs=2, default=None, metavar=("FIRST", "STOP"))
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--dab-min", type=float, default=0.25)
    args = ap.parse_args()

    results: dict[str, list[dict]] = {}

    def run(src: str, it: Iterator) -> None:
        for name, rgb, mpp, rows, cols, pos in it:
            results.setdefault(name if src == "" else src, []).append(tile_row(rgb, mpp, rows, cols, pos, args.dab_min))

    if args.endonuke:
        run("", endonuke_tiles(args.endonuke_limit))
    if args.generator:
        g = args.generator
        run("generator default", generator_tiles(*g))
        run("generator positives='wide'", generator_tiles(*g, positives="wide"))
        if args.dab_strength:
            run(f"generator dab_strength={args.dab_strength!r}", generator_tiles(*g, dab_strength=args.dab_strength))
    if args.renderer:
        run("renderer (dev)", renderer_tiles(*args.renderer))
    if args.real:
        run("", real_tiles())
    report(results)


if __name__ == "__main__":
    main()
