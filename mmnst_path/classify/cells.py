"""Apply a nucleus (cell) model to the detected nuclei of a tile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .model import ClassifierModel
from .nucleus_features import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features

__all__ = ["CellClasses", "SpindleSheet", "cell_classes", "chromogen_blind", "classify_cells", "feature_settings",
           "spindle_sheet", "tumour_min_probability", "types_from_proba"]

#: what a nucleus model's intensity / texture features see (``settings["nuclear_stain"]``; absent = "all")
NUCLEAR_STAINS = ("all", "hematoxylin")


@dataclass(frozen=True)
class SpindleSheet:
    """When a nucleus the cell model calls stromal is counted as a spindle tumour cell (:func:`spindle_sheet`).

    A spindle-cell tumour (spindle melanoma, malignant nerve sheath tumour, sarcoma) packs its
    nuclei in sheets and fascicles; a fibroblast lies alone in collagen. Read with the nucleus
    features (µm, 0.5 µm/px): ``min_eccentricity`` of the nucleus itself, ``min_neighbours`` nuclei
    within ``radius_um`` (edge-corrected ``n_within_40um``: 20 is about 4,000 nuclei per mm²),
    the mean eccentricity of the neighbours within 20 µm (``nbr_elong``) at least
    ``min_neighbour_eccentricity``, and P(tumour) at least ``min_tumour_probability`` (the model
    not sure it is not tumour). Chosen (session 17) from the generated spindle-family nuclei the
    model leaves out (median 26 neighbours within 40 µm, neighbour eccentricity 0.84) against the
    nuclei it leaves out on the real Ki67 validation tiles (median 9-14 neighbours, 0.76-0.80) and
    EndoNuke's endometrial stroma (19, 0.73): the real tiles were in view, so they validate it only
    loosely.
    """

    min_eccentricity: float = 0.85
    radius_um: float = 40.0
    min_neighbours: float = 20.0
    min_neighbour_eccentricity: float = 0.8
    min_tumour_probability: float = 0.05


def spindle_sheet(features: np.ndarray, names: tuple[str, ...] | list[str], tumour_probability: np.ndarray,
                  rule: SpindleSheet = SpindleSheet()) -> np.ndarray:
    """Nuclei in a crowded sheet of spindle nuclei (see :class:`SpindleSheet`), from their features.

    Parameters
    ----------
    features : (n, F) float ndarray
        Nucleus features, columns named by ``names`` (:func:`nucleus_feature_specs`).
    names : sequence of str
        Column names; must hold ``eccentricity``, ``nbr_elong`` and ``n_within_<radius>um``.
    tumour_probability : (n,) float ndarray
        The cell model's P(tumour) (NaN: never in a sheet).

    Returns
    -------
    (n,) bool ndarray
    """
    names = list(names)
    need = ("eccentricity", f"n_within_{rule.radius_um:g}um", "nbr_elong")
    missing = [n for n in need if n not in names]
    if missing:
        msg = f"the spindle-sheet rule needs the nucleus feature columns {missing}; the features have {names}"
        raise ConfigError(msg)
    ecc, crowd, nbr = (features[:, names.index(n)] for n in need)
    p = np.nan_to_num(np.asarray(tumour_probability, np.float64), nan=-1.0)
    return ((ecc >= rule.min_eccentricity) & (crowd >= rule.min_neighbours)
            & (nbr >= rule.min_neighbour_eccentricity) & (p >= rule.min_tumour_probability))


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


@dataclass(frozen=True, eq=False)
class CellClasses:
    """What the cell model says of the nuclei of a label image (:func:`cell_classes`).

    Attributes
    ----------
    types : (n,) str array
        The model's class per nucleus (label ``i + 1`` -> entry ``i``).
    tumour_probability : (n,) float32
        Probability of the ``tumour`` class (NaN when the model has none).
    in_spindle_sheet : (n,) bool
        Nuclei the model called ``stromal`` that lie in a crowded sheet of spindle nuclei
        (:func:`spindle_sheet`); all False when no rule was asked for or the model has no
        ``tumour`` class. (Nuclei it called lymphocyte, macrophage or other stay what it said:
        the rule speaks of spindle tumour cells taken for fibroblasts.)
    """

    types: np.ndarray
    tumour_probability: np.ndarray
    in_spindle_sheet: np.ndarray


def cell_classes(model: ClassifierModel, labels: np.ndarray, hematoxylin: np.ndarray,
                 chromogen: np.ndarray | None, *, mpp: float, origin: tuple[int, int] = (0, 0),
                 extent: tuple[int, int] | None = None, sheet: SpindleSheet | None = None,
                 _rings: Callable[[int], np.ndarray] | None = None) -> CellClasses:
    """Cell class, tumour probability and spindle-sheet flag of every nucleus of a label image.

    ``origin`` / ``extent``: the planes are a window of a larger image (see
    :func:`~mmnst_path.classify.nucleus_features.nucleus_features`). ``_rings``: the caller's ring
    labels of ``labels`` by width (:func:`~mmnst_path.classify.nucleus_features.nucleus_features`).
    ``sheet``: the rule that marks the nuclei the model calls stromal that lie in a crowded sheet of
    spindle nuclei (:func:`spindle_sheet`; None: none marked). The features it reads reach
    ``settings.context_um()``, so the flag is tile-invariant like the model. The model's
    ``types`` are never changed here (:func:`classify_cells` counts the marked nuclei as tumour).
    """
    settings = feature_settings(model)
    if not (settings.mpp_um / 2.01 <= mpp <= settings.mpp_um * 2.01):
        msg = (f"nucleus model {model.name!r} works at {settings.mpp_um} µm/px; the image is analysed at "
               f"{mpp} µm/px (more than 2x away): analyse at the model's resolution")
        raise ConfigError(msg)
    cols = _columns(model, settings)
    if nuclear_stain(model) == "hematoxylin":
        chromogen = None
    x_all = nucleus_features(labels, hematoxylin, chromogen, mpp=mpp, settings=settings, origin=origin,
                             extent=extent, _rings=_rings)
    x = x_all if cols is None else np.ascontiguousarray(x_all[:, cols])
    if x.shape[0] == 0:
        return CellClasses(np.zeros(0, "<U12"), np.zeros(0, np.float32), np.zeros(0, bool))
    types, p_tumour = types_from_proba(model, model.predict_proba(x))
    in_sheet = np.zeros(len(types), bool)
    if sheet is not None and "tumour" in model.class_names:
        names = tuple(f.name for f in nucleus_feature_specs(settings))
        in_sheet = spindle_sheet(x_all, names, p_tumour, sheet) & (types == "stromal")
    return CellClasses(types, p_tumour, in_sheet)


def classify_cells(model: ClassifierModel, labels: np.ndarray, hematoxylin: np.ndarray,
                   chromogen: np.ndarray | None, *, mpp: float, origin: tuple[int, int] = (0, 0),
                   extent: tuple[int, int] | None = None, sheet: SpindleSheet | None = None,
                   _rings: Callable[[int], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cell class and tumour probability of every nucleus of a label image.

    As :func:`cell_classes`; with ``sheet``, the nuclei in a crowded sheet of spindle nuclei
    (:func:`spindle_sheet`) are called ``tumour`` (None: the model's decision alone).

    Returns
    -------
    types : (n,) str array
        Class name per nucleus (label ``i + 1`` -> entry ``i``).
    tumour_probability : (n,) float32
        Probability of the ``tumour`` class (NaN when the model has none).
    """
    found = cell_classes(model, labels, hematoxylin, chromogen, mpp=mpp, origin=origin, extent=extent,
                         sheet=sheet, _rings=_rings)
    types = np.where(found.in_spindle_sheet, "tumour", found.types) if sheet is not None else found.types
    return types, found.tumour_probability


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
