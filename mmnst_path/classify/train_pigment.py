"""Train a lab's own melanin (pigment) pixel model from painted labels (issue #14, session 43).

The shipped pigment models (:mod:`mmnst_path.classify.pigment`) were trained on generated tiles and
permissively licensed real ones; a lab whose pigment, or whose stain rendering, they miss can teach the
tool with its own annotations. The labels are an integer image over a tile (0 unlabelled, 1 not
melanin, 2 melanin: QuPath polygons rasterised by :func:`mmnst_path.pipeline.train_pigment`). The
rows are those the pigment stage would ask the model about on that tile: candidate pixels (total OD
>= ``candidate_od``) inside :func:`pigment_model_pixels` (the colour gate of the stains, or with an
azure B counterstain the rules' Ki67 exclusion mask), with the features of the shipped model the stage
runs for the stains (:func:`pigment_recipe`: its feature settings and columns, so the lab model reads
what that model read). The model file is a ``"tissue"``-kind pixel model with ``settings["target"] =
"pigment"`` and ``settings["stains"]``, like the shipped ones, so ``quantify --pigment-model FILE`` runs it
where the stage runs the shipped model of those stains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._pigment_features import PigmentFeatureSettings, pigment_feature_specs, pigment_features
from .model import ClassifierModel
from .train import Places, _fit_with_holdout, stack_rows

__all__ = ["LABEL_MELANIN", "LABEL_OTHER", "PIGMENT_CLASSES", "pigment_model_pixels", "pigment_recipe",
           "pigment_training_rows", "train_pigment_model"]

#: the classes of a pigment pixel model, in the order :func:`~mmnst_path.classify.pigment.classify_pigment` reads
PIGMENT_CLASSES = ("background", "melanin")
#: label image values: 0 unlabelled (not used), these two the classes
LABEL_OTHER, LABEL_MELANIN = 1, 2


def pigment_recipe(stains: Any, params: Any = None) -> tuple[ClassifierModel, PigmentFeatureSettings, list[str]]:
    """(shipped model, feature settings, feature names) the pigment stage runs for ``stains``.

    The shipped default stands for the shipped model of the stain system
    (:func:`~mmnst_path.classify.pigment.model_for_stains`: ``pigment_dab`` with DAB, ``pigment_he`` with
    eosin, ``pigment_azure`` with azure B, ``pigment_default`` with the red chromogens); a lab model
    trained for ``stains`` reads that model's features, computed with its settings.
    """
    from ._pigment_models import model_for_stains, resolve_pigment_model

    default = resolve_pigment_model("default")
    if default is None:  # pragma: no cover - "default" always names a shipped file
        msg = "no shipped default pigment model"
        raise ConfigError(msg)
    shipped = model_for_stains(default, stains, params)
    return shipped, PigmentFeatureSettings.from_mapping(shipped.settings), list(shipped.feature_names)


def pigment_model_pixels(rgb: np.ndarray, *, mpp: float, stains: Any, params: Any = None) -> np.ndarray:
    """(M, N) bool: the pixels where the pigment stage asks its pixel model on this tile.

    With an azure B counterstain the rules' Ki67 exclusion mask
    (:func:`~mmnst_path.classify._pigment_azure.azure_pigment_masks`); otherwise the colour gate
    (:func:`~mmnst_path.detect.pigment.pigment_gate` with the model's ``model_min_od`` and
    ``model_body_veto``, as :func:`~mmnst_path.classify.pigment.classify_pigment` calls it). Melanin a
    lab paints outside these pixels cannot be learned: the stage never shows it to the model.
    """
    from ..detect._pigment_params import _matrix
    from ..detect.pigment import PigmentParams, pigment_gate, pigment_masks, pigment_mode

    params = params if params is not None else PigmentParams()
    matrix = _matrix(stains)
    if pigment_mode(matrix, params) == "azure":
        return pigment_masks(rgb, mpp=mpp, stains=matrix, params=params, background=matrix.background)[1]
    gate, _ = pigment_gate(rgb, mpp=mpp, stains=matrix, params=params, background=matrix.background,
                           bodies=params.model_body_veto, min_od=params.model_min_od)
    return gate


def pigment_training_rows(
    rgb: np.ndarray,
    labels: np.ndarray,
    *,
    mpp: float,
    stains: Any,
    settings: PigmentFeatureSettings,
    names: Sequence[str],
    params: Any = None,
    max_rows_per_class: int = 20000,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Feature rows, classes and positions (µm) of the labelled pixels the stage's model would see.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    labels : (M, N) integer ndarray
        0 unlabelled, :data:`LABEL_OTHER` not melanin, :data:`LABEL_MELANIN` melanin.
    mpp : float
        µm per pixel.
    stains : str or StainMatrix
        The tile's stains (a matrix carries the white point the pipeline reads the tile against).
    settings, names : the recipe of :func:`pigment_recipe`.
    params : PigmentParams or None
        The stage's parameters (its gate).
    max_rows_per_class : int
        At most this many rows of each class are kept (drawn with ``random_state``; a painted sheet of
        melanin holds 10^5 pixels of one look).
    random_state : int

    Returns
    -------
    x : (k, F) float32 ndarray
    y : (k,) str ndarray
        ``"melanin"`` or ``"background"``.
    rc_um : (k, 2) float ndarray
        (row, col) µm of each row from the top-left of ``rgb``.
    counts : dict
        ``melanin_px`` / ``other_px`` (labelled pixels), ``melanin_seen`` / ``other_seen`` (of them, the
        candidates the stage's model sees), ``melanin_rows`` / ``other_rows`` (kept).
    """
    from ..detect._pigment_params import _matrix

    labels = np.asarray(labels)
    if labels.shape != rgb.shape[:2] or labels.dtype.kind not in "iub":
        msg = f"labels must be an integer image of shape {rgb.shape[:2]}, got {labels.dtype} {labels.shape}"
        raise ConfigError(msg)
    if max_rows_per_class < 1:
        msg = f"max_rows_per_class must be >= 1, got {max_rows_per_class}"
        raise ConfigError(msg)
    matrix = _matrix(stains)
    labelled = (labels == LABEL_OTHER) | (labels == LABEL_MELANIN)
    counts = {"melanin_px": int(np.count_nonzero(labels == LABEL_MELANIN)),
              "other_px": int(np.count_nonzero(labels == LABEL_OTHER))}
    seen = pigment_model_pixels(rgb, mpp=mpp, stains=matrix, params=params) & labelled if labelled.any() else labelled
    x, cand = pigment_features(rgb, mpp=mpp, settings=settings, background=matrix.background, where=seen,
                               names=list(names))
    lab = labels[cand]
    rr, cc = np.nonzero(cand)
    rng = np.random.default_rng(random_state)
    keep = []
    for value, key in ((LABEL_OTHER, "other"), (LABEL_MELANIN, "melanin")):
        idx = np.flatnonzero(lab == value)
        counts[f"{key}_seen"] = len(idx)
        if len(idx) > max_rows_per_class:
            idx = np.sort(rng.choice(idx, size=max_rows_per_class, replace=False))
        counts[f"{key}_rows"] = len(idx)
        keep.append(idx)
    sel = np.sort(np.concatenate(keep))
    y = np.where(lab[sel] == LABEL_MELANIN, "melanin", "background").astype("<U10")
    rc_um = (np.c_[rr[sel], cc[sel]] + 0.5) * float(mpp)
    return x[sel], y, rc_um, counts


