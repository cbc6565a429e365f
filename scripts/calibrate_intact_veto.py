"""Calibrate the intact-nucleus veto of necrosis on training sources only (issue #13).

Sources (none of them is a validation set): the BRCA-M2C *train* split (viable breast carcinoma, 0.5 µm/px;
every necrotic block is false), and the necrosis tiles among the training seeds of
``mmnst_path.synthetic_tissue.he_tissue_tile`` (400-495), each measured twice: as generated, and with
karyorrhectic bodies painted into its true necrosis (:func:`paint_karyorrhexis`: dense round hematoxylin bodies
of 2.5-5.5 µm, alone or in clusters of up to four, 0.3-2 clusters per 1000 µm², as the apoptotic and
karyorrhectic bodies of real necrosis; the generator's own debris is 0.4-2 µm). The BRCA-M2C test split, the
osteosarcoma held-out tiles and ``benchmarks/heldout_render_he.py`` are not read.

Prints, for each setting of ``intact_veto_density`` x ``intact_min_extent_um``: the BRCA-M2C train necrosis mean %
and patches > 5 %, and the mean |error| (pp) of the generated tiles without and with painted bodies, and the
per-candidate pass rates of the extent test (BRCA-M2C train candidates near an annotated nucleus; painted bodies).

    PYTHONPATH=. .venv/bin/python scripts/calibrate_intact_veto.py [--every 3] [--densities 0.7 1.0]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from mmnst_path.quantify._intact_nuclei import nucleus_extent_um, nucleus_peaks
from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics
from mmnst_path.stain import load_stains, od_from_rgb

ROOT = Path(__file__).resolve().parents[1]
BRCA = ROOT / ".." / "shared" / "train" / "brca_m2c"
H_VECTOR = np.array([0.650, 0.704, 0.286]) / np.linalg.norm([0.650, 0.704, 0.286])


def paint_karyorrhexis(rgb: np.ndarray, region: np.ndarray, mpp: float, rng: np.random.Generator) -> np.ndarray:
    """``rgb`` with karyorrhectic bodies in ``region``: dense (0.45-1.3 OD hematoxylin), round to oval (axis ratio
    0.7-1), 2.5-5.5 µm across, 1-4 per cluster scattered ~3 µm around its centre, 0.3-2 clusters per 1000 µm²."""
    od = -np.log10(np.maximum(rgb.astype(np.float32), 1.0) / 255.0)
    plane = np.zeros(rgb.shape[:2], np.float32)
    rr, cc = np.nonzero(region)
    if not len(rr):
        return rgb
    for _ in range(rng.poisson(len(rr) * mpp * mpp * rng.uniform(0.3, 2.0) / 1000.0)):
        i = rng.integers(len(rr))
        for _ in range(int(rng.integers(1, 5))):
            a = rng.uniform(2.5, 5.5) / mpp / 2
            b = a * rng.uniform(0.7, 1.0)
            half = int(a) + 3
            grid = np.mgrid[-half: half + 1, -half: half + 1].astype(np.float32)
            y, x = grid[0], grid[1]
            ang = rng.uniform(0, np.pi)
            u, v = y * np.cos(ang) + x * np.sin(ang), -y * np.sin(ang) + x * np.cos(ang)
            inside = np.clip((1 - np.sqrt((u / a) ** 2 + (v / b) ** 2)) * b + 0.5, 0, 1)
            dens = rng.uniform(0.45, 1.3) * np.clip(1 + 0.1 * rng.normal(size=inside.shape), 0.7, 1.3)
            r0 = int(rr[i] + rng.normal(0, 3 / mpp)) - half
            c0 = int(cc[i] + rng.normal(0, 3 / mpp)) - half
            if r0 < 0 or c0 < 0 or r0 + 2 * half + 1 > rgb.shape[0] or c0 + 2 * half + 1 > rgb.shape[1]:
                continue
            view = plane[r0: r0 + 2 * half + 1, c0: c0 + 2 * half + 1]
            np.maximum(view, (inside * dens).astype(np.float32), out=view)
    plane = ndi.gaussian_filter(plane, 0.3 / mpp) * region
    od = od + plane[..., None] * H_VECTOR.astype(np.float32) * rng.uniform(0.8, 1.2)
    noisy = 255.0 * 10.0 ** (-od) + rng.normal(0, 1.5, od.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _pct(rgb: np.ndarray, mpp: float, params: NecrosisParams) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counts, _, _ = measure_necrosis(rgb, mpp=mpp, params=params)
    return float(necrosis_metrics(counts)["necrosis_fraction_pct"])


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from mmnst_path.synthetic_tissue import he_tissue_tile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=3, help="one BRCA-M2C train patch / generated seed in N")
    ap.add_argument("--densities", type=float, nargs="+", default=[0.7, 1.0])
    ap.add_argument("--extents", type=float, nargs="+", default=[0.0, 2.75, 3.0, 3.25])
    args = ap.parse_args(argv)
    names = sorted((BRCA / "_meta" / "brca_ds_train.txt").read_text().split())[:: args.every]
    brca = [(np.asarray(Image.open(BRCA / "mixed" / n).convert("RGB")), n) for n in names]
    rng = np.random.default_rng(2026)
    gen, painted = [], []
    for seed in range(400, 496, args.every):
        t = he_tissue_tile(seed, mpp=0.5)
        if t.truth["necrosis_fraction_pct"] < 5:
            continue
        gen.append((t.rgb, t.truth["necrosis_fraction_pct"]))
        painted.append((paint_karyorrhexis(t.rgb, t.masks["necrosis"], 0.5, rng), t.truth["necrosis_fraction_pct"]))
    print(f"{len(brca)} BRCA-M2C train patches, {len(gen)} generated necrosis tiles (x2 with painted bodies)")
    # per-candidate pass rates of the extent test
    matrix = load_stains("H&E")
    ext_brca, ext_body = [], []
    for rgb, n in brca:
        od = od_from_rgb(rgb, background=matrix.background)
        nuc = nucleus_peaks(rgb, mpp=0.5, od=od)
        ok = nuc.intact(contrast_od=0.12, min_surround_tissue=0.7, min_fill=0.5)
        pts = np.loadtxt(BRCA / "mixed" / (n[:-4] + "_gt_class_coords.txt"), ndmin=2)
        if len(pts):
            d = np.hypot(nuc.row[:, None] - pts[None, :, 0], nuc.col[:, None] - pts[None, :, 1]).min(1)
            ok &= d <= 8
        ext_brca.append(nucleus_extent_um(od, nuc.row[ok], nuc.col[ok], mpp=0.5))
    for seed in range(400, 496, args.every):
        t = he_tissue_tile(seed, mpp=0.5)
        if t.truth["necrosis_fraction_pct"] < 5:
            continue
        inner = ndi.binary_erosion(t.masks["necrosis"], iterations=6)
        rgb = paint_karyorrhexis(t.rgb, t.masks["necrosis"], 0.5, np.random.default_rng(seed))
        od = od_from_rgb(rgb, background=matrix.background)
        nuc = nucleus_peaks(rgb, mpp=0.5, od=od)
        ok = nuc.intact(contrast_od=0.12, min_surround_tissue=0.7, min_fill=0.5)
        ok &= inner[np.clip(np.floor(nuc.row + 0.5).astype(int), 0, inner.shape[0] - 1),
                    np.clip(np.floor(nuc.col + 0.5).astype(int), 0, inner.shape[1] - 1)]
        ext_body.append(nucleus_extent_um(od, nuc.row[ok], nuc.col[ok], mpp=0.5))
    eb, ek = np.concatenate(ext_brca), np.concatenate(ext_body)
    print(f"extent (20 % level) of intact candidates: BRCA-M2C train nuclei n={len(eb)} p10/p50 "
          f"{np.percentile(eb, 10):.2f}/{np.median(eb):.2f} µm; painted bodies in necrosis n={len(ek)} p50/p90 "
          f"{np.median(ek):.2f}/{np.percentile(ek, 90):.2f} µm")
    for t_ in args.extents:
        print(f"  extent >= {t_:.2f}: nuclei kept {np.mean(eb >= t_):.3f}, bodies kept {np.mean(ek >= t_):.3f}")
    print("| density | min extent µm | BRCA train mean % / > 5 % | generated MAE pp | with painted bodies MAE pp |")
    print("|---|---|---|---|---|")
    settings = [(0.0, 0.0)] + [(d, e) for d in args.densities for e in args.extents]
    for dens, ext in settings:
        params = NecrosisParams(intact_veto_density=dens, intact_min_extent_um=ext)
        b = [_pct(rgb, 0.5, params) for rgb, _ in brca]
        g = [abs(_pct(rgb, 0.5, params) - truth) for rgb, truth in gen]
        p = [abs(_pct(rgb, 0.5, params) - truth) for rgb, truth in painted]
        print(f"| {dens} | {ext} | {np.mean(b):.2f} / {sum(x > 5 for x in b)} | {np.mean(g):.2f} | {np.mean(p):.2f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
