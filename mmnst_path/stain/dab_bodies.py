"""DAB or AEC from the chromogen-stained bodies of an image (issue #14, session 36).

A brownish AEC (a brown AEC vector, weak staining, tinted glass) peaks between AEC's boundary
``AEC_DEG`` and DAB and is named H-DAB by the colour rules of :mod:`mmnst_path.stain.guess`. Colour
read over the whole tile's chromogen pixels could not tell it from reddish DAB (session 35: a model on
20 such features renamed a DAB tile at p 0.962). This module reads the chromogen one stained body
(a positive nucleus or a blob of chromogen pixels of nucleus size) at a time, against the tile's own
hematoxylin, and pools the bodies per tile as quantiles (:data:`BODY_FEATURES`, :func:`body_features`):

- each body's hue between DAB and AEC in the plane orthogonal to the tile's own hematoxylin (the
  mean direction of its hematoxylin-dominated pixels), as a fraction of the DAB-to-AEC angle;
- how well two stains explain each body: the least-squares residual of its OD with the tile's
  hematoxylin and DAB, minus the one with the tile's hematoxylin and AEC, over its OD;
- darkness against hue: the slope of the bodies' hue against their log OD (DAB browns as it darkens
  and saturates, AEC holds its hue) and the same slope within each body;
- granularity: the spread of the OD within each body over its mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._stain_guess import StainGuess
    from .he_model import LinearStainModel

__all__ = ["AEC_P", "AEC_REF", "BODY_AREA_UM2", "BODY_FEATURES", "DAB_CLASSES", "DAB_FEATURES", "DAB_MODEL_FILE",
           "DAB_MODEL_MAX_DEG", "MIN_BODIES", "body_features", "by_dab_model", "dab_model_path", "dab_row",
           "load_dab_model"]

#: Ruifrok & Johnston's AEC OD vector (the reference the hue fraction is read against; DAB is
#: :data:`mmnst_path.stain.guess._DAB`).
AEC_REF = (0.2743, 0.6796, 0.6803)
#: Area of a stained body (µm² of connected chromogen pixels): a 4-14 µm nucleus or a blob of that size.
BODY_AREA_UM2 = (12.0, 150.0)
#: Fewer bodies than this: no row (the model is not asked).
MIN_BODIES = 5
#: Hematoxylin-dominated pixels (residual off Ruifrok's hematoxylin below this share of the OD, OD norm
#: above :data:`HEM_MIN_OD`) give the tile's own hematoxylin; fewer than :data:`HEM_MIN_PIXELS`: Ruifrok's.
HEM_MAX_SHARE = 0.2
HEM_MIN_OD = 0.15
HEM_MIN_PIXELS = 50

#: (name, unit, description) of the features, in row order.
BODY_FEATURES: tuple[tuple[str, str, str], ...] = (
    ("hue_q10", "1", "10th percentile over the bodies of the body's median hue (0 DAB, 1 AEC, own hematoxylin removed)"),
    ("hue_q50", "1", "median over the bodies of the body's median hue"),
    ("hue_q90", "1", "90th percentile over the bodies of the body's median hue"),
    ("hue_dense", "1", "median hue of the darkest quarter of the bodies"),
    ("hue_pale", "1", "median hue of the palest quarter of the bodies"),
    ("fit_q25", "1", "25th percentile over the bodies of (residual with DAB - residual with AEC) / OD"),
    ("fit_q50", "1", "median over the bodies of (residual with DAB - residual with AEC) / OD"),
    ("fit_q75", "1", "75th percentile over the bodies of (residual with DAB - residual with AEC) / OD"),
    ("slope_between", "1 per ln OD", "least-squares slope of the bodies' hue on their log mean OD"),
    ("slope_within", "1 per ln OD", "median over the bodies of the slope of pixel hue on log OD within the body"),
    ("od_q50", "OD", "median over the bodies of the body's mean OD norm"),
    ("od_q90", "OD", "90th percentile over the bodies of the body's mean OD norm"),
    ("share_q50", "1", "median over the bodies of the body's residual share (off the tile's hematoxylin) of its OD"),
    ("grain_q50", "1", "median over the bodies of the OD norm's standard deviation over its mean within the body"),
    ("hem_turn", "degree", "angle between the tile's own hematoxylin and Ruifrok & Johnston's"),
    ("log_bodies", "ln count", "log of the number of bodies"),
)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _own_hematoxylin(od: np.ndarray, ruifrok: np.ndarray) -> np.ndarray:
    """Mean direction of the hematoxylin-dominated OD vectors (N, 3) of the tissue; Ruifrok's when too few."""
    norm = np.linalg.norm(od, axis=1)
    resid = od - (od @ ruifrok)[:, None] * ruifrok
    share = np.linalg.norm(resid, axis=1) / np.maximum(norm, 1e-9)
    sel = (norm > HEM_MIN_OD) & (share < HEM_MAX_SHARE)
    if int(sel.sum()) < HEM_MIN_PIXELS:
        return ruifrok
    return _unit((od[sel] / norm[sel, None]).mean(axis=0))


