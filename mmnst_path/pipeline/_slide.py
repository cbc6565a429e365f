"""Whole-slide and in-memory analysis: :func:`analyze_slide` and :func:`analyze_region`."""

from __future__ import annotations

import functools
import math
import os
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..aggregate import (
    CELL_CLASSES,
    CellTable,
    LowResMap,
    SlideResult,
    TileTable,
    apply_slide_threshold,
    apply_spindle_sheet,
    find_hotspot,
    ki67_tile_map,
    sum_counts,
)
from ..geometry import require_mpp
from ..quantify.ki67 import nuclear_contrast_applies
from ..stain.guess import guess_stains_detail, warn_if_ambiguous, with_slide_white_point
from ..stain.places import PATCH_MPP, PLACES_MAX_MPP, tissue_patches
from ..tiling import as_polygons
from ._caught import run_keeping_warnings
from ._config import AnalysisConfig, applicable_measures
from ._memory import release_free_memory
from ._model_stains import check_run_models, model_cautions, necrosis_not_measured
from ._reach import _halo_um, pigment_model_of, tile_tissue_model, warm_up
from ._region import CountRegion
from ._results import (
    _assemble_maps,
    _lab_cell_types,
    _metrics,
    _spindle_sheet_nuclei,
    _tissue_classes,
    melanocyte_metrics,
)
from ._scale_check import check_analysis_mpp
from ._stain_check import check_named_stains, marker_found
from ._stain_sources import detection_record, mpp_source, stains_source, unsure_he_warning
from ._warmup import compile_in_child, compile_kernels, kernels_cached
from ._worker import TileJob, TileOutput, analyze_tile

__all__ = ["TILE_UM_RANGE", "TISSUE_MPP_RANGE", "analyze_region", "analyze_slide", "check_scales"]

#: Plausible tile core sides, µm. Below, the halo read around every tile (tens of µm) dwarfs the
#: core and a slide becomes millions of tiles; above, one tile no longer fits in memory.
TILE_UM_RANGE = (16.0, 16384.0)

#: Plausible resolutions of the tissue mask, µm per pixel (default 8): finer makes the
#: thumbnail as large as the slide itself.
TISSUE_MPP_RANGE = (1.0, 100.0)


def check_scales(config: AnalysisConfig, mpp: float | None = None) -> None:
    """Refuse physically implausible scales before any work (not after minutes of it).

    ``mpp`` (level-0 µm per pixel) and ``config.analysis_mpp`` must lie in
    :data:`mmnst_path.io._metadata.MPP_RANGE_UM`, ``config.tissue_mpp`` in
    :data:`TISSUE_MPP_RANGE`, ``config.tile_um`` in :data:`TILE_UM_RANGE`.
    Raises :class:`~mmnst_path.errors.ConfigError` naming the value and the range.
    """
    from ..errors import ConfigError
    from ..io._metadata import MPP_RANGE_UM

    checks = [("analysis_mpp", config.analysis_mpp, MPP_RANGE_UM, "µm per pixel"),
              ("tissue_mpp", config.tissue_mpp, TISSUE_MPP_RANGE, "µm per pixel"),
              ("tile_um", config.tile_um, TILE_UM_RANGE, "µm")]
    if mpp is not None:
        checks.insert(0, ("mpp", mpp, MPP_RANGE_UM, "µm per pixel"))
    hints = {"mpp": "0.1-1 µm/px for slide scanners", "analysis_mpp": "0.25-1 µm/px for nuclei",
             "tissue_mpp": "8 µm/px by default", "tile_um": "a few hundred µm is typical"}
    for name, value, (lo, hi), unit in checks:
        if not (math.isfinite(value) and lo <= value <= hi):
            what = "pixel size" if "mpp" in name else "tile core side"
            msg = f"{name} = {value:g} {unit} is not a plausible {what}: expected {lo:g} to {hi:g} {unit} ({hints[name]})"
            raise ConfigError(msg)


