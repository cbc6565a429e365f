"""A pipeline tile's tissue stage reads the slide cut at its edge (``_class_window.TISSUE_INSIDE_SLIDE``), as a call
on the bare image does, not the white margin past it; the tiles' results do not depend on the tile size; the Ki67
stage's tumour region keeps the margin (session 39 H3, #13)."""

from __future__ import annotations

import numpy as np
import pytest

import mmnst_path.pipeline._class_window as class_window
import mmnst_path.pipeline._worker as worker
import mmnst_path.quantify.necrosis as necrosis
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.synthetic import he_necrosis_tile
from mmnst_path.synthetic_ki67 import ki67_cells_tile
from mmnst_path.synthetic_tissue import he_tissue_tile
from mmnst_path.tiling import SlideGeometry, plan_grid


def _spy(monkeypatch, module, name: str) -> list:
    calls: list = []
    real = getattr(module, name)

    def spied(*args, **kw):
        out = real(*args, **kw)
        calls.append((args, kw, out))
        return out

    monkeypatch.setattr(module, name, spied)
    return calls


def _he(seed: int, mpp: float) -> np.ndarray:
    """A generated H&E field with geographic necrosis (necrosis reaches the image's edges), 300 µm a side."""
    return he_tissue_tile(seed, size=int(300 / mpp), mpp=mpp, necrosis="geographic").rgb


def _run(rgb: np.ndarray, mpp: float, tile_um: float, measures=("necrosis",)):
    return analyze_region(rgb, AnalysisConfig(stains="H&E", measures=measures, tile_um=tile_um), mpp=mpp)


def test_inside_slices_cut_the_margin_past_the_slide() -> None:
    tiles = plan_grid(SlideGeometry(((300, 500),), (1.0,), 1.0), max_object_um=10, tile_um=200, analysis_mpp=1.0)
    for t in tiles:
        part = t.inside_slices()
        assert part is not None  # (every tile's halo reaches past the edge of this small slide)
        rows = t.origin[0] + np.arange(t.shape[0])[part[0]]
        cols = t.origin[1] + np.arange(t.shape[1])[part[1]]
        assert rows[0] == max(0, t.origin[0])
        assert rows[-1] == min(299, t.origin[0] + t.shape[0] - 1)
        assert cols[0] == max(0, t.origin[1])
        assert cols[-1] == min(499, t.origin[1] + t.shape[1] - 1)
        core = t.core_slices
        assert part[0].start <= core[0].start
        assert core[0].stop <= part[0].stop
        assert part[1].start <= core[1].start
        assert core[1].stop <= part[1].stop
    big = plan_grid(SlideGeometry(((2000, 2000),), (1.0,), 1.0), max_object_um=10, tile_um=200, analysis_mpp=1.0)
    # the 8 x 8 inner tiles of the 10 x 10 grid: their halo stays on the slide
    assert sorted(t.grid_pos for t in big if t.inside_slices() is None) == [(i, j) for i in range(1, 9) for j in range(1, 9)]


@pytest.mark.parametrize(("seed", "mpp"), [(951, 1.0), (952, 0.5)])
def test_one_tile_reads_the_necrosis_of_the_bare_call(monkeypatch, seed: int, mpp: float) -> None:
    rgb = _he(seed, mpp)
    calls = _spy(monkeypatch, necrosis, "measure_necrosis")
    res = _run(rgb, mpp, 16000.0)
    (args, kw, (counts, mask, _)), = calls
    assert args[0].shape == rgb.shape
    assert np.array_equal(args[0], rgb)
    assert tuple(kw["origin"]) == (0, 0)
    bare = {k: v for k, v in kw.items() if k not in ("tissue_map", "necrosis_labels", "origin")}
    ref_counts, ref_mask, _ = necrosis.measure_necrosis(rgb, **bare)  # its own class map, on the bare image
    assert counts == ref_counts
    np.testing.assert_array_equal(mask, ref_mask)
    assert res.metrics["necrosis_area_mm2"] == pytest.approx(ref_counts.necrosis_um2 / 1e6, rel=1e-12)


def test_the_white_margin_moved_the_necrosis_at_the_edge(monkeypatch) -> None:
    """The mechanism the change removes: with the margin, the same image reads another necrosis area."""
    rgb = _he(953, 1.0)
    inside = _run(rgb, 1.0, 16000.0).metrics["necrosis_area_mm2"]
    monkeypatch.setattr(class_window, "TISSUE_INSIDE_SLIDE", False)
    calls = _spy(monkeypatch, necrosis, "measure_necrosis")
    margin = _run(rgb, 1.0, 16000.0).metrics["necrosis_area_mm2"]
    assert calls[0][0][0].shape[0] > rgb.shape[0]  # (the tile image with its white margin)
    assert inside > 0
    assert margin != inside


