"""Dark brown bodies decided by their surroundings (issue #14): near-black melanin beside melanin
is taken back from the body model's DAB call; a saturated DAB nucleus with no pigment near stays DAB."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify._pigment_bodies import OBJECT_FEATURES
from mmnst_path.classify._pigment_context import context_melanin_bodies
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.errors import ConfigError
from mmnst_path.pipeline import AnalysisConfig, analyze_region
from mmnst_path.stain import od_from_rgb
from mmnst_path.synthetic import pigment_family_tile

MPP = 0.5


def _disc(shape: tuple[int, int], r: int, c: int, radius: int) -> np.ndarray:
    rr, cc = np.ogrid[: shape[0], : shape[1]]
    return (rr - r) ** 2 + (cc - c) ** 2 <= radius**2


def _bodies() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three near-black bodies, 8 µm across, at 0.5 µm/px: 1 beside a granule cluster (30 µm², 11 µm
    from it), 3 17 µm beyond body 1 (36 µm from the cluster), 2 far from both; labels, OD, cluster."""
    shape = (200, 200)
    labels = np.zeros(shape, np.int32)
    for i, (r, c) in enumerate(((50, 50), (150, 150), (50, 100)), start=1):
        labels[_disc(shape, r, c, 8)] = i
    od = np.zeros((*shape, 3), np.float32)
    od[labels > 0] = 2.0  # every channel beyond the scanner's range
    cluster = np.zeros(shape, bool)
    cluster[45:56, 10:21] = True
    return labels, od, cluster


def _features(n: int, share: float) -> np.ndarray:
    x = np.zeros((n, len(OBJECT_FEATURES)), np.float32)
    x[:, OBJECT_FEATURES.index("model_share")] = share
    return x


def test_near_black_body_beside_melanin_is_taken_back_and_the_field_grows_from_it() -> None:
    labels, od, cluster = _bodies()
    dab = np.array([False, True, True, True])
    x = _features(3, 0.8)
    taken = context_melanin_bodies(labels, 3, x, dab, cluster, od, mpp=MPP, params=PigmentParams())
    assert taken.tolist() == [False, True, False, True]  # 3 through 1 (the second round), 2 stays DAB
    one_round = context_melanin_bodies(labels, 3, x, dab, cluster, od, mpp=MPP,
                                       params=PigmentParams(context_steps=0))
    assert one_round.tolist() == [False, True, False, False]
    # no melanin anywhere near: nothing is taken back, however dark the bodies are
    alone = context_melanin_bodies(labels, 3, x, dab, np.zeros_like(cluster), od, mpp=MPP, params=PigmentParams())
    assert not alone.any()
    # not near-black (a brown DAB nucleus beside pigment) or not marked by the pixel model: DAB
    brown = od.copy()
    brown[labels == 1] = (0.4, 0.8, 1.1)
    assert not context_melanin_bodies(labels, 3, x, dab, cluster, brown, mpp=MPP, params=PigmentParams()).any()
    assert not context_melanin_bodies(labels, 3, _features(3, 0.2), dab, cluster, od, mpp=MPP,
                                      params=PigmentParams()).any()
    # ... unless the body is larger than a nucleus (a field of filled cells): 50 µm² bodies here
    assert context_melanin_bodies(labels, 3, _features(3, 0.2), dab, cluster, od, mpp=MPP,
                                  params=PigmentParams(context_large_um2=40.0)).tolist() == [False, True, False, True]
    # off, and bodies the body model keeps are not its business
    assert not context_melanin_bodies(labels, 3, x, dab, cluster, od, mpp=MPP,
                                      params=PigmentParams(context_radius_um=0.0)).any()
    assert not context_melanin_bodies(labels, 3, x, np.zeros(4, bool), cluster, od, mpp=MPP,
                                      params=PigmentParams()).any()


