"""Nucleus-model feature rows through the run-time path (``train_nucleus_model.py --rows-path runtime``).

:func:`runtime_rows` runs the public :func:`mmnst_path.pipeline.analyze_region` on an image (Ki67
only) and returns, for every cell the pipeline reports, the feature row the cell model is handed
there: the same detection (the pipeline's tile read, white past the image's edge, its Ki67
window and margin) and the same neighbour correction (``origin`` / ``extent`` of the tile read).
Session 33 H9 found that the direct extraction (``image_rows``: the detector and
:func:`~mmnst_path.classify.nucleus_features` on the image alone, its own edges) differs from it:
``n_within_40um`` for 96 % of EndoNuke's nuclei (median -22 %).

The rows are computed with the training's feature settings (not the shipped model's), from the
very planes, labels, ``origin`` and ``extent`` the pipeline passes to
:func:`mmnst_path.classify.cells.cell_classes`; cells of tiles where the pipeline finds no tissue
give no row (as at run time).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "mmnst_path" / "models" / "nucleus_default.mmnst"


def runtime_rows(rgb: np.ndarray, *, mpp: float, preset: str, settings: Any,
                 hem_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Positions (image px, (n, 2) row / col) and feature rows ((n, F) float32) of the cells that
    ``analyze_region(rgb, stains=preset, measures=["ki67"], mpp=mpp)`` reports, the rows computed as
    the cell model sees them at run time (``settings``: the training's
    :class:`~mmnst_path.classify.NucleusFeatureSettings`; ``hem_only``: the features see the
    hematoxylin plane only). ``mpp`` must be the analysis resolution (µm/px; no resampling)."""
    import mmnst_path.classify.cells as cells_mod
    import mmnst_path.quantify.ki67 as ki67_mod
    from mmnst_path.classify import nucleus_feature_specs, nucleus_features
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    width = len(nucleus_feature_specs(settings))
    feats: list[np.ndarray] = []
    kernel: list[tuple[np.ndarray, np.ndarray]] = []  # per kernel call: image positions, rows
    original_classes, original_measure = cells_mod.cell_classes, ki67_mod.measure_ki67

    def grab_classes(model: Any, labels: np.ndarray, hem: np.ndarray, chrom: np.ndarray | None, *, mpp: float,
                     origin: tuple[int, int] = (0, 0), extent: tuple[int, int] | None = None,
                     _rings: Callable[[int], np.ndarray] | None = None, **k: Any) -> Any:
        feats.append(nucleus_features(labels, hem, None if hem_only else chrom, mpp=mpp, settings=settings,
                                      origin=origin, extent=extent, _rings=_rings))
        return original_classes(model, labels, hem, chrom, mpp=mpp, origin=origin, extent=extent, _rings=_rings,
                                **k)

    def grab_measure(window: np.ndarray, **k: Any) -> Any:
        feats.clear()
        region = original_measure(window, **k)
        cells = region.cells
        if len(cells):
            if len(feats) != 1 or len(feats[0]) != len(cells):
                msg = f"runtime_rows: {len(feats)} cell-model calls for {len(cells)} cells (expected one row each)"
                raise RuntimeError(msg)
            # kernel positions are in tile-image px (``origin`` added); the tile image's (0, 0) lies at
            # ``grid_origin - origin`` on the analysis grid (= image px at the analysis resolution)
            shift = np.asarray(k["grid_origin"], float) - np.asarray(k["origin"], float)
            kernel.append((np.c_[cells.row, cells.col] + shift, feats[0]))
        return region

    cfg = AnalysisConfig.from_mapping({"stains": preset, "measures": ["ki67"],
                                       "ki67": {"cell_model": str(DEFAULT_MODEL)}})
    cells_mod.cell_classes, ki67_mod.measure_ki67 = grab_classes, grab_measure
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = analyze_region(rgb, cfg, mpp=mpp)
    finally:
        cells_mod.cell_classes, ki67_mod.measure_ki67 = original_classes, original_measure
    det = np.c_[np.asarray(res.cells.row, float), np.asarray(res.cells.col, float)].reshape(-1, 2)
    if not kernel or not len(det):
        return np.zeros((0, 2)), np.zeros((0, width), np.float32)
    pos = np.concatenate([p for p, _ in kernel])
    rows = np.concatenate([r for _, r in kernel]).astype(np.float32)
    from scipy.spatial import cKDTree

    d, i = cKDTree(pos).query(det)
    if np.any(d > 1e-3):
        msg = f"runtime_rows: {int(np.sum(d > 1e-3))} reported cells not found among the kernel's detections"
        raise RuntimeError(msg)
    return det, rows[i]
