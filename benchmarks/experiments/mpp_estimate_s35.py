"""Session 35 H4: the pixel size (µm/px) estimated from the image's blob scale, before detection.

``dev``: the estimate on dev images (EndoNuke, BRCA-M2C, Kather NCT-CRC-HE and 2016 textures,
generated Ki67 tiles at 0.25 / 0.5 / 1 µm/px), each as is, downsampled 2x (true pixel size x2) and
upsampled 2x (x0.5); prints log2 of the implied nucleus diameter 2√2 σ* · true mpp (µm).
``gate``: the session-35 rule's gate 1 on the research-only sets (BCData, SHIDC, DeepLIIF tiles at
their benchmarks/datasets.toml pixel size, claimed x1 / x2 / x0.5 with the image unchanged) and the
CMU-1 and TCGA slides, through the same ``scale_patches`` / ``estimate_mpp`` / ``scale_metrics``
calls ``analyze_slide`` makes (tissue found as it finds it).

Needs ``mpp_estimate_s35.patch`` applied (the library part did not land: gate 1 failed).

    PYTHONPATH=. python benchmarks/experiments/mpp_estimate_s35.py dev > dev.txt
    PYTHONPATH=. python benchmarks/experiments/mpp_estimate_s35.py gate > gate1.txt
"""

from __future__ import annotations

import glob
import math
import sys

import numpy as np
from mmnst_path._scale_estimate import estimate_mpp, scale_metrics, scale_patches
from PIL import Image

TRAIN = "../shared/train"
DATA = "../shared/data"


def _files(pattern: str, n: int, mpp: float, tag: str):
    files = sorted(f for f in glob.glob(pattern) if not f.endswith(".txt"))
    for f in files[:: max(1, len(files) // n)][:n]:
        yield f"{tag}/{f.split('/')[-1]}", np.asarray(Image.open(f).convert("RGB")), mpp


def dev_images():
    """(name, rgb, true mpp) of the dev images, as session 35 H4 chose on them."""
    yield from _files(f"{TRAIN}/endonuke/mixed/*.png", 8, 0.5, "endonuke_mixed")
    yield from _files(f"{TRAIN}/endonuke/staining_ds/*.png", 8, 0.25, "endonuke_ds")
    yield from _files(f"{TRAIN}/brca_m2c/mixed/*.png", 8, 0.5, "brca")
    for c in ("TUM", "STR", "LYM", "NORM", "MUS"):
        yield from _files(f"{TRAIN}/kather_nct_crc_he/{c}/*", 2, 0.5, f"kather_{c}")
    for c in ("01_TUMOR", "02_STROMA", "03_COMPLEX", "04_LYMPHO", "06_MUCOSA"):
        yield from _files(f"{TRAIN}/kather_texture_2016/{c}/*", 2, 0.331, f"tex_{c}")
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    for i, mpp in enumerate((0.25, 0.5, 1.0)):
        for s in range(40 + 3 * i, 43 + 3 * i):
            yield f"gen/{s}@{mpp}", ki67_cells_tile(s, mpp=mpp, size={0.25: 768, 0.5: 384, 1.0: 256}[mpp]).rgb, mpp


def dev() -> None:
    from skimage.transform import rescale

    for name, rgb, mpp in dev_images():
        for label, fac in (("x1", 1.0), ("down2", 0.5), ("up2", 2.0)):
            im = rgb if fac == 1.0 else np.clip(np.rint(rescale(
                rgb, fac, channel_axis=-1, anti_aliasing=fac < 1, preserve_range=True)), 0, 255).astype(np.uint8)
            e = estimate_mpp([im])
            diam = math.log2(2 * math.sqrt(2) * e.sigma_px * mpp / fac)
            print(f"{name}\t{label}\t{mpp / fac:.4f}\t{e.mpp:.4f}\tlog2_diam_um={diam:.4f}", flush=True)


def _estimate(path: str, mpp: float):
    from mmnst_path.io import open_slide
    from mmnst_path.pipeline import AnalysisConfig
    from mmnst_path.tiling import detect_tissue

    cfg = AnalysisConfig()
    reader = open_slide(path, mpp=mpp)
    try:
        tissue = detect_tissue(reader, mask_mpp=cfg.tissue_mpp, params=cfg.tissue)
        return estimate_mpp(scale_patches(reader, tissue.mask, tissue.scale))
    finally:
        reader.close()


def gate() -> None:
    true = {"bcdata": 0.25, "shidc": 0.21, "deepliif": 0.31}
    n = {1.0: 0, 2.0: 0, 0.5: 0}
    tiles = 0
    for name, mpp in true.items():
        for f in sorted(glob.glob(f"{DATA}/ki67/{name}/*.png") + glob.glob(f"{DATA}/ki67/{name}/*.jpg")):
            warn = {k: scale_metrics(_estimate(f, mpp * k), mpp * k)["mpp_suspect"] for k in n}
            e = _estimate(f, mpp)
            tiles += 1
            for k in n:
                n[k] += warn[k]
            print(f"{name}\t{f.split('/')[-1]}\t{mpp}\t{e.mpp:.4f}\t{mpp / e.mpp:.4f}\t"
                  + "\t".join(f"x{k}:{warn[k]}" for k in n), flush=True)
    slides_warned = 0
    for f, mpp in ((f"{DATA}/wsi/CMU-1-Small-Region.svs", 0.499), (f"{DATA}/wsi/tcga-cr-7395-01a-01-ts1.svs", 0.5)):
        out = {k: (_estimate(f, mpp * k), mpp * k) for k in n}
        slides_warned += scale_metrics(*out[1.0])["mpp_suspect"]
        print(f"slide\t{f.split('/')[-1]}\t{mpp}\t" + "\t".join(
            f"x{k}: est {e.mpp:.4f} warn {scale_metrics(e, m)['mpp_suspect']}" for k, (e, m) in out.items()), flush=True)
    print(f"GATE1 true-mpp warnings {n[1.0] + slides_warned}/{tiles + 2} (limit <= 1); "
          f"claimed 2x warned {n[2.0] / tiles:.4f}, claimed 0.5x warned {n[0.5] / tiles:.4f} (limits >= 0.8)")


if __name__ == "__main__":
    {"dev": dev, "gate": gate}[sys.argv[1]]()
