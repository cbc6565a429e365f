"""Lead's rerun of session 44 H6's gate 1 (api_auto_stains_rerun_rule_s44.md): H6's script, fresh inputs, the
batch-filled keys left out.

    PYTHONPATH=. python benchmarks/experiments/api_auto_stains_rerun_s44.py OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_auto_stains_s44 as gate

D = gate.DATA
gate.INPUTS = [
    (D / "ki67" / "bcdata" / "2.png", 0.25),
    (D / "ki67" / "shidc" / "p1_0299_1.jpg", 0.21),
    (D / "ki67" / "deepliif" / "6_2.png", 0.31),
    (D / "ki67" / "deepliif" / "34_3.png", 0.31),
    (D / "necrosis" / "Non-Viable-Tumor___Case-3-A12-19907-12559_113.jpg", 1.0),
    (D / "necrosis" / "Non-Tumor___Case-3-A17-7799-34542_102.jpg", 1.0),
    (D / "necrosis" / "Viable___Case-4-C27-32431-19828_114.jpg", 1.0),
    (D / "necrosis" / "Viable___Case-4-C28-27016-13463_105.jpg", 1.0),
]
gate.SKIP = {"seconds"} | gate.BATCH_KEYS

if __name__ == "__main__":
    out = Path(sys.argv[1])
    gate.run_cli(out / "cli")
    gate.run_api(out / "api_default.json", "default")
    sys.exit(gate.compare_cli(out / "cli", out / "api_default.json"))
