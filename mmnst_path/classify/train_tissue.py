"""Train a tissue (pixel) model from painted labels, the way QuPath's pixel classifier is trained.

Labels are an integer image over the tile (0 unlabelled, ``k`` = ``classes[k - 1]``): napari
Labels, or polygons of a QuPath GeoJSON rasterised by :mod:`mmnst_path.pipeline`. Features are
the ones the pipeline computes (:func:`mmnst_path.classify.tissue_features.tissue_features`) on
their output grid; an output block takes the class covering at least ``min_cover`` of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._class_names import canonical_name
from .model import ClassifierModel, ContextStage
from .tissue_context import ContextSettings, context_feature_specs, context_features
from .tissue_features import TissueFeatureSettings, tissue_feature_specs, tissue_features
from .train import Places, _fit_with_holdout, class_report, stack_rows, train_model

__all__ = [
    "ContextImage",
    "canonical_tissue_class",
    "out_of_fold_proba",
    "tissue_training_blocks",
    "tissue_training_rows",
    "train_context_stage",
    "train_tissue_model",
]

def canonical_tissue_class(name: Any) -> str:
    """Tissue class of an annotation's class name (QuPath ``Tumor`` -> ``tumour``, ``Necrosis`` ->
    ``necrosis``; others kept in lower case with spaces as ``_``; ``""`` for ``Region*`` / ``Ignore*`` /
    unclassified, which are not used: :func:`mmnst_path.classify._class_names.canonical_name`)."""
    return canonical_name(name, "tissue")


def tissue_training_rows(rgb: np.ndarray, labels: np.ndarray, *, mpp: float, classes: Sequence[str],
                         stains: Any = "H&E", settings: TissueFeatureSettings | None = None,
                         min_cover: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Features and class names of the output blocks the labels cover (:func:`tissue_training_blocks`
    without the blocks' positions)."""
    x, y, _ = tissue_training_blocks(rgb, labels, mpp=mpp, classes=classes, stains=stains, settings=settings,
                                     min_cover=min_cover)
    return x, y


