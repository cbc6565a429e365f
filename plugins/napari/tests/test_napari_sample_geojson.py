"""Sample data contribution and the pure layer builders."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mmnst_path_napari import _sample_data
from mmnst_path_napari._layers import (
    CLASS_COLORS,
    cells_from_points,
    class_colors,
    points_layer,
    raster_transform,
)

from mmnst_path.aggregate import CELL_CLASSES, CellTable


def test_every_sample_tile_loads_with_its_pixel_size(sample_tiles):
    truth = json.loads((sample_tiles / "truth.json").read_text())
    for key, fname in _sample_data.SAMPLES.items():
        ((data, kwargs, kind),) = getattr(_sample_data, f"sample_{key}")()
        assert kind == "image"
        assert data.shape[:2] == tuple(truth[fname]["shape"])
        assert kwargs["scale"] == pytest.approx((truth[fname]["mpp"],) * 2)


def test_every_sample_opens_from_napari_file_open_sample(make_napari_viewer, sample_tiles):
    """File > Open Sample > mmnst_path: every key of the manifest opens its tile through npe2 (not the functions)."""
    from npe2 import PluginManager

    viewer = make_napari_viewer()  # (napari's plugin manager is filled with the installed plugins here)
    manifest = PluginManager.instance().get_manifest("mmnst-path-napari")
    keys = [s.key for s in manifest.contributions.sample_data]
    assert sorted(keys) == sorted(_sample_data.SAMPLES)  # the three protocol samples of session 43 included
    truth = json.loads((sample_tiles / "truth.json").read_text())
    for key in keys:
        (layer,) = viewer.open_sample("mmnst-path-napari", key)
        assert layer.data.shape[:2] == tuple(truth[_sample_data.SAMPLES[key]]["shape"])
    assert len(viewer.layers) == len(keys)


def _cells(n=5):
    rng = np.random.default_rng(3)
    names = ["positive", "negative", "pigment", "excluded", "negative"][:n]
    return CellTable(
        rng.uniform(0, 500, n),
        rng.uniform(0, 700, n),
        np.array([CELL_CLASSES.index(c) for c in names], np.int8),
        {
            "dab_od_mean": rng.uniform(0, 1, n),
            "area_um2": rng.uniform(20, 80, n),
            "intensity_bin": np.array([2, 0, 0, 0, 0][:n], np.int8),
        },
    )


def test_points_layer_colours_and_features():
    cells = _cells()
    data, kw, kind = points_layer(cells, mpp=0.5)
    assert kind == "points"
    np.testing.assert_allclose(data[:, 0], cells.row)
    np.testing.assert_allclose(kw["border_color"][0], CLASS_COLORS["positive"])
    np.testing.assert_allclose(kw["border_color"][1], CLASS_COLORS["negative"])
    np.testing.assert_allclose(kw["border_color"][2], CLASS_COLORS["pigment"])
    assert list(kw["features"]["class"]) == list(cells.class_names())
    back = cells_from_points(data, kw["features"])
    np.testing.assert_array_equal(back.cls, cells.cls)
    np.testing.assert_allclose(back.columns["area_um2"], cells.columns["area_um2"], rtol=1e-6)
    assert kw["size"] == pytest.approx(16.0)  # 8 µm at 0.5 µm/px
    assert class_colors(np.array(["positive"] * 3, dtype=object)).shape == (3, 4)


def test_raster_transform_centres_coarse_pixels_on_their_level0_footprint():
    t = raster_transform(downsample=4, origin=(100, 200), mpp=0.5)
    assert t["scale"] == (2.0, 2.0)
    # raster pixel 0 covers level-0 rows 100..103, centred at 101.5 -> 50.75 µm
    assert t["translate"] == pytest.approx((50.75, 100.75))
    with pytest.raises(ValueError, match="downsample"):
        raster_transform(downsample=0, mpp=0.5)
