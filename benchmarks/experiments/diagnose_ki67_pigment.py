"""Where the Ki67 error of a generated pigment-family tile comes from (issue #14, session 19 H4).

Each detected nucleus of :func:`mmnst_path.pipeline.analyze_region` (default configuration, what
``eval_pigment_families.py`` runs) is matched to the generator's truth at its centroid:

- ``pigment_made``: no true tumour nucleus under the centroid (within ``--match-um``) and melanin within
  ``--near-um`` (a granule chain or cluster read as a nucleus);
- ``hidden``: a true nucleus >= 75 % under melanin (the generator's ``hidden_nuclei``);
- ``fp_pigment`` / ``fp_clean``: a visible true negative counted positive, with / without melanin
  within ``--near-um`` of the nucleus;
- ``fn``: a visible true positive counted negative;
- ``other``: no true nucleus and no melanin near (stroma, debris).

The index error is split by removing the counted nuclei of each kind in that order (pigment-made,
hidden, other), then reading the false positives / negatives as the truth says; what is left
(``residual``) is the sampling of which visible nuclei were found and counted. ``--overlay DIR``
writes a PNG per tile: truth outlines (green negative, red positive, yellow hidden) and our calls
(crosses: red positive, cyan negative, magenta pigment, grey excluded).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/diagnose_ki67_pigment.py \
        --tiles dab:confluent:0 dab:spindle:1 --overlay /tmp/h4/ov
"""

from __future__ import annotations

import argparse
import math
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from mmnst_path.aggregate import CELL_CLASSES
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

PRESET = {"dab": "H-DAB", "aec": "H-AEC", "fast_red": "H-FastRed"}
KINDS = ("pigment_made", "hidden", "other", "fp_pigment", "fp_clean", "fn")


def diagnose(chromogen: str, family: str, seed: int, *, near_um: float, match_um: float,
             settings: dict | None = None) -> tuple[dict, dict]:
    """(row of figures, arrays for the overlay) of one tile."""
    tile = pigment_family_tile(seed, family, chromogen=chromogen, size=384)
    mapping = {"stains": PRESET[chromogen], "measures": ["ki67", "melanin"], **(settings or {})}
    cfg = AnalysisConfig.from_mapping(mapping)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(tile.rgb, cfg, mpp=tile.mpp)
    labels, mel, posmask = tile.masks["nuclei"], tile.masks["melanin"], tile.masks["positive_nuclei"]
    n = int(labels.max())
    area = np.bincount(labels.ravel(), minlength=n + 1)
    cov = np.bincount(labels.ravel(), mel.ravel(), minlength=n + 1) / np.maximum(area, 1)
    tpos = np.bincount(labels.ravel(), posmask.ravel().astype(float), minlength=n + 1) / np.maximum(area, 1) > 0.5
    hidden = (cov >= 0.75) & (area > 0)
    hidden[0] = False
    near_px = max(1, round(near_um / tile.mpp))
    match_px = max(0, round(match_um / tile.mpp))
    grown = ndi.grey_dilation(labels, size=2 * match_px + 1) if match_px else labels
    mel_near = ndi.binary_dilation(mel, iterations=near_px)
    # melanin within near_um of each true nucleus (its own or beside it)
    ring_mel = np.bincount(ndi.grey_dilation(labels, size=2 * near_px + 1).ravel(), mel.ravel(), minlength=n + 1) > 0
    cells = res.cells
    cls = np.asarray(CELL_CLASSES, dtype=object)[np.asarray(cells.cls).astype(int)]
    r = np.clip(np.rint(np.asarray(cells.row)).astype(int), 0, labels.shape[0] - 1)
    c = np.clip(np.rint(np.asarray(cells.col)).astype(int), 0, labels.shape[1] - 1)
    t = np.where(labels[r, c] > 0, labels[r, c], grown[r, c])
    counted = np.isin(cls, ("positive", "negative"))
    pos = cls == "positive"
    kind = np.full(len(cls), "", dtype="<U12")
    on = t > 0
    kind[~on & mel_near[r, c]] = "pigment_made"
    kind[~on & ~mel_near[r, c]] = "other"
    kind[on & hidden[t]] = "hidden"
    vis = on & ~hidden[t]
    kind[vis & ~tpos[t] & pos] = np.where(ring_mel[t[vis & ~tpos[t] & pos]], "fp_pigment", "fp_clean")
    kind[vis & tpos[t] & (cls == "negative")] = "fn"
    p, q = int(pos.sum()), int((cls == "negative").sum())
    row = {"chromogen": chromogen, "family": family, "seed": seed,
           "true": float(tile.truth["ki67_index_pct"]), "assessable": float(tile.truth["ki67_assessable_index_pct"]),
           "measured": float(res.metrics.get("ki67_index_pct", math.nan)), "P": p, "N": q,
           "true_nuclei": n, "hidden_true": int(hidden.sum())}
    row["error"] = row["measured"] - row["true"]
    for k in KINDS:
        row[f"n_{k}"] = int((counted & (kind == k)).sum())
        row[f"n_{k}_pos"] = int((pos & (kind == k)).sum())
    row["pigment_called"] = int((cls == "pigment").sum())
    row["pigment_called_visible"] = int(((cls == "pigment") & vis).sum())
    row["pigment_called_visible_pos"] = int(((cls == "pigment") & vis & tpos[np.maximum(t, 0)]).sum())
    found = np.zeros(n + 1, bool)
    found[t[counted & on]] = True
    row["visible_not_counted"] = int((~found[1:] & ~hidden[1:] & (area[1:] > 0)).sum())

    def idx(a: int, b: int) -> float:
        return 100.0 * a / (a + b) if a + b else math.nan

    cur = idx(p, q)
    for k in ("pigment_made", "hidden", "other"):
        kp, kn = row[f"n_{k}_pos"], row[f"n_{k}"] - row[f"n_{k}_pos"]
        p, q = p - kp, q - kn
        nxt = idx(p, q)
        row[f"d_{k}"] = cur - nxt
        cur = nxt
    for k, sign in (("fp_pigment", -1), ("fp_clean", -1), ("fn", 1)):
        m = row[f"n_{k}"]
        p, q = p + sign * m, q - sign * m
        nxt = idx(p, q)
        row[f"d_{k}"] = cur - nxt
        cur = nxt
    row["d_residual"] = cur - row["true"]
    arrays = {"rgb": tile.rgb, "labels": labels, "hidden": hidden, "tpos": tpos, "r": r, "c": c, "cls": cls,
              "kind": kind}
    return row, arrays


