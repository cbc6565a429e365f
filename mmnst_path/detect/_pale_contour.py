"""Pale nuclei kept from the area filter: a second, lower contour for regions it would drop.

The adaptive contour of :func:`mmnst_path.detect.nuclei._labels_of` keeps the pixels of a watershed
region whose background-subtracted signal ``H + dab_weight * DAB`` is at least ``contour_fraction`` of
the region's peak. A large, very pale nucleus with almost no edge against the cytoplasm has a flat,
low signal with a small bright core: the contour keeps the core only, its area falls under
``min_area_um2`` and the nucleus is dropped (about half of the missed pale negatives of EndoNuke's dev
part, session 34; benchmarks/experiments/pale_nuclei_endonuke_s34.py). Here every region the contour
leaves under ``min_area_um2`` is contoured again at ``pale_contour_fraction`` of the same peak, inside
the same watershed region; the other regions are untouched (bit-identical labels and areas). The
region keeps the same pixels as before or more, never another region's, so a nucleus still lies
within its watershed region (no wider reach: :meth:`NucleusParams.halo_parts_um` holds).
"""

from __future__ import annotations

import numpy as np

from ._nucleus_measure import _label_max
from ._nucleus_params import NucleusParams

__all__ = ["pale_regions", "recontour_small"]


def pale_regions(watershed: np.ndarray, comp: np.ndarray, n_seeds: int, params: NucleusParams) -> np.ndarray | None:
    """The regions :func:`recontour_small` contours again: the ``watershed`` labels with the seedless
    foreground components ``comp`` as labels ``n_seeds + k`` (what the contour reads), or None when
    ``params`` asks for no second contour."""
    frac = params.pale_contour_fraction
    if frac is None or frac >= params.contour_fraction or params.contour_fraction <= 0:
        return None
    return np.where(comp > 0, comp + n_seeds, watershed)


def recontour_small(labels: np.ndarray, area_px: np.ndarray, regions: np.ndarray, fg_signal: np.ndarray,
                    mpp: float, params: NucleusParams, stains: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Contour again, at ``params.pale_contour_fraction``, the regions the contour left too small.

    Parameters
    ----------
    labels : (M, N) int32
        The contoured labels (changed in place: a re-contoured region gets its new pixels).
    area_px : (n_all + 1,) int
        Pixels per label of ``labels`` (changed in place for the re-contoured regions).
    regions : (M, N) int
        The same labels before the contour (watershed regions with the seedless components merged).
    fg_signal : (M, N) float32
        The background-subtracted ``H + dab_weight * DAB`` (log10 OD) the contour reads.
    mpp : float
        Analysis resolution (µm/px).
    params : NucleusParams
        ``pale_contour_fraction`` (None or >= ``contour_fraction``: nothing to do), ``min_area_um2``,
        ``pale_contour_max_dab_share`` (None: every small region).
    stains : pair of (M, N) float32 or None
        The clipped hematoxylin and chromogen planes (log10 OD), read when
        ``pale_contour_max_dab_share`` is set: a small region is contoured again only if the chromogen's
        share ``sum(DAB) / (sum(DAB) + sum(H))`` over the pixels of its second contour is below it
        (hematoxylin-dominant: a pale negative, not a faint positive).
    """
    frac = params.pale_contour_fraction
    if frac is None or frac >= params.contour_fraction or params.contour_fraction <= 0:
        return
    n_all = area_px.shape[0] - 1
    small = (area_px * (mpp * mpp) < params.min_area_um2) & (area_px > 0)
    small[0] = False
    if not small.any():
        return
    peak = _label_max(fg_signal, regions, n_all)
    limit = np.where(small, np.float32(frac) * peak, np.float32(np.inf)).astype(np.float32)
    inside = (limit[regions] <= fg_signal) & (regions > 0)
    share_max = params.pale_contour_max_dab_share
    if share_max is not None and stains is not None:  # hematoxylin-dominant regions only
        ids = regions[inside]
        hem = np.bincount(ids, weights=stains[0][inside], minlength=n_all + 1)
        dab = np.bincount(ids, weights=stains[1][inside], minlength=n_all + 1)
        total = hem + dab
        share = np.divide(dab, total, out=np.ones_like(total), where=total > 0)
        inside &= (share < share_max)[regions]
    add = inside & (labels == 0)
    ids = regions[add]
    labels[add] = ids
    area_px += np.bincount(ids, minlength=n_all + 1).astype(area_px.dtype, copy=False)
