"""Session 35 H3 (#13): session 33's tissue rule (`tissue_rule_s33.py`) with the lead's session-35 changes, for a candidate
that is a tree (changed defaults) or a model file, against HEAD's tree in the same run.

Changes to session 33's chain, fixed by the lead (2026-12-07 00:27 UTC) before any run:
- `heldout`: the candidate's renderer false necrosis mean <= HEAD's own figure from the same run (was <= 28.5);
- `syn`: the candidate's generated mean |err| <= HEAD's own figure from the same run (was <= 7.39);
- `sample` (lead's amendment, 2026-12-07 00:40:09 UTC, before any gate of the first candidate): he_necrosis
  |cand - 37.09| <= |HEAD - 37.09| + 0.30 (was in [28.3, 45.9], which HEAD fails); melanin and Ki67 x3 within 0.3 as before;
- a final gate `goal`: at least one of BRCA-M2C test mean <= HEAD - 2.0 pp, renderer <= HEAD - 3.0, generated mean |err|
  <= HEAD - 1.0, sample he_necrosis |err| (truth 37.09) <= HEAD's - 3.0.
HEAD's figures come from HEAD_TREE (a `git archive` of the session start), run with its own copy of the rule scripts;
the candidate's from this tree. Both write SCRATCH/rule/{head,cand}_STEP.json; the s30 / s33 gates read them.

    SCRATCH=DIR HEAD_TREE=DIR python tissue_rule_s35.py chain MODEL [STEP ...]   the steps (default all) in order,
                                                                                  stop at the first failure
    SCRATCH=DIR python tissue_rule_s35.py gate STEP                               STEP's gates on the JSONs written
SCRATCH defaults to /tmp/s35_h3, HEAD_TREE to SCRATCH/head. MODEL: 'default' (the tree's shipped model) or a file.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WT = HERE.parents[1]
SCRATCH = os.environ.get("SCRATCH", "/tmp/s35_h3")
HEAD_TREE = Path(os.environ.get("HEAD_TREE", f"{SCRATCH}/head"))
OUT = Path(SCRATCH) / "rule"
STEPS = ("sample", "slides", "real", "20x", "kather", "brca", "heldout", "syn", "speed", "cmu05", "goal")
PY = sys.executable
SAMPLE_TRUTH = 37.09
#: the steps whose gates this file judges (the others: session 30 / 33's gate text)
OWN_GATES = ("sample", "heldout", "syn", "goal")


def run(tree: Path, step: str, tag: str, model: str) -> int:
    """One step of the session 33 rule, run from ``tree``'s own scripts and package."""
    env = {**os.environ, "PYTHONPATH": str(tree), "SCRATCH": SCRATCH}
    script = tree / "benchmarks" / "experiments" / "tissue_rule_s33.py"
    return subprocess.run([PY, str(script), "run", step, tag, model], cwd=tree, env=env).returncode


