"""The pixel-size plausibility check (QC only): what size the nuclei say the pixels are, and the
sentence a wrong declared pixel size gets in the summary, the CLI (stdout and stderr) and the report."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from mmnst_path.quantify.pixel_size import (
    MIN_MASS_PER_UM2,
    MIN_NUCLEI,
    NUCLEUS_OD,
    PLAUSIBLE_RADIUS_UM,
    SCALE_RADII_UM,
    NuclearScale,
    nuclear_radius_um,
    nuclear_scale,
    pixel_size_metrics,
)
from mmnst_path.report import pixel_size_warning, qc_warnings, summary_row


def _discs(radius_um: float, *, mpp: float = 0.5, size: int = 384, seed: int = 0) -> np.ndarray:
    """A pale pink field with scattered hematoxylin-blue discs of ``radius_um``."""
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[0:size, 0:size]
    od = np.zeros((size, size))
    r_px = radius_um / mpp
    step = int(3 * r_px)
    for r0 in range(step // 2, size, step):
        for c0 in range(step // 2, size, step):
            r1, c1 = r0 + rng.uniform(-r_px / 3, r_px / 3), c0 + rng.uniform(-r_px / 3, r_px / 3)
            od = np.maximum(od, 0.6 * ((rr - r1) ** 2 + (cc - c1) ** 2 <= r_px**2))
    h = np.array([0.65, 0.70, 0.29])
    e = np.array([0.07, 0.99, 0.11])
    total = od[..., None] * h + 0.15 * e + rng.normal(0, 0.01, (size, size, 1))
    return np.clip(255 * 10 ** (-total), 0, 255).astype(np.uint8)


def test_the_radius_follows_the_nucleus_size_and_a_wrong_pixel_size():
    small = nuclear_radius_um(nuclear_scale(_discs(3.0), mpp=0.5, coverage=1.0))
    large = nuclear_radius_um(nuclear_scale(_discs(6.0), mpp=0.5, coverage=1.0))
    assert 1.5 < small < 3.5
    assert 1.6 < large / small < 2.4
    # the same image declared at twice its pixel size: every nucleus reads twice as large
    twice = nuclear_radius_um(nuclear_scale(_discs(3.0), mpp=1.0, coverage=1.0))
    assert 1.6 < twice / small < 2.4


def test_sums_add_over_tiles_and_coverage_bounds_the_windows():
    img = _discs(3.0, size=512)
    part = nuclear_scale(img, mpp=0.5, coverage=0.125)
    assert part.windows == 2  # 16 windows of 128 px, an eighth of them
    whole = nuclear_scale(img, mpp=0.5, coverage=1.0)
    assert whole.windows == 16
    twice = part + part
    assert twice.windows == 4
    assert twice.removed == tuple(2 * v for v in part.removed)
    assert len(whole.removed) == len(SCALE_RADII_UM)
    assert all(b >= a for a, b in zip(whole.removed, whole.removed[1:], strict=False))
    # windows stay mostly inside the owned pixels
    owned = np.zeros(img.shape[:2], bool)
    owned[:128, :128] = True
    assert nuclear_scale(img, mpp=0.5, owned=owned, coverage=1.0).windows == 1


def test_metrics_band_implied_pixel_size_and_not_run():
    lo = PLAUSIBLE_RADIUS_UM[0]
    assert pixel_size_metrics(NuclearScale(), 0.5) == {
        "pixel_size_check": "not run", "pixel_size_declared_mpp": 0.5,
        "pixel_size_nuclear_radius_um": pytest.approx(math.nan, nan_ok=True),
        "pixel_size_implied_mpp": pytest.approx(math.nan, nan_ok=True)}
    assert pixel_size_metrics(None, 0.5)["pixel_size_check"] == "not run"
    # half the mass gone at the 4th half-side (2 µm): a radius of 2 µm
    n = len(SCALE_RADII_UM)
    removed = tuple(1000.0 * min(1.0, (i + 1) / 8) for i in range(n))
    r = nuclear_radius_um(NuclearScale(removed, SCALE_RADII_UM, 1e4, 1))
    assert SCALE_RADII_UM[2] <= r <= SCALE_RADII_UM[3]
    m = pixel_size_metrics(NuclearScale(removed, SCALE_RADII_UM, 1e4, 1), 0.5, band=(r * 0.9, r * 1.1), reference_um=2 * r)
    assert m["pixel_size_check"] == "ok"
    assert m["pixel_size_implied_mpp"] == pytest.approx(1.0)
    assert pixel_size_metrics(NuclearScale(removed, SCALE_RADII_UM, 1e4, 1), 0.5, band=(lo, r * 0.9))["pixel_size_check"] == "implausible"
    # the mass of too few nuclei, or too thin a stain over the tissue: not run
    few = MIN_NUCLEI * NUCLEUS_OD * 2 * math.pi * r * r
    scaled = tuple(v * 0.9 * few / removed[-1] for v in removed)
    assert math.isnan(nuclear_radius_um(NuclearScale(scaled, SCALE_RADII_UM, 10.0, 1)))
    enough = tuple(v * 1.1 * few / removed[-1] for v in removed)
    assert nuclear_radius_um(NuclearScale(enough, SCALE_RADII_UM, 10.0, 1)) == pytest.approx(r)
    thin = 1.1 * removed[-1] / MIN_MASS_PER_UM2
    assert math.isnan(nuclear_radius_um(NuclearScale(removed, SCALE_RADII_UM, thin, 1)))
    with pytest.raises(ValueError, match="mpp"):
        pixel_size_metrics(NuclearScale(), 0.0)
    with pytest.raises(ValueError, match="coverage"):
        nuclear_scale(_discs(3.0), mpp=0.5, coverage=0)


def test_the_sentence_names_the_declared_and_the_suggested_pixel_size():
    row = {"mpp": 0.25, "pixel_size_check": "implausible", "pixel_size_implied_mpp": 0.512}
    text = pixel_size_warning(row)
    assert text.startswith("pixel size looks wrong: declared 0.25 µm/px, nuclei suggest ~0.51")
    assert qc_warnings(row) == [text]
    assert pixel_size_warning({**row, "pixel_size_check": "ok"}) == ""
    assert pixel_size_warning({**row, "pixel_size_check": "not run"}) == ""
    assert pixel_size_warning({"pixel_size_check": "implausible"}) == ""  # (no figures: no sentence, never "nan")
    metrics = {"pixel_size_declared_mpp": 0.25, "pixel_size_check": "implausible", "pixel_size_implied_mpp": 0.5}
    assert pixel_size_warning(metrics).startswith("pixel size looks wrong: declared 0.25 µm/px, nuclei suggest ~0.5")


def _analyse(rgb: np.ndarray, mpp: float) -> dict:
    from mmnst_path.pipeline import analyze_region

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = analyze_region(rgb, mpp=mpp)
    return {**result.metrics, **summary_row(result)}


def test_generated_tile_warned_at_twice_its_pixel_size_not_at_its_own():
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    tile = ki67_cells_tile(5001)
    true = _analyse(tile.rgb, tile.mpp)
    assert true["pixel_size_check"] == "ok"
    assert not any(t.startswith("pixel size") for t in qc_warnings(true))
    wrong = _analyse(tile.rgb, 2 * tile.mpp)
    assert wrong["pixel_size_check"] == "implausible"
    assert pixel_size_warning(wrong).startswith(f"pixel size looks wrong: declared {2 * tile.mpp:.3g} µm/px")
    assert wrong["pixel_size_implied_mpp"] < 2 * tile.mpp
    # QC only: every measured count is the same whatever the check said
    assert true["ki67_positive"] == _analyse(tile.rgb, tile.mpp)["ki67_positive"]


def test_no_nuclei_tile_gets_no_warning_and_says_the_check_did_not_run():
    rng = np.random.default_rng(3)
    pink = np.clip(rng.normal((226, 190, 210), 3, (384, 384, 3)), 0, 255).astype(np.uint8)
    row = _analyse(pink, 0.5)
    assert row["pixel_size_check"] == "not run"
    assert math.isnan(row["pixel_size_implied_mpp"])
    assert pixel_size_warning(row) == ""


def test_cli_says_it_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import tifffile

    from mmnst_path.cli import main
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    tile = ki67_cells_tile(5001)
    path = tmp_path / "tile.tif"
    tifffile.imwrite(path, tile.rgb, photometric="rgb")
    code = main(["quantify", str(path), "--out", str(tmp_path / "out"), "--mpp", str(2 * tile.mpp)])
    captured = capsys.readouterr()
    assert code == 0
    line = f"mmnst-path quantify: warning: tile.tif: pixel size looks wrong: declared {2 * tile.mpp:.3g} µm/px"
    assert line in captured.err
    assert "tile.tif: pixel size looks wrong" in captured.out  # (the notes under the table too)
    summary = (tmp_path / "out" / "summary.csv").read_text()
    assert "pixel_size_check" in summary.splitlines()[0]
    assert ",implausible," in summary
