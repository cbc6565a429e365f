"""TileJob.memo: the per-job reaches are computed once a process (#16) and never travel to workers."""

from __future__ import annotations

import pickle

from mmnst_path.pipeline._config import AnalysisConfig
from mmnst_path.pipeline._worker import TileJob, ki67_halo_parts, pigment_model_of


def test_memo_computes_once_and_is_not_pickled():
    config = AnalysisConfig()
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
