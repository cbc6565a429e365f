"""Reader contract: the same behaviour checked on every backend and fixture.

Cases: the three real SVS files through tifffile and forced through OpenSlide, PNG and JPEG
tiles from the shared data, pyramidal TIFFs written by the tests (page-chain and SubIFD
layouts, with and without mpp) and an in-memory numpy array.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.errors import MissingMetadataError, RegionError
from mmnst_path.geometry import Box
from mmnst_path.io import ArrayReader, SlideReader, open_slide
from mmnst_path.io._resample import resize_area

TISSUE_SHAPES = ((1000, 1500), (500, 750), (250, 375))


@dataclass(frozen=True)
class Case:
    """A reader to open and what it must report."""

    id: str
    source: Callable[[Path, dict], object]  # (shared_data, generated_tiffs) -> path or array
    backend: str
    level_shapes: tuple[tuple[int, int], ...]
    mpp: float | None
    associated: tuple[str, ...] = ()
    objective_power: float | None = None
    forced: str | None = None
    # mean absolute difference allowed between level L and level 0 area-averaged (JPEG re-encodes)
    level_tolerance: float = 8.0


def _shared(rel: str) -> Callable[[Path, dict], object]:
    return lambda data, gen: data / rel


def _gen(name: str) -> Callable[[Path, dict], object]:
    return lambda data, gen: gen[name]


CMU = "wsi/CMU-1-Small-Region.svs"
TCGA = "wsi/tcga-cr-7395-01a-01-ts1.svs"
SMALL = "wsi/openslide-python_small.svs"
CMU_SHAPES = ((2967, 2220),)
TCGA_SHAPES = ((3567, 4443), (1783, 2221))

CASES = [
    Case("cmu-tifffile", _shared(CMU), "tifffile", CMU_SHAPES, 0.499, ("label", "macro", "thumbnail"), 20.0),
    Case("cmu-openslide", _shared(CMU), "openslide", CMU_SHAPES, 0.499, ("label", "macro", "thumbnail"), 20.0,
         forced="openslide"),
    Case("tcga-j2k-tifffile", _shared(TCGA), "tifffile", TCGA_SHAPES, None, ("thumbnail",)),
    Case("tcga-j2k-openslide", _shared(TCGA), "openslide", TCGA_SHAPES, None, ("thumbnail",), forced="openslide"),
    Case("small-svs-tifffile", _shared(SMALL), "tifffile", ((16, 16),), 0.499, ("thumbnail",), 20.0),
    Case("small-svs-openslide", _shared(SMALL), "openslide", ((16, 16),), 0.499, ("thumbnail",), 20.0,
         forced="openslide"),
    Case("bcdata-png", _shared("ki67/bcdata/0.png"), "image", ((640, 640),), None),
    Case("shidc-jpeg", _shared("ki67/shidc/p1_0299_1.jpg"), "image", ((1228, 1228),), None),
    Case("chain-mpp", _gen("chain_mpp"), "tifffile", TISSUE_SHAPES, 0.25),
    Case("chain-nompp", _gen("chain_nompp"), "tifffile", TISSUE_SHAPES, None),
    Case("chain-openslide", _gen("chain_mpp"), "openslide", TISSUE_SHAPES, 0.25, forced="openslide"),
    Case("subifd-ome-mpp", _gen("subifd_ome"), "tifffile", TISSUE_SHAPES, 0.5),
    Case("subifd-nompp", _gen("subifd_nompp"), "tifffile", TISSUE_SHAPES, None),
    Case("numpy-array", lambda data, gen: gen["array"], "array", ((300, 400),), 0.75),
]


@pytest.fixture(scope="module")
def sources(generated_tiffs, tissue_levels) -> dict:
    out = dict(generated_tiffs)
    out["array"] = np.ascontiguousarray(tissue_levels[0][:300, 600:1000])
    return out


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case_reader(request, shared_data, sources):
    case: Case = request.param
    src = case.source(shared_data, sources)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if isinstance(src, np.ndarray):
            reader = open_slide(src, mpp=case.mpp)
        else:
            reader = open_slide(src, backend=case.forced)
    unknown_mpp_warned = any("microns per pixel unknown" in str(w.message) for w in caught)
    yield case, reader, unknown_mpp_warned
    reader.close()


class TestReaderContract:
    def test_backend_and_levels(self, case_reader):
        case, reader, _ = case_reader
        assert isinstance(reader, SlideReader)
        assert reader.backend == case.backend
        assert reader.level_shapes == case.level_shapes
        assert reader.level_count == len(case.level_shapes)
        assert reader.shape == case.level_shapes[0]
        assert reader.level_downsamples[0] == 1.0
        for (rows, cols), ds in zip(reader.level_shapes, reader.level_downsamples, strict=True):
            expected = (case.level_shapes[0][0] / rows + case.level_shapes[0][1] / cols) / 2
            assert ds == pytest.approx(expected, rel=1e-6)
        assert list(reader.level_downsamples) == sorted(reader.level_downsamples)

    def test_mpp_objective_and_warning(self, case_reader):
        case, reader, warned = case_reader
        if case.mpp is None:
            assert reader.mpp is None
            assert warned, "an unknown mpp must be announced with a warning"
        else:
            assert reader.mpp == pytest.approx(case.mpp)
            assert not warned
        assert reader.objective_power == case.objective_power

    def test_read_region_inside(self, case_reader):
        _case, reader, _ = case_reader
        rows, cols = reader.shape
        box = Box(rows // 4, cols // 5, max(1, rows // 3), max(1, cols // 3))
        for level in range(reader.level_count):
            ds = reader.level_downsamples[level]
            img = reader.read_region(box, level)
            assert img.dtype == np.uint8
            assert img.shape == (max(1, round(box.height / ds)), max(1, round(box.width / ds)), 3)

    def test_region_past_the_edge_is_white(self, case_reader):
        _case, reader, _ = case_reader
        rows, cols = reader.shape
        img = reader.read_region(Box(rows - 4, cols - 6, 20, 30), 0)
        assert img.shape == (20, 30, 3)
        inside = reader.read_region(Box(rows - 4, cols - 6, 4, 6), 0)
        np.testing.assert_array_equal(img[:4, :6], inside)
        assert (img[4:] == 255).all()
        assert (img[:, 6:] == 255).all()
        before = reader.read_region(Box(-10, -12, 10, 12), 0)
        assert (before == 255).all()
        far = reader.read_region(Box(rows + 100, cols + 100, 8, 8), reader.level_count - 1)
        assert (far == 255).all()

    def test_levels_are_consistent(self, case_reader):
        """A region read at level L looks like level 0 area-averaged to the same size.

        Compared after a 5x5 box blur: scanners build their levels with their own filters and
        the real TCGA slide's level 1 sits about one level pixel off its level 0.
        """
        from scipy.ndimage import uniform_filter

        case, reader, _ = case_reader
        rows, cols = reader.shape
        box = Box(rows // 4 // 8 * 8, cols // 4 // 8 * 8, rows // 2 // 8 * 8, cols // 2 // 8 * 8)
        full = reader.read_region(box, 0)
        for level in range(1, reader.level_count):
            coarse = reader.read_region(box, level).astype(np.float32)
            expected = resize_area(full, coarse.shape[:2]).astype(np.float32)
            np.testing.assert_allclose(coarse.mean(axis=(0, 1)), expected.mean(axis=(0, 1)), atol=3)
            diff = np.abs(uniform_filter(coarse, (5, 5, 1)) - uniform_filter(expected, (5, 5, 1))).mean()
            assert diff < case.level_tolerance, f"level {level} differs from level 0 by {diff:.1f} on average"

    def test_thumbnail_by_size(self, case_reader):
        _, reader, _ = case_reader
        rows, cols = reader.shape
        size = min(64, max(rows, cols))
        thumb = reader.thumbnail(max_size=size)
        assert thumb.dtype == np.uint8
        assert thumb.ndim == 3
        assert thumb.shape[2] == 3
        assert max(thumb.shape[:2]) == size
        assert thumb.shape[0] / thumb.shape[1] == pytest.approx(rows / cols, rel=0.1)

    def test_thumbnail_by_mpp(self, case_reader):
        case, reader, _ = case_reader
        if case.mpp is None:
            with pytest.raises(MissingMetadataError, match="mpp"):
                reader.thumbnail(mpp=8.0)
            return
        target = 8.0
        thumb = reader.thumbnail(mpp=target)
        rows, cols = reader.shape
        factor = max(1.0, target / case.mpp)
        assert thumb.shape[:2] == (max(1, round(rows / factor)), max(1, round(cols / factor)))

    def test_associated_images(self, case_reader):
        case, reader, _ = case_reader
        assert reader.associated_names == case.associated
        for name in case.associated:
            img = reader.associated_image(name)
            assert img.dtype == np.uint8
            assert img.ndim == 3
            assert img.shape[2] == 3
            assert min(img.shape[:2]) >= 8
        with pytest.raises(KeyError, match="no associated image"):
            reader.associated_image("no-such-image")

    def test_invalid_level_raises(self, case_reader):
        _, reader, _ = case_reader
        for bad in (-1, reader.level_count, 1.5):
            with pytest.raises(RegionError, match="level"):
                reader.read_region(Box(0, 0, 4, 4), bad)

    def test_pickles_and_reads_the_same(self, case_reader):
        _, reader, _ = case_reader
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clone = pickle.loads(pickle.dumps(reader))
        box = Box(3, 5, 40, 50)
        np.testing.assert_array_equal(clone.read_region(box, 0), reader.read_region(box, 0))
        assert clone.level_shapes == reader.level_shapes
        assert clone.mpp == reader.mpp
        clone.close()


def test_array_reader_is_the_array():
    rgb = np.random.default_rng(1).integers(0, 256, (50, 60, 3), dtype=np.uint8)
    reader = ArrayReader(rgb, mpp=0.5)
    np.testing.assert_array_equal(reader.read_region(Box(0, 0, 50, 60)), rgb)
    grey = ArrayReader(rgb[..., 0], mpp=None)
    np.testing.assert_array_equal(grey.read_region(Box(0, 0, 50, 60))[..., 2], rgb[..., 0])
