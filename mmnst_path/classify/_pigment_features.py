"""The pigment pixel model's features (issue #14): their settings, names and columns.

:class:`PigmentFeatureSettings` (the scales, stored with a model), :func:`pigment_feature_specs`
(the named columns), :func:`pigment_features` (the feature rows of a tile's candidate pixels,
the reference :func:`mmnst_path.classify.pigment.pigment_probability` is tested against) and the
fine-scale OD and candidates both compute (:func:`_candidates`). Moved out of
:mod:`mmnst_path.classify.pigment` unchanged (same values); every name stays importable from there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from ..detect._morphology import _gaussian
from ..errors import ConfigError
from ._pigment_bands import _window_columns, feature_reach_px
from ._pigment_bodies import _brown_bodies, _brown_mask
from ._pigment_fine import fine_od
from ._pigment_granules import GRANULE_FEATURES, granule_columns, granule_feature_specs
from ._pigment_reach_bodies import BOUNDED_FEATURES, bounded_body_columns
from ._pigment_windows import _windows
from .model import FeatureSpec

__all__: list[str] = []


@dataclass(frozen=True)
class PigmentFeatureSettings:
    """How pigment pixel features are computed (stored with the model); lengths in µm, OD log10."""

    fine_um: float = 0.35
    granule_um: float = 1.0
    cluster_um: float = 2.5
    peak_um: float = 1.0
    context_um: float = 2.5
    wide_um: float = 6.0
    candidate_od: float = 0.2
    #: Gaussian sigma of the bounded brown-body columns (``body_*``) and the reach of their hole test
    body_um: float = 3.0
    hole_um: float = 6.0

    def halo_um(self) -> float:
        """Context (µm) a pixel's features depend on (the ``blob_*`` columns aside: whole bodies,
        no finite reach; the ``body_*`` columns within :meth:`body_reach_um`)."""
        local = 2.0 * max(self.cluster_um, self.peak_um) + 4.0 * max(self.context_um, self.wide_um)
        return 4.0 * self.fine_um + max(local, self.body_reach_um())

    def body_reach_um(self) -> float:
        """Reach (µm) of the ``body_*`` columns beyond the fine-scale OD: 4 sigma of ``body_um``
        plus ``hole_um``."""
        return 4.0 * self.body_um + self.hole_um

    @classmethod
    def from_mapping(cls, mapping: Any) -> PigmentFeatureSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in dict(mapping).items() if k in known})

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = asdict(self)
        out["target"] = "pigment"
        return out


def pigment_feature_specs(settings: PigmentFeatureSettings) -> list[FeatureSpec]:
    """Named features, in column order, with their scales."""
    s = settings
    return [
        FeatureSpec("u_r", "", f"red share of the unit OD vector at {s.fine_um} µm"),
        FeatureSpec("u_g", "", f"green share of the unit OD vector at {s.fine_um} µm"),
        FeatureSpec("u_b", "", f"blue share of the unit OD vector at {s.fine_um} µm"),
        FeatureSpec("grey", "", "cosine of the OD vector to (1, 1, 1)"),
        FeatureSpec("log_od", "log10(log10 OD)", f"total OD at {s.fine_um} µm"),
        FeatureSpec(f"tophat_{s.granule_um:g}", "", f"relative top-hat of the total OD, disk {s.granule_um} µm"),
        FeatureSpec(f"tophat_{s.cluster_um:g}", "", f"relative top-hat of the total OD, disk {s.cluster_um} µm"),
        FeatureSpec("peak", "", f"total OD / its maximum within {s.peak_um} µm"),
        FeatureSpec("cv", "", f"coefficient of variation of the total OD at {3 * s.fine_um:g} µm"),
        FeatureSpec("ctx_log_od", "log10(log10 OD)", f"total OD at {s.context_um} µm"),
        FeatureSpec("ctx_u_r", "", f"red share of the unit OD at {s.context_um} µm"),
        FeatureSpec("ctx_u_b", "", f"blue share of the unit OD at {s.context_um} µm"),
        FeatureSpec("wide_u_b", "", f"blue share of the unit OD at {s.wide_um} µm"),
        FeatureSpec("erode", "", f"minimum total OD within {s.granule_um} µm / total OD"),
        FeatureSpec("ctx_grey", "", f"cosine of the OD vector at {s.context_um} µm to (1, 1, 1)"),
        FeatureSpec(f"erode_{s.cluster_um:g}", "", f"minimum total OD within {s.cluster_um} µm / total OD"),
        FeatureSpec("dog", "", f"total OD minus its blur at {s.granule_um} µm, relative to the OD"),
        FeatureSpec("rel_u_b", "", f"blue share of the unit OD minus its mean at {s.context_um} µm"),
        FeatureSpec("hue_sd", "", f"standard deviation of the blue share of the unit OD at {s.granule_um} µm"),
        FeatureSpec("dark_share", "", f"share of the pixels within {s.context_um} µm at least half as dark"),
        FeatureSpec("blob_log_area", "log10(µm²)", "area of the brown body the pixel lies in (0 off bodies)"),
        FeatureSpec("blob_fill", "", "brown body area / area of its moment ellipse (1: a filled nucleus)"),
        FeatureSpec("blob_cv", "", "coefficient of variation of the total OD over the brown body"),
        FeatureSpec("blob_holes", "", "share of the filled brown body that is hole (a ring around a nucleus)"),
        *granule_feature_specs(s),
        FeatureSpec("body_log_area", "log10(µm²)",
                    f"brown area around the pixel, Gaussian of {s.body_um} µm (0 off the brown mask)"),
        FeatureSpec("body_fill", "", f"share of brown pixels within a Gaussian of {s.body_um / 2:g} µm"),
        FeatureSpec("body_cv", "", f"coefficient of variation of the total OD over the brown pixels within {s.body_um} µm"),
        FeatureSpec("body_holes", "", f"share of hole pixels (brown within {s.hole_um} µm on all four sides) "
                    f"among brown and hole pixels within {s.body_um} µm"),
    ]


def _blur(img: np.ndarray, sigma_px: float) -> np.ndarray:
    return _gaussian(img, sigma_px) if sigma_px >= 0.3 else img


def pigment_features(rgb: np.ndarray, *, mpp: float, settings: PigmentFeatureSettings | None = None,
                     background: Any = None, where: np.ndarray | None = None,
                     names: Any = None, windowed: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Features of the candidate pixels of an RGB tile (``where``: only among these pixels).

    ``names``: the feature columns wanted, in order (default: all of :func:`pigment_feature_specs`;
    a model stores the names it was trained on, so older model files keep working).
    ``windowed``: filter only windows around the candidates (each group of candidates whose
    windows touch, grown by the reach of the filter chains, :func:`feature_reach_px`) instead
    of the whole tile; every value read is the one the whole-tile filter gives, so the rows are
    bit-identical (``False``: the whole tile, the reference the tests compare with).

    Returns
    -------
    x : (K, F) float32 ndarray
        Feature rows (columns as :func:`pigment_feature_specs`).
    candidates : (M, N) bool ndarray
        The pixels the rows belong to (row-major order): total OD >= ``candidate_od``.
    """
    s = settings or PigmentFeatureSettings()
    wanted = [f.name for f in pigment_feature_specs(s)] if names is None else list(names)
    _check_names(s, wanted)
    od, fine, total, cand = _candidates(rgb, mpp=mpp, settings=s, background=background, where=where)
    if not cand.any():
        return np.zeros((0, len(wanted)), np.float32), cand
    local = [name for name in wanted
             if not name.startswith("blob_") and name not in GRANULE_FEATURES and name not in BOUNDED_FEATURES]
    granular = [name for name in wanted if name in GRANULE_FEATURES]
    k = int(np.count_nonzero(cand))
    # the rows are filled in place, column by column (float32 at once: the same values as a late
    # cast), so a tile with ~10^6 candidates never holds a second copy of them
    x = np.empty((k, len(wanted)), np.float32)
    at_col: dict[str, list[int]] = {}
    for i, name in enumerate(wanted):
        at_col.setdefault(name, []).append(i)

    filled: set[str] = set()

    def put(part: Any, rows: Any) -> None:
        for name, v in part:
            for i in at_col.get(name, ()):
                x[rows, i] = v
            filled.add(name)

    if local or granular:
        wins = _windows(cand, feature_reach_px(s, mpp)) if windowed else [(np.s_[:, :], cand)]
        if len(wins) == 1 and wins[0][1] is cand:  # one window, the whole tile: no scatter
            put(_window_columns(od, fine, total, cand, s, mpp, local), slice(None))
            put(granule_columns(fine, total, cand, s, mpp, granular), slice(None))
        else:
            index = np.zeros(cand.shape, dtype=np.intp)
            index[cand] = np.arange(k)
            for win, sel in wins:
                put(_window_columns(od[win], fine[win], total[win], sel, s, mpp, local), index[win][sel])
                put(granule_columns(fine[win], total[win], sel, s, mpp, granular), index[win][sel])
    if any(name.startswith("blob_") for name in wanted):  # whole bodies: not local, the whole tile
        put(_brown_bodies(total, fine, mpp, cand).items(), slice(None))
    if bounded := [name for name in wanted if name in BOUNDED_FEATURES]:  # bounded bodies: a finite reach
        put(bounded_body_columns(total, _brown_mask(total, fine), cand, mpp, body_um=s.body_um, hole_um=s.hole_um,
                                 names=bounded), slice(None))
    if missing := sorted(set(wanted) - filled):  # pragma: no cover - every known name has a producer
        msg = f"pigment features {missing} were not computed"
        raise ConfigError(msg)
    return x, cand


