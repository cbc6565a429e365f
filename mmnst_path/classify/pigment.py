"""Learned melanin pixel classifier (issue #14): granularity, darkness, hue and context features.

Rules with hand-set thresholds (:func:`mmnst_path.detect.pigment.pigment_masks`) found 1-40 % of
the pigment of generated tiles whose morphology they were not tuned on (fine dust, coarse
granules, confluent sheets, pigment over nuclei, spindle cells). This module classifies each
candidate pixel (total OD >= ``PigmentFeatureSettings.candidate_od``) as melanin or not with a
random forest over features of the RGB optical density only, so one model serves H-DAB, H-AEC,
H-FastRed and H&E (no stain matrix enters the features):

==========================  ========================================================================
``u_r``, ``u_g``, ``u_b``   unit OD vector at ``fine_um`` (hue: melanin is brown-black, 3-12° from
                            DAB and more neutral; red chromogens, eosin and hematoxylin are far)
``grey``                    cosine of the OD vector to grey (1, 1, 1): neutrality
``log_od``                  log10 of the total OD (norm of the OD vector) at ``fine_um``: darkness
``tophat_{S}``              total OD minus its grey opening by a disk of S µm, relative to the OD:
                            granularity at granule (1 µm) and cluster (2.5 µm) scale
``peak``                    OD / its maximum within ``peak_um``: granule vs blurred gap
``cv``                      local coefficient of variation of the OD at ``fine_um * 3``: texture
``ctx_log_od``, ``ctx_u_r``, ``ctx_u_b``  total OD and hue at ``context_um``: location relative to
                            nuclei (a blue hematoxylin nucleus, a brown DAB-filled one, cytoplasm)
``wide_u_b``                blue share of the OD at ``wide_um`` (cell-scale context)
``erode``                   minimum OD within ``granule_um`` / OD: stays high inside a solid
                            chromogen-filled nucleus, drops between granules
``ctx_grey``                neutrality at ``context_um`` (a DAB body is DAB-hued all over)
==========================  ========================================================================

All ODs are log10 (QuPath convention, :func:`mmnst_path.stain.od_from_rgb`). Scales are in µm
and converted with the tile's pixel size; every feature is a chain of Gaussian filters (cut at 4
sigma) and disk extremes, so the halo is :meth:`PigmentFeatureSettings.halo_um`.

The shipped model (``mmnst_path/models/pigment_default.mmnst``) is trained by
``scripts/train_pigment_model.py`` on tiles of :func:`mmnst_path.synthetic.pigment_family_tile`
(generated here: every morphology x DAB / AEC / Fast Red / H&E) plus melanin-free negatives from
the permissively licensed real tiles of ``/work/shared/train`` (EndoNuke IHC, Kather H&E, CC BY
4.0). Its file ``kind`` is ``"tissue"`` (a pixel classifier; the model format knows nucleus and
tissue kinds) with ``settings["target"] = "pigment"``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..detect._morphology import _disk, _disk_extreme, _gaussian
from ..errors import ConfigError
from .model import ClassifierModel, FeatureSpec

__all__ = ["PigmentFeatureSettings", "classify_pigment", "default_pigment_model_path", "pigment_feature_specs",
           "pigment_features", "resolve_pigment_model"]

CLASSES = ("background", "melanin")


@dataclass(frozen=True)
class PigmentFeatureSettings:
    """How pigment pixel features are computed (stored with the model); lengths in µm, OD log10."""

    fine_um: float = 0.35
    granule_um: float = 1.0
    cluster_um: float = 2.5
    peak_um: float = 1.0
    context_um: float = 2.5
    wide_um: float = 6.0
    candidate_od: float = 0.2

    def halo_um(self) -> float:
        """Context (µm) a pixel's features depend on."""
        return 4.0 * self.fine_um + 2.0 * max(self.cluster_um, self.peak_um) + 4.0 * max(self.context_um, self.wide_um)

    @classmethod
    def from_mapping(cls, mapping: Any) -> PigmentFeatureSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in dict(mapping).items() if k in known})

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = asdict(self)
        out["target"] = "pigment"
        return out


