"""Generated Ki67 / MART-1 (Melan-A) and Ki67 / SOX10 double-stain tiles with known truth.

A double stain for the melanocyte-restricted Ki67 index: brown nuclear Ki67 (DAB), a red
melanocyte marker (Fast Red or AEC) that is cytoplasmic (MART-1 / Melan-A) or nuclear (SOX10),
hematoxylin counterstain, and brown-black melanin granules around some melanocytes. Stromal
cells (fibroblasts, lymphocytes) carry no marker, and some of them are Ki67 positive too, so the
melanocytic index differs from the ordinary one. Rendering as in :mod:`mmnst_path.synthetic`
(Beer-Lambert from concentration maps, stain vectors rotated at random, optical blur, sensor
noise, JPEG); the truth comes from the drawn cells, not from the image.

Public API
----------
``double_stain_tile(seed, *, marker="cytoplasmic", chromogen="fast_red", size=384, mpp=0.5, ...)``
    One tile. ``truth``: ``ki67_index_pct`` (all cells), ``melanocytic_index_pct``,
    ``melanocytes``, ``melanocytic_positive``, ``cells``, ``positive``; ``masks``: ``tissue``,
    ``melanin``; ``cells``: (n, 5) float array of row, col, radius (px), melanocyte (0/1),
    Ki67 positive (0/1).
``match_cells(tile, rows, cols)``
    Index of the true cell whose nucleus holds each detected centroid (-1 = none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ConfigError
from .synthetic import (
    _DAB,
    _H,
    _field,
    _granules,
    _layout,
    _melanin_ref,
    _nuclei,
    _paint,
    _render,
    perturb_vector,
)

__all__ = ["DOUBLE_MARKERS", "DoubleStainTile", "double_stain_tile", "match_cells"]

#: Marker localisations: MART-1 / Melan-A (cytoplasmic) and SOX10 (nuclear).
DOUBLE_MARKERS = ("cytoplasmic", "nuclear")
_RED = {"fast_red": (0.21394, 0.85113, 0.47794), "aec": (0.2743, 0.6796, 0.6803)}


@dataclass(frozen=True)
class DoubleStainTile:
    """A generated double-stain tile: ``rgb`` (M, N, 3) uint8 at ``mpp`` µm/px, truth, masks, cells."""

    rgb: np.ndarray
    mpp: float
    truth: dict = field(default_factory=dict)
    masks: dict = field(default_factory=dict)
    cells: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))


def double_stain_tile(
    seed: int,
    *,
    marker: str = "cytoplasmic",
    chromogen: str = "fast_red",
    size: int = 384,
    mpp: float = 0.5,
    melanocyte_fraction: tuple[float, float] = (0.35, 0.7),
    melanocyte_ki67: tuple[float, float] = (0.05, 0.45),
    stroma_ki67: tuple[float, float] = (0.0, 0.15),
    pigmented_melanocytes: tuple[float, float] = (0.1, 0.35),
    angle_deg: tuple[float, float] = (1.0, 4.0),
    jpeg_quality: tuple[int, int] | None = (70, 95),
    marker_od: tuple[float, float] = (0.25, 0.7),
) -> DoubleStainTile:
    """Ki67 (DAB) + red melanocyte marker tile; every range is drawn uniformly per tile.

    Parameters
    ----------
    seed : int
        Random seed (everything is drawn from it).
    marker : {"cytoplasmic", "nuclear"}
        MART-1 / Melan-A (red cytoplasm around the nucleus) or SOX10 (red nucleus).
    chromogen : {"fast_red", "aec"}
        Red chromogen of the marker (reference vectors of the ``H-DAB-FastRed`` / ``H-DAB-AEC``
        presets, each rotated by ``angle_deg``).
    size, mpp : int, float
        Tile side (px) and µm per pixel.
    melanocyte_fraction, melanocyte_ki67, stroma_ki67, pigmented_melanocytes : (float, float)
        Ranges of: the fraction of cells that are melanocytes, the Ki67-positive fraction of
        melanocytes and of stromal cells, the fraction of melanocytes with melanin granules.
    angle_deg : (float, float)
        Range of the random rotation (degrees) of every stain vector.
    jpeg_quality : (int, int) or None
        Range of the JPEG quality (None = no compression).
    marker_od : (float, float)
        Range of the marker strength of the tile (the peak OD multiplier of the red marker; each melanocyte
        varies around it x0.7-1.3): a pale marker (session 43's walk, defect 3: 0.27) at the low end.
    """
    if marker not in DOUBLE_MARKERS:
        msg = f"double_stain_tile marker must be one of {DOUBLE_MARKERS}, got {marker!r}"
        raise ConfigError(msg)
    if chromogen not in _RED:
        msg = f"double_stain_tile chromogen must be one of {tuple(_RED)}, got {chromogen!r}"
        raise ConfigError(msg)
    rng = np.random.default_rng(seed)
    deg = rng.uniform(*angle_deg)
    vh, vd = perturb_vector(_H, deg, rng), perturb_vector(_DAB, deg, rng)
    vr, vm = perturb_vector(_RED[chromogen], deg, rng), perturb_vector(_melanin_ref(), deg, rng)
    shape = (size, size)
    tissue = _layout(size, rng, 0.05)
    hem = (0.05 * tissue * (1 + 0.3 * _field(shape, 4, rng))).clip(0).astype(np.float32)
    dab = (0.02 * tissue).astype(np.float32)
    red = np.zeros(shape, np.float32)
    inside = np.zeros(shape, np.float32)
    cells = _nuclei(tissue, int(size * size * mpp * mpp / 110), rng, mpp)
    n = len(cells)
    melano = rng.random(n) < rng.uniform(*melanocyte_fraction)
    p_mel, p_str = rng.uniform(*melanocyte_ki67), rng.uniform(*stroma_ki67)
    pos = np.where(melano, rng.random(n) < p_mel, rng.random(n) < p_str)
    red_level = rng.uniform(*marker_od)  # marker strength of this run; cells vary around it
    for (r, c, rad), m, p in zip(cells, melano, pos, strict=True):
        if not m:  # stromal cells: smaller and often elongated-looking, darker hematoxylin
            rad *= 0.8
        _paint(inside, r, c, rad, 1.0, rng)
        if p:
            _paint(dab, r, c, rad, rng.uniform(0.4, 1.1), rng)
            _paint(hem, r, c, rad, 0.15, rng)
        else:
            _paint(hem, r, c, rad, rng.uniform(0.3, 0.6), rng)
        if m:
            dens = red_level * rng.uniform(0.7, 1.3)
            _paint(red, r, c, rad * (1.0 if marker == "nuclear" else 1.6), dens, rng)
    if marker == "cytoplasmic":  # MART-1 stains the cytoplasm, not the nucleus
        red *= 1.0 - 0.85 * np.clip(inside, 0, 1)
    mel_idx = np.flatnonzero(melano)
    k = round(rng.uniform(*pigmented_melanocytes) * len(mel_idx))
    pick = rng.choice(mel_idx, size=k, replace=False) if k else np.zeros(0, int)
    mel, grains = _granules(shape, [(cells[i][0], cells[i][1], 1.6 * cells[i][2]) for i in pick], rng, mpp,
                            granule_um=rng.uniform(0.5, 1.2))
    quality = None if jpeg_quality is None else int(rng.integers(jpeg_quality[0], jpeg_quality[1] + 1))
    rgb = _render([hem, dab, red * tissue, mel * tissue], [vh, vd, vr, vm], rng,
                  blur_px=rng.uniform(0.3, 0.6) / mpp, jpeg_quality=quality)
    n_mel, n_mel_pos = int(melano.sum()), int((melano & pos).sum())
    truth: dict[str, Any] = {
        "cells": n, "positive": int(pos.sum()), "melanocytes": n_mel, "melanocytic_positive": n_mel_pos,
        "ki67_index_pct": 100.0 * pos.sum() / n if n else float("nan"),
        "melanocytic_index_pct": 100.0 * n_mel_pos / n_mel if n_mel else float("nan"),
        "pigmented_melanocytes": int(k), "marker": marker, "chromogen": chromogen, "jpeg_quality": quality,
        "marker_od": float(red_level),
    }
    table = np.array([(r, c, rad, float(m), float(p)) for (r, c, rad), m, p in zip(cells, melano, pos, strict=True)],
                     dtype=np.float64).reshape(-1, 5)
    return DoubleStainTile(rgb, mpp, truth, {"tissue": tissue, "melanin": grains & tissue}, table)


def match_cells(tile: DoubleStainTile, rows: Any, cols: Any) -> np.ndarray:
    """Index of the true cell whose nucleus (drawn radius) holds each detected centroid, -1 if none.

    Each true cell is matched at most once (the nearest detection wins).
    """
    rows, cols = np.asarray(rows, np.float64), np.asarray(cols, np.float64)
    out = np.full(rows.shape, -1, dtype=np.intp)
    if not len(tile.cells) or not len(rows):
        return out
    t = tile.cells
    d = np.hypot(rows[:, None] - t[None, :, 0], cols[:, None] - t[None, :, 1])
    best = d.argmin(axis=1)
    ok = d[np.arange(len(rows)), best] <= t[best, 2]
    for i in np.argsort(d[np.arange(len(rows)), best]):
        if ok[i] and best[i] not in out:
            out[i] = best[i]
    return out
