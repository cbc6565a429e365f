"""A cheap learned gate in front of the pigment pixel model: could this tile hold melanin at all?

The pigment stage (:func:`mmnst_path.classify.pigment.classify_pigment`) costs about as much as
the rest of the pipeline on a tile that holds no melanin (issue #14 / #16): most of it is fixed
per-tile work (the fine-scale OD, brown-body labelling, disk extremes, the body table) that runs
whenever any pixel passes the colour gate, which every DAB-positive nucleus does (melanin lies
only 3-12° from DAB). This gate decides, per tile, from coarse statistics of 2 µm blocks, whether
melanin is possible; where it is not, the stage returns empty masks without the per-pixel work.

Each block (``block_um`` square, the tile cut from its pixel (0, 0)) is described by the OD of
its mean colour (hue and darkness), the OD of its darkest pixel (granules survive there that the
mean blurs away), the contrast between the two and the spread of its intensities (granularity),
and the same over its neighbourhood (:data:`GATE_FEATURES`). Only blocks whose darkest pixel
reaches ``min_od`` (total log10 OD) are classified: a paler block holds no pixel the pixel model
would take as a candidate. A forest (``pigment_gate.mmnst``, ``scripts/train_pigment_gate.py``)
trained on generated tiles of every pigment family and chromogen plus real melanin-free IHC and
H&E tiles gives each such block a probability; the tile opens when at least ``min_blocks`` blocks
reach ``threshold``. The threshold is set for recall (a missed pigment region costs accuracy, a
false opening only costs time) and stored with the model.

Opt-in (``[pigment] gate = "default"``; ``"off"`` by default): the shipped gate keeps every pigmented
generated and held-out tile open (100 % of their true melanin pixels in open tiles, 99.8 % in open
blocks), but on real Ki67 scans DAB-positive and dark hematoxylin blocks score as high as generated
melanin and it keeps none of the 24 BCData / SHIDC / DeepLIIF tiles closed, so it saves no time
there yet (``benchmarks/eval_pigment_gate.py``; benchmarks/README.md, session 19 H1).

The decision is per tile: an open tile runs the full stage unchanged (the same masks as without
the gate); a closed one has no melanin. It reads the tile image with its halo, so a granule cluster
cut by a tile border is seen by both tiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .model import ClassifierModel, FeatureSpec

#: (name, unit, description) of the gate's block features, in column order.
GATE_FEATURES: tuple[tuple[str, str, str], ...] = (
    ("mean_u_r", "", "red share of the unit OD vector of the block's mean colour"),
    ("mean_u_g", "", "green share of the unit OD vector of the block's mean colour"),
    ("mean_u_b", "", "blue share of the unit OD vector of the block's mean colour"),
    ("mean_od", "log10 OD", "total OD (vector norm) of the block's mean colour"),
    ("dark_u_r", "", "red share of the unit OD vector of the block's darkest pixel"),
    ("dark_u_g", "", "green share of the unit OD vector of the block's darkest pixel"),
    ("dark_u_b", "", "blue share of the unit OD vector of the block's darkest pixel"),
    ("dark_od", "log10 OD", "total OD of the block's darkest pixel"),
    ("contrast", "log10 OD", "dark_od minus mean_od: a granule darker than its block"),
    ("cv", "", "coefficient of variation of the block's pixel intensities (R+G+B): granularity"),
    ("near_dark_od", "log10 OD", "largest dark_od of the 3 x 3 blocks around"),
    ("near_mean_od", "log10 OD", "mean of mean_od over the 5 x 5 blocks around"),
    ("near_cv", "", "mean of cv over the 3 x 3 blocks around"),
    ("near_u_b", "", "mean of mean_u_b over the 5 x 5 blocks around (a blue nucleus or brown body)"),
)


@dataclass(frozen=True)
class GateSettings:
    """How the gate's features are computed and decided (stored in the model's settings).

    Attributes
    ----------
    block_um : float
        Side of a block (µm); at least one pixel.
    min_od : float
        Least total OD (log10) of a block's darkest pixel for the block to be classified.
    threshold : float
        Block probability from which a block counts as possibly pigmented.
    min_blocks : int
        Blocks at ``threshold`` or above that open the tile.
    """

    block_um: float = 2.0
    min_od: float = 0.2
    threshold: float = 0.1
    min_blocks: int = 1

    @classmethod
    def from_mapping(cls, mapping: Any) -> GateSettings:
        return cls(block_um=float(mapping["block_um"]), min_od=float(mapping["min_od"]),
                   threshold=float(mapping["threshold"]), min_blocks=int(mapping["min_blocks"]))

    def to_mapping(self) -> dict[str, Any]:
        return {"target": "pigment_gate", "block_um": self.block_um, "min_od": self.min_od,
                "threshold": self.threshold, "min_blocks": self.min_blocks}


def gate_feature_specs() -> list[FeatureSpec]:
    """The :data:`GATE_FEATURES` as model feature columns."""
    return [FeatureSpec(name, unit, desc) for name, unit, desc in GATE_FEATURES]


def block_px(mpp: float, settings: GateSettings) -> int:
    """Side of a gate block in pixels of an image of ``mpp`` µm/px (at least 1)."""
    return max(1, round(settings.block_um / mpp))


def gate_features(rgb: np.ndarray, *, mpp: float, settings: GateSettings | None = None,
                  background: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Features of the blocks of ``rgb`` that may hold pigment.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    mpp : float
        µm per pixel of ``rgb``.
    settings : GateSettings or None
    background : white point or None (255)

    Returns
    -------
    x : (K, F) float32 ndarray
        The :data:`GATE_FEATURES` of the K blocks whose darkest pixel reaches ``min_od``.
    where : (R, C) bool ndarray
        Those blocks on the block grid (R = ceil(M / b), C = ceil(N / b), b = :func:`block_px`).
    """
    from scipy import ndimage as ndi

    from ..stain.od import od_lut

    s = settings or GateSettings()
    b = block_px(mpp, s)
    sums, sq, dark = block_stats(rgb, b)
    lut = od_lut(background).astype(np.float32)
    od_dark = np.stack([lut[c][dark[..., c]] for c in range(3)], axis=-1)
    dark_od = np.sqrt((od_dark * od_dark).sum(axis=-1))
    where = dark_od >= s.min_od
    x = np.zeros((int(np.count_nonzero(where)), len(GATE_FEATURES)), np.float32)
    if x.shape[0] == 0:
        return x, where
    npx = float(b * b)
    mean_rgb = (sums / npx).astype(np.float32)  # (R, C, 3)
    bg = np.asarray(10.0 ** lut[:, 1].astype(np.float64), np.float32)  # the white point (lut[c, 1] = log10(bg))
    od_mean = -np.log10(np.maximum(mean_rgb, 1.0) / bg).astype(np.float32)
    mean_od = np.sqrt((od_mean * od_mean).sum(axis=-1))
    mu = sums.sum(axis=-1) / npx
    cv = (np.sqrt(np.maximum(sq / npx - mu * mu, 0.0)) / np.maximum(mu, 1.0)).astype(np.float32)
    u_mean = od_mean / np.maximum(mean_od, 1e-3)[..., None]
    u_dark = od_dark / np.maximum(dark_od, 1e-3)[..., None]
    cols = [u_mean[..., 0], u_mean[..., 1], u_mean[..., 2], mean_od,
            u_dark[..., 0], u_dark[..., 1], u_dark[..., 2], dark_od, dark_od - mean_od, cv,
            ndi.maximum_filter(dark_od, size=3, mode="nearest"),
            ndi.uniform_filter(mean_od, size=5, mode="nearest"),
            ndi.uniform_filter(cv, size=3, mode="nearest"),
            ndi.uniform_filter(u_mean[..., 2], size=5, mode="nearest")]
    for i, col in enumerate(cols):
        x[:, i] = col[where]
    return x, where


