"""Session 44 H4 (#16): the stain-places cut is exact. Dumps, for one source tree (its ``PYTHONPATH``), what
:func:`mmnst_path.stain.places._count` and :func:`mmnst_path.stain.guess.guess_stains_detail` return on a set of
inputs; ``compare`` says whether two dumps are identical (every float by its ``repr``).

Usage::

    PYTHONPATH=TREE python benchmarks/experiments/places_exact_s44.py dump OUT.json SEEDS   # e.g. 0,1 (dev)
    python benchmarks/experiments/places_exact_s44.py compare A.json B.json

Inputs: the 24 real Ki67 tiles of ``../shared/data/ki67`` (BCData, SHIDC, DeepLIIF) at their native µm/px and as a
lone tile's 256² thumbnail (the named-stains check's input), the scikit-image IHC tile at 0.5 µm/px, and generated
tiles of the given seeds: ``double_stain_tile`` (marker cytoplasmic / nuclear x Fast Red / AEC, at 0.5 and 1.0
µm/px), ``pigment_family_tile`` (every family x DAB / AEC / Fast Red, 0.5 µm/px) and ``azure_b_tile``.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[2] / "shared" / "data"


def _inputs(seeds: list[int]):
    from PIL import Image

    import mmnst_path.pipeline._slide as slide_mod
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.synthetic import FAMILY_CHROMOGENS, PIGMENT_FAMILIES, pigment_family_tile
    from mmnst_path.synthetic_azure import azure_b_tile
    from mmnst_path.synthetic_double import double_stain_tile

    mpps = {"bcdata": 0.25, "shidc": 0.21, "deepliif": 0.5}
    try:
        sets = tomllib.loads((HERE.parent / "datasets.toml").read_text())
        for k in mpps:
            mpps[k] = float(sets.get(k, {}).get("mpp", mpps[k]))
    except Exception:  # the defaults above
        pass
    for name, mpp in mpps.items():
        for p in sorted((DATA / "ki67" / name).glob("*")):
            if p.suffix.lower() not in (".png", ".jpg", ".jpeg"):
                continue
            rgb = np.asarray(Image.open(p).convert("RGB"))
            yield f"{name}/{p.name}", rgb, None, mpp
            seen = []
            check = slide_mod.check_named_stains
            slide_mod.check_named_stains = lambda tissue, *a, _seen=seen, **k: _seen.append(tissue)  # the check's input
            try:
                analyze_region(rgb, AnalysisConfig(stains="H-DAB"), mpp=mpp)  # named (the API's default is auto since 04f0fd0)
            finally:
                slide_mod.check_named_stains = check
            t = seen[0]
            yield f"{name}/{p.name}#thumb", t.thumbnail, t.mask, float(t.mask_mpp)
    rgb = np.asarray(Image.open(DATA / "ihc" / "skimage_ihc.png").convert("RGB"))
    yield "skimage_ihc", rgb, None, 0.5
    for s in seeds:
        for marker in ("cytoplasmic", "nuclear"):
            for chrom in ("fast_red", "aec"):
                for mpp in (0.5, 1.0):
                    t = double_stain_tile(s, marker=marker, chromogen=chrom, mpp=mpp)
                    yield f"double/{s}/{marker}/{chrom}/{mpp}", t.rgb, None, mpp
        for fam in PIGMENT_FAMILIES:
            for chrom in FAMILY_CHROMOGENS:
                if chrom == "eosin":
                    continue
                t = pigment_family_tile(s, fam, chromogen=chrom)
                yield f"family/{s}/{fam}/{chrom}", t.rgb, None, float(t.mpp)
        t = azure_b_tile(s)
        yield f"azure/{s}", t.rgb, None, float(t.mpp)


def _f(x):
    if isinstance(x, float | np.floating):
        return repr(float(x))
    if isinstance(x, dict):
        return {k: _f(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_f(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_f(v) for v in x.tolist()]
    return repr(x)


def dump(out: str, seeds: list[int]) -> None:
    import dataclasses

    from mmnst_path.stain.guess import _colour_guess, guess_stains_detail
    from mmnst_path.stain.places import _count

    rec = {}
    for key, rgb, tissue, mpp in _inputs(seeds):
        white = _colour_guess(rgb, tissue).white_point
        entry = {}
        for wp in (white, (255.0, 255.0, 255.0)):
            bodies = {"brown": 0, "red": 0, "dab": 0, "pink": 0, "dab_brown": 0}
            degs: dict = {"brown": [], "red": [], "dab": [], "other": []}
            ret = _count(rgb, tissue, mpp, wp, bodies, degs)
            entry[repr(_f(wp))] = _f({"ret": ret, "bodies": bodies, "degs": degs})
        g = guess_stains_detail(rgb, tissue, mpp=mpp)
        entry["guess"] = _f(dataclasses.asdict(g))
        rec[key] = entry
        print(key, entry["guess"]["name"], file=sys.stderr)
    Path(out).write_text(json.dumps(rec, sort_keys=True))


def compare(a: str, b: str) -> int:
    da, db = json.loads(Path(a).read_text()), json.loads(Path(b).read_text())
    bad = [k for k in sorted(set(da) | set(db)) if da.get(k) != db.get(k)]
    n_bodies = sum(sum(int(v["bodies"][c].strip("'")) for c in v["bodies"]) for e in da.values()
                   for kk, v in e.items() if kk != "guess")
    print(f"{len(da)} / {len(db)} inputs, {len(bad)} differ; bodies counted in A {n_bodies}")
    for k in bad[:20]:
        print("DIFF", k)
    return 1 if bad or set(da) != set(db) else 0


if __name__ == "__main__":
    if sys.argv[1] == "dump":
        dump(sys.argv[2], [int(s) for s in sys.argv[3].split(",")])
    else:
        sys.exit(compare(sys.argv[2], sys.argv[3]))
