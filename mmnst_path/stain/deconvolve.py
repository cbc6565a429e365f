"""Colour deconvolution: stain concentrations from 8-bit RGB, and RGB back from concentrations.

The kernel never takes a logarithm per pixel. With ``Minv = inv(V)`` (see
:class:`~mmnst_path.stain.StainMatrix`) the concentration of stain k is

    c_k = Σ_c OD_c(I_c) * Minv[c, k] = Σ_c T_kc[I_c],    T_kc[i] = -log10(max(i, 1)/I0_c) * Minv[c, k]

so each requested stain needs one folded 256-entry float32 table per channel, and a pixel costs
three table reads and two additions per stain. Only the stains asked for are computed.

Two interchangeable back ends compute the same thing (to ~1e-6, float32 rounding):

- ``"numpy"``: the reference, processed in cache-sized blocks of pixels, with no whole-image
  temporary (R and G tables pre-added into one 65536-entry table per stain).
- ``"numba"``: one fused, multi-threaded pass (optional; needs the ``numba`` package, compiled
  lazily on first use and cached on disk). ``"auto"`` uses it when numba is importable and the
  image has at least :data:`NUMBA_MIN_PIXELS` pixels.

Choose per call with ``backend=...`` or for the process with :func:`set_backend`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from importlib.util import find_spec

import numpy as np

from ..errors import StainError
from .od import BackgroundLike, _check_rgb, background_array, od_lut, rgb_from_od
from .vectors import StainMatrix

__all__ = [
    "BACKENDS",
    "NUMBA_MIN_PIXELS",
    "folded_luts",
    "get_backend",
    "numba_available",
    "rgb_from_stains",
    "separate_stains",
    "set_backend",
]

BACKENDS = ("auto", "numpy", "numba")
#: Images smaller than this use numpy under ``backend="auto"`` (call overhead dominates).
NUMBA_MIN_PIXELS = 1 << 14
#: Pixels per block of the numpy path: the block's temporaries (~0.7 MB) and the pair tables
#: (256 KiB per stain) stay in a 2 MB L2 cache.
BLOCK_PIXELS = 1 << 16

_state: dict[str, str | bool] = {"backend": "auto"}


def numba_available() -> bool:
    """True when the optional numba accelerator can be used (numba is installed and imports)."""
    if "numba" not in _state:
        try:
            ok = find_spec("numba") is not None
        except (ImportError, ValueError):  # e.g. sys.modules["numba"] = None
            ok = False
        _state["numba"] = ok
    return bool(_state["numba"])


def _numba_module():  # type: ignore[no-untyped-def]
    """The compiled kernels' module, or None when numba fails to import (then numpy is used)."""
    try:
        from . import _numba
    except ImportError as exc:
        _state["numba"] = False
        warnings.warn(f"numba is installed but cannot be imported ({exc}); using numpy", stacklevel=4)
        return None
    return _numba


def _numba_separate():  # type: ignore[no-untyped-def]
    """The compiled kernel's wrapper, or None when numba fails to import (then numpy is used)."""
    mod = _numba_module()
    return None if mod is None else mod.separate


def set_backend(backend: str) -> str:
    """Set the process-wide default back end (``"auto"``, ``"numpy"`` or ``"numba"``).

    Returns the previous value, so a caller can restore it.
    """
    _validate_backend(backend)
    previous = str(_state["backend"])
    _state["backend"] = backend
    return previous


def get_backend() -> str:
    """The process-wide default back end set by :func:`set_backend` (initially ``"auto"``)."""
    return str(_state["backend"])


def _validate_backend(backend: str) -> None:
    if backend not in BACKENDS:
        msg = f"backend must be one of {BACKENDS}, got {backend!r}"
        raise StainError(msg)
    if backend == "numba" and not numba_available():
        msg = "backend='numba' was asked for but numba is not installed (pip install numba), use 'numpy'"
        raise StainError(msg)


