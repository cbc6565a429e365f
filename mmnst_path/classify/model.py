"""Classifier models as data: a portable, validated, pickle-free file with a model card.

One format for every learned classifier of the project (nucleus / cell classes, tissue classes):
features -> forest -> class probabilities. A model file (``.mmnst``, a zip written by
``numpy.savez_compressed``) holds

- ``header``: UTF-8 JSON as a uint8 array: ``format``, ``format_version``, ``kind``
  (``"nucleus"`` or ``"tissue"``), the ordered ``classes`` (index, name, RGB colour), the
  ``features`` (name, unit and description of each column, in order), the feature ``settings``
  the features must be computed with (pixel size in µm/px, radii in µm, the stain matrix), and
  the ``card`` (licence, authors, training data with its licence and attribution, intended
  stains and tissues, per-class validation figures, software versions);
- the forest arrays (:class:`~mmnst_path.classify._forest.Forest`), expanded (format versions 1
  and 2) or compact (version 3, :mod:`~mmnst_path.classify._forest_pack`: the same arrays, bit for
  bit, in about half the bytes);
- ``test_x`` / ``test_proba``: a few feature rows and the probabilities the model gave them when
  it was saved. Loading re-predicts them and refuses the file when they differ (a file damaged in
  a way the checks below miss, or a predictor that changed), so a model is never silently wrong;
- optionally a second, *context* stage (:class:`ContextStage`, format version 2): the header's
  ``context`` (its feature columns and settings) and the arrays ``context_<forest array>``,
  ``context_test_x``, ``context_test_proba``, checked and self-tested like the first stage. A
  tissue model with it is applied in two stages by :func:`mmnst_path.classify.tissue.classify_tissue`
  (auto-context, :mod:`mmnst_path.classify.tissue_context`).

Loading reads only numeric arrays (``allow_pickle=False``): a model file from someone else
cannot run code. Every array and header field is checked; a damaged, foreign or newer file gets a
:class:`~mmnst_path.errors.CorruptFileError` naming the file and the problem. The model id is
the SHA-256 of the canonical header (without the id) and the expanded arrays, so two files with the
same id predict the same; it is written into every result that used the model.

Format versions: ``FORMAT_VERSION`` is 3, the highest this module reads. The canonical form, over
which the model id is computed whatever form the file has: a model without a context stage is
version 1 (as before 2026-12-03), one with a context stage version 2. Since 2026-12-07
:meth:`ClassifierModel.save` writes version 3: the forests' arrays compact and lossless
(:func:`~mmnst_path.classify._forest_pack.pack_forest`), the header saying ``format_version`` 3.
Loading expands them into the canonical arrays bit for bit, so a model keeps its id (and its
predictions) when rewritten compact; mmnst_path before version 3 refuses such a file ("written by a
newer mmnst_path") instead of misreading it. ``save(..., compact=False)`` writes the version 1 / 2
form those versions read (also written for a forest whose layout the compact form does not hold).
A file with a higher version is refused; files are migrated on load, never rewritten in place.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import numbers
import os
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._models_dir import MODELS_DIR
from ..errors import ConfigError, CorruptFileError
from ._forest import ARRAY_KEYS, Forest
from ._forest_pack import PACKED_KEYS, pack_forest, unpack_forest

__all__ = ["FORMAT", "FORMAT_VERSION", "ClassSpec", "ClassifierModel", "ContextStage", "FeatureSpec",
           "check_feature_settings", "load_model", "model_file"]

FORMAT = "mmnst_path.classifier"
FORMAT_VERSION = 3
#: the (canonical) format version of a model without a context stage
_PLAIN_VERSION = 1
#: the (canonical) format version of a model with a context stage
_CONTEXT_VERSION = 2
#: a file with the forests' arrays compact (:mod:`mmnst_path.classify._forest_pack`)
_COMPACT_VERSION = 3
_CONTEXT_PREFIX = "context_"
KINDS = ("nucleus", "tissue")
_MAX_HEADER = 4 * 1024 * 1024


@dataclass(frozen=True)
class ClassSpec:
    """One output class: its column index in the probabilities, name and display colour (RGB 0-255)."""

    index: int
    name: str
    colour: tuple[int, int, int]


@dataclass(frozen=True)
class FeatureSpec:
    """One feature column: name, unit and what it measures."""

    name: str
    unit: str = ""
    description: str = ""


@dataclass(frozen=True, eq=False)
class ContextStage:
    """Second stage of a two-stage (auto-context) model: a forest on its own feature columns.

    Attributes
    ----------
    features : tuple of FeatureSpec
        Columns of the second stage, in order (what they are is up to the model's kind: for tissue
        models :func:`mmnst_path.classify.tissue_context.context_feature_specs`).
    settings : dict
        How those columns are computed (JSON-able).
    forest : Forest
        Over ``features``, with the model's classes as its class columns.
    test_x, test_proba : ndarray
        Embedded test rows of the second stage and their probabilities when it was made.
    """

    features: tuple[FeatureSpec, ...]
    settings: dict[str, Any]
    forest: Forest
    test_x: np.ndarray = field(repr=False)
    test_proba: np.ndarray = field(repr=False)

    @classmethod
    def build(cls, *, features: Sequence[FeatureSpec], settings: Mapping[str, Any], forest: Forest,
              test_x: np.ndarray) -> ContextStage:
        """A stage whose embedded test case is computed from ``test_x`` now."""
        tx = np.asarray(test_x, dtype=np.float32)
        return cls(tuple(features), json.loads(json.dumps(dict(settings))), forest, tx, forest.predict_proba(tx))

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(K, F2) second-stage features -> (K, n_classes) float64 probabilities."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != len(self.features):
            msg = f"context stage expects (K, {len(self.features)}) features, got shape {x.shape}"
            raise ConfigError(msg)
        return self.forest.predict_proba(x)

    def _problem(self, n_classes: int) -> str | None:
        names = [f.name for f in self.features]
        if not names or len(set(names)) != len(names):
            return "context stage: feature names must be distinct and non-empty"
        problem = self.forest.validate(len(names))
        if problem:
            return f"context stage: {problem}"
        if self.forest.n_classes != n_classes:
            return f"context stage: forest has {self.forest.n_classes} class columns for {n_classes} classes"
        tx = self.test_x
        if tx.ndim != 2 or tx.shape[1] != len(names) or tx.shape[0] < 1 or not np.all(np.isfinite(tx)):
            return f"context stage: test_x must be finite (k >= 1, {len(names)}) rows, got shape {tx.shape}"
        if self.test_proba.shape != (tx.shape[0], n_classes) or self.test_proba.dtype.kind != "f":
            return f"context stage: test_proba has shape {self.test_proba.shape}, expected ({tx.shape[0]}, {n_classes})"
        return None


@dataclass(frozen=True, eq=False)
class ClassifierModel:
    """A trained classifier: forest, classes, feature recipe and model card.

    Attributes
    ----------
    kind : {"nucleus", "tissue"}
    classes : tuple of ClassSpec
        In probability-column order.
    features : tuple of FeatureSpec
        In feature-column order.
    settings : dict
        What the features must be computed with (JSON-able): pixel size, radii (µm), stains.
    card : dict
        Model card (JSON-able): name, version, licence, training data, validation figures.
    forest : Forest
    test_x : (k, F) float32 ndarray
        Embedded test rows.
    test_proba : (k, n_classes) float64 ndarray
        Their probabilities when the model was made.
    context : ContextStage or None
        Second (auto-context) stage; None for a one-stage model.
    """

    kind: str
    classes: tuple[ClassSpec, ...]
    features: tuple[FeatureSpec, ...]
    settings: dict[str, Any]
    card: dict[str, Any]
    forest: Forest
    test_x: np.ndarray = field(repr=False)
    test_proba: np.ndarray = field(repr=False)
    context: ContextStage | None = None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def build(cls, *, kind: str, classes: Sequence[ClassSpec], features: Sequence[FeatureSpec],
              settings: Mapping[str, Any], card: Mapping[str, Any], forest: Forest,
              test_x: np.ndarray) -> ClassifierModel:
        """A model whose embedded test case is computed from ``test_x`` now."""
        tx = np.asarray(test_x, dtype=np.float32)
        model = cls(kind, tuple(classes), tuple(features), json.loads(json.dumps(dict(settings))),
                    json.loads(json.dumps(dict(card))), forest, tx, np.zeros((0, len(classes))))
        problem = model._problem()
        if problem:
            raise ConfigError(f"invalid classifier model: {problem}")
        return replace(model, test_proba=forest.predict_proba(tx))

    def with_context(self, context: ContextStage) -> ClassifierModel:
        """This model with a second (context) stage, checked."""
        model = replace(self, context=context)
        problem = model._problem()
        if problem:
            raise ConfigError(f"invalid classifier model: {problem}")
        return model

    # -- use ----------------------------------------------------------------------------------
    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def name(self) -> str:
        return str(self.card.get("name", "unnamed"))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(K, F) features in :attr:`feature_names` order -> (K, n_classes) float64 probabilities."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != len(self.features):
            msg = f"model {self.name!r} expects (K, {len(self.features)}) features, got shape {x.shape}"
            raise ConfigError(msg)
        return self.forest.predict_proba(x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(K,) int class index of the most probable class (first on ties)."""
        return np.argmax(self.predict_proba(x), axis=1)

    # -- identity -----------------------------------------------------------------------------
    def header(self) -> dict[str, Any]:
        """The canonical JSON header (without the id; format version 1 or 2 whatever the file's form:
        what the model id is computed over)."""
        header: dict[str, Any] = {
            "format": FORMAT,
            "format_version": _PLAIN_VERSION if self.context is None else _CONTEXT_VERSION,
            "kind": self.kind,
            "classes": [{"index": c.index, "name": c.name, "colour": list(c.colour)} for c in self.classes],
            "features": [{"name": f.name, "unit": f.unit, "description": f.description} for f in self.features],
            "settings": self.settings,
            "card": self.card,
        }
        if self.context is not None:
            header["context"] = {"features": [{"name": f.name, "unit": f.unit, "description": f.description}
                                              for f in self.context.features],
                                 "settings": self.context.settings}
        return header

    def _arrays(self) -> dict[str, np.ndarray]:
        """The canonical (expanded) arrays by name."""
        arrays = dict(self.forest.arrays())
        arrays["test_x"] = self.test_x
        arrays["test_proba"] = self.test_proba
        if self.context is not None:
            ctx = self.context
            arrays.update({_CONTEXT_PREFIX + k: v for k, v in ctx.forest.arrays().items()})
            arrays[_CONTEXT_PREFIX + "test_x"] = ctx.test_x
            arrays[_CONTEXT_PREFIX + "test_proba"] = ctx.test_proba
        return arrays

    @functools.cached_property
    def model_id(self) -> str:
        """``sha256:<first 16 hex>`` of the canonical header and the arrays (content hash; computed
        once per model object: ~7 ms for the shipped pigment model, asked for several times a tile)."""
        return _content_id(self.header(), self._arrays())

    def describe(self) -> dict[str, Any]:
        """What a result records about the model: id, name, version, kind, classes."""
        return {"id": self.model_id, "name": self.name, "version": self.card.get("version"),
                "kind": self.kind, "classes": list(self.class_names)}

    def _compact_arrays(self) -> dict[str, np.ndarray] | None:
        """The arrays of a version-3 file (forests packed), or None when a forest's layout does not pack."""
        stages = [("", self.forest)] + ([(_CONTEXT_PREFIX, self.context.forest)] if self.context is not None else [])
        arrays: dict[str, np.ndarray] = {}
        for prefix, forest in stages:
            packed = pack_forest(forest)
            if packed is None:
                return None
            arrays.update({prefix + k: v for k, v in packed.items()})
        expanded = self._arrays()
        arrays.update({k: v for k, v in expanded.items() if k.endswith(("test_x", "test_proba"))})
        return arrays

    # -- files --------------------------------------------------------------------------------
    def save(self, path: str | Path, *, compact: bool = True) -> Path:
        """Write the model atomically (temporary file in the same folder, then rename).

        Parameters
        ----------
        path : str or Path
        compact : bool
            Write format version 3 (the forests' arrays compact, about half the bytes; the same model
            id and predictions). False: the expanded version 1 / 2 file that mmnst_path before
            2026-12-07 reads (to share a model with such an install).
        """
        path = Path(path)
        header = self.header()
        # the content hash of what is written now: the card may have been edited since the id was cached
        model_id = _content_id(header, self._arrays())
        self.__dict__["model_id"] = model_id
        header["model_id"] = model_id
        arrays = self._compact_arrays() if compact else None
        if arrays is None:
            arrays = self._arrays()
        else:
            header["format_version"] = _COMPACT_VERSION
        raw = json.dumps(header, sort_keys=True, ensure_ascii=False).encode("utf-8")
        buf = io.BytesIO()
        np.savez_compressed(buf, header=np.frombuffer(raw, dtype=np.uint8), **arrays)  # type: ignore[arg-type]
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
        except PermissionError as exc:  # said of the file asked for, not of the temporary file beside it
            msg = f"cannot write {str(path)!r}: permission denied in the folder {str(path.parent or '.')!r}"
            raise PermissionError(msg) from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(buf.getvalue())
                fh.flush()
                os.fsync(fh.fileno())
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def _problem(self) -> str | None:
        if self.kind not in KINDS:
            return f"kind {self.kind!r} is not one of {KINDS}"
        names = [c.name for c in self.classes]
        if not names or len(set(names)) != len(names):
            return f"class names must be distinct and non-empty, got {names}"
        if [c.index for c in self.classes] != list(range(len(names))):
            return "class indices must be 0, 1, 2... in order"
        if any(len(c.colour) != 3 or not all(0 <= int(v) <= 255 for v in c.colour) for c in self.classes):
            return "class colours must be three values in 0-255"
        fnames = [f.name for f in self.features]
        if not fnames or len(set(fnames)) != len(fnames):
            return f"feature names must be distinct and non-empty, got {fnames}"
        problem = self.forest.validate(len(fnames))
        if problem:
            return problem
        if self.forest.n_classes != len(names):
            return f"forest has {self.forest.n_classes} class columns for {len(names)} classes"
        tx = self.test_x
        if tx.ndim != 2 or tx.shape[1] != len(fnames) or tx.shape[0] < 1 or not np.all(np.isfinite(tx)):
            return f"test_x must be finite (k >= 1, {len(fnames)}) rows, got shape {tx.shape}"
        if self.context is not None:
            return self.context._problem(len(names))
        return None