def pigment_feature_specs(settings: PigmentFeatureSettings) -> list[FeatureSpec]:
    """Named features, in column order, with their scales."""
    s = settings
    return [
        FeatureSpec("u_r", "", f"red share of the unit OD vector at {s.fine_um} µm"),
        FeatureSpec("u_g", "", f"green share of the unit OD vector at {s.fine_um} µm"),
        FeatureSpec("u_b", "", f"blue share of the unit OD vector at {s.fine_um} µm"),
        FeatureSpec("grey", "", "cosine of the OD vector to (1, 1, 1)"),
        FeatureSpec("log_od", "log10(log10 OD)", f"total OD at {s.fine_um} µm"),
        FeatureSpec(f"tophat_{s.granule_um:g}", "", f"relative top-hat of the total OD, disk {s.granule_um} µm"),
        FeatureSpec(f"tophat_{s.cluster_um:g}", "", f"relative top-hat of the total OD, disk {s.cluster_um} µm"),
        FeatureSpec("peak", "", f"total OD / its maximum within {s.peak_um} µm"),
        FeatureSpec("cv", "", f"coefficient of variation of the total OD at {3 * s.fine_um:g} µm"),
        FeatureSpec("ctx_log_od", "log10(log10 OD)", f"total OD at {s.context_um} µm"),
        FeatureSpec("ctx_u_r", "", f"red share of the unit OD at {s.context_um} µm"),
        FeatureSpec("ctx_u_b", "", f"blue share of the unit OD at {s.context_um} µm"),
        FeatureSpec("wide_u_b", "", f"blue share of the unit OD at {s.wide_um} µm"),
        FeatureSpec("erode", "", f"minimum total OD within {s.granule_um} µm / total OD"),
        FeatureSpec("ctx_grey", "", f"cosine of the OD vector at {s.context_um} µm to (1, 1, 1)"),
    ]


def _blur(img: np.ndarray, sigma_px: float) -> np.ndarray:
    return _gaussian(img, sigma_px) if sigma_px >= 0.3 else img


