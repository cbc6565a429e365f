"""Where the detector loses the annotated negatives it misses (session 43 H4; diagnosis only).

Usage: ``PYTHONPATH=. python benchmarks/experiments/ki67_missed_negatives_s43.py DATASET_DIR...``

Each tile is resampled to 0.5 µm/px as the pipeline does, and the detector's steps
(:func:`mmnst_path.detect.nuclei._labels_of`) are replayed with the default parameters and the
H-DAB preset. For every annotated tumour nucleus the pipeline's analysis did not match (within
6 µm) and for the matched ones, the step that decides it: ``no fg`` (the background-subtracted
``H + 0.5 DAB`` under ``foreground_od`` at its centre), ``no seed`` (foreground, but no LoG
seed within 3 µm: its pixels join a neighbour's watershed region or a seedless component),
``too big`` / ``too small`` (its region, with the contour cut, outside [25, 250] µm²), or
``kept`` (a region holds it after the area limits: the miss is a matching offset). Printed per
set with the median background, raw signal and background-subtracted signal at the centres.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import accuracy as acc  # noqa: E402
import ki67_error_sources_s43 as src_mod  # noqa: E402


def main(argv: list[str]) -> int:
    from mmnst_path.detect import nuclei as nu
    from mmnst_path.detect._nucleus_filters import _minus_background
    from mmnst_path.detect._nucleus_params import NucleusParams
    from mmnst_path.io._resample import resize_area

    params = NucleusParams()
    mpp = 0.5
    for folder in map(Path, argv):
        src_mpp = acc.dataset_mpp(folder)
        tally: dict[str, Counter[str]] = {"missed": Counter(), "matched": Counter()}
        vals: dict[str, list[tuple[float, float, float]]] = {"missed": [], "matched": []}
        for item in acc.load_dataset(folder):
            cells, names = src_mod.measure(item.rgb, src_mpp)
            _, _, s = src_mod.tile_sources(item, cells, names, src_mpp, src_mod._masks(folder, item.name, 0))
            f = src_mpp / mpp
            shape = (round(item.rgb.shape[0] * f), round(item.rgb.shape[1] * f))
            small = resize_area(item.rgb, shape)
            hem, dab = nu.stain_planes(small)
            hem_pos, dab_pos = np.maximum(hem, 0).astype(np.float32), np.maximum(dab, 0).astype(np.float32)
            sigma = params.smooth_sigma_um / mpp
            side = 2 * max(1, round(params.background_radius_um / mpp)) + 1
            h_s = nu._gaussian(hem_pos, sigma)
            hem_sig = _minus_background(h_s, side)
            dab_sig = _minus_background(nu._gaussian(dab_pos, sigma), side)
            fg = hem_sig + np.float32(params.dab_weight) * dab_sig
            seeds = []
            for plane, c0 in ((hem_sig, params.contrast_od), (dab_sig, params.dab_contrast_od)):
                _, r, c = nu._log_seeds(nu._compress(plane.copy(), c0), tuple(x / mpp for x in params.nucleus_radius_um),
                                        params.seed_suppression, params.seed_min_response)
                seeds.append(np.c_[r, c])
            seeds_all = np.concatenate(seeds)
            # regions before the area limits: replay with limits opened
            wide = NucleusParams(min_area_um2=0.0, max_area_um2=1e9)
            labels_wide, _ = nu._labels_of(hem_pos, dab_pos, mpp, wide)
            area = np.bincount(labels_wide.ravel()) * mpp * mpp
            labels_kept, _ = nu._labels_of(hem_pos, dab_pos, mpp, params)
            for j, lab in enumerate(item.labels):
                if lab == "lymphocyte" or not s["gt"][j]:
                    continue
                key = "missed" if s["gt"][j].startswith("miss") else "matched"
                r = int(np.clip(round((item.points[j, 0] + 0.5) * f - 0.5), 0, shape[0] - 1))
                c = int(np.clip(round((item.points[j, 1] + 0.5) * f - 0.5), 0, shape[1] - 1))
                win = (slice(max(0, r - 2), r + 3), slice(max(0, c - 2), c + 3))
                if fg[win].max() < params.foreground_od:
                    step = "no fg"
                elif not (np.abs(seeds_all - (r, c)).max(1) <= 6).any():
                    step = "no seed"
                elif labels_kept[win].max() > 0:
                    step = "kept"
                else:
                    a = area[labels_wide[win].max()] if labels_wide[win].max() > 0 else 0.0
                    step = "too big" if a > params.max_area_um2 else "too small"
                tally[key][step] += 1
                bg = float(h_s[r, c] - hem_sig[r, c])
                vals[key].append((float(h_s[r, c]), bg, float(fg[win].max())))
        for key in ("missed", "matched"):
            v = np.array(vals[key]) if vals[key] else np.zeros((0, 3))
            med = np.median(v, axis=0) if len(v) else [np.nan] * 3
            print(f"{folder.name} {key:8s} n={len(v):4d} steps {dict(tally[key])}; median H {med[0]:.3f},"
                  f" background {med[1]:.3f}, fg signal {med[2]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
