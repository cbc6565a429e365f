"""Session 37 H11, after gate 1 failed: are the positivity-blind cues blind on the real Ki67 tiles?

A proxy of the pipeline's cells (the H-DAB separation and the nucleus detector at 0.5 µm/px on the raw tiles,
rotation 0), with the four blind columns at 80 µm (``_local_cues(..., positive_od=0.35)``): per set, the AUC of each
column DAB+ vs DAB- (mean chromogen >= 0.35 OD) and, within the negatives, the Spearman correlation of the mean
chromogen with each column.

Usage (from the repository root)::

    PYTHONPATH=. python benchmarks/experiments/blind_cues_mech_s37.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import accuracy  # noqa: E402
import local_cues_keep_dev_s37 as h1  # noqa: E402

from mmnst_path.classify.nucleus_features import _local_cues  # noqa: E402
from mmnst_path.detect.nuclei import nuclei_from_stains  # noqa: E402
from mmnst_path.stain import get_preset, separate_stains  # noqa: E402

RADIUS_UM = 80.0
POSITIVE_OD = 0.35


def main() -> None:
    from scipy.stats import spearmanr

    print("| set | cells | DAB+ | AUC DAB+ v DAB- (dark_rel / rank_h_mean / rank_h_cv / rank_edge_grad) | "
          "Spearman chromogen v column within DAB- |")
    print("|---|---:|---:|---|---|")
    for name in ("bcdata", "shidc", "deepliif"):
        cols, chrom_mean = [], []
        for item in accuracy.load_dataset(Path("/work/shared/data/ki67") / name):
            conc = separate_stains(item.rgb, get_preset("H-DAB"), stains=("hematoxylin", "dab"))
            hem = np.maximum(conc[..., 0], 0).astype(np.float32)
            dab = np.maximum(conc[..., 1], 0).astype(np.float32)
            nuc = nuclei_from_stains(hem, dab, mpp=0.5, return_labels=True)
            n = len(nuc)
            if n == 0:
                continue
            cols.append(_local_cues(nuc.labels, hem, np.c_[nuc.row, nuc.col] * 0.5, n, RADIUS_UM, chromogen=dab,
                                    positive_od=POSITIVE_OD))
            lab = nuc.labels.ravel()
            chrom_mean.append(np.bincount(lab, dab.ravel(), minlength=n + 1)[1:]
                              / np.maximum(np.bincount(lab, minlength=n + 1)[1:], 1))
        x, c = np.concatenate(cols), np.concatenate(chrom_mean)
        pos = c >= POSITIVE_OD
        aucs = " / ".join(f"{h1.auc(x[pos, k], x[~pos, k]):.4f}" for k in range(4))
        rho = " / ".join(f"{spearmanr(c[~pos], x[~pos, k])[0]:.4f}" for k in range(4))
        print(f"| {name} | {len(c)} | {int(pos.sum())} | {aucs} | {rho} |")


if __name__ == "__main__":
    main()
