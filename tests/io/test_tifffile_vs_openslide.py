"""The tifffile fast path returns exactly OpenSlide's pixels, and works in worker processes."""

from __future__ import annotations

import multiprocessing
import warnings

import numpy as np
import pytest

from mmnst_path.geometry import Box
from mmnst_path.io import open_slide


def _open_pair(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return open_slide(path), open_slide(path, backend="openslide")


@pytest.mark.parametrize(
    ("rel", "box"),
    [
        ("wsi/CMU-1-Small-Region.svs", Box(0, 0, 2967, 2220)),  # JPEG, whole slide
        ("wsi/CMU-1-Small-Region.svs", Box(239, 481, 517, 263)),  # unaligned, crosses tiles
        ("wsi/tcga-cr-7395-01a-01-ts1.svs", Box(700, 1000, 1300, 1500)),  # JPEG 2000
        ("wsi/openslide-python_small.svs", Box(-3, -3, 20, 20)),
    ],
)
def test_level0_bit_identical_to_openslide(shared_data, rel, box):
    fast, ref = _open_pair(shared_data / rel)
    assert fast.backend == "tifffile"
    np.testing.assert_array_equal(fast.read_region(box, 0), ref.read_region(box, 0))


def test_jpeg2000_level1_identical_when_aligned(shared_data):
    """Whole level 1 of the J2K slide: identical (origin 0 needs no sub-pixel shift in OpenSlide)."""
    fast, ref = _open_pair(shared_data / "wsi/tcga-cr-7395-01a-01-ts1.svs")
    box = Box(0, 0, *fast.shape)
    np.testing.assert_array_equal(fast.read_region(box, 1), ref.read_region(box, 1))


def test_generated_pyramid_identical_on_every_level(generated_tiffs):
    fast, ref = _open_pair(generated_tiffs["chain_mpp"])
    for level in range(fast.level_count):
        box = Box(100, 260, 620, 900)
        np.testing.assert_array_equal(fast.read_region(box, level), ref.read_region(box, level))


def test_associated_images_identical(shared_data):
    fast, ref = _open_pair(shared_data / "wsi/CMU-1-Small-Region.svs")
    for name in ("label", "macro", "thumbnail"):
        np.testing.assert_array_equal(fast.associated_image(name), ref.associated_image(name))


def test_cached_reads_equal_fresh_reads(shared_data):
    path = shared_data / "wsi/CMU-1-Small-Region.svs"
    cached, _ = _open_pair(path)
    from mmnst_path.io._tifffile import TiffSlideReader

    uncached = TiffSlideReader(path, cache_bytes=0)
    for box in (Box(0, 0, 500, 500), Box(250, 250, 500, 500), Box(0, 0, 500, 500)):
        np.testing.assert_array_equal(cached.read_region(box), uncached.read_region(box))


def _worker_read(args):
    path, box = args
    reader = open_slide(path)
    try:
        return reader.read_region(box, 0)
    finally:
        reader.close()


def test_each_worker_process_opens_its_own_reader(shared_data):
    path = str(shared_data / "wsi/CMU-1-Small-Region.svs")
    boxes = [Box(r, c, 300, 300) for r in (0, 1000, 2600) for c in (0, 1900)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_worker_read, [(path, b) for b in boxes])
    reader = open_slide(path)
    for box, got in zip(boxes, results, strict=True):
        np.testing.assert_array_equal(got, reader.read_region(box, 0))
