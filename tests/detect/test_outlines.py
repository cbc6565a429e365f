"""Star-polygon nucleus outlines follow the label image (IoU) and reach QuPath GeoJSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from skimage.draw import ellipse, polygon

from mmnst_path.aggregate import CELL_CLASSES, CELL_TYPES, CellTable
from mmnst_path.detect.outlines import star_polygons, star_radii
from mmnst_path.geojson import cell_features, cells_from_features


def _labels() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lab = np.zeros((120, 160), np.int32)
    specs = [(30, 30, 9, 5, 0.3), (30, 90, 6, 6, 0.0), (80, 50, 12, 4, 1.1), (85, 120, 3, 2, 0.0)]
    for i, (r, c, a, b, rot) in enumerate(specs, start=1):
        rr, cc = ellipse(r, c, a, b, shape=lab.shape, rotation=rot)
        lab[rr, cc] = i
    rows = np.array([np.argwhere(lab == i)[:, 0].mean() for i in range(1, 5)])
    cols = np.array([np.argwhere(lab == i)[:, 1].mean() for i in range(1, 5)])
    return lab, rows, cols


def test_star_outlines_follow_the_labels():
    lab, rows, cols = _labels()
    radii = star_radii(lab, rows, cols)
    assert radii.shape == (4, 16)
    assert radii.dtype == np.float32
    assert np.all(radii >= 0.5)
    polys = star_polygons(rows, cols, radii)
    for i in range(4):
        mask = lab == i + 1
        rr, cc = polygon(polys[i, :, 0] + 0.5, polys[i, :, 1] + 0.5, shape=lab.shape)
        drawn = np.zeros_like(mask)
        drawn[rr, cc] = True
        iou = (drawn & mask).sum() / (drawn | mask).sum()
        assert iou > (0.6 if mask.sum() < 30 else 0.8), (i, iou)


def test_empty_inputs():
    assert star_radii(np.zeros((5, 5), np.int32), np.zeros(0), np.zeros(0)).shape == (0, 16)


def test_geojson_writes_outlines_and_cell_types():
    lab, rows, cols = _labels()
    radii = star_radii(lab, rows, cols)
    code = {n: i for i, n in enumerate(CELL_CLASSES)}
    cls = np.array([code["positive"], code["negative"], code["excluded"], code["excluded"]], np.int8)
    ctype = np.array([CELL_TYPES.index(t) for t in ("tumour", "tumour", "stromal", "lymphocyte")], np.int8)
    cells = CellTable(rows, cols, cls, {"area_um2": np.full(4, 20.0), "cell_type": ctype, "outline_radii": radii})
    feats = list(cell_features(cells, mpp=0.5))
    ring = feats[0]["geometry"]["coordinates"][0]
    assert len(ring) == 17
    assert ring[0] == ring[-1]
    assert [f["properties"]["classification"]["name"] for f in feats] == ["Positive", "Negative", "Stroma",
                                                                         "Lymphocyte"]
    assert "cell_type" not in feats[0]["properties"]["measurements"]
    back = cells_from_features(json.loads(json.dumps(feats)))
    assert list(back.class_names()) == ["positive", "negative", "excluded", "excluded"]
    np.testing.assert_allclose(back.row, rows, atol=0.01)  # outlines are centred on the centroid
    np.testing.assert_allclose(back.col, cols, atol=0.01)
    # without outlines: the octagon of the area, as before
    plain = CellTable(rows, cols, cls, {"area_um2": np.full(4, 20.0)})
    assert len(next(iter(cell_features(plain, mpp=0.5)))["geometry"]["coordinates"][0]) == 9


@pytest.mark.parametrize("rays", [8, 24])
def test_other_ray_counts(rays):
    lab, rows, cols = _labels()
    assert star_radii(lab, rows, cols, rays=rays).shape == (4, rays)


def test_pipeline_cells_carry_outlines_to_the_geojson():
    from mmnst_path import synthetic
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    t = synthetic.ki67_pigment_tile(9, size=256, pigmented_cells=0.0)
    result = analyze_region(t.rgb, AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]}), mpp=t.mpp)
    radii = np.asarray(result.cells.columns["outline_radii"], np.float64)
    assert radii.shape == (len(result.cells), 16)
    # the outline's area matches the nucleus area (µm² -> level-0 px at 0.5 µm/px) within 35 %
    area_px = 0.5 * np.sum(radii**2 * np.sin(2 * np.pi / 16), axis=1)
    ratio = area_px / (np.asarray(result.cells.columns["area_um2"]) / t.mpp**2)
    assert 0.8 < np.median(ratio) < 1.35
    feat = next(iter(cell_features(result.cells, mpp=t.mpp)))
    assert len(feat["geometry"]["coordinates"][0]) == 17


def test_compiled_radii_are_bit_identical(monkeypatch):
    """The numba passes give exactly the numpy radii (numpy's arctan2 either way), in any frame."""
    pytest.importorskip("numba")
    import mmnst_path.detect._morphology as morphology
    from mmnst_path.detect.nuclei import nuclei_from_stains, stain_planes
    from mmnst_path.synthetic import ki67_pigment_tile

    hem, dab = stain_planes(ki67_pigment_tile(9, size=256, pigmented_cells=0.2).rgb)
    for origin in ((0, 0), (517, 33)):
        nuclei = nuclei_from_stains(hem, dab, mpp=0.5, return_labels=True, origin=origin)
        assert nuclei.labels is not None
        assert len(nuclei) > 30
        out = {}
        for backend in ("scipy", "auto"):
            monkeypatch.setattr(morphology, "BACKEND", backend)
            out[backend] = star_radii(nuclei.labels, nuclei.row, nuclei.col, origin=origin)
        np.testing.assert_array_equal(out["auto"], out["scipy"])
