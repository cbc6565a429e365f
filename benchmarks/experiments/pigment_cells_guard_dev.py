"""Dev figures of a pigment-cell model with a per-nucleus guard (session 33 H11, #14).

The learned pigment-cell model (``Ki67Params.pigment_cell_model``) takes positivity from true positives of
pigment-free tissue where the pigment mask marks a few false specks (session 33 H1, held-out renderer). This reads
the measured Ki67 index (``analyze_region``, H-DAB, ki67 + melanin, default configuration otherwise) of generated DEV
tiles for several model / guard configurations and prints each set's mean |error| (percentage points):

- ``k512``: ``ki67_pigment_tile`` seeds 40-59 at 512 px (pigmented negatives read positive; the model's gain);
- ``sat_<appearance>``: ``pigment_family_tile(seed, "none", saturated_positives=True)``, seeds 7000-7007 at 512 px
  (no melanin; saturated dark positives the mask marks as false specks: the model's harm); ``sat_gran_wide`` the
  ``wide`` tiles with granular brown cytoplasm;
- ``endo_<appearance>``: the ``none`` family with positives as dark as EndoNuke's (``dab_strength="endonuke"``),
  seeds 7000-7005;
- with ``--families``: the DAB pigment families seeds 40-43 at 384 px, plain and ``wide`` rendering.

A configuration is ``LABEL:MODEL:FEATURES:MAXIMA``: ``MODEL`` ``none`` / ``default`` / a ``.mmnst`` path,
``FEATURES`` ``-`` (no guard) or ``+``-joined columns of ``CELL_FEATURES`` with their ``+``-joined upper bounds
(the model changes no call of a nucleus at or above any bound). The guard is set on the module constant
``mmnst_path.quantify._ki67_pigment.CELL_GUARD_MAX`` that the session 33 H11 candidate adds
(``pigment_cells_guard_s33.patch``); without that patch only ``-`` configurations make sense.

    PYTHONPATH=. python benchmarks/experiments/pigment_cells_guard_dev.py --json /tmp/dev.json \
        off:none:-:0 C:/tmp/pc_v3.mmnst:-:0 H40:/tmp/pc_v3.mmnst:hematoxylin:0.4
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1])]


def dev_tiles(families: bool) -> Iterator[tuple[str, int, np.ndarray, float, float]]:
    """(set, seed, rgb, mpp, true Ki67 index %) of every dev tile, in a fixed order."""
    from mmnst_path._synthetic_pigment import granular_cytoplasm_of
    from mmnst_path.synthetic import PIGMENT_FAMILIES, ki67_pigment_tile, pigment_family_tile

    if families:
        for seed in range(40, 44):
            for fam in PIGMENT_FAMILIES:
                for app in (None, "wide"):
                    t = pigment_family_tile(seed, fam, chromogen="dab", size=384, appearance=app)
                    name = f"fam_{app or 'plain'}_{'none' if fam == 'none' else 'pigmented'}"
                    yield name, seed, t.rgb, t.mpp, float(t.truth["ki67_index_pct"])
        return
    for seed in range(40, 60):
        t = ki67_pigment_tile(seed, size=512)
        yield "k512", seed, t.rgb, t.mpp, float(t.truth["ki67_index_pct"])
    for app in ("plain", "varied", "wide"):
        look = None if app == "plain" else app
        for seed in range(7000, 7008):
            t = pigment_family_tile(seed, "none", chromogen="dab", size=512, appearance=look, saturated_positives=True)
            yield f"sat_{app}", seed, t.rgb, t.mpp, float(t.truth["ki67_index_pct"])
            if app == "wide":
                rgb, _ = granular_cytoplasm_of(t, seed)
                yield "sat_gran_wide", seed, rgb, t.mpp, float(t.truth["ki67_index_pct"])
        for seed in range(7000, 7006):
            t = pigment_family_tile(seed, "none", chromogen="dab", size=512, appearance=look, dab_strength="endonuke")
            yield f"endo_{app}", seed, t.rgb, t.mpp, float(t.truth["ki67_index_pct"])


def parse_config(text: str) -> tuple[str, str, dict[str, float]]:
    """``LABEL:MODEL:FEATURES:MAXIMA`` -> (label, model, guard bounds)."""
    label, model, feats, maxima = text.split(":")
    guard = {} if feats == "-" else {f: float(v) for f, v in zip(feats.split("+"), maxima.split("+"), strict=True)}
    return label, model, guard


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="+", help="LABEL:MODEL:FEATURES:MAXIMA")
    ap.add_argument("--families", action="store_true", help="the DAB pigment families instead of the other sets")
    ap.add_argument("--json", type=Path, default=None, help="per tile: [set, seed, measured %%, truth %%] per label")
    args = ap.parse_args()

    import mmnst_path.quantify._ki67_pigment as kp
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    configs = [parse_config(c) for c in args.configs]
    out: dict[str, list[list]] = {}
    for name, seed, rgb, mpp, truth in dev_tiles(args.families):
        for label, model, guard in configs:
            kp.CELL_GUARD_MAX = guard  # type: ignore[attr-defined]
            cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67", "melanin"],
                                               "ki67": {"pigment_cell_model": model}})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = analyze_region(rgb, cfg, mpp=mpp)
            out.setdefault(label, []).append([name, seed, float(res.metrics.get("ki67_index_pct", np.nan)), truth])
    if args.json is not None:
        args.json.write_text(json.dumps(out), encoding="utf-8")
    sets = list(dict.fromkeys(r[0] for r in next(iter(out.values()))))
    print("| config | " + " | ".join(sets) + " |")
    print("|---|" + "---|" * len(sets))
    for label, rows in out.items():
        err = {s: np.nanmean([abs(r[2] - r[3]) for r in rows if r[0] == s]) for s in sets}
        print(f"| {label} | " + " | ".join(f"{err[s]:.4f}" for s in sets) + " |")


if __name__ == "__main__":
    main()