def _resolve_backend(backend: str | None, n_pixels: int) -> str:
    choice = get_backend() if backend is None else backend
    _validate_backend(choice)
    if choice == "auto":
        return "numba" if n_pixels >= NUMBA_MIN_PIXELS and numba_available() else "numpy"
    return choice


def _stain_columns(matrix: StainMatrix, stains: Sequence[str] | str) -> list[int]:
    if isinstance(stains, str):
        stains = (stains,)
    if len(stains) == 0:
        msg = "stains must name at least one stain of the matrix, got an empty sequence"
        raise StainError(msg)
    return [matrix.index(s) for s in stains]


def folded_luts(
    matrix: StainMatrix, stains: Sequence[str] | str, *, background: BackgroundLike = None
) -> np.ndarray:
    """Folded lookup tables ``T[k, c, i] = OD_c(i) * inv(V)[c, k]`` for the requested stains.

    Parameters
    ----------
    matrix : StainMatrix
    stains : sequence of str
        Stain names, in output order.
    background : white point, or None for the matrix's own background (else 255).

    Returns
    -------
    (len(stains), 3, 256) float32 ndarray, C-contiguous
    """
    cols = _stain_columns(matrix, stains)
    bg = background if background is not None else matrix.background
    lut = od_lut(bg)  # (3, 256) float64
    inv = matrix.inverse  # (3, 3): OD row @ inv -> concentrations
    folded = lut[None, :, :] * inv[:, cols].T[:, :, None]
    return np.ascontiguousarray(folded, dtype=np.float32)


def _separate_numpy(rgb2: np.ndarray, tables: np.ndarray, out2: np.ndarray) -> None:
    """Reference kernel on (P, 3) uint8 -> (P, K) float32, in blocks of BLOCK_PIXELS pixels.

    The R and G tables are pre-added into one 65536-entry table per stain (256 KiB float32, in
    L2), indexed by ``R << 8 | G``: two gathers per stain instead of three. The float32 sums
    are the same as ``(T0[r] + T1[g]) + T2[b]``, so results are bit-identical to the numba path.
    """
    n_px = rgb2.shape[0]
    n_st = tables.shape[0]
    pair = (tables[:, 0, :, None] + tables[:, 1, None, :]).reshape(n_st, 65536)
    size = min(BLOCK_PIXELS, n_px)
    idx = np.empty(size, dtype=np.uint16)
    blue = np.empty(size, dtype=np.uint8)
    acc = np.empty(size, dtype=np.float32)
    tmp = np.empty(size, dtype=np.float32)
    for start in range(0, n_px, BLOCK_PIXELS):
        stop = min(start + BLOCK_PIXELS, n_px)
        n = stop - start
        block = rgb2[start:stop]
        i, b, a, t = idx[:n], blue[:n], acc[:n], tmp[:n]
        np.left_shift(block[:, 0], 8, out=i, dtype=np.uint16)
        i |= block[:, 1]
        b[...] = block[:, 2]
        for k in range(n_st):
            np.take(pair[k], i, out=a)
            np.take(tables[k, 2], b, out=t)
            a += t
            out2[start:stop, k] = a


