"""Necrosis from a tissue model's classes, with the intact-nucleus veto (used by :mod:`.necrosis`).

:func:`measure_with_tissue_model` is the tissue-model branch of
:func:`mmnst_path.quantify.necrosis.measure_necrosis`: class probabilities smoothed over
``smooth_um / 2``, background removed, necrosis vetoed where intact nuclei are dense
(:mod:`._intact_nuclei`), holes filled (``fill_holes_um2``), regions under ``min_area_um2``
dropped, then necrosis, tumour and stroma areas.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from .necrosis import NecrosisCounts, NecrosisParams, _counts, _owned_share, _tissue

__all__ = ["INTACT_REGROW_SIGMAS", "measure_with_tissue_model", "necrosis_labels", "small_holes"]


def measure_with_tissue_model(rgb: np.ndarray, mpp: float, params: NecrosisParams, region: np.ndarray | None,
                              model: Any, stains: Any, tmap: Any = None,
                              labelled: Any = None, reference: Any = None) -> tuple[NecrosisCounts, np.ndarray, float]:
    """Necrosis, tumour and stroma areas from a tissue model's classes (``rgb`` already grid-aligned);
    ``labelled``: :func:`necrosis_labels` of this tile and ``tmap`` when the caller has it; ``reference``: the
    slide's image reference (:func:`~mmnst_path.classify.tissue.classify_tissue`)."""
    from ..classify.tissue import classify_tissue

    if tmap is None:
        tmap = classify_tissue(rgb, mpp=mpp, model=model, stains=stains, reference=reference)
    lmpp = tmap.mpp
    if labelled is not None and np.shape(labelled[0]) == tmap.labels.shape:
        labels, mask, tis = labelled
    else:
        labels, mask, tis = necrosis_labels(rgb, mpp, params, tmap, stains)
    classes = tmap.classes

    def is_class(name: str) -> np.ndarray:
        return labels == classes.index(name) if name in classes else np.zeros(labels.shape, bool)

    counts = _counts(mask, tis, region, rgb.shape[:2], lmpp, mpp)
    weight = _region_weight(region, rgb.shape[:2], lmpp, mpp, labels.shape)
    px = lmpp * lmpp
    counts = replace(counts, tumour_um2=float((weight * (is_class("tumour") & tis)).sum()) * px,
                     stroma_um2=float((weight * (is_class("stroma") & tis)).sum()) * px,
                     classified_um2=counts.tissue_um2)
    return counts, mask, lmpp


