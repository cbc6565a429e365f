"""Analysis configuration: :class:`AnalysisConfig`, the measures that apply to a stain matrix,
and the stain guess of ``stains="auto"`` (:mod:`mmnst_path.stain.guess`, re-exported here)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..detect.nuclei import NucleusParams
from ..detect.pigment import PigmentParams
from ..errors import ConfigError
from ..quantify.ki67 import CHROMOGENS, Ki67Params
from ..quantify.melanin import MelaninParams
from ..quantify.necrosis import NecrosisParams
from ..stain.guess import guess_stains
from ..tiling.tissue import TissueParams

__all__ = ["MEASURES", "AnalysisConfig", "applicable_measures", "guess_stains"]

_SECTIONS: dict[str, type] = {
    "tissue": TissueParams,
    "nuclei": NucleusParams,
    "ki67": Ki67Params,
    "pigment": PigmentParams,
    "melanin": MelaninParams,
    "necrosis": NecrosisParams,
}
_CHROMOGENS = CHROMOGENS  # Ki67 positivity is read from the matrix's chromogen: DAB, AEC or Fast Red
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
    for key, value in values.items():  # a wrong type is named with its key (a frozen dataclass does not check)
        default = next(f.default for f in fields(cls) if f.name == key)
        if isinstance(default, int | float) and not isinstance(default, bool) and (
                isinstance(value, bool) or not isinstance(value, int | float)):
            msg = f"config key '{name}.{key}' must be a number, got {value!r}"
            raise ConfigError(msg)
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
        ``"auto"`` (the default, as ``mmnst-path quantify``): the stains are chosen per image from the
        colour of its tissue by :func:`~mmnst_path.pipeline.analyze_slide` /
        :func:`~mmnst_path.pipeline.analyze_region`, exactly as the command line chooses them (H&E,
        H-DAB, H-AEC, H-FastRed, AzureB-DAB and the Ki67 / melanocyte double stains; see
        :func:`guess_stains`); the result records the preset chosen (``result.stains["name"]``) and
        why (``result.stains["detection"]["reason"]``). Or a stain preset name (``"H-DAB"``,
        ``"H&E"``, ...), a JSON stain file or JSON text: every image is read with those stains, and
        an image they contradict gets a warning (``result.stains["named_check"]``). A config file
        without a ``stains`` key means ``"auto"``, as on the command line.
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
    stains: str = "auto"
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
        spec = getattr(self.ki67, "tissue_model", "auto")
        if spec is None or str(spec).strip().lower() == "auto":
            spec = self.necrosis.tissue_model
        if self.ki67.count_in == "tumour" and str(spec).strip().lower() == "none":
            msg = ("config key 'ki67.count_in' is 'tumour', which needs a tissue model, but the tissue model is "
                   "'none' (set [necrosis] tissue_model to 'default' or a model file)")
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

    def recorded_mapping(self) -> dict[str, Any]:
        """:meth:`to_mapping` as a result records it: without the settings the run leaves unread.

        With the learned intact-nucleus model (``[necrosis] intact_model``, the default) the veto's
        four fixed tests are not read, so result.json and summary.json leave them out
        (:meth:`~mmnst_path.quantify.NecrosisParams.unused_settings`). The mapping still reads back
        with :meth:`from_mapping` to the same analysis. The request hash of ``--resume`` keeps
        :meth:`to_mapping`.
        """
        out = self.to_mapping()
        out["necrosis"] = self.necrosis.recorded_mapping()
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
        config = cls.from_mapping(data)
        _warn_unread(p, data, config)
        return config

    def replace(self, **changes: Any) -> AnalysisConfig:
        """Copy with some top-level keys changed (validated like :meth:`from_mapping`).

        A section (``ki67=``, ``pigment=``, ``tissue=``...) is replaced whole: its keys not given go back to their
        defaults, so ``c.replace(ki67={"count_in": "tumour"}).replace(ki67={"melanocyte_marker": "nuclear"})`` resets
        ``count_in``. To change some keys of a section, merge its own:
        ``c.replace(ki67={**c.ki67.to_mapping(), "melanocyte_marker": "nuclear"})``.
        """
        data = self.to_mapping()
        for key, value in changes.items():
            data[key] = value
        return AnalysisConfig.from_mapping(data)

    def stain_matrix(self) -> Any:
        """The resolved :class:`~mmnst_path.stain.StainMatrix` of named stains.

        Raises
        ------
        ConfigError
            With ``stains="auto"`` (the default): there is no matrix without an image; a run records the one it
            chose in ``result.stains``.
        """
        if self.stains.strip().lower() == "auto":
            msg = ("config key 'stains' is 'auto' (the default): the stains are chosen per image by analyze_slide / "
                   "analyze_region (the result's stains record them); name a preset (e.g. stains='H-DAB') for a "
                   "stain matrix without an image")
            raise ConfigError(msg)
        from ..stain import load_stains

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


def _warn_unread(path: Path, data: Mapping[str, Any], config: AnalysisConfig) -> None:
    """Warn (one line) when a config file sets [necrosis] settings the run will not read: the veto's fixed
    tests while ``intact_model`` names a model (the learned call replaces them; results leave them out)."""
    section = data.get("necrosis")
    if not isinstance(section, Mapping):
        return
    unread = [key for key in config.necrosis.unused_settings() if key in section]
    if unread:
        import warnings

        warnings.warn(f"config file {str(path)!r}: [necrosis] {', '.join(unread)} not read while intact_model = "
                      f"{config.necrosis.intact_model!r} (the learned intact-vs-ghost call replaces those tests); "
                      "set intact_model = \"none\" to use them", UserWarning, stacklevel=3)
