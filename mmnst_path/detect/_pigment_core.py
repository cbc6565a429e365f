"""Building blocks shared by the melanin rules (:mod:`mmnst_path.detect.pigment`) and the gate
and veto around the learned pixel model (:mod:`._pigment_gate`): stain mode, melanin / brown
channels, brown bodies (DAB-filled nuclei), openings, growth and cluster tests."""

from __future__ import annotations

import math
import warnings
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import StainError
from ._morphology import _disk, _disk_extreme, _gaussian, _label, _numba_kernels, _od_norm
from ._pigment_params import _BROWN_CHROMOGENS, _MELANIN_COUNTERSTAINS, PigmentParams, _matrix


def pigment_mode(stains: Any, params: PigmentParams | None = None) -> str:
    """``"azure"``, ``"brown"`` or ``"colour"``: how :func:`pigment_mask` separates melanin for
    ``stains`` (azure B counterstain, a brown chromogen, anything else)."""
    params = params or PigmentParams()
    if params.mode != "auto":
        return params.mode
    names = _matrix(stains).names
    if any(n in names for n in _MELANIN_COUNTERSTAINS):
        return "azure"
    return "brown" if any(n in names for n in _BROWN_CHROMOGENS) else "colour"


def stained_melanin_sector(counter: np.ndarray, brown: np.ndarray,
                           binding: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Stained-melanin channel and its hue distance, from a counterstain + DAB unmixing.

    Melanin granules bind azure B (Kamino & Tam 1991; Sayadi et al. 1995 call it metachromatic)
    and absorb both: a granule of melanin concentration ``c`` has the OD ``c * melanin + k c *
    azure_b``. Melanin lies ~6° from DAB (:func:`mmnst_path.stain.melanin_vector`), so in the
    counterstain (``counter``, a) + DAB (``brown``, d) unmixing it reads ``d ~ c``,
    ``a ~ k c``: its hue angle ``θ = atan2(a, d)`` (0° DAB, 90° counterstain) lies in the sector
    ``atan(binding)``, between the positive nuclei (DAB with a little counterstain, θ <~ 20°)
    and the negative ones (counterstain only, θ ~ 90°).

    Returns
    -------
    channel : ndarray
        ``min(a, d)`` (log10 OD): the concentration both dyes reach (0 for a pure stain).
    angle : ndarray
        Degrees by which θ lies outside the sector (0 inside).
    """
    a = np.maximum(counter, 0.0)
    d = np.maximum(brown, 0.0)
    theta = np.degrees(np.arctan2(a, d))
    lo, hi = (math.degrees(math.atan(k)) for k in binding)
    angle = np.maximum(np.maximum(lo - theta, theta - hi), 0.0)
    return np.minimum(a, d), angle


def _melanin_of(matrix: Any, params: PigmentParams) -> np.ndarray:
    from ..stain import melanin_vector

    if params.melanin_vector is not None:
        return np.asarray(params.melanin_vector, dtype=np.float64)
    if "melanin" in matrix.names:
        return np.asarray(matrix.vector("melanin"), dtype=np.float64)
    return melanin_vector()


def _angle_to(od: np.ndarray, vectors: list[np.ndarray]) -> np.ndarray:
    """Smallest angle (degrees) between each pixel's OD vector and any of ``vectors``.

    The dot products are float32 products and sums in a fixed order per pixel, not ``od @ u``:
    a matmul's kernel (BLAS, SIMD body vs tail) depends on the array's shape and on the CPU, so
    the same pixel would get another last bit in the whole tile than among a few pixels
    (:func:`angle_at`; seen on an AVX-512 machine)."""
    norm = _od_norm(od) + 1e-6
    best = None
    for v in vectors:
        u = (v / np.linalg.norm(v)).astype(np.float32)
        dot = od[..., 0] * u[0]
        dot += od[..., 1] * u[1]
        dot += od[..., 2] * u[2]
        cos = dot / norm
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


def brown_hue_vectors(stains: Any, params: PigmentParams | None = None) -> list[np.ndarray]:
    """The OD directions the brown-mode hue angle of :func:`pigment_channels` is measured to:
    melanin and the brown chromogen."""
    params = params or PigmentParams()
    matrix = _matrix(stains)
    brown = [n for n in matrix.names if n in _BROWN_CHROMOGENS]
    if not brown:
        msg = f"brown pigment mode needs hematoxylin and DAB in the stains, got {list(matrix.names)}"
        raise StainError(msg)
    return [_melanin_of(matrix, params), matrix.vector(brown[0])]


def angle_at(od: np.ndarray, vectors: list[np.ndarray], at: np.ndarray) -> np.ndarray:
    """``_angle_to(od, vectors).ravel()[at]`` (degrees), computed at the flat pixel indices ``at``
    of the (M, N, 3) float32 ``od`` only: the same float32 operations per pixel (one dot product
    of 3 per vector, the same compiled norm, arccos), so the same values (tested on real tiles)."""
    sub = np.ascontiguousarray(od.reshape(-1, 3)[at]).reshape(1, -1, 3)
    return _angle_to(sub, vectors).reshape(-1)


def pigment_channels(rgb: np.ndarray, *, stains: Any, params: PigmentParams | None = None,
                     background: Any = None, _with_hematoxylin: bool = False, _od: np.ndarray | None = None,
                     _hue: bool = True, _keep: dict[str, Any] | None = None) -> tuple:
    """Pigment channel (log10 OD) and hue angle (degrees) used by :func:`pigment_mask`.

    ``_od``: ``od_from_rgb(rgb)`` at the white point used here (``background``, else the matrix's)
    when the caller has it. ``_hue=False`` (brown mode only): ``angle`` and ``darkness`` are not
    computed (None); :func:`mmnst_path.detect._pigment_gate.pigment_gate` then computes the angle
    at the pixels it reads only (:func:`angle_at`). ``_keep`` (a dict; brown mode): receives
    ``"deconvolution"``: (the folded lookup tables of the (hematoxylin, brown) unmixing,
    :func:`mmnst_path.stain.deconvolve.folded_luts`; the (M, N, 2) float32 concentrations, or with
    ``_hue=False`` the tuple of their two C-contiguous (M, N) planes (hematoxylin, brown), the very
    arrays returned: the interleaved pair is not held beside them), for a later stage of the tile
    that unmixes the same pixels with the same tables (:func:`mmnst_path.pipeline._worker._planes_at`
    stacks the part it reads). The planes must not be written to.

    Returns
    -------
    channel : (M, N) float32
        Brown (DAB) concentration in brown mode, melanin concentration in colour mode; in azure
        mode the concentration both the counterstain and DAB reach (:func:`stained_melanin_sector`).
    angle : (M, N) float32
        Angle between the pixel's OD vector and the pigment direction(s), degrees; in azure
        mode how far its counterstain / DAB hue lies outside the stained-melanin sector.
    darkness : (M, N) float32
        Norm of the pixel's RGB OD vector (log10 OD).
    mode : str
    """
    from ..stain import StainMatrix, od_from_rgb, separate_stains

    params = params or PigmentParams()
    matrix = _matrix(stains)
    mode = pigment_mode(matrix, params)
    mel = _melanin_of(matrix, params)
    od = od_from_rgb(rgb, background=background if background is not None else matrix.background) if _od is None else _od
    if mode == "brown":
        brown = [n for n in matrix.names if n in _BROWN_CHROMOGENS]
        if not brown or "hematoxylin" not in matrix.names:
            msg = f"brown pigment mode needs hematoxylin and DAB in the stains, got {list(matrix.names)}"
            raise StainError(msg)
        from ..stain.deconvolve import folded_luts
        from ._pigment_planes import brown_planes

        two = StainMatrix(("hematoxylin", brown[0]),
                          np.stack([matrix.vector("hematoxylin"), matrix.vector(brown[0])]),
                          name="pigment-brown", _warn=False)
        tables = folded_luts(two, ("hematoxylin", brown[0]), background=background)  # (separate_stains' own)
        planes = brown_planes(rgb, tables) if not _hue else None  # (the same values, written as planes)
        if planes is not None:
            hematoxylin, channel = planes
            both_planes: Any = planes
        else:
            both = separate_stains(rgb, two, stains=("hematoxylin", brown[0]), background=background)
            channel, hematoxylin = both[..., 1], both[..., 0]
            if not _hue:  # (contiguous planes: the smoothing, the bodies and their features read them)
                channel, hematoxylin = np.ascontiguousarray(channel), np.ascontiguousarray(hematoxylin)
                del both  # (the planes hold its values: not both at once, 2 x 4 bytes a pixel less)
                both_planes = (hematoxylin, channel)
            else:
                both_planes = both
        if _keep is not None:
            _keep["deconvolution"] = (tables, both_planes)
        if not _hue:
            plain = (channel.astype(np.float32, copy=False), None, None, mode)
            return (*plain, hematoxylin) if _with_hematoxylin else plain
        angle = _angle_to(od, [mel, matrix.vector(brown[0])])
    elif mode == "azure":
        counter = [n for n in matrix.names if n in _MELANIN_COUNTERSTAINS]
        brown = [n for n in matrix.names if n in _BROWN_CHROMOGENS]
        if not counter or not brown:
            msg = f"azure pigment mode needs azure B and DAB in the stains, got {list(matrix.names)}"
            raise StainError(msg)
        pair = (counter[0], brown[0])
        two = StainMatrix(pair, np.stack([matrix.vector(n) for n in pair]), name="pigment-azure", _warn=False)
        both = separate_stains(rgb, two, stains=pair, background=background)
        channel, angle = stained_melanin_sector(both[..., 0], both[..., 1], params.azure_binding)
        hematoxylin = both[..., 0]
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
    darkness = _od_norm(od)
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
    at = np.flatnonzero(gaps > 0 if is_hole[1:].all() else is_hole[gaps])  # the hole pixels, in raster order
    if len(at):
        relabel = np.zeros(is_hole.shape[0], dtype=gaps.dtype)
        nh = int(is_hole.sum())
        relabel[is_hole] = np.arange(1, nh + 1, dtype=gaps.dtype)
        lab = relabel[gaps.ravel()[at]]
        # each hole's area and hematoxylin sum over its pixels only (the same additions in the
        # same order as over the whole tile, where every other pixel falls in bin 0)
        area = np.bincount(lab, minlength=nh + 1) * mpp * mpp
        hsum = np.bincount(lab, weights=hematoxylin.ravel()[at], minlength=nh + 1)
        nuclear = (area >= params.ring_hole_um2) & (area <= params.ring_hole_max_um2) & (hsum >= params.ring_hole_h_od * area / (mpp * mpp))
        nuclear[0] = False
        if nuclear.any():
            bl, _ = _label(brown)
            # the brown component directly around each nuclear hole (one pixel outside it)
            in_nuclear = np.zeros(brown.shape, dtype=bool)
            in_nuclear.ravel()[at] = nuclear[lab]
            rim = ndi.binary_dilation(in_nuclear) & brown
            ring_ids = np.unique(bl[rim])
            brown &= ~np.isin(bl, ring_ids[ring_ids > 0])
    body = _opened(brown, params.body_radius_um / mpp)
    near = round(params.filled_margin_um / mpp)
    if margin and near > 0 and body.any():
        body = _dilated(body, _disk_of(near))
    return body


def _dilated(mask: np.ndarray, disk: np.ndarray) -> np.ndarray:
    """``_disk_extreme(mask, disk, op="max", mode="constant")`` of a bool mask: with numba on
    bit-packed rows (:func:`._pigment_open.dilated_mask`, the same mask)."""
    from ._pigment_open import dilated_mask

    fast = dilated_mask(mask, disk)
    if fast is not None:
        return fast
    return _disk_extreme(np.ascontiguousarray(mask), disk, op="max", mode="constant")


@lru_cache(maxsize=64)
def _disk_of(radius_px: float) -> np.ndarray:
    """``_disk_of(radius_px)``, made once per radius (a read-only array: the pigment stage's filters
    share it; ``np.mgrid`` and the comparison cost ~20 µs a call, 15-20 calls a tile)."""
    disk = _disk(radius_px)
    disk.setflags(write=False)
    return disk


def _opened(mask: np.ndarray, radius_px: float) -> np.ndarray:
    """Binary opening by a disk; a structure cut by the image border is not eroded from outside.
    With numba on bit-packed rows (:func:`._pigment_open.opened_mask`, the same mask), else two
    whole-image filters of the edge-padded mask."""
    from ._pigment_open import opened_mask

    disk = _disk_of(radius_px)
    fast = opened_mask(mask, disk)
    if fast is not None:
        return fast
    pad = disk.shape[0]
    padded = np.pad(mask, pad, mode="edge")
    eroded = _disk_extreme(padded, disk, op="min", mode="constant")
    return _disk_extreme(eroded, disk, op="max", mode="constant")[pad:-pad, pad:-pad]


def _hole_labels(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels (M, N) of 4-connected components of ``~mask`` and, per label, whether it is a hole
    of ``mask`` (does not reach the image border, as ``ndi.binary_fill_holes`` sees it; label 0
    is not). The holes' labels are in the raster order of their first pixels, as ``ndi.label``
    numbers them.

    With numba the holes only (:func:`mmnst_path._numba_runs.hole_labels`: 1..n, every
    other pixel 0, ``is_hole`` True but at 0); else ``ndi.label(~mask)``, every component
    labelled. The holes, their pixels and their order are the same (tested)."""
    if _numba_kernels() is not None:
        from .._numba_runs import hole_labels

        gaps = np.zeros(mask.shape, np.int32)
        n = hole_labels(np.ascontiguousarray(mask, dtype=bool), gaps)
        is_hole = np.ones(n + 1, dtype=bool)
        is_hole[0] = False
        return gaps, is_hole
    gaps, n = ndi.label(~mask)
    is_hole = np.ones(n + 1, dtype=bool)
    for edge in (gaps[0], gaps[-1], gaps[:, 0], gaps[:, -1]):
        is_hole[edge] = False
    is_hole[0] = False
    return gaps, is_hole


def nonzero_rc(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero(mask)`` of a 2-D mask: the same row and column index arrays (intp, row-major
    order), from the flat indices (2-10x faster on a tile: numpy's 2-D nonzero walks a
    multi-index per pixel; tests/detect/test_pigment_nonzero.py)."""
    if mask.ndim != 2 or mask.shape[1] == 0:
        rows, cols = np.nonzero(mask)
        return rows, cols
    rows, cols = np.divmod(np.flatnonzero(mask), mask.shape[1])
    return rows, cols


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
        labels, n = _label(mask)
        sizes = np.bincount(labels.ravel(), minlength=n + 1)
        keep = sizes >= min_px
        keep[0] = False
        mask = np.take(keep, labels)  # (np.take: the same values as keep[labels], about twice as fast)
    return mask

def _clustered(mask: np.ndarray, mpp: float, params: PigmentParams) -> np.ndarray:
    """Keep pigment components that lie in a cluster: >= ``cluster_min_um2`` of pigment within
    a ``2 * cluster_radius_um`` wide window somewhere on the component (melanin comes in
    clusters of many granules; an isolated brown dot is an apoptotic body or a nucleolar Ki67
    speck)."""
    win = 2 * round(params.cluster_radius_um / mpp) + 1
    local = ndi.uniform_filter(mask.astype(np.float32), win, mode="constant") * (win * win * mpp * mpp)
    labels, n = _label(mask)
    best = np.zeros(n + 1, dtype=local.dtype)  # per-component maximum of ``local`` (>= 0)
    np.maximum.at(best, labels[mask], local[mask])
    keep = best >= params.cluster_min_um2
    keep[0] = False
    return np.take(keep, labels)

