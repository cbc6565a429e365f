"""A lab's own classifiers through quantify (session 42 H6's walk, fixed by H7): resume keyed on model content,
the training caution as a result warning, a lab's cell classes kept by name, models named in the report and the
GeoJSON, stain checks in training, no silent overwrite of a model file."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.batch import request_hash
from mmnst_path.classify import load_model, models_dir
from mmnst_path.cli import main
from mmnst_path.pipeline import AnalysisConfig

ROOT = Path(__file__).resolve().parents[1]


def _tile(path: Path, name: str = "ki67_primary.tif", size: int = 192) -> Path:
    import tifffile

    tifffile.imwrite(path, tifffile.imread(ROOT / "sample_tiles" / name)[:size, :size],
                     resolution=(20000, 20000), resolutionunit="CENTIMETER")  # 0.5 µm/px, as the sample tiles
    return path


def _retrained(dest: Path, *, version: str) -> Path:
    """The shipped nucleus model with another card version (another model id), written over ``dest`` as
    ``mmnst-path train --out`` writes it (a temporary file renamed into place)."""
    model = load_model(models_dir() / "nucleus_default.mmnst")
    dataclasses.replace(model, card={**model.card, "version": version}).save(dest)
    return dest


# -- 1. --resume keys on the content of the model files, not on their paths -------------------------------------------
def test_request_hash_follows_the_model_content_not_its_path(tmp_path: Path) -> None:
    lab = tmp_path / "lab_cells.mmnst"
    shutil.copyfile(models_dir() / "nucleus_default.mmnst", lab)

    def req(spec: Path) -> str:
        config = AnalysisConfig.from_mapping({"ki67": {"cell_model": str(spec)}})
        return request_hash(config, mpp=None, roi_digest=None)

    first = req(lab)
    v2 = tmp_path / "copy" / "lab_cells_v2.mmnst"
    v2.parent.mkdir()
    load_model(lab).save(v2, compact=False)  # the same model (same id), another path and file format
    assert v2.read_bytes() != lab.read_bytes()
    assert req(v2) == first
    _retrained(lab, version="2")  # retrained at the same path
    assert req(lab) != first
    other = _retrained(tmp_path / "other.mmnst", version="2")
    assert req(lab) == req(other)
    # a model an input does not use does not decide its result: the cell model of an H&E input
    def he(spec: Path) -> str:
        config = AnalysisConfig.from_mapping({"stains": "H&E", "ki67": {"cell_model": str(spec)}})
        return request_hash(config, mpp=None, roi_digest=None)

    assert he(lab) == he(v2)


def test_resume_redoes_an_input_whose_model_was_retrained_at_the_same_path(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    src.mkdir()
    _tile(src / "t0.tif")
    lab = tmp_path / "lab_cells.mmnst"
    shutil.copyfile(models_dir() / "nucleus_default.mmnst", lab)
    args = ["quantify", str(src), "--out", str(tmp_path / "out"), "--workers", "1", "--measures", "ki67",
            "--stains", "H-DAB", "--cell-model", str(lab)]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--resume"]) == 0
    assert "up to date, skipped" in capsys.readouterr().err
    _retrained(lab, version="2")
    assert main([*args, "--resume"]) == 0
    assert "skipped" not in capsys.readouterr().err
    doc = json.loads((tmp_path / "out" / "t0" / "result.json").read_text())
    assert doc["versions"]["cell_model"].startswith(load_model(lab).model_id)


# -- 2. a lab model's training caution goes with the numbers it decides ------------------------------------------------
def _cautious(dest: Path) -> Path:
    """The shipped nucleus model with the card of a model trained on a few clicks of one image."""
    model = load_model(models_dir() / "nucleus_default.mmnst")
    card = {**model.card, "name": "lab nucleus classifier", "version": "3", "training_images": 1,
            "training_counts": {"tumour": 40, "lymphocyte": 12, "stromal": 35}}
    dataclasses.replace(model, card=card).save(dest)
    return dest


def test_a_lab_models_training_caution_is_a_result_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    src.mkdir()
    _tile(src / "t0.tif")
    lab = _cautious(tmp_path / "lab_cells.mmnst")
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--workers", "1", "--measures", "ki67", "--stains", "H-DAB",
                 "--cell-model", str(lab)]) == 0
    err = capsys.readouterr().err
    said = f"cell model lab_cells.mmnst ({load_model(lab).model_id} lab nucleus classifier 3) was trained with a caution"
    assert f"warning: {said}: few examples (lymphocyte 12;" in err
    assert "every example comes from one image" in err
    doc = json.loads((out / "t0" / "result.json").read_text())
    assert any(w.startswith(said) for w in doc["warnings"])
    assert said in (out / "report.html").read_text()
    # the shipped model (named by its path or as default) is not a lab model: no caution
    assert main(["quantify", str(src), "--out", str(tmp_path / "shipped"), "--workers", "1", "--measures", "ki67",
                 "--stains", "H-DAB", "--cell-model", str(models_dir() / "nucleus_default.mmnst")]) == 0
    assert "trained with a caution" not in capsys.readouterr().err


# -- 3. a lab's own cell class keeps its name ---------------------------------------------------------------------------
def _plasma(dest: Path) -> Path:
    """The shipped nucleus model with its stromal class renamed plasma_cell (a class mmnst_path does not know)."""
    model = load_model(models_dir() / "nucleus_default.mmnst")
    classes = tuple(dataclasses.replace(c, name="plasma_cell") if c.name == "stromal" else c for c in model.classes)
    card = {**model.card, "name": "lab nucleus classifier", "version": "1"}
    dataclasses.replace(model, classes=classes, card=card).save(dest)
    return dest


def test_a_lab_cell_class_keeps_its_name_in_every_output(tmp_path: Path) -> None:
    import csv

    src = tmp_path / "in"
    src.mkdir()
    _tile(src / "t0.tif")
    lab = _plasma(tmp_path / "lab_cells.mmnst")
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--workers", "1", "--measures", "ki67", "--stains", "H-DAB",
                 "--cell-model", str(lab), "--quiet"]) == 0
    with open(out / "t0" / "cells.csv", newline="", encoding="utf-8") as fh:
        cells = list(csv.DictReader(fh))
    types = {r["cell_type"] for r in cells}
    assert "plasma_cell" in types
    assert "other" not in types
    plasma_excluded = sum(r["cell_type"] == "plasma_cell" and r["class"] == "excluded" for r in cells)
    metrics = json.loads((out / "t0" / "result.json").read_text())["metrics"]
    assert metrics["ki67_cell_plasma_cell"] == plasma_excluded > 0
    parts = ("ki67_lymphocyte", "ki67_stromal", "ki67_macrophage", "ki67_other_cell", "ki67_cell_plasma_cell")
    assert metrics["ki67_excluded"] == sum(metrics[k] for k in parts)
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    assert int(row["ki67_cell_plasma_cell"]) == plasma_excluded
    assert int(row["ki67_excluded"]) == sum(int(row.get(k) or 0) for k in parts)
    import pyarrow.parquet as pq

    assert "plasma_cell" in set(pq.read_table(out / "t0" / "cells.parquet").column("cell_type").to_pylist())
    doc = json.loads((out / "t0" / "cells.geojson").read_text())
    named = [f for f in doc["features"] if (f["properties"].get("metadata") or {}).get("cell_type") == "plasma_cell"]
    assert named
    assert {f["properties"]["classification"]["name"] for f in named if f["properties"]["classification"]["name"]
            != "Tumor"} <= {"Plasma cell"}


# -- 4. report.html and the GeoJSON name the models and carry a lab's tissue classes -----------------------------------
def _bone(dest: Path) -> Path:
    """The shipped H&E tissue model with its inflammatory class renamed bone, as a lab's own model."""
    model = load_model(models_dir() / "tissue_default.mmnst")
    classes = tuple(dataclasses.replace(c, name="bone") if c.name == "inflammatory" else c for c in model.classes)
    card = {**model.card, "name": "lab tissue classifier", "version": "2"}
    dataclasses.replace(model, classes=classes, card=card).save(dest)
    return dest


