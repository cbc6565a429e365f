"""Dev sweep for the H-DAB drawn-melanin model kept off DAB nuclei (session 42 H13, #14; dev data only).

Per tile: the pigment stage's mask, its body veto and brown bodies (captured from ``classify_pigment``), the
drawn-melanin model's probability within ``DAB_MELANIN_REACH_UM`` of the stage's mask; then each guard setting
(none = H1's candidate; the veto; the veto plus bodies the stage holds less than a share of; a growth cap) is
scored: on generated H-DAB pigment tiles (dev seeds 7000-7039 only) the drawn-truth Dice and melanin |err| of
the pigmented tiles and the false pigment of ``none``; on EndoNuke DEV tiles (fixed split,
``scripts/_pigment_endonuke.py``; no melanin: every mask pixel is false) the mean and max false pigment (% of
pixels) and the number of tiles above 0.1 %.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/dab_melanin_nuclei_dev_s42.py --first-seed 7000 --seeds 8
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from mmnst_path.classify._pigment_dab_melanin import DAB_MELANIN_PROBABILITY

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

DEV = range(7000, 7040)
SHARES = (0.0, 0.1, 0.25, 0.5)
SEEDS_UM2 = (20.0, 30.0, 50.0)
SWEEP = 2


def _capture() -> dict:
    """Wrap the stage's hand-over so that each call records (mask, veto, labels) and returns the stage's mask."""
    import mmnst_path.classify.pigment as P
    from mmnst_path.detect._pigment_gate import brown_body_labels

    seen: dict = {}

    def record(rgb, mask, *, mpp, params, background=None, stage=None, nuclei=None):
        veto, bodies, chans = nuclei
        labels = bodies.labels if bodies is not None else brown_body_labels(chans[0], chans[4], mpp, params)[0]
        seen.update(mask=mask, veto=veto, labels=labels)
        return mask

    P._stage_melanin = record
    return seen


def _settings() -> list[tuple[str, str, float, float, float, float, float]]:
    """(name, veto: "" / "veto" / "core", body share, growth cap µm, min seed µm², group µm, P(melanin)) of each
    setting; ``--sweep 1``: the guards at P 0.35, ``--sweep 2``: the chosen guard's seed and P."""
    p = DAB_MELANIN_PROBABILITY
    if SWEEP == 1:
        out = [("H1 (no guard)", "", 0.0, 0.0, 0.0, 0.0, p), ("veto + share 0.25", "veto", 0.25, 0.0, 0.0, 0.0, p),
               ("core + share 0.25", "core", 0.25, 0.0, 0.0, 0.0, p), ("share 0.25 only", "", 0.25, 0.0, 0.0, 0.0, p),
               ("cap 2 um", "", 0.0, 2.0, 0.0, 0.0, p)]
        for veto in ("veto", "core", ""):
            out += [(f"{veto or 'no veto'} + share 0.25 + group 7 um seed {a:g} um2", veto, 0.25, 0.0, a, 7.0, p)
                    for a in SEEDS_UM2]
        return out
    out = [("H1 (no guard)", "", 0.0, 0.0, 0.0, 0.0, p)]
    for veto in ("veto", ""):
        out += [(f"{veto or 'no veto'} + share 0.25 + group 7 um seed {a:g} um2 P {t:g}", veto, 0.25, 0.0, a, 7.0, t)
                for a in (10.0, 20.0) for t in (0.2, 0.25, 0.3)]
    return out


