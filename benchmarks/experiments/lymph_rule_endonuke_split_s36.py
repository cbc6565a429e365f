"""Session 36 H2, after gate 1 failed (diagnosis only): which EndoNuke VAL epithelial nuclei the lymphocyte rule
takes out, per part (``mixed`` at 0.5 µm/px, ``staining_ds`` at 0.25 µm/px).

One ``analyze_region`` run of the candidate tree (as ``keep_gate_endonuke_s33.py``); a decided epithelial
nucleus is "taken by the rule" when its type is lymphocyte while its P(tumour) >= 0.2 (1.2.0's decision
would have kept it).

    PYTHONPATH=. python benchmarks/experiments/lymph_rule_endonuke_split_s36.py --endonuke ../shared/train/endonuke
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keep_gate_endonuke_s33 import match, val_images


def main() -> int:
    from PIL import Image

    from mmnst_path.aggregate import CELL_CLASSES, CELL_TYPES
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endonuke", type=Path, required=True)
    args = ap.parse_args()
    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]})
    rows: dict[str, list] = {"mixed": [], "staining_ds": []}
    for path, mpp in val_images(args.endonuke, "val"):
        pts = np.loadtxt(path.with_suffix(".txt"), ndmin=2)
        if pts.size == 0:
            continue
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cells = analyze_region(rgb, cfg, mpp=mpp).cells
        if len(cells) == 0 or "tumour_probability" not in cells.columns:
            continue  # no tissue tile in this image
        cls = np.asarray(CELL_CLASSES)[np.asarray(cells.cls, dtype=np.intp)].astype(str)
        i, j = match(np.c_[cells.row, cells.col], pts[:, [1, 0]].astype(float), 4.0 / mpp)
        decided = np.isin(cls[i], ("positive", "negative", "excluded"))
        lab = pts[j, 2].astype(int)
        p_t = np.asarray(cells.columns["tumour_probability"])[i]
        typ = np.asarray(CELL_TYPES)[np.asarray(cells.columns["cell_type"], dtype=np.intp)][i]
        area = np.asarray(cells.columns["area_um2"])[i]
        for k in np.flatnonzero(decided):
            rows[path.parent.name].append((lab[k], cls[i][k] == "excluded", typ[k] == "lymphocyte" and p_t[k] >= 0.2,
                                           area[k], cls[i][k] == "positive"))
    for part, r in rows.items():
        a = np.array(r, dtype=float)
        for name, c in (("epithelium", 1), ("stroma", 0)):
            m = a[:, 0] == c
            rule = m & (a[:, 2] > 0)
            print(f"{part} {name}: decided {int(m.sum())}, excluded {100 * a[m, 1].mean():.4f} %, taken by the "
                  f"lymphocyte rule {100 * rule.sum() / m.sum():.4f} % (median area {np.median(a[rule, 3]) if rule.any() else float('nan'):.1f} "
                  f"vs {np.median(a[m, 3]):.1f} µm² all; positive among them {int((rule & (a[:, 4] > 0)).sum())})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
