"""Experiment (#16, session 29 H6): the pigment stage's mask on cut sub-rectangles of generated
pigmented tiles (``pigment_family_tile``, 768 px at 0.5 µm/px, saturated positives, with and
without melanin clumps, H-DAB default config): per family, seed and cut, the pixels farther than
the stage's declared reach (:func:`~mmnst_path.pipeline._reach.ki67_halo_parts` ``pigment``, 61 px)
from every cut edge whose mask differs from the whole tile's, and how far from the cut they lie.
A stage whose mask were local to that reach would print no row.

    PYTHONPATH=. python benchmarks/experiments/pigment_locality_generated.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

#: (top, bottom, left, right) pixels cut off the tile
CUTS = ((150, 0, 0, 0), (0, 0, 170, 0), (130, 140, 120, 150), (200, 0, 201, 0))
FAMILIES = ("confluent", "melanophage", "whole_cell", "coarse", "over_nucleus", "spindle")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    from mmnst_path.pipeline import AnalysisConfig
    from mmnst_path.pipeline._worker import TileJob, _pigment, ki67_halo_parts
    from mmnst_path.synthetic import pigment_family_tile

    cfg = AnalysisConfig(measures=("ki67",), stains="H-DAB")
    job = TileJob(config=cfg, matrix=cfg.stain_matrix(), measures=("ki67",), roi=None, map_px=64)
    px = math.ceil(ki67_halo_parts(cfg)["pigment"] / 0.5)
    far = 10**6  # (an uncut side: no distance)
    print("| family | seed | clumps | cut (top, bottom, left, right) px | mask px | differing px | "
          "px from the cut: min | max |\n|---|---:|---|---|---:|---:|---:|---:|")
    total = cases = 0
    for fam in FAMILIES:
        for seed in range(args.seeds):
            for clumps in (False, True):
                rgb = np.ascontiguousarray(pigment_family_tile(seed, fam, size=768, melanin_clumps=clumps,
                                                               saturated_positives=True).rgb)
                whole = np.asarray(_pigment(rgb, 0.5, job)[0], bool)
                m, n = rgb.shape[:2]
                for top, bottom, left, right in CUTS:
                    sub = np.ascontiguousarray(rgb[top : m - bottom, left : n - right])
                    part = np.asarray(_pigment(sub, 0.5, job)[0], bool)
                    r0, r1 = (px if top else 0), part.shape[0] - (px if bottom else 0)
                    c0, c1 = (px if left else 0), part.shape[1] - (px if right else 0)
                    diff = part[r0:r1, c0:c1] != whole[top + r0 : top + r1, left + c0 : left + c1]
                    cases += 1
                    if not diff.any():
                        continue
                    rr, cc = np.nonzero(diff)
                    dist = np.minimum.reduce([rr + (px if top else far), (r1 - r0 - 1 - rr) + (px if bottom else far),
                                              cc + (px if left else far), (c1 - c0 - 1 - cc) + (px if right else far)])
                    total += int(diff.sum())
                    print(f"| {fam} | {seed} | {clumps} | {(top, bottom, left, right)} | {int(whole.sum())} | "
                          f"{int(diff.sum())} | {int(dist.min())} | {int(dist.max())} |", flush=True)
    print(f"\n{cases} cuts, {total} differing pixels beyond the reach ({px} px)")


if __name__ == "__main__":
    main()
