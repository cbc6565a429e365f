"""Per-block features for the tissue (pixel) classifier: multiscale colour, texture and density.

Block grids in µm so that one model serves slides scanned at 0.25-2 µm/px: a *fine* grid of
about ``grid_um`` (``f = round(grid_um / mpp)`` image pixels a side) for the features that need
detail (nuclei, fibres), a *coarse* grid of ``k`` x ``k`` fine blocks (about ``predict_um``) on
which the wide-scale features are computed, and the *output* grid of ``j`` x ``j`` coarse blocks
(about ``output_um``) whose averaged features are classified (fewer rows for the forest). The base
maps of a fine block are the means of its pixels' optical densities (log10 OD per RGB channel),
its hematoxylin and eosin concentrations (colour deconvolution is linear in OD, so they are the
block-mean OD times the inverse stain matrix) and the fraction of its pixels that are glass-white.

Most features are *ratios*, so that they survive stain variation (amount of stain, section
thickness, scanner white balance, a rotated stain vector). S: a Gaussian scale in µm.

==========================  ========================================================================
``log_od_s{S}``             log10 of the total OD (sum of the three channels + ``eps_od``)
``od_red_s{S}``             red share of the OD (OD_R / total): the hue of the stain mixture
``od_blue_s{S}``            blue share of the OD (haemoglobin and eosin absorb blue)
``h_share_s{S}``            H / (H + E + eps): hematoxylin share of the deconvolved stain
``white_s{S}``              fraction of glass-white area (lumina, fat vacuoles, background)
``h_cv_t{T}``               coefficient of variation of H over T µm (nuclear granularity)
``e_cv_t{T}``               the same for eosin (fibres, vacuoles, ghost cells vs homogeneous matrix)
``od_sd_t{T}``              standard deviation of the log total OD over T µm
``blob``                    scale-normalised Laplacian of Gaussian of H at ``blob_um`` (a nucleus),
                            relative to the local mean H
``blob_density_s{S}``       its positive part averaged at S µm (density of nuclei, stain-free)
``fibre_coherence``         orientation coherence of eosin (structure tensor, derivative and
                            integration scales ``fibre_um``): 1 parallel fibres, 0 amorphous
``fibre_coherence_s{S}``    the same averaged at S µm
``nucleus_coherence``       orientation coherence of H at ``nucleus_um`` (spindle vs round nuclei)
``nucleus_coherence_s{S}``  the same averaged at S µm
``edge``                    gradient magnitude of the log total OD at ``fine_um`` (per µm)
==========================  ========================================================================

With ``relative_level`` (off by default; opt-in for #13) the model is kept from the absolute amount of stain:
each ``log_od_s{S}`` of the fine scale and the sigmas becomes ``log_od_rel_s{S}``, the log10 total OD at S µm
minus that at ``context_um`` (the level relative to its surroundings: a denser nest, a paler necrotic area in
viable tissue), and ``log_od_s{context_um}`` is left out (35 default columns instead of 36). A global scaling
of the stain moves the absolute columns by log10 of the factor and these hardly at all; the halo is unchanged.
No shipped model uses them (session 18, benchmarks/README.md "Stain level"): the amount of stain is itself a
property of mucin, necrosis and glass, and without it the held-out Kather tumour read as mucin and necrosis.

With ``image_reference`` (off by default; opt-in for #13, session 19) the OD is taken against the slide's glass
and every ``log_od_s{S}`` becomes ``log_od_ref_s{S}``, the level minus the slide's stain level: both come from an
:class:`~mmnst_path.classify._image_reference.ImageReference` computed once per slide (from its thumbnail) or
once per plain image and passed to every tile, so the columns stay tile-invariant. ``white_s{S}`` is then the
fraction of pixels within ``white_od`` of the slide's own glass. With ``reference_weight`` w < 1 the level
subtracted is ``w level + (1 - w) DEFAULT_LEVEL`` (:func:`reference_level`): the reference shrunk towards a fixed
typical level.

With ``nuclear_detail`` (H&E models since 1.2.0; off by default, so older models and the IHC
model compute the columns above only) eight columns follow that describe the *nuclei* rather
than the tissue average, so that intact nuclei (viable, even when pale or vesicular) and ghost
nuclei / nuclear dust (necrosis) differ. On the micro grid the nuclear excess
``w = max(H - G(H, ring_um), 0)`` is what a nucleus adds over its surroundings:

==========================  ========================================================================
``nuc_h_share_s{S}``        H share of the nuclear excess, G(w H) / (G(w H) + G(w E)): intact
                            nuclei are blue, ghost nuclei and smudged debris pink-purple
``nuc_contrast_s{S}``       G(w) / G(H): how far nuclei stand out of their surroundings
``h_energy``                gradient magnitude of H at ``micro_um`` / mean H, over ``nucleus_um``
                            (nuclear membranes and chromatin edges; blurred ghosts are smooth)
``h_energy_s{S}``           the same averaged at S µm
==========================  ========================================================================

With ``nuclear_morphology`` (off by default; opt-in for #13, tumour vs stroma vs inflammatory) fourteen
columns follow (after the nuclear-detail ones when both are on) that describe the *shape, size and packing*
of the nuclei and the local stain level relative to its surroundings. On the micro grid the Hessian of H at
``small_nucleus_um`` (a lymphocyte or a spindle nucleus's width) gives, scale-normalised (x sigma²) and
divided by the local mean H over ``ring_um`` (stain-amount free), the blob response ``ls`` (positive part of
minus the Laplacian), the ridge response ``lr`` (minus the most negative eigenvalue, positive part: an
elongated or a round nucleus) and the round part ``lb`` (minus the other eigenvalue: round nuclei only);
``ll`` is the blob response at ``large_nucleus_um`` (a large tumour nucleus):

==========================  ========================================================================
``nm_small_s{S}``           mean small-blob response ``ls`` at S µm (the fine grid, then the sigmas)
``nm_large_s{S}``           the same for the large-nucleus blob response ``ll``
``nm_size_s{S}``            ll / (ls + ll) at S µm (sigmas): large round nuclei vs small ones
``nm_round_s{S}``           lb / lr at S µm (sigmas): round nuclei vs spindle nuclei and fibres
``h_align_s{A}``            coherence of the H structure tensor averaged over ``align_um``: nuclei
                            aligned over a region (stroma), not each nucleus's own elongation
``e_align_s{A}``            the same for eosin (fibre bundles)
``h_rel_s{S}``              mean H at the first sigma / mean H at ``context_um`` (denser than around)
``e_rel_s{S}``              the same for eosin
==========================  ========================================================================

No shipped model uses them (session 17, benchmarks/README.md "Nuclear morphology for tumour / stroma /
lymphocytes"): with them the held-out Kather lymphocyte tiles read 55 -> 82 % inflammatory and BRCA-M2C test blocks
0.67 -> 0.69-0.72 right, but held-out Kather stroma / tumour did not improve, osteosarcoma NVT A12-27307 read 11 ->
3 % necrotic, and ``classify_tissue`` took 1.4x as long (the Hessian on the micro grid).

Fine-grid features are averaged over each output block; wide scales (``sigmas_um``, the wide
texture scales and ``context_um``) are computed on the output grid from block means of the fine
maps (and of their squares, for the standard deviations).

Tile invariance: every feature is a chain of block means and Gaussian filters truncated at
``TRUNCATE`` sigma, so a block's features depend only on the image within
:meth:`TissueFeatureSettings.halo_um` of it; the caller aligns the blocks to the slide's grid
(``origin``, see :func:`mmnst_path.classify.tissue.classify_tissue`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import ConfigError
from ._image_reference import DEFAULT_LEVEL, ImageReference, image_reference
from ._tissue_boxes import Box4, cut_box, grow_box, scale_box
from ._tissue_feature_specs import tissue_feature_specs

__all__ = ["BASE_CHANNELS", "MORPHOLOGY_CHANNELS", "NUCLEAR_CHANNELS", "TRUNCATE", "TissueFeatureSettings", "base_maps", "block_factor", "block_mean", "features_from_base",
           "grid_factors", "kernel_radius", "reference_level", "tissue_feature_specs", "tissue_features",
           "window_boxes"]

#: Gaussian filters are cut at this many sigma (the halo derives from it).
TRUNCATE = 3.0


def kernel_radius(sigma_px: float) -> int:
    """Pixels each side of a Gaussian kernel of ``sigma_px``: ``int(TRUNCATE * sigma + 0.75)``.

    scipy's own rule, ``int(truncate * sigma + 0.5)``, changes the radius where ``TRUNCATE * sigma``
    crosses a half-integer, and several of the feature scales sit exactly there at the models' nominal
    grid (3 µm blobs and nuclei on the 2 µm grid: 1.5 px, 4.5; 6, 18 and 30 µm on the 4 µm grid): an image
    at 0.5001 µm/px lost one tap of each such kernel that one at 0.5 µm/px has, and a breast carcinoma
    patch read 14.7 vs 7.1 % necrosis. With 0.75 every radius at the nominal grids is the one scipy
    gives (the models were trained with it), and a radius changes only where ``TRUNCATE * sigma`` is a
    quarter past an integer: at least ~6 % away from the nominal pixel size for these scales.
    """
    return int(TRUNCATE * float(sigma_px) + 0.75)


@dataclass(frozen=True)
class TissueFeatureSettings:
    """How tissue features are computed (stored in a tissue model's ``settings``); scales in µm."""

    grid_um: float = 2.0
    predict_um: float = 4.0
    output_um: float = 8.0
    fine_um: float = 2.0
    sigmas_um: tuple[float, ...] = (6.0, 18.0)
    context_um: float = 30.0
    texture_um: tuple[float, ...] = (4.0, 12.0)
    blob_um: float = 3.0
    micro_um: float = 1.0
    fibre_um: float = 4.0
    nucleus_um: float = 3.0
    white_od: float = 0.15
    eps_od: float = 0.05
    chromogen_as_hematoxylin: bool = False
    nuclear_cap_od: float = 0.0
    nuclear_detail: bool = False
    ring_um: float = 4.0
    nuclear_morphology: bool = False
    small_nucleus_um: float = 2.0
    large_nucleus_um: float = 3.5
    align_um: float = 18.0
    relative_level: bool = False
    image_reference: bool = False
    reference_weight: float = 1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.nuclear_cap_od, int | float) and math.isfinite(self.nuclear_cap_od)
                and self.nuclear_cap_od >= 0):
            msg = f"TissueFeatureSettings.nuclear_cap_od must be a finite OD >= 0 (0 = no cap), got {self.nuclear_cap_od!r}"
            raise ConfigError(msg)
        for flag in _FLAGS:
            if not isinstance(getattr(self, flag), bool):
                msg = f"TissueFeatureSettings.{flag} must be true or false, got {getattr(self, flag)!r}"
                raise ConfigError(msg)
        if self.relative_level and self.image_reference:
            msg = "TissueFeatureSettings: relative_level and image_reference are two ways to read the stain level; pick one"
            raise ConfigError(msg)
        w = self.reference_weight
        if isinstance(w, bool) or not (isinstance(w, int | float) and 0.0 <= w <= 1.0):
            msg = f"TissueFeatureSettings.reference_weight must be in [0, 1], got {self.reference_weight!r}"
            raise ConfigError(msg)
        scalars = [self.grid_um, self.predict_um, self.output_um, self.fine_um, self.context_um, self.blob_um, self.micro_um,
                   self.fibre_um, self.nucleus_um, self.white_od, self.eps_od, self.ring_um, self.small_nucleus_um,
                   self.large_nucleus_um, self.align_um]
        scales = [*self.sigmas_um, *self.texture_um]
        ok = (len(self.sigmas_um) >= 1 and len(self.texture_um) == 2
              and all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in scalars + scales)
              and self.output_um >= self.predict_um >= self.grid_um >= self.micro_um)
        if not ok:
            msg = ("TissueFeatureSettings: scales and thresholds must be positive finite numbers, two texture "
                   f"scales, output_um >= predict_um >= grid_um >= micro_um; got {self}")
            raise ConfigError(msg)

    def halo_um(self) -> float:
        """Context (µm) around an output block that its features depend on (longest filter chain)."""
        wide = max(*self.sigmas_um, self.context_um)
        s1 = self.sigmas_um[0]
        chains = (max(self.blob_um, 2 * self.fine_um) + wide, self.micro_um + self.fibre_um + s1,
                  self.micro_um + self.nucleus_um + s1, wide, *self.texture_um, self.fine_um + self.micro_um)
        if self.nuclear_detail:
            chains += (self.ring_um + max(self.sigmas_um), self.micro_um + self.nucleus_um + max(self.sigmas_um))
        if self.nuclear_morphology:
            chains += (max(self.ring_um, self.small_nucleus_um, self.large_nucleus_um) + max(self.sigmas_um),
                       self.micro_um + self.align_um)
        return TRUNCATE * max(chains) + 2.0 * self.output_um

    def to_mapping(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> TissueFeatureSettings:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(mapping) - set(known))
        if unknown:
            msg = f"unknown tissue feature settings {unknown}; known: {sorted(known)}"
            raise ConfigError(msg)
        kw: dict[str, Any] = {}
        for key, value in mapping.items():
            if key in _FLAGS:
                kw[key] = value
                continue
            if key == "reference_weight" and isinstance(value, bool):
                msg = f"tissue feature setting 'reference_weight': expected a number in [0, 1], got {value!r}"
                raise ConfigError(msg)
            is_seq = key in ("sigmas_um", "texture_um")
            if is_seq != isinstance(value, list | tuple):
                msg = f"tissue feature setting {key!r}: expected {'a list' if is_seq else 'a number'}, got {value!r}"
                raise ConfigError(msg)
            kw[key] = tuple(float(x) for x in value) if is_seq else float(value)
        return cls(**kw)


