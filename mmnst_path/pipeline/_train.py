"""Train a nucleus model from annotation files on slides or tiles (``mmnst-path train cells``).

Annotations are classified points or cells in level-0 pixels of their image:

- QuPath GeoJSON (File > Export objects): points annotations (``Point`` / ``MultiPoint``) or
  detections / cells (their outline's centroid), the class from ``classification`` (QuPath's
  ``Tumor``, ``Stroma``, ``Immune cells``, ``Tumor: Positive``... see
  :func:`mmnst_path.classify.train_cells.canonical_class`);
- CSV with columns ``x, y, class`` (or ``row, col, class``; also ``label`` / ``name`` for the class),
  e.g. a napari Points layer saved with its ``class`` feature.

Each image is read around its annotated points only (windows of ``window_um`` plus a margin for the
features' context), at the nucleus model's resolution.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError

__all__ = ["cell_rows_from_reader", "read_cell_annotations", "read_tissue_annotations", "read_tissue_polygons",
           "train_cells", "train_tissue"]


def _class_name(feature: Any) -> str:
    """Class of a GeoJSON feature: QuPath ``classification`` (``names`` joined by ': ', or ``name``),
    else ``class`` / ``name`` properties; ``""`` when unclassified."""
    raw = feature.get("properties")
    props: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    cls = props.get("classification", props.get("class", props.get("name", "")))
    if isinstance(cls, dict):
        parts = cls.get("names")
        cls = ": ".join(str(p) for p in parts) if isinstance(parts, list) and parts else cls.get("name", "")
    return str(cls or "")


def _read_around(reader: Any, points_rc: np.ndarray, margin: int) -> tuple[np.ndarray, int, int] | None:
    """Level-0 RGB of the bounding box of ``points_rc`` grown by ``margin`` px (clipped), with its
    top-left (row, col); None when the box is empty."""
    from ..geometry import Box

    r0 = max(0, int(np.floor(points_rc[:, 0].min())) - margin)
    c0 = max(0, int(np.floor(points_rc[:, 1].min())) - margin)
    r1 = min(reader.shape[0], int(np.ceil(points_rc[:, 0].max())) + margin + 1)
    c1 = min(reader.shape[1], int(np.ceil(points_rc[:, 1].max())) + margin + 1)
    if r1 <= r0 or c1 <= c0:
        return None
    return reader.read_region(Box(r0, c0, r1 - r0, c1 - c0))[..., :3], r0, c0


def _stains_of(stains: str, images: Sequence[str | Path], mpps: Sequence[float | None], kind: str,
               say: Callable[[str], None]) -> str:
    """The stains to train with: ``"auto"`` read from the images, named ones checked against them (notes said);
    before that, every image's pixel size (a missing one refused before any image is read for training)."""
    from ..io import open_slide
    from ._train_stains import training_stains

    for img_path, m in zip(images, mpps, strict=True):
        with open_slide(img_path, mpp=m) as reader:
            _reader_mpp(reader, repr(str(img_path)), "nucleus" if kind == "nucleus" else "tissue")
    chosen, notes = training_stains(stains, images, mpps, kind=kind)
    for note in notes:
        say(note)
    return chosen


def _per_image_mpp(mpp: float | Sequence[float | None] | None, n: int) -> list[float | None]:
    """One µm/px (or None) per image from ``mpp``: one value for all, or a sequence of ``n``."""
    if mpp is None or isinstance(mpp, int | float):
        return [mpp] * n
    values = list(mpp)
    if len(values) == 1:
        return values * n
    if len(values) != n:
        msg = f"mpp: give one µm/px for all images or one per image, got {len(values)} values for {n} images"
        raise ConfigError(msg)
    return values


def _check_pairs(images: Sequence[Any], annotations: Sequence[Any]) -> None:
    if len(images) != len(annotations) or not images:
        msg = f"need one annotation file per image, got {len(images)} images and {len(annotations)} annotation files"
        raise ConfigError(msg)


def _reader_mpp(reader: Any, where: str, what: str) -> float:
    if reader.mpp is None:
        msg = f"{where}: pixel size unknown; pass --mpp (the {what} features are in µm)"
        raise ConfigError(msg)
    return float(reader.mpp)


