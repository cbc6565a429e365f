"""Fast, exact filters shared by the detectors: Gaussian, running min/max, disk morphology,
windowed Gaussian smoothing and a banded watershed.

Private helpers (no public API): every function here is bit-identical to the plain
``scipy.ndimage`` / ``skimage.segmentation.watershed`` call it replaces
(tests/detect/test_morphology_equivalence.py, tests/detect/test_nuclei.py), only cheaper in
time or memory. The Gaussian and running min/max use the numba kernels of :mod:`._numba` when
numba (a default dependency) imports, and scipy otherwise, with the same results; the one
exception is nucleus detection's float32 ``log1p`` (:func:`._numba.log_contrast`), which numpy's
SIMD loops may round 1 ulp differently on some CPUs, so without numba a seed can rarely move.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from .._gauss_half import gaussian_half_kernel

#: Gaussian and running min/max: "auto" = the numba kernels of :mod:`._numba` when numba imports
#: (bit-identical to scipy, faster), "scipy" = always scipy
BACKEND = "auto"
_KERNELS: dict[str, Any] = {}


def _numba_kernels() -> Any:
    """The numba module of exact Gaussian and running min/max passes, or None (numba missing or disabled)."""
    if BACKEND == "scipy":
        return None
    if "mod" not in _KERNELS:
        try:
            from . import _numba
        except ImportError:  # numba is the optional extra "fast"
            _numba = None  # type: ignore[assignment]
        _KERNELS["mod"] = _numba
    return _KERNELS["mod"]


def compiled_kernel(store: dict[str, Any], py_func: Callable[..., Any]) -> Any:
    """``py_func`` compiled by numba (``cache=True, nogil=True, boundscheck=False``) once and kept
    in ``store`` (the calling module's own dict), or None without numba or with the scipy
    backend: the lazy kernels of the pigment stage (``classify/_pigment_*.py``)."""
    if _numba_kernels() is None:
        return None
    if "k" not in store:
        from numba import njit

        store["k"] = njit(cache=True, nogil=True, boundscheck=False)(py_func)
    return store["k"]

def _label(mask: np.ndarray, *, eight: bool = False) -> tuple[np.ndarray, int]:
    """``ndi.label(mask)`` of a 2-D mask (4-connected; ``eight``: 8-connected): the same int32
    labels, numbering and count. With numba by runs (:func:`mmnst_path._numba_runs.component_labels`,
    tests/detect/test_component_labels.py), else (or for other dimensions) ``ndi.label`` itself.
    Any nonzero pixel of ``mask`` is foreground, as for ``ndi.label``."""
    if _numba_kernels() is None or mask.ndim != 2:
        labels, n = ndi.label(mask, structure=np.ones((3, 3), bool) if eight else None)
        return labels, int(n)
    from .._numba_runs import component_labels

    labels = np.zeros(mask.shape, np.int32)
    n = component_labels(np.ascontiguousarray(mask, dtype=bool), labels, eight)
    return labels, int(n)


def _gaussian_half_kernel(sigma_px: float, truncate: float) -> np.ndarray:
    """Right half (centre first) of scipy's normalised Gaussian kernel, float64 (a new array: a
    copy of the one computed once for these two numbers by
    :func:`mmnst_path._gauss_half.gaussian_half_kernel`, which tissue detection shares; a tile
    asks for the same few, 8 of them in nucleus detection alone)."""
    return gaussian_half_kernel(float(sigma_px), float(truncate)).copy()


def _gaussian(image: np.ndarray, sigma_px: float, *, truncate: float = 4.0) -> np.ndarray:
    """``ndi.gaussian_filter(image, sigma_px, truncate=truncate, mode="reflect")`` of a 2-D image.

    A float32 image is filtered by the optional numba kernels (same float64 accumulation, same
    order of additions, float32 rounding after each axis: bit-identical, about 2x faster);
    any other dtype, or without numba, by scipy itself.
    """
    fast = image.dtype == np.float32 and image.ndim == 2 and image.size > 0 and sigma_px > 0
    kern = _numba_kernels() if fast else None
    if kern is None:
        return ndi.gaussian_filter(image, sigma_px, truncate=truncate, mode="reflect")
    w = _gaussian_half_kernel(sigma_px, truncate)
    img = np.ascontiguousarray(image)
    tmp = np.empty_like(img)
    kern.gaussian_axis0(img, w, tmp)
    out = np.empty_like(img)
    kern.gaussian_axis1(tmp, w, out)
    return out


def _uniform(image: np.ndarray, size: int) -> np.ndarray:
    """``ndi.uniform_filter(image, size=size)`` (``mode="reflect"``) of a 2-D image.

    An odd size of a float32 image goes through the numba kernels (scipy's own float64 running
    sums, axis 0 then axis 1, float32 between the axes: bit-identical); anything else through
    scipy.
    """
    kern = None
    if image.ndim == 2 and image.size > 0 and size > 1 and size % 2 == 1 and image.dtype == np.float32:
        kern = _numba_kernels()
    if kern is None:
        return ndi.uniform_filter(image, size=size)
    img = np.ascontiguousarray(image)
    tmp = np.empty_like(img)
    kern.uniform_axis0(img, size // 2, tmp)
    out = np.empty_like(img)
    kern.uniform_axis1(tmp, size // 2, out)
    return out


def _extreme1d(image: np.ndarray, size: int, *, axis: int, op: str, mode: str = "reflect") -> np.ndarray:
    """``ndi.maximum_filter1d`` (``op="max"``) / ``ndi.minimum_filter1d`` (``"min"``) of a 2-D
    image, ``mode`` ``"reflect"`` or ``"constant"`` (0 outside), origin 0.

    Odd sizes of a float32 / uint8 / int32 (label) image go through the numba van Herk / Gil-Werman kernels
    (exact extremes: bit-identical to scipy for finite values); anything else through scipy.
    """
    kern = None
    if (image.ndim == 2 and image.size > 0 and size > 1 and size % 2 == 1 and mode in ("reflect", "constant")
            and image.dtype in (np.float32, np.uint8, np.int32)):
        kern = _numba_kernels()
    if kern is None:
        filt1d = ndi.maximum_filter1d if op == "max" else ndi.minimum_filter1d
        return filt1d(image, size, axis=axis, mode=mode, cval=0)
    img = np.ascontiguousarray(image)
    out = np.empty_like(img)
    fn = kern.extreme_axis0 if axis == 0 else kern.extreme_axis1
    fn(img, size // 2, op == "max", mode == "constant", out)
    return out


def _square_extreme(image: np.ndarray, size: int, *, op: str) -> np.ndarray:
    """``ndi.maximum_filter`` / ``ndi.minimum_filter`` of a 2-D image with ``size=size``
    (``mode="reflect"``): the two separable 1-D passes scipy itself does (bit-identical)."""
    return _extreme1d(_extreme1d(image, size, axis=0, op=op), size, axis=1, op=op)


#: rows of foreground components flooded per call of the banded watershed (bounds its memory)
WATERSHED_BAND_ROWS = 256


def _flood_kernels() -> Any:
    """The compiled watershed of :mod:`._numba_flood`, or None (numba missing or disabled)."""
    if _numba_kernels() is None:
        return None
    if "flood" not in _KERNELS:
        from . import _numba_flood

        _KERNELS["flood"] = _numba_flood
    return _KERNELS["flood"]


def _watershed_by_bands(image: np.ndarray, markers: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``skimage.segmentation.watershed(image, markers, mask=mask)``, one band of whole
    foreground components at a time.

    The flood cannot leave a 4-connected component of ``mask`` (skimage's default
    connectivity), and within one component it pops pixels in the same (value, age) order
    whatever else is flooded beside it, so flooding groups of whole components separately gives
    the same labels -- provided two pixels racing for the same place never tie in value: skimage
    gives all markers the same initial age, so on an exact tie the heap's layout (which depends
    on everything else in the call) decides, and labels may differ at the tie (a one-call
    watershed on differently sized tiles has the same dependence). Each call sees only the
    bounding box of components whose first rows lie within :data:`WATERSHED_BAND_ROWS` of each
    other: the float64 / padded copies skimage makes cover a band instead of the whole tile.

    With numba (:data:`BACKEND`) and a float32 ``image`` the floods are
    :func:`._numba_flood.flood`, which repeats skimage's order pixel for pixel (same labels,
    ties included; tests/detect/test_watershed_flood.py): in one call over the whole image when
    no two markers tie in value (then any grouping gives the same labels; ~98 % of real tiles),
    else in the same bands as skimage.

    Parameters
    ----------
    image : (M, N) float array
        Flooded landscape (lowest first).
    markers : (M, N) int32
        Seeds (0 = none), inside ``mask``.
    mask : (M, N) bool
        Where to flood.

    Returns
    -------
    (M, N) int32 labels (0 outside ``mask`` and in components without a marker).
    """
    kern = _flood_kernels() if image.dtype == np.float32 and image.ndim == 2 and image.size else None
    if kern is not None:
        img = np.ascontiguousarray(image)
        seeds = np.ascontiguousarray(markers, dtype=np.int32)
        where = np.ascontiguousarray(mask, dtype=bool)
        if mask.shape[0] <= WATERSHED_BAND_ROWS or kern.distinct_priorities(img, seeds, where):
            out = np.empty(mask.shape, dtype=np.int32)
            kern.flood(img, seeds, where, out)
            return out

        def watershed(im: np.ndarray, mk: np.ndarray, mask: np.ndarray) -> np.ndarray:
            lab = np.empty(mask.shape, dtype=np.int32)
            kern.flood(np.ascontiguousarray(im), np.ascontiguousarray(mk, dtype=np.int32),
                       np.ascontiguousarray(mask, dtype=bool), lab)
            return lab
    else:
        from skimage.segmentation import watershed as sk_watershed

        def watershed(im: np.ndarray, mk: np.ndarray, mask: np.ndarray) -> np.ndarray:
            return np.asarray(sk_watershed(im, mk, mask=mask))

    if mask.shape[0] <= WATERSHED_BAND_ROWS:
        return watershed(image, markers, mask=mask).astype(np.int32, copy=False)
    comp, n_comp = _label(mask)
    if n_comp == 0:
        return np.zeros(mask.shape, dtype=np.int32)
    boxes = ndi.find_objects(comp)
    tops = np.array([b[0].start for b in boxes])
    if np.any(np.diff(tops) < 0):  # ndimage numbers components in raster order; if not, one call
        return watershed(image, markers, mask=mask).astype(np.int32, copy=False)
    bottoms = np.array([b[0].stop for b in boxes])
    lefts = np.array([b[1].start for b in boxes])
    rights = np.array([b[1].stop for b in boxes])
    out = np.zeros(mask.shape, dtype=np.int32)
    lo = 0
    while lo < n_comp:
        hi = max(lo + 1, int(np.searchsorted(tops, tops[lo] + WATERSHED_BAND_ROWS, side="left")))
        win = (slice(int(tops[lo]), int(bottoms[lo:hi].max())), slice(int(lefts[lo:hi].min()), int(rights[lo:hi].max())))
        sub = comp[win]
        band = (sub > lo) & (sub <= hi)  # components lo+1 .. hi
        if markers[win][band].any():
            flooded = watershed(image[win], markers[win], mask=band)
            out[win][band] = flooded[band]
        lo = hi
    return out


