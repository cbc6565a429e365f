"""Session 43 H11 (#14), diagnosis only: which condition of the Ki67 / SOX10 double-stain call fails on the SOX10
Fast Red tiles session 43 H7's walk found read H-FastRed / H-AEC by ``--stains auto`` (defect 3: seeds 42008, 42204;
walk seeds, no gate). Follows :func:`mmnst_path.stain.guess.guess_stains_detail` step by step on the tissue thumbnail
the pipeline guesses on, and prints every condition of ``_nuclear_double`` with its value and limit.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/double_stain_sox10_miss_diag_s43.py 42008 42204
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from mmnst_path.io import ArrayReader
from mmnst_path.stain import guess as G
from mmnst_path.stain.chromogen_model import by_chromogen_model
from mmnst_path.stain.dab_bodies import by_dab_model
from mmnst_path.stain.places import chromogen_places
from mmnst_path.synthetic_double import double_stain_tile
from mmnst_path.tiling import detect_tissue


def main(seeds: list[int]) -> None:
    warnings.simplefilter("ignore")
    for seed in seeds:
        t = double_stain_tile(seed, marker="nuclear", chromogen="fast_red", size=512)
        tt = detect_tissue(ArrayReader(t.rgb, mpp=t.mpp), mask_mpp=8.0)
        rgb, tissue, mpp = tt.thumbnail, tt.mask, tt.mask_mpp
        tissue = tissue if np.any(tissue) else None
        truth = {k: v for k, v in t.truth.items() if isinstance(v, (int, float, str))}
        print(f"== seed {seed}: thumbnail {rgb.shape[:2]} at {mpp:.2f} µm/px; truth {truth}")
        colour = G._colour_guess(rgb, tissue)
        print(f"colour guess {colour.name} (amb {colour.ambiguous}) deg {colour.chromogen_deg:+.1f} "
              f"pink {colour.pink_share:.3f} p_he {colour.he_probability:.3f}: {colour.reason}")
        p = chromogen_places(rgb, tissue, float(mpp), colour.white_point)
        if p is None:
            print("no places")
            continue
        print(f"places: brown {p.brown_bodies_mm2:.0f} red {p.red_bodies_mm2:.0f} DAB-holding {p.dab_bodies_mm2:.0f} "
              f"/mm², ring {p.red_ring_share:.3f}, deg DAB-holding {p.dab_body_deg:+.1f} other {p.other_body_deg:+.1f} "
              f"red {p.red_body_deg:+.1f} brown {p.brown_body_deg:+.1f}")
        apart = p.dab_body_deg - p.other_body_deg
        conds = [
            ("colour guess looked at by rule (3)", colour.name in ("H-AEC", "H-FastRed", "H&E")
             or (colour.name == "H-DAB" and G.SOX10_AEC), colour.name, "H-AEC / H-FastRed / H&E"),
            ("no MART-1 ring call", not (p.red_ring_share >= G.DOUBLE_RING_SHARE
                                        and p.brown_bodies_mm2 >= G.DOUBLE_BROWN_BODIES_MM2),
             f"ring {p.red_ring_share:.3f}, brown {p.brown_bodies_mm2:.0f}", "not both"),
            ("DAB-holding bodies", p.dab_bodies_mm2 >= G.SOX10_DAB_BODIES_MM2, f"{p.dab_bodies_mm2:.1f}",
             f">= {G.SOX10_DAB_BODIES_MM2}"),
            ("red bodies", p.red_bodies_mm2 >= G.SOX10_RED_BODIES_MM2, f"{p.red_bodies_mm2:.1f}",
             f">= {G.SOX10_RED_BODIES_MM2}"),
            ("apart (DAB-holding minus other)", apart >= G.SOX10_APART_DEG, f"{apart:+.2f}", f">= {G.SOX10_APART_DEG}"),
            ("DAB-holding angle", p.dab_body_deg >= G.SOX10_DAB_MIN_DEG, f"{p.dab_body_deg:+.2f}",
             f">= {G.SOX10_DAB_MIN_DEG}"),
            ("brown per DAB-holding", p.brown_bodies_mm2 <= G.SOX10_BROWN_PER_DAB * p.dab_bodies_mm2,
             f"{p.brown_bodies_mm2 / max(p.dab_bodies_mm2, 1e-9):.2f}", f"<= {G.SOX10_BROWN_PER_DAB}"),
            ("Fast Red marker", colour.name in ("H-FastRed", "H&E") or colour.pink_share >= G.SOX10_FAST_RED_PINK
             or G.SOX10_AEC, f"{colour.name}, pink {colour.pink_share:.3f}", f"H-FastRed / H&E or pink >= "
             f"{G.SOX10_FAST_RED_PINK}"),
        ]
        for name, ok, value, limit in conds:
            print(f"  {'ok  ' if ok else 'FAIL'} {name}: {value} ({limit})")
        g = G._by_places(colour, p, True)
        g = by_chromogen_model(g)
        g = by_dab_model(g, [(rgb, tissue)], float(mpp))
        final = G.guess_stains_detail(rgb, tissue, mpp=mpp)
        print(f"after places + models: {g.name} (amb {g.ambiguous}); guess_stains_detail: {final.name} "
              f"(amb {final.ambiguous}): {final.reason}")
        for scale in (1.0,):  # the full tile too (0.5 µm/px), as a check of resolution
            full = G.guess_stains_detail(t.rgb, None, mpp=t.mpp)
            pf = full.places
            print(f"full tile ({scale}): {full.name}; " + ("" if pf is None else
                  f"DAB-holding {pf.dab_bodies_mm2:.0f} red {pf.red_bodies_mm2:.0f} brown {pf.brown_bodies_mm2:.0f} "
                  f"apart {pf.dab_body_deg - pf.other_body_deg:+.2f} deg {pf.dab_body_deg:+.1f}"))


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or [42008, 42204])
