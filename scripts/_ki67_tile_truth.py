"""The true nuclei of :func:`mmnst_path.synthetic.ki67_pigment_tile` and the pigment-cell model's rows from it
(issue #14, session 33 H1).

The generator returns counts and a melanin mask but no nucleus labels; :func:`true_nuclei` draws them again
from the seed (the generator's draws, in its order, with its default keywords) and is checked against its
truth counts by every caller.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from mmnst_path import synthetic as syn


def true_nuclei(seed: int, size: int, mpp: float = 0.5, positive_fraction: float = 0.15,
                pigmented_cells: float = 0.5, angle_deg: float = 3.0) -> dict[str, np.ndarray]:
    """The nuclei of ``ki67_pigment_tile(seed, size=size)`` (its default keywords): centres ``row`` / ``col``
    (px), radii ``rad`` (px), Ki67 status ``pos`` and ``pigmented`` (melanin drawn around it)."""
    rng = np.random.default_rng(seed)
    syn.perturb_vector(syn._H, angle_deg, rng)
    syn.perturb_vector(syn._DAB, angle_deg, rng)
    syn.perturb_vector(syn._melanin_ref(), angle_deg, rng)
    tissue = syn._layout(size, rng, 0.05)
    hem = (0.05 * tissue * (1 + 0.3 * syn._field(tissue.shape, 4, rng))).clip(0).astype(np.float32)
    dab = (0.02 * tissue).astype(np.float32)
    cells = syn._nuclei(tissue, int(size * size * mpp * mpp / 110), rng, mpp)
    pos = rng.random(len(cells)) < positive_fraction
    for (r, c, rad), p in zip(cells, pos, strict=True):  # the paint draws, to keep the stream in step
        if p:
            syn._paint(dab, r, c, rad, rng.uniform(0.4, 1.1), rng)
            syn._paint(hem, r, c, rad, 0.15, rng)
        else:
            syn._paint(hem, r, c, rad, rng.uniform(0.3, 0.6), rng)
    neg = np.flatnonzero(~pos)
    k = round(pigmented_cells * len(neg))
    pick = rng.choice(len(neg), size=k, replace=False) if k else np.zeros(0, np.intp)
    pig = np.zeros(len(cells), bool)
    pig[neg[pick]] = True
    arr = np.asarray(cells, np.float64).reshape(-1, 3)
    return {"row": arr[:, 0], "col": arr[:, 1], "rad": arr[:, 2], "pos": pos, "pigmented": pig}


def disc_labels(tn: dict[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """(M, N) int32 label image of the true nuclei as discs (label ``i + 1``; a later disc wins overlaps)."""
    labels = np.zeros(shape, np.int32)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    for i, (r, c, rad) in enumerate(zip(tn["row"], tn["col"], tn["rad"], strict=True)):
        r0, r1 = max(0, int(r - rad) - 1), min(shape[0], int(r + rad) + 2)
        c0, c1 = max(0, int(c - rad) - 1), min(shape[1], int(c + rad) + 2)
        inside = (yy[r0:r1, c0:c1] - r) ** 2 + (xx[r0:r1, c0:c1] - c) ** 2 <= rad * rad
        labels[r0:r1, c0:c1][inside] = i + 1
    return labels


def ki67_tile_rows(seed: int, *, size: int, pixel_model: Any) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels 0 negative / 1 positive / 2 hidden) of the detected nuclei of one
    ``ki67_pigment_tile`` for the pigment-cell model, labelled as ``train_pigment_cells_model.py``
    labels the family tiles (hidden: centroid in a true nucleus >= 75 % under melanin, or on melanin
    within 1 µm outside every true nucleus; stroma: no label)."""
    from mmnst_path.classify.pigment import classify_pigment
    from mmnst_path.detect.pigment import PigmentParams
    from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67
    from mmnst_path.stain import load_stains

    tile = syn.ki67_pigment_tile(seed, size=size)
    tn = true_nuclei(seed, size)
    if int(tn["pos"].sum()) != tile.truth["ki67_positive"] or int((~tn["pos"]).sum()) != tile.truth["ki67_negative"]:
        msg = f"ki67_pigment_tile({seed}): the redrawn nuclei differ from the generator's"
        raise RuntimeError(msg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mask, _ = classify_pigment(tile.rgb, mpp=tile.mpp, model=pixel_model, stains="H-DAB", params=PigmentParams())
        region = measure_ki67(tile.rgb, mpp=tile.mpp, stains=load_stains("H-DAB"), params=Ki67Params(),
                              pigment_mask=mask, return_cell_features=True)
    x = region.cell_features
    if x is None or not len(x):
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    labels = disc_labels(tn, tile.rgb.shape[:2])
    mel = tile.masks["melanin"]
    n = len(tn["pos"])
    area = np.maximum(np.bincount(labels.ravel(), minlength=n + 1), 1)
    cov = np.bincount(labels.ravel(), mel.ravel(), minlength=n + 1) / area
    pos = np.concatenate([[False], tn["pos"]])
    r = np.clip(np.rint(region.cells.row).astype(int), 0, labels.shape[0] - 1)
    c = np.clip(np.rint(region.cells.col).astype(int), 0, labels.shape[1] - 1)
    t = labels[r, c]
    near = ndi.binary_dilation(mel, iterations=max(1, round(1.0 / tile.mpp)))
    y = np.where(t > 0, np.where(cov[t] >= 0.75, 2, pos[t].astype(np.int64)), np.where(near[r, c], 2, -1))
    keep = y >= 0
    return np.asarray(x[keep], np.float32), y[keep]
