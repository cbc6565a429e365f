"""Session 43 H13 (H12's code review, findings 1 and 2): a double stain named as a single stain warns even when the
thumbnail's H&E-vs-IHC guess is a close call; a melanocyte marker given for a single stain is a usage error naming
the flag (named stains) or one warning line (``--stains auto`` finds no double stain), never dropped silently."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pytest
import tifffile

from mmnst_path.cli import main
from mmnst_path.io import ArrayReader
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.pipeline._stain_check import check_named_stains
from mmnst_path.stain import get_preset
from mmnst_path.synthetic_double import double_stain_tile
from mmnst_path.tiling import detect_tissue

FAST = ["--workers", "1", "--measures", "ki67", "--quiet"]


@pytest.fixture(scope="module")
def mart1() -> tuple[object, object]:
    """A Ki67 / MART-1 (Fast Red) tile whose thumbnail reads H&E-vs-IHC as a close call (p 0.455)."""
    reader = ArrayReader(double_stain_tile(2, marker="cytoplasmic", chromogen="fast_red", size=384).rgb, mpp=0.5)
    config = AnalysisConfig()
    return reader, detect_tissue(reader, mask_mpp=config.tissue_mpp, params=config.tissue)


def _check(mart1: tuple[object, object], named: str) -> tuple[dict | None, list[str]]:
    reader, tissue = mart1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = check_named_stains(tissue, get_preset(named), source="t.tif", reader=reader, mpp0=0.5)
    return out, [str(w.message) for w in caught if "stains named" in str(w.message)]


def test_a_double_stain_named_single_warns_on_a_close_call(mart1: tuple[object, object]) -> None:
    from mmnst_path.stain.guess import guess_stains_detail

    _reader, tissue = mart1
    thumbnail = guess_stains_detail(tissue.thumbnail, tissue.mask, mpp=tissue.mask_mpp)  # type: ignore[attr-defined]
    assert thumbnail.ambiguous  # the case the check skipped before
    out, said = _check(mart1, "H-DAB")
    assert out is not None
    assert out["contradicts"] is True
    assert out["axis"] == "IHC"
    assert len(said) == 1
    assert "stains named H-DAB, but the image reads as H-DAB-FastRed (a close call with" in said[0]
    assert "red melanocyte marker would be read as the Ki67 chromogen" in said[0]


@pytest.mark.parametrize("named", ["H-DAB-FastRed", "H-FastRed"])
def test_a_candidate_of_the_close_call_named_stays_silent(mart1: tuple[object, object], named: str) -> None:
    # this tile's close call is H-DAB-FastRed or H-FastRed: either name is the user's call
    out, said = _check(mart1, named)
    assert out is not None
    assert out["contradicts"] is False
    assert said == []


def _tile(tmp_path: Path) -> Path:
    from mmnst_path.synthetic import ki67_pigment_tile

    tif = tmp_path / "dab.tif"
    tifffile.imwrite(tif, ki67_pigment_tile(3, size=256).rgb, photometric="rgb", resolution=(2e4, 2e4),
                     resolutionunit="CENTIMETER")
    return tif


def test_a_marker_for_a_named_single_stain_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tif = _tile(tmp_path)
    code = main(["quantify", str(tif), "--out", str(tmp_path / "o"), "--stains", "H-DAB", "--melanocyte-marker",
                 "nuclear", *FAST])
    assert code == 2
    err = capsys.readouterr().err
    assert "--melanocyte-marker 'nuclear' needs a double stain" in err
    assert "got --stains 'H-DAB'" in err
    assert not (tmp_path / "o").exists()  # refused before any input was read


def test_a_marker_flag_on_a_manifest_single_stain_line_is_refused(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _tile(tmp_path)
    (tmp_path / "m.csv").write_text("input,stains\ndab.tif,H-DAB\n", encoding="utf-8")
    code = main(["quantify", "--manifest", str(tmp_path / "m.csv"), "--out", str(tmp_path / "o"),
                 "--melanocyte-marker", "SOX10", *FAST])
    assert code == 2
    err = capsys.readouterr().err
    assert "--melanocyte-marker 'SOX10' on --manifest" in err
    assert "line 2 needs a double stain" in err


def test_a_marker_under_auto_without_a_double_stain_is_said(tmp_path: Path) -> None:
    tif = _tile(tmp_path)
    out = tmp_path / "o"
    assert main(["quantify", str(tif), "--out", str(out), "--stains", "auto", "--melanocyte-marker", "nuclear",
                 *FAST]) == 0
    row = next(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    assert row["status"] == "ok"
    assert row["stains"].startswith("H-DAB")
    assert "melanocyte marker nuclear not applied: stains auto found H-DAB" in row["warnings"]
    assert row["ki67_melanocyte_marker"] == ""