def _models(config: AnalysisConfig, measures: Sequence[str], matrix: Any = None) -> dict[str, str]:
    """The classifier models a run used: ``cell_model`` / ``tissue_model`` / ``intact_model`` / ``pigment_model``
    as ``id name version`` (``pigment_model``: ``"rules"`` when the rule-based melanin detector ran)."""
    from ..classify import resolve_model

    def text(model: Any) -> str:
        return "none" if model is None else f"{model.model_id} {model.name} {model.card.get('version', '')}".strip()

    out = {}
    if "ki67" in measures:
        from ..quantify.ki67 import cell_model_of

        cell = resolve_model(config.ki67.cell_model, "nucleus") if matrix is None else cell_model_of(config.ki67, matrix)
        out["cell_model"] = text(cell)
        if config.ki67.hidden_model != "none":  # the opt-in hidden-nucleus model (it acts on H-DAB only)
            from ..classify.hidden_nuclei import resolve_hidden_model
            from ..quantify._ki67_stains import stain_pair

            on = matrix is None or stain_pair(matrix) == ("hematoxylin", "dab")
            out["hidden_model"] = text(resolve_hidden_model(config.ki67.hidden_model)) if on else "none (H-DAB only)"
        if config.ki67.pigment_cell_model != "none":  # the opt-in pigment-cell model (it acts on H-DAB only)
            from ..classify.hidden_nuclei import resolve_cell_model
            from ..quantify._ki67_stains import stain_pair

            on = matrix is None or stain_pair(matrix) == ("hematoxylin", "dab")
            out["pigment_cell_model"] = (text(resolve_cell_model(config.ki67.pigment_cell_model)) if on
                                         else "none (H-DAB only)")
    if "necrosis" in measures or ("ki67" in measures and config.ki67.count_in == "tumour"):
        out["tissue_model"] = text(tile_tissue_model(config, matrix, measures))
    nec = config.necrosis
    if ("necrosis" in measures and nec.tissue_model.strip().lower() != "none" and nec.intact_veto_density > 0
            and nec.intact_model != "none"):  # the intact-nucleus veto's model (it runs at <= intact_max_mpp_um)
        from ..quantify._intact_model import resolve_intact_model

        out["intact_model"] = text(resolve_intact_model(nec.intact_model))
    if "ki67" in measures or "melanin" in measures:
        pmodel = pigment_model_of(config, matrix)
        out["pigment_model"] = "rules" if pmodel is None else text(pmodel)
        if pmodel is not None and config.pigment.gate.strip().lower() != "off":  # the opt-in per-tile gate
            from ..classify._pigment_gate import resolve_gate_model

            out["pigment_gate"] = text(resolve_gate_model(config.pigment.gate))
    return out


