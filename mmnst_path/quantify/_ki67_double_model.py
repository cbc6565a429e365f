"""Ki67 / SOX10 double-positive nuclei by a learned call (issue #14, session 44).

In a Ki67 (DAB) / SOX10 (nuclear Fast Red or AEC) double stain a Ki67-positive melanocyte's nucleus holds both
chromogens. With the stain vectors a few degrees off their presets the three-stain unmixing hands part of the red
to negative DAB (session 43: -0.2 OD on double positives against -0.05 on stromal positives), so many double
positives read Ki67-negative, and with AEC (8.4° from DAB) the red and the brown trade off nucleus by nucleus. A
threshold on one unmixed channel cannot follow that; a forest reading each nucleus from its optical densities
(the preset unmixing, raw OD, OD hue) and from the tile's own nuclei (its DAB-free and red-free ones give the
tile's crosstalk and its marker-only, DAB-only and plain colours) can.

:func:`nucleus_rows` computes the feature rows (:data:`FEATURES`, in order); the shipped model
(``mmnst_path/models/double_nuclear_marker.mmnst``, ``scripts/train_double_marker_model.py``, trained on generated
double stains only) gives each nucleus four probabilities (:data:`CLASSES`); :func:`learned_double_call` replaces
the Ki67 call and the marker call of the index nuclei (``positive`` / ``negative``) with the model's. Used by
:func:`~mmnst_path.quantify.ki67.measure_ki67` only with a nuclear marker (SOX10); excluded and near-black nuclei
keep their class. A ``pigment`` nucleus (not near-black) the model reads as a melanocyte at
:data:`FREE_MELANOCYTE_P` is counted with its Ki67 call (positive at :data:`FREE_POSITIVE_P`): the pigment mask of
the marker-free rendering covers many marker-stained nuclei (AEC above all; session 44 H10: dev 14622 AEC, 82 of
101 melanocytes found marked ``pigment``, true melanin on 0-20 % of their disk); on dev seeds 14700-14739, 3-4 of
~446 freed nuclei per 40 tiles were Ki67-negative in truth and read positive (#14: pigment is never Ki67).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np

from ..classify.model import ClassifierModel, FeatureSpec, check_feature_settings, load_model, model_file
from ..errors import ConfigError

__all__ = ["CLASSES", "FEATURES", "MODEL_TASK", "POSITIVE_P", "SETTINGS", "learned_double_call", "nucleus_rows",
           "resolve_double_model"]

MODEL_TASK = "double_stain_nuclei"
_MODELS = {"default": "double_nuclear_marker.mmnst"}
#: Classes, in probability-column order: stromal (marker-free) or melanocytic, Ki67 negative or positive, and
#: ``other``: a detection that is no single nucleus (a melanin granule cluster, merged or split nuclei).
CLASSES = ("negative", "positive", "melanocyte_negative", "melanocyte_positive", "other")
#: Probability of ``positive`` + ``melanocyte_positive`` (among the four nucleus classes) from which a nucleus is
#: called Ki67-positive (0.5, 0.6, 0.7 on dev seeds 14600-14627, 0.7 kept: fewest false positives, see the model card).
POSITIVE_P = 0.7
#: A ``pigment`` nucleus (not near-black) of a nuclear-marker double stain is read (freed into the index) where the
#: model's melanocyte probability among the four nucleus classes is at least this (and it is no ``other``): the
#: pigment mask of the marker-free rendering covers marker-stained nuclei (AEC above all), not melanin.
FREE_MELANOCYTE_P = 0.8
#: Freed nuclei are Ki67-positive at this probability of ``positive`` + ``melanocyte_positive`` (a melanin-covered
#: negative must not turn positive, #14).
FREE_POSITIVE_P = 0.7
#: What the features are computed with (checked against the model's settings).
SETTINGS = {"dab_free_od": 0.1, "red_free_od": 0.04, "marker_ref_od": 0.15, "dab_ref_od": 0.35, "min_ref": 5}

_Q = (0.25, 0.5, 0.75, 0.9)
FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("area", "px", "nucleus area"),
    FeatureSpec("separation_deg", "deg", "angle between the preset marker and DAB vectors"),
    FeatureSpec("hem", "log10 OD", "mean hematoxylin over the nucleus (three-stain preset unmixing)"),
    *(FeatureSpec(f"dab_q{round(100 * q)}", "log10 OD", f"DAB {round(100 * q)}th percentile over the nucleus")
      for q in _Q),
    *(FeatureSpec(f"red_q{round(100 * q)}", "log10 OD", f"marker {round(100 * q)}th percentile over the nucleus")
      for q in _Q),
    FeatureSpec("dab", "log10 OD", "mean DAB over the nucleus"),
    FeatureSpec("red", "log10 OD", "mean marker over the nucleus"),
    FeatureSpec("dab_share", "", "dab / (|dab| + |red| + hem)"),
    FeatureSpec("od_r", "log10 OD", "mean raw OD of the red channel"),
    FeatureSpec("od_g", "log10 OD", "mean raw OD of the green channel"),
    FeatureSpec("od_b", "log10 OD", "mean raw OD of the blue channel"),
    FeatureSpec("od_sum", "log10 OD", "darkness: od_r + od_g + od_b"),
    FeatureSpec("share_r", "", "od_r / od_sum (hue)"),
    FeatureSpec("share_b", "", "od_b / od_sum (hue)"),
    FeatureSpec("crosstalk", "", "the tile's DAB per unit marker over its DAB-free nuclei (least squares slope)"),
    FeatureSpec("dab_corrected", "log10 OD", "dab minus crosstalk x red"),
    FeatureSpec("ref_marker_red", "log10 OD", "median red of the tile's marker-only nuclei (NaN-free: 0 if none)"),
    FeatureSpec("ref_dab_dab", "log10 OD", "median dab of the tile's DAB-only nuclei (0 if none)"),
    FeatureSpec("rel_red", "log10 OD", "red minus the median red of the tile's DAB-free nuclei"),
    FeatureSpec("rel_dab", "log10 OD", "dab minus the median dab of the tile's marker-only nuclei"),
    FeatureSpec("coef_plain", "log10 OD", "nucleus raw OD on the tile's plain / marker-only / DAB-only colours: plain"),
    FeatureSpec("coef_marker", "log10 OD", "the same least squares: marker-only colour"),
    FeatureSpec("coef_dab", "log10 OD", "the same least squares: DAB-only colour"),
    FeatureSpec("ang_marker", "deg", "angle of the nucleus's OD to the tile's marker-only colour"),
    FeatureSpec("ang_dab", "deg", "angle of the nucleus's OD to the tile's DAB-only colour"),
    FeatureSpec("ang_plain", "deg", "angle of the nucleus's OD to the tile's plain colour"),
)


def _label_stats(labels: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n,) means and (n, len(_Q)) percentiles (nearest rank) of ``values`` (M, N) per label 1..n."""
    lab = labels.ravel()
    sel = lab > 0
    lab, val = lab[sel], values.ravel()[sel].astype(np.float64)
    cnt = np.bincount(lab, minlength=n + 1)[1:]
    mean = np.bincount(lab, val, minlength=n + 1)[1:] / np.maximum(cnt, 1)
    order = np.lexsort((val, lab))
    starts = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    sorted_val = val[order]
    qs = np.zeros((n, len(_Q)))
    ok = cnt > 0
    for j, q in enumerate(_Q):
        idx = starts[ok] + np.floor(q * (cnt[ok] - 1)).astype(np.int64)
        qs[ok, j] = sorted_val[idx]
    return mean, qs


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _angle(od: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(_unit(od) @ _unit(ref), -1.0, 1.0)))


