"""Near-black, saturated melanin for :func:`mmnst_path.synthetic.pigment_family_tile` (issue #14).

Heavily pigmented tumours show melanin the plain families do not: pigment over and filling the
nucleus, confluent and near-black, melanophages stuffed to black and pigmented spindle cells,
with an optical density beyond the scanner's range (every channel at the camera's floor: the hue
turns neutral and the texture is lost). The nucleus under such a body cannot be read: its Ki67
status is unknown to the reader, and the tile's truth marks it hidden.

Also the faint tan background staining of real IHC (:func:`tan_background_layer`): the negative a
melanin detector that looks at faint brown must learn to reject; near-black bodies built of melanin
granules (:func:`granular_black`); and Ki67 positives stained to the camera's floor as real strong
DAB is (:func:`saturated_positives_layer`), the hard negative of near-black melanin (session 21).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import ndimage as ndi

#: the share of a tile's pigmented cells filled with near-black melanin (uniform draw)
FILLED_SHARE = (0.4, 1.0)
#: filled melanin OD (log10, before the section-thickness factor): beyond an 8-bit scanner's range
FILLED_OD = (2.5, 5.0)
#: hue of the near-black melanin, degrees from DAB towards neutral (grey lies ~21° from DAB)
NEAR_BLACK_DEG = (3.0, 20.0)


def near_black_layer(shape: tuple[int, int], cells: list[tuple[float, float, float, float, float]],
                     pigmented: np.ndarray, family: str, tissue: np.ndarray, rng: np.random.Generator,
                     mpp: float) -> np.ndarray:
    """Melanin concentration (log10 OD, float32, ``shape``) of near-black bodies over cells.

    Parameters
    ----------
    shape : (int, int)
        Tile shape (rows, cols).
    cells : list of (row, col, semi-axis along, semi-axis across, angle)
        Every tumour cell's nucleus ellipse in pixels and radians.
    pigmented : (n,) bool ndarray
        The cells the family pigments; a share (:data:`FILLED_SHARE`) of them is filled.
    family : str
        The pigment family: ``confluent`` and ``whole_cell`` fill the whole cell (1.4-2 nuclear
        radii) and ``confluent`` joins neighbours into sheets; ``spindle`` fills along the long
        axis; ``melanophage`` also adds clusters of black-stuffed macrophages (8-16 µm); the
        others cover the nucleus and a margin (1.05-1.5 radii).
    tissue : (M, N) bool ndarray
        Tissue mask (melanophages are placed on it).
    rng : numpy.random.Generator
        The stream all draws come from (the rest of the tile does not depend on it).
    mpp : float
        µm per pixel.

    Returns
    -------
    (M, N) float32 ndarray
        Concentration of the near-black melanin (0 elsewhere); granular texture of a few per
        cent, lost once the scanner saturates.
    """
    from .synthetic import _ellipse

    out = np.zeros(shape, np.float32)
    share = rng.uniform(*FILLED_SHARE)
    level = rng.uniform(*FILLED_OD)
    whole = family in ("confluent", "whole_cell")
    for i in np.flatnonzero(np.asarray(pigmented, bool)):
        if rng.random() >= share:
            continue
        r, c, a, b, ang = cells[i]
        grow = rng.uniform(1.4, 2.0) if whole else rng.uniform(1.05, 1.5)
        along = grow * (1.3 if family == "spindle" else 1.0)
        dens = level * rng.uniform(0.8, 1.2)
        _ellipse(out, r, c, a * along, b * grow, ang, dens, rng)
        if family == "confluent":  # sheets: a second body towards a neighbour
            t = rng.uniform(0, 2 * math.pi)
            off = rng.uniform(0.8, 1.6) * a * grow
            _ellipse(out, r + off * math.sin(t), c + off * math.cos(t), a * grow, b * grow, ang, dens, rng)
    if family == "melanophage":
        rr, cc = np.nonzero(tissue)
        if len(rr):
            for _ in range(max(1, int(shape[0] * shape[1] * mpp * mpp / 8000))):
                j = int(rng.integers(len(rr)))
                for _ in range(int(rng.integers(2, 5))):
                    cell_r = rng.uniform(4.0, 8.0) / mpp
                    _ellipse(out, rr[j] + rng.normal(0, 7 / mpp), cc[j] + rng.normal(0, 7 / mpp), cell_r,
                             cell_r * rng.uniform(0.6, 1.0), rng.uniform(0, math.pi),
                             level * rng.uniform(0.8, 1.2), rng)
    return out


#: the share of a tile's Ki67-positive nuclei painted near-black with DAB (uniform draw) and its OD
BLACK_DAB_SHARE = (0.0, 0.5)
BLACK_DAB_OD = (2.5, 5.0)


def near_black_positives(chrom: np.ndarray, cells: list[tuple[float, float, float, float, float]],
                         positive: np.ndarray, rng: np.random.Generator) -> None:
    """Paint a share (:data:`BLACK_DAB_SHARE`) of the Ki67-positive nuclei near-black with DAB
    (:data:`BLACK_DAB_OD`, log10, into ``chrom`` in place): real strong positives reach every
    channel's floor too (BCData: red OD up to 1.45), the hard negative of near-black melanin."""
    from .synthetic import _ellipse

    share = rng.uniform(*BLACK_DAB_SHARE)
    for i in np.flatnonzero(np.asarray(positive, bool)):
        if rng.random() < share:
            r, c, a, b, ang = cells[i]
            _ellipse(chrom, r, c, a, b, ang, rng.uniform(*BLACK_DAB_OD), rng)


