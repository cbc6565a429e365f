"""The red-chromogen denominator check (benchmarks/eval_red_chromogens.py --cells): generated tumour
nests in stroma with lymphocytes, their DAB swapped for AEC, counted with and without a cell model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def red():
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    import eval_red_chromogens

    return eval_red_chromogens


def test_denominator_counts_stroma_without_a_cell_model(red):
    none = red.cells_one(1, "aec", size=256, cell_model="none")
    model = red.cells_one(1, "aec", size=256, cell_model=str(ROOT / "mmnst_path" / "models" / "nucleus_default.mmnst"))
    assert none["n_other"] > 20  # the tile has stroma / lymphocytes in its truth
    assert none["n_tumour"] > 10
    # no model: most non-tumour nuclei enter the denominator; with one, few do
    assert none["counted_other"] > 0.6 * none["n_other"]
    assert model["counted_other"] < 0.2 * model["n_other"]
    assert abs(model["counted_total"] / model["n_tumour"] - 1) < abs(none["counted_total"] / none["n_tumour"] - 1)
    table = red.summarise_cells([none])
    assert "| aec | 1 |" in table