def _disk(radius_px: float) -> np.ndarray:
    """Bool disk footprint of radius ``radius_px`` (pixels), shape (2r+1, 2r+1), r = max(1, round(radius_px))."""
    r = max(1, round(radius_px))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (yy * yy + xx * xx) <= radius_px * radius_px + 0.25


def _disk_extreme(image: np.ndarray, footprint: np.ndarray, *, op: str, mode: str = "reflect") -> np.ndarray:
    """Grey dilation (``op="max"``) or erosion (``op="min"``) of ``image`` by a disk ``footprint``.

    Exactly ``ndi.maximum_filter`` / ``ndi.minimum_filter`` with that footprint (``mode``
    ``"reflect"``, or ``"constant"`` with 0 outside), computed as one 1-D filter along the
    columns per distinct chord length of the disk and one row shift per disk row: about
    ``4 r`` passes instead of ``pi r²`` comparisons per pixel (with numba: the same in one
    compiled pass, :func:`mmnst_path.detect._numba.disk_extreme`, for float32, uint8 and int32
    images). Extremes are exact, so the result is bit-identical; bool images are filtered as
    uint8 and returned as bool.

    Parameters
    ----------
    image : (M, N) ndarray
        Float or bool image.
    footprint : (2r+1, 2r+1) bool ndarray
        Centro-symmetric footprint whose rows are centred runs (a disk).
    op : {"max", "min"}
    mode : {"reflect", "constant"}

    Returns
    -------
    (M, N) ndarray, dtype of ``image``
    """
    size = footprint.shape[0]
    r = size // 2
    m, n = image.shape
    is_bool = image.dtype == bool
    work = image.view(np.uint8) if is_bool else image
    if size < 3 or min(m, n) <= size:  # tiny images: the plain footprint filter
        filt = ndi.maximum_filter if op == "max" else ndi.minimum_filter
        out = filt(work, footprint=footprint, mode=mode, cval=0)
        return out.view(bool) if is_bool else out
    halves = footprint.sum(axis=1) // 2
    kern = _numba_kernels() if work.dtype in (np.float32, np.uint8, np.int32) else None
    if kern is not None:  # one compiled pass: the same row extremes and shifted combinations
        out = np.empty_like(work)
        runs = np.where(footprint.any(axis=1), halves, -1).astype(np.int64)
        kern.disk_extreme(np.ascontiguousarray(work), runs, op == "max", mode == "constant", out)
        return out.view(bool) if is_bool else out
    combine = np.maximum if op == "max" else np.minimum
    by_half = _row_extremes(work, {int(h) for h, row in zip(halves, footprint, strict=True) if row.any()},
                            combine, reflect=mode == "reflect")
    out = np.empty_like(work)
    first = True
    for i in range(size):
        if not footprint[i].any():
            continue
        _combine_shifted(out, by_half[int(halves[i])], i - r, combine, reflect=mode == "reflect", first=first)
        first = False
    return out.view(bool) if is_bool else out


