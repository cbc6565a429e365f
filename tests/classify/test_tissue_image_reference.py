"""Tissue features against a per-slide glass and stain reference (TissueFeatureSettings.image_reference, #13):
the reference is computed once per slide (thumbnail) or plain image and passed to every tile, so the class map
does not depend on the tiling, and a paler or darker stain of the whole slide barely moves the level columns."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mmnst_path import synthetic
from mmnst_path.classify import load_model
from mmnst_path.classify._image_reference import DEFAULT_LEVEL, ImageReference, image_reference
from mmnst_path.classify.tissue_features import (
    TissueFeatureSettings,
    features_from_base,
    tissue_feature_specs,
    tissue_features,
)
from mmnst_path.classify.train import train_model
from mmnst_path.errors import ConfigError
from mmnst_path.stain import get_preset, od_from_rgb

REF = replace(TissueFeatureSettings(), image_reference=True)


def _names(settings: TissueFeatureSettings) -> list[str]:
    return [s.name for s in tissue_feature_specs(settings)]


def _restained(rgb: np.ndarray, factor: float, white: float = 255.0) -> np.ndarray:
    """``rgb`` with both stains scaled by ``factor`` (linear in OD), scanned on glass of grey level ``white``."""
    v = np.asarray(get_preset("H&E").vectors, np.float64)
    conc = od_from_rgb(rgb).reshape(-1, 3).astype(np.float64) @ np.linalg.inv(v)
    conc[:, :2] *= factor
    od = conc @ v
    return np.clip(np.rint(white * 10.0 ** -od), 0, 255).astype(np.uint8).reshape(rgb.shape)


def test_reference_columns_are_the_log_od_minus_the_reference_level() -> None:
    rgb = synthetic.he_necrosis_tile(2, size=192, mpp=0.5).rgb
    plain, _ = tissue_features(rgb, mpp=0.5)
    white = ImageReference()  # glass at 255: the OD is the default one
    ref, _ = tissue_features(rgb, mpp=0.5, settings=REF, reference=replace(white, level=-0.25))
    names, ref_names = _names(TissueFeatureSettings()), _names(REF)
    assert len(ref_names) == len(names)
    assert [n for n in ref_names if n.startswith("log_od")] == ["log_od_ref_s2", "log_od_ref_s6", "log_od_ref_s18",
                                                                "log_od_ref_s30"]
    for i, name in enumerate(ref_names):
        want = plain[..., names.index(name.replace("_ref", ""))]
        if name.startswith("log_od_ref"):
            want = want + 0.25
        np.testing.assert_allclose(ref[..., i], want, atol=1e-5, err_msg=name)
    assert TissueFeatureSettings.from_mapping(REF.to_mapping()) == REF
    half = replace(REF, reference_weight=0.5)  # the level shrunk halfway towards DEFAULT_LEVEL
    shrunk, _ = tissue_features(rgb, mpp=0.5, settings=half, reference=replace(white, level=-0.25))
    i = ref_names.index("log_od_ref_s6")
    np.testing.assert_allclose(shrunk[..., i], ref[..., i] + 0.5 * (-0.25 - DEFAULT_LEVEL), atol=1e-5)
    assert TissueFeatureSettings.from_mapping(half.to_mapping()) == half
    for bad in (1.5, True):
        with pytest.raises(ConfigError, match="reference_weight"):
            replace(REF, reference_weight=bad)
    with pytest.raises(ConfigError, match="reference_weight"):
        TissueFeatureSettings.from_mapping({**REF.to_mapping(), "reference_weight": True})
    assert REF.halo_um() == TissueFeatureSettings().halo_um()
    with pytest.raises(ConfigError, match="pick one"):
        replace(REF, relative_level=True)
    with pytest.raises(ConfigError, match="ImageReference"):
        features_from_base(np.zeros((4, 4, 14), np.float32), 2.0, 2, REF)


def test_reference_of_an_image_follows_its_glass_and_stain_level() -> None:
    t = synthetic.he_necrosis_tile(4, size=256, mpp=1.0, necrosis_fraction=0.4)
    base = image_reference(t.rgb, mpp=1.0)
    tinted = image_reference(np.rint(t.rgb * np.array([0.92, 0.95, 1.0])).astype(np.uint8), mpp=1.0)
    for w0, w1, g in zip(base.white, tinted.white, (0.92, 0.95, 1.0), strict=True):  # the scanner's white balance
        assert w1 == pytest.approx(w0 * g, abs=1.5), (base, tinted)
    assert tinted.level == pytest.approx(base.level, abs=0.02)
    pale = image_reference(_restained(t.rgb, 0.6), mpp=1.0)
    assert base.level - pale.level == pytest.approx(-math.log10(0.6), abs=0.08)
    assert ImageReference.from_mapping(base.to_mapping()) == replace(
        base, white=tuple(round(w, 3) for w in base.white), level=round(base.level, 5))  # type: ignore[arg-type]
    assert image_reference(np.full((32, 32, 3), 250, np.uint8)).level == DEFAULT_LEVEL  # glass only
    with pytest.raises(ConfigError, match="white"):
        ImageReference(white=(0.0, 255.0, 255.0))


def test_a_paler_slide_on_tinted_glass_keeps_its_reference_columns() -> None:
    """Half the stain, scanned with a yellowish white balance, moves the absolute log OD by ~0.15; against the
    image's own reference the level columns move less than a third as far. A tinted scan alone moves the
    glass-white share of the default features; against the image's glass it does not."""
    rgb = synthetic.he_necrosis_tile(4, size=256, mpp=1.0, necrosis_fraction=0.4).rgb
    tint = np.array([0.88, 0.9, 0.97])
    pale = np.rint(_restained(rgb, 0.5) * np.array([0.95, 0.95, 0.98])).astype(np.uint8)
    names, ref_names = _names(TissueFeatureSettings()), _names(REF)
    a0, _ = tissue_features(rgb, mpp=1.0)
    a1, _ = tissue_features(pale, mpp=1.0)
    r0, _ = tissue_features(rgb, mpp=1.0, settings=REF)
    r1, _ = tissue_features(pale, mpp=1.0, settings=REF)
    for s in ("s6", "s18", "s30"):
        shift_abs = np.median(np.abs(a1[..., names.index(f"log_od_{s}")] - a0[..., names.index(f"log_od_{s}")]))
        i = ref_names.index(f"log_od_ref_{s}")
        shift_ref = np.median(np.abs(r1[..., i] - r0[..., i]))
        assert shift_abs > 0.12
        assert shift_ref < 0.35 * shift_abs, (s, shift_ref, shift_abs)
    tinted = np.rint(rgb * tint).astype(np.uint8)
    a2, _ = tissue_features(tinted, mpp=1.0)
    r2, _ = tissue_features(tinted, mpp=1.0, settings=REF)
    w = names.index("white_s6")
    assert np.abs(a2[..., w] - a0[..., w]).mean() > 0.05
    assert np.abs(r2[..., w] - r0[..., w]).mean() < 0.2 * np.abs(a2[..., w] - a0[..., w]).mean()


