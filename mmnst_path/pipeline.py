"""The analysis pipeline: :class:`AnalysisConfig`, :func:`analyze_slide` and :func:`analyze_region`.

One code path for slides and in-memory tiles::

    open_slide -> detect_tissue -> plan_grid (halo from the largest nucleus)
      -> map_tiles(source, tiles, analyze_tile, job)        (worker processes reopen the slide)
           per tile: Ki67 cells (kept when the tile core owns the centroid and, with an ROI,
           when the centroid is inside it), melanin / necrosis areas on the core only
      -> aggregate: additive counts summed, ratios once from totals, hot spot, maps
      -> SlideResult

Because every tile is read with a halo wider than the detector's support and only what its core
owns is counted, totals do not depend on the tile size or the number of workers.
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .aggregate import (
    CELL_CLASSES,
    CellTable,
    LowResMap,
    SlideResult,
    TileTable,
    find_hotspot,
    ki67_tile_map,
    sum_counts,
)
from .detect.nuclei import NucleusParams
from .detect.pigment import PigmentParams
from .errors import ConfigError
from .geometry import Box, require_mpp
from .quantify.ki67 import Ki67Params, ki67_metrics
from .quantify.melanin import MelaninParams
from .quantify.necrosis import NecrosisParams
from .tiling.tissue import TissueParams

__all__ = [
    "MEASURES",
    "AnalysisConfig",
    "analyze_region",
    "analyze_slide",
    "analyze_tile",
    "applicable_measures",
    "guess_stains",
]

_SECTIONS: dict[str, type] = {
    "tissue": TissueParams,
    "nuclei": NucleusParams,
    "ki67": Ki67Params,
    "pigment": PigmentParams,
    "melanin": MelaninParams,
    "necrosis": NecrosisParams,
}
_CHROMOGENS = ("dab",)  # Ki67 classification reads the DAB channel
#: Everything the pipeline can measure, in report order.
MEASURES = ("ki67", "melanin", "necrosis")


def _section_from_mapping(name: str, cls: type, mapping: Any) -> Any:
    if isinstance(mapping, cls):
        return mapping
    if not isinstance(mapping, Mapping):
        msg = f"config key {name!r} must be a table of parameters, got {type(mapping).__name__}"
        raise ConfigError(msg)
    known = {f.name for f in fields(cls)}
    for key in mapping:
        if key not in known:
            msg = f"unknown config key '{name}.{key}'; expected one of {sorted(known)}"
            raise ConfigError(msg)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in mapping.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        msg = f"invalid value in config section {name!r}: {exc}"
        raise ConfigError(msg) from exc


def _plain(value: Any) -> Any:
    """TOML/JSON-able copy of a parameter value (tuples -> lists, numpy scalars -> Python)."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _section_to_mapping(params: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(params, f.name)) for f in fields(params) if getattr(params, f.name) is not None}


