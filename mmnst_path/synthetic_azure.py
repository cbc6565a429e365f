"""Generated Ki67 tiles with an azure B counterstain (Kamino & Tam), pigment families, known truth.

Kamino & Tam's method for heavily pigmented melanocytic lesions counterstains a DAB
immunostain with azure B instead of hematoxylin: nuclei are blue, DAB stays brown and melanin
binds azure B and turns green-blue (dark teal), so brown DAB and pigment differ by colour
(H. Kamino, S. T. Tam, J. Cutan. Pathol. 18:436-439, 1991; H. Sayadi et al., Appl.
Immunohistochem. 3:268-271, 1995, who call the melanin staining metachromatic). Here a melanin
granule of concentration ``c`` (log10 OD) absorbs ``c`` along a brown-black melanin vector
(:func:`mmnst_path.synthetic.family_melanin_vector`, 3-12° from DAB) plus ``k c`` along the
bound dye's vector, azure B rotated by up to ``bound_shift_deg`` (the metachromatic shift of
dye bound to a polyanion). ``k``, the bound-dye ratio, is drawn per tile from ``binding``;
nothing in the literature measures it, so the range is wide (green-blue means red absorbed
about as much as blue: ``k`` ~ 1). Every other piece is the machinery of
:func:`mmnst_path.synthetic.pigment_family_tile`: nuclei (:func:`~mmnst_path.synthetic._nuclei`),
textured ellipses, granules drawn on a 4x finer grid, the pigment recipes of
:data:`mmnst_path.synthetic.PIGMENT_FAMILIES`, stain vectors rotated 0-5°, stain amounts
x0.75-1.25, optical blur 0.3-0.7 µm, sensor noise 1-4 grey levels, a tinted white balance and a
camera black level on half the tiles, and JPEG (none, q95, q85, q70).

Public API
----------
``azure_b_tile(seed, family="whole_cell", *, size=384, mpp=0.5, positive_fraction=None, ...)``
    One tile (:class:`mmnst_path.synthetic.SyntheticTile`); truth and masks as those of
    ``pigment_family_tile`` (``ki67_index_pct`` over all tumour cells, ``melanin_fraction_pct``,
    masks ``melanin``, ``tissue``, ``nuclei``, ``positive_nuclei``) plus ``binding`` (``k``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from .errors import ConfigError
from .synthetic import (
    _DAB,
    _FAMILY_RECIPES,
    PIGMENT_FAMILIES,
    SyntheticTile,
    _camera,
    _cell_axes,
    _ellipse,
    _field,
    _granule_layer,
    _layout,
    _nuclei,
    family_melanin_vector,
    perturb_vector,
)

__all__ = ["AZURE_B", "azure_b_tile"]

#: Azure B OD vector of the ``AzureB-DAB`` preset (Landini's methylene blue, see
#: :func:`mmnst_path.stain.get_preset`).
AZURE_B = (0.834750, 0.513556, 0.196330)


def _scatter(rng: np.random.Generator, centre: tuple[float, float], axes: tuple[float, float], ang: float,
             k: int, zone: tuple[float, float], sizes: tuple[float, float], dark: float) -> list[tuple]:
    """``k`` granules ``(row, col, diameter_um, od)`` uniformly over the elliptic annulus ``zone``
    (inner, outer radius in units of the ellipse ``axes``) around ``centre``."""
    t = rng.uniform(0, 2 * np.pi, k)
    rho = np.sqrt(rng.uniform(zone[0] ** 2, zone[1] ** 2, k))
    u, v = rho * axes[0] * np.cos(t), rho * axes[1] * np.sin(t)
    rows = centre[0] + u * math.cos(ang) - v * math.sin(ang)
    cols = centre[1] + u * math.sin(ang) + v * math.cos(ang)
    diam = rng.uniform(sizes[0], sizes[1], k)
    ods = dark * rng.uniform(0.7, 1.3, k)
    return list(zip(rows.tolist(), cols.tolist(), diam.tolist(), ods.tolist(), strict=True))


def _melanophages(rng: np.random.Generator, tissue: np.ndarray, counter: np.ndarray, mpp: float,
                  dark: float) -> list[tuple]:
    """Clusters of 2-5 pigment-laden macrophages (10-16 µm across, pale nucleus, not tumour)."""
    out: list[tuple] = []
    rr, cc = np.nonzero(tissue)
    for _ in range(max(1, int(tissue.size * mpp * mpp / 6000))):
        j = int(rng.integers(len(rr)))
        for _ in range(int(rng.integers(2, 6))):
            r, c = rr[j] + rng.normal(0, 8 / mpp), cc[j] + rng.normal(0, 8 / mpp)
            cell = rng.uniform(5.0, 8.0) / mpp
            _ellipse(counter, r, c, 0.5 * cell, 0.4 * cell, rng.uniform(0, np.pi), 0.35, rng)
            out += _scatter(rng, (r, c), (cell, cell), 0.0, 400, (0.0, 1.0), (0.8, 2.0), dark)
    return out


def azure_b_tile(seed: int, family: str = "whole_cell", *, size: int = 384, mpp: float = 0.5,
                 positive_fraction: float | None = None, binding: tuple[float, float] = (0.8, 2.0),
                 bound_shift_deg: float = 8.0, counterstain_od: tuple[float, float] = (0.3, 0.6),
                 drawn_melanin: bool = False, positive_od: tuple[float, float] | None = None) -> SyntheticTile:
    """Ki67 (DAB) tile with an azure B counterstain and one pigment morphology.

    Parameters
    ----------
    seed : int
        Everything is drawn from it.
    family : str
        One of :data:`mmnst_path.synthetic.PIGMENT_FAMILIES` (``"none"``: unpigmented control).
    size, mpp : int, float
        Tile side (px) and pixel size (µm/px).
    positive_fraction : float or None
        Ki67-positive fraction of the tumour cells (None: uniform 0.03-0.5). Positives are weak
        (0.45-0.6 OD painted) or strong (0.6-1.2 OD), as in ``pigment_family_tile``.
    binding : (float, float)
        Range of ``k``, the OD of azure B bound per unit melanin OD.
    bound_shift_deg : float
        Largest rotation (degrees) of the bound dye's vector away from the counterstain's.
    counterstain_od : (float, float)
        Range of the azure B concentration (log10 OD) of negative nuclei; Ki67-positive nuclei
        carry 0.15, cytoplasm 0.05.
    drawn_melanin : bool
        Also the melanin as drawn, before the optical blur (the melanin truth of the bundled sample tiles, as
        ``pigment_family_tile(drawn_melanin=True)``; session 39): mask ``melanin_drawn`` (concentration > 0.15
        log10 OD before the blur, in tissue) and truth ``melanin_drawn_pct`` (its share of tissue). Nothing else
        changes (no random draw; ``melanin``, the hidden nuclei and the Ki67 truth stay the blurred ones).
    positive_od : (float, float) or None
        DAB concentration (log10 OD, before the tile's stain scale) painted into a Ki67-positive nucleus, drawn
        uniformly in this range (e.g. ``(0.08, 2.5)``: faint 1+ to saturated 3+, the hard negatives of
        ``scripts/train_pigment_azure.py``). None (default): weak 0.45-0.6 or strong 0.6-1.2 as above (the
        tiles of every seed unchanged).

    Returns
    -------
    SyntheticTile
        ``truth``: ``ki67_positive``, ``ki67_negative``, ``ki67_index_pct`` (all tumour cells),
        ``ki67_assessable_index_pct``, ``hidden_nuclei`` (tumour nuclei >= 75 % under melanin),
        ``melanin_fraction_pct`` (blurred melanin concentration >= 0.15 log10 OD, over tissue),
        ``binding``, ``melanin_deg`` and the rendering draws. ``masks``: ``melanin``,
        ``tissue``, ``nuclei`` (int32 labels), ``positive_nuclei``.
    """
    if family not in _FAMILY_RECIPES:
        msg = f"azure_b_tile family must be one of {PIGMENT_FAMILIES}, got {family!r}"
        raise ConfigError(msg)
    if positive_od is not None and not (0 < positive_od[0] <= positive_od[1]):
        msg = f"azure_b_tile positive_od must be a range (lo, hi) with 0 < lo <= hi, got {positive_od!r}"
        raise ConfigError(msg)
    if not (0 < binding[0] <= binding[1]):
        msg = f"azure_b_tile binding must be a range (lo, hi) with 0 < lo <= hi, got {binding!r}"
        raise ConfigError(msg)
    rng = np.random.default_rng([seed, PIGMENT_FAMILIES.index(family), 7])
    v_az = perturb_vector(AZURE_B, rng.uniform(0, 5), rng)
    v_dab = perturb_vector(_DAB, rng.uniform(0, 5), rng)
    v_mel = family_melanin_vector(rng)
    v_bound = perturb_vector(v_az, rng.uniform(0, bound_shift_deg), rng)
    k = float(rng.uniform(*binding))
    scale = rng.uniform(0.75, 1.25)
    blur_um, noise = rng.uniform(0.3, 0.7), rng.uniform(1.0, 4.0)
    quality = [None, 95, 85, 70][int(rng.integers(4))]
    tissue = _layout(size, rng, 0.05)
    counter = (0.05 * tissue * (1 + 0.3 * _field(tissue.shape, 4, rng))).clip(0).astype(np.float32)
    dab = (0.02 * tissue).astype(np.float32)
    spindle = family == "spindle"
    cells = _nuclei(tissue, int(size * size * mpp * mpp / (150 if spindle else 110)), rng, mpp,
                    (4.0, 6.0) if spindle else (3.0, 5.5))
    frac = rng.uniform(0.03, 0.5) if positive_fraction is None else float(positive_fraction)
    pos = rng.random(len(cells)) < frac
    recipe = _FAMILY_RECIPES[family]
    pigmented = rng.random(len(cells)) < rng.uniform(*recipe[0])
    n_per, d_um, zone = recipe[1], recipe[2], recipe[3]
    dark = rng.uniform(0.8, 2.0)
    labels = np.zeros(tissue.shape, np.int32)
    granules: list[tuple] = []
    for i, (r, c, rad) in enumerate(cells):
        ang, a, b = _cell_axes(rad, spindle, rng)
        if pos[i]:
            if positive_od is None:
                dens = rng.uniform(0.6, 1.2) if rng.random() >= 0.35 else rng.uniform(0.45, 0.6)
            else:
                dens = rng.uniform(*positive_od)
            _ellipse(dab, r, c, a, b, ang, scale * dens, rng)
            _ellipse(counter, r, c, a, b, ang, 0.15, rng, labels, i + 1)
        else:
            _ellipse(counter, r, c, a, b, ang, rng.uniform(*counterstain_od), rng, labels, i + 1)
        if pigmented[i]:
            n = int(rng.integers(*n_per)) if n_per[1] > n_per[0] else n_per[0]
            axes = (a * 1.2, b * 2.0) if spindle else (a, b)  # spindle cells: pigment along the cell
            granules += _scatter(rng, (r, c), axes, ang, n, zone, d_um, dark)
    if family == "melanophage":
        granules += _melanophages(rng, tissue, counter, mpp, dark)
    mel = _granule_layer(tissue.shape, granules, mpp) * tissue
    blur_px = blur_um / mpp
    melanin = (ndi.gaussian_filter(mel, blur_px) >= 0.15) & tissue
    od = np.zeros((*tissue.shape, 3), np.float32)
    for conc, vec in ((counter * scale, v_az), (dab, v_dab), (mel, v_mel), (k * mel, v_bound)):
        od += conc[..., None] * np.asarray(vec, np.float32)
    od = ndi.gaussian_filter(od, (blur_px, blur_px, 0))
    rgb = _camera(od, rng, noise=noise, quality=quality, tint_rng=rng)
    n_lab = len(cells)
    area = np.bincount(labels.ravel(), minlength=n_lab + 1)[1:]
    covered = np.bincount(labels.ravel(), weights=melanin.ravel(), minlength=n_lab + 1)[1:] / np.maximum(area, 1)
    present = area > 0
    hidden = present & (covered >= 0.75)
    npos, nneg = int((pos & present).sum()), int((~pos & present).sum())
    apos, aneg = int((pos & present & ~hidden).sum()), int((~pos & present & ~hidden).sum())
    dab_unit = np.asarray(_DAB) / np.linalg.norm(_DAB)
    truth: dict[str, Any] = {
        "family": family, "chromogen": "dab", "counterstain": "azure_b", "binding": k,
        "melanin_fraction_pct": 100.0 * melanin.sum() / max(1, tissue.sum()),
        "melanin_deg": float(np.degrees(np.arccos(np.clip(v_mel.dot(dab_unit), -1, 1)))),
        "blur_um": blur_um, "noise": noise, "jpeg_quality": quality, "stain_scale": scale,
        "hidden_nuclei": int(hidden.sum()), "ki67_positive": npos, "ki67_negative": nneg,
        "ki67_index_pct": 100.0 * npos / max(1, npos + nneg),
        "ki67_assessable_index_pct": 100.0 * apos / max(1, apos + aneg),
    }
    positive_nuclei = np.isin(labels, np.flatnonzero(pos) + 1)
    masks = {"melanin": melanin, "tissue": tissue, "nuclei": labels, "positive_nuclei": positive_nuclei}
    if drawn_melanin:  # the pigment as drawn, before the optical blur (the sample tiles' truth)
        masks["melanin_drawn"] = (mel > 0.15) & tissue
        truth["melanin_drawn_pct"] = 100.0 * masks["melanin_drawn"].sum() / max(1, tissue.sum())
    return SyntheticTile(rgb, mpp, truth, masks)
