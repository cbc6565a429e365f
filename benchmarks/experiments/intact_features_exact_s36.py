"""Session 36 H10 (#13 / #16): gate 1 of /work/notes/s36/h10_report.md, the box-planes features are exact.

Runs the necrosis chain of one tree (``PYTHONPATH=TREE``) on the rule's inputs and stores every output, then compares
two stored runs bit for bit:

- the README job (``python -m mmnst_path quantify``) on the two H&E samples (``sample_tiles/he_necrosis.tif``,
  ``he_melanin.tif``, linked into a folder of their own): every output file but the run's timings / versions;
- the 15 osteosarcoma tiles of /work/shared/data/necrosis at 1.0 µm/px (``eval_necrosis.py real``'s default);
- the first 10 BRCA-M2C test patches (``eval_necrosis.py brca``'s list, 0.5 µm/px);
- CMU-1-Small-Region, necrosis only (``analyze_slide``; metrics, counts, tile table, maps);
- on all of them: every ``candidate_features`` matrix and every ``intact_calls`` result (the veto's intact calls).

    PYTHONPATH=TREE python intact_features_exact_s36.py run OUTDIR
    python intact_features_exact_s36.py compare DIR_A DIR_B
"""

import dataclasses
import json
import runpy
import sys
from pathlib import Path

import numpy as np

SAMPLES = Path("/work/main/sample_tiles")
OSTEO = Path("/work/shared/data/necrosis")
BRCA = Path("/work/shared/train/brca_m2c")
CMU = "/work/shared/data/wsi/CMU-1-Small-Region.svs"
SKIP = {"timings", "versions", "input", "config"}


def flatten(obj, key: str, arrays: dict, plain: dict) -> None:
    """Arrays of ``obj`` into ``arrays`` and everything else into ``plain``, under dotted keys."""
    if isinstance(obj, np.ndarray):
        arrays[key] = obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            if f.name not in SKIP:
                flatten(getattr(obj, f.name), f"{key}.{f.name}", arrays, plain)
    elif isinstance(obj, dict) or hasattr(obj, "items"):
        for k, v in obj.items():
            if k not in SKIP:
                flatten(v, f"{key}.{k}", arrays, plain)
    elif isinstance(obj, (list, tuple)) and any(isinstance(v, np.ndarray) for v in obj):
        for i, v in enumerate(obj):
            flatten(v, f"{key}.{i}", arrays, plain)
    elif hasattr(obj, "__dict__") and not isinstance(obj, (str, bytes, int, float)):
        for k, v in vars(obj).items():
            if k not in SKIP and not k.startswith("_"):
                flatten(v, f"{key}.{k}", arrays, plain)
    else:
        plain[key] = repr(obj)


def run(out: Path) -> None:
    from PIL import Image

    import mmnst_path.quantify._intact_model as im
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide
    from mmnst_path.quantify.necrosis import NecrosisParams, measure_necrosis, necrosis_metrics

    out.mkdir(parents=True, exist_ok=True)
    calls: dict[str, np.ndarray] = {}
    tag = ["?"]
    feats, calls_fn = im.candidate_features, im.intact_calls

    def features(*a, **k):
        x = feats(*a, **k)
        calls[f"{tag[0]}.features.{sum(1 for q in calls if q.startswith(tag[0] + '.features'))}"] = x
        return x

    def intact(*a, **k):
        nuc = calls_fn(*a, **k)
        i = sum(1 for q in calls if q.startswith(tag[0] + ".calls.")) // 6
        for name in ("row", "col", "contrast_od", "hematoxylin_od", "surround_tissue", "fill"):
            calls[f"{tag[0]}.calls.{i}.{name}"] = np.asarray(getattr(nuc, name))
        return nuc

    im.candidate_features, im.intact_calls = features, intact
    arrays: dict[str, np.ndarray] = {}
    plain: dict[str, str] = {}
    # the README job on the two H&E samples
    tag[0] = "readme"
    src = out / "he_samples"
    src.mkdir(exist_ok=True)
    for name in ("he_necrosis.tif", "he_melanin.tif"):
        if not (src / name).exists():
            (src / name).symlink_to(SAMPLES / name)
    sys.argv = ["mmnst_path", "quantify", str(src), "--out", str(out / "readme")]
    try:
        runpy.run_module("mmnst_path", run_name="__main__", alter_sys=True)
    except SystemExit as e:
        if e.code not in (0, None):
            raise
    params = NecrosisParams()
    for path in sorted(OSTEO.glob("*.jpg")):
        tag[0] = f"osteo.{path.stem}"
        counts, mask, mask_mpp = measure_necrosis(np.asarray(Image.open(path).convert("RGB")), mpp=1.0, params=params)
        arrays[f"{tag[0]}.mask"] = np.asarray(mask)
        plain[f"{tag[0]}.metrics"] = repr(necrosis_metrics(counts))
        plain[f"{tag[0]}.counts"] = repr(counts)
        plain[f"{tag[0]}.mask_mpp"] = repr(mask_mpp)
    names = sorted((BRCA / "_meta" / "brca_ds_test.txt").read_text().split())[:10]
    for name in names:
        tag[0] = f"brca.{name}"
        rgb = np.asarray(Image.open(BRCA / "mixed" / name).convert("RGB"))
        counts, mask, mask_mpp = measure_necrosis(rgb, mpp=0.5, params=params)
        arrays[f"{tag[0]}.mask"] = np.asarray(mask)
        plain[f"{tag[0]}.metrics"] = repr(necrosis_metrics(counts))
        plain[f"{tag[0]}.counts"] = repr(counts)
        plain[f"{tag[0]}.mask_mpp"] = repr(mask_mpp)
    tag[0] = "cmu1"
    res = analyze_slide(CMU, AnalysisConfig(stains="auto", measures=("necrosis",), necrosis=params), workers=1)
    flatten(res, "cmu1", arrays, plain)
    np.savez(out / "arrays.npz", **arrays)
    np.savez(out / "calls.npz", **calls)
    (out / "plain.json").write_text(json.dumps(plain, indent=0, sort_keys=True))
    print(f"{len(arrays)} arrays, {len(plain)} values, {len(calls)} call arrays "
          f"({sum(len(v) for k, v in calls.items() if k.endswith('.row'))} candidates called intact, "
          f"{sum(len(v) for k, v in calls.items() if '.features.' in k)} feature rows)")


