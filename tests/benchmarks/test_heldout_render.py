"""The independently written evaluation renderer (benchmarks/heldout_render.py) and its matcher."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hr():
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    import heldout_render

    return heldout_render


def test_same_seed_same_tile_and_truth_is_consistent(hr) -> None:
    a = hr.render(3, size=192, pigment="none")
    b = hr.render(3, size=192, pigment="none")
    assert np.array_equal(a.rgb, b.rgb)
    assert a.rgb.dtype == np.uint8
    assert a.rgb.shape == (192, 192, 3)
    n = a.nuclei
    assert len(n["row"]) == len(n["kind"]) == len(n["grade"]) == len(n["hidden"]) > 20
    assert not a.melanin.any()
    assert a.melanin_pct == 0.0
    assert not n["hidden"].any()
    tum = n["kind"] == 0
    assert a.ki67_index_pct == pytest.approx(100 * (n["grade"][tum] > 0).mean())
    assert (n["grade"][~tum] == 0).all()  # only tumour nuclei carry Ki67
    assert a.labels.max() <= len(n["row"])


def test_every_morphology_renders_melanin_inside_tissue(hr) -> None:
    for morph in hr.MORPHOLOGIES:
        t = hr.render(1, size=160, pigment=morph)
        assert t.melanin.any(), morph
        assert not (t.melanin & ~t.tissue).any(), morph
        assert 0.5 < t.melanin_pct <= 100.0, morph


def test_pigment_over_the_nucleus_hides_it(hr) -> None:
    t = hr.render(2, size=192, pigment="over_nucleus")
    assert t.nuclei["hidden"].any()
    assessable = t.ki67_assessable_index_pct
    assert math.isnan(assessable) or 0.0 <= assessable <= 100.0


def test_positive_nuclei_are_browner_than_negative_ones(hr) -> None:
    t = hr.render(4, size=256, pigment="none")
    od = -np.log10(np.maximum(t.rgb.astype(float), 1.0) / 255.0)
    ratio = {}
    for grade in (0, 3):
        idx = np.flatnonzero((t.nuclei["kind"] == 0) & (t.nuclei["grade"] == grade))
        assert idx.size, f"seed 4 renders no grade-{grade} tumour nucleus"
        sel = np.isin(t.labels, idx + 1)
        # DAB absorbs blue much more than red, haematoxylin the reverse
        ratio[grade] = od[sel][:, 2].mean() / od[sel][:, 0].mean()
    assert ratio[3] > 1.3 * ratio[0]


def test_cells_are_matched_to_the_nucleus_under_them(hr) -> None:
    import eval_heldout

    t = hr.render(5, size=192, pigment="none")
    i = int(np.argmax(np.bincount(t.labels.ravel())[1:])) + 1  # the largest visible nucleus
    rr, cc = np.nonzero(t.labels == i)
    who = eval_heldout.truth_of_cells(t, np.array([rr.mean(), -50.0]), np.array([cc.mean(), -50.0]))
    assert who[0] == i - 1
    assert who[1] == -1


def test_a_tile_row_carries_the_assessable_error_and_the_qc_sentences(hr) -> None:
    import eval_heldout

    row = eval_heldout.run_one(5, "over_nucleus", size=192, stains="H-DAB")
    assert row["err"] == pytest.approx(row["ki67_meas"] - row["ki67_true"])
    if math.isnan(row["ki67_assessable"]):
        assert math.isnan(row["err_assessable"])
    else:
        assert row["err_assessable"] == pytest.approx(row["ki67_meas"] - row["ki67_assessable"])
    tags = [t for t in row["qc"].split("+") if t]
    assert set(tags) <= set(eval_heldout.QC_TAGS)
    assert tags == sorted(tags, key=eval_heldout.QC_TAGS.index)  # in the order the tool prints them


def test_unknown_pigment_is_a_clear_error(hr) -> None:
    with pytest.raises(ValueError, match="pigment='glitter'"):
        hr.render(0, size=64, pigment="glitter")


def test_he_renderer_truth(hr) -> None:
    import heldout_render_he as he

    a = he.render_he(2, size=160, necrosis="random", mpp=1.0)
    b = he.render_he(2, size=160, necrosis="random", mpp=1.0)
    assert np.array_equal(a.rgb, b.rgb)
    assert 5.0 < a.necrosis_pct < 80.0
    assert a.params["kinds"][0] == "tumour"
    # the class map holds exactly the kinds the tile was drawn with
    drawn = {he.CLASSES.index(str(k)) for k in a.params["kinds"]}
    assert set(np.unique(a.classes).tolist()) <= drawn
    assert (a.classes == he.CLASSES.index("tumour")).any()
    c = he.render_he(2, size=160, necrosis="none", mpp=1.0)
    assert c.necrosis_pct == 0.0
    assert not c.necrosis.any()
    with pytest.raises(ValueError, match="necrosis='some'"):
        he.render_he(0, size=64, necrosis="some")


def test_chromogens_share_the_tissue(hr) -> None:
    dab = hr.render(6, size=128, pigment="none")
    red = hr.render(6, size=128, pigment="none", chromogen="aec")
    assert np.array_equal(dab.labels, red.labels)
    assert np.array_equal(dab.nuclei["grade"], red.nuclei["grade"])
    assert not np.array_equal(dab.rgb, red.rgb)
    with pytest.raises(ValueError, match="chromogen='nbt'"):
        hr.render(0, size=64, chromogen="nbt")
