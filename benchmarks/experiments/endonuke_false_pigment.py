"""Pigment (melanin) marked on the real EndoNuke ER/PR tiles, which hold DAB and no melanin (session 27 H2, #14).

EndoNuke (Naumov et al., Data 2022, CC BY 4.0) is in the body model's training data as real DAB bodies, so this
is not an independent validation: it shows how much of real dark DAB the shipped pigment stage still calls
melanin (every marked pixel is false pigment). Tiles are read as the body model's training reads them (``mixed``
at 0.5 µm/px, ``staining_ds`` halved to 0.5 µm/px), with the pipeline's default H-DAB pigment path.

    PYTHONPATH=. python benchmarks/experiments/endonuke_false_pigment.py default /tmp/candidate_bodies.mmnst
    PYTHONPATH=. python benchmarks/experiments/endonuke_false_pigment.py default --look worst.png

Session 28: ``--parts train dev val`` also gives the figures per part of the fixed EndoNuke split
(``scripts/_pigment_endonuke.py``; a pixel model trained with ``--endonuke-parts train`` has never seen VAL),
``--pixel-model FILE`` reads another pixel model (pass the body model trained on it: a body model of another
pixel model is not used), ``--csv FILE`` writes every tile's figure.

    PYTHONPATH=. python benchmarks/experiments/endonuke_false_pigment.py /tmp/bodies.mmnst --pixel-model /tmp/pix.mmnst \
        --parts train dev val --csv /tmp/fp.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parents[1] / "scripts")]


def _value(text: str) -> float | str:
    """A ``--set`` value: a number when it reads as one, else the text (a model name or file)."""
    try:
        return float(text)
    except ValueError:
        return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("body_models", nargs="+", help="'default' or body model files")
    ap.add_argument("--look", type=Path, default=None, help="PNG of the 4 worst tiles of the first model (rgb | cyan)")
    ap.add_argument("--pixel-model", default="dab", help="the pixel model ('dab': the shipped one, or a file)")
    ap.add_argument("--parts", nargs="*", default=[], choices=("train", "dev", "val"),
                    help="also a row per part of the fixed EndoNuke split (only the tiles of these parts are read)")
    ap.add_argument("--csv", type=Path, default=None, help="per-tile CSV: model, tile, part, false pigment %%")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="PigmentParams values for every body model (numbers; session 37: model_grow_um=1; "
                         "session 39: text too, release_model=FILE)")
    args = ap.parse_args()
    extra = {k: _value(v) for k, v in (s.split("=", 1) for s in args.set)}

    import dab_darkness
    from _pigment_endonuke import endonuke_split
    from _training_data import read_rgb
    from eval_pigment_dab import detect

    from mmnst_path.classify.pigment import resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams

    pixel_model = resolve_pigment_model(args.pixel_model)
    split = endonuke_split(dab_darkness.TRAIN)
    tiles = [(key, k) for key in sorted(split) for sub, k in (("mixed", 1.0), ("staining_ds", 0.5))
             if key.startswith(f"endonuke/{sub}/") and (not args.parts or split[key] in args.parts)]
    print(f"pixel model {args.pixel_model} ({pixel_model.model_id})")
    print("| body model | part | tiles | false pigment mean / max (% of pixels) | tiles > 0.1 % |")
    print("|---|---|---:|---|---:|")
    lines = ["model,tile,part,false_pigment_pct"]
    for k, spec in enumerate(args.body_models):
        params = PigmentParams(**extra) if spec == "default" else PigmentParams(body_model=spec, **extra)
        res = []
        for key, scale in tiles:
            rgb = dab_darkness._resample(read_rgb(dab_darkness.TRAIN / key), scale)
            mask = detect(rgb, 0.5, "H-DAB", "model", pixel_model, params)
            res.append((100.0 * float(mask.mean()), rgb, mask))
            lines.append(f"{spec},{key},{split[key]},{res[-1][0]:.4f}")
        pct = np.array([r[0] for r in res])
        part = np.array([split[key] for key, _ in tiles])
        for name in ["all", *args.parts]:
            sel = pct if name == "all" else pct[part == name]
            print(f"| {spec} | {name} | {len(sel)} | {sel.mean():.3f} / {sel.max():.2f} | {int((sel > 0.1).sum())} |",
                  flush=True)
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
    if args.csv is not None:
        args.csv.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
