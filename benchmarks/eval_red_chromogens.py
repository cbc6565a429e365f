"""Red chromogens (AEC, Fast Red) under scanner variation, and stain auto-detection (issue #14).

Two parts:

1. **Ki67 and melanin** on :func:`mmnst_path.synthetic.pigment_family_tile` tiles rendered
   ``plain`` and ``varied`` (tinted white balance, camera black level), through
   :func:`mmnst_path.pipeline.analyze_region` with the tile's preset (or ``--stains auto``).
   Besides the errors of :mod:`eval_pigment_families` (whose helpers this imports), every true
   tumour nucleus is matched to the detected cell whose centroid lies in it, so the Ki67 error
   is split into where the positives went: not detected, excluded by the cell model
   (lymphocyte, stromal...), ``pigment``, read negative; and negatives read positive. "red
   positives as melanin" is the share of chromogen-positive nucleus pixels (no melanin over
   them) that the pigment mask marks. The melanin truth (fraction, Dice) is the pigment as drawn,
   before the optical blur (``--truth drawn``, the default since session 39; ``--truth seen``: the
   blurred one read before), as in :mod:`eval_pigment_families`; the CSV has both (``*_drawn``,
   ``*_seen``). The red positives are those without blurred melanin over them under either truth.
2. **Stain detection** (``--guess``): :func:`mmnst_path.stain.guess.guess_stains_detail` (what
   ``stains="auto"`` uses) on the tissue
   thumbnail the pipeline computes (:func:`mmnst_path.tiling.detect_tissue` at 8 µm/px) of
   generated tiles of every chromogen (plain and varied) and of every real tile in
   ``../shared/data`` (Ki67 IHC sets, the scikit-image IHC tile, the osteosarcoma H&E tiles and
   the two H&E slides), plus the real tiles of ``../shared/train`` (EndoNuke IHC, BRCA-M2C and
   Kather H&E): a confusion table per dataset.

    .venv/bin/python benchmarks/eval_red_chromogens.py --seeds 4 --appearance plain varied
    .venv/bin/python benchmarks/eval_red_chromogens.py --guess --seeds 8

3. **Denominator** (``--cells``): generated tumour nests in stroma with lymphocytes and
   macrophages (:func:`mmnst_path.synthetic_ki67.ki67_cells_tile`, truth per cell type) with
   their DAB swapped for AEC / Fast Red: how many non-tumour nuclei the Ki67 denominator counts
   with and without a cell model (the pigment families hold tumour nuclei only). ``--tumour
   spindle``: the tumour is fascicles of spindle cells (``ki67_cells_tile(tumour="spindle")``)
   beside a paucicellular stroma, the pattern a nucleus model most easily calls stromal;
   ``--chromogens dab`` measures the tiles as rendered (H-DAB, no swap).

    .venv/bin/python benchmarks/eval_red_chromogens.py --cells --seeds 12 --cell-model none
    .venv/bin/python benchmarks/eval_red_chromogens.py --cells --tumour spindle --chromogens dab aec fast_red
"""

from __future__ import annotations

import argparse
import collections
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from eval_pigment_families import PRESET, TRUTHS, check_truth, fmt_errors, truth_columns, write_csv  # noqa: E402

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model  # noqa: E402
from mmnst_path.detect.pigment import pigment_masks  # noqa: E402
from mmnst_path.pipeline import AnalysisConfig, analyze_region  # noqa: E402
from mmnst_path.stain import get_preset  # noqa: E402
from mmnst_path.stain.guess import StainGuess, guess_stains_detail, with_slide_white_point  # noqa: E402
from mmnst_path.synthetic import FAMILY_CHROMOGENS, PIGMENT_FAMILIES, pigment_family_tile  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"
TRAIN = HERE.parent.parent / "shared" / "train"
#: Ki67 outcome of a true tumour nucleus (see :func:`nucleus_outcomes`).
OUTCOMES = ("missed", "excluded", "pigment", "negative", "positive")


