"""Dev screen of detector settings for pale nuclei on EndoNuke's DEV part (session 43 H4).

Usage: ``PYTHONPATH=. python benchmarks/experiments/ki67_pale_detection_dev_s43.py --endonuke ../shared/train/endonuke
[--set KEY=VALUE ...]`` (``[nuclei]`` parameters; repeatable; one variant per run).

EndoNuke (CC BY 4.0; real ER/PR IHC) DEV part = the ``mixed`` images outside the nucleus model's validation
part (``keep_gate_endonuke_s33.val_images(part="dev")``), 0.5 µm/px, through ``analyze_region`` (H-DAB, Ki67
only). Detections are matched one-to-one to the keypoints within 4 µm. Printed: detection recall per keypoint
class (stroma / epithelium / other), precision (matched detections / detections), and the counted epithelium and
stroma (positive or negative) per matched keypoint. Pale nuclei are what the real sets' missed negatives are; this
data is the dev side (no research-only tile is read).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from keep_gate_endonuke_s33 import _value, match, val_images  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endonuke", type=Path, required=True)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args(argv)
    from PIL import Image

    from mmnst_path.aggregate import CELL_CLASSES
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    nuclei = {k: _value(v) for k, v in (s.split("=", 1) for s in args.set)}
    config = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], **({"nuclei": nuclei} if nuclei else {})})
    names = {0: "stroma", 1: "epithelium", 2: "other"}
    n_gt = dict.fromkeys(names.values(), 0)
    n_hit = dict.fromkeys(names.values(), 0)
    n_cnt = dict.fromkeys(names.values(), 0)
    n_det = n_tp = 0
    for path, mpp in val_images(args.endonuke, "dev"):
        rows = [ln.split() for ln in path.with_suffix(".txt").read_text().splitlines() if ln.strip()]
        gt = np.array([(float(r[1]), float(r[0])) for r in rows]).reshape(-1, 2)
        cls = np.array([names.get(int(r[2]), "other") for r in rows])
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        cells = analyze_region(rgb, config, mpp=mpp).cells
        det = np.c_[cells.row, cells.col]
        lab = np.asarray(CELL_CLASSES)[np.asarray(cells.cls, np.intp)]
        i, j = match(det, gt, 4.0 / mpp)
        n_det += len(det)
        n_tp += len(i)
        for k in names.values():
            n_gt[k] += int((cls == k).sum())
            n_hit[k] += int((cls[j] == k).sum())
            n_cnt[k] += int(((cls[j] == k) & np.isin(lab[i], ("positive", "negative"))).sum())
    print(f"variant {nuclei or 'HEAD'}: precision {n_tp / max(1, n_det):.4f} ({n_det} detections); recall "
          + ", ".join(f"{k} {n_hit[k] / max(1, n_gt[k]):.4f} (of {n_gt[k]})" for k in names.values())
          + "; counted per keypoint " + ", ".join(f"{k} {n_cnt[k] / max(1, n_gt[k]):.4f}" for k in names.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