def near_black_vector(rng: np.random.Generator) -> Any:
    """The near-black melanin's OD vector: :data:`NEAR_BLACK_DEG` from DAB towards neutral."""
    from .synthetic import family_melanin_vector

    return family_melanin_vector(rng, NEAR_BLACK_DEG)


#: Ki67 grades of the ``positives="wide"`` rendering (:class:`WidePositives`): painted DAB OD (log10, before the
#: tile's stain scale) of faint 1+, moderate 2+ and strong 3+ positives (log-uniform within each range) ...
WIDE_GRADE_OD = ((0.08, 0.35), (0.35, 0.75), (0.75, 2.5))
#: ... and the hematoxylin painted under each (a faint positive still shows most of its counterstain)
WIDE_GRADE_HEM = ((0.2, 0.45), (0.12, 0.3), (0.08, 0.2))
#: per tile, uniform draws: the share of the positives that are faint (1+), the share of the others that are
#: strong (3+), and the share painted granular / speckled (DAB in dots of 0.25-0.6 µm, not an even fill)
WIDE_FAINT_SHARE = (0.1, 0.7)
WIDE_STRONG_SHARE = (0.3, 0.7)
WIDE_SPECKLED_SHARE = (0.0, 0.6)


class WidePositives:
    """The Ki67-positive nuclei of a ``positives="wide"`` tile: faint 1+ to saturated 3+, some speckled.

    Real Ki67 positives span far more than a clear brown fill: 1+ nuclei with a nucleus-mean DAB of
    ~0.1-0.25 OD over a still blue nucleus, granular (dotted) G1-phase staining, and 3+ nuclei at the
    camera's floor. The tile's shares (:data:`WIDE_FAINT_SHARE`, :data:`WIDE_STRONG_SHARE`,
    :data:`WIDE_SPECKLED_SHARE`) are drawn once, then every positive nucleus draws its grade, DAB and
    hematoxylin (:data:`WIDE_GRADE_OD`, :data:`WIDE_GRADE_HEM`) and texture from ``rng`` alone, so the
    layout of the tile (drawn from its other streams) is that of the standard rendering.

    Parameters
    ----------
    rng : numpy.random.Generator
        The tile's own stream for the positives.
    mpp : float
        µm per pixel (the speckle's scale is in µm).
    """

    def __init__(self, rng: np.random.Generator, mpp: float) -> None:
        self.rng = rng
        self.mpp = mpp
        self.faint = rng.uniform(*WIDE_FAINT_SHARE)
        self.strong = rng.uniform(*WIDE_STRONG_SHARE)
        self.speckled = rng.uniform(*WIDE_SPECKLED_SHARE)

    def draw(self) -> tuple[int, float, float, tuple[float, float, np.random.Generator] | None]:
        """(grade 1-3, painted DAB OD, painted hematoxylin OD, speckle texture for ``_ellipse`` or None)."""
        rng = self.rng
        grade = 1 if rng.random() < self.faint else (3 if rng.random() < self.strong else 2)
        lo, hi = WIDE_GRADE_OD[grade - 1]
        dab = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        hem = rng.uniform(*WIDE_GRADE_HEM[grade - 1])
        clumps = ((rng.uniform(0.6, 1.0), rng.uniform(0.25, 0.6) / self.mpp, rng)
                  if rng.random() < self.speckled else None)
        return grade, dab, hem, clumps


