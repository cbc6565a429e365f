"""Ki67 accuracy on annotated real tiles: index error, detection and classification.

Usage::

    python benchmarks/accuracy.py DATASET_DIR... [--mpp X] [--overlays DIR] [--engine auto|pipeline|direct] [--split]
        [--cell-model default|none|FILE] [--count-in all|tumour] [--tissue-model default|FILE]
        [--ki67 KEY=VALUE ...] [--rotate K ...]

``DATASET_DIR`` is laid out like ``../shared/data/ki67/{bcdata,shidc,deepliif}``:

- point sets: ``<stem>.png|jpg`` + ``<stem>.points.csv`` with columns ``x, y, label`` (label
  ``positive``, ``negative`` or ``lymphocyte``; lymphocytes are not tumour nuclei and are not in
  the true index, but they are nuclei, so they count for detection);
- DeepLIIF layout: ``counts.csv`` with columns ``image, seg_gt`` and a per-cell colour mask
  (red R>150 = positive cell, blue = negative cell, green = boundary); the points are the
  centroids of the red / blue connected components.

The tiles carry no mpp: it is read from ``benchmarks/datasets.toml`` (section named after the
folder) unless ``--mpp`` is given. The public API does the work: ``mmnst_path.pipeline.
analyze_region`` (engine ``pipeline``) or, when the pipeline is unavailable, the Ki67 kernel
``mmnst_path.quantify.ki67.measure_ki67`` on the image resampled to 0.5 µm/px (engine ``direct``).

Reported per image and overall: true vs measured index (%), error (percentage points), MAE,
Pearson r, detection precision / recall / F1 (a detection matches an annotated nucleus within
6 µm, one-to-one, by the Hungarian algorithm on distances; every detected nucleus against every
annotated nucleus), tumour-nucleus F1 ``tF1`` (only the nuclei the index counts, positive and
negative, against the annotated tumour nuclei: a counted lymphocyte or stromal nucleus is a false
positive), the index denominator, and the classification accuracy (positive vs negative) of the
matched tumour nuclei that the index counts. Images with an undefined true index (no tumour
nucleus annotated) are listed but left out of MAE and r; for them the right answer is an
undefined (or near-zero) measured index.

``--rotate K`` analyses every image (and its points) turned by K x 90 degrees (repeatable: one
full run per K). The method has no preferred direction, so what changes between the four
turns (tiling, resampling, tie-breaks of the detector) is the measurement's own noise: the
spread of a set's MAE over the turns is the noise figure a change of method is judged against.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ANALYSIS_MPP = 0.5
CELL_MODEL: str | None = None  # --cell-model: "default", "none" or a model file (None = the config default)
COUNT_IN: str | None = None  # --count-in: "all" or "tumour" (None = the config default)
TISSUE_MODEL: str | None = None  # --tissue-model: the tumour-region model of --count-in tumour (None = default)
KI67_SET: dict[str, object] = {}  # --ki67 KEY=VALUE: further [ki67] parameters (Ki67Params)
MATCH_UM = 6.0
HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run from a source checkout without installing
    sys.path.insert(1 + len([p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]), str(HERE.parent))  # after PYTHONPATH's trees


@dataclass
class Annotated:
    name: str
    rgb: np.ndarray
    points: np.ndarray  # (n, 2) row, col
    labels: np.ndarray  # (n,) str


@dataclass
class Measured:
    points: np.ndarray  # (m, 2) row, col in pixels of the input image
    cls: np.ndarray  # (m,) str: positive/negative/pigment/excluded


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def load_dataset(folder: Path) -> list[Annotated]:
    """Read every annotated image of ``folder`` (point CSVs or the DeepLIIF colour masks)."""
    items: list[Annotated] = []
    point_files = sorted(folder.glob("*.points.csv"))
    if point_files:
        for pf in point_files:
            stem = pf.name[: -len(".points.csv")]
            images = [
                p for p in folder.glob(stem + ".*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif")
            ]
            if not images:
                msg = f"no image for annotation file {pf}"
                raise FileNotFoundError(msg)
            with pf.open(newline="") as fh:
                rows = list(csv.DictReader(fh))
            pts = np.array([(float(r["y"]), float(r["x"])) for r in rows], dtype=float).reshape(-1, 2)
            labels = np.array([r["label"].strip().lower() for r in rows], dtype="<U10")
            items.append(Annotated(images[0].name, _read_rgb(images[0]), pts, labels))
        return items
    counts = folder / "counts.csv"
    if not counts.is_file():
        msg = f"{folder}: expected *.points.csv files or a DeepLIIF counts.csv with seg_gt masks"
        raise FileNotFoundError(msg)
    from scipy import ndimage as ndi

    with counts.open(newline="") as fh:
        for row in csv.DictReader(fh):
            img_path = folder / row["image"]
            if not img_path.is_file():
                img_path = folder / Path(row["image"]).name
            gt = _read_rgb(folder / row["seg_gt"]).astype(np.int16)
            pts, labels = [], []
            red = (gt[..., 0] > 150) & (gt[..., 1] < 100) & (gt[..., 2] < 100)
            blue = (gt[..., 2] > 150) & (gt[..., 0] < 100) & (gt[..., 1] < 100)
            for label, mask in (("positive", red), ("negative", blue)):
                lab, n = ndi.label(mask)
                if n:
                    for r, c in ndi.center_of_mass(mask, lab, np.arange(1, n + 1)):
                        pts.append((r, c))
                        labels.append(label)
            items.append(
                Annotated(
                    img_path.name, _read_rgb(img_path), np.array(pts, float).reshape(-1, 2), np.array(labels)
                )
            )
    return items


def dataset_mpp(folder: Path) -> float:
    """mpp of a dataset from benchmarks/datasets.toml (section = folder name)."""
    with (HERE / "datasets.toml").open("rb") as fh:
        table = tomllib.load(fh)
    section = table.get(folder.name)
    if section is None or "mpp" not in section:
        msg = f"no [{folder.name}] mpp in {HERE / 'datasets.toml'}; pass --mpp"
        raise KeyError(msg)
    return float(section["mpp"])


def measure_direct(rgb: np.ndarray, mpp: float) -> Measured:
    """Ki67 kernel on the image resampled to the analysis resolution (0.5 µm/px)."""
    from mmnst_path.io._resample import resize_area
    from mmnst_path.quantify.ki67 import measure_ki67

    factor = mpp / ANALYSIS_MPP
    shape = (max(1, round(rgb.shape[0] * factor)), max(1, round(rgb.shape[1] * factor)))
    small = resize_area(rgb, shape)
    region = measure_ki67(small, mpp=ANALYSIS_MPP)
    sr, sc = rgb.shape[0] / shape[0], rgb.shape[1] / shape[1]
    pts = np.c_[(region.cells.row + 0.5) * sr - 0.5, (region.cells.col + 0.5) * sc - 0.5]
    return Measured(pts, np.asarray(region.cells.cls).astype(str))


def measure_pipeline(rgb: np.ndarray, mpp: float) -> Measured:
    """The public API: ``mmnst_path.pipeline.analyze_region`` with the default config, stains H-DAB (the Ki67 sets'
    stains; named since the API's default became ``auto`` in session 44, so the figures keep their meaning)."""
    from mmnst_path.aggregate import CELL_CLASSES
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    ki67: dict[str, object] = dict(KI67_SET)
    if CELL_MODEL:
        ki67["cell_model"] = CELL_MODEL
    if COUNT_IN:
        ki67["count_in"] = COUNT_IN
    mapping: dict[str, object] = {"stains": "H-DAB", **({"ki67": ki67} if ki67 else {})}
    if TISSUE_MODEL:
        mapping["necrosis"] = {"tissue_model": TISSUE_MODEL}
    config = AnalysisConfig.from_mapping(mapping)
    result = analyze_region(rgb, config, mpp=mpp)
    cells = result.cells
    names = np.asarray(CELL_CLASSES)[np.asarray(cells.cls, dtype=np.intp)]
    return Measured(np.c_[cells.row, cells.col], names.astype(str))


def match_points(det: np.ndarray, gt: np.ndarray, radius_px: float) -> np.ndarray:
    """One-to-one matches (det index, gt index) within ``radius_px``, minimising total distance."""
    from scipy.optimize import linear_sum_assignment

    if len(det) == 0 or len(gt) == 0:
        return np.empty((0, 2), dtype=np.intp)
    dist = np.sqrt(((det[:, None, :] - gt[None, :, :]) ** 2).sum(-1))
    cost = np.where(dist <= radius_px, dist, 1e9)
    i, j = linear_sum_assignment(cost)
    ok = cost[i, j] <= radius_px
    return np.stack([i[ok], j[ok]], axis=1)


def _index(pos: int, neg: int) -> float:
    return 100.0 * pos / (pos + neg) if pos + neg else math.nan


def evaluate(item: Annotated, meas: Measured, mpp: float) -> dict[str, float]:
    """Per-image numbers: indices, detection and classification scores."""
    true_idx = _index(int((item.labels == "positive").sum()), int((item.labels == "negative").sum()))
    meas_idx = _index(int((meas.cls == "positive").sum()), int((meas.cls == "negative").sum()))
    m = match_points(meas.points, item.points, MATCH_UM / mpp)
    tp, n_det, n_gt = len(m), len(meas.points), len(item.points)
    gt_lab = item.labels[m[:, 1]]
    det_pos = meas.cls[m[:, 0]] == "positive"
    # positivity accuracy of the matched tumour nuclei the index counts (a tumour nucleus the cell
    # model excluded is a detection error, seen in tF1, not a positivity error)
    tumour = (gt_lab != "lymphocyte") & np.isin(meas.cls[m[:, 0]], ("positive", "negative"))
    correct = det_pos[tumour] == (gt_lab[tumour] == "positive")
    # tumour-nucleus detection: the nuclei the index counts (positive/negative) against the
    # annotated tumour nuclei (lymphocytes and unannotated stroma are false positives here)
    in_index = np.isin(meas.cls, ("positive", "negative"))
    gt_tumour = item.labels != "lymphocyte"
    mt = match_points(meas.points[in_index], item.points[gt_tumour], MATCH_UM / mpp)
    t_det, t_gt = int(in_index.sum()), int(gt_tumour.sum())
    # excluded-by-truth split: the share of matched annotated positives / negatives / lymphocytes
    # the cell model took out of the denominator (a positivity-blind model excludes positives and
    # negatives alike; lymphocytes should be excluded)
    det_excl = meas.cls[m[:, 0]] == "excluded"
    excl = {f"ex_{k}": int((det_excl & (gt_lab == k)).sum()) for k in ("positive", "negative", "lymphocyte")}
    excl.update({f"m_{k}": int((gt_lab == k).sum()) for k in ("positive", "negative", "lymphocyte")})
    excl.update({f"gt_{k}": int((item.labels == k).sum()) for k in ("positive", "negative", "lymphocyte")})
    stages = stage_costs(true_idx, gt_lab, meas.cls[m[:, 0]], meas_idx)
    return {
        **stages,
        **excl,
        "true_idx": true_idx,
        "meas_idx": meas_idx,
        "err_pp": meas_idx - true_idx,
        "n_gt": n_gt,
        "n_det": n_det,
        "precision": tp / n_det if n_det else math.nan,
        "recall": tp / n_gt if n_gt else math.nan,
        "f1": 2 * tp / (n_det + n_gt) if n_det + n_gt else math.nan,
        "tp": tp,
        "t_tp": len(mt),
        "t_det": t_det,
        "t_gt": t_gt,
        "t_f1": 2 * len(mt) / (t_det + t_gt) if t_det + t_gt else math.nan,
        "denominator": t_det,
        "cls_acc": float(correct.mean()) if correct.size else math.nan,
        "n_cls": int(correct.size),
        "n_correct": int(correct.sum()),
    }


STAGES = ("det", "excl", "pos", "keep")


def stage_costs(true_idx: float, gt_lab: np.ndarray, det_cls: np.ndarray, meas_idx: float) -> dict[str, float]:
    """The index error (pp) split into what each stage adds, in the order the count is made.

    ``gt_lab`` / ``det_cls``: annotation and measured class of the matched pairs. ``det``: the
    true index of the detected annotated tumour nuclei minus the true index; ``excl``: the same
    over those the cell model keeps (positive / negative) minus the former; ``pos``: their
    measured index minus their true index; ``keep``: the measured index minus that (counted
    nuclei that are not annotated tumour nuclei: lymphocytes, stroma, unannotated cells).
    The four add up to the index error.
    """
    tumour = gt_lab != "lymphocyte"
    kept = tumour & np.isin(det_cls, ("positive", "negative"))
    i_det = _index(int((tumour & (gt_lab == "positive")).sum()), int((tumour & (gt_lab == "negative")).sum()))
    i_kept = _index(int((kept & (gt_lab == "positive")).sum()), int((kept & (gt_lab == "negative")).sum()))
    i_pos = _index(int((kept & (det_cls == "positive")).sum()), int((kept & (det_cls == "negative")).sum()))
    return {"cost_det": i_det - true_idx, "cost_excl": i_kept - i_det, "cost_pos": i_pos - i_kept,
            "cost_keep": meas_idx - i_pos}


def save_overlay(item: Annotated, meas: Measured, path: Path) -> None:
    """Annotations as circles (red positive, blue negative, green lymphocyte), detections as dots."""
    from PIL import Image, ImageDraw

    colours = {"positive": (255, 0, 0), "negative": (0, 150, 255), "lymphocyte": (0, 220, 0)}
    det_colours = {"positive": (255, 0, 255), "negative": (0, 255, 255), "pigment": (255, 255, 0)}
    img = Image.fromarray(item.rgb.copy())
    draw = ImageDraw.Draw(img)
    for (r, c), lab in zip(item.points, item.labels, strict=True):
        draw.ellipse([c - 7, r - 7, c + 7, r + 7], outline=colours.get(str(lab), (255, 255, 255)), width=2)
    for (r, c), lab in zip(meas.points, meas.cls, strict=True):
        draw.rectangle([c - 2, r - 2, c + 2, r + 2], fill=det_colours.get(str(lab), (128, 128, 128)))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def summarize(rows: list[dict[str, float]]) -> dict[str, float]:
    """Pooled detection scores and index MAE / Pearson r over per-image results of :func:`evaluate`."""
    defined = [r for r in rows if not math.isnan(r["true_idx"])]
    t = np.array([r["true_idx"] for r in defined])
    mv = np.array([r["meas_idx"] for r in defined])
    ok = ~np.isnan(mv)
    mae = float(np.abs(mv[ok] - t[ok]).mean()) if ok.any() else math.nan
    pearson = float(np.corrcoef(t[ok], mv[ok])[0, 1]) if ok.sum() > 2 else math.nan
    tp = sum(r["tp"] for r in rows)
    n_det = sum(r["n_det"] for r in rows)
    n_gt = sum(r["n_gt"] for r in rows)
    t_tp = sum(r["t_tp"] for r in rows)
    t_n = sum(r["t_det"] + r["t_gt"] for r in rows)
    return {
        "tumour_f1": 2 * t_tp / t_n if t_n else math.nan,
        "mae_pp": mae,
        "pearson_r": pearson,
        "precision": tp / n_det if n_det else math.nan,
        "recall": tp / n_gt if n_gt else math.nan,
        "f1": 2 * tp / (n_det + n_gt) if n_det + n_gt else math.nan,
        "cls_acc": sum(r["n_correct"] for r in rows) / max(1, sum(r["n_cls"] for r in rows)),
        "images": len(rows),
        "undefined_truth": len(rows) - len(defined),
        "n_gt": n_gt,
        **{f"excluded_{k}": sum(r[f"ex_{k}"] for r in rows) / max(1, sum(r[f"m_{k}"] for r in rows))
           for k in ("positive", "negative", "lymphocyte")},
        **{f"matched_{k}": sum(r[f"m_{k}"] for r in rows) for k in ("positive", "negative", "lymphocyte")},
        **{f"recall_{k}": (sum(r[f"m_{k}"] for r in rows) / n_k if (n_k := sum(r[f"gt_{k}"] for r in rows))
                           else math.nan) for k in ("positive", "negative", "lymphocyte")},
        **{f"cost_{k}": float(np.nanmean([r[f"cost_{k}"] for r in defined])) if defined else math.nan
           for k in STAGES},
        **{f"abs_cost_{k}": float(np.nanmean(np.abs([r[f"cost_{k}"] for r in defined]))) if defined else math.nan
           for k in STAGES},
    }


def rotated(item: Annotated, k: int) -> Annotated:
    """``item`` turned by ``k`` x 90 degrees counter-clockwise (``np.rot90``), points with it."""
    rgb, pts = item.rgb, np.asarray(item.points, np.float64)
    for _ in range(k % 4):
        pts = np.c_[rgb.shape[1] - 1 - pts[:, 1], pts[:, 0]]
        rgb = np.rot90(rgb)
    return Annotated(item.name, np.ascontiguousarray(rgb), pts, item.labels)


def run(
    folder: Path, mpp: float, engine: str, overlays: Path | None, split: bool = False, rotate: int = 0
) -> dict[str, float]:
    measure = measure_pipeline if engine == "pipeline" else measure_direct
    items = [rotated(item, rotate) for item in load_dataset(folder)]
    rows = []
    turn = f", turned {90 * rotate} degrees" if rotate % 4 else ""
    print(f"# dataset {folder.name}: {len(items)} images, mpp {mpp}, engine {engine}{turn}")
    header = f"{'image':18s} {'true%':>6s} {'meas%':>6s} {'err pp':>7s} {'n_gt':>5s} {'n_det':>5s} {'P':>5s} {'R':>5s} {'F1':>5s} {'tF1':>5s} {'denom':>5s} {'acc':>5s} {'exP':>4s} {'exN':>4s} |"
    header += " ".join(f"{k:>5s}" for k in STAGES)
    print(header)
    for item in items:
        meas = measure(item.rgb, mpp)
        res = evaluate(item, meas, mpp)
        rows.append(res)
        print(
            f"{item.name:18s} {res['true_idx']:6.1f} {res['meas_idx']:6.1f} {res['err_pp']:+7.1f} {res['n_gt']:5d}"
            f" {res['n_det']:5d} {res['precision']:5.2f} {res['recall']:5.2f} {res['f1']:5.2f} {res['t_f1']:5.2f}"
            f" {res['denominator']:5d} {res['cls_acc']:5.2f} {res['ex_positive']:4d} {res['ex_negative']:4d} |"
            + " ".join(f"{res['cost_' + k]:+5.1f}" for k in STAGES)
        )
        if overlays is not None:
            save_overlay(item, meas, overlays / folder.name / (Path(item.name).stem + ".png"))
    summary = summarize(rows)
    print(
        f"OVERALL {folder.name}: index MAE {summary['mae_pp']:.2f} pp, Pearson r {summary['pearson_r']:.3f}"
        f" ({summary['images'] - summary['undefined_truth']} images with a"
        f" defined index); detection P {summary['precision']:.3f} R {summary['recall']:.3f}"
        f" F1 {summary['f1']:.3f} (pooled over {summary['n_gt']} annotated nuclei); tumour-nucleus F1 (index nuclei vs"
        f" annotated tumour nuclei) {summary['tumour_f1']:.3f}; classification accuracy of matched"
        f" tumour nuclei {summary['cls_acc']:.3f}; excluded by the cell model: annotated positives"
        f" {summary['excluded_positive']:.3f} (of {summary['matched_positive']}), negatives"
        f" {summary['excluded_negative']:.3f} (of {summary['matched_negative']}), lymphocytes"
        f" {summary['excluded_lymphocyte']:.3f} (of {summary['matched_lymphocyte']})"
    )
    print(f"  detection recall by annotation: positive {summary['recall_positive']:.3f}, negative"
          f" {summary['recall_negative']:.3f}, lymphocyte {summary['recall_lymphocyte']:.3f}")
    print("  error by stage, mean (mean |.|) pp: "
          + ", ".join(f"{k} {summary['cost_' + k]:+.2f} ({summary['abs_cost_' + k]:.2f})" for k in STAGES))
    if split:  # tune/check halves: images at even / odd positions of the sorted list
        for half, part in (("even", rows[0::2]), ("odd", rows[1::2])):
            h = summarize(part)
            print(
                f"  {half:4s} half ({h['images']} images): index MAE {h['mae_pp']:.2f} pp, r {h['pearson_r']:.3f},"
                f" detection P {h['precision']:.3f} R {h['recall']:.3f} F1 {h['f1']:.3f}, class acc {h['cls_acc']:.3f}"
            )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "dataset_dir", type=Path, nargs="+", help="folder(s) laid out like shared/data/ki67/<name>"
    )
    parser.add_argument(
        "--mpp", type=float, default=None, help="µm per pixel (default: benchmarks/datasets.toml)"
    )
    parser.add_argument(
        "--overlays", type=Path, default=None, help="save annotated overlays under this folder"
    )
    parser.add_argument("--engine", choices=("auto", "pipeline", "direct"), default="auto")
    parser.add_argument(
        "--split",
        action="store_true",
        help="also report the even / odd image halves (tune on one, check on the other)",
    )
    parser.add_argument("--cell-model", default=None,
                        help="nucleus model for the Ki67 count: default, none or a .mmnst file")
    parser.add_argument("--count-in", choices=("all", "tumour"), default=None,
                        help="Ki67 nuclei counted in all tissue or only in the tumour region of the tissue model "
                             "(pipeline engine only; default: the config default)")
    parser.add_argument("--tissue-model", default=None,
                        help="tissue model drawing the tumour region for --count-in tumour: default or a .mmnst file")
    parser.add_argument("--ki67", action="append", default=[], metavar="KEY=VALUE",
                        help="a [ki67] parameter of the pipeline config (Ki67Params), value parsed as TOML; "
                             "repeatable, e.g. --ki67 nuclear_contrast_rule=true")
    parser.add_argument("--rotate", type=int, action="append", default=None, choices=(0, 1, 2, 3), metavar="K",
                        help="analyse the images turned by K x 90 degrees (repeatable; the MAE spread over "
                             "the turns is the measurement noise)")
    args = parser.parse_args(argv)
    global CELL_MODEL, COUNT_IN, TISSUE_MODEL
    for item in args.ki67:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--ki67 expects KEY=VALUE, got {item!r}")
        KI67_SET[key.strip()] = tomllib.loads(f"v = {value.strip()}")["v"]
    CELL_MODEL = args.cell_model
    COUNT_IN = args.count_in
    TISSUE_MODEL = args.tissue_model
    engine = args.engine
    if engine == "direct" and (COUNT_IN or TISSUE_MODEL):
        parser.error("--count-in / --tissue-model need the pipeline engine")
    if engine == "auto":
        try:
            import mmnst_path.pipeline  # noqa: F401
        except ImportError as exc:
            print(f"# pipeline unavailable ({exc}); using the direct Ki67 kernel", file=sys.stderr)
            engine = "direct"
        else:
            engine = "pipeline"
    turns = args.rotate or [0]
    for folder in args.dataset_dir:
        mpp = args.mpp if args.mpp is not None else dataset_mpp(folder)
        maes = [run(folder, mpp, engine, args.overlays if k == turns[0] else None, split=args.split,
                    rotate=k)["mae_pp"] for k in turns]
        if len(turns) > 1:
            print(f"ROTATIONS {folder.name}: index MAE " + " / ".join(f"{m:.2f}" for m in maes)
                  + f" pp (turns {turns}); mean {np.mean(maes):.2f}, range {np.ptp(maes):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
