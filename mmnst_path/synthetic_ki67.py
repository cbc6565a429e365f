"""Generated Ki67 (hematoxylin-DAB) tiles with per-nucleus truth: cell type and stain grade.

:func:`ki67_cells_tile` renders a tumour nest in stroma with the cells that a Ki67 count must
tell apart: tumour nuclei (negative, or weakly / moderately / strongly DAB-positive),
lymphocytes (small, round, dense; a few of them Ki67-positive, as proliferating lymphocytes
are), stromal spindle nuclei and macrophages. Every nucleus is recorded with its centre, type,
grade and painted DAB, so an error of the Ki67 index can be split into what detection, the
positivity rule and the cell classifier each cost (``benchmarks/eval_ki67_cells.py``).
With ``tumour="spindle"`` the tumour is a spindle-cell tumour instead of an epithelioid nest
(the spindle pattern of malignant melanotic nerve sheath tumour): fascicles of plump,
hyperchromatic, densely packed spindle nuclei aligned along a sweeping direction, beside a
collagenous stroma with sparse thin fibroblasts; the spindle tumour nuclei are ``tumour`` in the
truth.

The rendering is the Beer-Lambert model of :mod:`mmnst_path.synthetic` (stain vectors rotated
0-5 degrees from the presets, stain intensity x0.75-1.25, optical blur 0.3-0.7 µm, sensor
noise, JPEG, tinted white balance and a camera black level on half the tiles).

Public API
----------
``ki67_cells_tile(seed, *, size=384, mpp=0.5, positive_fraction=None, weak_share=None, ..., grey_share=0,
tumour="nest", lymphocytes="scattered")``
``CELL_TYPES``  the cell types of the truth
``GRADES``      the DAB grades of the truth (``negative``, ``weak``, ``moderate``, ``strong``)
``GRADE_DAB_OD`` painted nuclear DAB concentration (log10 OD) of each positive grade
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .synthetic import _DAB, _H, SyntheticTile, _camera, _ellipse, _field, perturb_vector

__all__ = ["CELL_TYPES", "GRADES", "GRADE_DAB_OD", "ki67_cells_tile"]

#: Cell types of :func:`ki67_cells_tile` (only ``tumour`` nuclei are in the true Ki67 index).
CELL_TYPES = ("tumour", "lymphocyte", "stromal", "macrophage")
#: DAB grades of a nucleus (any grade but ``negative`` is Ki67-positive: any nuclear staining).
GRADES = ("negative", "weak", "moderate", "strong")
#: Painted nuclear DAB concentration range (log10 OD, before texture and blur) of each positive
#: grade. Weak: a faint brown tint over a blue nucleus (0.12-0.30, below the fixed 0.35 OD rule
#: as a nucleus mean); moderate 0.30-0.60; strong 0.60-1.5, a share of them dark and saturating
#: (1.5-2.6).
GRADE_DAB_OD = {"weak": (0.12, 0.30), "moderate": (0.30, 0.60), "strong": (0.60, 1.5)}


def _place(region: np.ndarray, n: int, rng: np.random.Generator, occupied: np.ndarray,
           radius_px: float) -> list[tuple[float, float]]:
    """Up to ``n`` centres in ``region`` at least ~``radius_px`` from earlier ones."""
    rr, cc = np.nonzero(region & ~occupied)
    out: list[tuple[float, float]] = []
    if len(rr) == 0:
        return out
    for i in rng.permutation(len(rr))[: n * 8]:
        if len(out) >= n:
            break
        r, c = int(rr[i]), int(cc[i])
        if occupied[r, c]:
            continue
        out.append((float(r), float(c)))
        h = int(radius_px) + 1
        occupied[max(0, r - h): r + h + 1, max(0, c - h): c + h + 1] = True
    return out


def _place_oriented(region: np.ndarray, n: int, rng: np.random.Generator, occupied: np.ndarray,
                    axes: Any, gap_px: float) -> list[tuple[float, float, float, float, float]]:
    """Up to ``n`` non-overlapping ellipses ``(row, col, a, b, angle)`` centred in ``region``.

    ``axes(r, c)`` draws the half-axes (px) and angle of a nucleus at a centre; a candidate is
    kept when its ellipse grown by ``gap_px / 2`` touches no earlier one (``occupied`` is updated
    with every kept ellipse), so elongated nuclei pack side by side and end to end as in a
    fascicle without merging.
    """
    rr, cc = np.nonzero(region & ~occupied)
    out: list[tuple[float, float, float, float, float]] = []
    if len(rr) == 0:
        return out
    half_gap = 0.5 * gap_px
    for i in rng.permutation(len(rr))[: n * 30]:
        if len(out) >= n:
            break
        r, c = float(rr[i]), float(cc[i])
        if occupied[int(r), int(c)]:
            continue
        a, b, ang = axes(r, c)
        h = int(a + half_gap) + 2
        r0, c0 = max(0, int(r) - h), max(0, int(c) - h)
        r1, c1 = min(region.shape[0], int(r) + h + 1), min(region.shape[1], int(c) + h + 1)
        yy, xx = np.mgrid[r0:r1, c0:c1]
        u = (yy - r) * math.cos(ang) + (xx - c) * math.sin(ang)
        v = -(yy - r) * math.sin(ang) + (xx - c) * math.cos(ang)
        body = (u / (a + half_gap)) ** 2 + (v / (b + half_gap)) ** 2 <= 1.0
        if (occupied[r0:r1, c0:c1] & body).any():
            continue
        occupied[r0:r1, c0:c1] |= body
        out.append((r, c, a, b, ang))
    return out


def _spindle_tumour(nest: np.ndarray, strom: np.ndarray, rng: np.random.Generator, occupied: np.ndarray,
                    px: float, plump: float, tumour_grade: Any, stromal_grade: Any, paint: Any) -> dict[str, Any]:
    """Paint the fascicles of a spindle-cell tumour in ``nest`` and a paucicellular collagenous
    stroma in ``strom`` (see ``tumour="spindle"`` of :func:`ki67_cells_tile`); returns the
    tile's draws (orientation scatter, half-length and counterstain ranges) for the truth."""
    shape = nest.shape
    size = max(shape)
    # fascicle direction: a tile angle plus a smooth sweep (fascicles bend and meet at angles)
    flow = rng.uniform(0, np.pi) + 0.55 * _field(shape, size / 5, rng)
    # collagen in the stroma runs along a flow of its own
    fibre = rng.uniform(0, np.pi) + 0.45 * _field(shape, size / 6, rng)

    # per tile: how orderly the fascicles are (orientation scatter, tight fascicles to haphazard /
    # storiform), how slender and how dark the nuclei are
    disorder = rng.uniform(0.1, 0.8)
    long_um = rng.uniform(6.0, 8.0), rng.uniform(9.0, 12.0)
    dark = rng.uniform(0.3, 0.5), rng.uniform(0.65, 0.9)

    def tumour_axes(r: float, c: float) -> tuple[float, float, float]:
        ang = float(flow[int(r), int(c)]) + rng.normal(0, disorder)
        if rng.random() < 0.15:  # pleomorphic plump oval
            return rng.uniform(4.0, 6.0) * px, rng.uniform(3.0, 4.0) * px, ang
        return rng.uniform(*long_um) * px, rng.uniform(1.5, 3.0) * px, ang

    area_um2 = float(nest.sum()) / (px * px)
    for r, c, a, b, ang in _place_oriented(nest, int(area_um2 / 55), rng, occupied, tumour_axes,
                                           rng.uniform(1.0, 2.5) * px):
        gname, d_od = tumour_grade()
        paint(r, c, a, b, ang, rng.uniform(*dark), gname, d_od, "tumour", rng.uniform(0.2, 0.5))

    def fibroblast_axes(r: float, c: float) -> tuple[float, float, float]:
        ang = float(fibre[int(r), int(c)]) + rng.normal(0, 0.2)
        if rng.random() < 0.3 * plump:  # activated fibroblast / endothelium
            return rng.uniform(3.0, 5.0) * px, rng.uniform(1.8, 2.6) * px, ang
        return rng.uniform(4.0, 8.0) * px, rng.uniform(0.8, 1.5) * px, ang

    strom_um2 = float(strom.sum()) / (px * px)
    for r, c, a, b, ang in _place_oriented(strom, int(strom_um2 / 450), rng, occupied, fibroblast_axes, 6.0 * px):
        gname, d_od = stromal_grade()
        h_od = rng.uniform(0.3, 0.6) if b > 1.7 * px else rng.uniform(0.45, 0.85)
        paint(r, c, a, b, ang, h_od, gname, d_od, "stromal", 0.15)
    return {"spindle_disorder_rad": disorder, "spindle_half_length_um": long_um, "spindle_counterstain_od": dark}


