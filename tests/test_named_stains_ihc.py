"""The named-stains check within IHC (session 43 H8, H7's walk #1 / #2): another chromogen, counterstain or double
stain than the stains named warns (in the API too: the warning reaches ``SlideResult.warnings``);
a close call with the stains named among its candidates, or a preset that differs only by its melanin vector, does
not."""

from __future__ import annotations

import csv
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import tifffile

from mmnst_path.cli import main
from mmnst_path.pipeline import AnalysisConfig, _stain_check, analyze_region
from mmnst_path.pipeline._stain_check import check_named_stains, stain_family
from mmnst_path.stain import get_preset
from mmnst_path.synthetic import pigment_family_tile
from mmnst_path.synthetic_azure import azure_b_tile


@pytest.fixture(scope="module")
def fast_red() -> object:
    return pigment_family_tile(2, "coarse", chromogen="fast_red", size=256).rgb  # read H-FastRed, no close call


def _run(rgb: object, **config: object) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = analyze_region(rgb, AnalysisConfig(measures=("melanin",), **config), mpp=0.5)  # type: ignore[arg-type]
    return r, [str(w.message) for w in caught if "stains named" in str(w.message)]


def test_stain_family_drops_melanin() -> None:
    assert stain_family(get_preset("H-DAB-melanin").names) == stain_family(get_preset("H-DAB").names)
    assert stain_family(get_preset("H-AEC-melanin").names) == {"hematoxylin", "aec"}
    assert stain_family(get_preset("H-DAB-FastRed").names) != stain_family(get_preset("H-FastRed").names)


def test_api_named_h_dab_on_fast_red_warns_and_keeps_it(fast_red: object) -> None:
    r, said = _run(fast_red, stains="H-DAB")  # the API's default until session 44 (now auto)
    check = r.stains["named_check"]
    assert check["contradicts"] is True
    assert check["axis"] == "IHC"
    assert check["guess"] == "H-FastRed"
    assert len(said) == 1
    assert "stains named H-DAB, but the image reads as H-FastRed" in said[0]
    assert "stains='auto'" in said[0]
    assert any("stains named H-DAB" in w for w in r.warnings)  # kept on the result, not only issued


@pytest.mark.parametrize(("named", "why"), [("H-DAB-FastRed", "melanocyte-restricted index"),
                                            ("H-AEC", "another chromogen's vector")])
def test_other_red_or_a_double_stain_named_warns(fast_red: object, named: str, why: str) -> None:
    r, said = _run(fast_red, stains=named)
    assert r.stains["named_check"]["contradicts"] is True
    assert len(said) == 1
    assert why in said[0]


@pytest.mark.parametrize("named", ["H-FastRed", "H-FastRed-melanin"])
def test_right_name_or_melanin_variant_does_not_warn(fast_red: object, named: str) -> None:
    r, said = _run(fast_red, stains=named)
    assert r.stains["named_check"]["contradicts"] is False
    assert said == []
    assert not any("stains named" in w for w in r.warnings)


def test_azure_b_named_h_dab_warns_in_the_row(tmp_path: Path) -> None:
    tif = tmp_path / "azure.tif"
    tifffile.imwrite(tif, azure_b_tile(1, "whole_cell", size=256).rgb, photometric="rgb",
                     resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    out = tmp_path / "out"
    assert main(["quantify", str(tif), "--out", str(out), "--workers", "1", "--stains", "H-DAB", "--measures",
                 "melanin", "--quiet"]) == 0  # analysed as named: the user may be right
    row = next(csv.DictReader((out / "summary.csv").open()))
    assert row["status"] == "ok"
    assert "stains named H-DAB, but the image reads as AzureB-DAB" in row["warnings"]
    assert "counterstain" in row["warnings"]


def test_a_close_call_with_the_stains_named_does_not_warn(fast_red: object, monkeypatch: pytest.MonkeyPatch) -> None:
    # a close call one of whose candidates is the protocol named (here H-DAB) is the user's call; one
    # both of whose candidates lie outside it warns (test_named_double_stain_close_call.py)
    from mmnst_path.stain import guess as guess_module

    real = guess_module.guess_stains_detail

    def close(*args: object, **kwargs: object) -> object:
        return replace(real(*args, **kwargs), ambiguous=True, alternative="H-DAB")  # type: ignore[arg-type]

    monkeypatch.setattr(guess_module, "guess_stains_detail", close)
    r, said = _run(fast_red, stains="H-DAB")
    assert r.stains["named_check"] == {**r.stains["named_check"], "guess": "H-FastRed", "ambiguous": True,
                                       "contradicts": False}
    assert said == []


def test_a_coarse_thumbnail_looks_at_patches_before_it_warns(fast_red: object,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """On a slide's thumbnail (too coarse to see where the chromogen sits) the contradiction is looked at again on
    fine patches, as ``auto`` reads them; a patch guess that agrees with the stains named says nothing."""
    from mmnst_path.io import ArrayReader
    from mmnst_path.stain import guess as guess_module
    from mmnst_path.tiling import detect_tissue

    reader = ArrayReader(fast_red, mpp=0.5)
    tissue = replace(detect_tissue(reader, mask_mpp=8.0), mask_mpp=4.0)  # as a slide's coarse thumbnail
    real = guess_module.guess_stains_detail
    calls: list[bool] = []

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(bool(kwargs.get("patches")))
        g = real(*args, **kwargs)  # type: ignore[arg-type]
        return replace(g, name="H-DAB-FastRed") if kwargs.get("patches") else replace(g, name="H-FastRed",
                                                                                     ambiguous=False)

    monkeypatch.setattr(guess_module, "guess_stains_detail", spy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check = check_named_stains(tissue, get_preset("H-DAB-FastRed"), source="s", reader=reader, mpp0=0.5)
    assert calls == [False, True]
    assert check is not None
    assert check["contradicts"] is False
    assert not [w for w in caught if "stains named" in str(w.message)]
    assert _stain_check.CONTRADICTION_PROBABILITY == 0.9  # the H&E axis unchanged


def test_run_keeping_warnings_reissues_and_keeps_them() -> None:
    from mmnst_path.pipeline._caught import run_keeping_warnings

    def noisy(fail: bool) -> int:
        for _ in range(3):  # one place: issued again once
            warnings.warn("a  user\\nwarning", UserWarning, stacklevel=1)
        warnings.warn("old", DeprecationWarning, stacklevel=1)  # issued again, not kept
        if fail:
            raise ValueError("boom")
        return 7

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, said = run_keeping_warnings(noisy, False)
    assert value == 7
    assert said == ("a user\\nwarning",)
    assert [w.category for w in caught] == [UserWarning, DeprecationWarning]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="boom"):
            run_keeping_warnings(noisy, True)
    assert len(caught) == 2  # a run that fails still says its warnings
