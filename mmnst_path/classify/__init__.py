"""Learned classifiers: nucleus (cell) classes and tissue classes from features, as portable models.

One machinery for every kind: features (:mod:`.nucleus_features`) -> forest (:mod:`._forest`,
numpy-only inference) -> class probabilities; models are pickle-free files with a model card
(:mod:`.model`); training (:mod:`.train`) needs scikit-learn. Default models ship as package data
(:func:`default_model_path`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ._forest import Forest
from .model import ClassifierModel, ClassSpec, FeatureSpec, load_model
from .nucleus_features import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features
from .tissue import TissueMap, classify_tissue
from .tissue_features import TissueFeatureSettings, tissue_feature_specs

__all__ = [
    "SHIPPED_MODELS",
    "ClassSpec",
    "ClassifierModel",
    "FeatureSpec",
    "Forest",
    "NucleusFeatureSettings",
    "TissueFeatureSettings",
    "TissueMap",
    "classify_tissue",
    "default_model_path",
    "is_ihc_stains",
    "load_model",
    "models_dir",
    "nucleus_feature_specs",
    "nucleus_features",
    "resolve_model",
    "shipped_model_path",
    "tissue_feature_specs",
]

_DEFAULTS = {"nucleus": "nucleus_default.mmnst", "tissue": "tissue_default.mmnst"}
#: Default tissue model of hematoxylin + chromogen (IHC) stain matrices: no eosin plane.
_TISSUE_IHC_DEFAULT = "tissue_ihc_default.mmnst"
_CHROMOGENS = ("dab", "aec", "fast_red")
#: Every model file shipped in ``mmnst_path/models`` and what the default pipeline uses it for
#: (``mmnst-path models list``; ``models show NAME`` prints its card).
SHIPPED_MODELS = {
    "nucleus_default.mmnst": "Ki67 cell classifier (tumour / lymphocyte / stromal), hematoxylin + DAB",
    "nucleus_red.mmnst": "Ki67 cell classifier (tumour / lymphocyte / stromal), hematoxylin + AEC / Fast Red",
    "tissue_default.mmnst": "tissue classes and necrosis, H&E",
    "tissue_ihc_default.mmnst": "tumour region (count_in = tumour), hematoxylin + DAB / AEC / Fast Red",
    "pigment_dab.mmnst": "melanin pixels, hematoxylin + DAB",
    "pigment_dab_bodies.mmnst": "melanin or DAB-positive nucleus, per nucleus-sized brown body, hematoxylin + DAB",
    "pigment_default.mmnst": "melanin pixels, red chromogens (AEC, Fast Red)",
    "pigment_he.mmnst": "melanin pixels, H&E",
    "pigment_azure.mmnst": "melanin pixels inside the azure rules' Ki67 exclusion mask, DAB + azure B counterstain",
    "pigment_gate.mmnst": "could a tile hold melanin (per-tile gate before the pigment pixel model); opt-in: pigment.gate = 'default'",
    "hidden_nuclei_dab.mmnst": "nucleus hidden under melanin (unassessable), hematoxylin + DAB; opt-in: ki67.hidden_model = 'default'",
    "pigment_cells_dab.mmnst": "nucleus beside or under melanin: negative / positive / hidden, hematoxylin + DAB (ki67.pigment_cell_model)",
    "intact_nuclei_he.mmnst": "nucleus candidate intact or a ghost, for the necrosis veto, H&E (necrosis.intact_model)",
    "double_nuclear_marker.mmnst": ("nucleus stromal or melanocytic, Ki67 negative or positive, Ki67 / SOX10 double "
                                    "stains (Fast Red, AEC; used with a nuclear marker)"),
}


def models_dir() -> Path:
    """The folder of the shipped model files; every module that reads a shipped
    model file finds it here (:func:`mmnst_path._models_dir.models_dir`, which the stain-guess models read too)."""
    from .. import _models_dir

    return _models_dir.models_dir()


def shipped_model_path(name: str) -> Path | None:
    """Path of a shipped model named by its file name, with or without ``.mmnst`` (None if no such file)."""
    stem = name.strip()
    path = models_dir() / (stem if stem.endswith(".mmnst") else f"{stem}.mmnst")
    return path if path.name in SHIPPED_MODELS and path.is_file() else None


def is_ihc_stains(stains: Any) -> bool:
    """True when a stain matrix (or preset name) is hematoxylin + a chromogen (DAB, AEC, Fast Red) without eosin."""
    from ..stain import StainMatrix, load_stains

    matrix = stains if isinstance(stains, StainMatrix) else load_stains(stains)
    names = tuple(matrix.names)
    return "eosin" not in names and any(c in names for c in _CHROMOGENS)


def default_model_path(kind: str, stains: Any = None) -> Path:
    """Path of the shipped default model of ``kind`` (``"nucleus"`` or ``"tissue"``).

    For ``"tissue"`` the model follows the stains: the H&E model (``tissue_default.mmnst``) for
    H&E or ``stains=None``, the IHC model (``tissue_ihc_default.mmnst``, hematoxylin + DAB
    features) for hematoxylin-DAB / AEC / Fast Red matrices (:func:`is_ihc_stains`).
    """
    from ..errors import ConfigError

    if kind not in _DEFAULTS:
        msg = f"no default {kind!r} model; known kinds: {sorted(_DEFAULTS)}"
        raise ConfigError(msg)
    name = _DEFAULTS[kind]
    if kind == "tissue" and stains is not None and is_ihc_stains(stains):
        name = _TISSUE_IHC_DEFAULT
    return models_dir() / name


def resolve_model(spec: str, kind: str, stains: Any = None) -> ClassifierModel | None:
    """The model a config names: ``"default"`` (shipped), ``"none"`` (None) or a file path.

    ``stains`` chooses among the shipped defaults (see :func:`default_model_path`). Loaded once
    per process and file version (path, size, mtime), so tile workers read it once.
    """
    text = str(spec).strip()
    if text.lower() == "none":
        return None
    path = default_model_path(kind, stains) if text.lower() == "default" else Path(text).expanduser()
    try:
        st = path.stat()
    except OSError as exc:
        msg = f"{kind} model {str(path)!r} does not exist or cannot be read ({exc.strerror})"
        raise FileNotFoundError(msg) from exc
    return _load_cached(_resolved(str(path), st.st_dev, st.st_ino), st.st_size, st.st_mtime_ns, kind)


@lru_cache(maxsize=64)
def _resolved(path: str, dev: int, ino: int) -> str:
    """``str(Path(path).resolve())``, once per path and the file it names (device, inode): a tile
    asks for its models ~20 times and ``Path.resolve`` costs ~50 µs a call; a path that comes to
    name another file (a moved symlink, another working directory) is resolved again."""
    return str(Path(path).resolve())


@lru_cache(maxsize=8)
def _load_cached(path: str, size: int, mtime_ns: int, kind: str) -> ClassifierModel:
    return load_model(path, kind=kind)
