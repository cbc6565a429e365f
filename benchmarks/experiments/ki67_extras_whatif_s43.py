"""What-if for the largest source (diagnosis only, nothing chosen from it): leave counted nuclei out by size or P(tumour).

Usage: ``PYTHONPATH=. python benchmarks/experiments/ki67_extras_whatif_s43.py DATASET_DIR...``

For each real set (validation only): per-nucleus separation (AUC) of the counted nuclei with no annotated tumour
nucleus ("extras") from the counted annotated ones, by P(tumour) and by area relative to the tile's median counted
area; and the set's index MAE if every counted nucleus under a cut were left out of the index, for a grid of cuts
named here before the run (rel. area 0.5 / 0.6 / 0.7 / 0.8; P(tumour) 0.3 / 0.35 / 0.4 / 0.45). It shows whether a
per-nucleus exclusion of that kind can help one set without hurting another; no cut is a candidate.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import accuracy as acc  # noqa: E402
import ki67_error_sources_s43 as src_mod  # noqa: E402


def auc(a: np.ndarray, b: np.ndarray) -> float:
    """P(a random ``a`` < a random ``b``) (ties half)."""
    if len(a) == 0 or len(b) == 0:
        return math.nan
    return float((a[:, None] < b[None, :]).mean() + 0.5 * (a[:, None] == b[None, :]).mean())


def main(argv: list[str]) -> int:
    cuts = [("rel_area", v) for v in (0.5, 0.6, 0.7, 0.8)] + [("p_tumour", v) for v in (0.3, 0.35, 0.4, 0.45)]
    for folder in map(Path, argv):
        mpp = acc.dataset_mpp(folder)
        ex_p, an_p, ex_a, an_a = [], [], [], []
        errs: dict[tuple[str, float] | None, list[float]] = {c: [] for c in [None, *cuts]}
        for item in acc.load_dataset(folder):
            cells, names = src_mod.measure(item.rgb, mpp)
            masks = src_mod._masks(folder, item.name, 0)
            _, _, s = src_mod.tile_sources(item, cells, names, mpp, masks)
            counted = np.isin(names, ("positive", "negative"))
            area = np.asarray(cells.columns["area_um2"], float)
            rel = area / np.median(area[counted]) if counted.any() else area
            p = np.asarray(cells.columns["tumour_probability"], float)
            extra = np.char.startswith(s["det"].astype(str), "extra") & counted
            annot = counted & ~extra
            ex_p.append(p[extra]), an_p.append(p[annot]), ex_a.append(rel[extra]), an_a.append(rel[annot])
            tum = item.labels != "lymphocyte"
            t = src_mod._index((item.labels[tum] == "positive").sum(), (item.labels[tum] == "negative").sum())
            if math.isnan(t):
                continue
            for c in errs:
                keep = counted.copy()
                if c is not None:
                    keep &= ~((rel if c[0] == "rel_area" else p) < c[1])
                m = src_mod._index((keep & (names == "positive")).sum(), (keep & (names == "negative")).sum())
                errs[c].append(m - t)
        ep, ap, ea, aa = (np.concatenate(x) for x in (ex_p, an_p, ex_a, an_a))
        print(f"{folder.name}: extras {len(ep)}, annotated counted {len(ap)}; AUC extras lower than annotated: "
              f"P(tumour) {auc(ep, ap):.3f}, rel. area {auc(ea, aa):.3f}; medians P {np.median(ep):.2f} / "
              f"{np.median(ap):.2f}, rel. area {np.median(ea):.2f} / {np.median(aa):.2f}")
        for c, e in errs.items():
            e_arr = np.array(e)
            name = "HEAD" if c is None else f"{c[0]} < {c[1]}"
            print(f"  {name:16s} MAE {np.abs(e_arr).mean():.2f}  mean signed {e_arr.mean():+.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