@dataclass(frozen=True)
class AnalysisConfig:
    """Every analysis parameter of a run (frozen; written into every result).

    Attributes
    ----------
    analysis_mpp : float
        Resolution the tiles are analysed at, µm per pixel.
    stains : str
        Stain preset name (``"H-DAB"``, ``"H&E"``, ...), a JSON stain file or JSON text, or
        ``"auto"``: H&E or H-DAB chosen per image from the colour of its tissue (see
        :func:`guess_stains`); the result records the preset chosen.
    measures : tuple of str
        Subset of :data:`MEASURES`; empty means all that apply to the stains (Ki67 needs a
        chromogen such as DAB, necrosis needs eosin, melanin always applies).
    tile_um : float
        Side of a tile core in µm (``tile_um / analysis_mpp`` analysis pixels). 512 µm (1024 px
        at 0.5 µm/px, read with a ~150 px halo) measured faster and ~half the memory of 1024 µm
        on the generated benchmark slide (benchmarks/bench_slide.py).
    tissue_mpp : float
        Resolution of the thumbnail the tissue is detected on, µm per pixel.
    hotspot_area_mm2 : float
        Area of the Ki67 hot-spot window, mm².
    hotspot_min_nuclei : int
        Minimum tumour nuclei in an eligible hot-spot window.
    map_um : float
        Pixel size of the low-resolution melanin map, µm.
    tissue, nuclei, ki67, pigment, melanin, necrosis : parameter dataclasses
        Parameters of tissue detection, nucleus detection, Ki67 classification, melanin
        pigment detection (also used to keep pigment out of the Ki67 index), melanin and
        necrosis measurement.
    """

    analysis_mpp: float = 0.5
    stains: str = "H-DAB"
    measures: tuple[str, ...] = ()
    tile_um: float = 512.0
    tissue_mpp: float = 8.0
    hotspot_area_mm2: float = 1.0
    hotspot_min_nuclei: int = 500
    map_um: float = 16.0
    tissue: TissueParams = field(default_factory=TissueParams)
    nuclei: NucleusParams = field(default_factory=NucleusParams)
    ki67: Ki67Params = field(default_factory=Ki67Params)
    pigment: PigmentParams = field(default_factory=PigmentParams)
    melanin: MelaninParams = field(default_factory=MelaninParams)
    necrosis: NecrosisParams = field(default_factory=NecrosisParams)

    def __post_init__(self) -> None:
        for name in ("analysis_mpp", "tile_um", "tissue_mpp", "hotspot_area_mm2", "map_um"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                math.isfinite(value) and value > 0
            ):
                msg = f"config key {name!r} must be a positive finite number, got {value!r}"
                raise ConfigError(msg)
            object.__setattr__(self, name, float(value))
        n = self.hotspot_min_nuclei
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            msg = f"config key 'hotspot_min_nuclei' must be an integer >= 1, got {n!r}"
            raise ConfigError(msg)
        if not isinstance(self.stains, str) or not self.stains.strip():
            msg = f"config key 'stains' must be a preset name, a JSON file or JSON text, got {self.stains!r}"
            raise ConfigError(msg)
        measures = self.measures
        if isinstance(measures, str):
            measures = tuple(m.strip() for m in measures.split(",") if m.strip())
        measures = tuple(str(m).strip().lower() for m in measures)
        for m in measures:
            if m not in MEASURES:
                msg = f"config key 'measures' holds unknown measure {m!r}; expected some of {list(MEASURES)}"
                raise ConfigError(msg)
        object.__setattr__(self, "measures", tuple(dict.fromkeys(measures)))
        if self.analysis_mpp * 2 > self.tile_um:
            msg = f"config key 'tile_um' ({self.tile_um} µm) must be at least 2 analysis pixels"
            raise ConfigError(msg)
        for name, cls in _SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                msg = f"config key {name!r} must be a {cls.__name__}, got {type(getattr(self, name)).__name__}"
                raise ConfigError(msg)

    # --------------------------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> AnalysisConfig:
        """Build from a plain mapping (a parsed TOML/JSON file); unknown keys are an error.

        Missing keys take their defaults; nested tables (``[nuclei]``...) hold the parameters of
        each section.
        """
        if not isinstance(mapping, Mapping):
            msg = f"an analysis configuration must be a mapping of keys, got {type(mapping).__name__}"
            raise ConfigError(msg)
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in mapping.items():
            if key not in known:
                msg = f"unknown config key {key!r}; expected one of {sorted(known)}"
                raise ConfigError(msg)
            if key in _SECTIONS:
                kwargs[key] = _section_from_mapping(key, _SECTIONS[key], value)
            elif key == "measures":
                kwargs[key] = tuple(value) if isinstance(value, list | tuple) else value
            else:
                kwargs[key] = value
        return cls(**kwargs)

    def to_mapping(self) -> dict[str, Any]:
        """Plain nested mapping (TOML- and JSON-able), the inverse of :meth:`from_mapping`."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = _section_to_mapping(value) if f.name in _SECTIONS else _plain(value)
        return out

    @classmethod
    def from_toml(cls, path: str | Path) -> AnalysisConfig:
        """Read a TOML file (``--config FILE.toml``)."""
        import tomllib

        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            msg = f"config file {str(p)!r} does not exist"
            raise ConfigError(msg) from exc
        except tomllib.TOMLDecodeError as exc:
            msg = f"config file {str(p)!r} is not valid TOML: {exc}"
            raise ConfigError(msg) from exc
        return cls.from_mapping(data)

    def replace(self, **changes: Any) -> AnalysisConfig:
        """Copy with some top-level keys changed (validated like :meth:`from_mapping`)."""
        data = self.to_mapping()
        for key, value in changes.items():
            data[key] = value
        return AnalysisConfig.from_mapping(data)

    def stain_matrix(self) -> Any:
        """The resolved :class:`~mmnst_path.stain.StainMatrix` (not for ``stains="auto"``)."""
        if self.stains.strip().lower() == "auto":
            msg = "config key 'stains' is 'auto': the stains are chosen per image by analyze_slide"
            raise ConfigError(msg)
        from .stain import load_stains

        try:
            return load_stains(self.stains)
        except ValueError as exc:
            msg = f"config key 'stains': {exc}"
            raise ConfigError(msg) from exc


def applicable_measures(config: AnalysisConfig, matrix: Any) -> tuple[str, ...]:
    """Measures of ``config`` resolved against the stain matrix (explicit ones are checked)."""
    names = tuple(matrix.names)
    has_chromogen = any(c in names for c in _CHROMOGENS)
    auto = tuple(
        m
        for m in MEASURES
        if (m == "ki67" and has_chromogen) or m == "melanin" or (m == "necrosis" and "eosin" in names)
    )
    if not config.measures:
        return auto
    for m in config.measures:
        if m == "ki67" and not has_chromogen:
            msg = f"measure 'ki67' needs a chromogen ({', '.join(_CHROMOGENS)}) in the stains, got {list(names)}"
            raise ConfigError(msg)
        if m == "necrosis" and "eosin" not in names:
            msg = f"measure 'necrosis' needs an H&E stain matrix (with eosin), got {list(names)}"
            raise ConfigError(msg)
    return config.measures


def guess_stains(rgb: np.ndarray, tissue: np.ndarray | None = None) -> str:
    """``"H&E"`` or ``"H-DAB"`` from the colour of the tissue pixels of a (thumbnail) image.

    Per pixel, the unit log10 OD vector (r, g, b) is eosin-like when ``g >= b`` and
    ``r < 0.55 g`` (pink: green absorbed far more than red), DAB/brown-like when ``b > g``
    (hematoxylin is ``r ~ g > b``). The image is H&E when eosin-like pixels outnumber brown ones
    and make at least 10 % of the tissue; otherwise H-DAB. Pixels paler than OD 0.1 are ignored.
    Checked on the real H&E (osteosarcoma, CMU-1) and Ki67 IHC (BCData, SHIDC) tiles.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    tissue : (M, N) bool ndarray, optional
        Pixels to look at (default: all).
    """
    from .stain import od_from_rgb

    od = od_from_rgb(rgb)
    od = od[tissue] if tissue is not None else od.reshape(-1, 3)
    norm = np.linalg.norm(od, axis=1)
    od = od[norm > 0.1] / norm[norm > 0.1, None]
    if not len(od):
        return "H-DAB"
    r, g, b = od[:, 0], od[:, 1], od[:, 2]
    eosin = float(np.mean((g >= b) & (r < 0.55 * g)))
    brown = float(np.mean(b > g))
    return "H&E" if eosin >= 0.1 and eosin > brown else "H-DAB"


def _versions() -> dict[str, str]:
    out = {"mmnst_path": __version__, "python": platform.python_version()}
    for dist in ("numpy", "scipy", "scikit-image", "tifffile", "imagecodecs", "openslide-python", "numba", "dask"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _check_roi(roi: Sequence[np.ndarray] | None) -> tuple[np.ndarray, ...] | None:
    if roi is None:
        return None
    polys = []
    for i, poly in enumerate(roi):
        arr = np.asarray(poly, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 3:
            msg = f"roi[{i}] must be a (K, 2) array of level-0 (row, col) vertices with K >= 3, got shape {arr.shape}"
            raise ConfigError(msg)
        polys.append(arr)
    if not polys:
        msg = "roi must hold at least one polygon, or be None for the whole slide"
        raise ConfigError(msg)
    return tuple(polys)


def _roi_fraction(mask: np.ndarray, scale: tuple[float, float], roi: tuple[np.ndarray, ...]) -> np.ndarray:
    """The tissue ``mask`` (thumbnail grid, ``scale`` level-0 px per pixel) restricted to the ROI."""
    from skimage.draw import polygon2mask

    inside = np.zeros(mask.shape, dtype=bool)
    for poly in roi:
        verts = np.column_stack([(poly[:, 0] + 0.5) / scale[0] - 0.5, (poly[:, 1] + 0.5) / scale[1] - 0.5])
        inside |= polygon2mask(mask.shape, verts)
    return mask & inside


def _assemble_maps(outputs: Sequence[TileOutput], shape0: tuple[int, int], map_scale: float) -> dict[str, LowResMap]:
    """Sum the per-tile map blocks into slide-wide low-resolution maps (fraction per map pixel)."""
    n_r = max(1, math.ceil(shape0[0] / map_scale))
    n_c = max(1, math.ceil(shape0[1] / map_scale))
    sums: dict[str, np.ndarray] = {}
    area = np.zeros((n_r, n_c), dtype=np.float64)
    for out in outputs:
        if out.map_origin is None:
            continue
        r0, c0 = out.map_origin
        h, w = out.map_area.shape
        r1, c1 = min(n_r, r0 + h), min(n_c, c0 + w)
        area[r0:r1, c0:c1] += out.map_area[: r1 - r0, : c1 - c0]
        for name, block in out.map_sums.items():
            acc = sums.setdefault(name, np.zeros((n_r, n_c), dtype=np.float64))
            acc[r0:r1, c0:c1] += block[: r1 - r0, : c1 - c0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            name: LowResMap(np.where(area > 0, acc / np.maximum(area, 1), np.nan).astype(np.float32), map_scale)
            for name, acc in sums.items()
        }


def _metrics(counts: Mapping[str, Any], tissue_area_mm2: float | None) -> dict[str, Any]:
    from .quantify.melanin import melanin_metrics
    from .quantify.necrosis import necrosis_metrics

    m: dict[str, Any] = {"tissue_area_mm2": math.nan if tissue_area_mm2 is None else float(tissue_area_mm2)}
    if counts.get("ki67") is not None:
        k = ki67_metrics(counts["ki67"])
        m.update(
            ki67_positive=int(counts["ki67"].positive),
            ki67_negative=int(counts["ki67"].negative),
            ki67_pigment=int(counts["ki67"].pigment),
            ki67_excluded=int(counts["ki67"].excluded),
            ki67_denominator=int(k["denominator"]),
            ki67_index_pct=float(k["index_pct"]),
            ki67_ci_low_pct=float(k["ci_low_pct"]),
            ki67_ci_high_pct=float(k["ci_high_pct"]),
            h_score=float(k["h_score"]),
        )
        for key in ("allred_proportion", "allred_intensity", "allred_score"):
            if key in k:
                m[key] = k[key]
    if counts.get("melanin") is not None:
        m.update(melanin_metrics(counts["melanin"]))
    if counts.get("necrosis") is not None:
        m.update(necrosis_metrics(counts["necrosis"]))
    return m


# ------------------------------------------------------------------------------------------------
# the per-tile worker (module level: pickled by reference into worker processes)
@dataclass(frozen=True)
class TileJob:
    """What every tile worker needs besides its pixels (small and picklable)."""

    config: AnalysisConfig
    matrix: Any
    measures: tuple[str, ...]
    roi: tuple[np.ndarray, ...] | None
    map_px: int


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


def _halo_um(config: AnalysisConfig, measures: Sequence[str]) -> float:
    """Context a tile needs around its core: the largest support of the measures run."""
    halo = config.nuclei.halo_um() if "ki67" in measures else 0.0
    halo = max(halo, config.pigment.halo_um())
    if "melanin" in measures:  # the tile's own tissue mask is smoothed by a Gaussian (4 sigma)
        halo = max(halo, 4.0 * config.melanin.tissue_smooth_um + config.pigment.halo_um())
    if "necrosis" in measures and hasattr(config.necrosis, "halo_um"):
        halo = max(halo, float(config.necrosis.halo_um()))
    return halo


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


def _block_sums(image: np.ndarray, origin: tuple[int, int], block: int) -> tuple[tuple[int, int], np.ndarray]:
    """Sums of ``image`` over ``block``-pixel cells of the global grid (``origin`` = global px of [0, 0])."""
    br = (origin[0] + np.arange(image.shape[0])) // block
    bc = (origin[1] + np.arange(image.shape[1])) // block
    rs = np.r_[0, np.flatnonzero(np.diff(br)) + 1]
    cs = np.r_[0, np.flatnonzero(np.diff(bc)) + 1]
    sums = np.add.reduceat(np.add.reduceat(image.astype(np.float64), rs, axis=0), cs, axis=1)
    return (int(br[0]), int(bc[0])), sums


def _ki67_cells(cells: Any, tile: Any, keep: np.ndarray) -> CellTable:
    """Level-0 :class:`CellTable` of the kept Ki67 cells of one tile."""
    row, col = tile.level0_from_analysis(cells.row[keep], cells.col[keep])
    code = {name: i for i, name in enumerate(CELL_CLASSES)}
    cls = np.array([code[str(c)] for c in cells.cls[keep]], dtype=np.int8)
    columns = {
        name: np.asarray(getattr(cells, name))[keep]
        for name in ("area_um2", "dab_od_mean", "dab_od_max", "hematoxylin_od_mean", "circularity",
                     "eccentricity", "intensity_bin")
    }
    return CellTable(np.asarray(row, np.float64), np.asarray(col, np.float64), cls, columns)


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
    from .detect.pigment import pigment_mask
    from .quantify.ki67 import measure_ki67

    t0 = time.perf_counter()
    cfg, mpp = job.config, tile.analysis_mpp
    owned = _owned_mask(tile, job.roi)
    px_um2 = mpp * mpp
    counts: dict[str, Any] = {}
    row: dict[str, float] = {"owned_um2": float(owned.sum()) * px_um2}
    sums: dict[str, np.ndarray] = {}
    cells = CellTable.empty()
    origin = (tile.origin[0], tile.origin[1])

    pigment = None
    if "ki67" in job.measures or "melanin" in job.measures:
        pigment = pigment_mask(rgb, mpp=mpp, stains=job.matrix, params=cfg.pigment)

    if "ki67" in job.measures:
        region = measure_ki67(
            rgb, mpp=mpp, stains=job.matrix, nuclei_params=cfg.nuclei, params=cfg.ki67, pigment_mask=pigment
        )
        c = region.cells
        r_l0, c_l0 = tile.level0_from_analysis(c.row, c.col)
        keep = np.asarray(tile.owns(r_l0, c_l0), dtype=bool).reshape(-1)
        if job.roi is not None and keep.any():
            from skimage.measure import points_in_poly

            pts = np.column_stack([r_l0, c_l0])
            keep &= np.any([points_in_poly(pts, poly) for poly in job.roi], axis=0)
        counts["ki67"] = region.cells.select(keep).counts()
        cells = _ki67_cells(c, tile, keep)
        row.update(ki67_positive=counts["ki67"].positive, ki67_negative=counts["ki67"].negative,
                   ki67_pigment=counts["ki67"].pigment, ki67_excluded=counts["ki67"].excluded)

    if "melanin" in job.measures:
        from .quantify.melanin import measure_melanin

        mel_counts, mel_mask = measure_melanin(
            rgb, mpp=mpp, stains=job.matrix, params=cfg.melanin, tissue=owned, pigment=pigment,
            pigment_params=cfg.pigment,
        )
        counts["melanin"] = mel_counts
        row["melanin_um2"] = float(mel_counts.melanin_um2)
        sums["melanin"] = np.asarray(mel_mask, dtype=bool) & owned

    if "necrosis" in job.measures:
        from .quantify.necrosis import measure_necrosis

        nec_counts, nec_mask, nec_mpp = measure_necrosis(
            rgb, mpp=mpp, params=cfg.necrosis, tissue=owned, stains=job.matrix
        )
        counts["necrosis"] = nec_counts
        row["necrosis_um2"] = float(nec_counts.necrosis_um2)
        nm = np.asarray(nec_mask, dtype=bool)
        f = max(1, round(nec_mpp / mpp))  # low-res mask pixel (i, j) covers tile pixels [i*f, (i+1)*f)
        ri = np.minimum(np.arange(tile.shape[0]) // f, nm.shape[0] - 1)
        ci = np.minimum(np.arange(tile.shape[1]) // f, nm.shape[1] - 1)
        sums["necrosis"] = nm[np.ix_(ri, ci)] & owned

    # low-resolution maps: owned-pixel sums per map block, over the core's bounding slices only
    rs, cs = tile.core_slices
    map_origin, map_area, map_sums = None, np.zeros((0, 0)), {}
    if rs.stop > rs.start and cs.stop > cs.start:
        sub_origin = (origin[0] + rs.start, origin[1] + cs.start)
        map_origin, map_area = _block_sums(owned[rs, cs], sub_origin, job.map_px)
        map_sums = {k: _block_sums(v[rs, cs], sub_origin, job.map_px)[1] for k, v in sums.items()}
    row["seconds"] = time.perf_counter() - t0
    return TileOutput(tile.index, tile.core, counts, cells, row, map_origin, map_area, map_sums, row["seconds"])


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
        Analysis parameters (defaults when omitted).
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
        low-resolution maps, the config, stain vectors, versions and timings.
    """
    from .io import SlideReader, open_slide
    from .tiling import detect_tissue, map_tiles, plan_grid

    config = config if config is not None else AnalysisConfig()
    polys = _check_roi(roi)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    auto_stains = config.stains.strip().lower() == "auto"
    if not auto_stains:
        matrix = config.stain_matrix()
        measures = applicable_measures(config, matrix)

    own_reader = not isinstance(path, SlideReader)
    reader: SlideReader = open_slide(path, mpp=mpp) if not isinstance(path, SlideReader) else path
    try:
        mpp0 = require_mpp(mpp if mpp is not None else reader.mpp, what=f"image {reader.describe()}")
        if reader.mpp != mpp0:  # an explicit mpp for a reader given by the caller
            reader.mpp = mpp0
        shape0 = (int(reader.shape[0]), int(reader.shape[1]))
        timings["open"] = time.perf_counter() - t_start

        t = time.perf_counter()
        tissue = detect_tissue(reader, mask_mpp=config.tissue_mpp, params=config.tissue)
        timings["tissue"] = time.perf_counter() - t
        if auto_stains:
            config = config.replace(stains=guess_stains(tissue.thumbnail, tissue.mask))
            matrix = config.stain_matrix()
            measures = applicable_measures(config, matrix)

        t = time.perf_counter()
        tiles = plan_grid(
            reader,
            max_object_um=_halo_um(config, measures),
            tile_um=config.tile_um,
            analysis_mpp=config.analysis_mpp,
            mpp=mpp0,
            tissue=tissue,
            roi=polys,
        )
        timings["plan"] = time.perf_counter() - t
        analysis_mpp = tiles[0].analysis_mpp if tiles else config.analysis_mpp
        map_px = max(1, round(config.map_um / analysis_mpp))
        job = TileJob(config=config, matrix=matrix, measures=measures, roi=polys, map_px=map_px)

        t = time.perf_counter()
        outputs: list[TileOutput] = list(
            map_tiles(reader, tiles, analyze_tile, args=(job,), workers=workers, scheduler=scheduler,
                      progress=progress)
        )
        timings["tiles"] = time.perf_counter() - t
        input_name = str(path) if own_reader else reader.describe()
    finally:
        if own_reader:
            reader.close()

    t = time.perf_counter()
    counts = {name: sum_counts(o.counts.get(name) for o in outputs) for name in measures}
    if any(v is None for v in counts.values()):  # no tile (no tissue): zero counts, undefined ratios
        from .quantify.ki67 import Ki67Counts
        from .quantify.melanin import MelaninCounts
        from .quantify.necrosis import NecrosisCounts

        zero = {"ki67": Ki67Counts, "melanin": MelaninCounts, "necrosis": NecrosisCounts}
        counts = {k: v if v is not None else zero[k]() for k, v in counts.items()}
    cells = CellTable.concat([o.cells for o in outputs]) if outputs else CellTable.empty()
    table = TileTable.from_rows([o.core for o in outputs], [o.row for o in outputs])

    tissue_area = tissue.area_mm2
    tissue_map = tissue.mask
    if polys is not None:
        tissue_map = _roi_fraction(tissue.mask, tissue.scale, polys)
        tissue_area = float(tissue_map.sum()) * tissue.scale[0] * tissue.scale[1] * mpp0 * mpp0 / 1e6
    metrics = _metrics(counts, tissue_area)

    hotspot = None
    maps = _assemble_maps(outputs, shape0, map_px * tiles[0].scale if tiles else 1.0)
    maps["tissue"] = LowResMap(tissue_map.astype(np.float32), tissue.downsample)
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
        config=config.to_mapping(),
        stains={
            "name": getattr(matrix, "name", str(config.stains)),
            "names": list(matrix.names),
            "vectors": np.asarray(matrix.vectors, dtype=float).tolist(),
            "reference": getattr(matrix, "reference", ""),
        },
        versions=_versions(),
        timings=timings,
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
        Analysis parameters.
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
    from .io import ArrayReader

    reader = ArrayReader(rgb, mpp=require_mpp(mpp, what="image array"))
    return analyze_slide(reader, config, workers=workers, roi=roi)
