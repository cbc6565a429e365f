"""`mmnst-path train cells` from QuPath GeoJSON, `quantify --cell-model`, `models show/list`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import tifffile

from mmnst_path import synthetic
from mmnst_path.cli import main
from mmnst_path.detect.nuclei import detect_nuclei

BIG_UM2 = 38.0


def _tile_and_geojson(tmp_path: Path, seed: int) -> tuple[Path, Path]:
    t = synthetic.ki67_pigment_tile(seed, size=320, pigmented_cells=0.0, positive_fraction=0.3)
    img = tmp_path / f"tile{seed}.tif"
    tifffile.imwrite(img, t.rgb, photometric="rgb", resolution=(1e4 / t.mpp, 1e4 / t.mpp), resolutionunit="CENTIMETER")
    nuc = detect_nuclei(t.rgb, mpp=t.mpp)
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(c), float(r)]},
              "properties": {"objectType": "annotation",
                             "classification": {"name": "Tumor" if a >= BIG_UM2 else "Stroma"}}}
             for r, c, a in zip(nuc.row, nuc.col, nuc.area_um2, strict=True)]
    ann = tmp_path / f"tile{seed}.geojson"
    ann.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return img, ann


def test_train_cells_then_quantify_with_it(tmp_path, capsys):
    img0, ann0 = _tile_and_geojson(tmp_path, 41)
    img1, ann1 = _tile_and_geojson(tmp_path, 42)
    model = tmp_path / "cells.mmnst"
    rc = main(["train", "cells", "--images", str(img0), str(img1), "--annotations", str(ann0), str(ann1),
               "--out", str(model)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "wrote" in out.out
    assert "tumour" in out.out
    assert "stromal" in out.out
    assert main(["models", "show", str(model)]) == 0
    shown = capsys.readouterr().out
    assert "classes: tumour, stromal" in shown
    assert "tile41.tif" in shown
    res = tmp_path / "res"
    assert main(["quantify", str(img0), "--out", str(res), "--cell-model", str(model), "--quiet"]) == 0
    with (res / "summary.csv").open() as fh:
        row = next(csv.DictReader(fh))
    assert row["cell_model"].startswith("sha256:")
    assert int(row["ki67_stromal"]) > 0
    result = json.loads(next(res.glob("*/result.json")).read_text())
    assert result["versions"]["cell_model"] == row["cell_model"]
    assert result["config"]["ki67"]["cell_model"] == str(model.resolve())


def test_usage_errors_exit_2_and_name_the_flag(tmp_path, capsys):
    img, ann = _tile_and_geojson(tmp_path, 41)
    assert main(["train", "cells", "--images", str(img), "--annotations", str(ann), str(ann),
                 "--out", str(tmp_path / "m.mmnst")]) == 2
    assert "pair up" in capsys.readouterr().err
    junk = tmp_path / "junk.mmnst"
    junk.write_bytes(b"not a model")
    assert main(["quantify", str(img), "--out", str(tmp_path / "r"), "--cell-model", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "--cell-model" in err
    assert "junk.mmnst" in err
    assert len(err.strip().splitlines()) == 1
    one_class = tmp_path / "one.geojson"
    doc = json.loads(ann.read_text())
    for f in doc["features"]:
        f["properties"]["classification"]["name"] = "Tumor"
    one_class.write_text(json.dumps(doc))
    assert main(["train", "cells", "--images", str(img), "--annotations", str(one_class),
                 "--out", str(tmp_path / "m.mmnst")]) == 1
    assert "at least two classes" in capsys.readouterr().err


def test_models_list_and_default_card(capsys):
    assert main(["models", "list"]) == 0
    listed = capsys.readouterr().out
    assert "nucleus" in listed
    assert "sha256:" in listed
    assert main(["models", "show", "--json"]) == 0
    header = json.loads(capsys.readouterr().out)
    assert header["kind"] == "nucleus"
    assert header["card"]["training_data"][0]["dataset"] == "BRCA-M2C"
    assert np.isfinite(header["card"]["validation"]["ki67_research_sets"]["shidc"]["index_mae_pp"])


def test_models_list_names_every_shipped_file_and_show_takes_its_name(capsys, tmp_path, monkeypatch):
    from mmnst_path.classify import SHIPPED_MODELS, load_model, models_dir

    on_disk = {p.name for p in models_dir().glob("*.mmnst")}
    assert on_disk == set(SHIPPED_MODELS)  # a model file shipped without a line in the list is a defect
    assert main(["models", "list"]) == 0
    listed = capsys.readouterr().out
    for name in SHIPPED_MODELS:
        model = load_model(models_dir() / name)
        line = next(ln for ln in listed.splitlines() if ln.startswith(name.removesuffix(".mmnst") + " "))
        assert model.model_id in line
    assert "used for: melanin pixels, hematoxylin + DAB" in listed
    assert main(["models", "show", "pigment_dab_bodies"]) == 0
    assert "classes: dab_body, melanin" in capsys.readouterr().out
    # a file of that name in the working folder wins over the shipped model of the same name
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pigment_dab").write_bytes(b"not a model")
    assert main(["models", "show", "pigment_dab"]) == 1
    assert "pigment_dab" in capsys.readouterr().err
    # a damaged shipped file is named in the list, which says so and fails
    real = models_dir()
    for name in SHIPPED_MODELS:
        (tmp_path / name).write_bytes(b"MMNST damaged" if name == "pigment_dab.mmnst" else (real / name).read_bytes())
    monkeypatch.setattr("mmnst_path._models_dir.models_dir", lambda: tmp_path)
    assert main(["models", "list"]) == 1
    out = capsys.readouterr().out
    bad = next(ln for ln in out.splitlines() if ln.startswith("pigment_dab "))
    assert "sha256:" not in bad


def _box_feature(mask: np.ndarray, name: str, half: int = 30) -> dict:
    """A square QuPath annotation well inside ``mask`` (around its deepest pixel)."""
    from scipy import ndimage as ndi

    r, c = np.unravel_index(np.argmax(ndi.distance_transform_edt(mask)), mask.shape)
    h = min(half, int(ndi.distance_transform_edt(mask)[r, c] * 0.7))
    ring = [[c - h, r - h], [c + h, r - h], [c + h, r + h], [c - h, r + h], [c - h, r - h]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[float(x), float(y)] for x, y in ring]]},
            "properties": {"objectType": "annotation", "classification": {"name": name}}}


def test_train_tissue_cli(tmp_path, capsys):
    t = synthetic.he_necrosis_tile(3, size=448, mpp=1.0, necrosis_fraction=0.45)
    img = tmp_path / "he.tif"
    tifffile.imwrite(img, t.rgb, photometric="rgb", resolution=(1e4, 1e4), resolutionunit="CENTIMETER")
    nec, tissue = t.masks["necrosis"], t.masks["tissue"]
    ann = tmp_path / "he.geojson"
    ann.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _box_feature(nec, "Necrosis"), _box_feature(tissue & ~nec, "Tumor")]}))
    out = tmp_path / "tissue.mmnst"
    rc = main(["train", "tissue", "--images", str(img), "--annotations", str(ann), "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "necrosis" in captured.out
    assert out.is_file()
    res = tmp_path / "res"
    assert main(["quantify", str(img), "--out", str(res), "--tissue-model", str(out), "--measures", "necrosis",
                 "--quiet"]) == 0
    with (res / "summary.csv").open() as fh:
        row = next(csv.DictReader(fh))
    assert row["tissue_model"].startswith("sha256:")
    assert float(row["necrosis_fraction_pct"]) > 5.0


def test_models_show_prints_per_class_recall_cautions_and_dict_training_data(capsys):
    # nucleus_red: its card's caution (real stroma mostly counted) and the stromal recall must be shown
    assert main(["models", "show", "nucleus_red"]) == 0
    shown = capsys.readouterr().out
    assert "stromal recall 0.11" in shown
    assert "caution (validation.generated_acceptance): real stroma" in shown
    # hidden_nuclei_dab: training data written as one mapping still prints every entry (EndoNuke attribution)
    assert main(["models", "show", "hidden_nuclei_dab"]) == 0
    shown = capsys.readouterr().out
    assert "CC BY 4.0" in shown
    assert "hidden recall" in shown


def test_the_opt_in_hidden_model_is_named_in_versions_and_summary(tmp_path):
    t = synthetic.ki67_pigment_tile(3, size=256, pigmented_cells=0.2, positive_fraction=0.3)
    img = tmp_path / "tile.tif"
    tifffile.imwrite(img, t.rgb, photometric="rgb", resolution=(1e4 / t.mpp, 1e4 / t.mpp), resolutionunit="CENTIMETER")
    cfg = tmp_path / "hidden.toml"
    cfg.write_text('[ki67]\nhidden_model = "default"\n')
    res = tmp_path / "res"
    assert main(["quantify", str(img), "--out", str(res), "--config", str(cfg), "--stains", "H-DAB", "--quiet"]) == 0
    from mmnst_path.classify.hidden_nuclei import resolve_hidden_model

    model_id = resolve_hidden_model("default").model_id
    result = json.loads(next(res.glob("*/result.json")).read_text())
    assert result["versions"]["hidden_model"].startswith(model_id + " ")
    with (res / "summary.csv").open() as fh:
        assert next(csv.DictReader(fh))["hidden_model"] == result["versions"]["hidden_model"]
    off = tmp_path / "off.toml"
    off.write_text('[ki67]\nhidden_model = "none"\n')
    plain = tmp_path / "plain"
    assert main(["quantify", str(img), "--out", str(plain), "--config", str(off), "--stains", "H-DAB", "--quiet"]) == 0
    assert "hidden_model" not in json.loads(next(plain.glob("*/result.json")).read_text())["versions"]
    with (plain / "summary.csv").open() as fh:
        assert next(csv.DictReader(fh))["hidden_model"] == ""


def test_the_opt_in_pigment_cell_model_and_gate_are_named_in_versions_and_summary(tmp_path):
    # like the hidden model: a run with [ki67] pigment_cell_model and [pigment] gate names both models (id, name,
    # version) in result.json's versions and summary.csv; a default run names only the pigment-cell model
    from mmnst_path.classify._pigment_gate import resolve_gate_model
    from mmnst_path.classify.hidden_nuclei import resolve_cell_model

    t = synthetic.ki67_pigment_tile(4, size=192, pigmented_cells=0.2, positive_fraction=0.3)
    img = tmp_path / "tile.tif"
    tifffile.imwrite(img, t.rgb, photometric="rgb", resolution=(1e4 / t.mpp, 1e4 / t.mpp), resolutionunit="CENTIMETER")
    cfg = tmp_path / "on.toml"
    cfg.write_text('[ki67]\npigment_cell_model = "default"\n[pigment]\ngate = "default"\n')
    res = tmp_path / "res"
    assert main(["quantify", str(img), "--out", str(res), "--config", str(cfg), "--stains", "H-DAB", "--quiet"]) == 0
    versions = json.loads(next(res.glob("*/result.json")).read_text())["versions"]
    assert versions["pigment_cell_model"].startswith(resolve_cell_model("default").model_id + " ")
    assert versions["pigment_gate"].startswith(resolve_gate_model("default").model_id + " ")
    with (res / "summary.csv").open() as fh:
        row = next(csv.DictReader(fh))
    assert row["pigment_cell_model"] == versions["pigment_cell_model"]
    assert row["pigment_gate"] == versions["pigment_gate"]
    plain = tmp_path / "plain"
    assert main(["quantify", str(img), "--out", str(plain), "--stains", "H-DAB", "--quiet"]) == 0
    versions = json.loads(next(plain.glob("*/result.json")).read_text())["versions"]
    # the pigment-cell model is the H-DAB default since session 34 (H4); the gate stays opt-in
    assert versions["pigment_cell_model"].startswith(resolve_cell_model("default").model_id + " ")
    assert "pigment_gate" not in versions


def test_models_show_writes_undefined_figures_and_counts_as_a_reader_reads_them(capsys):
    """The default nucleus card's EndoNuke split has no lymphocyte: its recall is NaN. Session 36 H6 saw
    "lymphocyte recall nan" and "training counts: {'lymphocyte': 13060, ...}" (Python's dict repr).
    Mutation caught: the figures printed with str() / the mapping's repr."""
    assert main(["models", "show"]) == 0
    shown = capsys.readouterr().out
    assert "recall nan" not in shown
    assert "lymphocyte recall – precision 0.0 (n 0)" in shown
    counts = next(line for line in shown.splitlines() if line.startswith("training counts: "))
    assert "{" not in counts
    assert "'" not in counts
    assert "tumour 39270" in counts
    ki67 = next(line for line in shown.splitlines() if line.startswith("validation Ki67 bcdata: "))
    assert "{" not in ki67
    assert "index_mae_pp 3.78" in ki67


def test_models_list_and_show_take_the_stain_guess_models_too(capsys, tmp_path):
    """The three ``stains_*.json`` models (stains = auto) are listed and their cards shown like the classifiers';
    a damaged or foreign JSON file gets one line and exit 1."""
    from mmnst_path.classify import models_dir
    from mmnst_path.cli._stain_models import STAIN_MODELS

    assert {p.name for p in models_dir().glob("*.json")} == set(STAIN_MODELS)
    assert main(["models", "list"]) == 0
    listed = capsys.readouterr().out
    for name in STAIN_MODELS:
        body = json.loads((models_dir() / name).read_text())
        line = next(ln for ln in listed.splitlines() if ln.startswith(name.removesuffix(".json") + " "))
        assert f"sha256:{body['id']}" in line  # the id written as the classifiers' are
    assert main(["models", "show", "stains_dab_aec"]) == 0
    shown = capsys.readouterr().out
    assert "classes: dab, aec" in shown
    assert "licence: BSD-3-Clause" in shown
    assert "(stain-guess model)" in shown
    assert main(["models", "show", str(models_dir() / "stains_he.json"), "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["classes"] == ["ihc", "he"]
    assert card["model_id"] == json.loads((models_dir() / "stains_he.json").read_text())["id"]
    assert any("CC BY 4.0" in d.get("licence", "") for d in card["card"]["training_data"])  # attribution kept
    damaged = tmp_path / "stains_dab_aec.json"
    text = (models_dir() / "stains_dab_aec.json").read_text()
    assert "C=0.3" in text
    damaged.write_text(text.replace("C=0.3", "C=0.4", 1))  # the card edited: its id no longer matches
    assert main(["models", "show", str(damaged)]) == 1
    err = capsys.readouterr().err
    assert "does not match its id" in err
    assert err.count("\n") == 1
    foreign = tmp_path / "mine.json"
    foreign.write_text('{"a": 1}')
    assert main(["models", "show", str(foreign)]) == 1
    assert "not an mmnst_path stain model" in capsys.readouterr().err
