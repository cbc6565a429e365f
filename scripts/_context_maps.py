"""Whole training-image feature maps for the auto-context (two-stage) tissue model: :class:`ImageMap`, their npz files,
the out-of-fold folds and the cached out-of-fold first-stage probability maps (helpers of ``train_tissue_model.py``,
moved out of it in session 25; it re-exports them)."""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmnst_path.classify.model import ClassifierModel
from mmnst_path.classify.tissue_context import ContextSettings
from mmnst_path.classify.train_tissue import ContextImage, out_of_fold_proba
from mmnst_path.errors import ConfigError

__all__ = ["CONTEXT_FOLDS", "ImageMap", "alternate_folds", "context_settings_arg", "fold_of", "load_maps",
           "oof_proba_cached", "proba_map",
           "save_maps", "sigmas_arg"]


@dataclass(frozen=True, eq=False)
class ImageMap:
    """One training image (or augmented copy) on the output grid: its whole feature map, the flat indices
    of its training rows and their class indices (what ``--auto-context`` needs besides the rows)."""

    source: str
    name: str
    held: bool
    feats: np.ndarray
    sel: np.ndarray
    y: np.ndarray
    grid_mpp: float
    #: (m, n) int8 class index of every block (majority class, -1 unlabelled / outside) and its share (float16);
    #: None where the source did not record it (mimic, wavy-kind and intensity copies, older map files)
    block_y: np.ndarray | None = None
    block_share: np.ndarray | None = None


#: folds of the first-stage forests whose out-of-fold probabilities train the auto-context stage
CONTEXT_FOLDS = 2


def fold_of(source: str, name: str, n_folds: int = CONTEXT_FOLDS) -> int:
    """Auto-context fold of a training image (a hash of source and name: augmented copies share it)."""
    return int(hashlib.sha256(f"{source}/{name}".encode()).hexdigest()[:8], 16) % n_folds


def save_maps(path: Path, maps: list[ImageMap]) -> None:
    """Write :class:`ImageMap` s to an uncompressed npz (plain arrays, no pickle)."""
    arrays: dict[str, np.ndarray] = {
        "source": np.array([m.source for m in maps]), "name": np.array([m.name for m in maps]),
        "held": np.array([m.held for m in maps]), "grid_mpp": np.array([m.grid_mpp for m in maps])}
    for i, m in enumerate(maps):
        arrays[f"f{i}"], arrays[f"s{i}"], arrays[f"y{i}"] = m.feats, m.sel, m.y
        if m.block_y is not None and m.block_share is not None:
            arrays[f"b{i}"], arrays[f"h{i}"] = m.block_y, m.block_share
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)  # type: ignore[arg-type]


def load_maps(path: Path) -> list[ImageMap]:
    """The :class:`ImageMap` s of :func:`save_maps`, in their order."""
    with np.load(path, allow_pickle=False) as z:
        src, name, held, gm = z["source"], z["name"], z["held"], z["grid_mpp"]
        files = set(z.files)
        return [ImageMap(str(src[i]), str(name[i]), bool(held[i]), z[f"f{i}"], z[f"s{i}"], z[f"y{i}"], float(gm[i]),
                         z[f"b{i}"] if f"b{i}" in files else None, z[f"h{i}"] if f"h{i}" in files else None)
                for i in range(len(src))]


def alternate_folds(maps: list[ImageMap], n_folds: int = CONTEXT_FOLDS) -> dict[tuple[str, str], int]:
    """Auto-context fold of every training image, alternating in name order within each source (``--context-folds
    alternate``): the images of a source, and of a class within it when names sort by class (osteosarcoma, NCT, Kather
    2016), fall in every fold, which :func:`fold_of`'s hash does not promise (session 25: it put both osteosarcoma
    Non-Viable-Tumor training tiles in fold 0). Augmented copies share their image's fold."""
    names: dict[str, set[str]] = {}
    for m in maps:
        if not m.held:
            names.setdefault(m.source, set()).add(m.name)
    return {(src, n): i % n_folds for src, group in names.items() for i, n in enumerate(sorted(group))}


def sigmas_arg(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected µm scales like 8,16, got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive µm scales like 8,16, got {text!r}")
    return values


def context_settings_arg(sigmas: tuple[float, ...] | None, keep_necrosis: float | None) -> ContextSettings | None:
    """The second stage's :class:`ContextSettings` of ``--context-sigmas`` / ``--context-keep-necrosis`` (None: the
    defaults of :func:`~mmnst_path.classify.train_tissue.train_context_stage`)."""
    if sigmas is None and keep_necrosis is None:
        return None
    try:
        return ContextSettings(sigmas or ContextSettings().sigmas_um, keep_necrosis or 0.0)
    except ConfigError as exc:
        raise SystemExit(f"--context-keep-necrosis: {exc}") from None


def oof_proba_cached(path: Path | None, images: list[ContextImage], model: ClassifierModel, args: argparse.Namespace
               ) -> list[np.ndarray]:
    """Out-of-fold first-stage probability maps (:func:`out_of_fold_proba`), cached in ``path`` when given (with the
    images' folds: a cache made with other folds is refused; files without them were made with the hash folds)."""
    folds = np.array([im.fold for im in images])
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as z:
            n_maps = sum(k.startswith("p") for k in z.files)
            proba = [z[f"p{i}"] for i in range(len(images))] if n_maps == len(images) else None
            saved = z["folds"] if "folds" in z.files else None
        if proba is None or any(p.shape[:2] != im.feats.shape[:2] for p, im in zip(proba, images, strict=True)):
            raise SystemExit(f"--oof-npz {path}: its probability maps are not those of these {len(images)} images")
        old_default = ((getattr(args, "context_folds", None) or "hash") == "hash"
                       and (getattr(args, "context_fold_count", None) or CONTEXT_FOLDS) == CONTEXT_FOLDS)
        same = old_default if saved is None else np.array_equal(saved, folds)
        if not same:
            raise SystemExit(f"--oof-npz {path}: its maps were made with other folds (--context-folds)")
        print(f"out-of-fold maps read from {path}", file=sys.stderr)
        return proba
    t0 = time.time()
    proba = out_of_fold_proba(images, model, n_estimators=args.trees, max_depth=args.depth,
                              min_samples_leaf=args.leaf, jobs=args.jobs)
    print(f"out-of-fold maps in {time.time() - t0:.0f} s", file=sys.stderr)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, folds=folds, **{f"p{i}": p.astype(np.float16) for i, p in enumerate(proba)})
    return proba


def proba_map(model: ClassifierModel, feats: np.ndarray) -> np.ndarray:
    return model.predict_proba(feats.reshape(-1, feats.shape[-1])).astype(np.float32).reshape(*feats.shape[:2], -1)
