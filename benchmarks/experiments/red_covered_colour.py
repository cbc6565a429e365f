"""Red chromogens (AEC, Fast Red; issue #14, session 31 H2): what separates a pigment-covered red-positive
nucleus from a melanin-covered negative one by colour.

Every tile runs :func:`mmnst_path.pipeline.analyze_region` (the tile's preset, default configuration, or
``--set``); ``classify_nuclei`` is wrapped to keep its inputs and the image, mask and unmixing of the call.
For each nucleus the pigment mask touches, one CSV row: the truth (positive, hidden >= 75 % under melanin),
the rules' evidence (visible fraction, chromogen fill, ring pigment, near-black share), the class the tile
gave it, whether the chromogen-fill rule read it (``fill_read``), and colour features:

- ``c_phys`` / ``h_phys`` / ``m_phys``: the nucleus's mean OD (all its pixels, log10, against the tile's white
  point) unmixed into counterstain + chromogen + the physical melanin vector (3 unknowns, 3 channels);
- ``c_tile`` / ``h_tile`` / ``m_tile``: the same with the tile's own melanin direction (the mean OD of the
  pigment-mask pixels outside every nucleus);
- ``c_pix``: the median over the nucleus's pixels of the per-pixel chromogen of that 3-stain unmixing
  (physical melanin);
- ``ang_chr`` / ``ang_mel``: angle (degrees) of the nucleus's mean OD minus its counterstain part
  (2-stain counterstain + chromogen unmixing) to the chromogen and to the tile's melanin direction;
- ``od_sum``: the mean OD summed over the channels (darkness);
- ``colour``: the value the library's colour test read (``covered_chromogen_od``; NaN where it read none).

``fill_read`` is the rule's condition before the colour test, ``cls`` the class under the library's default (session
31's dump, /tmp/s31_h2/dev_cov.csv, was made before ``red_covered_min_chromogen_od`` was on, i.e. at 0).

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/red_covered_colour.py --first-seed 40 --seeds 8 \
        --csv /tmp/cov.csv
"""

from __future__ import annotations

import csv
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mmnst_path.quantify.ki67 as ki67_mod
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.stain import angle_deg, melanin_vector
from mmnst_path.stain.od import od_from_rgb
from mmnst_path.synthetic import pigment_family_tile

PRESET = {"aec": "H-AEC", "fast_red": "H-FastRed"}
_CAPTURED: list[dict] = []
_ORIGINAL = ki67_mod.classify_nuclei


def _capture(nuclei: Any, params: Any = None, **kw: Any) -> Any:
    frame = sys._getframe(1).f_locals  # measure_ki67's locals: the image, mask and unmixing it used
    params = ki67_mod.Ki67Params() if params is None else params
    cells = _ORIGINAL(nuclei, params, **kw)
    _CAPTURED.append({"nuclei": nuclei, "params": params, "kw": kw, "cells": cells,
                      **{k: frame.get(k) for k in ("rgb", "mask", "hidden", "matrix", "pair", "background", "origin")}})
    return cells


def _unmix(vectors: np.ndarray, od: np.ndarray) -> np.ndarray:
    """(n, k) least-squares concentrations of (n, 3) OD rows on the k unit rows of ``vectors``."""
    return np.linalg.lstsq(vectors.T, od.T, rcond=None)[0].T


