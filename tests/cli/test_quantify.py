"""Tests of ``mmnst-path quantify`` (the CLI is a thin layer: these check its contract)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.cli import main
from mmnst_path.cli._quantify import expand_inputs
from mmnst_path.report import SUMMARY_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_tiles"
REQUIRED = (
    "input", "status", "error", "mpp", "tissue_area_mm2", "ki67_positive", "ki67_negative", "ki67_pigment",
    "ki67_index_pct", "ki67_ci_low_pct", "ki67_ci_high_pct", "ki67_hotspot_index_pct", "h_score",
    "melanin_area_mm2", "melanin_fraction_pct", "necrosis_area_mm2", "necrosis_fraction_pct",
)  # fmt: skip


def _crop(name: str, size: int = 320) -> np.ndarray:
    import tifffile

    return tifffile.imread(SAMPLES / name)[:size, :size]


def _write_tif(path: Path, rgb: np.ndarray, mpp: float | None = 0.5) -> Path:
    import tifffile

    kw = {"resolution": (1e4 / mpp, 1e4 / mpp), "resolutionunit": "CENTIMETER"} if mpp else {}
    tifffile.imwrite(path, rgb, photometric="rgb", **kw)
    return path


def _summary(out: Path) -> list[dict[str, str]]:
    with open(out / "summary.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_folder_with_a_bad_file_reports_it_and_finishes_the_others(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "in"
    (data / "sub").mkdir(parents=True)
    _write_tif(data / "a.tif", _crop("ki67_recurrence.tif"))
    _write_tif(data / "sub" / "b.tif", _crop("ki67_primary.tif"))
    (data / "broken.tif").write_text("not an image")
    (data / "notes.md").write_text("ignored: not an image extension")
    out = tmp_path / "out"
    code = main(["quantify", str(data), "--out", str(out), "--workers", "1", "--measures", "ki67"])
    assert code == 1
    rows = {Path(r["input"]).name: r for r in _summary(out)}
    assert set(rows) == {"a.tif", "b.tif", "broken.tif"}
    assert rows["broken.tif"]["status"] == "error"
    assert "broken.tif" in rows["broken.tif"]["error"]
    for name in ("a.tif", "b.tif"):
        r = rows[name]
        assert r["status"] == "ok"
        assert float(r["mpp"]) == 0.5
        n = int(r["ki67_positive"]) + int(r["ki67_negative"])
        assert n > 20
        assert float(r["ki67_index_pct"]) == pytest.approx(100 * int(r["ki67_positive"]) / n, abs=1e-3)
        assert float(r["ki67_ci_low_pct"]) <= float(r["ki67_index_pct"]) <= float(r["ki67_ci_high_pct"])
    assert set(REQUIRED) <= set(_summary(out)[0])
    cells = list(csv.DictReader((out / "a" / "cells.csv").open()))
    assert len(cells) == int(rows["a.tif"]["ki67_positive"]) + int(rows["a.tif"]["ki67_negative"]) + int(
        rows["a.tif"]["ki67_pigment"]) + int(rows["a.tif"]["ki67_excluded"])
    assert {"x", "y", "class", "dab_od_mean", "hematoxylin_od_mean", "area_um2"} <= set(cells[0])
    assert all(0 <= float(c["x"]) < 320 and 0 <= float(c["y"]) < 320 for c in cells)
    doc = json.loads((out / "a" / "result.json").read_text())
    assert doc["metrics"]["ki67_positive"] == int(rows["a.tif"]["ki67_positive"])
    assert doc["config"]["measures"] == ["ki67"]
    assert doc["stains"]["name"] == "H-DAB"  # chosen automatically from the colours
    assert "mmnst_path" in doc["versions"]
    assert "a.tif" in capsys.readouterr().out  # the results table


def test_tile_without_mpp_needs_the_flag(tmp_path: Path) -> None:
    from PIL import Image

    png = tmp_path / "tile.png"
    Image.fromarray(_crop("ki67_primary.tif", 200)).save(png)
    out = tmp_path / "out"
    assert main(["quantify", str(png), "--out", str(out), "--workers", "1"]) == 1
    row = _summary(out)[0]
    assert row["status"] == "error"
    assert "mpp" in row["error"]
    assert main(["quantify", str(png), "--out", str(out), "--workers", "1", "--mpp", "0.5"]) == 2  # earlier run kept
    assert main(["quantify", str(png), "--out", str(out), "--workers", "1", "--mpp", "0.5", "--resume"]) == 0
    row = _summary(out)[0]
    assert row["status"] == "ok"
    assert row["mpp"] == "0.5"


def test_missing_input_is_a_row_not_a_crash(tmp_path: Path) -> None:
    good = _write_tif(tmp_path / "g.tif", np.full((64, 64, 3), 250, np.uint8))  # no tissue at all
    out = tmp_path / "out"
    assert main(["quantify", str(good), str(tmp_path / "nope.svs"), "--out", str(out), "--workers", "1"]) == 1
    rows = {Path(r["input"]).name: r for r in _summary(out)}
    assert rows["nope.svs"]["status"] == "error"
    assert "does not exist" in rows["nope.svs"]["error"]
    assert rows["g.tif"]["status"] == "ok"
    assert rows["g.tif"]["ki67_index_pct"] == ""  # no nuclei: undefined, never 0


@pytest.mark.parametrize(
    "extra",
    [["--stains", "no-such-preset"], ["--workers", "0"], ["--measures", "ki67,mitoses"], ["--mpp", "-1"],
     ["--measures", "necrosis", "--stains", "H-DAB"]],
)
def test_usage_errors_exit_2(tmp_path: Path, extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    tif = _write_tif(tmp_path / "t.tif", np.full((64, 64, 3), 250, np.uint8))
    assert main(["quantify", str(tif), "--out", str(tmp_path / "o"), *extra]) == 2
    assert extra[1].split(",")[-1] in capsys.readouterr().err


def test_expand_inputs_globs_and_dedup(tmp_path: Path) -> None:
    for name in ("x.svs", "y.PNG", ".hidden.tif", "z.txt"):
        (tmp_path / name).write_bytes(b"")
    files, missing = expand_inputs([str(tmp_path), str(tmp_path / "*.svs"), str(tmp_path / "*.none")])
    assert [f.name for f in files] == ["x.svs", "y.PNG"]
    assert len(missing) == 1
    assert "*.none" in missing[0][1]


# (tile, column) -> tolerance in pp where the goal (2 pp Ki67 and melanin, 3 pp necrosis) is not met
# yet. ki67_pigmented meets it since the learned DAB pigment models (2026-12-03: index 15.1 vs
# 14.9 %, melanin 5.66 vs 5.62 %; it read 18.9 / 2.9 % on 2026-11-24).
KNOWN_MISSES: dict[tuple[str, str], float] = {
    # the default tissue model 1.1.0 (trained for real slides: TCGA 1.9 % necrosis, CMU-1 0 %,
    # viable breast carcinoma 13 %) reads this generated tile 26.5 % (truth 37.1; model 1.0.0 read
    # 28.0, the rules 34.2): its mask stops 10-15 µm short of the drawn border; with the intact-nucleus
    # veto on by default (2026-12-04; viable breast carcinoma 13.3 -> 9.2 %) 25.5 %: the veto takes
    # the necrosis between viable sheets that the regrowth does not return; since session 40 H8 the tissue stage
    # reads the image cut at its edge, not a white margin past it: 28.7 % (|err| 8.4; 26.5 before, |err| 10.5)
    ("he_necrosis.tif", "necrosis_fraction_pct"): 9.0,
    # the Ki67 / MART-1 (Fast Red) sample of session 43: the melanocyte-restricted index reads 8.5 % for 11.46
    # (-3.0 pp; the whole-tile index 7.8 for 9.05; issue #14, benchmarks/README.md session 43)
    ("ki67_mart1_fastred.tif", "ki67_melanocytic_index_pct"): 4.0,
}


def test_readme_main_job_on_the_sample_tiles_matches_their_truth(tmp_path: Path) -> None:
    """`mmnst-path quantify sample_tiles --out results` with no flags: values vs truth.json."""
    truth = json.loads((SAMPLES / "truth.json").read_text())
    out = tmp_path / "results"
    assert main(["quantify", str(SAMPLES), "--out", str(out)]) == 0
    rows = {Path(r["input"]).name: r for r in _summary(out)}
    assert set(rows) == set(truth)
    header = tuple(_summary(out)[0])
    assert header[: len(SUMMARY_COLUMNS)] == SUMMARY_COLUMNS  # the fixed columns, in order; then the default H&E
    # tissue model's classes (area mm², % each; empty on the IHC tiles), appended (session 41 H3)
    assert header[len(SUMMARY_COLUMNS):] == tuple(
        f"class_{c}_{u}" for c in ("tumour", "necrosis", "stroma", "inflammatory", "fat", "mucin", "blood", "background")
        for u in ("area_mm2", "pct"))
    # every protocol's stains found from the image (--stains auto, the default), as truth.json names them
    assert {name: rows[name]["stains"] for name in truth} == {name: t["stains"] for name, t in truth.items()}
    errors = {}
    for name, t in truth.items():
        r = rows[name]
        for key, goal in (("ki67_index_pct", 2.0), ("melanin_fraction_pct", 2.0), ("necrosis_fraction_pct", 3.0),
                          ("ki67_melanocytic_index_pct", 2.0)):
            # known misses against the goal, bounded at what is measured today (+~1 pp) so that
            # any regression fails; tighten them when the detectors improve
            tol = KNOWN_MISSES.get((name, key), goal)
            if key in t:
                got = float(r[key]) if r[key] else math.nan
                if not abs(got - t[key]) <= tol:
                    errors[f"{name} {key}"] = (got, t[key])
    assert not errors, f"measured vs true values off by more than the tolerance: {errors}"


def test_result_notes_say_the_pigment_bound_and_the_melanocytic_index_in_the_reports_words() -> None:
    from mmnst_path.cli._quantify import _result_notes
    from mmnst_path.report import pigment_warning

    hidden = {"input": "/x/dark.tif", "status": "ok", "ki67_pigment_obscured_pct": 28.0,
              "ki67_index_if_obscured_negative_pct": 12.0, "ki67_index_if_obscured_positive_pct": 40.0}
    few = {**hidden, "input": "/x/light.tif", "ki67_pigment_obscured_pct": 4.9}  # under the 5 % of the report
    failed = {**hidden, "input": "/x/bad.tif", "status": "error"}  # an error row has no result to qualify
    notes = _result_notes([hidden, few, failed])
    assert notes == [f"dark.tif: {pigment_warning(hidden)}"]
    assert notes[0].startswith("dark.tif: pigment hides 28 % of the tumour nuclei: the index would be 12.0 % if they were all negative, 40.0 % if all positive")
    nan = {**hidden, "ki67_index_if_obscured_positive_pct": math.nan}  # undefined bound: no sentence, never 'nan'
    assert _result_notes([nan]) == []


def test_double_stain_run_prints_the_melanocytic_index_under_the_table(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mmnst_path.synthetic_double import double_stain_tile

    tile = double_stain_tile(3, marker="cytoplasmic")  # 384 px: smaller tiles hold too little tissue
    src = _write_tif(tmp_path / "double.tif", tile.rgb, mpp=tile.mpp)
    out = tmp_path / "out"
    code = main(["quantify", str(src), "--out", str(out), "--workers", "1", "--measures", "ki67",
                 "--stains", "H-DAB-FastRed", "--melanocyte-marker", "MART-1"])  # (left auto: "assumed")
    assert code == 0
    row = _summary(out)[0]
    assert row["ki67_melanocyte_marker_source"] == "chosen"
    # (the tile's melanin also prints the pigment bound line since session 34: the pigment-cell model is the default)
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("double.tif: Ki67 in ")]
    n = int(float(row["ki67_melanocytic_denominator"]))
    assert n > 0
    assert printed == [f"double.tif: Ki67 in melanocytes (MART-1+): {float(row['ki67_melanocytic_index_pct']):.1f} % "
                       f"[95% CI {float(row['ki67_melanocytic_ci_low_pct']):.1f}–"
                       f"{float(row['ki67_melanocytic_ci_high_pct']):.1f}], n={n}"]
