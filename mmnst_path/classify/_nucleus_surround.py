"""What lies around a nucleus, read on the hematoxylin plane with every nucleus masked out.

The 20 nucleus features see the nucleus, a 2 µm ring and the positions of its neighbours: to them
a small packed epithelial nucleus and a stromal or lymphoid one can be the same object. What tells
them apart to a pathologist is the surroundings: the cytoplasm of an epithelial sheet against the
collagen fibres and loose matrix of stroma. This module describes the surroundings of each
nucleus in a Gaussian window of sigma S µm centred on its centroid, over the *free* pixels only:
those farther than ``margin_um`` from every detected nucleus (the nucleus itself included), so
that no nucleus' own stain (and no chromogen spilled at a positive nucleus' edge) is read.

Per sigma S (columns ``sur_free_S``, ``sur_od_S``, ``sur_sd_S``, ``sur_coh_S``):

``sur_free``  Gaussian-weighted share of free pixels in the window (crowding of the sheet)
``sur_od``    mean hematoxylin OD of the free pixels (cytoplasm vs pale matrix)
``sur_sd``    its standard deviation (fibres and gaps vs even cytoplasm)
``sur_coh``   coherence of the structure tensor of the hematoxylin plane (central differences,
              integrated over the window's free pixels): near 1 along parallel fibres, near 0
              for isotropic texture

The plane is hematoxylin only, never the chromogen: the descriptor must inform equally about
DAB-positive and negative nuclei (benchmarks/README.md, session 37: cues that read the
chromogen's darkness, or inform about negatives only, moved the Ki67 index). A window with
almost no free pixel (weight < ``_MIN_WEIGHT``) gets 0 for the OD, spread and coherence.

Every value is a Gaussian of a whole-plane map sampled at the nucleus' centroid pixel, so a
nucleus has the same columns in any tile whose margin reaches :func:`surround_reach_um` beyond it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .model import FeatureSpec

__all__ = ["surround_features", "surround_reach_um", "surround_specs"]

#: a window whose free-pixel weight is below this reads 0 for od / sd / coherence (no surroundings seen)
_MIN_WEIGHT = 1e-3
#: Gaussian truncation (sigmas) of the windows: that of the project's Gaussian kernels
_TRUNCATE = 4.0


def surround_specs(sigmas_um: Sequence[float]) -> list[FeatureSpec]:
    """Feature specs of the surround columns, four per window sigma, in order."""
    out = []
    for s in sigmas_um:
        out += [
            FeatureSpec(f"sur_free_{s:g}um", "", f"share of non-nuclear pixels, Gaussian window {s:g} µm"),
            FeatureSpec(f"sur_od_{s:g}um", "log10 OD", f"mean hematoxylin of the non-nuclear pixels, window {s:g} µm"),
            FeatureSpec(f"sur_sd_{s:g}um", "log10 OD", f"std of the hematoxylin of the non-nuclear pixels, window {s:g} µm"),
            FeatureSpec(f"sur_coh_{s:g}um", "", f"structure-tensor coherence of the non-nuclear pixels, window {s:g} µm"),
        ]
    return out


def surround_reach_um(sigmas_um: Sequence[float], *, margin_um: float, fine_sigma_um: float) -> float:
    """How far beyond a nucleus' centroid the surround columns read (µm; 0 without windows)."""
    if not sigmas_um:
        return 0.0
    return _TRUNCATE * max(sigmas_um) + margin_um + _TRUNCATE * fine_sigma_um


def surround_features(labels: np.ndarray, hematoxylin: np.ndarray, centroids_px: np.ndarray, *, mpp: float,
                      sigmas_um: Sequence[float], margin_um: float, fine_sigma_um: float) -> np.ndarray:
    """Surround columns of the nuclei of a label image.

    Parameters
    ----------
    labels : (M, N) int ndarray
        Nucleus labels (0 background).
    hematoxylin : (M, N) float ndarray
        Hematoxylin concentration, log10 OD (the chromogen is never read).
    centroids_px : (n, 2) float ndarray
        Centroid (row, col) of every nucleus in the planes' pixels.
    mpp : float
        µm per pixel.
    sigmas_um : sequence of float
        Gaussian window sigmas (µm).
    margin_um : float
        Pixels within this distance (square) of any nucleus are not free.
    fine_sigma_um : float
        Unused since the gradients are central differences (kept so the reach stays that of the
        gated settings: :func:`surround_reach_um`).

    Returns
    -------
    (n, 4 * len(sigmas_um)) float64 ndarray
    """
    from ..detect._morphology import _gaussian_at, _square_extreme

    n = centroids_px.shape[0]
    if n == 0:
        return np.zeros((0, 4 * len(sigmas_um)))
    hem = np.maximum(np.asarray(hematoxylin, dtype=np.float32), 0)
    margin_px = max(1, round(margin_um / mpp))
    near = _square_extreme((labels > 0).astype(np.float32), 2 * margin_px + 1, op="max")
    free = (near == 0).astype(np.float32)
    # central differences of the plane itself: at a free pixel (> margin_px from every nucleus) they
    # read no nucleus pixel (a Gaussian before the gradients would carry a nucleus' stain, and with
    # it a positive's leaked DAB, 4 fine sigmas past the margin; session 38 H3's gated candidate did)
    gr, gc = np.gradient(hem)
    # ... and only where both neighbours of the difference are free (one pixel farther out)
    grad_free = (_square_extreme((labels > 0).astype(np.float32), 2 * margin_px + 3, op="max") == 0).astype(np.float32)
    maps = [np.ascontiguousarray(m, dtype=np.float32) for m in
            (free, hem * free, hem * hem * free, gr * gr * grad_free, gc * gc * grad_free, gr * gc * grad_free)]
    m, k = labels.shape
    rows = np.clip(np.rint(centroids_px[:, 0]), 0, m - 1).astype(np.intp)
    cols = np.clip(np.rint(centroids_px[:, 1]), 0, k - 1).astype(np.intp)
    order = np.lexsort((cols, rows))  # row-major, as the sampled kernels expect
    at = (rows[order], cols[order])
    out = np.zeros((n, 4 * len(sigmas_um)))
    for j, s in enumerate(sigmas_um):
        w, sh, shh, srr, scc, src = (_gaussian_at(mp, s / mpp, at).astype(np.float64) for mp in maps)
        seen = w >= _MIN_WEIGHT
        ws = np.where(seen, w, 1.0)
        od = np.where(seen, sh / ws, 0.0)
        sd = np.where(seen, np.sqrt(np.maximum(shh / ws - od * od, 0.0)), 0.0)
        tr = srr + scc
        coh = np.where(seen & (tr > 1e-12), np.sqrt((srr - scc) ** 2 + 4.0 * src * src) / np.maximum(tr, 1e-12), 0.0)
        block = np.stack([np.clip(w, 0.0, 1.0), od, sd, np.clip(coh, 0.0, 1.0)], axis=1)
        out[order, 4 * j: 4 * j + 4] = block
    return out
