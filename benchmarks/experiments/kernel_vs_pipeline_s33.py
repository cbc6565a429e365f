"""Session 33 H9: why the Ki67 kernel called directly and the public ``analyze_region`` disagree on
EndoNuke's cell calls (stroma kept / epithelium excluded), and what differs between the two paths.

Per image of EndoNuke's validation ``mixed`` part (0.5 µm/px, the analysis resolution: no
resampling) this runs

- ``direct``: ``measure_ki67(rgb, mpp=0.5)`` (default H-DAB parameters and nucleus model), how
  session 33 H5's keep-stage rows were extracted;
- ``pipeline``: ``analyze_region(rgb, AnalysisConfig(stains="H-DAB", measures=["ki67"]), mpp=0.5)``
  (what a user gets), capturing what ``analyze_tile`` passes to ``measure_ki67`` (image window,
  pigment mask, origin, extent, the unmixing it hands over) and the nucleus model's feature rows;
- ``window+own-extent``: the pipeline's kernel call (its window, pigment mask, planes) with
  ``origin`` / ``extent`` of the window itself (only the cell model's edge correction differs);
- ``pipeline+image-extent``: the same call with ``origin`` / ``extent`` set so that the edges are
  the image's (the slide's) own; then also without the pigment mask, the handed-over planes and
  the job's stain matrix. (Written for e0674a0's kernel: under
  ``slide_edge_extent_s33.patch`` only the ``direct`` and ``pipeline`` rows mean the same.)

Detections of the two paths are matched one-to-one (Hungarian, 1 px); per-feature differences
for the same nucleus are summarised, and each variant's stroma kept / epithelium excluded is
printed unrounded (4 µm match to the keypoints, as ``keep_gate_endonuke_s33.py``).

    PYTHONPATH=. python benchmarks/experiments/kernel_vs_pipeline_s33.py --endonuke ../shared/train/endonuke
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def tally_of(cls: np.ndarray, det: np.ndarray, pts: np.ndarray, lab: np.ndarray, radius_px: float) -> np.ndarray:
    """(stroma decided, stroma kept, epithelium decided, epithelium excluded) of one image."""
    from keep_gate_endonuke_s33 import match

    i, j = match(det, pts, radius_px)
    c, lb = cls[i], lab[j]
    decided = np.isin(c, ("positive", "negative", "excluded"))
    counted = np.isin(c, ("positive", "negative"))
    return np.array([(decided & (lb == 0)).sum(), (counted & (lb == 0)).sum(),
                     (decided & (lb == 1)).sum(), (decided & ~counted & (lb == 1)).sum()], np.int64)


def main(argv: list[str] | None = None) -> int:
    from keep_gate_endonuke_s33 import match, val_images
    from PIL import Image

    import mmnst_path.classify.cells as cells_mod
    import mmnst_path.quantify.ki67 as ki67_mod
    from mmnst_path.aggregate import CELL_CLASSES
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endonuke", type=Path, required=True)
    ap.add_argument("--part", choices=("val", "dev"), default="val")
    ap.add_argument("--subset", choices=("mixed", "staining_ds", "all"), default="mixed")
    ap.add_argument("--limit", type=int, default=0, help="first N images only (0: all)")
    ap.add_argument("--out", type=Path, default=None, help=".npz of the matched feature rows")
    args = ap.parse_args(argv)

    original_measure = ki67_mod.measure_ki67
    original_features = cells_mod.nucleus_features
    calls: list[dict[str, Any]] = []
    feats: list[np.ndarray] = []

    def grab_features(*a: Any, **k: Any) -> np.ndarray:
        out = original_features(*a, **k)
        feats.append(out)
        return out

    def grab_measure(rgb: np.ndarray, **k: Any) -> Any:
        calls.append({"rgb": rgb, **k})
        return original_measure(rgb, **k)

    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]})
    names = None
    tallies = {v: np.zeros(4, np.int64) for v in ("direct", "pipeline", "window+own-extent", "pipeline+image-extent")}
    diffs: list[np.ndarray] = []
    rows_d: list[np.ndarray] = []
    rows_p: list[np.ndarray] = []
    stats = {"images": 0, "det_direct": 0, "det_pipeline": 0, "matched": 0, "same_cls": 0,
             "pigment_px": 0, "window_is_image": 0,
             "pipeline_rerun_same": 0, "no_tissue_images": 0}
    images = [(p, m) for p, m in val_images(args.endonuke, args.part)
              if args.subset == "all" or p.parent.name == args.subset]
    if args.limit:
        images = images[: args.limit]
    cells_mod.nucleus_features = grab_features
    ki67_mod.measure_ki67 = grab_measure
    try:
        for path, mpp in images:
            pts = np.loadtxt(path.with_suffix(".txt"), ndmin=2)
            if pts.size == 0:
                continue
            gt, lab = pts[:, [1, 0]].astype(float), pts[:, 2].astype(int)
            with Image.open(path) as im:
                rgb = np.asarray(im.convert("RGB"))
            calls.clear()
            feats.clear()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = analyze_region(rgb, cfg, mpp=mpp)
            if len(calls) != 1 or len(feats) != 1:  # (no tissue found: the pipeline reports no cell)
                print(f"{path.name}: {len(calls)} kernel calls, {len(feats)} feature calls; "
                      "pipeline: no cells", file=sys.stderr)
                d = original_measure(rgb, mpp=mpp)
                tallies["direct"] += tally_of(np.asarray(d.cells.cls).astype(str), np.c_[d.cells.row, d.cells.col],
                                              gt, lab, 4.0 / mpp)
                stats["no_tissue_images"] += 1
                continue
            pc = res.cells
            p_cls = np.asarray(CELL_CLASSES)[np.asarray(pc.cls, dtype=np.intp)].astype(str)
            det_p = np.c_[pc.row, pc.col]
            # direct: the image itself at its own mpp (mpp is 0.5 for mixed: no resampling)
            feats.clear()
            d = original_measure(rgb, mpp=mpp)
            f_dir = feats[-1] if feats else np.zeros((0, 20))
            d_cls = np.asarray(d.cells.cls).astype(str)
            det_d = np.c_[d.cells.row, d.cells.col]
            stats["images"] += 1
            stats["det_direct"] += len(d_cls)
            stats["det_pipeline"] += len(p_cls)
            tallies["direct"] += tally_of(d_cls, det_d, gt, lab, 4.0 / mpp)
            tallies["pipeline"] += tally_of(p_cls, det_p, gt, lab, 4.0 / mpp)
            # the pipeline's window, mask, planes; edges: the window's own (origin 0, extent None)
            win = calls[0]["rgb"]
            k = {kk: vv for kk, vv in calls[0].items() if kk != "rgb"}
            stats["pigment_px"] += int(np.count_nonzero(k.get("pigment_mask")) if k.get("pigment_mask") is not None else 0)
            origin, extent = k["origin"], k["extent"]
            stats["window_is_image"] += int(win.shape[:2] == rgb.shape[:2])
            feats.clear()
            own = original_measure(win, **{**k, "origin": (0, 0), "extent": None})
            off = np.asarray(origin, float)
            # the pipeline's kernel call again (its feature rows, in label order = cell order)
            feats.clear()
            again = original_measure(win, **k)
            f_pipe_k = feats[-1]
            w_det = np.c_[again.cells.row, again.cells.col]  # in tile-image pixels (origin added)
            # tile image -> image pixels: the tile's (0, 0) lies at grid_origin - origin (mpp 0.5 = analysis)
            delta = np.asarray(k["grid_origin"], float) - off
            i0, _ = match(w_det + delta, det_p, 0.5)
            stats["pipeline_rerun_same"] += int(len(i0) == len(det_p) == len(w_det))
            own_det = np.c_[own.cells.row, own.cells.col] + off + delta
            tallies["window+own-extent"] += tally_of(np.asarray(own.cells.cls).astype(str), own_det, gt, lab, 4.0 / mpp)
            # edges = the image's: origin of the window in image pixels, extent = image shape
            o_img = (round(float(off[0] + delta[0])), round(float(off[1] + delta[1])))
            img_k = original_measure(win, **{**k, "origin": o_img, "extent": rgb.shape[:2]})
            tallies["pipeline+image-extent"] += tally_of(np.asarray(img_k.cells.cls).astype(str),
                                                         np.c_[img_k.cells.row, img_k.cells.col], gt, lab, 4.0 / mpp)
            # the same, also without the pipeline's pigment mask / handed-over planes / estimated matrix
            base = {**k, "origin": o_img, "extent": rgb.shape[:2]}
            for name, extra in (("+no-pigment-mask", {"pigment_mask": None}),
                                ("+no-mask,no-planes", {"pigment_mask": None, "_conc": None}),
                                ("+no-mask,no-planes,preset", {"pigment_mask": None, "_conc": None, "stains": "H-DAB"})):
                v = original_measure(win, **{**base, **extra})
                tallies.setdefault("pipeline+image-extent" + name, np.zeros(4, np.int64))
                tallies["pipeline+image-extent" + name] += tally_of(
                    np.asarray(v.cells.cls).astype(str), np.c_[v.cells.row, v.cells.col], gt, lab, 4.0 / mpp)
            # direct vs pipeline, nucleus by nucleus (the kernel run's own rows, in tile pixels)
            a, b = match(det_d, w_det + delta, 1.0)
            stats["matched"] += len(a)
            stats["same_cls"] += int((d_cls[a] == np.asarray(again.cells.cls).astype(str)[b]).sum())
            if len(a):
                rows_d.append(f_dir[a])
                rows_p.append(f_pipe_k[b])
                diffs.append(f_pipe_k[b] - f_dir[a])
            if stats["images"] == 1:
                print(f"first image {path.name}: image {rgb.shape[:2]}, window {win.shape[:2]}, origin {origin}, "
                      f"extent {extent}, grid_origin {k.get('grid_origin')}, planes given {k.get('_conc') is not None}, "
                      f"pigment px {stats['pigment_px']}, offset tile->image {delta}", flush=True)
            if names is None:
                from mmnst_path.classify import load_model
                from mmnst_path.classify.cells import feature_settings
                from mmnst_path.classify.nucleus_features import nucleus_feature_specs

                m = load_model(HERE.parents[1] / "mmnst_path" / "models" / "nucleus_default.mmnst")
                names = [f.name for f in nucleus_feature_specs(feature_settings(m))]
    finally:
        cells_mod.nucleus_features = original_features
        ki67_mod.measure_ki67 = original_measure
    print(stats)
    for v, t in tallies.items():
        print(f"{v:24s} stroma kept % {100 * t[1] / max(t[0], 1):.4f} ({t[1]}/{t[0]})   "
              f"epithelium excluded % {100 * t[3] / max(t[2], 1):.4f} ({t[3]}/{t[2]})")
    if diffs and names is not None:
        dd = np.concatenate(diffs)
        rd = np.concatenate(rows_d)
        print("feature: direct median, median |pipeline - direct|, share |diff| > 1e-6, median diff")
        for n_, col in enumerate(names):
            x = dd[:, n_]
            print(f"  {col:16s} {np.median(rd[:, n_]):10.4f} {np.median(np.abs(x)):10.4f} "
                  f"{np.mean(np.abs(x) > 1e-6):8.4f} {np.median(x):10.4f}")
        if args.out is not None:
            np.savez(args.out, names=np.array(names), direct=rd, pipeline=np.concatenate(rows_p))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
