"""Experiment (#16, session 27 H3): the Ki67 "pigment-obscured" share against the generator's truth.

``ki67_pigment_obscured_pct`` is the share of the counted nuclei that the tool calls hidden under
pigment (class ``pigment``: positive + negative + pigment = 100 %). The generators know which nuclei
are hidden: :func:`mmnst_path.synthetic.pigment_family_tile` counts a tumour nucleus as hidden when
>= 75 % of it is covered by visible melanin (``truth["hidden_nuclei"]``), so the true share is
``hidden_nuclei / (ki67_positive + ki67_negative)``.

``families``: every DAB pigment family tile of ``benchmarks/eval_pigment_families.py`` (the same
``run_one``, the same configuration; ``--seeds 4`` = its 40 tiles), per tile the measured and the
true share and their difference; then the eval script's own Ki67 / melanin table of the same runs.

``sample REPO``: regenerates ``sample_tiles/ki67_pigmented.tif`` from ``REPO/sample_tiles/generate.py``
(in a scratch file; nothing in the repository is written), checks that its pixels equal the shipped
tile's, records each drawn nucleus's footprint (its soft contour >= 0.5) and counts the tumour
nuclei >= 75 % covered by the melanin the recipe drew (blurred by the renderer's 0.8 px optical blur,
>= 0.15 log10 OD, as the families' truth; also without the blur, the recipe's own melanin truth).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/obscured_share_truth.py families --seeds 4 --csv X.csv
    PYTHONPATH=. .venv/bin/python benchmarks/experiments/obscured_share_truth.py sample . --out /tmp/x
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi


def families(seeds: int, first_seed: int, size: int) -> list[dict]:
    """Run every DAB family tile through ``eval_pigment_families.run_one``; add the obscured shares."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import eval_pigment_families as ev

    from mmnst_path.synthetic import PIGMENT_FAMILIES

    seen: list = []
    tiles: list = []
    plain, make = ev.analyze_region, ev.pigment_family_tile

    def keep(*a: object, **k: object) -> object:
        res = plain(*a, **k)
        seen.append(res)
        return res

    def keep_tile(*a: object, **k: object) -> object:
        tile = make(*a, **k)
        tiles.append(tile)
        return tile

    ev.analyze_region, ev.pigment_family_tile = keep, keep_tile
    rows = []
    for fam in PIGMENT_FAMILIES:
        for seed in range(first_seed, first_seed + seeds):
            row = ev.run_one(seed, fam, "dab", size=size, stains="preset")
            m, truth = seen[-1].metrics, tiles[-1].truth
            n_true = int(truth["ki67_positive"]) + int(truth["ki67_negative"])
            row["obscured_true"] = 100.0 * int(truth["hidden_nuclei"]) / max(1, n_true)
            row["obscured_meas"] = float(m.get("ki67_pigment_obscured_pct", math.nan))
            row["if_positive_meas"] = float(m.get("ki67_index_if_obscured_positive_pct", math.nan))
            row["obscured_err"] = row["obscured_meas"] - row["obscured_true"]
            rows.append(row)
            print(f"{fam} {seed}: obscured {row['obscured_meas']:.2f} (truth {row['obscured_true']:.2f}), "
                  f"Ki67 {row['ki67_meas']:.2f} (truth {row['ki67_true']:.2f})", flush=True)
    print(ev.summarise(rows))
    err = np.asarray([r["obscured_err"] for r in rows if not math.isnan(r["obscured_err"])])
    print(f"\nobscured share: {err.size} tiles, mean |measured - truth| {np.mean(np.abs(err)):.3f} pp, "
          f"mean signed {err.mean():+.3f}, worst {err[np.argmax(np.abs(err))]:+.2f}")
    for fam in PIGMENT_FAMILIES:
        e = np.asarray([r["obscured_err"] for r in rows if r["family"] == fam])
        print(f"  {fam}: mean |err| {np.mean(np.abs(e)):.3f}, mean signed {e.mean():+.3f}")
    return rows


def sample(repo: Path, out: Path) -> dict:
    """Hidden nuclei of the regenerated ``ki67_pigmented.tif`` (see the module docstring)."""
    import tifffile

    sys.path.insert(0, str(repo / "sample_tiles"))
    import generate as g

    shapes: list = []
    painted: dict[int, int] = {}
    mels: list = []
    orig_shape, orig_paint, orig_mel = g.nucleus_shape, g.paint, g.melanin_granules

    def shape(*a: object, **k: object) -> object:
        s = orig_shape(*a, **k)
        shapes.append(s)
        return s

    def paint(conc: np.ndarray, s: object, *a: object, **k: object) -> None:
        painted[id(s)] = painted.get(id(s), 0) + 1
        orig_paint(conc, s, *a, **k)

    def granules(*a: object, **k: object) -> np.ndarray:
        m = orig_mel(*a, **k)
        mels.append(m)
        return m

    g.nucleus_shape, g.paint, g.melanin_granules = shape, paint, granules
    rgb, truth = g.TILES["ki67_pigmented.tif"]()
    out.mkdir(parents=True, exist_ok=True)
    g.write_tile(out / "ki67_pigmented_regenerated.tif", rgb)
    same = bool(np.array_equal(tifffile.imread(out / "ki67_pigmented_regenerated.tif"),
                               tifffile.imread(repo / "sample_tiles" / "ki67_pigmented.tif")))
    n_all = truth["ki67_positive"] + truth["ki67_negative"]
    n_tumour = truth["ki67_positive"] + truth["ki67_tumour_negative"]
    if len(shapes) != n_all:  # tumour nuclei first, then the stromal fibroblasts
        msg = f"recorded {len(shapes)} nucleus shapes, the truth has {n_all} nuclei"
        raise RuntimeError(msg)
    result: dict = {"same_pixels": same, "all_nuclei": n_all, "tumour_nuclei": n_tumour}
    for name, mask in (("blurred", ndi.gaussian_filter(mels[0], 0.8) >= 0.15), ("unblurred", mels[0] > 0.15)):
        hidden = hidden_pos = 0
        for s in shapes[:n_tumour]:
            fp = s.edge >= 0.5
            r0, c0 = max(0, s.r0), max(0, s.c0)
            r1, c1 = min(mask.shape[0], s.r0 + fp.shape[0]), min(mask.shape[1], s.c0 + fp.shape[1])
            f = fp[r0 - s.r0:r1 - s.r0, c0 - s.c0:c1 - s.c0]
            if f.any() and mask[r0:r1, c0:c1][f].mean() >= 0.75:
                hidden += 1
                hidden_pos += painted[id(s)] == 2  # a positive nucleus is painted twice (DAB, counterstain)
        result[name] = {"hidden": hidden, "hidden_positive": hidden_pos, "obscured_pct": 100.0 * hidden / n_all,
                        "index_if_obscured_positive_pct":
                            100.0 * (truth["ki67_positive"] + hidden - hidden_pos) / n_all}
    print(json.dumps(result, indent=1))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    f = sub.add_parser("families")
    f.add_argument("--seeds", type=int, default=4)
    f.add_argument("--first-seed", type=int, default=0)
    f.add_argument("--size", type=int, default=384)
    f.add_argument("--csv", type=Path)
    s = sub.add_parser("sample")
    s.add_argument("repo", type=Path)
    s.add_argument("--out", type=Path, required=True, help="scratch folder for the regenerated tile")
    args = ap.parse_args()
    if args.what == "sample":
        sample(args.repo.resolve(), args.out)
        return
    rows = families(args.seeds, args.first_seed, args.size)
    if args.csv:
        with args.csv.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=sorted({k for r in rows for k in r}))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
