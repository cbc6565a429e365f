"""resolve_model resolves a model path once per file (#16: ~20 look-ups a tile), yet still follows a
path that comes to name another file."""

from __future__ import annotations

import shutil

import pytest

from mmnst_path.classify import models_dir, resolve_model


def test_repointed_symlink_loads_the_new_target(tmp_path):
    a = tmp_path / "a.mmnst"
    b = tmp_path / "b.mmnst"
    shutil.copy(models_dir() / "nucleus_default.mmnst", a)
    shutil.copy(models_dir() / "nucleus_red.mmnst", b)
    link = tmp_path / "current.mmnst"
    link.symlink_to(a)
    first = resolve_model(str(link), "nucleus")
    assert resolve_model(str(link), "nucleus") is first  # loaded once
    link.unlink()
    link.symlink_to(b)
    second = resolve_model(str(link), "nucleus")
    assert second is not None
    assert first is not None
    assert second.model_id != first.model_id
    assert second.model_id == resolve_model(str(b), "nucleus").model_id


def test_missing_model_still_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_model(str(tmp_path / "none_here.mmnst"), "nucleus")
