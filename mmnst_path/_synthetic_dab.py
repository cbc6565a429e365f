"""DAB-positive nuclei as dark as real ER/PR DAB against its counterstain (``pigment_family_tile(dab_strength=...)``).

The standard positives of :func:`mmnst_path.synthetic.pigment_family_tile` paint 0.45-1.2 OD of DAB over a
pale counterstain (0.15 OD), so a tile's typical positive stays within ~2x its negatives' total OD. The
EndoNuke ER/PR tiles (Naumov et al., Data 2022, CC BY 4.0; ``/work/shared/train/endonuke``) go further:
on some tiles most positives are strong, and the hematoxylin under the DAB is kept (session 27 H2,
``benchmarks/experiments/dab_darkness.py``; 2 µm discs at the labelled nuclei, read at 0.5 µm/px with the
H-DAB unmixing of the pigment stage, a nucleus positive when its disc's DAB >= 0.25):

- the tile's median positive nucleus: DAB 0.67 / 0.86 / 1.09 (10th / 50th / 90th percentile over the 291
  tiles with positives; generated standard tiles 0.65 / 0.84 / 0.98), total OD 0.90 / 1.19 / 1.63
  (generated 0.78 / 1.00 / 1.09), its darkness against the tile's negative nuclei
  log10(total OD ratio) 0.25 / 0.37 / 0.57 (generated 0.23 / 0.28 / 0.35);
- the hematoxylin under the positives: tile medians 0.23 / 0.39 / 0.58 (generated 0.07 / 0.16 / 0.25);
- within a tile, log(DAB / the tile's median positive) has a long weak tail (:data:`ENDONUKE_WITHIN`).

:class:`EndoNukeDab` draws each tile's level from those measured distributions (:data:`ENDONUKE_TILE_DAB`,
:data:`ENDONUKE_TILE_HEM`, as quantile tables) and each positive nucleus from the within-tile spread, on its own
random stream, so the layout of a tile (which nuclei are positive, the pigment) is that of the standard
rendering. The values are measured concentrations (after the tile's stain scale), so the caller divides by
its scale before painting. Real Ki67 sets (BCData, DeepLIIF) reach darker positives still; they are
research-only and set nothing here.
"""

from __future__ import annotations

import math

import numpy as np

#: names accepted by ``pigment_family_tile(dab_strength=...)`` (None: the standard positives)
DAB_STRENGTHS = ("endonuke",)

#: quantile levels of the tables below
ENDONUKE_LEVELS = (0.0, 0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99, 1.0)
#: EndoNuke: the tile's median positive nucleus' DAB (log10 OD, 2 µm disc mean) at :data:`ENDONUKE_LEVELS`
ENDONUKE_TILE_DAB = (0.26, 0.45, 0.56, 0.67, 0.77, 0.85, 0.97, 1.09, 1.21, 1.37, 1.42)
#: ... the tile's median hematoxylin under its positive nuclei (log10 OD)
ENDONUKE_TILE_HEM = (0.07, 0.12, 0.17, 0.23, 0.32, 0.39, 0.47, 0.58, 0.66, 0.79, 0.85)
#: ... log(nucleus DAB / the tile's median positive DAB), pooled over the tiles' positive nuclei
ENDONUKE_WITHIN = (-1.70, -1.17, -0.76, -0.50, -0.17, 0.00, 0.08, 0.15, 0.22, 0.37, 0.87)
#: the tiles' DAB and hematoxylin levels are correlated (r = 0.65 on EndoNuke): the hematoxylin's quantile is
#: the DAB's plus a normal jitter of this standard deviation
HEM_JITTER = 0.2
#: per-nucleus spread of the hematoxylin under a positive around the tile's level (factor, uniform)
HEM_NUCLEUS = (0.8, 1.25)
#: painted DAB over the DAB read back (2 µm disc) on generated tiles: blur, the chromatin texture and the
#: camera take ~14 % of it (measured on 20 tiles, seeds 40-59; the hematoxylin reads back as painted)
PAINT_GAIN = 1.17
#: lowest DAB a positive nucleus gets (log10 OD; EndoNuke's positives are those at >= 0.25 by definition)
DAB_FLOOR = 0.25


def _quantile(u: float, table: tuple[float, ...]) -> float:
    return float(np.interp(u, ENDONUKE_LEVELS, table))


class EndoNukeDab:
    """The positive nuclei of a ``dab_strength="endonuke"`` tile: per tile a level, per nucleus a draw around it.

    Parameters
    ----------
    rng : numpy.random.Generator
        The tile's own stream for the positives' strength (the rest of the tile does not depend on it).

    Attributes
    ----------
    dab, hem : float
        The tile's median positive DAB and the hematoxylin under its positives (measured log10 OD).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        u = rng.uniform(0.0, 1.0)
        self.dab = _quantile(u, ENDONUKE_TILE_DAB)
        self.hem = _quantile(float(np.clip(u + rng.normal(0.0, HEM_JITTER), 0.0, 1.0)), ENDONUKE_TILE_HEM)

    def draw(self) -> tuple[float, float]:
        """(DAB, hematoxylin) of one positive nucleus to paint (log10 OD, before the tile's stain scale):
        the DAB is the measured level times :data:`PAINT_GAIN`."""
        rng = self.rng
        dab = max(DAB_FLOOR, self.dab * math.exp(_quantile(rng.uniform(0.0, 1.0), ENDONUKE_WITHIN)))
        return PAINT_GAIN * dab, self.hem * rng.uniform(*HEM_NUCLEUS)


def dab_strength_of(name: str | None, chromogen: str, positives: str,
                    rng_of) -> EndoNukeDab | None:
    """The strength drawer of ``pigment_family_tile(dab_strength=name)`` (None: standard positives).

    ``rng_of()`` makes the tile's stream for it (called only when ``name`` is not None). Raises ValueError
    for an unknown name, a chromogen other than DAB or ``positives="wide"`` (its own grades).
    """
    if name is None:
        return None
    if name not in DAB_STRENGTHS:
        msg = f"dab_strength must be None or one of {DAB_STRENGTHS}, got {name!r}"
        raise ValueError(msg)
    if chromogen != "dab":
        msg = f"dab_strength={name!r} is for DAB tiles (chromogen 'dab'), got chromogen={chromogen!r}"
        raise ValueError(msg)
    if positives != "standard":
        msg = f"dab_strength={name!r} replaces the standard positives; it cannot be used with positives={positives!r}"
        raise ValueError(msg)
    return EndoNukeDab(rng_of())
