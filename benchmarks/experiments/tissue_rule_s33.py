"""Session 33 H3 (#13): session 30 H2's tissue rule (`tissue_rule_s30.py`) with the lead's one change and one gate added.

The session 30 text runs unchanged (its worktree and scratch paths replaced, as `tissue_run_s31.py` does), except:
- the TCGA 1 µm/px necrosis gate is judged against the issue's goal: <= 4.0 % (was <= 2.5, HEAD + 0.6);
- a last step `cmu05`: CMU-1 read with level-0 pixel size 0.5 µm/px (`analyze_slide(mpp=0.5)`), necrosis % <= 1,
  tumour % reported (dermis is not tumour).

    python tissue_rule_s33.py run STEP TAG MODEL     figures of STEP for MODEL ('default' = the shipped model)
                                                     -> SCRATCH/rule/TAG_STEP.json
    python tissue_rule_s33.py gate STEP              STEP's gates on rule/cand_STEP.json (and head_STEP.json); exit 1 on failure
    python tissue_rule_s33.py chain MODEL [STEP ...] every step (default all, in order) for MODEL as 'cand', one process
                                                     a step, gates after each, stop at the first failure
SCRATCH defaults to /tmp/s33_h3. Figures are unrounded (JSON floats; gates print repr).
"""

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WT = HERE.parents[1]
SCRATCH = os.environ.get("SCRATCH", "/tmp/s33_h3")
STEPS = ("sample", "slides", "real", "20x", "kather", "brca", "heldout", "syn", "speed", "cmu05")
#: the lead's change (session 33, fixed before any run): TCGA necrosis against the issue's goal
OLD_TCGA = '"<= 2.5", t["necrosis_fraction_pct"] <= 2.5'
NEW_TCGA = '"<= 4.0", t["necrosis_fraction_pct"] <= 4.0'
CMU1 = "CMU-1-Small-Region.svs"


def rule_s30_text() -> str:
    """Session 30's rule source with this worktree, SCRATCH and the TCGA limit 4.0 in place of its own."""
    text = (HERE / "tissue_rule_s30.py").read_text()
    if text.count(OLD_TCGA) != 1:
        raise SystemExit(f"tissue_rule_s30.py: expected its TCGA gate {OLD_TCGA!r} once")
    return text.replace(OLD_TCGA, NEW_TCGA).replace("/work/wt_h2", str(WT)).replace("/tmp/s30_h2", SCRATCH)


def rule_s30() -> dict[str, Any]:
    """The session 30 rule's functions (its command-line part does not run: ``__name__`` is not ``__main__``)."""
    ns: dict[str, Any] = {"__name__": "tissue_rule_s30", "__file__": str(HERE / "tissue_rule_s30.py")}
    exec(compile(rule_s30_text(), ns["__file__"], "exec"), ns)
    return ns


def run_cmu05(ns: dict[str, Any], model: str) -> dict[str, float]:
    """CMU-1 with level-0 pixel size 0.5 µm/px: the slide's numeric metrics (necrosis and tumour % of tissue)."""
    from mmnst_path.pipeline import AnalysisConfig, analyze_slide

    cfg = AnalysisConfig(stains="auto", measures=("necrosis",), necrosis=ns["params"](model))
    r = analyze_slide(Path("/work/shared/data/wsi") / CMU1, cfg, mpp=0.5, workers=1)
    return {k: v for k, v in r.metrics.items() if isinstance(v, (int, float))}


def gate_cmu05(out: Path) -> bool:
    c = json.loads((out / "cand_cmu05.json").read_text())
    nec, tum = c["necrosis_fraction_pct"], c["tumour_fraction_pct"]
    ok = nec <= 1
    print(f"GATE cmu05: CMU-1 at 0.5 um/px necrosis %: {nec!r} (<= 1) {'pass' if ok else 'FAIL'}")
    print(f"REPORT cmu05: CMU-1 at 0.5 um/px tumour %: {tum!r} (dermis is not tumour; no limit)")
    return ok


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in ("run", "gate", "chain"):
        raise SystemExit(__doc__)
    ns = rule_s30()
    out = Path(ns["OUT"])
    if sys.argv[1] == "run":
        step, tag, model = sys.argv[2:5]
        ns["TAG"] = tag
        t0 = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = run_cmu05(ns, model) if step == "cmu05" else ns["run_" + step](model)
        (out / f"{tag}_{step}.json").write_text(json.dumps(res, indent=1, default=float))
        print(f"{step} {tag} done in {time.time() - t0:.0f} s")
    elif sys.argv[1] == "gate":
        step = sys.argv[2]
        sys.exit(0 if (gate_cmu05(out) if step == "cmu05" else ns["gate"](step)) else 1)
    else:
        model, steps = sys.argv[2], sys.argv[3:] or list(STEPS)
        for step in steps:
            print(time.strftime("%H:%M:%S", time.gmtime()), "start", step, flush=True)
            for cmd in ("run", "gate"):
                args = [sys.executable, __file__, cmd, step] + (["cand", model] if cmd == "run" else [])
                if subprocess.run(args, cwd=WT).returncode != 0:
                    print(time.strftime("%H:%M:%S", time.gmtime()), f"STOP at {step} ({cmd})", flush=True)
                    sys.exit(1)
        print(time.strftime("%H:%M:%S", time.gmtime()), "all gates passed", flush=True)


if __name__ == "__main__":
    main()