def test_report_and_geojson_name_the_models_and_the_lab_classes(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    _tile(src / "h0.tif", "he_necrosis.tif", 256)
    lab = _bone(tmp_path / "lab_tissue.mmnst")
    model_id = load_model(lab).model_id
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--workers", "1", "--measures", "necrosis", "--stains",
                 "H&E", "--tissue-model", str(lab), "--quiet"]) == 0
    page = (out / "report.html").read_text()
    assert f"tissue model <span data-col=\"tissue_model\">lab tissue classifier 2 ({model_id})</span>" in page
    doc = json.loads((out / "h0" / "cells.geojson").read_text())
    image = next(f for f in doc["features"] if f["properties"].get("name") == "Image")
    assert image["properties"]["metadata"]["tissue_model"] == f"{model_id} lab tissue classifier 2"
    metrics = json.loads((out / "h0" / "result.json").read_text())["metrics"]
    measurements = image["properties"]["measurements"]
    assert measurements["Bone class %"] == pytest.approx(metrics["class_bone_pct"])
    assert measurements["Bone class area mm^2"] == pytest.approx(metrics["class_bone_area_mm2"])
    assert "Background class %" not in measurements


# -- 7. a model file is not overwritten silently ------------------------------------------------------------------------
def _cell_training(tmp_path: Path, seed: int = 41) -> list[str]:
    """A generated Ki67 tile and a GeoJSON of its detected nuclei (large: Tumor, small: Stroma): the train args."""
    import tifffile

    from mmnst_path import synthetic
    from mmnst_path.detect.nuclei import detect_nuclei

    t = synthetic.ki67_pigment_tile(seed, size=256, pigmented_cells=0.0, positive_fraction=0.3)
    img = tmp_path / f"tile{seed}.tif"
    tifffile.imwrite(img, t.rgb, photometric="rgb", resolution=(1e4 / t.mpp, 1e4 / t.mpp), resolutionunit="CENTIMETER")
    nuc = detect_nuclei(t.rgb, mpp=t.mpp)
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(c), float(r)]},
              "properties": {"objectType": "annotation", "classification": {"name": "Tumor" if a >= 38 else "Stroma"}}}
             for r, c, a in zip(nuc.row, nuc.col, nuc.area_um2, strict=True)]
    ann = tmp_path / f"tile{seed}.geojson"
    ann.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return ["--images", str(img), "--annotations", str(ann)]


