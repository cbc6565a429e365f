"""Necrosis area on H&E: a learned tissue classifier by default, or a rule-based detector.

By default (``NecrosisParams.tissue_model = "default"``) the tissue classes come from the shipped
tissue pixel classifier (:mod:`mmnst_path.classify.tissue`; a user's model file can be named
instead): necrosis is the tissue whose smoothed class probabilities make ``necrosis`` the most
probable class, except where intact nuclei veto it (``intact_veto_density``: a block with that many intact
nuclei per 1000 µm² within ``intact_sigma_um`` is viable, whatever its colour; by default the nuclei a small
per-nucleus model calls intact, :mod:`mmnst_path.quantify._intact_model`, ``intact_model``; with ``intact_model =
"none"`` the fixed tests of :mod:`mmnst_path.quantify._intact_nuclei`, contrasted nuclei of >= ~6 µm embedded in
tissue, whose settings ``intact_contrast_od``, ``intact_surround_tissue``, ``intact_min_fill`` and
``intact_min_extent_um`` the model leaves unused), followed by the
minimum area below; the tumour and stroma areas are counted too. ``tissue_model = "none"`` selects the rule-based detector described next.

The rule-based detector has physical thresholds.

Coagulative necrosis is eosinophilic tissue that has lost its viable nuclei (ghost cells,
karyorrhectic debris, no organised texture). The default detector works on the hematoxylin
(H) and eosin (E) concentrations of colour deconvolution (log10 OD) and says, per pixel of a
low-resolution grid (``analysis_mpp_um``, 2–4 µm/px):

1. tissue: total OD, smoothed, >= ``tissue_min_od`` (glass excluded);
2. viable nuclei: connected H blobs (H >= ``nucleus_h_od`` after a 1 µm smoothing, and at least
   ``nucleus_contrast_od`` above the local H background, a grey opening over ``background_um``,
   so that the hematoxylin leak of dense eosin is not a nucleus) of ``viable_min_um2``..
   ``viable_max_um2``; smaller dense fragments are karyorrhectic debris, not viable;
3. low viable-nucleus density: the area fraction of viable nuclei in a Gaussian window of
   ``density_sigma_um`` is below ``max_viable_fraction`` (viable tumour ~20–40 %);
4. eosinophilic (smoothed E >= ``eosin_min_od``; there is no upper bound: necrotic eosin ranges
   from pale to dense with the staining) but not dense oriented matrix: where E >=
   ``fibre_min_eosin_od``, the orientation coherence of E (fibre scale ``fibre_sigma_um``, on a
   grid of pitch <= ``fibre_sigma_um``; the length of the mean doubled-angle unit gradient
   vector over a Gaussian window ``coherence_sigma_um``, every pixel weighted alike so that a
   region border moves it only by its share of the window; then averaged over
   ``coherence_region_um``) must stay below ``max_coherence`` (collagen and lamellar bone are
   oriented, necrosis is amorphous); dense eosin (E >= ``dense_eosin_od``) counts only with
   karyorrhectic debris (``debris_density`` >= ``dense_min_debris`` fragments per 1000 µm²):
   homogeneous dense eosin without debris is bone or collagen; and eosinophilic matrix
   (E >= ``fibre_min_eosin_od``) must be textured: the local std of E over a Gaussian window of
   ``texture_sigma_um``, relative to the local mean E (+ ``texture_eps_od``), averaged over
   ``texture_region_um``, must reach ``min_texture`` (necrosis, with ghosts, vacuoles and
   debris, is granular: 0.1–0.3 on the real tiles, 0.06–0.15 on generated dense necrosis;
   lamellar/woven bone and dense collagen are uniform: 0.02–0.045, and their osteocytes or
   fibrocytes, counted as debris, no longer let them pass);
5. not blood: red cells absorb blue strongly (haemoglobin Soret band) while eosin barely does:
   pixels with OD_B / OD_G >= ``blood_blue_green_ratio`` and OD_G >= 0.3 are blood;
6. edges restored: the wide density window of step 3 spreads viable nuclei ~``density_sigma_um``
   into the necrosis; the candidates are grown, up to ``edge_grow_um``, over connected pixels
   that pass steps 1, 3 (with a fine window ``edge_sigma_um``), 4 and 5; the fibre test of step 4
   is waived within ``edge_free_um`` of a candidate (a region border is itself coherent);
7. smoothed (Gaussian ``smooth_um`` on the binary map, majority) and regions under
   ``min_area_um2`` dropped.

The low-resolution blocks can be aligned to a slide-wide grid (``origin``), so results do not
depend on the tiling.

Outputs are additive :class:`NecrosisCounts` (µm²) and the low-resolution mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import ConfigError
from ..geometry import require_mpp
from ._necrosis_params import NecrosisCounts, NecrosisParams, necrosis_metrics

__all__ = ["NecrosisCounts", "NecrosisParams", "mask_to_tile", "measure_necrosis", "necrosis_features",
           "necrosis_metrics"]


def _owned_share(region: np.ndarray, f: int) -> np.ndarray:
    """Share of each ``f``-pixel block's area inside ``region`` (bool, (M, N)): a block cut by the image's
    last row or column counts the pixels it has, not the mean of them (the image ends there: the slide's
    edge for a pipeline tile read inside the slide)."""
    m, n = region.shape
    whole = np.zeros((-(-m // f) * f, -(-n // f) * f), np.float32)
    whole[:m, :n] = region
    return _block_mean(whole, f)


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    m, n = a.shape[:2]
    mp, np_ = -(-m // f) * f, -(-n // f) * f
    pad = [(0, mp - m), (0, np_ - n)] + [(0, 0)] * (a.ndim - 2)
    a = np.pad(a, pad, mode="edge")
    return a.reshape(mp // f, f, np_ // f, f, *a.shape[2:]).mean(axis=(1, 3))


def _grid_offset(origin: tuple[int, int] | None, f: int) -> tuple[int, int]:
    """Rows/cols a tile is padded by so that its low-resolution blocks fall on the global grid."""
    if origin is None:
        return 0, 0
    try:
        r0, c0 = (int(v) for v in origin)
    except (TypeError, ValueError):
        msg = f"origin must be a (row, col) pair of integers (analysis-grid px), got {origin!r}"
        raise ConfigError(msg) from None
    return r0 % f, c0 % f


def _fine_factor(f: int, mpp: float, pitch_um: float) -> int:
    """Largest divisor ``g`` of the block factor ``f`` with ``g * mpp <= pitch_um`` (at least 1)."""
    return max(d for d in range(1, f + 1) if f % d == 0 and (d == 1 or d * mpp <= pitch_um + 1e-9))


def _orientation_coherence(e: np.ndarray, sigma_px: float, weight: np.ndarray | None = None) -> np.ndarray:
    """Agreement of local texture orientations over a Gaussian window of ``sigma_px``, in [0, 1].

    Every pixel's gradient direction counts with the same weight (doubled-angle unit vector
    ``(cos 2θ, sin 2θ)``), and the result is the length of their Gaussian-weighted mean: 1 where
    all pixels share one orientation (parallel collagen fibres, bone lamellae), ~``1/sqrt(n)``
    for ``n`` independent orientations (amorphous necrosis, ghost cells, debris). Unlike the
    energy-weighted structure-tensor coherence, one strong step edge (a region border) moves
    it only by its share of the window's area, not by its contrast.

    ``weight`` (bool or float, shape of ``e``; None = all pixels) restricts the mean to the
    pixels that carry an orientation (tissue): a normalised convolution, so glass beside the
    tissue, the image border and the white outside a slide do not dilute the agreement of
    the fibres next to them (without it, collagen within ~``2 sigma_px`` of glass read as
    amorphous).
    """
    if min(e.shape) < 2:  # no gradient on a grid one sample thin: no orientation
        return np.zeros_like(e)
    gr, gc = np.gradient(e)
    mag2 = gr * gr + gc * gc
    mag2[mag2 == 0] = 1.0
    w = np.ones_like(e) if weight is None else np.asarray(weight, dtype=e.dtype)
    (cos2, sin2), norm = _weighted_gaussians(w, sigma_px, (gc * gc - gr * gr) / mag2, 2.0 * gr * gc / mag2)
    return np.sqrt(cos2 * cos2 + sin2 * sin2) / norm


def _weighted_gaussians(
    weight: np.ndarray, sigma_px: float, *values: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """Normalised convolution: the Gaussian sums of ``values * weight`` (0 outside the image) and
    the Gaussian sum of ``weight`` (floored at 1e-3) that divides them into weighted means."""
    nums = [ndi.gaussian_filter(v * weight, sigma_px, mode="constant") for v in values]
    den = np.maximum(ndi.gaussian_filter(weight, sigma_px, mode="constant"), 1e-3)
    return nums, den


def _tissue_mean(values: np.ndarray, weight: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian-weighted mean of ``values`` over the pixels with ``weight`` (0 outside the image)."""
    (num,), den = _weighted_gaussians(weight, sigma_px, values)
    return num / den


