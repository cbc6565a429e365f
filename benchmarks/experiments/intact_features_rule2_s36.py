"""Session 36 H10, the lead's second rule (`intact_features_rule2_s36.md`): the TCGA slide at mpp 0.5, necrosis only,
HEAD's tree against the candidate's, fresh processes: exactness of every metric and map, the CPU / maxrss series
H, C, C, H, H, C, then an A/A series H, H', H', H (H' a second copy of HEAD's tree).

    python intact_features_rule2_s36.py HEAD_TREE HEAD_TREE_COPY CAND_TREE OUT_DIR
"""

import json
import pickle
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

PY = "/work/main/.venv/bin/python"
SLIDE = "/work/shared/data/wsi/tcga-cr-7395-01a-01-ts1.svs"
CODE = f"""
import sys, time, resource, pickle
import numpy as np
from mmnst_path.pipeline import AnalysisConfig, analyze_slide
c = AnalysisConfig(stains='auto', measures=('necrosis',))
t = time.process_time()
r = analyze_slide({SLIDE!r}, c, mpp=0.5, workers=1)
cpu = time.process_time() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
pickle.dump({{'metrics': dict(r.metrics), 'maps': {{k: np.asarray(v.image) for k, v in r.maps.items()}}}},
            open(sys.argv[1], 'wb'))
print(cpu, rss)
"""


def one(tree: str, out: Path) -> tuple[float, int]:
    r = subprocess.run([PY, "-c", CODE, str(out)], capture_output=True, text=True, cwd="/tmp",
                       env={"PYTHONPATH": tree, "PATH": "/usr/bin:/bin"}, check=True)
    cpu, rss = r.stdout.split()[-2:]
    return float(cpu), int(rss)


def same(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float) and x != x and y != y:
        return True
    return x == y


def median(runs: list[tuple[str, float, int]], tag: str, j: int) -> float:
    return statistics.median(r[j] for r in runs if r[0] == tag)


def main() -> None:
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    trees = {"H": sys.argv[1], "H2": sys.argv[2], "C": sys.argv[3]}
    out = Path(sys.argv[4])
    runs = []
    for i, tag in enumerate(["H", "C", "C", "H", "H", "C"]):
        cpu, rss = one(trees[tag], out / f"{tag}_{i}.pkl")
        runs.append((tag, cpu, rss))
        print(tag, cpu, rss, flush=True)
    with open(out / "H_0.pkl", "rb") as fa, open(out / "C_1.pkl", "rb") as fb:
        a, b = pickle.load(fa), pickle.load(fb)
    diffs = [k for k in a["metrics"] if not same(a["metrics"][k], b["metrics"].get(k))]
    exact = (a["metrics"].keys() == b["metrics"].keys() and not diffs and a["maps"].keys() == b["maps"].keys()
             and all(np.array_equal(a["maps"][k], b["maps"][k], equal_nan=True) for k in a["maps"]))
    res = {"gate1_exact": exact, "metric_diffs": diffs, "maps": sorted(a["maps"]), "runs": runs,
           "ratio": median(runs, "C", 1) / median(runs, "H", 1),
           "rss_med": {"H": median(runs, "H", 2), "C": median(runs, "C", 2)}}
    print("gate1 exact", exact, diffs, "gate2 ratio", res["ratio"], flush=True)
    aa = []
    for i, tag in enumerate(["H", "H2", "H2", "H"]):
        cpu, rss = one(trees[tag], out / f"aa_{tag}_{i}.pkl")
        aa.append((tag, cpu, rss))
    res["aa_runs"], res["aa_ratio"] = aa, median(aa, "H2", 1) / median(aa, "H", 1)
    print("A/A", res["aa_ratio"], flush=True)
    (out / "result.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
