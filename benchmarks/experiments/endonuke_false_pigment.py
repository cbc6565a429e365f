"""Pigment (melanin) marked on the real EndoNuke ER/PR tiles, which hold DAB and no melanin (session 27 H2, #14).

EndoNuke (Naumov et al., Data 2022, CC BY 4.0) is in the body model's training data as real DAB bodies, so this
is not an independent validation: it shows how much of real dark DAB the shipped pigment stage still calls
melanin (every marked pixel is false pigment). Tiles are read as the body model's training reads them (``mixed``
at 0.5 µm/px, ``staining_ds`` halved to 0.5 µm/px), with the pipeline's default H-DAB pigment path.

    PYTHONPATH=. python benchmarks/experiments/endonuke_false_pigment.py default /tmp/candidate_bodies.mmnst
    PYTHONPATH=. python benchmarks/experiments/endonuke_false_pigment.py default --look worst.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parents[1] / "scripts")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("body_models", nargs="+", help="'default' or body model files")
    ap.add_argument("--look", type=Path, default=None, help="PNG of the 4 worst tiles of the first model (rgb | cyan)")
    args = ap.parse_args()

    import dab_darkness
    from eval_pigment_dab import detect

    from mmnst_path.classify.pigment import resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams

    pixel_model = resolve_pigment_model("dab")
    print("| body model | tiles | false pigment mean / max (% of pixels) | tiles > 0.1 % |")
    print("|---|---:|---|---:|")
    for k, spec in enumerate(args.body_models):
        params = PigmentParams() if spec == "default" else PigmentParams(body_model=spec)
        res = []
        for _, rgb, mpp, *_ in dab_darkness.endonuke_tiles(None):
            mask = detect(rgb, mpp, "H-DAB", "model", pixel_model, params)
            res.append((100.0 * float(mask.mean()), rgb, mask))
        pct = np.array([r[0] for r in res])
        print(f"| {spec} | {len(pct)} | {pct.mean():.3f} / {pct.max():.2f} | {int((pct > 0.1).sum())} |", flush=True)
        if k == 0 and args.look is not None:
            from PIL import Image

            res.sort(key=lambda r: -r[0])
            side = 200
            panels = []
            for _, rgb, mask in res[:4]:
                over = rgb.copy()
                over[mask] = (0.5 * over[mask] + 0.5 * np.array([0, 255, 255])).astype(np.uint8)
                for a in (rgb, over):
                    a = a[:side, :side]
                    panels.append(np.pad(a, ((0, side - a.shape[0]), (0, side - a.shape[1] + 4), (0, 0)),
                                         constant_values=255))
            Image.fromarray(np.concatenate(panels, axis=1)).save(args.look)


if __name__ == "__main__":
    main()
