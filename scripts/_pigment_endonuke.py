"""EndoNuke's fixed TRAIN / DEV / VAL split and hard-negative rows for the H-DAB pigment pixel model (#14).

EndoNuke (Naumov et al., Data 2022, CC BY 4.0; ``shared/train/endonuke``) names its ``mixed/`` tiles by a
bare number and its ``staining_ds/`` tiles by one slide (``20-3479-1``), so nothing groups tiles by patient or
slide across the folders. The split (fixed in session 28 before any fit) is therefore by sorted file name, per
folder: in each folder's sorted ``*.png`` list, every 4th file (index 3, 7, 11, ...) is **VAL**, the rest
**TRAIN**; in TRAIN's sorted list (per folder), every 3rd file (index 2, 5, 8, ...) is **DEV**. VAL is never
trained on; DEV is where choices between recipes are made (fit on TRAIN minus DEV).

:func:`mined_rows` gives the hard negatives of ``train_pigment_model.py --mine-endonuke``: the candidate
pixels of real EndoNuke tiles that a pixel model calls melanin (probability >= its threshold), every one a
false positive because EndoNuke holds no melanin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: the parts of the split: the pixel model's training uses TRAIN (its DEV part left out for choices)
PARTS = ("train", "dev", "val")

#: µm/px each EndoNuke folder is trained at (as ``train_pigment_model.real_files``)
FOLDER_MPP = {"mixed": 0.5, "staining_ds": 0.25}


def endonuke_split(train: Path) -> dict[str, str]:
    """Part ("train", "dev" or "val") of every EndoNuke tile, keyed ``"endonuke/<folder>/<name>.png"``.

    Parameters
    ----------
    train : Path
        The permissive training folder (``shared/train``) holding ``endonuke/mixed`` and ``endonuke/staining_ds``.

    Returns
    -------
    dict
        "dev" marks the DEV third of TRAIN; a tile in "dev" is not in "train".
    """
    out: dict[str, str] = {}
    for folder in FOLDER_MPP:
        files = sorted((train / "endonuke" / folder).glob("*.png"))
        if not files:
            raise FileNotFoundError(f"no EndoNuke tiles in {train / 'endonuke' / folder}")
        rest = []
        for i, f in enumerate(files):
            key = f"endonuke/{folder}/{f.name}"
            if i % 4 == 3:
                out[key] = "val"
            else:
                rest.append(key)
        for j, key in enumerate(rest):
            out[key] = "dev" if j % 3 == 2 else "train"
    return out


def endonuke_files(train: Path, parts: tuple[str, ...] | None) -> list[tuple[Path, float]]:
    """(file, µm/px) of the EndoNuke tiles in ``parts`` (None: every tile), in the sorted order of ``real_files``.

    Raises
    ------
    ValueError
        For a part not in :data:`PARTS`.
    """
    if parts is not None:
        bad = [p for p in parts if p not in PARTS]
        if bad:
            raise ValueError(f"EndoNuke split parts {bad} unknown: use {PARTS}")
    split = endonuke_split(train)
    files = []
    for folder, mpp in FOLDER_MPP.items():
        for f in sorted((train / "endonuke" / folder).glob("*.png")):
            if parts is None or split[f"endonuke/{folder}/{f.name}"] in parts:
                files.append((f, mpp))
    return files


def mined_rows(files: list[tuple[Path, float]], model: Any, names: list[str], settings: Any,
               per_tile: int, background: Any = None, threshold: float = 0.5) -> tuple[np.ndarray, int]:
    """Feature rows of the candidate pixels ``model`` calls melanin on melanin-free real tiles.

    Parameters
    ----------
    files : list of (Path, float)
        Tiles and their µm/px.
    model : ClassifierModel
        The pixel model whose false positives are mined (e.g. the shipped ``pigment_dab.mmnst``).
    names : list of str
        Feature columns of the rows returned (those the new model trains on).
    settings : PigmentFeatureSettings
    per_tile : int
        At most this many rows a tile, the highest melanin probabilities first.
    background : callable or None
        ``background(rgb)``: the white point the rows are computed against (None: 255).
    threshold : float
        A pixel is mined when its melanin probability is at least this (the pipeline's ``min_probability``).

    Returns
    -------
    x : (K, len(names)) float32 ndarray
    tiles : int
        How many tiles gave at least one row.
    """
    from PIL import Image

    from mmnst_path.classify.pigment import pigment_features

    model_names = [f.name for f in model.features]
    j = model.class_names.index("melanin")
    xs, tiles = [], 0
    for f, mpp in files:
        rgb = np.asarray(Image.open(f).convert("RGB"))
        bg = background(rgb) if background is not None else None
        xm, _ = pigment_features(rgb, mpp=mpp, settings=settings, background=bg, names=model_names)
        if not xm.shape[0]:
            continue
        p = model.predict_proba(xm)[:, j]
        hit = np.flatnonzero(p >= threshold)
        if not hit.size:
            continue
        hit = hit[np.argsort(-p[hit], kind="stable")][:per_tile]
        x, _ = pigment_features(rgb, mpp=mpp, settings=settings, background=bg, names=names)
        xs.append(x[hit])
        tiles += 1
    if not xs:
        return np.zeros((0, len(names)), np.float32), 0
    return np.concatenate(xs), tiles


def split_card(args: Any, parts: tuple[str, ...] | None) -> dict[str, str]:
    """Model-card entries naming the EndoNuke split and the mined rows (empty when neither is used)."""
    out: dict[str, str] = {}
    if parts is not None:
        out["endonuke_split"] = (f"EndoNuke tiles of the parts {list(parts)} only. Split (session 28, scripts/"
                                 "_pigment_endonuke.py): per folder, sorted file names, every 4th (index 3, 7, ...) "
                                 "VAL, never trained on; every 3rd of the rest DEV")
    if getattr(args, "mine_endonuke", 0):
        out["mined_negatives"] = (f"up to {args.mine_endonuke} rows a trained-on EndoNuke tile (x{args.mine_weight}) "
                                  f"from the pixels the pixel model {args.mine_model!r} calls melanin: its false "
                                  "positives on real ER/PR DAB (Naumov et al., Data 2022, CC BY 4.0)")
    if getattr(args, "dab_strength", None) and not getattr(args, "bodies", False):
        out["dab_strength"] = (f"every DAB family x seed x appearance again with pigment_family_tile(dab_strength="
                               f"{args.dab_strength!r}): positives as dark as measured on EndoNuke")
    return out
