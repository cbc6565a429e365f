"""Physical scale from metadata: resolution tags, Aperio descriptions, OME-XML."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

from mmnst_path.io import open_slide
from mmnst_path.io._metadata import mpp_from_ome, mpp_from_pair, mpp_from_resolution, svs_fields


@pytest.mark.parametrize(
    ("x", "y", "unit", "expected"),
    [
        ((40000, 1), (40000, 1), 3, 0.25),  # pixels per cm
        ((40000, 1), (40000, 1), "centimeter", 0.25),
        (101600.0, 101600.0, 2, 0.25),  # pixels per inch
        ((20000, 1), (40000, 1), 3, 0.375),  # mean of both axes
        ((1, 1), (1, 1), 1, None),  # unit none: only an aspect ratio
        ((72, 1), (72, 1), 2, None),  # 72 dpi screen default -> 352 µm/px, implausible
        ((0, 1), (0, 1), 3, None),
        ((40000, 0), None, 3, None),
    ],
)
def test_mpp_from_resolution(x, y, unit, expected):
    got = mpp_from_resolution(x, y, unit)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_svs_fields_and_pair():
    desc = "Aperio Image Library v11.2.1\r\n46000x32914 [0,0 2220x2967] JPEG/RGB Q=30|AppMag = 20|MPP = 0.4990"
    fields = svs_fields(desc)
    assert fields["AppMag"] == "20"
    assert mpp_from_pair(fields["MPP"]) == pytest.approx(0.499)
    assert mpp_from_pair("nan") is None
    assert mpp_from_pair("abc", "0.5") == pytest.approx(0.5)


def test_ome_units():
    xml = (
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0">'
        '<Pixels PhysicalSizeX="250" PhysicalSizeXUnit="nm" PhysicalSizeY="0.25" /></Image></OME>'
    )
    assert mpp_from_ome(xml) == pytest.approx(0.25)
    assert mpp_from_ome("<not xml") is None


def test_mpp_override_and_unknown_warning(tmp_path):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.zeros((64, 64, 3), np.uint8), photometric="rgb", tile=(32, 32))
    with pytest.warns(UserWarning, match=r"plain\.tif: microns per pixel unknown"):
        assert open_slide(path).mpp is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert open_slide(path, mpp=0.33).mpp == pytest.approx(0.33)


def test_inch_resolution_read_from_tiff(tmp_path):
    path = tmp_path / "inch.tif"
    tifffile.imwrite(
        path, np.zeros((64, 64, 3), np.uint8), photometric="rgb", resolution=(50800, 50800), resolutionunit="INCH"
    )
    assert open_slide(path).mpp == pytest.approx(0.5)


def test_png_density_used_when_plausible(tmp_path):
    from PIL import Image

    path = tmp_path / "dense.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(path, dpi=(50800, 50800))
    assert open_slide(path).mpp == pytest.approx(0.5, rel=1e-3)
    screen = tmp_path / "screen.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(screen, dpi=(72, 72))
    with pytest.warns(UserWarning, match="microns per pixel unknown"):
        assert open_slide(screen).mpp is None


def test_greyscale_palette_and_alpha_become_rgb(tmp_path):
    from PIL import Image

    grey = tmp_path / "grey.png"
    Image.fromarray(np.full((8, 8), 100, np.uint8)).save(grey)
    rgba = tmp_path / "rgba.png"
    arr = np.zeros((8, 8, 4), np.uint8)
    arr[..., 3] = 0  # fully transparent -> white
    Image.fromarray(arr).save(rgba)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (open_slide(grey, mpp=1).read_region(_box()) == 100).all()
        assert (open_slide(rgba, mpp=1).read_region(_box()) == 255).all()
        tif = tmp_path / "grey.tif"
        tifffile.imwrite(tif, np.full((40, 40), 7, np.uint8), tile=(16, 16))
        assert (open_slide(tif, mpp=1).read_region(_box()) == 7).all()


def _box():
    from mmnst_path.geometry import Box

    return Box(0, 0, 8, 8)


def test_planar_separate_tiff_reads_through_the_fallback(tmp_path):
    rgb = np.random.default_rng(5).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, np.moveaxis(rgb, 2, 0), photometric="rgb", planarconfig="separate", tile=(32, 32))
    from mmnst_path.geometry import Box

    reader = open_slide(path, mpp=1.0)
    assert reader.shape == (70, 90)
    np.testing.assert_array_equal(reader.read_region(Box(5, 7, 50, 60)), rgb[5:55, 7:67])