def mask_to_tile(mask: np.ndarray, shape: tuple[int, int], *, mpp: float, mask_mpp: float,
                 origin: tuple[int, int] | None = None) -> np.ndarray:
    """Low-resolution necrosis mask mapped back onto the tile's pixels.

    Parameters
    ----------
    mask : (m, n) bool ndarray
        Mask returned by :func:`measure_necrosis` for this tile.
    shape : (int, int)
        (M, N) of the tile image.
    mpp, mask_mpp : float
        µm/px of the tile and of ``mask``.
    origin : (int, int) or None
        The ``origin`` that was passed to :func:`measure_necrosis`.

    Returns
    -------
    (M, N) bool ndarray
        Tile pixel (i, j) takes mask pixel ``((i + off_r) // f, (j + off_c) // f)`` with
        ``f = round(mask_mpp / mpp)`` and ``off = origin mod f`` (0 without origin).
    """
    f = max(1, round(mask_mpp / mpp))
    off_r, off_c = _grid_offset(origin, f)
    mask = np.asarray(mask, dtype=bool)
    if mask.size == 0:
        return np.zeros(shape, bool)
    ri = np.minimum((np.arange(shape[0]) + off_r) // f, mask.shape[0] - 1)
    ci = np.minimum((np.arange(shape[1]) + off_c) // f, mask.shape[1] - 1)
    return mask[np.ix_(ri, ci)]


def necrosis_features(rgb: np.ndarray, *, mpp: float, params: NecrosisParams | None = None,
                      stains: Any = None) -> dict[str, np.ndarray]:
    """Low-resolution maps the detector decides on (for QC and for the trainable classifier).

    Returns
    -------
    dict of (m, n) float32 arrays at ``params.analysis_mpp_um`` (approximately: an integer
    block factor of ``mpp``), with keys ``tissue`` (bool), ``viable_fraction``,
    ``debris_density`` (fragments per 1000 µm²), ``eosin``, ``hematoxylin``, ``coherence``,
    ``blood`` (bool) and ``mpp`` (0-d, the grid's µm/px).
    """
    from ..stain import load_stains, od_from_rgb, separate_stains

    params = params or NecrosisParams()
    mpp = require_mpp(mpp, what="image")
    matrix = load_stains(stains if stains is not None else params.stains)
    conc = separate_stains(rgb, matrix, stains=("hematoxylin", "eosin") if "eosin" in matrix.names
                           else ("hematoxylin", matrix.stain_names[1]))
    od = od_from_rgb(rgb, background=matrix.background)
    f = max(1, round(params.analysis_mpp_um / mpp))
    lmpp = f * mpp
    hem = ndi.gaussian_filter(conc[..., 0], 1.0 / mpp)
    # local hematoxylin background: grey opening (on the block grid) wider than any nucleus; a
    # nucleus stands out of it by nucleus_contrast_od, a stain leak under dense eosin does not
    h_low = _block_mean(hem, f)
    size = max(1, 2 * round(params.background_um / (2 * lmpp)) + 1)
    h_bg = ndi.grey_opening(h_low, size=(size, size))
    h_bg = np.repeat(np.repeat(h_bg, f, 0), f, 1)[: hem.shape[0], : hem.shape[1]]
    nuc = (hem >= params.nucleus_h_od) & (hem - h_bg >= params.nucleus_contrast_od)
    labels, n = ndi.label(nuc)
    area = np.bincount(labels.ravel(), minlength=n + 1) * mpp * mpp
    viable_lab = (area >= params.viable_min_um2) & (area <= params.viable_max_um2)
    debris_lab = (area > 0.5) & (area < params.viable_min_um2)
    viable_lab[0] = debris_lab[0] = False
    viable = viable_lab[labels]
    debris_pts = np.zeros(labels.shape, np.float32)
    if debris_lab.any():
        # centres of mass of the debris fragments (what ndi.center_of_mass gives: sums of
        # integer coordinates are exact in float64), over the labelled pixels only
        ri, ci = np.nonzero(labels)
        lab = labels[ri, ci]
        cnt = np.bincount(lab, minlength=n + 1).astype(np.float64)
        ids = np.flatnonzero(debris_lab)
        com_r = np.bincount(lab, weights=ri.astype(np.float64), minlength=n + 1)[ids] / cnt[ids]
        com_c = np.bincount(lab, weights=ci.astype(np.float64), minlength=n + 1)[ids] / cnt[ids]
        rc = np.round(np.column_stack([com_r, com_c])).astype(int)
        debris_pts[rc[:, 0], rc[:, 1]] = 1.0

    eos = _block_mean(conc[..., 1], f)
    od_low = _block_mean(od, f)
    tissue = _tissue(od_low, lmpp, params)
    # regional features are means over tissue only (normalised convolution): glass beside viable
    # tissue, and the white outside a slide's edge, hold no nuclei but do not make it less viable
    tis_w = tissue.astype(np.float32)
    dens_sigma = params.density_sigma_um / lmpp
    viable_low = _block_mean(viable.astype(np.float32), f)
    viable_fraction = _tissue_mean(viable_low, tis_w, dens_sigma)
    viable_fine = _tissue_mean(viable_low, tis_w, params.edge_sigma_um / lmpp)
    debris = _tissue_mean(_block_mean(debris_pts, f) * f * f, tis_w, dens_sigma) / (lmpp * lmpp) * 1000.0
    eos_s = _tissue_mean(eos, tis_w, 4.0 / lmpp)
    # fibre / lamella orientation and eosin texture on a grid of pitch <= fibre_sigma_um (finer
    # sampling adds nothing once E is smoothed over fibre_sigma_um; at 0.25-0.5 µm/px this is
    # 4-16x fewer pixels than the scan), a divisor of the analysis block so the block means align
    g = _fine_factor(f, mpp, params.fibre_sigma_um)
    pitch = g * mpp
    e_fine = ndi.gaussian_filter(_block_mean(conc[..., 1], g).astype(np.float32), params.fibre_sigma_um / pitch)
    od_fine = _block_mean(od, g)
    tissue_fine = np.sqrt((od_fine**2).sum(-1)) >= params.tissue_min_od
    coh_low = _block_mean(
        _orientation_coherence(e_fine, params.coherence_sigma_um / pitch, tissue_fine), f // g
    )
    # regional means over tissue only (normalised convolution, as inside the coherence)
    tis_low = _block_mean(tissue_fine.astype(np.float32), f // g)
    coherence = _tissue_mean(coh_low, tis_low, params.coherence_region_um / lmpp)
    coherence_fine = _tissue_mean(coh_low, tis_low, params.edge_sigma_um / lmpp)
    # eosin texture: local std of E (smoothed over fibre_sigma_um) over a Gaussian window of
    # texture_sigma_um relative to the local mean (+ texture_eps_od, so that glass-thin tissue does
    # not divide by ~0); block means, then a regional mean over texture_region_um
    t_sigma = params.texture_sigma_um / pitch
    e_mean = ndi.gaussian_filter(e_fine, t_sigma)
    e_var = np.maximum(ndi.gaussian_filter(e_fine * e_fine, t_sigma) - e_mean * e_mean, 0.0)
    tex_low = _block_mean(np.sqrt(e_var), f // g) / (_block_mean(e_mean, f // g) + params.texture_eps_od)
    texture = ndi.gaussian_filter(tex_low, params.texture_region_um / lmpp)
    green = od_low[..., 1]
    blood = (green >= 0.3) & (od_low[..., 2] >= params.blood_blue_green_ratio * green)
    return {
        "tissue": tissue,
        "viable_fraction": viable_fraction.astype(np.float32),
        "viable_fraction_fine": viable_fine.astype(np.float32),
        "debris_density": debris.astype(np.float32),
        "eosin": eos_s.astype(np.float32),
        "hematoxylin": _block_mean(conc[..., 0], f).astype(np.float32),
        "coherence": coherence.astype(np.float32),
        "coherence_fine": coherence_fine.astype(np.float32),
        "texture": texture.astype(np.float32),
        "blood": blood,
        "mpp": np.float64(lmpp),
    }


def measure_necrosis(
    rgb: np.ndarray,
    *,
    mpp: float,
    params: NecrosisParams | None = None,
    tissue: np.ndarray | None = None,
    stains: Any = None,
    classifier: Any = None,
    origin: tuple[int, int] | None = None,
    tissue_map: Any = None,
    necrosis_labels: Any = None,
    reference: Any = None,
) -> tuple[NecrosisCounts, np.ndarray, float]:
    """Necrosis area of one H&E tile with the default detector (see module doc).

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        H&E tile at ``mpp`` µm/px.
    mpp : float
    params : NecrosisParams or None
    tissue : (M, N) bool ndarray or None
        The region this call owns (tile core ∩ ROI); ``None`` = whole tile. Glass inside it
        is excluded from the tissue area.
    stains : str or StainMatrix or None
        Overrides ``params.stains``.
    classifier : PixelClassifier or None
        An older-format trained necrosis pixel classifier (:func:`mmnst_path.quantify.train_pixel_classifier`,
        :func:`~mmnst_path.quantify.load_pixel_classifier`); when given, necrosis is the tissue
        where its necrosis probability is >= 0.5, on its own working grid, followed by the same
        smoothing and minimum area as the default detector (``params.smooth_um``,
        ``params.min_area_um2``); the classifier's own stain matrix is used.
    origin : (int, int) or None
        Position of the tile's pixel (0, 0) on the slide's analysis grid (``Tile.origin``). The
        low-resolution blocks are then aligned to that global grid (block ``k`` covers global
        pixels ``[k f, (k + 1) f)``), so the necrosis of a slide does not depend on how it is
        tiled; :func:`mask_to_tile` maps the mask back. ``None`` aligns them to the tile's own
        corner (a lone tile).
    tissue_map : TissueMap or None
        The classes of this tile already computed with the tissue model of ``params``
        (:func:`mmnst_path.classify.tissue.classify_tissue` with the same ``stains`` and
        ``origin``), so that a caller that also needs the class map computes it once.
    necrosis_labels : tuple or None
        With ``tissue_map``: what :func:`mmnst_path.quantify._necrosis_model.necrosis_labels` returned
        for this tile, that map, ``params`` and ``origin`` (the caller drew the class map from it), so it
        is not computed again; ignored when its shape is not the map's.
    reference : ImageReference or None
        The slide's reference for a tissue model that reads the stain level against the slide
        (:func:`mmnst_path.classify.tissue.classify_tissue`); None: the tile is its own.

    Returns
    -------
    counts : NecrosisCounts
        µm² inside ``tissue``, measured on the low-resolution grid.
    mask : (m, n) bool ndarray
        Necrosis on the low-resolution grid, ``ceil((M + off_r) / f)`` x ``ceil((N + off_c) / f)``
        with ``off = origin mod f`` (see :func:`mask_to_tile`) and ``f`` the image pixels per
        block: the tissue model's output block (:func:`mmnst_path.classify.tissue.tissue_factors`,
        8 µm for the default model), or ``round(analysis_mpp_um / mpp)`` for the rules.
    mask_mpp : float
        µm per pixel of ``mask``.
    """
    params = params or NecrosisParams()
    mpp = require_mpp(mpp, what="image")
    model = params.model() if classifier is None else None
    if classifier is not None:
        off_r, off_c = _grid_offset(origin, max(1, round(classifier.mpp_um / mpp)))
    elif model is not None:
        from ..classify.tissue import tissue_factors

        f_grid, k = tissue_factors(model, mpp)
        off_r, off_c = _grid_offset(origin, f_grid * k)
    else:
        off_r, off_c = _grid_offset(origin, max(1, round(params.analysis_mpp_um / mpp)))
    if off_r or off_c:
        shape = rgb.shape[:2]
        if tissue is None:
            tissue = np.ones(shape, bool)
        elif np.shape(tissue) != shape:
            msg = f"tissue (owned region) mask must have the tile's shape {shape}, got {np.shape(tissue)}"
            raise ConfigError(msg)
        rgb = np.pad(rgb, ((off_r, 0), (off_c, 0), (0, 0)), mode="edge")
        tissue = np.pad(np.asarray(tissue, dtype=bool), ((off_r, 0), (off_c, 0)))
    if classifier is not None:
        return _measure_with_classifier(rgb, mpp, params, tissue, classifier)
    if model is not None:
        if tissue_map is not None and tissue_map.model_id != model.model_id:
            msg = (f"tissue_map comes from model {tissue_map.model_id}, but the necrosis tissue model is "
                   f"{model.model_id}")
            raise ConfigError(msg)
        from ._necrosis_model import measure_with_tissue_model

        return measure_with_tissue_model(rgb, mpp, params, tissue, model,
                                         stains if stains is not None else params.stains, tissue_map,
                                         labelled=necrosis_labels if tissue_map is not None else None,
                                         reference=reference)
    feats = necrosis_features(rgb, mpp=mpp, params=params, stains=stains)
    lmpp = float(feats["mpp"])
    cand = (
        feats["tissue"]
        & ~feats["blood"]
        & (feats["viable_fraction"] <= params.max_viable_fraction)
        & (feats["eosin"] >= params.eosin_min_od)
        & ((feats["coherence"] <= params.max_coherence) | (feats["eosin"] < params.fibre_min_eosin_od))
        & ((feats["eosin"] < params.dense_eosin_od) | (feats["debris_density"] >= params.dense_min_debris))
        & _not_homogeneous(feats, params)
    )
    if params.edge_grow_um > 0 and cand.any():
        # the wide density window blurs viable nuclei ~density_sigma into the necrosis: grow the
        # cores back over pixels that pass every test with a fine window, up to edge_grow_um
        edge = (
            feats["tissue"]
            & ~feats["blood"]
            & (feats["viable_fraction_fine"] <= params.max_viable_fraction)
            & (feats["eosin"] >= params.eosin_min_od)
            & _not_homogeneous(feats, params)
        )
        # a region border is itself a coherent structure: within edge_free_um of a core the
        # fibre test is waived, farther out (up to edge_grow_um) it applies on the fine window
        dist = ndi.distance_transform_edt(~cand) * lmpp
        not_fibre = (feats["coherence_fine"] <= params.max_coherence) | (feats["eosin"] < params.fibre_min_eosin_od)
        edge &= (dist <= params.edge_free_um) | ((dist <= params.edge_grow_um) & not_fibre)
        cand = ndi.binary_propagation(cand, mask=cand | edge)
    mask = _clean(cand, feats["tissue"], lmpp, params)
    return _counts(mask, feats["tissue"], tissue, rgb.shape[:2], lmpp, mpp), mask, lmpp


def _not_homogeneous(feats: dict[str, np.ndarray], params: NecrosisParams) -> np.ndarray:
    """False on homogeneous eosinophilic matrix (E >= ``fibre_min_eosin_od``, texture < ``min_texture``)."""
    return (feats["texture"] >= params.min_texture) | (feats["eosin"] < params.fibre_min_eosin_od)


def _clean(cand: np.ndarray, tis: np.ndarray, lmpp: float, params: NecrosisParams) -> np.ndarray:
    """Majority smoothing over ``smooth_um`` inside tissue, then regions < ``min_area_um2`` dropped."""
    mask = (ndi.gaussian_filter(cand.astype(np.float32), params.smooth_um / lmpp) >= 0.5) & tis
    labels, n = ndi.label(mask)
    if n:
        sizes = np.bincount(labels.ravel(), minlength=n + 1) * lmpp * lmpp
        keep = sizes >= params.min_area_um2
        keep[0] = False
        mask = keep[labels]
    return mask


def _measure_with_classifier(rgb: np.ndarray, mpp: float, params: NecrosisParams, region: np.ndarray | None,
                             classifier: Any) -> tuple[NecrosisCounts, np.ndarray, float]:
    from ..stain import od_from_rgb

    prob, lmpp = classifier.necrosis_probability(rgb, mpp=mpp)
    matrix = classifier.stains()
    od_low = _block_mean(od_from_rgb(rgb, background=matrix.background), round(lmpp / mpp))
    tis = _tissue(od_low, lmpp, params)
    mask = _clean((prob >= 0.5) & tis, tis, lmpp, params)
    return _counts(mask, tis, region, rgb.shape[:2], lmpp, mpp), mask, lmpp


def _tissue(od_low: np.ndarray, lmpp: float, params: NecrosisParams) -> np.ndarray:
    """Tissue on a low-resolution grid: total OD, smoothed over ~2 µm, >= ``tissue_min_od``."""
    total = ndi.gaussian_filter(np.sqrt((od_low ** 2).sum(-1)), 2.0 / lmpp + 0.5)
    return total >= params.tissue_min_od


def _counts(mask: np.ndarray, tis: np.ndarray, region: np.ndarray | None, shape: tuple[int, int],
            lmpp: float, mpp: float) -> NecrosisCounts:
    if region is None:
        weight = np.ones(mask.shape, np.float32)
        weight_full_area = float(shape[0] * shape[1])
    else:
        region = np.asarray(region, dtype=bool)
        if region.shape != shape:
            msg = f"tissue (owned region) mask must have the tile's shape {shape}, got {region.shape}"
            raise ConfigError(msg)
        f = max(1, round(lmpp / mpp))
        weight = _owned_share(region, f)[: mask.shape[0], : mask.shape[1]]
        weight_full_area = float(region.sum())
    px = lmpp * lmpp
    return NecrosisCounts(
        necrosis_um2=float((weight * mask).sum()) * px,
        tissue_um2=float((weight * tis).sum()) * px,
        region_um2=weight_full_area * mpp * mpp,
    )
