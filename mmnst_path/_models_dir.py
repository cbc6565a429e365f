"""The folder of the shipped model files (``mmnst_path/models``), below every layer of the package so that
:mod:`mmnst_path.stain` (the stain-guess models) and :mod:`mmnst_path.classify` (the classifiers) find their
files in one place; :func:`mmnst_path.classify.models_dir` calls :func:`models_dir`, so pointing this one
function elsewhere (a test, a packager) moves every shipped model path."""

from __future__ import annotations

from pathlib import Path

__all__ = ["MODELS_DIR", "models_dir"]

#: The shipped model files.
MODELS_DIR = Path(__file__).resolve().parent / "models"


def models_dir() -> Path:
    """The folder of the shipped model files."""
    return MODELS_DIR