def necrosis_labels(rgb: np.ndarray, mpp: float, params: NecrosisParams, tmap: Any, stains: Any, *,
                    origin: tuple[int, int] | None = None,
                    need: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The class map whose ``necrosis`` is the measured necrosis: ``(labels, necrosis, tissue)``, each (m, n)
    on ``tmap``'s block grid (``labels`` int8 indices into ``tmap.classes``).

    Class probabilities smoothed over ``smooth_um / 2`` (:func:`~mmnst_path.classify.tissue.smoothed_labels`),
    necrosis vetoed where intact nuclei are dense (``intact_veto_density``, at ``intact_max_mpp_um``
    and finer), kept on tissue only (``tissue_min_od``, not ``background``), small holes filled
    (``fill_holes_um2``) and regions under ``min_area_um2`` dropped: ``necrosis`` is that mask. A block
    the model called necrosis that these steps removed takes its most probable other class, and a filled
    hole becomes ``necrosis``, so the class map, its areas and the tumour region of ``[ki67] count_in =
    "tumour"`` agree with the necrosis area reported beside them.

    ``tmap`` is :func:`~mmnst_path.classify.tissue.classify_tissue` of ``rgb`` with the same ``origin``; the
    image is padded as that function pads it (``origin`` None: ``rgb`` is already aligned to the blocks).

    A ``tmap`` classified on part of its grid (``tmap.window``) needs ``need`` (r0, r1, c0, c1): the blocks
    whose result the caller reads; they are then the whole grid's (the others are not), or
    :class:`~mmnst_path.quantify._necrosis_window.NotExact` is raised (:func:`._necrosis_window.check_exact`).
    """
    from ..classify.tissue import smoothed_labels
    from ..classify.tissue_features import block_mean
    from ..stain import load_stains, od_from_rgb

    lmpp, big = tmap.mpp, tmap.factor
    if origin is not None:
        off_r, off_c = (int(v) % big for v in origin)
        if off_r or off_c:
            rgb = np.pad(rgb, ((off_r, 0), (off_c, 0), (0, 0)), mode="edge")
    matrix = load_stains(stains)
    shape = tmap.labels.shape
    od = od_from_rgb(rgb, background=matrix.background)
    # strided float32 sums: the same values as necrosis._block_mean's reshaped float32 mean, ~4x faster
    od_low = block_mean(od, big)[: shape[0], : shape[1]]
    tis = _tissue(od_low, lmpp, params)
    labels = smoothed_labels(tmap, smooth_um=params.smooth_um)
    classes = tmap.classes
    if "background" in classes:
        tis &= labels != classes.index("background")
    if "necrosis" not in classes:
        if getattr(tmap, "window", None) is not None:
            from ._necrosis_window import check_exact

            none = np.zeros(shape, bool)
            check_exact(tmap, params, _needed(need), model_necrosis=none, vetoed=False, mask=none)
        return labels, np.zeros(shape, bool), tis
    nec = classes.index("necrosis")
    veto = np.zeros(shape, bool)
    model_necrosis = labels == nec
    vetoed = params.intact_veto_density > 0 and mpp <= params.intact_max_mpp_um
    if vetoed:
        veto = _intact_veto(rgb, od, mpp, stains, tis, tmap, params, model_necrosis)
        labels = smoothed_labels(tmap, smooth_um=params.smooth_um, not_necrosis=veto)
    mask = (labels == nec) & tis
    if getattr(tmap, "window", None) is not None:
        from ._necrosis_window import check_exact

        check_exact(tmap, params, _needed(need), model_necrosis=model_necrosis, vetoed=vetoed, mask=mask)
    if params.fill_holes_um2 > 0:
        mask |= small_holes(mask, params.fill_holes_um2 / (lmpp * lmpp)) & tis
    labelled, n = ndi.label(mask)
    if n:
        sizes = np.bincount(labelled.ravel(), minlength=n + 1) * lmpp * lmpp
        keep = sizes >= params.min_area_um2
        keep[0] = False
        mask = keep[labelled]
    dropped = (labels == nec) & ~mask
    if dropped.any():  # (the same decision as the veto's: the block's most probable other class)
        labels = smoothed_labels(tmap, smooth_um=params.smooth_um, not_necrosis=veto | dropped)
    labels = np.where(mask, np.int8(nec), labels).astype(np.int8)
    return labels, mask, tis


def _needed(need: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
    if need is None:
        msg = "necrosis_labels: a tissue map classified on part of its grid (window) needs 'need', got None"
        raise ValueError(msg)
    return need


def _intact_veto(rgb: np.ndarray, od: np.ndarray, mpp: float, stains: Any, tis: np.ndarray, tmap: Any,
                 params: NecrosisParams, necrosis: np.ndarray) -> np.ndarray:
    """(m, n) bool: necrosis blocks (of ``necrosis``, the model's) vetoed by intact nuclei (module doc)."""
    from ._intact_nuclei import intact_density, nucleus_extent_um, nucleus_peaks

    if not necrosis.any():
        return np.zeros(necrosis.shape, bool)
    # the density of a necrosis block counts the nuclei within the reach of its Gaussian window (4 sigma):
    # candidates are looked for there only (the same nuclei as on the whole tile, exactly)
    reach = int(4.0 * params.intact_sigma_um / tmap.mpp + 0.5) + 1
    near = ndi.maximum_filter(necrosis, size=2 * reach + 1, mode="constant")
    model = None
    if params.intact_model != "none":
        from ._intact_model import resolve_intact_model

        model = resolve_intact_model(params.intact_model)
    if model is not None:  # the learned call replaces the fixed tests (module doc of _intact_model)
        from ._intact_model import intact_calls

        nuc = intact_calls(rgb, od, model, mpp=mpp, stains=stains, blocks=near, block_factor=tmap.factor)
        keep = np.ones(len(nuc.row), bool)
    else:
        nuc = nucleus_peaks(rgb, mpp=mpp, stains=stains, od=od, blocks=near, block_factor=tmap.factor)
        keep = nuc.intact(contrast_od=params.intact_contrast_od, min_surround_tissue=params.intact_surround_tissue,
                          min_fill=params.intact_min_fill)
    if model is None and params.intact_min_extent_um > 0 and keep.any():  # karyorrhectic bodies (< ~5 µm)
        ext = nucleus_extent_um(od, nuc.row[keep], nuc.col[keep], mpp=mpp, stains=stains)
        keep[np.flatnonzero(keep)[ext < params.intact_min_extent_um]] = False
    dens = intact_density(np.column_stack([nuc.row[keep], nuc.col[keep]]), tis, block_mpp=tmap.mpp,
                          sigma_um=params.intact_sigma_um, factor=tmap.factor)
    veto = necrosis & (dens >= params.intact_veto_density)
    # the density window carries the nuclei of viable tissue ~1.5 sigma into a true necrotic region: blocks
    # that close to necrosis the veto leaves stay necrotic (a whole region of intact nuclei is still vetoed)
    r = INTACT_REGROW_SIGMAS * params.intact_sigma_um / tmap.mpp
    if veto.any() and r >= 1:
        yy, xx = np.mgrid[-int(r): int(r) + 1, -int(r): int(r) + 1]
        veto &= ~ndi.binary_dilation(necrosis & ~veto, structure=yy * yy + xx * xx <= r * r)
    return veto


#: Reach (in ``intact_sigma_um``) over which necrosis the veto leaves restores vetoed necrosis next to it.
INTACT_REGROW_SIGMAS = 1.5


def small_holes(mask: np.ndarray, max_px: float) -> np.ndarray:
    """Pixels of the holes of ``mask`` (areas it encloses, 8-connected background) smaller than ``max_px``."""
    holes = ndi.binary_fill_holes(mask) & ~mask
    labelled, n = ndi.label(holes, structure=np.ones((3, 3), bool))
    if not n:
        return holes
    small = np.bincount(labelled.ravel(), minlength=n + 1) < max_px
    small[0] = False
    return small[labelled]


def _region_weight(region: np.ndarray | None, shape: tuple[int, int], lmpp: float, mpp: float,
                   grid_shape: tuple[int, int]) -> np.ndarray:
    """Share of each low-resolution block inside the owned region (1 everywhere without one)."""
    if region is None:
        return np.ones(grid_shape, np.float32)
    f = max(1, round(lmpp / mpp))
    return _owned_share(np.asarray(region, dtype=bool), f)[: grid_shape[0], : grid_shape[1]]
