"""The API's results say what the batch's rows say (session 44 H9, H6's follow-up): where the stains and the µm/px
came from (``stains_source``, ``mpp_source``: empty outside a batch before), and the warning of a Ki67 run read as
H&E by an unsure call (the batch's alone before), said once by the batch."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.pipeline import AnalysisConfig

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_tiles"
KI67_UNSURE = "Ki67 not measured: the stains were detected as H&E by an unsure call (p = 0.70)"


def _crop(name: str, size: int = 256) -> np.ndarray:
    import tifffile

    return np.ascontiguousarray(tifffile.imread(SAMPLES / name)[:size, :size])


def _tif(path: Path, rgb: np.ndarray) -> Path:
    import tifffile

    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")  # 0.5 µm/px
    return path


def test_summary_row_of_an_api_result_says_where_the_stains_and_the_pixel_size_came_from(tmp_path: Path) -> None:
    from mmnst_path.pipeline import analyze_region, analyze_slide
    from mmnst_path.report import summary_row

    rgb = _crop("he_melanin.tif")
    he = _tif(tmp_path / "he.tif", rgb)
    melanin = AnalysisConfig(measures=("melanin",))  # (the cheapest run: the sources do not depend on the measures)
    by_file = analyze_slide(he, workers=1)  # the default: stains auto, the file's own µm/px
    row = summary_row(by_file)
    assert (row["stains_source"], row["mpp_source"]) == ("detected", "file")  # None / None before
    assert (by_file.stains_source, by_file.mpp_source) == ("detected", "file")
    # H&E read by a sure call (p 0.98): Ki67 is not measured, and that is no warning (the batch's row notes it)
    assert by_file.stains["detection"]["he_probability"] > 0.8
    assert "ki67" not in by_file.measures
    assert not [w for w in by_file.warnings if w.startswith("Ki67 not measured")]
    given = analyze_slide(he, melanin, mpp=0.5, workers=1)
    assert summary_row(given)["mpp_source"] == "given"
    named = analyze_region(rgb, AnalysisConfig(stains="H&E", measures=("melanin",)), mpp=0.5)
    assert (summary_row(named)["stains_source"], summary_row(named)["mpp_source"]) == ("chosen", "given")
    # the same values as a run's, whatever its µm/px source: the figures do not move
    assert summary_row(given)["melanin_fraction_pct"] == row["melanin_fraction_pct"]


@pytest.fixture
def unsure_he(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stain guess of every run reads H&E by an unsure call (the stain model's p 0.70, a close call), as on the
    osteosarcoma Non-Tumor tile of ../shared/data (p 0.70) or a generated Ki67 / MART-1 slide (p 0.72)."""
    from mmnst_path.pipeline import _slide

    real = _slide.guess_stains_detail

    def unsure(*args, **kwargs):
        g = real(*args, **kwargs)
        assert g.name == "H&E"
        return replace(g, he_probability=0.7, ambiguous=True, alternative="H-FastRed")

    monkeypatch.setattr(_slide, "guess_stains_detail", unsure)


@pytest.mark.usefixtures("unsure_he")
def test_a_ki67_api_run_read_as_he_by_an_unsure_call_warns_and_the_batch_says_it_once(tmp_path: Path) -> None:
    from mmnst_path.cli import main
    from mmnst_path.pipeline import analyze_slide
    from mmnst_path.report import summary_row

    he = _tif(tmp_path / "he.tif", _crop("he_melanin.tif"))
    with pytest.warns(UserWarning, match=r"Ki67 not measured: .* unsure call \(p = 0\.70\)"):
        result = analyze_slide(he, workers=1)  # the default config: stains auto, Ki67 among the measures asked
    said = [w for w in result.warnings if w.startswith("Ki67 not measured")]
    assert len(said) == 1
    assert said[0].startswith(KI67_UNSURE)
    assert said[0].endswith("(--stains, or its line in a --manifest; Python: AnalysisConfig(stains=...))")
    assert "ki67" not in result.measures
    assert summary_row(result)["stains_source"] == "detected, a close call: check"
    # measures named without Ki67: nothing to warn about
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        melanin = analyze_slide(he, AnalysisConfig(measures=("melanin",)), workers=1)
    assert not [w for w in melanin.warnings if w.startswith("Ki67 not measured")]
    assert not [w for w in caught if str(w.message).startswith("Ki67 not measured")]

    out = tmp_path / "out"
    assert main(["quantify", str(he), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    (row,) = json.loads((out / "summary.json").read_text(encoding="utf-8"))["rows"]
    ki67 = [w for w in row["warnings"] if w.startswith("Ki67 not measured")]
    assert ki67 == said  # once, in the run's words
    assert row["warnings"][0] == said[0]  # first on the row, as the batch listed it before
    assert row["stains_source"] == summary_row(result)["stains_source"]
    assert row["mpp_source"] == "file"

