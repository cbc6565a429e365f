"""Session 35 H2: under-segmented clusters on EndoNuke DEV (characterisation, detector-alone sweep).

EndoNuke DEV (``mixed`` images with ``held_out(name, 0.2)`` False, 0.5 µm/px; permissive, real ER/PR
IHC with nucleus keypoints). ``regions``: for every region the detector keeps with the split off and
the area limit lifted (``max_area_um2`` 1e6), the number of keypoints inside it, its area (µm²),
solidity, and the number of distance-to-edge cores at several depths (µm); prints per keypoint count
the distribution (JSON). ``sweep``: the detector alone (``detect_nuclei``) under each ``[nuclei]``
mapping: recall, precision (one-to-one within 4 µm, cells more than 4 µm inside the image).

    PYTHONPATH=<tree> python split_clusters_dev_s35.py --endonuke ../shared/train/endonuke --every 4 regions
    PYTHONPATH=<tree> python split_clusters_dev_s35.py --endonuke ... --every 2 sweep '{}' '{"split_min_area_um2": 60}'
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keep_gate_endonuke_s33 import match
from keep_gate_endonuke_s33 import val_images as images

MPP = 0.5
MATCH_UM = 4.0
DEPTHS = (0.25, 0.5, 0.75, 1.0)
FRACTIONS = (0.05, 0.1, 0.2, 0.3)


def _load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    pts = np.loadtxt(path.with_suffix(".txt"), ndmin=2)
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    return rgb, pts[:, [1, 0]].astype(float) if pts.size else np.zeros((0, 2))


def _dev_planes(root: Path, every: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(RGB, keypoints, hematoxylin, DAB) of every ``every``-th DEV image with keypoints."""
    from mmnst_path.detect.nuclei import stain_planes

    for k, (path, _mpp) in enumerate(images(root, "dev")):
        if k % every:
            continue
        rgb, gt = _load(path)
        if len(gt):
            yield (rgb, gt, *stain_planes(rgb))


def regions(root: Path, every: int) -> dict:
    from scipy import ndimage as ndi
    from skimage.measure import regionprops
    from skimage.morphology import h_maxima

    from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains

    params = NucleusParams(max_area_um2=1e6)
    rows = []
    for _rgb, gt, hem, dab in _dev_planes(root, every):
        nu = nuclei_from_stains(hem, dab, mpp=MPP, params=params, return_labels=True)
        signal = ndi.gaussian_filter(np.maximum(hem, 0) + 0.5 * np.maximum(dab, 0), 0.75 / MPP)
        lab = nu.labels
        assert lab is not None
        r = np.clip(np.rint(gt[:, 0]).astype(int), 0, lab.shape[0] - 1)
        c = np.clip(np.rint(gt[:, 1]).astype(int), 0, lab.shape[1] - 1)
        count = np.bincount(lab[r, c], minlength=len(nu) + 1)
        for p in regionprops(lab):
            mask = np.pad(p.image, 1)
            dist = ndi.distance_transform_edt(mask) * MPP
            cores = [ndi.label(h_maxima(dist, h), structure=np.ones((3, 3)))[1] for h in DEPTHS]
            sig = np.where(p.image, signal[p.slice], 0.0)
            top = float(sig.max())
            peaks = [ndi.label(h_maxima(sig, f * top) & p.image, structure=np.ones((3, 3)))[1] for f in FRACTIONS]
            rows.append((int(count[p.label]), p.area * MPP * MPP, float(p.solidity), *cores, *peaks))
    arr = np.array(rows, dtype=float)
    out: dict = {"regions": len(arr)}
    for name, sel in (("0", arr[:, 0] == 0), ("1", arr[:, 0] == 1), ("2", arr[:, 0] == 2), ("3+", arr[:, 0] >= 3)):
        a = arr[sel]
        if not len(a):
            continue
        out[name] = {"n": len(a), "keypoints": float(a[:, 0].sum()),
                     "area_q10_50_90": np.quantile(a[:, 1], [0.1, 0.5, 0.9]).round(1).tolist(),
                     "over_250": float((a[:, 1] > 250).mean()),
                     "solidity_q10_50_90": np.quantile(a[:, 2], [0.1, 0.5, 0.9]).round(3).tolist(),
                     **{f"cores>=2_h{h}": float((a[:, 3 + i] >= 2).mean()) for i, h in enumerate(DEPTHS)},
                     **{f"peaks>=2_f{f}": float((a[:, 3 + len(DEPTHS) + i] >= 2).mean())
                        for i, f in enumerate(FRACTIONS)}}
    np.save(Path("/tmp/s35_h2/regions.npy"), arr)
    for amin in (40, 60, 80, 100):
        one = arr[(arr[:, 0] == 1)]
        many = arr[(arr[:, 0] >= 2)]
        out[f"area>={amin}"] = {"1kp": float((one[:, 1] >= amin).mean()), "2+kp": float((many[:, 1] >= amin).mean())}
    return out


def sweep(root: Path, every: int, configs: list[dict]) -> list[dict]:
    from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains

    params = [NucleusParams.from_mapping(c) for c in configs]
    hit = np.zeros(len(configs))
    n_gt = 0
    cells = np.zeros((len(configs), 2))
    margin = MATCH_UM / MPP
    for rgb, gt, hem, dab in _dev_planes(root, every):
        n_gt += len(gt)
        for n, p in enumerate(params):
            nu = nuclei_from_stains(hem, dab, mpp=MPP, params=p)
            det = np.c_[nu.row, nu.col]
            i, j = match(det, gt, margin)
            hit[n] += len(j)
            inner = ((det[:, 0] >= margin) & (det[:, 0] < rgb.shape[0] - margin)
                     & (det[:, 1] >= margin) & (det[:, 1] < rgb.shape[1] - margin))
            matched = np.zeros(len(det), bool)
            matched[i] = True
            cells[n] += (inner.sum(), (inner & matched).sum())
    return [{"nuclei": c, "n_points": n_gt, "recall": float(hit[n] / n_gt),
             "precision": float(cells[n, 1] / max(cells[n, 0], 1))} for n, c in enumerate(configs)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=("regions", "sweep"))
    ap.add_argument("configs", nargs="*", type=json.loads, metavar="JSON")
    ap.add_argument("--endonuke", type=Path, required=True)
    ap.add_argument("--every", type=int, default=4)
    args = ap.parse_args(argv)
    if args.cmd == "regions":
        print(json.dumps(regions(args.endonuke, args.every), indent=1))
    else:
        for row in sweep(args.endonuke, args.every, args.configs or [{}]):
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