#: the true / false settings of :class:`TissueFeatureSettings`
_FLAGS = ("chromogen_as_hematoxylin", "nuclear_detail", "nuclear_morphology", "relative_level", "image_reference")


def block_factor(mpp: float, grid_um: float) -> int:
    """Image pixels per block side: ``round(grid_um / mpp)``; refuses images much coarser than the grid."""
    f = max(1, round(grid_um / mpp))
    if f * mpp > 1.6 * grid_um:
        msg = (f"image pixel size {mpp} µm/px is too coarse for the tissue model's {grid_um} µm/px working grid; "
               "read the slide at a finer level")
        raise ConfigError(msg)
    return f


def grid_factors(mpp: float, settings: TissueFeatureSettings) -> tuple[int, int, int]:
    """(image px per fine block, fine blocks per coarse block, coarse blocks per output block) at ``mpp``."""
    f = block_factor(mpp, settings.grid_um)
    k = max(1, round(settings.predict_um / (f * mpp)))
    return f, k, max(1, round(settings.output_um / (f * k * mpp)))


def block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """Means over ``f`` x ``f`` blocks from the array's corner (edge-padded to whole blocks), float32.

    The ``f²`` strided sub-grids are added in row-major order in float32 and the sum divided by
    ``f²`` (5-20x faster than a reshaped ``mean`` over two axes, which may add in another order: the
    two differ by at most one float32 rounding, and not at all where the sums are exact, such as
    fractions of a mask).
    """
    if f == 1:
        return a.astype(np.float32, copy=False)
    m, n = a.shape[:2]
    mp, np_ = -(-m // f) * f, -(-n // f) * f
    if (mp, np_) != (m, n):
        a = np.pad(a, [(0, mp - m), (0, np_ - n)] + [(0, 0)] * (a.ndim - 2), mode="edge")
    acc = np.array(a[0::f, 0::f], dtype=np.float32)
    for dr in range(f):
        for dc in range(f):
            if dr or dc:
                acc += a[dr::f, dc::f]
    acc /= np.float32(f * f)
    return acc


def _g(a: np.ndarray, sigma_px: float | tuple[float, ...], **kw: Any) -> np.ndarray:
    """Gaussian filter (reflect, :func:`kernel_radius` pixels each side); a tuple sigma gives one per axis
    (0 = none)."""
    sig = tuple(0.0 if v == 0 else max(v, 0.3) for v in sigma_px) if isinstance(sigma_px, tuple) else max(sigma_px, 0.3)
    radius = tuple(kernel_radius(v) for v in sig) if isinstance(sig, tuple) else kernel_radius(sig)
    return ndi.gaussian_filter(a, sig, mode="reflect", radius=radius, **kw)


def _micro_factor(f: int, mpp: float, micro_um: float) -> int:
    """Largest divisor of the fine factor ``f`` whose pitch stays within 1.5x ``micro_um`` (at least 1)."""
    return max(d for d in range(1, f + 1) if f % d == 0 and (d == 1 or d * mpp <= 1.5 * micro_um))


#: Channels of :func:`base_maps` (fine-block means).
BASE_CHANNELS = ("od_r", "od_g", "od_b", "h", "e", "white", "h2", "e2", "e_jrr", "e_jcc", "e_jrc",
                 "h_jrr", "h_jcc", "h_jrc")
#: Channels :func:`base_maps` appends with ``nuclear_detail``: the nuclear excess w and its products with H and E.
NUCLEAR_CHANNELS = ("w", "w_h", "w_e")
#: Channels :func:`base_maps` appends (after those) with ``nuclear_morphology``: small-blob, ridge and round
#: Hessian responses of H at ``small_nucleus_um`` and the blob response at ``large_nucleus_um`` (module doc).
MORPHOLOGY_CHANNELS = ("ls", "lr", "lb", "ll")


def base_maps(rgb: np.ndarray, *, mpp: float, stains: Any, settings: TissueFeatureSettings,
              reference: ImageReference | None = None,
              tensor_box: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, float]:
    """Fine-block means of the :data:`BASE_CHANNELS` (and :data:`NUCLEAR_CHANNELS` with
    ``settings.nuclear_detail``): ((m, n, 14 or 17) float32, fine µm/px).

    OD, the white fraction and the H / E concentrations are first averaged on the micro grid
    (``micro_um``); there the structure-tensor products of E and H (Gaussian derivatives at
    ``micro_um``, per µm) and the squares of H and E are formed; then everything is averaged
    over the fine blocks.

    With ``settings.chromogen_as_hematoxylin`` and a matrix without eosin (IHC), the features
    are blind to positivity: the chromogen is re-rendered as hematoxylin (OD + C (v_H - v_C),
    linear, so on the micro-grid means), "H" is hematoxylin + chromogen (every nucleus) and the
    second plane ("E") is the mean OD of the re-rendered image (cytoplasm, fibres, nuclei). With
    ``nuclear_cap_od`` > 0 that nuclear stain is also capped at this OD (on the micro grid) before
    the image is re-rendered, so a dark positive nucleus and a pale negative one look alike.

    With ``settings.image_reference`` the OD is taken against ``reference.white`` (the slide's glass;
    required then) instead of the stain matrix's background.

    ``tensor_box`` (r0, r1, c0, c1) on the fine grid: the structure-tensor channels only there (the
    same values as without it), 0 elsewhere; None: everywhere (:func:`window_boxes`).
    """
    from ..stain import load_stains, od_from_rgb

    matrix = load_stains(stains)
    names = ("hematoxylin", "eosin") if "eosin" in matrix.names else tuple(matrix.stain_names[:2])
    cols = [matrix.names.index(n) for n in names]
    f = block_factor(mpp, settings.grid_um)
    fm = _micro_factor(f, mpp, settings.micro_um)
    background = matrix.background
    if settings.image_reference:
        background = _required(reference, "base_maps").white
    od = od_from_rgb(rgb, background=background)
    white = ((od[..., 0] + od[..., 1] + od[..., 2]) < settings.white_od).astype(np.float32)
    od_m = block_mean(od, fm)
    white_m = block_mean(white, fm)
    conc = (od_m.reshape(-1, 3) @ np.asarray(matrix.inverse, np.float32)[:, cols]).reshape(*od_m.shape[:2], 2)
    h, e = conc[..., 0], conc[..., 1]
    if settings.chromogen_as_hematoxylin and "eosin" not in matrix.names:
        vec = np.asarray(matrix.vectors, np.float32)
        nuclear = h + e
        if settings.nuclear_cap_od > 0:
            nuclear = np.minimum(nuclear, np.float32(settings.nuclear_cap_od))
        od_m = od_m - h[..., None] * vec[cols[0]] - e[..., None] * vec[cols[1]] + nuclear[..., None] * vec[cols[0]]
        h = nuclear
        e = od_m.mean(axis=-1)
        conc = np.stack([h, e], axis=-1)
    micro_mpp = fm * mpp
    d = settings.micro_um / micro_mpp
    b = f // fm
    n_ch = (len(BASE_CHANNELS) + (len(NUCLEAR_CHANNELS) if settings.nuclear_detail else 0)
            + (len(MORPHOLOGY_CHANNELS) if settings.nuclear_morphology else 0))
    first = block_mean(od_m, b)
    fine_shape = first.shape[:2]
    out = np.empty((*fine_shape, n_ch), np.float32)  # (filled channel by channel: no list of planes to concatenate)
    out[..., 0:3] = first
    del first
    out[..., 3:5] = block_mean(conc, b)
    out[..., 5] = block_mean(white_m, b)
    out[..., 6] = block_mean(h * h, b)
    out[..., 7] = block_mean(e * e, b)
    tb = grow_box(tensor_box, 0, fine_shape) if tensor_box is not None else (0, fine_shape[0], 0, fine_shape[1])
    if tb != (0, fine_shape[0], 0, fine_shape[1]):  # (a box: the rest stays 0)
        out[..., 8:14] = 0.0
    mb = scale_box(tb, b, h.shape)  # (on the micro grid)
    src = grow_box(mb, kernel_radius(max(d, 0.3)), h.shape)
    for c0, x in ((8, e), (11, h)):  # structure-tensor products, block-averaged one plane at a time
        xs = cut_box(x, (0, x.shape[0], 0, x.shape[1]), src)
        xr = cut_box(_g(xs, d, order=(1, 0)) / micro_mpp, src, mb)
        xc = cut_box(_g(xs, d, order=(0, 1)) / micro_mpp, src, mb)
        box = out[tb[0] : tb[1], tb[2] : tb[3]]
        box[..., c0] = block_mean(xr * xr, b)
        box[..., c0 + 1] = block_mean(xc * xc, b)
        box[..., c0 + 2] = block_mean(xr * xc, b)
    c0 = len(BASE_CHANNELS)
    if settings.nuclear_detail:
        w = np.maximum(h - _g(h, settings.ring_um / micro_mpp), 0.0)
        out[..., c0] = block_mean(w, b)
        out[..., c0 + 1] = block_mean(w * np.maximum(h, 0.0), b)
        out[..., c0 + 2] = block_mean(w * np.maximum(e, 0.0), b)
        c0 += len(NUCLEAR_CHANNELS)
    if settings.nuclear_morphology:
        from ._tissue_morphology import _hessian_responses

        for i, x in enumerate(_hessian_responses(h, micro_mpp, settings)):
            out[..., c0 + i] = block_mean(x, b)
    return out, f * mpp


def _coherence_of(j: np.ndarray) -> np.ndarray:
    """Coherence of smoothed structure-tensor products ``j[..., (rr, cc, rc)]``: 0 isotropic, 1 one orientation."""
    jrr, jcc, jrc = j[..., 0], j[..., 1], j[..., 2]
    return np.sqrt((jrr - jcc) ** 2 + 4.0 * jrc * jrc) / (jrr + jcc + 1e-8)


def window_boxes(window: Box4, fshape: tuple[int, ...], grid_mpp: float, k: int,
                 settings: TissueFeatureSettings) -> dict[str, Box4]:
    """Boxes on the output grid of :func:`features_from_base` (blocks of ``k`` x ``k`` cells of the fine
    grid, ``fshape``, ``grid_mpp`` µm a cell) that its ``window`` needs: ``out`` (the window), ``blob`` (where the blob response is pooled
    from) and ``tensor`` (where the structure-tensor planes are); ``tensor_fine`` is the fine-grid box
    :func:`base_maps` computes them on (``tensor_box``)."""
    st = settings
    cpx = 1.0 / (grid_mpp * k)
    reach = max(kernel_radius(max(s * cpx, 0.3)) for s in (*st.sigmas_um, st.context_um))
    cshape = (-(-fshape[0] // k), -(-fshape[1] // k))
    tc = grow_box(window, kernel_radius(max(st.sigmas_um[0] * cpx, 0.3)), cshape)
    wide = max(kernel_radius(max(v / grid_mpp, 0.3)) for v in (st.fibre_um, st.nucleus_um))
    return {"out": window, "blob": grow_box(window, reach, cshape), "tensor": tc,
            "tensor_fine": grow_box(scale_box(tc, k, fshape), wide, fshape)}


def features_from_base(base: np.ndarray, grid_mpp: float, k: int, settings: TissueFeatureSettings,
                       reference: ImageReference | None = None, *,
                       window: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Feature stack on the output grid, ``(ceil(m / k), ceil(n / k), F)`` float32, from :func:`base_maps`;
    with ``settings.image_reference`` the log OD columns minus ``reference.level`` (required then).

    ``window`` (r0, r1, c0, c1) on that grid: only its rows and columns (the same values), each plane
    computed only where the next step reads it (:func:`window_boxes`; ``base`` needs its structure-tensor
    channels in the box that names, the rest anywhere). None: the whole grid.
    """
    st = settings
    cshape = (-(-base.shape[0] // k), -(-base.shape[1] // k))
    if window is not None and (st.nuclear_detail or st.nuclear_morphology):  # (not windowed: cut at the end)
        return cut_box(features_from_base(base, grid_mpp, k, st, reference), (0, cshape[0], 0, cshape[1]), window)
    eps = st.eps_od
    fshape = base.shape[:2]
    whole, whole_c = (0, fshape[0], 0, fshape[1]), (0, cshape[0], 0, cshape[1])
    boxes = window_boxes(window or whole_c, fshape, grid_mpp, k, st)
    oc, bc, tc = boxes["out"], boxes["blob"], boxes["tensor"]
    of, bf, tf = (scale_box(b, k, fshape) for b in (oc, bc, tc))
    mc = grow_box(oc, kernel_radius(max(st.texture_um[1] / (grid_mpp * k), 0.3)), cshape)

    def gw(a: np.ndarray, have: Box4, need: Box4, sigma: Any, *, pick: Any = None, fn: Any = None,
           on_coarse: bool = False) -> np.ndarray:
        """_g (or ``fn``) of ``a`` (covering ``have`` of the fine grid, or of the coarse one) on ``need``
        alone, of its channels ``pick``."""
        shape = cshape if on_coarse else fshape
        src = grow_box(need, kernel_radius(max(sigma[0] if isinstance(sigma, tuple) else sigma, 0.3)), shape)
        x = cut_box(a, have, src)
        x = x if pick is None else x[..., pick]
        return cut_box(_g(x, sigma) if fn is None else fn(x), src, need)

    od = np.maximum(base[..., :3], 0.0)
    h, e = np.maximum(base[..., 3], 0.0), np.maximum(base[..., 4], 0.0)
    total = od.sum(-1)
    colour = np.stack([np.log10(total + eps), od[..., 0] / (total + eps), od[..., 2] / (total + eps),
                       h / (h + e + eps), base[..., 5]], axis=-1)
    px = 1.0 / grid_mpp
    fp = st.fine_um * px
    sm = gw(colour, whole, of, (fp, fp, 0))
    fine: list[np.ndarray] = [sm[..., i] for i in range(5)]
    t0 = st.texture_um[0] * px
    log_t = colour[..., 0]
    for x, is_cv in ((h, True), (e, True), (log_t, False)):
        src = grow_box(of, kernel_radius(max(t0, 0.3)), fshape)
        xs = cut_box(x, whole, src)
        mu = gw(xs, src, of, t0)
        sd = np.sqrt(np.maximum(gw(xs * xs, src, of, t0) - mu * mu, 0.0))
        fine.append(sd / (mu + eps) if is_cv else sd)
    mom = gw(base, whole, of, (fp, fp, 0), pick=[3, 4, 6, 7])  # h, e, h2, e2
    for j in (0, 1):
        fine.append(np.sqrt(np.maximum(mom[..., j + 2] - mom[..., j] ** 2, 0.0)) / (np.maximum(mom[..., j], 0) + eps))
    bp = max(st.blob_um * px, 0.3)
    src = grow_box(bf, max(kernel_radius(bp), kernel_radius(max(2 * fp, 0.3))), fshape)
    hs = cut_box(h, whole, src)
    blob = -ndi.gaussian_laplace(hs, bp, mode="reflect", radius=kernel_radius(bp)) * bp * bp / (_g(hs, 2 * fp) + eps)
    blob = cut_box(blob, src, bf)
    fpx = st.fibre_um * px
    je = gw(base, whole, tf, (fpx, fpx, 0), pick=slice(8, 11))
    energy = np.sqrt(np.maximum(je[..., 0] + je[..., 1], 0.0)) / (gw(e, whole, tf, fpx) + eps)
    npx = st.nucleus_um * px
    nucleus = _coherence_of(gw(base, whole, tf, (npx, npx, 0), pick=slice(11, 14)))
    gp = max(fp, 0.3)
    edge = gw(log_t, whole, of, gp, fn=lambda x: ndi.gaussian_gradient_magnitude(
        x, gp, mode="reflect", radius=kernel_radius(gp))) * px
    fine += [blob, _coherence_of(je), energy, nucleus, edge]
    # output grid: block means of the fine features, then the wide scales from block-mean maps
    blocks = [block_mean(a, k) for a in fine]
    out = [cut_box(a, bx, oc) for a, bx in zip(blocks, [oc] * 10 + [bc, tc, tc, tc, oc], strict=True)]
    fibre_c, energy_c, nucleus_c = blocks[11], blocks[12], blocks[13]
    cpx = 1.0 / (grid_mpp * k)
    colour_c = block_mean(colour, k)
    for s in st.sigmas_um:
        sm = gw(colour_c, whole_c, oc, (s * cpx, s * cpx, 0), on_coarse=True)
        out += [sm[..., i] for i in range(5)]
    t1 = st.texture_um[1] * cpx
    hh, ee, lt = (cut_box(x, whole, scale_box(mc, k, fshape)) for x in (h, e, log_t))
    mom = gw(block_mean(np.stack([hh, hh * hh, ee, ee * ee, lt, lt * lt], axis=-1), k), mc, oc, (t1, t1, 0),
             on_coarse=True)
    for j, is_cv in ((0, True), (2, True), (4, False)):
        sd = np.sqrt(np.maximum(mom[..., j + 1] - mom[..., j] ** 2, 0.0))
        out.append(sd / (mom[..., j] + eps) if is_cv else sd)
    pos = block_mean(np.maximum(blob, 0.0), k)
    for s in (*st.sigmas_um, st.context_um):
        out.append(gw(pos, bc, oc, s * cpx, on_coarse=True))
    s1 = st.sigmas_um[0] * cpx
    out += [gw(c, tc, oc, s1, on_coarse=True) for c in (fibre_c, energy_c, nucleus_c)]
    ctx = gw(colour_c, whole_c, oc, (st.context_um * cpx,) * 2 + (0,), pick=[0, 3], on_coarse=True)
    out += [ctx[..., 0], ctx[..., 1]]
    if st.relative_level:  # the log OD columns relative to the context level, which is left out
        level = out.pop(-2)
        for i in (0, *(len(fine) + 5 * n for n in range(len(st.sigmas_um)))):
            out[i] = out[i] - level
    if st.image_reference:  # every log OD column relative to the slide's stain level
        ref_level = np.float32(reference_level(_required(reference, "features_from_base").level, st))
        for i in (0, *(len(fine) + 5 * n for n in range(len(st.sigmas_um))), len(out) - 2):
            out[i] = out[i] - ref_level
    if st.nuclear_detail:
        out += _nuclear_features(base, h, grid_mpp, k, st)
    if st.nuclear_morphology:
        from ._tissue_morphology import _morphology_features

        first = len(BASE_CHANNELS) + (len(NUCLEAR_CHANNELS) if st.nuclear_detail else 0)
        out += _morphology_features(base[..., first : first + len(MORPHOLOGY_CHANNELS)], base, grid_mpp, k, st)
    return np.stack([a.astype(np.float32, copy=False) for a in out], axis=-1)


def _nuclear_features(base: np.ndarray, h: np.ndarray, grid_mpp: float, k: int,
                      st: TissueFeatureSettings) -> list[np.ndarray]:
    """The ``nuclear_detail`` columns on the output grid (see the module doc), in spec order."""
    small = st.eps_od * st.eps_od
    px = 1.0 / grid_mpp
    cpx = 1.0 / (grid_mpp * k)
    w, wh, we = (np.maximum(base[..., 14 + i], 0.0) for i in range(3))
    fp = st.fine_um * px
    mom = _g(np.stack([w, wh, we, h], axis=-1), (fp, fp, 0))
    fine_share = mom[..., 1] / (mom[..., 1] + mom[..., 2] + small)
    fine_contrast = mom[..., 0] / (mom[..., 3] + st.eps_od)
    npx = st.nucleus_um * px
    jh = _g(base[..., 11:13].sum(-1), npx)
    energy = np.sqrt(np.maximum(jh, 0.0)) / (_g(h, npx) + st.eps_od)
    out = [block_mean(fine_share, k), block_mean(fine_contrast, k)]
    coarse = block_mean(np.stack([w, wh, we, h], axis=-1), k)
    for s in st.sigmas_um:
        m = _g(coarse, (s * cpx, s * cpx, 0))
        out += [m[..., 1] / (m[..., 1] + m[..., 2] + small), m[..., 0] / (m[..., 3] + st.eps_od)]
    energy_c = block_mean(energy, k)
    out += [energy_c, _g(energy_c, st.sigmas_um[0] * cpx)]
    return out


def reference_level(level: float, settings: TissueFeatureSettings) -> float:
    """The level the ``log_od_ref_*`` columns are taken against: ``w level + (1 - w) DEFAULT_LEVEL`` with ``w``
    the ``reference_weight`` (1: the image's own level; less: shrunk towards a fixed typical level, so that a
    single-class image such as a tile of necrosis keeps part of its absolute level)."""
    w = settings.reference_weight
    return float(w * level + (1.0 - w) * DEFAULT_LEVEL)


def _required(reference: ImageReference | None, where: str) -> ImageReference:
    if reference is None:
        msg = f"{where}: these tissue features (image_reference) need the slide's ImageReference"
        raise ConfigError(msg)
    return reference


def tissue_features(rgb: np.ndarray, *, mpp: float, stains: Any = "H&E",
                    settings: TissueFeatureSettings | None = None,
                    reference: ImageReference | None = None) -> tuple[np.ndarray, float]:
    """Feature stack of an RGB tile on the output grid (blocks from the tile's corner).

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Brightfield tile at ``mpp`` µm/px.
    mpp : float
    stains : str or StainMatrix
        Stain matrix for the hematoxylin / eosin planes (its first two stains when it has no eosin).
    settings : TissueFeatureSettings or None
    reference : ImageReference or None
        With ``settings.image_reference``: the slide's reference; None = the image's own
        (:func:`~mmnst_path.classify._image_reference.image_reference` of ``rgb``).

    Returns
    -------
    feats : (ceil(M / F), ceil(N / F), n_features) float32 ndarray
        Columns as :func:`tissue_feature_specs`; ``F = f k j`` image pixels per output block
        (:func:`grid_factors`): the coarse-grid features averaged over ``j x j`` blocks.
    grid_mpp : float
        µm per output-grid pixel (``F * mpp``).
    """
    from ..geometry import require_mpp

    settings = settings or TissueFeatureSettings()
    mpp = require_mpp(mpp, what="image")
    if settings.image_reference and reference is None:
        reference = image_reference(rgb, mpp=mpp, eps_od=settings.eps_od)
    f, k, j = grid_factors(mpp, settings)
    m, n = rgb.shape[:2]
    big = f * k * j
    mp, np_ = -(-m // big) * big, -(-n // big) * big
    if (mp, np_) != (m, n):
        rgb = np.pad(rgb, ((0, mp - m), (0, np_ - n), (0, 0)), mode="edge")
    base, fine_mpp = base_maps(rgb, mpp=mpp, stains=stains, settings=settings, reference=reference)
    return block_mean(features_from_base(base, fine_mpp, k, settings, reference), j), fine_mpp * k * j
