"""Session 36 H10 (#13 / #16): gates 2 and 3 of /work/notes/s36/h10_report.md (speed and peak memory).

CMU-1-Small-Region, necrosis only (the s30 / ``tissue_rule_s35.run_speed`` code: ``stains='auto'``, the default tissue
model, ``workers=1``), CPU seconds (``time.process_time``) and ``ru_maxrss`` (KiB) of a fresh process per run:
4 + 4 runs interleaved HEAD, CAND, CAND, HEAD, HEAD, CAND, CAND, HEAD; then the A/A control, the same with HEAD's tree
in both places. Ratios are of medians.

    python intact_features_speed_s36.py HEAD_TREE CAND_TREE OUT.json
"""

import json
import statistics
import subprocess
import sys

PY = "/work/main/.venv/bin/python"
CODE = ("import sys,time,resource;from mmnst_path.pipeline import AnalysisConfig, analyze_slide;"
        "from mmnst_path.quantify.necrosis import NecrosisParams;"
        "c=AnalysisConfig(stains='auto',measures=('necrosis',),necrosis=NecrosisParams(tissue_model='default'));"
        "t=time.process_time();analyze_slide('/work/shared/data/wsi/CMU-1-Small-Region.svs',c,workers=1);"
        "print(time.process_time()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")


def one(tree: str) -> tuple[float, int]:
    r = subprocess.run(["nice", "-n", "10", PY, "-c", CODE], capture_output=True, text=True, cwd="/tmp",
                       env={"PYTHONPATH": tree, "PATH": "/usr/bin:/bin"}, check=True)
    cpu, rss = r.stdout.split()[-2:]
    return float(cpu), int(rss)


def series(a: str, b: str) -> dict:
    runs = [(tag, *one(a if tag == "A" else b)) for tag in ["A", "B", "B", "A"] * 2]
    med = {t: (statistics.median(r[1] for r in runs if r[0] == t), statistics.median(r[2] for r in runs if r[0] == t))
           for t in ("A", "B")}
    return {"runs": runs, "median_cpu_s": {t: m[0] for t, m in med.items()},
            "median_maxrss_kib": {t: m[1] for t, m in med.items()}, "cpu_ratio_B_over_A": med["B"][0] / med["A"][0]}


def main() -> None:
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    head, cand, out = sys.argv[1:]
    res = {"head_vs_cand": series(head, cand)}
    print(json.dumps(res["head_vs_cand"]), flush=True)
    res["aa_head_vs_head"] = series(head, head)
    print(json.dumps(res["aa_head_vs_head"]), flush=True)
    hc, aa = res["head_vs_cand"], res["aa_head_vs_head"]
    gates = {"speed CAND/HEAD <= 0.88": hc["cpu_ratio_B_over_A"] <= 0.88,
             "A/A within 0.97-1.03": 0.97 <= aa["cpu_ratio_B_over_A"] <= 1.03,
             "maxrss CAND median <= HEAD median": hc["median_maxrss_kib"]["B"] <= hc["median_maxrss_kib"]["A"]}
    res["gates"] = gates
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    for k, v in gates.items():
        print(("PASS " if v else "FAIL ") + k)


if __name__ == "__main__":
    main()
