"""Rows written by ``scripts/train_tissue_model.py --save-rows`` (#13, session 22): every row names its image (so a
dev fit can leave images out) and carries the share of its block that its class covers (so that the pure rows of a
``--min-share 0.5`` extraction can be told from its border rows); ``--rows-npz A B`` trains on both files."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.classify import load_model

LONG = "TCGA-XX-XXXX-01Z-00-DX1_a_very_long_patch_name_of_sixty_eight_chars.png"


def _fake_sources(tr):
    tile = synthetic.he_necrosis_tile(3, size=160, mpp=0.5).rgb  # 8 µm blocks = 16 px: a 10 x 10 grid
    tumour, necrosis = tr.CLASSES.index("tumour"), tr.CLASSES.index("necrosis")
    label = np.full(tile.shape[:2], tumour, np.int64)
    label[:, 100:] = necrosis  # block column 6: 4 px tumour, 12 px necrosis (share 0.75)

    def sources(train, osteo, **_kw):
        yield "fake", "tile_named", tile, 0.5, "tumour", False
        yield "fake", LONG, tile, 0.5, label, False
        yield "fake", "held_tile", tile, 0.5, label, True

    return sources, label


#: a small fit: no sample recipe, no augmented copies, 2 shallow trees
COMMON = ["--held-out-recipe", "--aug", "0", "--rows", "1000", "--trees", "2", "--depth", "3", "--leaf", "1"]


@pytest.fixture
def faked(project_module, monkeypatch):
    """The training script with :func:`_fake_sources` as its sources."""
    tr = project_module("scripts/train_tissue_model.py")
    sources, _ = _fake_sources(tr)
    monkeypatch.setattr(tr.recipe, "sources", sources)
    return tr


def test_saved_rows_name_their_image_and_block_share(faked, tmp_path) -> None:
    tr = faked
    rows = tmp_path / "rows.npz"
    assert tr.main([*COMMON, "--min-share", "0.5", "--save-rows", str(rows), "--out", str(tmp_path / "a.mmnst")]) == 0
    with np.load(rows, allow_pickle=False) as z:
        image, share, y, held = z["image"], z["share"], z["y"], z["held"]
        assert "level" not in z.files  # per-row reference levels only with --image-reference
    # 6 synthetic seeds first (he_necrosis_tile, as the recipe), then the fake images in their order
    names = [str(v) for v in dict.fromkeys(image.tolist())]
    assert names[-3:] == ["tile_named", LONG, "held_tile"]  # the 68-character name is not cut
    assert held[image == "held_tile"].all()
    assert not held[image != "held_tile"].any()
    long_rows = image == LONG
    assert long_rows.sum() == 100  # all 10 x 10 blocks: 90 pure, the border column at its majority's share
    assert np.sort(share[long_rows])[:10].tolist() == [0.75] * 10
    assert (share[long_rows][y[long_rows] == tr.CLASSES.index("necrosis")] >= 0.75).all()
    assert (share[image == "tile_named"] == 1.0).all()
    assert ((share >= tr.PURE_SHARE) | (share == 0.75))[long_rows].all()


def test_rows_npz_with_several_files_trains_on_all_their_rows(faked, tmp_path) -> None:
    tr = faked
    rows = tmp_path / "rows.npz"
    tr.main([*COMMON, "--save-rows", str(rows), "--out", str(tmp_path / "a.mmnst")])
    with np.load(rows, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    # a second file: the rows of the named tile only, as another source (an extra generated source)
    extra = arrays["image"] == "tile_named"
    second = tmp_path / "extra.npz"
    np.savez(second, **{k: (v[extra] if v.ndim and len(v) == len(extra) else v) for k, v in arrays.items()}
             | {"source": np.full(int(extra.sum()), "extra_src")})
    merged = tmp_path / "merged.npz"
    tr.main([*COMMON, "--rows-npz", str(rows), str(second), "--save-rows", str(merged),
             "--out", str(tmp_path / "b.mmnst")])
    with np.load(merged, allow_pickle=False) as z:
        n = len(arrays["y"])
        np.testing.assert_array_equal(z["x"], np.concatenate([arrays["x"], arrays["x"][extra]]))
        np.testing.assert_array_equal(z["y"], np.concatenate([arrays["y"], arrays["y"][extra]]))
        assert z["source"][n:].tolist() == ["extra_src"] * int(extra.sum())
        # the image names and block shares travel with the rows
        np.testing.assert_array_equal(z["image"], np.concatenate([arrays["image"], arrays["image"][extra]]))
        np.testing.assert_array_equal(z["share"], np.concatenate([arrays["share"], arrays["share"][extra]]))
    card = load_model(tmp_path / "b.mmnst").card
    assert sum(card["training_counts"].values()) == int((~arrays["held"]).sum() + extra.sum())
    assert "training_block_share" not in card  # pure rows only
    assert "min-share" not in card["version"]


def test_a_fit_from_cached_border_rows_says_so_in_its_card(faked, tmp_path) -> None:
    tr = faked
    rows = tmp_path / "rows.npz"
    tr.main([*COMMON, "--min-share", "0.5", "--save-rows", str(rows), "--out", str(tmp_path / "a.mmnst")])
    assert "0.75" in load_model(tmp_path / "a.mmnst").card["training_block_share"]
    # --min-share is refused with --rows-npz; the card reads the border rows from the file's shares instead
    tr.main([*COMMON, "--rows-npz", str(rows), "--out", str(tmp_path / "b.mmnst")])
    card = load_model(tmp_path / "b.mmnst").card
    assert "0.75" in card["training_block_share"]
    assert "min-share" in card["version"]


def test_extra_only_writes_the_wavy_rows_alone_and_fits_nothing(project_module, tmp_path, monkeypatch) -> None:
    tr = project_module("scripts/train_tissue_model.py")
    sources, label = _fake_sources(tr)
    monkeypatch.setattr(tr.recipe, "sources", sources)
    tile = synthetic.he_necrosis_tile(3, size=160, mpp=0.5).rgb

    def wavy():
        yield "wavy", "seed1200", tile, 0.5, label, False

    monkeypatch.setattr(tr.recipe, "wavy_sources", wavy)
    rows, out = tmp_path / "wavy.npz", tmp_path / "never.mmnst"
    assert tr.main(["--wavy-tiles", "--extra-only", "--min-share", "0.5", "--rows", "1000", "--save-rows", str(rows),
                    "--out", str(out)]) == 0
    assert not out.exists()
    with np.load(rows, allow_pickle=False) as z:
        assert set(z["source"].tolist()) == {"wavy"}
        assert set(z["image"].tolist()) == {"seed1200"}
        # the original (every one of its 10 x 10 blocks a row) first, then its two augmented copies (other pixel sizes)
        assert len(z["y"]) > 2 * 100
        assert (z["share"][:100] == 0.75).sum() == 10  # --min-share reaches the extra source: its border column
    with pytest.raises(SystemExit, match="--extra-only"):
        tr.main(["--extra-only", "--save-rows", str(rows), "--out", str(out)])  # no extra source asked for


def test_recipe_border_adds_every_border_block_of_the_recipe_originals_k_times(project_module, tmp_path,
                                                                                monkeypatch) -> None:
    tr = project_module("scripts/train_tissue_model.py")
    _, label = _fake_sources(tr)
    tile = synthetic.he_necrosis_tile(3, size=160, mpp=0.5).rgb

    def recipe():
        yield "sample_recipe", "seed600", tile, 0.5, label, False

    monkeypatch.setattr(tr.recipe, "_sample_recipe_tiles", recipe)
    rows = tmp_path / "rb.npz"
    assert tr.main(["--recipe-border", "3", "--extra-only", "--save-rows", str(rows),
                    "--out", str(tmp_path / "never.mmnst")]) == 0
    with np.load(rows, allow_pickle=False) as z:
        assert set(z["source"].tolist()) == {"recipe_border"}
        assert len(z["y"]) == 3 * 10  # the border column's 10 blocks (necrosis, share 0.75), three times
        assert (z["y"] == tr.CLASSES.index("necrosis")).all()
        assert (z["share"] == 0.75).all()
        np.testing.assert_array_equal(z["x"][:10], z["x"][10:20])
    with pytest.raises(SystemExit, match="--recipe-border"):
        tr.main(["--recipe-border", "30", "--out", str(tmp_path / "never.mmnst")])
