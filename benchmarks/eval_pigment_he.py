"""H&E melanin pixels: generated pigment families and false pigment on real H&E (issue #14).

Fast check of an H&E pigment detector without the rest of the pipeline (the pipeline's own
figures: ``eval_pigment_families.py --chromogens eosin``). Per family of
:func:`mmnst_path.synthetic.pigment_family_tile` (``chromogen="eosin"``), over many held-out seeds
(training uses 1000.. and 2000..), the melanin Dice over tissue and the melanin fraction error
(mask over tissue minus truth, pp); then the share of the pixels called melanin on every real
melanin-free H&E tile: the 15 osteosarcoma tiles of ``../shared/data/necrosis`` (1 µm/px; the
ones ``scripts/train_pigment_model.py --chromogens eosin`` trains on are marked), the BRCA-M2C
*test* patches (0.5 µm/px; the model trains on the train split only) and 1024² crops of the two H&E
slides of ``../shared/data/wsi`` (CMU-1 at 0.5 µm/px; the TCGA slide has no pixel size: read as
0.5 µm/px). The melanin truth (Dice, error) is the pigment as drawn, before the optical blur (``--truth
drawn``, the default since session 39, as :mod:`eval_pigment_families`; ``--truth seen``: the blurred one read
before); ``--csv`` writes both.

    .venv/bin/python benchmarks/eval_pigment_he.py --seeds 6                         # pipeline default
    .venv/bin/python benchmarks/eval_pigment_he.py --seeds 6 --detector rules        # the rules
    .venv/bin/python benchmarks/eval_pigment_he.py --model mmnst_path/models/pigment_he.mmnst
    .venv/bin/python benchmarks/eval_pigment_he.py --appearance wide --mpp 1.0 --no-real
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import time
from pathlib import Path

import numpy as np
from eval_pigment_families import TRUTHS, truth_columns, write_csv  # benchmarks/ is on sys.path as a script

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams, pigment_masks
from mmnst_path.synthetic import APPEARANCES, PIGMENT_FAMILIES, pigment_family_tile

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
TRAIN = ROOT.parent / "shared" / "train"


def _trained_osteo() -> set[str]:
    """Osteosarcoma tiles the H&E pigment model trains on (``train_pigment_model.HE_OSTEO_TRAIN``)."""
    spec = importlib.util.spec_from_file_location("_train_pigment", ROOT / "scripts" / "train_pigment_model.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return set(getattr(mod, "HE_OSTEO_TRAIN", ()))


def detect(rgb: np.ndarray, mpp: float, detector: str, model, params: PigmentParams) -> np.ndarray:
    """Melanin mask of one H&E tile: ``rules`` (:func:`pigment_masks`), ``model`` (the pipeline's
    choice: the model where ``params.uses_model("H&E")``, else the rules) or ``raw`` (the model
    without the stain gate)."""
    if detector == "rules" or (detector == "model" and not params.uses_model("H&E")):
        return pigment_masks(rgb, mpp=mpp, stains="H&E", params=params)[0]
    return classify_pigment(rgb, mpp=mpp, model=model, stains=None if detector == "raw" else "H&E",
                            params=params)[0]


def families(args, model, params) -> list[dict]:
    rows = []
    for fam in args.families:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            size = round(args.size * 0.5 / args.mpp)
            tile = pigment_family_tile(seed, fam, chromogen="eosin", size=size, mpp=args.mpp,
                                       appearance=args.appearance, hard_negatives=args.hard_negatives,
                                       drawn_melanin=True)
            t0 = time.perf_counter()
            mel = detect(tile.rgb, tile.mpp, args.detector, model, params)
            sec = time.perf_counter() - t0
            cols = truth_columns(tile, mel, args.truth)
            rows.append({"family": fam, "seed": seed, "sec": sec, "dice": cols["dice"], "err": cols["mask_err"],
                         **{f"{k}_{t}": cols[f"{k}_{t}"] for t in TRUTHS for k in ("mel_true", "dice", "mask_err")}})
    return rows


def table(rows: list[dict]) -> str:
    out = ["| family | n | Dice mean / min | melanin err mean abs / worst (pp) | s/tile |", "|---|---:|---|---|---:|"]
    groups = [(fam, [r for r in rows if r["family"] == fam]) for fam in dict.fromkeys(r["family"] for r in rows)]
    for fam, sel in [*groups, ("all", rows)]:
        d = np.array([r["dice"] for r in sel if not math.isnan(r["dice"])])
        e = np.array([r["err"] for r in sel])
        dt = f"{d.mean():.2f} / {d.min():.2f}" if d.size else "n/a"
        out.append(f"| {fam} | {len(sel)} | {dt} | {np.abs(e).mean():.2f} / {e[np.argmax(np.abs(e))]:+.2f} | "
                   f"{np.mean([r['sec'] for r in sel]):.2f} |")
    return "\n".join(out)


def real_tiles(crop: int = 1024, training: bool = False) -> list[tuple[str, str, np.ndarray, float]]:
    """(set, name, rgb, µm/px) of every real melanin-free H&E tile used here; ``training``: also the
    Kather tiles and the BRCA-M2C val split (for leave-one-source-out checks: the shipped model
    trains on the Kather tiles)."""
    from PIL import Image

    out = []
    if training:
        for p in sorted((TRAIN / "kather_nct_crc_he").glob("*/*")):
            if p.suffix in (".tif", ".png", ".jpg"):
                out.append(("kather nct (trained)", p.name, np.asarray(Image.open(p).convert("RGB")), 0.5))
        for p in sorted((TRAIN / "kather_texture_2016").glob("*/*.png")):
            out.append(("kather 2016 (trained)", p.name, np.asarray(Image.open(p).convert("RGB")), 0.331))
        for name in (TRAIN / "brca_m2c" / "_meta" / "brca_ds_val.txt").read_text().split():
            out.append(("brca_m2c val", name, np.asarray(Image.open(TRAIN / "brca_m2c" / "mixed" / name).convert("RGB")),
                        0.5))
    trained = _trained_osteo()
    for p in sorted((DATA / "necrosis").glob("*.jpg")):
        tag = "osteo (trained)" if p.name in trained else "osteo (held out)"
        out.append((tag, p.name, np.asarray(Image.open(p).convert("RGB")), 1.0))
    test = (TRAIN / "brca_m2c" / "_meta" / "brca_ds_test.txt").read_text().split()
    for name in test:
        p = TRAIN / "brca_m2c" / "mixed" / name
        if p.exists():
            out.append(("brca_m2c test", name, np.asarray(Image.open(p).convert("RGB")), 0.5))
    import tifffile

    for slide in ("CMU-1-Small-Region.svs", "tcga-cr-7395-01a-01-ts1.svs"):
        path = DATA / "wsi" / slide
        if not path.exists():
            continue
        img = tifffile.imread(path, key=0)
        for r in range(0, img.shape[0] - crop + 1, crop):
            for c in range(0, img.shape[1] - crop + 1, crop):
                sub = np.ascontiguousarray(img[r:r + crop, c:c + crop, :3])
                if (sub.min(axis=2) < 200).mean() > 0.2:  # crops that hold tissue
                    out.append(("wsi " + slide.split("-")[0].lower(), f"{slide}@{r},{c}", sub, 0.5))
    return out


def real(args, model, params, tiles) -> tuple[str, list[tuple[str, str, float]]]:
    vals = []
    for tag, name, rgb, mpp in tiles:
        vals.append((tag, name, 100.0 * float(detect(rgb, mpp, args.detector, model, params).mean())))
    out = ["| set | tiles | false pigment mean / max (% of pixels) | worst tile | tiles > 0.1 % |", "|---|---:|---|---|---:|"]
    for tag in dict.fromkeys(t for t, _, _ in vals):
        sel = [(v, n) for t, n, v in vals if t == tag]
        v = np.array([x for x, _ in sel])
        out.append(f"| {tag} | {len(v)} | {v.mean():.3f} / {v.max():.3f} | {max(sel)[1]} | {int((v > 0.1).sum())} |")
    return "\n".join(out), vals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detector", choices=("model", "raw", "rules"), default="model")
    ap.add_argument("--model", default="default", help="pigment model: 'default' or a file")
    ap.add_argument("--model-stains", nargs="*", default=None,
                    help="PigmentParams.model_stains (default: its own; add 'eosin' to run a model on H&E)")
    ap.add_argument("--min-probability", type=float, default=None)
    ap.add_argument("--appearance", choices=APPEARANCES, default="plain")
    ap.add_argument("--hard-negatives", action="store_true",
                    help="generated tiles with lymphocytes, red blood cells and karyorrhectic debris")
    ap.add_argument("--mpp", type=float, default=0.5, help="µm/px of the generated tiles")
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=384, help="tile side at 0.5 µm/px (scaled with --mpp)")
    ap.add_argument("--families", nargs="*", default=[f for f in PIGMENT_FAMILIES if f != "none"] + ["none"])
    ap.add_argument("--no-families", action="store_true")
    ap.add_argument("--truth", default="drawn", choices=tuple(TRUTHS),
                    help="melanin truth: as drawn, before the optical blur (default), or the blurred ('seen') one")
    ap.add_argument("--csv", type=Path, default=None, help="write the family rows (both truths) to this CSV")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--training-tiles", action="store_true",
                    help="also the Kather tiles (trained on) and BRCA-M2C val (leave-one-source-out checks)")
    args = ap.parse_args()
    kw: dict = {}
    if args.model_stains is not None:
        kw["model_stains"] = tuple(args.model_stains)
    if args.min_probability is not None:
        kw["min_probability"] = args.min_probability
    params = PigmentParams(**kw)
    model = None if args.detector == "rules" else resolve_pigment_model(args.model)
    print(f"detector {args.detector}, model {args.model}, model_stains {params.model_stains}, {args.appearance}"
          f"{' + hard negatives' if args.hard_negatives else ''}, {args.mpp} µm/px, seeds "
          f"{args.first_seed}..{args.first_seed + args.seeds - 1}", flush=True)
    if not args.no_families:
        rows = families(args, model, params)
        print(table(rows), flush=True)
        if args.csv:
            write_csv(args.csv, rows)
    if not args.no_real:
        text, _ = real(args, model, params, real_tiles(training=args.training_tiles))
        print(text)


if __name__ == "__main__":
    main()
