"""Where the Ki67 error of red-chromogen (AEC, Fast Red) tiles comes from (issue #14, session 30 H6).

Every detected nucleus of :func:`mmnst_path.pipeline.analyze_region` (the tile's preset, default configuration:
what ``eval_pigment_families.py`` runs) is matched to the truth nucleus under its centroid (within
``--match-um``), and every counted nucleus gets one kind:

- ``hidden_pos`` / ``hidden_neg``: the truth nucleus is hidden under melanin (generated tiles: >= 75 % covered,
  the generator's ``hidden_nuclei``; held-out renderer: its own ``hidden``), counted positive / negative;
- ``fn``: a visible true positive counted negative (weak red);
- ``fp_over`` / ``fp_beside`` / ``fp_clean``: a visible true negative counted positive with melanin over part of
  its nucleus / only within ``--near-um`` of it / neither;
- ``made``: no truth nucleus under the centroid (pigment or stroma read as a nucleus);
- ``non_tumour``: (held-out renderer) a lymphocyte, stromal or macrophage nucleus counted.

The index error (measured - truth over all tumour nuclei, pp) is split by taking those out in turn: first the
counted nuclei that should not be in the index (``made``, ``non_tumour``, then the hidden ones: what the index
would read if the hidden nuclei were left out), then each misread kind read as the truth says; ``hidden_share``
is what leaving the hidden nuclei out of the truth costs (assessable index - index) and ``missed`` what is left
(which visible nuclei were found; ``visible_missed``: visible truth nuclei with no counted detection,
``visible_pigment``: visible truth nuclei called ``pigment``). ``--overlay DIR`` writes
``benchmarks/experiments/diagnose_ki67_pigment.py``'s overlay of each tile.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/red_ki67_error_split.py --first-seed 40 --seeds 8 \
        --csv /tmp/red.csv
    PYTHONPATH=. .venv/bin/python benchmarks/experiments/red_ki67_error_split.py --heldout 100 112 --csv /tmp/h.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmnst_path.aggregate import CELL_CLASSES
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

PRESET = {"aec": "H-AEC", "fast_red": "H-FastRed", "dab": "H-DAB"}
KINDS = ("made", "non_tumour", "hidden_pos", "hidden_neg", "fp_over", "fp_beside", "fp_clean", "fn")


def truth(chromogen: str, family: str, seed: int, positives: str = "standard", appearance: str = "plain") -> dict:
    """Truth of one tile: rgb, mpp, labels, melanin, and per label (index 0 = background) tumour / positive /
    hidden flags; ``family == "heldout"`` reads the held-out renderer's tile ``seed``; ``positives``:
    :func:`~mmnst_path.synthetic.pigment_family_tile`'s (``"wide"``: faint 1+ positives too), and its
    ``appearance``."""
    if family == "heldout":
        from heldout_render import render

        tile = render(seed, size=512, pigment="random", chromogen=chromogen)
        nuc = tile.nuclei
        pad = lambda a: np.concatenate([[False], np.asarray(a, bool)])  # noqa: E731
        return {"rgb": tile.rgb, "mpp": tile.mpp, "labels": tile.labels, "mel": tile.melanin,
                "tumour": pad(nuc["kind"] == 0), "tpos": pad((nuc["kind"] == 0) & (nuc["grade"] > 0)),
                "hidden": pad((nuc["kind"] == 0) & nuc["hidden"]), "true": float(tile.ki67_index_pct),
                "assessable": float(tile.ki67_assessable_index_pct)}
    gen = pigment_family_tile(seed, family, chromogen=chromogen, size=384, positives=positives,
                              appearance=appearance)
    labels, mel = gen.masks["nuclei"], gen.masks["melanin"]
    n = int(labels.max())
    area = np.bincount(labels.ravel(), minlength=n + 1)
    share = lambda m: np.bincount(labels.ravel(), m.ravel().astype(float), minlength=n + 1) / np.maximum(area, 1)  # noqa: E731
    tumour = area > 0
    tumour[0] = False
    return {"rgb": gen.rgb, "mpp": gen.mpp, "labels": labels, "mel": mel, "tumour": tumour,
            "tpos": tumour & (share(gen.masks["positive_nuclei"]) > 0.5), "hidden": tumour & (share(mel) >= 0.75),
            "true": float(gen.truth["ki67_index_pct"]), "assessable": float(gen.truth["ki67_assessable_index_pct"])}


def split(chromogen: str, family: str, seed: int, *, near_um: float, match_um: float,
          settings: dict | None = None, positives: str = "standard", appearance: str = "plain") -> tuple[dict, dict]:
    """(row of counts and error parts, arrays for the overlay) of one tile."""
    tr = truth(chromogen, family, seed, positives, appearance)
    labels, mel, mpp = tr["labels"], tr["mel"], tr["mpp"]
    n = int(labels.max())
    cfg = AnalysisConfig.from_mapping({"stains": PRESET[chromogen], "measures": ["ki67", "melanin"],
                                       **(settings or {})})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(tr["rgb"], cfg, mpp=mpp)
    cells = res.cells
    cls = np.asarray(CELL_CLASSES, dtype=object)[np.asarray(cells.cls).astype(int)].astype(str)
    r = np.clip(np.rint(np.asarray(cells.row)).astype(int), 0, labels.shape[0] - 1)
    c = np.clip(np.rint(np.asarray(cells.col)).astype(int), 0, labels.shape[1] - 1)
    m = max(0, round(match_um / mpp))
    grown = ndi.grey_dilation(labels, size=2 * m + 1) if m else labels
    t = np.where(labels[r, c] > 0, labels[r, c], grown[r, c])
    near = max(1, round(near_um / mpp))
    over = np.bincount(labels.ravel(), mel.ravel(), minlength=n + 1) > 0
    beside = np.bincount(ndi.grey_dilation(labels, size=2 * near + 1).ravel(), mel.ravel(), minlength=n + 1) > 0
    tum, tpos, hid = tr["tumour"][t], tr["tpos"][t], tr["hidden"][t]
    pos, negc = cls == "positive", cls == "negative"
    counted = pos | negc
    vis = (t > 0) & tum & ~hid
    kind = np.full(len(cls), "", dtype="<U12")
    kind[t == 0] = "made"
    kind[(t > 0) & ~tum] = "non_tumour"
    kind[hid & pos] = "hidden_pos"
    kind[hid & negc] = "hidden_neg"
    fp = vis & ~tpos & pos
    kind[fp] = np.where(over[t[fp]], "fp_over", np.where(beside[t[fp]], "fp_beside", "fp_clean"))
    kind[vis & tpos & negc] = "fn"
    row: dict = {"chromogen": chromogen, "family": family, "seed": seed, "positives": positives,
                 "appearance": appearance, "true": tr["true"],
                 "assessable": tr["assessable"], "measured": float(res.metrics.get("ki67_index_pct", math.nan)),
                 "tumour_nuclei": int(tr["tumour"].sum()), "hidden_true": int(tr["hidden"].sum()),
                 "P": int(pos.sum()), "N": int(negc.sum())}
    row["error"] = row["measured"] - row["true"]
    for k in KINDS:
        row[f"n_{k}"] = int((counted & (kind == k)).sum())
    found = np.zeros(n + 1, bool)
    found[t[counted & (t > 0)]] = True
    visible = tr["tumour"] & ~tr["hidden"]
    row["visible_true"] = int(visible.sum())
    row["visible_missed"] = int((visible & ~found).sum())
    row["visible_pigment"] = int((vis & (cls == "pigment")).sum())
    row["visible_pigment_pos"] = int((vis & tpos & (cls == "pigment")).sum())
    row["hidden_pigment"] = int((hid & (cls == "pigment")).sum())

    def idx(a: int, b: int) -> float:
        return 100.0 * a / (a + b) if a + b else math.nan

    p, q = row["P"], row["N"]
    cur = idx(p, q)
    for drop in (("made",), ("non_tumour",), ("hidden_pos", "hidden_neg")):
        p -= sum(int((pos & (kind == k)).sum()) for k in drop)
        q -= sum(int((negc & (kind == k)).sum()) for k in drop)
        nxt = idx(p, q)
        row["d_" + drop[0].split("_")[0]] = cur - nxt
        cur = nxt
    for k, sign in (("fp_over", -1), ("fp_beside", -1), ("fp_clean", -1), ("fn", 1)):
        p, q = p + sign * row[f"n_{k}"], q - sign * row[f"n_{k}"]
        nxt = idx(p, q)
        row[f"d_{k}"] = cur - nxt
        cur = nxt
    row["d_missed"] = cur - row["assessable"]
    row["d_hidden_share"] = row["assessable"] - row["true"]
    arrays = {"rgb": tr["rgb"], "labels": labels, "hidden": tr["hidden"], "tpos": tr["tpos"], "r": r, "c": c,
              "cls": cls, "kind": kind, "result": res}
    return row, arrays


PARTS = ("d_made", "d_non", "d_hidden", "d_hidden_share", "d_fp_over", "d_fp_beside", "d_fp_clean", "d_fn", "d_missed")


def table(rows: list[dict]) -> str:
    """Per chromogen and family: mean |error|, mean signed error and the mean of each part (pp), counts."""
    head = ("| chromogen | family | n | mean abs err | mean err | " + " | ".join(PARTS) +
            " | hidden + / counted / true | fn / fp_over / fp_beside / fp_clean | made | visible missed / pigment |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for key in dict.fromkeys((r["chromogen"], r["family"]) for r in rows):
        sel = [r for r in rows if (r["chromogen"], r["family"]) == key]
        e = np.asarray([r["error"] for r in sel])
        tot = {k: sum(r[k] for r in sel) for k in sel[0] if k.startswith(("n_", "visible_", "hidden_"))}
        parts = " | ".join(f"{np.nanmean([r[p] for r in sel]):+.2f}" for p in PARTS)
        counts = (f"{tot['n_hidden_pos']} / {tot['n_hidden_pos'] + tot['n_hidden_neg']} / {tot['hidden_true']} | "
                  f"{tot['n_fn']} / {tot['n_fp_over']} / {tot['n_fp_beside']} / {tot['n_fp_clean']} | "
                  f"{tot['n_made']} | {tot['visible_missed']} / {tot['visible_pigment']}")
        lines.append(f"| {key[0]} | {key[1]} | {len(sel)} | {np.nanmean(np.abs(e)):.2f} | {np.nanmean(e):+.2f} | "
                     f"{parts} | {counts} |")
    return "\n".join(lines)


def tile_arguments(doc: str | None) -> argparse.ArgumentParser:
    """A parser with the tile selection every red-chromogen experiment shares: ``--chromogens``,
    ``--families``, ``--first-seed`` (default 40: dev seeds), ``--seeds``."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chromogens", nargs="*", default=["aec", "fast_red"])
    ap.add_argument("--families", nargs="*", default=list(PIGMENT_FAMILIES))
    ap.add_argument("--first-seed", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=8)
    return ap


