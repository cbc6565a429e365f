"""Session 40 H5: an independent check of the whole-image held-out figure of `mmnst-path train cells` (D1).

Rows of 3 BRCA-M2C images (H3's point annotations, H&E), one scikit-learn forest fitted per left-out image,
compared with the card's figure and with a random-row split (the old figure). Run from the tree to test:
``PYTHONPATH=. python benchmarks/experiments/train_holdout_check_s40.py`` (reads /work/notes/s40/h3_scripts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from mmnst_path.io import open_slide
from mmnst_path.pipeline import train_cells
from mmnst_path.pipeline._train import _cell_examples, read_cell_annotations

ABUSE = Path("/work/notes/s40/h3_scripts/abuse")


def _forest() -> RandomForestClassifier:
    return RandomForestClassifier(60, max_depth=14, min_samples_leaf=4, class_weight="balanced_subsample",
                                  random_state=0)


def main() -> None:
    imgs = [(ABUSE / f"brca_img_{i}.txt").read_text().strip() for i in range(3)]
    anns = [str(ABUSE / f"brca_pts_{i}.geojson") for i in range(3)]
    xs, ys, gs = [], [], []
    for i, (im, an) in enumerate(zip(imgs, anns, strict=True)):
        pts, names = read_cell_annotations(an)
        with open_slide(im, mpp=0.5) as reader:
            for x, y, _ in _cell_examples(reader, pts, names, stains="H&E", window_um=1000, where=im):
                xs.append(x)
                ys.append(y)
                gs.append(np.full(len(y), i))
    x, y, g = np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)
    print("per image class counts:", {i: dict(zip(*np.unique(y[g == i], return_counts=True), strict=True))
                                      for i in range(3)})
    right = 0
    for i in range(3):
        pred = _forest().fit(x[g != i], y[g != i]).predict(x[g == i])
        right += int((pred == y[g == i]).sum())
        print("held out image", i, "accuracy", float((pred == y[g == i]).mean()))
    print("sklearn whole-image accuracy", right / len(y))
    held = np.random.default_rng(0).random(len(y)) < 0.2
    pred = _forest().fit(x[~held], y[~held]).predict(x[held])
    print("sklearn random-row accuracy", float((pred == y[held]).mean()))
    model = train_cells(imgs, anns, mpp=0.5, stains="H&E")
    print("card:", model.card["validation"]["split"], model.card["validation"]["held_out"]["accuracy"])


if __name__ == "__main__":
    main()
