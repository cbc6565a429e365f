"""The reviewed melanin of tumour (``melanin_tumour_fraction_pct`` with a review's corrections).

The run measures melanin inside the tumour region over the tumour area (``melanin_tumour_fraction_pct``: melanin ∩
tumour / the tumour class area). A review corrects melanin on the melanin map's blocks (:mod:`mmnst_path._melanin_map`)
and the tumour on the class map's blocks (:mod:`mmnst_path._review_tissue`); neither keeps melanin ∩ tumour, so the
reviewed figure is estimated block by block and added to the run's exact figure as a difference (as the reviewed
melanin of tissue and the reviewed class areas are): a review that changes nothing gives the measured figure.

Per melanin block ``b``: ``t_b`` its tissue (mm², ``block_tissue_mm2``), ``m_b`` its melanin share of that tissue
(the run's map; 1 for a block corrected "melanin", 0 for "no melanin"), ``f_b`` the tumour share of its classed
tissue (the class map's tumour area over its tissue-class area inside the block, by area overlap; the run's class map,
or the corrected one). Melanin of tumour estimated ``E = Σ m_b t_b f_b``. The reviewed melanin of tumour is

    area = measured area + E(corrected melanin, corrected classes) − E(run's melanin, run's classes)
    %    = 100 · area / tumour area (the review's tumour area when the classes were corrected, else the run's)

with the measured area = ``melanin_tumour_fraction_pct`` × ``class_tumour_area_mm2`` / 100. So melanin corrections
alone change the numerator over the blocks painted (at the run's tumour share); tissue corrections alone move the run's
melanin in the re-classed blocks into or out of tumour and change the denominator to the reviewed tumour area; both
together do both, with the corrected melanin counted at the corrected tumour share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._review_melanin import MELANIN_ADD, MELANIN_REMOVE

__all__ = ["block_class_share", "folder_tumour_melanin", "reviewed_tumour_melanin", "tumour_melanin_of_maps"]


def _overlap(n_blocks: int, size: float, n_px: int, step: float, extent: float) -> np.ndarray:
    """(blocks, pixels) overlap length (level-0 px) of blocks of ``size`` and pixels of ``step``, inside ``extent``."""
    b0 = np.arange(n_blocks)[:, None] * size
    p0 = np.arange(n_px)[None, :] * step
    hi = np.minimum(np.minimum(b0 + size, p0 + step), extent)
    return np.clip(hi - np.maximum(b0, p0), 0.0, None)


def block_class_share(labels: Any, keep: Sequence[int], *, tissue: Sequence[int], class_downsample: float,
                      downsample: float, grid: tuple[int, int], shape: Sequence[int]) -> np.ndarray:
    """(M, N) share of the tissue-class area inside each block of a ``grid`` of ``downsample`` level-0 px that the
    class map ``labels`` (``class_downsample`` level-0 px per pixel) gives the classes ``keep``; ``tissue`` are the
    values counted as tissue (others, and -1, are not); 0 where a block holds no tissue class. ``shape``: level-0
    image shape (edge blocks and pixels count by their part inside it)."""
    lab = np.asarray(labels)
    rows = _overlap(grid[0], float(downsample), lab.shape[0], float(class_downsample), float(shape[0]))
    cols = _overlap(grid[1], float(downsample), lab.shape[1], float(class_downsample), float(shape[1]))
    tis = np.isin(lab, list(tissue)).astype(np.float64)
    part = np.isin(lab, list(keep)).astype(np.float64) * tis
    whole = rows @ tis @ cols.T
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, (rows @ part @ cols.T) / np.where(whole > 0, whole, 1.0), 0.0)


def reviewed_tumour_melanin(*, melanin: Any, block_tissue: Any, corrections: Any, share_run: Any, share_now: Any,
                            measured_pct: float, tumour_mm2_run: float, tumour_mm2_now: float) -> dict[str, Any]:
    """The reviewed melanin % of tumour (see the module's words).

    Parameters
    ----------
    melanin, block_tissue : (M, N) arrays
        The run's melanin share of each block's tissue (NaN: none) and each block's tissue area (mm²).
    corrections : (M, N) integer array or None
        Melanin corrections (0 the run's, :data:`~mmnst_path._review_melanin.MELANIN_ADD`, ``MELANIN_REMOVE``);
        None: melanin not corrected.
    share_run, share_now : (M, N) arrays
        Tumour share of each block's classed tissue with the run's class map and with the corrected one (the same
        when the classes were not corrected), :func:`block_class_share`.
    measured_pct : float
        The run's ``melanin_tumour_fraction_pct`` (NaN when the run had no tumour area).
    tumour_mm2_run, tumour_mm2_now : float
        The run's tumour area and the reviewed one (mm²).

    Returns
    -------
    dict
        ``melanin_tumour_fraction_pct`` (NaN without tumour), ``melanin_tumour_area_mm2``, ``measured_pct``,
        ``measured_area_mm2``, ``tumour_mm2``, ``measured_tumour_mm2``.
    """
    m = np.nan_to_num(np.asarray(melanin, np.float64), nan=0.0)
    t = np.asarray(block_tissue, np.float64)
    c = np.zeros(m.shape, np.uint8) if corrections is None else np.asarray(corrections)
    if c.shape != m.shape or t.shape != m.shape or np.shape(share_run) != m.shape or np.shape(share_now) != m.shape:
        msg = (f"corrections {c.shape}, block_tissue {t.shape} and tumour shares {np.shape(share_run)} / "
               f"{np.shape(share_now)} must equal the melanin map's shape {m.shape}")
        raise ValueError(msg)
    now = np.where(c == MELANIN_ADD, 1.0, np.where(c == MELANIN_REMOVE, 0.0, m))
    diff = float((now * t * np.asarray(share_now, np.float64)).sum() - (m * t * np.asarray(share_run, np.float64)).sum())
    run_t, now_t = float(tumour_mm2_run), float(tumour_mm2_now)
    measured = float(measured_pct) * run_t / 100.0 if math.isfinite(float(measured_pct)) and run_t > 0 else 0.0
    area = max(measured + diff, 0.0)
    pct = 100.0 * area / now_t if now_t > 0 and math.isfinite(now_t) else math.nan
    if diff == 0.0 and now_t == run_t:  # nothing that bears on it changed: the measured figure, not a round trip
        pct = float(measured_pct)
    return {"melanin_tumour_fraction_pct": pct, "melanin_tumour_area_mm2": area, "measured_pct": float(measured_pct),
            "measured_area_mm2": measured, "tumour_mm2": now_t, "measured_tumour_mm2": run_t}


def folder_tumour_melanin(folder: str | Path, review: Mapping[str, Any] | None,
                          doc: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The reviewed melanin of tumour of a result folder with an accepted ``review`` (:func:`mmnst_path.review.
    read_review`): None when the review corrects neither melanin nor the tissue classes, or the run has no melanin of
    tumour, no melanin map (``melanin_map.npz``) or no class map. ``from`` says which corrections it holds."""
    import json

    from ._melanin_map import read_corrections, read_melanin_map
    from ._review_tissue import NOT_TISSUE, REVIEW_TISSUE_MAP, read_class_map

    if not review or not (review.get("melanin") or review.get("tissue_classes")):
        return None
    folder = Path(folder)
    if doc is None:
        doc = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    measured = (doc.get("metrics") or {}).get("melanin_tumour_fraction_pct")
    cmap = read_class_map(folder, doc)
    mmap = read_melanin_map(folder, doc)
    if measured is None or cmap is None or mmap is None or "tumour" not in cmap["classes"]:
        return None
    tissue_part = review.get("tissue_classes") or {}
    labels_now = cmap["labels"]
    if tissue_part and (folder / REVIEW_TISSUE_MAP).is_file():
        labels_now = read_class_map(folder, doc, name=REVIEW_TISSUE_MAP)["labels"]  # type: ignore[index]
    corrections = read_corrections(folder) if review.get("melanin") else None
    return tumour_melanin_of_maps(mmap, cmap, labels_now, corrections, measured_pct=float(measured),
                                  tumour_mm2_now=(tissue_part.get("area_mm2") or {}).get("tumour"),
                                  tissue_classes=[k for k, n in enumerate(cmap["classes"]) if n not in NOT_TISSUE],
                                  parts=("melanin" if review.get("melanin") else None,
                                         "tissue" if tissue_part else None))


def tumour_melanin_of_maps(mmap: Mapping[str, Any], cmap: Mapping[str, Any], labels_now: Any, corrections: Any, *,
                           measured_pct: float, tumour_mm2_now: float | None, tissue_classes: Sequence[int],
                           parts: Sequence[str | None]) -> dict[str, Any]:
    """:func:`reviewed_tumour_melanin` of a melanin map (:func:`~mmnst_path._melanin_map.read_melanin_map` form) and
    a class map (:func:`~mmnst_path._review_tissue.read_class_map` form) with the corrected class labels
    ``labels_now`` (the run's when not corrected) and melanin ``corrections`` (None: not corrected);
    ``tumour_mm2_now``: the reviewed tumour area (None: the run's). napari's Review panel calls it on its layers."""
    tumour = cmap["classes"].index("tumour")
    grid = tuple(np.asarray(mmap["melanin"]).shape)
    kw = {"tissue": tissue_classes, "class_downsample": cmap["downsample"], "downsample": mmap["downsample"],
          "grid": grid, "shape": cmap["shape"]}
    share_run = block_class_share(cmap["labels"], [tumour], **kw)  # type: ignore[arg-type]
    same = np.array_equal(np.asarray(labels_now), np.asarray(cmap["labels"]))
    share_now = share_run if same else block_class_share(labels_now, [tumour], **kw)  # type: ignore[arg-type]
    run_t = float(cmap["areas"].get("tumour", 0.0))
    out = reviewed_tumour_melanin(melanin=mmap["melanin"], block_tissue=mmap["block_tissue_mm2"],
                                  corrections=corrections, share_run=share_run, share_now=share_now,
                                  measured_pct=measured_pct, tumour_mm2_run=run_t,
                                  tumour_mm2_now=run_t if tumour_mm2_now is None else float(tumour_mm2_now))
    out["from"] = " and ".join(p for p in parts if p) + " corrections"
    return out
