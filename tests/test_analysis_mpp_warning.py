"""``--analysis-mpp`` away from the shipped models' resolution (session 42 H9, H5's walk #3): one row warning
naming the trained range read from the model cards; the default and nearby resolutions say nothing."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path.classify.model import load_model
from mmnst_path.cli import main
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.pipeline._scale_check import TRAINED_MPP_UM, TRAINED_SCALE, trained_mpp_range

MODELS = Path(__file__).resolve().parents[1] / "mmnst_path" / "models"


def test_the_range_is_the_model_cards() -> None:
    for name in ("nucleus_default", "nucleus_red"):
        assert load_model(MODELS / f"{name}.mmnst").settings["analysis_mpp_um"] == TRAINED_MPP_UM
    for name in ("tissue_default", "tissue_ihc_default"):
        card = load_model(MODELS / f"{name}.mmnst").card
        assert f"claimed pixel size x{TRAINED_SCALE[0]:g}-{TRAINED_SCALE[1]:g}" in card["augmentation"]
    assert AnalysisConfig().analysis_mpp == TRAINED_MPP_UM
    assert trained_mpp_range() == pytest.approx((0.425, 0.59))


@pytest.mark.parametrize(("analysis_mpp", "said"), [(0.5, False), (0.55, False), (1.0, True), (0.25, True)])
def test_region_warns_only_away_from_the_trained_range(analysis_mpp: float, said: bool) -> None:
    rgb = np.full((64, 64, 3), 245, np.uint8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analyze_region(rgb, AnalysisConfig(analysis_mpp=analysis_mpp, stains="H-DAB", measures=("melanin",)), mpp=0.25)
    hits = [str(w.message) for w in caught if "shipped models were trained at 0.5" in str(w.message)]
    assert len(hits) == int(said)


def test_quantify_row_says_it(tmp_path: Path) -> None:
    tif = tmp_path / "blank.tif"
    tifffile.imwrite(tif, np.full((64, 64, 3), 245, np.uint8), photometric="rgb", resolution=(2e4, 2e4),
                     resolutionunit="CENTIMETER")
    out = tmp_path / "out"
    assert main(["quantify", str(tif), "--out", str(out), "--workers", "1", "--stains", "H-DAB", "--measures",
                 "melanin", "--analysis-mpp", "1.0", "--quiet"]) == 0
    row = next(csv.DictReader((out / "summary.csv").open()))
    assert "analysed at 1 µm/px" in row["warnings"]
    assert "0.425-0.59 µm/px" in row["warnings"]
