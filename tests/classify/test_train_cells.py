"""Training a nucleus model from point annotations (QuPath GeoJSON, CSV) on image files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from mmnst_path import synthetic
from mmnst_path.classify import load_model
from mmnst_path.classify.train_cells import canonical_class
from mmnst_path.detect.nuclei import detect_nuclei
from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import read_cell_annotations, train_cells
from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67

BIG_UM2 = 38.0


def _tile_with_clicks(tmp_path: Path, seed: int) -> tuple[Path, np.ndarray, np.ndarray]:
    """A generated Ki67 tile as a TIFF with its pixel size, and 'clicks' on its nuclei by size."""
    t = synthetic.ki67_pigment_tile(seed, size=320, pigmented_cells=0.0, positive_fraction=0.3)
    path = tmp_path / f"tile{seed}.tif"
    tifffile.imwrite(path, t.rgb, photometric="rgb", resolution=(1e4 / t.mpp, 1e4 / t.mpp),
                     resolutionunit="CENTIMETER")
    nuc = detect_nuclei(t.rgb, mpp=t.mpp)
    pts = np.c_[nuc.row, nuc.col] + 0.7  # clicks are never exactly on the centroid
    names = np.where(nuc.area_um2 >= BIG_UM2, "Tumor: Positive", "Immune cells")
    return path, pts, names


def _geojson(path: Path, pts: np.ndarray, names: np.ndarray) -> Path:
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(c), float(r)]},
              "properties": {"objectType": "annotation", "classification": {"name": n, "color": [255, 0, 0]}}}
             for (r, c), n in zip(pts, names, strict=True)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_train_from_qupath_geojson_and_csv_end_to_end(tmp_path):
    img0, pts0, names0 = _tile_with_clicks(tmp_path, 21)
    img1, pts1, names1 = _tile_with_clicks(tmp_path, 22)
    ann0 = _geojson(tmp_path / "a0.geojson", pts0, names0)
    ann1 = tmp_path / "a1.csv"  # napari Points layer saved as CSV with a class feature
    ann1.write_text("index,axis-0,axis-1,class\n" + "".join(
        f"{i},{r},{c},{n}\n" for i, ((r, c), n) in enumerate(zip(pts1, names1, strict=True))))
    lines: list[str] = []
    model = train_cells([img0, img1], [ann0, ann1], stains="H-DAB", progress=lines.append)
    assert model.class_names == ("tumour", "lymphocyte")
    assert len(lines) == 2
    assert "points" in lines[0]
    assert model.card["training_data"][0]["matched_nuclei"] >= 0.9 * len(pts0)
    assert model.card["validation"]["held_out"]["accuracy"] >= 0.85
    path = model.save(tmp_path / "mine.mmnst")
    # used by quantify through the config: small nuclei leave the index
    t = synthetic.ki67_pigment_tile(23, size=320, pigmented_cells=0.0, positive_fraction=0.3)
    region = measure_ki67(t.rgb, mpp=t.mpp, params=Ki67Params(cell_model=str(path)))
    cells = region.cells
    small = cells.area_um2 < BIG_UM2 - 4
    assert np.mean(cells.cell_type[small] == "lymphocyte") > 0.8
    assert region.counts.lymphocyte > 0
    assert load_model(path).model_id == model.model_id


def test_reading_annotations(tmp_path):
    pts = np.array([[10.0, 20.0], [30.0, 40.0]])
    gj = _geojson(tmp_path / "a.geojson", pts, np.array(["Tumor", "Stroma"]))
    got, names = read_cell_annotations(gj)
    np.testing.assert_allclose(got, pts)
    assert [canonical_class(n) for n in names] == ["tumour", "stromal"]
    csv = tmp_path / "a.csv"
    csv.write_text("x,y,class\n20,10,Lymphocyte\n40,30,Other\n")
    got, names = read_cell_annotations(csv)
    np.testing.assert_allclose(got, pts)
    bad = tmp_path / "bad.csv"
    bad.write_text("u,v\n1,2\n")
    with pytest.raises(ConfigError, match=r"bad\.csv.*expected columns"):
        read_cell_annotations(bad)
    empty = tmp_path / "empty.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(ConfigError, match=r"empty\.geojson.*no classified points"):
        read_cell_annotations(empty)


def test_one_class_is_not_enough(tmp_path):
    img, pts, _ = _tile_with_clicks(tmp_path, 21)
    ann = _geojson(tmp_path / "a.geojson", pts, np.full(len(pts), "Tumor"))
    with pytest.raises(ConfigError, match="at least two classes"):
        train_cells([img], [ann])
    with pytest.raises(ConfigError, match="one annotation file per image"):
        train_cells([img, img], [ann])


@pytest.mark.parametrize(("name", "expected"), [("Tumor: Positive", "tumour"), ("Immune cells", "lymphocyte"),
                                                ("Stroma", "stromal"), ("Melanophage", "macrophage"),
                                                ("Ignore*", ""), ("", ""), ("Nerve Fibre", "nerve_fibre")])
def test_canonical_class(name, expected):
    assert canonical_class(name) == expected
