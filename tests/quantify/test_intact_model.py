"""The learned intact-vs-ghost call of the necrosis veto (``NecrosisParams.intact_model``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.classify.train import train_model
from mmnst_path.errors import ConfigError
from mmnst_path.quantify._intact_model import (
    CLASSES,
    FEATURES,
    SETTINGS,
    candidate_features,
    candidate_peaks,
    intact_calls,
    resolve_intact_model,
)
from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics
from mmnst_path.stain import od_from_rgb
from mmnst_path.synthetic import he_necrosis_tile

H = np.array([0.65, 0.70, 0.29])
E = np.array([0.07, 0.99, 0.11])
NAMES = [f.name for f in FEATURES]
N_DISCS = len(np.arange(8.0, 240 * 0.5 - 6, 12.0)) ** 2  # discs of a default _field


def _field(nuclear_od: float, eosin: float, *, n_px: int = 240, mpp: float = 0.5, seed: int = 0) -> np.ndarray:
    """Discs of 3.5 µm radius (hematoxylin ``nuclear_od``) on a 12 µm lattice over eosin ``eosin``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n_px, :n_px] * mpp
    h = np.full((n_px, n_px), 0.03)
    for cy in np.arange(8.0, n_px * mpp - 6, 12.0):
        for cx in np.arange(8.0, n_px * mpp - 6, 12.0):
            y, x = cy + rng.uniform(-1.5, 1.5), cx + rng.uniform(-1.5, 1.5)
            h[(yy - y) ** 2 + (xx - x) ** 2 <= 3.5**2] += nuclear_od
    od = h[..., None] * (H / np.linalg.norm(H)) + np.full((n_px, n_px), eosin)[..., None] * (E / np.linalg.norm(E))
    return np.clip(np.round(255.0 * 10.0 ** (-od)), 0, 255).astype(np.uint8)


def _rows(rgb: np.ndarray) -> np.ndarray:
    od = od_from_rgb(rgb)
    return candidate_features(od, candidate_peaks(rgb, od, mpp=0.5), mpp=0.5)


def test_features_one_row_per_nucleus_and_colour_survives_fading() -> None:
    rgb = _field(0.5, 0.2)
    x = _rows(rgb)
    assert x.shape[1] == len(FEATURES)
    assert x.dtype == np.float32
    assert np.isfinite(x).all()
    assert 0.9 * N_DISCS <= len(x) <= 1.1 * N_DISCS  # one candidate per disc
    faded = _rows(_field(0.25, 0.1))  # the same slide with half the stain
    for name in ("core_blue", "excess_cos_h", "core_h_share"):
        k = NAMES.index(name)
        assert abs(np.median(faded[:, k]) - np.median(x[:, k])) <= 0.05 * abs(np.median(x[:, k]))
    k = NAMES.index("contrast_od")
    assert np.median(faded[:, k]) < 0.6 * np.median(x[:, k])  # the absolute contrast does not survive
    # hematoxylin nuclei are blue, eosin-only blobs are not
    pink = _rows(np.clip(255.0 * 10.0 ** (-(od_from_rgb(_field(0.5, 0.2)) @ np.eye(3)[[1, 1, 2]])), 0, 255)
                 .astype(np.uint8))
    if len(pink):
        assert np.median(pink[:, NAMES.index("core_blue")]) < np.median(x[:, NAMES.index("core_blue")])


def test_candidate_features_rejects_bad_pixel_size() -> None:
    rgb = _field(0.5, 0.2, n_px=80)
    od = od_from_rgb(rgb)
    with pytest.raises(ConfigError, match="mpp"):
        candidate_features(od, candidate_peaks(rgb, od, mpp=0.5), mpp=0.0)
    for bad in (None, float("nan"), "0.5", True):  # an image without a pixel size: the error names mpp (not numpy's)
        with pytest.raises(ConfigError, match="mpp must be a positive number"):
            candidate_features(od, candidate_peaks(rgb, od, mpp=0.5), mpp=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("rows", "cols"), [(12, 12), (20, 20), (2, 30), (1, 40)])
def test_features_of_images_smaller_than_a_window(rows: int, cols: int) -> None:
    """A tile smaller than the 8 µm feature window (a candidate at its corner; one row of pixels): finite rows,
    one per candidate, the window read by reflection."""
    rgb = np.ascontiguousarray(_field(0.5, 0.2, n_px=60)[:rows, :cols])
    od = od_from_rgb(rgb)
    nuc = candidate_peaks(rgb, od, mpp=0.5)
    x = candidate_features(od, nuc, mpp=0.5)
    assert x.shape == (len(nuc.row), len(FEATURES))
    assert np.isfinite(x).all()
    # a candidate placed by hand at the last pixel of a one-row image: the reflected window still gives a row
    from mmnst_path.quantify._intact_nuclei import IntactNuclei

    one = IntactNuclei(*(np.array([v], np.float64) for v in (rows - 1, cols - 1, 0.3, 0.4, 1.0, 0.5)))
    y = candidate_features(od, one, mpp=0.5)
    assert y.shape == (1, len(FEATURES))
    assert np.isfinite(y).all()


