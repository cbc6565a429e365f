"""A forest's arrays in a compact, lossless form for model files (format version 3).

The expanded arrays of :class:`~mmnst_path.classify._forest.Forest` spend 4 + 4 + 4 + 8 + 4 C
bytes on every node, inner nodes and leaves alike, most of them implied by the rest. A forest
written by :meth:`Forest.from_sklearn` has its trees one after another, each in depth-first
order (a node's left child is the next node), leaves with -1 children, feature -1 and
threshold 0, inner nodes with all-zero values. Such a forest is stored as

- ``leaf_bits``: one bit a node, set at leaves (``numpy.packbits``, zero padding). The trees'
  shapes, the children and the roots follow from it: in depth-first order a node's right child
  is the next node at the same count of (inner nodes - leaves) before it;
- ``split_feature``: the feature index of each inner node, in the narrowest unsigned type;
- ``split_threshold32``: the largest float32 not above each inner node's float64 threshold,
  as its four byte planes ((4, inner) uint8: deflate finds the repeats of the sign and
  exponent bytes), and ``split_threshold_rest``: the float64 threshold's bits minus those of
  that float32 (as float64), byte planes of the narrowest signed integer (scikit-learn's
  thresholds are midpoints of float32 values: mostly 0 or half a float32 step);
- ``leaf_value``: the class fractions of the leaves but the last class (float32), and
  ``leaf_value_rest``: the last class's float32 bits minus those of one minus the others' sum
  (0 below 1e-6), narrowest signed integer.

Every step is exact: :func:`unpack_forest` gives the expanded arrays bit for bit (dtypes
included), so predictions and the model id (computed over the expanded arrays) are those of the
expanded file. :func:`pack_forest` checks this by unpacking what it packed and gives None for a
forest it cannot store so (another layout), which is then written expanded. Sizes of the
shipped models: ``benchmarks/experiments/compact_models_s41.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._forest import ARRAY_KEYS, Forest

__all__ = ["PACKED_KEYS", "pack_forest", "unpack_forest"]

PACKED_KEYS = ("leaf_bits", "split_feature", "split_threshold32", "split_threshold_rest", "leaf_value",
               "leaf_value_rest")
#: one minus the other classes' sum below this predicts a last-class fraction of 0
_TINY = 1e-6


def _narrow(a: np.ndarray, *, signed: bool) -> np.ndarray:
    """``a`` (integers) in the narrowest (un)signed integer type that holds it."""
    lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
    types = (np.int8, np.int16, np.int32, np.int64) if signed else (np.uint8, np.uint16, np.uint32, np.uint64)
    for t in types:
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:
            return a.astype(t)
    msg = f"integers in [{lo}, {hi}] fit no {'signed' if signed else 'unsigned'} 64-bit type"
    raise ValueError(msg)


def _le(a: np.ndarray) -> np.ndarray:
    """``a`` in little-endian byte order (a copy only on a big-endian host): the file's and the model id's order
    whatever the host's, as ``numpy.save`` keeps it for the arrays of format versions 1 and 2."""
    return a.astype(a.dtype.newbyteorder("<"), copy=False)


def _planes(a: np.ndarray) -> np.ndarray:
    """(itemsize, size) uint8: byte ``b`` (little-endian) of every element in row ``b``."""
    flat = _le(np.ascontiguousarray(a).reshape(-1))
    return np.ascontiguousarray(flat.view(np.uint8).reshape(flat.size, flat.dtype.itemsize).T)


def _from_planes(planes: np.ndarray, dtype: type, name: str) -> np.ndarray:
    """The elements of :func:`_planes` back, as ``dtype`` of the planes' itemsize."""
    if planes.dtype != np.uint8 or planes.ndim != 2:
        msg = f"{name} has dtype {planes.dtype} and shape {planes.shape}, expected uint8 (itemsize, n)"
        raise ValueError(msg)
    size = planes.shape[0]
    dt = np.dtype("<f4") if dtype is np.float32 else np.dtype(f"<i{size}") if size in (1, 2, 4, 8) else None
    if dt is None or dt.itemsize != size:
        msg = f"{name} has {size} byte planes, expected {4 if dtype is np.float32 else '1, 2, 4 or 8'}"
        raise ValueError(msg)
    return np.ascontiguousarray(planes.T).view(dt).reshape(-1)


def _floor32(t: np.ndarray) -> np.ndarray:
    """The largest float32 not above each float64 (-inf below float32's range)."""
    with np.errstate(over="ignore"):
        t32 = t.astype(np.float32)
    above = t32.astype(np.float64) > t
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


def _last_guess(head: np.ndarray) -> np.ndarray:
    """float32 guess of the last class fraction from the others ((L, C-1) float32)."""
    rest = 1.0 - head.astype(np.float64).sum(axis=1)
    rest[rest < _TINY] = 0.0
    return rest.astype(np.float32)


def pack_forest(forest: Forest) -> dict[str, np.ndarray] | None:
    """The compact arrays of ``forest`` (keys :data:`PACKED_KEYS`), or None when its layout is not
    the depth-first one of :meth:`Forest.from_sklearn` (then only the expanded arrays hold it)."""
    leaf = forest.left < 0
    inner = ~leaf
    t = forest.threshold[inner]
    t32 = _floor32(t)
    if not np.all(np.isfinite(t32)):
        return None
    rest = t.view(np.int64) - t32.astype(np.float64).view(np.int64)
    value = forest.value[leaf]
    head = value[:, :-1]
    value_rest = value[:, -1].view(np.int32).astype(np.int64) - _last_guess(head).view(np.int32).astype(np.int64)
    if forest.feature[inner].size and forest.feature[inner].min() < 0:
        return None
    packed = {
        "leaf_bits": np.packbits(leaf),
        "split_feature": _narrow(forest.feature[inner].astype(np.int64), signed=False),
        "split_threshold32": _planes(t32),
        "split_threshold_rest": _planes(_narrow(rest, signed=True)),
        "leaf_value": np.ascontiguousarray(head),
        "leaf_value_rest": _narrow(value_rest, signed=True),
    }
    try:
        back = unpack_forest(packed)
    except ValueError:
        return None
    same = all(getattr(back, k).dtype == getattr(forest, k).dtype and getattr(back, k).shape == getattr(forest, k).shape
               and getattr(back, k).tobytes() == getattr(forest, k).tobytes() for k in ARRAY_KEYS)
    return packed if same else None