def _masks(rgb, mpp, seen, model):
    from mmnst_path.classify._pigment_dab_melanin import (
        DAB_MELANIN_REACH_UM,
        _disk,
        dab_melanin_mask,
        dab_nuclei,
        stage_seeds,
    )
    from scipy import ndimage as ndi

    stage = seen["mask"]
    out = {"stage": stage}
    if not stage.any():
        return dict.fromkeys(["stage", *(s[0] for s in _settings())], stage)
    _, prob = dab_melanin_mask(rgb, stage, mpp=mpp, model=model, min_seed_um2=0.0)
    labels, veto_mask = seen["labels"], seen["veto"]
    core = None
    if veto_mask is not None and labels is not None and labels.any():
        n = int(labels.max())
        inside = np.bincount(labels.ravel(), weights=veto_mask.ravel().astype(np.float64), minlength=n + 1)
        dab = inside > 0.5 * np.bincount(labels.ravel(), minlength=n + 1)
        dab[0] = False
        core = np.take(dab, labels)
    for name, veto, share, cap, seed, group, t in _settings():
        v = {"veto": veto_mask, "core": core, "": None}[veto]
        avoid = dab_nuclei(stage, veto=v, labels=labels, min_share=share)
        m = (prob >= t) & ~avoid
        if cap > 0:
            m &= ndi.binary_dilation(stage, structure=_disk(max(1, round(cap / mpp))))
        if seed > 0:
            seeds, small = stage_seeds(stage, mpp=mpp, min_seed_um2=seed, group_um=group)
            m = (m & ndi.binary_dilation(seeds, structure=_disk(max(1, round(DAB_MELANIN_REACH_UM / mpp))))) | small
        out[name] = m
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first-seed", type=int, default=7000)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--endonuke-every", type=int, default=1, help="every k-th EndoNuke DEV tile")
    ap.add_argument("--no-generated", action="store_true")
    ap.add_argument("--sweep", type=int, default=2, choices=(1, 2), help="1: the guards; 2: seed and P")
    args = ap.parse_args()
    global SWEEP
    SWEEP = args.sweep
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if not set(seeds) <= set(DEV):
        ap.error(f"dev seeds are 7000-7039, got {seeds.start}-{seeds.stop - 1}")
    from _pigment_endonuke import endonuke_files
    from mmnst_path.classify._pigment_dab_melanin import resolve_dab_melanin_model
    from PIL import Image

    from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams
    from mmnst_path.stain import get_preset
    from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

    seen = _capture()
    stage_model, model = resolve_pigment_model("default"), resolve_dab_melanin_model("default")
    params, stains = PigmentParams(), get_preset("H-DAB")
    names = ["stage", *(s[0] for s in _settings())]
    gen: dict[str, list] = {k: [] for k in names}
    if not args.no_generated:
        for seed in seeds:
            for fam in PIGMENT_FAMILIES:
                tile = pigment_family_tile(seed, fam, chromogen="dab", size=384, drawn_melanin=True)
                tissue, truth = tile.masks["tissue"], tile.masks["melanin_drawn"]
                n = float(tissue.sum())
                seen.clear()
                classify_pigment(tile.rgb, mpp=tile.mpp, model=stage_model, stains=stains, params=params)
                if not seen:
                    seen.update(mask=np.zeros(truth.shape, bool), veto=None, labels=None)
                for k, m in _masks(tile.rgb, tile.mpp, seen, model).items():
                    m = m & tissue
                    s = int(m.sum()) + int(truth.sum())
                    d = 2.0 * int((m & truth).sum()) / s if s and truth.any() else math.nan
                    gen[k].append((fam, d, 100.0 * (int(m.sum()) - int(truth.sum())) / n,
                                   100.0 * float((m & ~truth).sum()) / n))
            print(f"seed {seed} done", flush=True)
        print("| setting | Dice pigmented | melanin |err| pp | signed | false % none |")
        for k in names:
            pig = [v for v in gen[k] if v[0] != "none"]
            none = [v[3] for v in gen[k] if v[0] == "none"]
            print(f"| {k} | {np.nanmean([v[1] for v in pig]):.4f} | {np.mean([abs(v[2]) for v in pig]):.4f} | "
                  f"{np.mean([v[2] for v in pig]):+.4f} | {np.mean(none):.4f} |", flush=True)
    files = endonuke_files(Path("/work/shared/train"), ("dev",))[:: args.endonuke_every]
    real: dict[str, list[float]] = {k: [] for k in names}
    for path, mpp in files:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        seen.clear()
        classify_pigment(rgb, mpp=mpp, model=stage_model, stains=stains, params=params)
        if not seen:
            seen.update(mask=np.zeros(rgb.shape[:2], bool), veto=None, labels=None)
        for k, m in _masks(rgb, mpp, seen, model).items():
            real[k].append(100.0 * float(m.mean()))
    print(f"EndoNuke DEV tiles: {len(files)}")
    print("| setting | mean % | max % | tiles > 0.1 % | top 3 |")
    for k in names:
        v = np.array(real[k])
        top = ", ".join(f"{files[i][0].name[:18]} {v[i]:.4f}" for i in np.argsort(-v)[:3])
        print(f"| {k} | {v.mean():.6f} | {v.max():.6f} | {(v > 0.1).sum()} | {top} |", flush=True)


if __name__ == "__main__":
    main()
