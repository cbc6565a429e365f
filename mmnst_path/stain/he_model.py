"""H&E or immunohistochemistry: a learned decision from the colour of the tissue (issue #14).

:func:`mmnst_path.stain.guess.guess_stains_detail` first asks whether an image is H&E (eosin
counterstaining the cytoplasm and stroma) or an IHC (hematoxylin with a chromogen: DAB, AEC,
Fast Red, azure B). The pink share alone (the share of tissue with a red residual) misread real
H&E with pale eosin: BRCA-M2C (TCGA breast) patches with 7-40 % pink and Kather's colorectal
tiles were taken for H-DAB ("no chromogen"), H-AEC or H-FastRed (eosin's own angle, -30 to -90°,
taken for a red chromogen's peak). This module replaces that rule by a logistic model on scale-free
colour statistics of the hematoxylin-free residual (:func:`he_features`): how much of the light
tissue is pink, whether the red sits in the dense nuclei (a chromogen) or the light tissue (eosin),
how far the red lies beyond any red chromogen's angle, how brown or blue the rest is.

The model is data: a JSON file (``mmnst_path/models/stains_he.json``) with its classes, features,
standardisation, coefficients, a model card (training data and licences, validation figures) and
embedded test rows. Loading reads only JSON, checks the format, version, classes, feature names, the numeric fields
(shapes, finite), the content id and re-predicts the (at least four) test rows; a damaged, edited or
foreign file gets a :class:`~mmnst_path.errors.CorruptFileError` naming the file and
the problem. Trained by ``scripts/train_stain_model.py`` on generated tiles of every protocol and
on permissively licensed real tiles (CC BY 4.0 / BSD-3); the research-only Ki67 sets of
``../shared/data`` only validate it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptFileError
from .guess import CHROMOGEN_MIN_OD as _CHROM_OD
from .guess import CHROMOGEN_MIN_SHARE as _CHROM_SHARE
from .guess import PINK_MIN_OD as _RESID_OD
from .guess import RED_DEG as _RED_DEG

__all__ = ["CLASSES", "FEATURES", "HE_MODEL_FILE", "MIN_PIXELS", "LinearStainModel", "he_features", "load_he_model",
           "read_model"]

FORMAT = "mmnst_path.linear_model"
FORMAT_VERSION = 1
#: The shipped model, in ``mmnst_path/models``.
HE_MODEL_FILE = "stains_he.json"
#: Classes of the model, in probability order: the probability is the one of ``"he"``.
CLASSES = ("ihc", "he")
#: Embedded test rows a model file must hold.
_MIN_TEST_ROWS = 4

# The residual (log10 OD) from which a pixel has a colour of its own (``_RESID_OD``), red below
# ``_RED_DEG`` (DAB at 0°), and a chromogen-dominated pixel (``_CHROM_OD``, ``_CHROM_SHARE``) are the
# rule's own thresholds (imported above): the model's features and the fallback rule read the same
# pixels. Changing one of them changes the features the shipped model was fitted on: retrain it
# (``scripts/train_stain_model.py``) and re-run ``benchmarks/eval_stain_guess.py --real``.
#: Beyond every red chromogen: Fast Red lies at -42°, its redder renderings at about -48°.
_EOSIN_DEG = -52.0
#: Fewer tissue pixels than this: no features (the guess falls back to the pink-share rule).
MIN_PIXELS = 80
#: A pixel tinted by a second stain relative to its own density: this share of its OD off hematoxylin.
_REL_SHARE = 0.15


def _median_or(values: np.ndarray, empty: float) -> float:
    return float(np.median(values)) if values.size else empty

#: (name, unit, description) of the model's feature columns, in order.
FEATURES: tuple[tuple[str, str, str], ...] = (
    ("pink_share", "fraction", "tissue pixels with a red residual (>= 0.04 OD, below -20° from DAB)"),
    ("pink_light", "fraction", "pink share of the lighter half of the tissue (OD norm at most its median)"),
    ("red_chromogen_dense", "fraction", "densest quarter of the tissue (OD norm) dominated by a red residual "
                                        "(>= 0.15 OD and >= 0.3 of the pixel's OD)"),
    ("log_red_dense_ratio", "log", "log of red_chromogen_dense over pink_light (+0.01 each): red in the dense "
                                   "nuclei (a chromogen) rather than spread over the light tissue (eosin)"),
    ("eosin_far_share", "fraction", "tissue pixels with a residual at least 0.04 OD redder than -52° "
                                    "(beyond any red chromogen)"),
    ("brown_share", "fraction", "tissue pixels with a residual >= 0.04 OD between -20° and +30° (DAB, melanin)"),
    ("blue_share", "fraction", "tissue pixels with a residual >= 0.04 OD beyond +30° (grey-blue, azure B)"),
    ("resid_light", "fraction", "median share of the OD off the hematoxylin axis, lighter half of the tissue"),
    ("resid_dense", "fraction", "median share of the OD off the hematoxylin axis, densest quarter"),
    ("pink_deg", "degree", "median angle of the red residuals (-20 when there are none)"),
    ("od_light", "log10 OD", "median OD norm of the lighter half of the tissue"),
    ("od_dense", "log10 OD", "OD norm at the 90th percentile of the tissue"),
    ("hematoxylin_only", "fraction", "tissue pixels with a residual below 0.04 OD (hematoxylin alone)"),
    ("pink_rel", "fraction", "tissue pixels red by at least 0.15 of their OD (below -20°), however faint"),
    ("pink_rel_light", "fraction", "pink_rel in the lighter half of the tissue"),
    ("brown_rel", "fraction", "tissue pixels brown by at least 0.15 of their OD (-20° to +30°)"),
    ("tint_deg", "degree", "median residual angle of the tissue pixels with a residual >= 0.02 OD"),
    ("tint_light_deg", "degree", "tint_deg in the lighter half of the tissue"),
)


def he_features(m: np.ndarray, theta: np.ndarray, norm: np.ndarray) -> np.ndarray | None:
    """The :data:`FEATURES` row of an image from its tissue pixels' residual norm ``m``, residual
    angle ``theta`` (degrees from DAB) and OD norm ``norm`` (1-D, finite, one length, as
    :func:`mmnst_path.stain.guess._residuals` gives them); None with fewer than :data:`MIN_PIXELS`."""
    m = np.asarray(m, np.float64)
    theta = np.asarray(theta, np.float64)
    norm = np.asarray(norm, np.float64)
    if m.ndim != 1 or m.shape != theta.shape or m.shape != norm.shape:
        msg = f"residual norm, angle and OD norm must be 1-D of one length, got {m.shape}, {theta.shape}, {norm.shape}"
        raise ValueError(msg)
    if m.shape[0] < MIN_PIXELS:
        return None
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(theta)) and np.all(np.isfinite(norm))):
        raise ValueError("residual norm, angle and OD norm must be finite")
    coloured = m >= _RESID_OD
    red = coloured & (theta < _RED_DEG)
    lo, hi, top = np.quantile(norm, [0.5, 0.75, 0.9])
    light = norm <= lo
    dense = norm >= hi
    share = m / np.maximum(norm, 1e-6)
    rel = share >= _REL_SHARE
    tinted = m >= 0.5 * _RESID_OD
    pink_light = float(np.mean(red[light]))
    chrom = red & (m >= _CHROM_OD) & (share >= _CHROM_SHARE)
    red_dense = float(np.mean(chrom[dense]))
    row = (
        float(np.mean(red)),
        pink_light,
        red_dense,
        math.log((red_dense + 0.01) / (pink_light + 0.01)),
        float(np.mean(coloured & (theta < _EOSIN_DEG))),
        float(np.mean(coloured & (theta >= _RED_DEG) & (theta < 30.0))),
        float(np.mean(coloured & (theta >= 30.0))),
        float(np.median(share[light])),
        float(np.median(share[dense])),
        float(np.median(theta[red])) if red.any() else _RED_DEG,
        float(np.median(norm[light])),
        float(top),
        float(np.mean(~coloured)),
        float(np.mean(rel & (theta < _RED_DEG))),
        float(np.mean((rel & (theta < _RED_DEG))[light])),
        float(np.mean(rel & (theta >= _RED_DEG) & (theta < 30.0))),
        _median_or(theta[tinted], 0.0),
        _median_or(theta[tinted & light], 0.0),
    )
    return np.asarray(row, np.float64)


@dataclass(frozen=True, eq=False)
class LinearStainModel:
    """A two-class logistic model on standardised features, with its model card.

    ``p = 1 / (1 + exp(-(((x - mean) / scale) . coef + intercept)))`` is the probability of
    ``classes[1]``.
    """

    classes: tuple[str, str]
    features: tuple[tuple[str, str, str], ...]
    mean: np.ndarray = field(repr=False)
    scale: np.ndarray = field(repr=False)
    coef: np.ndarray = field(repr=False)
    intercept: float
    card: dict[str, Any]
    test_x: np.ndarray = field(repr=False)
    test_p: np.ndarray = field(repr=False)

    @property
    def name(self) -> str:
        return str(self.card.get("name", "unnamed"))

    def probability(self, x: np.ndarray) -> np.ndarray:
        """(K, F) features -> (K,) probability of ``classes[1]``."""
        x = np.atleast_2d(np.asarray(x, np.float64))
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))

    def to_json(self) -> dict[str, Any]:
        body = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "classes": list(self.classes),
            "features": [{"name": n, "unit": u, "description": d} for n, u, d in self.features],
            "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
            "intercept": float(self.intercept), "card": self.card,
            "test_x": self.test_x.tolist(), "test_p": self.test_p.tolist(),
        }
        body["id"] = _content_id(body)
        return body

    @functools.cached_property
    def model_id(self) -> str:
        """SHA-256 (16 hex digits) of the file's content; computed once (the model is not to be edited)."""
        return str(self.to_json()["id"])

    @classmethod
    def build(cls, *, classes: Sequence[str], mean: np.ndarray, scale: np.ndarray, coef: np.ndarray,
              intercept: float, card: Mapping[str, Any], test_x: np.ndarray,
              features: tuple[tuple[str, str, str], ...] = FEATURES,
              expected_classes: tuple[str, str] = CLASSES) -> LinearStainModel:
        """A model over ``features`` (default the H&E model's :data:`FEATURES`, whose classes must be
        ``expected_classes``) whose embedded test probabilities are computed now."""
        if tuple(classes) != expected_classes:
            raise ValueError(f"the classes must be {expected_classes}, got {tuple(classes)}")
        model = cls(expected_classes, features, np.asarray(mean, np.float64),
                    np.asarray(scale, np.float64), np.asarray(coef, np.float64), float(intercept),
                    json.loads(json.dumps(dict(card))), np.asarray(test_x, np.float64), np.zeros(0))
        return cls(model.classes, model.features, model.mean, model.scale, model.coef, model.intercept,
                   model.card, model.test_x, model.probability(model.test_x))

    def save(self, path: str | Path) -> None:
        """Write the model as indented JSON (replacing ``path`` whole, never half-written)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(self.to_json(), indent=1) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def _content_id(body: Mapping[str, Any]) -> str:
    text = json.dumps({k: v for k, v in body.items() if k != "id"}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _vector(body: Mapping[str, Any], key: str, n: int, path: Path) -> np.ndarray:
    try:
        v = np.asarray(body[key], np.float64)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CorruptFileError(f"{path}: stain model field {key!r} is missing or not numeric") from exc
    if v.dtype.kind not in "fiu":
        raise CorruptFileError(f"{path}: stain model field {key!r} is not numeric")
    if v.shape != (n,) or not np.all(np.isfinite(v)):
        raise CorruptFileError(f"{path}: stain model field {key!r} must hold {n} finite numbers")
    return v


def read_model(path: str | Path, *, classes: tuple[str, str] = CLASSES,
               features: tuple[tuple[str, str, str], ...] = FEATURES) -> LinearStainModel:
    """Load and check a model file (see the module docstring) whose classes and feature names must be
    these (default: the H&E-vs-IHC model's); CorruptFileError when it is not one."""
    path = Path(path)
    expected = classes
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CorruptFileError(f"{path}: cannot read the stain model ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CorruptFileError(f"{path}: the stain model is not valid JSON ({exc})") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise CorruptFileError(f"{path}: not an mmnst_path stain model (format {FORMAT!r} expected)")
    version = body.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CorruptFileError(f"{path}: stain model format version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise CorruptFileError(f"{path}: stain model format version {version!r} is newer than this mmnst_path "
                               f"reads ({FORMAT_VERSION}); upgrade mmnst_path")
    listed = body.get("features")
    if not isinstance(listed, list):
        raise CorruptFileError(f"{path}: the stain model's features must be a list")
    names = [f.get("name") if isinstance(f, dict) else None for f in listed]
    if names != [n for n, _, _ in features]:
        raise CorruptFileError(f"{path}: the stain model's features {names} are not the ones this mmnst_path "
                               "computes")
    if body.get("classes") != list(expected):
        raise CorruptFileError(f"{path}: the stain model's classes must be {list(expected)} (probability of "
                               f"the second), got {body.get('classes')!r}")
    if body.get("id") != _content_id(body):
        raise CorruptFileError(f"{path}: the stain model's content does not match its id (damaged or edited)")
    n = len(features)
    mean, scale, coef = (_vector(body, k, n, path) for k in ("mean", "scale", "coef"))
    if np.any(scale <= 0):
        raise CorruptFileError(f"{path}: stain model scales must be positive")
    try:
        if not isinstance(body["intercept"], (int, float)) or isinstance(body["intercept"], bool):
            raise TypeError("intercept")
        intercept = float(body["intercept"])
        test_x = np.asarray(body["test_x"], np.float64)
        test_p = np.asarray(body["test_p"], np.float64)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CorruptFileError(f"{path}: stain model intercept or test rows are missing or malformed") from exc
    card = body.get("card")
    if (not isinstance(card, dict) or not math.isfinite(intercept) or test_x.ndim != 2 or test_x.shape[1] != n
            or test_p.shape != (test_x.shape[0],) or test_x.shape[0] < _MIN_TEST_ROWS
            or not np.all(np.isfinite(test_x)) or not np.all(np.isfinite(test_p))):
        raise CorruptFileError(f"{path}: stain model card, intercept or test rows are malformed (at least "
                               f"{_MIN_TEST_ROWS} finite test rows of {n} features needed)")
    model = LinearStainModel(expected, features, mean, scale, coef, intercept, card, test_x, test_p)
    if not np.allclose(model.probability(test_x), test_p, rtol=0, atol=1e-9):
        raise CorruptFileError(f"{path}: the stain model does not reproduce its embedded test probabilities")
    for a in (mean, scale, coef, test_x, test_p):
        a.setflags(write=False)
    return model


def shipped_path() -> Path:
    from .. import _models_dir

    return _models_dir.models_dir() / HE_MODEL_FILE


@functools.lru_cache(maxsize=8)
def _cached(path: str, size: int, mtime_ns: int, classes: tuple[str, str],  # size, mtime_ns: cache keys only
            features: tuple[tuple[str, str, str], ...]) -> LinearStainModel:
    return read_model(path, classes=classes, features=features)


def load_checked(path: Path, classes: tuple[str, str], features: tuple[tuple[str, str, str], ...]) -> LinearStainModel:
    """:func:`read_model` of ``path`` with these classes and features, loaded once per file version."""
    try:
        st = path.stat()
    except OSError as exc:
        raise CorruptFileError(f"{path}: cannot read the stain model ({exc.strerror or exc})") from exc
    return _cached(str(path), st.st_size, st.st_mtime_ns, classes, features)


def load_he_model(path: str | Path | None = None) -> LinearStainModel:
    """The H&E-vs-IHC model (default: the shipped one), loaded once per file version."""
    return load_checked(Path(path) if path is not None else shipped_path(), CLASSES, FEATURES)