#: Run metadata, not results: wall-clock timings (any key ``seconds`` / ``timings``), versions, the lock file, and the
#: GeoJSON feature ids (``uuid5`` of the input path, which holds the run's folder); paths are compared with the
#: run's folder replaced.
TIMING_KEYS = {"seconds", "timings", "versions"}


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in TIMING_KEYS and not (k == "id" and "type" in obj)}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def same_file(a: Path, b: Path, root_a: Path, root_b: Path) -> bool:
    ta = a.read_bytes().replace(str(root_a).encode(), b"RUN")
    tb = b.read_bytes().replace(str(root_b).encode(), b"RUN")
    if a.suffix in (".json", ".geojson"):
        return json.dumps(_strip(json.loads(ta)), sort_keys=True) == json.dumps(_strip(json.loads(tb)), sort_keys=True)
    if a.suffix == ".csv":
        ra, rb = [r.split(",") for r in ta.decode().splitlines()], [r.split(",") for r in tb.decode().splitlines()]
        keep = [i for i, h in enumerate(ra[0]) if h not in TIMING_KEYS] if ra else []
        return ra[:1] == rb[:1] and [[r[i] for i in keep] for r in ra] == [[r[i] for i in keep] for r in rb]
    return ta == tb


def compare(a: Path, b: Path) -> int:
    bad = []
    fa = sorted(p.relative_to(a) for p in (a / "readme").rglob("*") if p.is_file() and p.name != ".mmnst-path.lock")
    fb = sorted(p.relative_to(b) for p in (b / "readme").rglob("*") if p.is_file() and p.name != ".mmnst-path.lock")
    if fa != fb:
        bad.append(f"README job files differ: {sorted(set(fa) ^ set(fb))}")
    diff = [str(p) for p in fa if p in fb and not same_file(a / p, b / p, a, b)]
    print(f"README job: {len(fa)} files, {len(diff)} differ (without the run metadata, TIMING_KEYS): {diff}")
    bad += diff
    for name in ("arrays.npz", "calls.npz"):
        za, zb = np.load(a / name), np.load(b / name)
        if sorted(za.files) != sorted(zb.files):
            bad.append(f"{name}: keys differ {sorted(set(za.files) ^ set(zb.files))}")
        d = [k for k in za.files if k in zb.files and k.split(".")[-1] not in TIMING_KEYS and not (za[k].dtype == zb[k].dtype and za[k].shape == zb[k].shape
                                                          and np.array_equal(za[k], zb[k], equal_nan=True))]
        print(f"{name}: {len(za.files)} arrays ({sum(za[k].size for k in za.files)} values), {len(d)} differ: {d[:20]}")
        bad += d
    pa, pb = json.loads((a / "plain.json").read_text()), json.loads((b / "plain.json").read_text())
    d = [k for k in set(pa) | set(pb) if pa.get(k) != pb.get(k)]
    print(f"plain.json: {len(pa)} values, {len(d)} differ: {sorted(d)[:20]}")
    bad += d
    print("EXACT" if not bad else f"NOT EXACT ({len(bad)} differences)")
    return 0 if not bad else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "run":
        run(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        raise SystemExit(__doc__)
