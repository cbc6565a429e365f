"""Session 39 H8 (dev only): candidate H&E-vs-IHC models on the cached training rows and the dev sweep.

Reads the training rows of ``scripts/train_stain_model.py --train-only`` (22 features) and a dev sweep written
by ``eosin_hue_ab_s39.py sweep --json`` (seeds 3160..), fits each variant as the training script fits (C,
real rows weight 2) and prints, per variant: rows whose side of p = 0.5 differs from HEAD's model, per group (the
risk to the gates that ask every tile to stay), and the dev sweep's H&E named clearly (p >= 0.7) per angle.

    PYTHONPATH=. python benchmarks/experiments/eosin_hue_dev_s39.py ROWS.npz DEV_SWEEP.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "scripts"))

import train_stain_model as tsm  # noqa: E402

from mmnst_path.stain.he_model import FEATURES, read_model  # noqa: E402

HEAD_MODEL = Path("/tmp/s39_h8/head/mmnst_path/models/stains_he.json")


def main(rows_path: str, dev_path: str) -> int:
    with np.load(rows_path, allow_pickle=False) as z:
        rows = {k: z[k] for k in z.files}
    dev = [r for r in json.loads(Path(dev_path).read_text()) if r["x"] is not None]
    xd = np.array([r["x"] for r in dev])
    head = read_model(HEAD_MODEL, features=FEATURES[:18])
    ph_rows = head.probability(rows["x"][:, :18])
    ph_dev = head.probability(xd[:, :18])
    group = rows["group"].astype(str)
    hue = group == "generated H&E eosin hue"
    extra = np.char.endswith(group, " extra")
    real = rows["role"] == "train"
    w = np.where(real, tsm.REAL_WEIGHT, 1.0)
    variants = {
        "HEAD model": None,
        "22 features, hue rows": (slice(None), np.ones(len(group), bool)),
        "22 features, no hue rows": (slice(None), ~(hue | extra)),
        "18 features, hue rows": (slice(0, 18), np.ones(len(group), bool)),
    }
    degs = sorted({r["group"] for r in dev}, key=lambda g: (-float(g.split()[0]), g))
    for c in (0.03, 0.1, 0.3, 1.0):
        tsm.C = c
        for name, spec in variants.items():
            if spec is None and c != 0.03:
                continue
            if spec is None:
                p_rows, p_dev = ph_rows, ph_dev
            else:
                cols, keep = spec
                params = tsm.fit(rows["x"][keep][:, cols], rows["y"][keep], w[keep])
                p_rows, p_dev = tsm._p(params, rows["x"][:, cols]), tsm._p(params, xd[:, cols])
            wrong = {g: int(np.sum((p_rows[group == g] >= 0.5) != (rows["y"][group == g] == 1)))
                     for g in dict.fromkeys(group.tolist())}
            flips = {g: int(np.sum((p_rows[group == g] >= 0.5) != (ph_rows[group == g] >= 0.5)))
                     for g in dict.fromkeys(group.tolist())}
            sweep = []
            for g in degs:
                sel = np.array([r["group"] == g for r in dev])
                sweep.append(f"{g}: {int(np.sum(p_dev[sel] >= 0.7))}/{int(sel.sum())}")
            print(f"\n== {name} (C {c}) ==")
            print("wrong:", {k: v for k, v in wrong.items() if v})
            print("side changed vs HEAD:", {k: v for k, v in flips.items() if v})
            print("dev sweep p >= 0.7:", "; ".join(sweep),
                  f"| all {int(np.sum(p_dev >= 0.7))}/{len(dev)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
