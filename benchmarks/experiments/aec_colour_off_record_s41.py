"""Run ``eval_pigment_families.py`` and record, per red-chromogen tile, the angle between the tile's melanin
direction and the chromogen that ``_covered_chromogen`` sees (session 41 H9, #14; results unchanged).

    PYTHONPATH=. python benchmarks/experiments/aec_colour_off_record_s41.py ANGLES.csv -- \
        --chromogens dab aec fast_red --first-seed 4360 --seeds 8 --csv fam.csv

The angle is computed as the tree's ``_covered_chromogen`` computes it (mean OD of the pigment-mask pixels outside
every nucleus, normalised; the physical melanin vector under 20 such pixels); NaN where the colour reading does not
apply (DAB, no labels or no mask). A tile is colour-off when it is below ``_MIN_MELANIN_CHROMOGEN_DEG``.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path.cwd() / "benchmarks"))  # the eval script of the tree run from

import eval_pigment_families as epf

import mmnst_path.quantify.ki67 as ki67_mod
from mmnst_path.quantify import _ki67_pigment as kp
from mmnst_path.stain import angle_deg, melanin_vector
from mmnst_path.stain.od import od_from_rgb

_ORIGINAL = ki67_mod._covered_chromogen
_SEEN: list[float] = []
_ROWS: list[dict] = []


def _recording(params, labels, rgb, mask, matrix, pair, *, background):
    out = _ORIGINAL(params, labels, rgb, mask, matrix, pair, background=background)
    if (params.red_covered_min_chromogen_od > 0 and pair[1] in kp.RED_FILL_CHROMOGENS and labels is not None
            and mask is not None and labels.size):
        od = od_from_rgb(rgb, background=background).reshape(-1, 3).astype(np.float64)
        free = mask.ravel() & (labels.ravel() == 0)
        mel = od[free].mean(axis=0) if np.count_nonzero(free) >= kp._MIN_MELANIN_PIXELS else melanin_vector()
        norm = float(np.linalg.norm(mel))
        mel = mel / norm if norm > 0 else melanin_vector()
        _SEEN.append(angle_deg(mel, matrix.vector(pair[1])))
    return out


def _run_one(seed, family, chromogen, **kw):
    _SEEN.clear()
    row = _ORIGINAL_RUN(seed, family, chromogen, **kw)
    angle = _SEEN[-1] if _SEEN else float("nan")
    _ROWS.append({"chromogen": chromogen, "family": family, "seed": seed, "angle_deg": angle,
                  "colour_off": bool(angle < kp._MIN_MELANIN_CHROMOGEN_DEG)})
    return row


_ORIGINAL_RUN = epf.run_one


def main() -> None:
    out = Path(sys.argv[1])
    sys.argv = [sys.argv[0], *sys.argv[3:]]  # argv[2] is "--"
    ki67_mod._covered_chromogen = _recording
    epf.run_one = _run_one
    epf.main()
    with out.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(_ROWS[0]))
        w.writeheader()
        w.writerows(_ROWS)


if __name__ == "__main__":
    main()
