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
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._forest import Forest
from .model import ClassifierModel, ClassSpec, FeatureSpec

__all__ = ["DEFAULT_COLOURS", "Places", "class_report", "holdout_folds", "match_points", "stack_rows", "train_model", "training_caution"]

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
#: of a class (nuclei, or 8 µm blocks of a tissue model), held-out accuracy, and the held-out recall of any
#: class (a minority class can have a poor recall under a good accuracy).
CAUTION_MIN_EXAMPLES = 30
CAUTION_MIN_ACCURACY = 0.8
CAUTION_MIN_RECALL = 0.5


def _shown(value: float, limit: float) -> str:
    return f"{value:.2f}" if round(value, 2) < limit else f"{value:.4f}"  # never "0.80" under 0.8


def training_caution(card: Mapping[str, Any]) -> str | None:
    """One sentence when a trained model's card shows too few examples of a class, a poor held-out accuracy
    or class recall, or classes annotated on one image only (``CAUTION_MIN_EXAMPLES``,
    ``CAUTION_MIN_ACCURACY``, ``CAUTION_MIN_RECALL``); None when none of these.

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
        parts.append(f"held-out accuracy {_shown(acc, CAUTION_MIN_ACCURACY)} on {support} examples")
    per_class = held.get("per_class") if isinstance(held, Mapping) else None
    low = [f"{name} {_shown(float(c['recall']), CAUTION_MIN_RECALL)}" for name, c in (per_class or {}).items()
           if isinstance(c, Mapping) and isinstance(c.get("recall"), int | float) and math.isfinite(c["recall"])
           and c["recall"] < CAUTION_MIN_RECALL]
    if low:
        parts.append(f"low held-out recall ({', '.join(low)}; {CAUTION_MIN_RECALL:g} or more advised)")
    not_held = (card.get("validation") or {}).get("not_held_out")
    if not_held:
        parts.append(f"no held-out figure ({not_held})")
    images = card.get("images_per_class") or {}
    n_images = int(card.get("training_images", 0) or 0)
    if n_images == 1:
        parts.append("every example comes from one image (its held-out figures come from squares of that image)")
    elif n_images > 1:
        one = [name for name, n in images.items() if n == 1]
        if one:
            parts.append(f"annotated on one image only: {', '.join(one)}")
    if not parts:
        return None
    return ("caution: " + "; ".join(parts) + ": annotate more examples of every class, on more images, and retrain "
            "before relying on it")


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
    class_scale: Mapping[str, float] | None = None,
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
    class_scale : mapping or None
        Class name -> factor (> 0) on that class's weight: the forest is fitted with the per-class weights
        ``n / (n_classes * n_c) * factor`` of the whole training set (``"balanced"`` or ``"balanced_subsample"``;
        ``factor`` alone with ``class_weight=None``), which scikit-learn turns into each tree's bootstrap draw, so a
        class's share of every tree's sample is its balanced share times its factor. (A per-row ``sample_weight``
        would not do: scikit-learn >= 1.6 uses it only for the draw, and ``"balanced_subsample"`` re-balances the
        drawn sample.) None, an empty mapping or factors all 1: the fit unchanged. Recorded in ``card["forest"]``.
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
    fit_weight = _scaled_class_weight(y, classes, class_weight, class_scale)
    rf = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                class_weight=fit_weight, max_samples=max_samples, random_state=random_state,
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
                           "n_nodes": forest.n_nodes,
                           **({"class_scale": dict(class_scale)} if class_scale else {})}
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


def _scaled_class_weight(y: np.ndarray, classes: Sequence[str], class_weight: str | None,
                         class_scale: Mapping[str, float] | None) -> str | dict[int, float] | None:
    """The ``class_weight`` :func:`train_model` fits with: ``class_weight`` itself when ``class_scale`` asks for no
    change, else per class index its balanced weight on all of ``y`` (1 with ``class_weight=None``) times its factor."""
    if not class_scale:
        return class_weight
    factor = np.ones(len(classes), np.float64)
    for name, value in class_scale.items():
        if name not in classes:
            msg = f"class_scale: {name!r} is not one of the classes {list(classes)}"
            raise ConfigError(msg)
        if not (math.isfinite(value) and value > 0):
            msg = f"class_scale: the factor of {name!r} must be a finite number > 0, got {value!r}"
            raise ConfigError(msg)
        factor[classes.index(name)] = float(value)
    if np.all(factor == 1.0):
        return class_weight
    if class_weight not in (None, "balanced", "balanced_subsample"):
        msg = f"class_scale: needs class_weight None, 'balanced' or 'balanced_subsample', got {class_weight!r}"
        raise ConfigError(msg)
    present, counts = np.unique(y, return_counts=True)
    return {int(c): float(factor[c]) * (1.0 if class_weight is None else len(y) / (len(present) * int(n)))
            for c, n in zip(present, counts, strict=True)}


def stack_rows(rows: Sequence[tuple[np.ndarray, np.ndarray]], *, nothing: str) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate per-image (features, class names) rows; ``nothing`` is the error when none has a row."""
    xs = [np.asarray(x, np.float32) for x, _ in rows if len(x)]
    ys = [np.asarray(y).astype(str) for x, y in rows if len(x)]
    if not xs:
        raise ConfigError(nothing)
    return np.concatenate(xs), np.concatenate(ys)


#: The spatial hold-out of one training image: squares of this side (µm) in a checkerboard, and how far (µm) from
#: a square's border an example must lie to be scored (its features reach its neighbours across the border).
HOLDOUT_SQUARE_UM = 256.0
HOLDOUT_GAP_UM = 32.0
#: At most this many folds of whole images (group k-fold: every image is held out once).
HOLDOUT_MAX_FOLDS = 5