def separate_stains(
    rgb: np.ndarray,
    matrix: StainMatrix,
    *,
    stains: Sequence[str] | str = ("hematoxylin", "dab"),
    background: BackgroundLike = None,
    backend: str | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Stain concentrations of an 8-bit RGB image by colour deconvolution.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        RGB image (any leading shape ``(..., 3)`` works).
    matrix : StainMatrix
        Stain vectors, e.g. ``get_preset("H-DAB")``.
    stains : sequence of str
        Stains to compute, in output order (names from ``matrix.names``, ``"residual"``
        included for two-stain matrices). Only these are computed.
    background : float, sequence of 3 floats or None
        White point I0 per channel (8-bit units). ``None`` uses ``matrix.background`` if set,
        else 255.
    backend : {"auto", "numpy", "numba"} or None
        Kernel to use; ``None`` means the process default (:func:`set_backend`).
    out : (M, N, len(stains)) float32 C-contiguous ndarray, optional
        Buffer to write into (saves the allocation and page faults when reused across tiles).

    Returns
    -------
    (M, N, len(stains)) float32 ndarray
        Concentrations in log10-OD units: the pixel's OD is ``Σ_k c_k * matrix.vectors[k]``.
        The OD convention is QuPath's (``-log10(max(I, 1) / I0)``), so QuPath thresholds apply;
        divide by 6 for scikit-image's scale (:func:`~mmnst_path.stain.skimage_from_od`).
        Values can be slightly negative (noise, or colours outside the stains' span).

    Examples
    --------
    >>> import numpy as np
    >>> from mmnst_path.stain import get_preset, rgb_from_stains
    >>> m = get_preset("H-DAB")
    >>> conc = np.zeros((1, 1, 3), np.float32); conc[..., 1] = 0.5       # pure DAB, OD 0.5
    >>> px = rgb_from_stains(conc, m)
    >>> np.round(separate_stains(px, m, stains=("dab",)), 1).ravel().tolist()
    [0.5]
    """
    rgb = _check_rgb(rgb)
    if not isinstance(matrix, StainMatrix):
        msg = f"matrix must be a StainMatrix (e.g. get_preset('H-DAB')), got {type(matrix).__name__}"
        raise StainError(msg)
    tables = folded_luts(matrix, stains, background=background)
    n_st = tables.shape[0]
    lead = rgb.shape[:-1]
    n_px = int(np.prod(lead, dtype=np.int64))
    if out is None:
        out = np.empty((*lead, n_st), dtype=np.float32)
    elif out.shape != (*lead, n_st) or out.dtype != np.float32 or not out.flags.c_contiguous:
        msg = (
            f"out must be a C-contiguous float32 array of shape {(*lead, n_st)}, got "
            f"{out.dtype} {out.shape}"
        )
        raise StainError(msg)
    if n_px == 0:
        return out
    rgb2 = rgb.reshape(n_px, 3)  # copies only when the input is not C-contiguous
    out2 = out.reshape(n_px, n_st)
    kernel = _numba_separate() if _resolve_backend(backend, n_px) == "numba" else None
    if kernel is not None:
        kernel(rgb2, tables, out2)
    else:
        _separate_numpy(rgb2, tables, out2)
    return out


def rgb_from_stains(
    concentrations: np.ndarray,
    matrix: StainMatrix,
    *,
    stains: Sequence[str] | str | None = None,
    background: BackgroundLike = None,
) -> np.ndarray:
    """Reconstruct 8-bit RGB from stain concentrations (inverse of :func:`separate_stains`).

    Parameters
    ----------
    concentrations : (M, N, K) float ndarray
        Concentrations in log10-OD units, one channel per name in ``stains``.
    matrix : StainMatrix
    stains : sequence of str or None
        Names of the K channels; ``None`` means all of ``matrix.names`` (K = 3). Stains not
        listed count as zero, so passing one stain renders that stain alone (QC images).
    background : white point, or None for ``matrix.background`` (else 255).

    Returns
    -------
    (M, N, 3) uint8 ndarray
        ``round(I0 * 10**-(c @ V))`` clipped to [0, 255]; with all three stains it reproduces
        every pixel whose channels are >= 1 (round trip).
    """
    conc = np.asarray(concentrations)
    names = matrix.names if stains is None else ((stains,) if isinstance(stains, str) else tuple(stains))
    cols = _stain_columns(matrix, names)
    if conc.ndim < 1 or conc.shape[-1] != len(cols):
        msg = (
            f"concentrations must have one channel per stain {list(names)} in the last axis, "
            f"got shape {conc.shape}"
        )
        raise StainError(msg)
    vecs = matrix.vectors[cols].astype(np.float32)
    od = conc.astype(np.float32, copy=False) @ vecs
    bg = background if background is not None else matrix.background
    return rgb_from_od(od, background=background_array(bg))
