"""The picture of session 43 H5's lab pigment model (/work/notes/s43/h5_masks.png): tile, shipped default, lab model;
black = found and true, red = found not true, blue = missed (drawn truth). Run after train_pigment_lab_s43.py
(its model in /tmp/s43_h5/g2/lab_pigment.mmnst)."""
import numpy as np
from PIL import Image

from mmnst_path.classify.pigment import classify_pigment, resolve_pigment_model
from mmnst_path.detect.pigment import PigmentParams
from mmnst_path.io import ArrayReader
from mmnst_path.pipeline import AnalysisConfig
from mmnst_path.stain import load_stains
from mmnst_path.stain.guess import with_slide_white_point
from mmnst_path.synthetic import pigment_family_tile
from mmnst_path.tiling import detect_tissue

rows = []
for seed, fam in ((12013, "confluent"), (12016, "whole_cell")):
    t = pigment_family_tile(seed, fam, chromogen="aec", appearance="varied", size=512, drawn_melanin=True)
    cfg = AnalysisConfig()
    tis = detect_tissue(ArrayReader(t.rgb, mpp=t.mpp), mask_mpp=cfg.tissue_mpp, params=cfg.tissue)
    m = with_slide_white_point(load_stains("H-AEC"), tis.thumbnail, tis.mask)
    truth = t.masks["melanin_drawn"]
    panels = [t.rgb]
    for spec in ("default", "/tmp/s43_h5/g2/lab_pigment.mmnst"):
        mel, _ = classify_pigment(t.rgb, mpp=t.mpp, model=resolve_pigment_model(spec), stains=m, params=PigmentParams())
        img = np.full(t.rgb.shape, 255, np.uint8)
        img[mel & truth] = (0, 0, 0)
        img[mel & ~truth] = (230, 0, 0)
        img[~mel & truth] = (0, 90, 255)
        panels.append(img)
    rows.append(np.concatenate([np.pad(p, ((4, 4), (4, 4), (0, 0)), constant_values=200) for p in panels], axis=1))
Image.fromarray(np.concatenate(rows, axis=0)).save("/work/notes/s43/h5_masks.png")
