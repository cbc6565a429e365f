"""H&E tissue that looks like necrosis but is not, and necrosis of three kinds, painted from the pathology
(:func:`mmnst_path.synthetic_tissue.he_mimic_tile`; issue #13).

Necrosis is eosinophilic tissue without intact nuclei. So is much that is not necrosis: dense
hypocellular or hyalinised collagen (wavy bundles split by artefactual clefts), oedematous loose
stroma, blood (packed or lysed erythrocytes), mucin pools (pale blue-grey wisps), keratin (pearls,
lamellae, squames) and fat. A classifier trained only on cellular stroma learns "pink without
nuclei = necrosis"; these painters give it each mimic, with its own architecture, as not-necrosis,
and the necrosis it must still find: coagulative (ghost cell outlines), dirty (karyorrhectic dust)
and liquefactive (pale, loose, granular).

Every painter writes stain concentrations (hematoxylin ``h``, eosin ``e``, haemoglobin ``r``) into
the maps it is given, inside ``region`` only, with its parameters drawn from ``rng`` at physical
scales (``mpp`` µm per pixel).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

__all__ = ["EOSIN_REFS", "MIMIC_KINDS", "NECROSIS_KINDS", "paint_mimic", "paint_necrosis", "stain_vectors"]

#: the mimics :func:`paint_mimic` draws, and their truth class
MIMIC_KINDS = {"collagen": "stroma", "oedema": "stroma", "blood": "blood", "mucin": "mucin", "keratin": "keratin",
               "fat": "fat"}
#: the necrosis kinds :func:`paint_necrosis` draws
NECROSIS_KINDS = ("coagulative", "dirty", "liquefactive", "dense")

#: OD directions of eosin between which :func:`stain_vectors` draws a tile's eosin hue: the project's H&E
#: preset (magenta-pink) and Ruifrok & Johnston's eosin (2001; redder, more blue absorbed). Real eosin varies
#: between them with the dye, the differentiation and the section thickness.
EOSIN_REFS = ((0.0721, 0.9918, 0.1052), (0.2159, 0.8012, 0.5581))
#: the least angle (degrees) between a tile's eosin and haemoglobin directions (:func:`stain_vectors`)
MIN_HUE_GAP_DEG = 12.0


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return math.degrees(math.acos(float(np.clip(_unit(a) @ _unit(b), -1.0, 1.0))))


def stain_vectors(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A tile's eosin and haemoglobin OD directions (unit, float32), hue-separated.

    Eosin: a point on the arc between the two :data:`EOSIN_REFS` (uniform), rotated up to 4°. Haemoglobin:
    erythrocytes are orange-red, absorbing blue (Soret band) at least as much as green: OD (0.04-0.12, 0.70,
    0.70-0.95), rotated up to 4°; drawn again (at most 50 times, then the most orange) until it lies at least
    :data:`MIN_HUE_GAP_DEG` from the eosin, so packed or lysed blood keeps a hue of its own beside the
    reddest eosin.
    """
    from .synthetic_tissue import _rotated

    e0, e1 = (_unit(np.asarray(v, np.float64)) for v in EOSIN_REFS)
    t = rng.uniform(0.0, 1.0)
    ve = _rotated(tuple(_unit((1 - t) * e0 + t * e1)), rng.uniform(0, 4), rng)
    vr = ve
    for _ in range(50):
        vr = _rotated((rng.uniform(0.04, 0.12), 0.70, 0.70 * rng.uniform(1.0, 1.35)), rng.uniform(0, 4), rng)
        if _angle_deg(ve, vr) >= MIN_HUE_GAP_DEG:
            break
    else:
        vr = _unit(np.array([0.04, 0.70, 0.95]))
    return ve.astype(np.float32), vr.astype(np.float32)


