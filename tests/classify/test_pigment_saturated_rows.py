"""``train_pigment_model.py --saturated-positives``: near-black Ki67 positives as negatives (#14, session 29)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import train_pigment_model as tpm  # noqa: E402

from mmnst_path.classify.pigment import PigmentFeatureSettings, resolve_pigment_model  # noqa: E402
from mmnst_path.detect.pigment import PigmentParams  # noqa: E402

NAMES = ["u_r", "u_b", "log_od", "grey"]


def _rows(monkeypatch, saturated: bool):
    monkeypatch.setattr(tpm, "PIGMENT_FAMILIES", ("none",))
    monkeypatch.setitem(tpm.ENDONUKE, "names", NAMES)
    return tpm.generated_rows(range(1000, 1001), PigmentFeatureSettings(), 400, np.random.default_rng(0), 96,
                              chromogens=("dab",), appearances=("varied",), saturated=saturated)


def test_pixel_rows_add_the_saturated_tile_as_background_after_the_default_rows(monkeypatch):
    x0, _ = _rows(monkeypatch, False)
    x1, y1 = _rows(monkeypatch, True)
    assert len(x1) > len(x0)
    np.testing.assert_array_equal(x1[: len(x0)], x0)  # the default tile's rows come first, unchanged
    assert not y1.any()  # no melanin is added: every saturated positive is a negative
    extra = x1[len(x0):]
    assert extra[:, NAMES.index("log_od")].max() > x0[:, NAMES.index("log_od")].max()  # darker than any default row


def test_body_rows_add_round_black_dab_bodies_labelled_dab():
    model = resolve_pigment_model("dab")
    args = (range(1000, 1001), model, PigmentParams(), 128)
    x0, _ = tpm.body_rows(*args, families=("none",), appearances=("varied",))
    x1, y1 = tpm.body_rows(*args, families=("none",), appearances=("varied",), saturated=True)
    assert len(x1) > len(x0)
    np.testing.assert_array_equal(x1[: len(x0)], x0)
    assert not y1[len(x0):].any()
    # the extra tile is the saturated rendering, not the same tile again (same seed and family)
    extra = x1[len(x0):]
    assert extra.shape != x0.shape or not np.array_equal(extra, x0)


def test_flag_is_opt_in_and_named_in_help(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["train_pigment_model.py", "--help"])
    try:
        tpm.main()
    except SystemExit:
        pass
    assert "--saturated-positives" in capsys.readouterr().out


def test_granular_cytoplasm_paints_brown_granules_only_around_positives_and_leaves_the_tile(check_brown_paint):
    from scipy import ndimage as ndi

    from mmnst_path._synthetic_pigment import granular_cytoplasm, granular_cytoplasm_of
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(1000, "none", chromogen="dab", size=128, mpp=0.5, saturated_positives=True)
    before = tile.rgb.copy()
    rgb, spill = granular_cytoplasm_of(tile, 1000)
    np.testing.assert_array_equal(tile.rgb, before)  # the tile passed is not modified
    pos = tile.masks["positive_nuclei"]
    assert spill.any()
    assert not (spill & ~ndi.binary_dilation(pos, iterations=round(4.0 / 0.5) + 1)).any()  # within the ring
    far = ~ndi.binary_dilation(pos, iterations=round(4.0 / 0.5) + 2)
    np.testing.assert_array_equal(rgb[far], tile.rgb[far])
    painted = spill & ~pos
    check_brown_paint(tile, rgb, painted, granular_cytoplasm, granular_cytoplasm_of, 1000)


def test_pixel_rows_with_granular_cytoplasm_add_background_rows(monkeypatch):
    x0, _ = _rows(monkeypatch, True)
    monkeypatch.setattr(tpm, "PIGMENT_FAMILIES", ("none",))
    x1, y1 = tpm.generated_rows(range(1000, 1001), PigmentFeatureSettings(), 400, np.random.default_rng(0), 96,
                                chromogens=("dab",), appearances=("varied",), saturated=True, granular=True)
    assert len(x1) > len(x0)
    np.testing.assert_array_equal(x1[: len(x0)], x0)
    assert not y1.any()
