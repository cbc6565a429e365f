"""Train a nucleus (cell) model from a pathologist's point annotations on image regions.

The way QuPath users train an object classifier: click (or import) example cells per class; the
nuclei the project's own detector finds next to each click take its class; features are the
ones the pipeline computes (:mod:`.nucleus_features`); a forest is fitted
(:func:`.train.train_model`). Everything here works on in-memory arrays; reading slides and
annotation files is :mod:`mmnst_path.pipeline` 's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._class_names import canonical_name
from .model import ClassifierModel
from .nucleus_features import NucleusFeatureSettings, nucleus_feature_specs, nucleus_features
from .train import Places, _fit_with_holdout, match_points, stack_rows

__all__ = ["canonical_class", "cell_training_examples", "cell_training_rows", "train_cell_model"]

_DEFAULT_SETTINGS = NucleusFeatureSettings()


def canonical_class(name: Any) -> str:
    """Cell class of an annotation's class name (QuPath's ``Tumor: Positive`` -> ``tumour``).

    Known synonyms and plurals map to ``tumour``, ``lymphocyte``, ``stromal``, ``macrophage`` and ``other``
    (``Tumour cells`` -> ``tumour``); other names are kept (lower case, spaces to ``_``); ``""`` (unlabelled,
    QuPath ``Region*`` / ``Ignore*``) is not used for training
    (:func:`mmnst_path.classify._class_names.canonical_name`).
    """
    return canonical_name(name, "nucleus")


def cell_training_rows(rgb: np.ndarray, points_rc: np.ndarray, names: Sequence[str], *, mpp: float,
                       stains: Any = "H-DAB", settings: NucleusFeatureSettings = _DEFAULT_SETTINGS,
                       match_um: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Features and class names of the detected nuclei that annotated points fall on
    (:func:`cell_training_examples` without the points' indices)."""
    x, y, _ = cell_training_examples(rgb, points_rc, names, mpp=mpp, stains=stains, settings=settings,
                                     match_um=match_um)
    return x, y


def cell_training_examples(
    rgb: np.ndarray,
    points_rc: np.ndarray,
    names: Sequence[str],
    *,
    mpp: float,
    stains: Any = "H-DAB",
    settings: NucleusFeatureSettings = _DEFAULT_SETTINGS,
    match_um: float = 4.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, class names and point indices of the detected nuclei that annotated points fall on.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Image region at ``mpp`` (resampled here to ``settings.mpp_um`` when it differs by > 5 %).
    points_rc : (k, 2) float ndarray
        Annotated positions (row, col) in pixels of ``rgb``.
    names : sequence of str
        Class of each point (any name; see :func:`canonical_class`).
    mpp : float
        µm/px of ``rgb``.
    stains : str or StainMatrix
        Counterstain first, chromogen second (``H-DAB``, ``H-AEC``...), or ``H&E`` (no chromogen).
    match_um : float
        A point takes the nucleus whose centroid is nearest within this distance (one-to-one).

    Returns
    -------
    x : (j, F) float32 ndarray
    y : (j,) str ndarray
        Canonical class names; points with no nucleus within ``match_um`` are dropped.
    point : (j,) int ndarray
        Index (into ``points_rc``) of the point each row comes from.
    """
    from ..detect.nuclei import nuclei_from_stains
    from ..stain import load_stains, separate_stains

    pts = np.asarray(points_rc, dtype=np.float64).reshape(-1, 2)
    labels = np.array([canonical_class(n) for n in names], dtype=object)
    if len(labels) != len(pts):
        msg = f"need one class name per point, got {len(labels)} names for {len(pts)} points"
        raise ConfigError(msg)
    rgb = np.asarray(rgb)
    f = mpp / settings.mpp_um
    if abs(f - 1.0) > 0.05:
        from ..io._resample import resize_area

        shape = (max(1, round(rgb.shape[0] * f)), max(1, round(rgb.shape[1] * f)))
        scale = np.array([shape[0] / rgb.shape[0], shape[1] / rgb.shape[1]])
        rgb = resize_area(rgb, shape)
        pts = (pts + 0.5) * scale - 0.5
    matrix = load_stains(stains)
    names2 = matrix.stain_names
    use = names2[:2] if len(names2) >= 2 and names2[1] not in ("eosin", "residual") else names2[:1]
    conc = separate_stains(rgb, matrix, stains=tuple(use))
    hem = conc[..., 0]
    chrom = conc[..., 1] if conc.shape[-1] > 1 else None
    nuc = nuclei_from_stains(hem, np.zeros_like(hem) if chrom is None else chrom, mpp=settings.mpp_um,
                             params=_detect_params(), return_labels=True)
    nf = len(nucleus_feature_specs(settings))
    if len(nuc) == 0 or len(pts) == 0:
        return np.zeros((0, nf), np.float32), np.zeros(0, dtype="<U24"), np.zeros(0, np.intp)
    assert nuc.labels is not None
    x = nucleus_features(nuc.labels, hem, chrom, mpp=settings.mpp_um, settings=settings)
    d, a = match_points(np.c_[nuc.row, nuc.col], pts, match_um / settings.mpp_um)
    keep = labels[a] != ""
    return x[d[keep]], labels[a][keep].astype("<U24"), np.asarray(a[keep], np.intp)


def _detect_params() -> Any:
    from ..detect.nuclei import NucleusParams

    return NucleusParams()


def train_cell_model(
    rows: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    settings: NucleusFeatureSettings = _DEFAULT_SETTINGS,
    stains: str = "H-DAB",
    card: Mapping[str, Any] | None = None,
    tumour_min_probability: float | None = None,
    validation_fraction: float = 0.2,
    n_estimators: int = 60,
    random_state: int = 0,
    places: Places | None = None,
) -> ClassifierModel:
    """Fit a nucleus model on rows from :func:`cell_training_rows` (one entry per image).

    Classes are the canonical names found, ``tumour`` first when present (the Ki67 index counts
    the nuclei called ``tumour``). With ``places`` (image and position of every row, stacked as
    ``rows``) the card's held-out figures hold out whole images (or squares of a single image,
    :func:`~mmnst_path.classify.train.holdout_folds`); without them a random
    ``validation_fraction`` of the rows gives an optimistic ``training_image_blocks`` figure. The
    model is then fitted on all rows.
    """
    x, y_names = stack_rows(rows, nothing="no annotated point fell on a detected nucleus: nothing to train on")
    found = sorted(set(y_names.tolist()))
    classes = (["tumour"] if "tumour" in found else []) + [c for c in found if c != "tumour"]
    if len(classes) < 2:
        msg = f"annotations hold only the class(es) {classes}: annotate at least two classes (e.g. tumour and stromal)"
        raise ConfigError(msg)
    y = np.array([classes.index(c) for c in y_names], dtype=np.intp)
    specs = nucleus_feature_specs(settings)
    model_settings: dict[str, Any] = {"features": settings.to_mapping(), "analysis_mpp_um": settings.mpp_um,
                                      "stains": stains}
    if tumour_min_probability is not None:
        model_settings["decision"] = {"tumour_min_probability": float(tumour_min_probability)}
    full_card = {"name": "user nucleus classifier", "version": "1", "licence": "as the annotations' owner decides",
                 **dict(card or {})}
    model = _fit_with_holdout(x, y, validation_fraction=validation_fraction, random_state=random_state,
                               kind="nucleus", classes=classes, features=specs, settings=model_settings,
                               card=full_card, n_estimators=n_estimators, places=places)
    return model
