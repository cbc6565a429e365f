"""Per-nucleus features for the nucleus (cell) classifier, vectorised over a label image.

Every feature is computed for all nuclei at once with ``np.bincount`` / ``scipy.ndimage`` and a
k-d tree of centroids (no per-nucleus Python loop). The features are *stain-agnostic*: they use
the nuclear stain ``N`` = hematoxylin + chromogen (the chromogen plane is optional; for H&E pass
only hematoxylin), optionally capped at ``nuclear_cap_od`` (log10 OD), so that a Ki67-positive tumour nucleus and a negative one look alike to the
classifier: positivity is decided afterwards by the stain measurement, never by the cell model.

Features (units: µm, µm², log10 OD as in QuPath):

=====================  ==========================================================================
``area_um2``           area
``major_um``           major axis of the second-moment ellipse (4 sqrt(l1))
``minor_um``           minor axis (4 sqrt(l2))
``eccentricity``       of that ellipse (0 disc, towards 1 elongated)
``circularity``        4 pi area / perimeter² (crack length corrected by pi/4)
``solidity_box``       area / (pi/4 major minor): < 1 for irregular, notched outlines
``od_mean``            mean nuclear stain N over the nucleus
``od_std``             its standard deviation (chromatin texture)
``od_max``             its maximum
``od_fine``            mean |N - G_1µm * N| (fine texture: granular vs smooth chromatin)
``ring_od``            mean N in a ring of ``ring_um`` around the nucleus (cytoplasm / stroma)
``contrast``           ``od_mean - ring_od``
``n_within_R``         neighbour centroids within R µm, for R in ``radii_um``, divided by the
                       fraction of that disk inside the image (edge correction)
``nn1_um``, ``nn3_um`` distance to the nearest and mean distance to the 3 nearest neighbours
``rel_area``           area / mean area of the neighbours within ``radii_um[1]``
``rel_od``             od_mean - mean od_mean of the neighbours within ``radii_um[1]``
``nbr_elong``          mean eccentricity of the neighbours within ``radii_um[1]``
``nbr_align``          (``arrangement`` only) ``ecc * mean(ecc_j cos 2(theta - theta_j))`` over the
                       neighbours within ``radii_um[1]``: near 1 in a stream of parallel spindles
                       (stroma), near 0 for round nuclei or a disordered nest
``rel_elong``          (``arrangement`` only) ``eccentricity - nbr_elong``: elongation relative to
                       the neighbours
=====================  ==========================================================================

Tile invariance: intrinsic features depend on the nucleus and its ring only; context features on
the nuclei within ``max(radii_um)``, so a tiling halo of ``context_um()`` beyond the detector's
own halo gives a nucleus the same features whatever the tile it is seen in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import ConfigError
from .model import FeatureSpec

__all__ = ["NucleusFeatureSettings", "nucleus_feature_specs", "nucleus_features"]


@dataclass(frozen=True)
class NucleusFeatureSettings:
    """How nucleus features are computed (stored in a nucleus model's ``settings``).

    ``nuclear_cap_od`` (log10 OD, 0 = no cap): the nuclear stain N = hematoxylin + chromogen is
    capped at this OD before any feature is measured, so that a strongly DAB-positive nucleus
    and a pale negative one of the same cell type give similar intensity and texture features.
    ``arrangement``: append the two arrangement columns (``nbr_align``, ``rel_elong``) after the
    others (models trained without them read the same columns as before).
    """

    mpp_um: float = 0.5
    ring_um: float = 2.0
    radii_um: tuple[float, ...] = (10.0, 20.0, 40.0)
    fine_sigma_um: float = 1.0
    nuclear_cap_od: float = 0.0
    arrangement: bool = False

    def __post_init__(self) -> None:
        vals = (self.mpp_um, self.ring_um, self.fine_sigma_um, *self.radii_um)
        if len(self.radii_um) < 2 or not all(math.isfinite(v) and v > 0 for v in vals):
            msg = f"nucleus feature settings must be positive finite µm values with >= 2 radii, got {self}"
            raise ConfigError(msg)
        cap = self.nuclear_cap_od
        if not (isinstance(cap, int | float) and math.isfinite(cap) and cap >= 0):
            msg = f"NucleusFeatureSettings.nuclear_cap_od must be a finite OD >= 0 (0 = no cap), got {cap!r}"
            raise ConfigError(msg)

    def context_um(self) -> float:
        """Largest reach of a feature beyond the nucleus (µm): the extra tiling halo needed."""
        return max(max(self.radii_um), self.ring_um + 3 * self.fine_sigma_um)

    def to_mapping(self) -> dict[str, object]:
        out: dict[str, object] = {"mpp_um": self.mpp_um, "ring_um": self.ring_um, "radii_um": list(self.radii_um),
                                  "fine_sigma_um": self.fine_sigma_um}
        if self.nuclear_cap_od > 0:  # absent in models trained before the cap existed (= no cap)
            out["nuclear_cap_od"] = self.nuclear_cap_od
        if self.arrangement:  # absent in models trained without the arrangement columns
            out["arrangement"] = True
        return out

    @classmethod
    def from_mapping(cls, m: dict) -> NucleusFeatureSettings:
        try:
            return cls(float(m["mpp_um"]), float(m["ring_um"]), tuple(float(r) for r in m["radii_um"]),
                       float(m["fine_sigma_um"]), float(m.get("nuclear_cap_od", 0.0)),
                       bool(m.get("arrangement", False)))
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"nucleus feature settings {m!r} are incomplete or of the wrong type ({exc!r})"
            raise ConfigError(msg) from exc


def nucleus_feature_specs(settings: NucleusFeatureSettings = NucleusFeatureSettings()) -> tuple[FeatureSpec, ...]:
    """Names, units and descriptions of the feature columns, in order."""
    r1 = settings.radii_um[1]
    specs = [
        FeatureSpec("area_um2", "µm²", "nucleus area"),
        FeatureSpec("major_um", "µm", "major axis of the moment ellipse"),
        FeatureSpec("minor_um", "µm", "minor axis of the moment ellipse"),
        FeatureSpec("eccentricity", "", "ellipse eccentricity"),
        FeatureSpec("circularity", "", "4 pi area / perimeter^2"),
        FeatureSpec("solidity_box", "", "area / ellipse area"),
        FeatureSpec("od_mean", "log10 OD", "mean nuclear stain (hematoxylin + chromogen)"),
        FeatureSpec("od_std", "log10 OD", "std of the nuclear stain"),
        FeatureSpec("od_max", "log10 OD", "max of the nuclear stain"),
        FeatureSpec("od_fine", "log10 OD", f"mean |N - Gaussian {settings.fine_sigma_um} µm of N|"),
        FeatureSpec("ring_od", "log10 OD", f"mean nuclear stain in a {settings.ring_um} µm ring"),
        FeatureSpec("contrast", "log10 OD", "od_mean - ring_od"),
    ]
    specs += [FeatureSpec(f"n_within_{r:g}um", "count", f"neighbour nuclei within {r:g} µm")
              for r in settings.radii_um]
    specs += [
        FeatureSpec("nn1_um", "µm", "distance to the nearest nucleus"),
        FeatureSpec("nn3_um", "µm", "mean distance to the 3 nearest nuclei"),
        FeatureSpec("rel_area", "", f"area / mean neighbour area within {r1:g} µm"),
        FeatureSpec("rel_od", "log10 OD", f"od_mean - mean neighbour od_mean within {r1:g} µm"),
        FeatureSpec("nbr_elong", "", f"mean neighbour eccentricity within {r1:g} µm"),
    ]
    if settings.arrangement:
        specs += [
            FeatureSpec("nbr_align", "", f"eccentricity-weighted orientation agreement with the neighbours within "
                        f"{r1:g} µm"),
            FeatureSpec("rel_elong", "", f"eccentricity - mean neighbour eccentricity within {r1:g} µm"),
        ]
    return tuple(specs)


def _ring_labels(labels: np.ndarray, ring_px: int) -> np.ndarray:
    """Background pixels within ``ring_px`` (square) of a nucleus, labelled by the largest label near.

    The square maximum runs on the labels as float32 (exact below 2**24 labels) through the
    project's running-max kernels (numba when available; ``ndi.maximum_filter`` otherwise).
    """
    from ..detect._morphology import _square_extreme

    size = 2 * ring_px + 1
    if labels.max(initial=0) < 2**24:
        grown = _square_extreme(labels.astype(np.float32), size, op="max").astype(labels.dtype)
    else:  # pragma: no cover - more nuclei than a tile holds
        grown = ndi.maximum_filter(labels, size=size)
    return np.where(labels == 0, grown, 0)


def nucleus_features(
    labels: np.ndarray,
    hematoxylin: np.ndarray,
    chromogen: np.ndarray | None = None,
    *,
    mpp: float,
    settings: NucleusFeatureSettings = NucleusFeatureSettings(),
    origin: tuple[int, int] = (0, 0),
    extent: tuple[int, int] | None = None,
    _rings: Callable[[int], np.ndarray] | None = None,
) -> np.ndarray:
    """Feature matrix of the nuclei of a label image.

    Parameters
    ----------
    labels : (M, N) int ndarray
        0 background, nucleus ``i`` has label ``i + 1`` (labels 1..n all present or empty).
    hematoxylin : (M, N) float ndarray
        Hematoxylin concentration, log10 OD.
    chromogen : (M, N) float ndarray or None
        DAB / red chromogen concentration (added to hematoxylin), or None (H&E).
    mpp : float
        µm per pixel of the planes (should be close to ``settings.mpp_um``).
    settings : NucleusFeatureSettings
    origin : (int, int)
        Pixel (row, col) of ``labels``' pixel (0, 0) in the image the planes were cut from.
    extent : (int, int) or None
        Shape (rows, cols) of that image, whose edges the neighbour counts are corrected for
        (None: the planes' own shape, with ``origin`` (0, 0)). With both, the features are those
        computed on the whole image (bit-identical) when it holds no nucleus outside the planes
        and the planes' margins reach beyond the ring and the fine Gaussian of every nucleus.
    _rings : callable or None
        ``_rings(ring_px)``: the caller's :func:`_ring_labels` of ``labels`` at that width, computed
        once for every measure of the tile that reads the same ring
        (:class:`mmnst_path.quantify._ki67_contrast.RingLabels`: the same labels).

    Returns
    -------
    (n, F) float32 ndarray
        Columns as :func:`nucleus_feature_specs`; n = ``labels.max()``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "iu":
        msg = f"labels must be a 2-D integer image, got {labels.dtype} {labels.shape}"
        raise ConfigError(msg)
    nuc = np.maximum(np.asarray(hematoxylin, dtype=np.float32), 0)
    if nuc.shape != labels.shape:
        msg = f"hematoxylin must have the labels' shape {labels.shape}, got {nuc.shape}"
        raise ConfigError(msg)
    if chromogen is not None:
        chrom = np.asarray(chromogen, dtype=np.float32)
        if chrom.shape != labels.shape:
            msg = f"chromogen must have the labels' shape {labels.shape}, got {chrom.shape}"
            raise ConfigError(msg)
        nuc = nuc + np.maximum(chrom, 0)
    if settings.nuclear_cap_od > 0:  # positivity-blind: dark positives and pale negatives alike
        nuc = np.minimum(nuc, np.float32(settings.nuclear_cap_od))
    n = int(labels.max()) if labels.size else 0
    specs = nucleus_feature_specs(settings)
    if n == 0:
        return np.zeros((0, len(specs)), np.float32)
    from ..detect._morphology import _gaussian, _numba_kernels
    from ..detect._nucleus_measure import _label_max, _perimeter_edges

    smooth = _gaussian(np.ascontiguousarray(nuc, dtype=np.float32), settings.fine_sigma_um / mpp)
    ring_px = max(1, round(settings.ring_um / mpp))
    ring = _ring_labels(labels, ring_px) if _rings is None else _rings(ring_px)
    kern = _numba_kernels() if labels.ndim == 2 and labels.dtype.kind in "iu" else None
    if kern is not None:  # the bincount sums below, in compiled passes: same additions, same order
        r, c, sums = _sums_numba(kern, labels, nuc, smooth, ring, origin, n)
    else:
        r, c, sums = _sums_numpy(labels, nuc, smooth, ring, origin, n)
    del smooth
    cnt, sv, svv, sfine, srr, scc, src, ring_cnt, ring_sum = sums
    a = np.maximum(cnt, 1.0)
    mrr = srr / a + 1.0 / 12.0
    mcc = scc / a + 1.0 / 12.0
    mrc = src / a
    half_tr = 0.5 * (mrr + mcc)
    disc = np.sqrt(np.maximum(0.25 * (mrr - mcc) ** 2 + mrc**2, 0.0))
    l1, l2 = half_tr + disc, np.maximum(half_tr - disc, 1e-12)
    major, minor = 4.0 * np.sqrt(l1) * mpp, 4.0 * np.sqrt(l2) * mpp
    ecc = np.sqrt(np.clip(1.0 - l2 / np.maximum(l1, 1e-12), 0.0, 1.0))
    area_um2 = cnt * mpp * mpp
    perim = _perimeter_edges(labels, n) * (math.pi / 4.0)
    circ = np.clip(4.0 * math.pi * cnt / np.maximum(perim, 1.0) ** 2, 0.0, 1.0)
    solidity = np.clip(area_um2 / np.maximum(math.pi / 4.0 * major * minor, 1e-12), 0.0, 2.0)

    od_mean = sv / a
    od_std = np.sqrt(np.maximum(svv / a - od_mean**2, 0.0))
    od_max = _label_max(nuc, labels, n).astype(np.float64)
    od_fine = sfine / a
    ring_od = ring_sum / np.maximum(ring_cnt, 1.0)

    intrinsic = np.stack([area_um2, major, minor, ecc, circ, solidity, od_mean, od_std, od_max, od_fine,
                          ring_od, od_mean - ring_od], axis=1)[1:]
    shape = labels.shape if extent is None else extent
    theta = 0.5 * np.arctan2(2.0 * mrc, mrr - mcc) if settings.arrangement else None
    context = _context(np.c_[r[1:], c[1:]] * mpp, area_um2[1:], od_mean[1:], ecc[1:], settings.radii_um,
                       (shape[0] * mpp, shape[1] * mpp), None if theta is None else theta[1:])
    return np.concatenate([intrinsic, context], axis=1).astype(np.float32)


def _sums_numpy(labels: np.ndarray, nuc: np.ndarray, smooth: np.ndarray, ring: np.ndarray,
                origin: tuple[int, int], n: int) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """Mean row and col of every label and the per-label sums the features are made of: count,
    Σv, Σv², Σ|v - smooth|, centred Σdr², Σdc², Σdr·dc, ring count, ring Σv (``np.bincount``
    over the labelled pixels in raster order; ``v`` = ``nuc`` as float64)."""
    ri, ci = np.nonzero(labels)
    lab = labels[ri, ci]
    rows, cols = (ri + origin[0]).astype(np.float64), (ci + origin[1]).astype(np.float64)
    cnt = np.bincount(lab, minlength=n + 1).astype(np.float64)
    a = np.maximum(cnt, 1.0)
    r = np.bincount(lab, rows, minlength=n + 1) / a
    c = np.bincount(lab, cols, minlength=n + 1) / a
    dr, dc = rows - r[lab], cols - c[lab]
    v = nuc[ri, ci].astype(np.float64)
    fine = np.abs(nuc[ri, ci] - smooth[ri, ci]).astype(np.float64)
    rr, rc = np.nonzero(ring)
    ring_lab = ring[rr, rc]
    return r, c, (cnt, np.bincount(lab, v, minlength=n + 1), np.bincount(lab, v * v, minlength=n + 1),
                  np.bincount(lab, fine, minlength=n + 1), np.bincount(lab, dr * dr, minlength=n + 1),
                  np.bincount(lab, dc * dc, minlength=n + 1), np.bincount(lab, dr * dc, minlength=n + 1),
                  np.bincount(ring_lab, minlength=n + 1).astype(np.float64),
                  np.bincount(ring_lab, nuc[rr, rc].astype(np.float64), minlength=n + 1))


def _sums_numba(kern: Any, labels: np.ndarray, nuc: np.ndarray, smooth: np.ndarray, ring: np.ndarray,
                origin: tuple[int, int], n: int) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """:func:`_sums_numpy` by three compiled raster passes (the same float64 additions in the same
    order per label, so the same sums to the bit; no per-pixel index arrays)."""
    lab = np.ascontiguousarray(labels)
    nuc = np.ascontiguousarray(nuc)
    first = np.zeros((n + 1, 6), np.float64)
    kern.feature_sums(lab, nuc, np.ascontiguousarray(smooth), int(origin[0]), int(origin[1]), first)
    cnt = first[:, 0].copy()
    a = np.maximum(cnt, 1.0)
    r, c = first[:, 1] / a, first[:, 2] / a
    moments = np.zeros((n + 1, 3), np.float64)
    kern.centred_moments(lab, int(origin[0]), int(origin[1]), r, c, moments)
    rings = np.zeros((n + 1, 2), np.float64)
    kern.label_count_sum(np.ascontiguousarray(ring), nuc, rings)
    cols = [first[:, k].copy() for k in (3, 4, 5)] + [moments[:, k].copy() for k in range(3)]
    return r, c, (cnt, *cols, rings[:, 0].copy(), rings[:, 1].copy())


def _inside_fraction(xy_um: np.ndarray, radius: float, extent_um: tuple[float, float]) -> np.ndarray:
    """Fraction of the disk of ``radius`` around each point that lies inside the image.

    Evaluated on a fixed polar sample of the disk (8 rings x 24 angles, area-weighted): exact
    enough for an edge correction, and exactly 1 for points farther than ``radius`` from every edge
    (so a nucleus in a tile's core gets the same value whatever the tile).
    """
    rings = (np.arange(8) + 0.5) / 8.0
    ang = (np.arange(24) + 0.5) * (2 * np.pi / 24)
    rr = (radius * rings)[:, None]
    dy, dx = (rr * np.sin(ang)).ravel(), (rr * np.cos(ang)).ravel()
    w = np.repeat(rings, 24)
    w = w / w.sum()
    y = xy_um[:, :1] + dy[None, :]
    x = xy_um[:, 1:2] + dx[None, :]
    inside = (y >= 0) & (y < extent_um[0]) & (x >= 0) & (x < extent_um[1])
    return np.clip(inside @ w, 0.05, 1.0)


def _context(xy_um: np.ndarray, area: np.ndarray, od: np.ndarray, ecc: np.ndarray,
             radii_um: Sequence[float], extent_um: tuple[float, float],
             theta: np.ndarray | None = None) -> np.ndarray:
    """Neighbourhood features from centroids (µm) by a k-d tree (self excluded).

    Neighbour counts are divided by the fraction of their disk inside the image (edge
    correction), so a nucleus near the border of a small image is not taken for a sparse one.
    """
    from scipy.spatial import cKDTree

    n = xy_um.shape[0]
    tree = cKDTree(xy_um)
    cols = []
    for rad in radii_um:
        count = tree.query_ball_point(xy_um, rad, return_length=True).astype(np.float64) - 1.0
        cols.append(count / _inside_fraction(xy_um, rad, extent_um))
    k = min(4, n)
    d, _ = tree.query(xy_um, k=k)
    d = d.reshape(n, k)
    far = 2.0 * max(radii_um)
    nn = np.full((n, 3), far)
    nn[:, : k - 1] = np.minimum(d[:, 1:], far)
    cols += [nn[:, 0], nn.mean(axis=1)]
    # neighbour means within radii_um[1]: sparse pairs, summed with bincount
    pairs = tree.query_pairs(radii_um[1], output_type="ndarray")
    i, j = (pairs[:, 0], pairs[:, 1]) if pairs.size else (np.zeros(0, np.intp), np.zeros(0, np.intp))
    src, dst = np.concatenate([i, j]), np.concatenate([j, i])
    cnt = np.bincount(src, minlength=n).astype(np.float64)
    has = cnt > 0
    safe = np.maximum(cnt, 1.0)
    mean_area = np.where(has, np.bincount(src, area[dst], minlength=n) / safe, area)
    mean_od = np.where(has, np.bincount(src, od[dst], minlength=n) / safe, od)
    mean_ecc = np.where(has, np.bincount(src, ecc[dst], minlength=n) / safe, ecc)
    cols += [area / np.maximum(mean_area, 1e-6), od - mean_od, mean_ecc]
    if theta is not None:  # arrangement: orientation agreement (angle doubled: axes, not directions)
        agree = ecc[dst] * np.cos(2.0 * (theta[src] - theta[dst]))
        cols += [ecc * np.bincount(src, agree, minlength=n) / safe, ecc - mean_ecc]
    return np.stack(cols, axis=1)
