"""Melanin, necrosis and Ki67-with-pigment on generated tiles with known truth.

Seeds, stain-vector perturbation (3–6°), pigment load and JPEG quality vary over the runs so
the numbers do not reflect one generator setting. Prints per-tile truth, ours, error, pixel
Dice, and for Ki67 tiles the index without the pigment mask (naive: brown = positive) and
with it (ours).

    .venv/bin/python benchmarks/eval_melanin.py --seeds 4
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from mmnst_path import synthetic
from mmnst_path.quantify.melanin import measure_melanin, melanin_metrics
from mmnst_path.quantify.necrosis import measure_necrosis, necrosis_metrics


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2 * np.count_nonzero(a & b) / max(1, np.count_nonzero(a) + np.count_nonzero(b)))


# Ki67-with-pigment variations: (name, kwargs of synthetic.ki67_pigment_tile)
KI67_VARIANTS = (
    ("base", {}),
    ("light pigment 0.3", {"pigmented_cells": 0.3}),
    ("heavy pigment 0.9", {"pigmented_cells": 0.9}),
    ("big granules 1.6 µm", {"granule_um": 1.6}),
    ("vectors 6°", {"angle_deg": 6.0}),
    ("no JPEG", {"jpeg_quality": None}),
    ("JPEG q70", {"jpeg_quality": 70}),
)


def ki67_table(n_seeds: int) -> None:
    """Naive (no pigment handling: brown = positive) vs ours (pigment_mask -> measure_ki67), and
    ours with the true melanin mask, on generated melanin-over-negative Ki67 tiles."""
    from mmnst_path.detect.pigment import pigment_masks
    from mmnst_path.quantify.ki67 import ki67_metrics, measure_ki67

    print("\nKi67 with melanin over negative cells (index %; err = ours - truth, pp)")
    print(f"{'variant':22s} seed  truth  naive   ours    err  truemask  pigment  mel-dice  mel-err-pp")
    errs, naive_errs = [], []
    for name, kw in KI67_VARIANTS:
        for seed in range(n_seeds):
            rng = np.random.default_rng(2000 + seed)
            base = {"positive_fraction": float(rng.uniform(0.05, 0.4)), "pigmented_cells": 0.6}
            t = synthetic.ki67_pigment_tile(seed, **{**base, **kw})
            tight, m = pigment_masks(t.rgb, mpp=t.mpp, stains="H-DAB")  # wide mask for Ki67
            tr = t.truth["ki67_index_pct"]
            naive = ki67_metrics(measure_ki67(t.rgb, mpp=t.mpp).counts)["index_pct"]
            region = measure_ki67(t.rgb, mpp=t.mpp, pigment_mask=m)
            ours = ki67_metrics(region.counts)["index_pct"]
            true_mask = ki67_metrics(measure_ki67(t.rgb, mpp=t.mpp, pigment_mask=t.masks["melanin"]).counts)
            tissue = t.masks["tissue"]
            mel_err = 100.0 * (np.count_nonzero(tight & tissue) - np.count_nonzero(t.masks["melanin"])) / tissue.sum()
            errs.append(ours - tr)
            naive_errs.append(naive - tr)
            print(f"{name:22s} {seed:4d} {tr:6.1f} {naive:6.1f} {ours:6.1f} {ours - tr:+6.1f} {true_mask['index_pct']:9.1f}"
                  f" {region.counts.pigment:8d} {dice(tight, t.masks['melanin']):9.2f} {mel_err:+11.2f}")
    e, ne = np.abs(errs), np.abs(naive_errs)
    print(f"ours: |err| mean {e.mean():.2f} pp, max {e.max():.2f} pp, within 2 pp {np.mean(e <= 2):.0%}; "
          f"naive: |err| mean {ne.mean():.1f} pp, min {ne.min():.1f} pp")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    for seed in range(args.seeds):
        rng = np.random.default_rng(1000 + seed)
        ang, q = float(rng.uniform(3, 6)), int(rng.choice([75, 85, 95]))
        t = synthetic.he_melanin_tile(seed, angle_deg=ang, jpeg_quality=q, n_pigmented=int(rng.integers(30, 90)))
        c, m = measure_melanin(t.rgb, mpp=t.mpp, stains="H&E")
        pct = melanin_metrics(c)["melanin_fraction_pct"]
        tr = t.truth["melanin_fraction_pct"]
        print(f"H&E melanin  seed {seed} ang {ang:.1f} q{q}: truth {tr:5.2f} %  ours {pct:5.2f} %  "
              f"err {pct - tr:+5.2f} pp  dice {dice(m, t.masks['melanin']):.2f}")
        t = synthetic.he_necrosis_tile(seed, angle_deg=ang, jpeg_quality=q, mpp=(1.0, 0.5)[seed % 2],
                                       necrosis_fraction=float(rng.uniform(0.2, 0.6)))
        c, mask, mmpp = measure_necrosis(t.rgb, mpp=t.mpp)
        f = round(mmpp / t.mpp)
        tm = t.masks["necrosis"][::f, ::f][: mask.shape[0], : mask.shape[1]]
        pct = necrosis_metrics(c)["necrosis_fraction_pct"]
        tr = t.truth["necrosis_fraction_pct"]
        print(f"H&E necrosis seed {seed}: truth {tr:5.2f} %  ours {pct:5.2f} %  err {pct - tr:+5.2f} pp  "
              f"dice {dice(mask, tm):.2f}")
    ki67_table(args.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
