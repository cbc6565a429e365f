"""Session 36 H8 (dev only): are ``ki67_cells_tile(lymphocytes="infiltrate")``'s lymphocytes as hard for the
nucleus model as BRCA-M2C's real ones?

For each seed both lymphocyte families are rendered (same seed: the same tumour, stroma and macrophages) and
analysed with the public ``analyze_region`` (default configuration, the shipped nucleus model) as
``benchmarks/eval_ki67_cells.py`` does (4 µm one-to-one matching): lymphocytes kept as tumour % (of the
detected lymphocytes), tumour excluded % (of the detected tumour), stromal kept %, the Ki67 index error and its
``keep`` stage. The detector's outlines come from ``measure_ki67(return_labels=True)`` (same detection, no cell
model), linked to the pipeline's cells by the centroid pixel: a detection *covers* a true nucleus when >= 50 %
of the nucleus's visible pixels lie in it; "merged" = a detection covering >= 2 true lymphocytes. Per detection
the truth type is the type of the true nucleus it overlaps most.

Usage::

    PYTHONPATH=. python benchmarks/experiments/lymph_infiltrate_dev_s36.py --first 640 --seeds 24 \\
        [--picture /work/notes/s36/h8_infiltrate_calls.png --picture-seed 642] [--packed-spacing 1.1 1.4]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from eval_ki67_cells import _analyze, evaluate_tile  # noqa: E402

FAMILIES = ("scattered", "infiltrate")
KEPT = ("positive", "negative")


def detections(tile, pts: np.ndarray, names: np.ndarray) -> dict[str, np.ndarray]:
    """Per pipeline detection: truth type it overlaps most, true lymphocytes covered, area (µm²), kept."""
    from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67

    region = measure_ki67(tile.rgb, mpp=tile.mpp, params=Ki67Params(cell_model="none"), return_labels=True)
    det_lab = region.labels
    true_lab = tile.masks["nuclei"]
    types = tile.truth["cells"]["cell_type"]
    n_true = int(true_lab.max())
    true_area = np.bincount(true_lab.ravel(), minlength=n_true + 1)
    both = (det_lab > 0) & (true_lab > 0)
    key = det_lab[both].astype(np.int64) * (n_true + 1) + true_lab[both]
    pair, count = np.unique(key, return_counts=True)
    d_of, t_of = pair // (n_true + 1), pair % (n_true + 1)
    n_det = int(det_lab.max())
    covers_lymph = np.zeros(n_det + 1, np.int64)
    best = np.zeros(n_det + 1, np.int64)
    best_n = np.zeros(n_det + 1, np.int64)
    for d, t, k in zip(d_of, t_of, count, strict=True):
        if k >= 0.5 * true_area[t] and types[t - 1] == "lymphocyte":
            covers_lymph[d] += 1
        if k > best_n[d]:
            best[d], best_n[d] = t, k
    det_area = np.bincount(det_lab.ravel(), minlength=n_det + 1) * tile.mpp ** 2
    rc = np.clip(np.rint(pts).astype(np.intp), 0, np.array(det_lab.shape) - 1)
    lab = det_lab[rc[:, 0], rc[:, 1]]
    ttype = np.where(best[lab] > 0, types[np.maximum(best[lab], 1) - 1], "none")
    ttype = np.where(lab > 0, ttype, "unlinked")
    return {"type": ttype, "covers_lymph": covers_lymph[lab] * (lab > 0), "area_um2": det_area[lab] * (lab > 0),
            "kept": np.isin(names, KEPT), "label": lab, "det_labels": det_lab}


def lymph_context(tile, radius_um: float = 12.0) -> np.ndarray:
    """Per true nucleus: ``interior`` (a lymphocyte with >= 4 nuclei within ``radius_um``, >= 80 % of them
    lymphocytes), ``edge`` (another lymphocyte with a lymphocyte within ``radius_um``), ``alone`` or ""."""
    from scipy.spatial import cKDTree

    cells = tile.truth["cells"]
    pts = np.c_[cells["row"], cells["col"]] * tile.mpp
    ly = cells["cell_type"] == "lymphocyte"
    out = np.full(ly.size, "", "<U8")
    tree = cKDTree(pts)
    for i in np.flatnonzero(ly):
        near = [j for j in tree.query_ball_point(pts[i], radius_um) if j != i]
        share = float(ly[near].mean()) if near else 0.0
        out[i] = "interior" if len(near) >= 4 and share >= 0.8 else ("edge" if ly[near].any() else "alone")
    return out


def pct(num: np.ndarray, den: np.ndarray) -> float:
    k = int(den.sum())
    return 100.0 * float((num & den).sum()) / k if k else math.nan


def run(seeds: range, size: int) -> dict[str, dict[str, list]]:
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    acc: dict[str, dict[str, list]] = {f: {"err": [], "keep": [], "stages": [], "truth": [], "det": []} for f in FAMILIES}
    for seed in seeds:
        for fam in FAMILIES:
            tile = ki67_cells_tile(seed, size=size, lymphocytes=fam)
            res = evaluate_tile(tile)
            ix = res["index"]
            pts, names, _ = _analyze(tile.rgb, tile.mpp, "default")
            det = detections(tile, pts, names)
            a = acc[fam]
            a["err"].append(ix["meas"] - ix["true"])
            a["keep"].append(ix["meas"] - ix["pos"])
            a["stages"].append((ix["det"] - ix["true"], ix["excl"] - ix["det"], ix["pos"] - ix["excl"]))
            t = res["truth"]
            a["truth"].append({"type": t["cell_type"], "detected": res["detected"], "kept": res["kept"],
                               "site": t.get("lymph_site", np.full(t["cell_type"].size, "")),
                               "context": lymph_context(tile),
                               "activated": t.get("activated", np.zeros(t["cell_type"].size, bool)),
                               "rim": t.get("cytoplasm_rim", np.zeros(t["cell_type"].size, bool))})
            a["det"].append(det)
            print(f"{seed} {fam:10s} true {ix['true']:6.2f} meas {ix['meas']:6.2f} err {ix['meas'] - ix['true']:+6.2f}"
                  f" L {int((t['cell_type'] == 'lymphocyte').sum()):4d}", file=sys.stderr, flush=True)
    return acc


def summary(acc: dict[str, dict[str, list]]) -> None:
    print("| family | lymphocytes (detected) | lymphocytes kept % | tumour excluded % | stromal kept % |"
          " index MAE pp | index mean err pp | keep stage mean pp | lymph detections merged (>= 2 lymph) % |"
          " merged kept % | single kept % | kept lymph det. median µm² | excluded median µm² |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for fam in FAMILIES:
        a = acc[fam]
        t = {k: np.concatenate([x[k] for x in a["truth"]]) for k in a["truth"][0]}
        d = {k: np.concatenate([x[k] for x in a["det"]]) for k in ("type", "covers_lymph", "area_um2", "kept")}
        ly, tu, st = (t["type"] == c for c in ("lymphocyte", "tumour", "stromal"))
        err = np.asarray(a["err"])
        lymph_det = d["covers_lymph"] >= 1
        merged = d["covers_lymph"] >= 2
        single = d["covers_lymph"] == 1
        kept_area = d["area_um2"][lymph_det & d["kept"]]
        excl_area = d["area_um2"][lymph_det & ~d["kept"]]
        print(f"| {fam} | {int(ly.sum())} ({int((ly & t['detected']).sum())}) | {pct(t['kept'], ly & t['detected']):.6f}"
              f" | {100 - pct(t['kept'], tu & t['detected']):.6f} | {pct(t['kept'], st & t['detected']):.6f}"
              f" | {np.abs(err).mean():.6f} | {err.mean():+.6f} | {np.mean(a['keep']):+.6f}"
              f" | {100.0 * merged.sum() / max(1, lymph_det.sum()):.6f} ({int(merged.sum())} of {int(lymph_det.sum())})"
              f" | {pct(d['kept'], merged):.6f} | {pct(d['kept'], single):.6f}"
              f" | {np.median(kept_area) if kept_area.size else math.nan:.2f} | {np.median(excl_area) if excl_area.size else math.nan:.2f} |")
        st_mean = np.nanmean(np.asarray(a["stages"]), axis=0)
        print(f"  {fam}: stage means det {st_mean[0]:+.6f} excl {st_mean[1]:+.6f} pos {st_mean[2]:+.6f}"
              f" keep {np.mean(a['keep']):+.6f} pp; unlinked detections {int((d['type'] == 'unlinked').sum())}")
        for ctx in ("interior", "edge", "alone"):
            s = ly & (t["context"] == ctx)
            print(f"  {fam} context {ctx:8s}: {int(s.sum())} lymphocytes, detected {pct(t['detected'], s):.4f} %,"
                  f" kept {pct(t['kept'], s & t['detected']):.4f} % of detected")
        if fam == "infiltrate":
            for name, s in (("activated", ly & t["activated"]), ("small", ly & ~t["activated"]),
                            ("rim", ly & t["rim"]), ("no rim", ly & ~t["rim"])):
                print(f"  {name:9s}: {int(s.sum())} lymphocytes, detected {pct(t['detected'], s):.4f} %,"
                      f" kept {pct(t['kept'], s & t['detected']):.4f} % of detected")
            for site in ("aggregate", "band", "nest_edge", "single"):
                s = ly & (t["site"] == site)
                print(f"  site {site:9s}: {int(s.sum())} lymphocytes, detected {pct(t['detected'], s):.4f} %,"
                      f" kept {pct(t['kept'], s & t['detected']):.4f} % of detected")


def picture(seed: int, size: int, out: Path) -> None:
    """The infiltrate tile with each detection's outline coloured by its truth type and the model's call."""
    from PIL import Image
    from scipy import ndimage as ndi

    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    colours = {("lymphocyte", True): (230, 0, 0), ("lymphocyte", False): (0, 170, 0),
               ("tumour", True): (0, 60, 255), ("tumour", False): (255, 0, 255)}
    panels = []
    for fam in FAMILIES:
        tile = ki67_cells_tile(seed, size=size, lymphocytes=fam)
        pts, names, _ = _analyze(tile.rgb, tile.mpp, "default")
        det = detections(tile, pts, names)
        img = tile.rgb.copy()
        lab = det["det_labels"]
        edge = (lab > 0) & (ndi.grey_erosion(lab, size=3) != lab)
        colour = np.zeros((lab.max() + 1, 3), np.uint8)
        for k, (ty, kept) in enumerate(zip(det["type"], det["kept"], strict=True)):
            if det["label"][k] > 0:
                colour[det["label"][k]] = colours.get((ty, bool(kept)), (230, 200, 0) if kept else (120, 120, 120))
        img[edge] = colour[lab[edge]]
        truth = tile.truth["cells"]
        for r, c in zip(truth["row"][truth["cell_type"] == "lymphocyte"], truth["col"][truth["cell_type"] == "lymphocyte"], strict=True):
            img[int(r), int(c)] = (255, 255, 255)
        big = np.kron(img, np.ones((2, 2, 1), np.uint8))
        panels.append(big)
        panels.append(np.full((big.shape[0], 8, 3), 255, np.uint8))
    Image.fromarray(np.hstack(panels[:-1])).save(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--first", type=int, default=640)
    p.add_argument("--seeds", type=int, default=24)
    p.add_argument("--size", type=int, default=384)
    p.add_argument("--picture", type=Path, default=None)
    p.add_argument("--picture-seed", type=int, default=642)
    p.add_argument("--packed-spacing", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                   help="sensitivity only: centre spacing range (x sum of radii) in aggregates and bands"
                        " instead of the family's 0.8-1.1")
    args = p.parse_args()
    if args.packed_spacing is not None:
        from mmnst_path import _synthetic_lymph

        _synthetic_lymph.PACKED_SPACING = tuple(args.packed_spacing)
        print(f"packed spacing {_synthetic_lymph.PACKED_SPACING} (sensitivity, not the family's recipe)")
    if args.picture is not None:
        picture(args.picture_seed, args.size, args.picture)
    if args.seeds > 0:
        summary(run(range(args.first, args.first + args.seeds), args.size))


if __name__ == "__main__":
    main()
