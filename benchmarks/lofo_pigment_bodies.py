"""Leave-one-family-out of the H-DAB brown-body model (issue #14).

For each pigment family X of :func:`mmnst_path.synthetic.pigment_family_tile`: train the body model
the way ``scripts/train_pigment_model.py --bodies`` does, but on generated seeds 1000.. without
family X (plus every EndoNuke body), and measure the melanin Dice of ``classify_pigment`` on
held-out DAB tiles of X, beside the share rule and the same training with X. Does the gain carry
to a morphology the model has not seen?

    .venv/bin/python benchmarks/lofo_pigment_bodies.py [--seeds 4] [--test-seeds 3] [--trees 30]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import train_pigment_model as T

from mmnst_path.classify.pigment import (
    BODY_CLASSES,
    OBJECT_FEATURES,
    body_feature_specs,
    classify_pigment,
    resolve_pigment_model,
)
from mmnst_path.classify.train import train_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.synthetic import PIGMENT_FAMILIES, pigment_family_tile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=4, help="generated training seeds 1000..")
    ap.add_argument("--test-seeds", type=int, default=3, help="held-out test seeds 0..")
    ap.add_argument("--trees", type=int, default=30)
    ap.add_argument("--train", type=Path, default=Path("/work/shared/train"))
    args = ap.parse_args()
    params = PigmentParams()
    pixel_model = resolve_pigment_model("dab")
    assert pixel_model is not None
    rows = {f: T.body_rows(range(1000, 1000 + args.seeds), pixel_model, params, 384, families=(f,))
            for f in PIGMENT_FAMILIES}
    real, _ = T.real_body_rows(args.train, pixel_model, params)
    out = Path(tempfile.mkdtemp(prefix="lofo_bodies_"))

    def fit(skip: str) -> str:
        x = np.concatenate([rows[f][0] for f in PIGMENT_FAMILIES if f != skip] + [real])
        y = np.concatenate([rows[f][1] for f in PIGMENT_FAMILIES if f != skip] + [np.zeros(len(real), np.int64)])
        mel = x[y == 1]
        ranges = {n: [float(v) for v in np.percentile(mel[:, OBJECT_FEATURES.index(n)], [1, 99])]
                  for n in T.GUARDED}
        model = train_model(x, y, kind="tissue", classes=BODY_CLASSES, features=body_feature_specs(),
                            settings={"target": "pigment_bodies", "pixel_model_id": pixel_model.model_id,
                                      "ranges": ranges}, card={}, n_estimators=args.trees, max_depth=12,
                            min_samples_leaf=3)
        return str(model.save(out / f"without_{skip}.mmnst"))

    def dice(a: np.ndarray, b: np.ndarray) -> float:
        s = int(a.sum()) + int(b.sum())
        return 2.0 * int((a & b).sum()) / s if s else math.nan

    full = fit("")
    print("| held-out family | Dice share rule | Dice trained on all | Dice trained without it |")
    print("|---|---|---|---|")
    for fam in PIGMENT_FAMILIES[1:]:
        without = fit(fam)
        d: dict[str, list[float]] = {"none": [], "full": [], "lofo": []}
        for seed in range(args.test_seeds):
            tile = pigment_family_tile(seed, fam, chromogen="dab")
            for key, body in (("none", "none"), ("full", full), ("lofo", without)):
                mask, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=pixel_model, stains="H-DAB",
                                           params=PigmentParams(body_model=body))
                d[key].append(dice(mask & tile.masks["tissue"], tile.masks["melanin"]))
        print(f"| {fam} | {np.mean(d['none']):.2f} | {np.mean(d['full']):.2f} | {np.mean(d['lofo']):.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
