"""The part of a tile image a tile's Ki67 stage detects nuclei on (issue #16)."""

from __future__ import annotations

import math

__all__ = ["detection_window"]


def detection_window(core: tuple[slice, slice], frame: tuple[int, int], shape: tuple[int, ...],
                     steps: dict[str, float], mpp: float) -> tuple[slice, slice] | None:
    """Slices (of the image at ``frame`` in the tile image) of the tile core grown by the Ki67
    reach after the pigment mask, without the pigment prior's square, or None (the whole image).

    ``steps``: :func:`mmnst_path.pipeline._worker.ki67_halo_parts`. The cells a core owns depend
    on the image within ``pigment_fill + detection + context`` of the core (given the pigment
    mask); the prior's square (``pigment_prior``) reaches farther but reads the pigment mask only
    (``measure_ki67(_prior_mask=...)``). At least ``WATERSHED_BAND_ROWS + 1`` rows are kept,
    as in the pipeline's Ki67 window, so the watershed floods the same bands.
    """
    from ..detect._morphology import WATERSHED_BAND_ROWS

    reach = math.ceil((steps["pigment_fill"] + steps["detection"] + steps["context"]) / mpp) + 1
    rs, cs = core
    if rs.stop <= rs.start or cs.stop <= cs.start:
        return None
    r0, r1 = max(rs.start - reach - frame[0], 0), min(rs.stop + reach - frame[0], shape[0])
    c0, c1 = max(cs.start - reach - frame[1], 0), min(cs.stop + reach - frame[1], shape[1])
    need = min(WATERSHED_BAND_ROWS + 1, shape[0])
    if r1 - r0 < need:
        r1 = min(r0 + need, shape[0])
        r0 = r1 - need
    if r1 <= r0 or c1 <= c0 or (r0, r1, c0, c1) == (0, shape[0], 0, shape[1]):
        return None
    return slice(r0, r1), slice(c0, c1)
