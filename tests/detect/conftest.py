"""Shared helpers of the nucleus-detection tests: generated disc nuclei with known centroids."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from mmnst_path.detect.nuclei import Nuclei
from mmnst_path.stain import get_preset, rgb_from_stains

MPP = 0.5


def _render(shape, centres, radii_um, h_od, dab_od, seed=0):
    """RGB image of elliptic-ish discs with hematoxylin and DAB OD (log10) and mild noise."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape, dtype=np.float32)
    conc = np.zeros((*shape, 3), np.float32)
    conc[..., 0] = 0.03  # faint background hematoxylin
    for (r, c), rad, h, d in zip(centres, radii_um, h_od, dab_od, strict=True):
        rad_px = rad / MPP
        disc = ((rows - r) ** 2 + (cols - c) ** 2) <= rad_px**2
        conc[..., 0][disc] = h
        conc[..., 1][disc] = d
    conc[..., :2] += rng.normal(0, 0.01, size=(*shape, 2)).astype(np.float32)
    conc = np.clip(conc, 0, None)
    return rgb_from_stains(conc, get_preset("H-DAB"))


def _grid_nuclei(shape=(256, 256), spacing=32, seed=1):
    rng = np.random.default_rng(seed)
    centres, radii, h, d = [], [], [], []
    for r in range(spacing // 2, shape[0] - spacing // 2 + 1, spacing):
        for c in range(spacing // 2, shape[1] - spacing // 2 + 1, spacing):
            centres.append((r + rng.uniform(-3, 3), c + rng.uniform(-3, 3)))
            radii.append(rng.uniform(3.0, 5.0))
            if rng.random() < 0.35:  # DAB-positive: strong brown, little hematoxylin
                h.append(0.05)
                d.append(rng.uniform(0.5, 1.2))
            else:  # pale negative
                h.append(rng.uniform(0.15, 0.4))
                d.append(0.0)
    return np.array(centres), radii, h, d


def _recall_precision(nuc: Nuclei, centres: np.ndarray, tol_px: float) -> tuple[float, float]:
    det = np.c_[nuc.row, nuc.col]
    dist = np.sqrt(((det[:, None] - centres[None]) ** 2).sum(-1))
    matched_truth = (dist.min(0) <= tol_px).mean()
    matched_det = (dist.min(1) <= tol_px).mean()
    return float(matched_truth), float(matched_det)


@pytest.fixture
def discs() -> SimpleNamespace:
    """``render`` (:func:`_render`), ``grid`` (:func:`_grid_nuclei`) and ``recall_precision``
    (:func:`_recall_precision`): generated Beer-Lambert disc nuclei at 0.5 µm/px and their scoring."""
    return SimpleNamespace(render=_render, grid=_grid_nuclei, recall_precision=_recall_precision)
