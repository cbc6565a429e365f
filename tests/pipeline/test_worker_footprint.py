"""What a tile run loads into a worker process: no GUI, training or dataframe libraries."""

from __future__ import annotations

import json
import subprocess
import sys

#: Top-level modules a worker analysing tiles never needs (the napari plugin, Qt, Dask's
#: scheduler, training with scikit-learn, plotting, dataframes): each would cost tens of MiB
#: of resident memory in every worker process.
NOT_IN_A_WORKER = ("napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "dask", "distributed",
                   "sklearn", "matplotlib", "pandas", "torch")

_CODE = """
import json, sys
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.pipeline._warmup import _tile
from mmnst_path.pipeline._worker import warm_up
cfg = AnalysisConfig(measures=("ki67", "melanin"), stains="H-DAB")
warm_up(cfg)  # what a pool worker runs first
analyze_region(_tile("dab", 0.5, 0), cfg, mpp=0.5)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_an_h_dab_tile_run_imports_no_gui_training_or_dataframe_library():
    out = subprocess.run([sys.executable, "-c", _CODE], check=True, capture_output=True, text=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert {"mmnst_path", "numpy"} <= loaded  # (the run itself happened)
    assert sorted(loaded & set(NOT_IN_A_WORKER)) == []
