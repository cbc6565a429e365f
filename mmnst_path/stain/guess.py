"""Which stain preset an image is: H-DAB, H-AEC, H-FastRed, AzureB-DAB, H&E or a Ki67 / MART-1 or Ki67 /
SOX10 double stain, from the colour of its tissue and where its chromogen sits.

The test is made in optical density relative to the image's own white point (a tinted glass
shifts every OD vector towards the colour the glass lacks: a yellowish glass, blue channel at
~200 instead of ~245, adds ~0.09 blue OD to every pixel and moves red AEC towards brown DAB),
after the hematoxylin component is removed: each pixel's OD ``od`` becomes its residual
``r = od - (od . h) h`` orthogonal to the hematoxylin vector ``h`` (Ruifrok & Johnston's),
and the direction of ``r`` in that plane is an angle measured from DAB, positive towards grey
(brown-black melanin lies at +6 to +25°, DAB at 0°, AEC at -11°, Fast Red at -42°, Ruifrok's
eosin at -83° and the eosin of real H&E at about -30 to -50°; on the far side of grey, the green-blue of
azure-B-bound melanin at +30 to +62° and azure B itself at +126°). Hematoxylin mixtures do not move
that angle: whatever the hematoxylin share, a pixel's residual is its second stain's.

- **H&E vs IHC** is decided by a learned model (:mod:`mmnst_path.stain.he_model`, a logistic model
  on 18 scale-free colour statistics of the residuals, trained on generated tiles of every
  protocol and on CC BY / BSD-3 real H&E and DAB tiles): H&E at an H&E probability of 0.5 and
  above, ambiguous within ``HE_MODEL_MARGIN`` of it. In H&E eosin tints most of the tissue
  (cytoplasm, stroma), often faintly, at -30 to -90°; in a red-chromogen IHC only the positive
  nuclei are red and the rest is blue hematoxylin. Before 2026-12-04 a rule on the *pink share*
  (the fraction of tissue pixels with a red residual, ``>= PINK_MIN_OD`` log10 OD at an angle below
  ``RED_DEG``) decided: H&E from ``HE_PINK_SHARE``, or from ``HE_PINK_SHARE_BROWN`` when no red
  chromogen is seen. It read real H&E with pale eosin as H-DAB ("no chromogen") or as a red
  chromogen (eosin's angle taken for Fast Red's): 101 of 120 BRCA-M2C and 76 of 100 Kather 2016
  tiles right. The rule still decides for images with too few tissue pixels for the model.
- **Where the red sits** (one of the model's features; before the model, a rule):
  a Ki67-rich red-chromogen tumour tints as much tissue as eosin does
  (generated Fast Red with 70 % positives: pink share 0.57-0.72), but only its dense positive
  nuclei, over pale blue-grey tissue; eosin tints the light stroma and cytoplasm at least as much
  as the dense nuclei. So the image is never H&E by its pink share when the share of its densest
  quarter of pixels (OD norm) that a red chromogen dominates is at least ``RED_DENSE_RATIO`` times
  the pink share of its lighter half (:attr:`StainGuess.red_dense`). Scale-free (no pixel size
  needed); on a coarse slide thumbnail, where nuclei and stroma blend, the ratio tends to 1 and
  the pink share decides as before. With positives on most of the tissue (90 %) the lighter half
  turns pink too and such a tile is still taken for H&E.
- **Which chromogen**: since session 34 a single red-chromogen guess (after the rules below) is H-FastRed
  when the chromogen model (:mod:`mmnst_path.stain.chromogen_model`) is confident, whatever the peak;
  since session 36 a single H-DAB guess whose peak lies redder than DAB itself is H-AEC when the
  DAB-vs-AEC model of :mod:`mmnst_path.stain.dab_bodies`, reading the chromogen-stained bodies one by
  one, is confident (``dab_model=False``: not asked).
  The chromogen-dominated pixels (residual ``>= CHROMOGEN_MIN_OD`` and at
  least ``CHROMOGEN_MIN_SHARE`` of the pixel's OD) give a residual-weighted histogram of angles.
  Melanin always lies on the brown-black side of any chromogen, so the chromogen is the
  *reddest* population that is a peak of its own (at least ``PEAK_MIN_MASS`` of the histogram
  within ``PEAK_HALF_WIDTH_DEG``): its angle, compared with the boundaries between the preset
  angles, names the chromogen. A broad tail of a brown stain (real DAB spreads over ±20°) is
  not a peak.
- **Azure B counterstain** (Kamino & Tam, ``AzureB-DAB``): the counterstain is not hematoxylin,
  so its blue nuclei keep a residual on the far blue side (azure B lies at +126°, its residual
  0.28 of its OD), and melanin that has bound azure B turns green-blue (+30 to +62° for a bound-dye
  ratio 0.8-2). The image is ``AzureB-DAB`` when at least ``AZURE_COUNTER_SHARE`` of its tissue
  pixels carry a residual ``>= AZURE_COUNTER_MIN_OD`` between ``AZURE_COUNTER_DEG`` (the
  counterstain), or ``TEAL_SHARE`` one ``>= TEAL_MIN_OD`` between ``TEAL_DEG`` (green-blue
  melanin). Hematoxylin, DAB, brown-black melanin (<= +25°, grey is +24°), eosin and red
  chromogens never reach there: every real Ki67 and H&E tile of ``../shared/data`` and of the
  training data holds at most 0.7 % / 1.4 % of such pixels, generated azure B tiles 0-64 % /
  0-25 % (``benchmarks/eval_stain_guess.py``). The green-blue of bound azure B is the generator's
  assumption (no measured vector is published), the counterstain vector is Landini's methylene
  blue (see the ``AzureB-DAB`` preset).
- A chromogen angle within ``MARGIN_DEG`` of a boundary, an H-DAB chromogen redder than DAB
  itself (``DAB_REDDER_DEG``: real DAB scans are browner than the preset, at +5 to +13°, and AEC
  rendered brownish lands at -5 to +5°), or a pink share near the H&E limit, is reported as
  ambiguous (:attr:`StainGuess.ambiguous`, with the reason and the preset to pass if
  the guess is wrong, :attr:`StainGuess.alternative`), still naming the nearer preset: the caller
  logs it and records it in the provenance.
- **Where the chromogen sits** (with ``mpp`` at most
  :data:`~mmnst_path.stain.places.PLACES_MAX_MPP`, a tile or a fine thumbnail, or on ``patches``
  read from a slide whose thumbnail is coarser, :func:`~mmnst_path.stain.places.tissue_patches`;
  :func:`~mmnst_path.stain.places.chromogen_places`): a Ki67 chromogen fills
  round, smooth-edged nuclear bodies; melanin comes as granules, perinuclear rings and ragged
  clusters; MART-1 draws a red ring around a melanocyte's nucleus. (1) An H-DAB colour guess
  with at least ``RED_BODIES_MM2`` red nuclear bodies per mm², twice its brown ones, is a red
  chromogen outweighed in the histogram by melanin, named by the bodies' angle when it lies more
  than ``BODY_MARGIN_DEG`` on the red side of ``AEC_DEG`` (nearer, a reddish DAB looks the same:
  the H-DAB guess is flagged with H-AEC to pass). (2) A red
  chromogen or H&E colour guess with ``DOUBLE_RING_SHARE`` of its red in rings around cells and
  ``DOUBLE_BROWN_BODIES_MM2`` brown nuclear bodies is a Ki67 / MART-1 double stain,
  ``H-DAB-AEC`` when the colour said AEC at ``DOUBLE_AEC_DEG`` or above, else ``H-DAB-FastRed``
  (its close calls flagged, with the colour's name to pass).
  (3) A red-chromogen or H&E colour guess that is no MART-1 double stain is a Ki67 / SOX10 double
  stain (red nuclear marker; :attr:`StainGuess.marker` ``"nuclear"``) when its nuclear bodies hold
  DAB: at least ``SOX10_DAB_BODIES_MM2`` bodies per mm² with at least
  :data:`~mmnst_path.stain.places.DAB_BODY_SHARE` of their OD off the hematoxylin axis (DAB lies
  farther from it than Fast Red, AEC or melanin over a nucleus), at ``SOX10_DAB_MIN_DEG`` or browner
  (dense single Fast Red nuclei reach the share, redder), at least one per ``SOX10_BROWN_PER_DAB``
  brown bodies (melanin over single-stain nuclei makes brown bodies without DAB), that are
  ``SOX10_APART_DEG`` browner than the other nuclear bodies (a Ki67-positive melanocyte holds DAB
  and the marker, a marker-only one the marker; a single stain's nuclei are one chromogen), beside
  ``SOX10_RED_BODIES_MM2`` red bodies; and its marker is Fast Red: the colour guess is H-FastRed or
  H&E, or H-AEC with a pink share of at least ``SOX10_FAST_RED_PINK``. Always flagged, the colour
  guess to pass. **On by default** since session 33 (``SOX10_DETECTION``; ``sox10=False`` turns it
  off): on dev seeds 40-63 it names 82 of 120 generated SOX10 Fast Red tiles and changes no
  single-stain, DAB or permissive real tile (benchmarks/README.md, "Ki67 / SOX10 Fast Red double
  stains by default"). An AEC marker (an H-AEC colour guess under the pink limit, or an H-DAB one
  whose red bodies lie at ``RED_DEG`` or browner) is looked for only with ``SOX10_AEC`` (off: melanin
  over single AEC nuclei reads as DAB-holding). A MART-1 double stain is
  ``"cytoplasmic"``; the pipeline passes the marker on as ``Ki67Params.melanocyte_marker`` when
  that is ``"auto"``.
- **Not detected** by default: a Ki67 / SOX10 AEC double stain (above), a Ki67 / MART-1 double
  stain whose colour guess is H-DAB (AEC marker rendered brownish) or with fewer than
  ``DOUBLE_BROWN_BODIES_MM2`` brown bodies. Pass ``H-DAB-FastRed`` / ``H-DAB-AEC`` (with
  ``melanocyte_marker="nuclear"`` for SOX10).

The boundaries sit between the generated tiles of each chromogen (stain vectors 0-5° off the
presets, tinted white balance and camera black level) and keep every real Ki67 / IHC tile at
H-DAB (``benchmarks/eval_red_chromogens.py --guess``, ``benchmarks/eval_stain_guess.py --real``,
where the real H&E figures are).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._guess_warn import AmbiguousStainsWarning, warn_if_ambiguous
from ._planes import ODPlanes
from ._stain_guess import StainGuess, _azure_reason
from ._white_point import RED_CHROMOGENS, estimate_white_point, with_slide_white_point
from .places import ChromogenPlaces

__all__ = ["RED_CHROMOGENS", "AmbiguousStainsWarning", "StainGuess", "estimate_white_point", "guess_stains",
           "guess_stains_detail", "warn_if_ambiguous", "with_slide_white_point"]

_H = np.array([0.650, 0.704, 0.286]) / np.linalg.norm([0.650, 0.704, 0.286])
_DAB = np.array([0.268, 0.570, 0.776]) / np.linalg.norm([0.268, 0.570, 0.776])
_E1 = _DAB - _DAB.dot(_H) * _H
_E1 /= np.linalg.norm(_E1)
_E2 = np.cross(_H, _E1)  # towards grey / melanin

#: Smallest OD norm (log10) of a pixel looked at.
MIN_OD = 0.1
#: Residual (log10 OD) and angle below which a pixel counts as pink (eosin or a red chromogen).
PINK_MIN_OD = 0.04
RED_DEG = -20.0
#: Pink share of the tissue at and above which the image is H&E (eosin everywhere).
HE_PINK_SHARE = 0.45
#: Pink share at and above which an image whose chromogen-like pixels are brown is H&E (with
#: melanin): generated and real H-DAB tiles reach at most 0.22.
HE_PINK_SHARE_BROWN = 0.25
#: An H&E probability of the stain model (:mod:`mmnst_path.stain.he_model`) within this of 0.5 is
#: ambiguous (the other side named to pass).
HE_MODEL_MARGIN = 0.2
#: Red in the dense objects: an image is never H&E by its pink share when the pink share of its
#: densest quarter of tissue pixels (OD norm) is at least this multiple of the pink share of its
#: lighter half. Eosin tints the light tissue (stroma, cytoplasm) at least as much as the dense
#: nuclei (generated H&E <= 1.01, real H&E <= 1.65), a red chromogen sits in the positive nuclei,
#: the densest pixels, over pale blue-grey tissue (generated Fast Red with a pink share >= 0.25:
#: 1.3-8; ``benchmarks/eval_stain_guess.py``).
RED_DENSE_RATIO = 2.0
#: Residual of a chromogen-dominated pixel: at least this (log10 OD) and this share of its OD.
CHROMOGEN_MIN_OD = 0.15
CHROMOGEN_MIN_SHARE = 0.3
#: A peak of the angle histogram holds at least this share of its weight within ± this angle.
PEAK_MIN_MASS = 0.12
PEAK_HALF_WIDTH_DEG = 6.0
#: Boundaries of the chromogen angle: below FAST_RED_DEG Fast Red, below AEC_DEG AEC, else DAB.
FAST_RED_DEG = -27.0
AEC_DEG = -5.7
#: A chromogen angle this close to a boundary is ambiguous.
MARGIN_DEG = 2.0
#: An H-DAB guess whose chromogen lies redder than this (the DAB preset itself) is ambiguous: real
#: DAB scans lie at +5.5 to +12.5° (BCData, SHIDC, DeepLIIF, scikit-image, EndoNuke: 317 tiles),
#: while AEC rendered brownish (a brown AEC vector, weak staining, tinted glass, generated) reaches
#: -5.5 to +5.5° (14 of the 23 AEC tiles taken for H-DAB in ``benchmarks/eval_stain_guess.py``
#: lie below 0°).
DAB_REDDER_DEG = 0.0
#: Fewer chromogen pixels than this: no chromogen found (H-DAB by default, ambiguous).
MIN_PIXELS = 20
#: Azure B counterstain: at least this share of the tissue pixels with a residual >= this OD at an
#: angle in this range (azure B itself +126°). Real Ki67 / H&E tiles: at most 0.007.
AZURE_COUNTER_DEG = (100.0, 160.0)
AZURE_COUNTER_MIN_OD = 0.05
AZURE_COUNTER_SHARE = 0.03
#: Green-blue (azure-B-bound) melanin: at least this share of the tissue pixels with a residual >=
#: this OD at an angle in this range. Real Ki67 / H&E tiles: at most 0.014.
TEAL_DEG = (35.0, 100.0)
TEAL_MIN_OD = 0.12
TEAL_SHARE = 0.05
#: An azure B share below this multiple of its limit is ambiguous.
AZURE_MARGIN = 1.5
#: Where the chromogen sits (:func:`~mmnst_path.stain.places.chromogen_places`, images of at most
#: ``PLACES_MAX_MPP`` µm/px). An H-DAB colour guess with at least this many red nuclear bodies per
#: mm² of tissue, and this multiple of its brown ones, is a red chromogen outweighed by melanin
#: (generated H-DAB tiles <= 110 / mm², real Ki67 DAB tiles <= 15; generated Fast Red read H-DAB 190-1000).
RED_BODIES_MM2 = 150.0
RED_OVER_BROWN = 2.0
#: The angle of red bodies (mixed with hematoxylin at their rim) names a chromogen less surely than
#: a peak: within this of ``FAST_RED_DEG`` the guess is flagged (generated Fast Red bodies read -16
#: to -39°), and within this of ``AEC_DEG`` the H-DAB guess stays (flagged, H-AEC to pass): a reddish
#: DAB and a brownish AEC overlap there whatever their shape (held-out DAB with pigment, seed 6:
#: bodies at -11°).
BODY_MARGIN_DEG = 8.0
#: A red-chromogen or H&E colour guess is a Ki67 / MART-1 double stain when at least this share of
#: its red lies in rings around cells and it holds at least this many brown nuclear bodies per mm²
#: (two per 0.04 mm² tile: one alone may be a melanin cluster). Ring share chosen on generated
#: tiles of seeds 10-12 (``benchmarks/eval_stain_guess.py --first-seed 10 --seeds 3``); no real
#: tile and no generated single-stain tile of seeds 0-5 reaches both.
DOUBLE_RING_SHARE = 0.08
DOUBLE_BROWN_BODIES_MM2 = 50.0
#: Ki67 / SOX10 (red nuclear marker): a red-chromogen, H&E or H-DAB colour guess that is no MART-1 double
#: stain is one when at least ``SOX10_DAB_BODIES_MM2`` of its nuclear bodies per mm² hold DAB
#: (:attr:`~mmnst_path.stain.places.ChromogenPlaces.dab_bodies_mm2`), they lie at least
#: ``SOX10_APART_DEG`` browner than its other nuclear bodies (there must be some: the
#: marker-only melanocytes) and at ``SOX10_DAB_MIN_DEG`` or browner, and it holds at least
#: ``SOX10_RED_BODIES_MM2`` red bodies. Always flagged (the colour guess to pass). The three counts were
#: chosen on generated tiles of seeds 0-2 and 10-12. Opt-in until session 33 (on held-out seeds it named
#: 11 of 15 SOX10 Fast Red tiles per seed set and turned 1-3 single red tiles double, short of that
#: acceptance); on by default since for a Fast Red marker (``SOX10_DETECTION``; ``sox10=False`` turns it
#: off), with the angle floor, the brown-per-DAB limit and the marker named by the pink share: dev seeds
#: 40-63 of ``benchmarks/eval_stain_guess.py`` (``benchmarks/experiments/sox10_default_s33.py``).
SOX10_DETECTION = True
SOX10_DAB_BODIES_MM2 = 150.0
SOX10_APART_DEG = 2.0
SOX10_RED_BODIES_MM2 = 50.0
#: The DAB-holding bodies of a Ki67 / SOX10 double stain lie at or above this angle (degrees from DAB,
#: the median of those bodies' median angles): DAB, alone or under a red marker, keeps them near DAB.
#: Dense single Fast Red nuclei that pass the DAB-holding share (melanophage tiles) lie redder. Dev seeds
#: 40-63: SOX10 tiles the rule names at -18.4° and browner (one more at -20.5°), the two single Fast Red
#: tiles it named double at -19.7° and -23.2° (both named H-AEC by colour: wrong either way).
SOX10_DAB_MIN_DEG = -19.0
#: At most this many brown nuclear bodies per DAB-holding body: a SOX10 double stain's brown bodies are
#: its Ki67-positive nuclei, which hold DAB; melanin over the nuclei of a single red stain
#: (``over_nucleus``) makes brown bodies that do not. Dev seeds 40-63: SOX10 tiles the rule names
#: at most 1.30, the single AEC tile it named double 2.33.
SOX10_BROWN_PER_DAB = 1.75
#: A SOX10 double stain whose colour guess is H-AEC (or H-DAB, with ``SOX10_AEC``) is H-DAB-FastRed when its pink share
#: (:attr:`StainGuess.pink_share`: tissue pixels with a residual >= ``PINK_MIN_OD`` below ``RED_DEG``)
#: is at least this, else H-DAB-AEC: a Fast Red marker tints its pale rims and the cytoplasm below
#: -20°, AEC (at -6 to -18°) does not. Dev seeds 40-63, SOX10 tiles named double from an H-AEC or H-DAB
#: colour guess (``SOX10_AEC`` on): the 55 AEC at most 0.152 (the next 0.121), the 55 Fast Red from
#: 0.076 (the next 0.142); one of each named wrong. Without ``SOX10_AEC`` an H-AEC colour guess under
#: this is no SOX10 double stain. Before session 33 the red bodies' angle decided (AEC at
#: -13.5° and browner) and named 13 of the 17 such dev AEC tiles of seeds 40-51 Fast Red.
SOX10_FAST_RED_PINK = 0.14
#: Look for an AEC SOX10 marker too (an H-AEC colour guess under ``SOX10_FAST_RED_PINK``, or an H-DAB
#: one): off. Melanin over the positive nuclei of a single AEC stain makes them DAB-holding bodies
#: browner than the other AEC nuclei, as DAB under an AEC marker does: on dev tiles it named 1 of 240
#: single AEC tiles at 384 px and 2 of 100 at 256 px double, all right before, against 53 of 120 dev
#: SOX10 AEC tiles gained (``benchmarks/experiments/sox10_default_s33.py``).
SOX10_AEC = False
#: A double stain whose colour guess is H-AEC with its red at or above this angle is H-DAB-AEC,
#: otherwise H-DAB-FastRed (a Fast Red marker mixed with hematoxylin or DAB reads -8 to -38°).
DOUBLE_AEC_DEG = -15.0


def _peaks(theta: np.ndarray, weight: np.ndarray) -> list[tuple[float, float]]:
    """``(angle, mass)`` of the peaks of the weighted angle histogram, reddest first."""
    from scipy.ndimage import gaussian_filter1d

    edges = np.arange(-120.0, 60.0 + 1e-9, 1.0)
    hist = np.histogram(theta, bins=edges, weights=weight)[0]
    total = float(hist.sum())
    if total <= 0:
        return []
    smooth = gaussian_filter1d(hist, 2.0, mode="constant")
    centres = 0.5 * (edges[:-1] + edges[1:])
    half = int(PEAK_HALF_WIDTH_DEG)
    window = np.convolve(hist, np.ones(2 * half + 1), mode="same") / total
    out = []
    for i in range(1, len(smooth) - 1):
        if smooth[i] >= smooth[i - 1] and smooth[i] > smooth[i + 1] and window[i] >= PEAK_MIN_MASS:
            out.append((float(centres[i]), float(window[i])))
    return out


def _residuals(rgb: np.ndarray, tissue: np.ndarray | None, white: tuple[float, float, float],
               planes: ODPlanes | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hematoxylin-free residual norm, its angle from DAB (degrees) and the OD norm of the
    pixels of ``tissue`` with an OD norm above :data:`MIN_OD` (from ``planes``, the image's, when given)."""
    from . import od_from_rgb

    if planes is not None:  # the same values, each pixel's from the whole image's planes, in raster order
        norm, m, theta = planes(white)
        sel = norm > MIN_OD
        if tissue is not None:
            sel &= np.asarray(tissue, bool)
        return m[sel], theta[sel], norm[sel]
    od = od_from_rgb(rgb, background=white).astype(np.float64)
    od = od[np.asarray(tissue, bool)] if tissue is not None else od.reshape(-1, 3)
    norm = np.linalg.norm(od, axis=1)
    keep = norm > MIN_OD
    od, norm = od[keep], norm[keep]
    m, theta = od_residual(od)
    return m, theta, norm


