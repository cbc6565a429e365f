"""Session 41 H1 (#13) dev check: how a tissue model reads the keratinising squamous carcinoma of the new generator.

For dev seeds of :func:`mmnst_path._synthetic_keratinising.he_keratinising_tile` (never the training seeds 6000-6063,
never a gate's), each tile classified by a model file: the share of each truth class (tumour split into basal /
maturing / mature by the distance from the nest's edge, keratin, necrosis) read necrosis, by blocks' pixels.

    python keratinising_dev_s41.py MODEL.mmnst FIRST_SEED N_SEEDS
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from scipy import ndimage as ndi


def main() -> None:
    from mmnst_path._synthetic_keratinising import he_keratinising_tile

    from mmnst_path.classify import load_model
    from mmnst_path.classify.tissue import classify_tissue

    model = load_model(sys.argv[1])
    first, n = int(sys.argv[2]), int(sys.argv[3])
    nec = model.class_names.index("necrosis")
    acc: dict[str, list[float]] = {}
    for seed in range(first, first + n):
        mpp = 1.0 if seed % 2 else 0.5
        tt = he_keratinising_tile(seed, size=384 if mpp == 1.0 else 640, mpp=mpp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tmap = classify_tissue(tt.rgb, mpp=mpp, model=model)
        f = tmap.factor
        up = np.kron(tmap.labels, np.ones((f, f), tmap.labels.dtype))[: tt.rgb.shape[0], : tt.rgb.shape[1]]
        read_nec = up == nec
        depth = ndi.distance_transform_edt(tt.masks["tumour"] | tt.masks["keratin"] | tt.masks["necrosis"]) * mpp
        tum = tt.masks["tumour"]
        parts = {"basal <10um": tum & (depth < 10), "maturing 10-30um": tum & (depth >= 10) & (depth < 30),
                 "mature >=30um": tum & (depth >= 30), "keratin": tt.masks["keratin"],
                 "septa": tt.masks["stroma"] & ~tt.masks["keratin"], "necrosis": tt.masks["necrosis"]}
        line = []
        for k, m in parts.items():
            if m.sum() >= 200:
                v = 100.0 * float(read_nec[m].mean())
                acc.setdefault(k, []).append(v)
                line.append(f"{k} {v:.1f}")
        print(f"seed {seed} @{mpp}: " + ", ".join(line), flush=True)
    for k, v in acc.items():
        print(f"MEAN read necrosis % of {k}: {np.mean(v)!r} ({len(v)} tiles)")


if __name__ == "__main__":
    main()
