"""Melanin pixel masks on H-DAB pigment families and false pigment on real tiles (issue #14).

Fast check of a pigment detector without the rest of the pipeline: per family of
:func:`mmnst_path.synthetic.pigment_family_tile` (DAB), over many held-out seeds, the melanin Dice,
the melanin fraction error (mask over tissue minus truth, pp) and the share of true DAB-positive
nucleus pixels (without melanin over them) called melanin; then the false-pigment share of the
pixels of every real Ki67 tile (BCData, SHIDC, DeepLIIF: research-only, validation only) and real
H&E tile of ``../shared/data``. The melanin truth (Dice, error) is the pigment as drawn, before the
optical blur (``--truth drawn``, the default since session 39, as :mod:`eval_pigment_families`; ``--truth
seen``: the blurred one read before); ``--csv`` writes both. The DAB-nucleus pixels are those without
blurred melanin over them under either truth.

    .venv/bin/python benchmarks/eval_pigment_dab.py --seeds 8 --first-seed 0          # shipped model
    .venv/bin/python benchmarks/eval_pigment_dab.py --detector rules                   # the rules
    .venv/bin/python benchmarks/eval_pigment_dab.py --model /tmp/m.mmnst --no-families
    .venv/bin/python benchmarks/eval_pigment_dab.py --body-model none                  # the share rule
    .venv/bin/python benchmarks/eval_pigment_dab.py --appearance plain                  # or wide
    .venv/bin/python benchmarks/eval_pigment_dab.py --white-point   # OD against each tile's glass colour
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
from eval_pigment_families import TRUTHS, truth_columns, write_csv  # benchmarks/ is on sys.path as a script

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams, pigment_masks
from mmnst_path.synthetic import APPEARANCES, PIGMENT_FAMILIES, pigment_family_tile

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: real melanin-free sets: (folder glob, µm/px, stain preset); mpp of the Ki67 sets: datasets.toml
REAL = {"bcdata": ("ki67/bcdata/*.png", 0.25, "H-DAB"), "shidc": ("ki67/shidc/*.jpg", 0.21, "H-DAB"),
        "deepliif": ("ki67/deepliif/*.png", 0.31, "H-DAB"), "he_necrosis": ("necrosis/*.jpg", 1.0, "H&E"),
        "ihc": ("ihc/*.png", 0.5, "H-DAB")}


def detect(rgb: np.ndarray, mpp: float, stains: str, detector: str, model, params: PigmentParams,
           white_point: bool = False) -> np.ndarray:
    """Melanin mask of one tile; ``white_point``: optical density against the tile's glass colour
    (:func:`mmnst_path.stain.guess.estimate_white_point`, 255 where none is visible)."""
    background = None
    if white_point:
        from mmnst_path.stain.guess import estimate_white_point

        background = estimate_white_point(rgb, None)
    if detector == "rules" or (detector == "model" and not params.uses_model(stains)):
        # what the pipeline does: the rules where the model is not used (H&E by default)
        return pigment_masks(rgb, mpp=mpp, stains=stains, params=params, background=background)[0]
    return classify_pigment(rgb, mpp=mpp, model=model, stains=None if detector == "raw" else stains,
                            params=params, background=background)[0]


def families(args, model, params) -> list[dict]:
    rows = []
    for fam in args.families:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            tile = pigment_family_tile(seed, fam, chromogen="dab", size=args.size, appearance=args.appearance,
                                       drawn_melanin=True)
            t0 = time.perf_counter()
            mel = detect(tile.rgb, tile.mpp, "H-DAB", args.detector, model, params, args.white_point)
            sec = time.perf_counter() - t0
            m = mel & tile.masks["tissue"]
            pos = tile.masks["positive_nuclei"] & ~tile.masks["melanin"]
            cols = truth_columns(tile, mel, args.truth)
            rows.append({"family": fam, "seed": seed, "sec": sec, "dice": cols["dice"], "err": cols["mask_err"],
                         "pos_hit": 100.0 * (m & pos).sum() / max(1, pos.sum()),
                         **{f"{k}_{t}": cols[f"{k}_{t}"] for t in TRUTHS for k in ("mel_true", "dice", "mask_err")}})
    return rows


def table(rows: list[dict]) -> str:
    out = ["| family | n | Dice mean / min | melanin err mean abs / worst (pp) | DAB-nucleus px called melanin mean / max (%) | s/tile |",
           "|---|---:|---|---|---|---:|"]
    for fam in dict.fromkeys(r["family"] for r in rows):
        sel = [r for r in rows if r["family"] == fam]
        d = np.array([r["dice"] for r in sel if not math.isnan(r["dice"])])
        e = np.array([r["err"] for r in sel])
        p = np.array([r["pos_hit"] for r in sel])
        dt = f"{d.mean():.2f} / {d.min():.2f}" if d.size else "n/a"
        out.append(f"| {fam} | {len(sel)} | {dt} | {np.abs(e).mean():.2f} / {e[np.argmax(np.abs(e))]:+.2f} | "
                   f"{p.mean():.2f} / {p.max():.2f} | {np.mean([r['sec'] for r in sel]):.2f} |")
    d = np.array([r["dice"] for r in rows if not math.isnan(r["dice"])])
    e = np.array([r["err"] for r in rows])
    out.append(f"| all | {len(rows)} | {d.mean():.2f} / {d.min():.2f} | {np.abs(e).mean():.2f} / "
               f"{e[np.argmax(np.abs(e))]:+.2f} | {np.mean([r['pos_hit'] for r in rows]):.2f} / "
               f"{np.max([r['pos_hit'] for r in rows]):.2f} | |")
    return "\n".join(out)


def real(args, model, params) -> str:
    from PIL import Image

    out = ["| set | tiles | µm/px | false pigment mean / max (% of pixels) | worst tile |", "|---|---:|---:|---|---|"]
    for name, (pattern, native_mpp, stains) in REAL.items():
        mpp = native_mpp if args.analysis_mpp is None else args.analysis_mpp
        vals = []
        for f in sorted(DATA.glob(pattern)):
            rgb = np.asarray(Image.open(f).convert("RGB"))
            if args.analysis_mpp is not None:  # as the pipeline reads them (area resampling)
                from mmnst_path.io._resample import resize_area

                k = native_mpp / args.analysis_mpp
                rgb = resize_area(rgb, (max(1, round(rgb.shape[0] * k)), max(1, round(rgb.shape[1] * k))))
            vals.append((100.0 * float(detect(rgb, mpp, stains, args.detector, model, params,
                                                      args.white_point).mean()), f.name))
        if vals:
            v = np.array([x for x, _ in vals])
            out.append(f"| {name} ({stains}) | {len(v)} | {mpp:g} | {v.mean():.3f} / {v.max():.3f} | "
                       f"{max(vals)[1]} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detector", choices=("model", "raw", "rules"), default="model",
                    help="model: classify_pigment with the stain matrix where PigmentParams.uses_model, else the "
                         "rules (as the pipeline); raw: the model "
                         "without the stain matrix; rules: pigment_masks")
    ap.add_argument("--model", default="default", help="pigment model: 'default' or a file")
    ap.add_argument("--min-probability", type=float, default=None)
    ap.add_argument("--body-veto", action="store_true", help="PigmentParams.model_body_veto = True")
    ap.add_argument("--body-share", type=float, default=None, help="PigmentParams.model_body_share")
    ap.add_argument("--model-min-od", type=float, default=None, help="PigmentParams.model_min_od")
    ap.add_argument("--body-model", default=None,
                    help="PigmentParams.body_model: 'default' (shipped), 'none' (the share rule) or a file")
    ap.add_argument("--body-min-probability", type=float, default=None, help="PigmentParams.body_min_probability")
    ap.add_argument("--appearance", choices=APPEARANCES, default="varied", help="generated tiles' rendering")
    ap.add_argument("--white-point", action="store_true",
                    help="optical density against each tile's glass colour instead of 255")
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--families", nargs="*", default=[f for f in PIGMENT_FAMILIES if f != "none"] + ["none"])
    ap.add_argument("--no-families", action="store_true")
    ap.add_argument("--truth", default="drawn", choices=tuple(TRUTHS),
                    help="melanin truth: as drawn, before the optical blur (default), or the blurred ('seen') one")
    ap.add_argument("--csv", type=Path, default=None, help="write the family rows (both truths) to this CSV")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--analysis-mpp", type=float, default=None,
                    help="resample the real tiles to this µm/px first (the pipeline reads them at 0.5)")
    args = ap.parse_args()
    kw: dict = {"model_body_veto": args.body_veto}
    if args.model_min_od is not None:
        kw["model_min_od"] = args.model_min_od
    if args.body_share is not None:
        kw["model_body_share"] = args.body_share
    if args.body_model is not None:
        kw["body_model"] = args.body_model
    if args.body_min_probability is not None:
        kw["body_min_probability"] = args.body_min_probability
    if args.min_probability is not None:
        kw["min_probability"] = args.min_probability
    params = PigmentParams(**kw)
    model = None if args.detector == "rules" else resolve_pigment_model(args.model)
    print(f"detector {args.detector}, model {args.model}, body model {params.body_model}, {args.appearance}, white point {'glass' if args.white_point else 255}, seeds {args.first_seed}..{args.first_seed + args.seeds - 1}")
    if not args.no_families:
        rows = families(args, model, params)
        print(table(rows), flush=True)
        if args.csv:
            write_csv(args.csv, rows)
    if not args.no_real:
        print(real(args, model, params))


if __name__ == "__main__":
    main()
