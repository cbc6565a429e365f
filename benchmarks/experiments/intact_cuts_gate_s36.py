"""Session 36 H15 (#13 / #16): the gates of /work/notes/s36/h15_report.md (benchmarks/experiments/intact_cuts_rule_s36.md).

Gate data: the 90 BRCA-M2C train + val patches (sorted ``brca_ds_train.txt`` + ``brca_ds_val.txt``, as
``tissue_veto_dev_s35.py patches`` reads them) at 0.5 µm/px, ``analyze_region`` with necrosis only, stains H&E, the
default ``NecrosisParams`` (tissue model and intact-nucleus model: the veto runs), ``workers=1``.

    python intact_cuts_gate_s36.py exact TREE OUT_DIR        # run one tree (PYTHONPATH=TREE), store every output
    python intact_cuts_gate_s36.py compare DIR_A DIR_B        # gate 1: bit-identical?
    python intact_cuts_gate_s36.py time                       # one timed process (PYTHONPATH = the tree)
    python intact_cuts_gate_s36.py speed HEAD HEAD2 CAND OUT.json   # gates 2 and 3
"""

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BRCA = Path("/work/shared/train/brca_m2c")
PY = "/work/main/.venv/bin/python"
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
       "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def names() -> list[str]:
    return sorted((BRCA / "_meta/brca_ds_train.txt").read_text().split()
                  + (BRCA / "_meta/brca_ds_val.txt").read_text().split())


def _rgb(name: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(BRCA / "mixed" / name).convert("RGB"))


def _config():
    from mmnst_path.pipeline import AnalysisConfig

    return AnalysisConfig(stains="H&E", measures=("necrosis",))


def exact(out: Path) -> None:
    import mmnst_path.quantify._intact_model as im
    from mmnst_path.pipeline import analyze_region

    sys.path.insert(0, str(HERE))
    from intact_features_exact_s36 import flatten  # dataclasses / dicts / arrays into dotted keys

    out.mkdir(parents=True, exist_ok=True)
    arrays: dict = {}
    plain: dict = {}
    feats: dict = {}
    tag = [""]
    orig = im.candidate_features

    def spy(*a, **k):
        f = orig(*a, **k)
        feats[f"{tag[0]}.features.{sum(1 for x in feats if x.startswith(tag[0] + '.'))}"] = f
        return f

    im.candidate_features = spy
    cfg = _config()
    assert cfg.necrosis.intact_model != "none"
    assert cfg.necrosis.tissue_model != "none"
    for name in names():
        tag[0] = name
        res = analyze_region(_rgb(name), cfg, mpp=0.5, workers=1)
        flatten(res, name, arrays, plain)
    np.savez(out / "arrays.npz", **arrays)
    np.savez(out / "features.npz", **feats)
    (out / "plain.json").write_text(json.dumps(plain, indent=0, sort_keys=True))
    print(f"{len(names())} patches, {len(arrays)} arrays, {len(plain)} values, {len(feats)} feature matrices, "
          f"{sum(len(v) for v in feats.values())} feature rows")


def compare(a: Path, b: Path) -> int:
    bad = []
    for fname in ("arrays.npz", "features.npz"):
        za, zb = np.load(a / fname), np.load(b / fname)
        if sorted(za.files) != sorted(zb.files):
            bad.append(f"{fname}: keys differ {sorted(set(za.files) ^ set(zb.files))}")
        # the tile table's wall-clock ``seconds`` column is run metadata, not a result
        common = [k for k in za.files if k in zb.files and not k.endswith(".columns.seconds")]
        print(f"{fname}: {sum(k.endswith('.columns.seconds') for k in za.files)} timing columns left out")
        diff = [k for k in common if za[k].dtype != zb[k].dtype or za[k].shape != zb[k].shape
                or not np.array_equal(za[k], zb[k], equal_nan=za[k].dtype.kind in "fc")]
        print(f"{fname}: {len(common)} arrays, {sum(za[k].size for k in common)} values, {len(diff)} differ")
        bad += diff
    pa, pb = json.loads((a / "plain.json").read_text()), json.loads((b / "plain.json").read_text())
    diff = sorted(k for k in set(pa) | set(pb) if pa.get(k) != pb.get(k))
    print(f"plain.json: {len(pa)} / {len(pb)} values, {len(diff)} differ {diff[:10]}")
    bad += diff
    print("EXACT" if not bad else f"NOT EXACT ({len(bad)} items)")
    return 0 if not bad else 1


def timed() -> None:
    from mmnst_path.pipeline import analyze_region

    cfg = _config()
    ns = names()
    imgs = [_rgb(n) for n in ns]
    analyze_region(imgs[0], cfg, mpp=0.5, workers=1)  # warm-up (imports, numba, model load), not timed
    t = time.process_time()
    for rgb in imgs:
        analyze_region(rgb, cfg, mpp=0.5, workers=1)
    print(time.process_time() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def one(tree: str) -> tuple[float, int]:
    r = subprocess.run([PY, str(Path(__file__).resolve()), "time"], capture_output=True, text=True, cwd="/tmp",
                       env={**ENV, "PYTHONPATH": tree}, check=True)
    cpu, rss = r.stdout.split()[-2:]
    return float(cpu), int(rss)


def series(trees: dict[str, str], order: list[str]) -> dict:
    runs = []
    for tag in order:
        cpu, rss = one(trees[tag])
        runs.append((tag, cpu, rss))
        print(tag, cpu, rss, time.strftime("%H:%M:%S", time.gmtime()), flush=True)
    tags = sorted(set(order))
    return {"trees": trees, "runs": runs,
            "median_cpu_s": {t: statistics.median(r[1] for r in runs if r[0] == t) for t in tags},
            "median_maxrss_kib": {t: statistics.median(r[2] for r in runs if r[0] == t) for t in tags}}


def speed(head: str, head2: str, cand: str, out: Path) -> None:
    res = {"hc": series({"H": head, "C": cand}, ["H", "C", "C", "H", "H", "C"])}
    hc = res["hc"]
    hc["ratio_C_over_H"] = hc["median_cpu_s"]["C"] / hc["median_cpu_s"]["H"]
    print(json.dumps(hc), flush=True)
    res["aa"] = series({"H": head, "H'": head2}, ["H", "H'", "H'", "H"])
    aa = res["aa"]
    aa["ratio_H2_over_H"] = aa["median_cpu_s"]["H'"] / aa["median_cpu_s"]["H"]
    print(json.dumps(aa), flush=True)
    res["gates"] = {"2 speed C/H <= 0.85": hc["ratio_C_over_H"] <= 0.85,
                    "2 A/A H'/H within 0.95-1.05": 0.95 <= aa["ratio_H2_over_H"] <= 1.05,
                    "3 maxrss median C <= median H": hc["median_maxrss_kib"]["C"] <= hc["median_maxrss_kib"]["H"]}
    out.write_text(json.dumps(res, indent=1))
    for k, v in res["gates"].items():
        print(("PASS " if v else "FAIL ") + k)


def main() -> None:
    cmd = sys.argv[1:2]
    if cmd == ["exact"] and len(sys.argv) == 3:
        exact(Path(sys.argv[2]))
    elif cmd == ["compare"] and len(sys.argv) == 4:
        raise SystemExit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    elif cmd == ["time"] and len(sys.argv) == 2:
        timed()
    elif cmd == ["speed"] and len(sys.argv) == 6:
        speed(*sys.argv[2:5], Path(sys.argv[5]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
