"""Near-black nuclei that no detected pigment vouches for (issue #14, ``Ki67Params.near_black``).

With an empty pigment mask neither the context step nor the pigment prior can decide a
near-black body: by default it is read by its DAB, and only a lesion the user declares pigmented
(``near_black="pigment"``) makes every near-black nucleus unassessable.
"""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.errors import ConfigError
from mmnst_path.quantify.ki67 import Ki67Params, measure_ki67
from mmnst_path.stain import od_from_rgb
from mmnst_path.synthetic import pigment_family_tile


def _near_black_share(tile, cells) -> np.ndarray:
    """Share of near-black pixels (OD >= 1 in every channel) of the truth nucleus under each cell."""
    lab = tile.masks["nuclei"]
    n = int(lab.max())
    area = np.maximum(np.bincount(lab.ravel(), minlength=n + 1), 1)
    dark = (od_from_rgb(tile.rgb).min(axis=-1) >= 1.0).ravel()
    share = np.bincount(lab.ravel(), dark, minlength=n + 1) / area
    share[0] = 0.0
    r = np.clip(np.rint(cells.row).astype(int), 0, lab.shape[0] - 1)
    c = np.clip(np.rint(cells.col).astype(int), 0, lab.shape[1] - 1)
    return share[lab[r, c]]


def _run(tile, params: Ki67Params):
    empty = np.zeros(tile.rgb.shape[:2], bool)  # no granule found anywhere: the case at hand
    return measure_ki67(tile.rgb, mpp=tile.mpp, stains="H-DAB", pigment_mask=empty, params=params,
                        return_labels=True)


def _own_share(tile, region) -> np.ndarray:
    """Near-black share of each detected nucleus's own pixels."""
    lab = region.labels
    n = len(region.cells.cls)
    area = np.maximum(np.bincount(lab.ravel(), minlength=n + 1), 1)
    dark = (od_from_rgb(tile.rgb).min(axis=-1) >= 1.0).ravel()
    return (np.bincount(lab.ravel(), dark, minlength=n + 1) / area)[1:]


@pytest.mark.parametrize("seed", [1000, 1002])
def test_declared_pigmented_lesion_makes_ungranulated_near_black_nuclei_unassessable(seed: int) -> None:
    tile = pigment_family_tile(seed, "confluent", near_black=True, size=192)
    auto = _run(tile, Ki67Params(pigment_cell_model="none"))  # the near-black rule alone (no pigment-cell model)
    black = _near_black_share(tile, auto.cells) >= 0.75
    assert black.sum() >= 3  # black sheets over nuclei
    # default: nothing vouches for melanin, so the black bodies are read by their DAB (positive)
    assert (auto.cells.cls[black] == "positive").sum() >= black.sum() // 2
    assert not (auto.cells.cls == "pigment").any()
    declared = _run(tile, Ki67Params(near_black="pigment", pigment_cell_model="none"))
    np.testing.assert_array_equal(declared.labels, auto.labels)  # the same nuclei
    assert (declared.cells.cls[black] == "pigment").all()
    # exactly the nuclei at least half near-black turn unassessable; the others keep their class
    own = _own_share(tile, declared)
    np.testing.assert_array_equal(declared.cells.cls == "pigment", own >= 0.5)
    keep = own < 0.5
    np.testing.assert_array_equal(declared.cells.cls[keep], auto.cells.cls[keep])
    assert declared.counts.positive < auto.counts.positive


def test_declared_pigmented_lesion_changes_nothing_without_near_black() -> None:
    tile = pigment_family_tile(3, "coarse", size=192)  # granular pigment, nothing saturated
    assert (od_from_rgb(tile.rgb).min(axis=-1) >= 1.0).mean() < 0.01
    mask = tile.masks["melanin"]
    a = measure_ki67(tile.rgb, mpp=tile.mpp, stains="H-DAB", pigment_mask=mask,
                     params=Ki67Params(pigment_cell_model="none"))
    b = measure_ki67(tile.rgb, mpp=tile.mpp, stains="H-DAB", pigment_mask=mask,
                     params=Ki67Params(near_black="pigment", pigment_cell_model="none"))
    np.testing.assert_array_equal(a.cells.cls, b.cells.cls)


def test_near_black_is_checked() -> None:
    with pytest.raises(ConfigError, match="near_black"):
        Ki67Params(near_black="melanin")


def test_real_near_black_dab_positives_stay_positive_by_default(shared_data) -> None:
    """BCData ``2.png`` (breast carcinoma, no melanin): strong DAB positives reach every channel's
    floor, so a near-black nucleus is not melanin by itself; the default reads them positive and
    only a declared pigmented lesion makes them unassessable (why ``near_black`` is not
    ``"pigment"`` by default)."""
    from PIL import Image

    from mmnst_path.io._resample import resize_area

    folder = shared_data / "ki67" / "bcdata"
    big = np.asarray(Image.open(folder / "2.png").convert("RGB"))
    factor = 0.25 / 0.5  # BCData is a 40x scan (benchmarks/datasets.toml); analysed at 0.5 µm/px
    rgb = resize_area(big, (round(big.shape[0] * factor), round(big.shape[1] * factor)))
    empty = np.zeros(rgb.shape[:2], bool)
    runs = {mode: measure_ki67(rgb, mpp=0.5, stains="H-DAB", pigment_mask=empty, return_labels=True,
                               params=Ki67Params(near_black=mode)) for mode in ("auto", "pigment")}
    lab = runs["auto"].labels
    n = len(runs["auto"].cells.cls)
    dark = (od_from_rgb(rgb).min(axis=-1) >= 1.0).ravel()
    share = (np.bincount(lab.ravel(), dark, minlength=n + 1) / np.maximum(np.bincount(lab.ravel(), minlength=n + 1), 1))[1:]
    black = share >= 0.5
    assert black.sum() >= 20  # a third of this tile's positives are near-black
    assert (runs["auto"].cells.cls[black] == "positive").mean() >= 0.9
    assert not (runs["auto"].cells.cls == "pigment").any()
    assert (runs["pigment"].cells.cls[black] == "pigment").all()
