"""What becomes of each tumour nucleus of a generated azure B tile (issue #14, session 32 H4).

Every truth nucleus of :func:`mmnst_path.synthetic_azure.azure_b_tile` gets the class of the counted
nucleus whose centroid lies on it (within one pixel; ``positive`` before ``negative`` before
``pigment``) or ``missed``, beside its truth (positive or not), the share of it under the truth
melanin and under the pipeline's pigment mask, and the DAB OD mean it was read at. The table then
gives, per melanin-coverage band and truth, how the *visible* nuclei (< 75 % under melanin) end:
at HEAD (eb38750) a negative with 10-30 % of it under melanin was missed 37 % of the time (a
positive 17 %), because the granules around it kept their bound azure B in the detection input and
were segmented with it (``Ki67Params.azure_counterstain_fill``), and the visible positives read
negative had a DAB OD mean of 0.21-0.35 (``Ki67Params.azure_positive_threshold_od``).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/azure_missed_nuclei.py --first-seed 100 --seeds 16 \\
        --csv /tmp/azure_nuclei.csv
    PYTHONPATH=. .venv/bin/python benchmarks/experiments/azure_missed_nuclei.py --seeds 4 \\
        --set ki67.azure_counterstain_fill=false ki67.azure_positive_threshold_od=0.35   # HEAD's behaviour
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_azure_b import write_csv

from mmnst_path.aggregate import CELL_CLASSES
from mmnst_path.detect.pigment import pigment_mask
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic import PIGMENT_FAMILIES
from mmnst_path.synthetic_azure import azure_b_tile

BANDS = (0.0, 0.1, 0.3, 0.5, 0.75)
ORDER = ("positive", "negative", "pigment")


def nuclei_of(seed: int, family: str, level: float, settings: dict) -> tuple[list[dict], float]:
    """(one row per truth nucleus, the tile's index error measured - truth in pp)."""
    tile = azure_b_tile(seed, family, size=384, positive_fraction=level)
    labels = tile.masks["nuclei"]
    n = int(labels.max())
    cfg = AnalysisConfig.from_mapping({"stains": "AzureB-DAB", "measures": ["ki67", "melanin"], **settings})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(tile.rgb, cfg, mpp=tile.mpp)
        mask = pigment_mask(tile.rgb, mpp=tile.mpp, stains=cfg.stain_matrix(), params=cfg.pigment)
    cells = res.cells
    cls = np.asarray(CELL_CLASSES, dtype=object)[np.asarray(cells.cls).astype(int)].astype(str)
    dab = np.asarray(cells.columns["dab_od_mean"], dtype=np.float64)
    r = np.clip(np.rint(np.asarray(cells.row)).astype(int), 0, labels.shape[0] - 1)
    c = np.clip(np.rint(np.asarray(cells.col)).astype(int), 0, labels.shape[1] - 1)
    on = np.where(labels[r, c] > 0, labels[r, c], ndi.grey_dilation(labels, size=3)[r, c])
    area = np.bincount(labels.ravel(), minlength=n + 1)

    def share(m: np.ndarray) -> np.ndarray:
        return np.bincount(labels.ravel(), m.ravel().astype(np.float64), minlength=n + 1) / np.maximum(area, 1)

    tpos, mel, pm = share(tile.masks["positive_nuclei"]) > 0.5, share(tile.masks["melanin"]), share(mask)
    status = np.full(n + 1, "missed", dtype="<U8")
    read = np.full(n + 1, math.nan)
    rank = np.array([ORDER.index(k) if k in ORDER else len(ORDER) for k in cls])
    for i in np.argsort(-rank, kind="stable"):  # the best-ranked class written last
        if on[i] > 0 and cls[i] in ORDER:
            status[on[i]], read[on[i]] = cls[i], dab[i]
    err = float(res.metrics.get("ki67_index_pct", math.nan)) - float(tile.truth["ki67_index_pct"])
    rows = [{"family": family, "level": level, "seed": seed, "nucleus": j, "positive": bool(tpos[j]),
             "melanin_share": float(mel[j]), "mask_share": float(pm[j]), "status": str(status[j]),
             "dab_od_mean": float(read[j]), "tile_error_pp": err}
            for j in range(1, n + 1) if area[j] > 0]
    return rows, err


def table(rows: list[dict]) -> str:
    """Visible truth nuclei per melanin band and truth: how many, and the share of each end."""
    lines = ["| melanin share | truth | n | positive | negative | pigment | missed |", "|---|---|---:|---:|---:|---:|---:|"]
    for lo, hi in itertools.pairwise(BANDS):
        for truth in (False, True):
            sel = [x for x in rows if x["positive"] == truth and (lo < x["melanin_share"] <= hi
                                                                   or (lo == 0.0 and x["melanin_share"] == 0.0))]
            if not sel:
                continue
            k = len(sel)
            ends = " | ".join(f"{sum(x['status'] == s for x in sel) / k:.2f}" for s in (*ORDER, "missed"))
            lines.append(f"| {'0' if lo == 0.0 else f'{lo:.2f}'}-{hi:.2f} | {'+' if truth else '-'} | {k} | {ends} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first-seed", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--families", nargs="*", default=list(PIGMENT_FAMILIES))
    ap.add_argument("--levels", nargs="*", type=float, default=[0.06, 0.40])
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=JSON")
    args = ap.parse_args()
    settings: dict[str, dict] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        settings.setdefault(section, {})[name] = json.loads(value)
    rows: list[dict] = []
    errors = []
    for fam in args.families:
        for level in args.levels:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                got, err = nuclei_of(seed, fam, level, settings)
                rows += got
                errors.append(err)
                print(f"  {fam} {level:.2f} seed {seed}: index error {err:+.4f} pp", flush=True)
    print(f"mean |index error| {np.mean(np.abs(errors)):.4f} pp, largest {np.max(np.abs(errors)):.4f} pp")
    print(table([x for x in rows if x["melanin_share"] < 0.75]))
    if args.csv and rows:
        write_csv(args.csv, rows)


if __name__ == "__main__":
    main()