@pytest.mark.parametrize("mpp", [1.0, 0.5])
def test_tiles_read_as_one_tile(mpp: float, assert_same_results) -> None:
    """The edge is the slide's: tiled runs give the one-tile run's necrosis and class areas, bit for bit."""
    rgb = _he(954, mpp)
    ref = _run(rgb, mpp, 16000.0, ("melanin", "necrosis"))
    assert ref.metrics["necrosis_area_mm2"] > 0
    for tile_um in (96.0, 128.0):
        got = _run(rgb, mpp, tile_um, ("melanin", "necrosis"))
        assert len(got.tiles.core) > 1
        assert_same_results(ref, got)
        for key in ref.tiles.columns:
            if key.startswith("class_") or key == "necrosis_um2":
                assert float(np.sum(got.tiles.columns[key])) == pytest.approx(float(np.sum(ref.tiles.columns[key])),
                                                                              rel=1e-12, abs=1e-9), key


def test_ki67_tumour_region_keeps_the_white_margin(monkeypatch, assert_same_results) -> None:
    """``count_in = "tumour"``: the class map the Ki67 stage reads is the whole tile image's, as before."""
    t = ki67_cells_tile(955, size=320, mpp=0.5)
    cfg = AnalysisConfig(stains="H-DAB", measures=("ki67",), tile_um=16000.0)
    cfg = cfg.replace(ki67={**cfg.ki67.to_mapping(), "count_in": "tumour"})
    calls = _spy(monkeypatch, worker, "tumour_region")
    got = analyze_region(t.rgb, cfg, mpp=t.mpp)
    assert calls
    assert calls[0][0][0].shape[0] > t.rgb.shape[0]
    monkeypatch.setattr(class_window, "TISSUE_INSIDE_SLIDE", False)
    assert_same_results(analyze_region(t.rgb, cfg, mpp=t.mpp), got)


def _edge_and_inside(mask: np.ndarray, core: tuple[slice, slice], mpp: float) -> tuple[float, float]:
    """Tumour share of the image's outer 8 µm (one class block) and of its inside beyond 40 µm from the edge."""
    m = np.asarray(mask)[core]
    w, inner = round(8 / mpp), round(40 / mpp)
    edge = np.ones(m.shape, dtype=bool)
    edge[w:-w, w:-w] = False
    return float(m[edge].mean()), float(m[inner:-inner, inner:-inner].mean())


@pytest.mark.parametrize("mpp", [1.0, 0.5])
def test_tumour_filled_tile_reads_tumour_to_its_edge(monkeypatch, mpp: float) -> None:
    """D9 (session 40 H3): on a tile that is tumour edge to edge, the blocks at the image's edge read as its inside
    does; with the white margin they read as something else (stroma), none of them tumour."""
    rgb = he_necrosis_tile(961, mpp=mpp, size=round(240 / mpp), necrosis_fraction=0.0).rgb
    calls = _spy(monkeypatch, worker, "tumour_region")
    _run(rgb, mpp, 16000.0)
    (args, kw, (tumour, _, _)), = calls
    assert args[0].shape == rgb.shape
    edge, inside = _edge_and_inside(tumour, kw["core"], mpp)
    assert inside >= 0.8  # (the field is tumour)
    assert edge >= inside - 0.15
    monkeypatch.setattr(class_window, "TISSUE_INSIDE_SLIDE", False)
    calls.clear()
    _run(rgb, mpp, 16000.0)
    (args, kw, (tumour, _, _)), = calls
    assert args[0].shape[0] > rgb.shape[0]
    margin_edge, margin_inside = _edge_and_inside(tumour, kw["core"], mpp)
    assert margin_inside >= 0.8
    assert margin_edge <= 0.1


def test_a_block_cut_by_the_image_end_counts_its_owned_pixels() -> None:
    """The necrosis counts weigh each 8-µm block by the share of its area owned: a block the image's last row or
    column cuts (the slide's edge, now that the tissue stage reads the tile cut there) counts what it has."""
    from mmnst_path.quantify.necrosis import _owned_share

    share = _owned_share(np.ones((17, 17), dtype=bool), 16)
    np.testing.assert_allclose(share, [[1.0, 1 / 16], [1 / 16, 1 / 256]])


@pytest.mark.parametrize("mpp", [1.0, 0.5])
def test_necrosis_area_is_the_class_maps_at_a_cut_block(mpp: float) -> None:
    """An image whose side is not a whole number of class blocks (300 µm: 37.5 blocks of 8 µm): the necrosis
    area equals the class map's necrosis area, the last half block counted by its pixels inside the image."""
    res = _run(_he(956, mpp), mpp, 16000.0)
    legend = {c["name"]: c["area_mm2"] for c in res.tissue_classes["classes"]}
    assert res.metrics["necrosis_area_mm2"] > 0
    assert legend["necrosis"] == pytest.approx(res.metrics["necrosis_area_mm2"], rel=1e-9, abs=1e-12)
