"""Training a lab's classifiers (session 40 H5, H3's walk): held-out figures of whole images (D1), class names
read as ``review`` reads them (D3), annotations outside the image and classes left without an example named
(D7), the card's training fields (D10)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path import synthetic
from mmnst_path.classify import load_model
from mmnst_path.classify._class_names import canonical_name, check_class_names
from mmnst_path.classify.tissue_features import TissueFeatureSettings, tissue_feature_specs
from mmnst_path.classify.train import Places, holdout_folds, training_caution
from mmnst_path.classify.train_cells import canonical_class
from mmnst_path.classify.train_tissue import canonical_tissue_class, train_tissue_model
from mmnst_path.detect.nuclei import detect_nuclei
from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import train_cells, train_tissue


def _square(x0: float, y0: float, side: float, name: str) -> dict:
    ring = [[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side], [x0, y0]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"objectType": "annotation", "classification": {"name": name}}}


def _he_tile(tmp_path: Path, seed: int) -> Path:
    t = synthetic.he_necrosis_tile(seed, size=256, mpp=1.0, necrosis_fraction=0.45)
    img = tmp_path / f"he{seed}.tif"
    tifffile.imwrite(img, t.rgb, photometric="rgb", resolution=(1e4, 1e4), resolutionunit="CENTIMETER")
    return img


def _geojson(path: Path, feats: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


# D1 ---------------------------------------------------------------------------------------------------------


def _memorisable_rows(n_images: int, rng: np.random.Generator) -> tuple[list, Places]:
    """Rows whose class a forest can tell within an image (each image's classes have their own feature
    means) but not across images (the means are drawn afresh for every image): neighbours of a random
    split are near-twins, whole images are new."""
    nf = len(tissue_feature_specs(TissueFeatureSettings()))
    rows, parts = [], []
    for i in range(n_images):
        means = rng.normal(0, 3, (2, nf))
        y = np.repeat(["necrosis", "tumour"], 150)
        x = means[(y == "tumour").astype(int)] + rng.normal(0, 0.3, (300, nf))
        rows.append((x.astype(np.float32), y))
        parts.append((i, rng.uniform(0, 2000, (300, 2))))
    return rows, Places.stack(parts)


def test_held_out_figure_holds_out_whole_images_not_random_blocks():
    rows, places = _memorisable_rows(4, np.random.default_rng(7))
    grouped = train_tissue_model(rows, places=places, n_estimators=12)
    val = grouped.card["validation"]
    assert val["split"].startswith("whole images held out (4 images")
    held = val["held_out"]
    assert sum(c["support"] for c in held["per_class"].values()) == 1200  # every row scored once
    assert held["accuracy"] < 0.8  # no signal across images: near chance, not the random split's ~1.0
    assert "held-out accuracy" in (training_caution(grouped.card) or "")
    legacy = train_tissue_model(rows, n_estimators=12)  # no places (napari): named, not held out
    assert "held_out" not in legacy.card["validation"]
    assert legacy.card["validation"]["training_image_blocks"]["accuracy"] > 0.95


def test_one_image_is_held_out_by_spatial_squares_with_a_gap():
    rc = np.array([[0.0, 0.0], [10.0, 10.0], [100.0, 100.0], [100.0, 356.0], [300.0, 100.0], [250.0, 250.0],
                   [600.0, 600.0], [1100.0, 1100.0]])
    fold, scored, text = holdout_folds(Places(np.zeros(8, np.intp), rc))
    assert text.startswith("one image: a checkerboard of 256 µm squares")
    assert fold.tolist() == [0, 0, 0, 1, 1, 0, 0, 0]
    assert scored.tolist() == [False, False, True, True, True, False, True, True]  # within 32 µm of a border: not
    small, small_scored, small_text = holdout_folds(Places(np.zeros(3, np.intp), np.array([[0.0, 0], [50, 10],
                                                                                           [200, 200]])))
    assert small_text.startswith("one image: a checkerboard of 50 µm squares")  # a quarter of a 200 µm extent
    assert small.tolist() == [0, 1, 0]
    assert small_scored.tolist() == [False, False, False]  # 12.5 µm gap: the border points are not scored
    fold2, scored2, text2 = holdout_folds(Places(np.array([0, 0, 1, 1, 2, 2]), rc))
    assert text2.startswith("whole images held out (3 images in 3 folds)")
    assert fold2.tolist() == [0, 0, 1, 1, 2, 2]
    assert scored2.all()


def test_caution_names_a_poor_class_recall_and_classes_from_one_image():
    card = {"training_counts": {"tumour": 200, "other": 40, "stromal": 900},
            "validation": {"held_out": {"accuracy": 0.86, "per_class": {
                "tumour": {"recall": 0.56, "support": 50}, "other": {"recall": 0.09, "support": 11},
                "stromal": {"recall": 0.95, "support": 250}}}},
            "training_images": 3, "images_per_class": {"tumour": 3, "other": 1, "stromal": 3}}
    text = training_caution(card)
    assert text is not None
    assert "low held-out recall (other 0.09" in text
    assert "annotated on one image only: other" in text
    assert "tumour 0.56" not in text
    assert "every example comes from one image" in (training_caution({**card, "training_images": 1}) or "")


# D3 ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "cell", "tissue"), [
    ("Tumour cells", "tumour", "tumour"), ("Tumor: Positive", "tumour", "tumour"), ("Immune cells", "lymphocyte",
     "inflammatory"), ("Lymphocytes", "lymphocyte", "inflammatory"), ("Stromal", "stromal", "stroma"),
    ("Stromal cells", "stromal", "stroma"), ("Fibroblasts", "stromal", "fibroblasts"), ("Region*", "", ""),
    ("Ignore*", "", ""), ("", "", ""), ("Necrotic", "necrotic", "necrosis"), ("Bone", "bone", "bone")])
def test_class_names_one_reading_for_cells_tissue_and_review(name, cell, tissue):
    assert canonical_class(name) == cell
    assert canonical_tissue_class(name) == tissue
    assert canonical_name(name, "tissue") == tissue


def test_a_near_miss_is_refused_naming_the_file_and_the_likely_class(tmp_path):
    img = _he_tile(tmp_path, 3)
    a = _geojson(tmp_path / "a.geojson", [_square(10, 10, 100, "Tumor")])
    b = _geojson(tmp_path / "typo.geojson", [_square(120, 120, 100, "Necorsis")])
    with pytest.raises(ConfigError, match=r"typo\.geojson.*'Necorsis' looks like a misspelt 'necrosis'"):
        train_tissue([img, img], [a, b])
    mapping, new = check_class_names(["Tumor", "Bone", "Region*", "Lymphocytes"], "nucleus", where="x")
    assert mapping == {"Bone": "bone", "Lymphocytes": "lymphocyte", "Region*": "", "Tumor": "tumour"}
    assert new == ["bone"]


def test_region_is_skipped_new_classes_kept_and_the_card_records_the_mapping(tmp_path):
    img0, img1 = _he_tile(tmp_path, 3), _he_tile(tmp_path, 4)
    feats = [_square(8, 8, 112, "Tumor"), _square(136, 136, 112, "Bone"), _square(0, 0, 256, "Region*")]
    a0 = _geojson(tmp_path / "a0.geojson", feats[2:] + feats[:2])  # the region drawn first, under the others
    a1 = _geojson(tmp_path / "a1.geojson", [_square(8, 136, 112, "Tumor"), _square(136, 8, 112, "Bone")])
    model = train_tissue([img0, img1], [a0, a1], intended_use="bone vs tumour, osteosarcoma H&E",
                         limitations="one scanner")
    assert model.class_names == ("bone", "tumour")
    card = model.card
    assert card["new_classes"] == ["bone"]
    assert card["class_names"] == {"Bone": "bone", "Region*": "(not used)", "Tumor": "tumour"}
    assert card["pixel_size_um"] == 1.0
    assert card["intended_use"] == "bone vs tumour, osteosarcoma H&E"
    assert card["limitations"] == "one scanner"
    assert card["mmnst_path_version"]
    assert len(card["date"]) == 10
    assert card["training_data"][0]["classes"]["tumour"] > 0
    assert card["images_per_class"] == {"bone": 2, "tumour": 2}
    path = model.save(tmp_path / "m.mmnst")
    assert load_model(path).card["class_names"]["Region*"] == "(not used)"


# D7 ---------------------------------------------------------------------------------------------------------


def test_a_polygon_outside_its_image_is_named_with_its_bounds(tmp_path):
    img = _he_tile(tmp_path, 3)
    a = _geojson(tmp_path / "a.geojson", [_square(10, 10, 200, "Tumor")])
    out = _geojson(tmp_path / "outside.geojson", [_square(2000, 2000, 1000, "Necrosis")])
    lines: list[str] = []
    with pytest.raises(ConfigError, match=r"only the tissue class\(es\) \['tumour'\] \(polygons outside"):
        train_tissue([img, img], [a, out], progress=lines.append)
    said = [ln for ln in lines if "outside.geojson" in ln]
    assert len(said) == 1
    assert "polygon 0 (Necrosis) lies outside the image he3.tif: x 2000-3000, y 2000-3000 against 256 x 256 px" in said[0]


def _cell_tile(tmp_path: Path, seed: int) -> tuple[Path, np.ndarray, np.ndarray]:
    t = synthetic.ki67_pigment_tile(seed, size=320, pigmented_cells=0.0, positive_fraction=0.3)
    path = tmp_path / f"tile{seed}.tif"
    tifffile.imwrite(path, t.rgb, photometric="rgb", resolution=(1e4 / t.mpp, 1e4 / t.mpp),
                     resolutionunit="CENTIMETER")
    nuc = detect_nuclei(t.rgb, mpp=t.mpp)
    return path, np.c_[nuc.row, nuc.col] + 0.7, np.where(nuc.area_um2 >= 38.0, "Tumor", "Stroma")


def _points(path: Path, pts: np.ndarray, names: np.ndarray | list[str]) -> Path:
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(c), float(r)]},
              "properties": {"objectType": "annotation", "classification": {"name": str(n)}}}
             for (r, c), n in zip(pts, names, strict=True)]
    return _geojson(path, feats)


def test_points_outside_and_a_class_that_loses_its_examples_are_named(tmp_path):
    img, pts, names = _cell_tile(tmp_path, 21)
    good = _points(tmp_path / "good.geojson", pts, names)
    far = _points(tmp_path / "far.geojson", np.full((5, 2), 5000.0), ["Tumor"] * 5)
    gap = np.array([[3.0, 3.0]]) if not np.any(np.hypot(*(pts - 3.0).T) < 20) else np.array([[316.0, 3.0]])
    lost = _points(tmp_path / "lost.geojson", np.r_[pts, gap], [*names.tolist(), "Macrophage"])
    lines: list[str] = []
    model = train_cells([img, img, img], [good, far, lost], progress=lines.append)
    assert any("far.geojson': 5 of 5 points lie outside the image tile21.tif (320 x 320 px" in ln for ln in lines)
    assert any(ln.endswith("0 training examples: every point lies outside the image") for ln in lines)
    assert any(ln.startswith("class 'macrophage': 1 points annotated but no example left") for ln in lines)
    assert "macrophage" not in model.class_names
    assert model.card["validation"]["split"].startswith("whole images held out")


# D11 --------------------------------------------------------------------------------------------------------


def test_mpp_per_image_trains_tiles_of_two_scanners_together(tmp_path, capsys):
    from mmnst_path.cli import main

    t1 = synthetic.he_necrosis_tile(3, size=256, mpp=1.0, necrosis_fraction=0.45)
    t2 = synthetic.he_necrosis_tile(4, size=512, mpp=0.5, necrosis_fraction=0.45)
    paths = []
    for k, t in enumerate((t1, t2)):  # PNG: no pixel size in the file
        paths.append(tmp_path / f"t{k}.png")
        from PIL import Image

        Image.fromarray(t.rgb).save(paths[-1])
    a0 = _geojson(tmp_path / "a0.geojson", [_square(8, 8, 112, "Tumor"), _square(136, 136, 112, "Necrosis")])
    a1 = _geojson(tmp_path / "a1.geojson", [_square(16, 16, 224, "Tumor"), _square(272, 272, 224, "Necrosis")])
    out = tmp_path / "m.mmnst"
    args = ["train", "tissue", "--images", str(paths[0]), str(paths[1]), "--annotations", str(a0), str(a1),
            "--out", str(out)]
    assert main([*args, "--mpp", "1.0,0.5,0.25"]) == 2
    assert "one per image, got 3 values for 2 images" in capsys.readouterr().err
    assert main([*args, "--mpp", "1.0,0.5"]) == 0, capsys.readouterr().err
    card = load_model(out).card
    assert card["pixel_size_um"] == [1.0, 0.5]
    assert [d["mpp_um"] for d in card["training_data"]] == [1.0, 0.5]
    blocks = [d["labelled_blocks"] for d in card["training_data"]]
    assert abs(blocks[0] - blocks[1]) <= 0.1 * blocks[0]  # the same µm area labelled: about the same blocks
