"""A result names the intact-nucleus model its necrosis veto used (id, name, version), as it names every other model:
the learned intact-vs-ghost call (session 36) changes necrosis %, so its identity belongs in result.json and
summary.csv (found by session 36 H16's review: only the setting "default" was recorded)."""

from __future__ import annotations

from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.pipeline._slide import _models
from mmnst_path.quantify.necrosis import NecrosisParams
from mmnst_path.report import SUMMARY_COLUMNS


def test_the_veto_model_is_recorded_when_it_can_run():
    used = _models(AnalysisConfig(stains="H&E"), ("necrosis",))
    assert used["intact_model"].startswith("sha256:")
    assert "intact-nucleus model" in used["intact_model"]
    assert "intact_model" in SUMMARY_COLUMNS
    assert "intact_model" not in _models(AnalysisConfig(stains="H&E", necrosis=NecrosisParams(intact_model="none")),
                                         ("necrosis",))
    assert "intact_model" not in _models(AnalysisConfig(stains="H&E"), ("melanin",))


def test_the_per_nucleus_model_settings_read_their_names_as_the_tissue_model_does():
    from mmnst_path.quantify.ki67 import Ki67Params

    assert NecrosisParams(intact_model=" None").intact_model == "none"
    assert NecrosisParams(intact_model="Default").intact_model == "default"
    k = Ki67Params(hidden_model="NONE", pigment_cell_model=" Default ")
    assert (k.hidden_model, k.pigment_cell_model) == ("none", "default")
    assert "intact_model" not in _models(AnalysisConfig(stains="H&E", necrosis=NecrosisParams(intact_model="None")),
                                         ("necrosis",))
