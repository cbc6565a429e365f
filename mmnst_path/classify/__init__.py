"""Learned classifiers: nucleus (cell) classes and tissue classes from features, as portable models.

One machinery for every kind: features (:mod:`.nucleus_features`) -> forest (:mod:`._forest`,
numpy-only inference) -> class probabilities; models are pickle-free files with a model card
(:mod:`.model`); training (:mod:`.train`) needs scikit-learn. Default models ship as package data
(:func:`default_model_path`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ._forest import Forest
from .model import ClassifierModel, ClassSpec, FeatureSpec, load_model
from .nucleus_features import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features
from .tissue import TissueMap, classify_tissue
from .tissue_features import TissueFeatureSettings, tissue_feature_specs

__all__ = [
    "ClassSpec",
    "ClassifierModel",
    "FeatureSpec",
    "Forest",
    "NucleusFeatureSettings",
    "TissueFeatureSettings",
    "TissueMap",
    "classify_tissue",
    "default_model_path",
    "load_model",
    "nucleus_feature_specs",
    "nucleus_features",
    "resolve_model",
    "tissue_feature_specs",
]

_DEFAULTS = {"nucleus": "nucleus_default.mmnst", "tissue": "tissue_default.mmnst"}


def default_model_path(kind: str) -> Path:
    """Path of the shipped default model of ``kind`` (``"nucleus"`` or ``"tissue"``)."""
    from ..errors import ConfigError

    if kind not in _DEFAULTS:
        msg = f"no default {kind!r} model; known kinds: {sorted(_DEFAULTS)}"
        raise ConfigError(msg)
    return Path(__file__).resolve().parent.parent / "models" / _DEFAULTS[kind]


def resolve_model(spec: str, kind: str) -> ClassifierModel | None:
    """The model a config names: ``"default"`` (shipped), ``"none"`` (None) or a file path.

    Loaded once per process and file version (path, size, mtime), so tile workers read it once.
    """
    text = str(spec).strip()
    if text.lower() == "none":
        return None
    path = default_model_path(kind) if text.lower() == "default" else Path(text).expanduser()
    try:
        st = path.stat()
    except OSError as exc:
        msg = f"{kind} model {str(path)!r} does not exist or cannot be read ({exc.strerror})"
        raise FileNotFoundError(msg) from exc
    return _load_cached(str(path.resolve()), st.st_size, st.st_mtime_ns, kind)


@lru_cache(maxsize=8)
def _load_cached(path: str, size: int, mtime_ns: int, kind: str) -> ClassifierModel:
    return load_model(path, kind=kind)