def run_speed(model: str) -> bool:
    """Session 30's speed step with HEAD timed from HEAD_TREE and the candidate from this tree (the s30 step times
    'default' and MODEL in one tree, which for a candidate tree would time the candidate twice): CMU-1, necrosis
    only, CPU s, 4 + 4 runs interleaved head, cand, cand, head; written as cand_speed.json for the s30 gate."""
    code = ("import sys,time,resource;from mmnst_path.pipeline import AnalysisConfig, analyze_slide;"
            "from mmnst_path.quantify.necrosis import NecrosisParams;"
            "c=AnalysisConfig(stains='auto',measures=('necrosis',),necrosis=NecrosisParams(tissue_model=sys.argv[1]));"
            "t=time.process_time();analyze_slide('/work/shared/data/wsi/CMU-1-Small-Region.svs',c,workers=1);"
            "print(time.process_time()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")

    def one(tree: Path, m: str) -> list[float]:
        r = subprocess.run(["nice", "-n", "10", PY, "-c", code, m], capture_output=True, text=True, cwd="/tmp",
                           env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
        return [float(x) for x in r.stdout.split()[-2:]]

    runs = [(tag, *one(HEAD_TREE if tag == "head" else WT, "default" if tag == "head" else model))
            for tag in ["head", "cand", "cand", "head"] * 2]
    (OUT / "cand_speed.json").write_text(json.dumps({"runs": runs}, indent=1))
    return True


def load(tag: str, step: str) -> dict:
    return json.loads((OUT / f"{tag}_{step}.json").read_text())


def mean_heldout(tag: str) -> float:
    return float(np.mean(list(load(tag, "heldout").values())))


def mean_syn(tag: str) -> float:
    return float(np.mean([g["mean_abs"] for g in load(tag, "syn").values()]))


def sample_err(tag: str) -> float:
    return abs(load(tag, "sample")["he_necrosis"]["necrosis_fraction_pct"] - SAMPLE_TRUTH)


def gate_s35(step: str) -> bool:
    """The gates this session changed or added (``sample``, ``heldout``, ``syn``, ``goal``)."""
    if step == "sample":
        c, h = load("cand", step), load("head", step)
        checks = [("sample he_necrosis |necrosis % - 37.09| (cand "
                   f"{c['he_necrosis']['necrosis_fraction_pct']!r}, head {h['he_necrosis']['necrosis_fraction_pct']!r})",
                   sample_err("cand"), sample_err("head") + 0.30)]
        for stem, key in (("he_melanin", "melanin_fraction_pct"), ("ki67_pigmented", "ki67_index_pct"),
                          ("ki67_primary", "ki67_index_pct"), ("ki67_recurrence", "ki67_index_pct")):
            checks.append((f"{stem} {key} |cand - head| (cand {c[stem][key]!r}, head {h[stem][key]!r})",
                           abs(c[stem][key] - h[stem][key]), 0.3))
    elif step == "heldout":
        checks = [("held-out renderer false necrosis mean, seeds 0-9", mean_heldout("cand"), mean_heldout("head"))]
    elif step == "syn":
        checks = [("generated mean |err| (" + " / ".join(f"{g['mean_abs']!r}" for g in load("cand", "syn").values())
                   + ")", mean_syn("cand"), mean_syn("head"))]
    else:
        c, h = load("cand", "brca")["brca_mean"], load("head", "brca")["brca_mean"]
        checks = [("BRCA-M2C test mean", c, h - 2.0), ("renderer mean", mean_heldout("cand"), mean_heldout("head") - 3.0),
                  ("generated mean |err|", mean_syn("cand"), mean_syn("head") - 1.0),
                  ("sample he_necrosis |err|", sample_err("cand"), sample_err("head") - 3.0)]
    ok = [fig <= lim for _, fig, lim in checks]
    for (name, fig, lim), good in zip(checks, ok, strict=True):
        print(f"GATE {step}: {name}: {fig!r} (<= {lim!r}) {'pass' if good else 'FAIL' if step != 'goal' else '-'}")
    passed = any(ok) if step == "goal" else all(ok)
    if step == "goal":
        print(f"GATE goal: at least one of the four: {'pass' if passed else 'FAIL'}")
    return passed


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in ("chain", "gate"):
        raise SystemExit(__doc__)
    if sys.argv[1] == "gate":
        step = sys.argv[2]
        env = {**os.environ, "PYTHONPATH": str(WT), "SCRATCH": SCRATCH}
        ok = gate_s35(step) if step in OWN_GATES else subprocess.run(
            [PY, str(HERE / "tissue_rule_s33.py"), "gate", step], cwd=WT, env=env).returncode == 0
        sys.exit(0 if ok else 1)
    model, steps = sys.argv[2], sys.argv[3:] or list(STEPS)
    OUT.mkdir(parents=True, exist_ok=True)
    gate33 = [PY, str(HERE / "tissue_rule_s33.py"), "gate"]
    env = {**os.environ, "PYTHONPATH": str(WT), "SCRATCH": SCRATCH}
    for step in steps:
        print(time.strftime("%H:%M:%S", time.gmtime()), "start", step, flush=True)
        if step in ("heldout", "syn", "goal"):
            needs = {"heldout": ["heldout"], "syn": ["syn"], "goal": []}[step]
        else:
            needs = [step]
        for s in needs:
            if step == "speed":
                ok = run_speed(model)
            else:
                ok = run(HEAD_TREE, s, "head", "default") == 0 and run(WT, s, "cand", model) == 0
            if not ok:
                print(time.strftime("%H:%M:%S", time.gmtime()), f"STOP at {step} (run)", flush=True)
                sys.exit(1)
        good = gate_s35(step) if step in OWN_GATES else (
            subprocess.run([*gate33, step], cwd=WT, env=env).returncode == 0)
        if not good:
            print(time.strftime("%H:%M:%S", time.gmtime()), f"STOP at {step} (gate)", flush=True)
            sys.exit(1)
    print(time.strftime("%H:%M:%S", time.gmtime()), "all gates passed", flush=True)


if __name__ == "__main__":
    main()