#: faint tan background staining (:func:`tan_background_layer`): peak OD (log10) of the smooth field
TAN_OD = (0.05, 0.35)
#: the share of the tissue the tan field covers, and its correlation length (µm)
TAN_EXTENT = (0.2, 1.0)
TAN_SCALE_UM = (5.0, 30.0)
#: hue of the tan staining, degrees from DAB (towards brown-black, as melanin: the hard negative)
TAN_DEG = (0.0, 15.0)


def tan_background_layer(tissue: np.ndarray, cells: list[tuple[float, float, float, float, float]],
                         positive: np.ndarray, rng: np.random.Generator,
                         mpp: float) -> tuple[np.ndarray, Any]:
    """Faint, smooth, DAB-coloured staining of stroma and cytoplasm, and its OD vector.

    Real IHC carries non-specific DAB background: a pale tan haze over stroma and cytoplasm,
    strongest around strongly positive nuclei (diffusion) and in patches of the section. It is
    faint (:data:`TAN_OD`), smooth (no granules: what tells it from fine melanin) and as brown as
    melanin, so a melanin detector that sees faint brown pixels must learn to reject it.

    Parameters
    ----------
    tissue : (M, N) bool ndarray
        Tissue mask; the staining lies on it only.
    cells : list of (row, col, semi-axis along, semi-axis across, angle)
        Every tumour cell's nucleus ellipse in pixels and radians.
    positive : (n,) bool ndarray
        Ki67-positive cells; a random share of them gets a tan halo of 1.3-2.2 nuclear radii.
    rng : numpy.random.Generator
        The stream all draws come from (the rest of the tile does not depend on it).
    mpp : float
        µm per pixel.

    Returns
    -------
    conc : (M, N) float32 ndarray
        Concentration (log10 OD along ``vector``), 0 outside the tissue: a low-frequency field
        (correlation length :data:`TAN_SCALE_UM`) over a random share :data:`TAN_EXTENT` of the
        tissue with soft edges, a mild smooth texture (0-25 % at 1-3 µm) and the halos.
    vector : (3,) ndarray
        Unit OD vector :data:`TAN_DEG` from DAB.
    """
    from .synthetic import _ellipse, _field, family_melanin_vector

    shape = tissue.shape
    field = _field(shape, rng.uniform(*TAN_SCALE_UM) / mpp, rng)
    inside = tissue.astype(bool)
    cut = float(np.quantile(field[inside], 1.0 - rng.uniform(*TAN_EXTENT))) if inside.any() else 0.0
    soft = np.clip((field - cut) / rng.uniform(0.2, 1.0), 0.0, 1.0)
    level = rng.uniform(*TAN_OD)
    texture = np.clip(1.0 + rng.uniform(0.0, 0.25) * _field(shape, rng.uniform(1.0, 3.0) / mpp, rng), 0.5, 1.5)
    conc = level * soft * texture
    halo = np.zeros(shape, np.float32)
    share = rng.uniform(0.0, 1.0)
    for i in np.flatnonzero(np.asarray(positive, bool)):
        if rng.random() < share:
            r, c, a, b, ang = cells[i]
            grow = rng.uniform(1.3, 2.2)
            _ellipse(halo, r, c, a * grow, b * grow, ang, rng.uniform(*TAN_OD), rng)
    halo = ndi.gaussian_filter(halo, rng.uniform(1.0, 2.0) / mpp)
    out = np.maximum(conc, halo) * inside
    return out.astype(np.float32), family_melanin_vector(rng, TAN_DEG)



#: ``saturated_positives`` (:func:`saturated_positives_layer`), per tile: the share of the Ki67-positive nuclei stained
#: to saturation (uniform draw; a strongly developed slide has most of its positives at the camera's floor) ...
SATURATED_SHARE = (0.2, 1.0)
#: ... the DAB painted at the core of each (log10 OD, before the tile's stain scale; log-uniform) ...
SATURATED_OD = (1.5, 4.0)
#: ... the hematoxylin under it (a proliferating nucleus keeps its counterstain: the negatives' 0.3-0.6) ...
SATURATED_HEM = (0.3, 0.6)
#: ... the hue of the dense DAB, degrees from DAB towards neutral (dense polymerised DAB records brown-black) ...
SATURATED_DEG = (0.0, 15.0)
#: ... and the brown rim: the share of the nucleus radius outside the black core, where the DAB is a third of it
SATURATED_RIM = (0.15, 0.4)


