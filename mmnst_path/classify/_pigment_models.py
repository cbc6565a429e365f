"""The pigment pixel models a run uses: the shipped model files, a model named by a spec, and the
model that stands for the shipped default on a stain system (issue #14).

Moved out of :mod:`mmnst_path.classify.pigment` (session 29, no behaviour change); every name
stays importable from there.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .model import ClassifierModel

__all__: list[str] = []


def default_pigment_model_path() -> Path:
    """Path of the shipped default pigment model (the models folder resolved once a process: the
    pipeline asks for the shipped pigment models several times a tile, ~0.1 ms a ``Path.resolve``)."""
    from . import models_dir

    return models_dir() / "pigment_default.mmnst"


def dab_pigment_model_path() -> Path:
    """Path of the shipped H-DAB pigment model (``PigmentParams(model="dab")``)."""
    from . import models_dir

    return models_dir() / "pigment_dab.mmnst"


def he_pigment_model_path() -> Path:
    """Path of the shipped H&E pigment model (``PigmentParams(model="he")``)."""
    from . import models_dir

    return models_dir() / "pigment_he.mmnst"


def azure_pigment_model_path() -> Path:
    """Path of the shipped azure B pigment model (``PigmentParams(model="azure")``; session 41)."""
    from . import models_dir

    return models_dir() / "pigment_azure.mmnst"


def resolve_pigment_model(spec: str) -> ClassifierModel | None:
    """``"default"`` (shipped), ``"dab"`` (the shipped H-DAB model), ``"he"`` (the shipped H&E
    model), ``"azure"`` (the shipped azure B model), ``"none"`` (None: the rule-based detector) or a
    model file path."""
    from . import resolve_model

    text = str(spec).strip()
    if text.lower() == "none":
        return None
    shipped = {"default": default_pigment_model_path, "dab": dab_pigment_model_path, "he": he_pigment_model_path,
               "azure": azure_pigment_model_path}
    path = shipped[text.lower()]() if text.lower() in shipped else Path(text).expanduser()
    try:
        model = resolve_model(str(path), "tissue")  # a pigment model is a pixel model of the tissue kind
    except FileNotFoundError as exc:  # said as a pigment model, with where a relative path was looked for
        where = "" if path.is_absolute() else f", looked for in the working folder {os.getcwd()}"
        cause = exc.__cause__
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(exc)
        msg = f"pigment model {str(path)!r} does not exist or cannot be read ({reason}{where})"
        raise FileNotFoundError(msg) from exc
    if model is None or model.settings.get("target") != "pigment":
        msg = f"pigment model {str(path)!r} is not a pigment pixel model (settings.target != 'pigment')"
        raise ConfigError(msg)
    return model


@lru_cache(maxsize=1)
def _shipped_default_id() -> str:
    model = resolve_pigment_model("default")
    return model.model_id if model is not None else ""


@lru_cache(maxsize=1)
def shipped_pigment_ids() -> frozenset[str]:
    """Model ids of the shipped pigment pixel models (default, H-DAB, H&E, azure B), the files present."""
    out = set()
    for path in (default_pigment_model_path(), dab_pigment_model_path(), he_pigment_model_path(),
                 azure_pigment_model_path()):
        if path.exists():
            model = resolve_pigment_model(str(path))
            if model is not None:
                out.add(model.model_id)
    return frozenset(out)


def _is_shipped_default(model: ClassifierModel) -> bool:
    return model.model_id == _shipped_default_id()


def model_for_stains(model: ClassifierModel, stains: Any, params: Any = None) -> ClassifierModel:
    """The pigment model that actually runs on ``stains``: the shipped default stands for the
    shipped model of the stain system (the H-DAB model with a brown chromogen, the H&E model with
    eosin, the azure B model with an azure B counterstain); any other model runs as given. :func:`classify_pigment` and the pipeline's provenance
    both use this."""
    from ..detect._pigment_core import _has_eosin
    from ..detect.pigment import pigment_mode

    if stains is None or not _is_shipped_default(model):
        return model
    mode = pigment_mode(stains, params)
    if mode == "brown":
        return resolve_pigment_model("dab") or model
    if mode == "azure" and azure_pigment_model_path().exists():
        return resolve_pigment_model("azure") or model
    if mode == "colour" and _has_eosin(stains) and he_pigment_model_path().exists():
        return resolve_pigment_model("he") or model
    return model
