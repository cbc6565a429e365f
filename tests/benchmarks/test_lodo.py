"""benchmarks/lodo.py --quick: a leave-one-source-out variant really trains without its source."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT.parent / "shared" / "train"


@pytest.fixture(scope="module")
def lodo():
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    import lodo

    return lodo


def test_site_groups_and_pigment_groups(lodo) -> None:
    assert lodo._site("TCGA-A8-A099-01Z-00-DX1_29501_22501_1000_1000_0.93.png") == "A8"
    assert lodo._site("TCGA-OL-A5RW-01Z-00-DX1_1_2_3.png") == "other"
    groups = lodo.pigment_groups({"gen:dusty", "gen:none", "real:kather", "real:endonuke"})
    assert groups["real-all"] == ("real:endonuke", "real:kather")
    assert groups["dusty"] == ("gen:dusty",)
    assert groups["kather"] == ("real:kather",)


@pytest.mark.slow
def test_quick_nucleus_leave_one_site_out(lodo, tmp_path: Path, shared_data: Path) -> None:
    if not TRAIN.is_dir():
        pytest.fail(f"shared training data not found at {TRAIN}")
    assert lodo.main(["--quick", "--models", "nucleus", "--variants", "A8", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "lodo_nucleus.json").read_text())["results"]
    assert list(res) == ["shipped", "full", "-A8"]
    assert res["-A8"]["left_out"] == ["brca:A8"]
    # the variant's model was trained on the full rows minus every A8 row
    cache = next((tmp_path / "cache").glob("nucleus-*.npz"))
    with np.load(cache) as z:
        train = ~z["held"]
        n_a8 = int((train & (z["source"] == "brca:A8")).sum())
    assert n_a8 > 0
    assert res["-A8"]["n_train"] == res["full"]["n_train"] - n_a8
    from mmnst_path.classify import load_model

    model = load_model(tmp_path / "models" / "nucleus_A8.mmnst", kind="nucleus")
    assert sum(model.card["training_counts"].values()) == res["-A8"]["n_train"]
    # per-dataset validation figures: a finite index MAE for every research set
    for variant in res.values():
        assert set(variant["val"]) == {"bcdata", "shidc", "deepliif"}
        assert all(math.isfinite(float(cell.split(" / ")[0])) for cell in variant["val"].values())
    table = (tmp_path / "lodo_nucleus.md").read_text()
    a8_row = next(line for line in table.splitlines() if line.startswith("| -A8 |"))
    assert a8_row.count("**") == 2  # the left-out source's held-out cell is marked
    overlays = sorted((tmp_path / "overlays").glob("nucleus_*.png"))
    assert len(overlays) == 3
