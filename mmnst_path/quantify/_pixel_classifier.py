"""Trainable necrosis pixel classifier: multiscale stain features and a random forest.

For when the default necrosis detector (:mod:`mmnst_path.quantify.necrosis`) is not enough.
Features are computed on the deconvolved hematoxylin and eosin concentrations (log10 OD),
block-averaged to the classifier's working pixel size ``mpp_um`` (default 2 µm/px), at
several Gaussian scales ``sigmas_um`` (µm, converted with the actual grid pixel size):

``gaussian``    smoothed concentration
``gradient``    Gaussian gradient magnitude (per µm)
``log``         scale-normalised Laplacian of Gaussian (blobs: nuclei, debris)
``st_l1``, ``st_l2``  structure-tensor eigenvalues (integration scale ``sigma``)
``coherence``   ((l1 - l2) / (l1 + l2))² (oriented fibres vs amorphous debris)
``std``         local standard deviation in a Gaussian window (texture, nuclear density)

A scikit-learn ``RandomForestClassifier`` is trained on labelled pixels: a label image
(napari Labels: 0 unlabelled, 1 necrosis, 2 other) or GeoJSON polygons classed ``Necrosis`` /
anything else (:func:`labels_from_geojson`). The fitted trees are exported to plain arrays
and saved as an ``.npz`` holding only numeric arrays and a JSON metadata string, loaded with
``allow_pickle=False`` and validated, so a classifier file from someone else cannot run code.
Prediction uses our own vectorised tree traversal (scikit-learn is needed only to train);
it equals ``predict_proba`` of the fitted forest.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..errors import ConfigError, CorruptFileError
from ..geometry import require_mpp

__all__ = ["FEATURES", "PixelClassifier", "labels_from_geojson", "load_pixel_classifier", "pixel_features",
           "train_pixel_classifier"]

FEATURES = ("gaussian", "gradient", "log", "st_l1", "st_l2", "coherence", "std")
FORMAT = "mmnst_path.pixel_classifier"
FORMAT_VERSION = 1
_TREE_KEYS = ("children_left", "children_right", "feature", "threshold", "value")


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    if f == 1:
        return a.astype(np.float32, copy=False)
    m, n = a.shape[:2]
    mp, np_ = -(-m // f) * f, -(-n // f) * f
    a = np.pad(a, [(0, mp - m), (0, np_ - n)] + [(0, 0)] * (a.ndim - 2), mode="edge")
    return a.reshape(mp // f, f, np_ // f, f, *a.shape[2:]).mean(axis=(1, 3), dtype=np.float32)


def _grid_factor(mpp: float, mpp_um: float) -> int:
    f = max(1, round(mpp_um / mpp))
    if f * mpp > 1.5 * mpp_um:
        msg = (f"image pixel size {mpp} µm/px is coarser than 1.5x the classifier's working pixel size "
               f"{mpp_um} µm/px: retrain at a coarser mpp_um or read the slide at a finer level")
        raise ConfigError(msg)
    return f


def _channel_features(x: np.ndarray, sigma_px: float, names: Sequence[str], grid_mpp: float) -> list[np.ndarray]:
    from skimage.feature import structure_tensor, structure_tensor_eigenvalues

    out: dict[str, np.ndarray] = {}
    g = ndi.gaussian_filter(x, sigma_px, mode="reflect")
    out["gaussian"] = g
    out["gradient"] = ndi.gaussian_gradient_magnitude(x, sigma_px, mode="reflect") / grid_mpp
    out["log"] = -ndi.gaussian_laplace(x, sigma_px, mode="reflect") * sigma_px * sigma_px
    if {"st_l1", "st_l2", "coherence"} & set(names):
        tensor = structure_tensor(x, sigma=sigma_px, order="rc", mode="reflect")
        l1, l2 = structure_tensor_eigenvalues(tensor)
        out["st_l1"], out["st_l2"] = l1 / grid_mpp**2, l2 / grid_mpp**2
        out["coherence"] = ((l1 - l2) / (l1 + l2 + 1e-9)) ** 2
    if "std" in names:
        var = ndi.gaussian_filter(x * x, sigma_px, mode="reflect") - g * g
        out["std"] = np.sqrt(np.maximum(var, 0.0))
    return [out[n].astype(np.float32, copy=False) for n in names]


def pixel_features(rgb: np.ndarray, *, mpp: float, stains: Any = "H&E", mpp_um: float = 2.0,
                   sigmas_um: Sequence[float] = (2.0, 4.0, 8.0, 16.0),
                   features: Sequence[str] = FEATURES) -> tuple[np.ndarray, float]:
    """Multiscale feature stack of an H&E tile on the classifier's working grid.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Tile at ``mpp`` µm/px.
    mpp : float
        Pixel size of ``rgb``, µm/px.
    stains : str or StainMatrix
        Stain matrix; the first two stains (hematoxylin and eosin for H&E) are used.
    mpp_um : float
        Working pixel size, µm/px; the grid factor is ``round(mpp_um / mpp)``.
    sigmas_um : sequence of float
        Gaussian scales, µm.
    features : sequence of str
        Subset of :data:`FEATURES`, in the order wanted.

    Returns
    -------
    feats : (m, n, F) float32 ndarray
        ``m = ceil(M / f)``, ``n = ceil(N / f)``; ``F = 2 * len(sigmas_um) * len(features)``,
        ordered channel, then sigma, then feature.
    grid_mpp : float
        µm per pixel of the grid (``f * mpp``).
    """
    from ..stain import load_stains, separate_stains

    mpp = require_mpp(mpp, what="image")
    bad = [n for n in features if n not in FEATURES]
    if bad or not features:
        msg = f"features must be a non-empty subset of {FEATURES}, got {list(features)}"
        raise ConfigError(msg)
    if not sigmas_um or any(not (math.isfinite(s) and s > 0) for s in sigmas_um):
        msg = f"sigmas_um must be positive finite µm values, got {list(sigmas_um)}"
        raise ConfigError(msg)
    matrix = load_stains(stains)
    names = matrix.stain_names[:2]
    f = _grid_factor(mpp, mpp_um)
    grid_mpp = f * mpp
    conc = _block_mean(separate_stains(rgb, matrix, stains=names), f)
    stack: list[np.ndarray] = []
    for k in range(conc.shape[-1]):
        for s in sigmas_um:
            stack += _channel_features(conc[..., k], max(0.5, s / grid_mpp), features, grid_mpp)
    return np.stack(stack, axis=-1), grid_mpp


def _forest_predict(trees: Sequence[dict[str, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """Mean over trees of the leaf class fractions, vectorised over samples. x: (K, F) float32."""
    k = x.shape[0]
    rows = np.arange(k)
    total = None
    for t in trees:
        left, right, feat, thr = t["children_left"], t["children_right"], t["feature"], t["threshold"]
        node = np.zeros(k, np.int64)
        active = rows[left[node] >= 0]
        while active.size:
            n = node[active]
            go_left = x[active, feat[n]] <= thr[n]
            node[active] = np.where(go_left, left[n], right[n])
            active = active[left[node[active]] >= 0]
        value = t["value"]
        frac = value / np.maximum(value.sum(axis=1, keepdims=True), 1e-300)
        p = frac[node]
        total = p if total is None else total + p
    assert total is not None
    return total / len(trees)


@dataclass(frozen=True, eq=False)
class PixelClassifier:
    """A fitted necrosis pixel classifier as plain arrays (see module doc).

    Attributes
    ----------
    trees : tuple of dict
        Per tree: ``children_left``, ``children_right`` (int64, -1 at leaves), ``feature``
        (int64), ``threshold`` (float64), ``value`` ((nodes, n_classes) float64).
    classes : tuple of str
        Class names in column order of :meth:`predict_proba`; ``"necrosis"`` is one of them.
    mpp_um, sigmas_um, features : working pixel size (µm/px), scales (µm), feature names.
    stains_json : str
        The stain matrix used for the deconvolution (:meth:`StainMatrix.to_json`).
    n_features : int
    info : dict
        Provenance (library versions, training pixels per class).
    """

    trees: tuple[dict[str, np.ndarray], ...]
    classes: tuple[str, ...]
    mpp_um: float
    sigmas_um: tuple[float, ...]
    features: tuple[str, ...]
    stains_json: str
    n_features: int
    info: dict

    def halo_um(self) -> float:
        """Context (µm) a tile needs for features that do not depend on tile borders."""
        return 4.0 * max(self.sigmas_um) * 2.0 + 2.0 * self.mpp_um

    def stains(self) -> Any:
        from ..stain import StainMatrix

        return StainMatrix.from_json(self.stains_json)

    def features_of(self, rgb: np.ndarray, *, mpp: float) -> tuple[np.ndarray, float]:
        """:func:`pixel_features` with this classifier's settings."""
        return pixel_features(rgb, mpp=mpp, stains=self.stains(), mpp_um=self.mpp_um,
                              sigmas_um=self.sigmas_um, features=self.features)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of feature rows: (K, F) -> (K, n_classes) float64."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            msg = f"features must be (K, {self.n_features}), got shape {x.shape}"
            raise ConfigError(msg)
        return _forest_predict(self.trees, x)

    def necrosis_probability(self, rgb: np.ndarray, *, mpp: float) -> tuple[np.ndarray, float]:
        """Necrosis probability map of a tile: ((m, n) float32 on the working grid, grid µm/px)."""
        feats, grid_mpp = self.features_of(rgb, mpp=mpp)
        p = self.predict_proba(feats.reshape(-1, feats.shape[-1]))[:, self.classes.index("necrosis")]
        return p.reshape(feats.shape[:2]).astype(np.float32), grid_mpp

    def save(self, path: str | Path) -> Path:
        """Write an ``.npz`` of numeric arrays plus a JSON metadata string (no pickle)."""
        path = Path(path)
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "classes": list(self.classes),
                "mpp_um": self.mpp_um, "sigmas_um": list(self.sigmas_um), "features": list(self.features),
                "stains": self.stains_json, "n_features": self.n_features, "n_trees": len(self.trees),
                "info": self.info}
        arrays = {f"t{i}_{key}": t[key] for i, t in enumerate(self.trees) for key in _TREE_KEYS}
        with path.open("wb") as fh:
            np.savez_compressed(fh, metadata=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]
        return path


