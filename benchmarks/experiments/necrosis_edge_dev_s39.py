"""Session 39 H3 (#13), after the rule stopped at its step 1: the generated families through ``quantify`` on dev
seeds (not the rule's 3030-3037), HEAD vs the candidate, for the lead's reading (no gate).

    SCRATCH=/tmp/s39_h3 python necrosis_edge_dev_s39.py SEED0 SEED1     (seeds SEED0 .. SEED1 - 1)

Writes the tiles (``necrosis_edge_rule_s39.write_syn``) to SCRATCH/dev_tiles, runs ``quantify`` in both trees and
prints the figures the rule's step 2 would compute on them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import necrosis_edge_rule_s39 as rule


def main() -> None:
    rule.SEEDS = tuple(range(int(sys.argv[1]), int(sys.argv[2])))
    rule.OUT = rule.SCRATCH / "dev"
    rule.OUT.mkdir(parents=True, exist_ok=True)
    folder = rule.SCRATCH / "dev_tiles"
    if not (folder / "truth.json").exists():
        rule._run(rule.HEAD_TREE, [str(Path(__file__).resolve()), "write", str(folder), *sys.argv[1:3]],
                  rule.OUT / "write.log")
    truth = json.loads((folder / "truth.json").read_text())
    res = {tag: rule._quantify(tree, folder, f"{tag}_dev") for tag, tree in (("head", rule.HEAD_TREE), ("cand", rule.WT))}
    for tag in ("head", "cand"):
        errs: dict = {}
        false: dict = {}
        for fname, t in truth.items():
            v = rule._nec(res[tag][fname])
            if t["family"].endswith("_none"):
                false.setdefault(t["family"], []).append(v)
            elif t["necrotic"]:
                errs.setdefault(t["family"], []).append(abs(v - t["truth_pct"]))
        per = {k: float(np.mean(v)) for k, v in errs.items()}
        fper = {k: float(np.mean(v)) for k, v in false.items()}
        print(tag, "mean |err|", float(np.mean(list(per.values()))), per)
        print(tag, "false", float(np.mean(list(fper.values()))), fper)
    for fname in truth:
        print(fname, truth[fname]["truth_pct"], rule._nec(res["head"][fname]), rule._nec(res["cand"][fname]))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "write":
        rule.SEEDS = tuple(range(int(sys.argv[3]), int(sys.argv[4])))
        rule.write_syn(Path(sys.argv[2]))
    else:
        main()
