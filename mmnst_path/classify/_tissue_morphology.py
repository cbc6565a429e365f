"""The ``nuclear_morphology`` planes and columns of the tissue features (module doc of
:mod:`mmnst_path.classify.tissue_features`): Hessian responses of H on the micro grid
(:func:`_hessian_responses`, for :func:`~mmnst_path.classify.tissue_features.base_maps`) and their columns
on the output grid (:func:`_morphology_features`, for
:func:`~mmnst_path.classify.tissue_features.features_from_base`)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .tissue_features import (
    BASE_CHANNELS,
    TissueFeatureSettings,
    _coherence_of,
    _g,
    block_mean,
    kernel_radius,
)

__all__: list[str] = []


def _hessian_responses(h: np.ndarray, micro_mpp: float, st: TissueFeatureSettings) -> list[np.ndarray]:
    """The :data:`MORPHOLOGY_CHANNELS` on the micro grid: Hessian responses of H (nuclei are maxima of H),
    scale-normalised (x sigma²) and divided by the local mean H over ``ring_um`` (+ ``eps_od``)."""
    local = _g(h, st.ring_um / micro_mpp) + np.float32(st.eps_od)
    s = st.small_nucleus_um / micro_mpp
    hrr, hcc, hrc = (_g(h, s, order=o) for o in ((2, 0), (0, 2), (1, 1)))
    half_tr = 0.5 * (hrr + hcc)
    disc = np.sqrt(0.25 * (hrr - hcc) ** 2 + hrc * hrc)
    norm = np.float32(s * s) / local
    ridge = np.maximum(disc - half_tr, 0.0) * norm  # minus the most negative eigenvalue
    round_ = np.maximum(-half_tr - disc, 0.0) * norm  # minus the other one: > 0 only where both are negative
    small = np.maximum(-2.0 * half_tr, 0.0) * norm
    big = st.large_nucleus_um / micro_mpp
    large = np.maximum(-ndi.gaussian_laplace(h, big, mode="reflect", radius=kernel_radius(big)), 0.0)
    return [small, ridge, round_, large * np.float32(big * big) / local]


def _morphology_features(resp: np.ndarray, base: np.ndarray, grid_mpp: float, k: int,
                         st: TissueFeatureSettings) -> list[np.ndarray]:
    """The ``nuclear_morphology`` columns on the output grid (module doc), in spec order, from the fine-block
    means of the Hessian responses ``resp`` (ls, lr, lb, ll), of H / E and of the structure tensors in ``base``."""
    tiny = np.float32(1e-3)
    px = 1.0 / grid_mpp
    cpx = 1.0 / (grid_mpp * k)
    fp = st.fine_um * px
    resp = np.maximum(resp, 0.0)
    fine = _g(resp[..., [0, 3]], (fp, fp, 0))
    out = [block_mean(fine[..., 0], k), block_mean(fine[..., 1], k)]
    coarse = block_mean(resp, k)
    wide = []
    for s in st.sigmas_um:
        m = _g(coarse, (s * cpx, s * cpx, 0))
        out += [m[..., 0], m[..., 3]]
        wide.append(m)
    for m in wide:
        out += [m[..., 3] / (m[..., 0] + m[..., 3] + tiny), m[..., 2] / (m[..., 1] + tiny)]
    e_tensor = BASE_CHANNELS.index("e_jrr")
    h_tensor = BASE_CHANNELS.index("h_jrr")
    tensors = block_mean(base[..., [*range(e_tensor, e_tensor + 3), *range(h_tensor, h_tensor + 3)]], k)
    a = st.align_um * cpx
    jt = _g(tensors, (a, a, 0))
    out += [_coherence_of(jt[..., 3:6]), _coherence_of(jt[..., 0:3])]
    he = block_mean(np.maximum(base[..., [BASE_CHANNELS.index("h"), BASE_CHANNELS.index("e")]], 0.0), k)
    s1, ctx = st.sigmas_um[0] * cpx, st.context_um * cpx
    near, far = _g(he, (s1, s1, 0)), _g(he, (ctx, ctx, 0))
    eps = np.float32(st.eps_od)
    out += [(near[..., 0] + eps) / (far[..., 0] + eps), (near[..., 1] + eps) / (far[..., 1] + eps)]
    return out
