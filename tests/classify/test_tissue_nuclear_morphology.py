"""Nuclear-morphology tissue features (TissueFeatureSettings.nuclear_morphology, #13): the size, roundness and
alignment of the nuclei that tell stroma (sparse elongated aligned nuclei), tumour (large round nuclei) and
lymphocytes (small round dark nuclei) apart."""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.classify.tissue_features import TissueFeatureSettings, tissue_feature_specs, tissue_features
from mmnst_path.errors import ConfigError
from mmnst_path.stain import get_preset

NM = replace(TissueFeatureSettings(), nuclear_morphology=True)
BASE_COLUMNS = len(tissue_feature_specs(TissueFeatureSettings()))


def _col(settings: TissueFeatureSettings, name: str) -> int:
    return [s.name for s in tissue_feature_specs(settings)].index(name)


def test_morphology_columns_follow_the_unchanged_columns() -> None:
    rgb = synthetic.he_necrosis_tile(0, size=96).rgb
    base, _ = tissue_features(rgb, mpp=1.0, settings=TissueFeatureSettings())
    nm, grid = tissue_features(rgb, mpp=1.0, settings=NM)
    assert grid == pytest.approx(8.0)
    assert nm.shape == (*base.shape[:2], BASE_COLUMNS + 14)
    np.testing.assert_array_equal(nm[..., :BASE_COLUMNS], base)
    assert np.all(np.isfinite(nm))
    both = replace(NM, nuclear_detail=True)
    nd_nm, _ = tissue_features(rgb, mpp=1.0, settings=both)
    np.testing.assert_array_equal(nd_nm[..., -14:], nm[..., -14:])  # the nuclear-detail columns sit between
    assert TissueFeatureSettings.from_mapping(NM.to_mapping()) == NM
    assert NM.halo_um() >= TissueFeatureSettings().halo_um()
    with pytest.raises(ConfigError, match="nuclear_morphology"):
        TissueFeatureSettings(nuclear_morphology=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        TissueFeatureSettings(large_nucleus_um=-1.0)


def test_morphology_features_of_a_tile_with_its_halo_equal_the_whole_image() -> None:
    t = synthetic.he_necrosis_tile(5, size=448, mpp=1.0, necrosis_fraction=0.4)
    whole, _ = tissue_features(t.rgb, mpp=1.0, settings=NM)
    big = 8  # image px per output block at 1 µm/px
    halo = math.ceil(NM.halo_um() / big) * big
    r0 = 2 * big + halo
    sub = t.rgb[r0 - halo: r0 + 4 * big + halo, r0 - halo: r0 + 4 * big + halo]
    part, _ = tissue_features(sub, mpp=1.0, settings=NM)
    h = halo // big
    np.testing.assert_allclose(part[h: h + 4, h: h + 4], whole[r0 // big: r0 // big + 4, r0 // big: r0 // big + 4],
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("nominal", [0.25, 0.5, 1.0])
def test_morphology_features_move_in_proportion_to_the_pixel_size(nominal: float) -> None:
    rgb = synthetic.he_melanin_tile(2, size=160).rgb
    ref, _ = tissue_features(rgb, mpp=nominal, settings=NM)
    for side in (-1.0, 1.0):
        moved = []
        for eps in (2e-4, 2e-5):
            f, _ = tissue_features(rgb, mpp=nominal * (1.0 + side * eps), settings=NM)
            moved.append(float(np.abs(f - ref)[..., BASE_COLUMNS:].max()))
        assert moved[0] < 2e-3
        assert moved[1] < 0.2 * moved[0] + 2e-6


def _nuclei(kind: str, *, mpp: float = 0.5, size: int = 384, seed: int = 0) -> np.ndarray:
    """H&E field of one kind of nuclei on pale eosin: ``small`` (3 µm radius, dense, lymphocytes), ``large``
    (6 µm radius, tumour), ``spindle`` (2 x 9 µm, aligned, on fibres) or ``spindle_random`` (randomly oriented)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] * mpp
    h = np.zeros((size, size))
    pitch = {"small": 9.0, "large": 16.0, "spindle": 14.0, "spindle_random": 14.0}[kind]
    extent = size * mpp
    for cy in np.arange(pitch / 2, extent, pitch):
        for cx in np.arange(pitch / 2, extent, pitch):
            cy_, cx_ = cy + rng.uniform(-1, 1), cx + rng.uniform(-1, 1)
            if kind in ("small", "large"):
                r = 3.0 if kind == "small" else 6.0
                h += 0.6 * (((yy - cy_) ** 2 + (xx - cx_) ** 2) <= r * r)
            else:
                ang = 0.3 if kind == "spindle" else rng.uniform(0, np.pi)
                u = (yy - cy_) * math.cos(ang) + (xx - cx_) * math.sin(ang)
                v = -(yy - cy_) * math.sin(ang) + (xx - cx_) * math.cos(ang)
                h += 0.6 * ((u / 9.0) ** 2 + (v / 2.0) ** 2 <= 1.0)
    h = np.minimum(h, 0.6)
    e = np.full((size, size), 0.25)
    preset = get_preset("H&E")
    vec = np.asarray(preset.vectors, np.float64)
    od = h[..., None] * vec[0] + e[..., None] * vec[1]
    return np.clip(np.rint(255.0 * 10.0 ** -od), 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=4)
def _field_features(kind: str) -> np.ndarray:
    return tissue_features(_nuclei(kind), mpp=0.5, settings=NM)[0]


def _median(kind: str, name: str) -> float:
    return float(np.median(_field_features(kind)[4:-4, 4:-4, _col(NM, name)]))


def test_large_nuclei_read_larger_than_small_ones() -> None:
    assert _median("large", "nm_size_s18") > _median("small", "nm_size_s18") + 0.1


def test_round_nuclei_read_rounder_than_spindle_nuclei() -> None:
    assert _median("large", "nm_round_s18") > 2 * _median("spindle", "nm_round_s18")
    assert _median("small", "nm_round_s18") > 2 * _median("spindle", "nm_round_s18")


def test_aligned_spindle_nuclei_read_aligned() -> None:
    assert _median("spindle", "h_align_s18") > 2 * _median("spindle_random", "h_align_s18")
    assert _median("spindle", "h_align_s18") > 2 * _median("large", "h_align_s18")


def test_repeat_rows_takes_a_sources_rows_other_than_necrosis_again(project_module) -> None:
    """``--repeat-rows nct=3``: that source's rows other than necrosis three times, every other row once."""
    tr = project_module("scripts/train_tissue_model.py")
    nec = tr.CLASSES.index("necrosis")
    y = np.array([0, nec, 1, 0])
    src = np.array(["nct", "nct", "tissue", "nct"])
    x = np.arange(8.0).reshape(4, 2)
    x2, y2, s2 = tr.repeat_rows(x, y, src, {"nct": 3})
    assert np.array_equal(x2[:4], x)  # the rows themselves first, in order
    assert sorted(x2[4:, 0].tolist()) == [0.0, 0.0, 6.0, 6.0]  # rows 0 and 3 twice more, not the necrosis row
    assert np.array_equal(y2[4:], np.zeros(4))
    assert set(s2[4:]) == {"nct"}
    x3, _, _ = tr.repeat_rows(x, y, src, {"nct": 1})
    assert np.array_equal(x3, x)


def test_cached_rows_are_taken_by_column_name(project_module, tmp_path) -> None:
    """Rows saved with both optional blocks and reused with one: the columns are picked by name, not position;
    rows computed with other scales, or unnamed rows for the morphology columns, are refused."""
    import json

    tr = project_module("scripts/train_tissue_model.py")
    both = replace(NM, nuclear_detail=True)
    names = [s.name for s in tissue_feature_specs(both)]
    x = np.tile(np.arange(len(names), dtype=np.float32), (3, 1))  # column value = its index in ``names``
    common = {"y": np.zeros(3, np.int64), "source": np.array(["nct"] * 3), "held": np.zeros(3, bool)}
    path = tmp_path / "rows.npz"
    np.savez(path, names=np.array(names), settings=np.array(json.dumps(both.to_mapping())), x=x, **common)
    (_, _, got, _, _), = tr._cached_rows([path], NM)
    want = [names.index(s.name) for s in tissue_feature_specs(NM)]
    assert got[0].tolist() == want  # the nuclear-detail columns skipped
    other = tmp_path / "other.npz"
    np.savez(other, names=np.array(names), settings=np.array(json.dumps(replace(both, align_um=30.0).to_mapping())),
             x=x, **common)
    with pytest.raises(SystemExit, match="other feature settings"):
        list(tr._cached_rows([other], NM))
    unnamed = tmp_path / "unnamed.npz"
    np.savez(unnamed, x=x, **common)
    with pytest.raises(SystemExit, match="unnamed"):
        list(tr._cached_rows([unnamed], NM))
    (_, _, old, _, _), = tr._cached_rows([unnamed], TissueFeatureSettings())  # the LODO cache: first columns
    assert old.shape[1] == BASE_COLUMNS
