"""Session 37 user walk: what the CLI says after an interrupted batch, after training a weak model,
and for a 16-bit image."""

from __future__ import annotations

import types

import numpy as np
import pytest
import tifffile
from PIL import Image

from mmnst_path import batch
from mmnst_path.classify.train import CAUTION_MIN_EXAMPLES, training_caution
from mmnst_path.cli import main
from mmnst_path.cli._train import _report
from mmnst_path.errors import UnsupportedFormatError
from mmnst_path.io import open_slide


def _tile(path, value: int = 200) -> None:
    rgb = np.full((64, 64, 3), value, np.uint8)
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")


def test_an_interrupted_quantify_says_where_the_results_are_and_how_to_go_on(tmp_path, monkeypatch, capsys):
    _tile(tmp_path / "a.tif")

    def interrupted(*_args, **_kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "run_batch", interrupted)
    out = tmp_path / "res"
    out.mkdir()
    (out / "summary.csv").write_text("name,status\na,ok\n")  # written after each finished input
    rc = main(["quantify", str(tmp_path / "a.tif"), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 130
    assert len(err) == 1
    assert err[0].startswith("mmnst-path: interrupted; ")
    assert str(out) in err[0]
    assert "--resume" in err[0]


def test_an_interrupted_quantify_before_any_input_finished_offers_no_resume(tmp_path, monkeypatch, capsys):
    _tile(tmp_path / "a.tif")

    def interrupted(*_args, **_kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "run_batch", interrupted)
    out = tmp_path / "res"
    assert main(["quantify", str(tmp_path / "a.tif"), "--out", str(out), "--quiet"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"mmnst-path: interrupted; no input had finished ({out} holds no summary.csv), so there is "
                   "nothing to resume"]


def test_an_interrupted_other_command_gets_no_resume_hint(monkeypatch, capsys):
    from mmnst_path.cli import _train

    def interrupted(_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(_train, "_run_list", interrupted)
    assert main(["models", "list"]) == 130
    assert capsys.readouterr().err.strip() == "mmnst-path: interrupted"


def _card(counts, accuracy, support=10):
    per = {name: {"support": support} for name in counts}
    return {"training_counts": counts, "validation": {"held_out": {"accuracy": accuracy, "per_class": per}}}


def test_training_caution_names_the_thin_classes_and_a_poor_held_out_accuracy():
    assert training_caution(_card({"tumour": 200, "stromal": 150}, 0.93)) is None
    few = training_caution(_card({"tumour": 8, "stromal": 150}, 0.93))
    assert few is not None
    assert "tumour 8" in few
    assert "stromal" not in few
    assert str(CAUTION_MIN_EXAMPLES) in few
    poor = training_caution(_card({"tumour": 100, "stromal": 100}, 0.14, support=20))
    assert poor is not None
    assert "held-out accuracy 0.14 on 40 examples" in poor
    assert training_caution({"training_counts": {"a": 100, "b": 100}}) is None  # no validation: nothing claimed


def test_train_report_prints_the_caution_on_stderr(capsys):
    model = types.SimpleNamespace(card=_card({"tumour": 8, "lymphocyte": 9}, 0.14), model_id="sha256:0")
    _report(model, "m.mmnst", "cells")
    out = capsys.readouterr()
    assert out.out.startswith("wrote m.mmnst (sha256:0): tumour 8, lymphocyte 9; held-out accuracy 0.14")
    assert out.err.startswith("mmnst-path train cells: caution: few examples (tumour 8, lymphocyte 9")
    good = types.SimpleNamespace(card=_card({"tumour": 80, "lymphocyte": 90}, 0.9), model_id="sha256:1")
    _report(good, "g.mmnst", "cells")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("kind", ["tif", "png"])
def test_a_16_bit_image_is_refused_with_what_to_do(tmp_path, kind):
    grey16 = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)
    path = tmp_path / f"sixteen.{kind}"
    if kind == "tif":
        tifffile.imwrite(path, np.dstack([grey16] * 3), photometric="rgb")
    else:
        Image.fromarray(grey16).save(path)
    with pytest.raises(UnsupportedFormatError) as err:
        open_slide(path, mpp=0.5)
    text = str(err.value)
    assert "sixteen" in text
    assert "8-bit" in text
    assert "8-bit RGB" in text
    assert "Image > Type > RGB Color" in text


@pytest.mark.parametrize("name", ["shapes.csv", "labels.tif"])
def test_train_tissue_says_where_a_napari_layer_file_trains(tmp_path, capsys, name):
    img = tmp_path / "he.tif"
    _tile(img)
    ann = tmp_path / name
    if name.endswith(".csv"):
        ann.write_text("index,shape-type,vertex-index,axis-0,axis-1\n0,rectangle,0,5,5\n")
    else:
        tifffile.imwrite(ann, np.ones((64, 64), np.uint8))
    rc = main(["train", "tissue", "--images", str(img), "--annotations", str(ann), "--out", str(tmp_path / "t.mmnst")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1
    assert len(err) == 1
    assert err[0].startswith(f"mmnst-path train tissue: annotation file {str(ann)!r}: expected QuPath GeoJSON")
    assert "Plugins > mmnst_path > Train tissue" in err[0]
    assert not (tmp_path / "t.mmnst").exists()


def test_a_folder_slide_in_a_format_not_read_is_named_and_notes_stay_silent(tmp_path, capsys):
    from mmnst_path.cli._quantify import expand_inputs, skipped_notes

    folder = tmp_path / "slides"
    (folder / "sub").mkdir(parents=True)
    _tile(folder / "a.tif")
    for name in ("b.czi", "sub/c.VSI", "notes.txt", "annotations.geojson", ".hidden.czi"):
        (folder / name).write_bytes(b"x")
    skipped: list = []
    files, missing = expand_inputs([str(folder)], skipped=skipped)
    assert [f.name for f in files] == ["a.tif"]
    assert missing == []
    assert sorted(p.name for p in skipped) == ["b.czi", "c.VSI"]  # notes, annotations, hidden files: silent
    [note] = skipped_notes(skipped)
    assert note.startswith("note: skipped 2 files in a slide or image format")
    assert "b.czi" in note
    assert "\n" not in note
    assert "and 2 more" in skipped_notes([folder / f"s{i}.czi" for i in range(5)])[0]
    assert skipped_notes([]) == []

    out = tmp_path / "out"
    assert main(["quantify", str(folder), "--out", str(out), "--mpp", "0.5", "--measures", "melanin"]) == 0
    err = capsys.readouterr().err
    assert sum("note: skipped 2 files" in line for line in err.splitlines()) == 1
    assert main(["quantify", str(folder), "--out", str(tmp_path / "q"), "--mpp", "0.5", "--measures", "melanin",
                 "--quiet"]) == 0
    assert "note: skipped" not in capsys.readouterr().err


def test_a_folder_given_with_its_subfolder_names_each_skipped_file_once(tmp_path):
    from mmnst_path.cli._quantify import expand_inputs, skipped_notes

    folder = tmp_path / "slides"
    (folder / "sub").mkdir(parents=True)
    _tile(folder / "a.tif")
    _tile(folder / "sub" / "b.tif")
    for name in ("c.czi", "sub/d.czi"):
        (folder / name).write_bytes(b"x")
    skipped: list = []
    files, _ = expand_inputs([str(folder), str(folder / "sub"), str(folder)], skipped=skipped)
    assert sorted(f.name for f in files) == ["a.tif", "b.tif"]
    assert sorted(p.name for p in skipped) == ["c.czi", "d.czi"]
    assert skipped_notes(skipped)[0].startswith("note: skipped 2 files ")


def test_dicom_and_qptiff_files_of_a_folder_are_noted_as_read_when_named_not_as_unreadable(tmp_path):
    """A DICOM slide (OpenSlide opens its series from one file) and a QPTIFF (a TIFF) are read when named: the note
    must not tell the user to convert them."""
    from mmnst_path.cli._quantify import expand_inputs, skipped_notes
    from mmnst_path.io import open_slide

    folder = tmp_path / "slides"
    folder.mkdir()
    _tile(folder / "a.tif")
    _tile(folder / "scan.qptiff")
    (folder / "level0.dcm").write_bytes(b"x")
    (folder / "e.czi").write_bytes(b"x")
    skipped: list = []
    files, _ = expand_inputs([str(folder)], skipped=skipped)
    assert [f.name for f in files] == ["a.tif"]
    unread, named = skipped_notes(skipped)
    assert "e.czi" in unread
    assert "scan.qptiff" not in unread
    assert "level0.dcm" not in unread
    assert "convert" not in named
    assert "when the file is named" in named
    assert "level0.dcm" in named
    assert "scan.qptiff" in named
    assert open_slide(folder / "scan.qptiff").mpp == pytest.approx(0.5)  # named, it is read


def test_training_caution_boundaries_are_the_documented_ones():
    """Fewer than CAUTION_MIN_EXAMPLES examples, or a held-out accuracy under CAUTION_MIN_ACCURACY, is cautioned;
    the thresholds themselves are not (the README says 'fewer than 30', 'under 0.8')."""
    from mmnst_path.classify.train import CAUTION_MIN_ACCURACY

    n = CAUTION_MIN_EXAMPLES
    assert training_caution(_card({"tumour": n, "stromal": n}, CAUTION_MIN_ACCURACY)) is None
    assert f"tumour {n - 1}" in training_caution(_card({"tumour": n - 1, "stromal": n}, 0.95))
    assert "held-out accuracy 0.79" in training_caution(_card({"tumour": n, "stromal": n}, 0.79))


def test_models_list_names_a_damaged_stain_model_and_exits_1(tmp_path, monkeypatch, capsys):
    import shutil

    from mmnst_path import _models_dir
    from mmnst_path.classify import models_dir
    from mmnst_path.cli import _stain_models

    for name in _stain_models.STAIN_MODELS:
        shutil.copy(models_dir() / name, tmp_path / name)
    text = (tmp_path / "stains_chromogen.json").read_text(encoding="utf-8")
    (tmp_path / "stains_chromogen.json").write_text(text.replace('"version": "1.0"', '"version": "1.1"', 1),
                                                    encoding="utf-8")
    monkeypatch.setattr(_models_dir, "models_dir", lambda: tmp_path)
    assert main(["models", "list"]) == 1
    lines = capsys.readouterr().out.splitlines()
    bad = [ln for ln in lines if ln.startswith("stains_chromogen ")]
    assert len(bad) == 1
    assert "does not match its id" in bad[0]
    assert any(ln.startswith("stains_he ") for ln in lines)  # the others still listed


def test_files_inside_the_output_folder_are_not_named_in_the_skipped_note(tmp_path):
    from mmnst_path.cli._quantify import expand_inputs

    folder = tmp_path / "slides"
    (folder / "results").mkdir(parents=True)
    _tile(folder / "a.tif")
    (folder / "b.czi").write_bytes(b"x")
    (folder / "results" / "old.czi").write_bytes(b"x")
    skipped: list = []
    expand_inputs([str(folder)], exclude=folder / "results", skipped=skipped)
    assert [p.name for p in skipped] == ["b.czi"]


@pytest.mark.parametrize("name", ["missing.csv", "missing.geojson"])
def test_train_tissue_says_a_missing_annotation_file_is_missing(tmp_path, capsys, name):
    """A missing x.csv got the napari-layer message (session 37 H8's finding): missing comes first."""
    img = tmp_path / "he.tif"
    _tile(img)
    ann = tmp_path / name
    rc = main(["train", "tissue", "--images", str(img), "--annotations", str(ann), "--out", str(tmp_path / "t.mmnst")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc in (1, 2)
    assert len(err) == 1
    assert str(ann) in err[0]
    assert "no such file" in err[0]
    assert "napari" not in err[0]
    assert not (tmp_path / "t.mmnst").exists()
    # the reader napari's Train tissue import and the API call says it too (it gave the napari-layer message)
    from mmnst_path.errors import ConfigError
    from mmnst_path.pipeline._train import read_tissue_annotations

    with pytest.raises(ConfigError, match=r"missing\.(csv|geojson)' does not exist or is not a file$"):
        read_tissue_annotations(ann)


def test_a_glob_takes_the_slides_not_the_notes_beside_them(tmp_path):
    """'in/*' took notes.txt as an input, which became an error row (session 37 H8's finding); a pattern that
    names the type ('in/*.txt', 'in/*.qptiff') still asks for those files, and a pattern of notes only is said."""
    from mmnst_path.cli._quantify import expand_inputs

    folder = tmp_path / "in"
    folder.mkdir()
    _tile(folder / "a.tif")
    for name in ("notes.txt", "b.czi", "c.qptiff", "README"):
        (folder / name).write_bytes(b"x")
    skipped: list = []
    files, missing = expand_inputs([str(folder / "*")], skipped=skipped)
    assert [f.name for f in files] == ["a.tif"]
    assert missing == []
    assert sorted(p.name for p in skipped) == ["b.czi", "c.qptiff"]
    files, missing = expand_inputs([str(folder / "*.qptiff"), str(folder / "*.txt")])
    assert [f.name for f in files] == ["c.qptiff", "notes.txt"]  # named by the pattern: tried
    files, missing = expand_inputs([str(folder / "n*")])
    assert files == []
    assert len(missing) == 1
    assert "matches no slide or image file" in missing[0][1]


def test_a_vsi_slide_is_named_once_not_with_its_ets_pyramid_files(tmp_path):
    from mmnst_path.cli._quantify import expand_inputs

    folder = tmp_path / "olympus"
    (folder / "_slide_" / "stack1").mkdir(parents=True)
    _tile(folder / "a.tif")
    (folder / "slide.vsi").write_bytes(b"x")
    (folder / "_slide_" / "stack1" / "frame_t.ets").write_bytes(b"x")
    skipped: list = []
    expand_inputs([str(folder)], skipped=skipped)
    assert [p.name for p in skipped] == ["slide.vsi"]


def test_models_show_repeats_the_training_caution_of_a_thin_model(tmp_path, capsys):
    """A user model trained on a handful of nuclei: 'models show' says what 'train' said (H7's N6)."""
    import dataclasses

    from mmnst_path.classify import load_model, models_dir

    model = load_model(models_dir() / "nucleus_default.mmnst")
    card = {**model.card, **_card({"tumour": 8, "lymphocyte": 9}, 0.14)}
    thin = tmp_path / "thin.mmnst"
    dataclasses.replace(model, card=card).save(thin)
    assert main(["models", "show", str(thin)]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("caution (training figures): few examples ("))
    assert "tumour 8" in line
    assert "lymphocyte 9" in line
    assert "held-out accuracy 0.14" in line


def test_a_held_out_accuracy_just_under_the_bar_is_not_written_as_the_bar():
    text = training_caution(_card({"tumour": 100, "stromal": 100}, 0.7996, support=20))
    assert text is not None
    assert "held-out accuracy 0.7996 on" in text
