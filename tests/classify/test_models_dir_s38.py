"""One helper names the folder of the shipped model files (session 38 H5).

``mmnst_path.cli._stain_models`` had its own ``_models_dir`` beside :func:`mmnst_path.classify.models_dir`,
and the stain-guess and pigment-gate loaders each built the same path again. Every shipped-model path now
comes from :func:`mmnst_path.classify.models_dir`: pointing it elsewhere moves all of them.

Mutation caught: any of these modules building ``.../models`` itself again (its path stays in the package).
"""

from __future__ import annotations

from pathlib import Path

import pytest


def _shipped_paths() -> dict[str, Path]:
    from mmnst_path.classify._pigment_gate import default_gate_model_path
    from mmnst_path.cli._stain_models import STAIN_MODELS, _resolve
    from mmnst_path.stain import chromogen_model, dab_bodies, he_model

    paths = {
        "he_model": he_model.shipped_path(),
        "chromogen_model": chromogen_model.shipped_path(),
        "dab_bodies": dab_bodies.dab_model_path(),
        "pigment_gate": default_gate_model_path(),
    }
    for name in STAIN_MODELS:
        resolved = _resolve(Path(name).stem)
        assert resolved is not None
        paths[f"models list {name}"] = resolved[0]
    return paths


def test_every_shipped_model_path_is_in_the_one_models_folder():
    from mmnst_path.classify import models_dir

    folder = models_dir()
    assert folder.name == "models"
    assert (folder / "nucleus_default.mmnst").is_file()
    for what, path in _shipped_paths().items():
        assert path.parent == folder, what
        assert path.is_file(), what


def test_pointing_the_helper_elsewhere_moves_every_shipped_model_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from mmnst_path import _models_dir

    monkeypatch.setattr(_models_dir, "models_dir", lambda: tmp_path)
    for what, path in _shipped_paths().items():
        assert path.parent == tmp_path, what