def saturated_positives_layer(shape: tuple[int, int], cells: list[tuple[float, float, float, float, float]],
                              positive: np.ndarray, rng: np.random.Generator,
                              mpp: float) -> tuple[np.ndarray, np.ndarray, Any]:
    """Ki67-positive nuclei stained to saturation as real strong DAB is: black cores, brown rims, counterstain kept.

    Strong real DAB positives reach the camera's floor in every channel (the hard negative of
    near-black melanin, issue #14). They are not the smooth, DAB-hued discs over a pale nucleus of
    :func:`near_black_positives`: a proliferating nucleus keeps its hematoxylin under the DAB, dense
    DAB records brown-black (its hue turns towards neutral, as melanin's does), the stain is densest
    in a clumped core and thins to a brown rim at the nuclear edge, and on a strongly developed slide
    most positives are so (so they are the tile's typical positive, not an outlier among them).
    The EndoNuke DAB tiles (CC BY 4.0) show it on their few near-black positives (6 detected at 0.5 µm/px,
    session 21): red share of the OD 0.28 and hematoxylin 0.84 (H-DAB unmixing, medians), against 0.24 and
    0.71 for :func:`near_black_positives`'s discs; this rendering reads 0.28 and 0.92. Not yet faithful in
    one respect: the shipped pigment mask takes 9-19 % of these nuclei's pixels (generated ``none`` tiles,
    seeds 6002-6003; 9-11 % even with the hue at DAB's), where real strong positives are left out of it
    (BCData: none read ``pigment``, benchmarks/README.md "Near-black nuclei without granules"): for
    training experiments and checks, not yet a rendering to train shipped models on (session 21 H3).

    Parameters
    ----------
    shape : (int, int)
        Tile shape (rows, cols).
    cells : list of (row, col, semi-axis along, semi-axis across, angle)
        Every tumour cell's nucleus ellipse in pixels and radians.
    positive : (n,) bool ndarray
        The Ki67-positive cells; a share (:data:`SATURATED_SHARE`) of them is drawn.
    rng : numpy.random.Generator
        The stream every draw comes from (the rest of the tile does not depend on it).
    mpp : float
        µm per pixel (the clumped texture's scale is in µm).

    Returns
    -------
    dab : (M, N) float32 ndarray
        Concentration of the dense DAB (log10 OD along ``vector``, :data:`SATURATED_OD` in the core,
        a third of it over the rim :data:`SATURATED_RIM`; 0 elsewhere).
    hem : (M, N) float32 ndarray
        Hematoxylin painted under those nuclei (:data:`SATURATED_HEM`; 0 elsewhere).
    vector : (3,) ndarray
        Unit OD vector :data:`SATURATED_DEG` from DAB towards neutral.
    """
    from .synthetic import _ellipse, family_melanin_vector

    dab = np.zeros(shape, np.float32)
    hem = np.zeros(shape, np.float32)
    share = rng.uniform(*SATURATED_SHARE)
    vector = family_melanin_vector(rng, SATURATED_DEG)
    lo, hi = math.log(SATURATED_OD[0]), math.log(SATURATED_OD[1])
    for i in np.flatnonzero(np.asarray(positive, bool)):
        if rng.random() >= share:
            continue
        r, c, a, b, ang = cells[i]
        core = math.exp(rng.uniform(lo, hi))
        inner = 1.0 - rng.uniform(*SATURATED_RIM)
        clumps = (rng.uniform(0.2, 0.5), rng.uniform(0.3, 0.8) / mpp, rng)
        _ellipse(dab, r, c, a, b, ang, core / 3.0, rng)
        _ellipse(dab, r, c, a * inner, b * inner, ang, core, rng, clumps=clumps)
        _ellipse(hem, r, c, a, b, ang, rng.uniform(*SATURATED_HEM), rng)
    return dab, hem, vector


