"""Training: feature rows and labels -> a :class:`~mmnst_path.classify.model.ClassifierModel`.

scikit-learn is imported here only (inference needs numpy alone). One function serves every kind
of model; nucleus and tissue models differ in their features and classes, not in how they are
trained, validated or stored. :func:`match_points` turns point annotations (a pathologist's clicks,
QuPath detections, a dataset's keypoints) into labels of detected nuclei.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._forest import Forest
from .model import ClassifierModel, ClassSpec, FeatureSpec

__all__ = ["DEFAULT_COLOURS", "class_report", "match_points", "stack_rows", "train_model", "training_caution"]

#: Display colours of the usual class names (RGB); other names get a colour from a fixed cycle.
DEFAULT_COLOURS: dict[str, tuple[int, int, int]] = {
    "tumour": (200, 40, 40), "lymphocyte": (40, 80, 220), "stromal": (40, 170, 60),
    "macrophage": (220, 150, 20), "other": (130, 130, 130), "necrosis": (120, 60, 20),
    "stroma": (60, 170, 90), "background": (240, 240, 240), "fat": (250, 230, 150), "blood": (220, 30, 90),
    "mucin": (120, 200, 230), "keratin": (230, 120, 200), "melanin": (60, 40, 20), "muscle": (180, 80, 120),
    "inflammatory": (60, 60, 200),
}
_CYCLE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75))


def _colour(name: str, i: int) -> tuple[int, int, int]:
    return DEFAULT_COLOURS.get(name, _CYCLE[i % len(_CYCLE)])


def match_points(det_rc: np.ndarray, ann_rc: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matches of detections and annotated points within ``radius`` (same units).

    Minimises the total distance (Hungarian algorithm on the pairs within reach, solved per
    connected group so large images stay cheap). Returns ``(det_index, ann_index)`` int arrays.
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    det_rc, ann_rc = np.asarray(det_rc, float).reshape(-1, 2), np.asarray(ann_rc, float).reshape(-1, 2)
    if len(det_rc) == 0 or len(ann_rc) == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    pairs = cKDTree(det_rc).sparse_distance_matrix(cKDTree(ann_rc), radius, output_type="coo_matrix")
    if pairs.nnz == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    nd = len(det_rc)
    graph = coo_matrix((np.ones(pairs.nnz), (pairs.row, pairs.col + nd)), shape=(nd + len(ann_rc),) * 2)
    _, comp = connected_components(graph, directed=False)
    out_d, out_a = [], []
    pc = comp[pairs.row]
    order = np.argsort(pc, kind="stable")
    rows, cols, dist, pc = pairs.row[order], pairs.col[order], pairs.data[order], pc[order]
    bounds = np.flatnonzero(np.diff(pc)) + 1
    for sl in np.split(np.arange(len(pc)), bounds):
        ud, inv_d = np.unique(rows[sl], return_inverse=True)
        ua, inv_a = np.unique(cols[sl], return_inverse=True)
        cost = np.full((len(ud), len(ua)), 1e9)
        cost[inv_d, inv_a] = dist[sl]
        i, j = linear_sum_assignment(cost)
        ok = cost[i, j] <= radius
        out_d.append(ud[i[ok]])
        out_a.append(ua[j[ok]])
    return np.concatenate(out_d), np.concatenate(out_a)


def class_report(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """Per-class precision / recall / F1 / support, accuracy and the confusion matrix (rows = truth)."""
    k = len(classes)
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (np.asarray(y_true, np.intp), np.asarray(y_pred, np.intp)), 1)
    per = {}
    for i, name in enumerate(classes):
        tp, fp, fn = cm[i, i], cm[:, i].sum() - cm[i, i], cm[i, :].sum() - cm[i, i]
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")
        f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
        per[name] = {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
                     "support": int(cm[i, :].sum())}
    acc = float(np.trace(cm) / max(cm.sum(), 1))
    return {"accuracy": round(acc, 4), "per_class": per, "confusion": cm.tolist()}


#: Below these a trained model is written with a caution (advice to the annotator, not a limit): examples
#: of a class (nuclei, or 8 µm blocks of a tissue model) and held-out accuracy.
CAUTION_MIN_EXAMPLES = 30
CAUTION_MIN_ACCURACY = 0.8


def training_caution(card: Mapping[str, Any]) -> str | None:
    """One sentence when a trained model's card shows too few examples of a class or a poor held-out
    accuracy (``CAUTION_MIN_EXAMPLES``, ``CAUTION_MIN_ACCURACY``); None when neither.

    ``mmnst-path train`` and napari's Train widgets say it after training, so a model fitted on a
    handful of clicks is not taken for a usable one.
    """
    counts = card.get("training_counts") or {}
    held = (card.get("validation") or {}).get("held_out") or {}
    parts = []
    few = [f"{name} {n}" for name, n in counts.items() if isinstance(n, int | float) and n < CAUTION_MIN_EXAMPLES]
    if few:
        parts.append(f"few examples ({', '.join(few)}; {CAUTION_MIN_EXAMPLES} or more of each class advised)")
    acc = held.get("accuracy") if isinstance(held, Mapping) else None
    if isinstance(acc, int | float) and math.isfinite(acc) and acc < CAUTION_MIN_ACCURACY:
        support = sum(int(c.get("support", 0)) for c in (held.get("per_class") or {}).values() if isinstance(c, Mapping))
        shown = f"{acc:.2f}" if round(acc, 2) < CAUTION_MIN_ACCURACY else f"{acc:.4f}"  # never "0.80" under 0.8
        parts.append(f"held-out accuracy {shown} on {support} examples")
    if not parts:
        return None
    return "caution: " + "; ".join(parts) + ": annotate more examples of every class and retrain before relying on it"


def train_model(
    x: np.ndarray,
    y: np.ndarray,
    *,
    kind: str,
    classes: Sequence[str],
    features: Sequence[FeatureSpec],
    settings: Mapping[str, Any],
    card: Mapping[str, Any] | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    n_estimators: int = 60,
    max_depth: int | None = 14,
    min_samples_leaf: int = 4,
    class_weight: str | None = "balanced_subsample",
    max_samples: float | None = None,
    random_state: int = 0,
) -> ClassifierModel:
    """Fit a random forest on feature rows and wrap it as a model with its card.

    Parameters
    ----------
    x : (K, F) float ndarray
        Features, columns as ``features``.
    y : (K,) int ndarray
        Class index into ``classes`` of each row.
    kind : {"nucleus", "tissue"}
    classes : sequence of str
        Class names (column order of the probabilities).
    features : sequence of FeatureSpec
    settings : mapping
        Feature settings, stored with the model and checked when it is used.
    card : mapping or None
        Model card fields (name, version, licence, training data...); the training counts, the
        library versions and the validation figures are added.
    validation : (x_val, y_val) or None
        Held-out rows; their class report goes into ``card["validation"]``.
    n_estimators, max_depth, min_samples_leaf, class_weight, max_samples, random_state
        scikit-learn ``RandomForestClassifier`` settings (one thread: deterministic).
    """
    import sklearn
    from sklearn.ensemble import RandomForestClassifier

    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    classes = tuple(classes)
    if x.ndim != 2 or x.shape[1] != len(features) or y.shape != (x.shape[0],):
        msg = f"training rows must be (K, {len(features)}) with (K,) labels, got {x.shape} and {y.shape}"
        raise ConfigError(msg)
    if not np.all(np.isfinite(x)):
        msg = "training features hold NaN or infinite values"
        raise ConfigError(msg)
    if y.size and (y.min() < 0 or y.max() >= len(classes)):
        msg = f"labels must be class indices in [0, {len(classes)}), got {y.min()}..{y.max()}"
        raise ConfigError(msg)
    present = np.unique(y)
    if present.size < 2:
        msg = (f"training needs examples of at least two classes, got {[classes[i] for i in present]} "
               f"({y.size} rows)")
        raise ConfigError(msg)
    rf = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                class_weight=class_weight, max_samples=max_samples, random_state=random_state,
                                n_jobs=1)
    rf.fit(x, y)
    forest = Forest.from_sklearn(rf, len(classes))
    full_card = dict(card or {})
    full_card.setdefault("name", f"{kind} classifier")
    full_card["training_counts"] = {classes[i]: int((y == i).sum()) for i in range(len(classes))}
    full_card["software"] = {"scikit-learn": sklearn.__version__, "numpy": np.__version__,
                             "python": platform.python_version()}
    full_card["forest"] = {"n_estimators": n_estimators, "max_depth": max_depth,
                           "min_samples_leaf": min_samples_leaf, "class_weight": class_weight,
                           "n_nodes": forest.n_nodes}
    importances = rf.feature_importances_
    order = np.argsort(importances)[::-1][:10]
    full_card["top_features"] = {features[i].name: round(float(importances[i]), 4) for i in order}
    if validation is not None:
        xv, yv = validation
        pred = np.argmax(forest.predict_proba(np.asarray(xv, np.float32)), axis=1)
        full_card.setdefault("validation", {})["held_out"] = class_report(np.asarray(yv), pred, classes)
    rng = np.random.default_rng(random_state)
    pick = rng.choice(x.shape[0], size=min(16, x.shape[0]), replace=False)
    return ClassifierModel.build(
        kind=kind, classes=[ClassSpec(i, name, _colour(name, i)) for i, name in enumerate(classes)],
        features=features, settings=settings, card=full_card, forest=forest, test_x=x[pick],
    )


def stack_rows(rows: Sequence[tuple[np.ndarray, np.ndarray]], *, nothing: str) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate per-image (features, class names) rows; ``nothing`` is the error when none has a row."""
    xs = [np.asarray(x, np.float32) for x, _ in rows if len(x)]
    ys = [np.asarray(y).astype(str) for x, y in rows if len(x)]
    if not xs:
        raise ConfigError(nothing)
    return np.concatenate(xs), np.concatenate(ys)


def _fit_with_holdout(x: np.ndarray, y: np.ndarray, *, validation_fraction: float, random_state: int = 0,
                       **settings: Any) -> ClassifierModel:
    """:func:`train_model` on all rows, with held-out figures in its card.

    A random ``validation_fraction`` of the rows is held out from a first fit whose class report
    goes into ``card["validation"]``; the returned model is then fitted on every row. ``settings``
    are :func:`train_model` keywords (kind, classes, features, settings, card, forest options).
    """
    held = np.random.default_rng(random_state).random(len(y)) < validation_fraction
    validation = None
    if held.any() and len(np.unique(y[~held])) >= 2:
        probe_kw = {k: v for k, v in settings.items() if k != "card"}
        probe = train_model(x[~held], y[~held], validation=(x[held], y[held]), random_state=random_state,
                            **probe_kw)
        validation = probe.card.get("validation", {}).get("held_out")
    model = train_model(x, y, random_state=random_state, **settings)
    if validation is not None:
        model.card["validation"] = {"held_out_fraction": validation_fraction, "held_out": validation}
    return model
