"""Session 35 H2: crops of split and unsplit oversized regions on EndoNuke DEV (pictures to look at).

For each DEV image (every ``--every``-th), the detector alone at 0.5 µm/px without and with the
``--nuclei`` split setting; regions of the split-off run whose area is >= the setting's
``split_min_area_um2`` are crops of 24 µm, upscaled 4x: outlines without the split in red, with it
in green, EndoNuke keypoints as yellow dots. Writes ``split.png`` (regions that were split) and
``unsplit.png`` (candidates left whole) into ``--out``.

    PYTHONPATH=<tree> python split_clusters_crops_s35.py --endonuke ../shared/train/endonuke \
        --nuclei '{"split_min_area_um2": 50}' --out /tmp/crops
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keep_gate_endonuke_s33 import val_images as images
from split_clusters_dev_s35 import MPP, _load

HALF = 24  # px at 0.5 µm/px: a 24 µm crop
ZOOM = 4


def _edges(lab: np.ndarray) -> np.ndarray:
    e = np.zeros(lab.shape, bool)
    e[1:, :] |= lab[1:, :] != lab[:-1, :]
    e[:, 1:] |= lab[:, 1:] != lab[:, :-1]
    return e & (lab > 0) | np.roll(e, 1, 0) & (np.roll(lab, 1, 0) > 0)


def _crop(rgb: np.ndarray, a: np.ndarray, b: np.ndarray, pts: np.ndarray, r: int, c: int) -> np.ndarray:
    pad = ((HALF, HALF), (HALF, HALF))
    img = np.pad(rgb, (*pad, (0, 0)), constant_values=255)[r:r + 2 * HALF, c:c + 2 * HALF].copy()
    la = np.pad(a, pad)[r:r + 2 * HALF, c:c + 2 * HALF]
    lb = np.pad(b, pad)[r:r + 2 * HALF, c:c + 2 * HALF]
    big = np.kron(img, np.ones((ZOOM, ZOOM, 1), np.uint8))
    ea = np.kron(_edges(la), np.ones((ZOOM, ZOOM), bool))
    eb = np.kron(_edges(lb), np.ones((ZOOM, ZOOM), bool))
    big[ea] = (255, 0, 0)
    big[eb & ~ea] = (0, 200, 0)
    for pr, pc in pts:
        y, x = int((pr - r + HALF) * ZOOM), int((pc - c + HALF) * ZOOM)
        if 2 <= y < big.shape[0] - 2 and 2 <= x < big.shape[1] - 2:
            big[y - 2:y + 3, x - 2:x + 3] = (255, 255, 0)
    return big


def _sources(endonuke: Path, brca: Path | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(RGB, keypoints (row, col)) of the EndoNuke DEV images, or of a BRCA-M2C render."""
    if brca is not None:
        z = np.load(brca, allow_pickle=True)
        for k in range(len(z["name"])):
            yield z["rgb"][k], z["pts"][k]
        return
    for path, _mpp in images(endonuke, "dev"):
        yield _load(path)


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains, stain_planes

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endonuke", type=Path, required=True)
    ap.add_argument("--brca", type=Path, help="a pale_negatives_brca_s34.py render .npz instead of EndoNuke")
    ap.add_argument("--nuclei", type=json.loads, required=True)
    ap.add_argument("--every", type=int, default=9)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    off = NucleusParams()
    on = NucleusParams.from_mapping(args.nuclei)
    assert on.split_min_area_um2 is not None
    crops: dict[str, list[np.ndarray]] = {"split": [], "unsplit": []}
    for k, (rgb, gt) in enumerate(_sources(args.endonuke, args.brca)):
        if k % args.every or min(len(v) for v in crops.values()) >= args.n:
            continue
        hem, dab = stain_planes(rgb)
        a = nuclei_from_stains(hem, dab, mpp=MPP, params=off, return_labels=True).labels
        b = nuclei_from_stains(hem, dab, mpp=MPP, params=on, return_labels=True).labels
        assert a is not None
        assert b is not None
        area = np.bincount(a.ravel()) * MPP * MPP
        for lab in np.flatnonzero(area >= on.split_min_area_um2):
            if lab == 0:
                continue
            inside = a == lab
            kind = "split" if len(np.unique(b[inside])) > 1 else "unsplit"
            if len(crops[kind]) >= args.n:
                continue
            r, c = (int(v) for v in np.argwhere(inside).mean(axis=0))
            crops[kind].append(_crop(rgb, a, b, gt, r, c))
    args.out.mkdir(parents=True, exist_ok=True)
    for kind, items in crops.items():
        if not items:
            continue
        rows = [np.concatenate(items[i:i + 6] + [np.full_like(items[0], 255)] * (6 - len(items[i:i + 6])), axis=1)
                for i in range(0, len(items), 6)]
        Image.fromarray(np.concatenate(rows, axis=0)).save(args.out / f"{kind}.png")
        print(kind, len(items))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
