"""The Python API reads stains as the command line does (session 44 H6, #14 walk defect 2): ``AnalysisConfig()``
defaults to ``stains="auto"``, so ``analyze_slide`` on an H&E image gives the CLI's preset and figures (it read
every image as H-DAB with a warning before); a config file without a ``stains`` key means ``auto``; the training
functions default to ``auto`` as ``mmnst-path train`` does; ``stain_matrix()`` on the default says how to get one."""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import AnalysisConfig

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_tiles"


def _tif(path: Path, name: str, size: int = 256) -> Path:
    import tifffile

    rgb = np.ascontiguousarray(tifffile.imread(SAMPLES / name)[:size, :size])
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    return path


def test_a_default_config_and_a_config_file_without_stains_choose_the_stains_per_image(tmp_path: Path) -> None:
    assert AnalysisConfig().stains == "auto"
    assert AnalysisConfig.from_mapping({"measures": ["ki67"]}).stains == "auto"
    toml = tmp_path / "lab.toml"
    toml.write_text('tile_um = 384\n[ki67]\ncount_in = "all"\n', encoding="utf-8")
    assert AnalysisConfig.from_toml(toml).stains == "auto"  # as `quantify --config lab.toml` reads it
    toml.write_text('stains = "H-DAB"\n', encoding="utf-8")
    assert AnalysisConfig.from_toml(toml).stains == "H-DAB"


def test_a_stain_matrix_of_the_default_config_says_how_to_get_one() -> None:
    with pytest.raises(ConfigError, match=r"'auto' \(the default\).*analyze_slide.*stains='H-DAB'"):
        AnalysisConfig().stain_matrix()
    assert AnalysisConfig(stains="H-DAB").stain_matrix().names[:2] == ("hematoxylin", "dab")


def test_the_training_functions_default_to_the_stains_of_their_images() -> None:
    from mmnst_path.pipeline import train_cells, train_pigment, train_tissue

    for fn in (train_cells, train_tissue, train_pigment):  # `mmnst-path train cells|tissue|pigment --stains auto`
        assert inspect.signature(fn).parameters["stains"].default == "auto", fn.__name__


def test_the_api_default_reads_an_he_image_as_the_command_line_does(tmp_path: Path) -> None:
    from mmnst_path.cli import main
    from mmnst_path.pipeline import analyze_slide
    from mmnst_path.report import json_ready, summary_row

    he = _tif(tmp_path / "he.tif", "he_melanin.tif")
    out = tmp_path / "out"
    assert main(["quantify", str(he), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    (cli,) = json.loads((out / "summary.json").read_text(encoding="utf-8"))["rows"]
    doc = json.loads((out / "he" / "result.json").read_text(encoding="utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # named H-DAB on this tile warned; the guess is no close call here
        result = analyze_slide(he, workers=1)
    # the preset chosen and why, recorded as the CLI records them (H-DAB before: a Ki67 index of H&E nuclei)
    assert result.stains["name"] == doc["stains"]["name"] == "H&E"
    assert result.stains["detection"]["reason"] == doc["stains"]["detection"]["reason"]
    assert "named_check" not in result.stains
    assert result.config["stains"] == doc["config"]["stains"] == "H&E"
    # every summary value as the CLI wrote it (result.json's row; summary.json's columns), but the run's time and the
    # warnings a batch caught (where the µm/px and the stains came from: the run's own since session 44 H9)
    batch = {"seconds", "warnings"}
    api = {k: v for k, v in json_ready(summary_row(result)).items() if k not in batch}
    assert len(api) > 60
    assert api == {k: doc["summary_row"].get(k) for k in api}
    assert {k: v for k, v in api.items() if k in cli} == {k: cli[k] for k in api if k in cli}
    assert "ki67" not in result.measures