def nucleus_outcomes(tile, res) -> dict[str, int]:
    """Counts ``"<truth>_<outcome>"`` (truth ``pos`` / ``neg``) over the tile's true tumour nuclei.

    A true nucleus takes the class of the detected cell whose centroid lies inside it (the
    first one when several do: a split nucleus counts once); none: ``missed``.
    """
    from mmnst_path.aggregate import CELL_CLASSES

    labels = tile.masks["nuclei"]
    pos_px = tile.masks["positive_nuclei"]
    n = int(labels.max())
    is_pos = np.zeros(n + 1, bool)
    is_pos[np.unique(labels[pos_px])] = True
    cells = res.cells
    rr = np.clip(np.rint(cells.row).astype(int), 0, labels.shape[0] - 1)
    cc = np.clip(np.rint(cells.col).astype(int), 0, labels.shape[1] - 1)
    hit = labels[rr, cc]
    outcome = np.full(n + 1, "missed", dtype=object)
    for lab, code in zip(hit[::-1], cells.cls[::-1], strict=True):  # reversed: the first cell wins
        if lab:
            name = CELL_CLASSES[int(code)]
            outcome[lab] = name if name in ("positive", "negative", "pigment") else "excluded"
    present = np.zeros(n + 1, bool)
    present[np.unique(labels)] = True
    present[0] = False
    out: dict[str, int] = collections.Counter()
    for lab in np.flatnonzero(present):
        out[f"{'pos' if is_pos[lab] else 'neg'}_{outcome[lab]}"] += 1
    return dict(out)


def run_one(seed: int, family: str, chromogen: str, appearance: str, *, size: int, stains: str,
            model: str, cell_model: str = "default", positive_od: float | None = None,
            positive_fraction: float | None = None, positives: str = "standard", truth: str = "drawn") -> dict:
    """Ki67 / melanin figures of one generated tile (keys as in :mod:`eval_pigment_families`);
    ``positive_fraction`` / ``positives`` as :func:`~mmnst_path.synthetic.pigment_family_tile`'s
    (0: an all-negative tile, whose index is its false-positive rate); ``truth``: the melanin truth
    ``mel_true`` / ``dice`` read (:data:`eval_pigment_families.TRUTHS`)."""
    check_truth(truth)
    tile = pigment_family_tile(seed, family, chromogen=chromogen, size=size, appearance=appearance,
                               positive_fraction=positive_fraction, positives=positives, drawn_melanin=True)
    preset = PRESET[chromogen] if stains == "preset" else stains
    cfg = AnalysisConfig.from_mapping({"stains": preset,
                                       "measures": ["ki67", "melanin"] if stains == "preset" else [],
                                       "pigment": {"model": model},
                                       "ki67": {"cell_model": cell_model} if positive_od is None else
                                       {"cell_model": cell_model, "positive_threshold_od": positive_od}})
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(tile.rgb, cfg, mpp=tile.mpp)
    seconds = time.perf_counter() - t0
    chosen = str(res.stains.get("name", preset))
    pmodel = resolve_pigment_model(model) if cfg.pigment.uses_model(chosen) else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the matrix the pipeline used: a red chromogen's carries the slide's white point
        matrix = with_slide_white_point(get_preset(chosen), *_thumbnail(tile.rgb, tile.mpp))
        if pmodel is None:
            mel, _ = pigment_masks(tile.rgb, mpp=tile.mpp, stains=matrix)
        else:
            mel, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=pmodel, stains=matrix)
    tissue = tile.masks["tissue"]
    red = tile.masks["positive_nuclei"] & ~tile.masks["melanin"]
    cols = truth_columns(tile, mel, truth)
    out = {"family": family, "chromogen": chromogen, "appearance": appearance, "seed": seed, "stains": chosen,
           "seconds": seconds,
           **{f"{k}_{t}": cols[f"{k}_{t}"] for t in TRUTHS for k in ("mel_true", "dice")},
           "mel_true": cols["mel_true"],
           "mel_meas": float(res.metrics.get("melanin_fraction_pct", math.nan)),
           "dice": cols["dice"],
           "mel_mask_pct": 100.0 * float((mel & tissue).sum()) / float(tissue.sum()),
           "red_as_melanin_pct": 100.0 * float((mel & red).sum()) / max(1, int(red.sum())),
           "ki67_true": float(tile.truth["ki67_index_pct"]),
           "ki67_meas": float(res.metrics.get("ki67_index_pct", math.nan)),
           "threshold_od": float(res.metrics.get("ki67_positive_threshold_od", math.nan))}
    if "ki67" in res.measures:
        out.update(nucleus_outcomes(tile, res))
    return out


