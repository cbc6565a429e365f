"""A lab's model of other stains, or without the class a measure reads, refused before any tile in one line
(session 40 H5, H3's D2 / D3 / D4); a tissue model without necrosis gives necrosis "not measured", not 0 %."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path import synthetic
from mmnst_path.classify import default_model_path, load_model, models_dir
from mmnst_path.classify.nucleus_features import nucleus_feature_specs
from mmnst_path.classify.tissue_features import TissueFeatureSettings, tissue_feature_specs
from mmnst_path.classify.train_cells import train_cell_model
from mmnst_path.classify.train_tissue import train_tissue_model
from mmnst_path.cli import main
from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.pipeline._model_stains import check_run_models, model_stain_problem
from mmnst_path.stain import load_stains


def _rows(nf: int, classes: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    y = np.repeat(classes, 40)
    x = rng.normal(0, 1, (len(y), nf)) + np.repeat(np.arange(len(classes)), 40)[:, None]
    return [(x.astype(np.float32), y)]


def _cell_model(tmp_path: Path, stains: str, classes: list[str], name: str) -> Path:
    from mmnst_path.classify.nucleus_features import NucleusFeatureSettings

    model = train_cell_model(_rows(len(nucleus_feature_specs(NucleusFeatureSettings())), classes), stains=stains,
                             n_estimators=4)
    return model.save(tmp_path / name)


def _tissue_model(tmp_path: Path, stains: str, classes: list[str], name: str) -> Path:
    model = train_tissue_model(_rows(len(tissue_feature_specs(TissueFeatureSettings())), classes), stains=stains,
                               n_estimators=4)
    return model.save(tmp_path / name)


def _ki67_tile(tmp_path: Path) -> Path:
    t = synthetic.ki67_pigment_tile(5, size=256, pigmented_cells=0.0, positive_fraction=0.3)
    img = tmp_path / "ki67.tif"
    tifffile.imwrite(img, t.rgb, photometric="rgb", resolution=(1e4 / t.mpp, 1e4 / t.mpp), resolutionunit="CENTIMETER")
    return img


def test_a_cell_model_of_another_stain_is_refused_in_one_line_before_any_tile(tmp_path, capsys):
    img = _ki67_tile(tmp_path)
    he = _cell_model(tmp_path, "H&E", ["tumour", "stromal"], "he_cells.mmnst")
    rc = main(["quantify", str(img), "--out", str(tmp_path / "r"), "--stains", "H-DAB", "--cell-model", str(he)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1
    assert "cell model he_cells.mmnst: a model of H&E" in err[0]
    assert "this run's stains are H-DAB" in err[0]
    assert "--stains" in err[0]
    assert not (tmp_path / "r").exists()  # nothing ran
    dab = load_model(_cell_model(tmp_path, "H-DAB", ["tumour", "stromal"], "dab_cells.mmnst"))
    assert model_stain_problem(dab, load_stains("H-DAB")) is None
    assert "H-AEC" in (model_stain_problem(dab, load_stains("H-AEC")) or "")  # DAB features are not AEC's


def test_a_tissue_model_of_h_and_e_on_ihc_is_refused_by_the_api_too(tmp_path):
    he = _tissue_model(tmp_path, "H&E", ["necrosis", "tumour"], "he_tissue.mmnst")
    config = AnalysisConfig(stains="H-DAB", measures=("ki67",)).replace(
        ki67={"count_in": "tumour", "cell_model": "none"}, necrosis={"tissue_model": str(he)})
    rgb = np.full((64, 64, 3), 230, np.uint8)
    with pytest.raises(ConfigError, match=r"tissue model he_tissue\.mmnst: a model of H&E .* stains are H-DAB"):
        analyze_region(rgb, config, mpp=0.5)
    ihc = load_model(_tissue_model(tmp_path, "H-DAB", ["stroma", "tumour"], "ihc_tissue.mmnst"))
    for stains in ("H-DAB", "H-AEC", "H-FastRed"):  # the IHC tissue features read the chromogen as hematoxylin
        assert model_stain_problem(ihc, load_stains(stains)) is None
    assert model_stain_problem(ihc, load_stains("H&E")) is not None


def test_every_shipped_default_fits_its_stains():
    for stains in ("H&E", "H-DAB", "H-AEC", "H-FastRed"):
        matrix = load_stains(stains)
        tissue = load_model(default_model_path("tissue", matrix))
        assert model_stain_problem(tissue, matrix) is None, stains
        measures = ("necrosis",) if stains == "H&E" else ("ki67",)
        check_run_models(AnalysisConfig(stains=stains, measures=measures), matrix, measures)
    for name, stains in (("nucleus_default.mmnst", "H-DAB"), ("nucleus_default.mmnst", "H-AEC"),
                         ("nucleus_red.mmnst", "H-FastRed")):
        assert model_stain_problem(load_model(models_dir() / name), load_stains(stains)) is None


def test_a_cell_model_without_tumour_is_refused_for_ki67(tmp_path, capsys):
    img = _ki67_tile(tmp_path)
    model = _cell_model(tmp_path, "H-DAB", ["tumour_cells", "stromal"], "nt.mmnst")
    rc = main(["quantify", str(img), "--out", str(tmp_path / "r"), "--stains", "H-DAB", "--cell-model", str(model)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1
    assert "cell model nt.mmnst: no 'tumour' class (classes stromal, tumour_cells)" in err[0]


def test_count_in_tumour_with_a_tissue_model_without_tumour_is_refused(tmp_path):
    model = _tissue_model(tmp_path, "H-DAB", ["stroma", "background"], "st.mmnst")
    config = AnalysisConfig(stains="H-DAB", measures=("ki67",)).replace(
        ki67={"count_in": "tumour"}, necrosis={"tissue_model": str(model)})
    with pytest.raises(ConfigError, match=r"tissue model st\.mmnst: no 'tumour' class"):
        check_run_models(config, load_stains("H-DAB"), ("ki67",))


def test_necrosis_of_a_tissue_model_without_necrosis_is_not_measured_not_zero(tmp_path, capsys):
    t = synthetic.he_necrosis_tile(3, size=256, mpp=1.0, necrosis_fraction=0.45)
    img = tmp_path / "he.tif"
    tifffile.imwrite(img, t.rgb, photometric="rgb", resolution=(1e4, 1e4), resolutionunit="CENTIMETER")
    model = _tissue_model(tmp_path, "H&E", ["stroma", "tumour"], "stroma_only.mmnst")
    out = tmp_path / "r"
    rc = main(["quantify", str(img), "--out", str(out), "--stains", "H&E", "--measures", "necrosis",
               "--tissue-model", str(model), "--quiet"])
    printed = capsys.readouterr().out
    assert rc == 0
    with (out / "summary.csv").open() as fh:
        row = next(csv.DictReader(fh))
    assert row["necrosis_fraction_pct"] == ""  # undefined, not 0.0
    assert row["tumour_fraction_pct"] != ""  # the model's own classes are still measured
    assert "necrosis not measured on he.tif: the tissue model stroma_only.mmnst has no necrosis class" in printed
