"""The stains of training images, guessed as ``quantify --stains auto`` guesses a slide's (the tissue thumbnail, and
at low resolution a few full-resolution patches, through :func:`~mmnst_path.stain.guess.guess_stains_detail`), and
whether a model of some named stains fits them: ``mmnst-path train`` reads ``--stains auto`` (its default) through
:func:`training_stains`, and says when named stains are of another family than the images look (an H&E model
trained on Ki67 H-DAB tiles is refused only when it is used, after the lab has trained it)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..errors import ConfigError

__all__ = ["guess_image_stains", "stain_family", "training_stains"]


def guess_image_stains(path: str | os.PathLike[str], *, mpp: float | None = None) -> tuple[str, bool]:
    """(preset name, ambiguous) of the stains of one image, as ``quantify --stains auto`` reads them."""
    from ..io import open_slide
    from ..stain.guess import guess_stains_detail
    from ..stain.places import PATCH_MPP, PLACES_MAX_MPP, tissue_patches
    from ..tiling import detect_tissue
    from ._config import AnalysisConfig

    config = AnalysisConfig()
    with open_slide(path, mpp=mpp) as reader:
        mpp0 = mpp if mpp is not None else reader.mpp
        tissue = detect_tissue(reader, mask_mpp=config.tissue_mpp, params=config.tissue)
        patches = None
        if mpp0 is not None and tissue.mask_mpp is not None and tissue.mask_mpp > PLACES_MAX_MPP:
            patches = tissue_patches(reader, tissue.mask, tissue.scale, mpp0)
        guess = guess_stains_detail(tissue.thumbnail, tissue.mask, mpp=tissue.mask_mpp, patches=patches,
                                    patches_mpp=max(PATCH_MPP, mpp0 or PATCH_MPP))
    return guess.name, bool(guess.ambiguous)


def stain_family(stains: str, kind: str) -> tuple[str, ...]:
    """What a model of ``kind`` learns of ``stains``: a tissue model the family (H&E, IHC: any hematoxylin +
    chromogen), a nucleus model the counterstain and Ki67 chromogen (as a run checks a lab model's stains)."""
    from ..stain import load_stains
    from ._model_stains import _family, _pair

    matrix = load_stains(stains)
    if kind == "nucleus":
        pair = _pair(matrix)
        return pair if pair is not None else _family(matrix)
    return _family(matrix)


def training_stains(stains: str, images: Sequence[str | os.PathLike[str]], mpps: Sequence[float | None], *,
                    kind: str) -> tuple[str, list[str]]:
    """The stains to train a ``kind`` model with and the notes to print.

    ``stains = "auto"``: each image's guess (:func:`guess_image_stains`; a close call is noted); images whose
    guesses a model cannot share (H&E beside H-DAB) are refused, naming each image's guess. Named stains of another
    family than an image's guess give a warning naming both (the guess can be wrong: the named stains are used).
    """
    guesses = [(os.fspath(p), *guess_image_stains(p, mpp=m)) for p, m in zip(images, mpps, strict=True)]
    if str(stains).strip().lower() == "auto":
        notes = [f"{p}: the stains guess {g} is a close call: check it, or name the stains with --stains"
                 for p, g, unsure in guesses if unsure]
        families = {stain_family(g, kind) for _, g, _ in guesses}
        if len(families) > 1:
            listed = ", ".join(f"{os.path.basename(p)} {g}" for p, g, _ in guesses)
            msg = (f"--stains auto: the images look of different stains ({listed}); a model learns one stain's "
                   "features: train one model per stain, or name the stains with --stains")
            raise ConfigError(msg)
        chosen = guesses[0][1]
        return chosen, [*notes, f"stains: {chosen} (guessed from the images, as quantify --stains auto does)"]
    want, notes = stain_family(stains, kind), []
    for p, g, unsure in guesses:
        if stain_family(g, kind) != want and unsure:  # a close call (a pale or empty image): not a finding
            notes.append(f"{p}: its stains guess {g} (a close call) differs from the named {stains}: check the image")
        elif stain_family(g, kind) != want:
            notes.append(f"warning: {p} looks {g} (the guess of quantify --stains auto), not {stains}: a model of "
                         f"{stains} is refused on {g} slides; check the image, or train with --stains {g} (or auto)")
    return stains, notes