def _noise(shape: tuple[int, int], sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    f = ndi.gaussian_filter(rng.normal(size=shape).astype(np.float32), max(sigma_px, 0.3), mode="wrap")
    return (f - f.mean()) / (f.std() + 1e-9)


def _frame(shape: tuple[int, int], angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (across, along) a direction ``angle`` (radians), in pixels."""
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    return (yy * math.cos(angle) - xx * math.sin(angle), yy * math.sin(angle) + xx * math.cos(angle))


def _dots(shape: tuple[int, int], region: np.ndarray, per_100um2: float, radius_um: tuple[float, float],
          mpp: float, rng: np.random.Generator) -> np.ndarray:
    """Dense round fragments (0-1) at ``per_100um2`` inside ``region``, radius drawn from ``radius_um``."""
    out = np.zeros(shape, np.float32)
    hit = region & (rng.random(shape) < per_100um2 / 100.0 * mpp * mpp)
    out[hit] = rng.uniform(0.5, 1.0, size=int(hit.sum()))
    rad = rng.uniform(*radius_um) / mpp
    if rad > 0.7:
        out = ndi.grey_dilation(out, footprint=_disc(rad))
    return ndi.gaussian_filter(out, 0.25 / mpp)


def _disc(rad_px: float) -> np.ndarray:
    r = max(1, math.ceil(rad_px))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (yy * yy + xx * xx) <= rad_px * rad_px + 0.5


def _cells(shape: tuple[int, int], spacing_um: float, mpp: float, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    """A Voronoi tessellation of jittered seeds ``spacing_um`` apart: (cell label, boundary mask)."""
    step = max(2.0, spacing_um / mpp)
    rows = np.arange(step / 2, shape[0] + step, step)
    cols = np.arange(step / 2, shape[1] + step, step)
    seeds = np.zeros(shape, bool)
    for r in rows:
        for c in cols:
            rr = int(np.clip(r + rng.uniform(-0.4, 0.4) * step, 0, shape[0] - 1))
            cc = int(np.clip(c + rng.uniform(-0.4, 0.4) * step, 0, shape[1] - 1))
            seeds[rr, cc] = True
    lab, _ = ndi.label(seeds)
    _, (ir, ic) = ndi.distance_transform_edt(~seeds, return_indices=True)
    cell = lab[ir, ic]
    edge = np.zeros(shape, bool)
    edge[:-1] |= cell[:-1] != cell[1:]
    edge[:, :-1] |= cell[:, :-1] != cell[:, 1:]
    return cell, edge


def _sparse_nuclei(h: np.ndarray, region: np.ndarray, spacing_um: float, mpp: float, rng: np.random.Generator, *,
                   long_um: tuple[float, float], short_um: tuple[float, float], dens: tuple[float, float],
                   angle: float | None = None) -> None:
    """A few nuclei (ellipses) in ``region``, about ``spacing_um`` apart, painted into ``h`` with max()."""
    from .synthetic_tissue import _ellipse, _place

    for r, c in _place(region, spacing_um / mpp, rng.uniform(0.2, 0.8), rng):
        ang = rng.uniform(0, np.pi) if angle is None else angle + rng.normal(0, 0.15)
        _ellipse(h, r, c, rng.uniform(*long_um) / mpp, rng.uniform(*short_um) / mpp, ang, rng.uniform(*dens), rng)


def paint_mimic(kind: str, h: np.ndarray, e: np.ndarray, r: np.ndarray, region: np.ndarray, mpp: float,
                rng: np.random.Generator) -> None:
    """Paint one necrosis mimic of :data:`MIMIC_KINDS` into the stain maps inside ``region``.

    Parameters
    ----------
    kind : str
        ``collagen`` (dense hypocellular collagen: wavy bundles 4-25 µm apart, artefactual clefts,
        hyalinised in 40 %, 0-1 spindle nuclei per 1000 µm²), ``oedema`` (pale wispy fibres with empty
        spaces, scattered stellate nuclei), ``blood`` (packed erythrocytes 6-8 µm: discs with a paler centre,
        or sludged into polygons with dense rims and thin plasma seams; or lysed: a homogeneous orange-red
        smudge with faint ghost rims; a few leukocytes; on the haemoglobin vector of :func:`stain_vectors`), ``mucin`` (pale blue-grey
        lacy strands, 0-3 floating cells per 10^4 µm²), ``keratin`` (concentric pearls, parallel
        lamellae or squame plates of glassy eosin, orangeophilic in some, a few flat parakeratotic nuclei)
        or ``fat`` (empty adipocytes 30-110 µm with thin eosin membranes).
    h, e, r : (M, N) float32
        Hematoxylin, eosin and haemoglobin concentration maps (OD units), changed in place.
    region : (M, N) bool
    mpp : float
        µm per pixel.
    rng : numpy.random.Generator
    """
    if kind not in MIMIC_KINDS:
        msg = f"kind must be one of {sorted(MIMIC_KINDS)}, got {kind!r}"
        raise ValueError(msg)
    if not region.any():
        return
    shape = region.shape
    m = region.astype(np.float32)
    if kind == "collagen":
        ang = rng.uniform(0, np.pi)
        across, along = _frame(shape, ang)
        wave = rng.uniform(1.0, 8.0) / mpp * np.sin(2 * np.pi * along / (rng.uniform(15, 70) / mpp))
        period = rng.uniform(4, 25) / mpp
        phase = 2 * np.pi * (across + wave) / period
        bundles = 0.5 + 0.5 * np.cos(phase)
        texture = np.clip(1 + rng.uniform(0.05, 0.3) * _noise(shape, rng.uniform(0.7, 2.5) / mpp, rng), 0.3, 1.8)
        hyaline = rng.random() < 0.4
        amount = rng.uniform(0.18, 0.75)
        if hyaline:  # glassy, homogeneous
            dens = amount * (0.9 + 0.1 * bundles) * np.clip(1 + 0.06 * _noise(shape, 4 / mpp, rng), 0.7, 1.3)
        else:
            dens = amount * (rng.uniform(0.45, 0.8) + (1 - 0.45) * bundles) * texture
        # clefts: thin artefactual spaces between bundles, in broken segments
        width = rng.uniform(0.5, 3.0) / mpp
        gap = np.abs(((across + wave) % period) - period / 2) < width / 2
        keep = _noise(shape, rng.uniform(8, 30) / mpp, rng) > rng.uniform(-0.8, 0.8)
        cleft = gap & keep & (rng.random() < 0.85)
        dens = np.where(cleft, dens * rng.uniform(0.0, 0.15), dens)
        e += m * dens
        h += m * dens * rng.uniform(0.0, 0.08)
        if rng.random() < 0.7:
            _sparse_nuclei(h, region, rng.uniform(30, 90), mpp, rng, long_um=(3.5, 8.0), short_um=(0.5, 1.1),
                           dens=(0.25, 0.7), angle=ang + np.pi / 2)
    elif kind == "oedema":
        from .synthetic_tissue import _fibres

        wisps = _fibres(shape, mpp, rng)
        lace = np.clip((wisps - rng.uniform(0.45, 0.65)) * rng.uniform(3, 6), 0, 1)
        holes = _noise(shape, rng.uniform(3, 12) / mpp, rng) > rng.uniform(-0.2, 0.8)
        dens = rng.uniform(0.01, 0.04) + lace * rng.uniform(0.04, 0.18)
        e += m * dens * np.where(holes, rng.uniform(0.0, 0.4), 1.0)
        h += m * lace * rng.uniform(0.0, 0.03)
        _sparse_nuclei(h, region, rng.uniform(18, 45), mpp, rng, long_um=(2.5, 6.0), short_um=(0.8, 1.8),
                       dens=(0.2, 0.6))
    elif kind == "blood":
        from .synthetic_tissue import _ellipse, _place

        style = rng.random()
        if style < 0.25:  # lysed / old haemorrhage: homogeneous haemoglobin smudge, ghost rims
            smudge = rng.uniform(0.2, 0.6) * np.clip(1 + 0.2 * _noise(shape, rng.uniform(2, 6) / mpp, rng), 0.4, 1.6)
            rims = np.zeros(shape, np.float32)
            for rr_, cc_ in _place(region, rng.uniform(6, 9) / mpp, rng.uniform(0.2, 0.8), rng):
                rad = rng.uniform(3.0, 4.0) / mpp
                _ellipse(rims, rr_, cc_, rad, rad * rng.uniform(0.8, 1.0), 0.0, 1.0, rng)
            rim = rims - ndi.grey_erosion(rims, footprint=_disc(0.8 / mpp))
            r += m * (smudge + rng.uniform(0.1, 0.3) * np.clip(rim, 0, 1))
        elif style < 0.6:  # sludged: erythrocytes pressed into polygons, thin plasma seams between them
            _, edge = _cells(shape, rng.uniform(5.5, 8.0), mpp, rng)
            seam = ndi.binary_dilation(edge, iterations=max(1, round(rng.uniform(0.3, 0.8) / mpp)))
            depth = ndi.distance_transform_edt(~seam) * mpp  # µm from the cell outline
            rim = np.clip(1.0 - (depth - rng.uniform(0.8, 1.6)) / 0.6, 0.0, 1.0)  # biconcave: dense rim
            cells = rng.uniform(0.35, 0.9) * (rng.uniform(0.5, 0.8) + (1 - 0.65) * rim)
            cells *= np.clip(1 + 0.1 * _noise(shape, 1.5 / mpp, rng), 0.7, 1.3)
            r += m * np.where(seam, rng.uniform(0.02, 0.1), cells).astype(np.float32)
            e += m * np.where(seam, 0.0, cells * rng.uniform(0.0, 0.15)).astype(np.float32)
        else:  # packed erythrocytes (discs with a paler centre) with plasma between them
            r += m * rng.uniform(0.02, 0.1)
            cells = np.zeros(shape, np.float32)
            for rr_, cc_ in _place(region, rng.uniform(5.5, 8.0) / mpp, rng.uniform(0.5, 0.95), rng):
                rad = rng.uniform(3.0, 4.0) / mpp
                _ellipse(cells, rr_, cc_, rad, rad * rng.uniform(0.75, 1.0), rng.uniform(0, np.pi),
                         rng.uniform(0.35, 0.9), rng)
            r += m * cells * np.where(cells > 0, 1 - 0.3 * (ndi.grey_erosion(cells, footprint=_disc(1.2 / mpp)) > 0), 1)
            e += m * cells * rng.uniform(0.0, 0.15)
        _sparse_nuclei(h, region, rng.uniform(25, 70), mpp, rng, long_um=(2.5, 4.0), short_um=(2.0, 3.5),
                       dens=(0.4, 0.9))
    elif kind == "mucin":
        from .synthetic_tissue import _fibres

        wisps = np.maximum(_fibres(shape, mpp, rng), _fibres(shape, mpp, rng))
        lace = np.clip((wisps - rng.uniform(0.4, 0.6)) * rng.uniform(2, 5), 0, 1)
        pool = rng.uniform(0.01, 0.05) + lace * rng.uniform(0.03, 0.15)
        h += m * pool
        e += m * pool * rng.uniform(0.0, 0.5)
        if rng.random() < 0.5:  # floating (signet-ring) cells
            _sparse_nuclei(h, region, rng.uniform(40, 120), mpp, rng, long_um=(2.5, 5.0), short_um=(1.2, 3.0),
                           dens=(0.3, 0.7))
    elif kind == "keratin":
        yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
        lam = rng.uniform(2.0, 7.0) / mpp
        amount = rng.uniform(0.25, 0.9)
        style = rng.choice(("pearls", "lamellae", "squames"))
        if style == "pearls":
            rr_, cc_ = np.nonzero(region)
            d = np.full(shape, np.inf, np.float32)
            for _ in range(int(rng.integers(1, 6))):
                i = rng.integers(rr_.size)
                d = np.minimum(d, np.hypot(yy - rr_[i], xx - cc_[i]) * rng.uniform(0.8, 1.2))
            ring = 0.5 + 0.5 * np.cos(2 * np.pi * d / lam)
        else:
            across, _ = _frame(shape, rng.uniform(0, np.pi))
            across = across + rng.uniform(1, 6) / mpp * _noise(shape, rng.uniform(10, 30) / mpp, rng)
            ring = 0.5 + 0.5 * np.cos(2 * np.pi * across / lam)
        dens = amount * (0.7 + rng.uniform(0.1, 0.5) * ring)
        if style == "squames":  # flat plates split by clefts
            _, edge = _cells(shape, rng.uniform(15, 40), mpp, rng)
            dens = np.where(ndi.binary_dilation(edge, iterations=max(1, round(0.6 / mpp))), dens * 0.1, dens)
        orange = rng.uniform(0.0, 0.4) if rng.random() < 0.3 else 0.0
        e += m * dens * (1 - orange)
        r += m * dens * orange
        h += m * dens * rng.uniform(0.0, 0.06)
        if rng.random() < 0.6:  # parakeratosis: a few flat, dark remnants
            _sparse_nuclei(h, region, rng.uniform(20, 60), mpp, rng, long_um=(2.0, 4.0), short_um=(0.5, 1.0),
                           dens=(0.3, 0.7))
    else:  # fat
        _, edge = _cells(shape, rng.uniform(30, 110), mpp, rng)
        mem = ndi.binary_dilation(edge, iterations=max(1, round(rng.uniform(0.4, 1.2) / mpp)))
        e += m * mem * rng.uniform(0.12, 0.4)
        h += m * mem * rng.uniform(0.0, 0.04)
        if rng.random() < 0.5:
            _sparse_nuclei(h, region & mem, rng.uniform(40, 120), mpp, rng, long_um=(3.0, 6.0),
                           short_um=(0.6, 1.2), dens=(0.3, 0.6))


def paint_necrosis(kind: str, h: np.ndarray, e: np.ndarray, r: np.ndarray, region: np.ndarray, mpp: float,
                   rng: np.random.Generator, *, spacing_um: float, radius_um: tuple[float, float]) -> None:
    """Paint necrosis of :data:`NECROSIS_KINDS` into the stain maps inside ``region``.

    ``coagulative``: the architecture survives as ghost cells (eosinophilic cytoplasm 0.08-0.65 OD,
    cell outlines ``spacing_um`` apart, faded blurred nuclei of ``radius_um``), few fragments;
    ``dirty``: granular eosinophilic debris with dense karyorrhectic dust (0.3-1.5 µm fragments at
    0.5-4 per 100 µm²) and clusters of fragmented nuclei; ``liquefactive``: pale, loose, granular
    matrix with empty spaces, a basophilic haze and scattered debris; ``dense``: a hypereosinophilic sheet (eosin
    0.3-0.6 OD, evenly mottled at 0.6-2 µm) with fine karyorrhectic dust (0.2-0.6 µm, 0.3-3 per 100 µm², some
    barely darker than the sheet), with ghost cell outlines and faded nuclei in half of them. Haemorrhage in 20 %.
    Dense necrosis keeps its dust and its eosin hue (:func:`stain_vectors`): what separates it from haemorrhage
    (haemoglobin hue, red-cell outlines) and hyalinised collagen (bundles, clefts).
    """
    if kind not in NECROSIS_KINDS:
        msg = f"kind must be one of {NECROSIS_KINDS}, got {kind!r}"
        raise ValueError(msg)
    if not region.any():
        return
    from .synthetic_tissue import _ellipse, _place

    shape = region.shape
    m = region.astype(np.float32)
    mottle = np.clip(1 + rng.uniform(0.1, 0.4) * _noise(shape, rng.uniform(1.0, 4.0) / mpp, rng), 0.3, 2)
    if kind == "coagulative":
        _, edge = _cells(shape, spacing_um, mpp, rng)
        outline = ndi.gaussian_filter(edge.astype(np.float32), 0.5 / mpp)
        outline /= max(float(outline.max()), 1e-6)
        base = float(np.exp(rng.uniform(np.log(0.08), np.log(0.65))))
        e += m * mottle * base * (1 + rng.uniform(0.1, 0.6) * outline)
        h += m * mottle * rng.uniform(0.0, 0.05)
        ghosts = np.zeros(shape, np.float32)
        for rr_, cc_ in _place(region, spacing_um / mpp, rng.uniform(0.3, 1.0), rng):
            a = rng.uniform(*radius_um) / mpp
            _ellipse(ghosts, rr_, cc_, a, a * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi), rng.uniform(0.03, 0.15), rng)
        h += m * ndi.gaussian_filter(ghosts, rng.uniform(0.4, 1.2) / mpp)
        frag_rate = rng.uniform(0.05, 0.8)
    elif kind == "dirty":
        base = float(np.exp(rng.uniform(np.log(0.06), np.log(0.65))))
        grain = np.clip(1 + 0.5 * _noise(shape, rng.uniform(0.5, 1.5) / mpp, rng), 0.1, 2.5)
        e += m * mottle * grain * base
        h += m * mottle * rng.uniform(0.02, 0.1)
        for rr_, cc_ in _place(region, rng.uniform(15, 40) / mpp, rng.uniform(0.3, 1.0), rng):  # broken nuclei
            for _ in range(int(rng.integers(3, 8))):
                rad = rng.uniform(0.5, 1.5) / mpp
                _ellipse(h, rr_ + rng.normal(0, 2.5 / mpp), cc_ + rng.normal(0, 2.5 / mpp), max(rad, 0.6),
                         max(rad, 0.6) * rng.uniform(0.6, 1.0), rng.uniform(0, np.pi), rng.uniform(0.5, 1.2), rng)
        frag_rate = rng.uniform(0.5, 4.0)
    elif kind == "dense":
        base = rng.uniform(0.3, 0.6)
        even = np.clip(1 + rng.uniform(0.08, 0.2) * _noise(shape, rng.uniform(0.6, 2.0) / mpp, rng), 0.5, 1.6)
        e += m * base * even
        h += m * base * even * rng.uniform(0.0, 0.08)
        if rng.random() < 0.5:  # ghost cells: faint outlines and faded nuclei
            _, edge = _cells(shape, spacing_um, mpp, rng)
            outline = ndi.gaussian_filter(edge.astype(np.float32), 0.5 / mpp)
            e += m * base * rng.uniform(0.05, 0.3) * outline / max(float(outline.max()), 1e-6)
            ghosts = np.zeros(shape, np.float32)
            for rr_, cc_ in _place(region, spacing_um / mpp, rng.uniform(0.3, 1.0), rng):
                a = rng.uniform(*radius_um) / mpp
                _ellipse(ghosts, rr_, cc_, a, a * rng.uniform(0.7, 1.0), rng.uniform(0, np.pi),
                         rng.uniform(0.02, 0.1), rng)
            h += m * ndi.gaussian_filter(ghosts, rng.uniform(0.4, 1.2) / mpp)
        h += m * rng.uniform(0.2, 0.9) * _dots(shape, region, rng.uniform(0.3, 3.0), (0.2, 0.6), mpp, rng)
        frag_rate = 0.0
    else:  # liquefactive
        base = rng.uniform(0.03, 0.15)
        holes = _noise(shape, rng.uniform(2, 8) / mpp, rng) > rng.uniform(0.0, 1.0)
        grain = np.clip(1 + 0.6 * _noise(shape, rng.uniform(0.5, 1.2) / mpp, rng), 0.1, 2.5)
        e += m * grain * base * np.where(holes, rng.uniform(0.0, 0.3), 1.0)
        h += m * grain * rng.uniform(0.01, 0.08)
        frag_rate = rng.uniform(0.2, 2.0)
    if frag_rate > 0:
        h += m * rng.uniform(0.4, 1.2) * _dots(shape, region, frag_rate, (0.2, 1.0), mpp, rng)
    if rng.random() < 0.2:  # haemorrhage into the necrosis
        for rr_, cc_ in _place(region, rng.uniform(7, 16) / mpp, rng.uniform(0.2, 0.8), rng):
            rad = rng.uniform(3.0, 4.0) / mpp
            _ellipse(r, rr_, cc_, rad, rad * rng.uniform(0.8, 1.0), 0.0, rng.uniform(0.3, 0.8), rng)
