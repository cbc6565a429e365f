"""cells.parquet: the cell table with its own types, readable by pandas, equal to cells.csv."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from mmnst_path import synthetic
from mmnst_path.aggregate import CELL_TYPES
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.report import cells_csv_text, write_result


def test_parquet_equals_csv_and_names_classes_and_cell_types(tmp_path):
    t = synthetic.ki67_pigment_tile(7, size=320, pigmented_cells=0.0, positive_fraction=0.3)
    result = analyze_region(t.rgb, AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]}), mpp=t.mpp)
    assert len(result.cells) > 50
    paths = write_result(result, tmp_path / "out", outputs=("cells", "parquet"))
    pq = pd.read_parquet(paths["parquet"])
    csv = pd.read_csv(io.StringIO(cells_csv_text(result.cells)))
    assert list(pq.columns) == list(csv.columns)
    assert len(pq) == len(csv) == len(result.cells)
    np.testing.assert_allclose(pq["x"], csv["x"], atol=0.006)
    assert (pq["class"].astype(str) == csv["class"]).all()
    assert (pq["cell_type"].astype(str) == csv["cell_type"]).all()
    assert set(pq["cell_type"].astype(str)) <= set(CELL_TYPES)
    assert set(pq["class"].astype(str)) <= {"positive", "negative", "pigment", "excluded"}
    np.testing.assert_allclose(pq["area_um2"], csv["area_um2"], rtol=1e-4)
    assert pq["intensity_bin"].dtype.kind in "iu"
    assert paths["parquet"].stat().st_size < paths["cells"].stat().st_size


def test_empty_cell_table_writes_a_readable_parquet(tmp_path):
    rgb = np.full((128, 128, 3), 240, np.uint8)
    result = analyze_region(rgb, AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]}), mpp=0.5)
    paths = write_result(result, tmp_path / "o", outputs=("parquet",))
    assert len(pd.read_parquet(paths["parquet"])) == 0