def tissue_training_blocks(
    rgb: np.ndarray,
    labels: np.ndarray,
    *,
    mpp: float,
    classes: Sequence[str],
    stains: Any = "H&E",
    settings: TissueFeatureSettings | None = None,
    min_cover: float = 0.6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, class names and centres (µm) of the output blocks the labels cover.

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
    rc_um : (j, 2) float ndarray
        Centre (row, col) of each block in µm from the top-left of ``rgb``.
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
    rr, cc = np.nonzero(sel)
    rc_um = (np.c_[rr, cc] + 0.5) * big * mpp
    return feats[sel], names[best[sel] - 1], rc_um


def train_tissue_model(
    rows: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    settings: TissueFeatureSettings | None = None,
    stains: str = "H&E",
    card: Mapping[str, Any] | None = None,
    validation_fraction: float = 0.2,
    n_estimators: int = 24,
    random_state: int = 0,
    places: Places | None = None,
) -> ClassifierModel:
    """Fit a tissue model on rows from :func:`tissue_training_rows` (one entry per image region).

    Classes are the names found (sorted, ``necrosis`` included when painted). With ``places`` (image and
    position of every block, stacked as ``rows``) the card's held-out figures hold out whole images (or
    squares of a single image, :func:`~mmnst_path.classify.train.holdout_folds`); without them a random
    ``validation_fraction`` of the blocks gives an optimistic ``training_image_blocks`` figure. The model
    is then fitted on all blocks.
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
                               card=full_card, n_estimators=n_estimators, max_depth=12, min_samples_leaf=5,
                               places=places)
    return model


@dataclass(frozen=True, eq=False)
class ContextImage:
    """One training image for :func:`train_context_stage`.

    Attributes
    ----------
    feats : (m, n, F) float32 ndarray
        First-stage features on the output grid (the whole image).
    sel : (k,) int ndarray
        Flat indices of its training blocks.
    y : (k,) int ndarray
        Their class indices.
    grid_mpp : float
        µm per output block.
    fold : int
        Fold of the image (images of one source image, e.g. augmented copies, share it); -1 for a
        validation image (not in the first stage's training rows).
    ctx_sel, ctx_y : (k2,) int ndarray or None
        The second stage's training blocks and classes when they differ from the first stage's
        (e.g. ``sel`` plus the mixed blocks on class borders, labelled by their majority class,
        which the first stage does not train on); None: ``sel`` and ``y``.
    """

    feats: np.ndarray
    sel: np.ndarray
    y: np.ndarray
    grid_mpp: float
    fold: int
    ctx_sel: np.ndarray | None = None
    ctx_y: np.ndarray | None = None

    def context_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices and classes of the blocks the second stage trains on."""
        if self.ctx_sel is None or self.ctx_y is None:
            return self.sel, self.y
        if len(self.ctx_sel) != len(self.ctx_y):
            msg = f"ContextImage: {len(self.ctx_sel)} second-stage blocks but {len(self.ctx_y)} classes"
            raise ConfigError(msg)
        return self.ctx_sel, self.ctx_y


def out_of_fold_proba(images: Sequence[ContextImage], model: ClassifierModel, *, n_estimators: int = 32,
                      max_depth: int | None = 14, min_samples_leaf: int = 15, jobs: int = 1
                      ) -> list[np.ndarray]:
    """First-stage class probability maps of ``images`` from forests that did not see them.

    For every fold ``f`` a forest like ``model``'s (its classes, features, settings and these forest
    options) is fitted on the training rows of the images of the other folds and predicts the whole
    feature maps of fold ``f``; validation images (fold -1) are predicted by ``model`` itself.
    ``jobs`` > 1 fits the folds in that many processes (the same forests: each fit is seeded).
    """
    folds = sorted({im.fold for im in images if im.fold >= 0})
    if len(folds) < 2:
        msg = f"auto-context needs training images in at least two folds, got folds {folds}"
        raise ConfigError(msg)
    kw: dict[str, Any] = {"kind": model.kind, "classes": model.class_names, "features": model.features,
                          "settings": model.settings, "n_estimators": n_estimators, "max_depth": max_depth,
                          "min_samples_leaf": min_samples_leaf}
    tasks = []
    for f in folds:
        train = [im for im in images if im.fold >= 0 and im.fold != f]
        tasks.append((np.concatenate([im.feats.reshape(-1, im.feats.shape[-1])[im.sel] for im in train]),
                      np.concatenate([im.y for im in train])))
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
            fold_models = list(pool.map(_fit_rows, tasks, [kw] * len(tasks)))
    else:
        fold_models = [_fit_rows(t, kw) for t in tasks]
    by_fold = dict(zip(folds, fold_models, strict=True))
    return [_proba_map(by_fold[im.fold] if im.fold >= 0 else model, im.feats) for im in images]


def _fit_rows(xy: tuple[np.ndarray, np.ndarray], kw: dict[str, Any]) -> ClassifierModel:
    return train_model(xy[0], xy[1], **kw)


def train_context_stage(images: Sequence[ContextImage], model: ClassifierModel, *,
                        settings: ContextSettings | None = None, n_estimators: int = 32, max_depth: int | None = 14,
                        min_samples_leaf: int = 15, jobs: int = 1,
                        proba: Sequence[np.ndarray] | None = None, fold_scheme: str = "hash") -> ClassifierModel:
    """``model`` (a tissue model fitted on the training rows of ``images``) with an auto-context stage.

    The first-stage probabilities of every image come from a forest that never saw it
    (:func:`out_of_fold_proba`, or ``proba`` computed by it before), as they will on a new slide:
    a forest is overconfident on its own training images, and a second stage trained on that
    would learn to trust the first. The second forest is then fitted (these forest options) on
    :func:`~mmnst_path.classify.tissue_context.context_features` at the training blocks; the card
    records its settings, folds, training counts, top features and the validation images' class
    report of both stages. ``fold_scheme`` names how the images' folds were drawn (``scripts/train_tissue_model.py
    --context-folds``: ``hash`` or ``alternate``), for the card.
    """
    settings = settings or ContextSettings()
    classes = model.class_names
    forest_kw: dict[str, Any] = {"n_estimators": n_estimators, "max_depth": max_depth,
                                 "min_samples_leaf": min_samples_leaf}
    if proba is None:
        proba = out_of_fold_proba(images, model, jobs=jobs, **forest_kw)
    folds = sorted({im.fold for im in images if im.fold >= 0})
    specs = context_feature_specs(model.features, classes, settings)
    rows: dict[bool, tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]] = {
        True: ([], [], []), False: ([], [], [])}
    for im, p in zip(images, proba, strict=True):
        ctx = context_features(im.feats, p, grid_mpp=im.grid_mpp, settings=settings)
        xs, ys, ps = rows[im.fold < 0]
        sel, y = (im.sel, im.y) if im.fold < 0 else im.context_rows()
        xs.append(ctx.reshape(-1, ctx.shape[-1])[sel])
        ys.append(y)
        ps.append(p.reshape(-1, p.shape[-1])[sel])
    x2, y2 = np.concatenate(rows[False][0]), np.concatenate(rows[False][1])
    validation = (np.concatenate(rows[True][0]), np.concatenate(rows[True][1])) if rows[True][0] else None
    second = train_model(x2, y2, kind=model.kind, classes=classes, features=specs, settings=model.settings,
                         validation=validation, **forest_kw)
    pick = np.random.default_rng(0).choice(x2.shape[0], size=min(16, x2.shape[0]), replace=False)
    stage = ContextStage.build(features=specs, settings=settings.to_mapping(), forest=second.forest, test_x=x2[pick])
    card = dict(model.card)
    summary: dict[str, Any] = {
        "settings": settings.to_mapping(), "folds": len(folds), "fold_scheme": fold_scheme,
        "forest": second.card["forest"], "training_counts": second.card["training_counts"],
        "top_features": second.card["top_features"],
        "note": "second forest on the first-stage features and the out-of-fold first-stage class probabilities "
                "pooled over sigmas_um (mmnst_path.classify.tissue_context)"}
    if validation is not None:
        first = np.argmax(np.concatenate(rows[True][2]), axis=1)
        summary["validation_first_stage"] = class_report(validation[1], first, classes)
        summary["validation"] = second.card["validation"]["held_out"]
    card["auto_context"] = summary
    return replace(model, card=card).with_context(stage)


def _proba_map(model: ClassifierModel, feats: np.ndarray) -> np.ndarray:
    return model.predict_proba(feats.reshape(-1, feats.shape[-1])).astype(np.float32).reshape(*feats.shape[:2], -1)
