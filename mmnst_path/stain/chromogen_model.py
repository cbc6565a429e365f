"""AEC or Fast Red: a learned choice between the red chromogens (issue #14, session 34).

:func:`mmnst_path.stain.guess.guess_stains_detail` names a red chromogen by the angle of the reddest
peak of its chromogen pixels (``FAST_RED_DEG``). The angles overlap: plain AEC renders at -17 to
-24° from DAB, Fast Red drawn brownish, weak or on tinted glass at -17 to -27°, so a Fast Red slide
was named H-AEC on 53 of 240 generated dev tiles (seeds 40-63 of ``benchmarks/eval_stain_guess.py``)
and got AEC's preset (its positive threshold 0.35 OD instead of Fast Red's 0.25). The rule never
named an AEC tile H-FastRed there. This module's logistic model reads more than the peak: the
angle quantiles of the red chromogen pixels and of the denser half of them, how much of them lies
beyond ``FAST_RED_DEG``, their residual share and density, and how much of the pale tissue is tinted
red below ``RED_DEG`` (Fast Red tints the pale rims and cytoplasm, AEC does not: the same quantity
names a SOX10 marker, ``SOX10_FAST_RED_PINK``) (:data:`FEATURES`).

It is used after the colour rules and the double-stain rules, on single red-chromogen guesses only:
an ``H-AEC`` guess becomes ``H-FastRed`` when the model's Fast Red probability is at least
:data:`FAST_RED_P` (a confident call: AEC named Fast Red costs as much as the reverse, and the rule
makes only the one error). It never touches an H-DAB, H&E, azure B or double-stain guess, so no DAB
slide can turn red through it. ``H-FastRed`` guesses keep their name (the probability is recorded).

The model is data: ``mmnst_path/models/stains_chromogen.json`` in the format of
:mod:`mmnst_path.stain.he_model` (pickle-free JSON with its classes, features, standardisation,
coefficients, model card and embedded test rows; a damaged file gets a one-line
:class:`~mmnst_path.errors.CorruptFileError`). Trained by ``scripts/train_chromogen_model.py`` on
generated tiles (seeds 1000-1019) only: no permissively licensed real AEC or Fast Red slide exists
in the training pack.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from .guess import (
    AEC_DEG,
    CHROMOGEN_MIN_OD,
    CHROMOGEN_MIN_SHARE,
    FAST_RED_DEG,
    PINK_MIN_OD,
    RED_DEG,
    StainGuess,
)
from .he_model import LinearStainModel, load_checked

__all__ = ["CHROMOGEN_MODEL_FILE", "CLASSES", "FAST_RED_P", "FEATURES", "MIN_RED_PIXELS", "by_chromogen_model", "chromogen_features",
           "load_chromogen_model", "shipped_path"]

#: The shipped model, in ``mmnst_path/models``.
CHROMOGEN_MODEL_FILE = "stains_chromogen.json"
#: Classes of the model, in probability order: the probability is the one of ``"fast_red"``.
CLASSES = ("aec", "fast_red")
#: An H-AEC guess becomes H-FastRed at this Fast Red probability and above. Chosen on dev seeds
#: 40-63 with C (``scripts/train_chromogen_model.py``; benchmarks/experiments/chromogen_model_s34.py):
#: the right AEC tiles the rule names H-AEC reach p = 0.87 (the reddest AEC drawn), so no AEC is lost
#: there, and 32 of the 53 Fast Red tiles named H-AEC are named right (0.9: 35, the margin 0.03).
FAST_RED_P = 0.95
#: Fewer red chromogen pixels than this: no features (the rule's name stands). Too little red to read
#: more than its peak: fat and empty glass of real H&E (Kather 2016 adipose / empty tiles the rules name
#: H-AEC: 18-185 such pixels, which the model would read as Fast Red), where every generated AEC and
#: Fast Red tile the rules name red holds at least 406 (dev seeds 40-63).
MIN_RED_PIXELS = 300
#: Residual share of a pixel "red by its share" (however faint), as the H&E model's ``pink_rel``.
_REL_SHARE = 0.15

#: (name, unit, description) of the model's feature columns, in order. "Red chromogen pixels":
#: residual >= ``CHROMOGEN_MIN_OD`` (0.15 log10 OD) and >= ``CHROMOGEN_MIN_SHARE`` (0.3) of the
#: pixel's OD, at an angle below ``AEC_DEG`` (-5.7° from DAB).
FEATURES: tuple[tuple[str, str, str], ...] = (
    ("peak_deg", "degree", "angle of the reddest peak of the chromogen pixels' histogram (the rule's)"),
    ("q10_deg", "degree", "10th percentile of the red chromogen pixels' angle"),
    ("q25_deg", "degree", "25th percentile of the red chromogen pixels' angle"),
    ("q50_deg", "degree", "median of the red chromogen pixels' angle"),
    ("q75_deg", "degree", "75th percentile of the red chromogen pixels' angle"),
    ("q90_deg", "degree", "90th percentile of the red chromogen pixels' angle"),
    ("dense_deg", "degree", "median angle of the denser half (OD norm) of the red chromogen pixels"),
    ("fast_red_side", "fraction", "red chromogen pixels below FAST_RED_DEG (-27°)"),
    ("red_share", "fraction", "median share of the OD off the hematoxylin axis, red chromogen pixels"),
    ("red_od", "log10 OD", "median OD norm of the red chromogen pixels"),
    ("red_resid", "log10 OD", "median residual of the red chromogen pixels"),
    ("pink_share", "fraction", "tissue pixels with a residual >= 0.04 OD below -20° (StainGuess.pink_share)"),
    ("pink_rel", "fraction", "tissue pixels red by >= 0.15 of their OD below -20°, however faint"),
    ("pink_light", "fraction", "pink_share of the lighter half of the tissue (OD norm)"),
    ("tint_light_deg", "degree", "median angle of the lighter half's pixels with a residual >= 0.02 OD"),
    ("log_red_frac", "log", "log of the tissue share of red chromogen pixels (+1e-4)"),
    ("faint_red_deg", "degree", "median angle of faint red pixels (0.04-0.15 OD residual, -90° to -5.7°)"),
    ("rel_red_deg", "degree", "median angle of pixels red by >= 0.3 of their OD (>= 0.04 OD, -90° to -5.7°)"),
    ("pale_red_deg", "degree", "rel_red_deg in the lighter half of the tissue"),
    ("weighted_deg", "degree", "residual-weighted mean angle of the red chromogen pixels"),
)


def chromogen_features(first: tuple[np.ndarray, np.ndarray, np.ndarray], chromogen: tuple[np.ndarray, np.ndarray, np.ndarray],
                       peak_deg: float) -> np.ndarray | None:
    """The :data:`FEATURES` row of an image (None: fewer than :data:`MIN_RED_PIXELS` red chromogen
    pixels or no peak).

    ``first`` is the tissue pixels' (residual norm, angle in degrees from DAB, OD norm) against the
    image's white point, ``chromogen`` the same against the white point the chromogen angle is read
    with (the glass's, or pure white when no glass is seen; the two may be one), as
    :func:`mmnst_path.stain.guess.guess_stains_detail` computes them; ``peak_deg`` the rule's peak.
    """
    m0, th0, n0 = (np.asarray(a, np.float64) for a in first)
    m, theta, norm = (np.asarray(a, np.float64) for a in chromogen)
    if not math.isfinite(peak_deg) or not m0.size or not m.size:
        return None
    share = m / np.maximum(norm, 1e-6)
    red = (m >= CHROMOGEN_MIN_OD) & (share >= CHROMOGEN_MIN_SHARE) & (theta < AEC_DEG)
    th = theta[red]
    if th.size < MIN_RED_PIXELS:
        return None
    q = np.percentile(th, [10, 25, 50, 75, 90])
    nr = norm[red]
    # the first white point's pixels: pink shares and the pale tint
    red0 = (m0 >= PINK_MIN_OD) & (th0 < RED_DEG)
    lo0 = np.quantile(n0, 0.5)
    light0 = n0 <= lo0
    tint = (m0 >= 0.5 * PINK_MIN_OD) & light0
    pink_rel = (m0 / np.maximum(n0, 1e-6) >= _REL_SHARE) & (th0 < RED_DEG)
    faint = (m >= PINK_MIN_OD) & (m < CHROMOGEN_MIN_OD) & (theta < AEC_DEG) & (theta > -90.0)
    rel = (share >= CHROMOGEN_MIN_SHARE) & (theta < AEC_DEG) & (theta > -90.0) & (m >= PINK_MIN_OD)
    pale = rel & (norm <= np.quantile(norm, 0.5))
    w = m[red]
    row = (
        float(peak_deg), *(float(v) for v in q),
        float(np.median(th[nr >= np.median(nr)])),
        float(np.mean(th < FAST_RED_DEG)),
        float(np.median(share[red])), float(np.median(nr)), float(np.median(w)),
        float(np.mean(red0)), float(np.mean(pink_rel)), float(np.mean(red0[light0])),
        float(np.median(th0[tint])) if tint.any() else 0.0,
        math.log(float(red.sum()) / m.size + 1e-4),
        float(np.median(theta[faint])) if faint.any() else float(q[2]),
        float(np.median(theta[rel])) if rel.any() else float(q[2]),
        float(np.median(theta[pale])) if pale.any() else float(q[2]),
        float(np.sum(th * w) / np.sum(w)),
    )
    return np.asarray(row, np.float64)


def shipped_path() -> Path:
    from .. import _models_dir

    return _models_dir.models_dir() / CHROMOGEN_MODEL_FILE


def load_chromogen_model(path: str | Path | None = None) -> LinearStainModel:
    """The AEC-vs-Fast-Red model (default: the shipped one), loaded and checked once per file version."""
    return load_checked(Path(path) if path is not None else shipped_path(), CLASSES, FEATURES)


def by_chromogen_model(guess: StainGuess, model: LinearStainModel | None = None) -> StainGuess:
    """``guess`` with a single red chromogen named by the model (module docstring); any other
    guess, or one without features, unchanged."""
    row = guess.chromogen_features
    if guess.name not in ("H-AEC", "H-FastRed") or row is None:
        return guess
    model = model if model is not None else load_chromogen_model()
    p = float(model.probability(row)[0])
    text = f"; the chromogen model reads Fast Red at p = {p:.2f}"
    if guess.name == "H-AEC" and p >= FAST_RED_P:
        return replace(guess, name="H-FastRed", alternative="H-AEC", chromogen_probability=p,
                       reason=f"{guess.reason}{text} (from {FAST_RED_P:.2f}): H-FastRed")
    return replace(guess, chromogen_probability=p, reason=guess.reason + text)