def train_pigment_model(
    rows: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    settings: PigmentFeatureSettings,
    names: Sequence[str],
    stains: str,
    card: Mapping[str, Any] | None = None,
    places: Places | None = None,
    validation_fraction: float = 0.2,
    n_estimators: int = 30,
    random_state: int = 0,
) -> ClassifierModel:
    """Fit a pigment pixel model on rows of :func:`pigment_training_rows` (one entry per image window).

    The forest options are the shipped pigment models' (``scripts/train_pigment_model.py``: depth 14, 8
    rows a leaf). With ``places`` the card's held-out figures hold out whole images (or squares of a single
    image, :func:`~mmnst_path.classify.train.holdout_folds`); the model is then fitted on all rows. Both
    classes must have rows.
    """
    x, found = stack_rows(rows, nothing="no labelled pixel the pigment stage sees: paint melanin (Melanin / "
                                       "Pigment) and other tissue over pigmented and unpigmented areas")
    missing = [c for c in PIGMENT_CLASSES if c not in set(found.tolist())]
    if missing:
        what = "melanin (class Melanin or Pigment)" if "melanin" in missing else "other tissue (any other class)"
        msg = (f"no training pixel of {what} among the pixels the pigment stage sees: paint both melanin and "
               "tissue that is not melanin")
        raise ConfigError(msg)
    y = np.array([PIGMENT_CLASSES.index(c) for c in found], dtype=np.intp)
    by_name = {f.name: f for f in pigment_feature_specs(settings)}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        msg = f"names: unknown pigment features {unknown}"
        raise ConfigError(msg)
    model_settings = {**settings.to_mapping(), "stains": str(stains)}
    full_card = {"name": "user pigment classifier", "version": "1", "licence": "as the annotations' owner decides",
                 **dict(card or {})}
    return _fit_with_holdout(x, y, validation_fraction=validation_fraction, random_state=random_state,
                             kind="tissue", classes=list(PIGMENT_CLASSES), features=[by_name[n] for n in names],
                             settings=model_settings, card=full_card, n_estimators=n_estimators, max_depth=14,
                             min_samples_leaf=8, places=places)
