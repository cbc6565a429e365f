"""Re-rendering of H&E training images as hematoxylin-chromogen IHC for the nucleus model
(``scripts/train_nucleus_model.py``; split from it in session 34, unchanged).

:func:`restain_as_ihc` keeps an H&E image's hematoxylin (its nuclei, real shapes and classes) and paints a
chromogen into random nuclei of every class, so the cell classifier learns classes from shape, texture
and context whatever the Ki67 stain. Units: ``MPP`` µm/px (the training resolution), ``MATCH_UM`` µm.
"""

from __future__ import annotations

import numpy as np

from mmnst_path.classify.train import match_points

MATCH_UM = 4.0
MPP = 0.5

POSITIVE_RATE = {0: 0.4, 1: 0.1, 2: 0.08}  # by class index; unmatched detections 0.2 (model 1.0.0)


CHROMOGEN_PRESETS = {"dab": "H-DAB", "aec": "H-AEC", "fast_red": "H-FastRed"}


def restain_as_ihc(rgb: np.ndarray, points_rc: np.ndarray, point_cls: np.ndarray,
                   rng: np.random.Generator, positive_rate: float | None = None,
                   hem_masking: float = 0.0, dab_core_um: float = 0.0,
                   chromogen: str = "dab") -> np.ndarray:
    """Re-render an H&E image as a hematoxylin-DAB (Ki67-like) IHC image with random positives.

    The hematoxylin concentration of the H&E image is kept (its nuclei, with their real shapes and
    classes); eosin is reduced to a faint counterstain tint; DAB is painted into a random subset of
    the nuclei of every class (tumour more often), at intensities from faint (0.1 OD) to saturated
    (2 OD), sometimes spilling into the cytoplasm; stain vectors are rotated by up to 6°, and
    the optics (blur, noise, white balance, JPEG) randomised. So the classifier learns cell classes
    from shape, texture and context whatever the DAB, as in Ki67 slides, from redistributable
    H&E labels.

    ``positive_rate``: the share of the nuclei painted positive, the same for every class (so
    positivity carries no class information); None: :data:`POSITIVE_RATE` (tumour more often, the
    recipe of model 1.0.0).

    ``hem_masking``: up to this share of a positive nucleus' hematoxylin is removed, more the darker
    its DAB (a dense chromogen hides the counterstain, and colour deconvolution then reads little
    hematoxylin there); 0 keeps the hematoxylin whole (model 1.1.0). With 0 nothing is drawn, so the
    images are those of model 1.1.0.

    ``dab_core_um`` (µm, label-preserving chromogen augmentation): each positive nucleus' chromogen
    is confined to the pixels at least ``U(0, dab_core_um)`` µm inside its outline, with a
    hematoxylin-only rim outside it, so the detector (which outlines at a fraction of each nucleus'
    peak of hematoxylin + chromogen) may draw a positive tighter than a negative of the same cell;
    with 0 the chromogen fills the whole nucleus and nothing is drawn (model 1.1.0).

    ``chromogen``: the chromogen's colour, a key of :data:`CHROMOGEN_PRESETS` (``"dab"``: model
    1.1.0; ``"aec"``, ``"fast_red"``: red chromogens, the vector of that preset, perturbed as DAB's
    is); separate the image with the matching preset.
    """
    if chromogen not in CHROMOGEN_PRESETS:
        msg = f"restain_as_ihc: chromogen must be one of {sorted(CHROMOGEN_PRESETS)}, got {chromogen!r}"
        raise ValueError(msg)
    from scipy import ndimage as ndi

    from mmnst_path.detect.nuclei import nuclei_from_stains
    from mmnst_path.stain import get_preset, separate_stains
    from mmnst_path.synthetic import _render, perturb_vector

    he = get_preset("H&E")
    conc = np.maximum(separate_stains(rgb, he, stains=("hematoxylin", "eosin")), 0.0)
    hem, eos = conc[..., 0], conc[..., 1]
    nuc = nuclei_from_stains(hem, np.zeros_like(hem), mpp=MPP, return_labels=True)
    labels = ndi.grey_dilation(nuc.labels, size=3)  # the contour sits inside the stained edge
    n = len(nuc)
    cls_of = np.full(n + 1, -1)
    if n:
        d, a = match_points(np.c_[nuc.row, nuc.col], points_rc, MATCH_UM / MPP)
        cls_of[d + 1] = point_cls[a]
    if positive_rate is None:
        rate = np.array([POSITIVE_RATE.get(int(c), 0.2) for c in cls_of])
    else:
        rate = np.full(n + 1, float(positive_rate))
    positive = rng.random(n + 1) < rate
    positive[0] = False
    level = np.exp(rng.uniform(np.log(0.1), np.log(2.0), n + 1)) * positive
    texture = 1.0 + 0.25 * ndi.gaussian_filter(rng.normal(size=hem.shape), 1.5) / 0.1
    dab = level[labels] * np.clip(texture, 0.3, 2.0)
    if dab_core_um > 0:  # chromogen in the nucleus' core only: a hematoxylin rim of 0..dab_core_um
        dab *= _core_weight(labels, rng.uniform(0.0, dab_core_um / MPP, n + 1))
    spill = positive & (rng.random(n + 1) < 0.3)
    if spill.any():
        grown = ndi.grey_dilation(np.where(spill[labels], labels, 0), size=int(rng.integers(5, 11)))
        ring = (grown > 0) & (labels == 0)
        dab[ring] += (level * rng.uniform(0.1, 0.35, n + 1))[grown[ring]]
    dab = ndi.gaussian_filter(dab, 0.7) + rng.uniform(0.0, 0.04)
    # IHC counterstain is light outside nuclei (H&E's stroma and cytoplasm leak into its
    # hematoxylin plane): keep nuclear hematoxylin, damp the rest
    inside = ndi.gaussian_filter((labels > 0).astype(np.float32), 1.0)
    hem = hem * (inside + (1.0 - inside) * rng.uniform(0.2, 0.5))
    if hem_masking > 0:
        hidden = hem_masking * rng.uniform(0.3, 1.0, n + 1) * np.minimum(level / 1.0, 1.0)
        hem = hem * (1.0 - ndi.gaussian_filter(hidden[labels].astype(np.float32), 0.7))
    k_h = rng.uniform(0.6, 1.4)
    vectors = [perturb_vector(he.vectors[0], rng.uniform(0, 6), rng),
               perturb_vector(get_preset(CHROMOGEN_PRESETS[chromogen]).vectors[1], rng.uniform(0, 6), rng),
               perturb_vector(he.vectors[1], rng.uniform(0, 6), rng)]
    quality = int(rng.integers(60, 96)) if rng.random() < 0.7 else None
    return _render([hem * k_h, dab.astype(np.float32), eos * rng.uniform(0.0, 0.15)], vectors, rng,
                   blur_px=float(rng.uniform(0.2, 0.9)), jpeg_quality=quality)


def _core_weight(labels: np.ndarray, depth_px: np.ndarray) -> np.ndarray:
    """Per pixel 0..1: how far a labelled pixel lies beyond ``depth_px[label]`` pixels inside the
    outline of its own nucleus (a soft 1-pixel step; touching nuclei are separated at their
    common boundary). 0 outside the nuclei."""
    from scipy import ndimage as ndi

    grown = ndi.grey_dilation(labels, size=3)
    shrunk = ndi.grey_erosion(labels, size=3)
    interior = (labels > 0) & (grown == labels) & (shrunk == labels)
    depth = ndi.distance_transform_edt(interior) + 0.5  # px from the nucleus' edge
    return (np.clip(depth - depth_px[labels] + 0.5, 0.0, 1.0) * (labels > 0)).astype(np.float32)
