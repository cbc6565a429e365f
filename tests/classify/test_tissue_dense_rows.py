"""``scripts/train_tissue_model.py --dense-tiles`` (#13, session 37): the generated tiles where dense eosinophilic
necrosis and collagen share one eosin level give necrosis, stroma and tumour rows of their own source ``dense``,
labelled from the generator's masks, after the clefted rows, and the model card's attribution names the generator
only when the option is on."""

from __future__ import annotations

import numpy as np


def test_dense_rows_come_from_their_generator_after_the_clefted_rows(project_module, tmp_path, monkeypatch) -> None:
    tr = project_module("scripts/train_tissue_model.py")
    monkeypatch.setattr(tr.recipe, "CLEFTED_SEEDS", (1601,))
    monkeypatch.setattr(tr.recipe, "DENSE_SEEDS", (1700,))
    monkeypatch.setattr(tr.recipe, "AUG", {**tr.AUG, "clefted": 0, "dense": 0})
    rows, out = tmp_path / "rows.npz", tmp_path / "never.mmnst"
    assert tr.main(["--dense-tiles", "--clefted-tiles", "--extra-only", "--rows", "200", "--save-rows", str(rows),
                    "--out", str(out)]) == 0
    assert not out.exists()
    with np.load(rows, allow_pickle=False) as z:
        src, y = z["source"], z["y"]
        assert src.tolist() == sorted(src.tolist(), key=["clefted", "dense"].index)
        assert set(z["image"][src == "dense"].tolist()) == {"seed1700"}
        dense_y = y[src == "dense"]
        for name in ("necrosis", "stroma", "tumour"):
            assert (dense_y == tr.CLASSES.index(name)).sum() > 10, name
        assert not np.isin(dense_y, [tr.CLASSES.index(c) for c in ("inflammatory", "fat", "mucin", "blood")]).any()
    on = tr.parser().parse_args(["--dense-tiles", "--out", str(out)])
    off = tr.parser().parse_args(["--out", str(out)])
    entry = next(a["dataset"] for a in tr.ATTRIBUTION if "he_dense_necrosis_tile" in a["dataset"])
    assert tr._uses(entry, on)
    assert not tr._uses(entry, off)
