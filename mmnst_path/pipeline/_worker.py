"""The per-tile worker of the pipeline (module level: pickled by reference into worker processes)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..aggregate import CELL_CLASSES, CELL_TYPES, CellTable, cell_type_names
from ..geometry import Box
from ._class_window import class_sums, class_window, outside_excluded, tissue_part
from ._config import AnalysisConfig
from ._lean_box import _grown, _mask_box, _nonwhite_box
from ._reach import (
    halo_parts,
    ki67_halo_parts,
    learned_pigment_reach_px,
    pigment_model_of,
    tile_tissue_model,
    warm_up,
)

__all__ = ["TileJob", "TileOutput", "analyze_tile", "halo_parts", "ki67_halo_parts", "tumour_region", "warm_up"]

#: Gaussian (sigma = half of it) on the tissue-class probabilities before the tumour region is taken, µm.
REGION_SMOOTH_UM = 8.0

#: Run a tile's pigment, Ki67 and melanin stages on its non-white part grown by each stage's own
#: reach (:func:`_lean_windows`) instead of the whole tile image: the white margin read past a
#: slide's edge (and white glass) costs nothing, with the same results (bit-identical:
#: tests/pipeline/test_lean_tile.py). False = always the whole tile image (the reference).
LEAN_TILES = True


@dataclass(frozen=True)
class TileJob:
    """What every tile worker needs besides its pixels (small and picklable)."""

    config: AnalysisConfig
    matrix: Any
    measures: tuple[str, ...]
    roi: tuple[np.ndarray, ...] | None
    map_px: int
    #: the slide's :class:`~mmnst_path.classify.tissue.ImageReference` when its tissue model reads the stain
    #: level against the slide (``TissueFeatureSettings.image_reference``), the same for every tile; else None
    tissue_reference: Any = None
    #: the slide's :class:`~mmnst_path.pipeline._region.CountRegion`: cells and areas count only inside
    #: it (None: everything the core owns)
    region: Any = None
    #: ``classify_pigment(..., forest_early_exit=)`` of the pigment stage (:func:`_pigment`): the pixel
    #: forest's exact early exit (the same masks, less CPU on whole-slide tiles; session 28 H2 / H6).
    #: False (default): every tree on every candidate, as :func:`~mmnst_path.pipeline.analyze_region`
    #: and any job built without it
    forest_early_exit: bool = False

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per job (in each process that holds it) and ``key``: the reaches every
        tile of the job reads, functions of its config and model files alone (resolving the models
        and stain matrix they come from costs ~2-5 ms a tile)."""
        store = self.__dict__.setdefault("_memo", {})  # (a frozen dataclass: not a field)
        if key not in store:
            store[key] = compute()
        return store[key]

    def __getstate__(self) -> dict[str, Any]:
        """The fields only: a job sent to a worker process does not carry the memo (models)."""
        state = dict(self.__dict__)
        state.pop("_memo", None)
        return state


@dataclass(frozen=True, eq=False)
class TileOutput:
    """What a tile worker returns: additive counts, owned cells, map blocks (all small).

    ``map_sums[name]`` and ``map_area`` are sums over blocks of ``map_px`` analysis pixels of
    the owned core, aligned on the slide's analysis grid; ``map_origin`` is the block index of
    their first element (``None`` when the tile owns no pixel).
    """

    index: int
    core: Box
    counts: Mapping[str, Any]
    cells: CellTable
    row: Mapping[str, float]
    map_origin: tuple[int, int] | None
    map_area: np.ndarray
    map_sums: Mapping[str, np.ndarray]
    seconds: float


#: Classify a tile's tissue only on the blocks around its core that its results read
#: (:func:`~mmnst_path.pipeline._class_window.class_window`; the same results, bit for bit: tests/pipeline/test_tile_tissue_window.py).
#: False = every block of the tile image (before).
TISSUE_WINDOW = True