def test_train_and_convert_refuse_an_existing_model_file_without_overwrite(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "cells", *_cell_training(tmp_path)]
    model = tmp_path / "lab_cells.mmnst"
    assert main([*args, "--out", str(model)]) == 0
    first = model.read_bytes()
    model_id = load_model(model).model_id
    capsys.readouterr()
    assert main([*args, "--out", str(model), "--intended-use", "again"]) == 2
    err = capsys.readouterr().err
    assert f"--out {model}: already exists (the model {model_id}); pass --overwrite" in err
    assert model.read_bytes() == first
    assert main([*args, "--out", str(model), "--intended-use", "again", "--overwrite"]) == 0
    assert load_model(model).model_id != model_id
    capsys.readouterr()
    older = tmp_path / "older.mmnst"
    older.write_bytes(first)
    assert main(["models", "convert", str(older), "--out", str(model)]) == 2
    assert "pass --overwrite to replace it" in capsys.readouterr().err
    assert load_model(model).model_id != model_id
    assert main(["models", "convert", str(older), "--out", str(model), "--overwrite"]) == 0
    assert load_model(model).model_id == model_id


# -- 5. training checks the stains of its images ------------------------------------------------------------------------
def test_training_stains_are_guessed_and_a_named_stain_that_disagrees_is_said(tmp_path: Path) -> None:
    from mmnst_path.errors import ConfigError
    from mmnst_path.pipeline._train_stains import training_stains

    ihc = _tile(tmp_path / "ki67.tif", "ki67_primary.tif", 256)
    he = _tile(tmp_path / "he.tif", "he_necrosis.tif", 256)
    assert training_stains("auto", [ihc], [None], kind="tissue")[0] == "H-DAB"
    assert training_stains("auto", [he], [None], kind="nucleus")[0] == "H&E"
    with pytest.raises(ConfigError, match=r"look of different stains \(ki67.tif H-DAB, he.tif H&E\)"):
        training_stains("auto", [ihc, he], [None, None], kind="tissue")
    stains, notes = training_stains("H&E", [ihc], [None], kind="tissue")
    assert stains == "H&E"
    assert any(f"{ihc} looks H-DAB" in n and "not H&E" in n for n in notes)
    assert not training_stains("H-DAB", [ihc], [None], kind="nucleus")[1]


def test_train_cells_reads_the_stains_of_its_images_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "lab_cells.mmnst"
    he = _tile(tmp_path / "he.tif", "he_necrosis.tif", 256)
    args = _cell_training(tmp_path)
    assert main(["train", "cells", *args, "--out", str(model)]) == 0
    assert "stains: H-DAB (guessed from the images" in capsys.readouterr().err
    assert load_model(model).settings["stains"] == "H-DAB"
    both = ["--images", args[1], str(he), "--annotations", args[3], args[3]]
    assert main(["train", "cells", *both, "--out", str(tmp_path / "t.mmnst")]) == 1
    assert "look of different stains" in capsys.readouterr().err
    assert not (tmp_path / "t.mmnst").exists()


