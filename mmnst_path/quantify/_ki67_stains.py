"""Stain side of the Ki67 measurement: which channel is the nuclear counterstain, which the Ki67
chromogen, which carries the melanocyte marker of a double stain, and the per-nucleus marker
reading (see :mod:`.ki67`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..detect._morphology import _square_extreme
from ..errors import ConfigError

if TYPE_CHECKING:
    from ._ki67_params import Ki67Params

#: Chromogens a Ki67 positivity can be read from, in order of preference (brown DAB, then the
#: red chromogens AEC and Fast Red / permanent red).
CHROMOGENS = ("dab", "aec", "fast_red")
#: Nuclear counterstains Ki67 nuclei are found in, in order of preference: hematoxylin, or azure B
#: (Kamino & Tam's counterstain for pigmented lesions, preset ``"AzureB-DAB"``).
COUNTERSTAINS = ("hematoxylin", "azure_b")
#: Counterstains that stain melanin a colour of its own (azure B: green-blue), so that the pigment
#: mask is a colour measurement that a DAB-filled nucleus does not enter.
MELANIN_COUNTERSTAINS = ("azure_b",)
#: Values of ``Ki67Params.melanocyte_marker``.
MELANOCYTE_MARKERS = ("auto", "none", "cytoplasmic", "nuclear")
#: Red chromogens that carry the melanocyte marker of a Ki67 / MART-1 or SOX10 double stain.
MARKER_CHROMOGENS = ("fast_red", "aec")
_MIN_MELANIN_DEG = 20.0  # a chromogen this far from melanin is unmixed from it (Fast Red: 29°)


def counterstain_of(matrix: Any) -> str:
    """Name of the nuclear counterstain channel of a stain matrix: the first of :data:`COUNTERSTAINS`.

    Raises
    ------
    ConfigError
        When the matrix holds none of :data:`COUNTERSTAINS`.
    """
    names = tuple(matrix.names)
    found = next((n for n in COUNTERSTAINS if n in names), None)
    if found is None:
        msg = (f"Ki67 needs a nuclear counterstain ({', '.join(COUNTERSTAINS)}) and a chromogen "
               f"({', '.join(CHROMOGENS)}) in the stains, got {list(names)}")
        raise ConfigError(msg)
    return found


def chromogen_of(matrix: Any) -> str:
    """Name of the chromogen (positive) channel of a stain matrix: DAB, AEC or Fast Red.

    Raises
    ------
    ConfigError
        When the matrix holds no nuclear counterstain (:data:`COUNTERSTAINS`) or none of
        :data:`CHROMOGENS`.
    """
    names = tuple(matrix.names)
    chromogen = next((n for n in CHROMOGENS if n in names), None)
    if chromogen is None or not any(n in names for n in COUNTERSTAINS):
        msg = (f"Ki67 needs a nuclear counterstain ({', '.join(COUNTERSTAINS)}) and a chromogen "
               f"({', '.join(CHROMOGENS)}) in the stains, got {list(names)}")
        raise ConfigError(msg)
    return chromogen


#: Shipped nucleus (cell) model of each Ki67 chromogen under a hematoxylin counterstain (file names
#: in ``mmnst_path/models``); a chromogen not named here runs no model by default.
DEFAULT_CELL_MODELS = {"dab": "nucleus_default.mmnst", "aec": "nucleus_red.mmnst", "fast_red": "nucleus_red.mmnst"}


def default_cell_model_name(matrix: Any) -> str | None:
    """File name of the shipped nucleus (cell) model that ``cell_model = "default"`` runs for a Ki67
    stain matrix, or None (no model: every nucleus counts).

    Hematoxylin + DAB (double stains count DAB, so they keep it): ``nucleus_default.mmnst``.
    Hematoxylin + AEC or Fast Red: ``nucleus_red.mmnst``, trained on red re-renderings (BRCA-M2C
    restained, EndoNuke and generated nest and spindle-cell tumour tiles with their DAB swapped for
    the red chromogen). Generated red tiles with stroma and lymphocytes
    (``benchmarks/eval_red_chromogens.py --cells --seeds 12``): without a model the denominator
    was about 2x the tumour count (1.7-1.8x with a spindle-cell tumour); the DAB-trained model
    excluded 55-58 % of spindle tumour nuclei. With an azure B counterstain
    (:func:`counterstain_of`) no model applies.
    """
    names = tuple(matrix.names)
    if counterstain_of(matrix) != "hematoxylin":
        return None
    chromogen = next((n for n in CHROMOGENS if n in names), None)
    return DEFAULT_CELL_MODELS.get(chromogen) if chromogen is not None else None


def default_cell_model_applies(matrix: Any) -> bool:
    """Whether a shipped nucleus (cell) model runs by default for a Ki67 stain matrix
    (:func:`default_cell_model_name` is not None)."""
    return default_cell_model_name(matrix) is not None


def stain_pair(matrix: Any) -> tuple[str, str]:
    """``(counterstain, chromogen)`` of a Ki67 stain matrix (:func:`counterstain_of`, :func:`chromogen_of`)."""
    return counterstain_of(matrix), chromogen_of(matrix)


def marker_channel(matrix: Any) -> str | None:
    """The red marker stain of a double-stain matrix (a counterstain, DAB and one of
    :data:`MARKER_CHROMOGENS`), or None."""
    names = tuple(matrix.names)
    if not any(n in names for n in COUNTERSTAINS) or "dab" not in names:
        return None
    return next((c for c in MARKER_CHROMOGENS if c in names), None)


def without_marker(rgb: np.ndarray, matrix: Any, *, background: Any = None) -> tuple[np.ndarray, Any]:
    """A double-stain image re-rendered from its counterstain and DAB only, with that two-stain matrix.

    The melanin detector (:mod:`mmnst_path.detect.pigment`) reads a hematoxylin-DAB image;
    a red SOX10 nucleus there reads as a brown body and vetoes the melanin granules around it
    (generated Ki67 / SOX10 tiles: melanin Dice 0.0-0.3 on the image, 0.55-0.74 on this one).
    Matrices without a marker are returned unchanged.
    """
    from ..stain import StainMatrix, rgb_from_stains, separate_stains

    red = marker_channel(matrix)
    if red is None:
        return rgb, matrix
    pair = (counterstain_of(matrix), "dab")
    conc = separate_stains(rgb, matrix, stains=pair, background=background)
    clean = rgb_from_stains(conc, matrix, stains=pair, background=background)
    sub = StainMatrix(pair, np.stack([matrix.vector(n) for n in pair]), name=f"{matrix.name}-{red}",
                      background=matrix.background, _warn=False)
    return clean, sub


def marker_of(matrix: Any, params: Ki67Params) -> tuple[str, str] | None:
    """``(red stain name, "cytoplasmic" | "nuclear")`` of a double stain's melanocyte marker, or None.

    The marker is read from the first of :data:`MARKER_CHROMOGENS` in a matrix whose Ki67
    chromogen is DAB; ``params.melanocyte_marker`` ``"auto"`` means ``"cytoplasmic"`` (MART-1 /
    Melan-A) when there is one.

    Raises
    ------
    ConfigError
        ``melanocyte_marker`` is ``"cytoplasmic"`` or ``"nuclear"`` but the matrix has no red
        channel beside DAB.
    """
    mode = params.melanocyte_marker
    if mode == "none":
        return None
    names = tuple(matrix.names)
    red = marker_channel(matrix)
    if red is None:
        if mode == "auto":
            return None
        msg = (f"Ki67Params.melanocyte_marker={mode!r} needs DAB plus a red marker chromogen "
               f"({', '.join(MARKER_CHROMOGENS)}) in the stains (e.g. 'H-DAB-FastRed'), got {list(names)}")
        raise ConfigError(msg)
    return red, ("cytoplasmic" if mode == "auto" else mode)


def _label_median(owner: np.ndarray, values: np.ndarray, keep: np.ndarray, n: int) -> np.ndarray:
    """Median of ``values`` over the ``keep`` pixels of each label 1..n of ``owner`` (NaN: none)."""
    flat = owner.ravel()
    sel = (flat > 0) & keep
    lab, val = flat[sel], values.ravel()[sel]
    out = np.full(n, np.nan, dtype=np.float32)
    if lab.size:
        order = np.lexsort((val, lab))
        lab, val = lab[order], val[order]
        ids, start, count = np.unique(lab, return_index=True, return_counts=True)
        out[ids - 1] = 0.5 * (val[start + (count - 1) // 2] + val[start + count // 2])
    return out


def _marker_od(labels: np.ndarray, red: np.ndarray, hidden: np.ndarray | None, n: int, *, where: str,
               ring_px: int) -> np.ndarray:
    """Red (marker) concentration (n,) of each nucleus, pigment (``hidden``) pixels left out, NaN
    where no pixel is left.

    ``where="nuclear"``: the median over the nucleus. ``"cytoplasmic"``: the larger of the
    medians over the ring of ``ring_px`` background pixels around the nucleus (ring as in
    :func:`_pigment_evidence`) and over its own outer band of ``ring_px``: with stain vectors a
    few degrees off, red cytoplasm leaks into hematoxylin and the segmented nucleus takes part
    of it in (generated MART-1 tiles: the missed melanocytes were segmented at ~1.8x the drawn
    nuclear area, their ring lying outside the cytoplasm). Medians, not means: a marker-negative
    cell beside a melanocyte has the neighbour's red over part of its ring.
    """
    keep = np.ones(labels.size, bool) if hidden is None else ~hidden.ravel()
    if where == "nuclear":
        return _label_median(labels, red, keep, n)
    size = 2 * ring_px + 1
    ring = np.where(labels == 0, _square_extreme(labels, size, op="max"), 0)
    band = np.where(_square_extreme(labels, size, op="min") != labels, labels, 0)
    out = np.fmax(_label_median(ring, red, keep, n), _label_median(band, red, keep, n))
    return out.astype(np.float32)


def _unmixing_matrix(matrix: Any, chromogen: str) -> Any:
    """The matrix Ki67 unmixes with: with Fast Red, melanin becomes a third stain (beside the
    counterstain, :func:`counterstain_of`).

    Brown-black melanin is 29° from Fast Red: a hematoxylin + Fast Red unmixing reads it as
    chromogen (generated Fast Red tiles with pigment over 8-20 % of the cells: index +12 pp), a
    hematoxylin + Fast Red + melanin one does not. The melanin row is the physical
    :func:`mmnst_path.stain.melanin_vector`. Chromogens within ``_MIN_MELANIN_DEG`` of melanin
    keep their matrix: AEC (13°) unmixed with melanin lost up to 7 pp of the index of
    unpigmented AEC tiles (its signal went to melanin), and DAB (6°) cannot be separated by
    colour at all; there the pigment mask alone keeps melanin out.
    """
    from ..stain import StainMatrix, angle_deg, melanin_vector

    if "melanin" in matrix.names or angle_deg(matrix.vector(chromogen), melanin_vector()) < _MIN_MELANIN_DEG:
        return matrix
    counter = counterstain_of(matrix)
    vectors = np.stack([matrix.vector(counter), matrix.vector(chromogen), melanin_vector()])
    return StainMatrix((counter, chromogen, "melanin"), vectors, name=f"{matrix.name}+melanin",
                       background=matrix.background, _warn=False)


def azure_detection_input(rgb: np.ndarray, conc: np.ndarray, hidden: np.ndarray, matrix: Any, background: Any,
                          sigma_px: float, pair: tuple[str, str]) -> np.ndarray:
    """Nucleus-detection input of an azure B tile (``Ki67Params.azure_counterstain_fill``): ``rgb``
    with both the counterstain and the DAB of the ``hidden`` (pigment) pixels replaced by those of
    their pigment-free surroundings (normalised Gaussian convolution at ``sigma_px`` then ``3
    sigma_px``, pixels), the counterstain never raised; other pixels unchanged
    (:func:`mmnst_path.quantify._ki67_pigment._without_pigment` with ``fill_counterstain``).

    Melanin binds azure B (green-blue), so a granule cluster reads as dark counterstain; the
    hematoxylin rule (counterstain capped near pigment-free pixels only) left it to be segmented
    with the negative nuclei it surrounds. ``pair``: (counterstain, chromogen), the stains of
    ``conc``'s two planes (log10 OD).
    """
    from ._ki67_pigment import _without_pigment

    return _without_pigment(rgb, conc, hidden, matrix, background, sigma_px, pair, fill_counterstain=True)
