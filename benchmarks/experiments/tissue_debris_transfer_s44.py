"""Session 44 H3 (#13): do the real training / validation sources carry the contrast the dev screen found on the
held-out renderer? Medians of the screened columns per real source and label (osteosarcoma tiles, Kather tiles),
beside the held-out dev blocks' true necrosis and misread mimics (from the screen's cache).

    PYTHONPATH=.:benchmarks/experiments python benchmarks/experiments/tissue_debris_transfer_s44.py /tmp/s44_h3/dev.npz
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from _training_data import read_rgb
from tissue_debris_screen_s44 import COMMON, MIMIC_CLASSES, candidate_columns

PICK = ("deb_dot_s6", "deb_dot_s18", "h_ridge_share_s18", "eridge_share_s18", "ecoh_i18")
SHARED = Path("/work/shared")


def main(cache: Path) -> None:
    z = np.load(cache, allow_pickle=False)
    names = list(z["cand_names"])
    idx = [names.index(n) for n in PICK]
    tag, truth = z["tag"].astype(str), z["truth"]
    pred = z["proba"].argmax(1)
    nec = list(z["class_names"]).index("necrosis")
    cls = truth.argmax(1)
    pure = truth.max(1) >= 0.9
    held = np.char.startswith(tag, "held")
    print(f"{'source':58s} " + " ".join(f"{n:>18s}" for n in PICK))

    def line(label: str, v: np.ndarray) -> None:
        print(f"{label:58s} " + " ".join(f"{x:18.4f}" for x in np.median(v, 0)) + f"  (n {len(v)})", flush=True)

    line("held dev: true necrosis", z["cand"][held & pure & (cls == COMMON.index("necrosis"))][:, idx])
    for mc in MIMIC_CLASSES:
        line(f"held dev: {mc} read necrosis by 1.1.0", z["cand"][held & pure & (cls == COMMON.index(mc)) & (pred == nec)][:, idx])
    rows = []
    for p in sorted((SHARED / "data" / "necrosis").glob("*.jpg")):
        rows.append((f"osteo {p.name.split('___')[0]} {p.name.split('___')[1][:18]}", p, 1.0))
    for p in sorted((SHARED / "train" / "kather_nct_crc_he").glob("*/*.tif")):
        rows.append((f"kather NCT {p.parent.name}", p, 0.5))
    for folder in ("02_STROMA", "05_DEBRIS", "01_TUMOR"):
        for p in sorted((SHARED / "train" / "kather_texture_2016" / folder).glob("*.tif"))[:3]:
            rows.append((f"kather2016 {folder} {p.name[:12]}", p, 0.331))
    for label, p, mpp in rows:
        rgb = read_rgb(p)
        c, _ = candidate_columns(rgb, mpp)
        v = np.stack([c[n] for n in PICK], -1)
        line(label, v)



def generated(seeds: tuple[int, ...] = (400, 401, 402, 403, 404, 405)) -> None:
    """The same medians on the trained generator's tiles (he_tissue_tile, training seeds), per true class."""
    from tissue_debris_screen_s44 import SETTINGS

    from mmnst_path.classify.tissue_features import block_mean, grid_factors
    from mmnst_path.synthetic_tissue import he_tissue_tile

    acc: dict[str, list[np.ndarray]] = {}
    for seed in seeds:
        mpp = 1.0 if seed % 2 else 0.5
        t = he_tissue_tile(seed, size=384 if mpp == 1.0 else 640, mpp=mpp)
        c, shape = candidate_columns(t.rgb, mpp)
        v = np.stack([c[n] for n in PICK], -1)
        f, k, j = grid_factors(mpp, SETTINGS)
        for name in ("tumour", "stroma", "inflammatory", "necrosis"):
            m = t.masks[name].astype(np.float32)
            big = f * k * j
            pad = ((0, -(-m.shape[0] // big) * big - m.shape[0]), (0, -(-m.shape[1] // big) * big - m.shape[1]))
            share = block_mean(np.pad(m, pad), big)[: shape[0], : shape[1]].reshape(-1)
            acc.setdefault(name, []).append(v[share >= 0.9])
    for name, vs in acc.items():
        v = np.concatenate(vs)
        if len(v):
            print(f"{'he_tissue_tile ' + name:58s} " + " ".join(f"{x:18.4f}" for x in np.median(v, 0)) + f"  (n {len(v)})")


if __name__ == "__main__":
    if sys.argv[1] == "generated":
        generated()
    else:
        main(Path(sys.argv[1]))