#: ``near_black_texture="granular"`` (:func:`granular_black`), per tile: the share of the smooth body kept as a haze
#: under the granules, the granules' diameter (µm; melanosome aggregates) and their packing (granules per µm² of body)
GRANULAR_HAZE = (0.0, 0.5)
GRANULAR_DIAMETER_UM = (0.5, 1.5)
GRANULAR_PACKING = (0.4, 1.2)
#: each granule's OD relative to the body's (log-uniform): dense aggregates black, thin ones brown
GRANULAR_OD_FACTOR = (0.25, 1.2)
#: how far granules stray past the body's edge (µm): the knobbly, granular rim of a pigment-filled cell
GRANULAR_RIM_UM = (0.5, 1.5)


def granular_black(black: np.ndarray, rng: np.random.Generator, mpp: float) -> np.ndarray:
    """The near-black bodies of :func:`near_black_layer` rebuilt from melanin granules (log10 OD, float32).

    Real melanin filling a cell or covering its nucleus is an aggregate of granules (melanosomes and
    their clusters, ~0.5-1.5 µm): black where they pack densely, brown between and where they thin out,
    with a knobbly rim of granules past the body's edge; :func:`near_black_layer` paints smooth ellipses.
    Each body pixel is replaced by granules (:data:`GRANULAR_DIAMETER_UM`, :data:`GRANULAR_PACKING`,
    OD :data:`GRANULAR_OD_FACTOR` times the body's there) plus a haze of the smooth body
    (:data:`GRANULAR_HAZE`); a share of the granules lies up to :data:`GRANULAR_RIM_UM` outside it.

    Parameters
    ----------
    black : (M, N) float ndarray
        The smooth near-black concentration (log10 OD).
    rng : numpy.random.Generator
        The stream every draw comes from (the rest of the tile does not depend on it).
    mpp : float
        µm per pixel.
    """
    from .synthetic import _granule_layer

    body = black > 0.05 * float(black.max()) if black.size and black.max() > 0 else np.zeros(black.shape, bool)
    if not body.any():
        return np.asarray(black, np.float32)
    haze = rng.uniform(*GRANULAR_HAZE)
    rim_px = rng.uniform(*GRANULAR_RIM_UM) / mpp
    # granules on the body and a band around it; a band granule takes the OD of the nearest body pixel
    dist, (near_r, near_c) = ndi.distance_transform_edt(~body, return_indices=True)
    zone = dist <= rim_px
    rr, cc = np.nonzero(zone)
    n = round(len(rr) * mpp * mpp * rng.uniform(*GRANULAR_PACKING))
    pick = rng.integers(len(rr), size=n)
    r = rr[pick] + rng.uniform(-0.5, 0.5, n)
    c = cc[pick] + rng.uniform(-0.5, 0.5, n)
    level = black[near_r[rr[pick], cc[pick]], near_c[rr[pick], cc[pick]]]
    lo, hi = np.log(GRANULAR_OD_FACTOR[0]), np.log(GRANULAR_OD_FACTOR[1])
    od = level * np.exp(rng.uniform(lo, hi, n))
    d = rng.uniform(*GRANULAR_DIAMETER_UM, n)
    gran = _granule_layer(black.shape, list(zip(r.tolist(), c.tolist(), d.tolist(), od.tolist(), strict=True)), mpp)
    return np.maximum(haze * np.asarray(black, np.float32), gran).astype(np.float32)


#: share of a tile's pigmented tumour cells turned into melanin clumps (uniform draw), clump size (µm, across the
#: whole lobed mass), its number of lobes, density (log10 OD, log-uniform per tile; per clump x0.8-1.2), speckle
#: amplitude (0: packed below the optical resolution, smooth) and speckle scale (µm), the clump hue (degrees from DAB)
CLUMP_SHARE = (0.2, 0.6)
CLUMP_UM = (10.0, 32.0)
CLUMP_LOBES = (1, 6)
CLUMP_OD = (0.6, 4.0)
CLUMP_SPECKLE = (0.0, 0.8)
CLUMP_SPECKLE_UM = (0.4, 1.2)
CLUMP_DEG = (3.0, 12.0)


