"""Polygon holes in ``train tissue`` (session 41 H3, session 40 H3's D12): a hole of an annotation is not its
class. Its pixels keep the class of an annotation drawn in them (before or after it in the file), else stay
unlabelled; MultiPolygons and islands in holes too; the "holes are ignored" warning is gone from training."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import tifffile

from mmnst_path import synthetic
from mmnst_path.pipeline import read_tissue_annotations, read_tissue_polygons, train_tissue
from mmnst_path.pipeline._train import _paint_window


def _ring(r0: float, c0: float, r1: float, c1: float) -> list[list[float]]:
    """A closed GeoJSON ring [x, y] of the level-0 pixel square rows r0..r1, cols c0..c1 (QuPath x = col + 0.5)."""
    xs, ys = (c0 + 0.5, c1 + 0.5), (r0 + 0.5, r1 + 0.5)
    return [[xs[0], ys[0]], [xs[1], ys[0]], [xs[1], ys[1]], [xs[0], ys[1]], [xs[0], ys[0]]]


def _feature(name: str, kind: str, coords: list) -> dict:
    return {"type": "Feature", "geometry": {"type": kind, "coordinates": coords},
            "properties": {"objectType": "annotation", "classification": {"name": name}}}


def _tile(tmp_path: Path) -> Path:
    t = synthetic.he_necrosis_tile(3, size=448, mpp=1.0, necrosis_fraction=0.45)
    img = tmp_path / "he.tif"
    tifffile.imwrite(img, t.rgb, photometric="rgb", resolution=(1e4, 1e4), resolutionunit="CENTIMETER")
    return img


def _write(tmp_path: Path, name: str, feats: list[dict]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def _blocks(model) -> dict[str, int]:
    return dict(model.card["training_data"][0]["classes"])


def test_a_hole_is_not_the_outer_class_and_keeps_the_class_drawn_in_it(tmp_path):
    """A Tumor annotation with a hole round a Necrosis annotation (written before it: it painted over the
    necrosis, so necrosis had no example) teaches necrosis there; an empty hole is unlabelled (fewer tumour
    blocks than the same polygon without it), and training says nothing of holes."""
    img = _tile(tmp_path)
    outer, hole = _ring(16, 16, 431, 431), _ring(144, 144, 303, 303)
    plain = _write(tmp_path, "plain.geojson", [_feature("Stroma", "Polygon", [_ring(8, 8, 15, 440)]),
                                                _feature("Tumor", "Polygon", [outer])])
    holed = _write(tmp_path, "holed.geojson", [_feature("Stroma", "Polygon", [_ring(8, 8, 15, 440)]),
                                                _feature("Tumor", "Polygon", [outer, hole])])
    nested = _write(tmp_path, "nested.geojson", [_feature("Necrosis", "Polygon", [_ring(152, 152, 295, 295)]),
                                                  _feature("Tumor", "Polygon", [outer, hole])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "polygon holes are ignored (the outer ring is used)" before
        b_plain = _blocks(train_tissue([img], [plain]))
        b_holed = _blocks(train_tissue([img], [holed]))
        b_nested = _blocks(train_tissue([img], [nested]))
    hole_blocks = (160 // 8) ** 2  # the hole is 160 px = 20 blocks of 8 µm square
    assert b_plain["tumour"] - b_holed["tumour"] >= 0.8 * hole_blocks, (b_plain, b_holed)
    assert b_plain["tumour"] - b_holed["tumour"] <= 1.2 * hole_blocks + 4 * 20, (b_plain, b_holed)
    assert b_nested["necrosis"] >= 0.8 * (144 // 8) ** 2, b_nested
    assert b_nested["tumour"] == b_holed["tumour"], (b_nested, b_holed)


def test_paint_window_holes_islands_multipolygons_and_file_order():
    """Pixel by pixel: a hole is 0 where nothing is drawn in it, the class of a polygon drawn in it before or after
    the holed one, an island (a MultiPolygon part, or a third ring) inside a hole takes its class; a pixel whose
    last polygon belongs to another window is 0 here."""

    def rc(r0, c0, r1, c1):
        return np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0]], float)

    tumour_holed = ([rc(0, 0, 59, 59), rc(10, 10, 29, 29), rc(35, 35, 54, 54)], "Tumor")  # two holes
    necrosis_in_hole = ([rc(12, 12, 27, 27)], "Necrosis")  # before the holed polygon in the file
    island = ([rc(40, 40, 49, 49)], "Tumor")  # a MultiPolygon's second part, inside the second hole
    stroma_later = ([rc(50, 0, 59, 9)], "Stroma")  # after: over the tumour
    polys = [necrosis_in_hole, tumour_holed, island, stroma_later]
    value = [2, 1, 1, 3]
    lab = _paint_window(polys, np.arange(4), value, (0, 0, 60, 60))
    assert lab[5, 5] == 1
    assert lab[20, 20] == 2
    assert lab[11, 11] == 0  # the hole's rim outside the necrosis: unlabelled
    assert lab[37, 37] == 0
    assert lab[45, 45] == 1
    assert lab[55, 5] == 3
    three_rings = ([rc(0, 0, 59, 59), rc(10, 10, 49, 49), rc(20, 20, 39, 39)], "Tumor")  # island as a third ring
    lab = _paint_window([three_rings], np.arange(1), [1], (0, 0, 60, 60))
    assert lab[5, 5] == 1
    assert lab[15, 15] == 0
    assert lab[30, 30] == 1
    # the necrosis drawn in the hole belongs to another window: 0 here, not tumour
    lab = _paint_window(polys, np.array([1, 2, 3]), value, (0, 0, 60, 60))
    assert lab[20, 20] == 0
    assert lab[5, 5] == 1
    # an offset window: coordinates are level-0
    lab = _paint_window(polys, np.arange(4), value, (10, 10, 20, 20))
    assert lab[10, 10] == 2
    assert lab[0, 0] == 0


def test_multipolygon_with_holes_is_read_with_its_rings(tmp_path):
    """read_tissue_polygons keeps each part's holes; read_tissue_annotations (napari's import) keeps the outer rings
    and says the holes are dropped there."""
    multi = _write(tmp_path, "multi.geojson", [_feature("Tumor", "MultiPolygon", [
        [_ring(0, 0, 99, 99), _ring(20, 20, 79, 79)], [_ring(40, 40, 59, 59)]])])
    polys = read_tissue_polygons(multi)
    assert [len(rings) for rings, _ in polys] == [2, 1]
    assert [name for _, name in polys] == ["Tumor", "Tumor"]
    np.testing.assert_allclose(polys[0][0][1].min(axis=0), [20, 20])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outer = read_tissue_annotations(multi)
    assert len(outer) == 2
    assert outer[0][0].shape == (4, 2)
    assert any("holes are ignored" in str(w.message) for w in caught)


def test_a_hole_drawn_across_the_outer_ring_adds_nothing_outside_it():
    def rc(r0, c0, r1, c1):
        return np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0]], float)

    lab = _paint_window([([rc(10, 10, 49, 49), rc(0, 20, 29, 39)], "Tumor")], np.arange(1), [1], (0, 0, 60, 60))
    assert lab[5, 30] == 0  # in the hole's ring, outside the outer one
    assert lab[20, 30] == 0
    assert lab[40, 30] == 1
