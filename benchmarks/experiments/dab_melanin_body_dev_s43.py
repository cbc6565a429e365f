"""Dev scores of guards on the H-DAB drawn-melanin model from ``dab_melanin_body_cache_s43.py``'s cache
(session 43 H1, #14; dev data only).

Generated tiles: drawn-truth Dice and melanin |err| (pp of tissue) over the pigmented tiles, false % on ``none``.
EndoNuke (no melanin: every mask pixel is false): per tile the pixels the guard adds over the stage (% of the
tile's pixels): mean, max, tiles with > 0.01 / 0.05 %, and the mask's tiles above 0.1 %.

    PYTHONPATH=. python benchmarks/experiments/dab_melanin_body_dev_s43.py /tmp/cache
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from mmnst_path.classify._pigment_dab_melanin import DAB_MELANIN_REACH_UM, _disk, dab_nuclei, stage_seeds
from scipy import ndimage as ndi


def guarded(d, *, t: float, share: float = 0.25, seed: float = 20.0, body_q: float = 0.0,
            body_all: bool = False, out_q: float | None = None, ratio: float = 0.0,
            min_part_um2: float = 0.0) -> np.ndarray:
    """The melanin mask of one setting: P >= ``t`` within the reach of the seed groups, off the bodies of which
    the stage holds < ``share`` (all bodies with ``body_all``), and off the bodies the stage holds (>= share)
    whose body-model melanin probability is < ``body_q``; ``out_q``: the same guard also keeps the model off
    every pixel within the reach of a seed group lying (>= half) on such bodies."""
    stage, labels, p, mpp = d["stage"], d["labels"], d["body_p"], float(d["mpp"])
    if not stage.any():
        return stage
    prob = d["prob"].astype(np.float32)
    avoid = dab_nuclei(stage, veto=None, labels=labels, min_share=1.0 if body_all else share)
    low = None
    if body_q > 0 and labels.any() and len(p):
        bad = np.concatenate([[False], ~(np.nan_to_num(p, nan=1.0) >= body_q)])
        low = np.take(bad, labels) & (labels > 0)
        avoid = avoid | (low & ~stage)
    m = (prob >= t) & ~avoid
    seeds, small = stage_seeds(stage, mpp=mpp, min_seed_um2=seed)
    if out_q is not None and low is not None and seeds.any():
        lab, n = ndi.label(ndi.binary_dilation(seeds, structure=_disk(round(7.0 / mpp))), structure=np.ones((3, 3)))
        lab = np.where(seeds, lab, 0)
        tot = np.bincount(lab.ravel(), minlength=n + 1)
        on = np.bincount(lab.ravel(), weights=(low & seeds).ravel().astype(float), minlength=n + 1)
        stay = on >= out_q * np.maximum(tot, 1)
        stay[0] = False
        frozen = np.take(stay, lab)
        small = small | frozen
        seeds = seeds & ~frozen
    if min_part_um2 > 0 and seeds.any():  # a seed group needs one 8-connected part of at least this area
        lab, n = ndi.label(ndi.binary_dilation(seeds, structure=_disk(round(7.0 / mpp))), structure=np.ones((3, 3)))
        part, k = ndi.label(seeds, structure=np.ones((3, 3)))
        big = np.bincount(part.ravel(), minlength=k + 1) * mpp * mpp >= min_part_um2
        big[0] = False
        ok = np.zeros(n + 1, bool)
        ok[np.unique(lab[np.take(big, part)])] = True
        ok[0] = False
        keep = np.take(ok, lab) & seeds
        small = small | (seeds & ~keep)
        seeds = keep
    reach = ndi.binary_dilation(seeds, structure=_disk(max(1, round(DAB_MELANIN_REACH_UM / mpp)))) if seeds.any() \
        else np.zeros(stage.shape, bool)
    out = (m & reach) | small
    if ratio > 0 and out.any():  # a connected part of the mask grown more than ``ratio`` x its stage pixels reverts
        lab, n = ndi.label(out | stage, structure=np.ones((3, 3)))
        st = np.bincount(lab.ravel(), weights=stage.ravel().astype(float), minlength=n + 1)
        add = np.bincount(lab.ravel(), weights=(out & ~stage).ravel().astype(float), minlength=n + 1)
        back = add > ratio * st
        back[0] = False
        rev = np.take(back, lab)
        out = (out & ~rev) | (stage & rev)
    return out


def settings():
    yield "stage", None
    yield "H13 (share .25 seed 20 P .25)", {"t": 0.25}
    yield "H13 at P .35", {"t": 0.35}
    for t in (0.25, 0.2):
        yield f"all bodies, P {t}", {"t": t, "body_all": True}
    for r in (1.0, 2.0, 3.0, 4.0):
        yield f"all bodies, ratio {r}, P 0.25", {"t": 0.25, "body_all": True, "ratio": r}
    for a in (5.0, 10.0, 20.0):
        yield f"all bodies, part {a} um2, P 0.25", {"t": 0.25, "body_all": True, "min_part_um2": a}
        yield f"all bodies, part {a} um2, P 0.2", {"t": 0.2, "body_all": True, "min_part_um2": a}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cache", type=Path)
    ap.add_argument("--gen", default="gen_*", help="glob of generated tiles")
    ap.add_argument("--real", default="endev_*", help="glob of EndoNuke tiles")
    ap.add_argument("--top", type=int, default=3)
    ap.add_argument("--only", default="", help="regex: the settings whose name matches")
    ap.add_argument("--family", action="store_true", help="also Dice / signed melanin err per family")
    args = ap.parse_args()
    gen = [(f.stem, dict(np.load(f))) for f in sorted(args.cache.glob(args.gen + ".npz"))]
    real = [(f.stem, dict(np.load(f))) for f in sorted(args.cache.glob(args.real + ".npz"))]
    print(f"generated tiles {len(gen)}, EndoNuke tiles {len(real)}")
    print("| setting | Dice | mel abs err pp | signed | false % none | EN added mean % | max % | > 0.01 % | > 0.05 % "
          "| mask > 0.1 % | top |")
    import re

    for name, kw in settings():
        if args.only and not re.search(args.only, name):
            continue
        dice, err, none = [], [], []
        for stem, d in gen:
            m = d["stage"] if kw is None else guarded(d, **kw)
            tissue, truth = d["tissue"], d["truth"]
            m = m & tissue
            n = float(tissue.sum())
            if stem.endswith("_none"):
                none.append(100.0 * float((m & ~truth).sum()) / n)
                continue
            s = int(m.sum()) + int(truth.sum())
            dice.append(2.0 * int((m & truth).sum()) / s if s and truth.any() else math.nan)
            err.append(100.0 * (int(m.sum()) - int(truth.sum())) / n)
        if args.family:
            fams = sorted({stem.split("_", 2)[2] for stem, _ in gen} - {"none"})
            per = {f: [(d_, e_) for (stem, _), d_, e_ in zip([g for g in gen if not g[0].endswith("_none")], dice, err,
                                                                strict=True) if stem.endswith("_" + f)] for f in fams}
            print(f"  {name}: " + "; ".join(f"{f} {np.nanmean([v[0] for v in per[f]]):.4f} "
                                            f"{np.mean([v[1] for v in per[f]]):+.3f}" for f in fams))
        add, tot = [], []
        for _stem, d in real:
            m = d["stage"] if kw is None else guarded(d, **kw)
            add.append(100.0 * float((m & ~d["stage"]).mean()))
            tot.append(100.0 * float(m.mean()))
        a, tt = np.array(add), np.array(tot)
        top = ", ".join(f"{real[i][0][6:]} +{a[i]:.3f}" for i in np.argsort(-a)[: args.top]) if len(a) else ""
        print(f"| {name} | {np.nanmean(dice):.4f} | {np.mean(np.abs(err)):.4f} | {np.mean(err):+.4f} | "
              f"{np.mean(none) if none else math.nan:.4f} | {a.mean() if len(a) else math.nan:.5f} | "
              f"{a.max() if len(a) else math.nan:.4f} | {(a > 0.01).sum()} | {(a > 0.05).sum()} | {(tt > 0.1).sum()} "
              f"| {top} |", flush=True)


if __name__ == "__main__":
    main()
