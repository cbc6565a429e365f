"""Session 44 H8 (#16): the shared OD planes leave the stain guess and the named-stains check unchanged. Dumps, for
one source tree (its ``PYTHONPATH``), on the 127 inputs of ``places_exact_s44.py`` (same seeds): the whole
``guess_stains_detail`` record, the colour guess and the chromogen places through the shared planes where the tree
has them (``ODPlanes``; START_HEAD: its own passes), and ``check_named_stains``'s record and warnings for stains
named H-DAB, H-AEC, H-FastRed and H&E (the image as the tissue thumbnail, its tissue mask or all of it).

Usage::

    PYTHONPATH=TREE python benchmarks/experiments/named_check_exact_s44.py dump OUT.json SEEDS
    python benchmarks/experiments/named_check_exact_s44.py compare A.json B.json
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import dataclasses  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from places_exact_s44 import _f, _inputs  # noqa: E402


def dump(out: str, seeds: list[int]) -> None:
    from mmnst_path.pipeline._stain_check import check_named_stains
    from mmnst_path.stain import get_preset
    from mmnst_path.stain.guess import _colour_guess, guess_stains_detail
    from mmnst_path.stain.places import chromogen_places

    try:
        from mmnst_path.stain._planes import ODPlanes
    except ImportError:  # START_HEAD
        ODPlanes = None
    rec = {}
    for key, rgb, tissue, mpp in _inputs(seeds):
        entry = {"guess": _f(dataclasses.asdict(guess_stains_detail(rgb, tissue, mpp=mpp)))}
        planes = ODPlanes(rgb) if ODPlanes is not None else None
        colour = _colour_guess(rgb, tissue) if planes is None else _colour_guess(rgb, tissue, planes)
        entry["colour"] = _f(dataclasses.asdict(colour))
        for wp in (colour.white_point, (255.0, 255.0, 255.0)):
            pl = (chromogen_places(rgb, tissue, mpp, wp) if planes is None
                  else chromogen_places(rgb, tissue, mpp, wp, planes=planes))
            entry[f"places {_f(wp)}"] = _f(dataclasses.asdict(pl)) if pl is not None else "None"
        mask = np.ones(rgb.shape[:2], bool) if tissue is None else np.asarray(tissue, bool)
        t = types.SimpleNamespace(thumbnail=rgb, mask=mask, mask_mpp=mpp, scale=(1.0, 1.0))
        for named in ("H-DAB", "H-AEC", "H-FastRed", "H&E"):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                r = check_named_stains(t, get_preset(named), source=key)
            entry[f"check {named}"] = _f({"record": r, "warnings": [str(x.message) for x in w]})
        rec[key] = entry
        print(key, entry["guess"]["name"], file=sys.stderr)
    Path(out).write_text(json.dumps(rec, sort_keys=True))


def compare(a: str, b: str) -> int:
    da, db = json.loads(Path(a).read_text()), json.loads(Path(b).read_text())
    bad = [k for k in sorted(set(da) | set(db)) if da.get(k) != db.get(k)]
    warned = sum(1 for e in da.values() for k, v in e.items() if k.startswith("check") and v["warnings"])
    print(f"{len(da)} / {len(db)} inputs, {len(bad)} differ; {warned} checks in A warned")
    for k in bad[:20]:
        print("DIFF", k, [kk for kk in da.get(k, {}) if da[k].get(kk) != db.get(k, {}).get(kk)])
    return 1 if bad or set(da) != set(db) else 0


if __name__ == "__main__":
    if sys.argv[1] == "dump":
        dump(sys.argv[2], [int(s) for s in sys.argv[3].split(",")])
    else:
        sys.exit(compare(sys.argv[2], sys.argv[3]))