def overlay(path: Path, a: dict) -> None:
    """Tile (x2) with truth outlines and our calls."""
    from PIL import Image

    scale = 2
    rgb = np.repeat(np.repeat(a["rgb"], scale, 0), scale, 1).copy()
    labels = np.repeat(np.repeat(a["labels"], scale, 0), scale, 1)
    edge = (ndi.grey_dilation(labels, size=3) != ndi.grey_erosion(labels, size=3)) & (labels > 0)
    lab = labels[edge]
    colour = np.where(a["hidden"][lab][:, None], [255, 230, 0], np.where(a["tpos"][lab][:, None], [255, 0, 0],
                                                                             [0, 200, 0]))
    rgb[edge] = colour
    marks = {"positive": (255, 0, 0), "negative": (0, 220, 255), "pigment": (255, 0, 255), "excluded": (128, 128, 128)}
    for r, c, k, kind in zip(a["r"], a["c"], a["cls"], a["kind"], strict=True):
        col = marks[k]
        rr, cc = r * scale, c * scale
        big = 5 if kind else 3  # a longer cross on the nuclei that carry an error kind
        for d in range(-big, big + 1):
            for y, x in ((rr + d, cc), (rr, cc + d)):
                if 0 <= y < rgb.shape[0] and 0 <= x < rgb.shape[1]:
                    rgb[y, x] = col
    Image.fromarray(rgb.astype(np.uint8)).save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiles", nargs="*", default=None, help="chromogen:family:seed (default: every DAB family x seeds)")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--chromogens", nargs="*", default=["dab"])
    ap.add_argument("--near-um", type=float, default=2.0)
    ap.add_argument("--match-um", type=float, default=1.0)
    ap.add_argument("--overlay", type=Path, default=None)
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    args = ap.parse_args()
    settings: dict = {}
    for item in args.set:
        key, _, raw = item.partition("=")
        section, _, name = key.partition(".")
        value: object = {"true": True, "false": False}.get(raw.lower(), raw)
        if isinstance(value, str):
            try:
                value = float(raw)
            except ValueError:
                pass
        settings.setdefault(section, {})[name] = value
    tiles = ([tuple(t.split(":")) for t in args.tiles] if args.tiles else
             [(ch, f, str(s)) for ch in args.chromogens for f in PIGMENT_FAMILIES for s in range(args.seeds)])
    rows = []
    if args.overlay:
        args.overlay.mkdir(parents=True, exist_ok=True)
    for ch, fam, seed in tiles:
        row, arrays = diagnose(ch, fam, int(seed), near_um=args.near_um, match_um=args.match_um, settings=settings)
        rows.append(row)
        if args.overlay:
            overlay(args.overlay / f"{ch}_{fam}_{seed}.png", arrays)
        print(f"{ch} {fam} {seed}: true {row['true']:.1f} read {row['measured']:.1f} ({row['error']:+.1f}); "
              + ", ".join(f"{k} {row[f'n_{k}']}({row[f'n_{k}_pos']}+) {row[f'd_{k}']:+.1f}" for k in KINDS)
              + f", residual {row['d_residual']:+.1f}; pigment-called visible {row['pigment_called_visible']}"
              f" ({row['pigment_called_visible_pos']}+), visible not counted {row['visible_not_counted']}", flush=True)
    if args.csv:
        import csv

        with args.csv.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
