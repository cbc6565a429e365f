"""A tile classifies its tissue only on the blocks around its core (``_worker.TISSUE_WINDOW``) and takes its
class areas and maps from the block labels: the same results, bit for bit, as the whole tile image
(session 38 H1, #13)."""

from __future__ import annotations

import numpy as np
import pytest

import mmnst_path.pipeline._class_window as class_window
import mmnst_path.pipeline._worker as worker
import mmnst_path.quantify._necrosis_window as necrosis_window
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic_tissue import he_tissue_tile


def _field(seed: int, mpp: float) -> np.ndarray:
    """Four generated H&E tiles with necrosis side by side (520 µm a side)."""
    parts = [he_tissue_tile(seed + i, size=int(260 / mpp), mpp=mpp, necrosis=kind).rgb
             for i, kind in enumerate(("geographic", "islands", "comedo", "geographic"))]
    return np.concatenate([np.concatenate(parts[:2], axis=1), np.concatenate(parts[2:], axis=1)], axis=0)


def _run(rgb: np.ndarray, mpp: float):
    cfg = AnalysisConfig(stains="H&E", measures=("melanin", "necrosis"), tile_um=128.0)
    return analyze_region(rgb, cfg, mpp=mpp)


def _same(ref, got, assert_same_results) -> None:
    assert_same_results(ref, got)
    assert ref.tiles.columns.keys() == got.tiles.columns.keys()
    for key, col in ref.tiles.columns.items():
        if key != "seconds":
            np.testing.assert_array_equal(np.asarray(got.tiles.columns[key]), np.asarray(col), err_msg=key)


#: (the intact-nucleus veto runs at 0.5 µm/px only; its reach makes the window the whole tile image there
#: unless the margin is 0)
@pytest.mark.parametrize(("mpp", "margin"), [(0.5, 0), (1.0, None), (0.8, None)])
def test_window_gives_the_whole_tiles_results(monkeypatch, mpp: float, margin: int | None,
                                              assert_same_results) -> None:
    rgb = _field(40, mpp)
    if margin is not None:
        monkeypatch.setattr(class_window, "WINDOW_MARGIN_BLOCKS", margin)
    calls = {"window": 0, "not_exact": 0}
    check = necrosis_window.check_exact

    def counted(tmap, *args, **kw):
        calls["window"] += 1
        try:
            return check(tmap, *args, **kw)
        except necrosis_window.NotExact:
            calls["not_exact"] += 1
            raise

    monkeypatch.setattr(necrosis_window, "check_exact", counted)
    got = _run(rgb, mpp)
    assert calls["window"] > 0  # (the window was taken)
    assert got.metrics["necrosis_area_mm2"] > 0
    monkeypatch.setattr(worker, "TISSUE_WINDOW", False)
    ref = _run(rgb, mpp)
    _same(ref, got, assert_same_results)


def test_a_window_too_small_for_a_region_falls_back_to_the_whole_tile(monkeypatch, assert_same_results) -> None:
    """No margin: the necrotic regions that meet a core are cut by the window, the tile is classified
    whole again; the results do not change."""
    rgb = _field(50, 1.0)
    fell = []
    check = necrosis_window.check_exact

    def counted(*args, **kw):
        try:
            return check(*args, **kw)
        except necrosis_window.NotExact:
            fell.append(1)
            raise

    monkeypatch.setattr(necrosis_window, "check_exact", counted)
    monkeypatch.setattr(class_window, "WINDOW_MARGIN_BLOCKS", 0)
    got = _run(rgb, 1.0)
    assert fell  # (the fallback ran)
    monkeypatch.setattr(worker, "TISSUE_WINDOW", False)
    _same(_run(rgb, 1.0), got, assert_same_results)
