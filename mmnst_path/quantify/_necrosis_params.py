"""The parameters of the necrosis detector and its additive counts (:class:`NecrosisParams`,
:class:`NecrosisCounts`, :func:`necrosis_metrics`), split word for word out of
:mod:`mmnst_path.quantify.necrosis` (session 29), which re-exports them; "the module doc" below is
that module's docstring. Lengths are µm, areas µm², ODs log10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from .._params import check_known_keys, plain_mapping
from ..errors import ConfigError

__all__ = ["NecrosisCounts", "NecrosisParams", "necrosis_metrics"]


#: The intact-nucleus veto's fixed tests, read only with ``intact_model = "none"``.
INTACT_FIXED_TESTS = ("intact_contrast_od", "intact_surround_tissue", "intact_min_fill", "intact_min_extent_um")


@dataclass(frozen=True, slots=True)
class NecrosisParams:
    """Physical parameters of the default necrosis detector (ODs are log10, see module doc).

    Defaults were set on H&E at 10x (osteosarcoma) and checked on two independent generators:
    viable tumour has a viable-nucleus area fraction of 6–40 %, necrosis < 5 %; necrotic eosin
    is 0.04–0.08 on the real tiles and up to 0.4 on generated ones, bone and dense collagen
    0.2–0.4 with oriented texture. Regional orientation coherence (see module doc; 0 = random,
    1 = one orientation): amorphous necrosis 0.10–0.23 (median 0.12–0.17 generated, 0.20–0.24
    real), lamellar bone and collagen 0.28–0.55 (median 0.31–0.53): ``max_coherence`` 0.3.
    ``nucleus_h_od`` 0.35 keeps faint ghost nuclei out of the viable count; ``viable_min_um2``
    25 µm² (a nucleus of ~2.8 µm radius) keeps merged debris fragments out of it. ``edge_sigma_um``
    (µm) is the fine density window used to grow necrotic regions back to their edge (2.5 µm:
    the border lands ~1.5 µm from the last viable nuclear edge), by at most
    ``edge_grow_um`` (µm; 0 disables it). ``min_texture`` (dimensionless, relative std of E at
    ``texture_sigma_um`` 3 µm, i.e. over nuclei/ghost/vacuole sizes) 0.05 lies between real bone
    and collagen (<= 0.045) and the most uniform generated dense necrosis (>= 0.06); 0 disables it.
    With a tissue model, ``fill_holes_um2`` > 0 makes the holes of the necrosis map smaller than
    this area (µm²; tissue called tumour, stroma or inflammatory that necrosis encloses, such as
    clusters of karyorrhectic debris) necrotic before ``min_area_um2`` applies; 0 (default) leaves them.
    With a tissue model, necrosis is vetoed where intact nuclei number >= ``intact_veto_density``
    per 1000 µm² of tissue (Gaussian window ``intact_sigma_um`` µm; 1.0 by default, 0 disables the
    veto): peaks of hematoxylin contrast >= ``intact_contrast_od`` OD against the tissue around them,
    a surround of >= ``intact_surround_tissue`` tissue, stain filling >= ``intact_min_fill`` of a
    5 x 5 µm square (not a 1-3 µm debris fragment), and a stained extent >= ``intact_min_extent_um``
    (:func:`~mmnst_path.quantify._intact_nuclei.nucleus_extent_um`: the radius at which the ring-mean
    hematoxylin around the peak falls to 20 % of its height; ~radius + 0.5 µm, so 3.25 µm keeps nuclei
    >= ~5.5 µm across and drops the 3-5 µm karyorrhectic bodies of true necrosis, which pass every
    other test; 0 disables it). Vetoed blocks within 1.5 ``intact_sigma_um`` of unvetoed necrosis
    stay necrotic (the window reaches across a necrotic border). The veto runs on tiles analysed at
    <= ``intact_max_mpp_um`` µm/px only (20x and finer): at 10x (~1 µm/px) the faded ghost discs of
    the project's generator have the contrast of viable vesicular carcinoma nuclei (0.13-0.15 OD
    median) and the veto removed their true necrosis. Contrast, surround and fill were calibrated
    (2026-12-03) and the density and extent chosen (2026-12-04, ``scripts/calibrate_intact_veto.py``)
    on training sources only (BRCA-M2C train split, generated training seeds, with karyorrhectic
    bodies painted into their necrosis). Default since 2026-12-04: viable breast carcinoma
    (BRCA-M2C test) 13.27 -> 9.58 % false necrosis, the held-out H&E renderer unchanged (MAE
    19.34 pp), the bundled he_necrosis sample 26.5 -> 26.3 % (truth 37.09); benchmarks/README.md,
    necrosis section, "Intact-nucleus veto", "Karyorrhectic bodies" and "The extent, continuous in
    the pixel size". ``intact_model`` ("default": the shipped ``intact_nuclei_he.mmnst``; a ``.mmnst``
    path; "none" for the fixed tests) replaces the veto's fixed tests (contrast, surround, fill, extent) by a
    learned intact-vs-ghost call on loose candidates (:mod:`mmnst_path.quantify._intact_model`). Default since
    session 36 (2026-12-07): BRCA-M2C test false necrosis 9.58 -> 1.27 %, the held-out renderer unchanged,
    generated fresh seeds |err| 8.25 -> 7.95 pp, the sample 26.30 -> 26.54 % (benchmarks/README.md, "#13: the
    intact-nucleus veto fed a learned intact-vs-ghost call").
    """

    analysis_mpp_um: float = 2.0
    stains: str = "H&E"
    tissue_min_od: float = 0.08
    nucleus_h_od: float = 0.35
    nucleus_contrast_od: float = 0.15
    background_um: float = 16.0
    viable_min_um2: float = 25.0
    viable_max_um2: float = 1e6
    density_sigma_um: float = 20.0
    max_viable_fraction: float = 0.1
    eosin_min_od: float = 0.02
    fibre_sigma_um: float = 1.0
    coherence_sigma_um: float = 6.0
    coherence_region_um: float = 15.0
    max_coherence: float = 0.3
    fibre_min_eosin_od: float = 0.08
    dense_eosin_od: float = 0.2
    dense_min_debris: float = 0.3
    texture_sigma_um: float = 3.0
    texture_region_um: float = 15.0
    texture_eps_od: float = 0.02
    min_texture: float = 0.05
    blood_blue_green_ratio: float = 0.85
    smooth_um: float = 8.0
    min_area_um2: float = 2000.0
    fill_holes_um2: float = 0.0
    edge_sigma_um: float = 2.5
    edge_grow_um: float = 40.0
    edge_free_um: float = 10.0
    intact_veto_density: float = 1.0
    intact_contrast_od: float = 0.12
    intact_surround_tissue: float = 0.7
    intact_min_fill: float = 0.5
    intact_min_extent_um: float = 3.25
    intact_sigma_um: float = 15.0
    intact_max_mpp_um: float = 0.55
    tissue_model: str = "default"
    intact_model: str = "default"

    def __post_init__(self) -> None:
        value = self.intact_model  # "Default" / " none" name the shipped choices, as for the tissue model
        if isinstance(value, str) and value.strip().lower() in ("none", "default"):
            object.__setattr__(self, "intact_model", value.strip().lower())
        for key in ("tissue_model", "intact_model"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                msg = f"NecrosisParams.{key} must be 'default', 'none' or a model file path, got {value!r}"
                raise ConfigError(msg)
        for f in fields(self):
            if f.name in ("stains", "tissue_model", "intact_model"):
                continue
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                msg = f"NecrosisParams.{f.name} must be a finite number >= 0, got {value!r}"
                raise ConfigError(msg)
        if self.analysis_mpp_um <= 0 or self.viable_min_um2 >= self.viable_max_um2:
            msg = (f"NecrosisParams: need analysis_mpp_um > 0 and viable_min_um2 < viable_max_um2, got "
                   f"{self.analysis_mpp_um!r}, {self.viable_min_um2!r}, {self.viable_max_um2!r}")
            raise ConfigError(msg)

    def model(self) -> Any:
        """The tissue model named by ``tissue_model`` (loaded once per process), or None for the rules."""
        from ..classify import resolve_model

        return resolve_model(self.tissue_model, "tissue")

    def halo_um(self) -> float:
        """Context (µm) a tile needs for a result that does not depend on tile borders."""
        model = self.model()
        if model is not None:
            from ..classify.tissue import tissue_halo_um

            # features, then the class-probability smoothing (Gaussian smooth_um / 2, 4 sigma)
            halo = tissue_halo_um(model) + 2.0 * self.smooth_um
            if self.intact_veto_density > 0:
                from ._intact_nuclei import peak_reach_um
                from ._necrosis_model import INTACT_REGROW_SIGMAS

                # the nucleus contrast and its peaks, the density window (4 sigma), the regrowth, the smoothing
                reach = peak_reach_um()
                if self.intact_model != "none":
                    from ._intact_model import SETTINGS

                    # the model's candidates (peaks closer together) and their feature windows
                    reach = max(reach, peak_reach_um(min_distance_um=SETTINGS["min_distance_um"])
                                + SETTINGS["window_um"])
                halo = max(halo, reach + (4.0 + INTACT_REGROW_SIGMAS) * self.intact_sigma_um + 2.0 * self.smooth_um)
            return halo
        return (3.0 * max(self.density_sigma_um, self.coherence_sigma_um + self.coherence_region_um,
                          self.texture_sigma_um + self.texture_region_um)
                + self.edge_grow_um
                + self.smooth_um * 2.0)

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any]) -> NecrosisParams:
        """Build from a plain mapping; unknown keys are an error."""
        check_known_keys(cls, mapping)
        return cls(**mapping)

    def to_mapping(self) -> dict[str, Any]:
        """Plain JSON-serialisable mapping."""
        return plain_mapping(self)

    def unused_settings(self) -> tuple[str, ...]:
        """Settings these parameters leave unread: the veto's fixed tests when ``intact_model`` is a model.

        The learned intact-vs-ghost call replaces the contrast, surround, fill and extent tests, so a
        result records the model (``intact_model``) and leaves those four out of its configuration.
        """
        return INTACT_FIXED_TESTS if self.intact_model != "none" else ()

    def recorded_mapping(self) -> dict[str, Any]:
        """:meth:`to_mapping` without :meth:`unused_settings`: the configuration a result records."""
        unused = self.unused_settings()
        return {key: value for key, value in self.to_mapping().items() if key not in unused}


@dataclass(frozen=True, slots=True)
class NecrosisCounts:
    """Additive areas, µm²: necrosis and tissue inside the analysed region.

    With a tissue model also ``tumour_um2`` and ``stroma_um2`` (viable tumour and stroma, as
    classed) and ``classified_um2``, the tissue the model classed (0 with the rule-based
    detector, whose tumour / stroma fractions are then undefined).
    """

    necrosis_um2: float = 0.0
    tissue_um2: float = 0.0
    region_um2: float = 0.0
    tumour_um2: float = 0.0
    stroma_um2: float = 0.0
    classified_um2: float = 0.0

    def __add__(self, other: NecrosisCounts) -> NecrosisCounts:
        if not isinstance(other, NecrosisCounts):
            return NotImplemented
        return NecrosisCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __radd__(self, other: object) -> NecrosisCounts:
        if other == 0:
            return self
        return NotImplemented


def necrosis_metrics(counts: NecrosisCounts) -> dict[str, float]:
    """``necrosis_area_mm2``, ``necrosis_fraction_pct`` (of tissue), ``necrosis_tissue_mm2`` (that tissue:
    the necrosis stage's own tissue area, the base of ``necrosis_fraction_pct``; not the tissue mask's
    ``tissue_area_mm2``), ``necrosis_region_pct``, ``tumour_fraction_pct`` and ``stroma_fraction_pct`` (of
    the tissue a tissue model classed); NaN where undefined."""
    def pct(part: float, whole: float) -> float:
        return 100.0 * part / whole if whole > 0 else math.nan

    return {
        "necrosis_area_mm2": counts.necrosis_um2 / 1e6,
        "necrosis_fraction_pct": pct(counts.necrosis_um2, counts.tissue_um2),
        "necrosis_tissue_mm2": counts.tissue_um2 / 1e6,
        "necrosis_region_pct": pct(counts.necrosis_um2, counts.region_um2),
        "tumour_fraction_pct": pct(counts.tumour_um2, counts.classified_um2),
        "stroma_fraction_pct": pct(counts.stroma_um2, counts.classified_um2),
    }
