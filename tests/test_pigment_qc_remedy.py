"""The pigment QC sentence advises by the stain the result was read with: with DAB and hematoxylin a
red chromogen or an azure B counterstain would tell melanin from the chromogen; a slide already
stained that way gets the advice that still helps (bleaching the melanin), never "use a red
chromogen" on a red-chromogen slide (issue #14, QC that says when the number cannot be trusted)."""

from __future__ import annotations

import warnings

import pytest

from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.report import SUMMARY_COLUMNS, pigment_warning, summary_row
from mmnst_path.synthetic import pigment_family_tile

HIDDEN = {"ki67_pigment_obscured_pct": 28.0, "ki67_index_if_obscured_negative_pct": 12.0,
          "ki67_index_if_obscured_positive_pct": 40.0}
RED_ADVICE = "a red chromogen (AEC, Fast Red) or an Azure B counterstain would resolve it"
BLEACH_ADVICE = "the stain already tells melanin by colour; bleaching the melanin before staining would resolve it"


@pytest.mark.parametrize(("chromogen", "counterstain", "advice"), [
    ("dab", "hematoxylin", RED_ADVICE),
    (None, None, RED_ADVICE),  # a result written before the keys existed: read as DAB, as it was
    ("aec", "hematoxylin", BLEACH_ADVICE),
    ("fast_red", "hematoxylin", BLEACH_ADVICE),
    ("dab", "azure_b", BLEACH_ADVICE),
])
def test_the_advice_follows_the_chromogen_and_the_counterstain(chromogen, counterstain, advice):
    metrics = dict(HIDDEN)
    if chromogen is not None:
        metrics.update(ki67_chromogen=chromogen, ki67_counterstain=counterstain)
    text = pigment_warning(metrics)
    assert text.startswith("pigment hides 28 % of the tumour nuclei: the index would be 12.0 % if they were all negative, 40.0 % if all positive; ")
    assert text.endswith(advice)
    assert ("red chromogen (AEC" in text) == (advice == RED_ADVICE)


def _row(chromogen: str, stains: str) -> dict:
    tile = pigment_family_tile(0, "over_nucleus", chromogen=chromogen, size=256)
    cfg = AnalysisConfig.from_mapping({"stains": stains, "measures": ["ki67"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return summary_row(analyze_region(tile.rgb, cfg, mpp=tile.mpp))


def test_a_result_says_which_chromogen_and_counterstain_it_counted_with():
    assert {"ki67_chromogen", "ki67_counterstain"} <= set(SUMMARY_COLUMNS)
    aec = _row("aec", "H-AEC")
    assert (aec["ki67_chromogen"], aec["ki67_counterstain"]) == ("aec", "hematoxylin")
    assert aec["ki67_pigment_obscured_pct"] >= 5  # this tile's melanin hides nuclei: the sentence is said
    assert pigment_warning(aec).endswith(BLEACH_ADVICE)
    dab = _row("dab", "H-DAB")
    assert (dab["ki67_chromogen"], dab["ki67_counterstain"]) == ("dab", "hematoxylin")
