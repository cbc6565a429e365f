"""``scripts/train_tissue_model.py --matrix-tiles / --clefted-tiles`` (#13, session 24): the generated tiles with dense
pink stromal matrix and with clefted coarse collagen give stroma rows of their own sources, labelled from the
generator's masks, after the oedema rows and in the order matrix then clefted, and the model card's attribution
names each only when its option is on."""

from __future__ import annotations

import numpy as np


def test_matrix_and_clefted_rows_come_from_their_generators(project_module, tmp_path, monkeypatch) -> None:
    tr = project_module("scripts/train_tissue_model.py")
    monkeypatch.setattr(tr.recipe, "OEDEMA_SEEDS", (1401,))
    monkeypatch.setattr(tr.recipe, "MATRIX_SEEDS", (1500,))
    monkeypatch.setattr(tr.recipe, "CLEFTED_SEEDS", (1601,))
    monkeypatch.setattr(tr.recipe, "AUG", {**tr.AUG, "oedema": 0, "matrix": 0, "clefted": 0})
    rows, out = tmp_path / "rows.npz", tmp_path / "never.mmnst"
    assert tr.main(["--clefted-tiles", "--matrix-tiles", "--oedema-tiles", "--extra-only", "--rows", "200",
                    "--save-rows", str(rows), "--out", str(out)]) == 0
    assert not out.exists()
    stroma = tr.CLASSES.index("stroma")
    with np.load(rows, allow_pickle=False) as z:
        src, y = z["source"], z["y"]
        assert src.tolist() == sorted(src.tolist(), key=["oedema", "matrix", "clefted"].index)
        assert set(z["image"][src == "matrix"].tolist()) == {"seed1500"}
        assert set(z["image"][src == "clefted"].tolist()) == {"seed1601"}
        for kind in ("matrix", "clefted"):
            assert (y[src == kind] == stroma).sum() > 20
    on = tr.parser().parse_args(["--matrix-tiles", "--clefted-tiles", "--out", str(out)])
    only_matrix = tr.parser().parse_args(["--matrix-tiles", "--out", str(out)])
    off = tr.parser().parse_args(["--out", str(out)])
    for key in ("matrix_stroma", "clefted_stroma"):
        entry = next(a["dataset"] for a in tr.ATTRIBUTION if key in a["dataset"])
        assert tr._uses(entry, on)
        assert not tr._uses(entry, off)
        assert tr._uses(entry, only_matrix) == (key == "matrix_stroma")