def features(cap: dict) -> dict[str, np.ndarray]:
    """Per-nucleus colour features (module docstring) of one captured ``classify_nuclei`` call."""
    nuclei, rgb, matrix, pair = cap["nuclei"], cap["rgb"], cap["matrix"], cap["pair"]
    labels = nuclei.labels
    n = len(nuclei)
    od = od_from_rgb(rgb, background=cap["background"]).reshape(-1, 3).astype(np.float64)
    flat = labels.ravel()
    area = np.maximum(np.bincount(flat, minlength=n + 1), 1).astype(np.float64)
    mean = np.stack([np.bincount(flat, od[:, k], minlength=n + 1) / area for k in range(3)], axis=1)[1:]
    hv, cv = matrix.vector(pair[0]), matrix.vector(pair[1])
    mel_phys = melanin_vector()
    mask = cap["mask"]
    out: dict[str, np.ndarray] = {"od_sum": mean.sum(axis=1)}
    free = mask.ravel() & (flat == 0) if mask is not None else np.zeros(flat.shape, bool)
    mel_tile = od[free].mean(axis=0) if free.sum() >= 20 else mel_phys
    mel_tile = mel_tile / np.linalg.norm(mel_tile)
    out["mel_tile_deg_phys"] = np.full(n, angle_deg(mel_tile, mel_phys))
    # the melanin's excess over the pigment-free tissue outside nuclei (its cytoplasm / stroma stain)
    tissue = ~free & (flat == 0) & (od.sum(axis=1) > 0.15)
    mel_diff = mel_phys
    if free.sum() >= 20 and tissue.sum() >= 20:
        d = od[free].mean(axis=0) - od[tissue].mean(axis=0)
        if np.linalg.norm(d) > 0 and (d > 0).all():
            mel_diff = d / np.linalg.norm(d)
    out["mel_diff_deg_phys"] = np.full(n, angle_deg(mel_diff, mel_phys))
    for tag, mel in (("phys", mel_phys), ("tile", mel_tile), ("diff", mel_diff)):
        conc = _unmix(np.stack([hv, cv, mel]), mean)
        out[f"h_{tag}"], out[f"c_{tag}"], out[f"m_{tag}"] = conc[:, 0], conc[:, 1], conc[:, 2]
    pix = _unmix(np.stack([hv, cv, mel_phys]), od)[:, 1]
    inside = flat > 0
    out["c_pix"] = np.asarray(ndi.median(pix[inside], flat[inside], index=np.arange(1, n + 1)), np.float64)
    two = _unmix(np.stack([hv, cv]), mean)
    rest = mean - two[:, :1] * hv[None]
    out["ang_chr"] = np.array([angle_deg(r, cv) if np.linalg.norm(r) > 0 else np.nan for r in rest])
    out["ang_mel"] = np.array([angle_deg(r, mel_tile) if np.linalg.norm(r) > 0 else np.nan for r in rest])
    out["ang_phys"] = np.array([angle_deg(r, mel_phys) if np.linalg.norm(r) > 0 else np.nan for r in rest])
    return out


def tile_rows(chromogen: str, family: str, seed: int, *, positives: str, appearance: str,
              settings: dict) -> tuple[list[dict], dict]:
    """(the touched nuclei of one tile, one row each; the tile's counts and truth)."""
    gen = pigment_family_tile(seed, family, chromogen=chromogen, size=384, positives=positives,
                              appearance=appearance)
    tl, mel = gen.masks["nuclei"], gen.masks["melanin"]
    nt = int(tl.max())
    tarea = np.maximum(np.bincount(tl.ravel(), minlength=nt + 1), 1)
    tpos = np.bincount(tl.ravel(), gen.masks["positive_nuclei"].ravel().astype(float), minlength=nt + 1) / tarea > 0.5
    thid = np.bincount(tl.ravel(), mel.ravel().astype(float), minlength=nt + 1) / tarea >= 0.75
    cfg = AnalysisConfig.from_mapping({"stains": PRESET[chromogen], "measures": ["ki67", "melanin"], **settings})
    _CAPTURED.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze_region(gen.rgb, cfg, mpp=gen.mpp)
    base = {"chromogen": chromogen, "family": family, "seed": seed, "positives": positives, "appearance": appearance}
    rows = touched_rows(tl, tpos, thid, res, base)
    m = res.metrics
    summary = {**base, "true": float(gen.truth["ki67_index_pct"]),
               "measured": float(m.get("ki67_index_pct", np.nan)), "P": int(m.get("ki67_positive", 0)),
               "N": int(m.get("ki67_negative", 0)), "pigment": int(m.get("ki67_pigment", 0))}
    return rows, summary


