"""Apply a nucleus (cell) model to the detected nuclei of a tile."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .model import ClassifierModel
from .nucleus_features import NucleusFeatureSettings, nucleus_features

__all__ = ["classify_cells", "feature_settings"]


def feature_settings(model: ClassifierModel) -> NucleusFeatureSettings:
    """The nucleus feature settings a model was trained with."""
    if model.kind != "nucleus":
        msg = f"model {model.name!r} is a {model.kind} model, not a nucleus model"
        raise ConfigError(msg)
    return NucleusFeatureSettings.from_mapping(model.settings.get("features", {}))


def classify_cells(model: ClassifierModel, labels: np.ndarray, hematoxylin: np.ndarray,
                   chromogen: np.ndarray | None, *, mpp: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell class and tumour probability of every nucleus of a label image.

    Returns
    -------
    types : (n,) str array
        Class name per nucleus (label ``i + 1`` -> entry ``i``).
    tumour_probability : (n,) float32
        Probability of the ``tumour`` class (NaN when the model has none).
    """
    settings = feature_settings(model)
    if not (settings.mpp_um / 1.5 <= mpp <= settings.mpp_um * 1.5):
        msg = (f"nucleus model {model.name!r} works at {settings.mpp_um} µm/px; the image is analysed at "
               f"{mpp} µm/px (more than 1.5x away): analyse at the model's resolution")
        raise ConfigError(msg)
    x = nucleus_features(labels, hematoxylin, chromogen, mpp=mpp, settings=settings)
    if x.shape[0] == 0:
        return np.zeros(0, "<U12"), np.zeros(0, np.float32)
    proba = model.predict_proba(x)
    names = np.asarray(model.class_names, dtype="<U12")
    types = names[np.argmax(proba, axis=1)]
    ti = model.class_names.index("tumour") if "tumour" in model.class_names else -1
    p_t = proba[:, ti].astype(np.float32) if ti >= 0 else np.full(x.shape[0], np.nan, np.float32)
    return types, p_t