def tumour_region(rgb: np.ndarray, *, mpp: float, model: Any, stains: Any,
                  origin: tuple[int, int] | None = None, smooth_um: float = REGION_SMOOTH_UM,
                  necrosis: Any = None, keep: dict[str, Any] | None = None, reference: Any = None,
                  core: tuple[slice, slice] | None = None) -> tuple[np.ndarray, Any, np.ndarray]:
    """Tumour region of a tile: ((M, N) bool, the :class:`~mmnst_path.classify.TissueMap`, its smoothed labels).

    Tissue classes of ``model`` on its output grid aligned to the slide's analysis grid
    (``origin``), probabilities smoothed (``smooth_um``, the pipeline passes ``[necrosis]
    smooth_um``), pixels whose block is ``tumour``. Tile-invariant when the tile carries
    :func:`_halo_um` of context. ``labels`` (the class of every output block, indices into
    ``tmap.classes``, block ``b`` covering pixels ``[b F - off, (b + 1) F - off)``, ``F =
    tmap.factor``, ``off = origin mod F``) is the class map of the region.

    ``necrosis`` (:class:`~mmnst_path.quantify.necrosis.NecrosisParams` whose tissue model is ``model``, or
    None): the class map is then the one whose ``necrosis`` is the measured necrosis (its ``smooth_um``,
    intact-nucleus veto, tissue, holes and minimum area:
    :func:`mmnst_path.quantify._necrosis_model.necrosis_labels`), so the tumour region, the class areas and
    maps agree with the necrosis area; ``smooth_um`` is then ``necrosis.smooth_um``. ``keep`` (a dict, with
    ``necrosis``): receives that function's whole answer as ``keep["necrosis_labels"]``, for
    :func:`~mmnst_path.quantify.necrosis.measure_necrosis` of the same tile (computed once). ``reference``: the
    slide's :class:`~mmnst_path.classify.tissue.ImageReference` for a model that reads the stain level against the
    slide (:attr:`TileJob.tissue_reference`), None otherwise.

    ``core`` (slices of ``rgb``): the pixels whose results the caller reads (the tile's core). The classes
    are then computed on the blocks around it only (:data:`TISSUE_WINDOW`, :func:`~mmnst_path.pipeline._class_window.class_window`): the mask,
    the labels and the necrosis class map are the whole image's there, not elsewhere. None: everywhere.
    """
    from ..classify.tissue import classify_tissue, region_mask, smoothed_labels

    window = need = None
    if core is not None and TISSUE_WINDOW:
        window, need = class_window(rgb.shape[:2], core, mpp=mpp, model=model, origin=origin,
                                    smooth_um=necrosis.smooth_um if necrosis is not None else smooth_um,
                                    necrosis=necrosis)
    tmap = classify_tissue(rgb, mpp=mpp, model=model, stains=stains, origin=origin, reference=reference,
                           window=window)
    if necrosis is not None:
        from ..quantify._necrosis_model import necrosis_labels
        from ..quantify._necrosis_window import NotExact

        try:
            found = necrosis_labels(rgb, mpp, necrosis, tmap, stains, origin=origin, need=need)
        except NotExact:  # (a small necrotic region the window cuts, say: the whole image)
            tmap = classify_tissue(rgb, mpp=mpp, model=model, stains=stains, origin=origin, reference=reference)
            found = necrosis_labels(rgb, mpp, necrosis, tmap, stains, origin=origin)
        labels = found[0]
        if keep is not None:
            keep["necrosis_labels"] = found
    else:
        if tmap.window is not None and need is not None:
            from ..quantify._necrosis_window import reach_blocks, shrink

            known = shrink(tmap.window, reach_blocks(smooth_um, tmap.mpp), tmap.labels.shape)
            if not known[need[0] : need[1], need[2] : need[3]].all():  # (not expected: the window holds the reach)
                tmap = classify_tissue(rgb, mpp=mpp, model=model, stains=stains, origin=origin, reference=reference)
        labels = smoothed_labels(tmap, smooth_um=smooth_um)
    mask = region_mask(labels, tmap.classes, ("tumour",), shape=rgb.shape[:2], factor=tmap.factor, origin=origin)
    return mask, tmap, labels


def _owned_mask(tile: Any, roi: tuple[np.ndarray, ...] | None) -> np.ndarray:
    """(M, N) bool: tile-image pixels whose centre the core owns (and inside the ROI)."""
    owned = np.zeros(tile.shape, dtype=bool)
    owned[tile.core_slices] = True
    if roi is not None:
        from skimage.draw import polygon2mask

        inside = np.zeros(tile.shape, dtype=bool)
        for poly in roi:
            r, c = tile.analysis_from_level0(poly[:, 0], poly[:, 1])
            inside |= polygon2mask(tile.shape, np.column_stack([r, c]))
        owned &= inside
    return owned


