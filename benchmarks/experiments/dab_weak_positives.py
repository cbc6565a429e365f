"""Weak DAB Ki67 positives read negative: per-nucleus DAB OD against the slide threshold (issue #14, session 31 H7).

Dev data only (seeds >= 40): :func:`mmnst_path.synthetic_ki67.ki67_cells_tile` (``--sets cells``, its default
varied rendering), :func:`mmnst_path.synthetic.pigment_family_tile` with DAB (``standard``), ``positives="wide"`` (``wide``:
faint 1+ at 0.08-0.35 OD painted, 2+, 3+) or ``dab_strength="endonuke"`` (``endonuke``: the EndoNuke ER/PR range),
every pigment family, the DAB default rendering. Each tile runs through
:func:`mmnst_path.pipeline.analyze_region` with ``stains="H-DAB"`` and the default configuration (plus ``--set``);
every detected nucleus is matched to the truth nucleus under its centroid and written as one row (the columns of
``red_weak_positives.py``; ``red_od`` holds the DAB OD mean, log10 OD). The per-nucleus rows let a slide
threshold be simulated offline (``--simulate``: the tile's index nuclei read positive at DAB OD >= threshold).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/dab_weak_positives.py --csv /tmp/dab.csv
    PYTHONPATH=. .venv/bin/python benchmarks/experiments/dab_weak_positives.py --simulate /tmp/dab.csv
"""

from __future__ import annotations

import argparse
import csv
import functools
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import red_weak_positives as rwp
from eval_heldout import _settings  # (SECTION.KEY=VALUE parsing)

from mmnst_path.quantify import Ki67Params
from mmnst_path.quantify._ki67_counts import slide_positive_threshold
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile
from mmnst_path.synthetic_ki67 import ki67_cells_tile

SETS = ("cells", "standard", "wide", "endonuke")


def dev_tile(kind: str, seed: int, family: str, **kw):  # type: ignore[no-untyped-def]
    """A dev tile of one set (``kw`` ignored: the call shape of ``pigment_family_tile`` in ``red_weak_positives``)."""
    if kind == "cells":
        return cells_tile(seed)
    if kind in ("standard", "wide"):
        return pigment_family_tile(seed, family, chromogen="dab", positives=kind)
    return pigment_family_tile(seed, family, chromogen="dab", dab_strength="endonuke")


def cells_tile(seed: int):  # type: ignore[no-untyped-def]
    """``ki67_cells_tile`` with the masks ``red_weak_positives`` reads: tumour nuclei only, positive ones, no melanin."""
    tile = ki67_cells_tile(seed)
    labels, cells = tile.masks["nuclei"], tile.truth["cells"]
    lut = np.zeros(int(labels.max()) + 1, np.int32)
    tumour = cells["label"][cells["cell_type"] == "tumour"]
    lut[tumour] = tumour
    pos = np.zeros_like(lut, dtype=bool)
    pos[cells["label"][(cells["cell_type"] == "tumour") & (cells["grade"] != "negative")]] = True
    tile.masks["nuclei"] = lut[labels]
    tile.masks["positive_nuclei"] = pos[labels]
    tile.masks["melanin"] = np.zeros(labels.shape, bool)
    return tile


def tiles_of(kind: str, first: int, seeds: int) -> Iterator[tuple[int, str]]:
    """(seed, family) of one set: 3x the seeds of ki67_cells_tile (one family), else every family."""
    if kind == "cells":
        yield from ((s, "none") for s in range(first, first + 3 * seeds))
    else:
        yield from ((s, f) for f in PIGMENT_FAMILIES for s in range(first, first + seeds))


