"""``classify.model.model_file``: the one place a model setting's name becomes a file (shipped name or path)."""

from __future__ import annotations

import pytest

from mmnst_path.classify.model import MODELS_DIR, model_file
from mmnst_path.errors import ConfigError


def test_a_shipped_name_a_path_and_a_missing_file(tmp_path):
    shipped = {"default": "intact_nuclei_he.mmnst"}
    assert model_file("default", shipped, param="NecrosisParams.intact_model") == MODELS_DIR / "intact_nuclei_he.mmnst"
    own = tmp_path / "mine.mmnst"
    own.write_bytes(b"x")
    assert model_file(str(own), shipped, param="NecrosisParams.intact_model") == own
    with pytest.raises(ConfigError, match=r"^NecrosisParams\.intact_model: no model file '.*nothere\.mmnst'"):
        model_file(str(tmp_path / "nothere.mmnst"), shipped, param="NecrosisParams.intact_model")
    with pytest.raises(ConfigError, match=r"Ki67Params\.hidden_model: no model file 'other'"):
        model_file("other", shipped, param="Ki67Params.hidden_model")


def test_a_home_relative_path_is_expanded_as_the_other_model_settings_do(tmp_path, monkeypatch):
    """``~/mine.mmnst`` names the file in the home folder (``tissue_model`` and the pigment models read it so;
    before session 36 H16 the three settings of ``model_file`` said "no model file '~/mine.mmnst'")."""
    monkeypatch.setenv("HOME", str(tmp_path))
    own = tmp_path / "mine.mmnst"
    own.write_bytes(b"x")
    assert model_file("~/mine.mmnst", {"default": "intact_nuclei_he.mmnst"}, param="NecrosisParams.intact_model") == own
    with pytest.raises(ConfigError, match=r"NecrosisParams\.intact_model: no model file '.*nothere\.mmnst'"):
        model_file("~/nothere.mmnst", {}, param="NecrosisParams.intact_model")


def test_a_truncated_model_file_is_called_truncated_and_other_bytes_not_a_model(tmp_path):
    """A copy cut short keeps the zip's first entry but loses the directory at its end: the message says so
    (session 37 H7's N7: it read "not an mmnst_path model file")."""
    from mmnst_path.classify import load_model
    from mmnst_path.errors import CorruptFileError

    data = (MODELS_DIR / "intact_nuclei_he.mmnst").read_bytes()
    cut = tmp_path / "cut.mmnst"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match=r"cut\.mmnst.*truncated or damaged") as info:
        load_model(cut)
    assert "\n" not in str(info.value)
    other = tmp_path / "other.mmnst"
    other.write_bytes(b"{\"not\": \"a model\"}")
    with pytest.raises(CorruptFileError, match="not an mmnst_path model file"):
        load_model(other)
    empty = tmp_path / "empty.mmnst"
    empty.write_bytes(b"")
    with pytest.raises(CorruptFileError, match=r"empty\.mmnst.*empty file \(0 bytes"):
        load_model(empty)