def _put(mask: np.ndarray, part: tuple[slice, slice], shape: tuple[int, int]) -> np.ndarray:
    """(M, N) bool of ``shape``: ``mask`` at ``part``, False elsewhere."""
    whole = np.zeros(shape, dtype=bool)
    whole[part] = mask
    return whole


def _block_sums(image: np.ndarray, origin: tuple[int, int], block: int) -> tuple[tuple[int, int], np.ndarray]:
    """Sums of ``image`` over ``block``-pixel cells of the global grid (``origin`` = global px of [0, 0])."""
    br = (origin[0] + np.arange(image.shape[0])) // block
    bc = (origin[1] + np.arange(image.shape[1])) // block
    rs = np.r_[0, np.flatnonzero(np.diff(br)) + 1]
    cs = np.r_[0, np.flatnonzero(np.diff(bc)) + 1]
    sums = np.add.reduceat(np.add.reduceat(image.astype(np.float64), rs, axis=0), cs, axis=1)
    return (int(br[0]), int(bc[0])), sums


def _ki67_cells(cells: Any, tile: Any, keep: np.ndarray, *, marker: bool = False, sheet: bool = False,
                cell_types: tuple[str, ...] = CELL_TYPES) -> CellTable:
    """Level-0 :class:`CellTable` of the kept Ki67 cells of one tile (with the ``melanocytic``
    column when a double stain's melanocyte marker was read, the ``in_spindle_sheet`` and
    ``stain_bin`` columns when the spindle-sheet rule ran: ``Ki67Params.spindle_sheet`` not False); ``cell_type``
    codes index ``cell_types`` (a lab model's own classes by name, :func:`~mmnst_path.aggregate.cell_type_names`),
    a type none of them names is ``other``."""
    row, col = tile.level0_from_analysis(cells.row[keep], cells.col[keep])
    code = {name: i for i, name in enumerate(CELL_CLASSES)}
    cls = np.array([code[str(c)] for c in cells.cls[keep]], dtype=np.int8)
    columns = {
        name: np.asarray(getattr(cells, name))[keep]
        for name in ("area_um2", "dab_od_mean", "dab_od_max", "hematoxylin_od_mean", "circularity",
                     "eccentricity", "intensity_bin", "tumour_probability")
    }
    tcode = {name: i for i, name in enumerate(cell_types)}
    types = np.asarray(cells.cell_type)[keep].astype(str)
    ctype = np.full(types.shape, tcode["other"], dtype=np.int8)
    for name, i in tcode.items():
        ctype[types == name] = i
    columns["cell_type"] = ctype
    if marker:
        columns["melanocytic"] = np.asarray(cells.melanocytic, dtype=bool)[keep]
        columns["marker_od_mean"] = np.asarray(cells.marker_od_mean, dtype=np.float32)[keep]  # the marker's OD
    columns["near_black"] = np.asarray(cells.near_black, dtype=bool)[keep]  # QC: DAB or melanin
    if sheet:  # what the slide's spindle-sheet step reads (aggregate.apply_spindle_sheet)
        columns["in_spindle_sheet"] = np.asarray(cells.in_spindle_sheet, dtype=bool)[keep]
        columns["stain_bin"] = np.asarray(cells.stain_bin, dtype=np.int8)[keep]
    radii = np.asarray(cells.outline_radii)
    if radii.ndim == 2 and radii.shape[1]:  # outlines in level-0 px (float16: 0.03 px steps, half the memory)
        columns["outline_radii"] = (radii[keep] * float(tile.scale)).astype(np.float16)
    return CellTable(np.asarray(row, np.float64), np.asarray(col, np.float64), cls, columns, cell_types)


