"""The necrosis evaluation never scores a generated tile the tissue training script trains on."""

from __future__ import annotations

import argparse

import numpy as np
import pytest


def test_evaluation_cases_are_seeded_and_disjoint_from_the_training_seeds(project_module) -> None:
    ev = project_module("benchmarks/eval_necrosis.py")
    tr = project_module("scripts/train_tissue_model.py")
    cases = ev._cases(3)
    assert cases == ev._cases(3)  # randomised cases are drawn from their seeds
    by_kind: dict[str, list[dict]] = {}
    for kind, _name, kw in cases:
        by_kind.setdefault(kind, []).append(kw)
    base = ev._cases(0)
    for kind in ("synthetic", "sample", "tissue", "mimic"):
        assert len(by_kind[kind]) == sum(k == kind for k, _, _ in base) + 3
    sample = by_kind["sample"]
    assert all(0.1 <= kw["eosin"] <= 0.6 and kw["mpp"] in (0.5, 1.0) for kw in sample)
    assert len({kw["seed"] for kw in sample}) == len(sample)
    # no evaluation seed of a generator trains
    assert not {kw["seed"] for kw in sample} & {r[0] for r in tr.SAMPLE_RECIPE}
    assert not {kw["seed"] for kw in by_kind["synthetic"]} & set(tr.SYNTH_SEEDS)
    assert not {kw["seed"] for kw in by_kind["tissue"]} & set(tr.TISSUE_SEEDS)
    assert set(ev.TISSUE_EVAL_SEEDS).isdisjoint(tr.TISSUE_SEEDS)
    assert not {kw["seed"] for kw in by_kind["mimic"]} & set(tr.MIMIC_SEEDS)
    assert set(ev.MIMIC_EVAL_SEEDS).isdisjoint(tr.MIMIC_SEEDS)
    assert not set(range(960, 970)) & (set(tr.MIMIC_SEEDS) | set(ev.MIMIC_EVAL_SEEDS))  # the tests' seeds


def test_brca_region_labels_follow_the_points(project_module) -> None:
    """Tumour around tumour points, inflammatory where lymphocytes crowd, stroma around stromal points."""
    tr = project_module("scripts/train_tissue_model.py")
    rgb = np.full((200, 300, 3), 180, np.uint8)  # tissue-coloured everywhere (no glass)
    pts = [(50, 50, 2), (60, 60, 2), (40, 70, 2)]  # tumour (y, x, class 2)
    pts += [(150, 40 + 8 * i, 1) for i in range(6)]  # a row of lymphocytes (class 1), 4 µm apart
    pts += [(60, 250, 3)]  # one stromal nucleus (class 3)
    lab = tr.brca_labels(rgb, np.asarray(pts, float), 0.5)
    classes = tr.CLASSES
    assert lab[55, 60] == classes.index("tumour")
    assert lab[150, 60] == classes.index("inflammatory")
    assert lab[60, 250] == classes.index("stroma")
    assert lab[60, 150] == classes.index("stroma")  # farther than BRCA_FAR_UM from the tumour points
    assert lab[100, 45] == -1  # between tumour and lymphocytes, near both: unlabelled


def test_repeat_necrosis_takes_only_the_named_sources_necrosis_rows_again(project_module) -> None:
    """``--repeat-necrosis sample_recipe=3``: that source's necrosis rows three times, every other row once."""
    tr = project_module("scripts/train_tissue_model.py")
    nec = tr.CLASSES.index("necrosis")
    y = np.array([nec, 0, nec, nec, 1])
    src = np.array(["sample_recipe", "sample_recipe", "tissue", "sample_recipe", "sample_recipe"])
    x = np.arange(10.0).reshape(5, 2)
    x2, y2 = tr.repeat_necrosis(x, y, src, {"sample_recipe": 3})
    assert np.array_equal(x2[:5], x)  # the rows themselves first, in order
    assert sorted(x2[5:, 0].tolist()) == [0.0, 0.0, 6.0, 6.0]  # rows 0 and 3 twice more
    assert np.array_equal(y2[5:], np.full(4, nec))
    x3, y3 = tr.repeat_necrosis(x, y, src, {"sample_recipe": 1, "osteosarcoma": 4})  # K=1 / absent: unchanged
    assert np.array_equal(x3, x)
    assert np.array_equal(y3, y)
    with pytest.raises(argparse.ArgumentTypeError, match="--repeat-necrosis"):
        tr._repeats("sample_recipe=0")
    assert tr._repeats("sample_recipe=4,synthetic=2") == {"sample_recipe": 4, "synthetic": 2}
