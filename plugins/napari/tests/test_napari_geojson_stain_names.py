"""napari Review reads a cells.geojson whose OD measurements carry the stain's names (AEC, Fast Red,
azure B) as well as one written before they did (DAB / Hematoxylin names)."""

from __future__ import annotations

import numpy as np
import pytest
from mmnst_path_napari._geojson import read_geojson
from mmnst_path_napari._layers import features_from_cells

from mmnst_path.aggregate import CellTable
from mmnst_path.geojson import Roi, feature_collection_chunks


@pytest.mark.parametrize(("chromogen", "counterstain", "written"), [
    ("aec", "hematoxylin", "AEC OD mean"), ("fast_red", "hematoxylin", "Fast Red OD mean"),
    ("dab", "azure_b", "Azure B OD mean"), ("dab", "hematoxylin", "DAB OD mean"),
])
def test_review_reads_the_od_by_any_stain_name(tmp_path, chromogen, counterstain, written) -> None:  # type: ignore[no-untyped-def]
    """Mutation caught: the reader without the stained names (the chromogen OD of an AEC file lost)."""
    cells = CellTable(np.array([10.0, 30.0]), np.array([12.0, 40.0]), np.array([0, 1], np.int8),
                      {"dab_od_mean": np.array([0.61, 0.04]), "dab_od_max": np.array([0.9, 0.1]),
                       "hematoxylin_od_mean": np.array([0.3, 0.5]), "area_um2": np.array([30.0, 40.0])})
    whole = Roi(np.array([[-0.5, -0.5], [-0.5, 63.5], [63.5, 63.5], [63.5, -0.5]]), "Image")
    path = tmp_path / "cells.geojson"
    path.write_text("".join(feature_collection_chunks(cells, [whole], mpp=0.5, shape="point", chromogen=chromogen,
                                                      counterstain=counterstain)), encoding="utf-8")
    assert f'"{written}"' in path.read_text(encoding="utf-8")
    back, rois = read_geojson(path)
    assert [r.name for r in rois] == ["Image"]
    for key in ("dab_od_mean", "dab_od_max", "hematoxylin_od_mean"):
        np.testing.assert_allclose(back.columns[key], cells.columns[key])
    np.testing.assert_allclose(features_from_cells(back)["dab_od"], [0.61, 0.04], rtol=1e-6)
