"""``mmnst-path stains estimate`` / ``presets`` end to end, on the real IHC tile."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.io import imread, imsave

from mmnst_path.cli import main
from mmnst_path.stain import StainMatrix, angle_deg, get_preset, load_stains


@pytest.fixture
def slide_png(shared_data, tmp_path):
    """The real IHC tile on a glass margin, written as a PNG slide."""
    tile = imread(shared_data / "ihc" / "skimage_ihc.png")[..., :3]
    slide = np.empty((768, 768, 3), np.uint8)
    slide[...] = (237, 235, 232)
    slide[128:640, 128:640] = tile
    path = tmp_path / "ihc_slide.png"
    imsave(path, slide, check_contrast=False)
    return path


def test_estimate_prints_json_usable_as_stains(slide_png, capsys, tmp_path):
    assert main(["stains", "estimate", str(slide_png)]) == 0
    out, err = capsys.readouterr()
    matrix = StainMatrix.from_json(out)
    assert matrix.names == ("hematoxylin", "dab", "residual")
    np.testing.assert_allclose(matrix.background, (237, 235, 232), atol=1.5)
    assert angle_deg(matrix.vector("dab"), get_preset("H-DAB").vector("dab")) < 10
    assert "degrees from H-DAB" in err
    saved = tmp_path / "stains.json"
    saved.write_text(out)
    assert load_stains(str(saved)) == matrix


def test_estimate_roi_and_qupath(slide_png, capsys):
    assert main(["stains", "estimate", str(slide_png), "--roi", "128,128,512,512", "--qupath"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("setColorDeconvolutionStains('{")
    assert StainMatrix.from_json(out).names[:2] == ("hematoxylin", "dab")


def test_estimate_failures_exit_1_or_2(tmp_path, capsys):
    missing = tmp_path / "missing.svs"
    assert main(["stains", "estimate", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.count(str(missing)) == 1, err  # one line naming the file once, not "F: F: no such file"
    assert len(err.strip().splitlines()) == 1
    assert "no such file" in err
    blank = tmp_path / "blank.png"
    imsave(blank, np.full((64, 64, 3), 250, np.uint8), check_contrast=False)
    assert main(["stains", "estimate", str(blank)]) == 1
    assert "stained pixels" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["stains", "estimate", str(blank), "--roi", "1,2,3"])
    assert exc.value.code == 2
    assert main(["stains"]) == 2


def test_presets_lists_every_preset(capsys):
    assert main(["stains", "presets"]) == 0
    out = capsys.readouterr().out
    assert "H-FastRed-melanin" in out
    line = next(x for x in out.splitlines() if x.startswith("H-DAB-melanin"))
    assert "POORLY CONDITIONED" in line
