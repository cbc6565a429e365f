"""Tissue features relative to the local stain level (TissueFeatureSettings.relative_level, #13): the log OD
columns become differences to the 30 µm context level, so the absolute amount of stain (section thickness,
staining batch, scanner) no longer reaches the tissue model."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.classify.tissue_features import TissueFeatureSettings, tissue_feature_specs, tissue_features
from mmnst_path.errors import ConfigError
from mmnst_path.stain import get_preset, od_from_rgb

REL = replace(TissueFeatureSettings(), relative_level=True)


def _names(settings: TissueFeatureSettings) -> list[str]:
    return [s.name for s in tissue_feature_specs(settings)]


def _restained(rgb: np.ndarray, factor: float) -> np.ndarray:
    """``rgb`` with both stains (H and eosin) scaled by ``factor`` (linear in OD)."""
    v = np.asarray(get_preset("H&E").vectors, np.float64)
    conc = od_from_rgb(rgb).reshape(-1, 3).astype(np.float64) @ np.linalg.inv(v)
    conc[:, :2] *= factor
    od = conc @ v
    return np.clip(np.rint(255.0 * 10.0 ** -od), 0, 255).astype(np.uint8).reshape(rgb.shape)


def test_relative_columns_are_the_log_od_minus_the_context_level() -> None:
    rgb = synthetic.he_necrosis_tile(2, size=192, mpp=0.5).rgb
    plain, _ = tissue_features(rgb, mpp=0.5, settings=TissueFeatureSettings())
    rel, _ = tissue_features(rgb, mpp=0.5, settings=REL)
    names, rel_names = _names(TissueFeatureSettings()), _names(REL)
    assert rel.shape[-1] == len(rel_names) == len(names) - 1
    assert "log_od_s30" not in rel_names
    assert [n for n in rel_names if n.startswith("log_od")] == ["log_od_rel_s2", "log_od_rel_s6", "log_od_rel_s18"]
    level = plain[..., names.index("log_od_s30")]
    for i, name in enumerate(rel_names):
        want = plain[..., names.index(name.replace("_rel", ""))]
        if name.startswith("log_od_rel"):
            want = want - level
        np.testing.assert_allclose(rel[..., i], want, atol=1e-5, err_msg=name)
    assert TissueFeatureSettings.from_mapping(REL.to_mapping()) == REL
    assert REL.halo_um() == TissueFeatureSettings().halo_um()
    with pytest.raises(ConfigError, match="relative_level"):
        TissueFeatureSettings(relative_level="yes")  # type: ignore[arg-type]


def test_relative_level_barely_moves_when_the_section_stains_darker() -> None:
    """Twice the stain moves the absolute log OD by ~log10(2) = 0.3 everywhere; the relative columns by far less."""
    rgb = synthetic.he_necrosis_tile(4, size=256, mpp=1.0, necrosis_fraction=0.4).rgb
    pale = _restained(rgb, 0.7)
    dark = _restained(rgb, 1.4)
    names, rel_names = _names(TissueFeatureSettings()), _names(REL)
    a_pale, _ = tissue_features(pale, mpp=1.0)
    a_dark, _ = tissue_features(dark, mpp=1.0)
    r_pale, _ = tissue_features(pale, mpp=1.0, settings=REL)
    r_dark, _ = tissue_features(dark, mpp=1.0, settings=REL)
    for s in ("s6", "s18"):
        shift_abs = np.median(np.abs(a_dark[..., names.index(f"log_od_{s}")] - a_pale[..., names.index(f"log_od_{s}")]))
        i = rel_names.index(f"log_od_rel_{s}")
        shift_rel = np.median(np.abs(r_dark[..., i] - r_pale[..., i]))
        assert shift_abs > 0.2
        assert shift_rel < 0.25 * shift_abs, (s, shift_rel, shift_abs)


def test_relative_level_of_a_tile_with_its_halo_equals_the_whole_image() -> None:
    t = synthetic.he_necrosis_tile(5, size=448, mpp=1.0, necrosis_fraction=0.4)
    whole, _ = tissue_features(t.rgb, mpp=1.0, settings=REL)
    big = 8  # image px per output block at 1 µm/px
    halo = math.ceil(REL.halo_um() / big) * big
    r0 = 2 * big + halo
    sub = t.rgb[r0 - halo: r0 + 4 * big + halo, r0 - halo: r0 + 4 * big + halo]
    part, _ = tissue_features(sub, mpp=1.0, settings=REL)
    h = halo // big
    np.testing.assert_allclose(part[h: h + 4, h: h + 4], whole[r0 // big: r0 // big + 4, r0 // big: r0 // big + 4],
                               rtol=1e-4, atol=1e-5)


def test_cached_rows_give_the_relative_columns(project_module, tmp_path) -> None:
    """Rows cached with the absolute log OD columns train a relative-level model: the relative columns are the
    differences to the context level, taken by name."""
    import json

    tr = project_module("scripts/train_tissue_model.py")
    plain = TissueFeatureSettings()
    names = _names(plain)
    x = np.arange(2 * len(names), dtype=np.float32).reshape(2, len(names)) ** 1.5
    path = tmp_path / "rows.npz"
    np.savez(path, names=np.array(names), settings=np.array(json.dumps(plain.to_mapping())), x=x,
             y=np.zeros(2, np.int64), source=np.array(["nct", "nct"]), held=np.zeros(2, bool))
    (_, _, got, _, _), = tr._cached_rows([path], REL)
    rel_names = _names(REL)
    assert got.shape == (2, len(rel_names))
    level = x[:, names.index("log_od_s30")]
    for i, name in enumerate(rel_names):
        want = x[:, names.index(name.replace("_rel", ""))] - (level if name.startswith("log_od_rel") else 0)
        np.testing.assert_allclose(got[:, i], want, rtol=1e-6, err_msg=name)
    unnamed = tmp_path / "unnamed.npz"
    np.savez(unnamed, x=x, y=np.zeros(2, np.int64), source=np.array(["nct", "nct"]), held=np.zeros(2, bool))
    with pytest.raises(SystemExit, match="unnamed"):
        list(tr._cached_rows([unnamed], REL))


def test_cached_rows_written_before_a_setting_existed(project_module, tmp_path) -> None:
    """Rows saved before a feature setting existed (e.g. session 18's cache, before ``image_reference``) were
    computed with its default and are accepted; rows computed with another value of a setting are refused."""
    import json

    tr = project_module("scripts/train_tissue_model.py")
    plain = TissueFeatureSettings()
    names = _names(plain)
    x = np.ones((2, len(names)), np.float32)
    old = {k: v for k, v in plain.to_mapping().items() if k != "image_reference"}
    path = tmp_path / "old.npz"
    np.savez(path, names=np.array(names), settings=np.array(json.dumps(old)), x=x,
             y=np.zeros(2, np.int64), source=np.array(["nct", "nct"]), held=np.zeros(2, bool))
    (_, _, got, _, _), = tr._cached_rows([path], plain)
    np.testing.assert_array_equal(got, x)
    other = tmp_path / "other.npz"
    np.savez(other, names=np.array(names), settings=np.array(json.dumps({**old, "white_od": 0.2})), x=x,
             y=np.zeros(2, np.int64), source=np.array(["nct", "nct"]), held=np.zeros(2, bool))
    with pytest.raises(SystemExit, match="other feature settings"):
        list(tr._cached_rows([other], plain))
