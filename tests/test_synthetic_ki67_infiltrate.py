"""Generated lymphocyte infiltrates (ki67_cells_tile(lymphocytes="infiltrate")) and the unchanged default."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.synthetic_ki67 import ki67_cells_tile

ROOT = Path(__file__).resolve().parents[1]

# sha256 of the images, masks and truth of ki67_cells_tile before the lymphocytes option (d2d7720)
HEAD_DIGESTS = [
    ((3, {"size": 96}), "ee1b1d4c2b4970858784768c657df1cf55892e0cb108a89256de86b6bec6d983"),
    ((5, {"size": 128, "tumour": "spindle", "grey_share": 0.3}),
     "93b601fbb4a58c0bed83a796de3ccfd82bb0cbe06b84691e8252193efdf67af0"),
    ((11, {"size": 112, "mpp": 0.25, "lymphocyte_density": 6.0}),
     "c91ea05ecbd60d56d5f8286b5a8c2ebc119f0bee0d133ad9cfac573ba59dcbf1"),
]


def _digest(tile) -> str:
    h = hashlib.sha256()
    h.update(tile.rgb.tobytes())
    for k in ("tissue", "nest", "nuclei"):
        h.update(np.ascontiguousarray(tile.masks[k]).tobytes())
    cells = tile.truth["cells"]
    for k in sorted(cells):
        h.update(k.encode())
        h.update(np.ascontiguousarray(cells[k]).tobytes())
    for k in sorted(tile.truth):
        if k != "cells":
            h.update(f"{k}={tile.truth[k]!r}".encode())
    return h.hexdigest()


@pytest.mark.parametrize(("call", "digest"), HEAD_DIGESTS)
def test_default_and_scattered_are_byte_identical_to_earlier_versions(call, digest) -> None:
    seed, kw = call
    assert _digest(ki67_cells_tile(seed, **kw)) == digest
    assert _digest(ki67_cells_tile(seed, **kw, lymphocytes="scattered")) == digest


def _touching_share(tile, which: np.ndarray) -> float:
    """Share of the lymphocytes ``which`` whose visible nucleus touches another lymphocyte's."""
    cells = tile.truth["cells"]
    labels = tile.masks["nuclei"]
    lymph_labels = cells["label"][cells["cell_type"] == "lymphocyte"]
    lab = np.where(np.isin(labels, lymph_labels), labels, 0)
    touching: set[int] = set()
    for here, there in ((lab[1:, :], lab[:-1, :]), (lab[:, 1:], lab[:, :-1]),
                        (lab[1:, 1:], lab[:-1, :-1]), (lab[1:, :-1], lab[:-1, 1:])):
        meet = (here > 0) & (there > 0) & (here != there)
        touching.update(here[meet].tolist())
        touching.update(there[meet].tolist())
    sel = cells["label"][which]
    return float(np.isin(sel, list(touching)).mean()) if sel.size else float("nan")


def test_infiltrate_lymphocytes_touch_in_aggregates_and_the_truth_is_consistent() -> None:
    tile = ki67_cells_tile(3, size=256, lymphocytes="infiltrate")
    t = tile.truth
    cells = t["cells"]
    lymph = cells["cell_type"] == "lymphocyte"
    assert t["lymphocytes"] == "infiltrate"
    assert t["n_lymphocyte"] == int(lymph.sum())
    # the site and the activated flag are given for lymphocytes only
    assert set(cells["lymph_site"][lymph]) <= {"aggregate", "band", "nest_edge", "single"}
    assert (cells["lymph_site"][~lymph] == "").all()
    assert not cells["activated"][~lymph].any()
    assert not cells["cytoplasm_rim"][~lymph].any()
    assert 0 < cells["cytoplasm_rim"][lymph].mean() < 1
    packed = lymph & np.isin(cells["lymph_site"], ("aggregate", "band"))
    assert packed.sum() > 50
    assert _touching_share(tile, packed) > 0.5
    # the lone ones and the default family's never touch one another
    scattered = ki67_cells_tile(3, size=256)
    s_cells = scattered.truth["cells"]
    assert _touching_share(scattered, s_cells["cell_type"] == "lymphocyte") < 0.1
    # the rest of the tile is the default tile of the same seed
    other = ~lymph
    s_other = s_cells["cell_type"] != "lymphocyte"
    for key in ("row", "col", "cell_type", "grade", "dab_od"):
        np.testing.assert_array_equal(cells[key][other], s_cells[key][s_other])
    assert t["ki67_index_pct"] == scattered.truth["ki67_index_pct"]
    # every nucleus keeps most of itself visible (a lymphocyte's core lies on no earlier nucleus)
    labels = tile.masks["nuclei"]
    r = np.rint(cells["row"]).astype(int)
    c = np.rint(cells["col"]).astype(int)
    assert np.mean(labels[r, c] == cells["label"]) > 0.9
    assert np.all(labels[r[other], c[other]] == cells["label"][other])
    # activated lymphocytes are larger than the small ones
    area = np.bincount(labels.ravel(), minlength=len(lymph) + 1)[cells["label"]] * tile.mpp ** 2
    act = lymph & cells["activated"]
    assert act.any()
    assert np.median(area[act]) > 1.4 * np.median(area[lymph & ~cells["activated"]])


def test_infiltrate_positive_share_is_low_except_in_germinal_centres() -> None:
    pos, n, rec = 0, 0, []
    for seed in range(1, 7):
        t = ki67_cells_tile(seed, size=192, lymphocytes="infiltrate").truth
        cells = t["cells"]
        lymph = cells["cell_type"] == "lymphocyte"
        rec.append(t["infiltrate"])
        if t["infiltrate"]["germinal_centres"] == 0:
            pos += int((lymph & (cells["grade"] != "negative")).sum())
            n += int(lymph.sum())
    assert all(0.02 <= r["lymph_positive_fraction"] <= 0.10 for r in rec)
    assert n > 200
    assert 0.01 < pos / n < 0.15


def test_infiltrate_is_reproducible_and_differs_between_seeds() -> None:
    a = ki67_cells_tile(8, size=128, lymphocytes="infiltrate")
    b = ki67_cells_tile(8, size=128, lymphocytes="infiltrate")
    c = ki67_cells_tile(9, size=128, lymphocytes="infiltrate")
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    assert _digest(a) != _digest(ki67_cells_tile(8, size=128))


def test_unknown_lymphocyte_family_is_refused() -> None:
    with pytest.raises(ValueError, match="lymphocytes must be"):
        ki67_cells_tile(0, size=64, lymphocytes="clustered")


def test_eval_ki67_cells_reports_the_infiltrate_sites(capsys) -> None:
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    import eval_ki67_cells

    assert eval_ki67_cells.main(["--seeds", "1", "--first", "3", "--size", "160", "--lymphocytes", "infiltrate"]) == 0
    out = capsys.readouterr().out
    assert "  aggregate" in out or "  band" in out
    assert "lymphocyte" in out
