"""``mmnst-path models convert``: a model written in the expanded form (format version 2, what an mmnst_path from
before 2026-12-07 reads) or the compact one (3), with the same model id and predictions (session 41 H10's finding 11:
a lab could not share a model with a colleague on an older install)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from mmnst_path.classify import load_model, shipped_model_path
from mmnst_path.cli import main


def _format(path: Path) -> int:
    with np.load(path, allow_pickle=False) as npz:
        return int(json.loads(npz["header"].tobytes().decode("utf-8"))["format_version"])


def test_convert_a_shipped_model_to_the_expanded_form_and_back(tmp_path: Path) -> None:
    shipped = shipped_model_path("intact_nuclei_he")
    assert shipped is not None
    old = tmp_path / "old.mmnst"
    assert main(["models", "convert", "intact_nuclei_he", "--out", str(old)]) == 0
    assert _format(shipped) == 3
    assert _format(old) <= 2
    assert "left.npy" in zipfile.ZipFile(old).namelist()  # the expanded forest arrays
    a, b = load_model(shipped), load_model(old)
    assert a.model_id == b.model_id
    np.testing.assert_array_equal(a.forest.predict_proba(a.test_x), b.forest.predict_proba(a.test_x))
    back = tmp_path / "back.mmnst"
    assert main(["models", "convert", str(old), "--out", str(back), "--model-format", "3"]) == 0
    assert _format(back) == 3
    assert load_model(back).model_id == a.model_id
    assert back.stat().st_size < old.stat().st_size


def test_convert_a_missing_file_is_one_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["models", "convert", str(tmp_path / "nope.mmnst"), "--out", str(tmp_path / "x.mmnst")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("mmnst-path models convert: ")
    assert "\n" not in err
