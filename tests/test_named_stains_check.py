"""Named stains that the image contradicts (session 42 H9, H5's walk #2): ``--stains H-DAB`` on an H&E image is
analysed as named, with one warning in the row (summary.csv ``warnings``) naming what the image reads as."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import tifffile

from mmnst_path.cli import main
from mmnst_path.pipeline import AnalysisConfig, analyze_region

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


def test_h_dab_named_on_an_he_image_warns_in_the_row(tmp_path: Path) -> None:
    tif = tmp_path / "he.tif"
    tifffile.imwrite(tif, tifffile.imread(SAMPLES / "he_necrosis.tif")[:300, :300, :3], photometric="rgb",
                     resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    out = tmp_path / "out"
    assert main(["quantify", str(tif), "--out", str(out), "--workers", "1", "--stains", "H-DAB", "--measures",
                 "melanin", "--quiet"]) == 0  # not refused: the user may be right
    row = next(csv.DictReader((out / "summary.csv").open()))
    assert row["status"] == "ok"
    assert "stains named H-DAB, but the image reads as H&E" in row["warnings"]
    assert "H&E probability 0.9" in row["warnings"]


def test_named_stains_that_agree_or_he_named_on_ihc() -> None:
    rgb = tifffile.imread(SAMPLES / "ki67_pigmented.tif")[:300, :300, :3]
    for stains, contradicts in (("H-DAB", False), ("H&E", True)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = analyze_region(rgb, AnalysisConfig(stains=stains, measures=("melanin",)), mpp=0.5)
        said = [str(w.message) for w in caught if "stains named" in str(w.message)]
        assert r.stains["named_check"]["contradicts"] is contradicts
        assert r.stains["named_check"]["guess"] == "H-DAB"
        assert len(said) == int(contradicts)
    assert "reads as IHC (H-DAB)" in said[0]
