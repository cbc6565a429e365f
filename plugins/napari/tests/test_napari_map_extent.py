"""Low-resolution maps drawn block by block where they are (cropped to the image, values unchanged),
undefined values transparent, and a legend naming every colour."""

from __future__ import annotations

import numpy as np
import pytest
from mmnst_path_napari._layers import CLASS_COLORS, exact_raster, heatmap_layer, legend_html


@pytest.mark.parametrize(
    ("shape", "downsample"),
    [
        ((2967, 2220), 1024.0),
        ((2967, 2220), 16.0),
        ((3567, 4443), 32.0),
        ((100_000, 80_000), 2048.0),
        ((300, 300), 7.0),
        ((17, 5), 64.0),
    ],
)
def test_exact_raster_blocks_where_they_are_cropped_to_the_image(shape, downsample):
    """Session 42 (H5's walk #10): every block at its true size and place (no stretch to the image's extent), the
    raster cropped to the pixels that touch the image (past its far edge by less than one raster pixel)."""
    n_r, n_c = -(-shape[0] // int(downsample)), -(-shape[1] // int(downsample))
    values = np.arange(n_r * n_c, dtype=np.float32).reshape(n_r, n_c)
    raster, t = exact_raster(values, downsample=downsample, shape=shape, mpp=0.5)
    sr, sc = t["scale"]
    k = round(downsample * 0.5 / sr)
    assert k >= 1
    assert sr == pytest.approx(downsample * 0.5 / k)
    assert sc == pytest.approx(sr)
    assert downsample / k <= max(16.0, downsample / max(1, 4096 // max(values.shape)))
    assert max(raster.shape) <= max(4096, max(values.shape))
    top = t["translate"][0] - sr / 2
    left = t["translate"][1] - sc / 2
    bottom = t["translate"][0] + (raster.shape[0] - 0.5) * sr
    right = t["translate"][1] + (raster.shape[1] - 0.5) * sc
    assert top == pytest.approx(-0.25)  # the edge of level-0 pixel 0 (centre 0, 0.5 µm wide)
    assert left == pytest.approx(-0.25)
    edge_r, edge_c = (shape[0] - 0.5) * 0.5, (shape[1] - 0.5) * 0.5
    assert edge_r - 1e-9 <= bottom < edge_r + sr  # the last (partial) pixel touches the image, no more
    assert edge_c - 1e-9 <= right < edge_c + sc
    # every raster pixel shows the value of the block its centre lies in
    centre_r = t["translate"][0] / 0.5 + np.arange(raster.shape[0]) * sr / 0.5 + 0.5  # level-0 px, from the corner
    centre_c = t["translate"][1] / 0.5 + np.arange(raster.shape[1]) * sc / 0.5 + 0.5
    blocks = values[(centre_r // downsample).astype(int)][:, (centre_c // downsample).astype(int)]
    np.testing.assert_array_equal(raster, blocks)


def test_heatmap_undefined_is_transparent_and_limits_kept():
    values = np.array([[np.nan, 0.0], [50.0, 100.0]], np.float32)
    data, kw, kind = heatmap_layer(values, downsample=100, mpp=0.5, shape=(200, 150))
    assert kind == "image"
    assert np.isfinite(data).all()
    lo, hi = kw["contrast_limits"]
    assert hi == 100
    assert lo < 0
    assert data[0, 0] == pytest.approx(lo)  # NaN -> below range
    cmap = kw["colormap"]
    assert cmap.map(np.array([0.0]))[0][3] == 0  # ... drawn transparent
    assert cmap.map(np.array([0.01]))[0][3] == pytest.approx(1)  # 0 % is a visible colour


def test_legend_names_every_class_and_map():
    html = legend_html(("ki67", "melanin", "necrosis"))
    for name in (*CLASS_COLORS, "Ki67 heatmap", "hot-spot", "melanin fraction", "necrosis fraction"):
        assert name in html
    assert "Ki67" not in legend_html(("melanin",))