def _row_extremes(work: np.ndarray, halves: set[int], combine: Any, *, reflect: bool) -> dict[int, np.ndarray]:
    """Running extreme of ``work`` along its rows over ``2 h + 1`` columns, for every ``h`` in
    ``halves`` (``{h: (M, N) array}``; ``h = 0`` is ``work`` itself).

    All widths from one recursion: ``E_1[j] = ext(x[j-1], x[j], x[j+1])`` and ``E_h[j] =
    ext(E_(h-1)[j-1], E_(h-1)[j+1])`` (the two windows cover ``[j-h, j+h]``), one vectorised
    pass per width on the image padded once by the largest half (reflected like scipy's
    ``"reflect"``, or 0). Extremes are exact: equal to ``maximum_filter1d`` / ``minimum_filter1d``.
    """
    n = work.shape[1]
    big = max(halves)
    out: dict[int, np.ndarray] = {0: work} if 0 in halves else {}
    if big == 0:
        return out
    cur = np.pad(work, ((0, 0), (big, big)), mode="symmetric" if reflect else "constant")
    for h in range(1, big + 1):
        # cur[:, k] holds E_(h-1) at padded column k + h - 1; the new one E_h at k + h
        if h == 1:
            nxt = combine(cur[:, :-2], cur[:, 1:-1])
            combine(nxt, cur[:, 2:], out=nxt)
        else:
            nxt = combine(cur[:, :-2], cur[:, 2:])
        cur = nxt
        if h in halves:  # original column j is padded column j + big
            out[h] = cur[:, big - h : big - h + n]
    return out