@dataclass(frozen=True)
class Places:
    """Where each training row comes from: ``image`` (K,) int index of its image, ``rc_um`` (K, 2) its
    position (row, col) in µm in that image. The held-out figures of :func:`_fit_with_holdout` use them."""

    image: np.ndarray
    rc_um: np.ndarray

    @staticmethod
    def stack(parts: Sequence[tuple[int, np.ndarray]]) -> Places:
        """Places of rows stacked in order from ``(image index, (k, 2) rc_um)`` parts."""
        imgs = [np.full(len(rc), int(i), np.intp) for i, rc in parts]
        rcs = [np.asarray(rc, float).reshape(-1, 2) for _, rc in parts]
        return Places(np.concatenate(imgs) if imgs else np.zeros(0, np.intp),
                      np.concatenate(rcs) if rcs else np.zeros((0, 2)))


def holdout_folds(places: Places, *, square_um: float = HOLDOUT_SQUARE_UM, gap_um: float = HOLDOUT_GAP_UM,
                  max_folds: int = HOLDOUT_MAX_FOLDS) -> tuple[np.ndarray, np.ndarray, str]:
    """Folds of the held-out figures: ``(fold (K,) int, scored (K,) bool, description)``.

    Two images or more: whole images are held out (image ``i`` in fold ``i % k``, ``k = min(images,
    max_folds)``), every row scored. One image: a checkerboard of ``square_um`` squares (two folds; squares
    of a quarter of the annotated extent, and a gap of a quarter of a square, when that is smaller); a row
    within ``gap_um`` of its square's border is trained on but not scored, so no scored row has a training
    row of the other fold next to it.
    """
    images = np.unique(places.image)
    if len(images) >= 2:
        k = min(len(images), max_folds)
        rank = np.searchsorted(images, places.image)
        return rank % k, np.ones(len(rank), bool), f"whole images held out ({len(images)} images in {k} folds)"
    rc = np.asarray(places.rc_um, float).reshape(-1, 2)
    if len(rc):  # a small annotated area: squares of a quarter of its extent (at least 4 x 4 of them)
        rc = rc - rc.min(axis=0)
        square_um = max(1e-6, min(square_um, float(np.ptp(rc, axis=0).max()) / 4))
        gap_um = min(gap_um, square_um / 4)
    sq = np.floor(rc / square_um)
    fold = ((sq[:, 0] + sq[:, 1]) % 2).astype(np.intp)
    inside = rc - sq * square_um
    scored = np.all((inside >= gap_um) & (inside <= square_um - gap_um), axis=1)
    text = (f"one image: a checkerboard of {square_um:.0f} µm squares held out in turn (examples within "
            f"{gap_um:.0f} µm of a square's border not scored); hold out whole images by training on two or more")
    return fold, scored, text


def _fit_with_holdout(x: np.ndarray, y: np.ndarray, *, validation_fraction: float, random_state: int = 0,
                      places: Places | None = None, **settings: Any) -> ClassifierModel:
    """:func:`train_model` on all rows, with held-out figures in its card.

    With ``places`` (where each row comes from), the card's ``validation.held_out`` is the class report of
    out-of-fold predictions over :func:`holdout_folds`: whole images held out, or spatial squares of a
    single image; ``validation.split`` says which. Without them a random ``validation_fraction`` of the rows
    is held out, but those rows have neighbours of the same regions in training (optimistic): that figure
    is kept as ``validation.training_image_blocks``, not as a held-out one. The returned model is fitted on
    every row. ``settings`` are :func:`train_model` keywords (kind, classes, features, settings, card,
    forest options).
    """
    probe_kw = {k: v for k, v in settings.items() if k != "card"}
    classes = settings["classes"]
    validation: dict[str, Any] | None = None
    if places is not None:
        if len(places.image) != len(y):
            msg = f"places: {len(places.image)} rows for {len(y)} training rows"
            raise ConfigError(msg)
        fold, scored, text = holdout_folds(places)
        truth, pred = [], []
        for f in np.unique(fold):
            test, train = (fold == f) & scored, fold != f
            if not test.any() or len(np.unique(y[train])) < 2:
                continue
            probe = train_model(x[train], y[train], random_state=random_state, **probe_kw)
            truth.append(y[test])
            pred.append(np.argmax(probe.forest.predict_proba(np.asarray(x[test], np.float32)), axis=1))
        model_card = dict(settings.get("card") or {})
        settings["card"] = model_card
        model_card["training_images"] = len(np.unique(places.image))
        model_card["images_per_class"] = {c: len(np.unique(places.image[y == i])) for i, c in enumerate(classes)}
        if truth:
            validation = {"split": text, "held_out": class_report(np.concatenate(truth), np.concatenate(pred),
                                                                  classes)}
        else:  # e.g. two images of one class each: no fold trains on two classes
            validation = {"split": text, "not_held_out": "no fold's training rows hold two classes: annotate "
                                                          "every class on more than one image"}
    else:
        held = np.random.default_rng(random_state).random(len(y)) < validation_fraction
        if held.any() and len(np.unique(y[~held])) >= 2:
            probe = train_model(x[~held], y[~held], validation=(x[held], y[held]), random_state=random_state,
                                **probe_kw)
            validation = {"split": f"random {validation_fraction:g} of the rows (blocks of the training images: "
                                   "their neighbours were trained on, so the figure is optimistic)",
                          "training_image_blocks": probe.card.get("validation", {}).get("held_out")}
    model = train_model(x, y, random_state=random_state, **settings)
    if validation is not None:
        model.card["validation"] = validation
    return model
