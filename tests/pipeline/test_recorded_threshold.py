"""The result records the Ki67 positivity threshold that decided (``ki67_positive_threshold_od``):
azure B tiles count at their own threshold (``azure_positive_threshold_od``), so an azure B result
must not record the DAB-unit 0.35 the slide's weak-stain step starts from; every other stain keeps
the slide step's value."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.aggregate import CELL_CLASSES
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.pipeline._slide import _threshold_used
from mmnst_path.quantify.ki67 import Ki67Params, slide_positive_threshold
from mmnst_path.stain import get_preset
from mmnst_path.synthetic_azure import azure_b_tile


def test_an_azure_b_result_records_the_threshold_its_tiles_counted_at():
    tile = azure_b_tile(41, "whole_cell", size=384, positive_fraction=0.4)
    config = AnalysisConfig.from_mapping({"stains": "AzureB-DAB", "measures": ["ki67"]})
    result = analyze_region(tile.rgb, config, mpp=tile.mpp)
    k = config.ki67
    # what the slide step computed (from the DAB-unit parameters, as before): unchanged
    cells = result.cells
    in_index = (cells.cls == CELL_CLASSES.index("positive")) | (cells.cls == CELL_CLASSES.index("negative"))
    slide = slide_positive_threshold(np.asarray(cells.columns["dab_od_mean"])[in_index], k)
    assert slide > k.azure_positive_threshold_od  # the case the old record got wrong (0.35 here)
    recorded = result.metrics["ki67_positive_threshold_od"]
    assert recorded == pytest.approx(k.azure_positive_threshold_od)  # 0.225: the tiles' threshold decided
    assert result.metrics["ki67_counterstain"] == "azure_b"


@pytest.mark.parametrize("slide", [0.35, 0.3275, 0.21, 0.1])
def test_every_other_stain_records_the_slide_threshold_unchanged(slide):
    dab = get_preset("H-DAB")
    assert _threshold_used(slide, Ki67Params(), dab) == slide
    red = Ki67Params().for_chromogen("fast_red")  # the slide step's parameters on a Fast Red slide
    assert _threshold_used(min(slide, red.positive_threshold_od), red, get_preset("H-FastRed")) == min(
        slide, red.positive_threshold_od)
    # azure B: the lower of the slide's value and azure B's own (a weak slide can go below it)
    azure = Ki67Params()
    assert _threshold_used(slide, azure, get_preset("AzureB-DAB")) == min(slide, azure.azure_positive_threshold_od)
