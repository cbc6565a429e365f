"""Experiment (#16 / #14, session 40 H2, dev slide only): which parts of the H-DAB pigment stage make a slide's
melanin depend on where its tiles are cut.

Runs ``tile_cut_melanin_s38.py`` (its ``run`` / ``--bodies capture|use`` attribution: every tile reads the pixel
model's ``blob_*`` columns from the one-tile run's brown-body table) with ``PigmentParams`` overrides (first
argument, ``k=v,k=v`` or ``-``) and, with the environment variable ``CAP_UM`` set, the brown bodies of the body
veto (``detect._pigment_gate.brown_body_labels``) limited to those whose bounding box is at most ``CAP_UM`` on each
side (a larger body leaves the veto: no features, no decision; an experiment, not a proposal as it stands: it adds
~30 % melanin on the dev slide). Run from the tree measured (HEAD), with it first on ``PYTHONPATH``::

    python tile_cut_dab_attr_s40.py OVERRIDES run SLIDE 0.5 ONE.json --tile-um 16000 --measures melanin --no-lean \
        --bodies capture B.npz
    python tile_cut_dab_attr_s40.py OVERRIDES run SLIDE 0.5 T.json --tile-um 512 --measures melanin --no-lean \
        --bodies use B.npz
    python benchmarks/experiments/tile_cut_melanin_s38.py compare ONE.json T.json
"""
import os
import runpy
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

import mmnst_path.pipeline as pl
from mmnst_path.detect import _pigment_gate as gate

arg = sys.argv.pop(1)
over = {} if arg == "-" else dict(kv.split("=") for kv in arg.split(","))
real = pl.AnalysisConfig


def config(**kw):
    cfg = real(**kw)
    p = replace(cfg.pigment, **{k: type(getattr(cfg.pigment, k))(v) for k, v in over.items()})
    return cfg.replace(pigment=p)


pl.AnalysisConfig = config
if os.environ.get("CAP_UM"):
    cap_um = float(os.environ["CAP_UM"])
    real_labels = gate.brown_body_labels

    def capped(channel, hematoxylin, mpp, params):
        labels, n = real_labels(channel, hematoxylin, mpp, params)
        if n == 0:
            return labels, n
        cap = cap_um / mpp
        keep = np.zeros(n + 1, bool)
        for i, sl in enumerate(ndi.find_objects(labels), start=1):
            keep[i] = sl is not None and (sl[0].stop - sl[0].start) <= cap and (sl[1].stop - sl[1].start) <= cap
        new = np.cumsum(keep).astype(labels.dtype) * keep
        return new[labels], int(keep.sum())

    gate.brown_body_labels = capped
sys.argv[0] = str(Path(__file__).resolve().parent / "tile_cut_melanin_s38.py")
runpy.run_path(sys.argv[0], run_name="__main__")
