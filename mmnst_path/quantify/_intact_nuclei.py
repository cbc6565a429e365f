"""Intact-nucleus evidence against necrosis: the density of contrasted nuclei embedded in tissue.

A pathologist calls tissue necrotic where its nuclei are gone or reduced to ghosts and fragments:
necrosis is defined by the *absence* of intact nuclei, whatever the colour of the tissue around
them. The tissue classifier sees colour and texture over 2-30 µm; on dense vesicular carcinoma
(large pale nuclei on pale lilac cytoplasm) these look like the ghost cells of the osteosarcoma
necrosis it was trained on. This module counts what tells the two apart, nucleus by nucleus:

1. the hematoxylin (H) and eosin planes of a colour deconvolution, block-averaged to ~1 µm/px
   (``work_um``; finer scans are measured alike);
2. nuclear contrast: H smoothed at nuclear scale (Gaussian ``nucleus_sigma_um``) minus the mean H
   of the *tissue* around it (normalised Gaussian ``surround_sigma_um`` over pixels of total OD >=
   ``tissue_min_od``; glass between cells is not cytoplasm);
3. candidates: local maxima of the contrast within ``min_distance_um`` (one per nucleus);
4. intact: contrast >= ``contrast_od`` (viable nuclei 0.15-0.35 OD at the median, real ghost
   cells and necrotic matrix <= 0.12 at the 90th percentile) and the surround mostly tissue
   (``min_surround_tissue``: a viable nucleus sits in its cytoplasm, >= 0.7 at the 10th
   percentile on the real and generated viable tumour measured; ghost discs floating in a pale
   necrotic field 0.4-0.6) and the stain filling >= ``min_fill`` of a 5 x 5 µm square around the
   peak (a nucleus >= ~4.5 µm across; karyorrhectic fragments and pyknotic dots of 1-3 µm, which
   can be as contrasted at nuclear scale, fill ~0.15-0.45);
5. :func:`intact_density`: intact nuclei per 1000 µm² of tissue on the tissue model's output grid
   (normalised Gaussian ``sigma_um``; viable tumour 1.8-6, real necrosis < 0.1).

:func:`mmnst_path.quantify.necrosis.measure_necrosis` vetoes the model's necrosis on blocks whose
density reaches ``NecrosisParams.intact_veto_density`` (0, the default, disables it; 1.0 is the
calibrated value), on tiles analysed at
<= ``NecrosisParams.intact_max_mpp_um`` only: at 10x the ghost discs of the project's generator read
as contrasted as vesicular carcinoma nuclei and the veto removed true necrosis. The nucleus detector
of :mod:`mmnst_path.detect.nuclei` was tried first: on H&E its foreground (H above the local
background) merges vesicular nuclei with their lilac cytoplasm into large blobs, whose ring contrast
no longer separates viable carcinoma from ghosts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

__all__ = ["IntactNuclei", "intact_density", "nucleus_peaks", "peak_reach_um"]


@dataclass(frozen=True, slots=True, eq=False)
class IntactNuclei:
    """Candidate nuclei of a tile (peaks of nuclear-scale hematoxylin contrast).

    Attributes
    ----------
    row, col : (n,) float64
        Centres in pixels of the analysed tile.
    contrast_od : (n,) float32
        Hematoxylin at the nucleus (Gaussian ``nucleus_sigma_um``) minus the mean hematoxylin of
        the tissue around it (Gaussian ``surround_sigma_um``, glass excluded), log10 OD.
    hematoxylin_od : (n,) float32
        Hematoxylin at the nucleus (Gaussian ``nucleus_sigma_um``), log10 OD.
    surround_tissue : (n,) float32
        Share of tissue pixels in the surround (Gaussian ``surround_sigma_um``): a nucleus of
        viable tissue lies in its cell's cytoplasm; a ghost floating in a pale necrotic field does not.
    fill : (n,) float32
        Share of the square of side ``2 fill_radius_um`` around the peak whose hematoxylin exceeds
        the surround by ``fill_od``: ~1 on a nucleus (>= 5 µm across), <= 0.3 on a karyorrhectic
        fragment or pyknotic dot (1-3 µm), whose contrast at nuclear scale can be as high.
    """

    row: np.ndarray
    col: np.ndarray
    contrast_od: np.ndarray
    hematoxylin_od: np.ndarray
    surround_tissue: np.ndarray
    fill: np.ndarray

    def intact(self, *, contrast_od: float, min_surround_tissue: float = 0.0, min_fill: float = 0.0) -> np.ndarray:
        """(n,) bool: candidates with contrast >= ``contrast_od`` whose surround is tissue by at least
        ``min_surround_tissue`` and whose stain fills at least ``min_fill`` of their square."""
        return ((self.contrast_od >= contrast_od) & (self.surround_tissue >= min_surround_tissue)
                & (self.fill >= min_fill))


def nucleus_peaks(rgb: np.ndarray, *, mpp: float, stains: Any = "H&E", work_um: float = 1.0,
                  nucleus_sigma_um: float = 1.5, surround_sigma_um: float = 5.0, min_distance_um: float = 5.0,
                  tissue_min_od: float = 0.15, min_contrast_od: float = 0.05, fill_radius_um: float = 2.0,
                  fill_od: float = 0.06, od: np.ndarray | None = None) -> IntactNuclei:
    """Candidate nuclei: local maxima of hematoxylin contrast at nuclear scale, on tissue.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        H&E tile at ``mpp`` µm/px.
    mpp : float
    stains : str or StainMatrix
        With a ``hematoxylin`` vector.
    work_um : float
        The optical densities are block-averaged to the coarsest pixel <= this size (µm), so that
        tiles scanned at 0.25-1 µm/px are measured alike (and fast); tissue and the stains are
        computed on that grid.
    nucleus_sigma_um, surround_sigma_um : float
        Gaussians of the nucleus (a 6-10 µm nucleus) and of its surround (µm).
    min_distance_um : float
        A candidate is the maximum of the contrast within this distance (µm).
    tissue_min_od : float
        Tissue pixels: total optical density (log10, norm of the RGB ODs) >= this; the surround is
        the mean over tissue only, so a ghost nucleus beside a cleft does not look contrasted.
    min_contrast_od : float
        Candidates below this contrast are not returned.
    fill_radius_um, fill_od : float
        Half-side (µm) of the square of :attr:`IntactNuclei.fill` and the excess of hematoxylin over
        the surround (log10 OD) that counts as stained there.
    od : (M, N, 3) float ndarray or None
        The optical density of ``rgb`` with the white point of ``stains`` when the caller has it
        already (it is not computed again).

    Returns
    -------
    IntactNuclei
    """
    from ..stain import load_stains, od_from_rgb

    matrix = load_stains(stains)
    f = max(1, int(np.floor(work_um / mpp + 1e-9)))
    if od is None:
        od = od_from_rgb(rgb, background=matrix.background)
    if f > 1:  # block means of the OD (deconvolution is linear in OD: same as block means of the stains)
        m, n = -(-rgb.shape[0] // f) * f, -(-rgb.shape[1] // f) * f
        od = np.pad(od, ((0, m - rgb.shape[0]), (0, n - rgb.shape[1]), (0, 0)), mode="edge")
        od = od.reshape(m // f, f, n // f, f, 3).mean(axis=(1, 3), dtype=np.float32)
    tissue = (np.sqrt((od * od).sum(-1)) >= tissue_min_od).astype(np.float32)
    h = np.maximum(od @ matrix.inverse[:, matrix.index("hematoxylin")].astype(np.float32), 0.0)
    del od
    px = f * mpp
    hs = ndi.gaussian_filter(h, nucleus_sigma_um / px)
    tis_sur = ndi.gaussian_filter(tissue, surround_sigma_um / px)
    sur = ndi.gaussian_filter(h * tissue, surround_sigma_um / px) / np.maximum(tis_sur, 1e-3)
    contrast = hs - sur
    size = 2 * round(min_distance_um / px) + 1
    peak = (contrast == ndi.maximum_filter(contrast, size=size)) & (contrast >= min_contrast_od) & (tissue >= 0.5)
    r, c = np.nonzero(peak)
    side = 2 * round(fill_radius_um / px) + 1
    fill = ndi.uniform_filter(((h - sur) >= fill_od).astype(np.float32), size=side)
    return IntactNuclei((r + 0.5) * f - 0.5, (c + 0.5) * f - 0.5, contrast[r, c].astype(np.float32),
                        hs[r, c].astype(np.float32), tis_sur[r, c].astype(np.float32), fill[r, c])


def peak_reach_um(*, work_um: float = 1.0, surround_sigma_um: float = 5.0, min_distance_um: float = 5.0) -> float:
    """Context (µm) :func:`nucleus_peaks` needs around a point for the same result as on a whole slide."""
    return 4.0 * surround_sigma_um + min_distance_um + 2.0 * work_um


def intact_density(points: np.ndarray, tissue: np.ndarray, *, block_mpp: float, sigma_um: float,
                   factor: int, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Intact nuclei per 1000 µm² of tissue on a block grid (normalised Gaussian density).

    Parameters
    ----------
    points : (k, 2) float ndarray
        (row, col) of the intact nuclei in tile pixels (before any grid padding).
    tissue : (m, n) bool ndarray
        Tissue blocks of the output grid.
    block_mpp : float
        µm per block side.
    sigma_um : float
        Gaussian window (µm).
    factor : int
        Tile pixels per block side.
    offset : (int, int)
        Rows / cols the tile was padded by to align its blocks (``origin mod factor``).

    Returns
    -------
    (m, n) float32 ndarray
        0 where there is no tissue within the window.
    """
    counts = np.zeros(tissue.shape, np.float64)
    if len(points):
        r = np.clip(((points[:, 0] + offset[0]) // factor).astype(np.intp), 0, tissue.shape[0] - 1)
        c = np.clip(((points[:, 1] + offset[1]) // factor).astype(np.intp), 0, tissue.shape[1] - 1)
        np.add.at(counts, (r, c), 1.0)
    w = tissue.astype(np.float64)
    s = sigma_um / block_mpp
    num = ndi.gaussian_filter(counts * w, s, mode="constant")
    den = ndi.gaussian_filter(w, s, mode="constant")
    area = block_mpp * block_mpp
    with np.errstate(invalid="ignore", divide="ignore"):
        dens = np.where(den > 1e-3, num / (den * area) * 1000.0, 0.0)
    return dens.astype(np.float32)
