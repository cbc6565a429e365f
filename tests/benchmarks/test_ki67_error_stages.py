"""The Ki67 error split by stage (benchmarks/accuracy.py, benchmarks/eval_ki67_cells.py)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def accuracy():
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    import accuracy

    return accuracy


def test_stage_costs_add_up_to_the_index_error(accuracy) -> None:
    # 6 annotated nuclei: 3 positive, 3 negative (true index 50 %) plus one unmatched negative annotation;
    # the detector finds 6; the cell model excludes one positive; one negative reads positive; one
    # counted detection is a lymphocyte
    gt_lab = np.array(["positive", "positive", "positive", "negative", "negative", "negative", "lymphocyte"])
    det_cls = np.array(["positive", "positive", "excluded", "positive", "negative", "negative", "negative"])
    true_idx = 100 * 3 / 7  # one more negative annotated and not detected
    meas_idx = 100 * 3 / 6
    c = accuracy.stage_costs(true_idx, gt_lab, det_cls, meas_idx)
    assert math.isclose(c["cost_det"], 50.0 - true_idx)
    assert math.isclose(c["cost_excl"], 100 * 2 / 5 - 50.0)  # kept tumour: 2 positive, 3 negative
    assert math.isclose(c["cost_pos"], 100 * 3 / 5 - 100 * 2 / 5)  # measured: 3 positive of 5
    assert math.isclose(c["cost_keep"], meas_idx - 60.0)
    assert math.isclose(sum(c.values()), meas_idx - true_idx)


def test_generated_tile_decomposition_is_consistent(accuracy) -> None:
    import eval_ki67_cells

    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    tile = ki67_cells_tile(1, size=256, positive_fraction=0.5, weak_share=0.5)
    res = eval_ki67_cells.evaluate_tile(tile, "none")
    ix = res["index"]
    assert math.isclose(ix["true"], tile.truth["ki67_index_pct"])
    tumour = res["truth"]["cell_type"] == "tumour"
    assert res["detected"][tumour].mean() > 0.9  # the generated tumour nuclei are found
    weak = tumour & (res["truth"]["grade"] == "weak")
    strong = tumour & (res["truth"]["grade"] == "strong")
    assert res["read_pos"][strong].mean() > res["read_pos"][weak].mean()
    assert ix["meas"] == pytest.approx(ix["none"])  # without a cell model both runs count the same nuclei
