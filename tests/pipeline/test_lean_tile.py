"""The lean tile path (stages on the non-white part of a tile grown by their reach) gives exactly
the results of the whole tile image (the reference), on generated and real tiles."""

from __future__ import annotations

import numpy as np
import pytest

import mmnst_path.pipeline._worker as worker
from mmnst_path.detect.nuclei import NucleusParams, nuclei_from_stains, stain_planes
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic import ki67_pigment_tile, pigment_family_tile


def _both(monkeypatch: pytest.MonkeyPatch, rgb: np.ndarray, mpp: float, config: AnalysisConfig | None = None,
          **kw):
    out = []
    for lean in (False, True):
        monkeypatch.setattr(worker, "LEAN_TILES", lean)
        out.append(analyze_region(rgb, config, mpp=mpp, **kw))
    return out


def _tissue_at(side: str, seed: int) -> np.ndarray:
    """A Ki67 tile with pigment whose tissue touches ``side`` of a larger white image (and glass
    elsewhere), so the lean part is cut at that side by the image edge and by white glass."""
    tile = ki67_pigment_tile(seed, size=320, pigmented_cells=0.6).rgb
    out = np.full((480, 480, 3), 255, np.uint8)
    at = {"top": (0, 80), "bottom": (160, 80), "left": (80, 0), "right": (80, 160)}[side]
    out[at[0] : at[0] + 320, at[1] : at[1] + 320] = tile
    return out


@pytest.mark.parametrize("side", ["top", "bottom", "left", "right"])
def test_lean_path_is_bit_identical_with_tissue_at_each_border(monkeypatch, side, assert_same_results):
    rgb = _tissue_at(side, seed=3)
    ref, lean = _both(monkeypatch, rgb, 0.5)
    assert ref.counts["ki67"].total > 50  # something to compare
    assert ref.metrics["melanin_area_mm2"] > 0  # the pigment stage found melanin
    assert_same_results(ref, lean)


def test_lean_path_is_bit_identical_on_pigment_families_and_a_roi(monkeypatch, assert_same_results):
    for seed, family in ((1, "coarse"), (2, "perinuclear")):
        rgb = pigment_family_tile(seed, family, size=256).rgb
        ref, lean = _both(monkeypatch, rgb, 0.5)
        assert_same_results(ref, lean)
    rgb = pigment_family_tile(4, "whole_cell", size=256).rgb
    roi = [np.array([[10.0, 10.0], [10.0, 200.0], [180.0, 120.0]])]
    ref, lean = _both(monkeypatch, rgb, 0.5, roi=roi)
    assert 0 < ref.counts["ki67"].total
    assert_same_results(ref, lean)


def test_lean_path_at_a_finer_scan_resolution(monkeypatch, assert_same_results):
    """A 0.25 µm/px image is resampled to 0.5 µm/px before the stages (as BCData is)."""
    tile = ki67_pigment_tile(7, size=160, pigmented_cells=0.3).rgb
    rgb = np.repeat(np.repeat(tile, 2, axis=0), 2, axis=1)
    ref, lean = _both(monkeypatch, rgb, 0.25)
    assert_same_results(ref, lean)


def test_lean_window_is_used_and_smaller_than_the_tile():
    rgb = _tissue_at("left", seed=5)
    cfg = AnalysisConfig(stains="H-DAB")
    matrix = cfg.stain_matrix()
    from mmnst_path.pipeline._config import applicable_measures

    job = worker.TileJob(config=cfg, matrix=matrix, measures=applicable_measures(cfg, matrix), roi=None, map_px=64)
    tile_img = np.pad(rgb, ((270, 270), (270, 270), (0, 0)), constant_values=255)
    lean = worker._lean_windows(tile_img, job, 0.5)
    assert lean is not None
    box, win, reach = lean
    assert box == (270 + 80, 270 + 400, 270, 270 + 320)
    rows, cols = win[0].stop - win[0].start, win[1].stop - win[1].start
    assert rows * cols < 0.5 * tile_img.shape[0] * tile_img.shape[1]
    assert 0 < reach < 270
    # a tissue-class map reads every pixel: no lean part
    nec = AnalysisConfig(measures=("ki67", "necrosis"))
    job_n = worker.TileJob(config=nec, matrix=matrix, measures=("ki67", "necrosis"), roi=None, map_px=64)
    assert worker._lean_windows(tile_img, job_n, 0.5) is None
    assert worker._nonwhite_box(np.full((300, 300, 3), 255, np.uint8)) is None


