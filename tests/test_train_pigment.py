"""A lab's own pigment (melanin) model (session 43 H5, issue #14): ``mmnst-path train pigment`` from QuPath GeoJSON
polygons drawn on generated pigmented tiles, then ``quantify --pigment-model``: melanin near the drawn truth, a model
of other stains refused, ``--resume`` keyed on the model's content, the model named in the outputs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.batch import request_hash
from mmnst_path.classify import load_model
from mmnst_path.cli import main
from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import AnalysisConfig, analyze_region, train_pigment

SIZE = 256


def _ring(r0: float, c0: float, r1: float, c1: float) -> list[list[float]]:
    return [[c0, r0], [c1, r0], [c1, r1], [c0, r1], [c0, r0]]


def _feature(rings: list[list[list[float]]], cls: str) -> dict:
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings},
            "properties": {"objectType": "annotation", "classification": {"name": cls}}}


def _melanin_polygons(mask: np.ndarray, cls: str = "Melanin") -> list[dict]:
    """One polygon per contour of ``mask`` (level-0 x, y), as a lab outlines its pigment."""
    from skimage.measure import find_contours

    out = []
    for contour in find_contours(np.pad(mask.astype(np.uint8), 1), 0.5):
        if len(contour) >= 4:
            ring = [[float(c) - 1.0, float(r) - 1.0] for r, c in contour]
            out.append(_feature([[*ring, ring[0]]], cls))
    return out


def _pair(folder: Path, seed: int, family: str, *, chromogen: str = "aec", cls: str = "Melanin") -> tuple[Path, Path]:
    """A generated pigmented tile (TIFF, 0.5 µm/px) and its annotations: a Tumor rectangle over the tile, then the
    drawn melanin outlined over it."""
    import tifffile

    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(seed, family, chromogen=chromogen, size=SIZE, drawn_melanin=True)
    img = folder / f"t{seed}_{chromogen}.tif"
    tifffile.imwrite(img, tile.rgb, photometric="rgb", resolution=(1e4 / tile.mpp, 1e4 / tile.mpp),
                     resolutionunit="CENTIMETER")
    ann = folder / f"t{seed}_{chromogen}.geojson"
    feats = [_feature([_ring(0, 0, SIZE, SIZE)], "Tumor"), *_melanin_polygons(tile.masks["melanin_drawn"], cls)]
    ann.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return img, ann


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[Path, Path]]]:
    """A pigment model trained by the CLI on two AEC tiles (coarse, whole_cell pigment)."""
    folder = tmp_path_factory.mktemp("pigment_train")
    pairs = [_pair(folder, 801, "coarse"), _pair(folder, 802, "whole_cell", cls="Pigment")]
    out = folder / "models" / "lab_pigment.mmnst"
    code = main(["train", "pigment", "--images", *[str(i) for i, _ in pairs], "--annotations",
                 *[str(a) for _, a in pairs], "--out", str(out), "--stains", "H-AEC"])
    assert code == 0
    return out, pairs


def test_a_trained_pigment_model_finds_the_drawn_melanin_of_another_tile(trained: tuple[Path, list]) -> None:
    from mmnst_path.synthetic import pigment_family_tile

    path, pairs = trained
    model = load_model(path)
    assert tuple(model.class_names) == ("background", "melanin")
    assert model.settings["target"] == "pigment"
    assert model.settings["stains"] == "H-AEC"
    shipped = load_model(Path(__file__).resolve().parents[1] / "mmnst_path" / "models" / "pigment_default.mmnst")
    assert model.feature_names == shipped.feature_names  # the features of the stage's shipped model for AEC
    data = model.card["training_data"]
    assert [d["image"] for d in data] == [i.name for i, _ in pairs]
    assert data[0]["sha256"] == hashlib.sha256(pairs[0][0].read_bytes()).hexdigest()
    assert model.card["polygons_per_class"]["other"] == 2
    assert model.card["polygons_per_class"]["melanin"] > 10
    assert "whole images held out" in model.card["validation"]["split"]
    tile = pigment_family_tile(803, "perinuclear", chromogen="aec", size=SIZE, drawn_melanin=True)
    cfg = AnalysisConfig.from_mapping({"stains": "H-AEC", "measures": ["melanin"], "pigment": {"model": str(path)}})
    res = analyze_region(tile.rgb, cfg, mpp=tile.mpp)
    truth = float(tile.truth["melanin_drawn_pct"])
    assert truth > 3.0
    assert abs(float(res.metrics["melanin_fraction_pct"]) - truth) < 0.35 * truth
    assert str(res.metrics["pigment_model"]).startswith(model.model_id)


def test_labels_honour_holes_and_unlabelled_negative(tmp_path: Path) -> None:
    from mmnst_path.classify.train_pigment import LABEL_MELANIN, LABEL_OTHER
    from mmnst_path.pipeline._train_pigment import _labels

    outer = np.array([[10, 10], [10, 50], [50, 50], [50, 10], [10, 10]], float)  # (row, col)
    hole = np.array([[20, 20], [20, 40], [40, 40], [40, 20], [20, 20]], float)
    other = np.array([[60, 10], [60, 30], [70, 30], [70, 10], [60, 10]], float)
    kept = [([outer, hole], "Melanin"), ([other], "Stroma")]
    idx = np.arange(2)
    lab = _labels(kept, idx, [LABEL_MELANIN, LABEL_OTHER], (0, 0, 80, 80), "ignore")
    assert lab[15, 15] == LABEL_MELANIN
    assert lab[30, 30] == 0
    assert lab[65, 20] == LABEL_OTHER
    assert lab[75, 75] == 0
    neg = _labels(kept, idx, [LABEL_MELANIN, LABEL_OTHER], (0, 0, 80, 80), "negative")
    assert neg[30, 30] == LABEL_OTHER  # inside the hole: unpainted, so not melanin
    assert neg[55, 45] == LABEL_OTHER
    assert neg[75, 75] == 0
    assert neg[15, 15] == LABEL_MELANIN


def test_training_needs_both_classes_and_refuses_a_misspelt_class(tmp_path: Path) -> None:
    img, ann = _pair(tmp_path, 804, "coarse")
    doc = json.loads(ann.read_text())
    only_tumour = tmp_path / "tumour_only.geojson"
    only_tumour.write_text(json.dumps({**doc, "features": doc["features"][:1]}))
    with pytest.raises(ConfigError, match="melanin"):
        train_pigment([img], [only_tumour], stains="H-AEC")
    misspelt = tmp_path / "misspelt.geojson"
    doc["features"][1]["properties"]["classification"]["name"] = "Melanni"
    misspelt.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="misspelt"):
        train_pigment([img], [misspelt], stains="H-AEC")
    with pytest.raises(ConfigError, match="unlabelled"):
        train_pigment([img], [ann], stains="H-AEC", unlabelled="background")


def test_a_pigment_model_of_other_stains_is_refused_in_one_line(trained: tuple[Path, list], tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import tifffile

    from mmnst_path.synthetic import pigment_family_tile

    path, _ = trained
    src = tmp_path / "in"
    src.mkdir()
    tile = pigment_family_tile(805, "coarse", chromogen="dab", size=SIZE)
    tifffile.imwrite(src / "dab.tif", tile.rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    code = main(["quantify", str(src), "--out", str(tmp_path / "out"), "--workers", "1", "--stains", "H-DAB",
                 "--pigment-model", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    line = next(e for e in err if "pigment model" in e)
    assert "lab_pigment.mmnst" in line
    assert "H-AEC" in line
    assert "H-DAB" in line
    assert "train pigment" in line
    # the stains auto-guessed per slide are checked too: the input fails with the same reason
    code = main(["quantify", str(src), "--out", str(tmp_path / "out2"), "--workers", "1", "--pigment-model", str(path)])
    out = capsys.readouterr()
    assert code != 0
    assert "lab_pigment.mmnst" in out.err + out.out
    assert "H-AEC" in out.err + out.out
    # not a pigment model: a usage error naming the flag
    code = main(["quantify", str(src), "--out", str(tmp_path / "out3"), "--workers", "1", "--pigment-model",
                 str(Path(__file__).resolve().parents[1] / "mmnst_path" / "models" / "tissue_default.mmnst")])
    assert code == 2
    assert "--pigment-model" in capsys.readouterr().err


def test_resume_redoes_an_input_whose_pigment_model_was_retrained(trained: tuple[Path, list], tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    path, pairs = trained
    lab = tmp_path / "lab.mmnst"
    shutil.copyfile(path, lab)

    def req() -> str:
        return request_hash(AnalysisConfig.from_mapping({"stains": "H-AEC", "pigment": {"model": str(lab)}}),
                            mpp=None, roi_digest=None)

    first = req()
    src = tmp_path / "in"
    src.mkdir()
    shutil.copyfile(pairs[0][0], src / "t.tif")
    args = ["quantify", str(src), "--out", str(tmp_path / "out"), "--workers", "1", "--stains", "H-AEC",
            "--measures", "melanin", "--pigment-model", str(lab)]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--resume"]) == 0
    assert "up to date, skipped" in capsys.readouterr().err
    model = load_model(lab)
    dataclasses.replace(model, card={**model.card, "version": "2"}).save(lab)  # retrained at the same path
    assert req() != first
    assert main([*args, "--resume"]) == 0
    assert "up to date, skipped" not in capsys.readouterr().err
    res = json.loads(next((tmp_path / "out").glob("*/result.json")).read_text())
    assert str(res["metrics"]["pigment_model"]).startswith(load_model(lab).model_id)


def test_cli_end_to_end_names_the_model_and_models_show_reads_it(trained: tuple[Path, list], tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    path, pairs = trained
    model = load_model(path)
    assert main(["models", "show", str(path)]) == 0
    shown = capsys.readouterr().out
    assert "(pigment pixel model)" in shown
    assert "stains: H-AEC" in shown
    assert "classes: background, melanin" in shown
    assert "H-AEC" in shown
    assert "lab_pigment" in shown
    assert "sha256" in shown
    assert pairs[0][0].name in shown
    broken = tmp_path / "broken.mmnst"
    broken.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    assert main(["models", "show", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "broken.mmnst" in err
    assert "Traceback" not in err
    src = tmp_path / "in"
    src.mkdir()
    shutil.copyfile(pairs[1][0], src / "t.tif")
    out = tmp_path / "out"
    assert main(["quantify", str(src), "--out", str(out), "--workers", "1", "--stains", "H-AEC",
                 "--pigment-model", str(path)]) == 0
    capsys.readouterr()
    summary = (out / "summary.csv").read_text()
    assert model.model_id in summary
    html = (out / "report.html").read_text()
    assert "pigment model" in html
    assert model.model_id in html
    geo = json.loads(next(out.glob("*/cells.geojson")).read_text())
    assert any(model.model_id in str((f.get("properties") or {}).get("metadata", {}).get("pigment_model", ""))
               for f in geo["features"])
    # the shipped default is not named in report.html (its outputs stay as they were)
    out2 = tmp_path / "out_default"
    assert main(["quantify", str(src), "--out", str(out2), "--workers", "1", "--stains", "H-AEC"]) == 0
    assert "pigment model" not in (out2 / "report.html").read_text()
    # a config file's [pigment] model is the same
    cfg = tmp_path / "lab.toml"
    cfg.write_text(f'stains = "H-AEC"\n[pigment]\nmodel = "{path}"\n')
    out3 = tmp_path / "out_config"
    assert main(["quantify", str(src), "--out", str(out3), "--workers", "1", "--config", str(cfg)]) == 0
    assert model.model_id in (out3 / "summary.csv").read_text()


def test_a_pigment_models_training_caution_is_a_result_warning(trained: tuple[Path, list], tmp_path: Path) -> None:
    from mmnst_path.synthetic import pigment_family_tile

    path, _ = trained
    model = load_model(path)
    cautious = tmp_path / "one_image.mmnst"
    dataclasses.replace(model, card={**model.card, "training_images": 1}).save(cautious)
    tile = pigment_family_tile(806, "coarse", chromogen="aec", size=SIZE)
    cfg = AnalysisConfig.from_mapping({"stains": "H-AEC", "measures": ["melanin"], "pigment": {"model": str(cautious)}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analyze_region(tile.rgb, cfg, mpp=tile.mpp)
    said = [str(w.message) for w in caught if "pigment model one_image.mmnst" in str(w.message)]
    assert len(said) == 1
    assert "one image" in said[0]
    assert load_model(cautious).model_id in said[0]


def test_any_other_class_name_is_not_melanin_only_near_misses_of_melanin_are_refused(tmp_path: Path) -> None:
    # H12's finding 3: train pigment refused 'Dermis' as a misspelt 'debris' (train tissue's vocabulary)
    from mmnst_path.pipeline._train_pigment import pigment_class_names

    got = pigment_class_names(["Dermis", "Necorsis", "Epidermis", "Melanin: Positive", "Pigment", "Region*", ""],
                              where="a.geojson")
    assert got == {"Dermis": "other", "Necorsis": "other", "Epidermis": "other", "Melanin: Positive": "melanin",
                   "Pigment": "melanin", "Region*": "", "": ""}
    for name in ("Melanine", "Pigmnet"):
        with pytest.raises(ConfigError, match=rf"a.geojson: class '{name}' looks like a misspelt 'melanin' or"):
            pigment_class_names([name], where="a.geojson")
    img, ann = _pair(tmp_path, 806, "coarse")
    doc = json.loads(ann.read_text())
    doc["features"][0]["properties"]["classification"]["name"] = "Dermis"
    ann.write_text(json.dumps(doc))
    model = train_pigment([img], [ann], stains="H-AEC")
    assert model.card["class_names"]["Dermis"] == "other"
    assert model.card["polygons_per_class"]["other"] == 1
    # H12's finding 9: the row cap says what it caps (each window's rows of each class), not "per image"
    assert "rows_per_image_class" not in model.card
    assert model.card["rows_per_window_class"] == 20000
    assert "from each window" in model.card["row_cap"]


def test_a_double_stain_is_trained_on_the_marker_free_pixels_the_run_reads(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # H12's finding 5: the run's pigment stage removes a double stain's marker before it asks the model
    import tifffile

    from mmnst_path.classify import train_pigment as rows_module
    from mmnst_path.quantify._ki67_stains import marker_channel
    from mmnst_path.quantify.ki67 import without_marker
    from mmnst_path.stain import get_preset
    from mmnst_path.synthetic_double import double_stain_tile

    tile = double_stain_tile(3, marker="cytoplasmic", size=SIZE)
    img = tmp_path / "double.tif"
    tifffile.imwrite(img, tile.rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    ann = tmp_path / "double.geojson"
    ann.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature([_ring(0, 0, SIZE, SIZE)], "Tumor"), _feature([_ring(10, 10, 40, 40)], "Melanin")]}))
    seen: list[tuple[np.ndarray, object]] = []

    class Seen(Exception):
        pass

    def spy(rgb: np.ndarray, labels: np.ndarray, **kwargs: object) -> object:
        seen.append((rgb, kwargs["stains"]))
        raise Seen

    monkeypatch.setattr(rows_module, "pigment_training_rows", spy)
    with pytest.raises(Seen):
        train_pigment([img], [ann], stains="H-DAB-FastRed")
    rgb, stains = seen[0]
    assert marker_channel(stains) is None
    assert stains.names[:2] == ("hematoxylin", "dab")  # type: ignore[attr-defined]
    clean, _ = without_marker(tile.rgb, get_preset("H-DAB-FastRed"))
    assert not np.array_equal(rgb, tile.rgb)
    assert np.abs(rgb.astype(int) - clean.astype(int)).mean() < 8  # the tile re-rendered without its marker


def test_a_missing_pigment_model_is_named_as_one_with_its_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # H12's finding 8: it was called a "tissue model", and a [pigment] model named neither the key nor the file
    from mmnst_path.classify.pigment import resolve_pigment_model

    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"^pigment model 'nothere.mmnst' does not exist .*working folder"):
        resolve_pigment_model("nothere.mmnst")
    img, _ = _pair(tmp_path, 807, "coarse")
    config = tmp_path / "c.toml"
    config.write_text('[pigment]\nmodel = "nothere.mmnst"\n', encoding="utf-8")
    code = main(["quantify", str(img), "--config", str(config), "--stains", "H-AEC", "--measures", "melanin",
                 "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"--config {config}: [pigment] model 'nothere.mmnst': pigment model 'nothere.mmnst'" in err
    assert "tissue model" not in err
    assert main(["quantify", str(img), "--pigment-model", "nothere.mmnst", "--stains", "H-AEC", "--out",
                 str(tmp_path / "o"), "--quiet"]) == 2
    assert "--pigment-model nothere.mmnst: pigment model 'nothere.mmnst'" in capsys.readouterr().err
