"""Whole-tissue annotations reach 100 % (session 39 H12's finding 5, /work/notes/s39/h12_review.md): a class with
area but no block of its own (a small class the run's per-pixel fractions give area inside other classes' blocks)
moves with the blocks that hold it, and a block the image edge cuts is tested at the centre of its inside part.
Mutations caught: block-less areas kept (93.3 % necrosis after "all necrosis"), spread over background blocks too,
not conserved; edge blocks tested at their full centre past the image edge (94.5 %)."""

from __future__ import annotations

import numpy as np
from test_review_tissue_s39 import _square

from mmnst_path._review_tissue import area_annotations, paint_annotations, reviewed_class_areas

CLASSES = ["tumour", "stroma", "necrosis", "blood", "background"]


def test_blockless_class_moves_with_the_tissue_blocks_and_area_is_conserved():
    before = np.array([[0, 0, 1], [1, 0, 4]], np.int16)  # blood (3) has area and no block; one glass block
    areas = {"tumour": 0.003, "stroma": 0.0018, "necrosis": 0.0, "blood": 0.0002, "background": 0.0009}
    common = {"downsample": 32.0, "mpp": 1.0, "shape": (64, 96)}
    unchanged = reviewed_class_areas(CLASSES, areas, before, before, **common)
    assert unchanged["area_mm2"] == areas  # a review that changes nothing gives the run's figures
    now = np.where(before == 4, 4, 2)  # every tissue block annotated necrosis, the glass kept
    rev = reviewed_class_areas(CLASSES, areas, before, now, **common)
    assert rev["pct_of_tissue"]["necrosis"] == 100.0
    assert abs(rev["area_mm2"]["blood"]) < 1e-15
    assert abs(rev["area_mm2"]["background"] - 0.0009) < 1e-15  # glass keeps its area: blood did not go there
    assert abs(sum(rev["area_mm2"].values()) - sum(areas.values())) < 1e-15
    half = before.copy()
    half[0, 0] = 2  # one of the five tissue blocks (equal weight): a fifth of blood's area moves with it
    rev = reviewed_class_areas(CLASSES, areas, before, half, **common)
    assert abs(rev["area_mm2"]["blood"] - 0.0002 * 4 / 5) < 1e-15
    assert abs(rev["area_mm2"]["necrosis"] - (0.003 / 3 + 0.0002 / 5)) < 1e-15


def test_an_edge_block_is_tested_inside_the_image():
    # a 100 x 100 px image on a 32 px grid: the last row and column of blocks hold 4 px of it (centre 98 px)
    grid = np.zeros((4, 4), np.int16)
    whole = area_annotations([_square(0, 0, 100, 100, "Necrosis")], CLASSES, source="t")[0]
    assert (paint_annotations(grid, whole, downsample=32, shape=(100, 100)) == 2).all()
    old = paint_annotations(grid, whole, downsample=32)  # without the shape: full centres, 111.5 px, outside
    assert (old == 2).sum() == 9
    # a polygon that stops short of the edge part's centre (98 px) leaves the edge blocks alone
    inner = area_annotations([_square(0, 0, 97, 97, "Necrosis")], CLASSES, source="t")[0]
    assert (paint_annotations(grid, inner, downsample=32, shape=(100, 100)) == 2).sum() == 9