def _combine_shifted(out: np.ndarray, rows: np.ndarray, dr: int, combine: Any, *, reflect: bool,
                     first: bool) -> None:
    """``out[i] = combine(out[i], rows[i + dr])`` for every row ``i`` (in place), rows outside
    the image read as reflected (``reflect``) or as 0; ``first``: assign instead of combine."""
    m = out.shape[0]
    a, b = max(0, -dr), m - max(0, dr)  # out rows whose source row i + dr lies in the image
    if first:
        out[a:b] = rows[a + dr : b + dr]
    else:
        combine(out[a:b], rows[a + dr : b + dr], out=out[a:b])
    for lo, hi in ((0, a), (b, m)):
        if lo == hi:
            continue
        if reflect:  # scipy "reflect": row -1 is row 0, row m is row m - 1
            src = np.arange(lo, hi) + dr
            src = np.where(src < 0, -src - 1, np.where(src >= m, 2 * m - src - 1, src))
            vals = rows[src]
        else:
            vals = np.zeros_like(rows[lo:hi])
        if first:
            out[lo:hi] = vals
        else:
            combine(out[lo:hi], vals, out=out[lo:hi])


def _dilated_um(mask: np.ndarray, margin_um: float, mpp: float) -> np.ndarray:
    """``mask`` dilated by a disk of ``margin_um`` (no change below half a pixel)."""
    r = round(margin_um / mpp)
    # exactly ndi.binary_dilation(mask, structure=_disk(r)), by separable chord filters
    return _disk_extreme(np.ascontiguousarray(mask), _disk(r), op="max", mode="constant") if r > 0 else mask