def dump(kinds: list[str], first: int, seeds: int, settings: dict, out: Path | None) -> None:
    """Run every dev tile, print one line per tile, write the per-nucleus and per-tile rows."""
    nuc: list[dict] = []
    tiles: list[dict] = []
    rwp.PRESET["dab"] = "H-DAB"
    for kind in kinds:
        for seed, fam in tiles_of(kind, first, seeds):
            with mock.patch.object(rwp, "pigment_family_tile", functools.partial(dev_tile, kind)):
                rows, tr = rwp.nucleus_rows(seed, fam, "dab", kind, near_um=2.0, match_um=1.0, settings=settings)
            nuc += rows
            tiles.append(tr)
            print(f"{kind} {fam} {seed}: true {tr['true']:.4f} read {tr['measured']:.4f} ({tr['error']:+.4f}) "
                  f"threshold {tr['threshold']:.4f}", flush=True)
    if out:
        for path, data in ((out, nuc), (out.with_name(out.stem + "_tiles.csv"), tiles)):
            with path.open("w", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(data[0]))
                w.writeheader()
                w.writerows(data)
    print(rwp.summary(nuc, tiles))
    print(rwp.missed_table(tiles))


def simulate(path: Path, forms: list[tuple[str, float, float]]) -> str:
    """Ki67 mean |error| (pp) per set for slide thresholds recomputed from the dumped DAB OD means.

    ``forms``: (form, margin, floor): ``head`` (the dumped classes), ``thr`` (HEAD's threshold recomputed from
    the dumped index nuclei: a check of the simulation),
    ``baseline`` (median of the unstained + margin, clipped to [floor, 0.35]) or ``min`` (HEAD's adapted threshold
    or the baseline one, whichever is lower)."""
    by: dict[tuple, list[dict]] = defaultdict(list)
    for r in csv.DictReader(path.open()):
        by[(r["positives"], r["family"], r["seed"])].append(r)
    tiles = list(csv.DictReader(path.with_name(path.stem + "_tiles.csv").open()))
    head = ["form", "margin", "floor"] + [f"{k} |err|" for k in SETS] + [f"{k} err" for k in SETS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for form, margin, floor in forms:
        err: dict[str, list[float]] = {k: [] for k in SETS}
        for t in tiles:
            rows = by[(t["positives"], t["family"], t["seed"])]
            cls = np.asarray([r["cls"] for r in rows])
            od = np.asarray([float(r["red_od"]) for r in rows])
            idx = (cls == "positive") | (cls == "negative")
            pos = cls == "positive"
            if form != "head":
                thr = slide_positive_threshold(od[idx], Ki67Params())
                if form != "thr":
                    alt = Ki67Params(weak_stain_basis="baseline", weak_stain_baseline_margin_od=margin,
                                     weak_stain_min_threshold_od=floor)
                    b = slide_positive_threshold(od[idx], alt)
                    thr = b if form == "baseline" else min(thr, b)
                # the slide step flips negative / excluded nuclei at or above the threshold; a higher
                # threshold than the dumped one takes back the positives between the two (an approximation:
                # a tile-level positive there stays positive in the pipeline)
                done = float(t["threshold"])
                pos = (pos & ~((od >= done) & (od < thr))) | ((cls == "negative") & (od >= thr))
            idx = idx | pos
            measured = 100.0 * pos[idx].sum() / max(1, idx.sum())
            err[t["positives"]].append(measured - float(t["true"]))
        cells = [f"{np.mean(np.abs(err[k])) if err[k] else np.nan:.4f}" for k in SETS] + [f"{np.mean(err[k]) if err[k] else np.nan:+.4f}" for k in SETS]
        lines.append(f"| {form} | {margin} | {floor} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="*", default=list(SETS), choices=SETS)
    ap.add_argument("--first-seed", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=8, help="per family (ki67_cells_tile: 3x as many)")
    ap.add_argument("--csv", type=Path, default=None, help="per-nucleus rows (the tiles' rows go to *_tiles.csv)")
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    ap.add_argument("--simulate", type=Path, default=None, help="a --csv dump: margins 0.10-0.25, both forms")
    args = ap.parse_args()
    if args.simulate:
        forms = [("head", 0.0, 0.0), ("thr", 0.0, 0.0)]
        forms += [(f, m, fl) for f in ("baseline", "min") for fl in (0.10, 0.15)
                  for m in (0.075, 0.10, 0.125, 0.15, 0.175, 0.20, 0.225, 0.25)]
        print(simulate(args.simulate, forms))
        return
    if args.first_seed < 40:
        ap.error("dev seeds only: --first-seed must be >= 40 (seeds 0-39 are evaluation seeds)")
    dump(args.sets, args.first_seed, args.seeds, _settings(args.set), args.csv)


if __name__ == "__main__":
    main()