def _model(tmp_path: Path, threshold: float, *, task: str = "intact_nuclei") -> Path:
    """A forest fitted on strong (intact) against faint (ghost) nuclei, saved with ``threshold``."""
    xi, xg = _rows(_field(0.5, 0.2, seed=1)), _rows(_field(0.05, 0.2, seed=2))
    x = np.concatenate([xi, xg])
    y = np.concatenate([np.ones(len(xi), int), np.zeros(len(xg), int)])
    settings = dict(SETTINGS, task=task, threshold=threshold)
    model = train_model(x, y, kind="nucleus", classes=CLASSES, features=FEATURES, settings=settings, n_estimators=10)
    return model.save(tmp_path / f"intact_{task}_{threshold}.mmnst")


def test_calls_follow_the_model_and_its_threshold(tmp_path: Path) -> None:
    path = _model(tmp_path, 0.5)
    model = resolve_intact_model(str(path))
    strong = _field(0.5, 0.2, seed=3)
    n_strong = len(intact_calls(strong, od_from_rgb(strong), model, mpp=0.5).row)
    faint = _field(0.05, 0.2, seed=4)
    n_faint = len(intact_calls(faint, od_from_rgb(faint), model, mpp=0.5).row)
    assert n_strong >= 0.9 * N_DISCS
    assert n_faint <= 0.1 * N_DISCS
    every = resolve_intact_model(str(_model(tmp_path, 0.0)))  # threshold 0: every candidate is a call
    assert len(intact_calls(faint, od_from_rgb(faint), every, mpp=0.5).row) == len(candidate_peaks(
        faint, od_from_rgb(faint), mpp=0.5).row) >= 0.9 * N_DISCS


def test_resolve_refuses_missing_foreign_and_bad_threshold(tmp_path: Path) -> None:
    assert resolve_intact_model("none") is None
    with pytest.raises(ConfigError, match="intact_model"):
        resolve_intact_model(str(tmp_path / "missing.mmnst"))
    with pytest.raises(ConfigError, match="not an intact-nucleus model"):
        resolve_intact_model(str(_model(tmp_path, 0.5, task="hidden_nuclei")))
    with pytest.raises(ConfigError, match="threshold"):
        resolve_intact_model(str(_model(tmp_path, 1.5)))
    with pytest.raises(ConfigError, match="intact_model"):
        NecrosisParams(intact_model="")


def _with_settings(tmp_path: Path, **settings: object) -> Path:
    """A copy of a small model whose settings differ by ``settings`` (a hand-edited or older file)."""
    from mmnst_path.classify.model import load_model

    model = load_model(_model(tmp_path, 0.5), kind="nucleus")
    name = "_".join(f"{k}-{v}" for k, v in settings.items()).replace(" ", "").replace("/", "")
    return replace(model, settings={**model.settings, **settings}).save(tmp_path / f"edited_{name}.mmnst")


@pytest.mark.parametrize("settings", [{"window_um": "8 um"}, {"window_um": None}, {"min_distance_um": [4.0]},
                                      {"threshold": True}, {"threshold": "0.5"}])
def test_a_model_with_unreadable_settings_is_refused_naming_the_file(tmp_path: Path, settings: dict) -> None:
    """A setting that is not a number (a hand-edited card, an older writer) is a ConfigError that names the
    file and the setting, not float()'s ValueError / TypeError; a bool threshold is not a probability."""
    path = _with_settings(tmp_path, **settings)
    key = next(iter(settings))
    with pytest.raises(ConfigError, match=rf"edited_.*\.mmnst.*{key}"):
        resolve_intact_model(str(path))


def test_the_veto_fed_the_model_keeps_or_removes_necrosis_by_its_calls(tmp_path: Path) -> None:
    """Calls every candidate intact (threshold 0): the veto removes the generated necrosis; the shipped model calls
    its ghosts ghosts and keeps it (within 1 pp of the veto off)."""
    t = he_necrosis_tile(40, mpp=0.5, size=512)
    base = NecrosisParams()

    def pct(params: NecrosisParams) -> float:
        return float(necrosis_metrics(measure_necrosis(t.rgb, mpp=0.5, params=params)[0])["necrosis_fraction_pct"])

    off = pct(replace(base, intact_veto_density=0.0))
    everything = pct(replace(base, intact_model=str(_model(tmp_path, 0.0))))
    shipped = pct(replace(base, intact_model="default"))
    assert off > 5.0
    assert everything < 0.5 * off
    assert shipped >= off - 1.0
