"""TileJob.memo: the per-job reaches are computed once a process (#16) and never travel to workers."""

from __future__ import annotations

import pickle

from mmnst_path.pipeline._config import AnalysisConfig
from mmnst_path.pipeline._worker import TileJob, ki67_halo_parts, pigment_model_of


def test_memo_computes_once_and_is_not_pickled():
    config = AnalysisConfig(stains="H-DAB")
    matrix = config.stain_matrix()
    job = TileJob(config=config, matrix=matrix, measures=("ki67", "melanin"), roi=None, map_px=64)
    calls = []

    def parts():
        calls.append(1)
        return ki67_halo_parts(config)

    first = job.memo("ki67_halo_parts", parts)
    assert job.memo("ki67_halo_parts", parts) is first
    assert calls == [1]
    assert first == ki67_halo_parts(config)
    model = job.memo("pigment_model", lambda: pigment_model_of(config, matrix))
    assert model is not None
    copy = pickle.loads(pickle.dumps(job))
    assert "_memo" not in copy.__dict__  # the models stay in the process that resolved them
    assert copy.config == job.config
    assert copy.measures == job.measures


def test_a_tile_resolves_the_pigment_model_once_a_job(monkeypatch):
    """The lean-window reach and the pigment stage of a tile share the job's one resolution of the
    learned pigment model (session 22 H2's count: each resolved it again; the Ki67 halo's reach,
    memoised per job on its own, is not counted here)."""
    import sys

    import numpy as np

    import mmnst_path.pipeline._slide as slide
    import mmnst_path.pipeline._worker as worker
    from mmnst_path.pipeline import analyze_region

    calls = []
    inside = []
    real = worker.pigment_model_of
    real_tile = worker.analyze_tile

    def counted(config, matrix):
        if inside and sys._getframe(1).f_code.co_name != "_pigment_reach_um":
            calls.append(sys._getframe(1).f_code.co_name)
        return real(config, matrix)

    def tile(*a, **k):
        inside.append(1)
        try:
            return real_tile(*a, **k)
        finally:
            inside.pop()

    monkeypatch.setattr(worker, "pigment_model_of", counted)
    monkeypatch.setattr(slide, "analyze_tile", tile)
    rgb = np.full((600, 600, 3), 255, np.uint8)
    rgb[100:500, 100:500] = (150, 120, 170)  # stained tissue in white: one tile, lean windows
    analyze_region(rgb, None, mpp=0.5)
    assert len(calls) == 1, calls
