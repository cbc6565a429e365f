"""Intact-nucleus evidence against necrosis: the density of contrasted nuclei embedded in tissue.

A pathologist calls tissue necrotic where its nuclei are gone or reduced to ghosts and fragments:
necrosis is defined by the *absence* of intact nuclei, whatever the colour of the tissue around
them. The tissue classifier sees colour and texture over 2-30 µm; on dense vesicular carcinoma
(large pale nuclei on pale lilac cytoplasm) these look like the ghost cells of the osteosarcoma
necrosis it was trained on. This module counts what tells the two apart, nucleus by nucleus:

1. the hematoxylin (H) and eosin planes of a colour deconvolution, block-averaged to ~1 µm/px
   (``work_um``; finer scans are measured alike);
2. nuclear contrast: H smoothed at nuclear scale (Gaussian ``nucleus_sigma_um``) minus the mean H
   of the *tissue* around it (normalised Gaussian ``surround_sigma_um`` over pixels of total OD >=
   ``tissue_min_od``; glass between cells is not cytoplasm);
3. candidates: local maxima of the contrast within ``min_distance_um`` (one per nucleus);
4. intact: contrast >= ``contrast_od`` (viable nuclei 0.15-0.35 OD at the median, real ghost
   cells and necrotic matrix <= 0.12 at the 90th percentile) and the surround mostly tissue
   (``min_surround_tissue``: a viable nucleus sits in its cytoplasm, >= 0.7 at the 10th
   percentile on the real and generated viable tumour measured; ghost discs floating in a pale
   necrotic field 0.4-0.6) and the stain filling >= ``min_fill`` of a 5 x 5 µm square around the
   peak (a nucleus >= ~4.5 µm across; karyorrhectic fragments and pyknotic dots of 1-3 µm, which
   can be as contrasted at nuclear scale, fill ~0.15-0.45) and, with ``NecrosisParams.
   intact_min_extent_um``, a stained extent (:func:`nucleus_extent_um`) of a nucleus >= ~6 µm across:
   the 3-5 µm karyorrhectic bodies of true necrosis, dense and round, pass the fill test;
5. :func:`intact_density`: intact nuclei per 1000 µm² of tissue on the tissue model's output grid
   (normalised Gaussian ``sigma_um``; viable tumour 1.8-6, real necrosis < 0.1).

:func:`mmnst_path.quantify.necrosis.measure_necrosis` vetoes the model's necrosis on blocks whose
density reaches ``NecrosisParams.intact_veto_density`` (1.0, the default; 0 disables it), on tiles
analysed at
<= ``NecrosisParams.intact_max_mpp_um`` only: at 10x the ghost discs of the project's generator read
as contrasted as vesicular carcinoma nuclei and the veto removed true necrosis. It asks for the
candidates of the model's necrosis blocks and of the reach of the density window only (``blocks``
of :func:`nucleus_peaks`: the same candidates as on the whole tile, bit for bit), and for none on a
tile without model necrosis. The nucleus detector
of :mod:`mmnst_path.detect.nuclei` was tried first: on H&E its foreground (H above the local
background) merges vesicular nuclei with their lilac cytoplasm into large blobs, whose ring contrast
no longer separates viable carcinoma from ghosts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy import ndimage as ndi

__all__ = ["IntactNuclei", "intact_density", "nucleus_extent_um", "nucleus_peaks", "peak_reach_um"]


@dataclass(frozen=True, slots=True, eq=False)
class IntactNuclei:
    """Candidate nuclei of a tile (peaks of nuclear-scale hematoxylin contrast).

    Attributes
    ----------
    row, col : (n,) float64
        Centres in pixels of the analysed tile.
    contrast_od : (n,) float32
        Hematoxylin at the nucleus (Gaussian ``nucleus_sigma_um``) minus the mean hematoxylin of
        the tissue around it (Gaussian ``surround_sigma_um``, glass excluded), log10 OD.
    hematoxylin_od : (n,) float32
        Hematoxylin at the nucleus (Gaussian ``nucleus_sigma_um``), log10 OD.
    surround_tissue : (n,) float32
        Share of tissue pixels in the surround (Gaussian ``surround_sigma_um``): a nucleus of
        viable tissue lies in its cell's cytoplasm; a ghost floating in a pale necrotic field does not.
    fill : (n,) float32
        Share of the square of side ``2 fill_radius_um`` around the peak whose hematoxylin exceeds
        the surround by ``fill_od``: ~1 on a nucleus (>= 5 µm across), <= 0.3 on a karyorrhectic
        fragment or pyknotic dot (1-3 µm), whose contrast at nuclear scale can be as high.
    """

    row: np.ndarray
    col: np.ndarray
    contrast_od: np.ndarray
    hematoxylin_od: np.ndarray
    surround_tissue: np.ndarray
    fill: np.ndarray

    def intact(self, *, contrast_od: float, min_surround_tissue: float = 0.0, min_fill: float = 0.0) -> np.ndarray:
        """(n,) bool: candidates with contrast >= ``contrast_od`` whose surround is tissue by at least
        ``min_surround_tissue`` and whose stain fills at least ``min_fill`` of their square."""
        return ((self.contrast_od >= contrast_od) & (self.surround_tissue >= min_surround_tissue)
                & (self.fill >= min_fill))


def nucleus_peaks(rgb: np.ndarray, *, mpp: float, stains: Any = "H&E", work_um: float = 1.0,
                  nucleus_sigma_um: float = 1.5, surround_sigma_um: float = 5.0, min_distance_um: float = 5.0,
                  tissue_min_od: float = 0.15, min_contrast_od: float = 0.05, fill_radius_um: float = 2.0,
                  fill_od: float = 0.06, od: np.ndarray | None = None, blocks: np.ndarray | None = None,
                  block_factor: int = 1) -> IntactNuclei:
    """Candidate nuclei: local maxima of hematoxylin contrast at nuclear scale, on tissue.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        H&E tile at ``mpp`` µm/px.
    mpp : float
    stains : str or StainMatrix
        With a ``hematoxylin`` vector.
    work_um : float
        The optical densities are block-averaged to the coarsest pixel <= this size (µm), so that
        tiles scanned at 0.25-1 µm/px are measured alike (and fast); tissue and the stains are
        computed on that grid.
    nucleus_sigma_um, surround_sigma_um : float
        Gaussians of the nucleus (a 6-10 µm nucleus) and of its surround (µm).
    min_distance_um : float
        A candidate is the maximum of the contrast within this distance (µm).
    tissue_min_od : float
        Tissue pixels: total optical density (log10, norm of the RGB ODs) >= this; the surround is
        the mean over tissue only, so a ghost nucleus beside a cleft does not look contrasted.
    min_contrast_od : float
        Candidates below this contrast are not returned.
    fill_radius_um, fill_od : float
        Half-side (µm) of the square of :attr:`IntactNuclei.fill` and the excess of hematoxylin over
        the surround (log10 OD) that counts as stained there.
    od : (M, N, 3) float ndarray or None
        The optical density of ``rgb`` with the white point of ``stains`` when the caller has it
        already (it is not computed again).
    blocks : (m, n) bool ndarray or None
        Only the candidates inside these blocks of ``block_factor`` x ``block_factor`` tile pixels
        (from the tile's corner) are wanted: the planes are computed on the boxes around them plus
        the reach of the filters only, and the result is exactly the candidates of the whole tile
        that fall in ``blocks`` (in another order). None: the whole tile.
    block_factor : int
        Tile pixels per side of a block of ``blocks``.

    Returns
    -------
    IntactNuclei
    """
    from ..stain import load_stains, od_from_rgb

    matrix = load_stains(stains)
    f = max(1, int(np.floor(work_um / mpp + 1e-9)))
    if od is None:
        od = od_from_rgb(rgb, background=matrix.background)
    px = f * mpp
    sc = _Scales(nucleus_sigma_um / px, surround_sigma_um / px, round(min_distance_um / px),
                 round(fill_radius_um / px), tissue_min_od, min_contrast_od, fill_od,
                 np.asarray(matrix.inverse[:, matrix.index("hematoxylin")], np.float32))
    if blocks is None:
        return _peaks(od, f, sc)
    return _peaks_in_blocks(od, f, np.asarray(blocks, bool), int(block_factor), sc)


class _Scales(NamedTuple):
    """:func:`nucleus_peaks`' settings on its working grid (pixels of ``f`` tile pixels)."""

    nucleus_sigma: float
    surround_sigma: float
    half_max: int
    half_fill: int
    tissue_min_od: float
    min_contrast_od: float
    fill_od: float
    h_inverse: np.ndarray


def _gauss_radius(sigma: float) -> int:
    """Radius (pixels) of ``scipy.ndimage.gaussian_filter`` at its default truncation (4 sigma)."""
    return int(4.0 * float(sigma) + 0.5)


def _peaks(od: np.ndarray, f: int, sc: _Scales) -> IntactNuclei:
    """:func:`nucleus_peaks` of one OD array whose corner is on the ``f`` grid (pixels relative to it)."""
    from ..classify.tissue_features import block_mean

    # block means of the OD, edge-padded to whole blocks (deconvolution is linear in OD: the same as block means
    # of the stains); strided float32 sums, bit for bit the float32 mean over the reshaped blocks, 3-4x faster
    od = block_mean(od, f)
    r2 = od[..., 0] * od[..., 0] + od[..., 1] * od[..., 1] + od[..., 2] * od[..., 2]  # = (od * od).sum(-1), faster
    tissue = (np.sqrt(r2) >= sc.tissue_min_od).astype(np.float32)
    del r2
    h = np.maximum(od @ sc.h_inverse, 0.0)
    del od
    hs = ndi.gaussian_filter(h, sc.nucleus_sigma)
    tis_sur = ndi.gaussian_filter(tissue, sc.surround_sigma)
    sur = ndi.gaussian_filter(h * tissue, sc.surround_sigma) / np.maximum(tis_sur, 1e-3)
    contrast = hs - sur
    peak = ((contrast == ndi.maximum_filter(contrast, size=2 * sc.half_max + 1)) & (contrast >= sc.min_contrast_od)
            & (tissue >= 0.5))
    r, c = np.nonzero(peak)
    fill = ndi.uniform_filter(((h - sur) >= sc.fill_od).astype(np.float32), size=2 * sc.half_fill + 1)
    return IntactNuclei((r + 0.5) * f - 0.5, (c + 0.5) * f - 0.5, contrast[r, c].astype(np.float32),
                        hs[r, c].astype(np.float32), tis_sur[r, c].astype(np.float32), fill[r, c])


def _peaks_in_blocks(od: np.ndarray, f: int, blocks: np.ndarray, factor: int, sc: _Scales) -> IntactNuclei:
    """The candidates of :func:`_peaks` on the whole ``od`` that fall in ``blocks``, computed on boxes around them.

    Each connected group of blocks is measured on its bounding box widened by the reach of the filters
    (on the ``f`` grid: Gaussians to 4 sigma, then the maximum and fill windows), so every plane value a
    candidate in the group depends on is the whole tile's, bit for bit; boxes that overlap are merged, and
    a box keeps the candidates of its own blocks only (none is returned twice).
    """
    empty = np.zeros(0, np.float64), np.zeros(0, np.float32)
    if factor < 1 or not blocks.any():
        return IntactNuclei(empty[0], empty[0], *(empty[1],) * 4)
    m0, n0 = od.shape[:2]
    mw, nw = -(-m0 // f), -(-n0 // f)
    rs, rn = _gauss_radius(sc.surround_sigma), _gauss_radius(sc.nucleus_sigma)
    margin = max(sc.half_max + max(rs, rn), sc.half_fill + rs) + 2
    labels, n = ndi.label(blocks, structure=np.ones((3, 3), bool))
    boxes = []  # [r0, r1, c0, c1] on the f grid, widened by the margin, and the labels they hold
    for i, sl in enumerate(ndi.find_objects(labels), start=1):
        box = [max(0, sl[0].start * factor // f - margin), min(mw, -(-sl[0].stop * factor // f) + margin),
               max(0, sl[1].start * factor // f - margin), min(nw, -(-sl[1].stop * factor // f) + margin)]
        boxes.append((box, [i]))
    merged = True
    while merged:  # merge overlapping boxes (a plane is then computed once per pixel)
        merged = False
        out: list[tuple[list[int], list[int]]] = []
        for box, ids in boxes:
            for other in out:
                b = other[0]
                if box[0] < b[1] and b[0] < box[1] and box[2] < b[3] and b[2] < box[3]:
                    b[:] = [min(b[0], box[0]), max(b[1], box[1]), min(b[2], box[2]), max(b[3], box[3])]
                    other[1].extend(ids)
                    merged = True
                    break
            else:
                out.append((box, ids))
        boxes = out
    group = np.zeros(n + 1, np.intp)
    for g, (_, ids) in enumerate(boxes, start=1):
        group[ids] = g
    gmap = group[labels]
    parts = []
    for g, (box, _) in enumerate(boxes, start=1):
        r0, c0 = box[0] * f, box[2] * f
        nuc = _peaks(od[r0: min(m0, box[1] * f), c0: min(n0, box[3] * f)], f, sc)
        row, col = nuc.row + r0, nuc.col + c0
        br = np.clip((row // factor).astype(np.intp), 0, gmap.shape[0] - 1)
        bc = np.clip((col // factor).astype(np.intp), 0, gmap.shape[1] - 1)
        keep = gmap[br, bc] == g
        parts.append((row[keep], col[keep], nuc.contrast_od[keep], nuc.hematoxylin_od[keep],
                      nuc.surround_tissue[keep], nuc.fill[keep]))
    return IntactNuclei(*(np.concatenate(a) for a in zip(*parts, strict=True)))


def nucleus_extent_um(od: np.ndarray, row: np.ndarray, col: np.ndarray, *, mpp: float, stains: Any = "H&E",
                      level: float = 0.2, radius_um: float = 6.0, ring_um: float = 0.5, core_um: float = 1.5,
                      base_um: float = 3.5, chunk: int = 512) -> np.ndarray:
    """Radius (µm) at which a candidate's hematoxylin has fallen to ``level`` of its height: its stained extent.

    The hematoxylin of the scan (not smoothed) is averaged over rings ``ring_um`` apart around each centre (ring
    centres at ``(k + 0.5) ring_um``, k = 0 .. ``radius_um / ring_um`` - 1), each pixel shared between the two
    rings its distance from the centre pixel lies between, in proportion (linear binning): the profile moves
    continuously with the pixel size, so 0.5 and 0.4999 µm/px read alike (a hard ring edge on the
    pixel grid made whole rings of pixels jump). Its height is the mean of the core rings (centres <= ``core_um``)
    minus the base, the lowest ring beyond ``base_um`` (the cytoplasm or matrix between the candidate and its
    neighbours); the extent is the first radius beyond the core where the ring mean drops under ``base + level x
    height`` (linear between ring centres; ``radius_um`` when it never does). A vesicular nucleus (pale centre,
    dark membrane) keeps its rings above the level out to its membrane. Rings are at least one pixel apart (at
    ``mpp`` > ``ring_um`` they widen to ``mpp``, so none is empty).

    This is what tells an intact nucleus from a karyorrhectic body: both can be as dark and as contrasted at
    nuclear scale, but an intact carcinoma, stromal or lymphoid nucleus is >= ~5-6 µm across (extent >= ~3 µm
    at the 20 % level, the blur of the scan included), while the fragments of a dead nucleus are round dense
    bodies of 1-5 µm (extent <= ~3 µm; a tight cluster of them reads a little larger).

    Parameters
    ----------
    od : (M, N, 3) float ndarray
        Optical density of the tile (log10, the white point of ``stains``).
    row, col : (n,) float ndarray
        Candidate centres in pixels of ``od`` (read at the nearest pixel).
    mpp : float
    stains : str or StainMatrix
        With a ``hematoxylin`` vector.
    level : float
        Fraction of the height (0-1) at which the extent is read.

    Returns
    -------
    (n,) float32 ndarray
        Extent in µm, between the first ring centre beyond ``core_um`` minus one ring and ``radius_um``.
    """
    from ..stain import load_stains

    matrix = load_stains(stains)
    h_inv = np.asarray(matrix.inverse[:, matrix.index("hematoxylin")], np.float32)
    n = len(row)
    out = np.full(n, radius_um, np.float32)
    if n == 0:
        return out
    ring_w = max(float(ring_um), float(mpp))
    nr = max(2, round(radius_um / ring_w))
    radii = (np.arange(nr) + 0.5) * ring_w
    outer = radii[-1] + ring_w  # a pixel this far shares nothing with the last ring
    half = int(np.ceil(outer / mpp))
    yy, xx = np.mgrid[-half: half + 1, -half: half + 1]
    u = np.hypot(yy, xx) * (mpp / ring_w) - 0.5  # distance in ring spacings from the first ring centre
    inside = u < nr - 0.5 + 0.5  # beyond the last centre + one spacing a pixel weighs nothing
    dy, dx, u = yy[inside].astype(np.intp), xx[inside].astype(np.intp), np.maximum(u[inside], 0.0)
    # linear binning: (offsets, rings) weights, each pixel shared by the two ring centres around its distance
    k0 = u.astype(np.intp)
    f = u - k0
    weights = np.zeros((len(u), nr + 1), np.float64)
    weights[np.arange(len(u)), k0] = 1.0 - f
    weights[np.arange(len(u)), np.minimum(k0 + 1, nr)] += f
    weights = weights[:, :nr]
    core_rings = radii <= core_um
    core_rings[0] = True
    base_rings = radii >= base_um
    if not base_rings.any():
        base_rings[-1] = True
    # per ring: the weighted mean of its pixels; the core: of the core rings' pixels together
    per_ring = np.column_stack([weights, weights[:, core_rings].sum(1)])
    per_ring = (per_ring / per_ring.sum(0)).astype(np.float32)
    first = max(1, int(np.argmax(radii > core_um)))
    r_px = np.clip(np.floor(np.asarray(row, np.float64) + 0.5).astype(np.intp), 0, od.shape[0] - 1)
    c_px = np.clip(np.floor(np.asarray(col, np.float64) + 0.5).astype(np.intp), 0, od.shape[1] - 1)
    # the hematoxylin plane of the box the windows cover (once), then each window gathered from it
    r0, c0 = max(0, int(r_px.min()) - half), max(0, int(c_px.min()) - half)
    r1, c1 = min(od.shape[0], int(r_px.max()) + half + 1), min(od.shape[1], int(c_px.max()) + half + 1)
    plane = np.maximum(od[r0:r1, c0:c1].astype(np.float32, copy=False) @ h_inv, 0.0)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        rr = np.clip(r_px[a:b, None] + dy - r0, 0, plane.shape[0] - 1)
        cc = np.clip(c_px[a:b, None] + dx - c0, 0, plane.shape[1] - 1)
        means = plane[rr, cc] @ per_ring  # (m, nr + 1): ring means, then the core mean
        prof, core = means[:, :nr], means[:, nr]
        base = prof[:, base_rings].min(1)
        lev = base + level * (core - base)
        below = prof[:, first:] < lev[:, None]
        has = below.any(1)
        k = np.where(has, below.argmax(1), 0) + first
        rows_ = np.arange(b - a)
        hi, lo = prof[rows_, k - 1], prof[rows_, k]
        t = np.clip((hi - lev) / np.maximum(hi - lo, 1e-6), 0.0, 1.0)
        out[a:b] = np.where(has, radii[k - 1] + t * ring_w, radius_um)
    return out


def peak_reach_um(*, work_um: float = 1.0, surround_sigma_um: float = 5.0, min_distance_um: float = 5.0) -> float:
    """Context (µm) :func:`nucleus_peaks` needs around a point for the same result as on a whole slide."""
    return 4.0 * surround_sigma_um + min_distance_um + 2.0 * work_um


def intact_density(points: np.ndarray, tissue: np.ndarray, *, block_mpp: float, sigma_um: float,
                   factor: int, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Intact nuclei per 1000 µm² of tissue on a block grid (normalised Gaussian density).

    Parameters
    ----------
    points : (k, 2) float ndarray
        (row, col) of the intact nuclei in tile pixels (before any grid padding).
    tissue : (m, n) bool ndarray
        Tissue blocks of the output grid.
    block_mpp : float
        µm per block side.
    sigma_um : float
        Gaussian window (µm).
    factor : int
        Tile pixels per block side.
    offset : (int, int)
        Rows / cols the tile was padded by to align its blocks (``origin mod factor``).

    Returns
    -------
    (m, n) float32 ndarray
        0 where there is no tissue within the window.
    """
    counts = np.zeros(tissue.shape, np.float64)
    if len(points):
        r = np.clip(((points[:, 0] + offset[0]) // factor).astype(np.intp), 0, tissue.shape[0] - 1)
        c = np.clip(((points[:, 1] + offset[1]) // factor).astype(np.intp), 0, tissue.shape[1] - 1)
        np.add.at(counts, (r, c), 1.0)
    w = tissue.astype(np.float64)
    s = sigma_um / block_mpp
    num = ndi.gaussian_filter(counts * w, s, mode="constant")
    den = ndi.gaussian_filter(w, s, mode="constant")
    area = block_mpp * block_mpp
    with np.errstate(invalid="ignore", divide="ignore"):
        dens = np.where(den > 1e-3, num / (den * area) * 1000.0, 0.0)
    return dens.astype(np.float32)
