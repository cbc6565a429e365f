"""The fixed EndoNuke split and the hard-negative rows of ``scripts/train_pigment_model.py`` (#14, session 28)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from _pigment_endonuke import endonuke_files, endonuke_split, mined_rows  # noqa: E402

from mmnst_path.classify.pigment import PigmentFeatureSettings, pigment_features  # noqa: E402
from mmnst_path.synthetic import pigment_family_tile  # noqa: E402


def _fake_train(tmp_path: Path, n_mixed: int = 12, n_stain: int = 5) -> Path:
    """A ``shared/train`` with blank EndoNuke-named PNGs (numbers sort as text: 10 before 2)."""
    for folder, n in (("mixed", n_mixed), ("staining_ds", n_stain)):
        d = tmp_path / "endonuke" / folder
        d.mkdir(parents=True)
        for i in range(n):
            Image.fromarray(np.full((4, 4, 3), 200, np.uint8)).save(d / f"{i}.png")
    return tmp_path


def test_split_every_fourth_sorted_file_is_val_and_a_third_of_the_rest_dev(tmp_path):
    train = _fake_train(tmp_path)
    split = endonuke_split(train)
    mixed = sorted(f"{i}.png" for i in range(12))  # 0, 1, 10, 11, 2, 3, ...
    parts = [split[f"endonuke/mixed/{n}"] for n in mixed]
    assert [n for n, p in zip(mixed, parts, strict=True) if p == "val"] == [mixed[3], mixed[7], mixed[11]]
    rest = [n for n, p in zip(mixed, parts, strict=True) if p != "val"]
    assert [n for n in rest if split[f"endonuke/mixed/{n}"] == "dev"] == [rest[2], rest[5], rest[8]]
    stain = [split[f"endonuke/staining_ds/{n}"] for n in sorted(f"{i}.png" for i in range(5))]
    assert stain == ["train", "train", "dev", "val", "train"]
    assert endonuke_split(train) == split  # fixed: the same every call


def test_files_of_a_part_never_hold_another_parts_tile(tmp_path):
    train = _fake_train(tmp_path)
    val = {p for p, _ in endonuke_files(train, ("val",))}
    fit = {p for p, _ in endonuke_files(train, ("train",))}
    dev = {p for p, _ in endonuke_files(train, ("dev",))}
    every = endonuke_files(train, None)
    assert not (val & fit)
    assert not (val & dev)
    assert not (fit & dev)
    assert val | fit | dev == {p for p, _ in every}
    assert len(every) == 17
    assert {m for p, m in every if p.parent.name == "staining_ds"} == {0.25}
    assert {m for p, m in every if p.parent.name == "mixed"} == {0.5}


def test_unknown_part_and_missing_folder_are_refused_by_name(tmp_path):
    train = _fake_train(tmp_path)
    with pytest.raises(ValueError, match="'test'"):
        endonuke_files(train, ("train", "test"))
    with pytest.raises(FileNotFoundError, match="staining_ds"):
        endonuke_split(_fake_train(tmp_path / "other", n_stain=0))


class _ThresholdModel:
    """A stand-in pixel model: P(melanin) = the pixel's ``log_od`` column mapped to 0-1."""

    class_names = ("background", "melanin")

    def __init__(self, names):
        self.features = [type("F", (), {"name": n})() for n in names]
        self.col = names.index("log_od")

    def predict_proba(self, x):
        p = np.clip(x[:, self.col] + 0.5, 0.0, 1.0)
        return np.stack([1.0 - p, p], axis=1)


def test_mined_rows_are_the_pixels_the_model_calls_melanin_darkest_first(tmp_path):
    tile = pigment_family_tile(3, "coarse", chromogen="dab", size=64)
    f = tmp_path / "t.png"
    Image.fromarray(tile.rgb).save(f)
    s = PigmentFeatureSettings()
    names = ["u_r", "u_b", "log_od", "grey"]
    model = _ThresholdModel(names)
    x, _ = pigment_features(tile.rgb, mpp=0.5, settings=s, names=names)
    p = model.predict_proba(x)[:, 1]
    called = int((p >= 0.5).sum())
    assert 10 < called < len(p)  # the stand-in calls some pixels, not all
    xm, tiles = mined_rows([(f, 0.5)], model, names, s, per_tile=10_000)
    assert tiles == 1
    assert len(xm) == called
    assert np.all(model.predict_proba(xm)[:, 1] >= 0.5)
    top, _ = mined_rows([(f, 0.5)], model, names, s, per_tile=5)
    np.testing.assert_array_equal(np.sort(top[:, 2]), np.sort(x[:, 2])[-5:])
    none, n = mined_rows([(f, 0.5)], model, names, s, per_tile=5, threshold=2.0)
    assert n == 0
    assert none.shape == (0, 4)


def test_training_script_reads_only_the_chosen_parts_and_every_tile_by_default(tmp_path, monkeypatch):
    import train_pigment_model as tpm

    train = _fake_train(tmp_path)
    every = [p for p, _ in tpm.real_files(train, ("dab",))]
    assert len(every) == 17  # as shipped: every EndoNuke tile, mixed first
    assert every == sorted(every[:12]) + sorted(every[12:])
    monkeypatch.setitem(tpm.ENDONUKE, "parts", ("train",))
    fit = [p for p, _ in tpm.real_files(train, ("dab",))]
    split = endonuke_split(train)
    assert fit
    assert all(split[f"endonuke/{p.parent.name}/{p.name}"] == "train" for p in fit)
    assert len(fit) == sum(v == "train" for v in split.values())


def test_mining_without_chosen_parts_is_refused_so_val_stays_held_out(monkeypatch, capsys):
    import train_pigment_model as tpm

    monkeypatch.setattr(sys, "argv", ["train_pigment_model.py", "--mine-endonuke", "600", "--out", "x.mmnst"])
    with pytest.raises(SystemExit) as exc:
        tpm.main()
    assert exc.value.code == 2
    assert "--mine-endonuke needs --endonuke-parts" in capsys.readouterr().err