def main() -> None:
    ap = tile_arguments(__doc__)
    ap.add_argument("--heldout", type=int, nargs=2, default=None, metavar=("FIRST", "STOP"),
                    help="read the held-out renderer's seeds FIRST..STOP-1 instead of the families")
    ap.add_argument("--tiles", nargs="*", default=None, help="CHROMOGEN:FAMILY:SEED (family 'heldout' allowed)")
    ap.add_argument("--near-um", type=float, default=2.0)
    ap.add_argument("--match-um", type=float, default=1.0)
    ap.add_argument("--overlay", type=Path, default=None)
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    ap.add_argument("--positives", default="standard", choices=("standard", "wide"),
                    help="the families' positives (wide: faint 1+ positives too)")
    ap.add_argument("--appearance", default="plain", choices=("plain", "varied"))
    args = ap.parse_args()
    settings: dict = {}
    for item in args.set:
        key, _, raw = item.partition("=")
        section, _, name = key.partition(".")
        try:
            value: object = float(raw)
        except ValueError:
            value = {"true": True, "false": False}.get(raw.lower(), raw)
        settings.setdefault(section, {})[name] = value
    if args.tiles:
        tiles = [(a, b, int(s)) for a, b, s in (x.split(":") for x in args.tiles)]
    elif args.heldout:
        tiles = [(ch, "heldout", s) for ch in args.chromogens for s in range(*args.heldout)]
    else:
        tiles = [(ch, f, s) for ch in args.chromogens for f in args.families
                 for s in range(args.first_seed, args.first_seed + args.seeds)]
    if args.overlay:
        from diagnose_ki67_pigment import overlay

        args.overlay.mkdir(parents=True, exist_ok=True)
    rows = []
    for ch, fam, seed in tiles:
        row, arrays = split(ch, fam, seed, near_um=args.near_um, match_um=args.match_um, settings=settings,
                            positives=args.positives, appearance=args.appearance)
        rows.append(row)
        if args.overlay:
            overlay(args.overlay / f"{ch}_{fam}_{seed}.png", arrays)
        print(f"{ch} {fam} {seed}: true {row['true']:.2f} read {row['measured']:.2f} ({row['error']:+.2f}); "
              + ", ".join(f"{p[2:]} {row[p]:+.2f}" for p in PARTS), flush=True)
        if args.csv:
            with args.csv.open("w", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
    print(table(rows))


if __name__ == "__main__":
    main()