def _smoothed_at(images: tuple[np.ndarray, ...], sigma_px: float, where: np.ndarray) -> list[np.ndarray]:
    """``ndi.gaussian_filter(image, sigma_px, truncate=4.0)`` of each image, at the ``where``
    pixels only ((k,) arrays in ``where`` order; k = ``where.sum()``).

    Filters the bounding box of ``where`` grown by the kernel radius (clipped to the image) or,
    when ``where`` is sparse, that of each group of its pixels whose grown boxes touch (the
    8-connected components of ``where`` dilated by the radius, so overlapping windows are
    filtered once, together): every value read is the one the full-image filter gives (the
    window reaches the image border or lies a whole kernel radius beyond the pixel), so the
    result is bit-identical and cheaper.
    """
    rad = int(4.0 * float(sigma_px) + 0.5)
    m, n = where.shape

    def grown(rs: slice, cs: slice) -> tuple[slice, slice]:
        return (slice(max(rs.start - rad, 0), min(rs.stop + rad, m)),
                slice(max(cs.start - rad, 0), min(cs.stop + rad, n)))

    rows = np.flatnonzero(where.any(axis=1))
    cols = np.flatnonzero(where.any(axis=0))
    whole = grown(slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
    whole_area = (whole[0].stop - whole[0].start) * (whole[1].stop - whole[1].start)
    k = int(np.count_nonzero(where))
    if k < whole_area // 16:  # sparse: maybe cheaper group by group
        # groups whose grown windows touch are one group (one window, no pixel filtered twice):
        # label ``where`` dilated by the kernel radius; a group's box is then its window
        reach = _square_extreme(where.view(np.uint8), 2 * rad + 1, op="max") if rad else where.view(np.uint8)
        groups, _ = _label(reach, eight=True)
        wins = list(ndi.find_objects(groups))
        if sum((a.stop - a.start) * (b.stop - b.start) for a, b in wins) < whole_area // 2:
            index = np.zeros(where.shape, dtype=np.intp)
            index[where] = np.arange(k)
            outs = [np.empty(k, dtype=im.dtype) for im in images]
            for gid, win in enumerate(wins, start=1):
                sel = (groups[win] == gid) & where[win]
                at = index[win][sel]
                for out, im in zip(outs, images, strict=True):
                    out[at] = _gaussian(im[win], sigma_px)[sel]
            return outs
    sub = where[whole]
    return [_gaussian(im[whole], sigma_px)[sub] for im in images]


def _fill_from_neighbours(plane: np.ndarray, hole: np.ndarray, sigma_px: float) -> np.ndarray:
    """``plane`` with its ``hole`` pixels replaced by the Gaussian-weighted mean of the nearby
    non-hole pixels (normalised convolution at ``sigma_px`` and ``3 sigma_px``; 0 where no
    non-hole pixel lies within reach)."""
    out = plane.copy()
    out[hole] = _filled_at(plane, hole, sigma_px)
    return out


def _filled_at(plane: np.ndarray, hole: np.ndarray, sigma_px: float,
               first: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The filled values of :func:`_fill_from_neighbours` at the ``hole`` pixels ((k,) array).

    ``first``: the numerator and denominator blurs at ``sigma_px`` on the hole pixels, when the
    caller already has them.
    """
    keep = (~hole).astype(np.float32)
    vals = plane[hole].copy()
    todo = np.ones(vals.shape, dtype=bool)  # over the hole pixels
    for k, sigma in enumerate((sigma_px, 3.0 * sigma_px)):
        if sigma < 0.3 or not todo.any():
            continue
        if k == 0 and first is not None:
            num, den = first
        else:
            where = np.zeros(hole.shape, dtype=bool)
            where[hole] = todo
            num_w, den_w = _smoothed_at((plane * keep, keep), sigma, where)
            num = np.zeros(vals.shape, dtype=num_w.dtype)
            den = np.zeros(vals.shape, dtype=den_w.dtype)
            num[todo], den[todo] = num_w, den_w
        ok = todo & (den > 1e-3)
        vals[ok] = num[ok] / den[ok]
        todo &= ~ok
    vals[todo] = 0.0
    return vals


def _gaussian_at(image: np.ndarray, sigma_px: float, at: tuple[np.ndarray, ...]) -> np.ndarray:
    """``_gaussian(image, sigma_px)[at]`` for ``at = np.nonzero(where)`` (row-major pixels), computed
    at those pixels only with the numba kernels (same operations, bit-identical; a float32 image),
    else by filtering the whole image. ``sigma_px < 0.3``: no blur (``image[at]``)."""
    if sigma_px < 0.3:
        return image[at]
    kern = _numba_kernels() if image.dtype == np.float32 and image.ndim == 2 and image.size > 0 else None
    if kern is None:
        return _gaussian(image, sigma_px)[at]
    out = np.empty(at[0].shape[0], np.float32)
    kern.gaussian_at(np.ascontiguousarray(image), _gaussian_half_kernel(sigma_px, 4.0),
                     at[0].astype(np.intp, copy=False), at[1].astype(np.intp, copy=False), out)
    return out



def _od_norm(v: np.ndarray) -> np.ndarray:
    """``np.sqrt(np.einsum("...c,...c->...", v, v))`` of an (M, N, 3) OD image: with numba and
    float32, one compiled pass making the same float32 operations (bit-identical, tested), else
    numpy itself."""
    kern = _numba_kernels() if v.dtype == np.float32 and v.ndim == 3 and v.shape[2] == 3 else None
    if kern is None:
        return np.sqrt(np.einsum("...c,...c->...", v, v))
    out = np.empty(v.shape[:2], np.float32)
    kern.norm3(np.ascontiguousarray(v), out)
    return out
