"""Session 39 H10: the napari side of H9's review of the tissue-class corrections (/work/notes/s39/h9_review.md).

Two quantify-like result folders made by hand (a small RGB tile each, a 4 x 4 tissue class map). Mutations caught:
Export saving the first tissue class layer of the viewer (another folder's) as the target folder's review, or
refusing it for the other folder's slide; the reader claiming every folder (napari then asks which reader for a
folder of TIFFs) or a folder whose result.json is not a quantify result; a damaged review or a reviewed map of
another grid making the folder unopenable.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from mmnst_path_napari._reader import napari_get_reader
from mmnst_path_napari._result_folder import read_result_folder
from mmnst_path_napari._widgets._export import painted_classes, rgb_image_layers, save_review

from mmnst_path._review_tissue import class_map_png
from mmnst_path.review import REVIEW_NAME, REVIEW_TISSUE_MAP, write_review

CLASSES = ["tumour", "stroma", "necrosis", "background"]
COLOURS = [[200, 40, 40], [60, 170, 90], [120, 60, 20], [255, 255, 255]]
GRID = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 3], [2, 3, 3, 3]])


def _result(root: Path, name: str, seed: int) -> Path:
    """OUT/<name> of a 128 px RGB tile (in root/in), result.json recording its SHA-256 and a class map."""
    (root / "in").mkdir(exist_ok=True)
    tile = root / "in" / f"{name}.tif"
    rgb = np.random.default_rng(seed).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    tifffile.imwrite(tile, rgb, photometric="rgb")
    folder = root / "out" / name
    folder.mkdir(parents=True)
    (folder / "tissue_classes.png").write_bytes(class_map_png(GRID, CLASSES, COLOURS))
    doc = {"schema_version": "1.0", "input": str(tile), "status": "ok", "shape": [128, 128], "mpp": 0.5,
           "source": {"path": str(tile), "sha256": hashlib.sha256(tile.read_bytes()).hexdigest()},
           "metrics": {"necrosis_fraction_pct": 20.0},
           "tissue_classes": {"classes": [{"index": k, "name": c, "colour": COLOURS[k], "area_mm2": 0.001 * (k + 1)}
                                          for k, c in enumerate(CLASSES)],
                              "map": {"file": "tissue_classes.png", "downsample": 32.0, "shape": [4, 4]}}}
    (folder / "result.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def _add(viewer, folder: Path, *, image: bool) -> None:  # type: ignore[no-untyped-def]
    for data, meta, kind in read_result_folder(folder, image=image):
        getattr(viewer, f"add_{kind}")(data, **meta)


def _class_layer(viewer, folder: Path):  # type: ignore[no-untyped-def]
    (lay,) = [lay for lay in viewer.layers if lay.metadata.get("mmnst_path", {}).get("kind") == "tissue classes"
              and lay.metadata["mmnst_path"].get("result_folder") == str(folder)]
    return lay


@pytest.mark.parametrize("slides", [False, True])
def test_export_saves_the_target_folders_map_with_two_folders_open(tmp_path, slides):
    from mmnst_path_napari._widgets._export import slide_of_folder
    from napari.components import ViewerModel

    a, b = _result(tmp_path, "a", 1), _result(tmp_path, "b", 2)
    ann = tmp_path / "a.geojson"
    ring = [[0, 0], [64, 0], [64, 64], [0, 64], [0, 0]]
    ann.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"objectType": "annotation", "classification": {"name": "Necrosis"}}}]}), encoding="utf-8")
    write_review(a, ann)  # a is reviewed: 4 blocks changed
    viewer = ViewerModel()
    _add(viewer, a, image=slides)
    _add(viewer, b, image=slides)
    lb = _class_layer(viewer, b)
    data = lb.data.copy()
    data[0, 3] = 3  # one stroma block of b painted necrosis (layer value k + 1)
    lb.data = data
    painted, layer = painted_classes(viewer, b)
    assert layer is lb
    assert painted["changed_blocks"] == 1
    image = slide_of_folder(rgb_image_layers(viewer), b)
    if slides:
        assert image is not None
        assert Path(image.metadata["mmnst_path"]["path"]).name == "b.tif"
    review = save_review(None, b, image=image, tissue_classes=painted, classes_layer=layer)
    assert review["tissue_classes"]["changed_blocks"] == 1
    from PIL import Image

    with Image.open(b / REVIEW_TISSUE_MAP) as img:
        saved = np.asarray(img)
    assert saved[0, 3] == 2
    assert (saved != np.where(GRID < 4, GRID, 255))[()].sum() == 1


def test_two_unbound_class_layers_are_not_guessed(tmp_path):
    from mmnst_path_napari._classmap import class_map_layer
    from napari.components import ViewerModel

    b = _result(tmp_path, "b", 2)
    viewer = ViewerModel()
    for name in ("run 1", "run 2"):  # two Analyze runs' maps, read from no folder
        data, meta, _ = class_map_layer(GRID, classes=CLASSES, colours=COLOURS, downsample=32.0, mpp=0.5, name=name)
        meta["metadata"]["mmnst_path"].update(areas_at_run={"area_mm2": {}}, areas={"changed_blocks": 0},
                                              labels_at_run=data)
        viewer.add_labels(data, **meta)
    with pytest.raises(ValueError, match="2 tissue class layers could be b's"):
        painted_classes(viewer, b)


def test_reader_is_registered_for_result_json_not_for_every_folder(tmp_path):
    from napari.components import ViewerModel
    from napari.plugins import _initialize_plugins
    from npe2 import PluginManager

    _initialize_plugins()
    folder = _result(tmp_path, "a", 1)
    stack = tmp_path / "stack"
    stack.mkdir()
    for i in range(3):
        tifffile.imwrite(stack / f"{i}.tif", np.full((8, 8), i, np.uint8))
    pm = PluginManager.instance()
    assert "mmnst-path-napari" not in {r.plugin_name for r in pm.iter_compatible_readers([str(stack)])}
    assert "mmnst-path-napari" in {r.plugin_name for r in pm.iter_compatible_readers([str(folder / "result.json")])}
    viewer = ViewerModel()
    viewer.open(str(stack), plugin=None)  # no "which reader?" question: only napari's builtins claim a folder
    layers = viewer.open(str(folder / "result.json"), plugin=None)
    assert [lay.name for lay in layers][-1] == "tissue classes"
    assert any(lay.name == "a.tif" for lay in layers)
    # a result.json that is not a quantify result is refused with its reason (session 40: before, napari said only
    # that no reader could open it); a folder that is not a result is not claimed
    from mmnst_path.errors import ConfigError

    other = tmp_path / "notquant"
    other.mkdir()
    (other / "result.json").write_text("[1, 2, 3]", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"notquant.*result\.json' is not a JSON object"):
        napari_get_reader(str(other / "result.json"))(str(other / "result.json"))
    (other / "result.json").write_text('{"metrics": {}}', encoding="utf-8")
    from napari.errors import ReaderPluginError

    with pytest.raises(ReaderPluginError, match="no 'schema_version': it was not written by mmnst-path quantify"):
        viewer.open(str(other / "result.json"), plugin=None)
    (other / "result.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not JSON"):
        napari_get_reader(str(other / "result.json"))(str(other / "result.json"))
    assert napari_get_reader(str(other)) is None


def test_damaged_review_or_reviewed_map_of_another_grid_opens_the_measured_layers(tmp_path):
    folder = _result(tmp_path, "a", 1)
    ann = tmp_path / "a.geojson"
    ring = [[0, 0], [64, 0], [64, 64], [0, 64], [0, 0]]
    ann.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"objectType": "annotation", "classification": {"name": "Necrosis"}}}]}), encoding="utf-8")
    write_review(folder, ann)
    doc = json.loads((folder / REVIEW_NAME).read_text(encoding="utf-8"))
    doc["tissue_classes"] = "yes"
    (folder / REVIEW_NAME).write_text(json.dumps(doc), encoding="utf-8")
    (layer,) = read_result_folder(folder, image=False)
    meta = layer[1]["metadata"]["mmnst_path"]
    assert layer[1]["name"] == "tissue classes"
    assert "review refused" in meta["review_refused"]
    # a review made on an earlier result whose map had another grid: the measured map, and why
    write_review(folder, ann)
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    result["tissue_classes"]["map"]["shape"] = [2, 2]
    from PIL import Image

    Image.fromarray(np.zeros((2, 2), np.uint8)).save(folder / "tissue_classes.png")
    (folder / "result.json").write_text(json.dumps(result), encoding="utf-8")
    (layer,) = read_result_folder(folder, image=False)
    meta = layer[1]["metadata"]["mmnst_path"]
    assert layer[1]["name"] == "tissue classes"
    assert np.asarray(layer[0]).shape == (2, 2)
    assert "the reviewed class map is not shown" in meta["review_refused"]