def cells_one(seed: int, chromogen: str, *, size: int, cell_model: str, tumour: str = "nest") -> dict:
    """Denominator figures of one generated tumour tile with stroma, lymphocytes and
    macrophages (:func:`mmnst_path.synthetic_ki67.ki67_cells_tile`, ``plain``; ``tumour`` a nest or
    spindle-cell fascicles), its DAB swapped for ``chromogen`` (``scripts/_training_data.swap_chromogen``;
    the truth carries over); ``chromogen="dab"``: the H-DAB tile as rendered.

    Every true nucleus takes the class of the detected cell whose centroid lies in it (the first
    when several do); ``counted`` = read positive or negative (in the Ki67 denominator).
    """
    sys.path.insert(0, str(HERE.parent / "scripts"))
    from _training_data import RED_PRESETS, swap_chromogen

    from mmnst_path.aggregate import CELL_CLASSES
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    tile = ki67_cells_tile(seed, size=size, appearance="plain", tumour=tumour)
    if chromogen == "dab":
        rgb, preset = tile.rgb, "H-DAB"
    else:
        rgb = swap_chromogen(tile.rgb, chromogen, np.random.default_rng([seed, 4109]), chromogen_scale=1.0)
        preset = RED_PRESETS[chromogen]
    cfg = AnalysisConfig.from_mapping({"stains": preset, "measures": ["ki67"],
                                       "ki67": {"cell_model": cell_model}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(rgb, cfg, mpp=tile.mpp)
    cells = tile.truth["cells"]
    types = np.asarray(cells["cell_type"]).astype(str)
    labels = tile.masks["nuclei"]
    rr = np.clip(np.rint(res.cells.row).astype(int), 0, labels.shape[0] - 1)
    cc = np.clip(np.rint(res.cells.col).astype(int), 0, labels.shape[1] - 1)
    hit = labels[rr, cc]
    outcome = np.full(len(types) + 1, "missed", dtype=object)
    for lab, code in zip(hit[::-1], res.cells.cls[::-1], strict=True):
        if lab:
            outcome[lab] = CELL_CLASSES[int(code)]
    outcome = outcome[1:]
    counted = np.isin(outcome, ("positive", "negative"))
    tum = types == "tumour"
    pos = tum & (np.asarray(cells["grade"]).astype(str) != "negative")
    n_counted = int(np.sum(np.isin(np.asarray(res.cells.cls), (0, 1))))
    return {"seed": seed, "chromogen": chromogen, "tumour": tumour, "n_tumour": int(tum.sum()), "n_other": int((~tum).sum()),
            "counted_total": n_counted, "counted_tumour": int((counted & tum).sum()),
            "counted_other": int((counted & ~tum).sum()),
            "pos_excluded": int((pos & (outcome == "excluded")).sum()), "n_pos": int(pos.sum()),
            "neg_excluded": int((tum & ~pos & (outcome == "excluded")).sum()), "n_neg": int((tum & ~pos).sum()),
            "ki67_true": float(tile.truth["ki67_index_pct"]),
            "ki67_meas": float(res.metrics.get("ki67_index_pct", math.nan))}


def summarise_cells(rows: list[dict]) -> str:
    """Markdown table per chromogen: denominator against the true tumour count, and the index."""
    lines = ["| chromogen | tiles | denominator / true tumour nuclei (mean, worst) | non-tumour nuclei counted "
             "(% of them) | tumour nuclei counted (%) | positives / negatives excluded (%) | Ki67 err mean abs / "
             "worst (pp) |", "|---|---:|---|---|---|---|---|"]
    for ch in sorted({r["chromogen"] for r in rows}):
        sel = [r for r in rows if r["chromogen"] == ch]
        ratio = np.array([r["counted_total"] / max(1, r["n_tumour"]) for r in sel])
        worst = ratio[np.argmax(np.abs(ratio - 1.0))]
        oth = 100.0 * sum(r["counted_other"] for r in sel) / max(1, sum(r["n_other"] for r in sel))
        tum = 100.0 * sum(r["counted_tumour"] for r in sel) / max(1, sum(r["n_tumour"] for r in sel))
        pe = 100.0 * sum(r["pos_excluded"] for r in sel) / max(1, sum(r["n_pos"] for r in sel))
        ne = 100.0 * sum(r["neg_excluded"] for r in sel) / max(1, sum(r["n_neg"] for r in sel))
        k = [r["ki67_meas"] - r["ki67_true"] for r in sel]
        lines.append(f"| {ch} | {len(sel)} | {ratio.mean():.2f}, {worst:.2f} | {oth:.1f} | {tum:.1f} | "
                     f"{pe:.1f} / {ne:.1f} | {fmt_errors(k)} |")
    return "\n".join(lines)


def summarise(rows: list[dict]) -> str:
    """Markdown table per chromogen x appearance x family, with the Ki67 error breakdown."""
    lines = ["| chromogen | appearance | family | n | Ki67 err mean abs / worst (pp) | melanin err mean abs / worst "
             "(pp) | Dice mean / min | red positives as melanin mean / max (%) | true positives: missed / "
             "excluded / pigment / read negative (%) | negatives read positive (%) |",
             "|---|---|---|---:|---|---|---|---|---|---|"]
    keys = sorted({(r["chromogen"], r["appearance"], r["family"]) for r in rows},
                  key=lambda k: (FAMILY_CHROMOGENS.index(k[0]), k[1], PIGMENT_FAMILIES.index(k[2])))
    for ch, app, fam in keys:
        sel = [r for r in rows if (r["chromogen"], r["appearance"], r["family"]) == (ch, app, fam)]
        k = [r["ki67_meas"] - r["ki67_true"] for r in sel]
        m = [r["mel_meas"] - r["mel_true"] for r in sel]
        d = np.asarray([r["dice"] for r in sel if not math.isnan(r["dice"])])
        red = np.asarray([r["red_as_melanin_pct"] for r in sel])
        tp = sum(sum(r.get(f"pos_{o}", 0) for o in OUTCOMES) for r in sel)
        tn = sum(sum(r.get(f"neg_{o}", 0) for o in OUTCOMES) for r in sel)
        lost = " / ".join(f"{100.0 * sum(r.get(f'pos_{o}', 0) for r in sel) / max(1, tp):.1f}"
                          for o in ("missed", "excluded", "pigment", "negative"))
        fp = 100.0 * sum(r.get("neg_positive", 0) for r in sel) / max(1, tn)
        dtxt = f"{d.mean():.2f} / {d.min():.2f}" if d.size else "n/a"
        lines.append(f"| {ch} | {app} | {fam} | {len(sel)} | {fmt_errors(k)} | {fmt_errors(m)} | {dtxt} | "
                     f"{red.mean():.1f} / {red.max():.1f} | {lost} | {fp:.1f} |")
    return "\n".join(lines)


# -- stain detection ------------------------------------------------------------------------------

def _thumbnail(rgb: np.ndarray, mpp: float) -> tuple[np.ndarray, np.ndarray]:
    return _thumbnail_mpp(rgb, mpp)[:2]


def _thumbnail_mpp(rgb: np.ndarray, mpp: float) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Tissue thumbnail, mask and the thumbnail's µm per pixel, as the pipeline makes them."""
    from mmnst_path.io import ArrayReader
    from mmnst_path.tiling import detect_tissue

    t = detect_tissue(ArrayReader(rgb, mpp=mpp), mask_mpp=AnalysisConfig().tissue_mpp)
    return t.thumbnail, t.mask, t.mask_mpp


def real_sets() -> dict[str, tuple[str, list[tuple[Path, float | None]]]]:
    """Dataset name -> (true preset, [(file, mpp)]); mpp None: read from the slide."""
    def files(pattern: str, root: Path, mpp: float | None) -> list[tuple[Path, float | None]]:
        return [(p, mpp) for p in sorted(root.glob(pattern))]

    return {
        "BCData (Ki67)": ("H-DAB", files("ki67/bcdata/*.png", DATA, 0.25)),
        "SHIDC (Ki67)": ("H-DAB", files("ki67/shidc/*.jpg", DATA, 0.21)),
        "DeepLIIF (Ki67)": ("H-DAB", files("ki67/deepliif/*.png", DATA, 0.31)),
        "skimage IHC": ("H-DAB", files("ihc/*.png", DATA, 0.5)),
        "osteosarcoma H&E": ("H&E", files("necrosis/*.jpg", DATA, 1.0)),
        "H&E slides (CMU-1, TCGA)": ("H&E", [(DATA / "wsi" / "CMU-1-Small-Region.svs", None),
                                             (DATA / "wsi" / "tcga-cr-7395-01a-01-ts1.svs", 0.5)]),
        "EndoNuke IHC (train)": ("H-DAB", files("endonuke/*/*.png", TRAIN, 0.5)),
        "BRCA-M2C H&E (train)": ("H&E", files("brca_m2c/mixed/*.png", TRAIN, 0.5)),
        "Kather CRC H&E (train)": ("H&E", files("kather_nct_crc_he/*/*.tif", TRAIN, 0.5)),
        "Kather 2016 H&E (train)": ("H&E", files("kather_texture_2016/*/*.png", TRAIN, 0.33)),
    }


def _real_thumbnail(path: Path, mpp: float | None) -> tuple[np.ndarray, np.ndarray, float | None]:
    from mmnst_path.io import open_slide
    from mmnst_path.tiling import detect_tissue

    if path.suffix == ".svs":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = open_slide(path)
        if mpp is not None:
            reader.mpp = mpp
        t = detect_tissue(reader, mask_mpp=AnalysisConfig().tissue_mpp)
        return t.thumbnail, t.mask, t.mask_mpp
    from PIL import Image

    return _thumbnail_mpp(np.asarray(Image.open(path).convert("RGB")), float(mpp or 0.5))


def guess_table(seeds: range, size: int) -> str:
    """Confusion of :func:`guess_stains` on generated and real tiles (markdown)."""
    names = ("H-DAB", "H-AEC", "H-FastRed", "H&E")
    lines = ["| tiles | truth | n | " + " | ".join(names) + " | flagged ambiguous (right / wrong) | wrong (examples) |",
             "|---|---|---:|" + "---:|" * len(names) + "---|---|"]

    def row(label: str, truth: str, got: list[tuple[str, StainGuess]]) -> None:
        c = collections.Counter(g.name for _, g in got)
        amb_ok = sum(g.ambiguous and g.name == truth for _, g in got)
        amb_bad = sum(g.ambiguous and g.name != truth for _, g in got)
        wrong = [f"{n}: {g.name}" for n, g in got if g.name != truth][:3]
        lines.append(f"| {label} | {truth} | {len(got)} | " + " | ".join(str(c.get(k, 0)) for k in names)
                     + f" | {amb_ok} / {amb_bad} | {'; '.join(wrong)} |")

    for ch in FAMILY_CHROMOGENS:
        for app in ("plain", "varied"):
            got = []
            for seed in seeds:
                for fam in PIGMENT_FAMILIES:
                    tile = pigment_family_tile(seed, fam, chromogen=ch, size=size, appearance=app)
                    thumb, mask, tmpp = _thumbnail_mpp(tile.rgb, tile.mpp)
                    got.append((f"{fam} {seed}", guess_stains_detail(thumb, mask, mpp=tmpp)))
            row(f"generated {ch} {app}", PRESET[ch], got)
    for label, (truth, items) in real_sets().items():
        got = []
        for p, mpp in items:
            thumb, mask, tmpp = _real_thumbnail(p, mpp)
            got.append((p.name[:24], guess_stains_detail(thumb, mask, mpp=tmpp)))
        if got:
            row(label, truth, got)
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--families", nargs="*", default=list(PIGMENT_FAMILIES))
    ap.add_argument("--chromogens", nargs="*", default=["aec", "fast_red"])
    ap.add_argument("--appearance", nargs="*", default=["plain", "varied"], choices=["plain", "varied"])
    ap.add_argument("--stains", default="preset", help="'preset' (the tile's own), 'auto' or a preset name")
    ap.add_argument("--pigment-model", default="default", help="'default', 'none' (the rules) or a model file")
    ap.add_argument("--cell-model", default="default", help="Ki67 nucleus model: 'default', 'none' or a file")
    ap.add_argument("--positive-od", type=float, default=None, help="Ki67 positive_threshold_od (default: the library's)")
    ap.add_argument("--positive-fraction", type=float, default=None,
                    help="Ki67-positive fraction of the tiles (default: drawn per tile; 0: all-negative tiles, "
                         "whose index is the false-positive rate)")
    ap.add_argument("--positives", default="standard", choices=["standard", "wide"],
                    help="pigment_family_tile positives= ('wide': faint 1+ to saturated 3+)")
    ap.add_argument("--guess", action="store_true", help="stain detection confusion table instead")
    ap.add_argument("--csv", type=Path, default=None, help="write every run to this CSV")
    ap.add_argument("--truth", default="drawn", choices=tuple(TRUTHS),
                    help="melanin truth: as drawn, before the optical blur (default), or the blurred ('seen') one")
    ap.add_argument("--cells", action="store_true",
                    help="denominator check instead: ki67_cells_tile tiles (tumour nest, stroma, lymphocytes, "
                         "macrophages) with their DAB swapped for each chromogen ('dab': as rendered)")
    ap.add_argument("--tumour", choices=["nest", "spindle"], default="nest",
                    help="with --cells: the tumour of the tiles (ki67_cells_tile tumour=)")
    args = ap.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if args.cells:
        rows = [cells_one(seed, ch, size=args.size, cell_model=args.cell_model, tumour=args.tumour)
                for ch in args.chromogens for seed in seeds]
        print(summarise_cells(rows))
        if args.csv:
            write_csv(args.csv, rows)
        return
    if args.guess:
        print(guess_table(seeds, args.size))
        return
    rows = [run_one(seed, fam, ch, app, size=args.size, stains=args.stains, model=args.pigment_model,
                    cell_model=args.cell_model, positive_od=args.positive_od,
                    positive_fraction=args.positive_fraction, positives=args.positives, truth=args.truth)
            for ch in args.chromogens for app in args.appearance for fam in args.families for seed in seeds]
    print(summarise(rows))
    if args.stains != "preset":
        wrong = [(r["chromogen"], r["appearance"], r["stains"]) for r in rows if r["stains"] != PRESET[r["chromogen"]]]
        print(f"\nstains detected wrongly on {len(wrong)} of {len(rows)} tiles: {wrong[:10]}")
    if args.csv:
        write_csv(args.csv, rows)


if __name__ == "__main__":
    main()