def test_a_tile_with_the_slides_reference_and_its_halo_equals_the_whole_image() -> None:
    t = synthetic.he_necrosis_tile(5, size=448, mpp=1.0, necrosis_fraction=0.4)
    ref = image_reference(t.rgb, mpp=1.0)
    whole, _ = tissue_features(t.rgb, mpp=1.0, settings=REF)  # a plain image: its own reference
    big = 8  # image px per output block at 1 µm/px
    halo = math.ceil(REF.halo_um() / big) * big
    r0 = 2 * big + halo
    sub = t.rgb[r0 - halo: r0 + 4 * big + halo, r0 - halo: r0 + 4 * big + halo]
    part, _ = tissue_features(sub, mpp=1.0, settings=REF, reference=ref)
    h = halo // big
    np.testing.assert_allclose(part[h: h + 4, h: h + 4], whole[r0 // big: r0 // big + 4, r0 // big: r0 // big + 4],
                               atol=1e-5)
    own, _ = tissue_features(sub, mpp=1.0, settings=REF)  # the tile as its own reference differs
    assert not np.allclose(own, part, atol=1e-3)


def _model():  # type: ignore[no-untyped-def]
    """A small image-reference tissue model (necrosis / tumour / background) on generated tiles."""
    xs, ys = [], []
    for seed in (11, 12):
        t = synthetic.he_necrosis_tile(seed, size=224, necrosis_fraction=0.4)
        feats, gm = tissue_features(t.rgb, mpp=t.mpp, settings=REF)
        big = round(gm / t.mpp)
        m, n = feats.shape[:2]
        nec = np.pad(t.masks["necrosis"], ((0, m * big), (0, n * big)))[: m * big, : n * big]
        share = nec.reshape(m, big, n, big).mean((1, 3))
        white = feats[..., _names(REF).index("white_s2")]
        ys.append(np.where(white > 0.9, 2, (share > 0.5).astype(np.int64)).ravel())
        xs.append(feats.reshape(-1, feats.shape[-1]))
    return train_model(np.concatenate(xs), np.concatenate(ys), kind="tissue", classes=("tumour", "necrosis",
                       "background"), features=tissue_feature_specs(REF),
                       settings={"features": REF.to_mapping(), "stains": "H&E"}, n_estimators=4, max_depth=6)


@pytest.fixture(scope="module")
def ref_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _model().save(tmp_path_factory.mktemp("ref") / "ref.mmnst")


def test_the_pipeline_gives_every_tile_the_slides_reference(ref_model_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """One reference per slide, from its thumbnail, reaches every tile; the class areas do not depend on the
    tile size."""
    import mmnst_path.classify.tissue as tissue_mod
    from mmnst_path.pipeline import AnalysisConfig, analyze_region

    seen: list[ImageReference | None] = []
    real = tissue_mod.classify_tissue

    def spy(*args, **kw):  # type: ignore[no-untyped-def]
        seen.append(kw.get("reference"))
        return real(*args, **kw)

    monkeypatch.setattr(tissue_mod, "classify_tissue", spy)
    rgb = synthetic.he_necrosis_tile(21, size=320, mpp=1.0, necrosis_fraction=0.3).rgb
    cfg = AnalysisConfig(stains="H&E", measures=("necrosis",), analysis_mpp=1.0).replace(
        necrosis={"tissue_model": str(ref_model_path)})
    big = analyze_region(rgb, cfg, mpp=1.0)
    n_big = len(seen)
    small = analyze_region(rgb, cfg.replace(tile_um=128.0), mpp=1.0)
    assert len(seen) > n_big + 1  # more tiles
    assert all(r is not None for r in seen)
    assert len({(r.white, r.level) for r in seen if r is not None}) == 1
    assert seen[0] == image_reference(rgb, mpp=1.0)  # the reference classify_tissue takes of the whole image
    assert seen[0] is not None
    assert big.stains["tissue_reference"] == seen[0].to_mapping()  # written into result.json
    assert "tissue_reference" not in analyze_region(  # a run without such a model writes none
        rgb, cfg.replace(necrosis={"tissue_model": "none"}), mpp=1.0).stains
    areas = {k: v for k, v in big.metrics.items() if k.startswith("class_") and k.endswith("_area_mm2")}
    assert areas
    assert any(v > 0 for v in areas.values())
    for k, v in areas.items():
        assert small.metrics[k] == pytest.approx(v, rel=1e-6, abs=1e-9), k
    assert load_model(ref_model_path, kind="tissue").settings["features"]["image_reference"] is True
