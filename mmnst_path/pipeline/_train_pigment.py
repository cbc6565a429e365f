"""Train a melanin (pigment) pixel model from slides or tiles and QuPath GeoJSON polygons (``mmnst-path train
pigment``; issue #14, session 43).

Polygons classed ``Melanin`` or ``Pigment`` are melanin; every other class (``Tumor``, ``Stroma``, ``Other``...)
is tissue that is not melanin; ``Region*`` / ``Ignore*`` / unclassified polygons are not used. They are read and
rasterised as ``train tissue`` reads them (:func:`~mmnst_path.pipeline._train.read_tissue_polygons`, holes
honoured, later polygons over earlier ones); the pixel rows and the model are those of
:mod:`mmnst_path.classify.train_pigment`. On a double stain (H-DAB-FastRed, H-DAB-AEC) each window is read as the
run's pigment stage reads it, its melanocyte marker removed
(:func:`~mmnst_path.quantify.ki67.without_marker`): the model learns from the pixels and features it is asked about
(session 43 H13, H12's finding 5).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._train import (
    _check_pairs,
    _inside_polygons,
    _paint_window,
    _per_image_mpp,
    _read_around,
    _reader_mpp,
    _stains_of,
    _training_card,
    _windows,
    read_tissue_polygons,
)

__all__ = ["UNLABELLED", "train_pigment"]

#: what ``unlabelled`` may be: ``"ignore"`` (only painted pixels train) or ``"negative"`` (the unpainted pixels
#: around the polygons are not melanin: for annotations that outline every granule cluster of an area)
UNLABELLED = ("ignore", "negative")



#: The most pixel rows of each class one window gives (``pigment_training_rows``' cap; the card's
#: ``rows_per_window_class``).
ROWS_PER_WINDOW_CLASS = 20000
#: The class names of melanin (a near miss of one is refused: it would be trained as "not melanin").
_MELANIN_NAMES = ("melanin", "pigment")


def pigment_class_names(names: Sequence[Any], *, where: str) -> dict[str, str]:
    """Each annotation class name -> ``"melanin"``, ``"other"`` (not melanin) or ``""`` (not used).

    ``Melanin`` / ``Pigment`` (QuPath's ``Melanin: Positive`` too) are melanin; ``Region*`` / ``Ignore*`` /
    unclassified are not used; any other name (``Tumor``, ``Dermis``, ``Epidermis``, ``Stroma``...) is tissue that
    is not melanin, whatever it is called. A near miss of a melanin name (``Melanine``, ``Pigmnet``) is refused naming
    ``where`` (the file): it would teach the model that melanin is not melanin.
    """
    import difflib

    from ..classify._class_names import canonical_name

    out: dict[str, str] = {}
    for raw in sorted({str(n or "") for n in names}):
        cls = canonical_name(raw, "tissue")
        if not cls or cls == "melanin":
            out[raw] = cls
            continue
        base = raw.split(":", 1)[0].strip().lower()
        if difflib.get_close_matches(base, _MELANIN_NAMES, n=1, cutoff=0.8):
            msg = (f"{where}: class {raw!r} looks like a misspelt 'melanin' or 'pigment'; correct it in the "
                   "annotations (the melanin class is Melanin or Pigment; every other class is tissue that is not "
                   "melanin)")
            raise ConfigError(msg)
        out[raw] = "other"
    return out

def _sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _slide_matrix(reader: Any, stains: str) -> Any:
    """The stain matrix the pipeline reads this image with: the preset, with the glass's white point for the red
    chromogens (:func:`~mmnst_path.stain.guess.with_slide_white_point` on the tissue thumbnail, as a run does)."""
    from ..stain import load_stains
    from ..stain.guess import with_slide_white_point
    from ..tiling import detect_tissue
    from ._config import AnalysisConfig

    config = AnalysisConfig()
    tissue = detect_tissue(reader, mask_mpp=config.tissue_mpp, params=config.tissue)
    return with_slide_white_point(load_stains(stains), tissue.thumbnail, tissue.mask)


def _labels(kept: list[tuple[list[np.ndarray], str]], idx: np.ndarray, value: list[int],
            box: tuple[int, int, int, int], unlabelled: str) -> np.ndarray:
    """The window's label image; with ``unlabelled="negative"`` the pixels no polygon covers, inside the bounding
    box of the window's own polygons, are not melanin."""
    from ..classify.train_pigment import LABEL_OTHER

    lab = _paint_window(kept, idx, value, box)
    if unlabelled == "negative":
        covered = _paint_window(kept, np.arange(len(kept)), [1] * len(kept), box) > 0
        r0, c0, h, w = box
        rings = np.concatenate([kept[k][0][0] for k in idx])
        top, left = max(int(np.floor(rings[:, 0].min())) - r0, 0), max(int(np.floor(rings[:, 1].min())) - c0, 0)
        bottom = min(int(np.ceil(rings[:, 0].max())) - r0 + 1, h)
        right = min(int(np.ceil(rings[:, 1].max())) - c0 + 1, w)
        core = np.zeros((h, w), bool)
        core[top:bottom, left:right] = True
        lab[core & ~covered] = LABEL_OTHER
    return lab


def train_pigment(
    images: Sequence[str | Path],
    annotations: Sequence[str | Path],
    *,
    mpp: float | Sequence[float | None] | None = None,
    stains: str = "auto",
    unlabelled: str = "ignore",
    window_um: float = 1000.0,
    progress: Callable[[str], None] | None = None,
    intended_use: str = "",
    limitations: str = "",
    name: str = "",
    version: str = "",
) -> Any:
    """Train a pigment (melanin) pixel model from slides/tiles and GeoJSON polygons (paired in order).

    Parameters
    ----------
    images, annotations : sequences of paths, the same length
    mpp : float, sequence of float / None, or None
        µm/px for images without it in their metadata (one for all, or one per image).
    stains : str
        ``"auto"`` (guessed from the images as ``quantify --stains auto`` does) or a preset. The model reads the
        features of the shipped pigment model the stage runs for these stains
        (:func:`~mmnst_path.classify.train_pigment.pigment_recipe`) and is refused by a run of stains whose
        pigment stage runs another (:func:`~mmnst_path.pipeline._model_stains.pigment_stain_problem`).
    unlabelled : {"ignore", "negative"}
        ``"negative"``: unpainted pixels near the polygons (the bounding box of each window's polygons) are
        not melanin too.
    window_um : float
        Polygons are grouped in windows of this side; each is read once with the features' halo.
    progress : callable or None
        Called with a line per image and a line per problem (a polygon outside its image, melanin painted
        where the stage never asks the model).
    intended_use, limitations, name, version : str
        The card's fields (empty: the defaults of ``train tissue``).

    Returns
    -------
    ClassifierModel
        A pigment pixel model (``settings["target"] = "pigment"``, ``settings["stains"]``); its card names the
        training images with their SHA-256, the pixels painted and seen per class, and the held-out figures of
        whole images (or squares of a single image).
    """
    from ..classify.train import Places
    from ..classify.train_pigment import (
        LABEL_MELANIN,
        LABEL_OTHER,
        pigment_recipe,
        pigment_training_rows,
        train_pigment_model,
    )
    from ..detect.pigment import PigmentParams
    from ..io import open_slide
    from ..quantify.ki67 import without_marker

    if unlabelled not in UNLABELLED:
        msg = f"unlabelled must be one of {UNLABELLED}, got {unlabelled!r}"
        raise ConfigError(msg)
    if not (isinstance(window_um, int | float) and math.isfinite(window_um) and window_um > 0):
        msg = f"window_um must be a positive number of µm, got {window_um!r}"
        raise ConfigError(msg)
    _check_pairs(images, annotations)
    say = progress if progress is not None else (lambda line: None)
    polys_all = [read_tissue_polygons(a) for a in annotations]
    mapping: dict[str, str] = {}
    for ann_path, polys in zip(annotations, polys_all, strict=True):
        mapping.update(pigment_class_names([n for _, n in polys], where=f"annotation file {str(ann_path)!r}"))
    mpp_of = _per_image_mpp(mpp, len(images))
    stains = _stains_of(stains, images, mpp_of, "nucleus", say)
    params = PigmentParams()
    shipped, settings, names = pigment_recipe(stains, params)
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    parts: list[tuple[int, np.ndarray]] = []
    sources, mpps = [], []
    polygons = {"melanin": 0, "other": 0}
    for i, (img_path, ann_path, polys) in enumerate(zip(images, annotations, polys_all, strict=True)):
        with open_slide(img_path, mpp=mpp_of[i]) as reader:
            m = _reader_mpp(reader, repr(str(img_path)), "pigment")
            kept = _inside_polygons(polys, reader.shape, say, where=f"annotation file {str(ann_path)!r}",
                                    image=Path(img_path).name)
            value = [0 if not mapping.get(label) else LABEL_MELANIN if mapping[label] == "melanin" else LABEL_OTHER
                     for _, label in kept]
            for v in value:
                if v:
                    polygons["melanin" if v == LABEL_MELANIN else "other"] += 1
            matrix = _slide_matrix(reader, stains) if kept else None
            margin = math.ceil(settings.halo_um() / m)
            total = dict.fromkeys(("melanin_px", "other_px", "melanin_seen", "other_seen", "melanin_rows",
                                   "other_rows"), 0)
            centres = np.array([rings[0].mean(axis=0) for rings, _ in kept]).reshape(-1, 2)
            for idx in _windows(centres, window_um / m):
                window = _read_around(reader, np.concatenate([kept[k][0][0] for k in idx]), margin)
                if window is None:
                    continue
                rgb, r0, c0 = window
                lab = _labels(kept, idx, value, (r0, c0, *rgb.shape[:2]), unlabelled)
                # a double stain's marker removed as the run's pigment stage removes it: the same pixels and features
                clean, plain = without_marker(rgb, matrix)
                x, y, rc, counts = pigment_training_rows(clean, lab, mpp=m, stains=plain, settings=settings,
                                                         names=names, params=params, random_state=i,
                                                         max_rows_per_class=ROWS_PER_WINDOW_CLASS)
                for key, n in counts.items():
                    total[key] += n
                if len(y):
                    rows.append((x, y))
                    parts.append((i, rc + np.array([r0, c0]) * m))
        mpps.append(m)
        sources.append({"image": Path(img_path).name, "sha256": _sha256(img_path), "annotations": Path(ann_path).name,
                        "polygons": len(polys), "mpp_um": m, **total})
        say(f"{img_path}: {len(polys)} polygons; melanin {total['melanin_px']} px painted, {total['melanin_rows']} "
            f"rows; not melanin {total['other_px']} px painted, {total['other_rows']} rows")
        if total["melanin_px"] and total["melanin_seen"] < 0.5 * total["melanin_px"]:
            say(f"{img_path}: {total['melanin_px'] - total['melanin_seen']} of {total['melanin_px']} melanin pixels "
                f"painted lie where the pigment stage of {stains} never asks its model (too pale, or outside the "
                "colour gate of these stains): the model cannot learn them; check --stains")
    card = _training_card({"training_data": sources, "stains": stains, "polygons_per_class": polygons,
                           "feature_recipe": f"the features of the shipped {shipped.name} "
                                             f"{shipped.card.get('version', '')} ({shipped.model_id}), the "
                                             f"model the pigment stage runs for {stains}",
                           "rows_per_window_class": ROWS_PER_WINDOW_CLASS,
                           "row_cap": f"at most {ROWS_PER_WINDOW_CLASS} pixel rows of each class from each window of "
                                      f"{window_um:g} µm read (an image gives that many per window)"},
                          mpps=mpps, mapping=mapping, intended_use=intended_use, limitations=limitations, name=name,
                          version=version)
    card.setdefault("name", "user pigment classifier")
    return train_pigment_model(rows, settings=settings, names=names, stains=stains, card=card,
                               places=Places.stack(parts))