def melanin_clump_layer(shape: tuple[int, int], cells: list[tuple[float, float, float, float, float]],
                        pigmented: np.ndarray, tissue: np.ndarray, rng: np.random.Generator,
                        mpp: float) -> tuple[np.ndarray, np.ndarray]:
    """Compact, lobed masses of packed melanin over cells and free in the tissue (log10 OD, float32; its vector).

    Heavily pigmented tumour cells and melanophages hold melanin as compact masses of packed melanosomes,
    larger than a nucleus and covering it: lobed outlines (several cells or vacuoles merged), brown to
    brown-black (a melanin vector :data:`CLUMP_DEG` from DAB towards neutral), from dark brown to beyond the
    scanner's range (:data:`CLUMP_OD`), speckled where melanosome clusters are resolved and smooth where they
    pack below the optical resolution (:data:`CLUMP_SPECKLE`, a per-tile amplitude). The families' granule
    clouds and :func:`near_black_layer`'s ellipses (always beyond the scanner's range) leave this middle
    ground out: dense brown masses of 100-800 µm² at 0.6-2.5 OD.

    Parameters
    ----------
    shape : (int, int)
    cells : list of (row, col, semi-axis along, semi-axis across, angle)
        The tumour nuclei (pixels, radians).
    pigmented : (n,) bool ndarray
        The cells the family pigments; a share (:data:`CLUMP_SHARE`) carries a clump over it.
    tissue : (M, N) bool ndarray
        Tissue mask: one free clump (a melanophage) per ~4000 µm² of it is placed on it.
    rng : numpy.random.Generator
        The stream every draw comes from (the rest of the tile does not depend on it).
    mpp : float
        µm per pixel.

    Returns
    -------
    (M, N) float32 ndarray, (3,) ndarray
        The clump concentration (0 elsewhere) and the clumps' melanin OD vector.
    """
    from .synthetic import _ellipse, family_melanin_vector

    out = np.zeros(shape, np.float32)
    vec = family_melanin_vector(rng, CLUMP_DEG)
    share = rng.uniform(*CLUMP_SHARE)
    level = math.exp(rng.uniform(math.log(CLUMP_OD[0]), math.log(CLUMP_OD[1])))
    amp = rng.uniform(*CLUMP_SPECKLE)
    sigma = rng.uniform(*CLUMP_SPECKLE_UM) / mpp
    centres = [(r, c) for i, (r, c, *_rest) in enumerate(cells) if pigmented[i] and rng.random() < share]
    rr, cc = np.nonzero(tissue)
    if len(rr):
        for _ in range(max(1, round(float(tissue.sum()) * mpp * mpp / 4000.0))):
            j = int(rng.integers(len(rr)))
            centres.append((float(rr[j]), float(cc[j])))
    for r, c in centres:
        size = rng.uniform(*CLUMP_UM) / mpp  # across the whole mass
        lobes = int(rng.integers(CLUMP_LOBES[0], CLUMP_LOBES[1] + 1))
        dens = level * rng.uniform(0.8, 1.2)
        for _ in range(lobes):
            rad = 0.5 * size * (rng.uniform(0.55, 0.9) if lobes > 1 else 1.0)
            off = (0.5 * size - rad) * math.sqrt(rng.uniform(0, 1))
            t = rng.uniform(0, 2 * math.pi)
            _ellipse(out, r + off * math.sin(t), c + off * math.cos(t), rad, rad * rng.uniform(0.65, 1.0),
                     rng.uniform(0, math.pi), dens, rng)
    if amp > 0 and out.any():
        f = ndi.gaussian_filter(rng.normal(size=shape).astype(np.float32), sigma)
        out *= np.clip(1 + amp * f / (f.std() + 1e-9), 0.1, 2.5).astype(np.float32)
    return out * tissue, vec


#: ``granular_cytoplasm`` (:func:`granular_cytoplasm`), per tile: the share of the Ki67-positive nuclei given a ring ...
GRANULAR_SHARE = (0.3, 1.0)
#: ... the ring's width beyond the nuclear edge (µm) ...
GRANULAR_RING_UM = (1.5, 4.0)
#: ... the share of the ring's pixels that seed a granule ...
GRANULAR_DENSITY = (0.08, 0.3)
#: ... each granule's Gaussian radius (µm) and peak DAB (log10 OD, log-uniform) ...
GRANULAR_SIGMA_UM = (0.3, 0.7)
GRANULAR_OD = (0.1, 0.5)
#: ... a smooth brown haze under the granules over the ring (log10 OD) ...
GRANULAR_CYTO_HAZE = (0.03, 0.2)
#: ... and the hue of the DAB, degrees from DAB towards neutral
GRANULAR_DEG = (0.0, 15.0)