# -- 6. a batch of H&E and IHC slides: one tissue model per stain ------------------------------------------------------
def _lab_copy(dest: Path, shipped: str, name: str) -> Path:
    model = load_model(models_dir() / shipped)
    dataclasses.replace(model, card={**model.card, "name": name, "version": "1"}).save(dest)
    return dest


def test_tissue_model_twice_gives_each_slide_of_a_mixed_batch_the_model_of_its_stains(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv

    _tile(tmp_path / "ki67.tif", "ki67_primary.tif", 256)
    _tile(tmp_path / "he.tif", "he_necrosis.tif", 256)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("input,stains\nki67.tif,H-DAB\nhe.tif,H&E\n")
    he_model = _lab_copy(tmp_path / "lab_he.mmnst", "tissue_default.mmnst", "lab H&E tissue")
    ihc_model = _lab_copy(tmp_path / "lab_ihc.mmnst", "tissue_ihc_default.mmnst", "lab IHC tissue")
    base = ["quantify", "--manifest", str(manifest), "--workers", "1", "--count-in", "tumour", "--quiet"]
    assert main([*base, "--out", str(tmp_path / "one"), "--tissue-model", str(ihc_model)]) == 1
    err = capsys.readouterr().err
    assert "a batch of H&E and IHC slides takes one tissue model per stain: --tissue-model H&E_MODEL" in err
    out = tmp_path / "two"
    assert main([*base, "--out", str(out), "--tissue-model", str(ihc_model), "--tissue-model", str(he_model)]) == 0
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        rows = {Path(r["input"]).name: r for r in csv.DictReader(fh)}
    assert rows["ki67.tif"]["tissue_model"] == f"{load_model(ihc_model).model_id} lab IHC tissue 1"
    assert rows["he.tif"]["tissue_model"] == f"{load_model(he_model).model_id} lab H&E tissue 1"
    assert main([*base, "--out", str(tmp_path / "three"), "--tissue-model", str(he_model), "--tissue-model",
                 str(he_model)]) == 2
    assert "both are H&E models" in capsys.readouterr().err


# -- 11. a trained model's name and version -----------------------------------------------------------------------------
def test_a_trained_model_is_named_and_a_retrained_one_gets_the_next_version(tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "cells", *_cell_training(tmp_path)]
    model = tmp_path / "breast_ki67.mmnst"
    assert main([*args, "--out", str(model)]) == 0
    first = load_model(model)
    assert (first.name, first.card["version"]) == ("breast_ki67", "1")
    assert "model: breast_ki67 version 1" in capsys.readouterr().out
    assert main([*args, "--out", str(model), "--overwrite", "--intended-use", "retrained"]) == 0
    assert (load_model(model).name, load_model(model).card["version"]) == ("breast_ki67", "2")
    assert main([*args, "--out", str(model), "--overwrite", "--name", "Lab Ki67 cells", "--version", "2026.1"]) == 0
    assert (load_model(model).name, load_model(model).card["version"]) == ("Lab Ki67 cells", "2026.1")


# -- 13. training refuses an image without pixel size before reading any; --out's folder is made ----------------------
def test_training_checks_every_pixel_size_first_and_makes_the_out_folder(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import tifffile

    args = _cell_training(tmp_path)
    bare = tmp_path / "bare.tif"
    tifffile.imwrite(bare, tifffile.imread(args[1]))  # no resolution tags
    out = tmp_path / "models" / "new" / "lab.mmnst"
    assert main(["train", "cells", "--images", args[1], str(bare), "--annotations", args[3], args[3],
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"'{bare}': pixel size unknown; pass --mpp" in err
    assert "points" not in err  # no image was read for training before the refusal
    assert main(["train", "cells", *args, "--out", str(out)]) == 0
    assert out.is_file()


# -- 14. a model file not readable, a folder not writable, a damaged copy: plain words -------------------------------
def test_model_file_errors_name_the_file_and_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import builtins
    import zipfile

    import mmnst_path.classify.model as model_module
    from mmnst_path.errors import CorruptFileError

    lab = tmp_path / "colleague.mmnst"
    shutil.copyfile(models_dir() / "intact_nuclei_he.mmnst", lab)
    with zipfile.ZipFile(lab) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = bytearray(lab.read_bytes())
    data[start + info.compress_size // 2] ^= 0x10
    damaged = tmp_path / "damaged.mmnst"
    damaged.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match="copy the model file again"):
        load_model(damaged)

    real_open = builtins.open

    def no_read(file: object, *args: object, **kw: object) -> object:
        if str(file) == str(lab):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", no_read)
    assert main(["quantify", str(tmp_path), "--out", str(tmp_path / "res"), "--cell-model", str(lab)]) == 2
    err = capsys.readouterr().err
    assert f"--cell-model {lab}: classifier model '{lab}': permission denied (the file is not readable" in err
    assert "Errno" not in err
    monkeypatch.setattr(builtins, "open", real_open)

    def no_write(*args: object, **kw: object) -> object:
        raise PermissionError(13, "Permission denied", str(tmp_path / ".x.mmnst.abc.tmp"))

    monkeypatch.setattr(model_module.tempfile, "mkstemp", no_write)
    assert main(["models", "convert", str(lab), "--out", str(tmp_path / "x.mmnst")]) == 1
    err = capsys.readouterr().err
    assert f"cannot write '{tmp_path / 'x.mmnst'}': permission denied in the folder '{tmp_path}'" in err
    assert ".tmp" not in err


# -- 17. a point on the image's edge is on the image ---------------------------------------------------------------------
def test_a_point_on_the_edge_is_inside_and_positions_never_read_minus_zero(tmp_path: Path) -> None:
    from mmnst_path.pipeline import train_cells

    args = _cell_training(tmp_path)
    ann = Path(args[3])
    doc = json.loads(ann.read_text())
    edge = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1e-15, 40.0 + 20 * i]},
             "properties": {"objectType": "annotation", "classification": {"name": "Stroma"}}} for i in range(3)]
    ann.write_text(json.dumps({**doc, "features": doc["features"] + edge}))
    lines: list[str] = []
    train_cells([args[1]], [ann], progress=lines.append)
    assert not any("outside the image" in ln for ln in lines)
    off = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, 50.0]},
            "properties": {"objectType": "annotation", "classification": {"name": "Stroma"}}} for x in (-0.3, -2.0)]
    ann.write_text(json.dumps({**doc, "features": doc["features"] + off}))
    lines.clear()
    train_cells([args[1]], [ann], progress=lines.append)
    said = next(ln for ln in lines if "outside the image" in ln)
    assert "2 of" in said
    assert "points at x -2 to -0.3, y 50 to 50)" in said


