"""Session 41 H12: the auto stain guess on H5's Ki67 / MART-1 slide (seed 6106, 2048², 0.5 µm/px) as
``pipeline/_slide.py`` calls it (tissue thumbnail, fine patches when the thumbnail is coarse), plus
fresh double-stain draws of a dev seed. Run from a tree root with ``PYTHONPATH=.``.

    PYTHONPATH=. .venv/bin/python benchmarks/experiments/double_stain_he_probe_s41.py 6106
"""

import sys
import warnings

from mmnst_path.io import ArrayReader
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.pipeline import _slide as S
from mmnst_path.synthetic_double import double_stain_tile
from mmnst_path.tiling import detect_tissue


def slide_guess(arr, mpp, reader=None):
    cfg = AnalysisConfig()
    reader = ArrayReader(arr, mpp=mpp) if reader is None else reader
    tissue = detect_tissue(reader, mask_mpp=cfg.tissue_mpp, params=cfg.tissue)
    patches = None
    if tissue.mask_mpp is not None and tissue.mask_mpp > S.PLACES_MAX_MPP:
        patches = S.tissue_patches(reader, tissue.mask, tissue.scale, mpp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return S.guess_stains_detail(tissue.thumbnail, tissue.mask, mpp=tissue.mask_mpp, patches=patches,
                                     patches_mpp=max(S.PATCH_MPP, mpp))


for seed in (int(s) for s in sys.argv[1:]):
    for size in (2048, 1024):
        t = double_stain_tile(seed, marker="cytoplasmic", chromogen="fast_red", size=size)
        g = slide_guess(t.rgb, t.mpp)
        p = g.places
        print(seed, size, g.name, "amb" if g.ambiguous else "-", g.alternative, f"p_he {g.he_probability:.3f}",
              "" if p is None else f"brown {p.brown_bodies_mm2:.0f} red {p.red_bodies_mm2:.0f} ring {p.red_ring_share:.3f} "
              f"dab {p.dab_bodies_mm2:.0f}", "|", g.reason, flush=True)

if not sys.argv[1:]:  # the README's pigmented H&E sample, as the pipeline reads it
    from pathlib import Path

    from mmnst_path.io import open_slide

    r = open_slide(Path(__file__).resolve().parents[2] / "sample_tiles" / "he_melanin.tif")
    g = slide_guess(None, r.mpp, reader=r)
    p = g.places
    print("he_melanin.tif", r.mpp, g.name, "amb" if g.ambiguous else "-", g.alternative,
          "" if p is None else f"brown {p.brown_bodies_mm2:.0f} red {p.red_bodies_mm2:.0f} ring {p.red_ring_share:.3f} "
          f"dab {p.dab_bodies_mm2:.0f}", "|", g.reason)
