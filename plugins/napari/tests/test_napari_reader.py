"""Reader contribution: real SVS slides open as one lazy multiscale RGB layer."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from mmnst_path_napari._reader import layer_data_from_reader, napari_get_reader

from mmnst_path import Box, open_slide
from mmnst_path.io import ArrayReader


class CountingReader:
    """Proxy counting read_region calls of a library reader."""

    def __init__(self, reader):
        self._reader = reader
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self._reader, name)

    def read_region(self, box, level=0):
        self.calls += 1
        return self._reader.read_region(box, level)


def test_cmu_svs_opens_as_one_multiscale_layer_with_um_scale(wsi_dir):
    path = wsi_dir / "CMU-1-Small-Region.svs"
    t0 = time.perf_counter()
    read = napari_get_reader(str(path))
    assert read is not None
    layers = read(str(path))
    print(f"open CMU-1-Small-Region.svs as layer data: {time.perf_counter() - t0:.3f} s")
    assert len(layers) == 1
    data, kwargs, kind = layers[0]
    assert kind == "image"
    assert kwargs["rgb"] is True
    assert kwargs["multiscale"] is True  # 1 native level of 2967 rows: a coarser level is derived
    assert data[0].shape == (2967, 2220, 3)
    assert data[1].shape == (1484, 1110, 3)
    assert kwargs["scale"] == pytest.approx((0.499, 0.499), abs=1e-3)
    assert kwargs["units"] == ("µm", "µm")
    # a chunk equals the library reader's pixels
    reader = open_slide(str(path))
    expected = reader.read_region(Box(600, 700, 300, 400), 0)
    np.testing.assert_array_equal(np.asarray(data[0][600:900, 700:1100]), expected)
    # derived level = 2x2 area average of level 0 (white beyond the edge)
    block = reader.read_region(Box(0, 0, 8, 8), 0).astype(np.float32)
    mean = block.reshape(4, 2, 4, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(np.asarray(data[1][:4, :4]), np.rint(mean), atol=1)


def test_tcga_svs_levels_and_no_scale_without_mpp(wsi_dir):
    path = wsi_dir / "tcga-cr-7395-01a-01-ts1.svs"
    data, kwargs, _ = napari_get_reader(str(path))(str(path))[0]
    shapes = [d.shape[:2] for d in data]
    assert shapes[0] == (3567, 4443)
    assert shapes[1] == (1783, 2221)
    assert all(a[0] > b[0] for a, b in itertools.pairwise(shapes))
    assert max(shapes[-1]) <= 2048
    assert "scale" not in kwargs  # mpp unknown: pixel units, no fake micrometres
    assert "units" not in kwargs
    assert kwargs["metadata"]["mmnst_path"]["mpp"] is None


def test_nothing_is_read_until_a_chunk_is_computed(wsi_dir):
    reader = CountingReader(open_slide(str(wsi_dir / "CMU-1-Small-Region.svs")))
    data, _, _ = layer_data_from_reader(reader)
    assert reader.calls == 0
    np.asarray(data[0][:10, :10])
    assert reader.calls == 1  # one chunk, one read


def test_get_reader_refuses_what_the_library_cannot_open(tmp_path, wsi_dir):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    fake = tmp_path / "broken.svs"
    fake.write_bytes(b"not a slide at all")
    assert napari_get_reader(str(text)) is None
    assert napari_get_reader(str(fake)) is None
    assert napari_get_reader([str(wsi_dir / "openslide-python_small.svs"), str(text)]) is None
    read = napari_get_reader([str(wsi_dir / "openslide-python_small.svs")])
    ((data, kwargs, _),) = read(None)
    assert data.shape == (16, 16, 3)  # single level: a plain (not multiscale) lazy array
    assert kwargs["multiscale"] is False


def test_in_memory_reader_levels_match_pixels():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (3000, 2100, 3), dtype=np.uint8)
    data, kwargs, _ = layer_data_from_reader(ArrayReader(img, mpp=0.25))
    assert [d.shape[:2] for d in data] == [(3000, 2100), (1500, 1050)]
    np.testing.assert_array_equal(np.asarray(data[0][1000:1700, 5:2100]), img[1000:1700, 5:2100])
    assert kwargs["scale"] == (0.25, 0.25)


@pytest.mark.napari
def test_viewer_opens_svs_with_the_plugin(make_napari_viewer, wsi_dir):
    from napari.errors import MultipleReaderError
    from napari.settings import get_settings

    viewer = make_napari_viewer()
    path = str(wsi_dir / "CMU-1-Small-Region.svs")
    # drag and drop (plugin=None): napari's builtins also claim *.svs, so napari asks the user ...
    with pytest.raises(MultipleReaderError) as err:
        viewer.open(path, plugin=None)
    assert "mmnst-path-napari" in err.value.available_plugins
    # ... and with the choice remembered ("*.svs" -> this plugin) the slide opens with it
    prefs = get_settings().plugins.extension2reader
    get_settings().plugins.extension2reader = {**prefs, "*.svs": "mmnst-path-napari"}
    try:
        layers = viewer.open(path, plugin=None)
    finally:
        get_settings().plugins.extension2reader = prefs
    assert len(layers) == 1
    layer = layers[0]
    assert layer.source.reader_plugin == "mmnst-path-napari"
    assert layer.multiscale
    assert layer.rgb
    assert layer.scale[-1] == pytest.approx(0.499, abs=1e-3)
    assert str(layer.units[-1]) in {"micrometer", "µm"}
