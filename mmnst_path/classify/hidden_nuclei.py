"""Nuclei hidden under pigment: a learned per-nucleus decision for the Ki67 step (issue #14).

A nucleus essentially covered by melanin cannot be read for Ki67: its brown is the pigment's, not
the chromogen's, and it must be ``pigment`` (unassessable), never positive. The pigment mask
misses much of that melanin where it sits on a nucleus (the brown-body step keeps nucleus-sized
brown bodies as DAB: on the generated pigment families, seeds 0-7, 474 of the 593 hidden nuclei
counted positive were not touched by the mask at all), so the decision is made per detected
nucleus from what the Ki67 step sees: how much of it the mask covers and how much of its ring,
its darkness, hue and texture, each also relative to the tile's own DAB-positive nuclei (the same
stain on the same slide), and how much of the analysed image is pigment.

:func:`nucleus_features` computes the rows (:data:`FEATURES`, in that column order);
:func:`resolve_hidden_model` loads the shipped forest (``mmnst_path/models/hidden_nuclei_dab.mmnst``,
trained by ``scripts/train_hidden_model.py`` on generated pigment-family tiles, where the truth
says which nuclei are hidden, and on real unpigmented EndoNuke DAB nuclei as assessable);
:func:`hidden_probability` applies it. Used by :func:`mmnst_path.quantify.ki67.measure_ki67`
when ``Ki67Params.hidden_model`` names a model, and only for nuclei with melanin around them
(``Ki67Params.pigment_prior_fraction`` of the square of half-side ``pigment_prior_radius_um`` around
the nucleus in the pigment mask), so a tile without pigment is untouched.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import ConfigError
from .model import ClassifierModel, FeatureSpec, check_feature_settings, load_model, model_file

__all__ = ["CELL_CLASSES", "CELL_FEATURES", "FEATURES", "MODEL_KIND", "cell_features", "hidden_probability",
           "nucleus_features", "resolve_cell_model", "resolve_hidden_model"]

MODEL_KIND = "nucleus"
MODEL_TASK = "hidden_nuclei"
_MODELS = {"default": "hidden_nuclei_dab.mmnst"}
CELL_TASK = "pigment_cells"
_CELL_MODELS = {"default": "pigment_cells_dab.mmnst"}

#: Feature columns (name, unit, description), in model order.
FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("area", "um2", "nucleus area"),
    FeatureSpec("visible_fraction", "", "share of the nucleus outside the grown pigment mask"),
    FeatureSpec("ring_pigment", "", "pigment-mask share of the ring of ring_um around the nucleus"),
    FeatureSpec("wide_ring_pigment", "", "pigment-mask share of the ring of wide_ring_um around the nucleus"),
    FeatureSpec("near_black", "", "share of pixels at OD >= 1 in every RGB channel"),
    FeatureSpec("dab", "log10 OD", "mean DAB concentration over the nucleus"),
    FeatureSpec("dab_fill", "", "share of pixels at DAB >= the positive threshold"),
    FeatureSpec("hematoxylin", "log10 OD", "mean hematoxylin concentration over the nucleus"),
    FeatureSpec("dab_cv", "", "DAB standard deviation over its mean within the nucleus"),
    FeatureSpec("grain", "log10 OD", "mean |DAB - DAB smoothed at grain_um| within the nucleus (granularity)"),
    FeatureSpec("red_share", "", "mean OD of the red channel over the sum of the three channels' (hue)"),
    FeatureSpec("blue_share", "", "mean OD of the blue channel over the sum of the three channels' (hue)"),
    FeatureSpec("rel_dab", "log10 OD", "dab minus the median dab of the image's DAB-positive nuclei"),
    FeatureSpec("rel_red_share", "", "red_share minus that of the image's DAB-positive nuclei (median)"),
    FeatureSpec("rel_grain", "log10 OD", "grain minus that of the image's DAB-positive nuclei (median)"),
)

#: How the features are computed (stored with the model and checked against it).
SETTINGS: dict[str, Any] = {"task": MODEL_TASK, "ring_um": 2.0, "wide_ring_um": 6.0, "grain_um": 1.0,
                            "near_black_od": 1.0, "positive_od": 0.35, "stains": "H-DAB"}


def nucleus_features(labels: np.ndarray, od: np.ndarray, hem: np.ndarray, dab: np.ndarray, hidden: np.ndarray,
                     mask: np.ndarray, near_black: np.ndarray, *, mpp: float, positive_od: float) -> np.ndarray:
    """(n, len(FEATURES)) float32 feature rows of the nuclei ``1..n`` of ``labels``.

    Parameters
    ----------
    labels : (M, N) int ndarray
        Detected nuclei, labels 1..n (0 = background).
    od : (M, N, 3) float ndarray
        Optical density of the image (:func:`mmnst_path.stain.od_from_rgb`).
    hem, dab : (M, N) float ndarray
        Counterstain and chromogen concentrations (log10 OD).
    hidden, mask : (M, N) bool ndarray
        The grown pigment mask (what the Ki67 step treats as covered) and the pigment mask itself.
    near_black : (n,) float ndarray
        Near-black share of each nucleus (``quantify._ki67_pigment._near_black_fraction``).
    mpp : float
        Pixel size (µm).
    positive_od : float
        DAB threshold of a positive nucleus (``Ki67Params.positive_threshold_od``).
    """
    labels = np.asarray(labels)
    n = int(near_black.shape[0])
    flat = labels.ravel()

    def per_label(values: np.ndarray | None = None) -> np.ndarray:
        w = None if values is None else np.asarray(values, np.float64).ravel()
        return np.bincount(flat, w, minlength=n + 1)[1: n + 1]

    area_px = np.maximum(per_label(), 1.0)
    d = np.asarray(dab, np.float64)
    dab_mean = per_label(d) / area_px
    dab_sq = per_label(d * d) / area_px
    dab_sd = np.sqrt(np.maximum(dab_sq - dab_mean**2, 0.0))
    smooth = ndi.gaussian_filter(d, SETTINGS["grain_um"] / mpp)
    grain = per_label(np.abs(d - smooth)) / area_px
    od_sum = np.maximum(np.asarray(od, np.float64).sum(axis=-1), 1e-3)
    red = per_label(od[..., 0] / od_sum) / area_px
    blue = per_label(od[..., 2] / od_sum) / area_px
    rings = []
    for key in ("ring_um", "wide_ring_um"):
        ring = _ring_labels(labels, max(1, round(SETTINGS[key] / mpp))).ravel()
        ring_area = np.maximum(np.bincount(ring, minlength=n + 1)[1: n + 1], 1)
        rings.append(np.bincount(ring, np.asarray(mask, np.float64).ravel(), minlength=n + 1)[1: n + 1] / ring_area)
    positive = dab_mean >= positive_od
    ref = [float(np.median(v[positive])) if positive.any() else float(np.median(v)) if n else 0.0
           for v in (dab_mean, red, grain)]
    cols = [
        area_px * mpp * mpp,
        1.0 - per_label(hidden) / area_px,
        rings[0],
        rings[1],
        np.asarray(near_black, np.float64),
        dab_mean,
        per_label(d >= positive_od) / area_px,
        per_label(hem) / area_px,
        dab_sd / np.maximum(np.abs(dab_mean), 0.05),
        grain,
        red,
        blue,
        dab_mean - ref[0],
        red - ref[1],
        grain - ref[2],
    ]
    out = np.column_stack(cols).astype(np.float32) if n else np.zeros((0, len(FEATURES)), np.float32)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


#: Classes of the pigment-cell model (``Ki67Params.pigment_cell_model``), in model order.
CELL_CLASSES: tuple[str, ...] = ("negative", "positive", "hidden")

#: Feature columns of the pigment-cell model: the per-nucleus columns of :data:`FEATURES` (none that
#: compares a nucleus with the rest of the analysed window, so a call does not depend on the tiling)
#: and five more.
CELL_FEATURES: tuple[FeatureSpec, ...] = (
    *FEATURES[:12],
    FeatureSpec("dab_fill_low", "", "share of pixels at DAB >= half the positive threshold"),
    FeatureSpec("visible_dab", "log10 OD", "mean DAB over the pixels outside the grown pigment mask (0 if none)"),
    FeatureSpec("ring_dab", "log10 OD", "mean DAB of the ring of ring_um around the nucleus"),
    FeatureSpec("circularity", "", "4 pi area / perimeter^2 of the nucleus (the detector's)"),
    FeatureSpec("eccentricity", "", "eccentricity of the nucleus's fitted ellipse (the detector's)"),
)


def cell_features(labels: np.ndarray, od: np.ndarray, hem: np.ndarray, dab: np.ndarray, hidden: np.ndarray,
                  mask: np.ndarray, near_black: np.ndarray, circularity: np.ndarray, eccentricity: np.ndarray, *,
                  mpp: float, positive_od: float) -> np.ndarray:
    """(n, len(CELL_FEATURES)) float32 rows of the pigment-cell model for the nuclei ``1..n`` of ``labels``.

    Arguments as :func:`nucleus_features`, plus the detector's ``circularity`` and ``eccentricity``
    ((n,) each). Every column reads the nucleus and rings around it only (at most ``wide_ring_um``
    and the ``grain_um`` filter away), so a nucleus gets the same row in every tile that holds
    that reach around it.
    """
    base = nucleus_features(labels, od, hem, dab, hidden, mask, near_black, mpp=mpp, positive_od=positive_od)[:, :12]
    n = base.shape[0]
    if not n:
        return np.zeros((0, len(CELL_FEATURES)), np.float32)
    flat = np.asarray(labels).ravel()
    d = np.asarray(dab, np.float64).ravel()
    area = np.maximum(np.bincount(flat, minlength=n + 1)[1: n + 1], 1.0)
    low = np.bincount(flat, (d >= 0.5 * positive_od).astype(np.float64), minlength=n + 1)[1: n + 1] / area
    vis = ~np.asarray(hidden, bool).ravel()
    n_vis = np.bincount(flat, vis.astype(np.float64), minlength=n + 1)[1: n + 1]
    vis_dab = np.bincount(flat, d * vis, minlength=n + 1)[1: n + 1] / np.maximum(n_vis, 1.0)
    ring = _ring_labels(labels, max(1, round(SETTINGS["ring_um"] / mpp))).ravel()
    ring_area = np.maximum(np.bincount(ring, minlength=n + 1)[1: n + 1], 1)
    ring_dab = np.bincount(ring, d, minlength=n + 1)[1: n + 1] / ring_area
    extra = np.column_stack([low, vis_dab, ring_dab, np.asarray(circularity, np.float64),
                             np.asarray(eccentricity, np.float64)]).astype(np.float32)
    out = np.concatenate([base, extra], axis=1)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def _ring_labels(labels: np.ndarray, ring_px: int) -> np.ndarray:
    """Background pixels whose largest label within a square of side ``2 ring_px + 1`` is the
    nucleus, labelled with it (the ring ``quantify._ki67_contrast`` reads, computed the same way)."""
    from ..detect._morphology import _square_extreme

    grown = _square_extreme(labels, 2 * ring_px + 1, op="max")
    return np.where(labels == 0, grown, 0)


@lru_cache(maxsize=4)
def _load(path: str, size: int, mtime_ns: int) -> ClassifierModel:  # size, mtime_ns: cache keys only
    model = load_model(path, kind=MODEL_KIND)
    if model.settings.get("task") != MODEL_TASK or model.feature_names != tuple(f.name for f in FEATURES):
        msg = (f"{path} is not a hidden-nucleus model with features {[f.name for f in FEATURES]} "
               f"(task {model.settings.get('task')!r}, features {list(model.feature_names)})")
        raise ConfigError(msg)
    check_feature_settings(model, SETTINGS, ("ring_um", "wide_ring_um", "grain_um"), path=path)
    return model


def resolve_hidden_model(name: str) -> ClassifierModel | None:
    """The model ``Ki67Params.hidden_model`` names: ``"none"`` -> None, ``"default"`` -> the shipped
    ``hidden_nuclei_dab.mmnst``, anything else a path to a ``.mmnst`` file."""
    if name == "none":
        return None
    path = model_file(name, _MODELS, param="Ki67Params.hidden_model")
    st = path.stat()  # the file's version keys the cache: a rewritten file is read again
    return _load(str(path.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=4)
def _load_cells(path: str, size: int, mtime_ns: int) -> ClassifierModel:  # size, mtime_ns: cache keys only
    model = load_model(path, kind=MODEL_KIND)
    if (model.settings.get("task") != CELL_TASK or model.feature_names != tuple(f.name for f in CELL_FEATURES)
            or tuple(model.class_names) != CELL_CLASSES):
        msg = (f"{path} is not a pigment-cell model with classes {list(CELL_CLASSES)} and features "
               f"{[f.name for f in CELL_FEATURES]} (task {model.settings.get('task')!r}, classes "
               f"{list(model.class_names)}, features {list(model.feature_names)})")
        raise ConfigError(msg)
    check_feature_settings(model, SETTINGS, ("ring_um", "wide_ring_um", "grain_um", "near_black_od", "positive_od"),
                           path=path)
    return model


def resolve_cell_model(name: str) -> ClassifierModel | None:
    """The model ``Ki67Params.pigment_cell_model`` names: ``"none"`` -> None, ``"default"`` -> the
    shipped ``pigment_cells_dab.mmnst``, anything else a path to a ``.mmnst`` file."""
    if name == "none":
        return None
    path = model_file(name, _CELL_MODELS, param="Ki67Params.pigment_cell_model")
    st = path.stat()
    return _load_cells(str(path.resolve()), st.st_size, st.st_mtime_ns)


def hidden_probability(model: ClassifierModel, features: np.ndarray) -> np.ndarray:
    """(n,) probability that each nucleus is hidden under pigment (class ``hidden``)."""
    if not len(features):
        return np.zeros(0, np.float64)
    col = model.class_names.index("hidden")
    return model.predict_proba(np.asarray(features, np.float32))[:, col]
