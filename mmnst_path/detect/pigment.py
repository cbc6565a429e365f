"""Melanin pigment pixels: colour plus darkness plus granularity.

Melanin is brown-black granular pigment (granules 0.5–3 µm) in tumour cells and in
melanophages. On H&E it is the only absorber whose OD rises from red to blue, so an unmixing
into hematoxylin + eosin + melanin isolates it (mode ``"colour"``). Eosin's OD direction is
uncertain exactly in blue (Ruifrok's and QuPath's references are 30° apart), so the melanin
channel is the *lower bound* over a family of eosin hues (:func:`eosin_hypotheses`): a single
assumed eosin either leaks eosin into melanin or hides melanin in eosin (it missed 90 % of the
melanin of ``sample_tiles/he_melanin.tif``). No hue gate is applied to the pixel's raw OD
(a granule over eosin or a nucleus is a mixture, 15–20° from pure melanin); cores above
``colour_min_od`` grow into connected pixels above ``colour_rim_od`` and above
``colour_rim_rel`` of the local peak (granule rims, not the blurred gaps of a cluster). With a brown chromogen (DAB) colour alone cannot tell
them apart: the physically derived melanin vector sits only ~6° from DAB (see
:func:`mmnst_path.stain.melanin_vector`). Mode ``"brown"`` therefore looks at the brown
channel of the plain two-stain deconvolution and keeps a brown pixel as pigment only when it
is

- **granular**: it stands out from a grey opening of radius ``granule_radius_um`` (the
  background without structures narrower than ``2 * granule_radius_um``) by at least
  ``granule_contrast_od`` *and* by a factor ``granule_ratio``, or
- **very dark**: brown OD above ``dark_od`` (off by default),

its OD direction lies within ``max_angle_deg`` of the melanin / brown direction, it is **not
in or on a brown body** (an area brown all over a ``2 * body_radius_um`` disk: a DAB-filled
nucleus, textured or not; a brown ring around a hematoxylin nucleus is cytoplasm and not a
body), and it lies in a **cluster** (``cluster_min_um2`` of pigment within a few µm). Granule
cores are then grown by ``brown_grow_um`` into connected dense brown non-body pixels (granule
rims and dense bands of touching granules; ``ki67_grow_um`` and any brown pixel for the Ki67
exclusion mask), and specks under ``min_area_um2`` are dropped. On the real Ki67 sets of
``../shared/data/ki67`` (no melanin) this marks <= 0.04 % of pixels (before the body and
cluster tests: 1–9 % on BCData, the rims and texture of strong DAB nuclei).

Red chromogens (AEC, Fast Red) are far enough from melanin (14°, 29°) for the 3-stain
deconvolution; they use mode ``"colour"`` with the same darkness and hue gates.

All ODs are log10 optical densities (QuPath convention, :func:`mmnst_path.stain.od_from_rgb`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from .._params import check_finite, check_known_keys
from ..errors import ConfigError, StainError
from ..geometry import require_mpp
from ._morphology import _disk, _disk_extreme, _gaussian

__all__ = ["PigmentParams", "dab_body_veto", "eosin_hypotheses", "estimate_melanin_vector", "pigment_gate", "pigment_mask", "pigment_masks",
           "pigment_mode"]

_BROWN_CHROMOGENS = ("dab",)
_RED_CHROMOGENS = ("aec", "fast_red")


@dataclass(frozen=True, slots=True)
class PigmentParams:
    """Physical parameters of :func:`pigment_mask` (ODs in log10 units, lengths in µm).

    Attributes
    ----------
    min_od : float
        Minimum pigment-channel OD of any pigment pixel (granule rims included). 0.3 is a
        clearly visible brown (transmission 50 %).
    dark_od : float or None
        Brown-mode only: if set, pigment-channel OD above which a brown pixel is pigment
        whatever its texture. Off by default: strongly positive Ki67 nuclei saturate the camera
        as much as melanin does (real BCData tiles: DAB channel 99th percentile ~3 log10 OD),
        so darkness alone would call them pigment. Useful for H-DAB stains with weak DAB.
    colour_min_od : float
        Colour-mode only: minimum melanin concentration (log10 OD; with eosin, the lower bound
        over eosin hues) of a granule core. 0.25: the real osteosarcoma H&E tiles (no melanin)
        keep <= 0.26 % of pixels; granules of both generators have medians 0.25–0.6.
    colour_rim_od, colour_rim_rel, colour_peak_radius_um : float
        Colour-mode only: cores grow by ``grow_um`` into connected pixels whose melanin is
        >= ``colour_rim_od`` and >= ``colour_rim_rel`` times the maximum within
        ``colour_peak_radius_um`` (granule rims; the blurred gaps inside a dense cluster stay
        out). The truth of generated tiles is defined differently by the two generators (granule
        pixels before blur vs smoothed concentration > 0.15): these values split the difference
        (``benchmarks/eval_melanin_robust.py``).
    colour_max_angle_deg : float
        Colour-mode only: maximum angle between a pixel's OD vector and the melanin vector.
        Tighter than in brown mode because eosin (~24° from melanin when it is QuPath-like)
        and hematoxylin mixtures otherwise leak in; stain vectors off by 3–5° still pass.
    granule_radius_um : float
        Radius of the disk of the grey opening that removes granules: structures narrower
        than twice this are "granular". Melanin granules are 0.5–2 µm, nuclei >= 5 µm. 2.0
        (was 1.5) finds granules at the edge of denser clusters (generated Ki67 tiles: Dice
        +0.01); the real Ki67 tiles stay <= 0.05 % pigment.
    granule_contrast_od : float
        Minimum total OD (norm of the RGB OD vector) of a granule above its opened background
        (top-hat). Granularity is measured on the total OD, not on the deconvolved channel,
        which becomes noisy where the camera saturates.
    granule_ratio : float
        Minimum ratio of a granule's total OD to its opened background: texture inside a
        uniformly stained (or saturated) DAB nucleus varies by ~±20 %, a granule on pale
        cytoplasm or over a hematoxylin nucleus by two-fold and more.
    smooth_sigma_um : float
        Gaussian smoothing of the channel before the tests (sensor noise, JPEG).
    max_angle_deg : float
        Maximum angle between a pixel's OD vector and the melanin vector (or, in brown mode,
        the nearer of melanin and the chromogen). Hematoxylin is ~30–40° away, eosin ~40°.
    filled_margin_um : float
        Brown-mode only: margin (µm) excluded around a brown body (below): granule-like
        texture on the rim of a DAB-positive nucleus is DAB.
    body_radius_um : float
        Brown-mode only. A brown body is an area of brown OD (smoothed over ``body_smooth_um``)
        >= ``body_od`` that contains a disk of this radius: a nuclear contour (5–12 µm) filled
        with chromogen. Bodies and their margin are never pigment, however textured they look
        (strong real DAB nuclei are granular and have pale gaps). Pigment directly on a positive
        nucleus is therefore not separated from it.
    body_od : float
        Brown-mode only: brown OD (log10) of a body, after smoothing.
    body_smooth_um : float
        Brown-mode only: Gaussian sigma (µm) closing the pale gaps of a textured DAB nucleus.
    ring_hole_um2, ring_hole_max_um2, ring_hole_h_od : float
        Brown-mode only. A brown structure around a hole of ``ring_hole_um2`` to
        ``ring_hole_max_um2`` whose mean hematoxylin OD is >= ``ring_hole_h_od`` surrounds a
        hematoxylin nucleus: it is cytoplasm (perinuclear melanin), never a body.
    cluster_radius_um, cluster_min_um2 : float
        Brown-mode only: a pigment component is kept when somewhere on it at least
        ``cluster_min_um2`` of pigment lies within a ``2 * cluster_radius_um`` wide window.
        Melanin comes in clusters of many granules; an isolated brown dot (apoptotic body,
        nucleolar Ki67 speck in a weakly positive nucleus) does not. 0 disables the test.
    grow_um : float
        Colour mode: granule cores grow by at most this distance into the rim pixels above.
    brown_grow_um : float
        Brown mode, melanin mask (:func:`pigment_mask`): granule cores grow by at most this
        distance into connected pixels that are brown non-body rim pixels *and* dense (below).
        5 µm fills the dense bands of touching 1.6 µm granules, which are granular only at
        their edges (generated Ki67 tiles, 1.6 µm granules: melanin Dice 0.47 -> 0.87).
    brown_pixel_od, brown_pixel_rel, brown_peak_radius_um : float
        Brown mode, melanin mask: a pixel is dense pigment when its brown OD is >=
        ``brown_pixel_od`` and >= ``brown_pixel_rel`` times the maximum within
        ``brown_peak_radius_um`` (a granule, not the blurred pale gap between granules).
    ki67_grow_um : float
        Brown mode, Ki67 exclusion mask (second output of :func:`pigment_masks`): the same
        cores grown by this distance through any connected brown non-body pixel (dense clusters
        of touching granules), then brown gaps the mask encloses are added. 5 µm (was 2.5):
        Ki67 index error on 1.6 µm granules +27 -> +2..+8 pp; more floods DAB nuclei that
        touch a pigment ring (undercount). Real Ki67 tiles stay <= 0.05 % pigment. The cluster
        test is applied to this mask; the melanin mask is its subset.
    ki67_hole_max_um : float
        Brown mode, Ki67 exclusion mask: brown gaps enclosed by the grown mask are added to it
        when the gap fits in a box of this side (µm): the dense middle of a band of touching
        granules. Bounded so that the mask stays local (tile-size invariant within the halo);
        a larger enclosed area (e.g. the cytoplasm inside a ring of melanophages) is left alone.
    min_area_um2 : float
        Connected pigment specks smaller than this are dropped (a 0.5 µm granule is 0.2 µm²).
    melanin_vector : tuple of 3 float or None
        Slide-specific melanin OD vector (R, G, B), e.g. from :func:`estimate_melanin_vector`;
        ``None`` uses the stain matrix's melanin row or :func:`mmnst_path.stain.melanin_vector`.
    mode : {"auto", "brown", "colour"}
        ``"auto"`` picks ``"brown"`` when the stains include DAB, else ``"colour"``.
    model : str
        Learned melanin pixel classifier used by the pipeline instead of these rules
        (:func:`mmnst_path.classify.pigment.classify_pigment`): ``"default"`` (the shipped
        ``pigment_default.mmnst``, red chromogens and H&E), ``"dab"`` (the shipped
        ``pigment_dab.mmnst``, trained on H-DAB only: use it with ``model_stains=("dab",)``),
        ``"none"`` (these rules) or a model file path. The rules above stay what
        :func:`pigment_mask` computes.
    min_probability : float
        Melanin probability (0-1) from which the pixel model calls a pixel melanin.
    model_body_veto : bool
        Brown mode with the pixel model: also veto the model inside and around brown bodies
        (:func:`_brown_bodies`: DAB-filled nuclei). True hides all pigment over a nucleus or
        filling a cell (melanin Dice ~0.2 on those generated families) and is only needed with a
        model that does not tell DAB nuclei from melanin by itself; False (default) leaves that
        to the model (its training has dark, clumped, saturating DAB nuclei as hard negatives).
    model_body_share : float
        Brown mode with the pixel model and no full body veto: a brown body (a nucleus-sized
        area brown all over) stays melanin only where the model calls at least this share (0-1)
        of its pixels melanin; otherwise it is a DAB-positive nucleus and the body and its
        ``filled_margin_um`` margin are vetoed (the model marks the rims of strong DAB nuclei,
        whose edge looks like a granule, and nuclei touched by a pigment cluster). 0.8: real
        BCData nuclei are marked over 40-60 % of their body (0.5 left 1-3.6 % false pigment
        there); pigment filling a cell or a sheet is marked over most of it.
    model_min_od : float
        Brown mode with the pixel model: minimum brown OD of the gate (``min_od`` is the rules').
        Fine dusty pigment is faint: 0.15-0.2 finds more of it (generated DAB families, seeds
        0-2: Dice 0.64-0.67 instead of 0.46) but marks up to 1.8-2.6 % of the blurry real SHIDC
        Ki67 tiles (weak purple-brown nuclei) as melanin; 0.3 keeps them at <= 0.21 %.
    model_rim_um : float
        With ``model_body_share``: melanin pixels connected to a vetoed body within this distance
        (µm) are vetoed too (the halo of a saturated DAB nucleus reaches beyond the body, whose
        edge is where the smoothed brown channel crosses ``body_od``).
    model_stains : tuple of str
        Stain systems the pixel model is used for, by the stain matrix's chromogen: ``"aec"``,
        ``"fast_red"``, ``"dab"``, or ``"eosin"`` (H&E). Default: the red chromogens and DAB
        (with ``model="default"``, DAB gets the shipped H-DAB model ``pigment_dab.mmnst``).
        DAB joined on 2026-12-02 (``benchmarks/eval_pigment_dab.py``,
        ``benchmarks/eval_pigment_families.py``): generated DAB families (seeds 0-5) melanin
        Dice 0.40 vs 0.13 (rules), melanin error 7.8 vs 10.6 pp; Ki67 error (seeds 0-3) mean
        over the families 6.3 vs 7.5 pp (worse on dusty and sparse pigment); 0.000 % false
        pigment on the 24 real Ki67 tiles of ``../shared/data`` (rules <= 0.007 %); real Ki67 index MAE
        unchanged (BCData 4.79 vs 4.76, SHIDC 4.42, DeepLIIF 4.93 pp); the bundled pigmented
        sample reads 15.3 % / melanin 5.1 % (truth 14.9 / 5.6; rules 16.6 / 2.9). H&E keeps the
        rules: the model marks up to 1.0-1.5 % of the real H&E tiles (rules 0.26 %).
    """

    min_od: float = 0.3
    dark_od: float | None = None
    colour_min_od: float = 0.25
    colour_rim_od: float = 0.12
    colour_rim_rel: float = 0.25
    colour_peak_radius_um: float = 2.0
    colour_max_angle_deg: float = 12.0
    granule_radius_um: float = 2.0
    granule_contrast_od: float = 0.25
    granule_ratio: float = 1.6
    smooth_sigma_um: float = 0.2
    max_angle_deg: float = 22.0
    grow_um: float = 1.0
    brown_grow_um: float = 5.0
    ki67_grow_um: float = 5.0
    ki67_hole_max_um: float = 12.0
    filled_margin_um: float = 1.0
    body_radius_um: float = 1.5
    body_od: float = 0.25
    body_smooth_um: float = 0.75
    ring_hole_um2: float = 8.0
    ring_hole_max_um2: float = 200.0
    ring_hole_h_od: float = 0.15
    cluster_radius_um: float = 6.0
    cluster_min_um2: float = 8.0
    min_area_um2: float = 0.2
    brown_pixel_od: float = 0.5
    brown_pixel_rel: float = 0.5
    brown_peak_radius_um: float = 1.0
    melanin_vector: tuple[float, float, float] | None = None
    mode: str = "auto"
    model: str = "default"
    min_probability: float = 0.5
    model_body_veto: bool = False
    model_body_share: float = 0.8
    model_rim_um: float = 2.0
    model_min_od: float = 0.3
    model_stains: tuple[str, ...] = ("aec", "fast_red", "dab")

    def __post_init__(self) -> None:
        if self.dark_od is not None and not (math.isfinite(self.dark_od) and self.dark_od > 0):
            msg = f"PigmentParams.dark_od must be None or a positive finite number, got {self.dark_od!r}"
            raise ConfigError(msg)
        check_finite(self, ("min_od", "brown_pixel_od", "brown_peak_radius_um", "colour_min_od", "colour_rim_od", "colour_peak_radius_um", "colour_max_angle_deg", "granule_radius_um", "granule_ratio",
                     "max_angle_deg", "body_radius_um", "body_od", "ring_hole_um2", "ring_hole_max_um2", "ring_hole_h_od",
                     "cluster_radius_um"), positive=True)
        check_finite(self, ("model_rim_um",), positive=False)
        check_finite(self, ("model_min_od",), positive=True)
        check_finite(self, ("brown_pixel_rel", "colour_rim_rel", "granule_contrast_od", "smooth_sigma_um", "grow_um", "brown_grow_um", "ki67_grow_um", "ki67_hole_max_um", "min_area_um2",
                     "filled_margin_um",
                     "body_smooth_um", "cluster_min_um2"), positive=False)
        if not isinstance(self.model, str) or not self.model.strip():
            msg = f"PigmentParams.model must be 'default', 'none' or a pigment model file path, got {self.model!r}"
            raise ConfigError(msg)
        if not isinstance(self.model_body_veto, bool):
            msg = f"PigmentParams.model_body_veto must be true or false, got {self.model_body_veto!r}"
            raise ConfigError(msg)
        if not (math.isfinite(self.model_body_share) and 0 <= self.model_body_share <= 1):
            msg = f"PigmentParams.model_body_share must be in [0, 1], got {self.model_body_share!r}"
            raise ConfigError(msg)
        if not (math.isfinite(self.min_probability) and 0 < self.min_probability < 1):
            msg = f"PigmentParams.min_probability must be in (0, 1), got {self.min_probability!r}"
            raise ConfigError(msg)
        stains_ok = isinstance(self.model_stains, tuple | list) and all(
            m in ("dab", "aec", "fast_red", "eosin") for m in self.model_stains)
        if not stains_ok:
            msg = f"PigmentParams.model_stains must hold some of 'dab', 'aec', 'fast_red', 'eosin', got {self.model_stains!r}"
            raise ConfigError(msg)
        object.__setattr__(self, "model_stains", tuple(self.model_stains))
        if self.mode not in ("auto", "brown", "colour"):
            msg = f"PigmentParams.mode must be 'auto', 'brown' or 'colour', got {self.mode!r}"
            raise ConfigError(msg)
        if self.melanin_vector is not None:
            vec = np.asarray(self.melanin_vector, dtype=np.float64)
            if vec.shape != (3,) or not np.all(np.isfinite(vec)) or np.linalg.norm(vec) < 1e-9:
                msg = f"PigmentParams.melanin_vector must be 3 finite OD values, got {self.melanin_vector!r}"
                raise ConfigError(msg)
            object.__setattr__(self, "melanin_vector", tuple(float(x) for x in vec / np.linalg.norm(vec)))

    def halo_um(self) -> float:
        """Context (µm) a tile needs around its core for a result identical to a whole-image run.

        The reaches add up along the chain: granule features or brown bodies (+ their margin)
        decide the cores and rims, which are grown, whose enclosed gaps are filled, and which
        are then kept by cluster size.
        """
        granule = (4.0 * self.smooth_sigma_um
                   + 4.0 * max(self.granule_radius_um, self.colour_peak_radius_um, self.brown_peak_radius_um))
        body = (4.0 * self.body_smooth_um + 2.0 * self.body_radius_um
                + 2.0 * math.sqrt(self.ring_hole_max_um2 / math.pi)) + self.filled_margin_um
        grow = max(self.grow_um, self.brown_grow_um, self.ki67_grow_um)
        return max(granule, body) + grow + self.ki67_hole_max_um + 2.0 * self.cluster_radius_um + 1.0

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any]) -> PigmentParams:
        """Build from a plain mapping; unknown keys are an error."""
        check_known_keys(cls, mapping)
        data = dict(mapping)
        if data.get("melanin_vector") is not None:
            data["melanin_vector"] = tuple(data["melanin_vector"])
        if "model_stains" in data:
            data["model_stains"] = tuple(data["model_stains"])
        return cls(**data)

    def to_mapping(self) -> dict[str, Any]:
        """Plain JSON-serialisable mapping."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if out["melanin_vector"] is not None:
            out["melanin_vector"] = list(out["melanin_vector"])
        out["model_stains"] = list(out["model_stains"])
        return out

    def uses_model(self, stains: Any) -> bool:
        """Whether the pipeline runs the pixel model (not the rules) for this stain matrix."""
        if self.model.strip().lower() == "none":
            return False
        names = _matrix(stains).names
        system = next((n for n in ("dab", "aec", "fast_red") if n in names), "eosin" if "eosin" in names else "")
        return system in self.model_stains


def _matrix(stains: Any) -> Any:
    from ..stain import StainMatrix, load_stains

    return stains if isinstance(stains, StainMatrix) else load_stains(stains)


def pigment_mode(stains: Any, params: PigmentParams | None = None) -> str:
    """``"brown"`` or ``"colour"``: how :func:`pigment_mask` separates melanin for ``stains``."""
    params = params or PigmentParams()
    if params.mode != "auto":
        return params.mode
    names = _matrix(stains).names
    return "brown" if any(n in names for n in _BROWN_CHROMOGENS) else "colour"


def _melanin_of(matrix: Any, params: PigmentParams) -> np.ndarray:
    from ..stain import melanin_vector

    if params.melanin_vector is not None:
        return np.asarray(params.melanin_vector, dtype=np.float64)
    if "melanin" in matrix.names:
        return np.asarray(matrix.vector("melanin"), dtype=np.float64)
    return melanin_vector()


def _angle_to(od: np.ndarray, vectors: list[np.ndarray]) -> np.ndarray:
    """Smallest angle (degrees) between each pixel's OD vector and any of ``vectors``."""
    norm = np.sqrt(np.einsum("...c,...c->...", od, od)) + 1e-6
    best = None
    for v in vectors:
        cos = (od @ (v / np.linalg.norm(v)).astype(np.float32)) / norm
        best = cos if best is None else np.maximum(best, cos)
    assert best is not None
    return np.degrees(np.arccos(np.clip(best, -1.0, 1.0)))


# Eosin OD directions of the two common references (Ruifrok & Johnston 2001; QuPath's default).
# They differ mostly in blue (0.105 vs 0.558, 30° apart) and real slides spread over and beyond
# that range, which is exactly the channel where melanin differs from eosin.
_EOSIN_RUIFROK = (0.07, 0.99, 0.11)
_EOSIN_QUPATH = (0.2159, 0.8012, 0.5581)
_EOSIN_STEPS = (-0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25)


def eosin_hypotheses(eosin: Any = None) -> list[np.ndarray]:
    """Plausible eosin OD directions: the Ruifrok–QuPath arc, extended by a quarter at each end,
    plus ``eosin`` (the stain matrix's own vector) when given. Unit vectors, (3,) float64."""
    a = np.asarray(_EOSIN_RUIFROK, np.float64)
    b = np.asarray(_EOSIN_QUPATH, np.float64)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    out = []
    for t in _EOSIN_STEPS:
        v = np.clip((1.0 - t) * a + t * b, 1e-3, None)
        out.append(v / np.linalg.norm(v))
    if eosin is not None:
        v = np.asarray(eosin, np.float64)
        out.append(v / np.linalg.norm(v))
    return out


def _melanin_lower_bound(od: np.ndarray, hematoxylin: Any, eosin: Any, melanin: np.ndarray) -> np.ndarray:
    """Melanin concentration (log10 OD) that no plausible eosin can explain away.

    For each eosin direction of :func:`eosin_hypotheses` the pixel's OD is unmixed into
    hematoxylin + that eosin + melanin (exact 3x3 inverse, Beer–Lambert); the result is the
    minimum melanin concentration over the hypotheses. Melanin is the only H&E-slide absorber
    whose OD rises from red to blue (power-law spectrum, :func:`mmnst_path.stain.melanin_vector`),
    so a pixel keeps a high lower bound only when its blue absorbance exceeds what any eosin
    and the hematoxylin could give; a single assumed eosin instead leaks eosin into melanin (or
    hides melanin in eosin) as soon as the slide's eosin is bluer (or less blue) than assumed.
    """
    h = np.asarray(hematoxylin, np.float64)
    flat = od.reshape(-1, 3)
    best = None
    for e in eosin_hypotheses(eosin):
        inv = np.linalg.inv(np.stack([h / np.linalg.norm(h), e, melanin / np.linalg.norm(melanin)]))
        c = flat @ inv[:, 2].astype(np.float32)
        best = c if best is None else np.minimum(best, c)
    assert best is not None
    return best.reshape(od.shape[:2])


def pigment_channels(rgb: np.ndarray, *, stains: Any, params: PigmentParams | None = None,
                     background: Any = None, _with_hematoxylin: bool = False) -> tuple:
    """Pigment channel (log10 OD) and hue angle (degrees) used by :func:`pigment_mask`.

    Returns
    -------
    channel : (M, N) float32
        Brown (DAB) concentration in brown mode, melanin concentration in colour mode.
    angle : (M, N) float32
        Angle between the pixel's OD vector and the pigment direction(s), degrees.
    darkness : (M, N) float32
        Norm of the pixel's RGB OD vector (log10 OD).
    mode : str
    """
    from ..stain import StainMatrix, od_from_rgb, separate_stains

    params = params or PigmentParams()
    matrix = _matrix(stains)
    mode = pigment_mode(matrix, params)
    mel = _melanin_of(matrix, params)
    od = od_from_rgb(rgb, background=background if background is not None else matrix.background)
    if mode == "brown":
        brown = [n for n in matrix.names if n in _BROWN_CHROMOGENS]
        if not brown or "hematoxylin" not in matrix.names:
            msg = f"brown pigment mode needs hematoxylin and DAB in the stains, got {list(matrix.names)}"
            raise StainError(msg)
        two = StainMatrix(("hematoxylin", brown[0]),
                          np.stack([matrix.vector("hematoxylin"), matrix.vector(brown[0])]),
                          name="pigment-brown", _warn=False)
        both = separate_stains(rgb, two, stains=("hematoxylin", brown[0]), background=background)
        channel, hematoxylin = both[..., 1], both[..., 0]
        angle = _angle_to(od, [mel, matrix.vector(brown[0])])
    elif "eosin" in matrix.names and "hematoxylin" in matrix.names:
        channel = _melanin_lower_bound(od, matrix.vector("hematoxylin"), matrix.vector("eosin"), mel)
        hematoxylin = None
        angle = _angle_to(od, [mel])
    else:
        others = [n for n in matrix.names if n not in ("melanin", "residual")]
        if not others:
            msg = f"colour pigment mode needs at least one other stain besides melanin, got {list(matrix.names)}"
            raise StainError(msg)
        keep = others[:2]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            three = StainMatrix((*keep, "melanin"), np.stack([*(matrix.vector(n) for n in keep), mel]),
                                name="pigment-colour", _warn=False)
        channel = separate_stains(rgb, three, stains=("melanin",), background=background)[..., 0]
        hematoxylin = None
        angle = _angle_to(od, [mel])
    darkness = np.sqrt(np.einsum("...c,...c->...", od, od))
    out = (channel.astype(np.float32, copy=False), angle.astype(np.float32, copy=False),
           darkness.astype(np.float32, copy=False), mode)
    return (*out, hematoxylin) if _with_hematoxylin else out


def _has_eosin(stains: Any) -> bool:
    names = _matrix(stains).names
    return "eosin" in names and "hematoxylin" in names


def _brown_bodies(channel: np.ndarray, hematoxylin: np.ndarray, mpp: float,
                  params: PigmentParams, *, margin: bool = True) -> np.ndarray:
    """Brown-mode exclusion zone: nucleus-sized brown bodies (DAB-filled nuclei) plus a margin.

    The brown channel is smoothed over ``body_smooth_um`` (closing the pale gaps of a textured,
    granular-looking DAB nucleus) and thresholded at ``body_od``. A brown structure that
    encloses a hematoxylin nucleus (a hole of >= ``ring_hole_um2`` whose mean hematoxylin OD is
    >= ``ring_hole_h_od``) is perinuclear cytoplasm, i.e. pigment, never a DAB nucleus, and is
    left to the granule tests. The rest is opened with a disk of radius ``body_radius_um``:
    what survives is brown over a >= ``2 * body_radius_um`` wide area, a nuclear contour
    filled with chromogen; it and a ``filled_margin_um`` margin are excluded.
    """
    sigma = params.body_smooth_um / mpp
    smooth = _gaussian(channel, sigma) if sigma >= 0.3 else channel
    brown = smooth >= params.body_od
    if not brown.any():
        return brown
    # holes (exactly ndi.binary_fill_holes(brown) & ~brown), labelled as ndi.label(holes) would
    gaps, is_hole = _hole_labels(brown)
    holes = is_hole[gaps]
    if holes.any():
        relabel = np.zeros(is_hole.shape[0], dtype=gaps.dtype)
        nh = int(is_hole.sum())
        relabel[is_hole] = np.arange(1, nh + 1, dtype=gaps.dtype)
        hl = relabel[gaps]
        area = np.bincount(hl.ravel(), minlength=nh + 1) * mpp * mpp
        hsum = np.bincount(hl.ravel(), weights=hematoxylin.ravel(), minlength=nh + 1)
        nuclear = (area >= params.ring_hole_um2) & (area <= params.ring_hole_max_um2) & (hsum >= params.ring_hole_h_od * area / (mpp * mpp))
        nuclear[0] = False
        if nuclear.any():
            bl, _ = ndi.label(brown)
            # the brown component directly around each nuclear hole (one pixel outside it)
            rim = ndi.binary_dilation(nuclear[hl]) & brown
            ring_ids = np.unique(bl[rim])
            brown &= ~np.isin(bl, ring_ids[ring_ids > 0])
    body = _opened(brown, params.body_radius_um / mpp)
    near = round(params.filled_margin_um / mpp)
    if margin and near > 0 and body.any():
        body = _disk_extreme(np.ascontiguousarray(body), _disk(near), op="max", mode="constant")
    return body


def _opened(mask: np.ndarray, radius_px: float) -> np.ndarray:
    """Binary opening by a disk; a structure cut by the image border is not eroded from outside."""
    disk = _disk(radius_px)
    pad = disk.shape[0]
    padded = np.pad(mask, pad, mode="edge")
    eroded = _disk_extreme(padded, disk, op="min", mode="constant")
    return _disk_extreme(eroded, disk, op="max", mode="constant")[pad:-pad, pad:-pad]


def pigment_mask(
    rgb: np.ndarray,
    *,
    mpp: float,
    stains: Any,
    params: PigmentParams | None = None,
    background: Any = None,
) -> np.ndarray:
    """Melanin pigment pixels of an RGB tile.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Tile at ``mpp`` µm/px.
    mpp : float
        Pixel size, µm/px.
    stains : str or StainMatrix
        Preset name (``"H-DAB"``, ``"H&E"``, ``"H-AEC"``, ``"H-DAB-melanin"``...), JSON, or a
        :class:`~mmnst_path.stain.StainMatrix`. Decides the mode (see :class:`PigmentParams`).
    params : PigmentParams or None
        Thresholds; ``None`` for the defaults.
    background : white point (8-bit) or None for the matrix's own (else 255).

    Returns
    -------
    (M, N) bool ndarray
        True on melanin pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from mmnst_path.detect.pigment import pigment_mask
    >>> tile = np.full((64, 64, 3), 235, np.uint8)
    >>> tile[30:32, 30:32] = (40, 25, 15)             # a 1 µm brown-black granule
    >>> m = pigment_mask(tile, mpp=0.5, stains="H-DAB")
    >>> bool(m[30, 30]), int(m.sum())
    (True, 4)
    """
    return pigment_masks(rgb, mpp=mpp, stains=stains, params=params, background=background)[0]


def pigment_masks(
    rgb: np.ndarray,
    *,
    mpp: float,
    stains: Any,
    params: PigmentParams | None = None,
    background: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Melanin pixels and the wider Ki67 exclusion mask, from one pass of the detector.

    Parameters are those of :func:`pigment_mask`.

    Returns
    -------
    melanin : (M, N) bool ndarray
        Melanin pixels (what :func:`pigment_mask` returns): granule cores grown by ``grow_um``
        (colour mode) or ``brown_grow_um`` (brown mode). Use it for the melanin area/fraction.
    exclusion : (M, N) bool ndarray
        Brown mode: the same cores grown by ``ki67_grow_um`` through dense granule clusters
        (a superset of ``melanin``): pass it to :func:`mmnst_path.quantify.ki67.measure_ki67`
        as ``pigment_mask``, where every brown pixel of a pigmented cytoplasm must be removed.
        Colour mode: identical to ``melanin``.
    """
    params = params or PigmentParams()
    mpp = require_mpp(mpp, what="image")
    channel, angle, darkness, mode, hematoxylin = pigment_channels(
        rgb, stains=stains, params=params, background=background, _with_hematoxylin=True)
    sigma = params.smooth_sigma_um / mpp
    smooth = _gaussian(channel, sigma) if sigma >= 0.3 else channel
    hue_ok = angle <= params.max_angle_deg
    if mode == "colour" and _has_eosin(stains):
        # the channel is already a lower bound over eosin hypotheses: no hue gate needed
        core = smooth >= params.colour_min_od
        peak = _disk_extreme(smooth, _disk(params.colour_peak_radius_um / mpp), op="max")
        rim = (smooth >= params.colour_rim_od) & (smooth >= params.colour_rim_rel * peak)
    elif mode == "colour":
        core = (smooth >= params.colour_min_od) & (angle <= params.colour_max_angle_deg)
        rim = (smooth >= params.colour_rim_od) & (angle <= params.colour_max_angle_deg * 1.5)
    else:
        dark_s = _gaussian(darkness, sigma) if sigma >= 0.3 else darkness
        granule_disk = _disk(params.granule_radius_um / mpp)
        opened = _disk_extreme(_disk_extreme(dark_s, granule_disk, op="min"), granule_disk, op="max")
        opened = np.maximum(opened, 0.0)
        granular = (dark_s - opened >= params.granule_contrast_od) & (
            dark_s >= params.granule_ratio * opened
        )
        if params.dark_od is not None:
            granular |= smooth >= params.dark_od
        brown_granule = granular & (smooth >= params.min_od) & hue_ok
        filled = _brown_bodies(channel, hematoxylin, mpp, params)
        core = brown_granule & ~filled
        rim = (smooth >= params.min_od) & (angle <= params.max_angle_deg * 1.5) & ~filled
    if mode == "colour":
        mask = _grown(core, rim, params.grow_um, mpp, params)
        return mask, mask
    wide = _grown(core, rim, params.ki67_grow_um, mpp, params)
    if wide.any():
        # brown gaps the grown cores enclose (the dense middle of a band of touching granules)
        wide |= _small_holes(wide, params.ki67_hole_max_um / mpp) & rim
    if params.cluster_min_um2 > 0 and wide.any():
        wide = _clustered(wide, mpp, params)
    # the melanin mask: the pixels of the wide mask dark enough to be granule rather than gap
    peak = _disk_extreme(smooth, _disk(params.brown_peak_radius_um / mpp), op="max")
    dense = (smooth >= params.brown_pixel_od) & (smooth >= params.brown_pixel_rel * peak)
    tight = _grown(core & dense, rim & dense, params.brown_grow_um, mpp, params) & wide
    return tight, wide


def pigment_gate(
    rgb: np.ndarray,
    *,
    mpp: float,
    stains: Any,
    params: PigmentParams | None = None,
    background: Any = None,
    bodies: bool = True,
    min_od: float | None = None,
) -> tuple[np.ndarray, str]:
    """Pixels that *may* be melanin by colour and context: the veto a learned pixel classifier
    (:func:`mmnst_path.classify.pigment.classify_pigment`) is combined with.

    Brown mode (DAB): brown channel >= ``min_od``, OD within ``1.5 * max_angle_deg`` of melanin
    or DAB, and not in or on a brown body (:func:`_brown_bodies`: a DAB-filled nucleus; a ring
    around a hematoxylin nucleus is not a body). Colour mode (H&E, red chromogens): melanin
    channel >= ``colour_rim_od`` (with eosin, the lower bound over eosin hues; with a red
    chromogen, melanin of the hematoxylin + chromogen + melanin unmixing). Real DAB nuclei are granular and brown-black,
    real eosin edges are dark and textured: a classifier trained on generated tiles alone marked
    6-18 % of the real Ki67 and H&E tiles of ``../shared/data`` as melanin; this gate is what
    keeps the rules' <= 0.05 % there. ``bodies=False`` drops the brown-body veto (a model that
    separates DAB nuclei itself; pigment over a nucleus or filling a cell stays reachable);
    ``min_od`` replaces ``params.min_od`` in brown mode.

    Returns
    -------
    gate : (M, N) bool ndarray
    mode : str
        ``"brown"`` or ``"colour"``.
    """
    params = params or PigmentParams()
    mpp = require_mpp(mpp, what="image")
    channel, angle, _, mode, hematoxylin = pigment_channels(
        rgb, stains=stains, params=params, background=background, _with_hematoxylin=True)
    sigma = params.smooth_sigma_um / mpp
    smooth = _gaussian(channel, sigma) if sigma >= 0.3 else channel
    if mode == "brown":
        gate = (smooth >= (params.min_od if min_od is None else min_od)) & (angle <= 1.5 * params.max_angle_deg)
        if bodies and gate.any():
            gate &= ~_brown_bodies(channel, hematoxylin, mpp, params)
    elif _has_eosin(stains):
        gate = smooth >= params.colour_rim_od
    else:
        # red chromogens: melanin in the hematoxylin + red + melanin unmixing (no hue gate: brown-
        # black melanin 3-12° from DAB lies up to ~18° from the physical melanin vector)
        gate = smooth >= params.colour_rim_od
    return gate, mode


def dab_body_veto(
    rgb: np.ndarray,
    melanin: np.ndarray,
    *,
    mpp: float,
    stains: Any,
    params: PigmentParams | None = None,
    background: Any = None,
) -> np.ndarray:
    """Brown mode: the brown bodies (:func:`_brown_bodies`, DAB-filled nuclei) of which less than
    ``model_body_share`` of the pixels are in ``melanin``, with their ``filled_margin_um`` margin.

    A learned classifier marks the granular-looking rim of a strong DAB nucleus and a nucleus
    touched by a pigment cluster; a body that is melanin (pigment filling a cell, a confluent
    sheet) is melanin over most of its area and is kept. Returns an (M, N) bool veto mask
    (all False outside brown mode).
    """
    params = params or PigmentParams()
    mpp = require_mpp(mpp, what="image")
    channel, _, _, mode, hematoxylin = pigment_channels(
        rgb, stains=stains, params=params, background=background, _with_hematoxylin=True)
    veto = np.zeros(melanin.shape, dtype=bool)
    if mode != "brown":
        return veto
    body = _brown_bodies(channel, hematoxylin, mpp, params, margin=False)
    if not body.any():
        return veto
    labels, n = ndi.label(body)
    area = np.bincount(labels.ravel(), minlength=n + 1)
    mel = np.bincount(labels.ravel(), weights=melanin.ravel().astype(np.float64), minlength=n + 1)
    dab = mel < params.model_body_share * area
    dab[0] = False
    veto = dab[labels]
    near = round(params.filled_margin_um / mpp)
    if near > 0 and veto.any():
        veto = _disk_extreme(np.ascontiguousarray(veto), _disk(near), op="max", mode="constant")
    rim = round(params.model_rim_um / mpp)
    if rim > 0 and veto.any():
        veto = ndi.binary_dilation(veto, iterations=rim, mask=veto | melanin)
    return veto


def clustered_pigment(mask: np.ndarray, *, mpp: float, params: PigmentParams | None = None) -> np.ndarray:
    """``mask`` without specks under ``min_area_um2`` and (``cluster_min_um2`` > 0) without
    components that lie in no cluster of pigment (an isolated brown dot)."""
    params = params or PigmentParams()
    out = _grown(mask, mask, 0.0, mpp, params)
    if params.cluster_min_um2 > 0 and out.any():
        out = _clustered(out, mpp, params)
    return out


def _hole_labels(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels of the 4-connected components of ``~mask`` and, per label, whether it is a hole of
    ``mask`` (does not reach the image border, as ``ndi.binary_fill_holes`` sees it; label 0,
    ``mask`` itself, is not)."""
    gaps, n = ndi.label(~mask)
    is_hole = np.ones(n + 1, dtype=bool)
    for edge in (gaps[0], gaps[-1], gaps[:, 0], gaps[:, -1]):
        is_hole[edge] = False
    is_hole[0] = False
    return gaps, is_hole


def _small_holes(mask: np.ndarray, max_side_px: float) -> np.ndarray:
    """Holes of ``mask`` (:func:`_hole_labels`) whose bounding box fits in ``max_side_px``."""
    gaps, is_hole = _hole_labels(mask)
    for i, sl in enumerate(ndi.find_objects(gaps), start=1):
        if sl is not None and (sl[0].stop - sl[0].start > max_side_px or sl[1].stop - sl[1].start > max_side_px):
            is_hole[i] = False
    return is_hole[gaps]


def _grown(core: np.ndarray, rim: np.ndarray, grow_um: float, mpp: float, params: PigmentParams) -> np.ndarray:
    """Cores grown by at most ``grow_um`` into connected ``rim`` pixels, specks dropped."""
    grow_px = round(grow_um / mpp)
    mask = core
    if grow_px > 0 and core.any():
        mask = ndi.binary_dilation(core, iterations=grow_px, mask=rim | core)
    min_px = params.min_area_um2 / (mpp * mpp)
    if min_px > 1 and mask.any():
        labels, n = ndi.label(mask)
        sizes = np.bincount(labels.ravel(), minlength=n + 1)
        keep = sizes >= min_px
        keep[0] = False
        mask = keep[labels]
    return mask

def _clustered(mask: np.ndarray, mpp: float, params: PigmentParams) -> np.ndarray:
    """Keep pigment components that lie in a cluster: >= ``cluster_min_um2`` of pigment within
    a ``2 * cluster_radius_um`` wide window somewhere on the component (melanin comes in
    clusters of many granules; an isolated brown dot is an apoptotic body or a nucleolar Ki67
    speck)."""
    win = 2 * round(params.cluster_radius_um / mpp) + 1
    local = ndi.uniform_filter(mask.astype(np.float32), win, mode="constant") * (win * win * mpp * mpp)
    labels, n = ndi.label(mask)
    best = np.zeros(n + 1, dtype=local.dtype)  # per-component maximum of ``local`` (>= 0)
    np.maximum.at(best, labels[mask], local[mask])
    keep = best >= params.cluster_min_um2
    keep[0] = False
    return keep[labels]


def estimate_melanin_vector(rgb: np.ndarray, region: np.ndarray | None = None, *,
                            min_od: float = 0.6, background: Any = None) -> tuple[float, float, float]:
    """Melanin OD vector of one slide, from a user-drawn pigment-only region.

    The vector is the normalised median OD of the region's dark pixels (OD norm >= ``min_od``);
    pass it as ``PigmentParams(melanin_vector=...)`` or use it in a 3-stain matrix.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    region : (M, N) bool ndarray or None
        Pixels drawn around pigment only (no DAB); ``None`` means the whole image.
    min_od : float
        Minimum OD norm (log10) of the pixels used.

    Returns
    -------
    tuple of 3 float
        Unit OD vector (R, G, B).
    """
    from ..stain import od_from_rgb

    od = od_from_rgb(rgb, background=background)
    if region is not None:
        region = np.asarray(region, dtype=bool)
        if region.shape != od.shape[:2]:
            msg = f"region must have the image's shape {od.shape[:2]}, got {region.shape}"
            raise ConfigError(msg)
        od = od[region]
    od = od.reshape(-1, 3)
    norm = np.linalg.norm(od, axis=1)
    sel = od[norm >= min_od]
    if len(sel) < 10:
        msg = (f"estimate_melanin_vector: only {len(sel)} pixels of the region have OD >= {min_od}; "
               "draw the region over dark pigment (>= 10 pixels needed)")
        raise ConfigError(msg)
    direction = sel / np.linalg.norm(sel, axis=1, keepdims=True)
    vec = np.median(direction, axis=0)
    vec = vec / np.linalg.norm(vec)
    return (float(vec[0]), float(vec[1]), float(vec[2]))