# -- 10. a lab tissue model with a melanin class: which figure is the melanin figure ------------------------------------
def test_a_tissue_model_with_a_melanin_class_says_which_figure_is_the_melanin_figure(tmp_path: Path) -> None:
    model = load_model(models_dir() / "tissue_default.mmnst")
    classes = tuple(dataclasses.replace(c, name="melanin") if c.name == "mucin" else c for c in model.classes)
    lab = tmp_path / "lab_pigment_tissue.mmnst"
    dataclasses.replace(model, classes=classes, card={**model.card, "name": "lab tissue", "version": "1"}).save(lab)
    src = tmp_path / "in"
    src.mkdir()
    _tile(src / "m.tif", "he_melanin.tif", 256)
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--workers", "1", "--stains", "H&E", "--measures",
                 "melanin,necrosis", "--tissue-model", str(lab), "--quiet"]) == 0
    doc = json.loads((out / "m" / "result.json").read_text())
    said = [w for w in doc["warnings"] if "has a melanin class" in w]
    assert said
    assert "the melanin figure is melanin_fraction_pct" in said[0]
    assert "class_melanin_pct" in doc["metrics"]
    assert "melanin_fraction_pct" in doc["metrics"]


# -- 12. the tissue class map as QuPath annotations ---------------------------------------------------------------------
def _ring_area(ring: list[list[float]]) -> float:
    xy = np.asarray(ring)
    return 0.5 * abs(float(np.dot(xy[:-1, 0], xy[1:, 1]) - np.dot(xy[1:, 0], xy[:-1, 1])))