def block_stats(rgb: np.ndarray, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per ``b`` x ``b`` block of ``rgb`` (the last partial blocks padded with the image's edge
    pixels): the channel sums (R, C, 3) int64, the sum of squared intensities R+G+B (R, C) int64 and
    the RGB of the block's first darkest pixel (R, C, 3) uint8 (row-major within the block). Integer
    sums: the numba kernel and numpy give the same values."""
    from ..detect._morphology import _numba_kernels

    m, n = rgb.shape[:2]
    nr, nc = -(-m // b), -(-n // b)
    kernels = _numba_kernels()
    if kernels is not None:
        sums = np.zeros((nr, nc, 3), np.int64)
        sq = np.zeros((nr, nc), np.int64)
        dark = np.zeros((nr, nc, 3), np.uint8)
        kernels.block_stats(np.ascontiguousarray(rgb), b, sums, sq, dark)
        return sums, sq, dark
    if (nr * b, nc * b) != (m, n):
        rgb = np.pad(rgb, ((0, nr * b - m), (0, nc * b - n), (0, 0)), mode="edge")
    blocks = rgb.reshape(nr, b, nc, b, 3).transpose(0, 2, 1, 3, 4).reshape(nr, nc, b * b, 3)
    inten = blocks.sum(axis=-1, dtype=np.int64)
    dark = np.take_along_axis(blocks, np.argmin(inten, axis=-1)[..., None, None], axis=2)[:, :, 0, :]
    return blocks.sum(axis=2, dtype=np.int64), (inten * inten).sum(axis=-1), np.ascontiguousarray(dark)


def gate_probability(rgb: np.ndarray, *, mpp: float, model: ClassifierModel,
                     background: Any = None) -> np.ndarray:
    """(R, C) float32 probability that each gate block holds melanin (0 where it is too pale)."""
    s = GateSettings.from_mapping(model.settings)
    x, where = gate_features(rgb, mpp=mpp, settings=s, background=background)
    prob = np.zeros(where.shape, np.float32)
    if x.shape[0]:
        prob[where] = model.predict_proba(x)[:, model.class_names.index("melanin")]
    return prob


def tile_may_hold_pigment(rgb: np.ndarray, *, mpp: float, model: ClassifierModel, background: Any = None) -> bool:
    """Whether at least ``min_blocks`` blocks of ``rgb`` reach the model's ``threshold``."""
    s = GateSettings.from_mapping(model.settings)
    prob = gate_probability(rgb, mpp=mpp, model=model, background=background)
    return int(np.count_nonzero(prob >= s.threshold)) >= s.min_blocks


def default_gate_model_path() -> Path:
    """The shipped gate model file."""
    from . import models_dir

    return models_dir() / "pigment_gate.mmnst"


@lru_cache(maxsize=4)
def _load_gate(path: str) -> ClassifierModel:
    from ..errors import ConfigError
    from .model import load_model

    model = load_model(path, kind="tissue")
    if model.settings.get("target") != "pigment_gate" or "melanin" not in model.class_names:
        msg = f"{path} is not a pigment gate model (settings['target'] = {model.settings.get('target')!r})"
        raise ConfigError(msg)
    if tuple(model.feature_names) != tuple(name for name, _, _ in GATE_FEATURES):
        msg = f"{path}: gate features {model.feature_names} are not this version's {GATE_FEATURES}"
        raise ConfigError(msg)
    return model


def resolve_gate_model(spec: str) -> ClassifierModel | None:
    """``"off"``: no gate (None); ``"default"``: the shipped gate; else a path to a gate model file."""
    key = spec.strip()
    if key.lower() == "off":
        return None
    path = default_gate_model_path() if key.lower() == "default" else Path(key).expanduser()
    return _load_gate(str(path.resolve()))
