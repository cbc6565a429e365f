"""open_slide on bad input: the right error class, a message naming the file and the reason."""

from __future__ import annotations

import os
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path.errors import CorruptFileError, SlideNotFoundError, UnsupportedFormatError
from mmnst_path.geometry import Box
from mmnst_path.io import open_slide

CMU = "wsi/CMU-1-Small-Region.svs"
TCGA = "wsi/tcga-cr-7395-01a-01-ts1.svs"


def _copy_prefix(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def test_missing_file(tmp_path):
    with pytest.raises(SlideNotFoundError, match=r"nothere\.svs: no such file"):
        open_slide(tmp_path / "nothere.svs")


def test_directory_is_not_a_slide(tmp_path):
    with pytest.raises(SlideNotFoundError, match="not a regular file"):
        open_slide(tmp_path)


def test_zero_bytes(tmp_path):
    path = tmp_path / "empty.svs"
    path.write_bytes(b"")
    with pytest.raises(UnsupportedFormatError, match=r"empty.svs: empty file \(0 bytes\)"):
        open_slide(path)


def test_text_file_named_svs(tmp_path):
    path = tmp_path / "notes.svs"
    path.write_text("this is not a slide\n")
    # the start of the file in words, not Python's bytes repr (b'this is ': session 36's walk)
    with pytest.raises(UnsupportedFormatError, match=r'notes\.svs: unsupported format .*it starts with the text "this is "\)$'):
        open_slide(path)


def test_unknown_binary(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(UnsupportedFormatError, match=r"blob\.bin"):
        open_slide(path)
    path.write_bytes(bytes([0, 1, 0xFE, 0x7F, 65, 66, 67, 200]) + os.urandom(64))
    with pytest.raises(UnsupportedFormatError, match=r"first bytes 00 01 fe 7f 41 42 43 c8\)$"):
        open_slide(path)


@pytest.mark.parametrize(("rel", "fraction"), [(CMU, 0.5), (CMU, 0.002), (TCGA, 0.9), (TCGA, 0.3)])
def test_truncated_svs_is_corrupt(shared_data, tmp_path, rel, fraction):
    path = _copy_prefix(shared_data / rel, tmp_path / "cut.svs", fraction)
    with pytest.raises(CorruptFileError, match=r"cut\.svs: truncated or damaged"):
        open_slide(path)


def test_truncated_tile_data_is_corrupt(tmp_path):
    """IFDs first, pixel data cut off: reported at open time, not at the first read."""
    rng = np.random.default_rng(0)
    path = tmp_path / "cut.tif"
    with tifffile.TiffWriter(path) as tw:
        tw.write(rng.integers(0, 256, (512, 512, 3), dtype=np.uint8), tile=(256, 256), photometric="rgb")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1000])
    with pytest.raises(CorruptFileError, match=r"cut.tif: truncated file.*extends to byte"):
        open_slide(path)


@pytest.mark.parametrize("name", ["ki67/bcdata/0.png", "ki67/shidc/p1_0299_1.jpg"])
def test_truncated_image_is_corrupt(shared_data, tmp_path, name):
    path = _copy_prefix(shared_data / name, tmp_path / Path(name).name, 0.5)
    with pytest.raises(CorruptFileError, match=f"{Path(name).name}: truncated or corrupt image"):
        open_slide(path)


def test_damaged_tile_raises_on_read(shared_data, tmp_path):
    src = shared_data / CMU
    with tifffile.TiffFile(src) as tif:
        offset, count = int(tif.pages[0].dataoffsets[5]), int(tif.pages[0].databytecounts[5])
    data = bytearray(src.read_bytes())
    data[offset : offset + count] = bytes(count)  # the tile's JPEG stream wiped: no SOI marker
    path = tmp_path / "damaged.svs"
    path.write_bytes(bytes(data))
    reader = open_slide(path)
    with pytest.raises(CorruptFileError, match=r"damaged\.svs: cannot decode tile 5 of level 0"):
        reader.read_region(Box(0, 0, 240, 2220))


@pytest.mark.parametrize("layout", ["tiled", "stripped"])
def test_huge_header_in_tiny_file_does_not_allocate(tmp_path, layout):
    path = tmp_path / f"huge_{layout}.tif"
    img = np.full((256, 256, 3), 200, dtype=np.uint8)
    kwargs = {"tile": (256, 256), "compression": "jpeg"} if layout == "tiled" else {"rowsperstrip": 256}
    tifffile.imwrite(path, img, photometric="rgb", **kwargs)
    with tifffile.TiffFile(path, mode="r+b") as tif:
        tif.pages[0].tags["ImageWidth"].overwrite(100_000)
        tif.pages[0].tags["ImageLength"].overwrite(100_000)
    tracemalloc.start()
    try:
        with pytest.raises(CorruptFileError, match=f"huge_{layout}.tif"):
            open_slide(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_huge_png_header_in_tiny_file(tmp_path):
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1000)
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    tracemalloc.start()
    try:
        with pytest.raises(CorruptFileError, match=r"huge.png: corrupt header: .*10000000000 pixels.* only \d+ bytes"):
            open_slide(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_forcing_tifffile_on_a_png(shared_data):
    with pytest.raises(UnsupportedFormatError, match="needs a TIFF file"):
        open_slide(shared_data / "ki67/bcdata/0.png", backend="tifffile")


def test_bad_backend_name(shared_data):
    with pytest.raises(ValueError, match="backend must be one of"):
        open_slide(shared_data / CMU, backend="bioformats")


def test_bad_mpp_override(shared_data):
    with pytest.raises(ValueError, match="mpp"):
        open_slide(shared_data / CMU, mpp=-1.0)


def test_errors_chain_their_cause(shared_data, tmp_path):
    path = _copy_prefix(shared_data / "ki67/bcdata/0.png", tmp_path / "cut.png", 0.5)
    with pytest.raises(CorruptFileError) as info:
        open_slide(path)
    assert info.value.__cause__ is not None


def test_extension_does_not_decide(shared_data, tmp_path):
    """A PNG named .svs opens as a PNG; an SVS named .png opens as an SVS."""
    png_as_svs = tmp_path / "tile.svs"
    png_as_svs.write_bytes((shared_data / "ki67/bcdata/0.png").read_bytes())
    svs_as_png = tmp_path / "slide.png"
    svs_as_png.write_bytes((shared_data / "wsi/openslide-python_small.svs").read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert open_slide(png_as_svs).backend == "image"
    assert open_slide(svs_as_png).vendor == "aperio"
