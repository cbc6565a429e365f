"""A learned intact-vs-ghost call per nucleus candidate, for the intact-nucleus veto (issue #13).

The veto of :mod:`mmnst_path.quantify._necrosis_model` overrules the tissue model's necrosis where intact
nuclei are dense. Its fixed tests (:meth:`~mmnst_path.quantify._intact_nuclei.IntactNuclei.intact`: absolute
contrast, surround, fill, extent) miss the nuclei of faded or low-eosin slides, whose contrast (~0.07 OD) is that
of the ghosts of true necrosis (session 35). With ``NecrosisParams.intact_model`` (default since session 36) the veto instead

1. finds loose candidates (:func:`~mmnst_path.quantify._intact_nuclei.nucleus_peaks` with tissue >= 0.05 OD,
   contrast >= 0.02 OD, peaks 4 µm apart: :data:`SETTINGS`), and
2. keeps those a small forest calls intact (probability >= the model's ``settings["threshold"]``),

from :data:`FEATURES` computed by :func:`candidate_features`: the candidate's contrast and its ratios (edge
sharpness, chromatin texture and granularity over contrast, contrast over the surround), shape and size of the
blob, eosin of its ring, and four colour features that do not change when a slide fades (optical density scaled):
the hematoxylin share of the core's stain, of the core's excess over its ring, the cosine between that excess and
the hematoxylin vector, and the core's blue-over-red OD ratio. Intact nuclei are blue (hematoxylin) however faint;
the ghosts of real necrosis are pink-purple. No column compares a candidate with the rest of the tile, so a call
does not depend on the tiling. Absolute stain levels are left out (faded intact nuclei have the ghosts' levels).

The shipped model (``mmnst_path/models/intact_nuclei_he.mmnst``) is trained by ``scripts/train_intact_model.py``
on dev data only: BRCA-M2C train + val nuclei (and OD-faded copies of the patches) as intact, the candidates of
the osteosarcoma training Non-Viable-Tumor tiles and of the necrosis of generated ``he_necrosis_tile`` tiles as
ghosts.
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..classify.model import ClassifierModel, FeatureSpec, check_feature_settings, load_model, model_file
from ..errors import ConfigError
from . import _intact_nuclei
from ._intact_nuclei import IntactNuclei

__all__ = ["FEATURES", "MODEL_TASK", "SETTINGS", "candidate_features", "intact_calls", "resolve_intact_model"]

MODEL_KIND = "nucleus"
MODEL_TASK = "intact_nuclei"
CLASSES = ("ghost", "intact")
_MODELS = {"default": "intact_nuclei_he.mmnst"}

#: Feature columns (name, unit, description), in model order.
FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("contrast_od", "log10 OD", "hematoxylin at the nucleus minus that of its tissue surround"),
    FeatureSpec("rel_contrast", "", "contrast over the surround's hematoxylin (>= 0.02 OD)"),
    FeatureSpec("surround_tissue", "", "tissue share of the surround"),
    FeatureSpec("fill", "", "stained share of the 4 x 4 µm square around the peak"),
    FeatureSpec("edge", "log10 OD / um", "mean hematoxylin gradient on the blob's boundary"),
    FeatureSpec("sharpness", "1 / um", "edge over contrast"),
    FeatureSpec("tex_std", "log10 OD", "standard deviation of hematoxylin (0.5 µm) within 3 µm"),
    FeatureSpec("tex_rel", "", "tex_std over contrast"),
    FeatureSpec("gran", "log10 OD", "standard deviation of hematoxylin 0.5 µm minus 1.5 µm within 3 µm"),
    FeatureSpec("gran_rel", "", "gran over contrast"),
    FeatureSpec("ring_e_minus_core", "log10 OD", "mean eosin of the 5-8 µm ring minus that of the 1.5 µm core"),
    FeatureSpec("area_um2", "um2", "blob above surround + half the contrast, connected to the peak"),
    FeatureSpec("ecc", "", "eccentricity of the blob"),
    FeatureSpec("centre_dip", "log10 OD", "hematoxylin of the 1.5-3 µm annulus minus that of the core"),
    FeatureSpec("core_h_share", "", "hematoxylin over hematoxylin + eosin in the core"),
    FeatureSpec("excess_h_share", "", "the same for the core's excess over its 5-8 µm ring"),
    FeatureSpec("excess_cos_h", "", "cosine between the core's excess OD vector and the hematoxylin vector"),
    FeatureSpec("core_blue", "", "blue-channel OD over red-channel OD in the core"),
)

#: How the candidates and features are computed (stored with the model and checked against it).
SETTINGS: dict[str, Any] = {"task": MODEL_TASK, "tissue_min_od": 0.05, "min_contrast_od": 0.02,
                            "min_distance_um": 4.0, "window_um": 8.0, "stains": "H&E"}


def candidate_peaks(rgb: np.ndarray, od: np.ndarray, *, mpp: float, stains: Any = "H&E",
                    blocks: np.ndarray | None = None, block_factor: int = 1) -> IntactNuclei:
    """The loose candidates the model decides on (:data:`SETTINGS`; ``blocks`` as in ``nucleus_peaks``)."""
    return _intact_nuclei.nucleus_peaks(rgb, mpp=mpp, stains=stains, od=od, tissue_min_od=SETTINGS["tissue_min_od"],
                                        min_contrast_od=SETTINGS["min_contrast_od"],
                                        min_distance_um=SETTINGS["min_distance_um"], blocks=blocks,
                                        block_factor=block_factor)


def candidate_features(od: np.ndarray, nuc: IntactNuclei, *, mpp: float, stains: Any = "H&E") -> np.ndarray:
    """(n, len(FEATURES)) float32 rows of the candidates ``nuc`` of an image with optical density ``od``.

    Parameters
    ----------
    od : (M, N, 3) float ndarray
        Optical density of the image (:func:`mmnst_path.stain.od_from_rgb` with the stains' white point).
    nuc : IntactNuclei
        Candidates (:func:`candidate_peaks`).
    mpp : float
        Pixel size (µm); windows and filters are in µm.
    stains : str or StainMatrix
        With ``hematoxylin`` and ``eosin`` vectors.
    """
    from ..stain import load_stains

    if isinstance(mpp, bool) or not isinstance(mpp, numbers.Real) or not math.isfinite(mpp) or mpp <= 0:
        raise ConfigError(f"candidate_features: mpp must be a positive number of µm/px, got {mpp!r}")
    n = len(nuc.row)
    if not n:
        return np.zeros((0, len(FEATURES)), np.float32)
    matrix = load_stains(stains)
    od = np.asarray(od)
    half = max(2, round(SETTINGS["window_um"] / mpp))
    r = np.clip(np.round(nuc.row).astype(int), 0, od.shape[0] - 1)
    c = np.clip(np.round(nuc.col).astype(int), 0, od.shape[1] - 1)
    yy, xx = np.mgrid[-half: half + 1, -half: half + 1].astype(float)
    dist = np.hypot(yy, xx) * mpp
    core, nucd, ring = dist <= 1.5, dist <= 3.0, (dist >= 5.0) & (dist <= 8.0)
    planes = _Planes(od, r, c, half=half, mpp=mpp, h_inverse=matrix.inverse[:, matrix.index("hematoxylin")],
                     e_inverse=matrix.inverse[:, matrix.index("eosin")])
    px = planes.pixels  # a plane's pixels under a mask of the window, (n, K), as ``windows(name)[:, mask]``
    contrast = np.asarray(nuc.contrast_od, np.float64)
    sur = np.asarray(nuc.hematoxylin_od, np.float64) - contrast
    cden = np.maximum(contrast, 0.02)
    wh = planes.windows("h1")
    tex = wh[:, nucd].std(1)
    gran = px("fine", nucd).std(1)
    mask = wh >= (sur + 0.5 * contrast)[:, None, None]
    area, ecc, edge = _blob_shape(mask, planes.windows("grad"), dist, yy, xx, mpp=mpp)
    ring_e = px("e", ring).mean(1)
    hc, hr = wh[:, core].mean(1), wh[:, ring].mean(1)
    # colour: unsmoothed planes, core vs ring
    hc0, hr0 = px("h", core).mean(1), px("h", ring).mean(1)
    ec0 = px("e", core).mean(1)
    odc = np.stack([px(k, core).mean(1) for k in range(3)], 1)
    odr = np.stack([px(k, ring).mean(1) for k in range(3)], 1)
    ex = odc - odr
    hv = np.asarray(matrix.vector("hematoxylin"), np.float64)
    hv = hv / np.linalg.norm(hv)
    cols = [contrast, contrast / np.maximum(sur, 0.02), nuc.surround_tissue, nuc.fill, edge, edge / cden,
            tex, tex / cden, gran, gran / cden, ring_e - ec0, area, ecc, wh[:, nucd & ~core].mean(1) - hc,
            hc0 / np.maximum(hc0 + ec0, 1e-3),
            (hc0 - hr0) / np.maximum(np.abs(hc0 - hr0) + np.abs(ec0 - ring_e), 1e-3),
            ex @ hv / np.maximum(np.linalg.norm(ex, axis=1), 1e-3),
            odc[:, 0] / np.maximum(odc[:, 2], 1e-3)]
    del hr, planes
    out = np.column_stack([np.asarray(v, np.float64) for v in cols]).astype(np.float32)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


#: ``ndi.label``'s and ``ndi.binary_erosion``'s default 2-D cross, as a 3-D structure that does not reach across
#: the stack's first axis: each (w, w) window of an (n, w, w) stack is labelled / eroded on its own.
_CROSS_IN_PLANE = np.zeros((3, 3, 3), bool)
_CROSS_IN_PLANE[1] = ndi.generate_binary_structure(2, 1)


def _blob_shape(mask: np.ndarray, wg: np.ndarray, dist: np.ndarray, yy: np.ndarray, xx: np.ndarray, *,
                mpp: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area (µm²), eccentricity and mean boundary gradient of each window's blob: the 4-connected component of
    ``mask[i]`` holding the window's centre (the disc ``dist <= 1`` µm when the centre is not in the mask).

    One label and one erosion of the whole (n, w, w) stack (a structure that does not reach across windows, so
    each window's components and erosion are those of ``ndi.label(mask[i])`` / ``ndi.binary_erosion(blob)``, with
    the border outside each window); the covariance and the boundary mean stay per window with the same calls on
    the same values, so the columns are those of a per-window loop bit for bit.
    """
    n, w = mask.shape[0], mask.shape[1]
    half = w // 2
    lab, _ = ndi.label(mask, structure=_CROSS_IN_PLANE)
    k = lab[:, half, half]
    blob = lab == k[:, None, None]
    blob[k == 0] = dist <= 1.0
    del lab
    count = blob.sum((1, 2))
    area = count * mpp * mpp
    bound = blob & ~ndi.binary_erosion(blob, structure=_CROSS_IN_PLANE)
    edge_px = np.split(wg[bound], np.cumsum(bound.sum((1, 2)))[:-1])
    cov = np.empty((n, 2, 2))
    cov[:] = np.eye(2)
    for i in np.flatnonzero(count > 2).tolist():  # np.cov's own steps (mean, centre, dot, scale), without its checks
        x = np.vstack([yy[blob[i]], xx[blob[i]]])
        x -= x.mean(axis=1)[:, None]
        cov[i] = np.dot(x, x.T.conj())
        cov[i] *= np.true_divide(1, x.shape[1] - 1)
    ev = np.linalg.eigvalsh(cov)
    ecc = np.sqrt(1 - ev[:, 0] / np.maximum(ev[:, 1], 1e-6))
    edge = np.array([v.mean() for v in edge_px], np.float64)
    return area, ecc, edge


class _Planes:
    """The planes :func:`candidate_features` reads, computed only on boxes around the candidates' windows.

    A window is the ``2 half + 1`` square around a candidate's pixel in the plane padded by ``np.pad(...,
    mode="reflect")``: its pixels are read at their reflected indices, so the window never leaves the image. The
    windows whose cells (``half`` x ``half`` pixels) touch (8-connected) form a group, measured on the bounding box
    of its windows widened by the reach of the filters
    (Gaussians of 0.5 and 1.5 µm to scipy's 4 sigma, the Sobel's one pixel on the 0.5 µm plane) and clipped to the
    image: every value a window reads is then the whole tile's, bit for bit (the filters reflect at the same image
    edges; the stain and filter arithmetic is per pixel in the same order). When the boxes together are not smaller
    than the image, the whole image is one box.
    """

    def __init__(self, od: np.ndarray, r: np.ndarray, c: np.ndarray, *, half: int, mpp: float,
                 h_inverse: np.ndarray, e_inverse: np.ndarray) -> None:
        m0, n0 = od.shape[:2]
        span = np.arange(2 * half + 1)
        self.rows = np.pad(np.arange(m0), half, mode="reflect")[r[:, None] + span]  # (n, 2 half + 1) indices
        self.cols = np.pad(np.arange(n0), half, mode="reflect")[c[:, None] + span]
        self.mpp, self.h_inverse, self.e_inverse = mpp, h_inverse, e_inverse
        margin = max(_intact_nuclei._gauss_radius(0.5 / mpp) + 1, _intact_nuclei._gauss_radius(1.5 / mpp))
        lo_r, hi_r = self.rows.min(1), self.rows.max(1) + 1
        lo_c, hi_c = self.cols.min(1), self.cols.max(1) + 1
        # group the windows whose cells (of half x half pixels) touch; a group's box spans its windows' pixels
        cell = max(1, half)
        stamp = np.zeros(((m0 - 1) // cell + 1, (n0 - 1) // cell + 1), bool)
        for a, b, d, e in zip((lo_r // cell).tolist(), ((hi_r - 1) // cell + 1).tolist(), (lo_c // cell).tolist(),
                              ((hi_c - 1) // cell + 1).tolist(), strict=True):
            stamp[a:b, d:e] = True
        labels, k = ndi.label(stamp, structure=np.ones((3, 3), bool))
        group = labels[r // cell, c // cell] - 1  # a window holds its centre pixel
        bounds = [np.full(k, m0), np.zeros(k, np.intp), np.full(k, n0), np.zeros(k, np.intp)]
        for ufunc, out, v in ((np.minimum, bounds[0], lo_r), (np.maximum, bounds[1], hi_r),
                              (np.minimum, bounds[2], lo_c), (np.maximum, bounds[3], hi_c)):
            ufunc.at(out, group, v)
        boxes = [(max(0, a - margin), min(m0, b + margin), max(0, d - margin), min(n0, e + margin))
                 for a, b, d, e in zip(*(v.tolist() for v in bounds), strict=True)]
        if sum((b[1] - b[0]) * (b[3] - b[2]) for b in boxes) >= m0 * n0:
            boxes, group = [(0, m0, 0, n0)], np.zeros(len(r), np.intp)
        order = np.argsort(group, kind="stable")
        self.members = np.split(order, np.searchsorted(group[order], np.arange(1, len(boxes))))
        self.boxes = [(b, self._box_planes(od[b[0]: b[1], b[2]: b[3]])) for b in boxes]
        # each window's pixels as flat indices into its box (one gather per plane in ``windows``)
        self.flat = [(self.rows[idx] - b[0])[:, :, None] * (b[3] - b[2]) + (self.cols[idx] - b[2])[:, None, :]
                     for b, idx in zip(boxes, self.members, strict=True)]

    def _box_planes(self, od: np.ndarray) -> dict[Any, np.ndarray]:
        """The planes of one box of the optical density (the whole tile's arithmetic, on the box)."""
        od = np.asarray(od, np.float32)
        h = np.maximum(od @ self.h_inverse, 0).astype(np.float32)
        e = np.maximum(od @ self.e_inverse, 0).astype(np.float32)
        h1 = ndi.gaussian_filter(h, 0.5 / self.mpp)
        grad = np.hypot(ndi.sobel(h1, 0), ndi.sobel(h1, 1)) / (8 * self.mpp)
        fine = h1 - ndi.gaussian_filter(h, 1.5 / self.mpp)
        return {"h": h, "e": e, "h1": h1, "grad": grad, "fine": fine, "od": np.ascontiguousarray(od)}

    def windows(self, name: Any) -> np.ndarray:
        """(n, 2 half + 1, 2 half + 1) float32 windows of plane ``name`` ("h", "e", "h1", "grad", "fine" or an
        OD channel 0-2), in candidate order."""
        w = self.rows.shape[1]
        out = np.empty((len(self.rows), w, w), np.float32)
        for (_, planes), idx, flat in zip(self.boxes, self.members, self.flat, strict=True):
            if isinstance(name, str):
                out[idx] = np.take(planes[name].reshape(-1), flat)
            else:  # an OD channel: pixel-interleaved in the box's (m, n, 3) array
                out[idx] = np.take(planes["od"].reshape(-1), flat * 3 + name)
        return out

    def pixels(self, name: Any, mask: np.ndarray) -> np.ndarray:
        """(n, K) float32: the pixels of plane ``name`` under the (w, w) boolean ``mask`` of each window (row-major,
        K = ``mask.sum()``), in candidate order: ``windows(name)[:, mask]`` without the whole windows, in the same
        memory order (numpy's boolean index gives it Fortran order; a row reduction sums in the order of the memory)."""
        out = np.empty((int(mask.sum()), len(self.rows)), np.float32).T
        for (_, planes), idx, flat in zip(self.boxes, self.members, self.flat, strict=True):
            if isinstance(name, str):
                out[idx] = np.take(planes[name].reshape(-1), flat[:, mask])
            else:  # an OD channel: pixel-interleaved in the box's (m, n, 3) array
                out[idx] = np.take(planes["od"].reshape(-1), flat[:, mask] * 3 + name)
        return out


def intact_calls(rgb: np.ndarray, od: np.ndarray, model: ClassifierModel, *, mpp: float, stains: Any = "H&E",
                 blocks: np.ndarray | None = None, block_factor: int = 1) -> IntactNuclei:
    """The candidates ``model`` calls intact (probability of ``intact`` >= its ``settings["threshold"]``)."""
    nuc = candidate_peaks(rgb, od, mpp=mpp, stains=stains, blocks=blocks, block_factor=block_factor)
    if not len(nuc.row):
        return nuc
    proba = model.predict_proba(candidate_features(od, nuc, mpp=mpp, stains=stains))
    keep = proba[:, model.class_names.index("intact")] >= float(model.settings["threshold"])
    return IntactNuclei(nuc.row[keep], nuc.col[keep], nuc.contrast_od[keep], nuc.hematoxylin_od[keep],
                        nuc.surround_tissue[keep], nuc.fill[keep])


@lru_cache(maxsize=4)
def _load(path: str, size: int, mtime_ns: int) -> ClassifierModel:  # size, mtime_ns: cache keys only
    model = load_model(path, kind=MODEL_KIND)
    if (model.settings.get("task") != MODEL_TASK or model.feature_names != tuple(f.name for f in FEATURES)
            or tuple(model.class_names) != CLASSES):
        msg = (f"{path} is not an intact-nucleus model with classes {list(CLASSES)} and features "
               f"{[f.name for f in FEATURES]} (task {model.settings.get('task')!r}, classes "
               f"{list(model.class_names)}, features {list(model.feature_names)})")
        raise ConfigError(msg)
    check_feature_settings(model, SETTINGS, ("tissue_min_od", "min_contrast_od", "min_distance_um", "window_um"),
                           path=path)
    thr = model.settings.get("threshold")
    if isinstance(thr, bool) or not isinstance(thr, (int, float)) or not 0.0 <= float(thr) <= 1.0:
        raise ConfigError(f"{path}: settings threshold={thr!r}, expected a probability in [0, 1]")
    return model


def resolve_intact_model(name: str) -> ClassifierModel | None:
    """The model ``NecrosisParams.intact_model`` names: ``"none"`` -> None, ``"default"`` -> the shipped
    ``intact_nuclei_he.mmnst``, anything else a path to a ``.mmnst`` file."""
    if name == "none":
        return None
    path = model_file(name, _MODELS, param="NecrosisParams.intact_model")
    st = path.stat()
    return _load(str(path.resolve()), st.st_size, st.st_mtime_ns)
