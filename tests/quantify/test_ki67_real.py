"""Regression on real annotated Ki67 tiles (../shared/data/ki67) through the public pipeline.

Each case runs ``mmnst_path.pipeline.analyze_region`` with the default config (as
``benchmarks/accuracy.py`` does) at the dataset scale of ``benchmarks/datasets.toml``, i.e. with
the shipped default nucleus model deciding which nuclei are tumour. Bounds are the values
measured with the default parameters plus a small margin (about 1 pp, 0.02 F1), so a change that
degrades accuracy on real tissue fails here. Class accuracy is positive-vs-negative of the matched
annotated tumour nuclei that the index counts.

| image | index error pp (cell model / none) | detection F1 | class acc | pigment |
| bcdata 0.png | +8.1 / +3.0 (47 nuclei excluded, most of them annotated tumour) | 0.79 | 0.96 | - |
| bcdata 4.png (DAB-filled nuclei the pigment mask touches) | +2.7 / -5.8 | 0.87 | 0.98 | 0 |
| shidc p1_0309_3.jpg (weak DAB) | -2.5 / -2.5 | 0.74 | 1.00 | - |
| deepliif 22_2.png | +1.7 / +1.3 | 0.85 | 1.00 | - |
| deepliif 6_2.png (mottled granular DAB nuclei) | -15.9 / -23.1 (unannotated stroma) | 0.60 | 0.97 | 0 |

Nucleus model 1.2.0 (chromogen augmentation, benchmarks/README.md): 6_2.png reads -17.5 (1.1.0:
-15.8; the pale unannotated stroma counted as negatives, no positive excluded), its bound is 18.5;
over the DeepLIIF set and 4 turns the MAE is 5.98 against 5.57 (noise 0.81). Reads resampled onto
the analysis grid (eb281f4, session 10: a tile's pixels no longer depend on its halo) move where the
0.25 -> 0.5 um/px area grid starts: 6_2.png reads -18.6, its bound is 19.5 (DeepLIIF MAE 5.82 -> 6.18,
within the noise; SHIDC 4.25 -> 4.00).
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image
from scipy.optimize import linear_sum_assignment

from mmnst_path.aggregate import CELL_CLASSES
from mmnst_path.pipeline import analyze_region

MATCH_UM = 6.0
# dataset, image, mpp, max |index error| pp, min detection F1, min class accuracy, max pigment nuclei
CASES = [
    ("bcdata", "0.png", 0.25, 9.0, 0.77, 0.94, None),
    ("bcdata", "4.png", 0.25, 3.7, 0.85, 0.96, 2),
    ("shidc", "p1_0309_3.jpg", 0.21, 3.5, 0.72, 0.98, None),
    ("deepliif", "22_2.png", 0.31, 2.7, 0.83, 0.98, None),
    ("deepliif", "6_2.png", 0.31, 19.5, 0.58, 0.95, 1),
]


def _points(folder, image):
    stem = image.rsplit(".", 1)[0]
    if folder.name == "deepliif":
        from scipy import ndimage as ndi

        gt = np.asarray(Image.open(folder / "seg_gt" / image).convert("RGB")).astype(int)
        pts, labels = [], []
        red = (gt[..., 0] > 150) & (gt[..., 1] < 100) & (gt[..., 2] < 100)
        blue = (gt[..., 2] > 150) & (gt[..., 0] < 100) & (gt[..., 1] < 100)
        for label, mask in (("positive", red), ("negative", blue)):
            lab, n = ndi.label(mask)
            for rc in ndi.center_of_mass(mask, lab, np.arange(1, n + 1)):
                pts.append(rc)
                labels.append(label)
        return np.array(pts), np.array(labels)
    with (folder / f"{stem}.points.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return np.array([(float(r["y"]), float(r["x"])) for r in rows]), np.array([r["label"] for r in rows])


def _match(det, gt, radius):
    dist = np.sqrt(((det[:, None] - gt[None]) ** 2).sum(-1))
    cost = np.where(dist <= radius, dist, 1e9)
    i, j = linear_sum_assignment(cost)
    ok = cost[i, j] <= radius
    return i[ok], j[ok]


def _run(shared_data, dataset, image, mpp):
    folder = shared_data / "ki67" / dataset
    rgb = np.asarray(Image.open(folder / image).convert("RGB"))
    cells = analyze_region(rgb, mpp=mpp).cells
    cls = np.asarray(CELL_CLASSES)[np.asarray(cells.cls, dtype=np.intp)].astype(str)
    return np.c_[cells.row, cells.col], cls, *_points(folder, image)


@pytest.mark.parametrize(("dataset", "image", "mpp", "max_err", "min_f1", "min_acc", "max_pigment"), CASES)
def test_real_tile_accuracy(shared_data, dataset, image, mpp, max_err, min_f1, min_acc, max_pigment):
    det, cls, pts, labels = _run(shared_data, dataset, image, mpp)
    tumour = labels != "lymphocyte"
    true_idx = 100 * (labels == "positive").sum() / tumour.sum()
    n_pos, n_neg = (cls == "positive").sum(), (cls == "negative").sum()
    meas_idx = 100 * n_pos / (n_pos + n_neg)
    assert abs(meas_idx - true_idx) <= max_err
    i, j = _match(det, pts, MATCH_UM / mpp)
    assert 2 * len(i) / (len(det) + len(pts)) >= min_f1
    t = tumour[j] & np.isin(cls[i], ("positive", "negative"))
    acc = np.mean((cls[i][t] == "positive") == (labels[j][t] == "positive"))
    assert acc >= min_acc
    if max_pigment is not None:  # ordinary DAB-positive nuclei must not be called pigment
        assert (cls == "pigment").sum() <= max_pigment


def test_tile_without_tumour_nuclei_is_near_zero(shared_data):
    """SHIDC p1_0310_8 has no tumour nuclei (3 lymphocytes): the index must not be inflated."""
    _, cls, _, _ = _run(shared_data, "shidc", "p1_0310_8.jpg", 0.21)
    n_pos, n_neg = (cls == "positive").sum(), (cls == "negative").sum()
    assert n_pos <= 0.02 * max(1, n_pos + n_neg)