def read_cell_annotations(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Classified points of an annotation file: ((k, 2) level-0 (row, col), (k,) class names)."""
    from .._geojson_read import _positions, read_features

    path = Path(path)
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    rows: list[tuple[float, float]] = []
    names: list[str] = []
    for feat in read_features(path, what="annotation file"):
        cls = _class_name(feat)
        geom = feat.get("geometry")
        if not isinstance(geom, dict):
            continue
        for x, y in _positions(geom):
            if math.isfinite(x) and math.isfinite(y):
                rows.append((y, x))
                names.append(cls)
    if not rows:
        msg = f"annotation file {str(path)!r}: no classified points or cells found (expected Point/MultiPoint or polygon features)"
        raise ConfigError(msg)
    return np.asarray(rows, dtype=np.float64), np.asarray(names, dtype=object)


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            table = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        msg = f"annotation file {str(path)!r}: cannot read it as CSV ({exc})"
        raise ConfigError(msg) from exc
    if not table:
        msg = f"annotation file {str(path)!r}: no rows"
        raise ConfigError(msg)
    keys = {k.strip().lower(): k for k in table[0] if k}
    cls_key = next((keys[k] for k in ("class", "label", "name", "classification") if k in keys), None)
    if cls_key is None or not ({"x", "y"} <= set(keys) or {"row", "col"} <= set(keys) or
                               {"axis-0", "axis-1"} <= set(keys)):
        msg = (f"annotation file {str(path)!r}: expected columns x, y, class (or row, col, class; napari's "
               f"axis-0, axis-1), got {list(table[0])}")
        raise ConfigError(msg)
    if {"x", "y"} <= set(keys):
        rk, ck = keys["y"], keys["x"]
    elif {"row", "col"} <= set(keys):
        rk, ck = keys["row"], keys["col"]
    else:
        rk, ck = keys["axis-0"], keys["axis-1"]
    pts, names = [], []
    for i, r in enumerate(table, start=2):
        try:
            pts.append((float(r[rk]), float(r[ck])))
        except (TypeError, ValueError) as exc:
            msg = f"annotation file {str(path)!r} line {i}: coordinates {r[rk]!r}, {r[ck]!r} are not numbers"
            raise ConfigError(msg) from exc
        names.append(r[cls_key] or "")
    return np.asarray(pts, dtype=np.float64), np.asarray(names, dtype=object)


def _windows(points: np.ndarray, step_px: float) -> list[np.ndarray]:
    """Indices of the points in each occupied cell of a square grid of side ``step_px``."""
    cells = np.floor(points / step_px).astype(np.int64)
    _, inv = np.unique(cells, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    return [np.flatnonzero(inv == k) for k in range(inv.max() + 1)] if len(points) else []


def cell_rows_from_reader(reader: Any, points_rc: np.ndarray, names: Sequence[Any] | np.ndarray, *, stains: Any = "H-DAB",
                          window_um: float = 1000.0, where: str = "image",
                          places: list[np.ndarray] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Training rows (features, class names) of annotated points on an open slide / image.

    The points (level-0 (row, col)) are grouped in windows of ``window_um``; each window is read
    once at level 0 with a margin for the features' context and analysed at the model resolution.
    ``places`` (a list the caller gives) receives, per returned entry, the (k, 2) level-0 (row, col) µm of
    the points its rows come from (for :class:`~mmnst_path.classify.train.Places`: held-out figures of
    spatial squares).
    """
    examples = _cell_examples(reader, points_rc, names, stains=stains, window_um=window_um, where=where)
    if places is not None:
        m = _reader_mpp(reader, where, "nucleus")
        places.extend(np.asarray(rc, float).reshape(-1, 2) * m for _, _, rc in examples)
    return [(x, y) for x, y, _ in examples]


def _cell_examples(reader: Any, points_rc: np.ndarray, names: Sequence[Any] | np.ndarray, *, stains: Any,
                   window_um: float, where: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`cell_rows_from_reader` with the level-0 (row, col) of the point each row comes from."""
    from ..classify.nucleus_features import NucleusFeatureSettings
    from ..classify.train_cells import cell_training_examples

    m = _reader_mpp(reader, where, "nucleus")
    settings = NucleusFeatureSettings()
    pts = np.asarray(points_rc, dtype=np.float64).reshape(-1, 2)
    names_arr = np.asarray(names, dtype=object)
    margin = math.ceil((settings.context_um() + 20.0) / m)
    out = []
    for idx in _windows(pts, window_um / m):
        window = _read_around(reader, pts[idx], margin)
        if window is None:
            continue
        rgb, r0, c0 = window
        x, y, point = cell_training_examples(rgb, pts[idx] - [r0, c0], names_arr[idx], mpp=m, stains=stains,
                                             settings=settings)
        out.append((x, y, pts[idx][point]))
    return out


#: how far (level-0 px) a position may lie before the image's first row / column and still be on it: a centroid
#: QuPath computes on the edge can come out as -1e-15
EDGE_PX = 1e-6


def _outside(rc: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """(k,) bool: level-0 (row, col) positions outside an image of ``shape`` (a position on the first row or
    column that rounding put a hair before it, :data:`EDGE_PX`, is inside)."""
    rc = np.asarray(rc, float).reshape(-1, 2)
    return (rc[:, 0] < -EDGE_PX) | (rc[:, 1] < -EDGE_PX) | (rc[:, 0] >= shape[0]) | (rc[:, 1] >= shape[1])


def _span(values: np.ndarray) -> str:
    """"lo to hi" of positions, whole pixels unless a fraction matters (never "-0")."""
    def one(v: float) -> str:
        text = f"{v:.0f}" if abs(v - round(v)) < 0.05 or abs(v) >= 10 else f"{v:.1f}"
        return "0" if text in ("-0", "-0.0") else text

    return f"{one(float(np.min(values)))} to {one(float(np.max(values)))}"


def _size(shape: Sequence[int]) -> str:
    return f"{int(shape[1])} x {int(shape[0])} px"


def _lost_classes(annotated: dict[str, int], rows_y: Sequence[np.ndarray], unit: str, why: str) -> list[str]:
    """Lines naming the classes annotated (with ``annotated[c]`` ``unit``) that have no training example."""
    kept = {str(c) for y in rows_y for c in np.unique(y)}
    return [f"class {c!r}: {n} {unit} annotated but no example left ({why})"
            for c, n in sorted(annotated.items()) if c not in kept]


def _training_card(kind_card: dict[str, Any], *, mpps: list[float], mapping: dict[str, str],
                   intended_use: str, limitations: str, name: str = "", version: str = "") -> dict[str, Any]:
    """The card fields ``mmnst-path train`` adds: pixel size, version, date, intended use, class mapping, and the
    model's ``name`` / ``version`` when given (else the trainer's "user ... classifier" "1")."""
    import datetime

    from .. import __version__

    out = dict(kind_card)
    same = len({round(v, 6) for v in mpps}) == 1
    out["pixel_size_um"] = float(mpps[0]) if mpps and same else [float(v) for v in mpps]
    out["mmnst_path_version"] = __version__
    out["date"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    out["intended_use"] = str(intended_use or "")
    out["limitations"] = str(limitations or "")
    out["class_names"] = {raw: (cls or "(not used)") for raw, cls in sorted(mapping.items())}
    if str(name).strip():
        out["name"] = " ".join(str(name).split())
    if str(version).strip():
        out["version"] = str(version).strip()
    return out


def train_cells(
    images: Sequence[str | Path],
    annotations: Sequence[str | Path],
    *,
    mpp: float | Sequence[float | None] | None = None,
    stains: str = "auto",
    tumour_min_probability: float | None = None,
    window_um: float = 1000.0,
    progress: Callable[[str], None] | None = None,
    intended_use: str = "",
    limitations: str = "",
    name: str = "",
    version: str = "",
) -> Any:
    """Train a nucleus model from slides/tiles and their annotation files (paired in order).

    Parameters
    ----------
    images, annotations : sequences of paths, the same length
    mpp : float, sequence of float / None, or None
        µm/px for images without it in their metadata: one value for all, or one per image (tiles of two
        scanners in one model).
    stains : str
        Stain preset of the images (the model records it); ``"auto"`` (the default, as ``mmnst-path train
        cells``): guessed from the images as ``quantify --stains auto`` does (:func:`~mmnst_path.pipeline._train_stains.training_stains`: images of
        different stains refused; named stains that disagree with an image's guess said through ``progress``).
    tumour_min_probability : float or None
        Decision rule stored in the model (None = most probable class).
    window_um : float
        Points are grouped in windows of this side; each window is read once (plus the context).
    progress : callable or None
        Called with a line per image, and a line per problem (points outside the image, a class left
        without an example).
    intended_use, limitations : str
        The card's fields of these names (empty allowed).
    name, version : str
        The model's name and version on its card (empty: "user nucleus classifier", "1").

    Returns
    -------
    ClassifierModel
        Its card holds the training pixel size, the class-name mapping, the held-out figures of whole
        images (:func:`mmnst_path.classify.train.holdout_folds`) and ``new_classes`` (names mmnst_path
        does not know, kept as the lab's own).
    """
    from ..classify._class_names import check_class_names
    from ..classify.nucleus_features import NucleusFeatureSettings
    from ..classify.train import Places
    from ..classify.train_cells import train_cell_model
    from ..io import open_slide

    _check_pairs(images, annotations)
    say = progress if progress is not None else (lambda line: None)
    settings = NucleusFeatureSettings()
    read = [read_cell_annotations(a) for a in annotations]
    mapping: dict[str, str] = {}
    new: list[str] = []
    for ann_path, (_, names) in zip(annotations, read, strict=True):
        got, fresh = check_class_names(names, "nucleus", where=f"annotation file {str(ann_path)!r}")
        mapping.update(got)
        new += [c for c in fresh if c not in new]
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    parts: list[tuple[int, np.ndarray]] = []
    sources, mpps = [], []
    annotated: dict[str, int] = {}
    mpp_of = _per_image_mpp(mpp, len(images))
    stains = _stains_of(stains, images, mpp_of, "nucleus", say)
    for i, (img_path, ann_path, (pts, names)) in enumerate(zip(images, annotations, read, strict=True)):
        with open_slide(img_path, mpp=mpp_of[i]) as reader:
            m = _reader_mpp(reader, str(img_path), "nucleus")
            out = _outside(pts, reader.shape)
            if out.any():
                say(f"annotation file {str(ann_path)!r}: {int(out.sum())} of {len(pts)} points lie outside the image "
                    f"{Path(img_path).name} ({_size(reader.shape)}; points at x {_span(pts[out, 1])}, "
                    f"y {_span(pts[out, 0])}): level-0 pixel coordinates of this image?")
            inside = ~out
            pts = np.maximum(pts, 0.0)  # a position a hair before the first row / column is on it
            for c in (mapping.get(str(n), "") for n in names[inside]):
                if c:
                    annotated[c] = annotated.get(c, 0) + 1
            found = _cell_examples(reader, pts[inside], names[inside], stains=stains, window_um=window_um,
                                   where=str(img_path)) if inside.any() else []
        rows += [(x, y) for x, y, _ in found]
        parts += [(i, rc * m) for _, _, rc in found]
        mpps.append(m)
        ys = [y for _, y, _ in found]
        n_used = sum(len(y) for y in ys)
        per_class = {str(c): int(sum((y == c).sum() for y in ys)) for c in sorted({c for y in ys for c in y})}
        sources.append({"image": Path(img_path).name, "annotations": Path(ann_path).name, "points": len(pts),
                        "matched_nuclei": n_used, "mpp_um": m, "classes": per_class})
        say(f"{img_path}: {len(pts)} points, {n_used} on detected nuclei")
        if n_used == 0:
            why = ("every point lies outside the image" if inside.size and not inside.any() else
                   "every point is unclassified, Region* or Ignore*" if not any(mapping.get(str(n)) for n in names)
                   else "no point lies within 4 µm of a nucleus the detector found (check --mpp and --stains)")
            say(f"{img_path}: 0 training examples: {why}")
    for line in _lost_classes(annotated, [y for _, y in rows], "points",
                              "its points missed every detected nucleus, within 4 µm"):
        say(line)
    card = _training_card({"training_data": sources, "stains": stains, "new_classes": new}, mpps=mpps,
                          mapping=mapping, intended_use=intended_use, limitations=limitations, name=name,
                          version=version)
    return train_cell_model(rows, settings=settings, stains=stains, card=card,
                            tumour_min_probability=tumour_min_probability, places=Places.stack(parts))


#: Files a napari Shapes layer (CSV) or Labels layer (image) is saved as; ``train tissue`` reads GeoJSON only.
NAPARI_LAYER_SUFFIXES = (".csv", ".tif", ".tiff", ".png", ".npy", ".zarr")


def read_tissue_polygons(path: str | Path) -> list[tuple[list[np.ndarray], str]]:
    """Classified polygons of a QuPath GeoJSON with their holes: [([outer, hole, ...], class name)].

    Rings in level-0 (row, col); one entry per ``Polygon`` / ``MultiPolygon`` part, in file order. A point
    inside an odd number of a polygon's rings is inside it (even-odd: a hole is not, an island drawn as a
    ring inside a hole is).
    """
    from .._geojson_read import _polygon_rings, feature_kind, read_features

    if not Path(path).is_file():  # said before the suffix: a missing x.csv is missing, not a napari layer
        raise ConfigError(f"annotation file {str(Path(path))!r} does not exist or is not a file")
    if Path(path).suffix.lower() in NAPARI_LAYER_SUFFIXES:  # a napari layer saved to disk: say where it trains
        msg = (f"annotation file {str(Path(path))!r}: expected QuPath GeoJSON polygons (a .geojson or .json file); a "
               "napari Shapes layer or Labels image trains in napari: open it there, then Plugins > mmnst_path > Train "
               "tissue ('paint selected Shapes layer', or paint the 'tissue training' labels) and 'save model'")
        raise ConfigError(msg)
    out = []
    for feat in read_features(path, what="annotation file"):
        if feature_kind(feat) in ("detection", "tile"):
            continue
        geom = feat.get("geometry")
        if isinstance(geom, dict):
            out += [(rings, _class_name(feat)) for rings in _polygon_rings(geom)]
    if not out:
        msg = f"annotation file {str(Path(path))!r}: no classified polygons found (expected QuPath annotations)"
        raise ConfigError(msg)
    return out


def read_tissue_annotations(path: str | Path) -> list[tuple[np.ndarray, str]]:
    """Classified polygons of a QuPath GeoJSON: [(level-0 (k, 2) (row, col) outer ring, class name)].

    Holes are dropped with a ``UserWarning``; :func:`read_tissue_polygons` keeps them (``train tissue`` reads
    them so).
    """
    import warnings

    polys = read_tissue_polygons(path)
    if any(len(rings) > 1 for rings, _ in polys):
        warnings.warn(f"{path}: polygon holes are ignored (the outer ring is used)", UserWarning, stacklevel=2)
    return [(rings[0], name) for rings, name in polys]


def _paint_window(polys: Sequence[tuple[list[np.ndarray], str]], group: np.ndarray, value: Sequence[int],
                  box: tuple[int, int, int, int]) -> np.ndarray:
    """The (h, w) uint8 label image of a window ``box`` = (r0, c0, h, w).

    Each pixel takes the value of the last polygon in file order that holds it: inside its outer ring and inside
    an even number of its other rings, so a hole's pixels keep the class of a polygon drawn in it, else stay 0,
    and a ring inside a hole is an island. Pixels whose last polygon is not one of the window's own (``group``)
    are 0, since the window of that polygon counts them.
    """
    from skimage.draw import polygon as draw_polygon

    r0, c0, h, w = box
    owner = np.full((h, w), -1, np.int32)
    for k, (rings, _) in enumerate(polys):
        outer = rings[0]
        if (outer[:, 0].max() < r0 or outer[:, 1].max() < c0 or outer[:, 0].min() >= r0 + h
                or outer[:, 1].min() >= c0 + w):
            continue
        rr, cc = draw_polygon(outer[:, 0] - r0, outer[:, 1] - c0, shape=(h, w))
        if len(rings) > 1 and len(rr):
            top, left = int(rr.min()), int(cc.min())
            inside = np.zeros((int(rr.max()) - top + 1, int(cc.max()) - left + 1), bool)
            inside[rr - top, cc - left] = True
            outer_px = inside.copy()
            for hole in rings[1:]:
                hr, hc = draw_polygon(hole[:, 0] - r0 - top, hole[:, 1] - c0 - left, shape=inside.shape)
                inside[hr, hc] ^= True
            rr, cc = np.nonzero(inside & outer_px)  # a hole drawn across the outer ring adds nothing outside it
            rr, cc = rr + top, cc + left
        owner[rr, cc] = k
    lab = np.zeros((h, w), np.uint8)
    mine = np.isin(owner, group)
    lab[mine] = np.asarray(value, np.uint8)[owner[mine]]
    return lab


def train_tissue(
    images: Sequence[str | Path],
    annotations: Sequence[str | Path],
    *,
    mpp: float | Sequence[float | None] | None = None,
    stains: str = "auto",
    window_um: float = 2000.0,
    progress: Callable[[str], None] | None = None,
    intended_use: str = "",
    limitations: str = "",
    name: str = "",
    version: str = "",
) -> Any:
    """Train a tissue model from slides/tiles and GeoJSON polygons (paired in order).

    Each image is read around its polygons (windows of ``window_um`` plus the features' halo),
    the polygons are rasterised into a label image (later polygons over earlier ones; a polygon's holes are not
    its class: they keep the class of a polygon drawn in them, else stay unlabelled) and
    :func:`mmnst_path.classify.train_tissue.tissue_training_blocks` gives the labelled blocks.
    The feature recipe is that of the shipped default model for ``stains`` (for IHC stains the
    chromogen is read as hematoxylin, so the model cannot learn "positive = tumour"), as in
    napari's Train tissue widget. Class names are read by
    :func:`mmnst_path.classify._class_names.check_class_names` (``Region*`` / ``Ignore*`` skipped, near
    misses refused); a polygon outside its image and a class left without a block are said through
    ``progress``. The card's held-out figures hold out whole images (or squares of a single image).
    ``stains``: ``"auto"`` (the default, as ``mmnst-path train tissue``) guesses them from the images as ``quantify
    --stains auto`` does (images of different stains refused), or a preset name (images that look otherwise said).
    """
    from ..classify import resolve_model
    from ..classify._class_names import check_class_names
    from ..classify.tissue import tissue_feature_settings
    from ..classify.train import Places
    from ..classify.train_tissue import tissue_training_blocks, train_tissue_model
    from ..io import open_slide

    _check_pairs(images, annotations)
    say = progress if progress is not None else (lambda line: None)
    polys_all = [read_tissue_polygons(a) for a in annotations]
    mapping: dict[str, str] = {}
    new: list[str] = []
    for ann_path, polys in zip(annotations, polys_all, strict=True):
        got, fresh = check_class_names([n for _, n in polys], "tissue", where=f"annotation file {str(ann_path)!r}")
        mapping.update(got)
        new += [c for c in fresh if c not in new]
    kept_all = []
    mpp_of = _per_image_mpp(mpp, len(images))
    stains = _stains_of(stains, images, mpp_of, "tissue", say)
    default = resolve_model("default", "tissue", stains=stains)
    if default is None:  # pragma: no cover - "default" always names a shipped file
        msg = f"no shipped default tissue model for stains {stains!r}"
        raise ConfigError(msg)
    settings = tissue_feature_settings(default)
    for i, (img_path, ann_path, polys) in enumerate(zip(images, annotations, polys_all, strict=True)):
        with open_slide(img_path, mpp=mpp_of[i]) as reader:
            shape = reader.shape
        kept_all.append(_inside_polygons(polys, shape, say, where=f"annotation file {str(ann_path)!r}",
                                         image=Path(img_path).name))
    classes = sorted({c for kept in kept_all for _, name in kept if (c := mapping.get(name, ""))})
    if len(classes) < 2:
        lost = " (polygons outside their image are left out: see above)" if any(
            len(k) < len(p) for k, p in zip(kept_all, polys_all, strict=True)) else ""
        msg = f"annotations hold only the tissue class(es) {classes}{lost}: draw at least two classes"
        raise ConfigError(msg)
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    parts: list[tuple[int, np.ndarray]] = []
    sources, mpps = [], []
    annotated: dict[str, int] = {}
    for i, (img_path, ann_path, polys, kept) in enumerate(zip(images, annotations, polys_all, kept_all, strict=True)):
        for _, label in kept:  # (not `name`: that is the model's name, given by the caller)
            if mapping.get(label):
                annotated[mapping[label]] = annotated.get(mapping[label], 0) + 1
        with open_slide(img_path, mpp=mpp_of[i]) as reader:
            m = _reader_mpp(reader, repr(str(img_path)), "tissue")
            margin = math.ceil(settings.halo_um() / m)
            n_blocks, per_class = 0, dict[str, int]()
            centres = np.array([rings[0].mean(axis=0) for rings, _ in kept]).reshape(-1, 2)
            value = [classes.index(mapping[label]) + 1 if mapping.get(label) else 0 for _, label in kept]
            for idx in _windows(centres, window_um / m):
                window = _read_around(reader, np.concatenate([kept[k][0][0] for k in idx]), margin)
                if window is None:
                    continue
                rgb, r0, c0 = window
                lab = _paint_window(kept, idx, value, (r0, c0, *rgb.shape[:2]))
                x, y, rc = tissue_training_blocks(rgb, lab, mpp=m, classes=classes, stains=stains, settings=settings)
                rows.append((x, y))
                parts.append((i, rc + np.array([r0, c0]) * m))
                n_blocks += len(y)
                for c in np.unique(y):
                    per_class[str(c)] = per_class.get(str(c), 0) + int((y == c).sum())
        mpps.append(m)
        sources.append({"image": Path(img_path).name, "annotations": Path(ann_path).name, "polygons": len(polys),
                        "labelled_blocks": n_blocks, "mpp_um": m, "classes": dict(sorted(per_class.items()))})
        say(f"{img_path}: {len(polys)} polygons, {n_blocks} labelled blocks")
        if n_blocks == 0:
            why = ("every polygon lies outside the image" if not kept else
                   "every polygon is unclassified, Region* or Ignore*" if not any(mapping.get(n) for _, n in kept)
                   else "no polygon covers 60 % of a whole 8 µm block (draw larger areas; check --mpp)")
            say(f"{img_path}: 0 training examples: {why}")
    for line in _lost_classes(annotated, [y for _, y in rows], "polygons",
                              "no polygon of it covers 60 % of a whole 8 µm block inside its image"):
        say(line)
    card = _training_card({"training_data": sources, "new_classes": new, "polygons_per_class": dict(sorted(
        annotated.items()))}, mpps=mpps, mapping=mapping,
                          intended_use=intended_use, limitations=limitations, name=name, version=version)
    return train_tissue_model(rows, settings=settings, stains=stains, card=card, places=Places.stack(parts))


def _inside_polygons(polys: list[tuple[list[np.ndarray], str]], shape: Sequence[int], say: Callable[[str], None],
                     *, where: str, image: str) -> list[tuple[list[np.ndarray], str]]:
    """The polygons (rings: outer first) that overlap an image of level-0 ``shape``; each one outside it is said
    in one line."""
    kept = []
    for j, (rings, name) in enumerate(polys):
        poly = rings[0]
        if _outside(poly, shape).all() and not _covers(poly, shape):
            say(f"{where}: polygon {j} ({name or 'unclassified'}) lies outside the image {image}: x "
                f"{poly[:, 1].min():.0f}-{poly[:, 1].max():.0f}, y {poly[:, 0].min():.0f}-{poly[:, 0].max():.0f} "
                f"against {_size(shape)}: level-0 pixel coordinates of this image?")
            continue
        kept.append((rings, name))
    return kept


def _covers(poly: np.ndarray, shape: Sequence[int]) -> bool:
    """Whether a polygon whose vertices all lie outside the image still overlaps it (its bounding box does)."""
    return bool(poly[:, 0].max() >= 0 and poly[:, 1].max() >= 0 and poly[:, 0].min() < shape[0]
                and poly[:, 1].min() < shape[1])
