"""``mmnst-path review`` of a Ki67 / MART-1 double stain keeps its melanocyte-restricted index (session 41 H5's D3):
review.json's reviewed metrics and summary.csv's ``ki67_melanocytic_index_reviewed_pct``, computed from the edits'
``Melanocytic`` flags as the run computed the measured one.

Fails before: the reviewed counts ignored the flag (``melanocytic_denominator`` 0, no summary column).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import tifffile

from mmnst_path.cli import main
from mmnst_path.synthetic_double import double_stain_tile


def test_review_of_a_double_stain_keeps_the_melanocyte_index(tmp_path: Path) -> None:
    tile = double_stain_tile(5, marker="cytoplasmic", chromogen="fast_red", size=320)
    path = tmp_path / "double.tif"
    tifffile.imwrite(path, tile.rgb, photometric="rgb", resolution=(1e4 / tile.mpp, 1e4 / tile.mpp),
                     resolutionunit="CENTIMETER")
    out = tmp_path / "out"
    assert main(["quantify", str(path), "--out", str(out), "--stains", "H-DAB-FastRed", "--measures", "ki67"]) == 0
    folder = out / "double"
    measured = json.loads((folder / "result.json").read_text(encoding="utf-8"))["metrics"]
    assert measured["ki67_melanocytic_denominator"] > 0
    # the run's own nuclei as the edits (no change): the reviewed melanocyte index is the measured one
    assert main(["review", str(folder), str(folder / "cells.geojson"), "--reviewer", "Dr M"]) == 0
    review = json.loads((folder / "review.json").read_text(encoding="utf-8"))
    m = review["ki67_metrics"]
    assert m["melanocytic_denominator"] == measured["ki67_melanocytic_denominator"]
    assert math.isclose(m["melanocytic_index_pct"], measured["ki67_melanocytic_index_pct"])
    assert main(["report", str(out)]) == 0
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert math.isclose(float(row["ki67_melanocytic_index_reviewed_pct"]), measured["ki67_melanocytic_index_pct"],
                        abs_tol=1e-4)  # summary.csv keeps 6 significant digits


def test_nuclei_without_the_melanocytic_measurement_are_not_melanocytic() -> None:
    """Edits with nuclei added in QuPath (no ``Melanocytic`` measurement: NaN when read) count them as not
    melanocytic, as napari reads the same file (session 41 H10's finding 2: NaN read as True)."""
    import numpy as np

    from mmnst_path.aggregate import CellTable
    from mmnst_path.review import ki67_of_edits

    nan = float("nan")
    cells = CellTable(np.arange(6.0), np.arange(6.0), np.array([0, 1, 1, 0, 0, 0], np.int8),  # positive, negative
                      {"intensity_bin": np.array([2, 0, 0, 1, 1, 1]),
                       "melanocytic": np.array([1.0, 1.0, 0.0, nan, nan, nan])})
    _, m = ki67_of_edits(cells)
    assert m["melanocytic_denominator"] == 2
    assert m["melanocytic_index_pct"] == 50.0
