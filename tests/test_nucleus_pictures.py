"""Full-resolution pictures a pathologist can check: the hot spot and random fields with every
nucleus ringed by its class, written with overlay.png and linked from report.html."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmnst_path.aggregate import CELL_CLASSES
from mmnst_path.html_report import render_report
from mmnst_path.overlay import CLASS_RGB, field_boxes, nucleus_fields
from mmnst_path.pipeline import AnalysisConfig, analyze_slide
from mmnst_path.report import summary_row, write_result

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"


@pytest.fixture(scope="module")
def tile_result(tmp_path_factory):
    import tifffile

    path = tmp_path_factory.mktemp("in") / "tile.tif"
    rgb = tifffile.imread(SAMPLES / "ki67_recurrence.tif")
    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    config = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"]})
    return path, analyze_slide(path, config, workers=1)


def test_fields_are_inside_the_image_do_not_overlap_and_are_reproducible(tile_result):
    _, result = tile_result
    boxes = field_boxes(result, side_px=200, n_random=3, seed="x")
    assert boxes[0][0] == "nuclei_hotspot"
    assert [n for n, _, _ in boxes[1:]] == [f"nuclei_field_{i}" for i in range(1, len(boxes))]
    assert len(boxes) >= 3
    for _, _, b in boxes:
        assert b.row >= 0
        assert b.col >= 0
        assert b.row_end <= result.shape[0]
        assert b.col_end <= result.shape[1]
    for i, (_, _, a) in enumerate(boxes):
        for _, _, b in boxes[i + 1 :]:
            assert not (a.row < b.row_end and b.row < a.row_end and a.col < b.col_end and b.col < a.col_end)
    assert field_boxes(result, side_px=200, n_random=3, seed="x") == boxes
    h = result.hotspot.box
    hb = boxes[0][2]
    assert h.row <= hb.row + hb.height / 2 <= h.row_end  # centred inside the hot-spot window


def test_every_nucleus_in_a_field_is_ringed_in_its_class_colour(tile_result):
    path, result = tile_result
    from mmnst_path.io import open_slide

    with open_slide(path) as reader:
        fields = nucleus_fields(result, reader, side_um=150)
    assert fields
    f = fields[0]
    img = np.asarray(Image.open(io.BytesIO(f.png)).convert("RGB"))
    caption = img.shape[0] - f.box.height
    assert img.shape[1] == f.box.width  # full resolution: 1 picture px = 1 level-0 px
    cells = result.cells
    names = np.asarray(CELL_CLASSES, dtype=object)[cells.cls]
    inside = (cells.row >= f.box.row) & (cells.row < f.box.row_end) & (cells.col >= f.box.col) & (cells.col < f.box.col_end)
    assert sum(f.counts.values()) == int(inside.sum()) > 10
    for cls in ("positive", "negative"):
        colour = np.array(CLASS_RGB[cls])
        hits = []
        for i in np.flatnonzero(inside & (names == cls)):
            r0 = int(cells.row[i]) - f.box.row + caption
            c0 = int(cells.col[i]) - f.box.col
            rr = max(4, int(np.sqrt(cells.columns["area_um2"][i] / np.pi) / result.mpp) + 6)
            patch = img[max(0, r0 - rr) : r0 + rr + 1, max(0, c0 - rr) : c0 + rr + 1].astype(int)
            hits.append(bool((np.abs(patch - colour).sum(axis=-1) < 60).any()))
        assert np.mean(hits) > 0.95, cls


def test_write_result_writes_the_pictures_and_report_links_them(tmp_path, tile_result):
    _, result = tile_result
    paths = write_result(result, tmp_path / "tile", outputs=("overlay", "nuclei"))
    folder = tmp_path / "tile"
    page = paths["nuclei"].read_text(encoding="utf-8")
    pngs = sorted(p.name for p in folder.glob("nuclei_*.png"))
    assert "nuclei_hotspot.png" in pngs
    for name in pngs:
        assert f'src="{name}"' in page
    row = summary_row(result)
    report = render_report([row], folders={row["input"]: "tile"}, nuclei_pages={row["input"]: "tile/nuclei.html"})
    assert 'href="tile/nuclei.html"' in report
    assert "nuclei.html" not in render_report([row], folders={row["input"]: "tile"})
    # not asked for: not written
    write_result(result, tmp_path / "plain", outputs=("overlay",))
    assert not list((tmp_path / "plain").glob("nuclei*"))


def test_no_pictures_without_ki67_or_without_a_readable_input(tmp_path, tile_result):
    _, result = tile_result
    import dataclasses

    gone = dataclasses.replace(result, input=str(tmp_path / "moved.tif"))
    paths = write_result(gone, tmp_path / "a", outputs=("nuclei",))
    assert "nuclei" not in paths
    no_ki67 = dataclasses.replace(result, measures=("melanin",))
    paths = write_result(no_ki67, tmp_path / "b", outputs=("nuclei",))
    assert not list((tmp_path / "b").glob("nuclei*"))


def test_the_hot_spot_picture_says_it_is_a_field_of_the_hot_spot_window(tile_result):
    # session 41 H5's walk (D8): titled "hot spot" with "Ki67 15.8 % here" beside a table's hot spot of 14.3 %
    _, result = tile_result
    title = field_boxes(result, side_px=200, n_random=0, seed="x")[0][1]
    h = result.hotspot
    assert title.startswith("densest field of the")
    assert f"{h.area_mm2:.2f} mm², Ki67 {h.index_pct:.1f} %" in title


def test_the_ki67_panel_of_the_overlay_names_the_stains(tile_result, monkeypatch):
    # session 41 H5's walk (D8): in a mixed batch no panel said which stain the index was read on
    import mmnst_path.overlay as overlay

    _, result = tile_result
    said: list[str] = []
    label = overlay._label
    monkeypatch.setattr(overlay, "_label", lambda pil, text, *a, **k: (said.append(text), label(pil, text, *a, **k))[1])
    overlay.overlay_image(result)
    assert any(t.startswith("Ki67 index per tile, H-DAB (") for t in said)


def test_a_double_stains_melanocytic_nuclei_are_squares(tmp_path):
    """A Ki67 / MART-1 result: its melanocytic nuclei are drawn as squares, the others as rings, and a caption line
    says so (session 41 H5's D8: nothing marked the nuclei the MART-1+ index counts)."""
    import dataclasses

    import tifffile

    from mmnst_path._picture_style import melanocytic_flags
    from mmnst_path.overlay import nucleus_field_image
    from mmnst_path.synthetic_double import double_stain_tile

    tile = double_stain_tile(3, marker="cytoplasmic", chromogen="fast_red", size=256)
    path = tmp_path / "double.tif"
    tifffile.imwrite(path, tile.rgb, photometric="rgb")
    result = analyze_slide(path, AnalysisConfig(stains="H-DAB-FastRed", measures=("ki67",)), mpp=tile.mpp)
    idx = np.arange(len(result.cells))
    flags = melanocytic_flags(result.metrics, result.cells.columns, idx)
    assert flags is not None
    assert flags[1] == "cytoplasmic marker, assumed"  # named stains, marker auto: read cytoplasmic, not checked
    result = analyze_slide(path, AnalysisConfig(stains="H-DAB-FastRed", measures=("ki67",)).replace(
        ki67={"melanocyte_marker": "cytoplasmic"}), mpp=tile.mpp)
    flags = melanocytic_flags(result.metrics, result.cells.columns, idx)
    assert flags is not None
    assert flags[1] == "MART-1+"  # the marker chosen
    assert 0 < int(flags[0].sum()) < len(idx)
    from mmnst_path.geometry import Box

    box = Box(0, 0, tile.rgb.shape[0], tile.rgb.shape[1])
    with_marker, _ = nucleus_field_image(result, tile.rgb, box, "field")
    plain = dataclasses.replace(result, metrics={**result.metrics, "ki67_melanocyte_marker": "none"})
    without, _ = nucleus_field_image(plain, tile.rgb, box, "field")
    assert with_marker.shape[0] == without.shape[0] + 20  # one caption line more
    assert not np.array_equal(with_marker[-box.height:], without[-box.height:])  # squares where rings were
