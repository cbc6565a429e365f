"""``scripts/train_tissue_model.py --rim-tiles / --oedema-tiles`` (#13, session 23): the generated tiles with irregular
necrosis borders and with oedematous stroma give rows of their own sources, labelled from the generator's masks, in
the order rim then oedema, and the model card's attribution names them."""

from __future__ import annotations

import numpy as np


def test_rim_and_oedema_rows_come_from_their_generators(project_module, tmp_path, monkeypatch) -> None:
    tr = project_module("scripts/train_tissue_model.py")
    monkeypatch.setattr(tr.recipe, "RIM_SEEDS", (1300,))
    monkeypatch.setattr(tr.recipe, "OEDEMA_SEEDS", (1401,))
    monkeypatch.setattr(tr.recipe, "AUG", {**tr.AUG, "rim": 0, "oedema": 0})
    rows, out = tmp_path / "rows.npz", tmp_path / "never.mmnst"
    assert tr.main(["--rim-tiles", "--oedema-tiles", "--extra-only", "--rows", "200", "--save-rows", str(rows),
                    "--out", str(out)]) == 0
    assert not out.exists()
    necrosis, stroma = tr.CLASSES.index("necrosis"), tr.CLASSES.index("stroma")
    with np.load(rows, allow_pickle=False) as z:
        src, y = z["source"], z["y"]
        assert src.tolist() == sorted(src.tolist(), key=["rim", "oedema"].index)  # rim rows first
        assert set(z["image"][src == "rim"].tolist()) == {"seed1300"}
        assert set(z["image"][src == "oedema"].tolist()) == {"seed1401"}
        assert (y[src == "rim"] == necrosis).sum() > 20  # seed 1300: a geographic necrosis
        assert (y[src == "oedema"] == stroma).sum() > 20
    # the model card's attribution names the sources when their options are on, and only then
    on = tr.parser().parse_args(["--rim-tiles", "--oedema-tiles", "--out", str(out)])
    off = tr.parser().parse_args(["--out", str(out)])
    for key in ("_synthetic_rim", "_synthetic_oedema"):
        entry = next(a["dataset"] for a in tr.ATTRIBUTION if key in a["dataset"])
        assert tr._uses(entry, on)
        assert not tr._uses(entry, off)