def _pigment(rgb: np.ndarray, mpp: float, job: TileJob,
             planes: dict[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Melanin mask and Ki67 exclusion mask: the learned pixel model where
    ``config.pigment.uses_model`` (by default every stain system; with an azure B counterstain inside the
    rules' Ki67 exclusion mask, which it returns unchanged), else the rules of
    :func:`mmnst_path.detect.pigment.pigment_masks`. A Ki67 / MART-1 or SOX10 double stain is
    read as its hematoxylin-DAB part (:func:`mmnst_path.quantify.ki67.without_marker`).
    ``planes`` (a dict): receives the OD and unmixing of ``rgb`` the learned path computed
    (``classify_pigment(..., _planes=)``), for the Ki67 and melanin stages (:func:`_planes_at`)."""
    from ..classify._pigment_azure import azure_pigment_masks
    from ..classify.pigment import classify_pigment
    from ..detect.pigment import pigment_masks, pigment_mode
    from ..quantify.ki67 import without_marker

    params = job.config.pigment
    clean, matrix = without_marker(rgb, job.matrix)
    model = job.memo("pigment_model", lambda: pigment_model_of(job.config, matrix))
    if model is None:
        return pigment_masks(clean, mpp=mpp, stains=matrix, params=params)
    if pigment_mode(matrix, params) == "azure":  # the model inside the rules' exclusion mask, which stays
        melanin, exclusion, _ = azure_pigment_masks(clean, mpp=mpp, model=model, stains=matrix, params=params)
        return melanin, exclusion
    # (the planes of a re-rendered double stain are not those of the tile: not kept)
    # the forest's exact early exit (the same mask): the job's choice (session 28 H6)
    mask, _ = classify_pigment(clean, mpp=mpp, model=model, stains=matrix, params=params,
                               forest_early_exit=job.forest_early_exit, _planes=planes if clean is rgb else None)
    return mask, mask


def _planes_at(planes: dict[str, Any], key: str, origin: tuple[int, int], frame: tuple[int, int],
               shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray] | None:
    """``planes[key]`` (lookup tables, per-pixel planes computed at ``origin`` of the tile image),
    taken out of ``planes``, cut to the ``shape`` image at ``frame`` as a C-contiguous array of its
    own (as the stage would have computed it: the whole planes when they are that image, else a
    copy of the part; a tuple of (M, N) planes is stacked on a last axis), or None when the planes
    are missing or do not cover it."""
    if key not in planes:
        return None
    tables, arr = planes.pop(key)
    r0, c0 = frame[0] - origin[0], frame[1] - origin[1]
    full = arr[0].shape if isinstance(arr, tuple) else arr.shape
    if r0 < 0 or c0 < 0 or r0 + shape[0] > full[0] or c0 + shape[1] > full[1]:
        return None
    if isinstance(arr, tuple):  # separate (M, N) planes (the deconvolution's): stacked on a last axis
        return tables, np.stack([p[r0 : r0 + shape[0], c0 : c0 + shape[1]] for p in arr], axis=-1)
    if (r0, c0) == (0, 0) and arr.shape[:2] == tuple(shape[:2]) and arr.flags.c_contiguous:
        return tables, arr
    return tables, np.array(arr[r0 : r0 + shape[0], c0 : c0 + shape[1]], order="C")


def _lean_reach(job: TileJob, mpp: float, measures: tuple[str, ...] | None = None) -> tuple[int, int] | None:
    """Reaches (analysis px) of the pigment stage and of the Ki67 + melanin stages beyond the
    non-white (and pigment) pixels of a tile, or None when the stages run on the whole tile.

    A stage's result is the same on any part of the tile image that holds its non-white pixels plus the
    stage's reach, when the rest of the tile is white and white reads as 0 optical density (white point
    255). The pigment stage's reach is the rules' tile halo (:meth:`~mmnst_path.detect.pigment.PigmentParams.halo_um`)
    or, where the learned model runs, its own chains (:func:`~mmnst_path.pipeline._reach.learned_pigment_reach_px`;
    the 2 px added keep the masks' spill off the window's edge); Ki67's is
    :func:`~mmnst_path.quantify.ki67.unstained_reach_um`; melanin's the 4 sigma of its tissue smoothing. Not
    with a tissue class map (tumour region, necrosis: their block grid and model read every pixel), the
    learned per-tile pigment gate (``[pigment] gate``: its blocks are cut from the input's corner) or
    parameters that could find something in white (``foreground_od``, ``seed_min_response`` or
    ``tissue_min_od`` <= 0). ``measures``: those the stages run for (default ``job.measures``; the melanin
    stage on its own window passes ``("melanin",)``, the class map then reading the whole tile apart from
    it: :func:`_own_window`).
    """
    from ..quantify.ki67 import cell_model_of, unstained_reach_um
    from ..stain.od import od_lut

    cfg = job.config
    measures = job.measures if measures is None else measures
    if not LEAN_TILES or "necrosis" in measures or tile_tissue_model(cfg, job.matrix, measures) is not None:
        return None
    if job.matrix is None or np.any(od_lut(getattr(job.matrix, "background", None))[:, 255] != 0):
        return None
    if cfg.nuclei.foreground_od <= 0 or cfg.nuclei.seed_min_response <= 0 or cfg.melanin.tissue_min_od <= 0:
        return None
    # (the job's one resolution of the model, shared with :func:`_pigment`: ``pigment_model_of``
    # strips a double stain's marker itself, so ``job.matrix`` and the stripped matrix give the same)
    model = job.memo("pigment_model", lambda: pigment_model_of(cfg, job.matrix))
    if model is None:  # the rules' chain
        pig_px = math.ceil(cfg.pigment.halo_um() / mpp)
    elif cfg.pigment.gate.strip().lower() != "off":  # the gate's blocks would be cut elsewhere on a window
        return None
    else:  # the learned stage's own chains (session 38 H8)
        pig_px = learned_pigment_reach_px(cfg, model, job.matrix, mpp)
    measure_um = 4.0 * cfg.melanin.tissue_smooth_um + mpp
    if "ki67" in measures:
        cell = cell_model_of(cfg.ki67, job.matrix)
        measure_um = max(measure_um, unstained_reach_um(cfg.nuclei, cfg.ki67, mpp=mpp, cell_model=cell))
    return pig_px + 2, math.ceil(measure_um / mpp) + 2


def _lean_windows(rgb: np.ndarray, job: TileJob, mpp: float, measures: tuple[str, ...] | None = None
                  ) -> tuple[tuple[int, int, int, int], tuple[slice, slice], int] | None:
    """The non-white box of the tile image (r0, r1, c0, c1), the part of it the pigment stage
    runs on and the Ki67 / melanin reach (px), or None (the whole tile; see :func:`_lean_reach`,
    ``measures`` as there)."""
    from ..detect._morphology import WATERSHED_BAND_ROWS

    if rgb.shape[0] <= WATERSHED_BAND_ROWS:  # one watershed call: its ties depend on the array
        return None
    reach = job.memo(("lean_reach", mpp, measures), lambda: _lean_reach(job, mpp, measures))
    box = _nonwhite_box(rgb) if reach is not None else None
    if reach is None or box is None:
        return None
    win = _grown(box, reach[0], rgb.shape[:2])
    m, n = rgb.shape[:2]
    if (win[0].stop - win[0].start) * (win[1].stop - win[1].start) > 0.9 * m * n:
        return None  # nothing worth saving
    return box, win, reach[1]


#: Run the pigment and melanin stages of a slide that measures melanin without Ki67 on the tile
#: image a melanin-only run reads (the core grown by the melanin halo, :func:`_own_window`), however
#: wide the halo the other measures (necrosis, tissue classes) set: the pigment stage was not
#: tile-invariant at its declared halo (the H&E pixel model's ``blob_*`` features read whole
#: connected bodies), so its mask followed the tile's extent (session 37 H9 / H10; the H&E model
#: reads bounded ``body_*`` features since ``pigment_he.mmnst`` 2, the H-DAB models still read
#: ``blob_*``). False = the whole tile image (before).
OWN_HALO = True


def _own_window(tile: Any, job: TileJob, mpp: float) -> tuple[slice, slice] | None:
    """Slices of the tile image that a run measuring melanin alone would read (the core grown by
    the halo of :func:`halo_parts` for ``("melanin",)``), or None: the whole image (Ki67 measured,
    whose pigment exclusion mask the same pass computes, or no melanin, or :data:`OWN_HALO` off).
    The tiles are planned with a white margin past the slide's edge (never clipped), so the cut is
    the same on every side."""
    from ..tiling import halo_px

    if not OWN_HALO or "melanin" not in job.measures or "ki67" in job.measures:
        return None
    own = job.memo(("own_halo", mpp),
                   lambda: halo_px(max(halo_parts(job.config, ("melanin",)).values()), mpp))
    cut = int(tile.halo) - own
    m, n = tile.shape
    if cut < 0 or 2 * cut >= min(m, n):
        return None
    return slice(cut, m - cut), slice(cut, n - cut)


#: Run the Ki67 stage on the tile's core grown by the Ki67 reach that follows the pigment mask
#: (:func:`ki67_halo_parts` less its ``pigment`` step) instead of the whole tile: the outer ring
#: only holds the pigment stage's context. False = the whole tile (or its lean part).
KI67_WINDOW = True


def _ki67_window(tile: Any, job: TileJob, mpp: float, frame: tuple[int, int],
                 shape: tuple[int, ...]) -> tuple[slice, slice] | None:
    """Slices (of the image the Ki67 stage would see, at ``frame`` in the tile) of the tile core
    grown by the Ki67 stage's own reach, or None when that is the whole image.

    The cells the core owns depend on the image within that reach of the core, given the
    pigment mask (which the tile computes on its whole image: its reach is the rest of the
    tile halo). At least :data:`~mmnst_path.detect._morphology.WATERSHED_BAND_ROWS` + 1 rows are
    kept, as in :func:`_grown`.
    """
    from ..detect._morphology import WATERSHED_BAND_ROWS

    steps = job.memo("ki67_halo_parts", lambda: ki67_halo_parts(job.config))
    reach = math.ceil((sum(steps.values()) - steps["pigment"]) / mpp) + 1  # (+1: a centroid owned past the last owned pixel centre)
    rs, cs = tile.core_slices
    if rs.stop <= rs.start or cs.stop <= cs.start:
        return None
    r0, r1 = max(rs.start - reach - frame[0], 0), min(rs.stop + reach - frame[0], shape[0])
    c0, c1 = max(cs.start - reach - frame[1], 0), min(cs.stop + reach - frame[1], shape[1])
    need = min(WATERSHED_BAND_ROWS + 1, shape[0])
    if r1 - r0 < need:
        r1 = min(r0 + need, shape[0])
        r0 = r1 - need
    if r1 <= r0 or c1 <= c0 or (r0, r1, c0, c1) == (0, shape[0], 0, shape[1]):
        return None
    return slice(r0, r1), slice(c0, c1)


def analyze_tile(rgb: np.ndarray, tile: Any, job: TileJob) -> TileOutput:
    """Measure one tile; count only what its core owns (and what lies in the ROI).

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Tile image (core + halo) at ``tile.analysis_mpp``.
    tile : mmnst_path.tiling.Tile
        The tile planned for this image.
    job : TileJob
        Config, stain matrix, measures, ROI and map block size.

    Returns
    -------
    TileOutput
    """
    from ..quantify.ki67 import measure_ki67

    t0 = time.perf_counter()
    cfg, mpp = job.config, tile.analysis_mpp
    owned = _owned_mask(tile, job.roi)
    counted = job.region.for_tile(tile) if job.region is not None else None  # (None: the core is all inside)
    if counted is not None:
        owned &= counted.pixels(tile)
    px_um2 = mpp * mpp
    counts: dict[str, Any] = {}
    row: dict[str, float] = {"owned_um2": float(owned.sum()) * px_um2}
    sums: dict[str, np.ndarray] = {}
    cells = CellTable.empty()
    origin = (tile.origin[0], tile.origin[1])

    # one pass of the pigment detector: a tight mask for the melanin area and a wider exclusion
    # mask (pigment grown through granule clusters) that keeps melanin out of the Ki67 nuclei
    pigment = exclusion = pigment_sub = exclusion_sub = None
    # melanin without Ki67: the pigment and melanin stages read what a melanin-only run reads (the
    # class map below reads the whole tile image, ``tile_rgb``)
    tile_rgb, tile_owned = rgb, owned
    own = _own_window(tile, job, mpp)
    if own is not None:
        rgb, owned = np.ascontiguousarray(rgb[own]), owned[own]
    owned_sub = owned
    lean = None
    if "ki67" in job.measures or "melanin" in job.measures:
        lean = _lean_windows(rgb, job, mpp, ("melanin",) if own is not None else None)
    full = rgb  # (the Ki67 / melanin stages below run on ``rgb``, the lean part when there is one)
    frame = (0, 0)
    # the OD and unmixing the pigment stage computed (at ``planes_origin`` of the tile image), read
    # again by the Ki67 and melanin stages where they cover their part of the tile
    planes: dict[str, Any] = {}
    planes_origin = (0, 0)
    if lean is not None:
        box, win, reach = lean
        pigment = np.zeros(rgb.shape[:2], dtype=bool)
        exclusion = np.zeros(rgb.shape[:2], dtype=bool)
        planes_origin = (win[0].start, win[1].start)
        pigment[win], exclusion[win] = _pigment(np.ascontiguousarray(rgb[win]), mpp, job, planes=planes)
        # the Ki67 / melanin part: the non-white pixels and the pigment (which may lie beside them)
        sub = _grown(_mask_box(pigment | exclusion, box), reach, rgb.shape[:2])
        frame = (sub[0].start, sub[1].start)
        rgb, pigment_sub, exclusion_sub, owned_sub = np.ascontiguousarray(rgb[sub]), pigment[sub], exclusion[sub], owned[sub]
    elif "ki67" in job.measures or "melanin" in job.measures:
        pigment, exclusion = _pigment(rgb, mpp, job, planes=planes)
        pigment_sub, exclusion_sub, owned_sub = pigment, exclusion, owned
    melanin = None
    if "melanin" in job.measures:  # measured now, with the pigment stage's OD (reported below, in order)
        from ..quantify.melanin import measure_melanin

        melanin = measure_melanin(
            rgb, mpp=mpp, stains=job.matrix, params=cfg.melanin, tissue=owned_sub, pigment=pigment_sub,
            pigment_params=cfg.pigment, _od=_planes_at(planes, "od", planes_origin, frame, rgb.shape),
        )
    planes.pop("od", None)
    if "ki67" not in job.measures:
        planes.clear()
    if own is not None:  # back to the whole tile image (the class map, necrosis)
        if melanin is not None:
            mel_full = np.zeros(tile_rgb.shape[:2], dtype=bool)
            mel_full[own] = pigment if lean is not None else melanin[1]
            if lean is not None:
                from dataclasses import replace

                melanin = (replace(melanin[0], region_um2=float(np.count_nonzero(owned)) * px_um2), mel_full)
                lean = None  # (done here)
            else:
                melanin = (melanin[0], mel_full)
        rgb, owned = tile_rgb, tile_owned

    # the tissue class map, computed once: Ki67 tumour region, necrosis, class areas and maps
    tumour = tmap = None
    per_map = np.zeros((0, 0, 0))
    found: dict[str, Any] = {}  # the necrosis class map of this tile, computed once for the map and the area
    tmodel = tile_tissue_model(cfg, job.matrix, job.measures)
    # the tissue stage reads the tile cut at the slide's edge (``part``), unless Ki67 reads its tumour region
    part, t_rgb, t_owned, t_origin, t_core = tissue_part(
        rgb, owned, tile, clip=not ("ki67" in job.measures and cfg.ki67.count_in == "tumour"))
    if tmodel is not None:  # (the whole tile image, its blocks around the core: never its lean or own part)
        # with the necrosis model, the class map whose necrosis is the measured one (veto, minimum area)
        nec_params = cfg.necrosis if tmodel is cfg.necrosis.model() else None
        tumour, tmap, labels = tumour_region(t_rgb, mpp=mpp, model=tmodel, stains=job.matrix, origin=t_origin,
                                             smooth_um=cfg.necrosis.smooth_um, necrosis=nec_params, keep=found,
                                             reference=job.tissue_reference, core=t_core)
        if part is not None:  # (outside the slide: no tumour)
            tumour = _put(tumour, part, rgb.shape[:2])
        areas, per_map = class_sums(labels, len(tmap.classes), t_owned, t_core, origin=t_origin,
                                    factor=tmap.factor, map_px=job.map_px)
        for i, name in enumerate(tmap.classes):
            row[f"class_{name}_um2"] = float(areas[i]) * px_um2

    if "ki67" in job.measures:
        k_rgb, k_exclusion, k_frame = rgb, exclusion_sub, frame
        kwin = _ki67_window(tile, job, mpp, frame, rgb.shape[:2]) if KI67_WINDOW else None
        if kwin is not None:  # the core plus the Ki67 reach past the pigment mask (the rest is its context)
            assert k_exclusion is not None
            k_rgb, k_exclusion = np.ascontiguousarray(rgb[kwin]), k_exclusion[kwin]
            k_frame = (frame[0] + kwin[0].start, frame[1] + kwin[1].start)
        region = measure_ki67(
            k_rgb, mpp=mpp, stains=job.matrix, nuclei_params=cfg.nuclei, params=cfg.ki67, pigment_mask=k_exclusion,
            origin=k_frame, extent=full.shape[:2], grid_origin=(origin[0] + k_frame[0], origin[1] + k_frame[1]),
            _conc=_planes_at(planes, "deconvolution", planes_origin, k_frame, k_rgb.shape),
        )
        del k_rgb, k_exclusion
        c = region.cells
        if cfg.ki67.count_in == "tumour" and tumour is not None:  # nuclei outside the tumour region: excluded
            c = outside_excluded(c, tumour)
            row["tumour_region_um2"] = float((tumour & owned).sum()) * px_um2
        r_l0, c_l0 = tile.level0_from_analysis(c.row, c.col)
        keep = np.asarray(tile.owns(r_l0, c_l0), dtype=bool).reshape(-1)
        if counted is not None and keep.any():
            keep &= counted.inside(r_l0, c_l0)
        if job.roi is not None and keep.any():
            from skimage.measure import points_in_poly

            pts = np.column_stack([r_l0, c_l0])
            keep &= np.any([points_in_poly(pts, poly) for poly in job.roi], axis=0)
        counts["ki67"] = c.select(keep).counts()
        from ..quantify.ki67 import cell_model_of, marker_of

        model = cell_model_of(cfg.ki67, job.matrix)
        cells = _ki67_cells(c, tile, keep, marker=marker_of(job.matrix, cfg.ki67) is not None,
                            sheet=cfg.ki67.spindle_sheet is not False,
                            cell_types=cell_type_names(None if model is None else model.class_names))
        row.update(ki67_positive=counts["ki67"].positive, ki67_negative=counts["ki67"].negative,
                   ki67_pigment=counts["ki67"].pigment, ki67_excluded=counts["ki67"].excluded,
                   ki67_near_black_positive=counts["ki67"].near_black_positive,
                   ki67_near_black_negative=counts["ki67"].near_black_negative)

    if melanin is not None:
        mel_counts, mel_mask = melanin
        if lean is not None:  # the owned area outside the lean part (white: no tissue, no melanin)
            from dataclasses import replace

            mel_counts = replace(mel_counts, region_um2=float(np.count_nonzero(owned)) * px_um2)
            assert pigment is not None
            mel_mask = pigment  # (the whole tile's: zero outside the pigment stage's part)
        counts["melanin"] = mel_counts
        row["melanin_um2"] = float(mel_counts.melanin_um2)
        sums["melanin"] = np.asarray(mel_mask, dtype=bool) & owned
        if tumour is not None:  # melanin inside the tumour region (melanin fraction of tumour)
            row["melanin_tumour_um2"] = float((sums["melanin"] & tumour).sum()) * px_um2

    if "necrosis" in job.measures:
        from ..quantify.necrosis import mask_to_tile, measure_necrosis

        # blocks of the low-resolution necrosis grid are aligned to the slide's analysis grid
        # (origin), so the necrosis area does not depend on the tile size
        same = tmap is not None and tmodel is cfg.necrosis.model()
        nec_counts, nec_mask, nec_mpp = measure_necrosis(
            t_rgb, mpp=mpp, params=cfg.necrosis, tissue=t_owned, stains=job.matrix, origin=t_origin,
            tissue_map=tmap if same else None, necrosis_labels=found.get("necrosis_labels") if same else None,
            reference=job.tissue_reference,
        )
        counts["necrosis"] = nec_counts
        row["necrosis_um2"] = float(nec_counts.necrosis_um2)
        nm = mask_to_tile(nec_mask, t_rgb.shape[:2], mpp=mpp, mask_mpp=nec_mpp, origin=t_origin)
        if part is not None:
            nm = _put(nm, part, tile.shape)
        sums["necrosis"] = np.asarray(nm, dtype=bool) & owned

    # low-resolution maps: owned-pixel sums per map block, over the core's bounding slices only
    rs, cs = tile.core_slices
    map_origin, map_area, map_sums = None, np.zeros((0, 0)), {}
    if rs.stop > rs.start and cs.stop > cs.start:
        sub_origin = (origin[0] + rs.start, origin[1] + cs.start)
        map_origin, map_area = _block_sums(owned[rs, cs], sub_origin, job.map_px)
        map_sums = {f"class:{name}": per_map[i] for i, name in enumerate(tmap.classes)} if tmap is not None else {}
        map_sums.update({k: _block_sums(v[rs, cs], sub_origin, job.map_px)[1] for k, v in sums.items()})
    row["seconds"] = time.perf_counter() - t0
    return TileOutput(tile.index, tile.core, counts, cells, row, map_origin, map_area, map_sums, row["seconds"])

