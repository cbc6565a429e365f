"""Every block map of one result sits on the same blocks (session 42 H10, H5's walk #10).

On a slide that is not a whole number of blocks (H5: TCGA 3567 x 4443 px), the *melanin fraction* layer was
stretched to end at the image edge while the *tissue classes* layer kept the true block size: the same block grid
drawn up to 5 µm apart at the far edge. Here a quantify result of an H&E image of odd size (327 x 413 px at
0.5 µm/px: 10.2 x 12.9 blocks of 16 µm) is opened through the Plugins menu path (result.json opened, Review's
*paint melanin corrections*): every layer's centre of block (i, j) is at ``(i d + (d - 1) / 2) mpp`` µm, its blocks
are ``d mpp`` µm wide (the last one partial: past the image edge by less than a block), and the value drawn at a
block's centre is the map's value of that block.

Fails before: the melanin fraction layer's blocks were 31.14 x 31.77 px, not 32 (stretched to end at the image
edge), its last row of blocks 4.5 µm from the class map's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from mmnst_path_napari._classmap import class_map_layer
from mmnst_path_napari._layers import heatmap_layer
from napari_helpers import button, open_plugin_widget

from mmnst_path.cli import main

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"
SAMPLES = Path(__file__).resolve().parents[3] / "sample_tiles"
SHAPE = (327, 413)  # not a whole number of 32 px (16 µm) blocks in either axis


def _block_centres_world(layer, grid: tuple[int, int], block_um: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    """(M, N, 2) world (µm) centre of every block of ``grid`` as ``layer`` draws it (a raster pixel may be a
    k-th of a block: the centre of its k x k pixels)."""
    scale = np.asarray(layer.scale[-2:], float)
    k = block_um / scale
    assert np.allclose(k, np.round(k), atol=1e-9), (layer.name, scale)  # the true block size, no stretch
    k = np.round(k)
    ii, jj = np.meshgrid(np.arange(grid[0]), np.arange(grid[1]), indexing="ij")
    data = np.stack([ii * k[0] + (k[0] - 1) / 2, jj * k[1] + (k[1] - 1) / 2], axis=-1).reshape(-1, 2)
    world = np.array([layer.data_to_world(p) for p in data])
    return world.reshape(grid[0], grid[1], 2)


def _value_at(layer, world) -> object:  # type: ignore[no-untyped-def]
    idx = np.round(np.asarray(layer.world_to_data(world), float)).astype(int)
    return np.asarray(layer.data)[tuple(idx)]


def test_map_layers_of_an_odd_size_result_on_the_same_blocks(make_napari_viewer, tmp_path):
    rgb = np.ascontiguousarray(tifffile.imread(SAMPLES / "he_melanin.tif")[: SHAPE[0], : SHAPE[1]])
    image = tmp_path / "slides" / "odd.tif"
    image.parent.mkdir()
    tifffile.imwrite(image, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    out = tmp_path / "results"
    assert main(["quantify", str(image), "--out", str(out)]) == 0
    folder = out / "odd"
    doc = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    mpp, d = float(doc["mpp"]), float(doc["melanin_map"]["downsample"])
    melanin = np.load(folder / "melanin_map.npz")["melanin"]
    grid = melanin.shape
    assert grid == (-(-SHAPE[0] // int(d)), -(-SHAPE[1] // int(d)))
    assert SHAPE[0] % d
    assert SHAPE[1] % d

    viewer = make_napari_viewer()
    viewer.open(str(folder / "result.json"), plugin=PLUGIN)
    review = open_plugin_widget(viewer, "review_widget")
    button(review, "paint melanin corrections").changed.emit(True)
    layers = [viewer.layers[name] for name in ("tissue classes", "melanin fraction", "melanin corrections")]
    assert layers[0].metadata["mmnst_path"]["downsample"] == d  # one grid: the class map's blocks are the melanin map's
    assert np.asarray(layers[0].data).shape == grid

    ii, jj = np.meshgrid(np.arange(grid[0]), np.arange(grid[1]), indexing="ij")
    want = np.stack([(ii * d + (d - 1) / 2) * mpp, (jj * d + (d - 1) / 2) * mpp], axis=-1)
    for layer in layers:
        got = _block_centres_world(layer, grid, d * mpp)
        assert np.abs(got - want).max() < 1e-6, (layer.name, np.abs(got - want).max())
        # the drawing covers the image and runs past its far edges by less than one block (the last one partial)
        far = np.asarray(layer.translate[-2:]) + (np.asarray(np.shape(layer.data)[-2:]) - 0.5) * layer.scale[-2:]
        edge = (np.asarray(SHAPE) - 0.5) * mpp
        assert np.all(far >= edge - 1e-9), (layer.name, far, edge)
        assert np.all(far < edge + d * mpp), (layer.name, far, edge)
    # the value drawn at each block's centre is that block's
    cls = layers[0]
    mel = layers[1]
    labels = np.asarray(cls.data)
    for i in range(grid[0]):
        for j in range(grid[1]):
            assert _value_at(cls, want[i, j]) == labels[i, j]
            if np.isfinite(melanin[i, j]):
                assert _value_at(mel, want[i, j]) == pytest.approx(float(melanin[i, j]))


@pytest.mark.parametrize(("shape", "d"), [((3567, 4443), 16.0), ((3567, 4443), 32.0), ((2967, 2220), 1024.0)])
def test_fraction_and_class_maps_of_an_analyze_run_on_the_same_blocks(shape, d):
    """The layers an Analyze run adds (``heatmap_layer`` with the image shape, ``class_map_layer``): same blocks."""
    grid = (-(-shape[0] // int(d)), -(-shape[1] // int(d)))
    values = np.arange(grid[0] * grid[1], dtype=np.float32).reshape(grid)
    mpp = 0.5
    heat = heatmap_layer(values, downsample=d, mpp=mpp, shape=shape)
    classes = class_map_layer(np.zeros(grid, np.int16), classes=["tumour"], colours=[(1, 2, 3)], downsample=d,
                              mpp=mpp, name="tissue classes")
    for raster, kw in ((heat[0], heat[1]), (classes[0], classes[1])):
        k = np.round(d * mpp / np.asarray(kw["scale"]))
        assert np.allclose(np.asarray(kw["scale"]) * k, d * mpp)
        i = np.array([0, grid[0] - 1])
        centre = np.asarray(kw["translate"][0]) + (i * k[0] + (k[0] - 1) / 2) * kw["scale"][0]
        assert centre == pytest.approx((i * d + (d - 1) / 2) * mpp, abs=1e-9)
        if raster is heat[0]:
            assert raster[int(i[-1] * k[0]), 0] == values[-1, 0]  # the last block's value at the last block