def _fit_residual(od: np.ndarray, h: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Norm of the least-squares residual of OD vectors (N, 3) on the plane of stains ``h`` and ``c``."""
    basis = np.stack([h, c], axis=1)  # (3, 2)
    coef, *_ = np.linalg.lstsq(basis, od.T, rcond=None)
    return np.linalg.norm(od - (basis @ coef).T, axis=1)


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of ``y`` on ``x`` (0 when ``x`` does not vary)."""
    dx = x - x.mean()
    den = float(dx @ dx)
    return float(dx @ (y - y.mean())) / den if den > 1e-12 else 0.0


def body_features(images: Sequence[tuple[np.ndarray, np.ndarray | None]], mpp: float,
                  white: tuple[float, float, float] = (255.0, 255.0, 255.0)) -> np.ndarray | None:
    """The :data:`BODY_FEATURES` row of the chromogen-stained bodies of one slide's images.

    Parameters
    ----------
    images : sequence of ((M, N, 3) uint8 ndarray, (M, N) bool ndarray or None)
        RGB images of the slide at ``mpp`` and their tissue masks (None: all tissue): a tile or fine
        thumbnail, or the patches of :func:`mmnst_path.stain.places.tissue_patches`.
    mpp : float
        µm per pixel of the images.
    white : tuple of 3 float
        White point the OD is taken against (the guess's).

    Returns
    -------
    (F,) float64 ndarray or None
        None when fewer than :data:`MIN_BODIES` bodies are found.

    Raises
    ------
    ValueError
        ``mpp`` is not a positive number.
    """
    from scipy import ndimage as ndi

    from . import od_from_rgb
    from .guess import _DAB, _H, CHROMOGEN_MIN_OD, CHROMOGEN_MIN_SHARE, MIN_OD

    if not (math.isfinite(mpp) and mpp > 0):
        raise ValueError(f"mpp must be a positive number of µm per pixel, got {mpp!r}")
    ruifrok = np.asarray(_H, np.float64)
    ods = []
    for rgb, tissue in images:
        od = od_from_rgb(np.asarray(rgb), background=white).astype(np.float64)
        keep = np.ones(od.shape[:2], bool) if tissue is None else np.asarray(tissue, bool)
        ods.append((od, keep))
    pooled = np.concatenate([od[keep] for od, keep in ods]) if ods else np.zeros((0, 3))
    pooled = pooled[np.linalg.norm(pooled, axis=1) > MIN_OD]
    h = _own_hematoxylin(pooled, ruifrok)
    dab_p = _unit(np.asarray(_DAB) - (np.asarray(_DAB) @ h) * h)
    aec = _unit(np.asarray(AEC_REF, np.float64))
    aec_p = _unit(aec - (aec @ h) * h)
    e2 = _unit(aec_p - (aec_p @ dab_p) * dab_p)
    span = math.atan2(float(aec_p @ e2), float(aec_p @ dab_p))
    lo, hi = BODY_AREA_UM2[0] / (mpp * mpp), BODY_AREA_UM2[1] / (mpp * mpp)
    rows: list[tuple[float, float, float, float, float, float]] = []
    for od, keep in ods:
        norm = np.linalg.norm(od, axis=2)
        resid = od - (od @ ruifrok)[..., None] * ruifrok
        m = np.linalg.norm(resid, axis=2)
        chrom = keep & (norm > MIN_OD) & (m >= CHROMOGEN_MIN_OD) & (m >= CHROMOGEN_MIN_SHARE * norm)
        lab, n = ndi.label(chrom)
        if n == 0:
            continue
        sizes = np.bincount(lab.ravel())
        for k, sl in enumerate(ndi.find_objects(lab), start=1):
            if sl is None or not (lo <= sizes[k] <= hi):
                continue
            px = od[sl][lab[sl] == k]
            pn = np.linalg.norm(px, axis=1)
            r = px - (px @ h)[:, None] * h
            hue = np.arctan2(r @ e2, r @ dab_p) / span
            fit = (_fit_residual(px, h, np.asarray(_DAB)) - _fit_residual(px, h, aec)) / np.maximum(pn, 1e-9)
            mean_od = float(pn.mean())
            rows.append((float(np.median(hue)), float(np.mean(fit)), mean_od,
                         _slope(np.log(np.maximum(pn, 1e-3)), hue),
                         float(np.linalg.norm(r, axis=1).mean()) / max(mean_od, 1e-9),
                         float(pn.std()) / max(mean_od, 1e-9)))
    if len(rows) < MIN_BODIES:
        return None
    b = np.asarray(rows)
    hue, fit, od_b = b[:, 0], b[:, 1], b[:, 2]
    order = np.argsort(od_b)
    q = max(1, len(order) // 4)
    ruifrok_turn = math.degrees(math.acos(float(np.clip(h @ ruifrok, -1.0, 1.0))))
    return np.array([
        *np.percentile(hue, [10, 50, 90]),
        float(np.median(hue[order[-q:]])), float(np.median(hue[order[:q]])),
        *np.percentile(fit, [25, 50, 75]),
        _slope(np.log(np.maximum(od_b, 1e-3)), hue), float(np.median(b[:, 3])),
        *np.percentile(od_b, [50, 90]),
        float(np.median(b[:, 4])), float(np.median(b[:, 5])),
        ruifrok_turn, math.log(len(rows)),
    ], np.float64)


# --- the model ------------------------------------------------------------------------------------

#: The shipped DAB-vs-AEC model, in ``mmnst_path/models``.
DAB_MODEL_FILE = "stains_dab_aec.json"
#: Classes of the model, in probability order: the probability is the one of ``"aec"``.
DAB_CLASSES = ("dab", "aec")
#: The model's features: :data:`BODY_FEATURES` and the colour rule's chromogen peak.
DAB_FEATURES: tuple[tuple[str, str, str], ...] = (
    *BODY_FEATURES, ("peak_deg", "degree", "angle of the reddest peak of the chromogen pixels' histogram (the rule's)"))
#: The model is asked only about a single H-DAB guess whose chromogen peak lies redder than this (degrees
#: from DAB). Real DAB scans lie at +5.5 to +12.5° (``benchmarks/eval_stain_guess.py --real``) and the
#: README's sample Ki67 tiles at +3.5 to +6.5°, so none of them is asked (session 35 H6).
DAB_MODEL_MAX_DEG = 3.0
#: An H-DAB guess becomes H-AEC at this AEC probability and above. Chosen with the trainer's C on dev seeds
#: 40-55 (``benchmarks/experiments/dab_aec_bodies_s36.py choose``, session 36 H5; rule written before the dev
#: rows: no dev DAB tile renamed, AEC_P at least 0.02 above the largest dev DAB p, then the most AEC gained):
#: 15 of the 34 dev AEC tiles asked are named H-AEC and none of the 91 DAB tiles asked (largest DAB p 0.837).
AEC_P = 0.9


def dab_model_path() -> Path:
    """Path of the shipped model file."""
    from .. import _models_dir

    return _models_dir.models_dir() / DAB_MODEL_FILE


def load_dab_model(path: str | Path | None = None) -> LinearStainModel:
    """The DAB-vs-AEC model (default: the shipped one), loaded and checked once per file version."""
    from .he_model import load_checked

    return load_checked(Path(path) if path is not None else dab_model_path(), DAB_CLASSES, DAB_FEATURES)


def dab_row(guess: StainGuess, images: Sequence[tuple[np.ndarray, np.ndarray | None]], mpp: float) -> np.ndarray | None:
    """The model's row of ``guess`` (None: not asked, or too few bodies): only a single H-DAB guess
    whose peak lies redder than :data:`DAB_MODEL_MAX_DEG`, on images fine enough to resolve nuclei."""
    from .places import PLACES_MAX_MPP

    if (guess.name != "H-DAB" or guess.marker or not math.isfinite(guess.chromogen_deg)
            or guess.chromogen_deg >= DAB_MODEL_MAX_DEG or not 0 < mpp <= PLACES_MAX_MPP):
        return None
    body = body_features(images, mpp, guess.white_point)
    return None if body is None else np.append(body, guess.chromogen_deg)


def by_dab_model(guess: StainGuess, images: Sequence[tuple[np.ndarray, np.ndarray | None]], mpp: float,
                 model: LinearStainModel | None = None) -> StainGuess:
    """``guess`` with a single H-DAB guess redder than DAB named H-AEC (flagged ambiguous, H-DAB to
    pass) when the model's AEC probability is at least :data:`AEC_P`; any other guess unchanged.

    Parameters
    ----------
    guess : StainGuess
        The guess after the colour and place rules.
    images : sequence of ((M, N, 3) uint8 ndarray, (M, N) bool ndarray or None)
        The images the guess was made on, at ``mpp`` (the thumbnail or the slide's patches).
    mpp : float
        µm per pixel of ``images``.
    model : LinearStainModel, optional
        Default: the shipped one (:func:`load_dab_model`).
    """
    row = dab_row(guess, images, mpp)
    if row is None:
        return guess
    model = model if model is not None else load_dab_model()
    p = float(model.probability(row)[0])
    text = f"; the DAB-vs-AEC body model reads AEC at p = {p:.2f}"
    if p >= AEC_P:
        return replace(guess, name="H-AEC", ambiguous=True, alternative="H-DAB", dab_features=row, aec_probability=p,
                       reason=f"{guess.reason}{text} (from {AEC_P:.2f}): H-AEC")
    return replace(guess, dab_features=row, aec_probability=p, reason=guess.reason + text)
