"""Every class of the tissue model that ran on a row has area (mm²) and % columns in summary.csv / summary.json
(session 41 H3; session 40 H3's D13: a lab's own class ``other`` was in result.json only). The columns come after
every fixed column (none moves), named ``class_<name>_area_mm2`` / ``class_<name>_pct``, the union over a batch whose
rows used different models (empty where not measured), known classes first in the vocabulary's order."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from mmnst_path import synthetic
from mmnst_path.classify.tissue_features import TissueFeatureSettings, tissue_feature_specs
from mmnst_path.classify.train_tissue import train_tissue_model
from mmnst_path.cli import main
from mmnst_path.report import SUMMARY_COLUMNS, error_row, write_summary_csv, write_summary_json


def _legend(*classes: tuple[str, float, float | None]) -> list[dict]:
    return [{"index": i, "name": n, "colour": [0, 0, 0], "area_mm2": a, "pct_of_tissue": p}
            for i, (n, a, p) in enumerate(classes)]


def _rows() -> list[dict]:
    default = {"input": "a.tif", "status": "ok", "tissue_area_mm2": 0.3, "necrosis_fraction_pct": 20.0,
               "tissue_classes": _legend(("tumour", 0.1, 50.0), ("stroma", 0.06, 30.0), ("necrosis", 0.04, 20.0),
                                         ("background", 0.02, None))}
    lab = {"input": "b.tif", "status": "ok", "tissue_area_mm2": 0.2, "necrosis_fraction_pct": 10.0,
           "tissue_classes": _legend(("necrosis", 0.01, 10.0), ("other", 0.05, 50.0), ("Bone marrow", 0.03, 30.0),
                                     ("tumour", 0.01, 10.0))}
    ihc = {"input": "c.tif", "status": "ok", "tissue_area_mm2": 0.1, "ki67_index_pct": 12.0}
    return [default, lab, ihc, error_row("d.tif", "ValueError: broken")]


def test_union_of_the_class_columns_after_the_fixed_ones(tmp_path: Path) -> None:
    rows = _rows()
    write_summary_csv(rows, tmp_path / "summary.csv")
    df = pd.read_csv(tmp_path / "summary.csv")
    assert tuple(df.columns[: len(SUMMARY_COLUMNS)]) == SUMMARY_COLUMNS  # nothing moved
    assert list(df.columns[len(SUMMARY_COLUMNS):]) == [
        f"class_{c}_{u}" for c in ("tumour", "necrosis", "stroma", "background", "bone_marrow", "other")
        for u in ("area_mm2", "pct")]
    assert np.isnan(df.loc[0, "class_other_area_mm2"])  # the default model has no "other"
    assert df.loc[1, "class_other_area_mm2"] == 0.05
    assert df.loc[1, "class_other_pct"] == 50.0
    assert df.loc[1, "class_bone_marrow_pct"] == 30.0
    assert df.loc[0, "class_stroma_area_mm2"] == 0.06
    assert np.isnan(df.loc[1, "class_stroma_area_mm2"])
    assert np.isnan(df.loc[0, "class_background_pct"])
    assert df.loc[0, "class_background_area_mm2"] == 0.02
    assert df.iloc[2:, len(SUMMARY_COLUMNS):].isna().all().all()  # the IHC row and the failed one: empty
    assert df["class_tumour_area_mm2"].dtype == np.float64
    write_summary_json(rows, tmp_path / "summary.json")
    doc = json.loads((tmp_path / "summary.json").read_text())
    assert doc["columns"] == list(df.columns)
    assert doc["rows"][1]["class_other_area_mm2"] == 0.05
    assert doc["rows"][2]["class_other_area_mm2"] is None


def test_without_a_tissue_model_the_columns_are_as_before(tmp_path: Path) -> None:
    write_summary_csv(_rows()[2:], tmp_path / "summary.csv")
    assert tuple(pd.read_csv(tmp_path / "summary.csv").columns) == SUMMARY_COLUMNS


def test_a_row_with_no_tissue_shows_its_class_columns_empty(tmp_path: Path) -> None:
    row = {"input": "e.tif", "status": "ok", "tissue_area_mm2": 0.0,
           "tissue_classes": _legend(("tumour", 0.0, None), ("other", 0.0, None))}
    write_summary_csv([row], tmp_path / "summary.csv")
    df = pd.read_csv(tmp_path / "summary.csv")
    assert df[["class_tumour_area_mm2", "class_other_area_mm2"]].isna().all().all()


def _tile(tmp_path: Path) -> Path:
    t = synthetic.he_necrosis_tile(3, size=320, mpp=1.0, necrosis_fraction=0.45)
    img = tmp_path / "he.tif"
    tifffile.imwrite(img, t.rgb, photometric="rgb", resolution=(1e4, 1e4), resolutionunit="CENTIMETER")
    return img


def test_quantify_with_a_lab_model_writes_its_own_class(tmp_path: Path) -> None:
    """The CLI end to end: a tissue model with an ``other`` class; summary.csv holds its area and %, equal to
    result.json's; ``mmnst-path report`` (rebuilt from the stored rows) keeps them."""
    rng = np.random.default_rng(0)
    classes = ["necrosis", "other", "tumour"]
    nf = len(tissue_feature_specs(TissueFeatureSettings()))
    y = np.repeat(classes, 40)
    x = rng.normal(0, 1, (len(y), nf)) + np.repeat(np.arange(len(classes)), 40)[:, None]
    model = train_tissue_model([(x.astype(np.float32), y)], stains="H&E", n_estimators=4).save(tmp_path / "t.mmnst")
    res = tmp_path / "res"
    assert main(["quantify", str(_tile(tmp_path)), "--out", str(res), "--tissue-model", str(model), "--measures",
                 "necrosis", "--quiet"]) == 0
    df = pd.read_csv(res / "summary.csv")
    metrics = json.loads((res / "he" / "result.json").read_text())["metrics"]
    assert list(df.columns[len(SUMMARY_COLUMNS):]) == [
        "class_tumour_area_mm2", "class_tumour_pct", "class_necrosis_area_mm2", "class_necrosis_pct",
        "class_other_area_mm2", "class_other_pct"]
    for key in ("class_other_area_mm2", "class_other_pct", "class_necrosis_pct"):
        assert abs(df.loc[0, key] - metrics[key]) <= 1e-5 * max(1.0, abs(metrics[key])), key
    assert abs(df.loc[[0], ["class_tumour_pct", "class_necrosis_pct", "class_other_pct"]].sum(axis=1)[0] - 100) < 1e-3
    before = (res / "summary.csv").read_text()
    assert main(["report", str(res)]) == 0
    assert (res / "summary.csv").read_text() == before


def test_classes_of_one_stem_both_kept_and_other_scripts_named() -> None:
    """``Tumor bed`` and ``tumor-bed`` (distinct classes of a lab's model) both get columns; names in other scripts
    keep their letters (session 41 H10's finding 7: the second class was dropped, ``α`` and ``β`` both ``class``)."""
    from mmnst_path._class_columns import class_columns, class_values

    row = {"tissue_classes": [{"name": "Tumor bed", "area_mm2": 1.0, "pct_of_tissue": 60.0},
                              {"name": "tumor-bed", "area_mm2": 0.5, "pct_of_tissue": 30.0},
                              {"name": "α", "area_mm2": 0.1, "pct_of_tissue": 5.0},
                              {"name": "β", "area_mm2": 0.1, "pct_of_tissue": 5.0}]}
    values = class_values(row)
    assert values["class_tumor_bed_pct"] == 60.0
    assert values["class_tumor_bed_2_pct"] == 30.0
    assert (values["class_α_pct"], values["class_β_pct"]) == (5.0, 5.0)
    assert len(class_columns([row])) == 8
