"""Names, units and descriptions of the tissue feature columns (:func:`tissue_feature_specs`), in the order
:func:`mmnst_path.classify.tissue_features.features_from_base` computes them; the columns themselves are described
in that module's doc. A model file stores these specs, so a model can check that its columns are the ones computed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import FeatureSpec

if TYPE_CHECKING:
    from .tissue_features import TissueFeatureSettings

__all__ = ["tissue_feature_specs"]


def _fmt(v: float) -> str:
    return f"{v:g}"


_COLOUR = (("log_od", "log10(OD)", "log10 of the total OD"), ("od_red", "", "OD_R / total OD"),
           ("od_blue", "", "OD_B / total OD"), ("h_share", "", "H / (H + E)"),
           ("white", "", "fraction of glass-white pixels"))
_TEXTURE = (("h_cv", "", "coefficient of variation of H"), ("e_cv", "", "coefficient of variation of eosin"),
            ("od_sd", "log10(OD)", "std of the log total OD"))


def tissue_feature_specs(settings: TissueFeatureSettings) -> list[FeatureSpec]:
    """Names, units and descriptions of the feature columns, in order (see the module doc)."""
    st = settings
    t0, t1 = st.texture_um
    s1 = st.sigmas_um[0]
    specs = [FeatureSpec(f"{n}_s{_fmt(st.fine_um)}", u, f"{d}, Gaussian mean at {st.fine_um} µm") for n, u, d in _COLOUR]
    specs += [FeatureSpec(f"{n}_t{_fmt(t0)}", u, f"{d} over {t0} µm") for n, u, d in _TEXTURE]
    specs += [
        FeatureSpec("h_micro_cv", "", f"coefficient of variation of H on the {st.micro_um} µm grid over {st.fine_um} µm"),
        FeatureSpec("e_micro_cv", "", f"coefficient of variation of eosin on the {st.micro_um} µm grid over "
                                      f"{st.fine_um} µm"),
        FeatureSpec("blob", "", f"scale-normalised LoG of H at {st.blob_um} µm / local mean H"),
        FeatureSpec("fibre_coherence", "", f"eosin orientation coherence, structure tensor (derivative {st.micro_um} "
                                           f"µm, integration {st.fibre_um} µm)"),
        FeatureSpec("fibre_energy", "1/µm", f"eosin gradient magnitude at {st.micro_um} µm / mean eosin, over "
                                             f"{st.fibre_um} µm"),
        FeatureSpec("nucleus_coherence", "", f"H orientation coherence, structure tensor (derivative {st.micro_um} µm, "
                                             f"integration {st.nucleus_um} µm)"),
        FeatureSpec("edge", "log10(OD)/µm", f"gradient magnitude of the log total OD at {st.fine_um} µm"),
    ]
    for s in st.sigmas_um:
        specs += [FeatureSpec(f"{n}_s{_fmt(s)}", u, f"{d}, Gaussian mean at {s} µm") for n, u, d in _COLOUR]
    specs += [FeatureSpec(f"{n}_t{_fmt(t1)}", u, f"{d} over {t1} µm") for n, u, d in _TEXTURE]
    for s in (*st.sigmas_um, st.context_um):
        specs.append(FeatureSpec(f"blob_density_s{_fmt(s)}", "", f"positive blob response averaged at {s} µm"))
    specs += [
        FeatureSpec(f"fibre_coherence_s{_fmt(s1)}", "", f"fibre coherence averaged at {s1} µm"),
        FeatureSpec(f"fibre_energy_s{_fmt(s1)}", "1/µm", f"fibre energy averaged at {s1} µm"),
        FeatureSpec(f"nucleus_coherence_s{_fmt(s1)}", "", f"nucleus coherence averaged at {s1} µm"),
        FeatureSpec(f"log_od_s{_fmt(st.context_um)}", "log10(OD)", f"log10 of the total OD at {st.context_um} µm"),
        FeatureSpec(f"h_share_s{_fmt(st.context_um)}", "", f"H / (H + E) at {st.context_um} µm"),
    ]
    if st.relative_level:
        specs = _relative_level_specs(specs, st)
    if st.image_reference:
        specs = [FeatureSpec(f"log_od_ref_s{sp.name[len('log_od_s'):]}", sp.unit, f"{sp.description}, minus the "
                             "image reference level (the slide's median tissue log10 OD)")
                 if sp.name.startswith("log_od_s") else sp for sp in specs]
    if st.nuclear_detail:
        for s in (st.fine_um, *st.sigmas_um):
            specs += [FeatureSpec(f"nuc_h_share_s{_fmt(s)}", "", f"H share of the nuclear excess (H above its "
                                                                 f"{st.ring_um} µm mean) at {s} µm"),
                      FeatureSpec(f"nuc_contrast_s{_fmt(s)}", "", f"nuclear excess of H / mean H at {s} µm")]
        specs += [FeatureSpec("h_energy", "1/µm", f"H gradient magnitude at {st.micro_um} µm / mean H, over "
                                                  f"{st.nucleus_um} µm"),
                  FeatureSpec(f"h_energy_s{_fmt(s1)}", "1/µm", f"H energy averaged at {s1} µm")]
    if st.nuclear_morphology:
        specs += _morphology_specs(st)
    return specs


def _morphology_specs(st: TissueFeatureSettings) -> list[FeatureSpec]:
    """The ``nuclear_morphology`` columns (module doc), in the order :func:`_morphology_features` makes them."""
    small, large = _fmt(st.small_nucleus_um), _fmt(st.large_nucleus_um)
    specs = []
    for s in (st.fine_um, *st.sigmas_um):
        specs += [FeatureSpec(f"nm_small_s{_fmt(s)}", "", f"blob response of H at {small} µm (scale-normalised, / "
                                                          f"local mean H over {_fmt(st.ring_um)} µm) at {s} µm"),
                  FeatureSpec(f"nm_large_s{_fmt(s)}", "", f"blob response of H at {large} µm at {s} µm")]
    for s in st.sigmas_um:
        specs += [FeatureSpec(f"nm_size_s{_fmt(s)}", "", f"large / (small + large) blob response at {s} µm"),
                  FeatureSpec(f"nm_round_s{_fmt(s)}", "", f"round / ridge Hessian response of H at {small} µm, "
                                                          f"at {s} µm")]
    a, s1 = _fmt(st.align_um), st.sigmas_um[0]
    specs += [FeatureSpec(f"h_align_s{a}", "", f"coherence of the H structure tensor averaged over {a} µm"),
              FeatureSpec(f"e_align_s{a}", "", f"coherence of the eosin structure tensor averaged over {a} µm"),
              FeatureSpec(f"h_rel_s{_fmt(s1)}", "", f"mean H at {s1} µm / mean H at {_fmt(st.context_um)} µm"),
              FeatureSpec(f"e_rel_s{_fmt(s1)}", "", f"mean eosin at {s1} µm / mean eosin at {_fmt(st.context_um)} µm")]
    return specs


def _relative_level_specs(specs: list[FeatureSpec], st: TissueFeatureSettings) -> list[FeatureSpec]:
    """The default columns with ``relative_level``: each ``log_od_s{S}`` (S the fine scale and the sigmas)
    becomes ``log_od_rel_s{S}``, minus the level at ``context_um``; ``log_od_s{context}`` is left out."""
    ctx = f"log_od_s{_fmt(st.context_um)}"
    out = []
    for spec in specs:
        if spec.name == ctx:
            continue
        if spec.name.startswith("log_od_s"):
            scale = spec.name[len("log_od_s"):]
            spec = FeatureSpec(f"log_od_rel_s{scale}", "log10(OD)",
                               f"log10 of the total OD at {scale} µm minus that at {_fmt(st.context_um)} µm")
        out.append(spec)
    return out
