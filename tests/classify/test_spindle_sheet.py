"""The spindle-sheet rule: nuclei the cell model leaves out, counted in a crowded sheet of spindles (#14)."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.classify.cells import SpindleSheet, spindle_sheet
from mmnst_path.classify.nucleus_features import nucleus_feature_specs
from mmnst_path.errors import ConfigError
from mmnst_path.quantify.ki67 import Ki67Params

NAMES = tuple(f.name for f in nucleus_feature_specs())


def _rows(**cols: list[float]) -> np.ndarray:
    n = len(next(iter(cols.values())))
    x = np.zeros((n, len(NAMES)), np.float32)
    for name, values in cols.items():
        x[:, NAMES.index(name)] = values
    return x


def test_only_elongated_crowded_nuclei_among_elongated_neighbours_are_in_a_sheet():
    # a spindle tumour nucleus in a fascicle; the same alone in collagen (a fibroblast); a round
    # nucleus in the fascicle; one among round neighbours (a carcinoma nest); one the model is sure of
    x = _rows(eccentricity=[0.92, 0.92, 0.5, 0.92, 0.92],
              n_within_40um=[26, 9, 26, 26, 26],
              nbr_elong=[0.85, 0.85, 0.85, 0.7, 0.85])
    p = np.array([0.12, 0.12, 0.12, 0.12, 0.01], np.float32)
    assert spindle_sheet(x, NAMES, p).tolist() == [True, False, False, False, False]
    assert not spindle_sheet(x, NAMES, np.full(5, np.nan)).any()  # no tumour class: never
    loose = SpindleSheet(min_neighbours=5.0)
    assert spindle_sheet(x, NAMES, p, loose).tolist() == [True, True, False, False, False]


def test_missing_feature_columns_are_named():
    with pytest.raises(ConfigError, match="nbr_elong"):
        spindle_sheet(np.zeros((2, 3), np.float32), ("eccentricity", "n_within_40um", "area_um2"), np.zeros(2))


def test_the_rule_is_decided_per_slide_by_default_and_checked():
    assert Ki67Params().spindle_sheet == "auto"  # (tests/test_spindle_sheet_slide.py)
    with pytest.raises(ConfigError, match="spindle_sheet"):
        Ki67Params(spindle_sheet="yes")  # type: ignore[arg-type]


def test_a_generated_spindle_cell_tumour_counts_more_tumour_nuclei_with_the_rule():
    from mmnst_path.quantify.ki67 import measure_ki67
    from mmnst_path.synthetic import pigment_family_tile

    tile = pigment_family_tile(3, "spindle", chromogen="dab", size=256)
    off = measure_ki67(tile.rgb, mpp=tile.mpp, params=Ki67Params())
    on = measure_ki67(tile.rgb, mpp=tile.mpp, params=Ki67Params(spindle_sheet=True))
    # the same nuclei, the same positivity: only nuclei the model left out are taken back
    assert len(on.cells) == len(off.cells)
    back = (off.cells.cls == "excluded") & (on.cells.cls != "excluded")
    assert back.sum() >= 10
    assert np.all(off.cells.cls[~back] == on.cells.cls[~back])
    assert np.all(on.cells.cell_type[back] == "tumour")
    assert np.all(off.cells.cell_type[back] != "tumour")


def test_spindle_sheet_counts_do_not_depend_on_the_tile_size():
    from mmnst_path.pipeline import AnalysisConfig, analyze_region
    from mmnst_path.synthetic_ki67 import ki67_cells_tile

    tile = ki67_cells_tile(1, size=320, tumour="spindle")
    counts = []
    for tile_um in (160.0, 60.0):  # one tile against a 3 x 3 grid of tiles with halos
        cfg = AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"], "tile_um": tile_um,
                                           "ki67": {"spindle_sheet": True}})
        c = analyze_region(tile.rgb, cfg, mpp=tile.mpp).counts["ki67"]
        counts.append((c.positive, c.negative, c.excluded))
    assert counts[0] == counts[1]
    plain = analyze_region(tile.rgb, AnalysisConfig.from_mapping({"stains": "H-DAB", "measures": ["ki67"],
                                                                  "ki67": {"spindle_sheet": False}}),
                           mpp=tile.mpp).counts["ki67"]
    assert plain.excluded > counts[0][2]  # the rule took nuclei back (across tile borders too)