def test_class_regions_are_multipolygons_with_holes_in_level0_pixels() -> None:
    from types import SimpleNamespace

    from mmnst_path._class_regions import class_regions_geojson
    from mmnst_path.aggregate import LowResMap

    image = np.full((20, 30), 2, np.int8)  # background
    image[2:12, 3:13] = 0  # a tumour square with a hole of stroma
    image[5:9, 6:10] = 1
    image[15:18, 20:28] = 0  # a second tumour region
    classes = [{"index": 0, "name": "tumour", "colour": [200, 0, 0], "area_mm2": 0.5, "pct_of_tissue": 80.0},
               {"index": 1, "name": "plasma_rich_stroma", "colour": [0, 200, 0], "area_mm2": 0.1, "pct_of_tissue": 20.0},
               {"index": 2, "name": "background", "colour": [255, 255, 255], "area_mm2": 1.0, "pct_of_tissue": None}]
    result = SimpleNamespace(shape=(320, 480), maps={"tissue_classes": LowResMap(image, 16.0)},
                             tissue_classes={"classes": classes})
    doc = json.loads(class_regions_geojson(result) or "")
    feats = {f["properties"]["name"]: f for f in doc["features"]}
    assert set(feats) == {"Tumour", "Plasma_rich_stroma"}  # as `mmnst-path review` reads a lab's class back
    tumour = feats["Tumour"]
    assert tumour["geometry"]["type"] == "MultiPolygon"
    polys = sorted(tumour["geometry"]["coordinates"], key=len)
    assert [len(p) for p in polys] == [1, 2]  # the second region, and the square with its hole
    square = polys[1]
    assert _ring_area(square[0]) - _ring_area(square[1]) == pytest.approx((100 - 16) * 16.0**2)  # exact block edges
    xs = [x for x, _ in square[0]]
    ys = [y for _, y in square[0]]
    assert (min(xs), max(xs), min(ys), max(ys)) == (3 * 16.0, 13 * 16.0, 2 * 16.0, 12 * 16.0)
    assert tumour["properties"]["classification"]["name"] == "Tumour"
    assert tumour["properties"]["measurements"] == {"Tissue area µm^2": 0.5e6, "% of tissue": 80.0}


def test_quantify_writes_the_class_map_as_qupath_annotations(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    _tile(src / "h0.tif", "he_necrosis.tif", 256)
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--workers", "1", "--measures", "necrosis", "--stains",
                 "H&E", "--tissue-model", str(_bone(tmp_path / "lab_tissue.mmnst")), "--quiet"]) == 0
    doc = json.loads((out / "h0" / "tissue_classes.geojson").read_text())
    legend = json.loads((out / "h0" / "result.json").read_text())["tissue_classes"]["classes"]
    names = {f["properties"]["classification"]["name"] for f in doc["features"]}
    assert names
    assert names <= {c["name"].capitalize() for c in legend if c["name"] != "background"}
    assert all(f["properties"]["objectType"] == "annotation" for f in doc["features"])


def test_a_named_stain_is_not_contradicted_by_a_close_call(tmp_path: Path) -> None:
    import tifffile

    from mmnst_path.pipeline._train_stains import training_stains

    blank = tmp_path / "blank.tif"  # no tissue: the guess is a close call
    tifffile.imwrite(blank, np.full((256, 256, 3), 245, np.uint8), resolution=(20000, 20000),
                     resolutionunit="CENTIMETER")
    stains, notes = training_stains("H&E", [blank], [None], kind="tissue")
    assert stains == "H&E"
    assert not any("looks" in n for n in notes)
    assert all("a close call" in n for n in notes)


def test_a_trained_tissue_model_is_named_as_asked(tmp_path: Path) -> None:
    """``train tissue --name`` (and its default, the --out stem) names the model, not the class of the last polygon
    (a loop variable shadowed the name: "Stroma", session 42 H12's finding 1)."""
    import json

    tile = _tile(tmp_path / "he.tif", "he_necrosis.tif", 384)
    squares = {"Tumor": (0, 0), "Stroma": (200, 200)}
    features = [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
        [x, y], [x + 150, y], [x + 150, y + 150], [x, y + 150], [x, y]]]},
        "properties": {"objectType": "annotation", "classification": {"name": name}}}
        for name, (x, y) in squares.items()]
    ann = tmp_path / "he.geojson"
    ann.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    model = tmp_path / "lab_he.mmnst"
    args = ["train", "tissue", "--images", str(tile), "--annotations", str(ann), "--stains", "H&E", "--out", str(model)]
    assert main(args) == 0
    assert load_model(model).name == "lab_he"
    assert main([*args, "--overwrite"]) == 0
    assert (load_model(model).name, load_model(model).card["version"]) == ("lab_he", "2")
    assert main([*args, "--overwrite", "--name", "Lab H&E tissue"]) == 0
    assert load_model(model).name == "Lab H&E tissue"