def granular_cytoplasm(rgb: np.ndarray, positive: np.ndarray, allowed: np.ndarray, rng: np.random.Generator,
                       mpp: float) -> tuple[np.ndarray, np.ndarray]:
    """Granular brown (DAB) cytoplasm around strong positive nuclei, painted over a rendered tile (session 29, #14).

    Real ER/PR and Ki67 DAB often spills into the cytoplasm around strongly positive nuclei as fine brown
    granules (non-specific staining): brown, dotted like fine melanin, and beside a dark nucleus, which a pixel
    model fitted on real false positives alone came to call melanin (EndoNuke DEV tile 508, session 28). The
    tile's truth is unchanged: the granules are DAB, so every painted pixel is a negative of melanin.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        The rendered tile; not modified.
    positive : (M, N) bool ndarray
        Pixels of the Ki67-positive nuclei (the tile's ``positive_nuclei`` mask); a share
        (:data:`GRANULAR_SHARE`) of its connected nuclei gets a ring of :data:`GRANULAR_RING_UM`.
    allowed : (M, N) bool ndarray
        Where granules may lie (e.g. tissue outside the melanin mask).
    rng : numpy.random.Generator
        The stream every draw comes from.
    mpp : float
        µm per pixel (ring width and granule size are in µm).

    Returns
    -------
    rgb : (M, N, 3) uint8 ndarray
        The tile with the granules' DAB (and a faint haze, :data:`GRANULAR_CYTO_HAZE`) added in optical density.
    granules : (M, N) bool ndarray
        Pixels where the added DAB reaches 0.05 log10 OD.
    """
    from .synthetic import family_melanin_vector

    labels, n = ndi.label(np.asarray(positive, bool))
    keep = np.zeros(n + 1, bool)
    keep[1:] = rng.random(n) < rng.uniform(*GRANULAR_SHARE)
    chosen = keep[labels]
    width = max(1, round(rng.uniform(*GRANULAR_RING_UM) / mpp))
    ring = ndi.binary_dilation(chosen, iterations=width) & ~np.asarray(positive, bool) & np.asarray(allowed, bool)
    seeds = ring & (rng.random(ring.shape) < rng.uniform(*GRANULAR_DENSITY))
    sigma = rng.uniform(*GRANULAR_SIGMA_UM) / mpp
    lo, hi = math.log(GRANULAR_OD[0]), math.log(GRANULAR_OD[1])
    amp = np.where(seeds, np.exp(rng.uniform(lo, hi, ring.shape)), 0.0)
    conc = ndi.gaussian_filter(amp, sigma) * (2.0 * math.pi * sigma * sigma)
    conc += ndi.gaussian_filter(ring * rng.uniform(*GRANULAR_CYTO_HAZE), 1.0 / mpp)
    conc *= ndi.binary_dilation(ring, iterations=1)
    return _painted(rgb, conc, family_melanin_vector(rng, GRANULAR_DEG))


