"""``stains_of_features``: the stains a cells.geojson's measurement names say were read, so a file
exported again (napari) keeps them."""

from __future__ import annotations

import numpy as np
import pytest

from mmnst_path.aggregate import CellTable
from mmnst_path.geojson import cell_features, stains_of_features


def _features(**stains: str) -> list[dict[str, object]]:
    cells = CellTable(np.array([1.0]), np.array([2.0]), np.array([0], np.int8),
                      {"dab_od_mean": np.array([0.5]), "hematoxylin_od_mean": np.array([0.3])})
    return [{"type": "Feature", "properties": {"objectType": "annotation"}}, *cell_features(cells, shape="point",
                                                                                          **stains)]


@pytest.mark.parametrize(("chromogen", "counterstain"), [("aec", "hematoxylin"), ("fast_red", "hematoxylin"),
                                                         ("dab", "azure_b"), ("dab", "hematoxylin")])
def test_the_written_names_give_the_stains_back(chromogen: str, counterstain: str) -> None:
    feats = _features(chromogen=chromogen, counterstain=counterstain)
    assert stains_of_features(feats) == {"chromogen": chromogen, "counterstain": counterstain}


def test_names_that_say_no_stain_give_none() -> None:
    qupath = [{"type": "Feature", "properties": {"objectType": "detection",
                                                 "measurements": [{"name": "Nucleus: DAB OD mean", "value": 0.2}]}}]
    assert stains_of_features(qupath) == {}
    assert stains_of_features([]) == {}
