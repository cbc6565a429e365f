"""``train_pigment_model.py --saturated-share`` and ``--meshwork-cytoplasm`` (#14, session 30)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import train_pigment_model as tpm  # noqa: E402

from mmnst_path.classify.pigment import PigmentFeatureSettings  # noqa: E402

NAMES = ["u_r", "u_b", "log_od", "grey"]


def _rows(monkeypatch, **kw):
    monkeypatch.setattr(tpm, "PIGMENT_FAMILIES", ("none",))
    monkeypatch.setitem(tpm.ENDONUKE, "names", NAMES)
    return tpm.generated_rows(range(1000, 1001), PigmentFeatureSettings(), 400, np.random.default_rng(0), 96,
                              chromogens=("dab",), appearances=("varied",), **kw)


def test_saturated_share_keeps_that_share_of_the_saturated_rows_and_every_other_row(monkeypatch):
    x0, _ = _rows(monkeypatch)
    x1, _ = _rows(monkeypatch, saturated=True)
    xh, yh = _rows(monkeypatch, saturated=True, saturated_share=0.25)
    n_sat = len(x1) - len(x0)
    assert len(xh) - len(x0) == round(0.25 * n_sat)
    np.testing.assert_array_equal(xh[: len(x0)], x0)  # the default tile's rows unchanged
    kept = xh[len(x0):]
    full = x1[len(x0):]
    assert {r.tobytes() for r in kept} <= {r.tobytes() for r in full}  # a subset of the saturated rows
    assert not yh.any()
    again, _ = _rows(monkeypatch, saturated=True, saturated_share=0.25)
    np.testing.assert_array_equal(again, xh)  # the draw is a stream of the tile alone


def test_share_draws_in_order_without_replacement():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.zeros(20, np.int64)
    xs, ys = tpm._share(x, y, 0.5, (1000, 0, "varied"))
    assert len(xs) == 10
    assert len(ys) == 10
    assert np.all(np.diff(xs[:, 0]) > 0)  # in their order, no row twice
    other, _ = tpm._share(x, y, 0.5, (1001, 0, "varied"))
    assert not np.array_equal(other, xs)


def _no_fit(*args, **kwargs):
    raise AssertionError("the refused option reached the fit")


def test_saturated_share_out_of_range_is_refused(monkeypatch, capsys):
    # main() sets these module dicts once past the checks, and then fits: keep both out of the test
    for name in ("WHITE_POINT", "ENDONUKE", "FAINT"):
        monkeypatch.setattr(tpm, name, dict(getattr(tpm, name)))
    monkeypatch.setattr(tpm, "generated_rows", _no_fit)
    monkeypatch.setattr(sys, "argv", ["train_pigment_model.py", "--saturated-share", "0"])
    with pytest.raises(SystemExit):
        tpm.main()
    assert "--saturated-share must lie in (0, 1]" in capsys.readouterr().err


def test_meshwork_fills_the_cells_of_positives_with_brown_and_leaves_the_tile(check_brown_paint):
    from scipy import ndimage as ndi

    from mmnst_path._synthetic_pigment import MESHWORK_REACH_UM, meshwork_cytoplasm, meshwork_cytoplasm_of
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(1000, "none", chromogen="dab", size=128, mpp=0.5)
    before = tile.rgb.copy()
    rgb, mesh = meshwork_cytoplasm_of(tile, 1000)
    np.testing.assert_array_equal(tile.rgb, before)  # the tile passed is not modified
    pos = tile.masks["positive_nuclei"]
    assert mesh.any()
    dist = ndi.distance_transform_edt(~pos)  # µm / 0.5 from the nearest positive nucleus
    reach = 2.0 * MESHWORK_REACH_UM[1] / 0.5
    assert not (mesh & (dist > reach + 2)).any()  # within the cells' reach
    far = dist > reach + 4
    np.testing.assert_array_equal(rgb[far], tile.rgb[far])
    np.testing.assert_array_equal(rgb[pos], tile.rgb[pos])  # the nuclei themselves are left
    painted = mesh & ~pos
    check_brown_paint(tile, rgb, painted, meshwork_cytoplasm, meshwork_cytoplasm_of, 1000)
    # a meshwork, not a flat fill: the added density varies strongly inside the painted cells
    od_add = np.log10(np.maximum(tile.rgb[painted, 2], 1) / np.maximum(rgb[painted, 2], 1.0))
    assert od_add.std() > 0.25 * od_add.mean()


def test_pixel_rows_with_meshwork_cytoplasm_add_background_rows(monkeypatch):
    x0, _ = _rows(monkeypatch)
    x1, y1 = _rows(monkeypatch, meshwork=True)
    assert len(x1) > len(x0)
    np.testing.assert_array_equal(x1[: len(x0)], x0)
    assert not y1.any()
    # the added rows are those of the painted tile: the same variant with nothing painted gives other rows
    monkeypatch.setattr(tpm, "meshwork_cytoplasm_of",
                        lambda tile, seed: (tile.rgb, np.zeros(tile.rgb.shape[:2], bool)))
    xu, _ = _rows(monkeypatch, meshwork=True)
    np.testing.assert_array_equal(xu[: len(x0)], x0)
    assert {r.tobytes() for r in x1[len(x0):]} != {r.tobytes() for r in xu[len(x0):]}


def test_flags_are_opt_in_and_named_in_help(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["train_pigment_model.py", "--help"])
    with pytest.raises(SystemExit):
        tpm.main()
    out = capsys.readouterr().out
    assert "--saturated-share" in out
    assert "--meshwork-cytoplasm" in out