def unpack_forest(packed: Mapping[str, np.ndarray]) -> Forest:
    """The expanded :class:`Forest` of :func:`pack_forest`'s arrays.

    Raises
    ------
    KeyError
        An array is missing.
    ValueError
        The arrays are of the wrong type or do not fit together (a damaged file); what is wrong.
    """
    bits, feature, value, value_rest = (packed[k] for k in ("leaf_bits", "split_feature", "leaf_value",
                                                             "leaf_value_rest"))
    for name, a, kind, ndim in (("leaf_bits", bits, "u", 1), ("split_feature", feature, "u", 1),
                                ("leaf_value", value, "f", 2), ("leaf_value_rest", value_rest, "i", 1)):
        if a.dtype.kind != kind or a.ndim != ndim:
            msg = f"{name} has dtype {a.dtype} and shape {a.shape}, expected {ndim}-d of kind {kind!r}"
            raise ValueError(msg)
    if value.dtype.itemsize != 4:
        raise ValueError(f"leaf_value has dtype {value.dtype}, expected float32")
    value, value_rest = _le(value), _le(value_rest)  # a file read on (or written by) a big-endian host
    t32 = _from_planes(packed["split_threshold32"], np.float32, "split_threshold32")
    rest = _from_planes(packed["split_threshold_rest"], np.int64, "split_threshold_rest")
    n_inner, n_leaves = feature.shape[0], value.shape[0]
    n = n_inner + n_leaves
    if bits.dtype != np.uint8 or bits.shape[0] != (n + 7) // 8 or n < 1:
        raise ValueError(f"leaf_bits holds {bits.shape[0]} bytes for {n_inner} inner nodes and {n_leaves} leaves")
    if t32.shape[0] != n_inner or rest.shape[0] != n_inner or value_rest.shape[0] != n_leaves:
        raise ValueError(f"split and leaf arrays disagree on the counts ({t32.shape[0]}, {rest.shape[0]}, "
                         f"{n_inner} inner; {value_rest.shape[0]}, {n_leaves} leaves)")
    flags = np.unpackbits(bits, count=n)
    leaf = flags.view(bool)
    if int(np.count_nonzero(flags)) != n_leaves or np.any(np.unpackbits(bits)[n:]):
        raise ValueError(f"leaf_bits marks {int(np.count_nonzero(flags))} leaves (or its padding is not zero), "
                         f"leaf_value has {n_leaves}")
    if n >= 2**31:
        raise ValueError(f"{n} nodes do not fit int32 indices")
    # depth-first trees: +1 at an inner node, -1 at a leaf; ``before`` is the running sum before a
    # node. The trees are whole when the sum after the last node is below every earlier one; tree t's
    # root is then the first node with ``before == -t``, and an inner node's right child the next node
    # with its own ``before`` (its left subtree's nodes all lie above it)
    step = 1 - 2 * flags.view(np.int8)
    before = np.cumsum(step, dtype=np.int32)
    before -= step
    lo = int(before.min())
    if int(before[-1]) + int(step[-1]) != lo - 1:
        raise ValueError("leaf_bits do not form whole trees (the last tree is cut)")
    n_trees = 1 - lo
    span = int(before.max()) - lo
    key = (before - lo).astype(np.uint8 if span < 2**8 else np.uint16 if span < 2**16 else np.int64)
    order = np.argsort(key, kind="stable").astype(np.int32)  # 8 / 16 bit keys: a radix sort
    roots = np.ascontiguousarray(order[np.searchsorted(key[order], np.arange(n_trees))][::-1])
    right = np.empty(n, np.int32)
    right[order[:-1]] = order[1:]  # at inner nodes (always followed by their right child); leaves below
    at_leaf = np.flatnonzero(leaf)
    at_inner = np.flatnonzero(~leaf)
    right[at_leaf] = -1
    left = np.arange(1, n + 1, dtype=np.int32)
    left[at_leaf] = -1
    if feature.size and int(feature.max()) >= 2**31:
        raise ValueError("split_feature holds an index beyond int32")
    feat = np.full(n, -1, np.int32)
    feat[at_inner] = feature
    threshold = np.zeros(n, np.float64)
    # the float64 bits of the float32 plus the rest (wraps only in a damaged file, then fails the hash)
    threshold[at_inner] = (t32.astype(np.float64).view(np.int64) + rest).view(np.float64)
    last = _last_guess(value).view(np.int32).astype(np.int64) + value_rest
    if np.any((last < np.iinfo(np.int32).min) | (last > np.iinfo(np.int32).max)):
        raise ValueError("leaf_value_rest puts a class fraction outside float32")
    values = np.zeros((n, value.shape[1] + 1), np.float32)
    values[at_leaf, :-1] = value
    values[at_leaf, -1] = last.astype(np.int32).view(np.float32)
    # little-endian as versions 1 and 2 load on any host, so the model id (over dtype and bytes) is the host's
    return Forest(left=_le(left), right=_le(right), feature=_le(feat), threshold=_le(threshold), value=_le(values),
                  roots=_le(roots))
