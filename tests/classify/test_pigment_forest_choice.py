"""The pixel forest's exact early exit is a per-call choice (#16, session 28 H6): the keyword of
``classify_pigment`` decides over the module default, the tile worker passes its job's choice, and
``analyze_region`` keeps every tree on every candidate."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mmnst_path.classify import pigment as pig
from mmnst_path.pipeline import _worker as worker
from mmnst_path.pipeline import analyze_region
from mmnst_path.pipeline._config import AnalysisConfig
from mmnst_path.synthetic import pigment_family_tile


def test_the_keyword_decides_over_the_module_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same mask either way; with the keyword on, the forest stops on some pixels (probability 0
    there), whatever ``FOREST_EARLY_EXIT`` says, and off, every candidate has its full probability."""
    model = pig.resolve_pigment_model("default")
    assert model is not None
    tile = pigment_family_tile(0, "coarse", chromogen="dab", size=192)
    out = {}
    for flag in (False, True):  # the module default the other way round each time
        monkeypatch.setattr(pig, "FOREST_EARLY_EXIT", not flag)
        out[flag] = pig.classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains="H-DAB", forest_early_exit=flag)
    monkeypatch.setattr(pig, "FOREST_EARLY_EXIT", False)
    default = pig.classify_pigment(tile.rgb, mpp=tile.mpp, model=model, stains="H-DAB")
    np.testing.assert_array_equal(out[True][0], out[False][0])
    np.testing.assert_array_equal(default[1], out[False][1])  # None: the module default (off)
    stopped = (out[False][1] > 0) & (out[True][1] == 0)
    assert stopped.sum() > 100
    kept = out[True][1] > 0
    np.testing.assert_array_equal(out[True][1][kept], out[False][1][kept])


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    real = pig.classify_pigment

    def spy(rgb: np.ndarray, **k: Any) -> Any:
        seen.append(k.get("forest_early_exit", "absent"))
        return real(rgb, **k)

    monkeypatch.setattr(pig, "classify_pigment", spy)
    return seen


@pytest.mark.parametrize("choice", [False, True])
def test_the_tile_worker_passes_its_jobs_choice(monkeypatch: pytest.MonkeyPatch, choice: bool) -> None:
    seen = _spy(monkeypatch)
    config = AnalysisConfig(stains="H-DAB")
    matrix = config.stain_matrix()
    job = worker.TileJob(config=config, matrix=matrix, measures=("ki67",), roi=None, map_px=64,
                         forest_early_exit=choice)
    tile = pigment_family_tile(1, "coarse", chromogen="dab", size=128)
    mask, _ = worker._pigment(tile.rgb, tile.mpp, job)
    assert seen == [choice]
    assert mask.shape == tile.rgb.shape[:2]


def test_a_job_built_without_the_choice_and_analyze_region_keep_the_full_forest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = AnalysisConfig(stains="H-DAB")
    assert worker.TileJob(config=config, matrix=config.stain_matrix(), measures=("ki67",), roi=None,
                          map_px=64).forest_early_exit is False
    seen = _spy(monkeypatch)
    tile = pigment_family_tile(2, "coarse", chromogen="dab", size=128)
    analyze_region(tile.rgb, AnalysisConfig(measures=("ki67",), stains="H-DAB"), mpp=tile.mpp)
    assert seen
    assert all(k is False for k in seen)


def test_analyze_slide_on_an_image_file_passes_the_early_exit(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A slide or image file takes the forest's exact early exit (the lead's slide-path choice)."""
    from PIL import Image

    from mmnst_path.pipeline import analyze_slide

    tile = pigment_family_tile(2, "coarse", chromogen="dab", size=128)
    path = tmp_path / "tile.png"
    Image.fromarray(tile.rgb).save(path)
    seen = _spy(monkeypatch)
    analyze_slide(path, AnalysisConfig(measures=("ki67",), stains="H-DAB"), mpp=tile.mpp, workers=1)
    assert seen
    assert all(k is True for k in seen)
