"""The brown-body model's columns and its file: which body features it reads, where the shipped model lives, and its
melanin probability with the range guard (split out of :mod:`mmnst_path.classify._pigment_bodies`, which imports
every name back).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._pigment_relative import RELATIVE_FEATURE_TEXT, RELATIVE_FEATURES
from .model import ClassifierModel, FeatureSpec

__all__ = ["ALL_FEATURES", "BODY_CLASSES", "MODEL_COLUMNS", "OBJECT_FEATURES", "OBJECT_FEATURE_TEXT", "body_feature_specs",
           "body_melanin_probability", "body_model_for", "dab_body_model_path", "inside_ranges", "model_free_dab",
           "resolve_body_model", "wants_relative"]


#: classes of the brown-body model (:func:`body_melanin_probability`)
BODY_CLASSES = ("dab_body", "melanin")

#: columns of :func:`body_object_features`, in order (the body model stores the names it was trained on)
OBJECT_FEATURES = ("log_area", "model_share", "model_prob", "brown_od", "h_share", "log_dark", "grey", "u_r",
                   "u_b", "od_cv", "maxima", "fill", "brown_sd", "grey_sd")

#: descriptions of :data:`OBJECT_FEATURES` (unit, text), for the model file's feature specs
OBJECT_FEATURE_TEXT = {
    "log_area": ("log10(µm²)", "area of the brown body"),
    "model_share": ("", "share of the body's pixels the pixel model calls melanin"),
    "model_prob": ("", "mean melanin probability of the pixel model over the body"),
    "brown_od": ("log10 OD", "mean brown (DAB) concentration over the body"),
    "h_share": ("", "mean hematoxylin / (mean hematoxylin + mean brown) over the body"),
    "log_dark": ("log10(log10 OD)", "mean total OD (norm of the RGB OD) over the body"),
    "grey": ("", "cosine of the body's summed OD vector to grey (1, 1, 1): neutrality"),
    "u_r": ("", "red share of the body's unit summed OD vector"),
    "u_b": ("", "blue share of the body's unit summed OD vector"),
    "od_cv": ("", "coefficient of variation of the total OD over the body"),
    "maxima": ("1/µm²", "local maxima of the total OD (radius 0.6 µm, >= 0.1 OD above the 1 µm minimum) per µm²"),
    "fill": ("", "body area / area of its moment ellipse (1: a filled nucleus)"),
    "brown_sd": ("", "standard deviation over the body of the brown share brown / (brown + hematoxylin) of "
                     "each pixel: granules over or around a hematoxylin nucleus are a mosaic of two hues, "
                     "a DAB-filled nucleus one hue throughout"),
    "grey_sd": ("", "standard deviation over the body of each pixel's cosine to grey"),
}

#: every body column a body model may read: :data:`OBJECT_FEATURES`, then the opt-in
#: :data:`~mmnst_path.classify._pigment_relative.RELATIVE_FEATURES` (computed only for a model trained on them)
ALL_FEATURES = OBJECT_FEATURES + RELATIVE_FEATURES


def wants_relative(model: ClassifierModel) -> bool:
    """Whether the body model reads any of the relative columns (:data:`RELATIVE_FEATURES`)."""
    return any(name in RELATIVE_FEATURES for name in model.feature_names)


#: the columns of :data:`OBJECT_FEATURES` read from the pixel model (the rest from the image only)
MODEL_COLUMNS = ("model_share", "model_prob")


def dab_body_model_path() -> Path:
    """Path of the shipped H-DAB brown-body model (``PigmentParams(body_model="default")``; the
    models folder resolved once a process)."""
    from . import models_dir

    return models_dir() / "pigment_dab_bodies.mmnst"


def body_feature_specs(relative: bool = False) -> list[FeatureSpec]:
    """Named brown-body features (:data:`OBJECT_FEATURES`; ``relative``: :data:`ALL_FEATURES`), in column order."""
    text = {**OBJECT_FEATURE_TEXT, **RELATIVE_FEATURE_TEXT}
    return [FeatureSpec(name, *text[name]) for name in (ALL_FEATURES if relative else OBJECT_FEATURES)]


def resolve_body_model(spec: str) -> ClassifierModel | None:
    """``"default"`` (the shipped ``pigment_dab_bodies.mmnst``), ``"none"`` (None: the
    ``model_body_share`` rule) or a body model file path."""
    from . import resolve_model

    text = str(spec).strip()
    if text.lower() == "none":
        return None
    path = dab_body_model_path() if text.lower() == "default" else Path(text).expanduser()
    model = resolve_model(str(path), "tissue")
    if model is None or model.settings.get("target") != "pigment_bodies":
        msg = f"body model {str(path)!r} is not a brown-body model (settings.target != 'pigment_bodies')"
        raise ConfigError(msg)
    return model


def body_melanin_probability(x: np.ndarray, model: ClassifierModel) -> np.ndarray:
    """Melanin probability of each brown body from its :data:`OBJECT_FEATURES` row ``x`` (n, F).

    The model answers only inside the range its melanin training bodies spanned
    (``settings["ranges"]``: feature -> [low, high], 1st-99th percentile): a body outside it on any
    of those features (e.g. the coarser texture or darker DAB of a real scan than any generated
    melanin) gets probability 0 (a DAB-positive nucleus), since a forest extrapolates flat.
    """
    cols = [ALL_FEATURES.index(name) for name in model.feature_names]
    p = model.predict_proba(np.ascontiguousarray(x[:, cols]))[:, model.class_names.index("melanin")]
    return np.where(inside_ranges(x, model), p, 0.0).astype(np.float32)


def inside_ranges(x: np.ndarray, model: ClassifierModel) -> np.ndarray:
    """(n,) bool: the bodies (rows of :data:`OBJECT_FEATURES`) inside every range of the body
    model's ``settings["ranges"]``; outside, :func:`body_melanin_probability` is 0 whatever the
    pixel model says (the ranged features must not be :data:`MODEL_COLUMNS` for that to be
    known before the pixel model runs: :func:`model_free_dab`)."""
    inside = np.ones(len(x), dtype=bool)
    for name, (lo, hi) in dict(model.settings.get("ranges", {})).items():
        v = x[:, ALL_FEATURES.index(name)]
        inside &= (v >= lo) & (v <= hi)
    return inside


def model_free_dab(x: np.ndarray, model: ClassifierModel, params: Any) -> np.ndarray:
    """(n,) bool: the bodies the body model calls DAB whatever the pixel model says, read from
    their image features alone (:func:`body_image_features`): outside the model's ranges
    (probability 0 < ``body_min_probability``), or inside them with the forest's probability
    below ``body_min_probability`` for any values of the :data:`MODEL_COLUMNS`
    (:func:`~mmnst_path.classify._pigment_bound.forest_upper_bound`, an exact bound; without
    numba only the ranges decide). None of them when a ranged feature is read from the pixel
    model or ``body_min_probability`` is <= 0."""
    from ._pigment_bound import forest_upper_bound

    if params.body_min_probability <= 0 or any(k in MODEL_COLUMNS for k in model.settings.get("ranges", {})):
        return np.zeros(len(x), dtype=bool)
    decided = ~inside_ranges(x, model)
    if not decided.all():
        rest = np.flatnonzero(~decided)
        cols = [ALL_FEATURES.index(name) for name in model.feature_names]
        upper = forest_upper_bound(model, x[rest][:, cols], MODEL_COLUMNS, "melanin")
        if upper is not None:  # compared as body_melanin_probability's float32 values are
            decided[rest] = upper.astype(np.float32) < params.body_min_probability
    return decided


def body_model_for(model: ClassifierModel, params: Any) -> ClassifierModel | None:
    """The body model of ``params`` when it was trained on the probabilities of ``model`` (its
    ``settings["pixel_model_id"]``), else None (the share rule decides)."""
    body = resolve_body_model(params.body_model)
    if body is None or body.settings.get("pixel_model_id") != model.model_id:
        return None
    return body
