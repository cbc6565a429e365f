"""The spindle-sheet rule decided per slide (``[ki67] spindle_sheet = "auto"``, issue #14).

A slide the cell model leaves mostly stromal gets its stromal nuclei in spindle sheets back in the
index (:func:`mmnst_path.aggregate.apply_spindle_sheet`); the decision is taken on the slide's
totals, so a slide analysed in tiles reads as the same image in one piece.
"""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.aggregate import CELL_CLASSES, CELL_TYPES, CellTable, TileTable, apply_spindle_sheet
from mmnst_path.errors import ConfigError
from mmnst_path.quantify.ki67 import Ki67Cells, Ki67Counts, Ki67Params
from mmnst_path.report import stroma_warning

POS, NEG, PIG, EXC = (CELL_CLASSES.index(n) for n in ("positive", "negative", "pigment", "excluded"))
TUMOUR, STROMAL, LYMPH = (CELL_TYPES.index(n) for n in ("tumour", "stromal", "lymphocyte"))


def _slide(n_tumour: int, n_sheet: int, n_loose: int) -> tuple[CellTable, np.ndarray, TileTable, Ki67Counts]:
    """Cells of a two-tile slide: tumour nuclei in the index (half positive), stromal nuclei in a
    spindle sheet (the stain called every third positive 2+), loose stromal nuclei, one stromal
    nucleus in a sheet that the stain had left out (pigment-hidden: stain_bin -1) and one
    lymphocyte in a sheet."""
    cls = [POS if i % 2 else NEG for i in range(n_tumour)] + [EXC] * (n_sheet + n_loose + 2)
    ctype = [TUMOUR] * n_tumour + [STROMAL] * (n_sheet + n_loose + 1) + [LYMPH]
    sheet = [False] * n_tumour + [True] * n_sheet + [False] * n_loose + [True, True]
    stain = ([1 if i % 2 else 0 for i in range(n_tumour)] + [2 if i % 3 == 0 else 0 for i in range(n_sheet)]
             + [0] * n_loose + [-1, 0])
    bins = [1 if i % 2 else 0 for i in range(n_tumour)] + [0] * (n_sheet + n_loose + 2)
    n = len(cls)
    dark = np.zeros(n, bool)
    dark[n_tumour] = True  # a near-black nucleus among those in the sheet (the stain said 2+)
    cells = CellTable(np.arange(n, dtype=np.float64), np.zeros(n), np.array(cls, np.int8),
                      {"dab_od_mean": np.where(np.array(stain) > 0, 0.5, 0.05),
                       "intensity_bin": np.array(bins, np.int8), "cell_type": np.array(ctype, np.int8),
                       "near_black": dark, "in_spindle_sheet": np.array(sheet), "stain_bin": np.array(stain, np.int8)})
    cell_tile = np.arange(n) % 2
    rows = []
    for t in range(2):
        sel = cell_tile == t
        rows.append({"ki67_positive": float(np.sum(sel & (cells.cls == POS))),
                     "ki67_negative": float(np.sum(sel & (cells.cls == NEG))),
                     "ki67_excluded": float(np.sum(sel & (cells.cls == EXC))),
                     "ki67_near_black_positive": 0.0, "ki67_near_black_negative": 0.0})
    from mmnst_path.geometry import Box

    tiles = TileTable.from_rows([Box(0, 0, 10, 10), Box(0, 10, 10, 10)], rows)
    names = np.asarray(CELL_CLASSES, dtype=object)[cells.cls]
    types = np.asarray(CELL_TYPES, dtype=object)[cells.columns["cell_type"]].astype(str)
    counts = Ki67Counts.from_classes(names, cells.columns["intensity_bin"], types, near_black=dark)
    return cells, cell_tile, tiles, counts


