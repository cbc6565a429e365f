"""Lymphocyte infiltrates of the generated Ki67 tiles (``ki67_cells_tile(lymphocytes="infiltrate")``).

Real lymphocytes in a carcinoma's stroma are rarely scattered singly: they gather in dense
aggregates (lymphoid aggregates, some with a germinal centre), in cuffs around small vessels
(elongated aggregates where the vessel runs in the section plane) and in a band along the
tumour's invasive front that spills between the tumour cells at the nest's edge. In an aggregate
the nuclei touch and overlap slightly (centre spacing about 0.8-1.1 diameters), they are round
to pressed oval, 2-3.8 µm in radius with clumped ("soccer-ball") chromatin, a few activated ones
(immunoblasts, centroblasts) larger (3.5-4.5 µm), paler and with open chromatin; a thin rim of
pale cytoplasm shows around some. 2-10 % are Ki67-positive, more in a germinal centre.

:func:`paint_infiltrate` lays these out with a generator of its own and paints each lymphocyte
through the tile's ``paint`` (so the truth per nucleus is recorded as for every other nucleus);
the nuclei painted before it (tumour, stroma, macrophages) are left as they are and a lymphocyte's
core never lies on one of them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ._synthetic_draw import _ellipse, _field

__all__ = ["paint_infiltrate"]

#: Sites of an infiltrate lymphocyte in the truth (``cells["lymph_site"]``; "" for other cells).
LYMPH_SITES = ("aggregate", "band", "nest_edge", "single")
#: Range of a packed lymphocyte's centre distance to its neighbours, in units of the sum of the two
#: radii (drawn per candidate pair check), in aggregates and bands; a module setting so that a
#: benchmark can ask how much the packing alone makes a family hard.
PACKED_SPACING = (0.8, 1.1)


def _aggregate_masks(strom: np.ndarray, nest: np.ndarray, rng: np.random.Generator, px: float,
                     n_agg: int, size_um: float, edge_share: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Masks of ``n_agg`` aggregates (noisy ellipses, 0.7-1.3 x ``size_um`` semi-axis, axis ratio
    1-3: elongated ones are perivascular cuffs cut along the vessel) centred on the nest's border
    (share ``edge_share``) or in the stroma; each with its normalised radius (0 centre, 1 edge)."""
    shape = strom.shape
    border = strom & ndi.binary_dilation(nest, iterations=max(1, int(2 * px)))
    out = []
    for _ in range(n_agg):
        pool = border if (border.any() and rng.random() < edge_share) else strom
        rr, cc = np.nonzero(pool)
        if len(rr) == 0:
            break
        k = int(rng.integers(len(rr)))
        r0, c0 = float(rr[k]), float(cc[k])
        a = size_um * rng.uniform(0.7, 1.3) * px
        b = a / rng.uniform(1.0, 3.0)
        ang = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
        u = (yy - r0) * math.cos(ang) + (xx - c0) * math.sin(ang)
        v = -(yy - r0) * math.sin(ang) + (xx - c0) * math.cos(ang)
        d = np.sqrt((u / a) ** 2 + (v / b) ** 2)
        rough = d + 0.15 * _field(shape, max(2.0, 3.0 * px), rng)
        out.append((rough < 1.0, d))
    return out


