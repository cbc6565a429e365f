"""The learned pigment stage's own reach (session 38 H8): the lean window grown by it gives the
whole tile's masks and probabilities bit for bit, with pigment, granules and DAB bodies cut by
the non-white box's edge, for every learned stain path; shrunk by its longest chain it does not."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mmnst_path.pipeline._worker as worker
from mmnst_path.classify._pigment_bands import feature_chain_px
from mmnst_path.classify.pigment import PigmentFeatureSettings, classify_pigment
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.pipeline._reach import learned_pigment_reach_px, pigment_model_of
from mmnst_path.quantify.ki67 import without_marker
from mmnst_path.stain import load_stains
from mmnst_path.synthetic import pigment_family_tile
from mmnst_path.synthetic_double import double_stain_tile

MPP = 0.5


def _cut(rgb: np.ndarray, where: np.ndarray, *, inner: int = 120, margin: tuple[int, int] = (110, 110)) -> np.ndarray:
    """A white image holding an ``inner``² part of ``rgb`` whose top and left edges cut the most
    ``where`` pixels (pigment or DAB nuclei right at the non-white box's edge), ``margin`` (rows,
    columns) of white before it and 110 px after it (0: the part touches the image's edge)."""
    m, n = where.shape
    r0 = int(np.argmax(where.sum(axis=1)[: m - inner]))
    c0 = int(np.argmax(where.sum(axis=0)[: n - inner]))
    out = np.full((inner + margin[0] + 110, inner + margin[1] + 110, 3), 255, np.uint8)
    out[margin[0] : margin[0] + inner, margin[1] : margin[1] + inner] = rgb[r0 : r0 + inner, c0 : c0 + inner]
    return out


def _stage(rgb: np.ndarray, matrix, reach: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The learned pigment stage as the pipeline runs it (:func:`worker._pigment`'s arguments), on
    the whole image (``reach`` None) or on its non-white box grown by ``reach`` px, pasted back."""
    cfg = AnalysisConfig()
    model = pigment_model_of(cfg, matrix)
    assert model is not None
    win = (slice(None), slice(None)) if reach is None else worker._grown(worker._nonwhite_box(rgb), reach, rgb.shape[:2])
    clean, sub = without_marker(np.ascontiguousarray(rgb[win]), matrix)
    mask, prob = classify_pigment(clean, mpp=MPP, model=model, stains=sub, params=cfg.pigment)
    out_m, out_p = np.zeros(rgb.shape[:2], bool), np.zeros(rgb.shape[:2], np.float32)
    out_m[win], out_p[win] = mask, prob
    return out_m, out_p


def _cases() -> list[tuple[str, np.ndarray, str]]:
    out = []
    for family, chromogen, stains in (("coarse", "dab", "H-DAB"), ("whole_cell", "dab", "H-DAB"),
                                      ("coarse", "aec", "H-AEC"), ("coarse", "fast_red", "H-FastRed"),
                                      ("coarse", "eosin", "H&E")):
        t = pigment_family_tile(3800, family, chromogen=chromogen, size=224)
        out.append((f"{family}-{stains}", _cut(t.rgb, t.masks["melanin"]), stains))
    t = pigment_family_tile(3802, "sparse", chromogen="dab", size=224)  # DAB nuclei cut by the box's edge
    out.append(("dab-bodies-at-edge", _cut(t.rgb, t.masks["positive_nuclei"]), "H-DAB"))
    t = pigment_family_tile(3803, "confluent", chromogen="dab", size=224)  # a body touching the image's edge
    out.append(("touching-the-image", _cut(t.rgb, t.masks["melanin"], margin=(0, 0)), "H-DAB"))
    d = double_stain_tile(3801, size=224)
    out.append(("double-stain", _cut(d.rgb, np.ones(d.rgb.shape[:2], bool)), "H-DAB-FastRed"))
    return out


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_stage_on_the_lean_window_is_the_whole_images(case):
    _, rgb, stains = case
    matrix = load_stains(stains)
    cfg = AnalysisConfig()
    reach = learned_pigment_reach_px(cfg, pigment_model_of(cfg, matrix), matrix, MPP) + 2
    ref_m, ref_p = _stage(rgb, matrix, None)
    assert np.count_nonzero(ref_p) > 100  # the model ran, near the box's edge too
    got_m, got_p = _stage(rgb, matrix, reach)
    np.testing.assert_array_equal(got_m, ref_m)
    np.testing.assert_array_equal(got_p, ref_p)


def test_a_reach_shrunk_by_the_longest_chain_changes_the_stage():
    """The ``wide_um`` blur of the OD (48 px at 0.5 µm/px) is the longest chain: without it the
    window's mirrored edge reads tissue where the whole image reads white."""
    cfg = AnalysisConfig()
    changed = []
    for name, rgb, stains in CASES:
        matrix = load_stains(stains)
        model = pigment_model_of(cfg, matrix)
        settings = PigmentFeatureSettings.from_mapping(model.settings)
        reach = learned_pigment_reach_px(cfg, model, matrix, MPP)
        assert reach == feature_chain_px(settings, MPP, ["wide_u_b"]) == 48
        ref = _stage(rgb, matrix, None)
        got = _stage(rgb, matrix, reach + 2 - 48)
        changed.append((name, not np.array_equal(got[1], ref[1]), not np.array_equal(got[0], ref[0])))
    assert all(p for _, p, _ in changed), changed  # every probability map
    assert sum(m for _, _, m in changed) >= 3, changed  # and the masks of most


def test_feature_chains():
    s = PigmentFeatureSettings()
    # fine 0.35 µm = 0.7 px: 3 px; context 2.5 µm = 5 px: Gaussian 20 px, disk 5 px; wide 6 µm: 48 px
    assert feature_chain_px(s, MPP, ["u_r", "grey", "log_od", "blob_fill"]) == 3
    assert feature_chain_px(s, MPP, ["dark_share"]) == 3 + 5 + 20
    assert feature_chain_px(s, MPP, ["ctx_u_b"]) == 20
    assert feature_chain_px(s, MPP, ["tophat_2.5"]) == 3 + 2 * 5
    assert feature_chain_px(s, MPP, ["u_r", "wide_u_b"]) == 48
    assert feature_chain_px(s, 0.25, ["wide_u_b"]) == 96
    assert feature_chain_px(s, MPP, []) == 0
    # never beyond the features' declared halo
    assert feature_chain_px(s, MPP, list(_all_names())) <= math.ceil(s.halo_um() / MPP)


def _all_names() -> list[str]:
    from mmnst_path.classify.pigment import pigment_feature_specs

    return [f.name for f in pigment_feature_specs(PigmentFeatureSettings())]


def test_lean_reach_takes_the_learned_chain_or_the_rules():
    cfg = AnalysisConfig(stains="H-DAB")
    matrix = cfg.stain_matrix()
    job = worker.TileJob(config=cfg, matrix=matrix, measures=("ki67",), roi=None, map_px=64)
    model = pigment_model_of(cfg, matrix)
    assert worker._lean_reach(job, MPP)[0] == learned_pigment_reach_px(cfg, model, matrix, MPP) + 2 == 50
    rules = AnalysisConfig.from_mapping({"pigment": {"model": "none"}})
    job_r = worker.TileJob(config=rules, matrix=matrix, measures=("ki67",), roi=None, map_px=64)
    assert worker._lean_reach(job_r, MPP)[0] == math.ceil(rules.pigment.halo_um() / MPP) + 2


def test_no_lean_window_with_the_learned_tile_gate():
    # the gate's 2 µm blocks are cut from its input's corner: a window would move them
    gated = AnalysisConfig.from_mapping({"stains": "H-DAB", "pigment": {"gate": "default"}})
    matrix = gated.stain_matrix()
    job = worker.TileJob(config=gated, matrix=matrix, measures=("ki67",), roi=None, map_px=64)
    assert worker._lean_reach(job, MPP) is None


def test_pipeline_on_a_cut_tile_uses_the_smaller_window(monkeypatch, assert_same_results):
    """A lone tile whose content the 108 px canvas of :func:`analyze_region` surrounds: the lean
    window is used now (the rules' 53 µm reach took the whole canvas), with the same results."""
    _, rgb, _ = CASES[1]
    tile = rgb[110:-110, 110:-110]
    seen = []
    real = worker._lean_windows

    def spy(*args, **kw):
        out = real(*args, **kw)
        seen.append(out)
        return out

    monkeypatch.setattr(worker, "_lean_windows", spy)
    out = []
    for lean in (False, True):
        monkeypatch.setattr(worker, "LEAN_TILES", lean)
        out.append(analyze_region(tile, None, mpp=MPP))
    assert seen[-1] is not None
    assert out[0].metrics["melanin_area_mm2"] > 0
    assert_same_results(*out)


def _stage_with(rgb: np.ndarray, matrix, model, reach: int | None) -> np.ndarray:
    """:func:`_stage`'s probability map with ``model`` instead of the configured one."""
    cfg = AnalysisConfig()
    win = (slice(None), slice(None)) if reach is None else worker._grown(worker._nonwhite_box(rgb), reach, rgb.shape[:2])
    clean, sub = without_marker(np.ascontiguousarray(rgb[win]), matrix)
    _, prob = classify_pigment(clean, mpp=MPP, model=model, stains=sub, params=cfg.pigment)
    out = np.zeros(rgb.shape[:2], np.float32)
    out[win] = prob
    return out


def test_the_bounded_body_chain_enters_the_reach():
    """The H&E model reads the ``body_*`` columns (brown mask -> hole test over ``hole_um`` ->
    Gaussians of ``body_um``): with ``body_um`` widened to 15 µm their chain (3 + 120 + 12 px) is
    the longest, the lean reach takes it and the window gives the whole image's probabilities; the
    ``wide_um`` chain alone (48 px) does not (the mirrored border reads brown the image does not have)."""
    import dataclasses

    cfg = AnalysisConfig()
    matrix = load_stains("H&E")
    model = pigment_model_of(cfg, matrix)
    names = [f.name for f in model.features]
    assert {"body_log_area", "body_fill", "body_holes"} <= set(names)
    s = PigmentFeatureSettings.from_mapping(model.settings)
    assert learned_pigment_reach_px(cfg, model, matrix, MPP) == 48 > feature_chain_px(s, MPP, ["body_holes"]) == 3 + 24 + 12
    wide = dataclasses.replace(model, settings={**model.settings, "body_um": 15.0})
    reach = learned_pigment_reach_px(cfg, wide, matrix, MPP)
    assert reach == 3 + 120 + 12
    t = pigment_family_tile(3804, "confluent", chromogen="eosin", size=224)
    rgb = _cut(t.rgb, t.masks["melanin"])
    ref = _stage_with(rgb, matrix, wide, None)
    assert np.count_nonzero(ref) > 100
    np.testing.assert_array_equal(_stage_with(rgb, matrix, wide, reach + 2), ref)
    assert not np.array_equal(_stage_with(rgb, matrix, wide, 48 + 2), ref)


def test_body_chains():
    s = PigmentFeatureSettings()
    for name in ("body_log_area", "body_fill", "body_cv", "body_holes"):
        assert feature_chain_px(s, MPP, [name]) == 3 + 24 + 12  # f + g(3 µm) + 6 µm
    assert feature_chain_px(s, 1.0, ["body_holes"]) == 1 + 12 + 6
    assert feature_chain_px(PigmentFeatureSettings(body_um=4.0, hole_um=8.0), MPP, ["body_cv"]) == 3 + 32 + 16