def ki67_cells_tile(seed: int, *, size: int = 384, mpp: float = 0.5, positive_fraction: float | None = None,
                    weak_share: float | None = None, lymphocyte_density: float | None = None,
                    stroma_fraction: float | None = None, plump_stroma: float | None = None,
                    appearance: str = "varied", grey_share: float = 0.0, tumour: str = "nest",
                    lymphocytes: str = "scattered") -> SyntheticTile:
    """Ki67 H-DAB tile of a tumour nest in stroma, with lymphocytes, spindles and macrophages.

    Parameters
    ----------
    seed : int
    size : int
        Tile side (pixels).
    mpp : float
        Pixel size (µm/px).
    positive_fraction : float or None
        Ki67-positive share of the tumour nuclei (None: uniform 0.05-0.6).
    weak_share : float or None
        Share of the positive tumour nuclei that are weak (None: uniform 0.1-0.6); the rest are
        moderate and strong in equal parts.
    lymphocyte_density : float or None
        Lymphocytes per 1000 µm² of tissue (None: uniform 0.5-5).
    stroma_fraction : float or None
        Share of the tissue that is stroma rather than tumour nest (None: uniform 0.3-0.7).
    plump_stroma : float or None
        Share of the stromal nuclei that are plump ovals (activated fibroblasts, endothelium:
        half-axes 3-5 x 1.8-2.8 µm, paler) instead of thin spindles (None: uniform 0-0.6).
    appearance : {"varied", "plain"}
        ``"varied"``: tinted white balance on half the tiles and a camera black level;
        ``"plain"``: neutral glass.
    grey_share : float
        Share of the tumour nuclei (of every grade) that also carry a neutral grey-beige absorber
        of 0.10-0.35 OD (vector norm) over the nucleus: the pale grey-beige nuclei that read as
        faint DAB under a hematoxylin-DAB unmixing (a neutral grey reads 0.49 DAB per unit OD)
        but that annotators call negative (BCData). The absorber's direction is grey tilted
        towards blue absorption (beige) by up to 0.3 per tile. 0 (the default) renders exactly
        the tiles of earlier versions; the grey nuclei are drawn from a generator of their own.
    tumour : {"nest", "spindle"}
        ``"nest"`` (the default, the tiles of earlier versions): an epithelioid nest of large
        round to oval vesicular nuclei. ``"spindle"``: a spindle-cell tumour. Fascicles of spindle
        nuclei run along a direction that sweeps across the tile (a smooth field of up to about
        ±60° around a tile angle, so neighbours are parallel and fascicles bend), each nucleus
        turned from it by a scatter drawn per tile (0.1-0.8 rad sd: tight fascicles to haphazard,
        storiform tumour); the nuclei are cigars with blunt ends, longer and plumper than
        fibroblasts (half-axes 6-12 x 1.5-3 µm: 12-24 µm long, 3-6 µm wide; the length range
        drawn per tile), hyperchromatic to vesicular (0.3-0.9 OD counterstain, the range drawn per
        tile; coarse chromatin), packed side by side and end to end 1-2.5 µm apart; about 15 % of
        them plumper, pleomorphic ovals; the same Ki67 grades as
        the nest. The stroma beside them is collagenous and paucicellular: sparse thin
        fibroblast nuclei (half-axes 4-8 x 0.8-1.5 µm, dense, one per ~450 µm²) along a flow of
        their own, few plump ones (share ``plump_stroma`` x 0.3). Lymphocytes and macrophages as
        in the nest.
    lymphocytes : {"scattered", "infiltrate"}
        ``"scattered"`` (the default, the tiles of earlier versions): single small round dense
        lymphocytes (2.2-3.2 µm radius, 0.6-1.0 OD) anywhere in the tissue, never touching, 5 %
        Ki67-positive, ``lymphocyte_density`` per 1000 µm². ``"infiltrate"``: lymphocytes as real
        slides show them, laid out by a generator of their own (:mod:`mmnst_path._synthetic_lymph`;
        the tumour, stroma and macrophages are those of the ``"scattered"`` tile of the same seed).
        Per tile 0-3 dense aggregates (semi-axis 12-40 µm x 0.7-1.3, axis ratio 1-3: round
        lymphoid aggregates to perivascular cuffs; a share of 0-1 of them centred on the nest's
        border; a quarter with a germinal-centre-like core, 20-50 % Ki67-positive, more activated
        cells) and, on most tiles, a patchy peritumoural band (8-25 µm wide on 20-60 % of the
        border) that spills 3-12 µm between the tumour cells at the nest's edge; in them the
        nuclei touch and overlap slightly (centre spacing 0.8-1.1 x the sum of the radii, fill
        0.5-1 of a packed layout). Nuclei 2-3.8 µm in radius (mode 2.7), round to pressed oval
        (axis ratio 0.75-1), dense (0.55-1.0 OD) with clumped chromatin; 3-15 % per tile activated
        (3.5-4.5 µm, 0.3-0.5 OD, open chromatin with coarse clumps); on 10-50 % a thin rim of pale
        cytoplasm (0.6-1.2 µm, 0.08-0.14 OD, unlabelled); 2-10 % Ki67-positive per tile. A
        lymphocyte's core never lies on an earlier nucleus. Between them lone lymphocytes at 0.3 x
        ``lymphocyte_density``. The truth's ``cells`` gain ``lymph_site`` (``aggregate``, ``band``,
        ``nest_edge``, ``single``; "" for other cells), ``activated`` and ``cytoplasm_rim``, the truth
        ``lymphocytes`` and ``infiltrate`` (the tile's draws).

    Returns
    -------
    SyntheticTile
        truth: ``ki67_positive`` / ``ki67_negative`` / ``ki67_index_pct`` (tumour nuclei; weak
        positives are positive), per-type counts ``n_<type>``, ``cells`` (dict of (n,) arrays:
        ``row``, ``col`` in pixels, ``cell_type``, ``grade``, ``dab_od`` painted DAB, ``label``
        in ``masks["nuclei"]``, ``grey``: carries the grey-beige absorber) and the recipe;
        masks ``tissue``, ``nest`` (tumour region) and
        ``nuclei`` (int32 labels, nucleus ``i`` of ``cells`` has label ``i + 1`` where visible).

    Examples
    --------
    >>> tile = ki67_cells_tile(0, size=128)
    >>> tile.rgb.shape, tile.truth["n_tumour"] > 0
    ((128, 128, 3), True)
    """
    if appearance not in ("varied", "plain"):
        msg = f"appearance must be 'varied' or 'plain', got {appearance!r}"
        raise ValueError(msg)
    if not (math.isfinite(grey_share) and 0.0 <= grey_share <= 1.0):
        msg = f"grey_share must be in [0, 1], got {grey_share!r}"
        raise ValueError(msg)
    if not (math.isfinite(mpp) and 0.1 <= mpp <= 2.0):
        msg = f"mpp must be in [0.1, 2] µm/px, got {mpp!r}"
        raise ValueError(msg)
    if tumour not in ("nest", "spindle"):
        msg = f"tumour must be 'nest' or 'spindle', got {tumour!r}"
        raise ValueError(msg)
    if lymphocytes not in ("scattered", "infiltrate"):
        msg = f"lymphocytes must be 'scattered' or 'infiltrate', got {lymphocytes!r}"
        raise ValueError(msg)
    rng = np.random.default_rng([seed, 7013])
    vh = perturb_vector(_H, rng.uniform(0, 5), rng)
    vd = perturb_vector(_DAB, rng.uniform(0, 5), rng)
    scale = rng.uniform(0.75, 1.25)
    blur_um, noise = rng.uniform(0.3, 0.7), rng.uniform(1.0, 4.0)
    quality = [None, 95, 85, 70][int(rng.integers(4))]
    frac = rng.uniform(0.05, 0.6) if positive_fraction is None else float(positive_fraction)
    weak = rng.uniform(0.1, 0.6) if weak_share is None else float(weak_share)
    lymph_density = rng.uniform(0.5, 5.0) if lymphocyte_density is None else float(lymphocyte_density)
    stroma = rng.uniform(0.3, 0.7) if stroma_fraction is None else float(stroma_fraction)
    dark_share = rng.uniform(0.0, 0.5)
    plump = rng.uniform(0.0, 0.6) if plump_stroma is None else float(plump_stroma)
    shape = (size, size)
    glass = _field(shape, size / 10, rng)
    tissue = glass > np.quantile(glass, 0.05)
    g = _field(shape, size / 8, rng)
    nest = tissue & (g > np.quantile(g[tissue], stroma))
    strom = tissue & ~nest
    hem = (0.04 * tissue * (1 + 0.3 * _field(shape, 4, rng))).clip(0).astype(np.float32)
    hem += (0.05 * nest).astype(np.float32)  # tumour cytoplasm: a little more counterstain than stroma
    dab = (rng.uniform(0.0, 0.05) * tissue).astype(np.float32)  # non-specific background
    labels = np.zeros(shape, np.int32)
    occupied = ~tissue
    px = 1.0 / mpp
    area_um2 = float(tissue.sum()) * mpp * mpp
    rows: list[tuple[float, float, str, str, float]] = []

    def grade_of(p_pos: float, weak_p: float) -> tuple[str, float]:
        if rng.random() >= p_pos:
            return "negative", 0.0
        u = rng.random()
        if u < weak_p:
            return "weak", rng.uniform(*GRADE_DAB_OD["weak"])
        if u < weak_p + (1 - weak_p) / 2:
            return "moderate", rng.uniform(*GRADE_DAB_OD["moderate"])
        if rng.random() < dark_share:
            return "strong", math.exp(rng.uniform(math.log(1.5), math.log(2.6)))
        return "strong", rng.uniform(*GRADE_DAB_OD["strong"])

    def paint(r: float, c: float, a: float, b: float, ang: float, h_od: float, grade: str, d_od: float,
              cell_type: str, clump: float) -> None:
        i = len(rows) + 1
        if grade == "strong":  # strong DAB hides most of the counterstain
            h_od = min(h_od, 0.18)
        elif grade == "moderate":
            h_od *= 0.6
        _ellipse(hem, r, c, a, b, ang, scale * h_od, rng, labels, i, clumps=(clump, 0.6 * px, rng))
        if grade != "negative":
            _ellipse(dab, r, c, a, b, ang, scale * d_od, rng, clumps=(clump, 0.6 * px, rng))
        rows.append((r, c, cell_type, grade, d_od))

    spindle: dict[str, Any] = {}
    if tumour == "spindle":
        spindle = _spindle_tumour(nest, strom, rng, occupied, px, plump, lambda: grade_of(frac, weak),
                                  lambda: grade_of(0.02, 0.5), paint)
    else:
        # tumour: large vesicular nuclei, 3.5-6 µm radius, pale to moderate counterstain
        n_t = int(nest.sum() * mpp * mpp / 95)
        for r, c in _place(nest, n_t, rng, occupied, 2.0 * 4.5 * px):
            rad = rng.uniform(3.5, 6.0) * px
            e = rng.uniform(0.7, 1.0)
            gname, d_od = grade_of(frac, weak)
            paint(r, c, rad / math.sqrt(e), rad * math.sqrt(e), rng.uniform(0, np.pi), rng.uniform(0.25, 0.55),
                  gname, d_od, "tumour", rng.uniform(0.0, 0.4))
        # stroma: spindle nuclei (half-axes 4-8 x 1.1-2 µm, dense to moderate counterstain) and a
        # share of plump oval fibroblast / endothelial nuclei (3-5 x 1.8-2.8 µm, paler), which look
        # much more like tumour nuclei
        n_s = int(strom.sum() * mpp * mpp / 260)
        for r, c in _place(strom, n_s, rng, occupied, 2.0 * 5.0 * px):
            gname, d_od = grade_of(0.02, 0.5)
            if rng.random() < plump:
                a, b, h_od = rng.uniform(3.0, 5.0), rng.uniform(1.8, 2.8), rng.uniform(0.3, 0.6)
            else:
                a, b, h_od = rng.uniform(4.0, 8.0), rng.uniform(1.1, 2.0), rng.uniform(0.35, 0.8)
            paint(r, c, a * px, b * px, rng.uniform(0, np.pi), h_od, gname, d_od, "stromal", 0.2)
    # macrophages: oval to bean-shaped, pale, 4-5.5 µm, in the stroma
    n_m = int(strom.sum() * mpp * mpp / 4000)
    for r, c in _place(strom, n_m, rng, occupied, 2.0 * 5.0 * px):
        rad = rng.uniform(4.0, 5.5) * px
        paint(r, c, rad * 1.25, rad * 0.7, rng.uniform(0, np.pi), rng.uniform(0.25, 0.45), "negative", 0.0,
              "macrophage", 0.25)
    infiltrate: dict[str, Any] = {}
    n_before = len(rows)
    if lymphocytes == "infiltrate":
        from ._synthetic_lymph import paint_infiltrate

        infiltrate = paint_infiltrate(tissue, nest, strom, labels, hem, np.random.default_rng([seed, 7013, 3]), rng,
                                      mpp=mpp, scale=scale, single_density=0.3 * lymph_density,
                                      grade_of=grade_of, paint=paint)
    else:
        # lymphocytes: small round dense nuclei (2.2-3.2 µm radius) anywhere in the tissue, 5 % positive
        n_l = int(lymph_density * area_um2 / 1000.0)
        for r, c in _place(tissue, n_l, rng, occupied, 2.0 * 2.8 * px):
            rad = rng.uniform(2.2, 3.2) * px
            e = rng.uniform(0.85, 1.0)
            gname, d_od = grade_of(0.05, 0.3)
            paint(r, c, rad / math.sqrt(e), rad * math.sqrt(e), rng.uniform(0, np.pi), rng.uniform(0.6, 1.0),
                  gname, d_od, "lymphocyte", 0.1)
    blur_px = blur_um / mpp
    from scipy import ndimage as ndi

    od = hem[..., None] * np.asarray(vh, np.float32) + dab[..., None] * np.asarray(vd, np.float32)
    grey_cells = np.zeros(len(rows), bool)
    grey_tilt = 0.0
    if grey_share > 0 and rows:
        g_rng = np.random.default_rng([seed, 7013, 2])
        tumour_rows = np.array([x[2] == "tumour" for x in rows])
        grey_cells = tumour_rows & (g_rng.random(len(rows)) < grey_share)
        grey_od = np.zeros(len(rows) + 1, np.float32)
        grey_od[1:][grey_cells] = g_rng.uniform(0.10, 0.35, int(grey_cells.sum()))
        grey_tilt = float(g_rng.uniform(0.0, 0.3))
        v_grey = np.array([1.0, 1.0 + 0.3 * grey_tilt, 1.0 + grey_tilt], np.float32)
        od += grey_od[labels][..., None] * (v_grey / np.linalg.norm(v_grey))
    od = ndi.gaussian_filter(od, (blur_px, blur_px, 0))
    tint = np.random.default_rng([seed, 7013, 1]) if appearance == "varied" else None
    rgb = _camera(od, rng, noise=noise, quality=quality, tint_rng=tint)
    cells: dict[str, Any] = {
        "row": np.array([x[0] for x in rows], np.float64),
        "col": np.array([x[1] for x in rows], np.float64),
        "cell_type": np.array([x[2] for x in rows], "<U10"),
        "grade": np.array([x[3] for x in rows], "<U8"),
        "dab_od": np.array([x[4] for x in rows], np.float64),
        "label": np.arange(1, len(rows) + 1, dtype=np.int32),
        "grey": grey_cells,
    }
    if infiltrate:
        site = np.full(len(rows), "", "<U9")
        site[n_before:] = infiltrate["site"]
        act = np.zeros(len(rows), bool)
        act[n_before:] = infiltrate["activated"]
        rim = np.zeros(len(rows), bool)
        rim[n_before:] = infiltrate["rim"]
        cells["lymph_site"], cells["activated"], cells["cytoplasm_rim"] = site, act, rim
    is_tumour = cells["cell_type"] == "tumour"
    npos = int((is_tumour & (cells["grade"] != "negative")).sum())
    nneg = int((is_tumour & (cells["grade"] == "negative")).sum())
    truth: dict[str, Any] = {
        "ki67_positive": npos, "ki67_negative": nneg,
        "ki67_index_pct": 100.0 * npos / (npos + nneg) if npos + nneg else math.nan,
        **{f"n_{t}": int((cells["cell_type"] == t).sum()) for t in CELL_TYPES},
        "cells": cells, "positive_fraction": frac, "weak_share": weak, "lymphocyte_density": lymph_density,
        "stroma_fraction": stroma, "blur_um": blur_um, "noise": noise, "jpeg_quality": quality,
        "stain_scale": scale, "dark_share": dark_share, "plump_stroma": plump, "grey_share": grey_share,
        "grey_tilt": grey_tilt, "tumour": tumour, **spindle,
    }
    if infiltrate:
        truth["lymphocytes"], truth["infiltrate"] = lymphocytes, infiltrate["recipe"]
    return SyntheticTile(rgb, mpp, truth, {"tissue": tissue, "nest": nest, "nuclei": labels})
