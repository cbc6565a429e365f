"""Train a tissue (pixel) model from painted labels, the way QuPath's pixel classifier is trained.

Labels are an integer image over the tile (0 unlabelled, ``k`` = ``classes[k - 1]``): napari
Labels, or polygons of a QuPath GeoJSON rasterised by :mod:`mmnst_path.pipeline`. Features are
the ones the pipeline computes (:func:`mmnst_path.classify.tissue_features.tissue_features`) on
their output grid; an output block takes the class covering at least ``min_cover`` of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError
from .model import ClassifierModel
from .tissue_features import TissueFeatureSettings, tissue_feature_specs, tissue_features
from .train import _fit_with_holdout, stack_rows

__all__ = ["canonical_tissue_class", "tissue_training_rows", "train_tissue_model"]

_SYNONYMS = {"tumor": "tumour", "tumour": "tumour", "necrotic": "necrosis", "necrosis": "necrosis",
             "debris": "necrosis", "stroma": "stroma", "stromal": "stroma", "fibrous": "stroma",
             "immune cells": "inflammatory", "lymphocytes": "inflammatory", "inflammation": "inflammatory",
             "adipose": "fat", "fat": "fat", "background": "background", "glass": "background",
             "mucus": "mucin", "mucin": "mucin", "blood": "blood", "haemorrhage": "blood", "hemorrhage": "blood",
             "melanin": "melanin", "pigment": "melanin", "keratin": "keratin", "ignore*": ""}


def canonical_tissue_class(name: Any) -> str:
    """Tissue class of an annotation's class name (QuPath ``Tumor`` -> ``tumour``, ``Necrosis`` ->
    ``necrosis``; others kept in lower case with spaces as ``_``; ``""`` / ``Ignore*`` unused)."""
    base = str(name or "").split(":", 1)[0].strip().lower()
    return _SYNONYMS.get(base, re.sub(r"\s+", "_", base))


def tissue_training_rows(
    rgb: np.ndarray,
    labels: np.ndarray,
    *,
    mpp: float,
    classes: Sequence[str],
    stains: Any = "H&E",
    settings: TissueFeatureSettings | None = None,
    min_cover: float = 0.6,
) -> tuple[np.ndarray, np.ndarray]:
    """Features and class names of the output blocks the labels cover.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    labels : (M, N) integer ndarray
        0 unlabelled, ``k`` = ``classes[k - 1]``.
    mpp : float
    classes : sequence of str
    stains, settings : see :func:`~mmnst_path.classify.tissue_features.tissue_features`
    min_cover : float
        A block takes a class covering at least this fraction of its pixels.

    Returns
    -------
    x : (j, F) float32 ndarray
    y : (j,) str ndarray
    """
    labels = np.asarray(labels)
    if labels.shape != rgb.shape[:2] or labels.dtype.kind not in "iub":
        msg = f"labels must be an integer image of shape {rgb.shape[:2]}, got {labels.dtype} {labels.shape}"
        raise ConfigError(msg)
    settings = settings or TissueFeatureSettings()
    feats, grid_mpp = tissue_features(rgb, mpp=mpp, stains=stains, settings=settings)
    big = round(grid_mpp / mpp)
    m, n = feats.shape[:2]
    pad = np.zeros((m * big, n * big), labels.dtype)
    pad[: labels.shape[0], : labels.shape[1]] = labels
    blocks = pad.reshape(m, big, n, big).transpose(0, 2, 1, 3).reshape(m, n, big * big)
    best = np.zeros((m, n), np.intp)
    best_cover = np.zeros((m, n))
    for k in range(1, len(classes) + 1):
        cover = (blocks == k).mean(axis=-1)
        better = cover > best_cover
        best[better], best_cover[better] = k, cover[better]
    sel = (best > 0) & (best_cover >= min_cover)
    names = np.asarray(list(classes), dtype="<U24")
    return feats[sel], names[best[sel] - 1]


def train_tissue_model(
    rows: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    settings: TissueFeatureSettings | None = None,
    stains: str = "H&E",
    card: Mapping[str, Any] | None = None,
    validation_fraction: float = 0.2,
    n_estimators: int = 24,
    random_state: int = 0,
) -> ClassifierModel:
    """Fit a tissue model on rows from :func:`tissue_training_rows` (one entry per image region).

    Classes are the names found (sorted, ``necrosis`` included when painted); a random
    ``validation_fraction`` of the blocks is held out for the card's figures, then the model is
    refitted on all of them.
    """
    settings = settings or TissueFeatureSettings()
    x, names = stack_rows(rows, nothing="no labelled block: paint larger areas (each class must cover whole "
                                        "blocks of the feature grid)")
    classes = sorted(set(names.tolist()))
    if len(classes) < 2:
        msg = f"labels hold only the class(es) {classes}: paint at least two tissue classes (e.g. necrosis and tumour)"
        raise ConfigError(msg)
    y = np.array([classes.index(c) for c in names], dtype=np.intp)
    specs = tissue_feature_specs(settings)
    model_settings = {"features": settings.to_mapping(), "stains": stains}
    full_card = {"name": "user tissue classifier", "version": "1", "licence": "as the annotations' owner decides",
                 **dict(card or {})}
    model = _fit_with_holdout(x, y, validation_fraction=validation_fraction, random_state=random_state,
                               kind="tissue", classes=classes, features=specs, settings=model_settings,
                               card=full_card, n_estimators=n_estimators, max_depth=12, min_samples_leaf=5)
    return model