def _corrupt(path: Path, what: str) -> CorruptFileError:
    return CorruptFileError(f"pixel classifier file {str(path)!r}: {what}")


def load_pixel_classifier(path: str | Path) -> PixelClassifier:
    """Load and validate a classifier written by :meth:`PixelClassifier.save`.

    Only numeric arrays and one JSON string are read (``allow_pickle=False``); every tree is
    checked (shapes, dtypes, child indices pointing forward inside the tree, feature indices
    in range), so a tampered file raises :class:`~mmnst_path.errors.CorruptFileError` instead
    of predicting garbage or looping.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise _corrupt(path, f"not a pickle-free .npz classifier ({exc})") from exc
    try:
        meta = json.loads(str(data.pop("metadata")))
    except (KeyError, ValueError) as exc:
        raise _corrupt(path, "missing or unreadable JSON 'metadata' entry") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _corrupt(path, f"metadata format is not {FORMAT!r}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise _corrupt(path, f"format_version {meta.get('format_version')!r}, expected {FORMAT_VERSION}")
    try:
        classes = tuple(str(c) for c in meta["classes"])
        n_features, n_trees = int(meta["n_features"]), int(meta["n_trees"])
        features = tuple(str(f) for f in meta["features"])
        sigmas = tuple(float(s) for s in meta["sigmas_um"])
        mpp_um = float(meta["mpp_um"])
        stains_json = str(meta["stains"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _corrupt(path, f"metadata field missing or of the wrong type ({exc})") from exc
    if "necrosis" not in classes or n_trees < 1 or n_features != 2 * len(sigmas) * len(features):
        raise _corrupt(path, f"inconsistent metadata (classes {classes}, n_trees {n_trees}, "
                             f"n_features {n_features} vs {len(sigmas)} sigmas x {len(features)} features x 2)")
    trees = []
    for i in range(n_trees):
        try:
            t = {k: data.pop(f"t{i}_{k}") for k in _TREE_KEYS}
        except KeyError as exc:
            raise _corrupt(path, f"tree {i} lacks array {exc}") from exc
        trees.append(_check_tree(path, i, t, n_features, len(classes)))
    if data:
        raise _corrupt(path, f"unexpected arrays {sorted(data)[:5]}")
    clf = PixelClassifier(tuple(trees), classes, mpp_um, sigmas, features, stains_json, n_features,
                          dict(meta.get("info", {})))
    try:
        clf.stains()
        _grid_factor(mpp_um, mpp_um)
        if not set(features) <= set(FEATURES):
            raise ConfigError(f"unknown features {features}")
    except Exception as exc:
        raise _corrupt(path, f"invalid settings ({exc})") from exc
    return clf


def _check_tree(path: Path, i: int, t: dict[str, np.ndarray], n_features: int, n_classes: int) -> dict:
    n = t["children_left"].shape[0] if t["children_left"].ndim == 1 else -1
    kinds = {"children_left": "i", "children_right": "i", "feature": "i", "threshold": "f", "value": "f"}
    for key, kind in kinds.items():
        a = t[key]
        if a.dtype.kind != kind or a.shape[:1] != (n,) or (a.ndim != (2 if key == "value" else 1)):
            raise _corrupt(path, f"tree {i} array {key!r} has dtype {a.dtype} shape {a.shape}, expected "
                                 f"kind {kind!r} with {n} nodes")
    if n < 1 or t["value"].shape[1] != n_classes:
        raise _corrupt(path, f"tree {i}: {n} nodes, value columns {t['value'].shape[1]} vs {n_classes} classes")
    left, right = t["children_left"].astype(np.int64), t["children_right"].astype(np.int64)
    idx = np.arange(n)
    leaf = left < 0
    inner = ~leaf
    ok = (np.all(left[leaf] == -1) and np.all(right[leaf] == -1)
          and np.all((left[inner] > idx[inner]) & (left[inner] < n))
          and np.all((right[inner] > idx[inner]) & (right[inner] < n))
          and np.all((t["feature"][inner] >= 0) & (t["feature"][inner] < n_features))
          and np.all(np.isfinite(t["threshold"][inner])) and np.all(np.isfinite(t["value"]))
          and np.all(t["value"] >= 0))
    if not ok:
        raise _corrupt(path, f"tree {i} has invalid node links, feature indices or values")
    return {"children_left": left, "children_right": right, "feature": t["feature"].astype(np.int64),
            "threshold": t["threshold"].astype(np.float64), "value": t["value"].astype(np.float64)}


def _grid_labels(labels: np.ndarray, f: int, shape: tuple[int, int], n_classes: int) -> np.ndarray:
    """Label of each grid block: the class covering >= half of it, else 0 (unlabelled)."""
    out = np.zeros(shape, np.int64)
    for c in range(1, n_classes + 1):
        frac = _block_mean((labels == c).astype(np.float32), f)[: shape[0], : shape[1]]
        out[frac >= 0.5] = c
    return out


def train_pixel_classifier(
    images: np.ndarray | Sequence[np.ndarray],
    labels: np.ndarray | Sequence[np.ndarray],
    *,
    mpp: float | Sequence[float],
    stains: Any = "H&E",
    mpp_um: float = 2.0,
    sigmas_um: Sequence[float] = (2.0, 4.0, 8.0, 16.0),
    features: Sequence[str] = FEATURES,
    classes: Sequence[str] = ("necrosis", "other"),
    n_estimators: int = 50,
    max_depth: int | None = 16,
    min_samples_leaf: int = 5,
    random_state: int = 0,
) -> PixelClassifier:
    """Fit a random forest on labelled pixels of one or more tiles.

    Parameters
    ----------
    images : (M, N, 3) uint8 ndarray or sequence of them
    labels : (M, N) integer ndarray or sequence of them
        Label images at the images' resolution: 0 unlabelled, ``k`` = ``classes[k - 1]``
        (napari Labels: 1 necrosis, 2 other); e.g. from :func:`labels_from_geojson`.
    mpp : float or sequence of float
        µm/px of each image.
    stains, mpp_um, sigmas_um, features : see :func:`pixel_features`.
    classes : sequence of str
        Names of label values 1, 2, ...; must include ``"necrosis"``.
    n_estimators, max_depth, min_samples_leaf, random_state : scikit-learn forest settings.

    Returns
    -------
    PixelClassifier
    """
    from sklearn import __version__ as sk_version
    from sklearn.ensemble import RandomForestClassifier

    from ..stain import load_stains

    if isinstance(images, np.ndarray) and images.ndim == 3:
        images, labels = [images], [labels]  # type: ignore[list-item]
    mpps = [mpp] * len(images) if isinstance(mpp, int | float) else list(mpp)
    if not (len(images) == len(labels) == len(mpps)) or not images:
        msg = f"need as many label images and mpp values as images, got {len(images)}, {len(labels)}, {len(mpps)}"
        raise ConfigError(msg)
    classes = tuple(classes)
    if "necrosis" not in classes or len(set(classes)) != len(classes):
        msg = f"classes must be distinct names including 'necrosis', got {classes}"
        raise ConfigError(msg)
    matrix = load_stains(stains)
    xs, ys = [], []
    for img, lab, m in zip(images, labels, mpps, strict=True):
        lab = np.asarray(lab)
        if lab.shape != img.shape[:2] or lab.dtype.kind not in "iub":
            msg = f"labels must be an integer image of shape {img.shape[:2]}, got {lab.dtype} {lab.shape}"
            raise ConfigError(msg)
        feats, grid_mpp = pixel_features(img, mpp=m, stains=matrix, mpp_um=mpp_um, sigmas_um=sigmas_um,
                                         features=features)
        grid = _grid_labels(lab, round(grid_mpp / m), feats.shape[:2], len(classes))
        sel = grid > 0
        xs.append(feats[sel])
        ys.append(grid[sel] - 1)
    x, y = np.concatenate(xs), np.concatenate(ys)
    present = np.unique(y)
    if present.size < 2:
        msg = f"labels hold only class(es) {[classes[i] for i in present]}; draw at least two classes"
        raise ConfigError(msg)
    rf = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                random_state=random_state, n_jobs=1)
    rf.fit(x, y)
    trees = _trees_from_sklearn(rf, len(classes))
    info = {"sklearn": sk_version, "numpy": np.__version__,
            "training_pixels": {classes[i]: int((y == i).sum()) for i in range(len(classes))},
            "n_estimators": n_estimators, "max_depth": max_depth, "min_samples_leaf": min_samples_leaf}
    return PixelClassifier(trees, classes, float(mpp_um), tuple(float(s) for s in sigmas_um),
                           tuple(features), matrix.to_json(indent=None), int(x.shape[1]), info)


def _trees_from_sklearn(rf: Any, n_classes: int) -> tuple[dict[str, np.ndarray], ...]:
    """Plain arrays of a fitted ``RandomForestClassifier`` (labels 0..n_classes-1)."""
    cols = np.asarray(rf.classes_, dtype=np.int64)
    trees = []
    for est in rf.estimators_:
        tr = est.tree_
        value = np.zeros((tr.node_count, n_classes))
        value[:, cols] = tr.value[:, 0, :]  # columns of classes absent from training stay 0
        trees.append({"children_left": tr.children_left.astype(np.int64),
                      "children_right": tr.children_right.astype(np.int64),
                      "feature": tr.feature.astype(np.int64), "threshold": tr.threshold.astype(np.float64),
                      "value": value})
    return tuple(trees)


def labels_from_geojson(geojson: str | Path | dict, shape: tuple[int, int], *, origin: tuple[float, float] = (0, 0),
                        downsample: float = 1.0, classes: Sequence[str] = ("necrosis", "other")) -> np.ndarray:
    """Rasterise GeoJSON polygons (QuPath / napari export) into a training label image.

    Parameters
    ----------
    geojson : path, JSON text or mapping
        A FeatureCollection, a list of Features, one Feature or one geometry. Coordinates are
        level-0 ``(x, y)`` pixels. The class is ``properties.classification.name`` (QuPath),
        ``properties.classification`` (string), ``properties.class`` or ``properties.name``;
        ``Necrosis`` (any case) -> label 1, any other class -> the index of ``"other"`` (2).
        Polygon holes are cut out; MultiPolygons are supported; other geometries are skipped.
    shape : (rows, cols)
        Shape of the label image.
    origin : (row, col)
        Level-0 position of the label image's pixel (0, 0).
    downsample : float
        Level-0 pixels per label pixel.

    Returns
    -------
    (rows, cols) uint8 ndarray
        0 unlabelled, 1 necrosis, 2 other; later polygons overwrite earlier ones.
    """
    from skimage.draw import polygon as draw_polygon

    if isinstance(geojson, dict | list):
        doc = geojson
    else:
        text = str(geojson)
        try:
            doc = json.loads(text if text.lstrip().startswith(("{", "[")) else Path(text).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            msg = f"GeoJSON {text[:80]!r}: cannot read it as a file or JSON text ({exc})"
            raise ConfigError(msg) from exc
    feats = doc if isinstance(doc, list) else doc.get("features", [doc])
    other = list(classes).index("other") + 1 if "other" in classes else 2
    out = np.zeros(shape, np.uint8)
    for feat in feats:
        if not isinstance(feat, dict):
            continue
        geom = feat.get("geometry", feat) or {}
        props = feat.get("properties") or {}
        cls = props.get("classification", props.get("class", props.get("name", "")))
        if isinstance(cls, dict):
            cls = cls.get("name", "")
        value = 1 if str(cls).strip().lower() == "necrosis" else other
        polys = {"Polygon": [geom.get("coordinates")], "MultiPolygon": geom.get("coordinates")}.get(
            str(geom.get("type")), [])
        for poly in polys or []:
            for k, ring in enumerate(poly or []):
                xy = np.asarray(ring, dtype=np.float64)
                if xy.ndim != 2 or xy.shape[0] < 3 or xy.shape[1] < 2:
                    continue
                rows = (xy[:, 1] - origin[0]) / downsample
                cols = (xy[:, 0] - origin[1]) / downsample
                rr, cc = draw_polygon(rows, cols, shape=shape)
                out[rr, cc] = value if k == 0 else 0
    return out