def _band_mask(strom: np.ndarray, nest: np.ndarray, rng: np.random.Generator, px: float,
               width_um: float, spill_um: float, coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """A patchy band along the nest's border: stroma within ``width_um`` of the nest and nest within
    ``spill_um`` of the stroma, on a share ``coverage`` of the border (smooth random patches)."""
    to_nest = ndi.distance_transform_edt(~nest)
    to_strom = ndi.distance_transform_edt(nest)
    patch = _field(strom.shape, 12.0 * px, rng)
    on = patch > np.quantile(patch, 1.0 - coverage)
    band = strom & (to_nest <= width_um * px) & on
    spill = nest & (to_strom <= spill_um * px) & on
    return band, spill


def paint_infiltrate(tissue: np.ndarray, nest: np.ndarray, strom: np.ndarray, labels: np.ndarray,
                     hem: np.ndarray, rng: np.random.Generator, paint_rng: np.random.Generator, *,
                     mpp: float, scale: float, single_density: float, grade_of: Any,
                     paint: Any) -> dict[str, Any]:
    """Lay out and paint the lymphocytes of an infiltrate tile; returns the tile's draws.

    Parameters
    ----------
    tissue, nest, strom : (M, N) bool
        Tissue, tumour region and stroma of the tile.
    labels : (M, N) int32
        Nucleus labels painted so far (every nucleus before the lymphocytes).
    hem : (M, N) float32
        Counterstain plane (a lymphocyte's pale cytoplasm rim is painted into it, unlabelled).
    rng : numpy.random.Generator
        The layout's generator (sites, sizes, grades' shares).
    paint_rng : numpy.random.Generator
        The generator the tile's ``paint`` textures with (the cytoplasm rim's texture).
    mpp : float
        Pixel size (µm/px).
    scale : float
        The tile's stain intensity factor.
    single_density : float
        Lone lymphocytes per 1000 µm² of tissue outside the aggregates and the band.
    grade_of : callable
        ``grade_of(p_positive, weak_share) -> (grade, dab_od)`` of the tile.
    paint : callable
        The tile's ``paint(r, c, a, b, ang, h_od, grade, d_od, cell_type, clump)``.

    Returns
    -------
    dict
        ``recipe`` (the tile's draws) and per painted lymphocyte, in painting order, ``site`` (one
        of ``LYMPH_SITES``), ``activated`` and ``rim`` (a cytoplasm rim was painted).
    """
    px = 1.0 / mpp
    other = labels > 0
    room = ndi.distance_transform_edt(~other) if other.any() else np.full(labels.shape, np.inf)
    n_agg = int(rng.integers(0, 4))
    size_um = rng.uniform(12.0, 40.0)
    edge_share = rng.uniform(0.0, 1.0)
    fill = rng.uniform(0.5, 1.0)
    p_pos = rng.uniform(0.02, 0.10)
    act_share = rng.uniform(0.03, 0.15)
    rim_share = rng.uniform(0.1, 0.5)
    band_on = n_agg == 0 or rng.random() < 0.7
    width_um, spill_um, coverage = rng.uniform(8.0, 25.0), rng.uniform(3.0, 12.0), rng.uniform(0.2, 0.6)
    aggs = _aggregate_masks(strom, nest, rng, px, n_agg, size_um, edge_share)
    gc = [bool(rng.random() < 0.25) for _ in aggs]  # germinal-centre-like: proliferating centre
    gc_pos = [rng.uniform(0.2, 0.5) for _ in aggs]
    band = spill = np.zeros_like(tissue)
    if band_on:
        band, spill = _band_mask(strom, nest, rng, px, width_um, spill_um, coverage)

    centres = np.zeros((0, 2))
    radii = np.zeros(0)
    sites: list[str] = []
    activated: list[bool] = []
    rims: list[bool] = []

    def nucleus(germinal: bool) -> tuple[float, bool]:
        act = rng.random() < (0.3 if germinal else act_share)
        rad = rng.uniform(3.5, 4.5) if act else rng.triangular(2.0, 2.7, 3.8)
        return rad * px, bool(act)

    def fill_region(region: np.ndarray, site: str, spacing: tuple[float, float], target: int,
                    core: float, p_of: Any) -> None:
        nonlocal centres, radii
        rr, cc = np.nonzero(region & tissue)
        if len(rr) == 0 or target <= 0:
            return
        placed = 0
        for k in rng.integers(0, len(rr), size=40 * target):
            if placed >= target:
                break
            r = float(rr[k]) + rng.uniform(-0.5, 0.5)
            c = float(cc[k]) + rng.uniform(-0.5, 0.5)
            p, germinal = p_of(int(rr[k]), int(cc[k]))
            rad, act = nucleus(germinal)
            if room[int(rr[k]), int(cc[k])] < core * rad:
                continue
            if radii.size:
                d = np.hypot(centres[:, 0] - r, centres[:, 1] - c)
                if (d < rng.uniform(*spacing) * (radii + rad)).any():
                    continue
            centres = np.vstack([centres, (r, c)])
            radii = np.append(radii, rad)
            e = rng.uniform(0.85, 1.0) if act else rng.uniform(0.75, 1.0)
            ang = rng.uniform(0, np.pi)
            a, b = rad / math.sqrt(e), rad * math.sqrt(e)
            rim = bool(rng.random() < rim_share)
            if rim:  # thin rim of pale cytoplasm, no label
                grow = rng.uniform(0.6, 1.2) * px
                _ellipse(hem, r, c, a + grow, b + grow, ang, scale * rng.uniform(0.08, 0.14), paint_rng)
            gname, d_od = grade_of(p, 0.3)
            if act:  # activated: paler, open chromatin with coarse clumps
                h_od, clump = rng.uniform(0.3, 0.5), rng.uniform(0.5, 0.7)
            else:
                h_od, clump = rng.uniform(0.55, 1.0), rng.uniform(0.25, 0.45)
            paint(r, c, a, b, ang, h_od, gname, d_od, "lymphocyte", clump)
            sites.append(site)
            activated.append(act)
            rims.append(rim)
            placed += 1

    mean_area = math.pi * (2.8 * px) ** 2
    for (mask, dist), is_gc, gp in zip(aggs, gc, gc_pos, strict=True):
        area = float((mask & tissue).sum())
        target = int(fill * 0.55 * area / (mean_area * 0.9 ** 2))
        fill_region(mask, "aggregate", PACKED_SPACING, target,
                    0.7, lambda r, c, d=dist, g=is_gc, q=gp: (q, True) if g and d[r, c] < 0.6 else (p_pos, False))
    if band_on:
        area = float((band & tissue).sum())
        fill_region(band, "band", PACKED_SPACING, int(fill * 0.45 * area / (mean_area * 0.9 ** 2)), 0.7,
                    lambda r, c: (p_pos, False))
        area = float((spill & tissue).sum())
        fill_region(spill, "nest_edge", (0.85, 1.1), int(fill * 0.3 * area / (mean_area * 0.9 ** 2)), 0.7,
                    lambda r, c: (p_pos, False))
    busy = band | spill
    for mask, _ in aggs:
        busy = busy | mask
    free = tissue & ~busy
    n_single = int(single_density * float(free.sum()) * mpp * mpp / 1000.0)
    fill_region(free, "single", (1.3, 1.6), n_single, 0.9, lambda r, c: (p_pos, False))
    recipe = {
        "n_aggregates": len(aggs), "aggregate_semi_axis_um": size_um, "aggregate_edge_share": edge_share,
        "germinal_centres": int(sum(gc)), "infiltrate_fill": fill, "lymph_positive_fraction": p_pos,
        "activated_share": act_share, "cytoplasm_rim_share": rim_share, "band": bool(band_on),
        "band_width_um": width_um, "band_spill_um": spill_um, "band_coverage": coverage,
        "single_density": single_density,
    }
    return {"recipe": recipe, "site": sites, "activated": activated, "rim": rims}
