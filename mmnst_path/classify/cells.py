"""Apply a nucleus (cell) model to the detected nuclei of a tile."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ConfigError
from .model import ClassifierModel
from .nucleus_features import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features

__all__ = ["chromogen_blind", "classify_cells", "feature_settings", "tumour_min_probability", "types_from_proba"]

#: what a nucleus model's intensity / texture features see (``settings["nuclear_stain"]``; absent = "all")
NUCLEAR_STAINS = ("all", "hematoxylin")


def feature_settings(model: ClassifierModel) -> NucleusFeatureSettings:
    """The nucleus feature settings a model was trained with."""
    if model.kind != "nucleus":
        msg = f"model {model.name!r} is a {model.kind} model, not a nucleus model"
        raise ConfigError(msg)
    return NucleusFeatureSettings.from_mapping(model.settings.get("features", {}))


def nuclear_stain(model: ClassifierModel) -> str:
    """What the model's features see: ``"all"`` (hematoxylin + chromogen) or ``"hematoxylin"`` only."""
    value = model.settings.get("nuclear_stain", "all")
    if value not in NUCLEAR_STAINS:
        msg = f"nucleus model {model.name!r}: settings.nuclear_stain must be one of {NUCLEAR_STAINS}, got {value!r}"
        raise ConfigError(msg)
    return str(value)


def _columns(model: ClassifierModel, settings: NucleusFeatureSettings) -> np.ndarray | None:
    """Indices of the model's feature columns among those computed for ``settings`` (None: all, in order)."""
    names = [f.name for f in nucleus_feature_specs(settings)]
    want = list(model.feature_names)
    if want == names:
        return None
    missing = [n for n in want if n not in names]
    if missing:
        msg = (f"nucleus model {model.name!r} reads feature columns {missing} that its feature settings do not "
               f"compute (computed: {', '.join(names)})")
        raise ConfigError(msg)
    return np.array([names.index(n) for n in want], np.intp)


def chromogen_blind(model: ClassifierModel) -> bool:
    """Whether no feature the model reads depends on the chromogen plane: its intensity / texture
    features see hematoxylin only, or it reads none of them (shape and neighbourhood only).

    The nuclei it classifies are still detected on hematoxylin + chromogen, so their outlines are
    not strictly independent of the stain.
    """
    if nuclear_stain(model) == "hematoxylin":
        return True
    intensity = {"od_mean", "od_std", "od_max", "od_fine", "ring_od", "contrast", "rel_od"}
    return not intensity & set(model.feature_names)


def classify_cells(model: ClassifierModel, labels: np.ndarray, hematoxylin: np.ndarray,
                   chromogen: np.ndarray | None, *, mpp: float, origin: tuple[int, int] = (0, 0),
                   extent: tuple[int, int] | None = None,
                   _rings: Callable[[int], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cell class and tumour probability of every nucleus of a label image.

    ``origin`` / ``extent``: the planes are a window of a larger image (see
    :func:`~mmnst_path.classify.nucleus_features.nucleus_features`). ``_rings``: the caller's ring
    labels of ``labels`` by width (:func:`~mmnst_path.classify.nucleus_features.nucleus_features`).

    Returns
    -------
    types : (n,) str array
        Class name per nucleus (label ``i + 1`` -> entry ``i``).
    tumour_probability : (n,) float32
        Probability of the ``tumour`` class (NaN when the model has none).
    """
    settings = feature_settings(model)
    if not (settings.mpp_um / 2.01 <= mpp <= settings.mpp_um * 2.01):
        msg = (f"nucleus model {model.name!r} works at {settings.mpp_um} µm/px; the image is analysed at "
               f"{mpp} µm/px (more than 2x away): analyse at the model's resolution")
        raise ConfigError(msg)
    cols = _columns(model, settings)
    if nuclear_stain(model) == "hematoxylin":
        chromogen = None
    x = nucleus_features(labels, hematoxylin, chromogen, mpp=mpp, settings=settings, origin=origin, extent=extent,
                         _rings=_rings)
    if cols is not None:
        x = np.ascontiguousarray(x[:, cols])
    if x.shape[0] == 0:
        return np.zeros(0, "<U12"), np.zeros(0, np.float32)
    return types_from_proba(model, model.predict_proba(x))


def types_from_proba(model: ClassifierModel, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class names and tumour probability from a nucleus model's probabilities (its decision rule)."""
    names = np.asarray(model.class_names, dtype="<U12")
    types = names[np.argmax(proba, axis=1)]
    ti = model.class_names.index("tumour") if "tumour" in model.class_names else -1
    if ti < 0:
        return types, np.full(proba.shape[0], np.nan, np.float32)
    p_t = proba[:, ti]
    t_min = tumour_min_probability(model)
    if t_min is not None:
        # a nucleus leaves the index only when the model is confident it is not tumour; it then
        # takes the most probable of the other classes
        others = proba.copy()
        others[:, ti] = -1.0
        types = np.where(p_t >= t_min, names[ti], names[np.argmax(others, axis=1)])
    return types, p_t.astype(np.float32)


def tumour_min_probability(model: ClassifierModel) -> float | None:
    """The model's decision rule: tumour unless P(tumour) is below this (None = most probable class)."""
    value = model.settings.get("decision", {}).get("tumour_min_probability")
    if value is None:
        return None
    t = float(value)
    if not 0.0 <= t <= 1.0:
        msg = f"model {model.name!r}: decision.tumour_min_probability must be in [0, 1], got {value!r}"
        raise ConfigError(msg)
    return t