def test_a_mostly_stromal_slide_takes_its_sheet_nuclei_back_with_the_stains_call():
    cells, cell_tile, tiles, counts = _slide(20, 30, 10)
    assert counts.mostly_stromal()  # 41 stromal of 62 detected
    out, new_tiles, new_counts, taken = apply_spindle_sheet(cells, cell_tile, tiles, counts, Ki67Params(spindle_sheet="auto"))
    assert taken == 30
    back = np.zeros(len(cells), bool)
    back[20:50] = True
    assert np.all(out.columns["cell_type"][back] == TUMOUR)
    assert np.all(out.cls[back] == np.where(cells.columns["stain_bin"][back] > 0, POS, NEG))
    assert np.all(out.columns["intensity_bin"][back] == cells.columns["stain_bin"][back])
    assert np.array_equal(out.cls[~back], cells.cls[~back])  # loose, hidden and lymphocyte nuclei stay out
    assert new_counts.positive == counts.positive + 10
    assert new_counts.positive_2plus == 10
    assert new_counts.negative == counts.negative + 20
    assert new_counts.excluded == counts.excluded - 30
    assert new_counts.stromal == counts.stromal - 30
    assert new_counts.near_black_positive == 1
    assert new_counts.total == counts.total
    for name, value in (("ki67_positive", new_counts.positive), ("ki67_negative", new_counts.negative),
                        ("ki67_excluded", new_counts.excluded), ("ki67_near_black_positive", 1)):
        assert new_tiles.columns[name].sum() == value  # the tiles add up to the slide
    # the counts are those of the new cells
    names = np.asarray(CELL_CLASSES, dtype=object)[out.cls]
    types = np.asarray(CELL_TYPES, dtype=object)[out.columns["cell_type"]].astype(str)
    assert new_counts == Ki67Counts.from_classes(names, out.columns["intensity_bin"], types,
                                                 near_black=out.columns["near_black"])


def test_the_slide_decides_not_the_nucleus():
    # too few stromal nuclei for a spindle-cell tumour: nothing changes, whatever the flags say
    cells, cell_tile, tiles, counts = _slide(60, 10, 10)
    assert not counts.mostly_stromal()
    result = apply_spindle_sheet(cells, cell_tile, tiles, counts, Ki67Params(spindle_sheet="auto"))
    assert result[0] is cells
    assert result[2] is counts
    assert result[3] == 0
    # the other modes: the tiles already decided (true) or nothing is taken (false)
    cells, cell_tile, tiles, counts = _slide(20, 30, 10)
    for mode in (True, False):
        result = apply_spindle_sheet(cells, cell_tile, tiles, counts, Ki67Params(spindle_sheet=mode))
        assert result[0] is cells
        assert result[2] is counts
        assert result[3] == 0
    # no sheet columns (a table made without the rule): nothing to take
    plain = CellTable(cells.row, cells.col, cells.cls,
                      {k: v for k, v in cells.columns.items() if k not in ("in_spindle_sheet", "stain_bin")})
    assert apply_spindle_sheet(plain, cell_tile, tiles, counts, Ki67Params(spindle_sheet="auto"))[3] == 0


def test_the_setting_takes_auto_true_and_false():
    assert Ki67Params(spindle_sheet="auto").spindle_sheet == "auto"
    assert Ki67Params(spindle_sheet=" Auto ").spindle_sheet == "auto"
    assert Ki67Params(spindle_sheet="true").spindle_sheet is True  # (as a TOML / --set string)
    assert Ki67Params(spindle_sheet="false").spindle_sheet is False
    assert Ki67Params.from_mapping(Ki67Params(spindle_sheet="auto").to_mapping()).spindle_sheet == "auto"
    for bad in ("yes", 1, None):
        with pytest.raises(ConfigError, match="spindle_sheet"):
            Ki67Params(spindle_sheet=bad)  # type: ignore[arg-type]


