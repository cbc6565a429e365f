"""Session 31 H4 (#13): run session 30 H2's dev harness, dev summary or rule unchanged, against this worktree.

The session 30 files hard-code their worktree (/work/wt_h2) and scratch folder (/tmp/s30_h2); this runs their text with
those two paths replaced by this worktree and SCRATCH (default /tmp/s31_h4), so the figures come from the same code.

    python benchmarks/experiments/tissue_run_s31.py dev OUT.json MODEL[=NAME] ...   (tissue_dev_s30.py)
    python benchmarks/experiments/tissue_run_s31.py devsum REF A.json ...           (tissue_devsum_s30.py)
    python benchmarks/experiments/tissue_run_s31.py rule run STEP TAG MODEL | rule gate STEP  (tissue_rule_s30.py;
                                                                                      figures in SCRATCH/rule/)
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = {"dev": "tissue_dev_s30.py", "devsum": "tissue_devsum_s30.py", "rule": "tissue_rule_s30.py"}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in SCRIPTS:
        raise SystemExit(f"usage: tissue_run_s31.py {{{'|'.join(SCRIPTS)}}} ARGS...")
    path = HERE / SCRIPTS[sys.argv[1]]
    scratch = os.environ.get("SCRATCH", "/tmp/s31_h4")
    text = path.read_text().replace("/work/wt_h2", str(HERE.parents[1])).replace("/tmp/s30_h2", scratch)
    sys.argv = [str(path), *sys.argv[2:]]
    exec(compile(text, str(path), "exec"), {"__name__": "__main__", "__file__": str(path)})


main()
