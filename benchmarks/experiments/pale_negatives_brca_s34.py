"""Session 34 H9: detection recall of pale NEGATIVE vs positive nuclei on BRCA-M2C re-rendered as H-DAB.

BRCA-M2C (``shared/train/brca_m2c``, permissive; H&E with nucleus keypoints, 0.5 µm/px) is re-rendered
as Ki67-like H-DAB by ``scripts/_nucleus_restain.restain_as_ihc`` (fixed seed per image): DAB is painted
into a random subset of the nuclei its hematoxylin-only detection finds; every other keypoint (the
pale vesicular nuclei among them) stays hematoxylin-only, a negative. Split: DEV = the ``train`` and
``val`` lists of ``_meta``; TEST = the ``test`` list (the nucleus model's VAL).

``render`` (run it under ONE tree, e.g. HEAD, so every candidate sees the same images) writes the RGB
images, keypoints and truth (a keypoint is positive when the painted DAB plane, less the image's
background, is >= ``POSITIVE_OD`` over a 1.5 µm disc at the point) to an ``.npz``. ``measure`` runs the
public ``analyze_region`` (H-DAB, Ki67, default configuration but the ``--nuclei`` overrides) on them,
matches the cells one-to-one to the keypoints within 4 µm (Hungarian) and prints recall of negatives,
of positives, overall, and precision (cells more than 4 µm inside the image), unrounded JSON.

    PYTHONPATH=<head> python pale_negatives_brca_s34.py render --part dev --out dev.npz
    PYTHONPATH=<tree> python pale_negatives_brca_s34.py measure dev.npz [--nuclei KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keep_gate_endonuke_s33 import match
from pale_nuclei_endonuke_s34 import _value, disc_means

HERE = Path(__file__).resolve().parent

MPP = 0.5
MATCH_UM = 4.0
POSITIVE_OD = 0.02
SEED = 3409


def _names(root: Path, part: str) -> list[str]:
    meta = root / "brca_m2c" / "_meta"
    lists = ("train", "val") if part == "dev" else ("test",)
    return sorted(n.strip() for k in lists for n in (meta / f"brca_ds_{k}.txt").read_text().split() if n.strip())


def render(root: Path, part: str, out: Path, every: int = 1) -> None:
    """Re-render the part's images (seed ``SEED`` and the image's index) and save them with their truth."""
    import mmnst_path.synthetic as synthetic

    sys.path.insert(0, str(HERE.parents[1] / "scripts"))
    from _nucleus_restain import restain_as_ihc
    from _training_data import read_rgb

    seen: list[np.ndarray] = []
    original = synthetic._render

    def capture(planes, *args, **kwargs):  # the painted DAB plane, before the optics
        seen.append(np.asarray(planes[1], np.float32))
        return original(planes, *args, **kwargs)

    synthetic._render = capture
    data: dict[str, list] = {"rgb": [], "pts": [], "pos": [], "name": []}
    mapping = {1: 1, 2: 0, 3: 2}
    for k, name in enumerate(_names(root, part)):
        if k % every:
            continue
        txt = root / "brca_m2c" / "mixed" / name.replace(".png", "_gt_class_coords.txt")
        pts = np.loadtxt(txt, ndmin=2)
        if pts.size == 0:
            continue
        rgb = read_rgb(root / "brca_m2c" / "mixed" / name)
        cls = np.array([mapping[int(c)] for c in pts[:, 2]])
        seen.clear()
        ihc = restain_as_ihc(rgb, pts[:, :2], cls, np.random.default_rng([SEED, k]))
        dab = seen[0]
        background = float(np.quantile(dab, 0.01))
        pos = disc_means(dab - background, pts[:, :2], 1.5 / MPP) >= POSITIVE_OD
        data["rgb"].append(ihc)
        data["pts"].append(pts[:, :2].astype(float))
        data["pos"].append(pos)
        data["name"].append(name)
    synthetic._render = original
    packed = {}
    for key in ("rgb", "pts", "pos"):  # images and point lists of different sizes
        packed[key] = np.empty(len(data[key]), dtype=object)
        packed[key][:] = data[key]
    np.savez_compressed(out, name=np.array(data["name"]), **packed)


def _scored(det: np.ndarray, gt: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, int, int]:
    """Keypoints matched (one-to-one within ``MATCH_UM``), detections more than ``MATCH_UM`` inside
    the image, and how many of those are matched (pixel coordinates at ``MPP``)."""
    margin = MATCH_UM / MPP
    i, j = match(det, gt, margin)
    hit = np.zeros(len(gt), bool)
    hit[j] = True
    det = det.reshape(-1, 2)
    inner = ((det[:, 0] >= margin) & (det[:, 0] < shape[0] - margin)
             & (det[:, 1] >= margin) & (det[:, 1] < shape[1] - margin))
    matched = np.zeros(len(det), bool)
    matched[i] = True
    return hit, int(inner.sum()), int((inner & matched).sum())


def measure(path: Path, nuclei: dict, every: int = 1) -> dict:
    """Recall of negatives, positives, all; precision (see the module docstring)."""
    import mmnst_path
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], "nuclei": nuclei})
    z = np.load(path, allow_pickle=True)
    hits, poss, imgs = [], [], []
    cells_n = cells_hit = 0
    for k in range(0, len(z["name"]), every):
        rgb, gt, pos = z["rgb"][k], z["pts"][k], z["pos"][k].astype(bool)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = analyze_region(rgb, cfg, mpp=MPP)
        hit, n_inner, n_hit = _scored(np.c_[res.cells.row, res.cells.col], gt, rgb.shape[:2])
        cells_n += n_inner
        cells_hit += n_hit
        hits.append(hit)
        poss.append(pos)
        imgs.append(np.full(len(gt), k))
    hit, pos = np.concatenate(hits), np.concatenate(poss)
    return {"package": str(Path(mmnst_path.__file__).parent), "nuclei": nuclei, "images": len(imgs),
            "n_negative": int((~pos).sum()), "n_positive": int(pos.sum()),
            "recall_negative": float(hit[~pos].mean()), "recall_positive": float(hit[pos].mean()),
            "recall": float(hit.mean()), "precision": float(cells_hit / max(cells_n, 1)),
            "hit": hit.astype(int).tolist(), "img": np.concatenate(imgs).tolist()}


def sweep(path: Path, configs: list[dict]) -> list[dict]:
    """The detector alone (``nuclei_from_stains`` on the H-DAB planes, unmixed once per image) under
    each ``[nuclei]`` mapping of ``configs``: recall of negatives, positives, all, and precision (dev)."""
    from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains, stain_planes

    z = np.load(path, allow_pickle=True)
    params = [NucleusParams.from_mapping(c) for c in configs]
    hits: list[list[np.ndarray]] = [[] for _ in configs]
    cells = np.zeros((len(configs), 2), int)
    for k in range(len(z["name"])):
        rgb, gt = z["rgb"][k], z["pts"][k]
        hem, dab = stain_planes(rgb)
        for n, p in enumerate(params):
            nu = nuclei_from_stains(hem, dab, mpp=MPP, params=p)
            hit, n_inner, n_hit = _scored(np.c_[nu.row, nu.col], gt, rgb.shape[:2])
            cells[n] += (n_inner, n_hit)
            hits[n].append(hit)
    pos = np.concatenate(list(z["pos"])).astype(bool)
    out = []
    for n, c in enumerate(configs):
        hit = np.concatenate(hits[n])
        out.append({"nuclei": c, "recall_negative": float(hit[~pos].mean()), "recall_positive": float(hit[pos].mean()),
                    "recall": float(hit.mean()), "precision": float(cells[n, 1] / max(cells[n, 0], 1))})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("--train", type=Path, default=HERE.parents[2] / "shared" / "train")
    r.add_argument("--part", choices=("dev", "test"), required=True)
    r.add_argument("--every", type=int, default=1)
    r.add_argument("--out", type=Path, required=True)
    m = sub.add_parser("measure")
    m.add_argument("images", type=Path)
    m.add_argument("--nuclei", action="append", default=[], metavar="KEY=VALUE")
    m.add_argument("--save", type=Path, help="write the JSON with the per-keypoint hits here")
    m.add_argument("--every", type=int, default=1, help="only every n-th image (a quick look)")
    w = sub.add_parser("sweep", help="the detector alone under several settings (dev)")
    w.add_argument("images", type=Path)
    w.add_argument("configs", nargs="+", type=json.loads, metavar="JSON", help="a [nuclei] mapping per setting")
    args = ap.parse_args(argv)
    if args.cmd == "sweep":
        for row in sweep(args.images, args.configs):
            print(json.dumps(row), flush=True)
        return 0
    if args.cmd == "render":
        render(args.train, args.part, args.out, args.every)
        return 0
    nuclei = {key.strip(): _value(text) for key, _, text in (item.partition("=") for item in args.nuclei)}
    out = measure(args.images, nuclei, args.every)
    if args.save:
        args.save.write_text(json.dumps(out))
    print(json.dumps({k: v for k, v in out.items() if k not in ("hit", "img")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
