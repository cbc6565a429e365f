"""Session 43 H13: CPU seconds of the named-stains check's finer look (the tissue patches ``auto`` reads and the guess
on them), taken when named IHC stains meet a thumbnail that is a close call; CMU-1-Small-Region.svs, 3 times.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/named_close_call_cost_s43.py
"""

from __future__ import annotations

import time

from mmnst_path.io import open_slide
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.stain.guess import guess_stains_detail
from mmnst_path.stain.places import PATCH_MPP, tissue_patches
from mmnst_path.tiling import detect_tissue


def main() -> None:
    config = AnalysisConfig()
    reader = open_slide("../shared/data/wsi/CMU-1-Small-Region.svs")
    tissue = detect_tissue(reader, mask_mpp=config.tissue_mpp, params=config.tissue)
    for _ in range(3):
        t0 = time.process_time()
        guess_stains_detail(tissue.thumbnail, tissue.mask, mpp=tissue.mask_mpp)
        t1 = time.process_time()
        patches = tissue_patches(reader, tissue.mask, tissue.scale, float(reader.mpp))
        fine = guess_stains_detail(tissue.thumbnail, tissue.mask, mpp=tissue.mask_mpp, patches=patches,
                                   patches_mpp=max(PATCH_MPP, float(reader.mpp)))
        t2 = time.process_time()
        print(f"thumbnail guess {t1 - t0:.4f} s; patch look (taken on a close call) {t2 - t1:.4f} s; mask_mpp "
              f"{tissue.mask_mpp}; {fine.name} {fine.ambiguous}")


if __name__ == "__main__":
    main()
