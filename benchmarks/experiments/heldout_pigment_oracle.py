"""Ceilings of the pigment stage for the held-out renderer's Ki67 (issue #14, session 25 H3). DEV SEEDS ONLY.

Each renderer tile goes through :func:`mmnst_path.pipeline.analyze_region` as in ``eval_heldout.py`` (H-DAB), with
the pigment stage partly replaced by the renderer's truth (read as a black box: its melanin mask only):

- ``--mode mask``: the pigment mask is the TRUE melanin (resampled to the stage's µm/px and placed at the centre of
  its halo-padded image), i.e. the Ki67 read a perfect pigment detector would give;
- ``--mode body``: only the brown-body decision is an oracle (a body is melanin when the true melanin covers at
  least half of it; nothing decided before the forest), with the shipped pixel model and gate: the ceiling of
  any body model;
- ``--mode none``: the pipeline as it is (checks the wiring: it reproduces ``eval_heldout.py``).

Every tile prints the correlation of the tile's RGB, placed the same way, with the stage's image (1.000 when
the truth is aligned). Never use it on the rule's seeds (0-11) for a choice.

    PYTHONPATH=. python benchmarks/experiments/heldout_pigment_oracle.py --first-seed 100 --seeds 12 --mode mask
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval_heldout
import heldout_render

import mmnst_path.classify._pigment_bodies as bodies_mod
import mmnst_path.classify.pigment as pigment_mod

_STATE: dict[str, Any] = {}


def _place(img: np.ndarray, shape: tuple[int, ...], mpp: float, resample: Any) -> tuple[np.ndarray, int, int]:
    """The tile image resampled to ``mpp`` and centred in a zero image of ``shape`` (the stage's halo)."""
    n = round(img.shape[0] * _STATE["tile_mpp"] / mpp)
    small = np.asarray(Image.fromarray(img).resize((n, n), resample))
    out = np.zeros((shape[0], shape[1], *small.shape[2:]), small.dtype)
    o = (shape[0] - n) // 2
    out[o:o + n, o:o + n] = small
    return out, o, n


def _truth_at(shape: tuple[int, ...], mpp: float) -> np.ndarray:
    return _place(_STATE["truth"].astype(np.uint8) * 255, shape, mpp, Image.NEAREST)[0] > 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first-seed", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=12)
    ap.add_argument("--mode", choices=("mask", "body", "none"), default="mask")
    args = ap.parse_args()
    if args.first_seed < 12:
        raise SystemExit(f"--first-seed {args.first_seed}: seeds 0-11 are the rule's; use dev seeds (e.g. 100)")
    classify, prepare, body_prob = (pigment_mod.classify_pigment, bodies_mod.prepare_bodies,
                                    bodies_mod.body_melanin_probability)

    def oracle_classify(rgb: np.ndarray, **kw: Any) -> tuple[np.ndarray, np.ndarray]:
        mask, prob = classify(rgb, **kw)
        placed, o, n = _place(_STATE["rgb"], mask.shape, kw["mpp"], Image.BILINEAR)
        a, b = placed[o:o + n, o:o + n, 0].ravel(), rgb[o:o + n, o:o + n, 0].ravel()
        _STATE["corr"].append(float(np.corrcoef(a.astype(float), b.astype(float))[0, 1]))
        return (_truth_at(mask.shape, kw["mpp"]) if args.mode == "mask" else mask), prob

    def oracle_prepare(*a: Any, **kw: Any) -> Any:
        b = prepare(*a, **kw)
        _STATE.update(labels=b.labels, n=b.n, stage_mpp=kw["mpp"])
        return replace(b, decided=np.zeros(b.n, dtype=bool))

    def oracle_prob(x: np.ndarray, model: Any) -> np.ndarray:
        lab, n = _STATE.get("labels"), _STATE.get("n", 0)
        if lab is None or len(x) != n:
            return body_prob(x, model)
        truth = _truth_at(lab.shape, _STATE["stage_mpp"])
        area = np.maximum(np.bincount(lab.ravel(), minlength=n + 1)[1:], 1)
        mel = np.bincount(lab.ravel(), weights=truth.ravel().astype(float), minlength=n + 1)[1:]
        return (mel >= 0.5 * area).astype(np.float32)

    pigment_mod.classify_pigment = oracle_classify  # type: ignore[assignment]
    if args.mode == "body":
        bodies_mod.prepare_bodies = oracle_prepare  # type: ignore[assignment]
        pigment_mod.prepare_bodies = oracle_prepare  # type: ignore[attr-defined]
        bodies_mod.body_melanin_probability = oracle_prob  # type: ignore[assignment]
        pigment_mod.body_melanin_probability = oracle_prob  # type: ignore[attr-defined]
    render = heldout_render.render

    def render_and_keep(*a: Any, **kw: Any) -> Any:
        tile = render(*a, **kw)
        _STATE.update(truth=tile.melanin, rgb=tile.rgb, tile_mpp=tile.mpp, corr=[], labels=None)
        return tile

    eval_heldout.render = render_and_keep  # type: ignore[assignment]
    errs = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        r = eval_heldout.run_one(seed, "random", size=512, stains="H-DAB")
        errs.append(r["err"])
        print(f"| {seed} | {r['morph']} | {r['ki67_true']:.1f} | {r['ki67_meas']:.1f} | {r['err']:+.1f} | "
              f"{r['mel_meas']:.2f} / {r['mel_true']:.2f} | {r['hidden_positive']} of {r['hidden_true']} | "
              f"{min(_STATE['corr'], default=float('nan')):.3f} |", flush=True)
    print(f"mode {args.mode}: Ki67 MAE {np.mean(np.abs(errs)):.2f} over {len(errs)} tiles")


if __name__ == "__main__":
    main()