def pigment_features(rgb: np.ndarray, *, mpp: float, settings: PigmentFeatureSettings | None = None,
                     background: Any = None, where: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features of the candidate pixels of an RGB tile (``where``: only among these pixels).

    Returns
    -------
    x : (K, F) float32 ndarray
        Feature rows (columns as :func:`pigment_feature_specs`).
    candidates : (M, N) bool ndarray
        The pixels the rows belong to (row-major order): total OD >= ``candidate_od``.
    """
    from ..stain import od_from_rgb

    s = settings or PigmentFeatureSettings()
    od = np.ascontiguousarray(od_from_rgb(rgb, background=background), dtype=np.float32)
    fine = np.stack([_blur(np.ascontiguousarray(od[..., c]), s.fine_um / mpp) for c in range(3)], axis=-1)
    total = np.sqrt(np.einsum("...c,...c->...", fine, fine)).astype(np.float32)
    cand = total >= s.candidate_od
    if where is not None:
        cand &= where
    if not cand.any():
        return np.zeros((0, len(pigment_feature_specs(s))), np.float32), cand
    ctx = np.stack([_blur(np.ascontiguousarray(od[..., c]), s.context_um / mpp) for c in range(3)], axis=-1)
    wide = np.stack([_blur(np.ascontiguousarray(od[..., c]), s.wide_um / mpp) for c in (0, 2)], axis=-1)
    eroded1 = _disk_extreme(total, _disk(s.granule_um / mpp), op="min")
    opened1 = _disk_extreme(eroded1, _disk(s.granule_um / mpp), op="max")
    opened2 = _disk_extreme(_disk_extreme(total, _disk(s.cluster_um / mpp), op="min"), _disk(s.cluster_um / mpp),
                            op="max")
    peak = _disk_extreme(total, _disk(s.peak_um / mpp), op="max")
    m1 = _blur(total, 3 * s.fine_um / mpp)
    m2 = _blur(total * total, 3 * s.fine_um / mpp)
    f = fine[cand]
    t = total[cand]
    u = f / np.maximum(t, 1e-6)[:, None]
    c = ctx[cand]
    ct = np.sqrt(np.einsum("kc,kc->k", c, c))
    cu = c / np.maximum(ct, 1e-6)[:, None]
    w = wide[cand]
    wsum = np.maximum(np.abs(w).sum(axis=1), 1e-6)
    mean = m1[cand]
    x = np.column_stack([
        u[:, 0], u[:, 1], u[:, 2],
        u.sum(axis=1) / math.sqrt(3.0),
        np.log10(t + 0.02),
        (t - opened1[cand]) / (t + 0.05),
        (t - opened2[cand]) / (t + 0.05),
        t / np.maximum(peak[cand], 1e-6),
        np.sqrt(np.maximum(m2[cand] - mean * mean, 0.0)) / (mean + 0.05),
        np.log10(ct + 0.02),
        cu[:, 0], cu[:, 2],
        w[:, 1] / wsum,
        eroded1[cand] / np.maximum(t, 1e-6),
        cu.sum(axis=1) / math.sqrt(3.0),
    ]).astype(np.float32)
    return x, cand


def default_pigment_model_path() -> Path:
    """Path of the shipped default pigment model."""
    return Path(__file__).resolve().parent.parent / "models" / "pigment_default.mmnst"


def resolve_pigment_model(spec: str) -> ClassifierModel | None:
    """``"default"`` (shipped), ``"none"`` (None: the rule-based detector) or a model file path."""
    from . import resolve_model

    text = str(spec).strip()
    if text.lower() == "none":
        return None
    path = default_pigment_model_path() if text.lower() == "default" else Path(text).expanduser()
    model = resolve_model(str(path), "tissue")
    if model is None or model.settings.get("target") != "pigment":
        msg = f"pigment model {str(path)!r} is not a pigment pixel model (settings.target != 'pigment')"
        raise ConfigError(msg)
    return model


def classify_pigment(rgb: np.ndarray, *, mpp: float, model: ClassifierModel, stains: Any = None,
                     params: Any = None, background: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Melanin pixels of an RGB tile: the pixel model, vetoed by colour and context.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    mpp : float
    model : ClassifierModel
        A pigment pixel model (:func:`resolve_pigment_model`).
    stains : str or StainMatrix or None
        With stains, the model's pixels are kept only inside
        :func:`mmnst_path.detect.pigment.pigment_gate` (colour near melanin, not in a DAB-filled
        nucleus) and, in brown mode, in clusters (:func:`~mmnst_path.detect.pigment.clustered_pigment`).
        ``None``: the model alone.
    params : PigmentParams or None
        ``min_probability`` and the gate's thresholds.
    background : white point or None (the matrix's, else 255).

    Returns
    -------
    melanin : (M, N) bool ndarray
    probability : (M, N) float32 ndarray
        The model's melanin probability (0 off the candidates and, with stains, off the gate).
    """
    from ..detect.pigment import PigmentParams, clustered_pigment, pigment_gate
    from ..geometry import require_mpp

    mpp = require_mpp(mpp, what="image")
    params = params if params is not None else PigmentParams()
    if background is None and stains is not None and not isinstance(stains, str):
        background = stains.background
    settings = PigmentFeatureSettings.from_mapping(model.settings)
    gate, mode = (None, "") if stains is None else pigment_gate(rgb, mpp=mpp, stains=stains, params=params,
                                                               background=background)
    prob = np.zeros(rgb.shape[:2], np.float32)
    if gate is not None and not gate.any():  # no pixel the colour allows: most unpigmented tiles
        return prob >= params.min_probability, prob
    # the forest runs on the gated pixels only (it costs ~4 s per 1024² tile on all dark pixels)
    x, cand = pigment_features(rgb, mpp=mpp, settings=settings, background=background, where=gate)
    if x.shape[0]:
        j = model.class_names.index("melanin")
        prob[cand] = model.predict_proba(x)[:, j]
    mask = prob >= params.min_probability
    if mode == "brown" and mask.any():
        mask = clustered_pigment(mask, mpp=mpp, params=params)
    return mask, prob
