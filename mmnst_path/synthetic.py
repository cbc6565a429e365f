"""Generated Beer–Lambert tiles with known truth, for validation and sample data.

Every tile is rendered from stain concentration maps (log10 OD along unit stain vectors):
``I = I0 * 10 ** -(Σ c_k v_k)``, with the stain vectors rotated by a few degrees from the
reference presets, an optical blur, sensor noise and optional JPEG compression, so that a
detector tuned to the exact reference vectors or to clean pixels does not pass. The truth
(masks and counts) comes from the concentration maps, not from the rendered image.

Public API
----------
``SyntheticTile``          rgb, mpp, truth (dict of numbers), masks (dict of bool arrays)
``he_melanin_tile(seed, *, size=512, mpp=0.5, pigment_fraction=0.06, angle_deg=3.0, jpeg_quality=85)``
    H&E with melanin granules (cytoplasmic clusters and melanophages); truth
    ``melanin_fraction_pct`` = melanin pixels / tissue pixels, masks ``melanin``, ``tissue``.
``he_necrosis_tile(seed, *, size=512, mpp=1.0, necrosis_fraction=0.4, angle_deg=3.0, jpeg_quality=85)``
    H&E with a necrotic area (pale eosin, ghost nuclei, karyorrhectic debris) beside viable
    tumour; truth ``necrosis_fraction_pct``, masks ``necrosis``, ``tissue``. Viable nuclei whose
    centre lies in the viable area but that reach over the drawn border are not necrosis.
``ki67_pigment_tile(seed, *, size=512, mpp=0.5, positive_fraction=0.15, pigmented_cells=0.5, angle_deg=3.0, jpeg_quality=85, granule_um=0.8)``
    H-DAB Ki67 with melanin granules over a fraction of the *negative* cells; truth
    ``ki67_positive``, ``ki67_negative``, ``ki67_index_pct``, ``melanin_fraction_pct``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ._synthetic_draw import (
    _DAB,
    _E,
    _H,
    _cell_axes,
    _ellipse,
    _field,
    _granule_layer,
    _melanin_ref,
    family_melanin_vector,
    perturb_vector,
)
from ._synthetic_render import _camera, _render

__all__ = ["APPEARANCES", "FAMILY_CHROMOGENS", "PIGMENT_FAMILIES", "SyntheticTile", "family_melanin_vector", "he_melanin_tile",
           "he_necrosis_tile", "ki67_pigment_tile", "perturb_vector", "pigment_family_tile"]



@dataclass(frozen=True)
class SyntheticTile:
    """A generated tile: ``rgb`` (M, N, 3) uint8 at ``mpp`` µm/px, its truth and true masks."""

    rgb: np.ndarray
    mpp: float
    truth: dict = field(default_factory=dict)
    masks: dict = field(default_factory=dict)


def _nuclei(region, n, rng, mpp, radius_um=(3.0, 5.5)):
    rr, cc = np.nonzero(region)
    if len(rr) == 0:
        return []
    out: list = []
    occupied = np.zeros(region.shape, bool)
    for i in rng.permutation(len(rr))[: n * 6]:
        if len(out) >= n:
            break
        r, c, rad = rr[i], cc[i], rng.uniform(*radius_um) / mpp
        if occupied[r, c]:
            continue
        out.append((float(r), float(c), rad))
        r0, r1 = int(max(0, r - 1.8 * rad)), int(r + 1.8 * rad + 1)
        c0, c1 = int(max(0, c - 1.8 * rad)), int(c + 1.8 * rad + 1)
        occupied[r0:r1, c0:c1] = True
    return out


def _paint(conc, r, c, rad, dens, rng):
    half = int(rad * 1.5) + 2
    r0, c0 = int(r) - half, int(c) - half
    yy, xx = np.mgrid[r0 : r0 + 2 * half + 1, c0 : c0 + 2 * half + 1]
    a = rng.uniform(0.75, 1.0)
    ang = rng.uniform(0, np.pi)
    u = (yy - r) * math.cos(ang) + (xx - c) * math.sin(ang)
    v = -(yy - r) * math.sin(ang) + (xx - c) * math.cos(ang)
    d = np.sqrt((u / (rad / math.sqrt(a))) ** 2 + (v / (rad * math.sqrt(a))) ** 2)
    inside = np.clip((1 - d) * rad + 0.5, 0, 1)
    tex = np.clip(1 + 0.2 * rng.normal(size=d.shape), 0.5, 1.6)
    patch = (dens * inside * tex).astype(np.float32)
    sr0, sc0 = max(0, -r0), max(0, -c0)
    sr1, sc1 = min(patch.shape[0], conc.shape[0] - r0), min(patch.shape[1], conc.shape[1] - c0)
    if sr1 <= sr0 or sc1 <= sc0:
        return
    view = conc[r0 + sr0 : r0 + sr1, c0 + sc0 : c0 + sc1]
    np.maximum(view, patch[sr0:sr1, sc0:sc1], out=view)


def _granules(shape, centres, rng, mpp, *, ring=True, granule_um=0.8):
    """Melanin concentration: clusters of granules (``granule_um`` and twice that across) around
    centres (row, col, spread_px)."""
    seeds = np.zeros(shape, bool)
    big = np.zeros(shape, bool)
    for r, c, spread in centres:
        k = int(rng.integers(30, 100))
        ang = rng.uniform(0, 2 * np.pi, k)
        dist = spread * np.sqrt(rng.uniform(0.4 if ring else 0.0, 1.0, k))
        gr = np.clip((r + dist * np.sin(ang)).astype(int), 0, shape[0] - 1)
        gc = np.clip((c + dist * np.cos(ang)).astype(int), 0, shape[1] - 1)
        seeds[gr, gc] = True
        big[gr, gc] |= rng.random(k) < 0.3
    r_small = max(1, round(0.5 * granule_um / mpp))
    grains = ndi.binary_dilation(seeds, iterations=r_small) | ndi.binary_dilation(big, iterations=2 * r_small)
    dens = rng.uniform(0.7, 1.6, shape).astype(np.float32)
    return np.where(grains, dens, 0.0).astype(np.float32), grains


def _layout(size, rng, glass):
    g = _field((size, size), size / 12, rng)
    return g > np.quantile(g, glass)


def he_melanin_tile(seed: int, *, size: int = 512, mpp: float = 0.5, n_pigmented: int = 60,
                    angle_deg: float = 3.0, jpeg_quality: int | None = 85, granule_um: float = 0.8,
                    melanin_vector=None, blur_um: float = 0.4) -> SyntheticTile:
    """H&E tile with melanin granule clusters around some cells and a few melanophages.

    ``granule_um``: diameter (µm) of the small granules (a third are about twice as big);
    ``melanin_vector``: reference melanin OD vector before the random rotation (default: the
    physical :func:`mmnst_path.stain.melanin_vector`); ``blur_um``: optical blur sigma (µm).
    """
    rng = np.random.default_rng(seed)
    vh, ve = perturb_vector(_H, angle_deg, rng), perturb_vector(_E, angle_deg, rng)
    vm = perturb_vector(_melanin_ref() if melanin_vector is None else melanin_vector, angle_deg, rng)
    tissue = _layout(size, rng, rng.uniform(0.05, 0.2))
    eos = (rng.uniform(0.12, 0.25) * (1 + 0.3 * _field(tissue.shape, 3, rng))).clip(0) * tissue
    hem = np.zeros_like(eos) + 0.03 * tissue
    cells = _nuclei(tissue, int(size * size * mpp * mpp / 120), rng, mpp)
    for r, c, rad in cells:
        _paint(hem, r, c, rad, rng.uniform(0.3, 0.7), rng)
    pick = rng.choice(len(cells), size=min(n_pigmented, len(cells)), replace=False)
    centres = [(cells[i][0], cells[i][1], 2.0 * cells[i][2]) for i in pick]
    mel, grains = _granules(tissue.shape, centres, rng, mpp, granule_um=granule_um)
    mel *= tissue
    rgb = _render([hem, eos.astype(np.float32), mel], [vh, ve, vm], rng, blur_px=blur_um / mpp,
                  jpeg_quality=jpeg_quality)
    melanin = grains & tissue
    truth = {"melanin_fraction_pct": 100.0 * melanin.sum() / tissue.sum(),
             "melanin_area_mm2": melanin.sum() * mpp * mpp / 1e6}
    return SyntheticTile(rgb, mpp, truth, {"melanin": melanin, "tissue": tissue})


def he_necrosis_tile(seed: int, *, size: int = 512, mpp: float = 1.0, necrosis_fraction: float = 0.4,
                     angle_deg: float = 3.0, jpeg_quality: int | None = 85) -> SyntheticTile:
    """H&E tile: viable tumour (dense nuclei) and a necrotic area (pale eosin, ghosts, debris)."""
    rng = np.random.default_rng(seed)
    vh, ve = perturb_vector(_H, angle_deg, rng), perturb_vector(_E, angle_deg, rng)
    tissue = _layout(size, rng, rng.uniform(0.05, 0.15))
    n = _field(tissue.shape, size / 8, rng) + np.linspace(-1, 1, size)[None, :] * rng.choice([-1, 1])
    nec = tissue & (n > np.quantile(n[tissue], 1 - necrosis_fraction))
    viable = tissue & ~nec
    eos = np.where(viable, rng.uniform(0.12, 0.22), rng.uniform(0.04, 0.12)).astype(np.float32)
    eos = (eos * (1 + 0.25 * _field(tissue.shape, 2, rng))).clip(0) * tissue
    hem = (0.03 * tissue).astype(np.float32)
    for r, c, rad in _nuclei(viable, int(viable.sum() * mpp * mpp / 70), rng, mpp, (3.5, 6.0)):
        _paint(hem, r, c, rad, rng.uniform(0.45, 0.8), rng)
    # a viable nucleus straddling the drawn border is viable tissue, not necrosis
    nec &= ~(hem > 0.2)
    for r, c, rad in _nuclei(nec, int(nec.sum() * mpp * mpp / 150), rng, mpp, (3.5, 6.0)):
        _paint(hem, r, c, rad, rng.uniform(0.08, 0.2), rng)  # ghost nuclei
    debris = nec & (rng.random(tissue.shape) < 0.01 * mpp * mpp)
    hem += 0.7 * ndi.binary_dilation(debris, iterations=max(1, round(0.6 / mpp))).astype(np.float32)
    rgb = _render([hem, eos.astype(np.float32)], [vh, ve], rng, blur_px=0.4 / mpp, jpeg_quality=jpeg_quality)
    truth = {"necrosis_fraction_pct": 100.0 * nec.sum() / tissue.sum(),
             "necrosis_area_mm2": nec.sum() * mpp * mpp / 1e6}
    return SyntheticTile(rgb, mpp, truth, {"necrosis": nec, "tissue": tissue})


def ki67_pigment_tile(seed: int, *, size: int = 512, mpp: float = 0.5, positive_fraction: float = 0.15,
                      pigmented_cells: float = 0.5, angle_deg: float = 3.0,
                      jpeg_quality: int | None = 85, granule_um: float = 0.8,
                      melanin_vector=None) -> SyntheticTile:
    """Ki67 (H-DAB) tile with melanin granules over a fraction of the negative cells.

    ``granule_um``: diameter (µm) of the small granules (a third of them are about twice as big);
    ``melanin_vector``: reference melanin OD vector before the random rotation.
    """
    rng = np.random.default_rng(seed)
    vh, vd = perturb_vector(_H, angle_deg, rng), perturb_vector(_DAB, angle_deg, rng)
    vm = perturb_vector(_melanin_ref() if melanin_vector is None else melanin_vector, angle_deg, rng)
    tissue = _layout(size, rng, 0.05)
    hem = (0.05 * tissue * (1 + 0.3 * _field(tissue.shape, 4, rng))).clip(0).astype(np.float32)
    dab = (0.02 * tissue).astype(np.float32)
    cells = _nuclei(tissue, int(size * size * mpp * mpp / 110), rng, mpp)
    pos = rng.random(len(cells)) < positive_fraction
    for (r, c, rad), p in zip(cells, pos, strict=True):
        if p:
            _paint(dab, r, c, rad, rng.uniform(0.4, 1.1), rng)
            _paint(hem, r, c, rad, 0.15, rng)
        else:
            _paint(hem, r, c, rad, rng.uniform(0.3, 0.6), rng)
    neg = [cells[i] for i in np.flatnonzero(~pos)]
    k = round(pigmented_cells * len(neg))
    pick: Any = rng.choice(len(neg), size=k, replace=False) if k else []
    mel, grains = _granules(tissue.shape, [(neg[i][0], neg[i][1], 1.6 * neg[i][2]) for i in pick], rng, mpp,
                            granule_um=granule_um)
    rgb = _render([hem, dab, mel * tissue], [vh, vd, vm], rng, blur_px=0.4 / mpp, jpeg_quality=jpeg_quality)
    npos, nneg = int(pos.sum()), int((~pos).sum())
    truth = {"ki67_positive": npos, "ki67_negative": nneg, "ki67_index_pct": 100.0 * npos / max(1, npos + nneg),
             "melanin_fraction_pct": 100.0 * (grains & tissue).sum() / tissue.sum()}
    return SyntheticTile(rgb, mpp, truth, {"melanin": grains & tissue, "tissue": tissue})


# ------------------------------------------------------------------------------------------------
# pigment families (issue #14): every pigment morphology x chromogen, randomised stains and scanner

#: Pigment morphologies of :func:`pigment_family_tile` ("none" is the unpigmented control).
PIGMENT_FAMILIES = ("none", "dusty", "coarse", "sparse", "confluent", "perinuclear", "over_nucleus",
                    "whole_cell", "melanophage", "spindle")
#: Stain systems of :func:`pigment_family_tile`: Ki67 chromogens, or "eosin" for H&E (no Ki67).
FAMILY_CHROMOGENS = ("dab", "aec", "fast_red", "eosin")
#: renderings of :func:`pigment_family_tile` (the same layout for a seed)
APPEARANCES = ("plain", "varied", "wide")
_AEC = (0.2743, 0.6796, 0.6803)
_FAST_RED = (0.21394, 0.85113, 0.47794)
_CHROMOGEN_VECTORS = {"dab": _DAB, "aec": _AEC, "fast_red": _FAST_RED, "eosin": _E}

# family -> (pigmented fraction of tumour cells, granules per cell, granule diameter µm,
#            inner and outer radius of the granule zone in nuclear radii)
_FAMILY_RECIPES: dict[str, tuple[tuple[float, float], tuple[int, int], tuple[float, float], tuple[float, float]]] = {
    "none": ((0.0, 0.0), (0, 0), (1.0, 1.0), (1.0, 1.0)),
    "dusty": ((0.1, 0.25), (80, 200), (0.3, 0.8), (0.6, 1.6)),
    "coarse": ((0.1, 0.25), (12, 35), (1.0, 3.0), (0.9, 1.9)),
    "sparse": ((0.05, 0.2), (8, 25), (0.5, 1.5), (1.0, 1.8)),
    "confluent": ((0.12, 0.2), (150, 300), (0.6, 1.6), (0.2, 1.9)),
    "perinuclear": ((0.15, 0.3), (40, 120), (0.5, 1.5), (1.05, 1.6)),
    "over_nucleus": ((0.15, 0.3), (30, 90), (0.5, 1.5), (0.0, 1.0)),
    "whole_cell": ((0.08, 0.2), (80, 200), (0.5, 1.5), (0.0, 1.9)),
    "melanophage": ((0.0, 0.1), (30, 80), (0.5, 1.5), (1.0, 1.8)),
    "spindle": ((0.15, 0.35), (40, 120), (0.5, 1.5), (1.05, 1.5)),
}


def pigment_family_tile(seed: int, family: str = "whole_cell", *, chromogen: str = "dab", size: int = 384,
                        mpp: float = 0.5, positive_fraction: float | None = None,
                        appearance: str | None = None, hard_negatives: bool = False,
                        near_black: bool = False, positives: str = "standard",
                        tan_background: bool = False, saturated_positives: bool = False,
                        near_black_texture: str = "smooth", melanin_clumps: bool = False,
                        dab_strength: str | None = None, drawn_melanin: bool = False) -> SyntheticTile:
    """Ki67 (or H&E) tile of one pigment morphology, everything else randomised (issue #14).

    Parameters
    ----------
    seed : int
    family : str
        One of :data:`PIGMENT_FAMILIES`: ``dusty`` (0.3-0.8 µm granules), ``coarse`` (1-3 µm),
        ``sparse``, ``confluent`` (pigment up to ~25 % of tissue), ``perinuclear`` (a ring
        around the nucleus), ``over_nucleus``, ``whole_cell``, ``melanophage`` (clusters of
        pigment-laden macrophages, not tumour cells), ``spindle`` (elongated cells, pigment along
        them), ``none`` (control).
    chromogen : str
        ``"dab"``, ``"aec"``, ``"fast_red"`` (Ki67 IHC with hematoxylin) or ``"eosin"`` (H&E,
        no Ki67 truth).
    size, mpp : tile side (px) and pixel size (µm/px).
    positive_fraction : float or None
        Ki67-positive fraction of tumour cells (None: uniform 0.03-0.5). Weak (0.45-0.6 OD painted,
        ~0.35-0.5 as a nucleus mean: clearly above 0.35) and strong (0.6-1.2 OD) positives;
        pigmented cells are drawn independently of Ki67 status.
    appearance : {"varied", "plain", "wide"} or None
        ``None`` (default): ``"varied"`` for DAB, ``"plain"`` for the others (the shipped
        red-chromogen / H&E pigment model was trained on the plain rendering and loses much of
        its Dice under the varied white balance: asking for ``"varied"`` shows it).
        ``"varied"``: with DAB a share (0-60 %) of the strong positives is dark and
        saturating (1.2-2.8 OD painted; AEC and Fast Red are lighter chromogens), positives carry a clumped chromatin texture (amplitude 0-0.45 at
        0.4-1 µm), half the tiles have a tinted white balance (yellowish to bluish glass) and the
        camera has a black level (0-22 grey levels: the darkest pixels turn neutral, as in real
        scans of strong DAB). ``"plain"``: the rendering before these were added (same layout).
        ``"wide"``: ``"varied"`` plus a wider rendering drawn from a third stream (same layout,
        for training and transfer checks): melanin 2-15° from DAB, granule sizes x0.5-2 (within
        0.3-3 µm) and darkness x0.6-1.3, section thickness (every stain's OD x0.65-1.5), blur
        0.3-1.1 µm, JPEG (none, q90, 75, 60, 50), 80 % of the tiles on tinted glass from a wider
        range (R 215-255, G 210-252, B 170-255) and a black level up to 30 grey levels.
    hard_negatives : bool
        H&E only (``chromogen="eosin"``): also lymphocytes, red blood cells, karyorrhectic debris,
        hyperchromatic nuclei and green or blue marking dye
        (:func:`mmnst_path._synthetic_he.he_confounders`), drawn from a fourth stream (the rest
        of the tile is that of ``hard_negatives=False``; the melanin truth is unchanged).
    near_black : bool
        Also near-black, saturated melanin (:func:`mmnst_path._synthetic_pigment.near_black_layer`,
        a fifth stream; the rest of the tile is that of ``near_black=False``): 40-100 % of the
        pigmented cells filled over the nucleus (the whole cell for ``confluent`` / ``whole_cell``,
        joined into sheets for ``confluent``, along the cell for ``spindle``; black-stuffed
        melanophages for ``melanophage``) at 2.5-5 OD, beyond the scanner's range, 3-20° from DAB
        towards neutral. The nuclei under it are ``hidden_nuclei`` (whatever their Ki67 status).
        With a Ki67 chromogen also 0-50 % of the positive nuclei near-black with DAB (2.5-5 OD,
        a sixth stream: saturated real positives, the hard negative).
    positives : {"standard", "wide"}
        ``"standard"``: the positives described under ``positive_fraction`` (and ``appearance``).
        ``"wide"`` (Ki67 chromogens): every positive nucleus drawn instead from a wide range of grades
        (:class:`mmnst_path._synthetic_pigment.WidePositives`, its own stream): faint 1+ (0.08-0.35 OD
        painted over a still visible counterstain), moderate 2+ and saturated 3+ (up to 2.5 OD), a share
        granular / speckled; which nuclei are positive, and the rest of the layout, stay those of
        ``"standard"`` (the scanner's tint may differ). For training and transfer checks (issue #14,
        session 20): real weak positives go far below the standard ones. The truth's ``ki67_grades``
        counts the drawn positives per grade (1+, 2+, 3+; also those a later nucleus paints over).
    tan_background : bool
        Also faint, smooth, DAB-coloured background staining of stroma and cytoplasm
        (:func:`mmnst_path._synthetic_pigment.tan_background_layer`, stream 7; the rest of the
        tile is that of ``tan_background=False``): 0.05-0.35 OD, 0-15° from DAB towards
        brown-black, over 20-100 % of the tissue with soft edges, plus tan halos around a share of
        the positive nuclei; DAB tiles only (``chromogen="dab"``, else ValueError). It is not melanin (the melanin truth is unchanged) and the Ki67
        truth is unchanged; the mask ``tan_background`` marks where it reaches 0.05 OD.
    saturated_positives : bool
        DAB only: a share of the positives stained to the camera's floor (black core, brown rim, counterstain
        kept; :func:`mmnst_path._synthetic_pigment.saturated_positives_layer`, stream 9); the rest and the truth unchanged.
    near_black_texture : {"smooth", "granular"}
        With ``near_black``: ``"granular"`` rebuilds the near-black bodies from melanin granules
        (:func:`mmnst_path._synthetic_pigment.granular_black`, stream 10); the truth follows the new melanin.
    melanin_clumps : bool
        Also compact, lobed masses of packed melanin (10-32 µm) over 20-60 % of the pigmented cells and
        free in the tissue, dark brown to beyond the scanner's range, speckled to smooth
        (:func:`mmnst_path._synthetic_pigment.melanin_clump_layer`, stream 11; not with ``family="none"``);
        the rest of the tile is that of ``melanin_clumps=False``; the truth follows the new melanin (session 25).
    dab_strength : {None, "endonuke"}
        DAB only: ``"endonuke"`` draws each positive nucleus' DAB and the hematoxylin under it from the range
        measured on the EndoNuke ER/PR tiles, per tile and per nucleus, weak to strong with the counterstain kept
        (:class:`mmnst_path._synthetic_dab.EndoNukeDab`, stream 12); the layout and the truth are unchanged.
    drawn_melanin : bool
        Also the melanin as drawn, before the optical blur (session 38, the melanin truth of the bundled sample
        tiles): mask ``melanin_drawn`` (concentration > 0.15 log10 OD before the blur, in tissue) and truth
        ``melanin_drawn_pct`` (its share of tissue). Nothing else changes (no random draw; ``melanin``, the hidden
        nuclei and the Ki67 truth stay those of the blurred concentration).

    Randomised per seed: stain vectors (0-5° off the presets), the melanin vector (3-12° from
    DAB, towards brown-black), granule darkness (0.8-2.0 OD), stain intensity (x0.75-1.25),
    optical blur (0.3-0.7 µm), sensor noise (1-4 grey levels) and JPEG (none, q95, q85, q70).

    Returns
    -------
    SyntheticTile
        truth: ``ki67_positive``, ``ki67_negative``, ``ki67_index_pct`` (all tumour cells),
        ``ki67_assessable_index_pct`` (tumour nuclei less than 75 % covered by pigment),
        ``hidden_nuclei`` (the others), ``melanin_fraction_pct`` (visible melanin, blurred
        concentration >= 0.15 log10 OD, over tissue), ``melanin_deg`` (hue angle to DAB) and
        the recipe; masks ``melanin``, ``tissue``, ``nuclei`` (int32 labels of tumour nuclei),
        ``positive_nuclei`` (their Ki67-positive pixels).
    """
    if appearance is None:
        appearance = "varied" if chromogen == "dab" else "plain"
    if appearance not in APPEARANCES:
        msg = f"appearance must be one of {APPEARANCES}, got {appearance!r}"
        raise ValueError(msg)
    if family not in _FAMILY_RECIPES:
        msg = f"family must be one of {PIGMENT_FAMILIES}, got {family!r}"
        raise ValueError(msg)
    if chromogen not in _CHROMOGEN_VECTORS:
        msg = f"chromogen must be one of {FAMILY_CHROMOGENS}, got {chromogen!r}"
        raise ValueError(msg)
    if positives not in ("standard", "wide"):
        msg = f"positives must be 'standard' or 'wide', got {positives!r}"
        raise ValueError(msg)
    if near_black_texture not in ("smooth", "granular") or (near_black_texture == "granular" and not near_black):
        msg = f"near_black_texture must be 'smooth' or 'granular' (with near_black=True), got {near_black_texture!r}"
        raise ValueError(msg)
    if melanin_clumps and family == "none":
        msg = "melanin_clumps=True needs a pigment family, got family='none' (the unpigmented control)"
        raise ValueError(msg)
    if saturated_positives and chromogen != "dab":
        msg = f"saturated_positives=True is for DAB tiles (chromogen 'dab'), got chromogen={chromogen!r}"
        raise ValueError(msg)
    if positives == "wide" and chromogen == "eosin":
        msg = "positives='wide' is for Ki67 tiles (chromogen 'dab', 'aec' or 'fast_red'), got chromogen='eosin'"
        raise ValueError(msg)
    if hard_negatives and chromogen != "eosin":
        msg = f"hard_negatives is for H&E tiles (chromogen='eosin'), got chromogen={chromogen!r}"
        raise ValueError(msg)
    if tan_background and chromogen != "dab":
        msg = f"tan_background is non-specific DAB staining, for DAB tiles (chromogen='dab'), got chromogen={chromogen!r}"
        raise ValueError(msg)
    rng = np.random.default_rng([seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen)])
    vh = perturb_vector(_H, rng.uniform(0, 5), rng)
    vc = perturb_vector(_CHROMOGEN_VECTORS[chromogen], rng.uniform(0, 5), rng)
    vm = family_melanin_vector(rng)
    scale = rng.uniform(0.75, 1.25)
    blur_um, noise = rng.uniform(0.3, 0.7), rng.uniform(1.0, 4.0)
    quality = [None, 95, 85, 70][int(rng.integers(4))]
    he = chromogen == "eosin"
    # scanner and stain appearance drawn from a second stream (the layout of a seed stays as it was)
    rng2 = np.random.default_rng([seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen), 1])
    varied = appearance in ("varied", "wide")
    dark_share = rng2.uniform(0.0, 0.6) if varied and chromogen == "dab" else 0.0
    # "wide": a third stream (the layout and the "varied" draws of a seed stay as they are)
    rng3 = (np.random.default_rng([seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen), 2])
            if appearance == "wide" else None)
    grain, thick = 1.0, 1.0  # granule size factor, section thickness (all stains' OD) factor
    if rng3 is not None:
        vm = family_melanin_vector(rng3, (2.0, 15.0))
        grain, thick = math.exp(rng3.uniform(math.log(0.5), math.log(2.0))), rng3.uniform(0.65, 1.5)
        blur_um = rng3.uniform(0.3, 1.1)
        quality = [None, 90, 75, 60, 50][int(rng3.integers(5))]
    tissue = _layout(size, rng, 0.05)
    hem = (0.05 * tissue * (1 + 0.3 * _field(tissue.shape, 4, rng))).clip(0).astype(np.float32)
    if he:
        chrom = (rng.uniform(0.12, 0.25) * (1 + 0.3 * _field(tissue.shape, 3, rng))).clip(0) * tissue
        chrom = chrom.astype(np.float32)
    else:
        chrom = (0.02 * tissue).astype(np.float32)
    spindle = family == "spindle"
    cells = _nuclei(tissue, int(size * size * mpp * mpp / (150 if spindle else 110)), rng, mpp,
                    (4.0, 6.0) if spindle else (3.0, 5.5))
    frac = rng.uniform(0.03, 0.5) if positive_fraction is None else float(positive_fraction)
    pos = (rng.random(len(cells)) < frac) & (not he)
    labels = np.zeros(tissue.shape, np.int32)
    pig_lo, pig_hi = _FAMILY_RECIPES[family][0]
    pigmented = rng.random(len(cells)) < rng.uniform(pig_lo, pig_hi)
    n_per, d_um, zone = _FAMILY_RECIPES[family][1:]
    granules: list[tuple[float, float, float, float]] = []
    dark = rng.uniform(0.8, 2.0) * (rng3.uniform(0.6, 1.3) if rng3 is not None else 1.0)
    grades = None
    if positives == "wide":  # stream tag 8 (the layout of a seed stays as it was; tag 7 is tan_background)
        from ._synthetic_pigment import WidePositives

        grades = WidePositives(np.random.default_rng(
            [seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen), 8]), mpp)
    n_grade = [0, 0, 0]
    from ._synthetic_dab import dab_strength_of

    strength = dab_strength_of(dab_strength, chromogen, positives, lambda: np.random.default_rng(
        [seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen), 12]))

    def scatter(r, c, a, b, ang, k, lo, hi, sizes):
        t = rng.uniform(0, 2 * np.pi, k)
        rho = np.sqrt(rng.uniform(lo * lo, hi * hi, k))
        u, v = rho * a * np.cos(t), rho * b * np.sin(t)
        gr = r + u * math.cos(ang) - v * math.sin(ang)
        gc = c + u * math.sin(ang) + v * math.cos(ang)
        d = np.clip(rng.uniform(sizes[0], sizes[1], k) * grain, 0.3, 3.0) if grain != 1.0 else rng.uniform(sizes[0], sizes[1], k)
        ods = dark * rng.uniform(0.7, 1.3, k)
        granules.extend(zip(gr.tolist(), gc.tolist(), d.tolist(), ods.tolist(), strict=True))

    shapes: list[tuple[float, float, float, float, float]] = []
    for i, (r, c, rad) in enumerate(cells):
        ang, a, b = _cell_axes(rad, spindle, rng)
        shapes.append((r, c, a, b, ang))
        if pos[i]:
            strong = rng.random() >= 0.35
            dens = rng.uniform(0.6, 1.2) if strong else rng.uniform(0.45, 0.6)
            if strong and rng2.random() < dark_share:  # dark, clumped, saturating positives (real DAB)
                dens = math.exp(rng2.uniform(math.log(1.2), math.log(2.8)))
            clumps = (rng2.uniform(0.0, 0.45), rng2.uniform(0.4, 1.0) / mpp, rng2) if varied else None
            hem_dens = 0.15
            if grades is not None:
                g, dens, hem_dens, clumps = grades.draw()
                n_grade[g - 1] += 1
            if strength is not None:  # measured concentrations: painted before the tile's stain scale
                dens, hem_dens = (v / scale for v in strength.draw())
            _ellipse(chrom, r, c, a, b, ang, scale * dens, rng, clumps=clumps)
            _ellipse(hem, r, c, a, b, ang, hem_dens, rng, labels, i + 1)
        else:
            _ellipse(hem, r, c, a, b, ang, rng.uniform(0.3, 0.6), rng, labels, i + 1)
        if pigmented[i]:
            k = int(rng.integers(*n_per)) if n_per[1] > n_per[0] else n_per[0]
            # spindle cells carry pigment along their long axis (a cytoplasm as long as the cell)
            aa, bb = (a * 1.2, b * 2.0) if spindle else (a, b)
            scatter(r, c, aa, bb, ang, k, *zone, d_um)
    if family == "melanophage":
        # clusters of 2-5 pigment-laden macrophages (10-16 µm), nucleus hidden, not tumour cells
        n_groups = max(1, int(size * size * mpp * mpp / 6000))
        rr, cc = np.nonzero(tissue)
        for _ in range(n_groups):
            j = int(rng.integers(len(rr)))
            for _ in range(int(rng.integers(2, 6))):
                r = rr[j] + rng.normal(0, 8 / mpp)
                c = cc[j] + rng.normal(0, 8 / mpp)
                cell_r = rng.uniform(5.0, 8.0) / mpp
                _ellipse(hem, r, c, 0.5 * cell_r, 0.4 * cell_r, rng.uniform(0, np.pi), 0.35, rng)
                t = rng.uniform(0, 2 * np.pi, 400)
                rho = cell_r * np.sqrt(rng.uniform(0, 1, 400))
                d = np.clip(rng.uniform(0.8, 2.0, 400) * grain, 0.3, 3.0) if grain != 1.0 else rng.uniform(0.8, 2.0, 400)
                granules.extend(zip((r + rho * np.sin(t)).tolist(), (c + rho * np.cos(t)).tolist(), d.tolist(),
                                    (dark * rng.uniform(0.7, 1.3, 400)).tolist(), strict=True))
    ink = None
    if hard_negatives:
        rng4 = np.random.default_rng([seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen), 3])
        from ._synthetic_he import he_confounders

        ink = he_confounders(hem, chrom, tissue, rng4, mpp)
    mel = _granule_layer(tissue.shape, granules, mpp) * tissue * thick
    blur_px = blur_um / mpp
    concs = [hem * scale * thick, (chrom * scale if he else chrom) * thick, mel]
    vectors = [vh, vc, vm]
    if near_black and not he:  # hard negatives: near-black DAB-positive nuclei (a sixth stream)
        from ._synthetic_pigment import near_black_positives

        near_black_positives(concs[1], shapes, pos, np.random.default_rng(
            [seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen), 5]))
    if saturated_positives:  # strong DAB at the camera's floor, the hard negative of near-black melanin (stream 9)
        from ._synthetic_pigment import saturated_positives_layer

        sat_dab, sat_hem, sat_vec = saturated_positives_layer(tissue.shape, shapes, pos, np.random.default_rng(
            [seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen), 9]), mpp)
        concs[0] = concs[0] + sat_hem * scale * thick
        concs.append(sat_dab * scale * thick)
        vectors.append(sat_vec)
    if near_black:
        from ._synthetic_pigment import near_black_layer, near_black_vector

        rng5 = np.random.default_rng([seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen), 4])
        black = near_black_layer(tissue.shape, shapes, pigmented, family, tissue, rng5, mpp) * tissue * thick
        if near_black_texture == "granular":  # granular aggregates, not smooth ellipses (stream 10)
            from ._synthetic_pigment import granular_black

            black = granular_black(black, np.random.default_rng(
                [seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen), 10]), mpp) * tissue
        concs.append(black)
        vectors.append(near_black_vector(rng5))
        mel = mel + black
    if melanin_clumps:  # packed melanin masses (stream 11)
        from ._synthetic_pigment import melanin_clump_layer

        lumps, lump_vec = melanin_clump_layer(tissue.shape, shapes, pigmented, tissue, np.random.default_rng(
            [seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen), 11]), mpp)
        concs.append(lumps * thick)
        vectors.append(lump_vec)
        mel = mel + lumps * thick
    tan = None
    if tan_background:  # non-specific faint DAB staining: the negative of faint melanin (a seventh stream)
        from ._synthetic_pigment import tan_background_layer

        tan, tan_vector = tan_background_layer(tissue, shapes, pos, np.random.default_rng(
            [seed, PIGMENT_FAMILIES.index(family), FAMILY_CHROMOGENS.index(chromogen), 7]), mpp)
        concs.append(tan * thick)
        vectors.append(tan_vector)
    seen = ndi.gaussian_filter(mel, blur_px)
    melanin = (seen >= 0.15) & tissue
    od = np.zeros((*tissue.shape, 3), np.float32)
    if ink is not None:
        concs.append(ink[0])
        vectors.append(ink[1])
    for cmap, vec in zip(concs, vectors, strict=True):
        od += cmap[..., None] * np.asarray(vec, np.float32)
    od = ndi.gaussian_filter(od, (blur_px, blur_px, 0))
    rgb = _camera(od, rng, noise=noise, quality=quality, tint_rng=rng2 if varied else None, wide_rng=rng3)
    n_lab = len(cells)
    area = np.bincount(labels.ravel(), minlength=n_lab + 1)[1:]
    covered = np.bincount(labels.ravel(), weights=melanin.ravel(), minlength=n_lab + 1)[1:] / np.maximum(area, 1)
    present = area > 0
    hidden = present & (covered >= 0.75)
    npos, nneg = int((pos & present).sum()), int((~pos & present).sum())
    apos, aneg = int((pos & present & ~hidden).sum()), int((~pos & present & ~hidden).sum())
    truth: dict[str, Any] = {
        "family": family, "chromogen": chromogen, "melanin_fraction_pct": 100.0 * melanin.sum() / tissue.sum(),
        "melanin_deg": float(np.degrees(np.arccos(np.clip(vm.dot(np.asarray(_DAB) / np.linalg.norm(_DAB)), -1, 1)))),
        "blur_um": blur_um, "noise": noise, "jpeg_quality": quality, "stain_scale": scale,
        "hidden_nuclei": int(hidden.sum()),
    }
    if grades is not None:
        truth["ki67_grades"] = tuple(n_grade)
    if not he:
        truth.update(ki67_positive=npos, ki67_negative=nneg, ki67_index_pct=100.0 * npos / max(1, npos + nneg),
                     ki67_assessable_index_pct=100.0 * apos / max(1, apos + aneg))
    positive_nuclei = np.isin(labels, np.flatnonzero(pos) + 1)
    masks = {"melanin": melanin, "tissue": tissue, "nuclei": labels, "positive_nuclei": positive_nuclei}
    if tan is not None:
        masks["tan_background"] = (tan * thick >= 0.05) & ~melanin
    if drawn_melanin:  # the pigment as drawn, before the optical blur (the sample tiles' truth)
        masks["melanin_drawn"] = (mel > 0.15) & tissue
        truth["melanin_drawn_pct"] = 100.0 * masks["melanin_drawn"].sum() / tissue.sum()
    return SyntheticTile(rgb, mpp, truth, masks)
