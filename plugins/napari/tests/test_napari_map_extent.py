"""Low-resolution maps drawn exactly over the image (no pixel past its edge, values unchanged),
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
        ((100_000, 80_000), 2048.0),
        ((300, 300), 7.0),
        ((17, 5), 64.0),
    ],
)
def test_exact_raster_covers_exactly_the_image(shape, downsample):
    n_r, n_c = -(-shape[0] // int(downsample)), -(-shape[1] // int(downsample))
    values = np.arange(n_r * n_c, dtype=np.float32).reshape(n_r, n_c)
    raster, t = exact_raster(values, downsample=downsample, shape=shape, mpp=0.5)
    sr, sc = t["scale"]
    # outer edges of the raster in µm == outer edges of the image in µm
    top = t["translate"][0] - sr / 2
    bottom = t["translate"][0] + (raster.shape[0] - 0.5) * sr
    left = t["translate"][1] - sc / 2
    right = t["translate"][1] + (raster.shape[1] - 0.5) * sc
    assert top == pytest.approx(-0.25)  # the edge of level-0 pixel 0 (centre 0, 0.5 µm wide)
    assert left == pytest.approx(-0.25)
    assert bottom == pytest.approx((shape[0] - 0.5) * 0.5)
    assert right == pytest.approx((shape[1] - 0.5) * 0.5)
    assert max(raster.shape) <= max(4096, max(values.shape))
    # every raster pixel shows the map value of a level-0 point within one raster pixel of its
    # centre (the stretch to the exact extent moves nothing further; <= 16 level-0 px here)
    fine = shape[0] / raster.shape[0]
    k = max(1, min(int(np.ceil(downsample / 16)), 4096 // max(values.shape)))
    assert fine <= downsample / k + 1e-9
    centre = (np.arange(raster.shape[0]) + 0.5) * fine
    near = [np.clip(((centre + dx) // downsample).astype(int), 0, n_r - 1) for dx in (-fine, 0.0, fine)]
    ok = np.zeros(raster.shape[0], bool)
    for src in near:
        ok |= raster[:, 0] == values[src, 0]
    assert ok.all()
    assert set(np.unique(raster)) <= set(np.unique(values))


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
