"""A folder of mixed stains in one output folder (session 41 H5's walk, D1 / D2 / D7): per-input stains from a
--manifest, --resume keeping named-stain and earlier results, `report` listing every result folder, and a Ki67
batch input read without a chromogen made a warning row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_tiles"
FAST = ["--workers", "1", "--measures", "ki67"]


def _tif(path: Path, name: str, size: int = 256) -> Path:
    import tifffile

    rgb = np.ascontiguousarray(tifffile.imread(SAMPLES / name)[:size, :size])
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    return path


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return {Path(r["input"]).name: r for r in csv.DictReader(fh)}


def test_a_manifest_gives_each_input_its_own_stains(tmp_path: Path) -> None:
    a = _tif(tmp_path / "in" / "a.tif", "ki67_primary.tif")
    _tif(tmp_path / "in" / "sub" / "b.tif", "ki67_recurrence.tif")
    manifest = tmp_path / "in" / "inputs.csv"
    manifest.write_text("input,stains\n# comment\na.tif,H-DAB\nsub/b.tif,H-AEC\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["quantify", "--manifest", str(manifest), "--out", str(out), *FAST, "--quiet"]) == 0
    rows = _rows(out)
    assert (rows["a.tif"]["stains"], rows["a.tif"]["stains_source"]) == ("H-DAB", "chosen")
    assert (rows["b.tif"]["stains"], rows["b.tif"]["stains_source"]) == ("H-AEC", "chosen")
    assert json.loads((out / "b" / "result.json").read_text(encoding="utf-8"))["config"]["stains"] == "H-AEC"
    # the same manifest with --resume: both up to date (each input's request hash holds its own stains)
    assert main(["quantify", "--manifest", str(manifest), "--out", str(out), *FAST, "--resume", "--quiet"]) == 0
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["n_inputs"] == 2
    # an input on the command line and in the manifest is one input, with the manifest's stains
    out2 = tmp_path / "out2"
    assert main(["quantify", str(a), "--manifest", str(manifest), "--out", str(out2), *FAST, "--quiet"]) == 0
    assert _rows(out2)["a.tif"]["stains"] == "H-DAB"
    assert len(_rows(out2)) == 2


@pytest.mark.parametrize(("body", "said"), [
    ("input,stains\na.tif,H-DAB\nb.tif,H-AEX\n", "line 3 (b.tif): stains 'H-AEX'"),
    ("input,stains\na.tif,H-DAB\nmissing.tif,H-DAB\n", "line 3 (missing.tif): input"),
    ("input,stain\na.tif,H-DAB\n", "line 1: header 'input,stain'"),
    ("input,stains,mpp\na.tif,H-DAB,5000\n", "line 2 (a.tif): mpp must be a plausible pixel size"),
    ("input,stains\na.tif,H-DAB\n./a.tif,H-AEC\n", "line 3 (./a.tif): the same input as line 2"),
])
def test_a_bad_manifest_line_is_one_error_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, said: str
) -> None:
    _tif(tmp_path / "a.tif", "ki67_primary.tif", 64)
    _tif(tmp_path / "b.tif", "ki67_primary.tif", 64)
    manifest = tmp_path / "inputs.csv"
    manifest.write_text(body, encoding="utf-8")
    assert main(["quantify", "--manifest", str(manifest), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert said in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_resume_with_auto_keeps_a_result_whose_stains_were_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # H5's D1: the advised "--resume" with all the inputs re-analysed an H-AEC result as H-DAB (auto), silently
    a = _tif(tmp_path / "in" / "a.tif", "ki67_primary.tif")
    out = tmp_path / "out"
    assert main(["quantify", str(a), "--out", str(out), *FAST, "--stains", "H-AEC", "--quiet"]) == 0
    before = (out / "a" / "result.json").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["quantify", str(a), "--out", str(out), *FAST, "--resume"]) == 0
    captured = capsys.readouterr()
    assert "(up to date, skipped)" in captured.err
    assert "kept 1 earlier result(s) whose stains were named: a.tif (H-AEC)" in captured.err
    # said once for the run: the result itself needs no warning of it (since session 43 its row keeps the warning of
    # its run: H-AEC named on this DAB tile contradicts the image, checked within IHC too)
    assert "earlier result" not in _rows(out)["a.tif"]["warnings"]
    assert (out / "a" / "result.json").read_text(encoding="utf-8") == before
    row = _rows(out)["a.tif"]
    assert (row["stains"], row["stains_source"]) == ("H-AEC", "chosen")
    # other named stains are a new request: redone
    assert main(["quantify", str(a), "--out", str(out), *FAST, "--resume", "--stains", "H-DAB", "--quiet"]) == 0
    assert _rows(out)["a.tif"]["stains"] == "H-DAB"


def test_resume_on_other_inputs_keeps_the_earlier_results_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # one run per stain into one folder: each run used to leave only its own inputs in summary.csv / report.html
    a = _tif(tmp_path / "in" / "a.tif", "ki67_primary.tif")
    b = _tif(tmp_path / "in" / "b.tif", "ki67_recurrence.tif")
    out = tmp_path / "out"
    assert main(["quantify", str(a), "--out", str(out), *FAST, "--stains", "H-AEC", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["quantify", str(b), "--out", str(out), *FAST, "--stains", "H-DAB", "--resume"]) == 0
    err = capsys.readouterr().err
    assert "1 earlier result(s) in this folder (a.tif)" in err
    assert "kept as they are" in err
    rows = _rows(out)
    assert list(rows) == ["b.tif", "a.tif"]
    assert (rows["a.tif"]["stains"], rows["b.tif"]["stains"]) == ("H-AEC", "H-DAB")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'href="a/overlay.png"' in html
    assert 'href="b/overlay.png"' in html


def test_report_lists_every_result_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _tif(tmp_path / "in" / "a.tif", "ki67_primary.tif")
    b = _tif(tmp_path / "in" / "b.tif", "ki67_recurrence.tif")
    out = tmp_path / "out"
    assert main(["quantify", str(a), "--out", str(out), *FAST, "--quiet"]) == 0
    assert main(["quantify", str(b), "--out", str(out), *FAST, "--overwrite", "--quiet"]) == 0
    assert list(_rows(out)) == ["b.tif"]  # this run's summary
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    assert "2 input(s)" in capsys.readouterr().out
    assert list(_rows(out)) == ["b.tif", "a.tif"]
    assert "a.tif" in (out / "report.html").read_text(encoding="utf-8")


def test_a_ki67_batch_input_read_as_he_by_an_unsure_call_is_a_warning_row() -> None:
    # H5's D2: a Ki67 / MART-1 double stain read as H&E (the stain model's p 0.72) was a plain "ok" with no Ki67; an
    # H&E call that unsure is said on the row, a sure one (the README's H&E tiles: p 0.98) keeps the plain note
    from mmnst_path._batch_stains import ki67_stain_warning
    from mmnst_path.pipeline import AnalysisConfig

    row = {"status": "ok", "stains": "H&E", "stain_names": ["hematoxylin", "eosin"]}
    auto = AnalysisConfig(stains="auto")
    text = ki67_stain_warning(row, auto, detection={"he_probability": 0.7157})
    assert text is not None
    assert text.startswith("Ki67 not measured: the stains were detected as H&E by an unsure call (p = 0.72)")
    assert ki67_stain_warning(row, auto, detection={"he_probability": 0.982}) is None
    assert ki67_stain_warning(row, auto, detection=None) is None
    # H&E named, or a batch that does not measure Ki67: nothing to warn about
    assert ki67_stain_warning(row, AnalysisConfig(stains="H&E"), detection={"he_probability": 0.7}) is None
    assert ki67_stain_warning(row, AnalysisConfig(stains="auto", measures=("melanin",)),
                              detection={"he_probability": 0.7}) is None


def test_a_sure_he_input_of_a_default_batch_is_a_plain_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    he = _tif(tmp_path / "in" / "he.tif", "he_melanin.tif")
    out = tmp_path / "out"
    assert main(["quantify", str(he), "--out", str(out), "--workers", "1"]) == 0  # the default measures: Ki67 among them
    printed = capsys.readouterr().out
    row = _rows(out)["he.tif"]
    assert (row["stains"], row["status"]) == ("H&E", "ok")
    assert "Ki67 not measured" not in row["warnings"]
    assert "H&E auto" in printed
    assert "Ki67 not measured on he.tif: no chromogen in H&E" in printed  # the plain note under the table


def test_a_double_stain_exports_its_marker_od_stain_metadata_and_melanocytic_index(tmp_path: Path) -> None:
    # H5's walk D4 / D6: the marker's OD was exported nowhere, parquet did not say which stain dab_od_* holds, and
    # the GeoJSON "Image" annotation had no melanocyte-restricted figures
    import pyarrow.parquet as pq
    import tifffile

    from mmnst_path.synthetic_double import double_stain_tile

    tile = double_stain_tile(3, marker="cytoplasmic")
    src = tmp_path / "double.tif"
    tifffile.imwrite(src, tile.rgb, photometric="rgb", resolution=(1e4 / tile.mpp,) * 2, resolutionunit="CENTIMETER")
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), *FAST, "--stains", "H-DAB-FastRed", "--quiet"]) == 0
    row = _rows(out)["double.tif"]
    with open(out / "double" / "cells.csv", newline="", encoding="utf-8") as fh:
        cells = list(csv.DictReader(fh))
    assert "marker_od_mean" in cells[0]
    marker = np.array([float(c["marker_od_mean"]) for c in cells if c["marker_od_mean"]])
    assert marker.size
    assert np.isfinite(marker).all()
    meta = json.loads(pq.read_schema(out / "double" / "cells.parquet").metadata[b"mmnst_path.stains"])
    assert meta["stains"] == "H-DAB-FastRed"
    assert meta["columns"]["dab_od_mean"] == "DAB"
    assert meta["columns"]["hematoxylin_od_mean"] == "Hematoxylin"
    assert "marker_od_mean" in meta["columns"]
    geo = json.loads((out / "double" / "cells.geojson").read_text(encoding="utf-8"))
    image = next(f for f in geo["features"] if f["properties"].get("name") == "Image")["properties"]["measurements"]
    mp, mn = image["Num Melanocytic Positive"], image["Num Melanocytic Negative"]
    assert mp + mn == int(float(row["ki67_melanocytic_denominator"]))
    assert image["Melanocytic Positive %"] == pytest.approx(float(row["ki67_melanocytic_index_pct"]))


def test_parquet_metadata_names_a_red_chromogen_in_the_generic_columns() -> None:
    from mmnst_path._geojson_names import column_stains

    meta = column_stains({"stains": "H-FastRed", "chromogen": "fast_red", "counterstain": "hematoxylin"},
                         ["x", "dab_od_mean", "dab_od_max", "hematoxylin_od_mean"])
    assert meta["columns"] == {"dab_od_mean": "Fast Red", "dab_od_max": "Fast Red", "hematoxylin_od_mean": "Hematoxylin"}
    azure = column_stains({"stains": "AzureB-DAB", "chromogen": "dab", "counterstain": "azure_b"}, ["hematoxylin_od_mean"])
    assert azure["columns"] == {"hematoxylin_od_mean": "Azure B"}


def test_report_says_a_removed_result_folder_instead_of_listing_its_figures(tmp_path: Path) -> None:
    # session 41 H8's leftover: `report` kept listing the figures of a result folder removed since the run
    import shutil

    a = _tif(tmp_path / "in" / "a.tif", "ki67_primary.tif")
    b = _tif(tmp_path / "in" / "b.tif", "ki67_recurrence.tif")
    out = tmp_path / "out"
    assert main(["quantify", str(a), str(b), "--out", str(out), *FAST, "--quiet"]) == 0
    shutil.rmtree(out / "a")
    assert main(["report", str(out)]) == 0
    rows = _rows(out)
    assert rows["a.tif"]["status"] == "error"
    assert rows["a.tif"]["error"].startswith("ResultMissing: ")
    assert rows["a.tif"]["ki67_index_pct"] == ""
    assert rows["b.tif"]["status"] == "ok"