def nucleus_rows(labels: np.ndarray, conc: np.ndarray, od: np.ndarray, n: int, *, separation_deg: float) -> np.ndarray:
    """(n, len(FEATURES)) float32 feature rows of nuclei 1..n of ``labels`` (M, N).

    ``conc`` (M, N, 3): hematoxylin, DAB and marker concentrations of the preset three-stain unmixing; ``od``
    (M, N, 3): raw optical density (log10) of the RGB channels; ``separation_deg``: angle between the preset
    marker and DAB vectors.
    """
    if n == 0:
        return np.zeros((0, len(FEATURES)), np.float32)
    hem, _ = _label_stats(labels, conc[..., 0], n)
    dab, dab_q = _label_stats(labels, conc[..., 1], n)
    red, red_q = _label_stats(labels, conc[..., 2], n)
    odm = np.stack([_label_stats(labels, od[..., c], n)[0] for c in range(3)], axis=1)
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:].astype(np.float64)
    od_sum = odm.sum(axis=1)
    s = SETTINGS
    dab_free = dab_q[:, 1] < s["dab_free_od"]
    marker_only = dab_free & (red_q[:, 1] >= s["marker_ref_od"])
    red_free = red_q[:, 1] < s["red_free_od"]
    dab_only = red_free & (dab_q[:, 1] >= s["dab_ref_od"])
    plain = dab_free & red_free
    k = 0.0
    if dab_free.sum() >= s["min_ref"]:
        x, y = red[dab_free], dab[dab_free]
        x0 = x - x.mean()
        k = float((x0 @ (y - y.mean())) / max(float(x0 @ x0), 1e-9))
    enough = {name: int(m.sum()) >= s["min_ref"] for name, m in
              (("marker", marker_only), ("dab", dab_only), ("plain", plain), ("free", dab_free))}
    ref_red = float(np.median(red[marker_only])) if enough["marker"] else 0.0
    ref_dab = float(np.median(dab[dab_only])) if enough["dab"] else 0.0
    free_red = float(np.median(red[dab_free])) if enough["free"] else 0.0
    mark_dab = float(np.median(dab[marker_only])) if enough["marker"] else 0.0
    # the tile's own colours (unit OD vectors); the preset-made ones stand in where too few nuclei
    col_plain = _unit(np.median(odm[plain], axis=0)) if enough["plain"] else _unit(np.array([0.65, 0.70, 0.29]))
    col_mark = _unit(np.median(odm[marker_only], axis=0)) if enough["marker"] else col_plain
    col_dab = _unit(np.median(odm[dab_only], axis=0)) if enough["dab"] else _unit(np.array([0.27, 0.57, 0.78]))
    basis = np.stack([col_plain, col_mark, col_dab], axis=1)
    coef = np.linalg.lstsq(basis, odm.T, rcond=None)[0].T
    total = np.abs(dab) + np.abs(red) + np.maximum(hem, 0) + 1e-6
    rows = np.column_stack([
        area, np.full(n, separation_deg), hem, dab_q, red_q, dab, red, dab / total,
        odm, od_sum, odm[:, 0] / np.maximum(od_sum, 1e-6), odm[:, 2] / np.maximum(od_sum, 1e-6),
        np.full(n, k), dab - k * red, np.full(n, ref_red), np.full(n, ref_dab), red - free_red, dab - mark_dab,
        coef, _angle(odm, col_mark), _angle(odm, col_dab), _angle(odm, col_plain),
    ])
    return np.nan_to_num(rows, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


@lru_cache(maxsize=4)
def _load(path: str, size: int, mtime_ns: int) -> ClassifierModel:  # size, mtime_ns: cache keys only
    model = load_model(path, kind="nucleus")
    if (model.settings.get("task") != MODEL_TASK or model.feature_names != tuple(f.name for f in FEATURES)
            or tuple(model.class_names) != CLASSES):
        msg = (f"{path} is not a double-stain nucleus model with classes {list(CLASSES)} and features "
               f"{[f.name for f in FEATURES]} (task {model.settings.get('task')!r})")
        raise ConfigError(msg)
    check_feature_settings(model, SETTINGS, tuple(SETTINGS), path=path)
    return model


def resolve_double_model(name: str = "default") -> ClassifierModel:
    """The double-stain nucleus model: ``"default"`` -> the shipped ``double_nuclear_marker.mmnst``, else a path."""
    path = model_file(name, _MODELS, param="double-stain nucleus model")
    st = path.stat()  # the file's version keys the cache: a rewritten file is read again
    return _load(str(path.resolve()), st.st_size, st.st_mtime_ns)


def apply_double_model(cells: Any, rows: np.ndarray, model: ClassifierModel, *, moderate_od: float,
                       strong_od: float, free_pigment: bool = True) -> Any:
    """``cells`` with the model's Ki67 and marker calls on its index nuclei (``positive`` / ``negative``) and, with
    ``free_pigment``, on the ``pigment`` nuclei it reads as melanocytes (:data:`FREE_MELANOCYTE_P`)."""
    near_black = np.asarray(cells.near_black, bool)
    idx = np.flatnonzero(np.isin(cells.cls, ("positive", "negative")) & ~near_black)
    pig = np.flatnonzero((cells.cls == "pigment") & ~near_black) if free_pigment else np.zeros(0, np.intp)
    if len(pig):
        q = model.predict_proba(rows[pig])
        q_rest = np.maximum(1.0 - q[:, 4], 1e-9)
        keep = (q[:, 4] < 0.5) & ((q[:, 2] + q[:, 3]) / q_rest >= FREE_MELANOCYTE_P)
        free_pos = (q[:, 1] + q[:, 3]) / q_rest >= FREE_POSITIVE_P
        pig, free_pos = pig[keep], free_pos[keep]
    if not len(idx) and not len(pig):
        return cells
    p = model.predict_proba(rows[idx]) if len(idx) else np.zeros((0, len(CLASSES)))
    other = p[:, 4] >= 0.5  # no single nucleus: keeps the stain's Ki67 call, never melanocytic
    rest = np.maximum(1.0 - p[:, 4], 1e-9)
    mel = ~other & ((p[:, 2] + p[:, 3]) / rest >= 0.5)
    pos = np.where(other, cells.cls[idx] == "positive", (p[:, 1] + p[:, 3]) / rest >= POSITIVE_P)
    if len(pig):  # freed pigment nuclei: melanocytes, Ki67 by the model
        idx, mel, pos = np.concatenate([idx, pig]), np.concatenate([mel, np.ones(len(pig), bool)]), \
            np.concatenate([pos, free_pos])
    # (wide enough for "positive" / "negative": an all-pigment table's labels are 7 characters)
    cls, bins = cells.cls.astype(np.result_type(cells.cls.dtype, "<U8")), cells.intensity_bin.copy()
    melanocytic = np.asarray(cells.melanocytic, bool).copy()
    cls[idx] = np.where(pos, "positive", "negative")
    dab = np.asarray(cells.dab_od_mean, np.float64)[idx]
    bins[idx] = np.where(pos, 1 + (dab >= moderate_od) + (dab >= strong_od), 0).astype(np.int8)
    melanocytic[idx] = mel
    stain = np.where(cls == "positive", bins, np.where(cls == "negative", 0, cells.stain_bin)).astype(np.int8)
    return replace(cells, cls=cls, intensity_bin=bins, melanocytic=melanocytic, stain_bin=stain)


def learned_double_call(cells: Any, labels: np.ndarray, rgb: np.ndarray, matrix: Any, stains: tuple[str, str, str],
                        *, background: Any, params: Any, model: str = "default") -> Any:
    """``cells`` of a Ki67 / nuclear-marker double stain with the learned Ki67 and marker calls (see module)."""
    from ..stain import angle_deg, od_from_rgb, separate_stains

    conc = separate_stains(rgb, matrix, stains=stains, background=background)
    od = od_from_rgb(rgb, background=background)
    rows = nucleus_rows(labels, conc, od, len(cells),
                        separation_deg=angle_deg(matrix.vector(stains[2]), matrix.vector(stains[1])))
    return apply_double_model(cells, rows, resolve_double_model(model), moderate_od=params.moderate_threshold_od,
                              strong_od=params.strong_threshold_od)
