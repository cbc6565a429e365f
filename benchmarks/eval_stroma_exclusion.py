"""How many detected nuclei the cell model leaves out of the Ki67 index as stromal, per set (issue #14).

The spindle-cell QC sentence (:func:`mmnst_path.report.stroma_warning`) is said when the default
H-DAB cell model leaves at least :data:`~mmnst_path.report.STROMA_WARN_PCT` % of the detected nuclei
(positive, negative, pigment and excluded) out as ``stromal``. This prints that share per image
(``analyze_region``, default configuration, H-DAB, Ki67 only) on:

- the research-only real Ki67 sets of ``../shared/data/ki67`` (BCData 0.25, SHIDC 0.21, DeepLIIF
  0.31 µm/px; validation only), which should not get the sentence;
- generated pigment-family tiles (``none``: round tumour nuclei; ``spindle``: a spindle-cell tumour;
  seeds 0..N-1) and ``ki67_cells_tile`` nests beside true stroma and lymphocytes, and spindle-cell
  tumours (``tumour="spindle"``).

    .venv/bin/python benchmarks/eval_stroma_exclusion.py [--seeds 4] [--first 0] [--endonuke] [--no-real]
        [--decimals 0] [--ki67 spindle_sheet=true]

``--ki67 KEY=VALUE`` sets any ``[ki67]`` parameter (``Ki67Params``) for every image. ``--endonuke``
adds EndoNuke's held-out images (real ER/PR IHC of endometrium, whose stroma is as crowded as a
sheet: the real tiles on which ``spindle_sheet = "auto"`` must not open). The last column counts
the nuclei in spindle sheets counted as tumour (``ki67_spindle_sheet_nuclei``) and the images with
any; the share is the cell model's own, before the rule took any back.
"""

from __future__ import annotations

import argparse
import collections
import warnings
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ki67"
REAL = (("BCData", "bcdata/*.png", 0.25), ("SHIDC", "shidc/*.jpg", 0.21), ("DeepLIIF", "deepliif/*.png", 0.31))
ENDONUKE = Path(__file__).resolve().parents[2] / "shared" / "train" / "endonuke"


def endonuke_held_out() -> list[tuple[Path, float]]:
    """EndoNuke's images the nucleus model was validated on, with their µm/px: the ``mixed`` images
    ``scripts/train_nucleus_model.py`` holds out (SHA-256 of the name, 20 %; 0.5 µm/px) and
    ``staining_ds`` (~0.25 µm/px)."""
    import hashlib

    def held(name: str) -> bool:  # as scripts/_training_data.held_out(name, 0.2)
        return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < 0.2

    mixed = [(p, 0.5) for p in sorted((ENDONUKE / "mixed").glob("*.png")) if held(p.name)]
    return mixed + [(p, 0.25) for p in sorted((ENDONUKE / "staining_ds").glob("*.png"))]


def stromal_share(rgb: np.ndarray, mpp: float, ki67: dict | None = None) -> tuple[float, bool, int]:
    """Share (%) of the detected nuclei the cell model left out as stromal (before the spindle-sheet
    rule took any back), whether the QC sentence is said, and the nuclei in spindle sheets counted
    as tumour (``ki67_spindle_sheet_nuclei``)."""
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.report import stroma_warning, summary_row

    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], "ki67": dict(ki67 or {})})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row = summary_row(analyze_region(rgb, cfg, mpp=mpp))
    detected = sum(int(row.get(f"ki67_{k}") or 0) for k in ("positive", "negative", "pigment", "excluded"))
    sheet = int(row.get("ki67_spindle_sheet_nuclei") or 0)
    share = 100.0 * (int(row.get("ki67_stromal") or 0) + sheet) / detected if detected else float("nan")
    return share, bool(stroma_warning(row)), sheet


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from mmnst_path.synthetic import pigment_family_tile
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--first", type=int, default=0, help="first seed of the generated tiles (dev runs: 40 on)")
    ap.add_argument("--no-real", action="store_true", help="leave the research-only real Ki67 sets out (dev runs)")
    ap.add_argument("--decimals", type=int, default=0, help="decimals of the share columns (gates read >= 4)")
    ap.add_argument("--ki67", action="append", default=[], metavar="KEY=VALUE",
                    help="a [ki67] parameter for every image (JSON value, else a string), repeatable")
    ap.add_argument("--endonuke", action="store_true",
                    help="also EndoNuke's held-out images (../shared/train/endonuke: real ER/PR IHC, validation only)")
    args = ap.parse_args(argv)
    import json

    ki67: dict[str, object] = {}
    for item in args.ki67:
        key, _, value = item.partition("=")
        try:
            ki67[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            ki67[key.strip()] = value
    out: dict[str, list[tuple[float, bool, int]]] = collections.defaultdict(list)
    for name, pattern, mpp in () if args.no_real else REAL:
        for p in sorted(DATA.glob(pattern)):
            out[f"{name} (real)"].append(stromal_share(np.asarray(Image.open(p).convert("RGB")), mpp, ki67))
    if args.endonuke:
        for p, mpp in endonuke_held_out():
            out["EndoNuke held-out (real)"].append(stromal_share(np.asarray(Image.open(p).convert("RGB")), mpp, ki67))
    for family in ("none", "spindle"):
        for seed in range(args.first, args.first + args.seeds):
            t = pigment_family_tile(seed, family, chromogen="dab", size=384)
            out[f"pigment family {family}"].append(stromal_share(t.rgb, t.mpp, ki67))
    for tumour in ("nest", "spindle"):
        for seed in range(args.first, args.first + args.seeds):
            t = ki67_cells_tile(seed, tumour=tumour)
            out[f"ki67_cells_tile {tumour}"].append(stromal_share(t.rgb, t.mpp, ki67))
    print("| set | images | left out as stromal, % of detected nuclei: mean (range) | QC sentence said "
          "| nuclei in spindle sheets counted as tumour (images) |")
    print("|---|---:|---|---:|---:|")
    for name, rows in out.items():
        v = np.array([s for s, _, _ in rows])
        d = args.decimals
        print(f"| {name} | {len(rows)} | {np.nanmean(v):.{d}f} ({np.nanmin(v):.{d}f}-{np.nanmax(v):.{d}f}) "
              f"| {sum(w for _, w, _ in rows)} | {sum(n for _, _, n in rows)} ({sum(n > 0 for _, _, n in rows)}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