def granular_cytoplasm_of(tile: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`granular_cytoplasm` of a ``pigment_family_tile`` around its positives, outside its melanin mask.

    The draws come from a stream of ``seed`` alone (``default_rng([seed, 29])``), so the tile's truth and the
    rest of its rendering are those of the tile passed. Returns (rgb, granules) as :func:`granular_cytoplasm`.
    """
    return _around_positives(granular_cytoplasm, tile, [seed, 29])


def _painted(rgb: np.ndarray, conc: np.ndarray, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rgb`` with ``conc`` (log10 OD) of the stain ``vector`` added, and where ``conc`` reaches 0.05."""
    od = -np.log10(np.maximum(rgb.astype(np.float64), 1.0) / 255.0) + conc[..., None] * vector
    return np.clip(np.rint(255.0 * 10.0 ** -od), 0, 255).astype(np.uint8), conc >= 0.05


def _around_positives(paint: Any, tile: Any, stream: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``paint`` (:func:`granular_cytoplasm`, :func:`meshwork_cytoplasm`) of a ``pigment_family_tile`` around its
    positives, outside its melanin mask, every draw from ``default_rng(stream)``."""
    allowed = tile.masks["tissue"] & ~tile.masks["melanin"]
    return paint(tile.rgb, tile.masks["positive_nuclei"], allowed, np.random.default_rng(stream), tile.mpp)


#: the share of a tile's positive nuclei whose cells get a brown meshwork cytoplasm (uniform draw; session 30)
MESHWORK_SHARE = (0.5, 1.0)
#: the cell body's reach around the nucleus (µm, uniform draw per tile): the meshwork fills it, fading outwards
MESHWORK_REACH_UM = (2.0, 5.0)
#: the meshwork's strands: the scale of the noise whose zero crossings they follow (µm) and their width (share)
MESHWORK_SCALE_UM = (0.4, 0.9)
MESHWORK_WIDTH = (0.3, 0.7)
#: peak optical density of the strands and of the haze between them (log10, uniform draws per tile)
MESHWORK_OD = (0.2, 0.8)
MESHWORK_HAZE = (0.05, 0.3)
#: the meshwork's DAB vector, turned this many degrees from the DAB vector
MESHWORK_DEG = (0.0, 10.0)


def meshwork_cytoplasm(rgb: np.ndarray, positive: np.ndarray, allowed: np.ndarray, rng: np.random.Generator,
                       mpp: float) -> tuple[np.ndarray, np.ndarray]:
    """Brown (DAB) cytoplasm as a dense meshwork filling whole cells around positive nuclei (session 30, #14).

    Real ER/PR DAB (EndoNuke DEV tile 508) stains the cytoplasm of strongly positive cells as a dense, fibrillar
    brown meshwork that fills the cell body and fades outwards, not as the rings of dots of
    :func:`granular_cytoplasm`. Strands follow the zero crossings of smoothed noise
    (:data:`MESHWORK_SCALE_UM`), over a haze; both fall off with the distance from the nucleus
    (:data:`MESHWORK_REACH_UM`). The tile's truth is unchanged: every painted pixel is DAB, a negative of melanin.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        The rendered tile; not modified.
    positive : (M, N) bool ndarray
        Pixels of the Ki67-positive nuclei; a share (:data:`MESHWORK_SHARE`) of its connected nuclei gets a cell.
    allowed : (M, N) bool ndarray
        Where the meshwork may lie (e.g. tissue outside the melanin mask).
    rng : numpy.random.Generator
        The stream every draw comes from.
    mpp : float
        µm per pixel (reach and strand scale are in µm).

    Returns
    -------
    rgb : (M, N, 3) uint8 ndarray
        The tile with the meshwork's DAB added in optical density.
    meshwork : (M, N) bool ndarray
        Pixels where the added DAB reaches 0.05 log10 OD.
    """
    from .synthetic import family_melanin_vector

    pos = np.asarray(positive, bool)
    labels, n = ndi.label(pos)
    keep = np.zeros(n + 1, bool)
    keep[1:] = rng.random(n) < rng.uniform(*MESHWORK_SHARE)
    reach = rng.uniform(*MESHWORK_REACH_UM) / mpp
    if not keep.any():  # no cell to fill (the distance transform of a tile without a zero is not a distance)
        return np.array(rgb, copy=True), np.zeros(pos.shape, bool)
    dist = ndi.distance_transform_edt(~keep[labels])
    cell = (dist <= 2.0 * reach) & ~pos & np.asarray(allowed, bool)
    fade = np.exp(-((dist / reach) ** 2)) * cell
    noise = ndi.gaussian_filter(rng.standard_normal(pos.shape), rng.uniform(*MESHWORK_SCALE_UM) / mpp)
    noise /= max(float(noise.std()), 1e-9)
    strands = np.exp(-((noise / rng.uniform(*MESHWORK_WIDTH)) ** 2))
    conc = fade * (rng.uniform(*MESHWORK_OD) * strands + rng.uniform(*MESHWORK_HAZE))
    conc = ndi.gaussian_filter(conc, 0.25 / mpp) * ~pos  # softened strands; the nuclei themselves are left
    return _painted(rgb, conc, family_melanin_vector(rng, MESHWORK_DEG))


def meshwork_cytoplasm_of(tile: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`meshwork_cytoplasm` of a ``pigment_family_tile`` around its positives, outside its melanin mask.

    The draws come from a stream of ``seed`` alone (``default_rng([seed, 30])``), so the tile's truth and the
    rest of its rendering are those of the tile passed. Returns (rgb, meshwork) as :func:`meshwork_cytoplasm`.
    """
    return _around_positives(meshwork_cytoplasm, tile, [seed, 30])
