"""Parameters of the melanin pigment detectors (:class:`PigmentParams`; public through
:mod:`mmnst_path.detect.pigment`, which documents the method)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from .._params import check_finite, check_known_keys
from ..errors import ConfigError

_BROWN_CHROMOGENS = ("dab",)
_RED_CHROMOGENS = ("aec", "fast_red")
#: Counterstains that stain melanin themselves (azure B turns it green-blue): mode ``"azure"``.
_MELANIN_COUNTERSTAINS = ("azure_b",)


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
        Colour and azure modes: cores grow by ``grow_um`` into connected pixels whose melanin is
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
    azure_binding : (float, float)
        Mode ``"azure"`` (azure B counterstain): range of the bound-dye ratio ``k`` of stained
        melanin, whose OD direction is ``melanin + k * azure_b`` (azure B OD per unit melanin
        OD). Green-blue melanin (red absorbed about as much as blue) is ``k`` ~ 1; no measured
        value is published, so the range is wide. Its lower end sets how close to the DAB +
        azure B mixtures of positive nuclei (``k`` ~ 0.15-0.35) stained melanin may lie.
    azure_max_angle_deg : float
        Mode ``"azure"``: largest hue distance (degrees, :func:`stained_melanin_sector`: the
        angle ``atan2(azure B, DAB)`` outside ``atan(azure_binding)``) of a granule core; rims
        may lie 1.5 times as far. 2°: stain vectors a few degrees off still pass, while
        positive nuclei (a little azure B under DAB) lie 15-25° outside, negative ones 5-15°.
    azure_min_od : float
        Mode ``"azure"``: smallest stained-melanin concentration ``min(azure B, DAB)`` (log10
        OD) of a granule core; rims need ``colour_rim_od``. Generated azure B tiles (seeds
        100-103, not those of the benchmark): 0.35 keeps ~80 % of the melanin pixels as cores
        and < 1 % of the nuclei; 0.25 put melanin at +1.6 pp instead of +1.25 pp.
    mode : {"auto", "brown", "colour", "azure"}
        ``"auto"`` picks ``"azure"`` when the counterstain is azure B, ``"brown"`` when the
        stains include DAB, else ``"colour"``.
    model : str
        Learned melanin pixel classifier used by the pipeline instead of these rules
        (:func:`mmnst_path.classify.pigment.classify_pigment`): ``"default"`` (the shipped
        ``pigment_default.mmnst`` for the red chromogens; it stands for ``pigment_dab.mmnst`` with
        DAB and ``pigment_he.mmnst`` with H&E), ``"dab"`` (the shipped
        ``pigment_dab.mmnst``, trained on H-DAB only: use it with ``model_stains=("dab",)``),
        ``"he"`` (the shipped ``pigment_he.mmnst``, trained on H&E only), ``"azure"`` (the shipped
        ``pigment_azure.mmnst``, the default's stand-in with an azure B counterstain, where it decides
        the pixels of these rules' Ki67 exclusion mask, session 41), ``"none"`` (these rules) or a model file path. The rules above stay what
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
        Used where no body model decides (``body_model="none"``, or a pixel model the body model
        was not trained with). Brown mode with the pixel model and no full body veto: a brown body (a nucleus-sized
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
    body_model : str
        Brown mode with the pixel model and no full body veto: the learned decision on each brown
        body (DAB-filled nucleus or melanin) that replaces the ``model_body_share`` rule
        (:func:`mmnst_path.classify.pigment.classify_pigment`): ``"default"`` (the shipped
        ``pigment_dab_bodies.mmnst``, used only with the pixel model it was trained with; with
        any other pixel model the share rule decides), ``"none"`` (the share rule) or a file.
    gate : str
        With the pixel model: the learned per-tile gate in front of it
        (:mod:`mmnst_path.classify._pigment_gate`): a tile none of whose 2 µm blocks could hold
        melanin by its coarse colour, darkness and granularity skips the pigment stage (no
        melanin; most unpigmented tiles, where the stage otherwise doubles the tile's time).
        ``"off"`` (no gate), ``"default"`` (the shipped ``pigment_gate.mmnst``) or a gate model file.
    body_min_probability : float
        Melanin probability (0-1) of the body model from which a brown body is kept as melanin
        (below it the body is a DAB-positive nucleus and vetoed with its rim). 0.85 since the
        models of 2026-12-03 trained on the ``wide`` rendering (0.8 kept one clumped real DAB
        nucleus of DeepLIIF as melanin; 0.9 lost generated Dice 0.53 -> 0.47).
    spindle_core_elongation, spindle_core_min_fill : float
        With the body model: a DAB-positive spindle nucleus merges with the granule chain along
        its cell into one brown body that the body model keeps as melanin. Inside a kept body,
        a core (brown >= ``body_od`` unsmoothed, opened by ``body_radius_um``) whose moment
        ellipse is >= ``spindle_core_elongation`` times longer than wide and filled to >=
        ``spindle_core_min_fill`` is decided again on its own, and vetoed when the body model
        calls it DAB. 0 (default): off. 2.5 on generated DAB spindle tiles (seeds 0-5): DAB-positive
        nucleus pixels called melanin 22.9 -> 15.8 %, other families unchanged, but spindle Ki67
        worse (mean |err| 7.26 -> 8.67 pp: the spindle index errs by missed melanin, which the
        positives read as pigment partly offset); see benchmarks/README, "Pigment families".
    context_radius_um, context_min_um2, context_model_share, context_large_um2, context_saturated_share, context_saturated_od, context_steps
        With the body model: near-black bodies decided by their surroundings
        (:mod:`mmnst_path.classify._pigment_context`). A body the body model calls DAB is melanin
        after all when the pixel model marks >= ``context_model_share`` of it or it covers >=
        ``context_large_um2`` (a field of filled cells merged into one body, which the pixel model,
        trained without near-black melanin, misses; 0: always ask the share), >= ``context_saturated_share``
        of its pixels are near-black (OD >= ``context_saturated_od`` in every RGB channel: melanin
        and saturated DAB look alike there) and >= ``context_min_um2`` of confirmed melanin (in
        clusters, off the vetoed bodies) lies within ``context_radius_um`` of it; bodies taken
        back support their neighbours for ``context_steps`` more rounds. The whole body is then
        melanin, so the nucleus under it reads ``pigment``, never positive. Without melanin
        nearby nothing changes (the real Ki67 sets: masks bit-identical). ``context_radius_um``
        0: off. Like the body model's whole-body features, the decision reads beyond
        :meth:`halo_um` (up to ``(context_steps + 1) * context_radius_um`` from a body): a tile
        cut through a field of near-black cells may decide its edge differently. Defaults (2026-12-03, chosen on generated seeds 1000-1001 with the real sets in
        view): generated near-black families, seeds 0-7, hidden nuclei counted positive 2223 ->
        1187 of 2710; see benchmarks/README, "Pigment families".
    model_rim_um : float
        With ``model_body_share``: melanin pixels connected to a vetoed body within this distance
        (µm) are vetoed too (the halo of a saturated DAB nucleus reaches beyond the body, whose
        edge is where the smoothed brown channel crosses ``body_od``).
    he_cluster_min_um2 : float
        H&E with the pixel model: the ``cluster_min_um2`` of the cluster test its pixels must pass
        (isolated specks on dark nuclei, fibre edges and debris are dropped). 4 µm² (2026-12-03,
        chosen with the held-out real H&E tiles in view, so treat them as tuning for this number):
        without the test the BRCA-M2C test patches reach 0.16 % false pigment, with 8 µm² (the brown
        mode's) sparse pigment loses Dice (0.73 -> 0.66 on generated H&E, seeds 0-5); 0 = no test.
    model_stains : tuple of str
        Stain systems the pixel model is used for, by the stain matrix's chromogen: ``"aec"``,
        ``"fast_red"``, ``"dab"``, or ``"eosin"`` (H&E). Default: all four (with ``model="default"``,
        DAB gets the shipped H-DAB model ``pigment_dab.mmnst``, H&E ``pigment_he.mmnst``).
        DAB joined on 2026-12-02 (``benchmarks/eval_pigment_dab.py``,
        ``benchmarks/eval_pigment_families.py``): generated DAB families (seeds 0-5) melanin
        Dice 0.40 vs 0.13 (rules), melanin error 7.8 vs 10.6 pp; Ki67 error (seeds 0-3) mean
        over the families 6.3 vs 7.5 pp (worse on dusty and sparse pigment); 0.000 % false
        pigment on the 24 real Ki67 tiles of ``../shared/data`` (rules <= 0.007 %); real Ki67 index MAE
        unchanged (BCData 4.79 vs 4.76, SHIDC 4.42, DeepLIIF 4.93 pp); the bundled pigmented
        sample reads 15.3 % / melanin 5.1 % (truth 14.9 / 5.6; rules 16.6 / 2.9). H&E (``"eosin"``)
        joined on 2026-12-03 with its own model, ``pigment_he.mmnst`` (``model="default"`` stands for
        it with eosin; kept in clusters of ``he_cluster_min_um2``): generated H&E families (seeds 0-5)
        melanin Dice higher and melanin error lower than the rules' in every family, and <= 0.1 % false
        pigment on every real H&E tile of ``../shared/data`` and the BRCA-M2C test patches (rules
        up to 0.26 % on osteosarcoma, 1.0 % on BRCA-M2C, 2.4 % on skin with keratin and marking
        dye); see benchmarks/README, "H&E pigment pixel model".
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
    azure_binding: tuple[float, float] = (0.6, 3.0)
    azure_max_angle_deg: float = 2.0
    azure_min_od: float = 0.35
    mode: str = "auto"
    model: str = "default"
    min_probability: float = 0.5
    model_body_veto: bool = False
    model_body_share: float = 0.8
    model_rim_um: float = 2.0
    body_model: str = "default"
    gate: str = "off"
    body_min_probability: float = 0.85
    spindle_core_elongation: float = 0.0
    spindle_core_min_fill: float = 0.7
    model_min_od: float = 0.3
    context_radius_um: float = 25.0
    context_min_um2: float = 20.0
    context_model_share: float = 0.5
    context_saturated_share: float = 0.2
    context_saturated_od: float = 1.0
    context_steps: int = 2
    context_large_um2: float = 300.0
    model_stains: tuple[str, ...] = ("aec", "fast_red", "dab", "eosin")
    he_cluster_min_um2: float = 4.0

    def __post_init__(self) -> None:
        if self.dark_od is not None and not (math.isfinite(self.dark_od) and self.dark_od > 0):
            msg = f"PigmentParams.dark_od must be None or a positive finite number, got {self.dark_od!r}"
            raise ConfigError(msg)
        check_finite(self, ("min_od", "brown_pixel_od", "brown_peak_radius_um", "colour_min_od", "colour_rim_od", "colour_peak_radius_um", "colour_max_angle_deg", "granule_radius_um", "granule_ratio",
                     "max_angle_deg", "body_radius_um", "body_od", "ring_hole_um2", "ring_hole_max_um2", "ring_hole_h_od",
                     "cluster_radius_um"), positive=True)
        check_finite(self, ("model_rim_um", "spindle_core_elongation", "spindle_core_min_fill"), positive=False)
        check_finite(self, ("model_min_od", "context_saturated_od"), positive=True)
        check_finite(self, ("context_radius_um", "context_min_um2", "context_large_um2"), positive=False)
        for name in ("context_model_share", "context_saturated_share"):
            if not (math.isfinite(getattr(self, name)) and 0 <= getattr(self, name) <= 1):
                msg = f"PigmentParams.{name} must be in [0, 1], got {getattr(self, name)!r}"
                raise ConfigError(msg)
        if isinstance(self.context_steps, bool) or not isinstance(self.context_steps, int) or self.context_steps < 0:
            msg = f"PigmentParams.context_steps must be an integer >= 0, got {self.context_steps!r}"
            raise ConfigError(msg)
        check_finite(self, ("he_cluster_min_um2",), positive=False)
        check_finite(self, ("brown_pixel_rel", "colour_rim_rel", "granule_contrast_od", "smooth_sigma_um", "grow_um", "brown_grow_um", "ki67_grow_um", "ki67_hole_max_um", "min_area_um2",
                     "filled_margin_um",
                     "body_smooth_um", "cluster_min_um2"), positive=False)
        if not isinstance(self.model, str) or not self.model.strip():
            msg = f"PigmentParams.model must be 'default', 'none' or a pigment model file path, got {self.model!r}"
            raise ConfigError(msg)
        if not isinstance(self.body_model, str) or not self.body_model.strip():
            msg = f"PigmentParams.body_model must be 'default', 'none' or a body model file path, got {self.body_model!r}"
            raise ConfigError(msg)
        if not isinstance(self.gate, str) or not self.gate.strip():
            msg = f"PigmentParams.gate must be 'off', 'default' or a pigment gate model file path, got {self.gate!r}"
            raise ConfigError(msg)
        if self.gate.strip().lower() not in ("off", "default") and not Path(self.gate.strip()).expanduser().is_file():
            msg = (f"[pigment] gate: expected 'off', 'default' or a pigment gate model file, got {self.gate!r} "
                   "(no such file)")
            raise ConfigError(msg)
        if not (math.isfinite(self.body_min_probability) and 0 < self.body_min_probability < 1):
            msg = f"PigmentParams.body_min_probability must be in (0, 1), got {self.body_min_probability!r}"
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
        if self.mode not in ("auto", "brown", "colour", "azure"):
            msg = f"PigmentParams.mode must be 'auto', 'brown', 'colour' or 'azure', got {self.mode!r}"
            raise ConfigError(msg)
        check_finite(self, ("azure_max_angle_deg", "azure_min_od"), positive=True)
        lo_hi = tuple(float(x) for x in self.azure_binding) if isinstance(self.azure_binding, tuple | list) else ()
        if len(lo_hi) != 2 or not all(math.isfinite(x) for x in lo_hi) or not 0 < lo_hi[0] <= lo_hi[1]:
            msg = f"PigmentParams.azure_binding must be a range (lo, hi) with 0 < lo <= hi, got {self.azure_binding!r}"
            raise ConfigError(msg)
        object.__setattr__(self, "azure_binding", lo_hi)
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
        if "azure_binding" in data:
            data["azure_binding"] = tuple(data["azure_binding"])
        return cls(**data)

    def to_mapping(self) -> dict[str, Any]:
        """Plain JSON-serialisable mapping."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if out["melanin_vector"] is not None:
            out["melanin_vector"] = list(out["melanin_vector"])
        out["model_stains"] = list(out["model_stains"])
        out["azure_binding"] = list(out["azure_binding"])
        return out

    def uses_model(self, stains: Any) -> bool:
        """Whether the pipeline runs the pixel model (not the rules) for this stain matrix.

        With an azure B counterstain always (unless ``model = "none"``): the shipped azure B model
        (``pigment_azure.mmnst``, session 41) decides the pixels of the rules' Ki67 exclusion mask
        (:func:`mmnst_path.classify._pigment_azure.azure_pigment_masks`); ``model_stains`` names the
        chromogens of the other stain systems.
        """
        if self.model.strip().lower() == "none":
            return False
        names = _matrix(stains).names
        if any(n in names for n in _MELANIN_COUNTERSTAINS):
            return True
        system = next((n for n in ("dab", "aec", "fast_red") if n in names), "eosin" if "eosin" in names else "")
        return system in self.model_stains


def _matrix(stains: Any) -> Any:
    from ..stain import StainMatrix, load_stains

    return stains if isinstance(stains, StainMatrix) else load_stains(stains)
