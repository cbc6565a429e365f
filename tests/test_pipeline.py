"""Tests of mmnst_path.pipeline: config, and invariance of the counts to tiling and workers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.aggregate import SlideResult
from mmnst_path.errors import ConfigError, MissingMetadataError
from mmnst_path.pipeline import AnalysisConfig, analyze_region, analyze_slide, applicable_measures
from mmnst_path.stain import get_preset

H = np.array([0.650, 0.704, 0.286])
DAB = np.array([0.268, 0.570, 0.776])


def render_ihc(shape: tuple[int, int], mpp: float, seed: int, n_nuclei: int, positive: float) -> np.ndarray:
    """Beer–Lambert H-DAB image: pale tissue with textured round nuclei, some DAB positive."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(seed)
    hem = np.full(shape, 0.06, np.float32)  # float32 throughout: keeps the fixture fast
    dab = np.full(shape, 0.02, np.float32)
    rr, cc = np.mgrid[-12:13, -12:13]
    for _ in range(n_nuclei):
        rad = rng.uniform(3.0, 5.0) / mpp
        r, c = rng.integers(13, shape[0] - 13), rng.integers(13, shape[1] - 13)
        disc = ((rr**2 + cc**2) <= rad**2).astype(np.float32) * rng.uniform(0.8, 1.2, rr.shape).astype(np.float32)
        target = dab if rng.random() < positive else hem
        view = target[r - 12 : r + 13, c - 12 : c + 13]
        np.maximum(view, disc * rng.uniform(0.4, 0.8), out=view)
    od = hem[..., None] * H.astype(np.float32) + dab[..., None] * DAB.astype(np.float32)
    od = ndi.gaussian_filter(od, (0.7, 0.7, 0))
    rgb = 245 * 10.0 ** (-od) + rng.normal(0, 2, od.shape)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def write_pyramid(path: Path, rgb: np.ndarray, mpp: float) -> None:
    """Tiled pyramidal TIFF (levels as successive pages), mpp in the resolution tags."""
    import tifffile

    res = (1e4 / mpp, 1e4 / mpp)
    with tifffile.TiffWriter(path) as tw:
        level = rgb
        for i in range(2):
            tw.write(level, photometric="rgb", tile=(256, 256), compression=None,
                     resolution=(res[0] / 2**i, res[1] / 2**i), resolutionunit="CENTIMETER",
                     subfiletype=1 if i else 0)
            h, w = level.shape[0] // 2 * 2, level.shape[1] // 2 * 2
            level = level[:h, :w].reshape(h // 2, 2, w // 2, 2, 3).mean(axis=(1, 3)).round().astype(np.uint8)


@pytest.fixture(scope="module")
def slide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("slide") / "slide.tif"
    write_pyramid(path, render_ihc((1536, 2304), 0.5, seed=3, n_nuclei=1500, positive=0.3), mpp=0.5)
    return path


def _cells_key(result: SlideResult) -> np.ndarray:
    order = np.lexsort((result.cells.col, result.cells.row))
    return np.column_stack([result.cells.row[order], result.cells.col[order], result.cells.cls[order]])


def test_counts_do_not_depend_on_tile_size_or_workers(slide: Path) -> None:
    # analysis at 1 µm/px reads pyramid level 1: tiles of 512 and 2048 analysis pixels
    small = AnalysisConfig(analysis_mpp=1.0, tile_um=512.0, measures=("ki67",))
    large = small.replace(tile_um=2048.0)
    a = analyze_slide(slide, small, workers=1)
    b = analyze_slide(slide, large, workers=1)
    c = analyze_slide(slide, small, workers=2)
    assert len(a.tiles) == 6
    assert len(b.tiles) == 1
    assert a.counts["ki67"].denominator > 700
    assert a.counts["ki67"] == b.counts["ki67"] == c.counts["ki67"]
    np.testing.assert_allclose(_cells_key(a), _cells_key(b), atol=1e-6)
    np.testing.assert_array_equal(_cells_key(a), _cells_key(c))
    assert a.metrics["ki67_index_pct"] == b.metrics["ki67_index_pct"]
    assert a.mpp == 0.5
    assert a.analysis_mpp == 1.0
    assert a.shape == (1536, 2304)
    # cells are in level-0 pixels and inside the slide
    assert a.cells.row.max() < 1536
    assert a.cells.col.max() < 2304
    assert a.cells.col.max() > 1536  # x spans the long axis: (row, col) not swapped
    # additive per-tile table sums to the totals
    assert a.tiles.columns["ki67_positive"].sum() == a.counts["ki67"].positive


def test_analyze_region_equals_analyze_slide_on_the_same_pixels(tmp_path: Path) -> None:
    import tifffile

    rgb = render_ihc((400, 500), 0.5, seed=5, n_nuclei=120, positive=0.4)
    path = tmp_path / "tile.tif"
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    cfg = AnalysisConfig(measures=("ki67",))
    from_file = analyze_slide(path, cfg, workers=1)
    in_memory = analyze_region(rgb, cfg, mpp=0.5)
    assert from_file.counts["ki67"] == in_memory.counts["ki67"]
    assert from_file.metrics["ki67_index_pct"] == in_memory.metrics["ki67_index_pct"]
    assert len(in_memory.tiles) == 1  # smaller than a tile: analysed whole
    assert in_memory.hotspot is not None
    assert in_memory.hotspot.whole_image
    assert in_memory.metrics["ki67_hotspot_index_pct"] == in_memory.metrics["ki67_index_pct"]
    assert from_file.stains["names"][:2] == ["hematoxylin", "dab"]
    assert from_file.config["analysis_mpp"] == 0.5
    assert "numpy" in from_file.versions


def test_roi_keeps_only_cells_inside() -> None:
    rgb = render_ihc((400, 400), 0.5, seed=7, n_nuclei=150, positive=0.5)
    cfg = AnalysisConfig(measures=("ki67",))
    whole = analyze_region(rgb, cfg, mpp=0.5)
    square = np.array([[0, 0], [0, 200], [400, 200], [400, 0]], dtype=float)  # left half (row, col)
    left = analyze_region(rgb, cfg, mpp=0.5, roi=[square])
    assert 0 < len(left.cells) < len(whole.cells)
    assert left.cells.col.max() < 200
    everything = np.array([[-1, -1], [-1, 401], [401, 401], [401, -1]], dtype=float)
    assert analyze_region(rgb, cfg, mpp=0.5, roi=[everything]).counts["ki67"] == whole.counts["ki67"]


def test_blank_image_gives_undefined_index_not_zero() -> None:
    blank = np.full((300, 300, 3), 250, np.uint8)
    r = analyze_region(blank, AnalysisConfig(measures=("ki67",)), mpp=0.5)
    assert r.metrics["ki67_denominator"] == 0
    assert math.isnan(r.metrics["ki67_index_pct"])
    assert math.isnan(r.metrics["ki67_ci_low_pct"])


def test_missing_mpp_is_a_clear_error(tmp_path: Path) -> None:
    import tifffile

    path = tmp_path / "nompp.tif"
    tifffile.imwrite(path, np.full((64, 64, 3), 250, np.uint8), photometric="rgb")
    with pytest.warns(UserWarning, match="mpp|microns"), pytest.raises(MissingMetadataError, match="mpp"):
        analyze_slide(path, AnalysisConfig(), workers=1)


def test_config_round_trip_and_toml(tmp_path: Path) -> None:
    import json

    cfg = AnalysisConfig(analysis_mpp=0.25, stains="H&E", measures=("melanin",), tile_um=256)
    data = cfg.to_mapping()
    assert AnalysisConfig.from_mapping(json.loads(json.dumps(data))) == cfg
    assert isinstance(data["nuclei"]["nucleus_radius_um"], list)
    toml = tmp_path / "cfg.toml"
    toml.write_text('analysis_mpp = 0.4\nmeasures = ["ki67"]\n[nuclei]\nmin_area_um2 = 12.0\nnucleus_radius_um = [3.0, 4.5]\n')
    loaded = AnalysisConfig.from_toml(toml)
    assert loaded.analysis_mpp == 0.4
    assert loaded.nuclei.min_area_um2 == 12.0
    assert loaded.nuclei.nucleus_radius_um == (3.0, 4.5)
    assert loaded.measures == ("ki67",)
    with pytest.raises(AttributeError):
        loaded.analysis_mpp = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("mapping", "key"),
    [
        ({"analysis_mpp": -1}, "analysis_mpp"),
        ({"tile_size": 5}, "tile_size"),
        ({"nuclei": {"radius": 3}}, "nuclei.radius"),
        ({"nuclei": {"min_area_um2": 500.0}}, "min_area_um2"),
        ({"measures": ["ki67", "mitosis"]}, "mitosis"),
        ({"hotspot_min_nuclei": 0}, "hotspot_min_nuclei"),
    ],
)
def test_config_errors_name_the_key(mapping: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        AnalysisConfig.from_mapping(mapping)


def test_measures_follow_the_stains() -> None:
    default = AnalysisConfig()
    assert applicable_measures(default, get_preset("H-DAB")) == ("ki67", "melanin")
    assert applicable_measures(default, get_preset("H&E")) == ("melanin", "necrosis")
    with pytest.raises(ConfigError, match="ki67"):
        applicable_measures(AnalysisConfig(measures=("ki67",)), get_preset("H&E"))
    with pytest.raises(ConfigError, match="necrosis"):
        applicable_measures(AnalysisConfig(measures=("necrosis",)), get_preset("H-DAB"))
    with pytest.raises(ConfigError, match="stains"):
        AnalysisConfig(stains="no-such-stain").stain_matrix()


SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


def test_melanin_and_ki67_with_pigment_do_not_depend_on_tile_size() -> None:
    import tifffile

    rgb = tifffile.imread(SAMPLES / "ki67_pigmented.tif")[:512, :512]
    cfg = AnalysisConfig(stains="H-DAB", measures=("ki67", "melanin"))
    whole = analyze_region(rgb, cfg, mpp=0.5)
    tiled = analyze_region(rgb, cfg.replace(tile_um=96.0), mpp=0.5)
    assert len(tiled.tiles) == 9
    assert whole.counts["melanin"] == tiled.counts["melanin"]
    assert whole.counts["ki67"] == tiled.counts["ki67"]
    assert whole.counts["melanin"].melanin_um2 > 0
    frac = whole.metrics["melanin_fraction_pct"]
    assert 0 < frac < 100
    assert frac == pytest.approx(100 * whole.counts["melanin"].melanin_um2 / whole.counts["melanin"].tissue_um2)
    # the low-resolution melanin map covers the image and holds fractions
    mel = tiled.maps["melanin"]
    assert mel.image.shape == (16, 16)  # 512 px / (16 µm / 0.5 µm/px)
    assert np.nanmax(mel.image) <= 1.0
    np.testing.assert_allclose(mel.image, whole.maps["melanin"].image)


def test_he_tile_measures_melanin_and_necrosis_but_not_ki67() -> None:
    import tifffile

    rgb = tifffile.imread(SAMPLES / "he_necrosis.tif")[:384, :384]
    r = analyze_region(rgb, AnalysisConfig(stains="auto"), mpp=0.5)
    assert r.measures == ("melanin", "necrosis")
    assert r.stains["name"] == "H&E"
    assert r.config["stains"] == "H&E"  # the resolved config is what the result records
    assert r.hotspot is None
    assert "ki67_index_pct" not in r.metrics
    assert 0 <= r.metrics["necrosis_fraction_pct"] <= 100
    assert r.counts["necrosis"].tissue_um2 > 0
    assert "necrosis" in r.maps


def test_blank_he_image_gives_undefined_fractions() -> None:
    blank = np.full((200, 200, 3), 252, np.uint8)
    r = analyze_region(blank, AnalysisConfig(stains="H&E"), mpp=0.5)
    assert r.counts["melanin"].melanin_um2 == 0
    assert math.isnan(r.metrics["melanin_fraction_pct"])
    assert math.isnan(r.metrics["necrosis_fraction_pct"])


def _weak_dab_tile(seed: int) -> tuple[np.ndarray, float]:
    """A 0.5 µm/px H-DAB tile of non-touching nuclei on a jittered grid, 30 % of them weakly
    DAB-positive (0.27-0.33 OD, a faint run: under the 0.35 default) with a light hematoxylin
    counterstain; returns the image and the true index (%)."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(seed)
    shape = (640, 640)
    hem = np.full(shape, 0.05, np.float32)
    dab = np.full(shape, 0.02, np.float32)
    rr, cc = np.indices(shape)
    n_pos = n = 0
    for r0 in range(24, 620, 32):
        for c0 in range(24, 620, 32):
            r, c = r0 + rng.uniform(-4, 4), c0 + rng.uniform(-4, 4)
            disc = (rr - r) ** 2 + (cc - c) ** 2 <= rng.uniform(7.0, 9.0) ** 2
            n += 1
            if rng.random() < 0.3:
                n_pos += 1
                dab[disc] = rng.uniform(0.27, 0.33)
                hem[disc] = 0.12
            else:
                hem[disc] = rng.uniform(0.35, 0.55)
    od = hem[..., None] * H.astype(np.float32) + dab[..., None] * DAB.astype(np.float32)
    od = ndi.gaussian_filter(od, (0.7, 0.7, 0))
    rgb = 245 * 10.0 ** (-od) + rng.normal(0, 2, od.shape)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8), 100.0 * n_pos / n


def test_weakly_stained_slide_gets_its_own_lower_threshold() -> None:
    rgb, truth = _weak_dab_tile(7)
    adapted = analyze_region(rgb, AnalysisConfig(measures=("ki67",)), mpp=0.5)
    fixed = analyze_region(
        rgb, AnalysisConfig.from_mapping({"measures": ["ki67"], "ki67": {"weak_stain_adaptation": False,
                                                                          "nuclear_contrast_rule": False}}), mpp=0.5
    )
    assert fixed.metrics["ki67_positive_threshold_od"] == 0.35
    assert math.isnan(fixed.metrics["ki67_nuclear_contrast_od"])  # the rule was turned off
    assert adapted.metrics["ki67_nuclear_contrast_od"] == 0.12
    assert fixed.metrics["ki67_index_pct"] < truth - 15  # the faint positives fall under 0.35
    assert adapted.metrics["ki67_positive_threshold_od"] < 0.35
    assert abs(adapted.metrics["ki67_index_pct"] - truth) <= 2.0
    # counts, cells, per-tile table and hot spot agree after the slide-level reclassification
    k = adapted.counts["ki67"]
    assert k.positive == adapted.cells.count("positive") == int(adapted.tiles.columns["ki67_positive"].sum())
    assert k.negative == adapted.cells.count("negative") == int(adapted.tiles.columns["ki67_negative"].sum())
    assert adapted.hotspot is not None
    assert abs(adapted.hotspot.index_pct - adapted.metrics["ki67_index_pct"]) < 1e-9
    # the slide-level threshold does not depend on the tiling
    small = analyze_region(rgb, AnalysisConfig(measures=("ki67",), tile_um=96.0), mpp=0.5)
    assert small.metrics["ki67_positive_threshold_od"] == adapted.metrics["ki67_positive_threshold_od"]
    assert small.counts["ki67"] == k


def test_pigment_prior_does_not_depend_on_tile_size() -> None:
    """Issue #14: the pigment prior (near-black nuclei beside melanin read ``pigment``) is opened
    per nucleus by the melanin around it (``Ki67Params.pigment_prior_radius_um``), which the Ki67
    halo holds, not by the share of the analysed window. Generated near-black ``sparse`` tile
    (seed 3, its first 160 µm of rows): with the per-window gate (until 2026-12-04) the whole image
    counted 104 positive / 232 negative / 20 pigment, 96 µm tiles 114 / 232 / 10."""
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(3, "sparse", chromogen="dab", near_black=True, size=768)
    rgb = np.ascontiguousarray(tile.rgb[:320])
    cfg = AnalysisConfig(stains="H-DAB", measures=("ki67",))
    whole = analyze_region(rgb, cfg, mpp=tile.mpp)
    tiled = analyze_region(rgb, cfg.replace(tile_um=96.0), mpp=tile.mpp)
    assert len(whole.tiles) == 1
    assert len(tiled.tiles) == 8
    assert whole.counts["ki67"].pigment > 0  # the prior holds for some near-black nuclei
    assert whole.counts["ki67"] == tiled.counts["ki67"]
    a, b = _cells_key(whole), _cells_key(tiled)
    np.testing.assert_allclose(a[:, :2].astype(float), b[:, :2].astype(float), atol=1e-9)
    np.testing.assert_array_equal(a[:, 2], b[:, 2])  # every nucleus keeps its class