def _content_id(header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(header, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return "sha256:" + h.hexdigest()[:16]


def _load_context(header: Mapping[str, Any], data: dict[str, np.ndarray], version: int) -> ContextStage | None:
    """The context stage of a loaded file (popping its arrays from ``data``); KeyError / TypeError when
    it is incomplete, ValueError when a version-1 file claims one."""
    if "context" not in header:
        return None
    if version < _CONTEXT_VERSION:
        msg = f"a context stage needs format_version {_CONTEXT_VERSION}, the file says {version}"
        raise ValueError(msg)
    spec = header["context"]
    if not isinstance(spec, dict) or not isinstance(spec["settings"], dict):
        raise TypeError("context must be a JSON object with features and settings")
    features = tuple(FeatureSpec(str(f["name"]), str(f.get("unit", "")), str(f.get("description", "")))
                     for f in spec["features"])
    forest = _load_forest(data, _CONTEXT_PREFIX, version)
    return ContextStage(features, spec["settings"], forest, data.pop(_CONTEXT_PREFIX + "test_x"),
                        data.pop(_CONTEXT_PREFIX + "test_proba"))


def _load_forest(data: dict[str, np.ndarray], prefix: str, version: int) -> Forest:
    """The forest of a loaded file (popping its arrays from ``data``): expanded (versions 1, 2) or
    unpacked (version 3; ValueError naming what does not fit together in a damaged file)."""
    if version < _COMPACT_VERSION:
        return Forest(**{key: data.pop(prefix + key) for key in ARRAY_KEYS})
    packed = {key: data.pop(prefix + key) for key in PACKED_KEYS}
    try:
        return unpack_forest(packed)
    except ValueError as exc:
        raise ValueError(f"compact forest arrays{' of the context stage' if prefix else ''} damaged: {exc}") from exc


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a model file (``numpy.load``'s names), each member read whole so that zipfile checks
    its CRC-32: a bit flipped in the compressed data is refused even where the arrays' checks would pass."""
    data: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            raw = zf.read(name)  # BadZipFile when the CRC-32 of what was read differs from the stored one
            data[name.removesuffix(".npy")] = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
    return data


def _corrupt(path: Path, what: str) -> CorruptFileError:
    return CorruptFileError(f"classifier model {str(path)!r}: {what}")


def load_model(path: str | Path, *, kind: str | None = None) -> ClassifierModel:
    """Read, validate and self-test a model file written by :meth:`ClassifierModel.save`.

    Parameters
    ----------
    path : str or Path
    kind : {"nucleus", "tissue"} or None
        Refuse a model of another kind (e.g. a tissue model given as ``--cell-model``).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    CorruptFileError
        Not a model file, damaged, tampered with, of a newer format, or failing its own test case.
    ConfigError
        A valid model of the wrong ``kind``.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"classifier model {str(path)!r} does not exist or is not a file"
        raise FileNotFoundError(msg)
    try:
        with open(path, "rb"):
            pass
    except PermissionError as exc:
        msg = (f"classifier model {str(path)!r}: permission denied (the file is not readable by this user: ask its "
               "owner, or copy it where you can read it)")
        raise PermissionError(msg) from exc
    if not zipfile.is_zipfile(path):  # np.load would take other bytes for a pickle and say so
        with open(path, "rb") as fh:
            head = fh.read(4)
        if not head:  # a copy to a full disk, a download that never started
            raise _corrupt(path, "empty file (0 bytes; an interrupted download or copy?): copy the model file again")
        if head == b"PK\x03\x04":  # a zip archive's first entry, but its directory at the end is missing
            raise _corrupt(path, "truncated or damaged: a zip archive without its end (an interrupted download or "
                                 "copy?): copy the model file again")
        raise _corrupt(path, "not an mmnst_path model file (expected a .mmnst zip archive of arrays)")
    try:
        data = _read_arrays(path)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, zlib.error, NotImplementedError,
            SyntaxError, tokenize.TokenError, MemoryError) as exc:
        # a damaged deflate stream (zlib.error), compression method byte (NotImplementedError), .npy
        # header (SyntaxError, TokenError) or shape (MemoryError: an absurd size) is a damaged file too
        raise _corrupt(path, f"not a readable pickle-free model file ({type(exc).__name__}: {exc}): damaged (an "
                             "interrupted or corrupted copy?): copy the model file again") from exc
    raw = data.pop("header", None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > _MAX_HEADER:
        raise _corrupt(path, "no JSON header (is this an mmnst_path model file?)")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _corrupt(path, f"header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _corrupt(path, f"header format is {header.get('format') if isinstance(header, dict) else None!r}, "
                             f"expected {FORMAT!r}")
    version = header.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise _corrupt(path, f"format_version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise _corrupt(path, f"format_version {version} was written by a newer mmnst_path (this one reads "
                             f"up to {FORMAT_VERSION}): upgrade mmnst_path")
    try:
        classes = tuple(ClassSpec(int(c["index"]), str(c["name"]), tuple(int(v) for v in c["colour"]))  # type: ignore[arg-type]
                        for c in header["classes"])
        features = tuple(FeatureSpec(str(f["name"]), str(f.get("unit", "")), str(f.get("description", "")))
                         for f in header["features"])
        settings, card = header["settings"], header["card"]
        kind_found = str(header["kind"])
        if not isinstance(settings, dict) or not isinstance(card, dict):
            raise TypeError("settings and card must be JSON objects")
        forest = _load_forest(data, "", version)
        test_x, test_proba = data.pop("test_x"), data.pop("test_proba")
        context = _load_context(header, data, version)
    except (KeyError, TypeError, ValueError) as exc:
        raise _corrupt(path, f"header field or array missing or of the wrong type ({exc!r})") from exc
    if data:
        raise _corrupt(path, f"unexpected arrays {sorted(data)[:5]}")
    model = ClassifierModel(kind_found, classes, features, settings, card, forest, test_x, test_proba, context)
    problem = model._problem()
    if problem:
        raise _corrupt(path, problem)
    stored_id = header.get("model_id")
    if stored_id != model.model_id:
        raise _corrupt(path, f"content hash {model.model_id} does not match the recorded {stored_id!r} "
                             "(the file was changed after it was written)")
    if test_proba.shape != (test_x.shape[0], len(classes)) or test_proba.dtype.kind != "f":
        raise _corrupt(path, f"test_proba has shape {test_proba.shape}, expected ({test_x.shape[0]}, {len(classes)})")
    again = forest.predict_proba(test_x)
    if not np.allclose(again, test_proba, rtol=0, atol=1e-6):
        worst = float(np.max(np.abs(again - test_proba)))
        raise _corrupt(path, f"embedded test case fails (probabilities differ by up to {worst:.3g})")
    if context is not None:
        again = context.forest.predict_proba(context.test_x)
        if not np.allclose(again, context.test_proba, rtol=0, atol=1e-6):
            worst = float(np.max(np.abs(again - context.test_proba)))
            raise _corrupt(path, f"embedded test case of the context stage fails (probabilities differ by up to "
                                 f"{worst:.3g})")
    if kind is not None and model.kind != kind:
        msg = f"classifier model {str(path)!r} is a {model.kind} model, expected a {kind} model"
        raise ConfigError(msg)
    return model


def model_file(name: str, shipped: Mapping[str, str], *, param: str) -> Path:
    """The model file a setting names: a key of ``shipped`` (e.g. ``"default"``) -> that shipped file in
    :data:`MODELS_DIR`, anything else a path (``~`` expanded, as the tissue and pigment model settings read
    theirs). ``param`` names the setting in the error (``"Ki67Params.hidden_model"``).

    Raises
    ------
    ConfigError
        No such file.
    """
    path = MODELS_DIR / shipped[name] if name in shipped else Path(name).expanduser()
    if not path.is_file():
        msg = f"{param}: no model file {str(path)!r} (expected 'none', 'default' or a .mmnst path)"
        raise ConfigError(msg)
    return path


def check_feature_settings(model: ClassifierModel, expected: Mapping[str, float], keys: Sequence[str], *,
                           path: str) -> None:
    """Refuse a model whose feature settings ``keys`` differ from the values this code computes with
    (``expected``): each must be a number (not a bool) equal to this code's. A missing or non-numeric one (a
    hand-edited or foreign card) is named with the file, not left to ``float()``'s ValueError / TypeError.

    Raises
    ------
    ConfigError
        The first setting that differs, with the file, its value and this code's.
    """
    for key in keys:
        value = model.settings.get(key)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or float(value) != float(expected[key]):
            msg = f"{path}: feature setting {key}={value!r}, this code computes {expected[key]!r}"
            raise ConfigError(msg)
