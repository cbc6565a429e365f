"""Where DAB melanin is lost in ``classify_pigment`` (issue #14, session 19 H2's diagnosis).

For each generated H-DAB pigment-family tile (:func:`mmnst_path.synthetic.pigment_family_tile`) the
recall of the TRUE melanin mask at each stage: the pixel model's candidates (total OD >= 0.2), the
pixel model alone (p >= 0.5, no gate), the gate (:func:`mmnst_path.detect.pigment.pigment_gate`,
brown >= ``model_min_od``), the model inside the gate and the final mask (body veto and cluster
test), with the final precision and Dice. ``--oracle`` also runs ``classify_pigment`` with an
oracle body decision (a brown body is melanin when the truth covers >= half of it): the Dice a
perfect body model would reach with the same pixel model and gate. ``--overlays DIR`` writes
RGB | truth vs final (green found, magenta missed, cyan false) | pixel probability | gate (green).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/dab_melanin_stages.py --families sparse dusty spindle
    PYTHONPATH=. .venv/bin/python benchmarks/experiments/dab_melanin_stages.py --oracle --set model_min_od=0.2
    PYTHONPATH=. .venv/bin/python benchmarks/experiments/dab_melanin_stages.py --model PIX.mmnst \
        --set model_min_od=0.2 body_model=none
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

import mmnst_path.classify._pigment_bodies as bodies_mod
import mmnst_path.classify.pigment as pigment_mod
from mmnst_path.classify.pigment import classify_pigment, pigment_probability, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams, pigment_gate
from mmnst_path.stain import load_stains
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile


class _Oracle:
    """Replaces the body model's decision by the truth (``truth`` set per tile) while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.truth: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.n = 0
        self._prepare = bodies_mod.prepare_bodies
        self._prob = bodies_mod.body_melanin_probability

    def prepare(self, *args: Any, **kwargs: Any) -> Any:
        b = self._prepare(*args, **kwargs)
        self.labels, self.n = b.labels, b.n
        return replace(b, decided=np.zeros(b.n, dtype=bool)) if self.on else b

    def prob(self, x: np.ndarray, model: Any) -> np.ndarray:
        if not self.on or len(x) != self.n or self.labels is None or self.truth is None:
            return self._prob(x, model)
        area = np.maximum(np.bincount(self.labels.ravel(), minlength=self.n + 1)[1:], 1)
        mel = np.bincount(self.labels.ravel(), weights=self.truth.ravel().astype(float), minlength=self.n + 1)[1:]
        return (mel >= 0.5 * area).astype(np.float32)


def _value(text: str) -> float | str:
    """A ``--set`` value: a number where it reads as one (thresholds), else the text (``body_model``)."""
    try:
        return float(text)
    except ValueError:
        return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", nargs="*", default=[f for f in PIGMENT_FAMILIES if f != "none"])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--oracle", action="store_true", help="also the Dice with an oracle body decision")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="PigmentParams values")
    ap.add_argument("--overlays", type=Path, default=None)
    ap.add_argument("--model", default="dab", help="H-DAB pixel model: 'dab' (shipped) or a file")
    args = ap.parse_args()
    params = PigmentParams.from_mapping({k: _value(v) for k, v in (s.split("=", 1) for s in args.set)})
    oracle = _Oracle()
    bodies_mod.prepare_bodies = oracle.prepare  # type: ignore[assignment]
    bodies_mod.body_melanin_probability = oracle.prob  # type: ignore[assignment]
    pigment_mod.prepare_bodies = oracle.prepare  # type: ignore[attr-defined]
    model = resolve_pigment_model(args.model)
    stains = load_stains("H-DAB")
    print("| tile | truth % | candidates | model alone | gate | model and gate | final | final precision | Dice |"
          + (" oracle Dice |" if args.oracle else ""))
    dice_all: dict[str, list[tuple[float, float]]] = {}
    for fam in args.families:
        for seed in range(args.seeds):
            tile = pigment_family_tile(seed, fam, chromogen="dab", size=args.size)
            truth, tissue = tile.masks["melanin"], tile.masks["tissue"]
            n = max(int(truth.sum()), 1)
            gate, _ = pigment_gate(tile.rgb, mpp=tile.mpp, stains=stains, params=params, bodies=False,
                                   min_od=params.model_min_od)
            prob, cand = pigment_probability(tile.rgb, mpp=tile.mpp, model=model)
            oracle.on, oracle.truth = False, truth
            final, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains, params=params)
            final &= tissue

            def recall(m: np.ndarray, truth: np.ndarray = truth, n: int = n) -> float:
                return float((m & truth).sum()) / n

            dice = 2.0 * float((final & truth).sum()) / max(int(final.sum()) + n, 1)
            row = (f"| {fam} {seed} | {100.0 * n / tissue.sum():.2f} | {recall(cand):.2f} | {recall(prob >= 0.5):.2f} | "
                   f"{recall(gate):.2f} | {recall(gate & (prob >= 0.5)):.2f} | {recall(final):.2f} | "
                   f"{float((final & truth).sum()) / max(int(final.sum()), 1):.2f} | {dice:.2f} |")
            odice = float("nan")
            if args.oracle:
                oracle.on = True
                best, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains=stains, params=params)
                best &= tissue
                oracle.on = False
                odice = 2.0 * float((best & truth).sum()) / max(int(best.sum()) + n, 1)
                row += f" {odice:.2f} |"
            dice_all.setdefault(fam, []).append((dice, odice))
            print(row, flush=True)
            if args.overlays is not None:
                from PIL import Image

                args.overlays.mkdir(parents=True, exist_ok=True)
                ov = tile.rgb.copy()
                ov[truth & final] = (0, 200, 0)
                ov[truth & ~final] = (255, 0, 255)
                ov[final & ~truth] = (0, 200, 255)
                gated = tile.rgb.copy()
                gated[gate] = (0.5 * gated[gate] + (0, 127, 0)).astype(np.uint8)
                grey = np.repeat((255 * prob)[..., None], 3, axis=2).astype(np.uint8)
                Image.fromarray(np.concatenate([tile.rgb, ov, grey, gated], axis=1)).save(
                    args.overlays / f"{fam}_{seed}.png")
    print("\n| family | Dice mean" + (" | oracle Dice mean |" if args.oracle else " |"))
    for fam, v in dice_all.items():
        a = np.asarray(v)
        print(f"| {fam} | {a[:, 0].mean():.2f}" + (f" | {a[:, 1].mean():.2f} |" if args.oracle else " |"))
    a = np.asarray([x for v in dice_all.values() for x in v])
    print(f"| all | {a[:, 0].mean():.3f}" + (f" | {a[:, 1].mean():.3f} |" if args.oracle else " |"))


if __name__ == "__main__":
    main()
