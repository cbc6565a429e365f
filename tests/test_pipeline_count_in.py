"""``[ki67] count_in = "tumour"``: the tissue model's tumour region restricts the Ki67 count (#13)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.aggregate import CELL_CLASSES
from mmnst_path.classify import default_model_path, is_ihc_stains, load_model, resolve_model
from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.pipeline._worker import tumour_region
from mmnst_path.synthetic_tissue import ihc_tissue_tile


def _counted_inside(result, tumour: np.ndarray) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    cls = np.asarray(CELL_CLASSES)[np.asarray(result.cells.cls, dtype=np.intp)]
    counted = np.isin(cls, ("positive", "negative"))
    r = np.clip(np.rint(result.cells.row).astype(int), 0, tumour.shape[0] - 1)
    c = np.clip(np.rint(result.cells.col).astype(int), 0, tumour.shape[1] - 1)
    return int(counted.sum()), float(tumour[r, c][counted].mean())


@pytest.mark.parametrize(("stains", "name"), [("H&E", "tissue_default.mmnst"), (None, "tissue_default.mmnst"),
                                             ("H-DAB", "tissue_ihc_default.mmnst"),
                                             ("H-AEC", "tissue_ihc_default.mmnst"),
                                             ("H-FastRed", "tissue_ihc_default.mmnst")])
def test_default_tissue_model_follows_the_stains(stains: str | None, name: str) -> None:
    assert default_model_path("tissue", stains).name == name
    assert is_ihc_stains(stains) == (name != "tissue_default.mmnst") if stains else True


def test_shipped_ihc_tissue_model_is_an_hdab_tissue_model_with_its_card() -> None:
    model = load_model(default_model_path("tissue", "H-DAB"), kind="tissue")
    assert {"tumour", "stroma", "background"} <= set(model.class_names)
    assert model.settings["stains"] == "H-DAB"
    sources = " ".join(d["dataset"] for d in model.card["training_data"])
    assert "EndoNuke" in sources
    assert model.card["validation"]["per_source"]["endonuke"]["accuracy"] > 0.8  # held-out tiles


def test_ihc_model_finds_the_tumour_nests_of_held_out_generated_tiles() -> None:
    model = resolve_model("default", "tissue", stains="H-DAB")
    dices = []
    for seed in range(300, 308):  # validation seeds of scripts/train_tissue_ihc_model.py, drawn as it draws them
        mpp = (0.25, 0.5, 0.5, 1.0)[seed % 4]
        chromogen = ("dab", "dab", "dab", "dab", "aec", "fast_red")[seed % 6]
        tile = ihc_tissue_tile(seed, size=round(192 / mpp), mpp=mpp, chromogen=chromogen)
        region, tmap, _ = tumour_region(tile.rgb, mpp=mpp, model=model, stains=tile.stains)
        truth = tile.masks["tumour"]
        assert region.shape == truth.shape
        assert tmap.classes == model.class_names
        dices.append(2 * (region & truth).sum() / (region.sum() + truth.sum()))
    # measured with the shipped model: 0.53, 0.74, 0.74, 0.80, 0.86, 0.88, 0.89, 0.93 (the lowest: small pale nests)
    assert np.median(dices) > 0.75, dices
    assert min(dices) > 0.45, dices


def test_count_in_tumour_keeps_stroma_nuclei_out_and_does_not_depend_on_the_tiling() -> None:
    tile = ihc_tissue_tile(303, size=384, mpp=0.5)
    truth = tile.masks["tumour"]
    base = AnalysisConfig(measures=("ki67",), stains="H-DAB").replace(ki67={"cell_model": "none"})
    every = analyze_region(tile.rgb, base, mpp=0.5)
    cfg = base.replace(ki67={"cell_model": "none", "count_in": "tumour"})
    tumour = analyze_region(tile.rgb, cfg, mpp=0.5)
    n_all, inside_all = _counted_inside(every, truth)
    n_tum, inside_tum = _counted_inside(tumour, truth)
    assert inside_all < 0.6  # without the region, stromal and lymphocyte nuclei are counted
    assert inside_tum > 0.8  # with it, most counted nuclei lie in a true nest (8 µm blocks blur the edges)
    assert n_tum < n_all
    k_all, k_tum = every.counts["ki67"], tumour.counts["ki67"]
    # the same nuclei, only their class changes: outside the region they are excluded
    assert k_all.positive + k_all.negative + k_all.excluded == k_tum.positive + k_tum.negative + k_tum.excluded
    assert k_tum.excluded > k_all.excluded
    assert tumour.tiles.columns["tumour_region_um2"].sum() > 0
    tiled = analyze_region(tile.rgb, cfg.replace(tile_um=64.0), mpp=0.5)
    assert len(tiled.tiles) == 9
    assert tiled.counts["ki67"] == k_tum


def test_count_in_tumour_without_a_tissue_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"count_in.*tissue model"):
        AnalysisConfig.from_mapping({"ki67": {"count_in": "tumour"}, "necrosis": {"tissue_model": "none"}})
    # the rules for necrosis are fine when the count is not restricted
    AnalysisConfig.from_mapping({"necrosis": {"tissue_model": "none"}})


def test_cli_count_in_flag_reaches_the_result(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    import tifffile

    from mmnst_path.cli import main

    tile = ihc_tissue_tile(303, size=256, mpp=0.5)
    tif = tmp_path / "ihc.tif"
    tifffile.imwrite(tif, tile.rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    out = tmp_path / "out"
    assert main(["quantify", str(tif), "--out", str(out), "--stains", "H-DAB", "--count-in", "tumour", "--quiet"]) == 0
    doc = json.loads(next(out.rglob("result.json")).read_text())
    assert doc["config"]["ki67"]["count_in"] == "tumour"
    assert sum(t["tumour_region_um2"] for t in doc["tiles"]) > 0
    bad = ["quantify", str(tif), "--out", str(tmp_path / "o2"), "--count-in", "tumour", "--tissue-model", "none"]
    assert main(bad) == 2