def _candidates(rgb: np.ndarray, *, mpp: float, settings: PigmentFeatureSettings, background: Any,
                where: np.ndarray | None, od: np.ndarray | None = None, planes: list[np.ndarray] | None = None,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(OD (M, N, 3), its blur at ``fine_um`` (M, N, 3), the norm of that (M, N), candidates (M, N) bool);
    ``od``: ``od_from_rgb(rgb, background=background)`` when the caller has it; ``planes`` (a list):
    receives the three OD channels as C-contiguous (M, N) planes (copied once here for the blur,
    read again by the context and wide blurs of :func:`_window_columns`)."""
    from ..stain import od_from_rgb

    s = settings
    od = np.ascontiguousarray(od_from_rgb(rgb, background=background) if od is None else od, dtype=np.float32)
    fine, total = fine_od(od, s.fine_um / mpp, planes)  # one compiled pass (:mod:`._pigment_fine`)
    cand = total >= s.candidate_od
    if where is not None:
        cand &= where
    return od, fine, total, cand


def _od_planes(od: np.ndarray) -> list[np.ndarray]:
    """The three channels of the (M, N, 3) OD as C-contiguous (M, N) planes (copies)."""
    return [np.ascontiguousarray(od[..., c]) for c in range(3)]


def _rows_of(flat: np.ndarray, win: tuple[slice, slice], sel: np.ndarray, n: int) -> np.ndarray:
    """Positions in ``flat`` (the sorted raveled indices of all candidates of a tile ``n`` columns
    wide) of the candidates ``sel`` of the window ``win``, in the window's row-major order (which
    is theirs in the tile): the rows of :func:`_wide_at` that belong to the window."""
    rr, cc = np.nonzero(sel)
    return np.searchsorted(flat, (rr + (win[0].start or 0)) * n + (cc + (win[1].start or 0)))


def _check_names(settings: PigmentFeatureSettings, wanted: list[str]) -> None:
    known = [f.name for f in pigment_feature_specs(settings)]
    if unknown := sorted(set(wanted) - set(known)):
        msg = f"pigment features {unknown} are not computed by this version (known: {known})"
        raise ConfigError(msg)