def od_residual(od: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Norm of the hematoxylin-free residual of OD vectors (shape (..., 3)) and its angle from DAB
    (degrees) in the plane orthogonal to hematoxylin, both of shape (...)."""
    resid = od - (od @ _H)[..., None] * _H
    return np.linalg.norm(resid, axis=-1), np.degrees(np.arctan2(resid @ _E2, resid @ _E1))


def guess_stains_detail(rgb: np.ndarray, tissue: np.ndarray | None = None, *,
                        mpp: float | None = None,
                        patches: Sequence[tuple[np.ndarray, np.ndarray | None]] | None = None,
                        patches_mpp: float | None = None, sox10: bool | None = None,
                        chromogen_model: bool = True, dab_model: bool = True) -> StainGuess:
    """The stain preset of an image and the evidence for it (see the module docstring).

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Image, typically the slide thumbnail the tissue was detected on.
    tissue : (M, N) bool ndarray, optional
        Pixels to look at (default, or when it holds no pixel: all).
    mpp : float, optional
        µm per pixel of ``rgb``. When it resolves nuclei (at most
        :data:`~mmnst_path.stain.places.PLACES_MAX_MPP`), where the chromogen sits refines the
        colour guess (module docstring, "Where the chromogen sits"); None or coarser: colour only,
        unless ``patches`` are given.
    patches : sequence of ((h, w, 3) uint8, (h, w) bool or None), optional
        Fine ``(rgb, tissue)`` patches of the same slide at ``patches_mpp`` µm/px (e.g.
        :func:`~mmnst_path.stain.places.tissue_patches`), looked at instead when ``rgb`` is too
        coarse (a slide thumbnail).
    patches_mpp : float, optional
    sox10 : bool, optional
        Look for a Ki67 / SOX10 double stain (rule (3) of "Where the chromogen sits"); None:
        :data:`SOX10_DETECTION`.
    chromogen_model : bool
        Let the chromogen model name a single red chromogen (:mod:`mmnst_path.stain.chromogen_model`);
        False: the rules alone (and no DAB-vs-AEC model either).
    dab_model : bool
        Let the DAB-vs-AEC body model name a single H-DAB guess redder than DAB H-AEC
        (:func:`~mmnst_path.stain.dab_bodies.by_dab_model`; needs ``mpp`` or ``patches`` fine enough to
        resolve nuclei); False: the guess before session 36.

    Returns
    -------
    StainGuess
    """
    from .places import PLACES_MAX_MPP, chromogen_places, pooled_places

    rgb = np.asarray(rgb)
    if tissue is not None and not np.any(tissue):
        tissue = None
    # an image fine enough for the places: its OD planes computed once for the colour guess and the places
    planes = ODPlanes(rgb) if mpp is not None and 0 < mpp <= PLACES_MAX_MPP and rgb.ndim == 3 else None
    guess = _colour_guess(rgb, tissue, planes)
    if mpp is None or guess.name == "AzureB-DAB":
        return _by_model(guess, chromogen_model)
    if mpp <= PLACES_MAX_MPP or not patches or patches_mpp is None:
        places = chromogen_places(rgb, tissue, float(mpp), guess.white_point, planes=planes)
    else:
        places = pooled_places(patches, float(patches_mpp), guess.white_point)
    sox10 = SOX10_DETECTION if sox10 is None else bool(sox10)
    guess = _by_model(guess if places is None else _by_places(guess, places, sox10), chromogen_model)
    if chromogen_model and dab_model:  # after the chromogen model: an H-AEC named here is not asked again
        from .dab_bodies import by_dab_model

        if mpp <= PLACES_MAX_MPP:
            guess = by_dab_model(guess, [(rgb, tissue)], float(mpp))
        elif patches and patches_mpp is not None:
            guess = by_dab_model(guess, patches, float(patches_mpp))
    return guess


def _by_model(guess: StainGuess, on: bool) -> StainGuess:
    from .chromogen_model import by_chromogen_model

    return by_chromogen_model(guess) if on else guess


def colour_residuals(rgb: np.ndarray, tissue: np.ndarray | None, planes: ODPlanes | None = None) -> tuple[
        tuple[float, float, float] | None, tuple[float, float, float], np.ndarray, np.ndarray, np.ndarray]:
    """The glass colour (None when no glass is seen), the white point used, and the tissue pixels'
    residual norm, angle and OD norm relative to it (:func:`_residuals`; ``planes``: the image's OD planes)."""
    glass = estimate_white_point(rgb, tissue, plateau=None)
    # no glass outside the tissue: the bright plateau alone (``tissue`` again would find the same too few pixels)
    white = glass if glass is not None else estimate_white_point(rgb, None)
    wp = white if white is not None else (255.0, 255.0, 255.0)
    m, theta, norm = _residuals(rgb, tissue, wp, planes)
    return glass, wp, m, theta, norm


def _colour_guess(rgb: np.ndarray, tissue: np.ndarray | None, planes: ODPlanes | None = None) -> StainGuess:
    """:func:`guess_stains_detail` from the colour of the tissue alone (``planes``: the image's OD planes)."""
    glass, wp, m, theta, norm = colour_residuals(rgb, tissue, planes)
    if not m.shape[0]:
        return StainGuess("H-DAB", True, "no stained pixels: H-DAB assumed", math.nan, 0.0, wp)
    red = (m >= PINK_MIN_OD) & (theta < RED_DEG)
    pink = float(np.mean(red))
    dense = _red_in_dense(red, m, norm)
    chromogen_red = dense >= RED_DENSE_RATIO
    p_he = he_probability(m, theta, norm)
    if math.isnan(p_he):  # too few tissue pixels for the model: the pink share decides
        is_he = pink >= HE_PINK_SHARE and not chromogen_red
        amb = pink < HE_PINK_SHARE + 0.05
        why = f"eosin tints {100 * pink:.0f} % of the tissue (H&E from {100 * HE_PINK_SHARE:.0f} %)"
    else:
        is_he = p_he >= 0.5
        amb = abs(p_he - 0.5) < HE_MODEL_MARGIN
        why = (f"the stain model reads H&E at p = {p_he:.2f} (eosin tints {100 * pink:.0f} % of the tissue, "
               f"red in the dense pixels {dense:.1f}x its share of the light tissue)")
    if is_he:
        return StainGuess("H&E", bool(amb), why, math.nan, pink, wp,
                          alternative="H-FastRed" if pink >= HE_PINK_SHARE else "H-DAB", red_dense=dense,
                          he_probability=p_he)
    if math.isnan(p_he):  # the pink-share rules of the chromogen branches below
        he_by_pink = pink >= HE_PINK_SHARE_BROWN and not chromogen_red
    else:
        he_by_pink = False
    first, seen_white = (m, theta, norm), wp
    if glass is None and wp != (255.0, 255.0, 255.0):  # the chromogen angle only with a white point from glass
        wp = (255.0, 255.0, 255.0)
        m, theta, norm = _residuals(rgb, tissue, wp, planes)
    counter, teal = _azure_shares(m, theta)
    azure = max(counter / AZURE_COUNTER_SHARE, teal / TEAL_SHARE)
    chrom = (m >= CHROMOGEN_MIN_OD) & (m >= CHROMOGEN_MIN_SHARE * norm)
    peaks = [p for p in _peaks(theta[chrom], np.ones(int(chrom.sum()))) if p[0] < 30.0]
    if azure >= 1.0:
        deg = peaks[0][0] if peaks else math.nan
        why = _azure_reason(counter, teal, glass=glass is not None, own_white=None if glass else seen_white,
                           counter_deg=AZURE_COUNTER_DEG, teal_deg=TEAL_DEG,
                           limits=(AZURE_COUNTER_SHARE, TEAL_SHARE))
        return StainGuess("AzureB-DAB", azure < AZURE_MARGIN, why, deg, pink, wp, alternative="H-DAB",
                          azure_share=azure, he_probability=p_he)
    if int(chrom.sum()) < MIN_PIXELS or not peaks:
        if he_by_pink:
            return StainGuess("H&E", pink < HE_PINK_SHARE_BROWN + 0.05, f"eosin tints {100 * pink:.0f} % of the "
                              "tissue and no chromogen is seen", math.nan, pink, wp, alternative="H-DAB",
                              azure_share=azure, red_dense=dense)
        return StainGuess("H-DAB", True, f"no chromogen seen ({int(chrom.sum())} chromogen-stained pixels, "
                          f"{len(peaks)} peaks): H-DAB assumed{_model_text(p_he)}", math.nan, pink, wp,
                          alternative="H&E" if p_he >= 0.5 - HE_MODEL_MARGIN else "", azure_share=azure,
                          he_probability=p_he)
    deg = peaks[0][0]
    from .chromogen_model import chromogen_features

    row = chromogen_features(first, (m, theta, norm), deg)
    if deg < FAST_RED_DEG:
        name, edge, other = "H-FastRed", FAST_RED_DEG, "H-AEC"
    elif deg < AEC_DEG:
        name = "H-AEC"
        edge, other = ((FAST_RED_DEG, "H-FastRed") if abs(deg - FAST_RED_DEG) < abs(deg - AEC_DEG)
                       else (AEC_DEG, "H-DAB"))
    elif he_by_pink:
        # eosin over much of the tissue and the only chromogen-like pixels brown: H&E with melanin
        amb = pink < HE_PINK_SHARE_BROWN + 0.05
        return StainGuess("H&E", amb, f"eosin tints {100 * pink:.0f} % of the tissue and the stained pixels "
                          f"are brown (at {deg:+.0f}° from DAB, melanin-like)", deg, pink, wp, alternative="H-DAB",
                          azure_share=azure, red_dense=dense)
    else:
        name, edge, other = "H-DAB", AEC_DEG, "H-AEC"
    near = abs(deg - edge) < MARGIN_DEG
    redder = name == "H-DAB" and deg < DAB_REDDER_DEG
    amb = near or redder
    reason = (f"chromogen at {deg:+.0f}° from DAB ({100 * peaks[0][1]:.0f} % of the stained pixels)"
              f"{_model_text(p_he)}")
    if near:
        reason += f", within {MARGIN_DEG:.0f}° of the {edge:+.0f}° boundary"
    elif redder:
        reason += " (redder than DAB itself: real DAB scans lie at +5 to +13°)"
    if amb and {name, other} == {"H-DAB", "H-AEC"}:
        reason += "; AEC rendered brownish and DAB rendered reddish look alike"
    if not math.isnan(p_he) and p_he >= 0.5 - HE_MODEL_MARGIN:
        reason += "; close to H&E"
        if not amb:  # a boundary's alternative stays the one to pass
            amb, other = True, "H&E"
    return StainGuess(name, amb, reason, deg, pink, wp, alternative=other, azure_share=azure, red_dense=dense,
                      he_probability=p_he, chromogen_features=row)


def he_probability(m: np.ndarray, theta: np.ndarray, norm: np.ndarray) -> float:
    """The shipped stain model's probability that tissue pixels with these residuals are H&E (NaN:
    too few pixels; :mod:`mmnst_path.stain.he_model`)."""
    from .he_model import he_features, load_he_model

    x = he_features(m, theta, norm)
    return math.nan if x is None else float(load_he_model().probability(x)[0])


def _model_text(p_he: float) -> str:
    return "" if math.isnan(p_he) else f"; not H&E by the stain model (p = {p_he:.2f})"


def _by_places(guess: StainGuess, places: ChromogenPlaces, sox10: bool) -> StainGuess:
    """The colour guess refined by where its chromogen sits (module docstring)."""
    from dataclasses import replace

    brown, red, ring = places.brown_bodies_mm2, places.red_bodies_mm2, places.red_ring_share
    counts = (f"{brown:.0f} brown and {red:.0f} red nuclear bodies per mm², "
              f"{100 * ring:.0f} % of the red in rings around cells")
    if guess.name == "H-DAB" and red >= RED_BODIES_MM2 and red >= RED_OVER_BROWN * brown:
        # a red chromogen filling nuclei, outweighed in the angle histogram by melanin
        deg = places.red_body_deg
        if deg >= AEC_DEG - BODY_MARGIN_DEG:  # shape tells chromogen from melanin, not AEC from reddish DAB
            return replace(guess, ambiguous=True, alternative="H-AEC", places=places,
                           reason=f"{guess.reason}; the nuclear bodies are reddish (at {deg:+.0f}°; {counts}): "
                                  "AEC rendered brownish or DAB rendered reddish")
        name, other = ("H-FastRed", "H-AEC") if deg < FAST_RED_DEG else ("H-AEC", "H-FastRed")
        amb = red < 1.5 * RED_BODIES_MM2 or abs(deg - FAST_RED_DEG) < BODY_MARGIN_DEG
        return replace(guess, name=name, ambiguous=bool(amb), alternative="H-DAB" if red < 1.5 * RED_BODIES_MM2 else other,
                       chromogen_deg=deg, places=places,
                       reason=f"{guess.reason}; but a red chromogen (at {deg:+.0f}°) fills round nuclear bodies "
                              f"({counts}): the browner stain is melanin")
    if guess.name == "H-DAB":  # an AEC SOX10 marker rendered brownish beside DAB: rule (3), AEC-red bodies only
        aec_red = places.red_body_deg >= RED_DEG  # redder: Fast Red beside melanin, no brownish AEC
        if sox10 and SOX10_AEC and aec_red:
            return _nuclear_double(guess, places, counts)
        from ._sox10_populations import pale_marker_double

        # session 44: red nuclei beside DAB nuclei, a pale marker
        return (sox10 and pale_marker_double(guess, places)) or replace(guess, places=places)
    if guess.name not in ("H-AEC", "H-FastRed", "H&E"):
        return replace(guess, places=places)
    if not (ring >= DOUBLE_RING_SHARE and brown >= DOUBLE_BROWN_BODIES_MM2):
        if sox10:
            return _nuclear_double(guess, places, counts)
        return replace(guess, places=places)
    # a red marker around the nuclei and brown Ki67 nuclei: Ki67 / MART-1 (Melan-A)
    aec = guess.name == "H-AEC" and guess.chromogen_deg >= DOUBLE_AEC_DEG
    name = "H-DAB-AEC" if aec else "H-DAB-FastRed"
    close = ring < 1.5 * DOUBLE_RING_SHARE or brown < 2 * DOUBLE_BROWN_BODIES_MM2
    return replace(guess, name=name, ambiguous=bool(close or guess.ambiguous), alternative=guess.name, places=places,
                   marker="cytoplasmic", reason=f"Ki67 / MART-1 double stain: brown nuclear bodies beside a red marker in rings around "
                          f"cells ({counts}); by colour alone {guess.name}")


def _nuclear_double(guess: StainGuess, places: ChromogenPlaces, counts: str) -> StainGuess:
    """A red-chromogen, H&E or H-DAB colour guess refined to a Ki67 / SOX10 double stain when its
    nuclear bodies hold DAB and red marker alike (module docstring), else unchanged."""
    from dataclasses import replace

    from ._sox10_populations import SOX10_POPULATIONS, two_populations_flag

    dab, red = places.dab_bodies_mm2, places.red_bodies_mm2
    other = places.other_body_deg  # no marker-only body (a pale marker, session 44): the red bodies' angle
    stand_in = SOX10_POPULATIONS and math.isnan(other)
    apart = places.dab_body_deg - (places.red_body_deg if stand_in else other)
    single = replace(guess, places=places)
    if not (dab >= SOX10_DAB_BODIES_MM2 and red >= SOX10_RED_BODIES_MM2 and apart >= SOX10_APART_DEG
            and places.dab_body_deg >= SOX10_DAB_MIN_DEG and places.brown_bodies_mm2 <= SOX10_BROWN_PER_DAB * dab):
        return two_populations_flag(single, places)
    fast_red = guess.name in ("H-FastRed", "H&E") or guess.pink_share >= SOX10_FAST_RED_PINK
    if not (fast_red or SOX10_AEC):
        return two_populations_flag(single, places)
    name = "H-DAB-FastRed" if fast_red else "H-DAB-AEC"
    than = "the red nuclei beside them" if stand_in else "the other nuclei, beside red nuclei"  # what was compared
    return replace(guess, name=name, ambiguous=True, alternative=guess.name, places=places, marker="nuclear",
                   reason=f"Ki67 / SOX10 double stain: {dab:.0f} nuclear bodies per mm² hold DAB, "
                          f"{apart:+.0f}° browner than {than} ({counts}; "
                          f"pink share {100 * guess.pink_share:.0f} %, a Fast Red marker from "
                          f"{100 * SOX10_FAST_RED_PINK:.0f} %); by colour alone {guess.name}")


def _red_in_dense(red: np.ndarray, m: np.ndarray, norm: np.ndarray) -> float:
    """Share of the densest quarter of the pixels (OD norm) that a red chromogen dominates, over
    the pink share of their lighter half (NaN: too few pixels)."""
    if red.shape[0] < 4 * MIN_PIXELS:
        return math.nan
    lo, hi = np.quantile(norm, [0.5, 0.75])
    light = float(np.mean(red[norm <= lo]))
    dense = norm >= hi
    chrom = red[dense] & (m[dense] >= CHROMOGEN_MIN_OD) & (m[dense] >= CHROMOGEN_MIN_SHARE * norm[dense])
    return float(np.mean(chrom)) / max(light, 0.01)


def _azure_shares(m: np.ndarray, theta: np.ndarray) -> tuple[float, float]:
    """Shares of the pixels with an azure B counterstain residual and with a green-blue melanin one."""
    n = max(1, m.shape[0])
    counter = (m >= AZURE_COUNTER_MIN_OD) & (theta > AZURE_COUNTER_DEG[0]) & (theta < AZURE_COUNTER_DEG[1])
    teal = (m >= TEAL_MIN_OD) & (theta > TEAL_DEG[0]) & (theta < TEAL_DEG[1])
    return float(counter.sum()) / n, float(teal.sum()) / n


def guess_stains(rgb: np.ndarray, tissue: np.ndarray | None = None) -> str:
    """``"H&E"``, ``"H-FastRed"``, ``"H-AEC"``, ``"AzureB-DAB"``, ``"H-DAB"``, ``"H-DAB-FastRed"`` or
    ``"H-DAB-AEC"`` (:func:`guess_stains_detail`'s name; pass ``mpp`` through :func:`guess_stains_detail`
    to have the double stains looked for).

    An ambiguous guess is still returned, with an :class:`AmbiguousStainsWarning` that says why
    (it reaches the log of the CLI and the napari plugin).
    """
    guess = guess_stains_detail(rgb, tissue)
    warn_if_ambiguous(guess)
    return guess.name
