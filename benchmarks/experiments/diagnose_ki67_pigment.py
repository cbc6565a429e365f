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

``--heldout N`` reads the first N tiles of the independently written renderer instead
(``benchmarks/heldout_render.py``, random pigment, H-DAB, 512 px: what ``eval_heldout.py --stains H-DAB
--pigment random`` runs). Its truth also holds lymphocytes, stroma and macrophages (``non_tumour``: counted
nuclei that are not tumour) and grades positives weak / moderate / strong, so the false negatives split
further into weak positives lost with / without melanin within ``--near-um`` (``fn_weak_pigment`` /
``fn_weak_clean``) and moderate / strong ones lost (``fn_strong``); the per-grade DAB of the visible positives
as the pipeline reads it (``dab_weak``: median nucleus DAB OD mean) is written beside them (session 20 H2).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/diagnose_ki67_pigment.py --heldout 12 --csv h.csv

``--why-hidden MODEL`` (session 21 H3) says why the hidden nuclei counted positive were not taken out by the
hidden-nucleus model ``MODEL`` (``default`` or a ``.mmnst`` path): the tile is read again by the Ki67 step alone
(``classify_pigment`` mask, ``measure_ki67`` with default parameters, as ``scripts/train_hidden_model.py`` reads
it; its cells are the pipeline's up to its tiling), and each true hidden nucleus it counts positive is put in one
of ``why_no_prior`` (no melanin in the pigment mask around it: the model is never asked; ``why_no_prior_would``:
of those, the ones the model would call hidden if asked), ``why_low_p`` (asked, probability below
``Ki67Params.hidden_min_probability``) or ``why_high_p`` (asked and called hidden: positive only without the
model); ``why_p_median``: the model's median probability over them.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from mmnst_path.aggregate import CELL_CLASSES
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile

PRESET = {"dab": "H-DAB", "aec": "H-AEC", "fast_red": "H-FastRed"}
KINDS = ("pigment_made", "hidden", "other", "fp_pigment", "fp_clean", "fn")
#: the held-out renderer's split: non-tumour nuclei counted, and the false negatives by grade and melanin
HELDOUT_KINDS = ("pigment_made", "hidden", "other", "non_tumour", "fp_pigment", "fp_clean", "fn_weak_pigment",
                 "fn_weak_clean", "fn_strong")


def _heldout_truth(seed: int) -> tuple[Any, dict, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(tile, row start, labels, melanin, true positive, hidden, grade) of a held-out renderer tile; every
    per-nucleus array is indexed by label (0: background; grade -1 for non-tumour nuclei)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from heldout_render import render

    tile = render(seed, size=512, pigment="random")
    nuc = tile.nuclei
    tum = np.concatenate([[False], nuc["kind"] == 0])
    grade = np.concatenate([[-1], np.where(nuc["kind"] == 0, nuc["grade"], -1)])
    hidden = np.concatenate([[False], nuc["hidden"]]) & tum
    row = {"chromogen": "dab", "family": "+".join(str(m) for m in tile.params["morphologies"]), "seed": seed,
           "true": float(tile.ki67_index_pct), "assessable": float(tile.ki67_assessable_index_pct)}
    return tile, row, tile.labels, tile.melanin, grade > 0, hidden, grade


def diagnose(chromogen: str, family: str, seed: int, *, near_um: float, match_um: float,
             settings: dict | None = None, heldout: bool = False, positives: str = "standard",
             tile_kw: dict | None = None) -> tuple[dict, dict]:
    """(row of figures, arrays for the overlay) of one tile (``heldout``: the held-out renderer's tile ``seed``;
    ``positives``: the generated tile's Ki67-positive rendering; ``tile_kw``: further ``pigment_family_tile``
    keywords)."""
    if heldout:
        tile, row, labels, mel, tpos, hidden, grade = _heldout_truth(seed)
        rgb, mpp = tile.rgb, tile.mpp
        n = int(labels.max())
        area = np.bincount(labels.ravel(), minlength=n + 1)
        chromogen = "dab"
    else:
        gen = pigment_family_tile(seed, family, chromogen=chromogen, size=384, positives=positives, **(tile_kw or {}))
        rgb, mpp = gen.rgb, gen.mpp
        labels, mel, posmask = gen.masks["nuclei"], gen.masks["melanin"], gen.masks["positive_nuclei"]
        n = int(labels.max())
        area = np.bincount(labels.ravel(), minlength=n + 1)
        cov = np.bincount(labels.ravel(), mel.ravel(), minlength=n + 1) / np.maximum(area, 1)
        tpos = np.bincount(labels.ravel(), posmask.ravel().astype(float), minlength=n + 1) / np.maximum(area, 1) > 0.5
        hidden = (cov >= 0.75) & (area > 0)
        hidden[0] = False
        grade = np.where(tpos, 2, 0)  # the generator grades nothing: every positive counts as "strong" here
        grade[0] = -1
        row = {"chromogen": chromogen, "family": family, "seed": seed, "true": float(gen.truth["ki67_index_pct"]),
               "assessable": float(gen.truth["ki67_assessable_index_pct"])}
    mapping = {"stains": PRESET[chromogen], "measures": ["ki67", "melanin"], **(settings or {})}
    cfg = AnalysisConfig.from_mapping(mapping)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(rgb, cfg, mpp=mpp)
    near_px = max(1, round(near_um / mpp))
    match_px = max(0, round(match_um / mpp))
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
    kind = np.full(len(cls), "", dtype="<U16")
    on = t > 0
    kind[~on & mel_near[r, c]] = "pigment_made"
    kind[~on & ~mel_near[r, c]] = "other"
    kind[on & hidden[t]] = "hidden"
    vis = on & ~hidden[t]
    if heldout:  # lymphocytes, stroma, macrophages: not tumour, whatever they read
        kind[on & (grade[t] < 0)] = "non_tumour"
        vis = vis & (grade[t] >= 0)
    kind[vis & ~tpos[t] & pos] = np.where(ring_mel[t[vis & ~tpos[t] & pos]], "fp_pigment", "fp_clean")
    fn = vis & tpos[t] & (cls == "negative")
    if heldout:
        weak = fn & (grade[t] == 1)
        kind[weak] = np.where(ring_mel[t[weak]], "fn_weak_pigment", "fn_weak_clean")
        kind[fn & (grade[t] > 1)] = "fn_strong"
    else:
        kind[fn] = "fn"
    kinds = HELDOUT_KINDS if heldout else KINDS
    p, q = int(pos.sum()), int((cls == "negative").sum())
    row.update({"measured": float(res.metrics.get("ki67_index_pct", math.nan)), "P": p, "N": q,
                "true_nuclei": n, "hidden_true": int(hidden.sum())})
    row["error"] = row["measured"] - row["true"]
    sel = vis & tpos[t] & counted  # every visible true positive counted: read + (beside melanin or not)
    row["pos_counted"], row["pos_read_pos"] = int(sel.sum()), int((sel & pos).sum())
    row["pos_near_melanin"], row["pos_near_melanin_pos"] = int((sel & ring_mel[t]).sum()), int((sel & ring_mel[t] & pos).sum())
    if heldout:  # the visible true positives of each grade: how many counted, read +, and their DAB as read
        dab = np.asarray(cells.columns.get("dab_od_mean", np.full(len(cls), np.nan)), float)
        for g, name in ((1, "weak"), (2, "moderate"), (3, "strong")):
            sel = vis & (grade[t] == g)
            cnt = sel & counted
            row[f"{name}_counted"] = int(cnt.sum())
            row[f"{name}_read_pos"] = int((cnt & pos).sum())
            row[f"{name}_near_melanin"] = int((cnt & ring_mel[t]).sum())
            row[f"{name}_near_melanin_pos"] = int((cnt & ring_mel[t] & pos).sum())
            row[f"{name}_pigment_called"] = int((sel & (cls == "pigment")).sum())
            row[f"dab_{name}"] = float(np.nanmedian(dab[sel])) if sel.any() and np.isfinite(dab[sel]).any() else math.nan
        sel = vis & (grade[t] == 0) & counted
        row["dab_negative"] = float(np.nanmedian(dab[sel])) if sel.any() and np.isfinite(dab[sel]).any() else math.nan
    for k in kinds:
        row[f"n_{k}"] = int((counted & (kind == k)).sum())
        row[f"n_{k}_pos"] = int((pos & (kind == k)).sum())
    row["pigment_called"] = int((cls == "pigment").sum())
    row["pigment_called_visible"] = int(((cls == "pigment") & vis).sum())
    row["pigment_called_visible_pos"] = int(((cls == "pigment") & vis & tpos[np.maximum(t, 0)]).sum())
    found = np.zeros(n + 1, bool)
    found[t[counted & on]] = True
    row["visible_not_counted"] = int((~found[1:] & ~hidden[1:] & (area[1:] > 0) & (grade[1:] >= 0)).sum())

    def idx(a: int, b: int) -> float:
        return 100.0 * a / (a + b) if a + b else math.nan

    cur = idx(p, q)
    for k in ("pigment_made", "hidden", "other", *(("non_tumour",) if heldout else ())):
        kp, kn = row[f"n_{k}_pos"], row[f"n_{k}"] - row[f"n_{k}_pos"]
        p, q = p - kp, q - kn
        nxt = idx(p, q)
        row[f"d_{k}"] = cur - nxt
        cur = nxt
    for k, sign in (("fp_pigment", -1), ("fp_clean", -1),
                    *(((f, 1) for f in kinds[-3:]) if heldout else (("fn", 1),))):
        m = row[f"n_{k}"]
        p, q = p + sign * m, q - sign * m
        nxt = idx(p, q)
        row[f"d_{k}"] = cur - nxt
        cur = nxt
    row["d_residual"] = cur - row["true"]
    arrays = {"mpp": mpp, "rgb": rgb, "labels": labels, "hidden": hidden, "tpos": tpos, "r": r, "c": c, "cls": cls,
              "kind": kind}
    return row, arrays


def why_hidden(a: dict, model_name: str) -> dict:
    """Why the true hidden nuclei the Ki67 step counts positive stay positive (``--why-hidden``): figures
    ``why_*`` (module docstring) of one tile's ``arrays``."""
    from mmnst_path.classify.hidden_nuclei import hidden_probability, resolve_hidden_model
    from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
    from mmnst_path.detect.pigment import PigmentParams
    from mmnst_path.quantify.ki67 import Ki67Params, _local_pigment_share, measure_ki67
    from mmnst_path.stain import load_stains

    params, mpp, labels = Ki67Params(), float(a["mpp"]), a["labels"]
    model = resolve_hidden_model(model_name)
    assert model is not None, "--why-hidden needs a model ('default' or a .mmnst path)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mask, _ = classify_pigment(a["rgb"], mpp=mpp, model=resolve_pigment_model("default"), stains="H-DAB",
                                   params=PigmentParams())
        region = measure_ki67(a["rgb"], mpp=mpp, stains=load_stains("H-DAB"), params=params, pigment_mask=mask,
                              return_pigment_features=True)
    cells = region.cells
    r = np.clip(np.rint(np.asarray(cells.row)).astype(int), 0, labels.shape[0] - 1)
    c = np.clip(np.rint(np.asarray(cells.col)).astype(int), 0, labels.shape[1] - 1)
    t = labels[r, c]
    sel = (t > 0) & a["hidden"][t] & (np.asarray(cells.cls).astype(str) == "positive")
    x = region.pigment_features
    p = hidden_probability(model, x) if x is not None and len(x) else np.zeros(len(t))
    radius = max(0, round(params.pigment_prior_radius_um / mpp))
    prior = (_local_pigment_share(mask, cells.row, cells.col, radius_px=radius) >= params.pigment_prior_fraction
             if mask.any() and len(t) else np.zeros(len(t), bool))
    high = p >= params.hidden_min_probability
    return {"why_hidden_pos": int(sel.sum()), "why_no_prior": int((sel & ~prior).sum()),
            "why_no_prior_would": int((sel & ~prior & high).sum()), "why_low_p": int((sel & prior & ~high).sum()),
            "why_high_p": int((sel & prior & high).sum()),
            "why_p_median": float(np.median(p[sel])) if sel.any() else math.nan,
            "why_mask_pct": 100.0 * float(mask.mean())}


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
    ap.add_argument("--heldout", type=int, default=0, help="N held-out renderer tiles (from --first-seed) instead")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--positives", default="standard", choices=["standard", "wide"],
                    help="generated tiles' Ki67-positive rendering (pigment_family_tile positives)")
    ap.add_argument("--saturated-positives", action="store_true",
                    help="generated tiles with saturated_positives=True (strong DAB at the camera's floor)")
    ap.add_argument("--near-black", action="store_true", help="generated tiles with near-black melanin")
    ap.add_argument("--granular", action="store_true", help="with --near-black: near_black_texture='granular'")
    ap.add_argument("--near-um", type=float, default=2.0)
    ap.add_argument("--match-um", type=float, default=1.0)
    ap.add_argument("--overlay", type=Path, default=None)
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    ap.add_argument("--why-hidden", default=None, metavar="MODEL",
                    help="why hidden nuclei stay positive: prior / the model's probability (a hidden model: default or path)")
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
    tiles = ([("dab", "heldout", str(s)) for s in range(args.first_seed, args.first_seed + args.heldout)] if args.heldout else
             [tuple(t.split(":")) for t in args.tiles] if args.tiles else
             [(ch, f, str(s)) for ch in args.chromogens for f in PIGMENT_FAMILIES
              for s in range(args.first_seed, args.first_seed + args.seeds)])
    kinds = HELDOUT_KINDS if args.heldout else KINDS
    rows = []
    if args.overlay:
        args.overlay.mkdir(parents=True, exist_ok=True)
    for ch, fam, seed in tiles:
        row, arrays = diagnose(ch, fam, int(seed), near_um=args.near_um, match_um=args.match_um, settings=settings,
                               heldout=bool(args.heldout), positives=args.positives,
                               tile_kw={**{k: True for k, on in (("saturated_positives", args.saturated_positives),
                                                                 ("near_black", args.near_black)) if on},
                                        **({"near_black_texture": "granular"} if args.granular else {})})
        if args.why_hidden:
            row.update(why_hidden(arrays, args.why_hidden))
        rows.append(row)
        if args.overlay:
            overlay(args.overlay / f"{ch}_{fam}_{seed}.png", arrays)
        print(f"{ch} {fam} {seed}: true {row['true']:.1f} read {row['measured']:.1f} ({row['error']:+.1f}); "
              + ", ".join(f"{k} {row[f'n_{k}']}({row[f'n_{k}_pos']}+) {row[f'd_{k}']:+.1f}" for k in kinds)
              + f", residual {row['d_residual']:+.1f}; pigment-called visible {row['pigment_called_visible']}"
              f" ({row['pigment_called_visible_pos']}+), visible not counted {row['visible_not_counted']}"
              + (f"; why hidden +: {row['why_hidden_pos']} = no prior {row['why_no_prior']} (model would take "
                 f"{row['why_no_prior_would']}) + low p {row['why_low_p']} + high p {row['why_high_p']}, p median "
                 f"{row['why_p_median']:.2f}, mask {row['why_mask_pct']:.2f} %" if args.why_hidden else ""), flush=True)
    if args.csv:
        import csv

        with args.csv.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
