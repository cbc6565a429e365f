"""Session 37 H4 (#13): out-of-fold pass rates of an intact-nucleus forest over a grid of thresholds (dev data only).

    ROWS=ROWS.npz python intact_stain_aug_curve_s37.py COLS FOREST_JSON TAG

ROWS (default /tmp/s37_h4/rows.npz): ``intact_stain_aug_s37.py rows``; the screen rows are /tmp/s37_h4/screen.npz.
COLS: ``all`` or a comma list of feature columns; FOREST_JSON: keys replacing the trainer's FOREST. Prints, for each
threshold (90 % recall on the BRCA-M2C rows, 90 % on BRCA-M2C + augmented copies, 95 % on BRCA-M2C, 1 % of the generated
ghosts passed, fixed probabilities), the share passed per source (4 digits); the scores go to
/tmp/s37_h4/x/scores_TAG.npz (the report's unrounded figures are read from them). Grouping and fold draw as the trainer.
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import train_intact_model as T


def main() -> None:
    d = dict(np.load(os.environ.get("ROWS", "/tmp/s37_h4/rows.npz")))
    s = dict(np.load("/tmp/s37_h4/screen.npz"))
    cols = None if len(sys.argv) < 2 or sys.argv[1] == "all" else [int(c) for c in sys.argv[1].split(",")]
    forest = dict(T.FOREST)
    if len(sys.argv) > 2:
        forest.update(json.loads(sys.argv[2]))
    x = d["x"] if cols is None else d["x"][:, cols]
    sx = s["x"] if cols is None else s["x"][:, cols]
    groups = np.unique(d["group"])
    perm = np.random.default_rng(0).permutation(len(groups))
    gf = {g: int(perm[i] % 5) for i, g in enumerate(groups)}
    fold = np.array([gf[g] for g in d["group"]])
    sf = np.array([gf[g] for g in s["group"]])
    sc, ss = np.zeros(len(x)), np.zeros(len(sx))
    for k in range(5):
        rf = RandomForestClassifier(**forest, random_state=0, n_jobs=1).fit(x[fold != k], d["y"][fold != k])
        sc[fold == k] = rf.predict_proba(x[fold == k])[:, 1]
        ss[sf == k] = rf.predict_proba(sx[sf == k])[:, 1]
    Path("/tmp/s37_h4/x").mkdir(parents=True, exist_ok=True)
    np.savez(f"/tmp/s37_h4/x/scores_{sys.argv[3] if len(sys.argv) > 3 else 'x'}.npz", sc=sc, ss=ss)
    src, ssrc = d["source"], s["source"]
    brca = src == "brca"
    grid = [("90% brca", np.quantile(sc[brca], 0.1)),
            ("90% brca+aug", np.quantile(sc[np.isin(src, ["brca", "brca_aug"])], 0.1)),
            ("95% brca", np.quantile(sc[brca], 0.05)), ("gen1%", np.quantile(sc[src == "gen"], 0.99))]
    grid += [(f"p{p}", p) for p in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9)]
    for name, thr in grid:
        r = {str(k): round(float((sc[src == k] >= thr).mean()), 4) for k in np.unique(src)}
        r.update({str(k): round(float((ss[ssrc == k] >= thr).mean()), 4) for k in np.unique(ssrc)})
        print(name, round(float(thr), 4), r, flush=True)


if __name__ == "__main__":
    main()
