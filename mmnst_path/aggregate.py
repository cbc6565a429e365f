"""Slide-level aggregation: cell tables, per-tile table, hot-spot search and the slide result.

Per-tile results are additive counts; everything here either concatenates (cells, tiles) or sums
(counts) and computes ratios once from totals. An undefined ratio is NaN, never 0.

Coordinates are level-0 pixels, (row, col).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import add
from typing import Any, TypeVar

import numpy as np

from ._hotspot import Hotspot, find_hotspot, hotspot_in_box, wilson_interval
from .geometry import Box

__all__ = [
    "CELL_CLASSES",
    "CELL_TYPES",
    "CellTable",
    "Hotspot",
    "LowResMap",
    "SlideResult",
    "TileTable",
    "apply_slide_threshold",
    "apply_spindle_sheet",
    "cell_type_names",
    "find_hotspot",
    "hotspot_in_box",
    "ki67_tile_map",
    "sum_counts",
    "wilson_interval",
]

#: Class codes of :attr:`CellTable.cls` (index into this tuple).
CELL_CLASSES = ("positive", "negative", "pigment", "excluded")
#: Codes of the ``cell_type`` column (cell-model class; index into this tuple).
CELL_TYPES = ("unclassified", "tumour", "lymphocyte", "stromal", "macrophage", "other")

T = TypeVar("T")


def cell_type_names(class_names: Sequence[str] | None) -> tuple[str, ...]:
    """The ``cell_type`` codes of a run whose cell model has ``class_names``: :data:`CELL_TYPES`, then each class
    of a lab's own model that is none of them (``plasma_cell``), in the model's order (int8 codes)."""
    extra = [str(n) for n in (class_names or ()) if str(n) not in CELL_TYPES]
    return CELL_TYPES + tuple(dict.fromkeys(extra))[: 127 - len(CELL_TYPES)]


def sum_counts(counts: Iterable[T]) -> T | None:
    """Sum additive count objects (``a + b``); ``None`` entries are skipped, all-``None`` gives ``None``."""
    present = [c for c in counts if c is not None]
    if not present:
        return None
    return reduce(add, present)


# ------------------------------------------------------------------------------------------------
# cells
@dataclass(frozen=True, eq=False)
class CellTable:
    """Detected nuclei of a slide or tile as parallel 1-D arrays (one entry per nucleus).

    Attributes
    ----------
    row, col : (n,) float64
        Centroid in level-0 pixels.
    cls : (n,) int8
        Class code, an index into :data:`CELL_CLASSES`.
    columns : mapping of str to (n,) ndarray
        Per-nucleus features (``area_um2``, ``dab_od_mean``, ``hematoxylin_od_mean``,
        ``dab_od_max``, ``circularity``, ``intensity_bin``...), in a stable order.
    cell_types : tuple of str
        The names of the ``cell_type`` column's codes: :data:`CELL_TYPES`, then the classes of a lab's own
        cell model that are none of them, by name (:func:`cell_type_names`).
    """

    row: np.ndarray
    col: np.ndarray
    cls: np.ndarray
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)
    cell_types: tuple[str, ...] = CELL_TYPES

    def __post_init__(self) -> None:
        n = len(self.row)
        for name, arr in (("col", self.col), ("cls", self.cls), *self.columns.items()):
            if len(arr) != n:
                msg = f"CellTable column {name!r} has {len(arr)} entries, expected {n} (as row)"
                raise ValueError(msg)

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def empty(cls, columns: Sequence[str] = ()) -> CellTable:
        return cls(
            np.zeros(0, np.float64),
            np.zeros(0, np.float64),
            np.zeros(0, np.int8),
            {name: np.zeros(0, np.float64) for name in columns},
        )

    @classmethod
    def concat(cls, tables: Sequence[CellTable]) -> CellTable:
        """Concatenate tables with the same feature columns (tables with no cells may lack them)."""
        full = [t for t in tables if len(t)]
        if not full:
            return tables[0] if tables else cls.empty()
        names = list(full[0].columns)
        types = max((t.cell_types for t in tables), key=len)  # one run's tiles share their cell model's names
        return cls(
            np.concatenate([t.row for t in full]),
            np.concatenate([t.col for t in full]),
            np.concatenate([t.cls for t in full]),
            {name: np.concatenate([t.columns[name] for t in full]) for name in names},
            types,
        )

    def select(self, keep: np.ndarray) -> CellTable:
        """Subset by a boolean mask or index array."""
        return CellTable(self.row[keep], self.col[keep], self.cls[keep], {k: v[keep] for k, v in self.columns.items()},
                         self.cell_types)

    def class_names(self) -> np.ndarray:
        """(n,) array of class names."""
        return np.asarray(CELL_CLASSES, dtype=object)[self.cls.astype(np.intp)]

    def count(self, name: str) -> int:
        """Number of cells of class ``name``."""
        return int(np.count_nonzero(self.cls == CELL_CLASSES.index(name)))


# ------------------------------------------------------------------------------------------------
# per-tile table
@dataclass(frozen=True, eq=False)
class TileTable:
    """One row per analysed tile.

    Attributes
    ----------
    core : (n, 4) int64
        Level-0 core box of each tile: row, col, height, width.
    columns : mapping of str to (n,) ndarray
        Per-tile additive quantities (``ki67_positive``, ``ki67_negative``, ``melanin_um2``...,
        ``seconds``).
    """

    core: np.ndarray
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.core)

    @classmethod
    def from_rows(cls, cores: Sequence[Box], rows: Sequence[Mapping[str, float]]) -> TileTable:
        core = np.array([[b.row, b.col, b.height, b.width] for b in cores], dtype=np.int64).reshape(-1, 4)
        names: list[str] = []
        for r in rows:
            names.extend(k for k in r if k not in names)
        columns = {k: np.array([r.get(k, math.nan) for r in rows], dtype=np.float64) for k in names}
        return cls(core, columns)

    def records(self) -> list[dict[str, Any]]:
        """List of plain dicts (JSON-ready; NaN kept as float NaN)."""
        out = []
        for i in range(len(self)):
            rec: dict[str, Any] = dict(zip(("row", "col", "height", "width"), map(int, self.core[i]), strict=True))
            for k, v in self.columns.items():
                value = float(v[i])
                rec[k] = int(value) if value.is_integer() and not k.endswith(("_um2", "seconds", "_pct")) else value
            out.append(rec)
        return out


def apply_slide_threshold(
    cells: CellTable, cell_tile: np.ndarray, tiles: TileTable, counts: Any, params: Any
) -> tuple[CellTable, TileTable, Any, float]:
    """Apply the slide's own positivity threshold to cells classified tile by tile.

    Tiles classify nuclei at ``params.positive_threshold_od``; once every tile is done,
    :func:`mmnst_path.quantify.ki67.slide_positive_threshold` gives the slide's threshold from the
    DAB of all its index nuclei (lower on weakly stained slides, never higher). Negative and
    excluded nuclei at or above it become positive (1+: the adapted threshold is below the 2+
    bound), and the per-tile and slide counts follow, so that everything derived later (ratios,
    hot spot, Ki67 map) agrees with the cells.

    Parameters
    ----------
    cells : CellTable
        All cells of the slide (``dab_od_mean`` and ``intensity_bin`` columns).
    cell_tile : (n,) int array
        Row of ``tiles`` each cell comes from.
    tiles : TileTable
        Per-tile table with ``ki67_positive`` / ``ki67_negative`` / ``ki67_excluded`` columns
        (and ``ki67_near_black_positive`` / ``ki67_near_black_negative``, which follow the cells'
        ``near_black`` column).
    counts : mmnst_path.quantify.ki67.Ki67Counts
        Slide totals (the sum of the tiles').
    params : mmnst_path.quantify.ki67.Ki67Params

    Returns
    -------
    cells, tiles, counts, threshold
        Updated copies (the inputs when nothing changes) and the threshold used (log10 OD).
    """
    from dataclasses import replace

    from .quantify.ki67 import slide_positive_threshold

    pos, neg, exc = (CELL_CLASSES.index(name) for name in ("positive", "negative", "excluded"))
    dab = np.asarray(cells.columns.get("dab_od_mean", np.zeros(len(cells))), dtype=np.float64)
    in_index = (cells.cls == pos) | (cells.cls == neg)
    threshold = slide_positive_threshold(dab[in_index], params)
    flip = ((cells.cls == neg) | (cells.cls == exc)) & (dab >= threshold)
    if "cell_type" in cells.columns:  # nuclei the cell model took out of the index stay out
        ctype = np.asarray(cells.columns["cell_type"], dtype=np.intp)
        flip &= np.isin(ctype, (CELL_TYPES.index("unclassified"), CELL_TYPES.index("tumour")))
    if getattr(params, "melanocyte_marker", None) == "nuclear":  # Ki67 / SOX10: the learned call read the
        # negatives (quantify._ki67_double_model: all but near-black ones), its DAB reading is not the DAB plane's
        near = np.asarray(cells.columns.get("near_black", np.zeros(len(cells), bool)), dtype=bool)
        flip &= ~((cells.cls == neg) & ~near)
    if not flip.any():
        return cells, tiles, counts, threshold
    from_neg, from_exc = flip & (cells.cls == neg), flip & (cells.cls == exc)
    cls = cells.cls.copy()
    cls[flip] = pos
    columns = dict(cells.columns)
    if "intensity_bin" in columns:
        bins = np.asarray(columns["intensity_bin"]).copy()
        bins[flip] = 1
        columns["intensity_bin"] = bins
    new_cells = CellTable(cells.row, cells.col, cls, columns, cells.cell_types)
    cell_tile = np.asarray(cell_tile, dtype=np.intp)
    n_tiles = len(tiles)
    tile_cols = dict(tiles.columns)
    for name, delta in (
        ("ki67_positive", np.bincount(cell_tile[flip], minlength=n_tiles)),
        ("ki67_negative", -np.bincount(cell_tile[from_neg], minlength=n_tiles)),
        ("ki67_excluded", -np.bincount(cell_tile[from_exc], minlength=n_tiles)),
    ):
        if name in tile_cols:
            tile_cols[name] = np.asarray(tile_cols[name], dtype=np.float64) + delta
    n_flip, n_neg, n_exc = int(flip.sum()), int(from_neg.sum()), int(from_exc.sum())
    flagged: dict[str, int] = {}  # counts of flagged cells (melanocytic, near-black) that follow
    if "melanocytic" in columns:  # double stain: the melanocytic counts follow the flipped cells
        is_mel = np.asarray(columns["melanocytic"], dtype=bool)
        flagged = {"melanocytic_positive": counts.melanocytic_positive + int((flip & is_mel).sum()),
                   "melanocytic_negative": counts.melanocytic_negative - int((from_neg & is_mel).sum())}
    if "near_black" in columns:  # near-black QC counts follow the flipped cells
        dark = np.asarray(columns["near_black"], dtype=bool)
        for name, delta in (("ki67_near_black_positive", np.bincount(cell_tile[flip & dark], minlength=n_tiles)),
                            ("ki67_near_black_negative", -np.bincount(cell_tile[from_neg & dark], minlength=n_tiles))):
            if name in tile_cols:
                tile_cols[name] = np.asarray(tile_cols[name], dtype=np.float64) + delta
        flagged.update(near_black_positive=counts.near_black_positive + int((flip & dark).sum()),
                   near_black_negative=counts.near_black_negative - int((from_neg & dark).sum()))
    new_counts = replace(
        counts,
        **flagged,
        positive=counts.positive + n_flip,
        positive_1plus=counts.positive_1plus + n_flip,
        negative=counts.negative - n_neg,
        excluded=counts.excluded - n_exc,
    )
    return new_cells, TileTable(tiles.core, tile_cols), new_counts, threshold


def apply_spindle_sheet(
    cells: CellTable, cell_tile: np.ndarray, tiles: TileTable, counts: Any, params: Any
) -> tuple[CellTable, TileTable, Any, int]:
    """Count the slide's stromal nuclei in spindle sheets as tumour when the slide looks like a
    spindle-cell tumour (``Ki67Params.spindle_sheet = "auto"``).

    The cell model takes many pale spindle tumour nuclei for fibroblasts. When it left at least
    half of the slide's detected nuclei out as stromal (:meth:`Ki67Counts.mostly_stromal
    <mmnst_path.quantify.ki67.Ki67Counts.mostly_stromal>`, the condition of the spindle-cell QC
    sentence), the nuclei it called ``stromal`` that lie in a crowded sheet of spindle nuclei
    (``in_spindle_sheet``) and that the stain had put in the index (``stain_bin`` >= 0) become
    ``tumour`` and re-enter the index as the stain called them (positive with their intensity bin,
    or negative); the per-tile and slide counts follow. The decision is made once on the slide's
    totals, so it does not depend on the tiling. Run it before :func:`apply_slide_threshold`, so
    the slide's threshold sees the final index.

    Parameters
    ----------
    cells : CellTable
        All cells of the slide (``cell_type``, ``in_spindle_sheet`` and ``stain_bin`` columns;
        without them nothing changes).
    cell_tile : (n,) int array
        Row of ``tiles`` each cell comes from.
    tiles : TileTable
        Per-tile table (``ki67_positive`` / ``ki67_negative`` / ``ki67_excluded`` and the
        near-black columns follow the cells).
    counts : mmnst_path.quantify.ki67.Ki67Counts
        Slide totals (the sum of the tiles').
    params : mmnst_path.quantify.ki67.Ki67Params

    Returns
    -------
    cells, tiles, counts, taken
        Updated copies (the inputs when nothing changes) and the number of nuclei taken back.
    """
    from dataclasses import fields

    from .quantify.ki67 import Ki67Counts

    need = ("cell_type", "in_spindle_sheet", "stain_bin")
    if params.spindle_sheet != "auto" or any(k not in cells.columns for k in need) or not counts.mostly_stromal():
        return cells, tiles, counts, 0
    ctype = np.asarray(cells.columns["cell_type"], dtype=np.intp)
    stain = np.asarray(cells.columns["stain_bin"], dtype=np.intp)
    take = (np.asarray(cells.columns["in_spindle_sheet"], dtype=bool) & (ctype == CELL_TYPES.index("stromal"))
            & (cells.cls == CELL_CLASSES.index("excluded")) & (stain >= 0))
    if not take.any():
        return cells, tiles, counts, 0
    pos, neg = CELL_CLASSES.index("positive"), CELL_CLASSES.index("negative")
    cls = cells.cls.copy()
    cls[take] = np.where(stain[take] > 0, pos, neg)
    columns = dict(cells.columns)
    new_type = ctype.astype(np.asarray(cells.columns["cell_type"]).dtype)
    new_type[take] = CELL_TYPES.index("tumour")
    columns["cell_type"] = new_type
    if "intensity_bin" in columns:
        bins = np.asarray(columns["intensity_bin"]).copy()
        bins[take] = np.maximum(stain[take], 0)
        columns["intensity_bin"] = bins
    # the counts of the taken nuclei before and after, with every flag that follows them
    flags = {k: np.asarray(columns[k], dtype=bool)[take] for k in ("melanocytic", "near_black") if k in columns}
    names = np.asarray(CELL_CLASSES, dtype=object)
    before = Ki67Counts.from_classes(names[cells.cls[take]], np.zeros(int(take.sum()), np.int8),
                                     np.full(int(take.sum()), "stromal"), flags.get("melanocytic"),
                                     near_black=flags.get("near_black"))
    after = Ki67Counts.from_classes(names[cls[take]], stain[take], np.full(int(take.sum()), "tumour"),
                                    flags.get("melanocytic"), near_black=flags.get("near_black"))
    new_counts = Ki67Counts(*(getattr(counts, f.name) + getattr(after, f.name) - getattr(before, f.name)
                              for f in fields(Ki67Counts)))
    cell_tile = np.asarray(cell_tile, dtype=np.intp)
    n_tiles = len(tiles)
    dark = np.asarray(columns.get("near_black", np.zeros(len(cells), bool)), dtype=bool)
    to_pos, to_neg = take & (cls == pos), take & (cls == neg)
    tile_cols = dict(tiles.columns)
    for name, delta in (
        ("ki67_positive", np.bincount(cell_tile[to_pos], minlength=n_tiles)),
        ("ki67_negative", np.bincount(cell_tile[to_neg], minlength=n_tiles)),
        ("ki67_excluded", -np.bincount(cell_tile[take], minlength=n_tiles)),
        ("ki67_near_black_positive", np.bincount(cell_tile[to_pos & dark], minlength=n_tiles)),
        ("ki67_near_black_negative", np.bincount(cell_tile[to_neg & dark], minlength=n_tiles)),
    ):
        if name in tile_cols:
            tile_cols[name] = np.asarray(tile_cols[name], dtype=np.float64) + delta
    return CellTable(cells.row, cells.col, cls, columns, cells.cell_types), TileTable(tiles.core, tile_cols), new_counts, int(take.sum())


def ki67_tile_map(tiles: TileTable, shape: tuple[int, int]) -> LowResMap:
    """Per-tile Ki67 index (%) on the tile grid; NaN where a tile has no counted nucleus or no tile.

    The map's pixel is the nominal (largest) tile core; ``downsample`` maps it to level 0.
    """
    if not len(tiles):
        return LowResMap(np.full((1, 1), np.nan, np.float32), float(max(shape)))
    step = int(max(tiles.core[:, 2].max(), tiles.core[:, 3].max()))
    out = np.full((math.ceil(shape[0] / step), math.ceil(shape[1] / step)), np.nan, np.float32)
    pos = tiles.columns.get("ki67_positive")
    neg = tiles.columns.get("ki67_negative")
    if pos is None or neg is None:
        return LowResMap(out, float(step))
    n = pos + neg
    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.where(n > 0, 100.0 * pos / np.maximum(n, 1), np.nan)
    out[tiles.core[:, 0] // step, tiles.core[:, 1] // step] = index
    return LowResMap(out, float(step))


@dataclass(frozen=True, eq=False)
class LowResMap:
    """A low-resolution slide map: ``image[i, j]`` covers level-0 pixels ``[i*d, (i+1)*d)``."""

    image: np.ndarray
    downsample: float


# ------------------------------------------------------------------------------------------------
# slide result
@dataclass(frozen=True, eq=False)
class SlideResult:
    """Everything measured on one slide or tile (small things only: counts, cells, low-res maps).

    Attributes
    ----------
    input : str
        Path of the slide (or ``"<array>"`` for an in-memory image).
    shape : (rows, cols)
        Level-0 extent.
    mpp : float
        Level-0 microns per pixel used.
    analysis_mpp : float
        Resolution the tiles were analysed at (µm/px).
    measures : tuple of str
        What was measured (``"ki67"``, ``"melanin"``, ``"necrosis"``).
    metrics : mapping
        Flat metrics from slide totals (``ki67_index_pct``..., ``tissue_area_mm2``); undefined
        values are NaN.
    counts : mapping of str to count object
        Slide totals (``"ki67"`` -> Ki67Counts, ``"melanin"`` -> MelaninCounts...).
    hotspot : Hotspot or None
        Ki67 hot spot (``None`` when Ki67 was not measured).
    tiles : TileTable
        Per-tile table.
    cells : CellTable
        Every nucleus kept (level-0 centroids).
    maps : mapping of str to LowResMap
        Low-resolution maps (``"tissue"``, ``"ki67"``, ``"melanin"``, ``"necrosis"``).
    config : mapping
        The full analysis configuration (``AnalysisConfig.to_mapping()``).
    stains : mapping
        Stain matrix used: ``{"name": ..., "names": [...], "vectors": [[r, g, b], ...]}``.
    versions : mapping of str to str
        Software versions.
    timings : mapping of str to float
        Seconds spent per stage.
    tissue_classes : mapping
        Legend of the tissue class map ``maps["tissue_classes"]`` (int8 class index per map
        pixel, -1 where nothing was analysed) when a tissue model ran: ``{"model": "id name
        version", "classes": [{"index", "name", "colour": [r, g, b], "area_mm2", "pct_of_tissue"}]}``
        (``pct_of_tissue``: share of the classified non-background area; NaN for background).
        Empty without a tissue model.
    warnings : tuple of str
        The warnings the run raised (each also issued as a Python warning): named stains the image contradicts,
        a close call of ``stains="auto"``... (the QC sentences of the numbers: :attr:`qc`).
    mpp_source : str or None
        Where :attr:`mpp` came from, as summary.csv's ``mpp_source`` says it: ``"file"`` (the file's metadata) or
        ``"given"`` (the ``mpp`` argument, or an in-memory image's); the batch names its option instead (``"--mpp"``,
        ``"manifest"``, ``"--mpp-override"``). None: not recorded (a result made otherwise).
    stains_source : str or None
        Where the stains came from, as summary.csv's ``stains_source`` says it: ``"detected"`` (``stains="auto"``),
        ``"detected, a close call: check"`` or ``"chosen"`` (named). None: not recorded.
    """

    input: str
    shape: tuple[int, int]
    mpp: float
    analysis_mpp: float
    measures: tuple[str, ...]
    metrics: Mapping[str, Any]
    counts: Mapping[str, Any]
    hotspot: Hotspot | None
    tiles: TileTable
    cells: CellTable
    maps: Mapping[str, LowResMap]
    config: Mapping[str, Any]
    stains: Mapping[str, Any]
    versions: Mapping[str, str]
    timings: Mapping[str, float]
    tissue_classes: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    mpp_source: str | None = None
    stains_source: str | None = None

    @property
    def qc(self) -> list[str]:
        """The QC sentences of the numbers, as summary.csv's ``qc`` column says them: the pigment bound of the Ki67
        index whenever pigment hides any index nucleus, near-black positives, nuclei left out as stromal, and the
        pigment bound of a double stain's melanocyte-restricted index (:func:`mmnst_path.report.qc_notes`)."""
        from ._qc_text import qc_notes

        return qc_notes(self.metrics)
