"""Compiled seeded watershed for :mod:`mmnst_path.detect._morphology` (imported only when used).

:func:`flood` is ``skimage.segmentation.watershed(image, markers, mask=mask)`` (connectivity 1,
no compactness, no watershed line) for a float32 landscape, re-implemented so that it takes the
pixels off its queue in exactly the order scikit-image 0.26 does, hence gives the same labels:

- the priority of a queued pixel is ``(value, age)``: ``value`` the landscape there, raised to
  the value of the pixel that queued it when lower (the flood level never drops), compared as
  float32 (which orders exactly like scikit-image's float64 copy of a float32 image); ``age`` 0
  for every marker pixel and 2, 3, ... in the order the other pixels are queued. ``a`` comes
  before ``b`` when ``a.value < b.value``, or the values are equal (``!=`` false: NaN never
  ties) and ``a.age < b.age``;
- markers are queued in raster order; a pixel taken off the queue visits its neighbours up,
  left, right, down (scikit-image's raveled offsets ``-N, -1, +1, +N``); a neighbour inside
  ``mask`` and not yet labelled takes the pixel's label when it is queued (scikit-image labels
  at push time when there is neither compactness nor a watershed line).

Every non-marker pixel has an age of its own, so the priorities are all distinct unless two
marker pixels have the same value (or a value is NaN); then any exact priority queue takes the
pixels off in the same order. :func:`_flood_keys` packs each priority into one int64 (the
float's bits made monotone, then the age: it compares as scikit-image's two fields do) and uses
a 4-ary heap, about 2-3x faster than scikit-image's binary heap of 32-byte items. When marker
values tie, scikit-image's heap *layout* decides which goes first: as long as such markers are
queued, :func:`_flood_keys` repeats that binary heap step by step (a push appends and sifts up
while strictly before the parent; a pop moves the last item to the root and sifts it down to
the strictly earlier child, the left one when neither child is before the other), so even the
ties fall the same way, and goes 4-ary once the last of them is off the queue. Ties are common
on whole-slide tiles (thousands of markers; a few pairs, mostly among the lowest values). A NaN
(no total order) goes through :func:`_flood_exact`: the same binary heap with float comparisons.

The tests (tests/detect/test_watershed_flood.py) compare the labels with scikit-image's on real
nucleus-detector inputs and on quantised random landscapes full of ties, through both paths.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["distinct_priorities", "flood"]


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _before(values, ages, a, b):  # pragma: no cover - compiled
    """Heap item ``a`` strictly before ``b``: by value, then by age (scikit-image's ``smaller``)."""
    va = values[a]
    vb = values[b]
    if va != vb:
        return va < vb
    return ages[a] < ages[b]


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _swap(values, ages, where, a, b):  # pragma: no cover - compiled
    values[a], values[b] = values[b], values[a]
    ages[a], ages[b] = ages[b], ages[a]
    where[a], where[b] = where[b], where[a]


@njit(cache=True, nogil=True, boundscheck=False)
def _push_exact(values, ages, where, items, value, age, pixel):  # pragma: no cover - compiled
    """Append an item and sift it up while strictly before its parent; returns the new size."""
    child = items
    values[child] = value
    ages[child] = age
    where[child] = pixel
    while child > 0:
        parent = (child + 1) // 2 - 1
        if _before(values, ages, child, parent):
            _swap(values, ages, where, parent, child)
            child = parent
        else:
            break
    return items + 1


@njit(cache=True, nogil=True, boundscheck=False)
def _pop_fix_exact(values, ages, where, items):  # pragma: no cover - compiled
    """After the root was taken (``items`` already decremented): move the last item to the root
    and sift it down to the strictly earlier child, as scikit-image's ``heappop``."""
    if items == 0:
        return
    _swap(values, ages, where, 0, items)
    i = 0
    smallest = 0
    while True:
        left = 2 * i + 1
        right = 2 * i + 2
        if left < items:
            if _before(values, ages, left, i):
                smallest = left
            if right < items and _before(values, ages, right, smallest):
                smallest = right
        else:
            break
        if smallest == i:
            break
        _swap(values, ages, where, i, smallest)
        i = smallest


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _neighbour(p, k, m, n):  # pragma: no cover - compiled
    """Raveled index of neighbour ``k`` (0 up, 1 left, 2 right, 3 down) of pixel ``p`` in an
    (m, n) image, or -1 outside it."""
    i = p // n
    j = p - i * n
    if k == 0:
        return p - n if i > 0 else -1
    if k == 1:
        return p - 1 if j > 0 else -1
    if k == 2:
        return p + 1 if j < n - 1 else -1
    return p + n if i < m - 1 else -1


@njit(cache=True, nogil=True, boundscheck=False)
def _flood_exact(flat_img, flat_mask, lab, m, n, capacity):  # pragma: no cover - compiled
    """The flood with scikit-image's binary heap, step by step (``lab`` holds the markers)."""
    values = np.empty(capacity + 1, np.float32)
    ages = np.empty(capacity + 1, np.int64)
    where = np.empty(capacity + 1, np.int64)
    items = 0
    for p in range(m * n):
        if lab[p] != 0:
            items = _push_exact(values, ages, where, items, flat_img[p], 0, p)
    age = 1
    while items > 0:
        value = values[0]
        p = where[0]
        items -= 1
        _pop_fix_exact(values, ages, where, items)
        label = lab[p]
        for k in range(4):
            q = _neighbour(p, k, m, n)
            if q < 0 or not flat_mask[q] or lab[q] != 0:
                continue
            age += 1
            v = flat_img[q]
            if v < value:
                v = value
            lab[q] = label
            items = _push_exact(values, ages, where, items, v, age, q)


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _monotone_bits(b):  # pragma: no cover - compiled
    """The int32 bits ``b`` of a non-NaN float32 as an int64 in [0, 2^32) ordered like the
    floats (``-0.0`` as ``+0.0``: they compare equal)."""
    if b >= 0:
        return np.int64(b) + 0x80000000
    if b == np.int32(-2147483648):
        return np.int64(0x80000000)
    return np.int64(~b)


#: children per node of :func:`_flood_keys`'s heap once no marker ties (4: fastest of 2 / 4 / 8
#: on real tiles)
ARITY = 4


@njit(cache=True, nogil=True, boundscheck=False)
def _grown(arr):  # pragma: no cover - compiled
    """``arr`` copied into an array twice as long (the heap holds only the flood's front)."""
    bigger = np.empty(2 * arr.shape[0], arr.dtype)
    bigger[: arr.shape[0]] = arr
    return bigger


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _push(keys, where, items, key, pixel, d):  # pragma: no cover - compiled
    """Put ``key`` (pixel ``pixel``) into the ``d``-ary heap of ``items`` keys: from the end,
    up while strictly before the parent (for ``d = 2`` scikit-image's ``heappush``)."""
    child = items
    while child > 0:
        parent = (child - 1) // d
        if key < keys[parent]:
            keys[child] = keys[parent]
            where[child] = where[parent]
            child = parent
        else:
            break
    keys[child] = key
    where[child] = pixel
    return items + 1


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _sift_down(keys, where, items, i, key, pixel, d):  # pragma: no cover - compiled
    """Place ``key`` at node ``i`` of the ``d``-ary heap of ``items`` keys, moving it down to the
    strictly earliest child while that child is before it (the first of equal children: for
    ``d = 2`` scikit-image's ``heappop``, left unless the right one is strictly before it)."""
    while True:
        c = d * i + 1
        if c >= items:
            break
        best = c
        best_key = keys[c]
        for cc in range(c + 1, min(c + d, items)):
            kc = keys[cc]
            if kc < best_key:
                best_key = kc
                best = cc
        if best_key < key:
            keys[i] = best_key
            where[i] = where[best]
            i = best
        else:
            break
    keys[i] = key
    where[i] = pixel


@njit(cache=True, nogil=True, boundscheck=False)
def _flood_keys(bits, flat_mask, lab, m, n, capacity, tied, n_tied, n_markers):  # pragma: no cover - compiled
    """The flood of a NaN-free landscape with each priority packed into one int64, ``monotone
    value bits << 31 | age``: ``a < b`` exactly when scikit-image's ``smaller(a, b)``; the pixel
    rides in a parallel array.

    While marker pixels that tie (``tied``, ``n_tied`` of them) are queued, the heap is
    scikit-image's binary heap, step for step (a moving hole instead of swaps: the same
    comparisons, so the same layout after every step), which decides their ties as it does.
    Once the last of them is off the queue every key left or to come is distinct, so any exact
    priority queue pops in the same order: the rest is heapified and flooded with a 4-ary heap
    (about 2x faster on a whole-slide tile's front of 100k pixels). The heap starts at 2^14
    keys and doubles when full (between runs of :func:`_flood_run`, whose arrays stay fixed)."""
    size = min(capacity + 1, max(1 << 14, n_markers + 8))
    keys = np.empty(size, np.int64)
    where = np.empty(size, np.int32)
    binary = n_tied > 0  # (the arity is a literal at every call: divisions become shifts)
    items = 0
    for p in range(m * n):
        if lab[p] != 0:
            key = _monotone_bits(bits[p]) << 31
            if binary:
                items = _push(keys, where, items, key, p, 2)
            else:
                items = _push(keys, where, items, key, p, ARITY)
    age = 1
    while items > 0:
        items, age, n_tied, binary = _flood_run(bits, flat_mask, lab, m, n, tied, keys, where, items, age,
                                                n_tied, binary)
        if items > 0:  # the heap is full: grow it and go on
            keys = _grown(keys)
            where = _grown(where)


@njit(cache=True, nogil=True, boundscheck=False)
def _flood_run(bits, flat_mask, lab, m, n, tied, keys, where, items, age, n_tied, binary):  # pragma: no cover - compiled
    """Pop and flood (see :func:`_flood_keys`) until the queue is empty or has no room for the
    four pushes of a pop; returns ``(items, age, n_tied, binary)``."""
    low = (np.int64(1) << 31) - 1
    room = keys.shape[0] - 4
    while items > 0 and items <= room:
        top = keys[0]
        p = np.int64(where[0])
        items -= 1
        if binary:
            if items > 0:  # the last item to the root, sifted down
                _sift_down(keys, where, items, 0, keys[items], where[items], 2)
            if (top & low) == 0 and tied[p]:
                n_tied -= 1
                if n_tied == 0:  # no tie left: the same items, as a 4-ary heap (bottom-up)
                    binary = False
                    for i in range((items - 2) // ARITY, -1, -1):
                        _sift_down(keys, where, items, i, keys[i], where[i], ARITY)
        elif items > 0:
            _sift_down(keys, where, items, 0, keys[items], where[items], ARITY)
        level = top >> 31
        label = lab[p]
        for k in range(4):
            q = _neighbour(p, k, m, n)
            if q < 0 or not flat_mask[q] or lab[q] != 0:
                continue
            age += 1
            s = _monotone_bits(bits[q])
            if s < level:
                s = level
            lab[q] = label
            if binary:
                items = _push(keys, where, items, (s << 31) | age, q, 2)
            else:
                items = _push(keys, where, items, (s << 31) | age, q, ARITY)
    return items, age, n_tied, binary


@njit(cache=True, nogil=True, boundscheck=False)
def _tied_markers(bits, flat_mask, flat_markers):  # pragma: no cover - compiled
    """Marker pixels (inside the mask) whose value a marker pixel *of another label* shares,
    as a bool array over the pixels, and their number.

    Only those ties can change labels. Marker pixels of one value come off the queue one after
    the other (nothing else has their priority ``(value, 0)``; what they queue has a later age),
    and when they all carry one label, their order only permutes the ages inside the contiguous
    block of ages they hand out: the same pixels are queued, with the same values and that label.
    Such a block's pixels meet other pixels in the same order (the block's place among other
    ages is fixed), and those of equal value among themselves again come off one after the other
    and hand out a permuted block of ages with the same label, and so on: the labels are the
    same whatever order they took (tests: random plateau seeds, real slide tiles)."""
    n_pix = flat_mask.shape[0]
    tied = np.zeros(n_pix, np.bool_)
    n_markers = 0
    for p in range(n_pix):
        if flat_mask[p] and flat_markers[p] != 0:
            n_markers += 1
    if n_markers < 2:
        return tied, 0
    value = np.empty(n_markers, np.int64)
    at = np.empty(n_markers, np.int64)
    k = 0
    for p in range(n_pix):
        if flat_mask[p] and flat_markers[p] != 0:
            value[k] = _monotone_bits(bits[p])
            at[k] = p
            k += 1
    idx = np.argsort(value, kind="mergesort")
    n_tied = 0
    start = 0
    while start < n_markers:  # groups of equal value
        stop = start + 1
        mixed = False
        while stop < n_markers and value[idx[stop]] == value[idx[start]]:
            if flat_markers[at[idx[stop]]] != flat_markers[at[idx[start]]]:
                mixed = True
            stop += 1
        if mixed:
            for g in range(start, stop):
                tied[at[idx[g]]] = True
            n_tied += stop - start
        start = stop
    return tied, n_tied


@njit(cache=True, nogil=True, boundscheck=False)
def distinct_priorities(image, markers, mask):  # pragma: no cover - compiled
    """True when no value inside ``mask`` is NaN and no two markers of different labels have
    the same value (:func:`_tied_markers`): then the queue order is fixed up to orders that
    give the same labels, :func:`flood` uses its 4-ary heap from the start, and (the flood never
    leaves a 4-connected component of ``mask``) flooding the components together or in groups
    gives the same labels."""
    flat_mask = mask.ravel()
    bits = image.ravel().view(np.int32)
    for p in range(flat_mask.shape[0]):
        if flat_mask[p] and (bits[p] & 0x7FFFFFFF) > 0x7F800000:
            return False
    _, n_tied = _tied_markers(bits, flat_mask, markers.ravel())
    return n_tied == 0


@njit(cache=True, nogil=True, boundscheck=False)
def flood(image, markers, mask, out):  # pragma: no cover - compiled
    """Seeded watershed of ``image`` (M, N) float32 from ``markers`` (M, N) int32 within ``mask``
    (M, N) bool, 4-connected, into ``out`` (M, N) int32: the labels of
    ``skimage.segmentation.watershed(image, markers, mask=mask)`` (see the module docstring).
    Returns True when no markers of different labels tie (:func:`distinct_priorities`)."""
    m, n = image.shape
    flat_mask = mask.ravel()
    lab = out.ravel()
    flat_markers = markers.ravel()
    bits = image.ravel().view(np.int32)
    capacity = 0
    n_markers = 0
    for p in range(m * n):
        if flat_mask[p]:
            if (bits[p] & 0x7FFFFFFF) > 0x7F800000:  # NaN: no total order, float comparisons
                for q in range(m * n):
                    lab[q] = flat_markers[q] if flat_mask[q] else 0
                _flood_exact(image.ravel(), flat_mask, lab, m, n, int(flat_mask.sum()))
                return False
            capacity += 1
            lab[p] = flat_markers[p]
            if lab[p] != 0:
                n_markers += 1
        else:
            lab[p] = 0
    tied, n_tied = _tied_markers(bits, flat_mask, flat_markers)  # ties that can change labels
    _flood_keys(bits, flat_mask, lab, m, n, capacity, tied, n_tied, n_markers)
    return n_tied == 0