def _cells_on(tile, res, select: np.ndarray) -> np.ndarray:
    """Classes of the detected cells whose centroid lies in a truth nucleus with ``select[label]``."""
    lab = tile.masks["nuclei"]
    r = np.clip(np.rint(np.asarray(res.cells.row)).astype(int), 0, lab.shape[0] - 1)
    c = np.clip(np.rint(np.asarray(res.cells.col)).astype(int), 0, lab.shape[1] - 1)
    from mmnst_path.aggregate import CELL_CLASSES

    return np.asarray(CELL_CLASSES)[np.asarray(res.cells.cls, np.intp)][select[lab[r, c]]]


def _run(tile, ki67: dict[str, float] | None = None, **pigment: float):
    cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67", "melanin"], "pigment": pigment,
                                       "ki67": ki67 or {}})
    return analyze_region(tile.rgb, cfg, mpp=tile.mpp)


def test_positive_nuclei_under_near_black_bodies_beside_granular_pigment_read_pigment() -> None:
    """Generated near-black melanin over nuclei (``whole_cell``, seed 3001, not an evaluation
    seed) beside the family's granular pigment: the body model alone calls the bodies DAB and the
    hidden positives count; by context they read ``pigment``. The Ki67 pigment prior (which also
    reads near-black nuclei beside melanin as ``pigment``) is off in both runs, so the context step
    alone is measured; with both on (the default) no more of them count positive."""
    tile = pigment_family_tile(3001, "whole_cell", near_black=True, size=256, positive_fraction=0.5)
    lab, mel = tile.masks["nuclei"], tile.masks["melanin"]
    n = int(lab.max())
    area = np.maximum(np.bincount(lab.ravel(), minlength=n + 1), 1)
    hidden = np.bincount(lab.ravel(), mel.ravel(), minlength=n + 1) / area >= 0.75
    positive = np.bincount(lab.ravel(), tile.masks["positive_nuclei"].ravel(), minlength=n + 1) > 0
    target = hidden & positive
    target[0] = False
    assert target.sum() >= 8
    no_prior = {"pigment_prior_fraction": 0.0}
    before = _cells_on(tile, _run(tile, no_prior, context_radius_um=0.0), target)
    after = _cells_on(tile, _run(tile, no_prior), target)
    assert (before == "positive").sum() >= 5
    assert (after == "positive").sum() <= (before == "positive").sum() // 3
    assert (after == "pigment").sum() >= (before == "pigment").sum() + 4
    default = _cells_on(tile, _run(tile), target)
    assert (default == "positive").sum() <= (after == "positive").sum()


def test_saturated_dab_nuclei_with_no_pigment_near_stay_positive() -> None:
    """Near-black DAB positives among DAB nuclei, no melanin on the tile (``none``, seed 3004:
    10 positives >= 30 % saturated): context takes nothing back, every one counts positive."""
    tile = pigment_family_tile(3004, "none", near_black=True, size=256)
    lab = tile.masks["nuclei"]
    n = int(lab.max())
    area = np.maximum(np.bincount(lab.ravel(), minlength=n + 1), 1)
    sat = np.bincount(lab.ravel(), (od_from_rgb(tile.rgb).min(axis=-1) >= 1.0).ravel(), minlength=n + 1) / area
    positive = np.bincount(lab.ravel(), tile.masks["positive_nuclei"].ravel(), minlength=n + 1) / area > 0.5
    target = positive & (sat >= 0.3)
    target[0] = False
    assert target.sum() >= 8
    res = _run(tile)
    cls = _cells_on(tile, res, target)
    assert len(cls) >= 8
    assert (cls == "positive").all()
    assert res.metrics.get("ki67_pigment", 0) == 0


def test_context_parameters_are_checked() -> None:
    with pytest.raises(ConfigError, match="context_model_share"):
        PigmentParams(context_model_share=1.5)
    with pytest.raises(ConfigError, match="context_steps"):
        PigmentParams(context_steps=-1)
    with pytest.raises(ConfigError, match="context_radius_um"):
        PigmentParams(context_radius_um=-2.0)