def test_nuclei_origin_gives_the_centroids_of_the_larger_planes():
    rgb = ki67_pigment_tile(2, size=160, pigmented_cells=0.0).rgb
    big = np.pad(rgb, ((90, 140), (130, 70), (0, 0)), constant_values=255)
    hem, dab = stain_planes(big)
    ref = nuclei_from_stains(hem, dab, mpp=0.5, return_labels=True)
    pad = 60  # > unstained_reach_px at 0.5 µm/px
    win = (slice(90 - pad, 90 + 160 + pad), slice(130 - pad, 130 + 160 + pad))
    sub = nuclei_from_stains(hem[win], dab[win], mpp=0.5, params=NucleusParams(), return_labels=True,
                             origin=(win[0].start, win[1].start))
    assert len(ref) > 20
    for name in ref.FEATURES:
        np.testing.assert_array_equal(getattr(sub, name), getattr(ref, name), err_msg=name)
    np.testing.assert_array_equal(sub.labels, ref.labels[win])


@pytest.mark.parametrize(("folder", "name", "mpp"), [("bcdata", "3.png", 0.25), ("shidc", "p1_0299_1.jpg", 0.21),
                                                      ("deepliif", "22_2.png", 0.31)])
def test_lean_path_is_bit_identical_on_real_tiles(monkeypatch, shared_data, folder, name, mpp, assert_same_results):
    from PIL import Image

    rgb = np.asarray(Image.open(shared_data / "ki67" / folder / name).convert("RGB"))
    ref, lean = _both(monkeypatch, rgb, mpp)
    assert ref.counts["ki67"].total > 50
    assert_same_results(ref, lean)


@pytest.mark.parametrize("stains", ["H-DAB-FastRed", "AzureB-DAB", "H&E"])
def test_lean_path_is_bit_identical_with_other_stains(monkeypatch, stains, assert_same_results):
    """A double stain (melanocyte marker read in a ring), an azure B counterstain (azure pigment
    mode, no default cell model) and H&E (rule-based pigment, melanin only) on a tile whose
    tissue touches the top of a larger white image."""
    from mmnst_path.synthetic import he_melanin_tile
    from mmnst_path.synthetic_azure import azure_b_tile
    from mmnst_path.synthetic_double import double_stain_tile

    tile = {"H-DAB-FastRed": lambda: double_stain_tile(2, size=320).rgb,
            "AzureB-DAB": lambda: azure_b_tile(3, size=320).rgb,
            "H&E": lambda: he_melanin_tile(1, size=320).rgb}[stains]()
    rgb = np.full((480, 400, 3), 255, np.uint8)
    rgb[:320, 40:360] = tile
    used = []
    windows = worker._lean_windows
    monkeypatch.setattr(worker, "_lean_windows", lambda *a: used.append(windows(*a)) or used[-1])
    # H&E: melanin alone (with necrosis the tissue-class map reads the whole tile)
    config = AnalysisConfig(stains=stains, measures=("melanin",) if stains == "H&E" else ())
    ref, lean = _both(monkeypatch, rgb, 0.5, config)
    assert used[0] is None  # the reference run
    assert used[-1] is not None  # the lean part was used
    assert ref.measures == lean.measures
    assert_same_results(ref, lean)


@pytest.mark.parametrize("chromogen", ["aec", "fast_red"])
def test_lean_path_is_bit_identical_with_a_sox10_double_stain(monkeypatch, chromogen, assert_same_results):
    """A Ki67 / SOX10 double stain: the learned double-stain call (session 44) reads the tile's own nuclei as
    references, which the lean part holds as the whole image does."""
    from mmnst_path.synthetic_double import double_stain_tile

    rgb = np.full((480, 400, 3), 255, np.uint8)
    rgb[:320, 40:360] = double_stain_tile(4, marker="nuclear", chromogen=chromogen, size=320).rgb
    used = []
    windows = worker._lean_windows
    monkeypatch.setattr(worker, "_lean_windows", lambda *a: used.append(windows(*a)) or used[-1])
    config = AnalysisConfig.from_mapping({"stains": "H-DAB-AEC" if chromogen == "aec" else "H-DAB-FastRed",
                                          "measures": ["ki67"], "ki67": {"melanocyte_marker": "nuclear"}})
    ref, lean = _both(monkeypatch, rgb, 0.5, config)
    assert used[0] is None
    assert used[-1] is not None
    assert ref.cells.columns["melanocytic"].any()
    assert_same_results(ref, lean)
