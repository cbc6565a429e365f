"""Dev probe (session 42 H2, #14): how dark are the DAB-holding nuclear bodies of generated H&E with melanin,
of Ki67 / MART-1 and SOX10 double stains and of near-black DAB positives?

Session 41 H12's rule (an H&E colour guess with >= ``HE_DAB_BODIES_MM2`` DAB-holding nuclear bodies per mm² is a
Ki67 / MART-1 Fast Red double stain) read two generated H&E tiles with melanin filling nuclei or dense granule
clusters as double stains. This probe writes, per tile, the guess, its places and every DAB-holding body's features
(OD norm mean and 90th percentile; bodies found as :func:`mmnst_path.stain.places._count` finds them, by
``double_stain_bodies_s42.py``) as JSON lines, for choosing a lightness limit on dev seeds only (7200-7239):

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/double_stain_lightness_s42.py --first-seed 7200 --seeds 40 \\
        --out /tmp/s42_h2/dev.jsonl
    PYTHONPATH=. .venv/bin/python benchmarks/experiments/double_stain_lightness_s42.py --summary /tmp/s42_h2/dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import eval_stain_guess as esg  # noqa: E402
from double_stain_bodies_s42 import dab_bodies  # noqa: E402

from mmnst_path import synthetic  # noqa: E402
from mmnst_path.stain import places as places_module  # noqa: E402
from mmnst_path.stain.guess import guess_stains_detail  # noqa: E402

#: Families where melanin fills or clusters like a nucleus (each also drawn in every appearance).
NUCLEAR_MELANIN = ("over_nucleus", "coarse", "whole_cell", "melanophage", "confluent")


def _record(group: str, label: str, rgb: np.ndarray, mpp: float) -> dict:
    thumb, mask, tmpp = esg.thumbnail(rgb, mpp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = guess_stains_detail(thumb, mask, mpp=tmpp)
    bodies = {"brown": 0, "red": 0, "dab": 0, "dab_light": 0}
    degs: dict[str, list[float]] = {"brown": [], "red": [], "dab": [], "other": []}
    places_module._count(np.asarray(thumb), mask, float(tmpp), g.white_point, bodies, degs)
    p = g.places
    _, feats = dab_bodies(np.asarray(thumb), np.asarray(mask, bool), float(tmpp), g.white_point)
    return {"group": group, "label": label, "name": g.name, "ambiguous": bool(g.ambiguous),
            "alternative": g.alternative, "p_he": g.he_probability, "marker": g.marker,
            "he_rule": g.reason.startswith("Ki67 / MART-1 double stain?"),
            "dab_mm2": p.dab_bodies_mm2 if p else math.nan, "dab_deg": p.dab_body_deg if p else math.nan,
            "brown_mm2": p.brown_bodies_mm2 if p else math.nan, "ring": p.red_ring_share if p else math.nan,
            "dab_light_mm2": p.dab_light_bodies_mm2 if p else math.nan, "n_dab": bodies["dab"],
            "n_dab_light": bodies["dab_light"], "dab_body_deg": degs["dab"], "bodies": feats}


def tiles(first: int, n: int):
    """``(group, label, rgb, mpp)`` of the dev tiles."""
    for seed in range(first, first + n):
        for i in range(10):  # the H&E tiles of eval_stain_guess (every family, its appearance draw)
            lab, rgb, mpp = esg.protocol_tile("H&E", seed, i)
            yield "H&E", lab, rgb, mpp
        for fam in NUCLEAR_MELANIN:  # melanin like nuclei, in every appearance, with and without near-black
            for app in ("plain", "varied", "wide"):
                t = synthetic.pigment_family_tile(seed, fam, chromogen="eosin", appearance=app)
                yield "H&E nuclear melanin", f"{fam} {app} {seed}", t.rgb, t.mpp
            t = synthetic.pigment_family_tile(seed, fam, chromogen="eosin", appearance="wide", near_black=True,
                                              melanin_clumps=fam != "none")
            yield "H&E near-black", f"{fam} wide near-black clumps {seed}", t.rgb, t.mpp
        for p in ("H-DAB-FastRed", "H-DAB-AEC"):
            if p == "H-DAB-AEC" and seed >= first + 10:  # AEC double stains read H&E rarely (0 of 80, seeds 7200-7207)
                continue
            for i in range(10):
                lab, rgb, mpp = esg.protocol_tile(p, seed, i)
                yield p, lab, rgb, mpp
        fam = synthetic.PIGMENT_FAMILIES[seed % len(synthetic.PIGMENT_FAMILIES)]
        t = synthetic.pigment_family_tile(seed, fam, chromogen="dab", appearance="varied", near_black=True,
                                          saturated_positives=True)
        yield "H-DAB near-black", f"{fam} varied near-black saturated {seed}", t.rgb, t.mpp


def summary(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print(f"{len(rows)} tiles; places and the probe's own bodies differ on "
          f"{sum(len(r['bodies']) != r.get('n_dab', len(r['bodies'])) for r in rows)}")
    for group in dict.fromkeys(r["group"] for r in rows):
        sel = [r for r in rows if r["group"] == group]
        ods = np.asarray([b["od90"] for r in sel for b in r["bodies"]], float)
        meds = [float(np.median([b["od90"] for b in r["bodies"]])) for r in sel if r["bodies"]]
        he_colour = [r for r in sel if r["name"] == "H&E" or r["he_rule"]]
        print(f"{group}: n {len(sel)}, colour H&E {len(he_colour)}, H12 rule fired {sum(r['he_rule'] for r in sel)}, "
              f"bodies {ods.size}, body OD p90 pct 5/50/95 "
              f"{np.percentile(ods, [5, 50, 95]).round(3).tolist() if ods.size else '-'}, "
              f"tile median OD p90 min/max {min(meds, default=math.nan):.3f}/{max(meds, default=math.nan):.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first-seed", type=int, default=7200)
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--out", type=Path, default=None, help="JSON lines to write")
    ap.add_argument("--summary", type=Path, default=None, help="summarise a JSON-lines file instead")
    args = ap.parse_args(argv)
    if args.summary is not None:
        summary(args.summary)
        return 0
    out = args.out.open("w") if args.out else sys.stdout
    for group, lab, rgb, mpp in tiles(args.first_seed, args.seeds):
        out.write(json.dumps(_record(group, lab, rgb, mpp)) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