def touched_rows(tl: np.ndarray, tpos: np.ndarray, thid: np.ndarray, res: Any, base: dict) -> list[dict]:
    """One row (``base`` plus the module docstring's columns) per touched nucleus of the ``classify_nuclei``
    calls captured while ``analyze_region`` made ``res``; ``tl``: the truth labels, ``tpos`` / ``thid``:
    per truth label (index 0 = background) positive / hidden under melanin."""
    rows = []
    for cap in _CAPTURED:
        kw, nuclei, params = cap["kw"], cap["nuclei"], cap["params"]
        if kw.get("visible_fraction") is None or nuclei.labels is None:
            continue
        n = len(nuclei)
        vis = np.asarray(kw["visible_fraction"], np.float64)
        fill = np.asarray(kw["dab_fill"], np.float64) if kw.get("dab_fill") is not None else np.zeros(n)
        ring = np.asarray(kw["ring_pigment_fraction"], np.float64)
        sat = np.asarray(kw["saturated_fraction"], np.float64) if kw.get("saturated_fraction") is not None \
            else np.zeros(n)
        covered = vis < params.pigment_min_visible_fraction
        fill_read = covered & (fill >= params.pigment_max_dab_fill) & (ring < params.pigment_ring_min_fraction) & ~(
            sat >= params.pigment_saturated_share)
        feats = features(cap)
        # the region is read padded, and the result keeps the cells inside the tile: the shift into the
        # tile's frame is the one most nucleus / cell pairs share
        rr, cc = np.asarray(res.cells.row), np.asarray(res.cells.col)
        shifts = np.round(np.stack([np.subtract.outer(np.asarray(nuclei.row), rr).ravel(),
                                    np.subtract.outer(np.asarray(nuclei.col), cc).ravel()], axis=1), 3)
        uniq, counts = np.unique(shifts, axis=0, return_counts=True)
        dr, dc = uniq[np.argmax(counts)]
        r = np.clip(np.rint(np.asarray(nuclei.row) - dr).astype(int), 0, tl.shape[0] - 1)
        c = np.clip(np.rint(np.asarray(nuclei.col) - dc).astype(int), 0, tl.shape[1] - 1)
        inside = ((np.asarray(nuclei.row) - dr >= -0.5) & (np.asarray(nuclei.row) - dr < tl.shape[0] - 0.5)
                  & (np.asarray(nuclei.col) - dc >= -0.5) & (np.asarray(nuclei.col) - dc < tl.shape[1] - 0.5))
        t = tl[r, c]
        cls = np.asarray(cap["cells"].cls).astype(str)
        # the library's own colour test value (NaN: none, e.g. the tile's melanin within 8° of the chromogen)
        given = kw.get("covered_chromogen_od")
        colour = np.full(n, np.nan) if given is None else np.asarray(given, np.float64)
        for i in np.flatnonzero(vis < 1.0):
            row = {**base, "i": int(i), "in_tile": bool(inside[i]),
                   "truth": "made" if t[i] == 0 else ("pos" if tpos[t[i]] else "neg"),
                   "hidden": bool(t[i] and thid[t[i]]), "cls": cls[i], "covered": bool(covered[i]),
                   "fill_read": bool(fill_read[i]), "vis": vis[i], "fill": fill[i], "ring": ring[i], "sat": sat[i],
                   "chrom_full": float(np.asarray(kw["full_dab_od_mean"])[i]),
                   "chrom_vis": float(np.asarray(kw["visible_dab_od_mean"])[i]),
                   "hem": float(np.asarray(nuclei.hematoxylin_od_mean)[i]), "colour": colour[i]}
            row.update({k: float(v[i]) for k, v in feats.items()})
            rows.append(row)
    return rows


def main() -> None:
    from red_ki67_error_split import tile_arguments

    ap = tile_arguments(__doc__)
    ap.add_argument("--positives", nargs="*", default=["standard"])
    ap.add_argument("--appearance", nargs="*", default=["plain"])
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--resume", action="store_true", help="keep the tiles the CSV holds")
    args = ap.parse_args()
    if args.first_seed < 40:
        sys.exit("dev seeds only (>= 40): seeds 0-3 are the rule's")
    ki67_mod.classify_nuclei = _capture  # type: ignore[assignment]
    rows: list[dict] = []
    done: set = set()
    if args.resume and args.csv.exists():
        with args.csv.open() as fh:
            rows = list(csv.DictReader(fh))
        done = {(r["positives"], r.get("appearance", "plain"), r["chromogen"], r["family"], int(r["seed"]))
                for r in rows}
    tiles: list[dict] = []
    for pos, look in ((p, a) for p in args.positives for a in args.appearance):
        for ch in args.chromogens:
            for fam in args.families:
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    if (pos, look, ch, fam, seed) in done:
                        continue
                    got, summary = tile_rows(ch, fam, seed, positives=pos, appearance=look, settings={})
                    rows.extend(got)
                    tiles.append(summary)
                    print(f"{pos} {look} {ch} {fam} {seed}: {len(got)} touched, "
                          f"{sum(r['fill_read'] for r in got)} fill-read", flush=True)
                    with args.csv.open("w", newline="") as fh:
                        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
                        w.writeheader()
                        w.writerows(rows)
                    with args.csv.with_suffix(".tiles.csv").open("w", newline="") as fh:
                        w = csv.DictWriter(fh, fieldnames=list(tiles[0]))
                        w.writeheader()
                        w.writerows(tiles)


if __name__ == "__main__":
    main()
