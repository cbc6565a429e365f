"""Regression on real annotated Ki67 tiles (../shared/data/ki67): index error and detection recall.

Bounds are the values measured with the default parameters (benchmarks/accuracy.py, direct
engine) plus a small margin, so a change that degrades accuracy on real tissue fails here.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from mmnst_path.io._resample import resize_area
from mmnst_path.quantify.ki67 import measure_ki67

# dataset, image, mpp (benchmarks/datasets.toml), max |index error| pp, min recall within 6 µm
CASES = [
    ("bcdata", "0.png", 0.25, 7.0, 0.62),
    ("shidc", "p1_0309_3.jpg", 0.21, 4.5, 0.88),
    ("deepliif", "22_2.png", 0.31, 3.5, 0.75),
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


@pytest.mark.parametrize(("dataset", "image", "mpp", "max_err", "min_recall"), CASES)
def test_real_tile_accuracy(shared_data, dataset, image, mpp, max_err, min_recall):
    folder = shared_data / "ki67" / dataset
    rgb = np.asarray(Image.open(folder / image).convert("RGB"))
    pts, labels = _points(folder, image)
    factor = mpp / 0.5
    shape = (round(rgb.shape[0] * factor), round(rgb.shape[1] * factor))
    region = measure_ki67(resize_area(rgb, shape), mpp=0.5)
    scale = rgb.shape[0] / shape[0]
    det = np.c_[(region.cells.row + 0.5) * scale - 0.5, (region.cells.col + 0.5) * scale - 0.5]
    tumour = labels != "lymphocyte"
    true_idx = 100 * (labels == "positive").sum() / tumour.sum()
    c = region.counts
    meas_idx = 100 * c.positive / c.denominator
    assert abs(meas_idx - true_idx) <= max_err
    dist = np.sqrt(((det[:, None] - pts[None]) ** 2).sum(-1))
    recall = (dist.min(0) <= 6.0 / mpp).mean()
    assert recall >= min_recall


def test_tile_without_tumour_nuclei_is_near_zero(shared_data):
    """SHIDC p1_0310_8 has no tumour nuclei (3 lymphocytes): the index must not be inflated."""
    rgb = np.asarray(Image.open(shared_data / "ki67" / "shidc" / "p1_0310_8.jpg").convert("RGB"))
    shape = (round(rgb.shape[0] * 0.42), round(rgb.shape[1] * 0.42))
    counts = measure_ki67(resize_area(rgb, shape), mpp=0.5).counts
    assert counts.positive <= 0.02 * max(1, counts.denominator)