def test_the_stains_call_before_the_cell_model_is_kept():
    cells = Ki67Cells(*(np.zeros(4) for _ in range(8)), cls=np.array(["positive", "negative", "pigment", "excluded"]),
                      intensity_bin=np.array([3, 0, 0, 0], np.int8))
    assert cells.stain_bin.tolist() == [3, 0, -1, -1]
    assert not cells.in_spindle_sheet.any()


def test_the_qc_sentence_reads_the_cell_models_share_and_names_the_nuclei_taken_back():
    before = {"ki67_positive": 10, "ki67_negative": 30, "ki67_pigment": 0, "ki67_excluded": 60, "ki67_stromal": 55}
    text = stroma_warning(before)
    assert "55 %" in text
    assert 'spindle_sheet = "auto"' in text
    # 40 of the 55 taken back: the share said is still the model's 55 %, and the 40 are named
    after = {**before, "ki67_positive": 25, "ki67_negative": 55, "ki67_excluded": 20, "ki67_stromal": 15,
             "ki67_spindle_sheet_nuclei": 40}
    text = stroma_warning(after)
    assert "55 %" in text
    assert "40 nuclei in spindle sheets counted as tumour" in text
    assert stroma_warning({**after, "ki67_stromal": 5, "ki67_spindle_sheet_nuclei": 10}) == ""


def test_a_slide_in_tiles_reads_as_the_image_in_one_piece():
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    tile = ki67_cells_tile(1, size=320, tumour="spindle")
    got = []
    for mode, tile_um in (("auto", 160.0), ("auto", 60.0), (True, 160.0), (False, 160.0)):
        cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], "tile_um": tile_um,
                                           "ki67": {"spindle_sheet": mode}})
        res = analyze_region(tile.rgb, cfg, mpp=tile.mpp)
        order = np.lexsort((res.cells.col, res.cells.row))
        got.append((res.counts["ki67"], res.metrics, res.cells.cls[order], res.tiles))
    (one, m_one, cls_one, t_one), (tiled, m_tiled, cls_tiled, t_tiled), (always, _, _, _), \
        (never, m_never, _, _) = got
    assert len(t_tiled) > len(t_one) == 1  # a 3 x 3 grid against one tile
    assert one == tiled
    assert np.array_equal(cls_one, cls_tiled)
    for key in ("ki67_index_pct", "ki67_ci_low_pct", "ki67_hotspot_index_pct", "ki67_spindle_sheet_nuclei",
                "ki67_positive_threshold_od"):
        assert m_one[key] == m_tiled[key]
    assert t_tiled.columns["ki67_positive"].sum() == tiled.positive
    assert t_tiled.columns["ki67_excluded"].sum() == tiled.excluded
    # the model left most nuclei stromal here: the slide opens the gate, as the rule always would
    assert m_one["ki67_spindle_sheet_nuclei"] > 0
    assert one == always
    assert one.denominator == never.denominator + m_one["ki67_spindle_sheet_nuclei"]
    assert stroma_warning(m_never).split(":")[0] == stroma_warning(m_one).split(":")[0]  # the same share said


def test_a_tile_on_its_own_only_marks_the_nuclei_in_sheets():
    from mmnst_path.quantify.ki67 import measure_ki67
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(3, "spindle", chromogen="dab", size=256)
    auto, never, always = (measure_ki67(tile.rgb, mpp=tile.mpp, params=Ki67Params(spindle_sheet=mode)).cells
                           for mode in ("auto", False, True))
    # "auto" leaves the decision to the slide: the model's classes, the sheet nuclei marked
    assert np.array_equal(auto.cls, never.cls)
    assert np.array_equal(auto.cell_type, never.cell_type)
    assert not never.in_spindle_sheet.any()
    back = (never.cls == "excluded") & (always.cls != "excluded")
    assert back.sum() >= 10
    assert np.all(auto.in_spindle_sheet[back])
    assert np.all(auto.stain_bin[back] == np.where(always.cls[back] == "positive", always.intensity_bin[back], 0))
