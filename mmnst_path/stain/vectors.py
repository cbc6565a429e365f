"""Stain vectors: the :class:`StainMatrix` value type, named presets and JSON / QuPath forms.

A stain vector is the optical density (log10, see :mod:`mmnst_path.stain.od`) one unit of a
stain adds to the R, G and B channels, normalised to unit length. Three vectors make the
stain matrix ``V`` (one row per stain); a pixel's OD row vector is ``od = c @ V`` and colour
deconvolution solves ``c = od @ inv(V)`` (Ruifrok & Johnston 2001). A two-stain matrix is
completed with a third "residual" vector orthogonal to both (their cross product), which
collects what neither stain explains.

Two stains that absorb alike make ``V`` nearly singular: their concentrations then trade off
against each other and small colour noise becomes large concentration errors. Every matrix
reports its :attr:`StainMatrix.condition_number` and :attr:`StainMatrix.min_angle_deg`, and
warns (:class:`StainConditioningWarning`) when poorly conditioned. Hematoxylin + DAB + melanin
is the case that matters here: melanin sits only ~6° from DAB (see :func:`melanin_vector`).
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import StainError
from .od import background_array

__all__ = [
    "CONDITION_WARN",
    "PRESETS",
    "STAIN_NAMES",
    "StainConditioningWarning",
    "StainMatrix",
    "get_preset",
    "load_stains",
    "melanin_vector",
    "preset_names",
]

#: Known stain names (lower case). "residual" is the derived third vector of two-stain matrices.
STAIN_NAMES = ("hematoxylin", "eosin", "dab", "aec", "fast_red", "azure_b", "melanin", "residual")

#: Condition number of the 3x3 stain matrix above which a :class:`StainConditioningWarning` is
#: raised. H-DAB is ~3.0, H-AEC-melanin ~11.5, H-DAB-melanin ~23.
CONDITION_WARN = 10.0

# QuPath display names <-> ours
_QUPATH_NAMES = {
    "hematoxylin": "Hematoxylin",
    "eosin": "Eosin",
    "dab": "DAB",
    "aec": "AEC",
    "fast_red": "Fast Red",
    "azure_b": "Azure B",
    "melanin": "Melanin",
    "residual": "Residual",
}


class StainConditioningWarning(UserWarning):
    """The stain matrix is poorly conditioned: separated concentrations are unreliable."""


def melanin_vector(
    exponent: float = 3.48,
    *,
    band_centres_nm: Sequence[float] = (610.0, 540.0, 465.0),
    band_fwhm_nm: Sequence[float] = (60.0, 60.0, 60.0),
) -> np.ndarray:
    """Melanin OD vector derived from its absorption spectrum.

    Melanin has no sharp absorption band: its absorption coefficient falls smoothly with
    wavelength as a power law, ``mu_a(λ) ∝ λ**-3.48`` between ~400 and ~700 nm (Zonios et al.
    2008; Jacques 2013 uses ``λ**-3.5``). For a thin, weakly absorbing layer the OD seen
    by a camera channel is the channel-sensitivity-weighted mean of the absorbance, so

        v_c = ∫ S_c(λ) λ**-p dλ / ∫ S_c(λ) dλ,   c in (R, G, B),   then v /= |v|

    with each channel's sensitivity ``S_c`` modelled as a Gaussian band (typical RGB camera
    peaks 610 / 540 / 465 nm, 60 nm FWHM). This gives ``[0.315, 0.483, 0.817]``; the bandwidth
    changes the third decimal only (30–100 nm FWHM), the exponent a little more (p = 3 gives
    [0.348, 0.503, 0.791], p = 4 gives [0.281, 0.460, 0.842]).

    Its angle to DAB (Ruifrok & Johnston's [0.268, 0.570, 0.776]) is 6.1° (6.0–7.4° for p = 3–4; see the tests):
    brown DAB and brown-black melanin are nearly collinear in OD space, so colour
    deconvolution alone cannot tell them apart (H + DAB + melanin has condition number ~23).
    Use a red chromogen (AEC is still ~13° from melanin, Fast Red ~29°) or a pigment detector
    that uses more than colour.

    Parameters
    ----------
    exponent : float
        Power-law exponent ``p`` of the melanin absorption spectrum.
    band_centres_nm, band_fwhm_nm : sequences of 3 floats
        Centre and full width at half maximum of the R, G and B channel sensitivities, nm.

    Returns
    -------
    (3,) float64 ndarray
        Unit OD vector (R, G, B).

    References
    ----------
    .. [1] G. Zonios et al., "Melanin absorption spectroscopy: new method for noninvasive
       skin investigation and melanoma detection", J. Biomed. Opt. 13(1):014017, 2008.
    .. [2] S. L. Jacques, "Optical properties of biological tissues: a review",
       Phys. Med. Biol. 58:R37–R61, 2013.
    """
    lam = np.linspace(380.0, 720.0, 681)
    absorb = lam ** (-float(exponent))
    out = np.empty(3)
    for c, (centre, fwhm) in enumerate(zip(band_centres_nm, band_fwhm_nm, strict=True)):
        sigma = float(fwhm) / (2.0 * math.sqrt(2.0 * math.log(2.0)))
        weight = np.exp(-0.5 * ((lam - float(centre)) / sigma) ** 2)
        out[c] = np.sum(weight * absorb) / np.sum(weight)
    return out / np.linalg.norm(out)


def _unit(vec: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    v = np.asarray(vec, dtype=np.float64)
    if v.shape != (3,) or not np.all(np.isfinite(v)):
        msg = f"stain vector {name!r} must be 3 finite numbers (R, G, B OD), got {vec!r}"
        raise StainError(msg)
    norm = float(np.linalg.norm(v))
    if norm < 1e-9:
        msg = f"stain vector {name!r} must not be zero, got {vec!r}"
        raise StainError(msg)
    return v / norm


@dataclass(frozen=True, eq=False)
class StainMatrix:
    """Three unit stain vectors (rows), their names and optionally the background they go with.

    Parameters
    ----------
    names : sequence of str
        Lower-case stain names, 2 or 3 of them, unique (see :data:`STAIN_NAMES`; other names
        are accepted for custom stains). With 2 names, a third ``"residual"`` vector is added.
    vectors : (k, 3) array-like
        OD vectors (R, G, B) of the stains, any positive length; stored normalised.
    name : str
        Name of the matrix (preset name or a description).
    reference : str
        Where the vectors come from (citation, or "estimated (Macenko) from ...").
    background : sequence of 3 floats or None
        White point I0 (8-bit units) the vectors were estimated with, used by
        :func:`~mmnst_path.stain.separate_stains` when no background is passed.

    Attributes
    ----------
    vectors : (3, 3) float64 ndarray, read-only
        Unit OD vectors, one row per stain, including the residual.
    names : tuple of 3 str
    """

    names: tuple[str, ...]
    vectors: np.ndarray
    name: str = "custom"
    reference: str = ""
    background: tuple[float, float, float] | None = None
    _warn: bool = field(default=True, repr=False)

    def __post_init__(self) -> None:
        names = tuple(str(n).strip().lower() for n in self.names)
        rows = np.asarray(self.vectors, dtype=np.float64)
        if len(names) not in (2, 3) or rows.shape != (len(names), 3):
            msg = (
                f"a stain matrix needs 2 or 3 named stain vectors of 3 values each, got "
                f"{len(names)} names and vectors of shape {rows.shape}"
            )
            raise StainError(msg)
        if len(set(names)) != len(names):
            msg = f"stain names must be unique, got {names}"
            raise StainError(msg)
        units = [_unit(v, n) for n, v in zip(names, rows, strict=True)]
        if len(names) == 2:
            if "residual" in names:
                msg = "'residual' is derived from the two stains; do not name a given stain 'residual'"
                raise StainError(msg)
            resid = np.cross(units[0], units[1])
            norm = float(np.linalg.norm(resid))
            if norm < 1e-6:
                msg = f"stain vectors {names[0]!r} and {names[1]!r} are parallel: {units[0]}, {units[1]}"
                raise StainError(msg)
            resid /= norm
            if resid.sum() < 0:
                resid = -resid
            units.append(resid)
            names = (*names, "residual")
        full = np.array(units)
        full.setflags(write=False)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "vectors", full)
        if self.background is not None:
            bg = background_array(self.background)
            object.__setattr__(self, "background", (float(bg[0]), float(bg[1]), float(bg[2])))
        if not np.isfinite(self.condition_number) or self.condition_number > 1e8:
            msg = f"stain matrix {self.name!r} is singular (vectors {full.tolist()}): stains are not separable"
            raise StainError(msg)
        if self._warn and self.condition_number > CONDITION_WARN:
            warnings.warn(self.conditioning_advice(), StainConditioningWarning, stacklevel=3)

    # -- derived quantities ---------------------------------------------------------------------
    @cached_property
    def inverse(self) -> np.ndarray:
        """(3, 3) float64 ``inv(vectors)``: column k maps an OD row vector to stain k."""
        inv = np.linalg.inv(self.vectors)
        inv.setflags(write=False)
        return inv

    @cached_property
    def condition_number(self) -> float:
        """2-norm condition number of the 3x3 stain matrix (1 = orthogonal stains)."""
        return float(np.linalg.cond(self.vectors))

    @cached_property
    def min_angle_deg(self) -> float:
        """Smallest angle between two stain vectors (residual included), in degrees."""
        best = 180.0
        for i in range(3):
            for j in range(i + 1, 3):
                best = min(best, angle_deg(self.vectors[i], self.vectors[j]))
        return best

    @property
    def stain_names(self) -> tuple[str, ...]:
        """Names of the real stains (without ``"residual"``)."""
        return tuple(n for n in self.names if n != "residual")

    def vector(self, stain: str) -> np.ndarray:
        """Unit OD vector of ``stain`` as a (3,) float64 array."""
        return self.vectors[self.index(stain)]

    def index(self, stain: str) -> int:
        """Row of ``stain`` in :attr:`vectors`."""
        key = str(stain).strip().lower()
        if key not in self.names:
            msg = f"stain {stain!r} is not in stain matrix {self.name!r}; it has {list(self.names)}"
            raise StainError(msg)
        return self.names.index(key)

    def _is_shipped(self) -> bool:
        """Whether this is a shipped preset as published (its name and its vectors; melanin presets excluded)."""
        spec = _PRESET_TABLE.get(self.name)
        if spec is None or any(v is None for v in spec[1]) or tuple(spec[0]) != self.stain_names:
            return False
        given = np.array([np.asarray(v, dtype=np.float64) / np.linalg.norm(v) for v in spec[1]])  # type: ignore[arg-type]
        return bool(np.allclose(given, self.vectors[: len(given)], atol=1e-9))

    def conditioning_advice(self) -> str:
        """Human-readable diagnosis of the conditioning, with what to do about it."""
        pair = min(
            ((angle_deg(self.vectors[i], self.vectors[j]), self.names[i], self.names[j])
             for i in range(3) for j in range(i + 1, 3)),
        )
        text = (
            f"stain matrix {self.name!r} is poorly conditioned (condition number "
            f"{self.condition_number:.1f} > {CONDITION_WARN:g}; {pair[1]} and {pair[2]} are only "
            f"{pair[0]:.1f} degrees apart): their separated concentrations trade off against each "
            "other and amplify colour noise."
        )
        shipped = self._is_shipped()
        if "melanin" in self.names and "dab" in self.names:
            text += (
                " Colour alone cannot separate melanin from a brown chromogen: use a red chromogen "
                "(presets 'H-AEC', 'H-FastRed') or keep the two-stain matrix and rely on the pigment "
                "detector (mmnst_path.detect.pigment) to exclude melanin."
            )
        elif "melanin" in self.names:  # a red chromogen beside melanin (H-AEC-melanin): already the red chromogen
            text += (
                " The chromogen is already a red chromogen, yet melanin and it still overlap by colour: the two-stain "
                "matrix (without melanin) and the pigment detector (mmnst_path.detect.pigment), which excludes "
                "melanin, are the usual reading."
            )
        elif shipped:  # a documented preset: its vectors are the published ones; say what the overlap costs
            text += (
                f" These are the shipped preset's published vectors: {pair[1]} and {pair[2]} overlap by colour, so "
                "where both lie in one nucleus their amounts are read less surely"
                + (" (prefer a Fast Red marker, preset 'H-DAB-FastRed', where the lab can choose)."
                   if {pair[1], pair[2]} == {"dab", "aec"} else ".")
            )
        else:
            text += " Check the vectors (estimate them on a region with both stains) or use a preset."
        return text

    # -- equality --------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StainMatrix):
            return NotImplemented
        return (
            self.names == other.names
            and bool(np.allclose(self.vectors, other.vectors, rtol=0, atol=1e-6))
            and self.background == other.background
        )

    def __hash__(self) -> int:
        # vectors compare with a tolerance, so they cannot enter the hash
        return hash((self.names, self.background))

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle without re-running the conditioning warning in worker processes
        return (
            _rebuild,
            (self.names, self.vectors.tolist(), self.name, self.reference, self.background),
        )

    # -- serialisation ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain mapping: ``{"name", "reference", "stains": {name: [r, g, b]}, "background"}``.

        The residual vector is omitted (it is derived) for two-stain matrices.
        """
        given = self.stain_names if self.names[-1] == "residual" else self.names
        return {
            "name": self.name,
            "reference": self.reference,
            "stains": {n: [round(float(x), 8) for x in self.vector(n)] for n in given},
            "background": None if self.background is None else [round(b, 3) for b in self.background],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text of :meth:`to_dict`, readable by :meth:`from_json` and ``--stains``."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StainMatrix:
        """Build from :meth:`to_dict` output (``stains`` mapping name -> [r, g, b])."""
        stains = data.get("stains")
        if not isinstance(stains, Mapping) or not stains:
            msg = f"stain JSON needs a 'stains' mapping of name -> [r, g, b], got {stains!r}"
            raise StainError(msg)
        names = [str(k).lower() for k in stains if str(k).lower() != "residual" or len(stains) == 3]
        vectors = [stains[k] for k in stains if str(k).lower() in names]
        return cls(
            tuple(names),
            np.asarray(vectors, dtype=np.float64),
            name=str(data.get("name", "custom")),
            reference=str(data.get("reference", "")),
            background=data.get("background"),
        )

    @classmethod
    def from_json(cls, text: str) -> StainMatrix:
        """Parse our JSON (:meth:`to_json`) or QuPath's ``setColorDeconvolutionStains`` string.

        QuPath's form is recognised by its ``"Stain 1"`` / ``"Values 1"`` keys and may be
        wrapped in ``setColorDeconvolutionStains('...')``.
        """
        match = re.search(r"setColorDeconvolutionStains\(\s*'(.*)'\s*\)", text, flags=re.S)
        body = match.group(1) if match else text
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            msg = f"stain specification is not valid JSON ({exc}): {text[:200]!r}"
            raise StainError(msg) from exc
        if not isinstance(data, Mapping):
            msg = f"stain JSON must be an object, got {type(data).__name__}"
            raise StainError(msg)
        if "Stain 1" in data:
            return cls._from_qupath_mapping(data)
        return cls.from_dict(data)

    @classmethod
    def _from_qupath_mapping(cls, data: Mapping[str, Any]) -> StainMatrix:
        names, vectors = [], []
        for i in (1, 2, 3):
            if f"Stain {i}" not in data:
                continue
            label = str(data[f"Stain {i}"]).strip()
            key = {v.lower(): k for k, v in _QUPATH_NAMES.items()}.get(
                label.lower(), re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
            )
            if key == "residual" and i == 3:
                continue  # QuPath writes its own residual; ours is re-derived
            try:
                values = [float(x) for x in str(data[f"Values {i}"]).split()]
            except (KeyError, ValueError) as exc:
                msg = f"QuPath stain string: 'Values {i}' must hold 3 numbers, got {data.get(f'Values {i}')!r}"
                raise StainError(msg) from exc
            names.append(key)
            vectors.append(values)
        background = None
        if "Background" in data:
            background = [float(x) for x in str(data["Background"]).split()]
        return cls(
            tuple(names),
            np.asarray(vectors, dtype=np.float64),
            name=str(data.get("Name", "QuPath")),
            reference="QuPath setColorDeconvolutionStains",
            background=tuple(background) if background is not None else None,  # type: ignore[arg-type]
        )

    def to_qupath(self) -> str:
        """QuPath script line ``setColorDeconvolutionStains('{...}');`` for these vectors."""
        parts = [f'"Name" : "{self.name}"']
        given = self.stain_names if self.names[-1] == "residual" else self.names
        for i, n in enumerate(given, start=1):
            label = _QUPATH_NAMES.get(n, n)
            values = " ".join(f"{x:.5f}" for x in self.vector(n))
            parts += [f'"Stain {i}" : "{label}"', f'"Values {i}" : "{values}"']
        bg = self.background or (255.0, 255.0, 255.0)
        parts.append('"Background" : " ' + " ".join(f"{round(b):d}" for b in bg) + '"')
        return "setColorDeconvolutionStains('{" + ", ".join(parts) + "}');"


def _rebuild(names: tuple[str, ...], vectors: list[list[float]], name: str, reference: str,
             background: tuple[float, float, float] | None) -> StainMatrix:
    return StainMatrix(names, np.asarray(vectors), name=name, reference=reference,
                       background=background, _warn=False)


def angle_deg(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Angle between two vectors in degrees (0–180)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    # atan2 of |a x b| and a . b is accurate at small angles, unlike acos of the cosine
    return math.degrees(math.atan2(float(np.linalg.norm(np.cross(a, b))), float(a @ b)))


# ------------------------------------------------------------------------------------------------
# presets

_RUIFROK = (
    "A. C. Ruifrok and D. A. Johnston, 'Quantification of histochemical staining by color "
    "deconvolution', Anal. Quant. Cytol. Histol. 23(4):291-299, 2001"
)
_LANDINI = (
    "G. Landini, Colour Deconvolution plugin for ImageJ (built-in vectors 'H AEC' and "
    "'FastRed FastBlue DAB'); G. Landini, G. Martinelli, F. Piccinini, 'Colour deconvolution: "
    "stain unmixing in histological imaging', Bioinformatics 37(10):1485-1487, 2021"
)
_QUPATH = (
    "QuPath default 'H&E' stains (P. Bankhead et al., 'QuPath: open source software for "
    "digital pathology image analysis', Sci. Rep. 7:16878, 2017)"
)
_MELANIN = (
    "melanin: derived here from its absorption spectrum mu_a ∝ λ^-3.48 (Zonios et al., J. Biomed. "
    "Opt. 13:014017, 2008) integrated over RGB camera bands, see mmnst_path.stain.melanin_vector"
)

_AZURE_B_REF = (
    "Azure B counterstain after DAB: H. Kamino and S. T. Tam, 'Immunoperoxidase technique modified by "
    "counterstain with azure B as a diagnostic aid in evaluating heavily pigmented melanocytic neoplasms', "
    "J. Cutan. Pathol. 18(6):436-439, 1991 (melanin stains green-blue, DAB stays brown); vector: the "
    "methylene blue of G. Landini's Colour Deconvolution 'Giemsa' vectors (0.834750, 0.513556, 0.196330), "
    "measured on stained sections; azure B is demethylated methylene blue, the same thiazine chromophore "
    "(absorption maximum ~648 nm vs ~664 nm: both absorb mainly in the red camera channel); DAB: "
    + _RUIFROK
)

_H = (0.650, 0.704, 0.286)
_H_QUPATH = (0.65111, 0.70119, 0.29049)
_E = (0.072, 0.990, 0.105)
_E_QUPATH = (0.2159, 0.8012, 0.5581)
_DAB = (0.268, 0.570, 0.776)
_AEC = (0.2743, 0.6796, 0.6803)
_FAST_RED = (0.21394, 0.85113, 0.47794)
_AZURE_B = (0.834750, 0.513556, 0.196330)

# preset name -> (stain names, vectors or None for melanin, reference)
_PRESET_TABLE: dict[str, tuple[tuple[str, ...], tuple[tuple[float, float, float] | None, ...], str]] = {
    "H-DAB": (("hematoxylin", "dab"), (_H, _DAB), _RUIFROK),
    "H&E": (("hematoxylin", "eosin"), (_H, _E), _RUIFROK),
    "H&E-QuPath": (("hematoxylin", "eosin"), (_H_QUPATH, _E_QUPATH), _QUPATH),
    "H-E-DAB": (("hematoxylin", "eosin", "dab"), (_H, _E, _DAB), _RUIFROK),
    "H-AEC": (("hematoxylin", "aec"), (_H, _AEC), f"{_RUIFROK}; AEC: {_LANDINI}"),
    "H-FastRed": (("hematoxylin", "fast_red"), (_H, _FAST_RED), f"{_RUIFROK}; Fast Red: {_LANDINI}"),
    "H-DAB-melanin": (("hematoxylin", "dab", "melanin"), (_H, _DAB, None), f"{_RUIFROK}; {_MELANIN}"),
    "H&E-melanin": (("hematoxylin", "eosin", "melanin"), (_H, _E, None), f"{_RUIFROK}; {_MELANIN}"),
    "H-AEC-melanin": (
        ("hematoxylin", "aec", "melanin"), (_H, _AEC, None), f"{_RUIFROK}; AEC: {_LANDINI}; {_MELANIN}"
    ),
    "H-FastRed-melanin": (
        ("hematoxylin", "fast_red", "melanin"), (_H, _FAST_RED, None),
        f"{_RUIFROK}; Fast Red: {_LANDINI}; {_MELANIN}",
    ),
    # Ki67 (DAB, nuclear) + MART-1/Melan-A or SOX10 (red) double stains: the melanocyte marker is
    # the red channel, Ki67 stays DAB (mmnst_path.quantify.ki67.chromogen_of prefers "dab")
    "H-DAB-FastRed": (
        ("hematoxylin", "dab", "fast_red"), (_H, _DAB, _FAST_RED),
        f"{_RUIFROK} (hematoxylin, DAB); Fast Red: {_LANDINI}",
    ),
    "H-DAB-AEC": (
        ("hematoxylin", "dab", "aec"), (_H, _DAB, _AEC), f"{_RUIFROK} (hematoxylin, DAB); AEC: {_LANDINI}",
    ),
    # Kamino & Tam's counterstain for pigmented melanocytic lesions: azure B instead of
    # hematoxylin after DAB; nuclei blue, DAB brown, melanin green-blue (melanin + bound azure B,
    # see mmnst_path.detect.pigment for how the detector uses it)
    "AzureB-DAB": (("azure_b", "dab"), (_AZURE_B, _DAB), _AZURE_B_REF),
}

#: Names of the presets, in a stable order.
PRESETS: tuple[str, ...] = tuple(_PRESET_TABLE)


def preset_names() -> tuple[str, ...]:
    """Names of the stain presets accepted by :func:`get_preset`."""
    return PRESETS


def get_preset(name: str) -> StainMatrix:
    """Named stain matrix with its literature reference.

    Parameters
    ----------
    name : str
        One of :data:`PRESETS` (case-insensitive): ``"H-DAB"``, ``"H&E"``, ``"H&E-QuPath"``,
        ``"H-E-DAB"``, ``"H-AEC"``, ``"H-FastRed"``, ``"H-DAB-melanin"``, ``"H&E-melanin"``,
        ``"H-AEC-melanin"``, ``"H-FastRed-melanin"``, and the Ki67 / MART-1 (or SOX10) double
        stains ``"H-DAB-FastRed"`` and ``"H-DAB-AEC"`` (DAB Ki67 plus a red melanocyte marker),
        and ``"AzureB-DAB"`` (DAB with an azure B counterstain instead of hematoxylin: Kamino &
        Tam's method for heavily pigmented lesions, where melanin turns green-blue).

    Returns
    -------
    StainMatrix
        ``reference`` holds the citation. Presets with melanin and a brown/red chromogen close
        to it warn with :class:`StainConditioningWarning` (H-DAB-melanin, H-AEC-melanin), and so
        does H-DAB-AEC (DAB and AEC 8.4° apart: on generated Ki67 / MART-1 tiles the AEC marker's
        call reached a specificity of only 0.80 and index errors up to 25 pp, against 0.85 and
        6 pp with Fast Red, 24° from DAB; prefer ``"H-DAB-FastRed"``).

    Raises
    ------
    StainError
        Unknown name (the message lists the valid ones).
    """
    lookup = {k.lower(): k for k in _PRESET_TABLE}
    key = lookup.get(str(name).strip().lower())
    if key is None:
        msg = f"unknown stain preset {name!r}; valid presets: {', '.join(PRESETS)}"
        raise StainError(msg)
    names, vecs, ref = _PRESET_TABLE[key]
    rows = [melanin_vector() if v is None else np.asarray(v) for v in vecs]
    return StainMatrix(names, np.asarray(rows), name=key, reference=ref)


def load_stains(spec: str | Path | StainMatrix) -> StainMatrix:
    """Resolve a ``--stains`` value: a StainMatrix, a preset name, a JSON file or JSON text.

    JSON may be ours (:meth:`StainMatrix.to_json`) or QuPath's stain string.
    """
    if isinstance(spec, StainMatrix):
        return spec
    text = str(spec).strip()
    if text.lower() in {k.lower() for k in _PRESET_TABLE}:
        return get_preset(text)
    if text.startswith(("{", "setColorDeconvolutionStains")):
        return StainMatrix.from_json(text)
    path = Path(text)
    if path.is_file():
        return StainMatrix.from_json(path.read_text(encoding="utf-8"))
    msg = (
        f"stains {text!r} is neither a preset ({', '.join(PRESETS)}), nor an existing JSON file, "
        "nor JSON text"
    )
    raise StainError(msg)
