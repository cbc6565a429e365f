"""The reason of an AzureB-DAB guess says what was measured (issue #14, session 43 H11; walk defect 11 of session 43
H7): the shares of tissue pixels in the blue and the green-blue angle band, and the white they were measured
against. Under a tint with no glass seen, azure B nuclei fall in the green-blue band: the text must not call that
band melanin alone, nor the empty blue band "azure B counterstain on 0.0 %"."""

from __future__ import annotations

from mmnst_path.stain import guess as guess_module
from mmnst_path.stain._stain_guess import TINT_SPREAD, _azure_reason

_BANDS = {"counter_deg": guess_module.AZURE_COUNTER_DEG, "teal_deg": guess_module.TEAL_DEG,
          "limits": (guess_module.AZURE_COUNTER_SHARE, guess_module.TEAL_SHARE)}


def test_the_reason_names_the_bands_the_shares_and_the_glass():
    text = _azure_reason(0.042, 0.013, glass=True, own_white=None, **_BANDS)
    assert text.startswith("blue of azure B (residual at +100 to +160° from DAB) on 4.2 %")
    assert "green-blue (+35 to +100°: azure-B-bound melanin) on 1.3 % of the tissue" in text
    assert "against the glass's white" in text
    assert text.endswith("(azure B from 3 % / 5 %)")
    assert "counterstain on" not in text


def test_a_tinted_image_without_glass_names_azure_b_nuclei_in_the_green_blue_band():
    tinted = _azure_reason(0.0, 0.328, glass=False, own_white=(239.0, 242.0, 212.0), **_BANDS)
    assert "azure-B-bound melanin, or azure B nuclei under the yellowish tint) on 32.8 %" in tinted
    assert "against pure white (no glass seen; the image's own white (239, 242, 212) is tinted)" in tinted
    grey = 250.0 - TINT_SPREAD + 1.0
    neutral = _azure_reason(0.0, 0.328, glass=False, own_white=(250.0, 250.0, grey), **_BANDS)
    assert "under the" not in neutral
    assert "against pure white (no glass seen)" in neutral
    assert "under the" not in _azure_reason(0.1, 0.0, glass=False, own_white=(255.0, 255.0, 255.0), **_BANDS)
    for other in ((212.0, 236.0, 250.0), (250.0, 214.0, 236.0)):  # bluish, pinkish: a tint, not the nuclei's
        text = _azure_reason(0.0, 0.328, glass=False, own_white=other, **_BANDS)
        assert "is tinted)" in text
        assert "azure B nuclei" not in text


def test_the_walk_tile_whose_nuclei_are_all_azure_b_is_told_truly(guess_on_thumbnail):
    """Session 43 H7's ``p3_azure_whole_cell`` (azure B, whole-cell melanin, seed 42005, 512 px): a yellowish tile
    with no glass seen; 0.0 % of its tissue in the blue band, 32.8 % in the green-blue band. Before: "azure B
    counterstain on 0.0 % and green-blue melanin on 32.8 % of the tissue"."""
    from mmnst_path.synthetic_azure import azure_b_tile

    t = azure_b_tile(42005, "whole_cell", size=512)
    g = guess_on_thumbnail(t.rgb, t.mpp)
    assert g.name == "AzureB-DAB"
    assert "azure B nuclei under the yellowish tint" in g.reason
    assert "no glass seen" in g.reason
    assert "green-blue melanin on" not in g.reason
