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

    .venv/bin/python benchmarks/eval_stroma_exclusion.py [--seeds 4] [--ki67 spindle_sheet=true]

``--ki67 KEY=VALUE`` sets any ``[ki67]`` parameter (``Ki67Params``) for every image.
"""

from __future__ import annotations

import argparse
import collections
import warnings
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ki67"
REAL = (("BCData", "bcdata/*.png", 0.25), ("SHIDC", "shidc/*.jpg", 0.21), ("DeepLIIF", "deepliif/*.png", 0.31))


def stromal_share(rgb: np.ndarray, mpp: float, ki67: dict | None = None) -> tuple[float, bool]:
    """Share (%) of the detected nuclei left out as stromal, and whether the QC sentence is said."""
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.report import stroma_warning, summary_row

    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], "ki67": dict(ki67 or {})})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row = summary_row(analyze_region(rgb, cfg, mpp=mpp))
    detected = sum(int(row.get(f"ki67_{k}") or 0) for k in ("positive", "negative", "pigment", "excluded"))
    share = 100.0 * int(row.get("ki67_stromal") or 0) / detected if detected else float("nan")
    return share, bool(stroma_warning(row))


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from mmnst_path.synthetic import pigment_family_tile
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--ki67", action="append", default=[], metavar="KEY=VALUE",
                    help="a [ki67] parameter for every image (JSON value, else a string), repeatable")
    args = ap.parse_args(argv)
    import json

    ki67: dict[str, object] = {}
    for item in args.ki67:
        key, _, value = item.partition("=")
        try:
            ki67[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            ki67[key.strip()] = value
    out: dict[str, list[tuple[float, bool]]] = collections.defaultdict(list)
    for name, pattern, mpp in REAL:
        for p in sorted(DATA.glob(pattern)):
            out[f"{name} (real)"].append(stromal_share(np.asarray(Image.open(p).convert("RGB")), mpp, ki67))
    for family in ("none", "spindle"):
        for seed in range(args.seeds):
            t = pigment_family_tile(seed, family, chromogen="dab", size=384)
            out[f"pigment family {family}"].append(stromal_share(t.rgb, t.mpp, ki67))
    for tumour in ("nest", "spindle"):
        for seed in range(args.seeds):
            t = ki67_cells_tile(seed, tumour=tumour)
            out[f"ki67_cells_tile {tumour}"].append(stromal_share(t.rgb, t.mpp, ki67))
    print("| set | images | left out as stromal, % of detected nuclei: mean (range) | QC sentence said |")
    print("|---|---:|---|---:|")
    for name, rows in out.items():
        v = np.array([s for s, _ in rows])
        print(f"| {name} | {len(rows)} | {np.nanmean(v):.0f} ({np.nanmin(v):.0f}-{np.nanmax(v):.0f}) "
              f"| {sum(w for _, w in rows)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