@functools.cache
def _versions_cached() -> tuple[tuple[str, str], ...]:
    """The installed versions (read once a process: each ``importlib.metadata`` look-up parses a
    package's metadata file, ~20 ms for the whole list)."""
    out = {"mmnst_path": __version__, "python": platform.python_version()}
    for dist in ("numpy", "scipy", "scikit-image", "tifffile", "imagecodecs", "openslide-python", "numba", "dask"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return tuple(out.items())


def _versions() -> dict[str, str]:
    return dict(_versions_cached())


def _check_roi(roi: Sequence[np.ndarray] | None) -> tuple[np.ndarray, ...] | None:
    return None if roi is None else tuple(as_polygons(roi))


def _check_roi_inside(polys: tuple[np.ndarray, ...], shape0: tuple[int, int], where: str) -> None:
    """Refuse an ROI that lies entirely outside the image; warn for polygons that do."""
    from ..errors import RegionError
    from ..geometry import Box
    from ..tiling.grid import _polygon_intersects_box

    image = Box(0, 0, shape0[0], shape0[1])
    outside = [i for i, p in enumerate(polys) if not _polygon_intersects_box(p, image)]
    if len(outside) == len(polys):
        lo, hi = np.min([p.min(axis=0) for p in polys], axis=0), np.max([p.max(axis=0) for p in polys], axis=0)
        msg = (f"{where}: the ROI lies entirely outside the image ({shape0[0]} x {shape0[1]} px, rows x cols); "
               f"its vertices span rows {lo[0]:g} to {hi[0]:g}, cols {lo[1]:g} to {hi[1]:g} (level-0 px)")
        raise RegionError(msg)
    if outside:
        warnings.warn(f"{where}: ROI polygons {outside} lie entirely outside the image "
                      f"({shape0[0]} x {shape0[1]} px) and are ignored", stacklevel=3)


def _roi_fraction(mask: np.ndarray, scale: tuple[float, float], roi: tuple[np.ndarray, ...]) -> np.ndarray:
    """The tissue ``mask`` (thumbnail grid, ``scale`` level-0 px per pixel) restricted to the ROI."""
    from skimage.draw import polygon2mask

    inside = np.zeros(mask.shape, dtype=bool)
    for poly in roi:
        verts = np.column_stack([(poly[:, 0] + 0.5) / scale[0] - 0.5, (poly[:, 1] + 0.5) / scale[1] - 0.5])
        inside |= polygon2mask(mask.shape, verts)
    return mask & inside


def _pool_size(workers: int | None, scheduler: Any, shape0: tuple[int, int], mpp0: float, tile_um: float) -> int:
    """Local worker processes worth starting before the tiles are planned: the workers asked for
    (default: all cores), at most the grid's tile count before tissue is looked at (a one-tile
    image runs in this process, as :func:`~mmnst_path.tiling.map_tiles` would run it); 0 with a
    Dask scheduler."""
    if scheduler is not None or (workers is not None and (not isinstance(workers, int) or workers < 2)):
        return 0  # (map_tiles reports a bad worker count)
    grid = math.ceil(shape0[0] * mpp0 / tile_um) * math.ceil(shape0[1] * mpp0 / tile_um)
    return min(workers if workers is not None else os.cpu_count() or 1, grid)


#: images of at most this many level-0 pixels are read whole for their tissue reference (a plain image: the
#: reference :func:`~mmnst_path.classify.tissue.classify_tissue` takes of a whole image); larger slides use the
#: tissue-detection thumbnail
REFERENCE_WHOLE_MAX_PX = 6000 * 6000


def _tissue_reference(config: AnalysisConfig, matrix: Any, measures: Sequence[str], tissue: Any, reader: Any,
                      mpp0: float) -> Any:
    """The slide's :class:`~mmnst_path.classify.tissue.ImageReference` (glass and stain level) when a tissue model
    of this run reads the stain level against the slide (``TissueFeatureSettings.image_reference``), else None.

    Computed once here, so that every tile gets the same one and the class map does not depend on the tiling,
    with the rule a whole image gets (:func:`~mmnst_path.classify.tissue.image_reference` without a mask, on an
    8 µm grid): a plain image or a small slide (at most :data:`REFERENCE_WHOLE_MAX_PX` pixels) is read whole, so
    ``analyze_region`` and ``classify_tissue`` of the same image agree; a larger slide's reference comes from its
    tissue-detection thumbnail, as averaged to that grid."""
    from ..classify.tissue import image_reference, tissue_feature_settings
    from ..errors import ConfigError
    from ..geometry import Box

    models = [tile_tissue_model(config, matrix, measures)]
    if "necrosis" in measures:
        models.append(config.necrosis.model())
    needing = [st for st in (tissue_feature_settings(m) for m in models if m is not None) if st.image_reference]
    if not needing:
        return None
    eps = {st.eps_od for st in needing}
    if len(eps) > 1:
        msg = f"the tissue models of this run read the image reference with different eps_od {sorted(eps)}"
        raise ConfigError(msg)
    h, w = (int(v) for v in reader.shape[:2])
    if h * w <= REFERENCE_WHOLE_MAX_PX:
        rgb = np.asarray(reader.read_region(Box(0, 0, h, w), 0), np.uint8)[..., :3]
        return image_reference(rgb, mpp=mpp0, eps_od=needing[0].eps_od)
    return image_reference(np.asarray(tissue.thumbnail, np.uint8), mpp=tissue.mask_mpp, eps_od=needing[0].eps_od)


def _tile_costs(tiles: Sequence[Any], tissue: Any) -> list[float]:
    """Expected work of each tile: pixels read, weighted by the tissue share of the read box (a
    tile's stages run on every pixel read, nucleus and pigment work grows with the tissue)."""
    return [t.shape[0] * t.shape[1] * (0.25 + tissue.fraction_in(t.read)) for t in tiles]


def _threshold_used(slide_threshold: float, params: Any, matrix: Any) -> float:
    """The Ki67 positivity threshold (log10 OD of the chromogen) that decided, for the result's
    ``ki67_positive_threshold_od``: the slide's (:func:`mmnst_path.aggregate.apply_slide_threshold`,
    which reads the DAB-unit parameters and only adds positives), or the counterstain's own tile
    threshold where it is lower. Azure B tiles count at ``azure_positive_threshold_od``
    (``Ki67Params.for_counterstain``, 0.225 by default): a slide value of 0.35 was never the one a
    nucleus had to reach. With hematoxylin the tiles' threshold is the slide step's ceiling, so the
    slide's value is returned unchanged."""
    from ..quantify.ki67 import counterstain_of

    tiles = params.for_counterstain(counterstain_of(matrix)).positive_threshold_od
    return slide_threshold if slide_threshold <= tiles else float(tiles)


def analyze_slide(
    path: str | Path | Any,
    config: AnalysisConfig | None = None,
    *,
    mpp: float | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    roi: Sequence[np.ndarray] | None = None,
) -> SlideResult:
    """Analyse a whole slide (or any image file) tile by tile.

    Parameters
    ----------
    path : path or SlideReader
        Slide or image file; an :class:`~mmnst_path.io.ArrayReader` runs in memory.
    config : AnalysisConfig, optional
        Analysis parameters (defaults when omitted: ``stains="auto"``, the stains chosen from the image as
        ``mmnst-path quantify`` chooses them; ``result.stains`` records the preset chosen and why).
    mpp : float, optional
        Level-0 µm per pixel, overriding the file's metadata (required when it has none).
    workers : int, optional
        Worker processes (default: all cores; 1 runs in this process).
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:port``) instead of a local pool.
    progress : callable, optional
        Called as ``progress(done, total)`` as tiles complete.
    roi : sequence of (K, 2) arrays, optional
        Region-of-interest polygons, level-0 (row, col) vertices: only cells whose centroid is
        inside and areas inside are counted.

    Returns
    -------
    SlideResult
        Counts, metrics (ratios from totals; undefined = NaN), hot spot, per-tile table, cells,
        low-resolution maps (``"tissue"`` fraction, ``"thumbnail"`` (m, n, 3) uint8 RGB of the
        tissue-detection thumbnail, ``"ki67"``, ``"melanin"``, ``"necrosis"``), the config, stain
        vectors, versions, timings and the run's warnings (each also issued as a Python warning: e.g. named
        stains the image contradicts, ``stains.named_check``).
    """
    result, said = run_keeping_warnings(_analyze_slide, path, config, mpp=mpp, workers=workers, scheduler=scheduler,
                                        progress=progress, roi=roi)
    return replace(result, warnings=said)


def _analyze_slide(path: Any, config: AnalysisConfig | None, *, mpp: float | None, workers: int | None,
                   scheduler: str | None, progress: Callable[[int, int], None] | None,
                   roi: Sequence[np.ndarray] | None) -> SlideResult:
    """:func:`analyze_slide` without keeping its warnings."""
    from ..io import ArrayReader, SlideReader, open_slide
    from ..tiling import costliest_first, detect_tissue, map_tiles, plan_grid, start_pool

    config = config if config is not None else AnalysisConfig()
    check_scales(config, mpp)
    polys = _check_roi(roi)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    auto_stains = config.stains.strip().lower() == "auto"
    if not auto_stains:
        matrix = config.stain_matrix()
        measures = applicable_measures(config, matrix)
        check_run_models(config, matrix, measures)  # a model file of other stains: refused before the slide opens

    own_reader = not isinstance(path, SlideReader)
    reader: SlideReader = open_slide(path, mpp=mpp) if not isinstance(path, SlideReader) else path
    pool = None
    try:
        if mpp is None and reader.mpp is None and getattr(reader, "mpp_note", None):
            from ..errors import MissingMetadataError

            msg = (f"{reader.describe()}: microns per pixel (mpp) unknown: {reader.mpp_note}. Pass it explicitly "
                   "(mpp=... in Python, --mpp X on the command line)")
            raise MissingMetadataError(msg)
        mpp0 = require_mpp(mpp if mpp is not None else reader.mpp, what=f"image {reader.describe()}")
        check_scales(config, mpp0)
        check_analysis_mpp(config.analysis_mpp, source=reader.describe())
        if reader.mpp != mpp0:  # an explicit mpp for a reader given by the caller
            reader.mpp = mpp0
        shape0 = (int(reader.shape[0]), int(reader.shape[1]))
        n_local = _pool_size(workers, scheduler, shape0, mpp0, config.tile_um)
        if scheduler is None and kernels_cached() is False:
            # a fresh installation: compile the kernels once, in a child process that exits, instead
            # of in every worker at the same time (CMU-1, 2 workers, cold: 273 s of tile CPU and 569
            # MiB a process; warm 51 s, 403 MiB) or in this process, which would keep LLVM's memory
            # while it analyses (1 worker: ~160 MiB more peak; benchmarks/README.md)
            if not compile_in_child() and n_local > 1:
                compile_kernels()
        if n_local > 1:  # workers start (import, load models) while this process finds the tissue
            pool = start_pool(n_local, warm_up=warm_up, args=(config,))
        if polys is not None:
            _check_roi_inside(polys, shape0, reader.describe())
        timings["open"] = time.perf_counter() - t_start

        if not auto_stains and config.tissue.remove_pen and "azure_b" in config.stain_matrix().names:
            # an azure B counterstain colours tissue blue-green, which the pen-ink filter removes
            # (generated AzureB-DAB tiles on tinted glass: 4 of 160 lost all their tissue)
            config = config.replace(tissue={**config.to_mapping()["tissue"], "remove_pen": False})
        t = time.perf_counter()
        tissue = detect_tissue(reader, mask_mpp=config.tissue_mpp, params=config.tissue)
        timings["tissue"] = time.perf_counter() - t
        detection: dict[str, Any] | None = None
        named_check: dict[str, Any] | None = None
        if auto_stains:
            patches = None
            if tissue.mask_mpp is not None and tissue.mask_mpp > PLACES_MAX_MPP:  # nuclei unresolved: read a few
                patches = tissue_patches(reader, tissue.mask, tissue.scale, mpp0)
            guess = guess_stains_detail(tissue.thumbnail, tissue.mask, mpp=tissue.mask_mpp, patches=patches,
                                        patches_mpp=max(PATCH_MPP, mpp0))
            warn_if_ambiguous(guess, source=str(path) if isinstance(path, str | Path) else None,
                              marker=config.ki67.melanocyte_marker)  # a marker chosen: the one the advice names
            detection = detection_record(guess)
            config = config.replace(stains=guess.name)
            if guess.marker and config.ki67.melanocyte_marker == "auto":  # a double stain's marker: where it sits
                config = config.replace(ki67={**config.ki67.to_mapping(), "melanocyte_marker": guess.marker})
                detection["marker"] = guess.marker
            matrix = config.stain_matrix()
            config = marker_found(config, matrix, guess.name, source=reader.describe())  # a marker chosen, no double
            measures = applicable_measures(config, matrix)
            no_ki67 = unsure_he_warning(getattr(matrix, "name", guess.name), matrix.names, detection,
                                        measures_named=bool(config.measures))
            if no_ki67 is not None:  # Ki67 asked for (by default) on an image read as H&E by an unsure call
                warnings.warn(no_ki67, UserWarning, stacklevel=2)
            if config.tissue.remove_pen and "azure_b" in matrix.names:  # as above: keep blue-green tissue
                config = config.replace(tissue={**config.to_mapping()["tissue"], "remove_pen": False})
                tissue = detect_tissue(reader, mask_mpp=config.tissue_mpp, params=config.tissue)
        else:  # named stains: the same guess, to warn when the image contradicts them (the run goes on)
            named_check = check_named_stains(tissue, matrix, source=reader.describe(), reader=reader, mpp0=mpp0)
        # red chromogens: OD against the slide's glass, not 255 (a tinted scan turns red into brown)
        matrix = with_slide_white_point(matrix, tissue.thumbnail, tissue.mask)
        if "ki67" in measures:  # the chromogen's own positive threshold (Fast Red), recorded in the config
            from ..quantify.ki67 import chromogen_of

            ki67 = config.ki67.for_chromogen(chromogen_of(matrix))
            if ki67 is not config.ki67:
                config = config.replace(ki67=ki67.to_mapping())

        if auto_stains:  # the stains found: a model file of other stains is refused before any tile
            check_run_models(config, matrix, measures)
        t = time.perf_counter()
        # the counted region (the tissue mask grown by its margin): tiles touching it, counting only in it,
        # so that the counts do not depend on the tile size
        region = CountRegion.from_tissue(tissue, config.tissue.count_margin_um)
        tiles = plan_grid(
            reader,
            max_object_um=_halo_um(config, measures),
            tile_um=config.tile_um,
            analysis_mpp=config.analysis_mpp,
            mpp=mpp0,
            tissue=replace(tissue, mask=region.mask()),  # (only its mask is read: the tiles touching it)
            roi=polys,
        )
        timings["plan"] = time.perf_counter() - t
        analysis_mpp = tiles[0].analysis_mpp if tiles else config.analysis_mpp
        map_px = max(1, round(config.map_um / analysis_mpp))
        # the pixel forest's exact early exit on a slide or image file, not on an in-memory image
        # (``analyze_region``), whose tiles it did not make faster (session 28 H2 / H6)
        job = TileJob(config=config, matrix=matrix, measures=measures, roi=polys, map_px=map_px,
                      tissue_reference=_tissue_reference(config, matrix, measures, tissue, reader, mpp0),
                      region=region, forest_early_exit=not isinstance(reader, ArrayReader))

        t = time.perf_counter()
        # several processes: costliest first, so that they finish together; one process: the grid's
        # order, so that the halo a tile shares with the tile before it comes from the reader's cache
        # of decoded slide tiles instead of being decoded again (TCGA: 424 -> 252 JPEG 2000 tiles)
        parallel = pool is not None or scheduler is not None
        order = costliest_first(_tile_costs(tiles, tissue)) if parallel else None
        outputs: list[TileOutput] = list(
            map_tiles(reader, tiles, analyze_tile, args=(job,), workers=workers, scheduler=scheduler,
                      progress=progress, order=order, pool=pool)
        )
        timings["tiles"] = time.perf_counter() - t
        release_free_memory()  # (the tiles' freed heap, else kept under what follows: the maps, writing)
        input_name = str(path) if own_reader else reader.describe()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if own_reader:
            reader.close()

    t = time.perf_counter()
    counts = {name: sum_counts(o.counts.get(name) for o in outputs) for name in measures}
    if any(v is None for v in counts.values()):  # no tile (no tissue): zero counts, undefined ratios
        from ..quantify.ki67 import Ki67Counts
        from ..quantify.melanin import MelaninCounts
        from ..quantify.necrosis import NecrosisCounts

        zero = {"ki67": Ki67Counts, "melanin": MelaninCounts, "necrosis": NecrosisCounts}
        counts = {k: v if v is not None else zero[k]() for k, v in counts.items()}
    cells = CellTable.concat([o.cells for o in outputs]) if outputs else CellTable.empty()
    table = TileTable.from_rows([o.core for o in outputs], [o.row for o in outputs])
    threshold = None
    if "ki67" in measures:
        cell_tile = np.repeat(np.arange(len(outputs)), [len(o.cells) for o in outputs])
        # a slide the cell model left mostly stromal: its nuclei in spindle sheets are tumour
        # ([ki67] spindle_sheet = "auto"), before the threshold so that it sees the final index
        cells, table, counts["ki67"], _ = apply_spindle_sheet(cells, cell_tile, table, counts["ki67"], config.ki67)
        # the slide's own positivity threshold (weak-stain adaptation), from all its nuclei
        cells, table, counts["ki67"], threshold = apply_slide_threshold(
            cells, cell_tile, table, counts["ki67"], config.ki67
        )

    tissue_area = tissue.area_mm2
    tissue_map = tissue.mask
    if polys is not None:
        tissue_map = _roi_fraction(tissue.mask, tissue.scale, polys)
        tissue_area = float(tissue_map.sum()) * tissue.scale[0] * tissue.scale[1] * mpp0 * mpp0 / 1e6
    metrics = _metrics(counts, tissue_area)
    if "ki67" in measures:  # a lab cell model's own classes, by name
        from ..classify import resolve_model
        from ..quantify.ki67 import cell_model_of

        model = resolve_model(config.ki67.cell_model, "nucleus") if matrix is None else cell_model_of(config.ki67, matrix)
        cells = _lab_cell_types(cells, model, metrics)
    unmeasured = necrosis_not_measured(config, measures)
    if unmeasured:  # a tissue model without a necrosis class: undefined, not 0 %
        for key in ("necrosis_area_mm2", "necrosis_fraction_pct", "necrosis_region_pct"):
            if key in metrics:
                metrics[key] = math.nan
        warnings.warn(unmeasured, UserWarning, stacklevel=2)
    for caution in model_cautions(config, matrix, measures):  # a lab model's training caution, with its numbers
        warnings.warn(caution, UserWarning, stacklevel=2)
    models = _models(config, measures, matrix)
    metrics.update(models)  # the model ids, in summary.csv too
    if threshold is not None:
        metrics["ki67_positive_threshold_od"] = _threshold_used(threshold, config.ki67, matrix)
    if "ki67" in measures:  # nuclei the spindle-sheet rule counted as tumour (0 without it)
        metrics["ki67_spindle_sheet_nuclei"] = _spindle_sheet_nuclei(cells)
        rule = config.ki67.spindle_sheet  # "auto", True or False: what the QC sentence advises follows it
        metrics["ki67_spindle_sheet_rule"] = rule if isinstance(rule, str) else str(bool(rule)).lower()
    if "ki67" in measures and matrix is not None:  # double stain: which marker was read ("" = none)
        from ..quantify.ki67 import chromogen_of, counterstain_of, marker_of

        marker = marker_of(matrix, config.ki67)
        metrics["ki67_melanocyte_marker"] = "" if marker is None else marker[1]
        if marker is not None:  # how the marker was set, and the melanocyte-restricted index's pigment bound
            metrics.update(melanocyte_metrics(cells, counts["ki67"], config.ki67.melanocyte_marker, detection))
        # which chromogen the index counted and which counterstain found the nuclei: the pigment QC
        # sentence advises by them (a red chromogen or azure B already separates melanin by colour)
        metrics["ki67_chromogen"] = chromogen_of(matrix)
        metrics["ki67_counterstain"] = counterstain_of(matrix)
        # weak nuclear staining counted by contrast with the nucleus's ring (NaN: the rule did not run)
        metrics["ki67_nuclear_contrast_od"] = (float(config.ki67.nuclear_contrast_od)
                                               if nuclear_contrast_applies(config.ki67, matrix) else math.nan)

    hotspot = None
    maps = _assemble_maps(outputs, shape0, map_px * tiles[0].scale if tiles else 1.0)
    maps["tissue"] = LowResMap(tissue_map.astype(np.float32), tissue.downsample)
    maps["thumbnail"] = LowResMap(np.asarray(tissue.thumbnail, dtype=np.uint8), tissue.downsample)
    tmodel = tile_tissue_model(config, matrix, measures)
    tissue_classes = _tissue_classes(tmodel, table, maps, metrics) if tmodel is not None else {}
    if "ki67" in measures:
        positive, negative = CELL_CLASSES.index("positive"), CELL_CLASSES.index("negative")
        tumour = (cells.cls == positive) | (cells.cls == negative)
        hotspot = find_hotspot(
            cells.row[tumour],
            cells.col[tumour],
            cells.cls[tumour] == positive,
            shape=shape0,
            mpp=mpp0,
            area_mm2=config.hotspot_area_mm2,
            min_nuclei=config.hotspot_min_nuclei,
        )
        metrics.update(
            ki67_hotspot_index_pct=hotspot.index_pct,
            ki67_hotspot_ci_low_pct=hotspot.ci_low_pct,
            ki67_hotspot_ci_high_pct=hotspot.ci_high_pct,
            ki67_hotspot_nuclei=hotspot.nuclei,
        )
        maps["ki67"] = ki67_tile_map(table, shape0)
    timings["aggregate"] = time.perf_counter() - t
    timings["tile_cpu"] = float(sum(o.seconds for o in outputs))
    timings["total"] = time.perf_counter() - t_start

    return SlideResult(
        input=input_name,
        shape=shape0,  # type: ignore[arg-type]
        mpp=mpp0,
        analysis_mpp=analysis_mpp,
        measures=measures,
        metrics=metrics,
        counts={k: v for k, v in counts.items() if v is not None},
        hotspot=hotspot,
        tiles=table,
        cells=cells,
        maps=maps,
        config=config.recorded_mapping(),
        stains={
            "name": getattr(matrix, "name", str(config.stains)),
            "names": list(matrix.names),
            "vectors": np.asarray(matrix.vectors, dtype=float).tolist(),
            "reference": getattr(matrix, "reference", ""),
            **({"detection": detection} if detection is not None else {}),
            **({"named_check": named_check} if named_check is not None else {}),
            # the glass and stain level a tissue model with ``image_reference`` read every tile against
            **({"tissue_reference": job.tissue_reference.to_mapping()} if job.tissue_reference is not None else {}),
        },
        versions={**_versions(), **models},
        timings=timings,
        tissue_classes=tissue_classes,
        mpp_source=mpp_source(mpp, in_memory=isinstance(path, ArrayReader)),  # as summary.csv says them
        stains_source=stains_source(detection),
    )


def analyze_region(
    rgb: np.ndarray,
    config: AnalysisConfig | None = None,
    *,
    mpp: float,
    roi: Sequence[np.ndarray] | None = None,
    workers: int | None = 1,
) -> SlideResult:
    """Analyse an in-memory RGB image with the same code path as :func:`analyze_slide`.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        Image (greyscale and RGBA are converted as by :class:`~mmnst_path.io.ArrayReader`).
    config : AnalysisConfig, optional
        Analysis parameters (defaults when omitted: ``stains="auto"``, chosen from the image as by
        :func:`analyze_slide`).
    mpp : float
        Microns per pixel of ``rgb`` (required: an array carries no metadata).
    roi : sequence of (K, 2) arrays, optional
        Region-of-interest polygons in (row, col) pixels of ``rgb``.
    workers : int, optional
        Worker processes (default 1: in this process).

    Returns
    -------
    SlideResult
        As :func:`analyze_slide`; ``input`` is ``"<array image>"``.
    """
    from ..io import ArrayReader

    reader = ArrayReader(rgb, mpp=require_mpp(mpp, what="image array"))
    return analyze_slide(reader, config, workers=workers, roi=roi)
